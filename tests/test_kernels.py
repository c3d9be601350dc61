"""The kernel tiers: settings, lazy import and disk cache, the compiled building blocks
against float64/longdouble, agreement between the tiers, strided and non-last-axis input,
special rows, blocks and threads, and the fused cross-entropy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import actlab
from actlab import kernels, oracle
from actlab.kernels import blocked, config
from actlab.losses.cross_entropy import _cross_entropy, _cross_entropy_grad
from test_kernels_support import FLOAT64_KERNEL_ULPS, TIERS, on_tier

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")


def _ulp_diffs(a, b):
    """|a − b| in ULP of b's dtype, elementwise (NaN positions must agree; they count as 0)."""
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert np.array_equal(np.isnan(a64), np.isnan(b64))
    spacing = np.spacing(np.abs(np.asarray(b)).astype(np.asarray(b).dtype)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.where(a64 == b64, 0.0, np.abs(a64 - b64) / spacing))


def _ulp_diff(a, b):
    d = _ulp_diffs(a, b)
    return float(np.max(d)) if d.size else 0.0


# ------------------------------------------------------------------------------- settings


def test_import_compiles_and_imports_no_numba():
    code = "import sys, actlab; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_numba_everything_runs_on_the_numpy_tier():
    code = """
        import sys
        sys.modules["numba"] = None  # as if numba were not installed
        import numpy as np, actlab
        x = np.linspace(-3, 3, 100_000, dtype=np.float32).reshape(100, -1)
        y = actlab.sigmoid(x); s = actlab.softmax(x)
        loss, g = actlab.cross_entropy_with_grad(x, np.zeros(100, dtype=int))
        print(actlab.get_backend_tier(), float(y[0, 0]), float(s.sum()), g.shape)
        try:
            actlab.set_backend_tier("numba")
        except ValueError as e:
            print("refused:", e)
    """
    tier, y0, total, *rest = _child(code, ACTLAB_KERNELS="").split(maxsplit=3)
    assert tier == "numpy"
    assert float(y0) == float(actlab.sigmoid(np.float32(-3.0)))
    assert abs(float(total) - 100.0) < 1e-3
    assert "refused: set_backend_tier: tier 'numba' needs numba" in rest[0]


def test_tier_setting_round_trip_and_bad_values():
    before = kernels.get_backend_tier()
    assert before in kernels.TIERS
    previous = kernels.set_backend_tier("numpy")
    try:
        assert previous == before
        assert kernels.get_backend_tier() == "numpy"
        with pytest.raises(ValueError, match="tier must be one of"):
            kernels.set_backend_tier("cuda")
    finally:
        kernels.set_backend_tier(before)


def test_thread_setting_round_trip_and_bad_values():
    before = actlab.get_num_threads()
    assert before >= 1
    assert actlab.set_num_threads(1) == before
    try:
        assert actlab.get_num_threads() == 1
        for bad in (0, -2, 1.5, True, "2"):
            with pytest.raises(ValueError, match="positive integer"):
                actlab.set_num_threads(bad)
    finally:
        actlab.set_num_threads(before)


def _child(code: str, **env: str) -> str:
    full = {**os.environ, **env}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=full
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_environment_variables_choose_tier_and_threads():
    code = "import actlab; print(actlab.get_backend_tier(), actlab.get_num_threads())"
    assert _child(code, ACTLAB_KERNELS="numpy", ACTLAB_NUM_THREADS="3") == "numpy 3"
    # OMP_NUM_THREADS is honoured when the actlab and numba variables are absent.
    env = {
        k: v for k, v in os.environ.items() if k not in ("ACTLAB_NUM_THREADS", "NUMBA_NUM_THREADS")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**env, "OMP_NUM_THREADS": "2,1", "ACTLAB_KERNELS": "numpy"}, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "numpy 2"


def test_bad_environment_values_name_the_variable():
    code = "import actlab; actlab.get_num_threads()"
    bad = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "ACTLAB_NUM_THREADS": "many"},
    )  # fmt: skip
    assert bad.returncode != 0
    assert "ACTLAB_NUM_THREADS must be a positive integer" in bad.stderr
    code = "import actlab; actlab.get_backend_tier()"
    bad = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "ACTLAB_KERNELS": "fortran"},
    )  # fmt: skip
    assert "ACTLAB_KERNELS must be one of" in bad.stderr


def test_cache_dir_follows_numba_cache_dir_and_the_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    path = config.cache_dir()
    assert os.path.dirname(path) == str(tmp_path)
    assert path == config.cache_dir()  # a digest of the kernel sources: stable
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert config.cache_dir().startswith(str(tmp_path / "xdg" / "actlab" / "numba"))


def test_cpu_features_lift_the_256_bit_preference_only_with_avx512():
    avx2 = "+64bit,+avx,+avx2,+fma,-avx512f,+sse4.2"
    assert config.cpu_features(avx2) == avx2
    avx512 = "+64bit,+avx,+avx2,+avx512f,+avx512vl,+fma"
    assert config.cpu_features(avx512) == avx512 + ",-prefer-256-bit"


@needs_numba
def test_wide_vectors_follows_the_features_numba_compiles_for(monkeypatch):
    """The short-row kernels take 16 rows per call where numba compiles with AVX-512F."""
    import numba

    from actlab.kernels._numba_math import wide_vectors

    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx,+avx2,-avx512f,+fma")
    assert not wide_vectors()
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx,+avx2,+avx512f,+fma")
    assert wide_vectors()


@needs_numba
def test_the_kernels_compile_for_the_features_chosen_unless_the_user_chose(tmp_path):
    """A process of its own: numba reads the features when it first compiles."""
    code = """
        import llvmlite.binding as ll, numpy as np, actlab
        from numba.core.registry import cpu_target
        from actlab.kernels import config
        actlab.sigmoid(np.ones(1 << 17, np.float32))  # compiles or loads a kernel
        tm = cpu_target.target_context.codegen()._tm_features
        print(tm == config.cpu_features(ll.get_host_cpu_features().flatten()), tm)
    """
    run = [sys.executable, "-c", textwrap.dedent(code)]
    chosen = subprocess.run(run, capture_output=True, text=True, check=True)
    assert chosen.stdout.startswith("True")
    env = {**os.environ, "NUMBA_CPU_FEATURES": "+64bit,+sse2", "NUMBA_CACHE_DIR": str(tmp_path)}
    theirs = subprocess.run(run, capture_output=True, text=True, check=True, env=env)
    assert theirs.stdout.split()[1] == "+64bit,+sse2"


@needs_numba
def test_a_second_process_loads_the_kernels_from_the_disk_cache(tmp_path):
    code = """
        import time, numpy as np, actlab
        x = np.linspace(-5, 5, 1 << 15, dtype=np.float32).reshape(64, -1)
        t = time.process_time()
        actlab.sigmoid(x); actlab.softmax(x)
        print(time.process_time() - t)  # reported by pytest -s; not asserted
        from actlab.kernels import lean32, rows32
        print(sum(lean32.sigmoid_f.stats.cache_hits.values())
              + sum(rows32.softmax_w.stats.cache_hits.values()))
    """
    env = {"NUMBA_CACHE_DIR": str(tmp_path), "ACTLAB_KERNELS": "numba"}
    first = _child(code, **env).split()
    second = _child(code, **env).split()
    assert int(first[1]) == 0  # compiled, then written to the cache
    assert int(second[1]) == 2  # both kernels loaded from disk
    # How long the load takes is measured by the benchmark suite, never asserted here.
    assert any(tmp_path.rglob("*.nbi"))


# ------------------------------------------------------------------ compiled building blocks


@needs_numba
def test_row_kernels_float32_pair_exp_is_within_a_third_of_an_ulp():
    """The lean exp of the float32 row kernels: e^(x − m)·2^32 as an exact pair, over every
    difference the kernels meet (down to −104, subnormal results included: the scaling keeps
    the pair normal), within 0.3 ULP of the float32 result; NaN stays NaN."""
    from numba import njit

    from actlab.kernels._exp_rows32 import UNSCALE, exp_neg_pair

    @njit
    def run(x, neg_m, hi, lo):
        for i in range(x.shape[0]):
            hi[i], lo[i] = exp_neg_pair(x[i], neg_m)

    rng = np.random.default_rng(5)
    for m in (np.float32(0.0), np.float32(3.7), np.float32(-55.1), np.float32(1e4)):
        d = np.concatenate([rng.uniform(0, 103.9, 200_000), np.logspace(-8, 2.01, 20_000)])
        x = np.minimum((m - d).astype(np.float32), m)
        hi, lo = np.empty_like(x), np.empty_like(x)
        run(x, -m, hi, lo)
        exact = np.exp(np.longdouble(x) - np.longdouble(m))
        got = (np.longdouble(hi) + np.longdouble(lo)) * np.longdouble(UNSCALE)
        err = np.abs(got - exact) / np.longdouble(np.spacing(exact.astype(np.float32)))
        assert float(np.max(err)) < 0.3
    hi, lo = np.empty(1, np.float32), np.empty(1, np.float32)
    run(np.array([np.nan], np.float32), np.float32(0.0), hi, lo)
    assert np.isnan(hi[0])


@needs_numba
def test_float64_exp_building_blocks():
    from numba import njit

    from actlab.kernels._numba_math import exp_d, exp_dd, exp_w, expm1_w, log1p_unit

    @njit
    def run(x, out):
        for i in range(x.shape[0]):
            out[0, i] = exp_d(x[i])
            h, lo = exp_dd(x[i], 0.0)
            out[1, i] = h
            out[2, i] = lo
            out[3, i] = exp_w(x[i])
            out[4, i] = expm1_w(min(x[i], 0.0))

    rng = np.random.default_rng(6)
    x = np.concatenate([rng.uniform(-708, 709, 20_000), rng.uniform(-1, 1, 5_000)])
    out = np.empty((5, x.size))
    run(x, out)
    exact = np.exp(np.longdouble(x))
    rel = lambda got: np.abs((np.longdouble(got) - exact) / exact)  # noqa: E731
    ulps = np.abs(np.longdouble(out[0]) - exact) / np.longdouble(np.spacing(out[0]))
    assert float(np.max(ulps)) <= 1.0
    pair = rel(np.longdouble(out[1]) + np.longdouble(out[2]))
    # The low part underflows below ~2^−960: the pair is then as good as one float64.
    assert float(np.max(pair[exact > 2.0**-960])) < 2e-17  # < a tenth of an ULP
    assert float(np.max(pair)) < 2.3e-16
    assert float(np.max(rel(out[3]))) < 3e-10
    neg = x <= 0
    em1 = np.expm1(np.longdouble(x[neg]))
    assert float(np.max(np.abs((out[4][neg] - em1) / em1))) < 1e-9
    assert np.signbit(np.asarray(actlab.elu(np.float32([-0.0]))))[0]  # expm1 keeps −0.0

    @njit
    def lp(u, out):
        for i in range(u.shape[0]):
            out[i] = log1p_unit(u[i])

    u = np.concatenate([np.logspace(-300, 0, 3000), rng.uniform(0, 1, 3000)])
    got = np.empty_like(u)
    lp(u, got)
    ref = np.log1p(np.longdouble(u))
    assert float(np.max(np.abs((got - ref) / ref))) < 1e-13


@needs_numba
def test_float64_tanh_line_map_within_its_bound():
    """``lines64.tanh_f`` (float64 tanh with AVX-512): within 0.75 ULP of tanh over a dense
    sample where its error peaks (|x| around 0.17, where k of the reduction changes, and up
    to the saturation at 19.1, where 2^k − 1 is no longer exact), the reduction's
    boundaries and subnormals; the special
    values and the sign of −0.0 as the contract says."""
    from actlab.kernels import lines64

    rng = np.random.default_rng(14)
    k = np.arange(0, 60)
    edges = (k + 0.5) * np.log(2) / 2  # |x| where the reduction's k changes
    x = np.concatenate(
        [
            rng.uniform(-0.4, 0.4, 400_000),
            rng.uniform(-25, 25, 200_000),
            rng.uniform(18, 20, 100_000) * rng.choice([-1, 1], 100_000),  # 2^k − 1 inexact
            np.exp(rng.uniform(-745, 0, 50_000)) * rng.choice([-1, 1], 50_000),
            edges,
            np.nextafter(edges, 0),
            np.nextafter(edges, 1),
        ]
    )
    got = np.empty_like(x)
    lines64.tanh_f(x, got, False)
    exact = np.tanh(np.longdouble(x))  # long double: far below an ULP of float64 here
    _, binade = np.frexp(np.abs(exact))  # the exact value's ULP (1 − 2^−53 below 1)
    ulp = np.ldexp(np.longdouble(1), np.maximum(binade - 53, -1074))
    assert float(np.max(np.abs(np.longdouble(got) - exact) / ulp)) < 0.75
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 19.1, 20.0, 1e300])
    out = np.empty_like(special)
    lines64.tanh_f(special, out, True)
    want = [0.0, -0.0, 1.0, -1.0, np.nan, 5e-324, -5e-324, 1.0, 1.0, 1.0]
    np.testing.assert_array_equal(out, want)
    assert np.array_equal(np.signbit(out[:2]), [False, True])


@needs_numba
def test_lean_float32_building_blocks():
    """The exp and log1p of the lean float32 formulas (kernels/lean32.py), against
    longdouble: within their documented bounds, and exp_silu_root exact enough at silu′'s
    root that the cancellation there stays below an ULP of the result."""
    from numba import njit

    from actlab.kernels import lean32
    from actlab.kernels._vecmap import span_map

    spans = [
        span_map(lean32.exp_lean, inputs=1, scalars=0),
        span_map(lean32.exp_silu_root, inputs=1, scalars=0),
        span_map(lambda u: lean32.log1p_lean(lean32.clamp(abs(u), 1.0)), inputs=1, scalars=0),
    ]
    exp_span, root_span, log1p_span = spans

    @njit
    def run(x, out):
        n = x.shape[0]
        exp_span(out[0], 0, n, False, x)
        root_span(out[1], 0, n, False, x)
        log1p_span(out[2], 0, n, False, x)

    rng = np.random.default_rng(8)
    x = np.concatenate([rng.uniform(-200, 200, 20_000), rng.uniform(-1.5, 1.5, 20_000)])
    out = np.empty((3, x.size))
    run(x, out)
    exact = np.exp(np.longdouble(x))
    rel = lambda got, ref: np.abs((np.longdouble(got) - ref) / ref)  # noqa: E731
    assert float(np.max(rel(out[0], exact))) < 3.2e-9
    assert float(np.max(rel(out[1], exact))) < 6e-9
    u = np.minimum(np.abs(x), 1.0)
    keep = u > 0
    assert float(np.max(rel(out[2][keep], np.log1p(np.longdouble(u[keep]))))) < 2e-10
    # Every float32 within 1e−3 of silu′'s root: the compiled silu′ is within 1 ULP.
    root = -1.2784645427610738
    lo, hi = np.float32(root - 1e-3), np.float32(root + 1e-3)
    xs = np.arange(lo.view(np.int32), hi.view(np.int32), -1, dtype=np.int32).view(np.float32)
    with on_tier("numba"):
        got = actlab.silu_grad(xs)
    with on_tier("numpy"):
        ref = actlab.silu_grad(xs.astype(np.float64))
    assert _ulp_diff(got, ref.astype(np.float32)) <= 1.0


@needs_numba
@pytest.mark.parametrize("estimate", [False, True], ids=["division", "estimate"])
def test_reciprocal_near_is_within_2_to_the_minus_27(estimate):
    """``_vecmap.reciprocal_near`` over whole lines (16 double lanes of float32 input, 8 of
    float64) and the single lanes of a span's edges: within 2^−27 relative with the estimate
    (AVX-512F only), the rounded division without it; every element gets the same bits
    whatever its position. The map stores the relative error d·r − 1 (exact by FMA) scaled
    by 2^27, in the input's dtype."""
    from numba import njit

    from actlab.kernels._numba_math import wide_vectors
    from actlab.kernels._vecmap import reciprocal_near, span_map

    if estimate and not wide_vectors():
        pytest.skip("VRCP14PD needs AVX-512F")

    def scaled_error(d):
        wide = d.wide()
        return wide.fma(reciprocal_near(wide, estimate), -1.0) * 2.0**27

    span = span_map(scaled_error, inputs=1, scalars=0)

    @njit
    def run(d, out):
        span(out, 0, d.shape[0], False, d)

    rng = np.random.default_rng(12)
    for dtype in (np.float32, np.float64):
        d = np.exp(rng.uniform(0, 80, 4096 + 13)).astype(dtype)
        d[:4] = [1.0, 2.0, 1.5, np.nextafter(dtype(2), dtype(1))]
        got = np.empty_like(d)
        run(d, got)
        assert float(np.max(np.abs(got))) < (1.0 if estimate else 2.0**-25)
        shifted = np.empty_like(d[3:])
        run(d[3:], shifted)  # other elements at the lines' edges
        np.testing.assert_array_equal(shifted, got[3:])


@needs_numba
def test_lean_float32_expm1_and_tanh():
    """tanh's expm1 (kernels/lean32.expm1_twice_parts) keeps its relative accuracy down to tiny
    arguments, where the exp's own polynomial would not; and the compiled float32 tanh
    built on it is within a hair (or 2^−4 ULP) of correct rounding over a sweep of every
    4099th float32 from 0 to past saturation, both signs, subnormals included."""
    from numba import njit

    from actlab.kernels import lean32
    from actlab.kernels._vecmap import span_map

    def expm1(x):  # from x/2, exact
        u, s2 = lean32.expm1_twice_parts(x * 0.5)
        return s2.fma(u, s2.fma(0.5, -1.0))

    expm1_span = span_map(expm1, inputs=1, scalars=0)

    @njit
    def run(x, out):
        expm1_span(out, 0, x.shape[0], False, x)

    rng = np.random.default_rng(9)
    x = -np.concatenate([rng.uniform(0, 40, 20_000), np.exp(rng.uniform(-700, 0, 20_000))])
    got = np.empty_like(x)
    run(x, got)
    exact = np.expm1(np.longdouble(x))
    assert float(np.max(np.abs((np.longdouble(got) - exact) / exact))) < 3e-10

    top = np.float32(21.0).view(np.int32)
    bits = np.arange(0, top, 4099, dtype=np.int32)
    xs = np.concatenate([bits.view(np.float32), -bits.view(np.float32)])
    with on_tier("numba"):
        y = actlab.tanh(xs)
    ref = np.tanh(xs.astype(np.float64))  # within an ULP of float64: exact enough here
    spacing = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    # With AVX-512 the quotient takes a reciprocal estimate good to 2^−27: ≤ 2^−4 ULP more.
    bound = 0.57 if lean32.ESTIMATE else 0.51
    assert float(np.max(np.abs(y - ref) / spacing)) < bound
    assert np.array_equal(np.signbit(y), np.signbit(xs))


def test_exp_floor_is_exp_on_both_tiers():
    """The compiled floor is the row kernels' exp over x ≤ 0 (the only arguments they take,
    x − max), ≤ 1 ULP (float32: subnormal results included; float64: 0.95); the NumPy
    tier's is np.exp, whose float32 loop is itself a few ULP off."""
    rng = np.random.default_rng(1)
    bars = {("numba", np.float32): 1.0, ("numba", np.float64): 0.95}
    for tier in ("numba", "numpy") if config.numba_available() else ("numpy",):
        with on_tier(tier):
            for dtype in (np.float32, np.float64):
                x = rng.uniform(-110 if dtype == np.float32 else -708, 0, 5000).astype(dtype)
                out = np.empty_like(x)
                assert kernels.exp_floor(x, out) is out
                exact = np.exp(np.longdouble(x))
                err = np.abs(np.longdouble(out) - exact) / np.longdouble(np.spacing(out))
                assert float(np.max(err)) <= bars.get((tier, dtype), 4.0)
    with pytest.raises(TypeError, match="exp_floor: x must be"):
        kernels.exp_floor(np.arange(3), np.empty(3))
    with pytest.raises(ValueError, match="out has shape"):
        kernels.exp_floor(np.zeros(3), np.empty(4))


# ---------------------------------------------------------------- the tiers agree (exactly)


ELEMENTWISE_FUNCS = [
    (name, params)
    for e in actlab.entries("elementwise")
    if e.name not in ("rrelu", "prelu")
    for name, params in [(e.name, {}), (f"{e.name}_grad", {})]
]


@pytest.mark.parametrize(
    ("name", "params"), ELEMENTWISE_FUNCS, ids=[n for n, _ in ELEMENTWISE_FUNCS]
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tiers_agree_on_large_strided_arrays(name, params, dtype):
    """Each tier is audited against the oracle; here they meet each other within 1 ULP on
    a large array (blocks, threads) that is a strided view (copy-in path). Near the root of
    a float64 f′ the NumPy tier is up to ~10 ULP off (extended precision is not enough
    there; the audit's bar is absolute near roots): where the tiers differ by more than
    1 ULP, the compiled result must be within 1 ULP of the exact value instead."""
    rng = np.random.default_rng(2)
    base = (rng.standard_normal((300, 700)) * 8).astype(dtype)
    base[0, :6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-40 if dtype == "float32" else 5e-320]
    x = base[:, ::3].T  # non-contiguous
    fn = getattr(actlab, name)
    results = {}
    for tier in [t.values[0] if hasattr(t, "values") else t for t in TIERS]:
        if tier == "numba" and not config.numba_available():
            continue
        with on_tier(tier):
            results[tier] = np.asarray(fn(x, **params))
    expected = results["numpy"]
    assert expected.shape == x.shape
    for got in results.values():
        apart = _ulp_diffs(got, expected) > 1.0
        if apart.any():
            entry = actlab.get(name.removesuffix("_grad"))
            order = 1 if name.endswith("_grad") else 0
            exact = oracle.exact(entry, order, x[apart].astype(np.float64), params)
            assert float(np.max(oracle.ulp_errors(got[apart], exact, dtype))) <= 1.0
        assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_blocks_and_threads_give_the_whole_array_result(monkeypatch):
    """The NumPy tier's blocks (made small here) and threads change nothing."""
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(10_000) * 5).astype(np.float64)
    with on_tier("numpy"):
        whole = actlab.mish(x)
        whole_rows = actlab.log_softmax(x.reshape(100, 100))
        monkeypatch.setattr(blocked, "BLOCK", 777)
        monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 450)
        before = actlab.set_num_threads(3)
        try:
            np.testing.assert_array_equal(actlab.mish(x), whole)
            np.testing.assert_array_equal(actlab.log_softmax(x.reshape(100, 100)), whole_rows)
        finally:
            actlab.set_num_threads(before)


# ---------------------------------------------------------------------------------- rows


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("func", ["softmax", "log_softmax", "logsumexp"])
def test_rows_on_every_axis_and_layout(func, dtype, tier):
    """A non-last axis and a strided input give the same values as the contiguous last-axis
    call (the row path moves the axis and copies once)."""
    rng = np.random.default_rng(8)
    x = (rng.standard_normal((6, 40, 9)) * 7).astype(dtype)
    fn = getattr(actlab, func)
    with on_tier(tier):
        ref = fn(np.ascontiguousarray(np.moveaxis(x, 1, -1)), axis=-1)
        got = fn(x, axis=1)
        strided = fn(np.moveaxis(x, 1, -1), axis=-1)
    if func == "logsumexp":
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_array_equal(got, np.moveaxis(ref, -1, 1))
    np.testing.assert_array_equal(strided, ref)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_special_rows_follow_the_contract_among_ordinary_ones(dtype, tier):
    """Rows with NaN, +∞ or only −∞ go to the NumPy contract; the others stay compiled,
    and a −∞ entry of an ordinary row (row 4) gives exactly 0 and −∞ (float32 flags such a
    row for the NumPy path; float64 computes it)."""
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((8, 50)) * 3).astype(dtype)
    x[1, 3] = np.nan
    x[2, [4, 9]] = np.inf
    x[3, :] = -np.inf
    x[4, 0] = -np.inf
    with on_tier("numpy"):
        expected = {f: getattr(actlab, f)(x) for f in ("softmax", "log_softmax")}
        lse = actlab.logsumexp(x, axis=-1)
    with on_tier(tier):
        for f, e in expected.items():
            got = getattr(actlab, f)(x)
            compiled64 = tier == "numba" and dtype == "float64"
            assert _ulp_diff(got, e) <= (FLOAT64_KERNEL_ULPS[f] + 0.5 if compiled64 else 1.0), f
            np.testing.assert_array_equal(got[1:4], e[1:4])
            assert got[4, 0] == e[4, 0] == (0.0 if f == "softmax" else -np.inf)
        np.testing.assert_array_equal(actlab.logsumexp(x, axis=-1)[1:5], lse[1:5])
    assert np.all(np.isnan(expected["softmax"][1]))
    np.testing.assert_array_equal(expected["softmax"][2, [4, 9]], [0.5, 0.5])
    np.testing.assert_array_equal(expected["softmax"][3], np.zeros(50))


def test_small_arrays_take_the_numpy_path_unless_asked():
    x = np.array([3.0, 2.0, 1.0])
    assert config.get_row_kernel_min_size() > x.size
    # correctly rounded on the NumPy path (the seed's printed value)
    assert actlab.softmax(x)[0] == 0.6652409557748219
    with pytest.raises(ValueError, match="non-negative integer"):
        config.set_row_kernel_min_size(-1)


# ---------------------------------------------------------------------- cross-entropy


def _ce_case(dtype, seed=10):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((40, 30)) * 6).astype(dtype)
    t = rng.integers(0, 30, 40)
    t[[3, 17]] = -100  # ignored
    x[5, 2] = np.inf
    x[6, :] = -np.inf  # empty row: left out of the mean
    x[8, 1] = 80.0  # confident row: 1 − y must not round to 0
    return x, t


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_cross_entropy_equals_the_array_api_path(dtype, reduction, tier):
    x, t = _ce_case(dtype)
    go = np.linspace(0.5, 2, 40) if reduction == "none" else 0.75
    ref_loss = _cross_entropy(x, t, reduction=reduction)
    ref_grad = _cross_entropy_grad(x, t, reduction=reduction, grad_output=go)
    with on_tier(tier):
        loss = actlab.cross_entropy(x, t, reduction=reduction)
        grad = actlab.cross_entropy_grad(x, t, reduction=reduction, grad_output=go)
        both = actlab.cross_entropy_with_grad(x, t, reduction=reduction, grad_output=go)
    assert _ulp_diff(loss, ref_loss) <= 2.0
    scale = np.max(np.abs(ref_grad[np.isfinite(ref_grad)]))
    eps = np.finfo(dtype).eps
    assert np.array_equal(np.isnan(grad), np.isnan(ref_grad))
    assert np.nanmax(np.abs(grad - ref_grad)) <= 4 * eps * scale
    np.testing.assert_array_equal(both[0], loss)
    np.testing.assert_array_equal(both[1], grad)
    assert grad[8].dtype == x.dtype
    assert grad[8][t[8]] != 0 or t[8] == 1


@pytest.mark.parametrize("tier", TIERS)
def test_cross_entropy_class_axis_and_bad_targets(tier):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 7, 5)).astype(np.float32)  # (N, C, d), class axis 1
    t = rng.integers(0, 7, (4, 5))
    ref = _cross_entropy_grad(x, t, axis=1)
    with on_tier(tier):
        got = actlab.cross_entropy_grad(x, t, axis=1)
        assert _ulp_diff(got, ref) <= 1.0
        with pytest.raises(ValueError, match="outside"):
            actlab.cross_entropy(x, np.full((4, 5), 7), axis=1)
        with pytest.raises(ValueError, match="must have shape"):
            actlab.cross_entropy(x, t[:, :2], axis=1)


@pytest.mark.parametrize("tier", TIERS)
def test_array_parameters_on_large_arrays(tier):
    """prelu's weight and rrelu's drawn slopes are arrays: those calls run on the whole
    array (not cut into blocks), on either tier."""
    x = np.linspace(-4, 4, 3 * blocked.BLOCK).reshape(3, -1)
    with on_tier(tier):
        y, slopes = actlab.rrelu(x, training=True, rng=1, return_slopes=True)
        np.testing.assert_array_equal(y, np.where(x > 0, x, slopes * x))
        w = np.array([0.1, 0.2, 0.3])
        got = actlab.prelu(x, w, axis=0)
        np.testing.assert_array_equal(got, np.where(x > 0, x, w[:, None] * x))


@needs_numba
def test_float32_log_softmax_where_the_lean_tau_hands_over_to_the_exact_one():
    """log_softmax and logsumexp take τ = Σ e_j − 1 from softmax's sum, unless τ is below
    n·2^−23 (one entry far above the rest), where τ is summed again without the maxima.
    Rows whose τ runs from n·2^−45 to n·2^−19 cross that switch; the top entry, ≈ −τ, is
    the one that would show a lost τ. Both stay within their bars against mpmath."""
    from actlab import oracle_vector as ov

    n = 2048
    rng = np.random.default_rng(7)
    rows = []
    for k in np.linspace(-45, -19, 27):
        gap = np.log((n - 1) / (n * 2.0**k))  # (n − 1)·e^−gap = n·2^k
        row = -gap + rng.uniform(-0.3, 0.3, n)
        row[rng.integers(n)] = 0.0
        rows.append(row)
    x = np.array(rows).astype(np.float32)
    entry = actlab.get("log_softmax")
    with on_tier("numba"):
        got = actlab.log_softmax(x, axis=-1)
        lse = actlab.logsumexp(x, axis=-1)
    exact = ov.exact_rows(entry.reference, x.astype(np.float64))
    assert ov.ulp_errors(got, exact, np.float32).max() <= entry.ulp_bar("float32")
    lse_entry = actlab.get("logsumexp")
    exact_lse = [[v] for v in ov.exact_rows(lse_entry.reference, x.astype(np.float64))]
    assert ov.ulp_errors(lse, exact_lse, np.float32).max() <= lse_entry.ulp_bar("float32")


@needs_numba
@pytest.mark.parametrize("grad_output", [1.0, 1e6])
def test_float32_cross_entropy_gradient_of_far_entries_is_zero(grad_output):
    """Entries more than 104 below the row max: their exact gradient s·e^(x−m)/(1 + τ)
    rounds to 0 in float32 for these scales; the lean exp holds e^−104 there (not 0), which
    only a scale |s| ≤ 1 keeps invisible, so larger scales take the exact pass."""
    n = 300
    x = np.zeros((6, n), np.float32)
    x[:, 1::2] = -150.0  # far below the max (0); e^−150·1e6 ≈ 7e−60
    x[:, 2::4] = -1.0
    t = np.array([0, 1, 2, 3, 5, 7])
    with on_tier("numba"):
        _, grad = actlab.cross_entropy_with_grad(
            x, t, reduction="sum", grad_output=np.float32(grad_output)
        )
    far = np.zeros(n, bool)
    far[1::2] = True
    for r in range(6):
        mask = far.copy()
        mask[t[r]] = False
        assert np.all(grad[r][mask] == 0), (r, grad[r][mask].max())
    ref = _cross_entropy_grad(x, t, reduction="sum", grad_output=grad_output)
    np.testing.assert_allclose(grad, ref, rtol=4e-7, atol=0)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_gradient_of_clamped_entries_a_large_scale_makes_visible(dtype):
    """Entries just below the exp's clamp (−104 in float32, −746 in float64): their exact
    gradient s·e^(x−m)/(1 + τ) is a subnormal for s = 1e6, not 0 (the kernel once gave 0);
    such rows come from the NumPy path, rows far lower stay on the kernel."""
    from actlab import oracle_vector as ov

    far = -105.0 if dtype == np.float32 else -747.0
    x = np.array([[0.0, far, -1.0, far + 0.5, -2.0], [0.0, 3 * far, -1.0, -2.0, -3.0]], dtype)
    t = np.array([2, 2])
    with on_tier("numba"), np.errstate(all="raise"):
        grad = actlab.cross_entropy_grad(
            x, t, reduction="sum", grad_output=np.asarray(1e6, dtype=dtype)
        )
    entry = actlab.get("cross_entropy")
    exact = ov.exact_rows(entry.reference_grad, x.astype(np.float64), list(t))
    scaled = [[v * 10**6 for v in row] for row in exact]
    assert ov.sign_errors(grad, scaled, dtype) == 0
    assert ov.normwise_errors(grad, scaled, dtype).max() <= entry.ulp_bar(
        np.dtype(dtype).name, "grad"
    )
    assert grad[0, 1] > 0
    assert grad[0, 3] > 0


@needs_numba
def test_tiled_axis_swap_on_partial_tiles():
    from actlab.kernels.transpose import swap_last_two

    rng = np.random.default_rng(12)
    for shape in [(2, 13, 21), (1, 1, 9), (3, 8, 8), (1, 17, 1)]:
        src = rng.standard_normal(shape).astype(np.float32)
        dst = np.full((shape[0], shape[2], shape[1]), np.nan, np.float32)
        swap_last_two(src, dst)
        np.testing.assert_array_equal(dst, np.swapaxes(src, 1, 2))


@needs_numba
@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
def test_row_functions_over_axis_0_into_a_transposed_out(func):
    """The axis is moved by the tiled copy and moved back; an ``out`` that is itself a
    transposed view takes the general copy back."""
    x = (np.random.default_rng(13).standard_normal((37, 23)) * 5).astype(np.float32)
    fn = getattr(actlab, func)
    with on_tier("numba"):
        ref = fn(np.ascontiguousarray(x.T), axis=-1).T
        out = np.empty((23, 37), np.float32).T
        assert fn(x, axis=0, out=out) is out
        plain = fn(x, axis=0)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(plain, ref)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [10, 300])
def test_axis_0_rows_with_special_values_after_the_tiled_copy(n, dtype):
    """Long rows are computed in place over the moved copy; a row (here a column) with NaN
    or +∞ is left untouched by the kernel and recomputed by the NumPy path from that copy."""
    x = (np.random.default_rng(14).standard_normal((n, 41)) * 4).astype(dtype)
    x[3, 5] = np.nan
    x[0, 7] = np.inf
    x[:, 9] = -np.inf
    for func in ("softmax", "log_softmax"):
        fn = getattr(actlab, func)
        with on_tier("numba"):
            got = fn(x, axis=0)
            ref = fn(np.ascontiguousarray(x.T), axis=-1).T
        with on_tier("numpy"):
            numpy_ref = fn(x, axis=0)
        np.testing.assert_array_equal(got, ref)
        assert np.array_equal(np.isnan(got), np.isnan(numpy_ref))
        np.testing.assert_array_equal(got[:, [5, 7, 9]], numpy_ref[:, [5, 7, 9]])

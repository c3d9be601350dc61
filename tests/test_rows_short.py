"""The short-row softmax kernels (``kernels/rows_short.py``): blocks of rows transposed into
vector lanes by tiles (``_lane_transpose``), so every row count, row length and position of a
special row relative to the tiles, blocks and parallel chunks must give the same result."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import actlab
from actlab.kernels import config
from test_kernels_support import FLOAT64_KERNEL_ULPS, on_tier

needs_numba = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

DTYPES = ["float32", "float64"]
# Tile widths 8/4/2 and their overlaps (3, 5, 7, 9, 10, 13), n = 1 (no tiles), SHORT_ROW.
LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 16, 31, 32]


def _exact(x: np.ndarray) -> np.ndarray:
    """softmax in long double (64-bit significand): exact enough to count ULPs of float64."""
    xl = x.astype(np.longdouble)
    e = np.exp(xl - xl.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ulps(got: np.ndarray, exact: np.ndarray) -> float:
    tiny = np.finfo(got.dtype).smallest_subnormal
    spacing = np.spacing(np.maximum(np.abs(exact), tiny).astype(got.dtype))
    return float(np.max(np.abs(got.astype(np.longdouble) - exact) / spacing))


def _bound(dtype: str) -> float:
    """float32 within an ULP of the exact softmax; float64 within its rounded exp's bound."""
    return 1.0 if dtype == "float32" else FLOAT64_KERNEL_ULPS["softmax"]


def _each_chunk_within(kernel, x: np.ndarray, exact: np.ndarray, bound: float) -> None:
    """``kernel`` over x with one block per parallel chunk and with many: no row flagged,
    every row within ``bound`` ULP of ``exact``."""
    for chunk in (64, 1 << 16):
        out = np.full_like(x, np.nan)
        flags = np.zeros(x.shape[0], dtype=np.int8)
        kernel(x, out, flags, chunk)
        assert not flags.any()
        assert _ulps(out, exact) <= bound, (x.shape[0], chunk)


def _flagged_rows_as_numpy(func, x: np.ndarray, flags: np.ndarray):
    """``func`` (public) over x on the compiled tier, whose rows that the kernel flagged must
    be the NumPy path's to the bit; returns that output and the indices of the rows not
    flagged."""
    with on_tier("numpy"):
        expected = func(x)
    with on_tier("numba"):
        got = func(x)
    bad = np.flatnonzero(flags)
    np.testing.assert_array_equal(got[bad], expected[bad])
    return got, np.setdiff1d(np.arange(x.shape[0]), bad)


def _kernel(dtype):
    from actlab.kernels import rows_short

    return rows_short.softmax_short


@needs_numba
def test_tiles_cover_every_entry_inside_the_row():
    from actlab.kernels._lane_transpose import tiles

    for lanes in (8, 4):
        for n in range(1, 33):
            t = tiles(n, lanes)
            covered = np.zeros(n, dtype=bool)
            for k0, w in t:
                assert w in (lanes, lanes // 2, 2)
                assert k0 >= 0
                assert k0 + w <= n
                covered[k0 : k0 + w] = True
            assert covered.all() if n >= 2 else len(t) == 0


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", LENGTHS)
def test_every_row_count_and_chunk_within_the_bound(n, dtype):
    """Row counts around the 8-row tiles and 64-row blocks, one block per parallel chunk and
    many: each row within an ULP of the exact softmax (float64: its bound), and flags only
    for special rows."""
    rng = np.random.default_rng(n)
    for rows in (1, 7, 8, 9, 63, 64, 65, 129, 1000):
        x = (rng.standard_normal((rows, n)) * 30).astype(dtype)
        _each_chunk_within(_kernel(dtype), x, _exact(x), _bound(dtype))


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 31, 32])
def test_special_rows_at_tile_and_block_edges(n, dtype):
    """NaN, +∞ and all −∞ rows at the edges of tiles (rows 7, 8), blocks (63, 64, 127, 128)
    and of the array are flagged, and no ordinary row; through the public function they get
    exactly the NumPy path's values, the other rows within the bound of the exact softmax."""
    rng = np.random.default_rng(100 + n)
    rows = 131
    x = (rng.standard_normal((rows, n)) * 10).astype(dtype)
    special = {7: "nan", 8: "inf", 63: "-inf", 64: "nan", 127: "inf", 128: "-inf", 130: "nan"}
    for r, kind in special.items():
        if kind == "-inf":
            x[r, :] = -np.inf
        else:
            x[r, (r * 7) % n] = float(kind)
    x[0, :] = 3.0  # every entry the max: exactly 1/n
    if n > 1:
        x[1, n // 2] = -np.inf  # one −∞ entry in an ordinary row: its output is 0
    out = np.empty_like(x)
    flags = np.zeros(rows, dtype=np.int8)
    _kernel(dtype)(x, out, flags, 64)
    # A −∞ entry in an ordinary row may be flagged too (float32: the lean exp's exact x − m
    # is NaN there); the NumPy path then gives its 0.
    assert set(special) <= set(np.flatnonzero(flags)) <= set(special) | {1}

    got, ok = _flagged_rows_as_numpy(actlab.softmax, x, flags)
    assert _ulps(got[ok], _exact(x[ok])) <= _bound(dtype)
    np.testing.assert_array_equal(got[0], np.full(n, 1.0 / n, dtype=dtype))
    if n > 1:
        assert got[1, n // 2] == 0.0


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
def test_misaligned_output_and_tiny_results_against_mpmath(dtype):
    """An output that starts off a 32-byte line (and off its element size's multiples of 32:
    the streamed stores start later); entries far below their row's max, whose results are
    subnormal or round to 0, and the rounding of the largest ones, checked with mpmath."""
    fi = np.finfo(dtype)
    span = -np.log(float(fi.smallest_subnormal))  # e^−span is the smallest subnormal
    rng = np.random.default_rng(5)
    x = rng.uniform(-span - 2, 0, (200, 10)).astype(dtype)
    x[:, 0] = 0.0
    buffer = np.empty(x.size + 1, dtype=dtype)
    out = buffer[1:].reshape(x.shape)
    flags = np.zeros(x.shape[0], dtype=np.int8)
    _kernel(dtype)(x, out, flags, 64)
    assert not flags.any()
    mpmath.mp.prec = 120
    for r in range(0, 200, 23):
        e = [mpmath.exp(mpmath.mpf(float(v))) for v in x[r]]
        total = mpmath.fsum(e)
        exact = np.array([float(v / total) for v in e], dtype=np.float64)
        exact_ld = np.array([np.longdouble(mpmath.nstr(v / total, 30)) for v in e])
        assert _ulps(out[r], exact_ld) <= _bound(dtype), (r, out[r], exact)


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [2, 3, 5, 10, 13, 32])
def test_whole_and_partial_blocks_agree_bit_for_bit(n, dtype):
    """A last block of fewer rows is computed from a copy padded with zero rows, whole blocks
    in place with the next block prefetched (``rows_short._softmax_short``): the rows get
    the same bits and flags either way."""
    rng = np.random.default_rng(7 + n)
    x = (rng.standard_normal((128, n)) * 20).astype(dtype)
    x[5, 0] = np.nan
    x[70, :] = -np.inf
    x[100, n - 1] = np.inf
    x[101, :] = 2.0
    kernel = _kernel(dtype)
    whole = np.empty_like(x)
    whole_flags = np.zeros(128, dtype=np.int8)
    kernel(x, whole, whole_flags, 64)
    assert set(np.flatnonzero(whole_flags)) == {5, 70, 100}
    bits = np.int64 if dtype == "float64" else np.int32
    for b in (0, 64):
        part = np.empty((63, n), dtype=dtype)
        part_flags = np.zeros(63, dtype=np.int8)
        kernel(x[b : b + 63], part, part_flags, 64)
        np.testing.assert_array_equal(part_flags, whole_flags[b : b + 63])
        ok = part_flags == 0
        assert np.array_equal(part[ok].view(bits), whole[b : b + 63][ok].view(bits))


def _on_lanes(formula, lanes):
    """A compiled loop that applies ``formula`` (Lanes → Lanes or a pair of them) to x and
    neg_m, ``lanes`` elements at a time, into out (and out_low for a pair)."""
    from numba import njit, types
    from numba.extending import intrinsic

    from actlab.kernels._lane_transpose import array_data, vector_at
    from actlab.kernels._vecmap import Lanes

    @intrinsic
    def at_lanes(typingctx, x, neg_m, out, out_low, i):
        def gen(context, builder, signature, args):
            def at(k):
                data = array_data(context, builder, signature.args[k], args[k])
                return vector_at(builder, data, args[4], lanes)

            x_v, m_v = (Lanes(builder, builder.load(at(k), align=4)) for k in (0, 1))
            result = formula(x_v, m_v)
            for k, value in enumerate(result if isinstance(result, tuple) else (result,)):
                builder.store(value.v, at(2 + k), align=4)
            return context.get_dummy_value()

        return types.none(x, neg_m, out, out_low, i), gen

    @njit
    def run(x, neg_m, out, out_low):
        for i in range(0, x.shape[0], lanes):
            at_lanes(x, neg_m, out, out_low, i)

    return run


def _exp_arguments(dtype, span):
    """x and −m: differences from 0 to below −span, x = m, −∞ and NaN, maxima of every size."""
    rng = np.random.default_rng(11)
    size = 1 << 20
    m = (rng.standard_normal(size) * np.exp(rng.uniform(-5, 8, size))).astype(dtype)
    x = (m - np.exp(rng.uniform(-40, np.log(span), size))).astype(dtype)
    x[::9] = m[::9]
    x[1::97] = -np.inf
    x[2::101] = np.nan
    return x, -m


@needs_numba
def test_the_lane_exps_give_the_row_exps_bits():
    """The short rows' exps, written on vector lanes in LLVM IR (``exp_neg_lanes``,
    ``exp_neg_pair_lanes``), give the bits of the row kernels' exps (``exp_neg_d``, both
    parts of ``exp_neg_pair``) over the whole range they take."""
    from numba import njit

    from actlab.kernels._exp_rows32 import exp_neg_pair, exp_neg_pair_lanes
    from actlab.kernels._exp_rows64 import exp_neg_d, exp_neg_lanes

    @njit(error_model="numpy", fastmath={"contract"})
    def scalars_w(x, neg_m, out, out_low):
        for i in range(x.shape[0]):
            out[i], out_low[i] = exp_neg_pair(x[i], neg_m[i])

    @njit(error_model="numpy", fastmath={"contract"})
    def scalars_d(x, neg_m, out, out_low):
        for i in range(x.shape[0]):
            out[i] = exp_neg_d(x[i], neg_m[i])

    for dtype, formula, lanes, span, scalars in (
        (np.float64, exp_neg_lanes, 4, 800.0, scalars_d),
        (np.float32, exp_neg_pair_lanes, 8, 110.0, scalars_w),
    ):
        x, neg_m = _exp_arguments(dtype, span)
        got, want = (np.zeros((2, x.size), dtype=dtype) for _ in range(2))
        _on_lanes(formula, lanes)(x, neg_m, got[0], got[1])
        scalars(x, neg_m, want[0], want[1])
        bits = np.int64 if dtype == np.float64 else np.int32
        np.testing.assert_array_equal(got.view(bits), want.view(bits))


@needs_numba
def test_the_lane_exps_under_a_floor():
    """With a floor (log_softmax's short rows), the lane exps give the same bits as without
    above ``LOW``; between the floor and LOW, where the exp without a floor clamps, e^d
    (scaled) to float32's 24 bits (the pair's low part is subnormal there: these terms of τ
    are under 2^−150) or float64's rounding; exactly 0 below the floor, −∞ included."""
    from actlab.kernels import _exp_rows32, _exp_rows64

    rng = np.random.default_rng(12)
    for dtype, module, lanes, scale, bound in (
        (np.float32, _exp_rows32, 8, 2.0**32, 2.0**-23),
        (np.float64, _exp_rows64, 4, 2.0**64, 2.0**-51),
    ):
        exp = getattr(module, "exp_neg_pair_lanes" if dtype == np.float32 else "exp_neg_lanes")
        floor, low = module.FLOOR_LIMIT, float(module.LOW)
        m = rng.uniform(-50, 50, 1 << 16).astype(dtype)
        d = rng.uniform(floor - 5, low + 5, m.size)
        d[::7] = floor + rng.uniform(-1e-3, 1e-3, d[::7].size)
        x = (m + d).astype(dtype)
        x[3::101] = -np.inf
        floored, plain = np.zeros((2, x.size), dtype=dtype), np.zeros((2, x.size), dtype=dtype)
        _on_lanes(lambda a, b, exp=exp, floor=floor: exp(a, b, floor), lanes)(x, -m, *floored)
        _on_lanes(exp, lanes)(x, -m, plain[0], plain[1])
        # x − m as the exp compares it: x + (−m), rounded to the dtype
        shifted = np.where(np.isinf(x), -np.inf, (x + -m).astype(np.longdouble))
        got = floored[0].astype(np.longdouble) + floored[1]
        above = shifted >= low
        bits = np.int32 if dtype == np.float32 else np.int64
        np.testing.assert_array_equal(floored[:, above].view(bits), plain[:, above].view(bits))
        between = (shifted >= floor) & ~above
        assert between.sum() > 1000
        want = np.exp((x.astype(np.longdouble) - m)[between]) * scale
        assert np.max(np.abs(got[between] - want) / want) <= bound
        assert np.all(floored[:, shifted < floor] == 0)


def _log1p_arguments() -> tuple[np.ndarray, np.ndarray]:
    """τ as pairs (th, tl) over the range the short rows give, [0, 32): uniform, from 2^−1074
    up (log-uniform), where 1 + τ meets √2 (``_split``'s k turns) and its powers of two, 0;
    tl within half an ULP of th (0 where th is subnormal)."""
    rng = np.random.default_rng(41)
    edges = np.sqrt(2.0) * 2.0 ** np.arange(5) - 1.0
    th = np.concatenate(
        [
            rng.uniform(0, 31, 4000),
            2.0 ** rng.uniform(-1074, 5, 2000),
            2.0 ** rng.uniform(-60, 0, 2000),
            (edges[:, None] * (1 + rng.uniform(-1e-9, 1e-9, (5, 200)))).ravel(),
            np.nextafter(edges[:, None], [[0.0, np.inf]]).ravel(),
            np.nextafter(edges, np.inf), edges, 2.0 ** np.arange(-3, 5) - 1.0,
            [0.0, 2.0**-1074, 2.0**-1022, 31.0],
        ]
    )  # fmt: skip
    th = th[: th.size - th.size % 4]
    tl = np.where(th >= 2.0**-1000, rng.uniform(-0.5, 0.5, th.size) * np.spacing(th), 0.0)
    return th, tl


def _relative_errors(got_hi, got_lo, th, tl) -> np.ndarray:
    """|got − log1p(τ)|/log1p(τ) for τ = th + tl, against mpmath (0 where both are 0)."""
    mpmath.mp.prec = 160
    errors = []
    for gh, gl, h, low in zip(got_hi, got_lo, th, tl, strict=True):
        exact = mpmath.log1p(mpmath.mpf(float(h)) + mpmath.mpf(float(low)))
        got = mpmath.mpf(float(gh)) + mpmath.mpf(float(gl))
        errors.append(0.0 if exact == got == 0 else float(abs(got - exact) / exact))
    return np.array(errors)


@needs_numba
def test_the_lane_log1p_within_its_stated_accuracy():
    """``log1p_lanes`` (float32's log_softmax) within 2^−33 of log1p(τ), the pair of
    ``log1p_pair_lanes`` (float64's) within 2^−56 (measured 2^−34.2 and 2^−56.8, both
    where 1 + τ is near √2, |s| largest), over [0, 32), subnormal τ included: both once gave
    0 for τ = 2^−1074 (s = f/(2 + f) rounded to 0), and the pair lost τ's low part below
    2^−53 (2^−53 relative)."""
    from actlab.kernels._lane_log1p import log1p_lanes, log1p_pair_lanes

    th, tl = _log1p_arguments()
    rounded, pair = np.zeros((2, th.size)), np.zeros((2, th.size))
    _on_lanes(lambda t, _: log1p_lanes(t), 4)(th, tl, rounded[0], rounded[1])
    _on_lanes(log1p_pair_lanes, 4)(th, tl, pair[0], pair[1])
    assert _relative_errors(rounded[0], rounded[1], th, 0 * tl).max() <= 2.0**-33
    assert _relative_errors(rounded[0], 0 * rounded[1], th, 0 * tl).max() <= 2.0**-33
    assert _relative_errors(pair[0], pair[1], th, tl).max() <= 2.0**-56


def _exact_log(x: np.ndarray) -> np.ndarray:
    """log_softmax in long double, as shifted − log1p(τ) with τ summed without one maximum
    (log of the whole sum would round 1 + τ: 0.1% off at τ = 4e−17)."""
    xl = x.astype(np.longdouble)
    shifted = xl - xl.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    rows = np.arange(x.shape[0])
    top = np.argmax(np.nan_to_num(x, nan=-np.inf, neginf=-np.inf), axis=1)
    e[rows, top] = 0
    return shifted - np.log1p(e.sum(axis=1, keepdims=True))


def _log_bound(dtype: str) -> float:
    """float32 within an ULP of the exact log_softmax; float64 within its rounded exp's bound
    (the bar of both is 2)."""
    return 1.0 if dtype == "float32" else FLOAT64_KERNEL_ULPS["log_softmax"]


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", LENGTHS)
def test_log_softmax_short_rows_within_the_bound(n, dtype):
    """log_softmax over short rows (``rows_short.log_softmax_short``: the lane kernel's τ
    and log1p(τ) in lanes, float64 as pairs): every row count and chunk, spreads from 0.1
    to 30 and rows with one entry 40 above the rest (τ ≈ 4e−18·n, which −log1p(τ) must
    keep), within the bound of the exact value, no row flagged."""
    from actlab.kernels import rows_short

    rng = np.random.default_rng(200 + n)
    for rows in (1, 7, 8, 9, 63, 64, 65, 129, 1000):
        spread = np.array([0.1, 4.0, 30.0])[np.arange(rows) % 3, None]
        x = (rng.standard_normal((rows, n)) * spread).astype(dtype)
        x[::4, 0] += 40.0
        _each_chunk_within(rows_short.log_softmax_short, x, _exact_log(x), _log_bound(dtype))


@needs_numba
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 2, 3, 10, 31, 32])
def test_log_softmax_short_special_rows(n, dtype):
    """NaN, +∞ and all −∞ rows are flagged and get the NumPy path's values through the
    public function; a −∞ entry gives −∞, a row of one finite entry among −∞ gives exactly
    0 there, masked entries (−1e9 added) stay on the kernel; everything else within an ULP
    of the exact log_softmax (float64: its bound)."""
    from actlab.kernels import rows_short

    rng = np.random.default_rng(300 + n)
    rows = 131
    x = (rng.standard_normal((rows, n)) * 10).astype(dtype)
    special = {7: "nan", 8: "inf", 63: "-inf", 64: "nan", 127: "inf", 128: "-inf"}
    for r, kind in special.items():
        if kind == "-inf":
            x[r, :] = -np.inf
        else:
            x[r, (r * 7) % n] = float(kind)
    if n > 1:
        x[1, n // 2] = -np.inf
        x[2, 1:] = -np.inf  # one finite entry
        x[3, 1:] -= 1e9  # a causal mask's row
    out = np.empty_like(x)
    flags = np.zeros(rows, dtype=np.int8)
    rows_short.log_softmax_short(x, out, flags, 64)
    assert set(np.flatnonzero(flags)) == set(special)

    got, ok = _flagged_rows_as_numpy(actlab.log_softmax, x, flags)
    finite = np.isfinite(x[ok])
    assert np.array_equal(np.isneginf(got[ok]), ~finite)
    exact = np.where(finite, _exact_log(x[ok]), 0)
    assert _ulps(np.where(finite, got[ok], 0), exact) <= _log_bound(dtype)
    if n > 1:
        assert got[1, n // 2] == -np.inf
        assert got[2, 0] == 0.0
        assert np.all(got[3, 1:] < -9e8)


@needs_numba
def test_log_softmax_short_rows_take_the_lane_kernel(monkeypatch):
    """Rows of 2 to 32 entries take ``log_softmax_short``, longer rows the long-row
    kernels."""
    from actlab.kernels import rows_short

    calls: list[tuple[str, int]] = []
    original = rows_short.log_softmax_short

    def counted(x, out, flags, chunk):
        calls.append((x.dtype.name, x.shape[1]))
        original(x, out, flags, chunk)

    monkeypatch.setattr(rows_short, "log_softmax_short", counted)
    rng = np.random.default_rng(5)
    with on_tier("numba"):
        for dtype, n in (("float32", 10), ("float64", 10), ("float32", 33)):
            x = rng.standard_normal((4000, n)).astype(dtype)
            assert _ulps(actlab.log_softmax(x), _exact_log(x)) <= _log_bound(dtype)
    assert calls == [("float32", 10), ("float64", 10)]


@needs_numba
@pytest.mark.parametrize(("dtype", "far"), [("float32", -104.5), ("float64", -746.5)])
@pytest.mark.parametrize("n", [10, 32, 1000])
def test_compiled_kernels_count_the_entries_below_the_exp_clamp(n, dtype, far):
    """Entries just below the exps' clamp (x − m < −104, −746), each under half the smallest
    subnormal, together make a subnormal log_softmax top entry, logsumexp and cross-entropy
    (rows 0, k × ``far``: −1.28e−44 in float32, −2.0e−323 in float64 for k = 31): the
    kernels once left them out and gave 0 (9 and 4 subnormal ULP off), where the NumPy
    path is right; such rows are now flagged to it (``rows.TINY_TAU``). Rows masked far
    lower (−1e4) or by −∞ keep their exact 0."""
    k = min(n, 32) - 1
    x = np.full((4096, n), -1e4, dtype=dtype)
    x[:, 0] = 0.0
    x[:, 1 : k + 1] = far
    x[1::2, 1 : k + 1] = -np.inf  # every other row: −∞ masks, no far entry within reach
    mpmath.mp.dps = 40
    want = np.array(float(mpmath.log1p(k * mpmath.exp(far))), dtype=dtype)
    assert want > 0
    targets = np.zeros(x.shape[0], dtype=np.int64)
    with on_tier("numba"):
        z = actlab.log_softmax(x)[:, 0]
        lse = actlab.logsumexp(x, axis=-1)
        loss = actlab.cross_entropy(x, targets, reduction="none")
    for got in (-z, lse, loss):
        np.testing.assert_array_equal(got[::2], np.full(2048, want, dtype=dtype))
        np.testing.assert_array_equal(got[1::2], np.zeros(2048, dtype=dtype))

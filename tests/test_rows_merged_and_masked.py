"""Row calls that once ran the whole-array Array API code (some twenty temporaries of x's size):
over several axes they are the call over one merged axis (``_rowcall.over_merged_axes``:
the kernels and blocks of a single axis), and softmax, softmin, log_softmax and logsumexp
with a ``where`` mask or logsumexp's weights ``b`` run a block of rows at a time
(``rowpath.run`` with ``others``): the whole-array call's bits along the last axis."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.functions import logsumexp as lse_module
from actlab.functions import softmax as softmax_module
from actlab.kernels import blocked, rowpath
from softmax_support import same
from test_kernels_support import on_tier

VECTORS = ["softmax", "softmin", "log_softmax"]
WHOLE = {
    "softmax": softmax_module._softmax,
    "softmin": softmax_module._softmin,
    "log_softmax": softmax_module._log_softmax,
}
TIERS = ["numba", "numpy"]


def _assert_same_bits(got, want):
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    assert same(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def _x(dtype, shape=(30, 20, 50), seed=4):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 6).astype(dtype)
    x[0, 0, 0] = np.nan
    x[1, :, :] = -np.inf  # rows of −∞ in some of the merged rows
    x[2, 3, 4] = np.inf
    return x


def _merged(a, axes):
    """a with ``axes`` moved last in their own order (as the calls take them: (2, 0) is
    (0, 2)) and merged into one."""
    axes = sorted(axes)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + axes)
    return moved.reshape((*moved.shape[: len(rest)], -1)), rest + axes


def _unmerged(r, shape, order):
    return np.transpose(r.reshape(tuple(shape[i] for i in order)), np.argsort(order))


@pytest.fixture
def runs(monkeypatch):
    """(func, kernel, has others) of every ``rowpath.run`` call from now on."""
    calls = []
    original = rowpath.run

    def spy(func, x, axis, out, impl, **kwargs):
        calls.append((func, kwargs.get("kernel"), bool(kwargs.get("others"))))
        return original(func, x, axis, out, impl, **kwargs)

    monkeypatch.setattr(rowpath, "run", spy)
    return calls


# ----------------------------------------------------------------------------- several axes


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("axes", [(0, 2), (2, 0), (1, 2), (0, 1, 2)])
@pytest.mark.parametrize("name", VECTORS)
def test_several_axes_are_the_call_over_the_merged_axis(name, axes, dtype, tier, runs):
    x = _x(dtype)
    fn = getattr(actlab, name)
    merged, order = _merged(x, axes)
    with on_tier(tier), np.errstate(all="raise"):
        got = fn(x, axis=axes)
        want = _unmerged(fn(merged, axis=-1), x.shape, order)
        into = np.full_like(x, 7.0)
        assert fn(x, axis=axes, out=into) is into
    _assert_same_bits(got, want)
    _assert_same_bits(into, want)
    assert got.flags.c_contiguous
    assert (name, name if name != "softmin" else None, False) in runs or tier == "numpy"
    # the merged rows are what the whole-array code computes, within the function's bar
    exact = WHOLE[name](x.astype(np.longdouble), axes).astype(np.float64)
    bar = actlab.get(name).ulp_bar(np.dtype(dtype).name)
    finite = np.isfinite(exact) & (exact != 0)
    ulps = np.abs(got[finite] - exact[finite]) / np.spacing(np.abs(exact[finite]).astype(dtype))
    assert ulps.max(initial=0.0) <= bar + 0.5
    assert same(got[~finite], exact[~finite].astype(dtype))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, (0, 2), (2, 1)])
def test_logsumexp_over_several_axes_is_the_merged_row(axis, keepdims, tier):
    x = _x(np.float32)
    rng = np.random.default_rng(9)
    b = rng.uniform(0.0, 2.0, x.shape[1:]).astype(np.float32)  # broadcast along axis 0
    where = rng.random(x.shape) < 0.8
    axes = tuple(range(x.ndim)) if axis is None else axis
    merged, _ = _merged(x, axes)
    mb, _ = _merged(np.broadcast_to(b, x.shape), axes)
    mw, _ = _merged(where, axes)
    kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    with on_tier(tier), np.errstate(all="raise"):
        for opts, mopts in (({}, {}), ({"b": b, "where": where}, {"b": mb, "where": mw})):
            got = actlab.logsumexp(x, axis, keepdims=keepdims, **opts)
            want = actlab.logsumexp(merged, -1, **mopts)
            _assert_same_bits(got, want.reshape(kept) if keepdims else want)
            whole = lse_module._logsumexp(x, axis, keepdims=keepdims, **opts)
            assert np.allclose(got, whole, rtol=2e-7, equal_nan=True)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("func", ["softmax_vjp", "log_softmax_jvp", "softmin_vjp"])
def test_products_over_several_axes_are_the_merged_call(func, tier):
    x = _x(np.float64)
    rng = np.random.default_rng(2)
    g = rng.standard_normal(x.shape)
    where = rng.random(x.shape) < 0.9
    fn = getattr(actlab, func)
    axes = (0, 2)
    merged, order = _merged(x, axes)
    with on_tier(tier), np.errstate(all="raise"):
        for cot in (g, 0.5):
            got = fn(x, cot, axis=axes)
            mg = cot if np.isscalar(cot) else _merged(cot, axes)[0]
            _assert_same_bits(got, _unmerged(fn(merged, mg, axis=-1), x.shape, order))
        got = fn(x, g, axis=axes, where=where, temperature=0.5)
        want = fn(merged, _merged(g, axes)[0], axis=-1, where=_merged(where, axes)[0],
                  temperature=0.5)  # fmt: skip
        _assert_same_bits(got, _unmerged(want, x.shape, order))
        if func == "softmax_vjp":
            y = actlab.softmax(x, axis=axes)
            got = fn(x, g, axis=axes, y=y)
            want = fn(merged, _merged(g, axes)[0], axis=-1, y=_merged(y, axes)[0])
            _assert_same_bits(got, _unmerged(want, x.shape, order))


def test_several_axes_check_their_arguments():
    x = _x(np.float64)
    with pytest.raises(ValueError, match="repeats"):
        actlab.softmax(x, axis=(0, 0))
    with pytest.raises(TypeError, match="axis must be an int or a tuple of ints, got None"):
        actlab.softmax(x, axis=None)
    with pytest.raises(ValueError, match="softmax_vjp: g"):
        actlab.softmax_vjp(x, np.ones(7), axis=(0, 2))
    with pytest.raises(ValueError, match=r"softmax_vjp: y has shape \(50,\)"):
        actlab.softmax_vjp(x, x, axis=(0, 2), y=x[0, 0])
    with pytest.raises(TypeError, match="where must be a boolean array"):
        actlab.log_softmax(x, axis=(1, 2), where=np.ones(x.shape))
    with pytest.raises(ValueError, match="logsumexp: b"):
        actlab.logsumexp(x, axis=(1, 2), b=np.ones(3))
    with pytest.raises(ValueError, match="out"):
        actlab.softmax(x, axis=(0, 2), out=np.empty((2, 2)))


# -------------------------------------------------------------------- masks and weights in blocks


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 7 * 40)


def _masked_rows(dtype):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((120, 40)) * 5).astype(dtype)
    where = rng.random(x.shape) < 0.7
    where[5] = False  # a fully masked row
    x[6, 1] = np.nan
    x[7, 2] = np.inf
    x[8, where[8]] = -np.inf
    return x, where


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", VECTORS)
def test_masked_rows_run_in_blocks_with_the_whole_array_bits(name, dtype, tier, small_blocks, runs):
    x, where = _masked_rows(dtype)
    fn = getattr(actlab, name)
    with on_tier(tier), np.errstate(all="raise"):
        for t in (1.0, 0.5):
            got = fn(x, axis=-1, where=where, temperature=t)
            _assert_same_bits(got, WHOLE[name](x, -1, where=where, temperature=t))
            moved = fn(np.ascontiguousarray(x.T), axis=0, where=where.T, temperature=t)
            _assert_same_bits(moved.T, got)
        into = np.empty_like(x)
        assert fn(x, axis=1, where=where[0], out=into) is into  # a mask broadcast along rows
        _assert_same_bits(into, WHOLE[name](x, -1, where=np.broadcast_to(where[0], x.shape)))
    assert runs
    assert all(r == (name, None, True) for r in runs)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
def test_logsumexp_with_a_mask_or_weights_runs_in_blocks(dtype, tier, small_blocks, runs):
    x, where = _masked_rows(dtype)
    rng = np.random.default_rng(3)
    b = rng.uniform(-0.5, 2.0, x.shape)
    b[9, 3] = 0.0
    b[10, 4] = np.inf  # a bad weight makes its row NaN
    cases = [{"where": where}, {"b": np.abs(b)}, {"b": b[0] ** 2, "where": where}]
    with on_tier(tier), np.errstate(all="raise"):
        for opts in cases:
            got = actlab.logsumexp(x, axis=-1, **opts)
            _assert_same_bits(got, lse_module._logsumexp(x, -1, **opts))
            moved = {k: np.broadcast_to(v, x.shape).T.copy() for k, v in opts.items()}
            _assert_same_bits(actlab.logsumexp(x.T.copy(), 0, **moved), got)
        negative = actlab.logsumexp(x, axis=-1, b=b)  # a negative sum gives NaN, as whole
        _assert_same_bits(negative, lse_module._logsumexp(x, -1, b=b))
    assert len(runs) == 2 * len(cases) + 1
    assert all(r == ("logsumexp", None, True) for r in runs)


def test_calls_that_stay_whole(small_blocks, runs):
    """One block keeps the whole-array code."""
    x, where = _masked_rows(np.float64)
    actlab.softmax(x[:7], axis=-1, where=where[:7])
    actlab.logsumexp(x[:7], axis=-1, b=x[:7], return_sign=True)
    assert runs == []


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("axis", [-1, 0, (0, 1), None])
def test_logsumexp_return_sign_runs_in_blocks(axis, dtype, tier, small_blocks, runs):
    """(log |Σ b e^x|, sign) with weights of both signs: each part from the blocks of rows
    (or, over every axis, the passes over one long row), the bits of the whole-array call
    along the last axis of the same rows, with its NaN, ±∞ and empty rows and a zero sum.
    Without weights the sign follows from the value, which is the call without
    ``return_sign``."""
    x, where = _masked_rows(dtype)
    rng = np.random.default_rng(5)
    b = rng.uniform(-1.0, 2.0, x.shape).astype(dtype)
    b[9] = -np.abs(b[9])  # a negative sum
    b[10] = 0.0  # a zero sum
    b[11, 3] = np.inf  # a bad weight makes its row NaN
    # the same rows, last, for the whole-array reference
    rows = {-1: lambda a: a, 0: lambda a: a.T.copy()}.get(axis, lambda a: a.reshape(-1))
    with on_tier(tier), np.errstate(all="raise"):
        for opts in ({"b": b}, {"b": b, "where": where}):
            got = actlab.logsumexp(x, axis, return_sign=True, **opts)
            moved = {k: rows(v) for k, v in opts.items()}
            want = lse_module._logsumexp(rows(x), -1, return_sign=True, **moved)
            for g, w in zip(got, want, strict=True):
                _assert_same_bits(g, w)
            kept = actlab.logsumexp(x, axis, keepdims=True, return_sign=True, **opts)
            for k, g in zip(kept, got, strict=True):
                assert k.ndim == x.ndim
                _assert_same_bits(k.reshape(g.shape), g)
        if axis == -1:
            assert set(got[1][~np.isnan(got[1])]) == {-1.0, 0.0, 1.0}
        value, sign = actlab.logsumexp(x, axis, where=where, return_sign=True)
        _assert_same_bits(value, actlab.logsumexp(x, axis, where=where))
        want = lse_module._logsumexp(rows(x), -1, where=rows(where), return_sign=True)[1]
        _assert_same_bits(sign, want)
    assert runs or axis in ((0, 1), None)  # every axis: one row, no rows to block


def test_logsumexp_return_sign_peak_memory(monkeypatch):
    """With weights, over rows and over every axis (blocks of 2^12 entries): the whole-array
    code held about 25.75× x's bytes; the parts' blocks hold a third of them."""
    import tracemalloc

    monkeypatch.setattr(blocked, "ROW_BLOCK_ELEMENTS", 1 << 12)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1000, 1000)).astype(np.float32)
    b = rng.standard_normal(x.shape).astype(np.float32)
    for axis in (1, None):
        actlab.logsumexp(x, axis, b=b, return_sign=True)
        tracemalloc.start()
        try:
            actlab.logsumexp(x, axis, b=b, return_sign=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 0.5 * x.nbytes

"""The compiled Jacobian products of softmax, softmin and log_softmax
(``kernels.row_products``): the oracle bars and signs on the rows the kernels compute, the
hard-row contract through the rows they flag, the far entries whose tiny y a large factor
makes visible, and the call's arguments (a cotangent wider than x, broadcast, a moved axis,
``out=`` that is g itself)."""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pytest

import actlab
from actlab import oracle_vector as ov
from actlab.kernels import config, rowpath
from softmax_support import ROW_PRODUCTS, accuracy_rows, same
from test_kernels_support import on_tier

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

DTYPES = [np.float32, np.float64]
PRODUCTS = ROW_PRODUCTS


@pytest.fixture
def computed(monkeypatch):
    """The rows the compiled kernels computed (not flagged), call by call."""
    counts: list[int] = []
    original = rowpath.product_kernel

    def spy(name, dtype, size):
        kernel = original(name, dtype, size)
        if kernel is None:
            return None

        def counted(*args):
            kernel(*args)
            counts.append(_kept(args))

        return counted

    monkeypatch.setattr(rowpath, "product_kernel", spy)
    return counts


def _kept(args) -> int:
    """The rows a kernel call computed: its flags are the one int8 array it takes."""
    flags = next(a for a in args if isinstance(a, np.ndarray) and a.dtype == np.int8)
    return int(flags.size - np.count_nonzero(flags))


def _counted(fn, x, g):
    """(fn(x, g), the rows its kernel computed per call), without the fixture (for tests
    parametrised over more than pytest's fixtures allow in one place)."""
    counts: list[int] = []
    original = rowpath.product_kernel

    def spy(name, dtype, size):
        kernel = original(name, dtype, size)

        def counted(*args):
            kernel(*args)
            counts.append(_kept(args))

        return None if kernel is None else counted

    rowpath.product_kernel = spy
    try:
        return fn(x, g), counts
    finally:
        rowpath.product_kernel = original


def _bar(entry: str, func: str, dtype) -> float:
    return actlab.get(entry).ulp_bar(np.dtype(dtype).name, "jvp" if "jvp" in func else "vjp")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "ref", "entry"), PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_kernel_rows_meet_the_bars_and_signs(func, ref, entry, dtype, computed):
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        for i, x in enumerate(accuracy_rows(dtype, seed=600)):
            w = np.random.default_rng(i).standard_normal(x.shape).astype(dtype)
            exact = ov.exact_rows(ref, x.astype(np.float64), w.astype(np.float64))
            got = fn(x, w)
            assert got.dtype == x.dtype
            assert ov.normwise_errors(got, exact, dtype).max() <= _bar(entry, func, dtype)
            assert ov.sign_errors(got, exact, dtype) == 0
    assert sum(computed) > 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", [p[0] for p in PRODUCTS])
def test_hard_rows_follow_the_numpy_contract(func, dtype, computed):
    """NaN and ±∞ in x or g, rows of −∞, ties at the max, a non-finite g where x is −∞ (it
    takes no part there): the NumPy tier's NaN, zeros and signs, its other values within the
    bar; the ordinary rows from the kernel."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((40, 33)) * 4).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    x[0, 1] = np.nan
    x[1, 2] = np.inf
    x[2] = -np.inf
    x[3, ::2] = -np.inf
    x[4] = np.inf
    x[5, :3] = x[5].max() + 1  # three tied maxima
    g[6, 7] = np.nan
    g[7, 8] = np.inf
    x[8, 9], g[8, 9] = -np.inf, np.inf  # g's ∞ meets no usable entry
    x[9, :2], g[9, :2] = 1e4, 0.0  # two maxima, far above the rest
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, g)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, g)
    exact = ~np.isfinite(expected) | (expected == 0)
    assert same(got[exact], expected[exact])
    zero = expected == 0
    assert np.array_equal(np.signbit(got[zero]), np.signbit(expected[zero]))
    rest = ~exact
    scale = np.max(np.abs(np.where(np.isfinite(expected), expected, 0)), axis=1, keepdims=True)
    err = np.abs(got - expected) / np.maximum(scale, np.finfo(dtype).tiny)
    assert err[rest].max() / np.finfo(dtype).eps <= 2 * _bar("softmax", func, dtype)
    assert computed
    assert computed[-1] >= 30  # of 40 rows: at most the 10 special ones are flagged


FAR = {np.float32: -104.5, np.float64: -746.5}


# The rows of the test below that the long-row kernels compute: the others are flagged.
# (The short-row kernels flag every row with a far entry above their cut, as these are: only
# row 1 is theirs.)
KEPT = {"log_softmax_vjp": 2, "log_softmax_jvp": 2}


def _widened(a: np.ndarray, fill: list[tuple[float, float]], width: int, which: int):
    """Rows of ``a`` widened to ``width`` by entries ``fill[row][which]`` (the rows' own
    kind of entry: no new maximum or far entry), so that the long-row kernels take them."""
    pad = np.array([[f[which]] * (width - a.shape[1]) for f in fill], dtype=a.dtype)
    return np.concatenate([a, pad], axis=1)


@pytest.mark.parametrize("width", [4, 40])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "ref", "entry"), PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_far_entries_that_a_large_factor_makes_visible(func, ref, entry, dtype, width, computed):
    """An entry just beyond the exp's clamp has y below half the smallest subnormal, but the
    exact product can still be a subnormal of some sign, which the kernel must not give as
    0: such rows are flagged and come from the NumPy path. Row 0: y·t with t of a few units
    (log_softmax's VJP: g_j − y_j Σ g with g_j = 0 and Σ g = 6); row 1: no far entry; row 2:
    s made of the far entries alone (every other entry a maximum). Rows of 4 entries take
    softmax's short-row kernel, rows of 40 the long-row ones."""
    far = FAR[dtype]
    x = np.array(
        [[0.0, far, -1.0, far - 0.2], [0.0, -1.0, -2.0, -3.0], [0.0, far, far, far]], dtype=dtype
    )
    g = np.array([[1.0, -5.0, 0.5, 7.0], [1.0, 2.0, 0.0, -1.0], [1.0, 5.0, 5.0, 5.0]], dtype=dtype)
    if func == "log_softmax_vjp":
        g[0] = [6.0, 0.0, 0.5, 0.0]
    fill = [(-30.0, 0.0), (-3.0, -1.0), (0.0, 1.0)]  # (x, g) per row; −30: τ unchanged
    x, g = _widened(x, fill, width, 0), _widened(g, fill, width, 1)
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = getattr(actlab, func)(x, g)
    assert ov.sign_errors(got, exact, dtype) == 0
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar(entry, func, dtype)
    if width > 32:
        kept = KEPT.get(func, 1)
    elif func == "log_softmax_vjp" and dtype == np.float32:
        kept = 3  # the short kernel's float64 exponentials: nothing is far at −104.5
    else:
        kept = 1  # the short-row kernel flags a far entry above its cut (−202, −1375)
    assert computed == [kept]


@pytest.mark.parametrize(("width", "kept"), [(40, 3), (4, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_far_entries_that_stay_invisible_are_computed(dtype, width, kept, computed):
    """Far entries with small cotangents: y·t rounds to ±0 exactly as the exact value does,
    so the long-row kernel keeps the row (the short-row kernel flags it: its far entries
    above the cut, −202 in float32 and −1375 in float64, are not weighed one by one)."""
    far = FAR[dtype]
    x = np.array([[0.0, far, -1.0, far - 30.0] + [-1.0] * (width - 4)] * 3, dtype=dtype)
    g = np.array([[0.5, -0.25, 0.75, 0.125] + [0.75] * (width - 4)] * 3, dtype=dtype)
    exact = ov.exact_rows(ov.softmax_vjp_ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = actlab.softmax_vjp(x, g)
    assert ov.sign_errors(got, exact, dtype) == 0
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar("softmax", "vjp", dtype)
    assert computed == [kept]


# log_softmax's VJP g − y Σ g shows g's rounding only where it cancels to far below g, an
# input whose product no path gets within the bar (its y carries 2^−53 on the NumPy path,
# 2^−25 from the float32 kernel's exp pair): it is left out here.
@pytest.mark.parametrize("func", [p[0] for p in PRODUCTS if p[0] != "log_softmax_vjp"])
def test_a_float64_cotangent_is_not_rounded_for_float32_rows(func, computed):
    """g in float64 for float32 x enters the product unrounded, as on the NumPy path: g is 1
    (whose product is 0) times 1 + 2^−30·r. The exact product is then of order 2^−30 with
    r's signs; g rounded to float32 would be 1 and the product 0, a sign error for the
    oracle."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 40)).astype(np.float32)
    g = 1 + 2.0**-30 * rng.choice([-1.0, 1.0], x.shape)
    ref, entry = next((r, e) for f, r, e in PRODUCTS if f == func)
    exact = ov.exact_rows(ref, x.astype(np.float64), g)
    with on_tier("numba"), np.errstate(all="raise"):
        got = getattr(actlab, func)(x, g)
    assert got.dtype == np.float32
    assert ov.sign_errors(got, exact, np.float32) == 0
    assert ov.normwise_errors(got, exact, np.float32).max() <= _bar(entry, func, np.float32)
    assert computed == [50]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("func", [p[0] for p in PRODUCTS])
def test_axis_broadcast_and_out(func, dtype, computed):
    """A moved axis, a broadcast row of g, a number g, out= into g itself: each gives the
    bits of the plain call on the same rows."""
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((30, 20)) * 3).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        plain = fn(x, g)
        assert same(fn(x.T, g.T, axis=0), plain.T)
        row = g[:1]
        assert same(fn(x, row), fn(x, np.repeat(row, 30, axis=0)))
        assert same(fn(x, 2.5), fn(x, np.full(x.shape, 2.5)))
        buffer = g.copy()
        assert fn(x, buffer, out=buffer) is buffer
        assert same(buffer, plain)
    assert len(computed) == 7


@pytest.mark.parametrize("func", ["softmax_vjp", "log_softmax_vjp"])
def test_calls_the_kernels_do_not_take_stay_on_the_numpy_path(func, computed):
    """A mask, a temperature, float16, log_softmax's saved output: the NumPy path, whose
    bars they have."""
    x = np.random.default_rng(4).standard_normal((20, 30))
    g = np.ones_like(x)
    fn = getattr(actlab, func)
    with on_tier("numba"):
        fn(x, g, where=x > -1)
        fn(x, g, temperature=0.5)
        fn(x.astype(np.float16), g)
        if func == "log_softmax_vjp":
            fn(x, g, y=actlab.log_softmax(x))
    assert computed == []


GIVEN_Y = [("softmax_vjp", "softmax"), ("softmax_jvp", "softmax"), ("softmin_vjp", "softmin")]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "forward"), GIVEN_Y)
def test_the_callers_forward_output(func, forward, dtype, computed):
    """With y = softmax(x) (softmin(x)) from the caller, the kernel reads y instead of
    computing it: against the oracle within the bar, no sign errors; the hard rows (NaN,
    +∞, −∞ entries, ties) as the NumPy path gives them from the same y."""
    rng = np.random.default_rng(13)
    x = (rng.standard_normal((40, 30)) * 3).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    fn, y = getattr(actlab, func), getattr(actlab, forward)(x)
    ref = ov.softmin_vjp_ref if forward == "softmin" else ov.softmax_vjp_ref
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, g, y=y)
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar(forward, func, dtype)
    assert ov.sign_errors(got, exact, dtype) == 0
    assert computed == [40]
    x[0, 1], x[1, 2], x[2, ::3], x[3, :2] = np.nan, np.inf, -np.inf, x[3].max() + 1
    y = getattr(actlab, forward)(x)
    with on_tier("numba"), np.errstate(all="raise"):
        got = fn(x, g, y=y)
    with on_tier("numpy"), np.errstate(all="raise"):
        expected = fn(x, g, y=y)
    zero = expected == 0
    assert same(got[~np.isfinite(expected) | zero], expected[~np.isfinite(expected) | zero])
    assert np.array_equal(np.signbit(got[zero]), np.signbit(expected[zero]))
    finite = np.all(np.isfinite(expected), axis=1)
    scale = np.maximum(np.abs(expected[finite]).max(axis=1, keepdims=True), np.finfo(dtype).tiny)
    normwise = np.abs(got[finite] - expected[finite]).max(axis=1, keepdims=True) / scale
    assert normwise.max() <= 2 * np.finfo(dtype).eps  # the two paths agree row by row
    assert computed[-1] == 38  # the NaN and +∞ rows flagged


def test_a_saved_output_of_the_wrong_shape_is_named():
    x = np.zeros((200, 100))
    with on_tier("numba"), pytest.raises(ValueError, match="softmax_vjp: y has shape"):
        actlab.softmax_vjp(x, np.ones_like(x), y=np.ones((200, 1)))


@pytest.mark.parametrize("func", ["softmax_vjp", "log_softmax_jvp"])
def test_bad_cotangents_name_the_argument(func):
    x = np.zeros((200, 100))
    fn = getattr(actlab, func)
    arg = "v" if "jvp" in func else "g"
    with on_tier("numba"):
        with pytest.raises(ValueError, match=f"{func}: {arg} of shape"):
            fn(x, np.ones((3, 100)))
        with pytest.raises(TypeError, match=f"{func}: {arg} has dtype"):
            fn(x, np.ones((200, 100), dtype=complex))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("func", "ref", "entry"), PRODUCTS, ids=[p[0] for p in PRODUCTS])
@pytest.mark.parametrize("mask", [-1e4, -1e9])
def test_rows_masked_by_a_large_negative_logit_stay_on_the_kernel(func, ref, entry, dtype, mask):
    """Attention-style masks (a large negative number added to the masked logits) make far
    entries whose exact products are 0 whatever g holds there (0 or not): the kernel keeps
    those rows, and they meet the bars."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((24, 40)) * 2).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    masked = rng.random(x.shape) < 0.4
    masked[:, 0] = False
    x[masked] += dtype(mask)
    g[masked & (rng.random(x.shape) < 0.5)] = 0.0
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got = _counted(getattr(actlab, func), x, g)
    assert ov.sign_errors(got[0], exact, dtype) == 0
    assert ov.normwise_errors(got[0], exact, dtype).max() <= _bar(entry, func, dtype)
    assert got[1] == [24]


@pytest.mark.parametrize("func", ["softmax_vjp", "log_softmax_jvp"])
def test_a_huge_cotangent_at_a_far_entry_is_seen(func):
    """x − m = −120 is beyond float32's clamp, but times a float64 g of 1e30 its part of s
    (and of y·t) is about −1e−22, and the rest of s is 0 (g equal elsewhere): the row is
    flagged and its signs and sizes come out right."""
    x = np.array([[0.0, -120.0, -1.0, -2.0]], dtype=np.float32)
    g = np.array([[0.5, 1e30, 0.5, 0.5]])
    ref = ov.softmax_vjp_ref if func == "softmax_vjp" else ov.log_softmax_jvp_ref
    exact = ov.exact_rows(ref, x.astype(np.float64), g)
    with on_tier("numba"), np.errstate(all="raise"):
        got, kept = _counted(getattr(actlab, func), x, g)
    assert ov.sign_errors(got, exact, np.float32) == 0
    assert ov.normwise_errors(got, exact, np.float32).max() <= 4
    assert kept == [0]


# (dtype, how far below y Σ g the rows' products lie, 2^−p): float64's NumPy path carries y
# in the 64-bit long double, which holds the bar to about p = 8 (docs/softmax.md); float32's
# carries it in float64.
CANCELLING = [(np.float32, p) for p in (1, 3, 6, 10, 16)] + [(np.float64, p) for p in (1, 2, 4, 8)]


@pytest.mark.parametrize("width", [60, 10])
@pytest.mark.parametrize(("dtype", "p"), CANCELLING)
def test_log_softmax_vjp_where_g_is_nearly_proportional_to_y(dtype, p, width):
    """g = y·(1 + 2^−p r), a model near its target distribution: g − y Σ g is about 2^−p
    times y Σ g, and y's rounding in the kernel (2^−25 from float32's exp pair, 2^−52 in
    float64) would show 2^p times larger. float32 rows that cancel are computed again from
    float64 exponentials in the kernel; float64 rows are kept where they meet the bar and
    flagged for the NumPy path (long double) where not. Below them, 20 rows with an
    independent g, which the kernel keeps. (The kernel before, 1ba7d25, gave 54 eps in
    float32 at p = 10 and 21 in float64 at p = 4.) Rows of 10 take the short-row kernel,
    whose float32 rows have float64 exponentials throughout."""
    rng = np.random.default_rng(p)
    x = (rng.standard_normal((40, width)) * 4).astype(dtype)
    y = actlab.softmax(x.astype(np.float64))
    g = rng.standard_normal(x.shape)
    g[:20] = y[:20] * (1 + 2.0**-p * g[:20])
    g = g.astype(dtype)
    exact = ov.exact_rows(ov.log_softmax_vjp_ref, x.astype(np.float64), g.astype(np.float64))
    with on_tier("numba"), np.errstate(all="raise"):
        got, kept = _counted(actlab.log_softmax_vjp, x, g)
    assert ov.sign_errors(got, exact, dtype) == 0
    assert ov.normwise_errors(got, exact, dtype).max() <= _bar("log_softmax", "vjp", dtype)
    if dtype == np.float32:
        assert kept == [40]
    else:
        assert 20 <= kept[0] < 40


@functools.cache
def _numba_allocations_traced() -> bool:
    """Whether tracemalloc sees what compiled code allocates (numba's runtime allocating
    through Python's raw allocator, as the numba this was written on does)."""
    from numba import njit

    first = njit(lambda n: np.empty(n)[0])
    first(1)
    tracemalloc.start()
    try:
        first(1 << 20)
        return tracemalloc.get_traced_memory()[1] >= 8 << 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("cancels", [False, True])
def test_float32_log_softmax_vjp_of_one_long_row_keeps_its_scratch_small(cancels):
    """One float32 row of 2^18 on the kernel: the result (1×) and the row's exp pair (2×).
    The float64 redo of a row that cancels makes its own scratch (8× more) when, and only
    when, it meets such a row: made per chunk of rows, the call peaked at 11× x's bytes
    however g was. (The redo's values: the test above.)"""
    if not _numba_allocations_traced():
        pytest.skip("tracemalloc does not see this numba's allocations")
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((1, 1 << 18)) * 4).astype(np.float32)
    g = rng.standard_normal(x.shape)
    if cancels:  # g = y·(1 + 2^−12 r): the row is computed again in float64
        g = actlab.softmax(x.astype(np.float64)) * (1 + 2.0**-12 * g)
    g = g.astype(np.float32)
    with on_tier("numba"):
        _, kept = _counted(actlab.log_softmax_vjp, x, g)
        tracemalloc.start()
        try:
            actlab.log_softmax_vjp(x, g)
            peak = tracemalloc.get_traced_memory()[1] / x.nbytes
        finally:
            tracemalloc.stop()
    assert kept == [1]
    if cancels:
        assert 10.9 < peak < 11.1
    else:
        assert peak < 3.1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("func", "ref", "entry"),
    [p for p in PRODUCTS if p[0] != "log_softmax_vjp"],
    ids=[p[0] for p in PRODUCTS if p[0] != "log_softmax_vjp"],
)
def test_tied_maxima_with_nearly_equal_cotangents(func, ref, entry, dtype, computed):
    """With tied maxima a, the mean of g over them, is rounded; where g is nearly equal
    there, that rounding is most of g − a, and s must carry it back (the maxima's own terms
    in s). The float64 kernels of 1ba7d25, which left them out, were off by up to 1.7e6 eps here.
    softmax's VJP is also taken from the caller's y (its kernel reads y)."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((20, 40))
    x[:, :3] = 5.0
    g = 1 + 2.0**-20 * rng.standard_normal(x.shape)
    x, g = x.astype(dtype), g.astype(dtype)
    exact = ov.exact_rows(ref, x.astype(np.float64), g.astype(np.float64))
    fn = getattr(actlab, func)
    with on_tier("numba"), np.errstate(all="raise"):
        results = [fn(x, g)]
        if func == "softmax_vjp":
            results.append(fn(x, g, y=actlab.softmax(x)))
    for got in results:
        assert ov.sign_errors(got, exact, dtype) == 0
        assert ov.normwise_errors(got, exact, dtype).max() <= _bar(entry, func, dtype)
    assert computed[-len(results) :] == [20] * len(results)


@pytest.mark.parametrize("width", [10, 40])
@pytest.mark.parametrize("func", ["softmin_vjp", "softmin_jvp"])
def test_softmin_products_that_cancel_exactly_are_plus_zero_on_both_tiers(func, width):
    """A constant cotangent has product exactly 0. softmin's is softmax's at (−x, −g) on
    every tier, so both give +0 (the NumPy path once negated the product and gave −0)."""
    x = np.random.default_rng(9).standard_normal((70, width))
    g = np.full_like(x, 0.75)
    results = []
    for tier in ("numba", "numpy"):
        with on_tier(tier), np.errstate(all="raise"):
            results.append(getattr(actlab, func)(x, g))
    for got in results:
        assert np.all(got == 0)
        assert not np.any(np.signbit(got))

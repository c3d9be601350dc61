"""softmax, softmin, log_softmax, logsumexp and their derivatives: the seeds' examples, the
hard-row contract of docs/softmax.md (parsed from the page), the options, bad input, and
the agreement of the derivatives with each other and with finite differences."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import actlab
from actlab import oracle_vector as ov
from actlab.registry import Reduction, VectorFunction
from softmax_support import central_difference, same
from test_kernels_support import TIERS, on_tier


@pytest.fixture(autouse=True)
def _raise_on_fp_errors():
    # Finite input must never raise any floating-point warning; underflow is quieted inside.
    with np.errstate(all="raise"):
        yield


VECTOR = tuple(actlab.entries("vector"))
SEED_X33 = np.array([[2.0, 1.0, 0.1], [1.0, 3.0, 0.2], [0.2, 0.2, 4.0]])

# ------------------------------------------------------------------------------ the seeds


def test_seed_softmax_3_2_1():
    # Printed in the seed: [0.6652409557748219, 0.24472847105479764, 0.09003057317038045].
    printed = [0.6652409557748219, 0.24472847105479764, 0.09003057317038045]
    got = actlab.softmax(np.array([3.0, 2.0, 1.0]))
    assert got[0] == printed[0]
    assert got[1] == printed[1]
    # The seed's last value is 0.69 ULP from the exact 0.0900305731703804580…; actlab returns
    # the correctly rounded neighbour (docs/softmax.md explains).
    assert abs(got[2] - printed[2]) <= np.spacing(printed[2])
    exact = ov.exact_rows(ov.softmax_ref, [[3.0, 2.0, 1.0]])
    assert ov.ulp_errors(got, exact, np.float64).max() <= 0.5
    # The PyTorch output printed beside it: tensor([0.6652, 0.2447, 0.0900]).
    assert np.round(got, 4).tolist() == [0.6652, 0.2447, 0.09]


def test_seed_log_softmax_3x3():
    got = actlab.log_softmax(SEED_X33)
    exact = ov.exact_rows(ov.log_softmax_ref, SEED_X33)
    assert ov.ulp_errors(got, exact, np.float64).max() <= 0.5
    # The seed's own formula agrees normwise, but not at the dominant entry of the last row
    # (−0.0437…), where (x − max) − log Σ cancels: that is why log1p(τ) is used there.
    x_max = np.max(SEED_X33, axis=-1, keepdims=True)
    seed = (SEED_X33 - x_max) - np.log(np.sum(np.exp(SEED_X33 - x_max), axis=-1, keepdims=True))
    assert np.allclose(got, seed, rtol=0, atol=4 * np.finfo(np.float64).eps)
    assert ov.ulp_errors(seed, exact, np.float64).max() > 4
    assert np.allclose(np.exp(got).sum(axis=-1), 1.0, rtol=0, atol=4e-16)


@pytest.mark.parametrize(("probs", "loss"), [([0.3, 0.5, 0.2], 0.5), ([0.4, 0.15, 0.45], 0.15)])
def test_seed_cross_entropy(probs, loss):
    # Three classes, the second one correct: the loss is −log p_2.
    p = np.array(probs)
    assert actlab.nll_loss(np.log(p)[None], np.array([1])) == -np.log(loss)
    exact = ov.exact_rows(ov.cross_entropy_ref, np.log(p)[None], [1])
    got = actlab.cross_entropy(np.log(p)[None], np.array([1]), reduction="none")
    assert ov.ulp_errors(got, [exact], np.float64).max() <= 0.5
    assert abs(float(got[0]) + math.log(loss)) <= 4 * np.spacing(-math.log(loss))
    onehot = np.array([[0.0, 1.0, 0.0]])
    assert float(actlab.cross_entropy(np.log(p)[None], onehot)) == pytest.approx(got[0], rel=1e-15)


def test_seed_a_perfect_output_has_zero_loss():
    # "输出是[0,1,0]时误差是0": the log-probabilities of [0, 1, 0].
    logits = np.array([[-np.inf, 0.0, -np.inf]])
    assert float(actlab.cross_entropy(logits, np.array([1]))) == 0.0
    assert same(actlab.cross_entropy_grad(logits, np.array([1])), [[0.0, 0.0, 0.0]])


# ------------------------------------------------------------------- the contract in the docs


def _contract_table() -> list[dict[str, str]]:
    text = (Path(__file__).parent.parent / "docs" / "softmax.md").read_text()
    section = text.split("## The contract for hard rows", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


_NAMES = {"inf": math.inf, "nan": math.nan, "log": math.log, "True": True, "False": False}


def _value(cell: str):
    m = re.search(r"`([^`]+)`", cell)
    return None if m is None else eval(m.group(1), {"__builtins__": {}}, _NAMES)


def _options(cell: str) -> dict:
    m = re.search(r"`(\w+)=([^`]+)`", cell)
    return {} if m is None else {m.group(1): _value(f"`{m.group(2)}`")}


CONTRACT = _contract_table()


def test_the_contract_table_is_there():
    assert len(CONTRACT) >= 12


@pytest.mark.parametrize("row", CONTRACT, ids=lambda r: r["row x"] + r["options"])
def test_contract_row(row):
    x = np.array(_value(row["row x"]), dtype=np.float64)
    opts = _options(row["options"])
    if "where" in opts:
        opts["where"] = np.array(opts["where"])
    for name in ("softmax", "log_softmax"):
        expected = _value(row[name])
        got = getattr(actlab, name)(x, **opts)
        assert same(got, expected), (name, got, expected)
    if "temperature" not in opts:
        expected = _value(row["logsumexp"])
        got = actlab.logsumexp(x, where=opts.get("where"))
        assert same(got, expected), ("logsumexp", got, expected)
    for loss, t in re.findall(r"`([^`]+)` \(t=(\d+)\)", row["cross_entropy"]):
        got = actlab.cross_entropy(x[None], np.array([int(t)]), reduction="none", **opts)
        assert same(got, [_value(f"`{loss}`")]), ("cross_entropy", t, got)
    if "left out of a mean" in row["cross_entropy"]:
        batch = np.stack([x, np.arange(x.size, dtype=np.float64)])
        where = None if "where" not in opts else np.stack([opts["where"], np.ones(x.size, bool)])
        t = np.array([0, 1])
        mean = actlab.cross_entropy(batch, t, where=where)
        alone = actlab.cross_entropy(batch[1:], t[1:])
        assert float(mean) == float(alone)
    _check_derivatives(x, opts, row["derivatives"])


def _check_derivatives(x, opts, what):
    if not what:
        return
    w = np.linspace(-1.0, 2.0, x.size)
    products = [
        actlab.softmax_vjp(x, w, **opts),
        actlab.softmax_jvp(x, w, **opts),
        actlab.log_softmax_vjp(x, w, **opts),
        actlab.log_softmax_jvp(x, w, **opts),
    ]
    if "temperature" not in opts:
        products.append(actlab.logsumexp_vjp(x, 1.5, where=opts.get("where")))
        products.append(actlab.cross_entropy_grad(x[None], np.array([0]), **opts)[0])
    for p in products:
        if what == "`0`":
            assert same(p, np.zeros_like(x))
        elif what == "`nan`":
            assert np.all(np.isnan(p))
        else:
            assert what == "finite"
            assert np.all(np.isfinite(p))
    if what == "finite" and "temperature" not in opts:
        where = opts.get("where")

        def loss(z):
            return float(np.sum(w * actlab.softmax(z, where=where)))

        fd = central_difference(loss, x)
        assert np.allclose(products[0], fd, rtol=1e-6, atol=1e-9)


def test_registry_hard_rows():
    # The contract as data in the records of the vector and reduction entries.
    checked = 0
    for entry in (*actlab.entries("vector"), *actlab.entries("reduction")):
        for hard in entry.hard_rows:
            where = None if hard.where is None else np.array(hard.where)
            got = entry.fn(np.array(hard.x, dtype=np.float64), where=where)
            assert same(got, hard.expected), (entry.name, hard.label, got)
            checked += 1
    assert checked >= 25


# --------------------------------------------------------------------------------- options


def test_axis_tuple_is_the_flattened_row():
    x = np.random.default_rng(3).standard_normal((2, 3, 4)) * 5
    flat = np.moveaxis(x, 0, -1).reshape(3, 8)
    for name in ("softmax", "log_softmax", "softmin"):
        got = getattr(actlab, name)(x, axis=(0, 2))
        want = getattr(actlab, name)(flat, axis=-1)
        assert same(np.moveaxis(got, 0, -1).reshape(3, 8), want)
    assert same(actlab.logsumexp(x, axis=(2, 0)), actlab.logsumexp(flat, axis=-1))
    assert same(actlab.logsumexp(x), actlab.logsumexp(x.reshape(-1)))
    assert actlab.logsumexp(x, axis=(0, 2), keepdims=True).shape == (1, 3, 1)


def test_axis_negative_and_positive_agree():
    x = np.random.default_rng(4).standard_normal((3, 5))
    assert same(actlab.softmax(x, axis=0), actlab.softmax(x, axis=-2))
    assert same(actlab.softmax(x, axis=0), actlab.softmax(x.T, axis=1).T)


def test_where_broadcasts_and_equals_dropping_the_entries():
    x = np.random.default_rng(5).standard_normal((4, 6))
    keep = np.array([True, False, True, True, False, True])
    got = actlab.softmax(x, where=keep)
    assert same(got[:, ~keep], np.zeros((4, 2)))
    assert same(got[:, keep], actlab.softmax(x[:, keep]))
    assert same(actlab.log_softmax(x, where=keep)[:, keep], actlab.log_softmax(x[:, keep]))
    assert same(actlab.logsumexp(x, axis=1, where=keep), actlab.logsumexp(x[:, keep], axis=1))
    # A NaN where the mask is False is never read.
    y = x.copy()
    y[:, 1] = np.nan
    assert same(actlab.softmax(y, where=keep), got)


def test_softmin_is_softmax_of_minus_x():
    x = np.random.default_rng(6).standard_normal((3, 7)) * 30
    assert same(actlab.softmin(x), actlab.softmax(-x))
    w = np.arange(7.0)
    assert same(actlab.softmin_vjp(x, w), -actlab.softmax_vjp(-x, w))
    assert same(actlab.softmin_jacobian(x), -actlab.softmax_jacobian(-x))


def test_logsumexp_b_and_sign():
    x = np.array([1.0, 2.0, 3.0])
    b = np.array([2.0, -1.0, 0.5])
    lse, sign = actlab.logsumexp(x, b=b, return_sign=True)
    s = np.sum(b * np.exp(x))
    assert sign == np.sign(s)
    assert lse == pytest.approx(np.log(abs(s)), rel=1e-15)
    assert np.isnan(actlab.logsumexp(x, b=-b))  # a negative sum has no real logarithm
    lse, sign = actlab.logsumexp([1.0, 1.0], b=[1.0, -1.0], return_sign=True)
    assert lse == -np.inf
    assert sign == 0
    # b = 0 removes its entry, whatever x holds there.
    assert actlab.logsumexp([np.inf, 0.0], b=[0.0, 1.0]) == 0.0
    assert same(
        actlab.logsumexp_vjp([1.0, 2.0, 3.0], 1.0, b=b),
        b * np.exp(x) / s,
    ) or np.allclose(actlab.logsumexp_vjp([1.0, 2.0, 3.0], 1.0, b=b), b * np.exp(x) / s)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_is_kept(dtype):
    x = np.array([[1.0, 2.0, 3.0]], dtype=dtype)
    for fn in (actlab.softmax, actlab.log_softmax, actlab.softmin, actlab.softmax_jacobian):
        assert fn(x).dtype == dtype
    assert actlab.logsumexp(x).dtype == dtype
    assert actlab.softmax_vjp(x, x).dtype == dtype
    assert actlab.cross_entropy(x, np.array([0])).dtype == dtype


def test_integer_and_list_input():
    assert actlab.softmax([1, 2, 3]).dtype == np.float64
    assert same(actlab.softmax([1, 2, 3]), actlab.softmax(np.array([1.0, 2.0, 3.0])))
    assert isinstance(actlab.logsumexp(2.5), np.floating)
    assert actlab.logsumexp(2.5) == 2.5


def test_inputs_are_never_modified():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4))
    x[0, 1] = -np.inf
    g = rng.standard_normal((3, 4))
    mask = np.ones((3, 4), dtype=bool)
    mask[1, 2] = False
    copies = [a.copy() for a in (x, g, mask)]
    out = actlab.softmax(x, where=mask)
    for fn in (actlab.softmax_vjp, actlab.softmax_jvp, actlab.log_softmax_vjp):
        fn(x, g, where=mask)
    actlab.softmax_vjp(x, g, where=mask, y=out)
    actlab.logsumexp(x, b=g, axis=1)
    for a, c in zip((x, g, mask), copies, strict=True):
        assert np.array_equal(a, c)


def test_temperature_scales():
    x = np.array([1.0, 2.0, 4.0])
    got = actlab.softmax(x, temperature=2.0)
    assert np.allclose(got, actlab.softmax(x / 2.0), rtol=4e-16, atol=0)
    assert np.allclose(
        actlab.log_softmax(x, temperature=0.5), actlab.log_softmax(2 * x), rtol=1e-15
    )
    w = np.array([1.0, -1.0, 0.5])
    assert np.allclose(
        actlab.softmax_vjp(x, w, temperature=2.0), 0.5 * actlab.softmax_vjp(x / 2, w), rtol=1e-14
    )


# ------------------------------------------------------------------------------ bad input


BAD = [
    (lambda: actlab.softmax(np.ones(3), axis=1), ValueError, "softmax: axis 1 is out of range"),
    (lambda: actlab.softmax(np.ones((2, 3)), axis=(1, -1)), ValueError, "repeats"),
    (lambda: actlab.softmax(np.ones(3), axis=1.5), TypeError, "axis must be an int"),
    (lambda: actlab.logsumexp(np.ones((2, 3)), axis=(0, 2)), ValueError, "logsumexp: axis 2"),
    (lambda: actlab.softmax(np.ones((2, 3)), where=np.ones(2, bool)), ValueError, "broadcast"),
    (lambda: actlab.softmax(np.ones(3), where=np.ones(3)), TypeError, "boolean"),
    (lambda: actlab.logsumexp(np.ones((2, 3)), b=np.ones(2)), ValueError, "b of shape"),
    (lambda: actlab.softmax(np.ones(3), temperature=0.0), ValueError, "temperature"),
    (lambda: actlab.softmax(np.ones(3), temperature=-1.0), ValueError, "temperature"),
    (lambda: actlab.log_softmax(np.ones(3), temperature=np.inf), ValueError, "temperature"),
    (lambda: actlab.softmax(np.ones(3), temperature="hot"), TypeError, "temperature"),
    (lambda: actlab.softmax(np.ones(3, complex)), TypeError, "softmax"),
    (lambda: actlab.softmax(["a", "b"]), TypeError, "softmax"),
    (lambda: actlab.softmax_vjp(np.ones(3), np.ones(4)), ValueError, "softmax_vjp: g"),
    (lambda: actlab.log_softmax_jvp(np.ones(3), np.ones(2)), ValueError, "v of shape"),
    (lambda: actlab.softmax_jacobian(np.ones((2, 3)), axis=(0, 1)), TypeError, "single int"),
    (lambda: actlab.softmax_vjp(np.ones(3), np.ones(3), y=np.ones(2)), ValueError, "y has shape"),
    (lambda: actlab.logsumexp_vjp(np.ones((2, 3)), np.ones(3), axis=1), ValueError, "g of"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


# ------------------------------------------------------------------------------ derivatives


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_products_agree_with_the_jacobian(entry: VectorFunction):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 5)) * 4
    x[0, 1, 2] = -np.inf
    g = rng.standard_normal(x.shape)
    for axis in (-1, 1):
        jac = entry.jacobian(x, axis=axis)  # batch + (n, n), axis moved last
        gm = np.moveaxis(g, axis, -1)
        vjp = np.moveaxis(entry.vjp(x, g, axis=axis), axis, -1)
        jvp = np.moveaxis(entry.jvp(x, g, axis=axis), axis, -1)
        assert np.allclose(vjp, np.einsum("...i,...ij->...j", gm, jac), rtol=1e-13, atol=1e-15)
        assert np.allclose(jvp, np.einsum("...ij,...j->...i", jac, gm), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_vjp_matches_finite_differences(entry: VectorFunction):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 6)) * 2
    x[1, 3] = -np.inf
    w = rng.standard_normal(x.shape)

    def f(z):
        out = entry.fn(z)
        return float(np.sum(np.where(np.isfinite(out), w * out, 0.0)))

    fd = central_difference(f, x)
    assert np.allclose(entry.vjp(x, w), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("entry", VECTOR, ids=lambda e: e.name)
def test_the_forward_output_gives_the_same_products(entry: VectorFunction):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((5, 8)) * 20
    g = rng.standard_normal(x.shape)
    out = entry.fn(x)
    for fn in (entry.vjp, entry.jvp):
        a, b = fn(x, g), fn(x, g, y=out)
        assert np.allclose(a, b, rtol=1e-14, atol=1e-300)
    assert np.allclose(entry.jacobian(x), entry.jacobian(x, y=out), rtol=1e-14, atol=1e-300)


def test_logsumexp_vjp_is_g_times_softmax():
    x = np.random.default_rng(11).standard_normal((3, 4, 5)) * 50 - 1000
    g = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    got = actlab.logsumexp_vjp(x, g, axis=2)
    assert np.allclose(got, g[..., None] * actlab.softmax(x, axis=2), rtol=1e-15, atol=0)
    out = actlab.logsumexp(x, axis=2)
    assert np.allclose(actlab.logsumexp_vjp(x, g, axis=2, y=out), got, rtol=1e-15, atol=0)
    kept = actlab.logsumexp_vjp(x, g[..., None], axis=2, keepdims=True)
    assert same(kept, got)


# ------------------------------------------------------------------------------- properties

finite_rows = st.lists(
    st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=1, max_size=12
)


@given(finite_rows)
def test_softmax_is_a_distribution(row):
    with np.errstate(all="raise"):
        y = actlab.softmax(np.array(row))
        assert np.all((y >= 0) & (y <= 1))
        assert abs(np.sum(y) - 1.0) <= len(row) * 2.3e-16
        z = actlab.log_softmax(np.array(row))
        assert np.all(z <= 0)
        lse = actlab.logsumexp(np.array(row))
        assert max(row) <= lse <= max(row) + math.log(len(row)) + 1e-12


@given(
    st.lists(st.integers(-500, 500), min_size=1, max_size=10),
    st.integers(-(2**20), 2**20),
)
def test_shift_invariance_is_exact(ints, shift):
    # x − max is formed exactly, so an exact shift changes nothing, not even the last bit.
    x = np.array(ints, dtype=np.float64) / 8
    with np.errstate(all="raise"):
        assert same(actlab.softmax(x), actlab.softmax(x + shift))
        assert same(actlab.log_softmax(x), actlab.log_softmax(x + shift))
        # Each logsumexp is within its bar; subtracting the shift rounds once more, at the
        # scale of the larger of the two results.
        shifted, plain = actlab.logsumexp(x + shift), actlab.logsumexp(x)
        scale = max(abs(float(shifted)), abs(float(plain)))
        assert same(shifted - shift, plain) or abs(shifted - shift - plain) <= 2 * np.spacing(scale)


@given(
    finite_rows,
    st.lists(
        st.floats(-10, 10).filter(lambda v: v == 0 or abs(v) > 1e-100), min_size=12, max_size=12
    ),
)
def test_vjp_sums_to_zero_and_is_adjoint(row, w):
    x = np.array(row)
    w = np.array(w[: len(row)])
    with np.errstate(all="raise"):
        vjp = actlab.softmax_vjp(x, w)
        jvp = actlab.softmax_jvp(x, w)
        lvjp = actlab.log_softmax_vjp(x, w)
        ljvp = actlab.log_softmax_jvp(x, w)
    scale = np.max(np.abs(w))
    assert same(vjp, jvp)  # J is symmetric
    with np.errstate(under="ignore"):  # the test's own sums of tiny products may underflow
        assert abs(np.sum(vjp)) <= 1e-14 * scale  # softmax sums to 1: J's columns sum to 0
        # ⟨g, J v⟩ = ⟨Jᵀ g, v⟩ for log_softmax, with g = v = w.
        assert abs(np.dot(w, ljvp) - np.dot(lvjp, w)) <= 1e-12 * scale * scale * len(row)


@pytest.mark.parametrize("entry", [e for e in actlab.entries() if isinstance(e, Reduction)])
def test_reduction_records(entry: Reduction):
    assert entry.vjp is actlab.logsumexp_vjp
    assert entry.ulp_bar("float64") == 1.0
    assert entry.reference is not None


def test_logsumexp_vjp_with_where_and_b_matches_finite_differences():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 5)) * 3
    keep = rng.random((3, 5)) < 0.7
    keep[:, 0] = True
    b = rng.random((3, 5)) + 0.1
    g = np.array([1.0, -0.5, 2.0])
    for opts in ({"where": keep}, {"b": b}, {"where": keep, "b": b}):

        def f(z, o=opts):
            return float(np.sum(g * actlab.logsumexp(z, axis=1, **o)))

        fd = central_difference(f, x)
        got = actlab.logsumexp_vjp(x, g, axis=1, **opts)
        assert np.allclose(got, fd, rtol=1e-6, atol=1e-9)
        if "where" in opts:
            assert same(got[~keep], np.zeros(np.count_nonzero(~keep)))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 10, 300])
def test_entries_far_below_the_max_are_plus_zero(tier, dtype, n):
    """x − m's rounding error is −m itself where |x| ≫ |m|; it once reached the float32
    kernels' exp polynomial (a probability of −5e−36) and made the NumPy path's e^hi·(1 + lo)
    a −0.0. Every far entry's probability is +0.0, and log_softmax keeps x − m."""
    x = (np.random.default_rng(n).standard_normal((64, n)) * 30).astype(dtype)
    far = [-3e9, -3e30, -3e38] + ([-1e300] if dtype == np.float64 else [])
    x[: len(far), 1] = far
    with on_tier(tier), np.errstate(all="raise"):
        y = actlab.softmax(x)
        logs = actlab.log_softmax(x)
    assert not np.signbit(y).any()
    assert (y[: len(far), 1] == 0).all()
    np.testing.assert_allclose(logs[: len(far), 1], x[: len(far), 1], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_logsumexp_vjp_with_the_callers_y_on_a_row_with_plus_inf(dtype):
    """The caller's y is +∞ on a row with a +∞ entry: that row's derivative is 0 by the
    contract, and its finite entries (2000 here) were once exponentiated against a shift of
    0 in float64, which overflowed (a warning, an error under np.errstate)."""
    x = np.array([[2000.0, np.inf, 1.0], [0.5, 2.0, -1.0], [-np.inf] * 3], dtype=dtype)
    x[0, 0] = min(2000.0, float(np.finfo(dtype).max))
    y = actlab.logsumexp(x, axis=1)
    g = np.array([1.5, -2.0, 3.0])
    with np.errstate(all="raise"):
        got = actlab.logsumexp_vjp(x, g, axis=1, y=y)
    assert same(got, actlab.logsumexp_vjp(x, g, axis=1))
    assert not got[[0, 2]].any()

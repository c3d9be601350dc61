"""Accuracy against the mpmath oracle: the quick audit for every entry (the full one behind
``--full``), and the exact inputs where the peers fail (research/accuracy.md, section 5)."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import oracle
from actlab.accuracy import NEAR_ZERO_EPS, audit, near_roots, sample_points, scale_of
from support import DTYPES, ELEMENTWISE, entries_cases, param_cases
from test_kernels_support import TIERS, on_tier


def _report(table: actlab.accuracy.AuditTable) -> str:
    return "\n".join(
        f"{r.label} {r.dtype} order {r.order}: max {r.max_ulp:.3g} ULP at x={r.worst_x!r} "
        f"(bar {r.bar:g}), near roots {r.near_zero_abs_eps:.3g} eps, non-finite {r.nonfinite}"
        for r in table.failures()
    )


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("entry", entries_cases())
def test_quick_audit(entry, tier):
    """f, f′, f″ in float16/32/64, at the defaults and every audit parameter set, on both
    kernel tiers (the compiled loops and the NumPy path)."""
    with on_tier(tier):
        table = audit([entry.name])
    assert {r.dtype for r in table.rows} == set(DTYPES)
    assert {r.order for r in table.rows} == {0, 1, 2}
    assert not table.failures(), _report(table)


@pytest.mark.full
@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("entry", entries_cases())
def test_full_audit(entry, dtype, tier):
    """The whole float range: every finite float16, dense float32 and float64 samples."""
    with on_tier(tier):
        table = audit([entry.name], dtypes=[dtype], full=True)
    assert not table.failures(), _report(table)


def test_audit_table_is_the_documented_shape():
    table = audit(["sigmoid"], dtypes=["float32"], orders=[0])
    (row,) = table.rows
    assert (row.name, row.dtype, row.order, row.passed) == ("sigmoid", "float32", 0, True)
    assert row.n > 1000
    assert "| sigmoid | float32 |" in table.to_markdown()


def test_audit_covers_every_elementwise_entry_and_rejects_other_kinds():
    table = audit(dtypes=["float16"], orders=[0])
    assert {r.name for r in table.rows} == {e.name for e in ELEMENTWISE}
    others = [e for e in actlab.entries() if e.kind != "elementwise"]
    for entry in others:
        with pytest.raises(ValueError, match="elementwise"):
            audit([entry.name])


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("entry", "params"), param_cases())
def test_products_with_g_against_the_oracle(entry, params, dtype, tier):
    """g·f′(x) (``NAME_vjp``) against the exact product, at the audit's sample points and a
    g of random sign and magnitude 2^±30 (float32) or 2^±300 (float64): within f′'s bar,
    float64 plus half an ULP for the product's own rounding (the compiled tier rounds f′ to
    float64 first). A large g times an f′ in the far tails is where a product computed from
    f′ in float64 loses it (σ′(−720)·10^300). Near a root of f′ the bar is absolute, in eps
    of the dtype times |g|, as in the audit."""
    roots = entry.zeros(1, **params)
    xs = sample_points(dtype, False, scale_of(params), roots)
    rng = np.random.default_rng(7)
    span = 30 if dtype == "float32" else 300
    g = (rng.choice([-1.0, 1.0], xs.size) * np.exp2(rng.uniform(-span, span, xs.size))).astype(
        dtype
    )
    mp = oracle.mpmath()
    derivative = oracle.exact(entry, 1, xs.astype(np.float64), params)
    exact = [d * mp.mpf(float(gi)) for d, gi in zip(derivative, g, strict=True)]
    with on_tier(tier):
        got = np.asarray(getattr(actlab, f"{entry.name}_vjp")(xs, g, **params))
    errs = oracle.ulp_errors(got, exact, dtype)
    bar = entry.ulp_bar(dtype, 1) + (0.5 if dtype == "float64" else 0.0)
    near = near_roots(xs.astype(np.float64), roots)
    far = ~near & (errs > bar)
    assert not far.any(), f"x={xs[far][:3]}, g={g[far][:3]}: {errs[far][:3]} ULP (bar {bar})"
    if near.any():
        scale = np.finfo(dtype).eps * np.abs(g[near].astype(np.float64))
        abs_err = oracle.abs_errors(got[near], [e for e, m in zip(exact, near, strict=True) if m])
        off = (errs[near] > bar) & (abs_err / scale > NEAR_ZERO_EPS[dtype][1])
        assert not off.any(), f"near a root: x={xs[near][off][:3]}, g={g[near][off][:3]}"


# The exact inputs of research/accuracy.md, section 5, where a peer is wrong: (name, params,
# order, dtype, x). Each must be within the entry's bar here (and never 0 where the exact
# value is not).
PEER_FAILURES = [
    ("silu", {}, 0, "float64", -710.11),  # peers flush x·σ(x) to −0; exact −2.848e−306
    ("silu", {}, 0, "float64", -709.0),
    ("silu", {}, 0, "float32", -89.75),  # exact −9.40e−38
    ("swish", {"beta": 10.0}, 0, "float32", -8.88),  # exact −2.33e−38
    ("swish", {"beta": 10.0}, 0, "float64", -40.295),  # peers 257 ULP
    ("swish", {"beta": 0.1}, 0, "float64", -745.43),  # peers 63 ULP
    ("sigmoid", {}, 1, "float64", 36.75),  # σ(1−σ) gives 0; exact 1.0957e−16
    ("sigmoid", {}, 1, "float64", 36.0),
    ("sigmoid", {}, 1, "float32", 16.7),
    ("sigmoid", {}, 0, "float64", -709.8),  # peers 0; exact 5.467e−309 (subnormal)
    ("tanh", {}, 1, "float64", 19.06),  # 1 − tanh² gives 0 or 2.22e−16; exact 1.11e−16
    ("tanh", {}, 1, "float64", 19.999999999999996),
    ("tanh", {}, 1, "float32", 8.0),
    ("tanh", {}, 1, "float32", -9.993015),
    ("tanh", {}, 0, "float64", 19.06),  # XLA's tanh is 6.5 ULP here
    ("elu", {}, 1, "float64", -37.43),  # jax gives 0; exact e^x
    ("elu", {}, 0, "float64", -1e-20),  # exp(x) − 1 gives 0
    ("elu", {}, 0, "float64", -1e-5),
    ("softplus", {}, 0, "float64", -37.43),  # naive log(1+e^x) gives 0
    ("softplus", {}, 0, "float64", 710.0),  # naive overflows
    ("softplus", {}, 1, "float64", -33.275),  # jax 32 ULP
    ("log_sigmoid", {}, 1, "float64", 33.275),
    ("mish", {}, 0, "float64", -37.0),  # naive gives −0; exact −3.157e−15
    ("mish", {}, 0, "float64", -30.0),
]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize(
    ("name", "params", "order", "dtype", "x"),
    PEER_FAILURES,
    ids=[f"{n}-{o}-{d}-{x}" for n, _, o, d, x in PEER_FAILURES],
)
def test_where_peers_fail(name, params, order, dtype, x, tier):
    entry = actlab.get(name)
    params = {**entry.defaults, **params}
    xs = np.array([x], dtype=dtype)
    with on_tier(tier):
        got = np.asarray(entry.derivative(order)(xs, **params))
    (exact,) = oracle.exact(entry, order, xs.astype(np.float64), params)
    err = oracle.ulp_errors(got, [exact], dtype)[0]
    assert err <= entry.ulp_bar(dtype, order), f"{got[0]!r} vs exact {exact}: {err:.3g} ULP"
    assert got[0] != 0
    assert np.isfinite(got[0])


def test_silu_does_not_flush_to_zero():
    got = actlab.silu(-710.11)
    assert got == pytest.approx(-2.848e-306, rel=1e-3)
    (exact,) = oracle.exact(actlab.get("silu"), 0, [-710.11], {})
    assert oracle.ulp_errors(np.array([got]), [exact], "float64")[0] <= 0.5


def test_sigmoid_and_tanh_derivatives_in_the_tails():
    assert actlab.sigmoid_grad(36.75) == pytest.approx(1.0957e-16, rel=1e-4)
    assert actlab.tanh_grad(19.06) == pytest.approx(1.1137e-16, rel=1e-4)


def test_softplus_just_above_pytorchs_threshold():
    """PyTorch returns x for x > 20 (5.8e5 ULP off at 20.000000000000004); here ≤ 1 ULP."""
    entry = actlab.get("softplus")
    xs = np.concatenate(
        [[np.nextafter(20.0, 21.0), 20.5, 25.0], np.linspace(19.0, 40.0, 1201), [36.0, 37.0]]
    )
    for order in (0, 1):
        got = entry.derivative(order)(xs)
        errs = oracle.ulp_errors(got, oracle.exact(entry, order, xs, {"beta": 1.0}), "float64")
        assert errs.max() <= 1.0, (order, xs[np.argmax(errs)], errs.max())
    assert actlab.softplus(np.nextafter(20.0, 21.0)) == 20.000000002061157

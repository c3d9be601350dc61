"""The public names of actlab and the registry agree, both ways."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import actlab
from support import ELEMENTWISE, entries_cases


def _exported(entry):
    """(public name, object) for f, f′, f″ and each parameter gradient of ``entry``."""
    yield entry.name, entry.fn
    yield f"{entry.name}_grad", entry.grad
    yield f"{entry.name}_grad2", entry.grad2
    for param, fn in entry.param_grads.items():
        yield f"{entry.name}_grad_{param}", fn


@pytest.mark.parametrize("entry", entries_cases())
def test_entry_functions_are_exported_under_their_names(entry):
    for name, obj in _exported(entry):
        assert name in actlab.__all__, name
        assert getattr(actlab, name) is obj, name
        assert obj.__name__ == name
        assert obj.__doc__, f"{name} has no docstring"


def test_every_exported_derivative_belongs_to_an_entry():
    """No stray derivative: NAME_grad, NAME_grad2 need a registry entry NAME, and for an
    elementwise entry every NAME_grad* must be one of its record's functions."""
    owned = {name for e in ELEMENTWISE for name, _ in _exported(e)}
    elementwise = set(actlab.names("elementwise"))
    for name in actlab.__all__:
        if "_grad" not in name or not callable(getattr(actlab, name)):
            continue
        if name in COMBINED:
            continue
        base = name.split("_grad")[0]
        if name.endswith(("_grad", "_grad2")):
            assert base in actlab.names(), f"{name}: no registry entry {base!r}"
        if base in elementwise:
            assert name in owned, f"{name} is exported but is not a function of {base}'s record"


# Functions that return two registry functions at once (not a derivative of their own).
COMBINED = {"cross_entropy_with_grad": ("cross_entropy", "cross_entropy_grad")}


def test_combined_functions_return_their_parts():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 6)).astype(np.float32)
    target = np.array([0, 5, 2, 2])
    for name, parts in COMBINED.items():
        assert name in actlab.__all__
        got = getattr(actlab, name)(logits, target)
        expected = [getattr(actlab, p)(logits, target) for p in parts]
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("entry", entries_cases())
def test_every_entry_has_its_vjp(entry):
    """NAME_vjp(x, g, *, params..., out=None) for every elementwise entry, made from it."""
    vjp = getattr(actlab, f"{entry.name}_vjp")
    assert f"{entry.name}_vjp" in actlab.__all__
    assert vjp.__name__ == f"{entry.name}_vjp"
    assert vjp.__doc__
    sig = _signature(vjp)
    assert [p.name for p in sig[:2]] == ["x", "g"]
    assert sig[-1].name == "out"
    assert sig[-1].default is None
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig[2:])
    expected = [(p.name, p.default) for p in entry.params]
    assert [(p.name, p.default) for p in sig[2 : 2 + len(expected)]] == expected


def test_no_stray_vjp():
    """Every exported NAME_vjp belongs to a registry entry (elementwise or row)."""
    extra = {"sigmoid_vjp_from_output", "tanh_vjp_from_output"}
    for name in actlab.__all__:
        if name.endswith("_vjp") or name in extra:
            base = name.split("_vjp")[0]
            assert base in actlab.names(), name


def test_every_param_grad_is_named_after_a_parameter():
    for entry in ELEMENTWISE:
        assert set(entry.param_grads) <= {p.name for p in entry.params}, entry.name
        # every numeric parameter has its gradient
        assert set(entry.param_grads) == {p.name for p in entry.params}, entry.name


def test_all_names_exist():
    for name in actlab.__all__:
        assert hasattr(actlab, name), name


def test_registry_lookup_names_and_aliases():
    names = actlab.names("elementwise")
    assert names == tuple(e.name for e in ELEMENTWISE)
    assert len(set(names)) == len(names)
    for entry in ELEMENTWISE:
        assert actlab.get(entry.name) is entry
        for alias in entry.aliases:
            assert actlab.get(alias) is entry
    assert actlab.get("logistic") is actlab.get("sigmoid")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(actlab.UnknownActivationError, match=r"did you mean.*sigmoid"):
        actlab.get("sigmiod")
    with pytest.raises(KeyError):
        actlab.get("no_such_activation_at_all")
    with pytest.raises(ValueError, match="unknown activation"):
        actlab.get("no_such_activation_at_all")


def _signature(fn):
    return list(inspect.signature(fn).parameters.values())


@pytest.mark.parametrize("entry", entries_cases())
def test_signatures_match_the_record(entry):
    """f(x, *params, *options): the record's parameters with its defaults, then its options;
    derivatives take x and the same parameters (defaults equal) first."""
    expected = [(p.name, p.default) for p in entry.params]
    sig = _signature(entry.fn)
    assert sig[0].name == "x"
    assert [(p.name, p.default) for p in sig[1 : 1 + len(expected)]] == expected
    # ``out`` (NumPy's output buffer, keyword-only) may follow the options.
    tail = [p.name for p in sig[1 + len(expected) :]]
    if tail and tail[-1] == "out":
        assert sig[-1].kind is inspect.Parameter.KEYWORD_ONLY
        assert sig[-1].default is None
        tail = tail[:-1]
    assert tail == list(entry.options)
    for _, fn in _exported(entry):
        sig = _signature(fn)
        assert sig[0].name == "x", fn.__name__
        assert [(p.name, p.default) for p in sig[1 : 1 + len(expected)]] == expected, fn.__name__
        extra = sig[1 + len(expected) :]
        # The derivatives' extra keywords are options too, each with a default.
        assert all(p.default is not inspect.Parameter.empty for p in extra), fn.__name__


@pytest.mark.parametrize("entry", entries_cases())
def test_record_is_complete(entry):
    """What the docs, the CLI and the report read from every elementwise record."""
    assert entry.summary
    assert entry.formulas.f
    assert entry.formulas.grad
    assert entry.formulas.grad2
    assert set(entry.reference) == {0, 1, 2}
    assert set(entry.reference_param_grads) == set(entry.param_grads)
    assert entry.naive is not None
    assert entry.range[0] <= entry.range[1]
    for p in entry.params:
        assert p.domain.contains(p.default) or p.shape == "array", (p.name, p.default)
    for kink in entry.kinks:
        assert kink.rule
    for (dtype, order), tol in entry.tolerance_overrides.items():
        assert tol.reason, (dtype, order)

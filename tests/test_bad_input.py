"""Bad input: non-real x is a TypeError naming the accepted dtypes; a parameter outside its
domain, non-finite or boolean is an error naming the function, the parameter and the value."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import actlab
from support import ELEMENTWISE, functions_of

CALLABLE_CASES = [
    pytest.param(e, what, fn, id=f"{e.name}-{what}")
    for e in ELEMENTWISE
    for what, fn in functions_of(e)
]

NOT_REAL = [
    pytest.param(1j, id="complex"),
    pytest.param(np.array([1.0 + 2j]), id="complex-array"),
    pytest.param(np.array([1.0], dtype=np.complex64), id="complex64"),
    pytest.param("abc", id="str"),
    pytest.param(np.array(["1.0"]), id="str-array"),
    pytest.param(np.array([1.0, None], dtype=object), id="object-array"),
    pytest.param(object(), id="object"),
    pytest.param(np.array(["2020-01-01"], dtype="datetime64[D]"), id="datetime"),
]


@pytest.mark.parametrize("x", NOT_REAL)
@pytest.mark.parametrize(("entry", "what", "fn"), CALLABLE_CASES)
def test_non_real_input_is_a_type_error(entry, what, fn, x):
    with pytest.raises(TypeError) as info:
        fn(x, **entry.defaults)
    message = str(info.value)
    assert fn.__name__ in message
    assert "float16, float32, float64" in message or "real" in message


def _bad_values(param):
    """Values outside ``param``'s domain: non-finite, and past each finite end."""
    d = param.domain
    bad = [math.nan, math.inf, -math.inf]
    if math.isfinite(d.lo):
        bad.append(d.lo if d.lo_open else d.lo - 0.5)
    if math.isfinite(d.hi):
        bad.append(d.hi if d.hi_open else d.hi + 0.5)
    return bad


PARAM_CASES = [
    pytest.param(e, what, fn, p, id=f"{e.name}-{what}-{p.name}")
    for e in ELEMENTWISE
    for what, fn in functions_of(e)
    for p in e.params
]


@pytest.mark.parametrize(("entry", "what", "fn", "param"), PARAM_CASES)
def test_parameter_outside_its_domain(entry, what, fn, param):
    for value in _bad_values(param):
        with pytest.raises(ValueError, match=re.escape(fn.__name__)) as info:
            fn(np.array([-1.0, 1.0]), **{**entry.defaults, param.name: value})
        message = str(info.value)
        assert param.name in message
        assert repr(value) in message, message


@pytest.mark.parametrize(("entry", "what", "fn", "param"), PARAM_CASES)
def test_boolean_or_non_numeric_parameter_is_a_type_error(entry, what, fn, param):
    for value in (True, "0.5", None):
        with pytest.raises(TypeError) as info:
            fn(np.array([-1.0, 1.0]), **{**entry.defaults, param.name: value})
        message = str(info.value)
        assert fn.__name__ in message
        assert param.name in message


def _closed_lower_ends(entry):
    return {p.name: p.domain.lo for p in entry.params if p.domain.contains(p.domain.lo)}


@pytest.mark.parametrize(
    ("entry", "what", "fn"), [c for c in CALLABLE_CASES if _closed_lower_ends(c.values[0])]
)
def test_closed_lower_ends_of_the_domains_are_accepted(entry, what, fn):
    """Every parameter at the closed lower end of its domain, all at once (leaky_relu's
    slope 0, elu's α = 0, rrelu with lower = upper = 0) is valid and gives finite values."""
    ends = _closed_lower_ends(entry)
    got = fn(np.array([-1.0, 0.0, 1.0]), **{**entry.defaults, **ends})
    assert np.isfinite(got).all()


def test_rrelu_lower_above_upper():
    for fn in (actlab.rrelu, actlab.rrelu_grad, actlab.rrelu_grad2, actlab.rrelu_grad_lower):
        with pytest.raises(ValueError, match=re.escape(fn.__name__)) as info:
            fn(np.array([-1.0]), lower=0.5, upper=0.25)
        message = str(info.value)
        assert "lower" in message
        assert "upper" in message
        assert "0.5" in message
        assert "0.25" in message


def test_prelu_weight_that_does_not_broadcast_along_axis():
    x = np.ones((2, 3, 4))
    cases = [
        ({"weight": np.ones(5)}, "5"),  # 5 slopes, 3 channels along axis 1
        ({"weight": np.ones(2), "axis": 2}, "2"),  # 2 slopes, 4 channels along axis 2
        ({"weight": np.ones(3), "axis": 3}, "axis"),  # no axis 3
        ({"weight": np.ones((3, 1))}, "shape"),  # not 1-D
    ]
    for fn in (actlab.prelu, actlab.prelu_grad, actlab.prelu_grad2, actlab.prelu_grad_weight):
        for kwargs, detail in cases:
            with pytest.raises(ValueError, match=re.escape(fn.__name__)) as info:
                fn(x, **kwargs)
            assert "weight" in str(info.value)
            assert detail in str(info.value)
        with pytest.raises(ValueError, match="weight"):
            fn(x, weight=np.array([0.1, np.nan, 0.2]))
        with pytest.raises(TypeError, match="weight"):
            fn(x, weight=np.array(["a", "b", "c"]))


def test_rrelu_rng_of_the_wrong_type():
    with pytest.raises(TypeError, match="rng"):
        actlab.rrelu(np.ones(3), training=True, rng="seed")

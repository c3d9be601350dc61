"""dtypes and shapes: the output dtype is the input's float dtype, ints and bools promote,
scalars and lists are accepted, and layout (0-d, empty, 3-D, strided) never changes a value."""

from __future__ import annotations

import numpy as np
import pytest

from support import DTYPES, function_cases

X = np.array([-800.0, -30.5, -6.0, -1.25, -1e-3, -0.0, 0.0, 2e-3, 0.75, 6.0, 7.5, 40.0, 800.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_output_dtype_is_the_input_dtype(entry, params, what, fn, dtype):
    got = fn(X.astype(dtype), **params)
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == X.shape


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_ints_and_bools_promote_to_float64(entry, params, what, fn):
    ints = np.array([-3, -1, 0, 1, 7], dtype=np.int32)
    for x in (ints, ints.astype(np.int64), ints.astype(np.uint8) % 2 == 1):
        got = fn(x, **params)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, fn(x.astype(np.float64), **params))


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_python_scalars_and_lists(entry, params, what, fn):
    for scalar in (0.75, -2, True, np.float32(0.75)):
        got = fn(scalar, **params)
        assert isinstance(got, np.generic), type(got)
        assert np.ndim(got) == 0
        expected_dtype = np.float32 if isinstance(scalar, np.float32) else np.float64
        assert got.dtype == expected_dtype
        assert got == fn(np.array([scalar], dtype=expected_dtype), **params)[0]
    listed = fn([-1.5, 0.0, 2.5], **params)
    assert isinstance(listed, np.ndarray)
    np.testing.assert_array_equal(listed, fn(np.array([-1.5, 0.0, 2.5]), **params))


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_zero_d_and_empty(entry, params, what, fn):
    zero_d = fn(np.asarray(-1.25), **params)
    assert isinstance(zero_d, np.ndarray)
    assert zero_d.shape == ()
    assert zero_d == fn(np.array([-1.25]), **params)[0]
    for shape in ((0,), (3, 0, 2)):
        empty = fn(np.zeros(shape, dtype=np.float32), **params)
        assert empty.shape == shape
        assert empty.dtype == np.float32


def _layouts(x: np.ndarray):
    """Non-contiguous views of ``x`` with their contiguous copies."""
    cube = np.stack([x, -x[::-1], x * 0.5])  # (3, n)
    cube = np.stack([cube, cube[::-1]], axis=1)  # (3, 2, n): prelu's channel axis 1 has 2
    yield "3-D", cube
    yield "transposed", np.swapaxes(cube, 0, 2)
    yield "strided", cube[:, :, ::2]
    yield "negative stride", cube[::-1, :, ::-3]
    yield "fortran", np.asfortranarray(cube)


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_layout_does_not_change_values(entry, params, what, fn):
    for name, view in _layouts(X):
        assert not view.flags.c_contiguous or name == "3-D"
        got = fn(view, **params)
        expected = fn(np.ascontiguousarray(view), **params)
        assert got.shape == view.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
        # and elementwise: the same as evaluating the flattened values
        flat = fn(view.reshape(-1).copy(), **params)
        np.testing.assert_array_equal(got.reshape(-1), flat, err_msg=name)


@pytest.mark.parametrize(("entry", "params", "what", "fn"), function_cases())
def test_inputs_are_never_modified(entry, params, what, fn):
    for dtype in DTYPES:
        x = X.astype(dtype)
        before = x.copy()
        fn(x, **params)
        fn(x[::2], **params)
        np.testing.assert_array_equal(x, before)
        assert np.array_equal(np.signbit(x), np.signbit(before))

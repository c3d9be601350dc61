"""The memory-bound loops (``kernels/streamed.py``) give the NumPy path's results bit for bit,
with ordinary and with streaming stores, at every alignment of the output (a head of single
elements before the first 64-byte line, whole lines, a tail), and for outputs that are not
even aligned to their element size (no line can be streamed there)."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab.kernels import config, dispatch
from test_kernels_support import on_tier

pytestmark = pytest.mark.skipif(not config.numba_available(), reason="numba is not installed")

RNG = np.random.default_rng(31)


def _data(n, dtype):
    x = (RNG.standard_normal(n) * 5).astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    specials = [np.nan, -np.inf, np.inf, -0.0, 0.0, 6.0, -6.0, 5.9999, tiny, -tiny, 1e30]
    x[: min(n, len(specials))] = specials[: min(n, len(specials))]
    g = (RNG.standard_normal(n) * 3).astype(dtype)
    g[n // 2 : n // 2 + 4] = [np.inf, -np.inf, np.nan, -0.0][: max(0, min(4, n - n // 2))]
    return x, g


def _ramp(x):
    """rrelu slopes in [0, 0.5], a zero slope among them."""
    return np.linspace(0, 0.5, x.size, dtype=x.dtype)


def _calls():
    """(label, call(x, g) -> array) for every function the streamed loops serve."""
    slopes = {}

    def rrelu_train(x, g):
        y, s = actlab.rrelu(x, training=True, rng=5, return_slopes=True)
        slopes["s"] = s
        return y

    return [
        ("relu", lambda x, g: actlab.relu(x)),
        ("relu6", lambda x, g: actlab.relu6(x)),
        ("leaky_relu", lambda x, g: actlab.leaky_relu(x, 0.3)),
        ("prelu one weight", lambda x, g: actlab.prelu(x, 0.2)),
        ("rrelu eval", lambda x, g: actlab.rrelu(x)),
        ("rrelu training", rrelu_train),
        ("relu_vjp", lambda x, g: actlab.relu_vjp(x, g)),
        ("relu6_vjp", lambda x, g: actlab.relu6_vjp(x, g)),
        ("leaky_relu_vjp", lambda x, g: actlab.leaky_relu_vjp(x, g, negative_slope=0.3)),
        ("leaky_relu_vjp g float16", lambda x, g: actlab.leaky_relu_vjp(x, g.astype("f2"))),
        ("rrelu_vjp training", lambda x, g: actlab.rrelu_vjp(x, g, training=True, slopes=_ramp(x))),
        ("sigmoid from output", lambda x, g: actlab.sigmoid_vjp_from_output(x / 10, g)),
        ("tanh from output", lambda x, g: actlab.tanh_vjp_from_output(x / 10, g)),
    ]


CALLS = _calls()


@pytest.mark.parametrize("stream_bytes", [0, 1 << 62], ids=["streamed", "ordinary"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("label", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_streamed_loops_equal_the_numpy_path(label, call, dtype, stream_bytes, monkeypatch):
    monkeypatch.setattr(dispatch, "STREAM_BYTES", stream_bytes)
    x_all, g_all = _data(3 * 4096 + 77, dtype)
    for offset in range(0, 17, 3):  # output addresses at every alignment within a line
        for n in (1, 15, 16, 40, 3 * 4096 + 60):
            x, g = x_all[offset : offset + n], g_all[offset : offset + n]
            with on_tier("numba"):
                got = call(x, g)
            with on_tier("numpy"):
                expected = call(x, g)
            where = f"{label} n={n} at {offset}"
            if "from output" in label:  # two roundings in y's dtype (documented: ≤ 1 ULP)
                np.testing.assert_array_max_ulp(got, expected, maxulp=1)
                finite = np.isfinite(expected)
                np.testing.assert_array_equal(got[~finite], expected[~finite], err_msg=where)
            else:
                np.testing.assert_array_equal(got, expected, err_msg=where)
            assert np.array_equal(np.signbit(got), np.signbit(expected)), label


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prelu_per_channel_streamed(dtype, monkeypatch):
    """One slope per channel (a zero weight included: its limit at −∞ is −0.0), rows of
    every alignment."""
    monkeypatch.setattr(dispatch, "STREAM_BYTES", 0)
    x, g = _data(3 * 5 * 41, dtype)
    x, g = x.reshape(3, 5, 41), g.reshape(3, 5, 41)
    w = np.array([0.0, 0.25, -1.5, 2.0, 1e-3])
    for fn in (lambda: actlab.prelu(x, w), lambda: actlab.prelu_vjp(x, g, weight=w)):
        with on_tier("numba"):
            got = fn()
        with on_tier("numpy"):
            expected = fn()
        np.testing.assert_array_equal(got, expected)
        assert np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_outputs_not_aligned_to_their_element_size(dtype, monkeypatch):
    monkeypatch.setattr(dispatch, "STREAM_BYTES", 0)
    x, g = _data(1000, dtype)
    raw = np.zeros(x.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=dtype, count=x.size, offset=1)
    assert not out.flags.aligned
    calls = [
        lambda out: actlab.relu6(x, out=out),
        lambda out: actlab.relu_vjp(x, g, out=out),
        lambda out: actlab.leaky_relu(x, 0.1, out=out),
        lambda out: actlab.sigmoid_vjp_from_output(x / 10, g, out=out),
    ]
    with on_tier("numba"):
        for call in calls:
            out[...] = 7
            assert call(out) is out
            np.testing.assert_array_equal(out, call(None))


# The float32 exp-based loops (kernels/lean32.py) are line maps too: the single elements
# before and after the whole lines must give what the lines give. Their accuracy against
# the oracle is tests/test_accuracy.py's business.
LEAN32_CALLS = [
    ("sigmoid", lambda x, g, out: actlab.sigmoid(x, out=out)),
    ("silu", lambda x, g, out: actlab.silu(x, out=out)),
    ("swish β=0.3", lambda x, g, out: actlab.swish(x, beta=0.3, out=out)),
    ("softplus β=2", lambda x, g, out: actlab.softplus(x, beta=2.0, out=out)),
    ("sigmoid_grad", lambda x, g, out: actlab.sigmoid_grad(x, out=out)),
    ("elu_grad", lambda x, g, out: actlab.elu_grad(x, out=out)),
    ("tanh", lambda x, g, out: actlab.tanh(x, out=out)),
    ("sigmoid_vjp", lambda x, g, out: actlab.sigmoid_vjp(x, g, out=out)),
    ("silu_vjp", lambda x, g, out: actlab.silu_vjp(x, g, out=out)),
    ("swish_vjp β=3", lambda x, g, out: actlab.swish_vjp(x, g, beta=3.0, out=out)),
    ("softplus_vjp", lambda x, g, out: actlab.softplus_vjp(x, g, out=out)),
    ("log_sigmoid_vjp", lambda x, g, out: actlab.log_sigmoid_vjp(x, g, out=out)),
    ("elu_vjp g float16", lambda x, g, out: actlab.elu_vjp(x, g.astype("f2"), out=out)),
]


@pytest.mark.parametrize("stream_bytes", [0, 1 << 62], ids=["streamed", "ordinary"])
@pytest.mark.parametrize(("label", "call"), LEAN32_CALLS, ids=[c[0] for c in LEAN32_CALLS])
def test_lean32_line_edges_agree_with_the_lines(label, call, stream_bytes, monkeypatch):
    monkeypatch.setattr(dispatch, "STREAM_BYTES", stream_bytes)
    x, g = _data(4096 + 77, "float32")
    with on_tier("numba"):
        whole = call(x, g, np.empty_like(x))  # x and this output start on a line boundary
        for offset in range(1, 17, 3):  # every other alignment: single elements, then lines
            n = x.size - offset - 5
            got = call(x[offset : offset + n], g[offset : offset + n], np.empty(n, "f4"))
            expected = whole[offset : offset + n]
            np.testing.assert_array_equal(got, expected, err_msg=f"{label} at {offset}")
            assert np.array_equal(np.signbit(got), np.signbit(expected)), label

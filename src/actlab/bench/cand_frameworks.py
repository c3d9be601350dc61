"""PyTorch (1 and 2 threads) and JAX (jit, XLA's own threads) candidates.

PyTorch writes into the shared output through ``torch.ops.aten.<op>.out`` wherever such an
overload exists, so that it is timed without allocating, as actlab is; where it has none
(prelu, mish_backward, cross-entropy through autograd) the candidate allocates and says so.
JAX always allocates (its arrays are immutable); its time includes ``block_until_ready``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .harness import Candidate, Skipped
from .workloads import Data, TableSpec

__all__ = ["jax_candidates", "torch_candidates"]


def _torch_forward(A: Any, torch: Any, name: str, p: dict) -> tuple[Callable, bool] | None:
    """(fn(x, out) → result, allocates) for an elementwise forward."""
    table: dict[str, tuple[Callable, bool]] = {
        "sigmoid": (lambda x, o: A.sigmoid.out(x, out=o), False),
        "tanh": (lambda x, o: A.tanh.out(x, out=o), False),
        "relu": (lambda x, o: A.clamp_min.out(x, 0.0, out=o), False),
        "relu6": (lambda x, o: A.hardtanh.out(x, 0.0, 6.0, out=o), False),
        "elu": (lambda x, o: A.elu.out(x, p.get("alpha", 1.0), 1, 1, out=o), False),
        "silu": (lambda x, o: A.silu.out(x, out=o), False),
        "mish": (lambda x, o: A.mish.out(x, out=o), False),
        "log_sigmoid": (lambda x, o: torch._C._nn.log_sigmoid(x, out=o), False),
        "leaky_relu": (
            lambda x, o: A.leaky_relu.out(x, p.get("negative_slope", 0.01), out=o),
            False,
        ),
        "rrelu": (
            lambda x, o: A.leaky_relu.out(x, (p.get("lower", 0) + p.get("upper", 0)) / 2, out=o),
            False,
        ),
        "softplus": (lambda x, o: A.softplus.out(x, p.get("beta", 1.0), 20.0, out=o), False),
    }
    if name == "swish" and p.get("beta", 1.0) == 1.0:
        return table["silu"]
    if name == "prelu":
        w = torch.tensor([float(p.get("weight", 0.25))])
        return (lambda x, o: torch.prelu(x, w.to(x.dtype))), True
    return table.get(name)


def _torch_backward(A: Any, name: str, p: dict) -> Callable | None:
    """fn(g, x, out) → dx through an aten ``*_backward.grad_input`` overload, where one is."""
    table: dict[str, Callable] = {
        "silu": lambda g, x, o: A.silu_backward.grad_input(g, x, grad_input=o),
        "softplus": lambda g, x, o: A.softplus_backward.grad_input(
            g, x, p.get("beta", 1.0), 20.0, grad_input=o
        ),
        "elu": lambda g, x, o: A.elu_backward.grad_input(
            g, p.get("alpha", 1.0), 1, 1, False, x, grad_input=o
        ),
        "relu": lambda g, x, o: A.threshold_backward.grad_input(g, x, 0.0, grad_input=o),
        "relu6": lambda g, x, o: A.hardtanh_backward.grad_input(g, x, 0.0, 6.0, grad_input=o),
        "leaky_relu": lambda g, x, o: A.leaky_relu_backward.grad_input(
            g, x, p.get("negative_slope", 0.01), False, grad_input=o
        ),
        "rrelu": lambda g, x, o: A.leaky_relu_backward.grad_input(
            g, x, (p.get("lower", 0) + p.get("upper", 0)) / 2, False, grad_input=o
        ),
    }
    if name == "swish" and p.get("beta", 1.0) == 1.0:
        return table["silu"]
    return table.get(name)


def torch_candidates(spec: TableSpec, data: Data, threads: Sequence[int]) -> list:
    try:
        import torch
    except ImportError:
        return [Skipped("torch", "torch", "PyTorch is not installed")]
    A = torch.ops.aten
    T = torch.from_numpy
    x, o, p = T(data.x), T(data.out), data.params
    alloc, label = False, "aten out="
    if spec.kind in ("rows", "axis0"):
        op = A._softmax if spec.name == "softmax" else A._log_softmax
        dim = data.axis
        call = lambda: op.out(x, dim, False, out=o)  # noqa: E731
        label = f"aten.{op.__name__.split('.')[-1]}.out"
    elif spec.kind in ("elementwise", "strided"):
        fwd = _torch_forward(A, torch, spec.name, p)
        if fwd is None:
            return [Skipped("torch", "torch", f"no PyTorch op for {spec.name}")]
        f, alloc = fwd
        call = lambda: f(x, o)  # noqa: E731
        label = "allocates" if alloc else label
    elif spec.kind == "vjp_y":
        g, y = T(data.g), T(data.y)
        op = A.sigmoid_backward if spec.name == "sigmoid" else A.tanh_backward
        call = lambda: op.grad_input(g, y, grad_input=o)  # noqa: E731
        label = f"aten.{spec.name}_backward from y"
    elif spec.kind == "vjp":
        try:
            call, alloc, label = _torch_vjp(torch, A, spec, data)
        except LookupError as exc:
            return [Skipped("torch", "torch", str(exc))]
    elif spec.kind == "ce":
        call, alloc, label = _torch_ce(torch, data), True, "F.cross_entropy + backward"
    else:
        raise ValueError(spec.kind)
    return [
        Candidate(
            f"torch {t}T",
            "torch",
            "peer",
            t,
            call,
            prepare=(lambda t=t: torch.set_num_threads(t)),
            alloc=alloc,
            note=label,
        )
        for t in threads
    ]


def _torch_vjp(torch: Any, A: Any, spec: TableSpec, data: Data) -> tuple[Callable, bool, str]:
    T = torch.from_numpy
    x, g, o, p = T(data.x), T(data.g), T(data.out), data.params
    bwd = _torch_backward(A, spec.name, p)
    if bwd is not None:
        return (lambda: bwd(g, x, o)), False, "aten *_backward.grad_input"
    if spec.name in ("sigmoid", "tanh"):
        # What autograd does: the forward into a buffer, then the backward from the output.
        fwd = A.sigmoid if spec.name == "sigmoid" else A.tanh
        bwd_y = A.sigmoid_backward if spec.name == "sigmoid" else A.tanh_backward
        tmp = torch.empty_like(x)

        def from_x() -> Any:
            fwd.out(x, out=tmp)
            return bwd_y.grad_input(g, tmp, grad_input=o)

        return from_x, False, f"aten.{spec.name} + {spec.name}_backward"
    if spec.name == "mish":
        return (lambda: A.mish_backward(g, x)), True, "aten.mish_backward (allocates)"
    import torch.nn.functional as F

    functional = {
        "log_sigmoid": F.logsigmoid,
        "prelu": lambda a: F.prelu(a, torch.tensor([float(p.get("weight", 0.25))], dtype=a.dtype)),
        "swish": lambda a: a * torch.sigmoid(p.get("beta", 1.0) * a),
    }.get(spec.name)
    if functional is None:
        raise LookupError(f"no PyTorch derivative for {spec.name}")

    def autograd() -> Any:
        xr = x.detach().requires_grad_(True)
        (dx,) = torch.autograd.grad(functional(xr), xr, g)
        return dx

    return autograd, True, "autograd (allocates)"


def _torch_ce(torch: Any, data: Data) -> Callable:
    import torch.nn.functional as F

    x, t = torch.from_numpy(data.x), torch.from_numpy(data.target)

    def run() -> Any:
        xr = x.detach().requires_grad_(True)
        loss = F.cross_entropy(xr, t)
        loss.backward()
        return loss.detach(), xr.grad

    return run


def _jax_fn(jax: Any, jnp: Any, name: str, p: dict) -> Callable | None:
    """JAX's own function (the table actlab.peers audits), else the usual composition."""
    from ..peers import jax_forward

    native = jax_forward(name, p)
    if native is not None:
        return native
    nn = jax.nn
    beta = p.get("beta", 1.0)
    composed: dict[str, Callable] = {
        "swish": lambda x: x * nn.sigmoid(beta * x),
        "softplus": lambda x: nn.softplus(beta * x) / beta,
        "rrelu": lambda x: nn.leaky_relu(x, (p.get("lower", 0) + p.get("upper", 0)) / 2),
        "prelu": lambda x: jnp.where(x >= 0, x, p.get("weight", 0.25) * x),
    }
    return composed.get(name)


def jax_candidates(spec: TableSpec, data: Data) -> list:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return [Skipped("jax", "jax", "JAX is not installed")]
    jax.config.update("jax_enable_x64", True)  # float64 tables need it; float32 stays float32
    x = jax.device_put(data.x)
    if spec.kind in ("rows", "axis0"):
        fn = jax.nn.softmax if spec.name == "softmax" else jax.nn.log_softmax
        axis = data.axis
        f = jax.jit(lambda a: fn(a, axis=axis))
        args: tuple = (x,)
    elif spec.kind in ("elementwise", "strided", "vjp"):
        fn = _jax_fn(jax, jnp, spec.name, data.params)
        if fn is None:
            return [Skipped("jax", "jax", f"no JAX function for {spec.name}")]
        if spec.kind == "vjp":
            f = jax.jit(lambda a, g: jax.vjp(fn, a)[1](g)[0])
            args = (x, jax.device_put(data.g))
        else:
            f = jax.jit(fn)
            args = (x,)
    elif spec.kind == "vjp_y":
        if spec.name == "sigmoid":
            f = jax.jit(lambda y, g: g * y * (1 - y))
        else:
            f = jax.jit(lambda y, g: g * (1 - y * y))
        args = (jax.device_put(data.y), jax.device_put(data.g))
    elif spec.kind == "ce":
        t = jax.device_put(data.target)

        def loss(a: Any, tt: Any) -> Any:
            lp = jax.nn.log_softmax(a, axis=-1)
            return -jnp.mean(jnp.take_along_axis(lp, tt[:, None], axis=-1))

        f = jax.jit(jax.value_and_grad(loss))
        args = (x, t)
    else:
        raise ValueError(spec.kind)

    def call() -> Any:
        return jax.block_until_ready(f(*args))

    return [Candidate("jax.jit", "jax", "peer", None, call, alloc=True, note="XLA's own threads")]

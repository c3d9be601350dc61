"""Times the working tree's actlab against an earlier revision's, in one process, interleaved.

    python benchmarks/ab.py REV [--cases softmax1000,ce] [--threads 1,2] [--rounds 8]

Separate runs of one kernel on this 2-core virtual machine differ by up to ~20% (the
placement of large arrays in memory changes from process to process), which hides a 5%
change. Here both versions run in the same process on the same arrays, alternately: REV's
``src/actlab`` is unpacked (``git archive``) into a temporary directory as the package
``actlab_rev`` and imported beside ``actlab``. Each case prints both medians and their
ratio (working tree ÷ REV; below 1 is faster). Both versions compile on first use, into a
fresh cache directory: a kernel loaded from the disk cache can run at another speed than
the same kernel compiled in the process (float64 tanh, the same code on both sides: the
working tree, loaded from the cache, 1.02–1.06× the time of REV compiled anew, in four runs
before this), so neither side loads code that another process compiled.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
N = 1 << 25


def unpack(rev: str, into: pathlib.Path) -> None:
    """REV's src/actlab as the package ``actlab_rev`` under ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src/actlab"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    package = into / "actlab_rev"
    (into / "src" / "actlab").rename(package)
    pattern = re.compile(r"\b(from|import) actlab\b")
    for path in package.rglob("*.py"):
        text = path.read_text()
        path.write_text(pattern.sub(r"\1 actlab_rev", text))


# name → (shape, function, arguments): "x" the input alone, "xg" with an upstream gradient g,
# "xt" with integer targets, "x2.5" with the number 2.5 as g; then keyword options, if any.
CASES = {
    "softmax8192": ((8192, 8192), "softmax", "x"),
    "log_softmax8192": ((8192, 8192), "log_softmax", "x"),
    "softmax1000": ((65536, 1000), "softmax", "x"),
    "log_softmax1000": ((65536, 1000), "log_softmax", "x"),
    "softmax10": ((4_000_000, 10), "softmax", "x"),
    "log_softmax10": ((4_000_000, 10), "log_softmax", "x"),
    # 8 MB in and out: in the L3 cache, so mostly the kernel's computing, less exposed to
    # the memory traffic of the machine's neighbours than the large cases
    "softmax10_l3": ((100_000, 10), "softmax", "x"),
    "ce": ((65536, 1000), "cross_entropy_with_grad", "xt"),
    # label smoothing on the fused kernels (before 3111ad9, off them: hence the smaller shape)
    "ce_smoothing": ((8192, 1000), "cross_entropy_with_grad", "xt", {"label_smoothing": 0.1}),
    # off the fused kernels, the Array API code on blocks of rows (losses/_blocked.py):
    # class weights; on the NumPy tier (ACTLAB_KERNELS=numpy) every cross-entropy case is
    "ce_weight": (
        (8192, 1000),
        "cross_entropy_with_grad",
        "xt",
        {"weight": np.linspace(0.5, 2.0, 1000)},
    ),
    **{
        f: ((N,), f, "xg")
        for f in (
            "relu_vjp",
            "leaky_relu_vjp",
            "silu_vjp",
            "swish_vjp",
            "sigmoid_vjp",
            "log_sigmoid_vjp",
            "softplus_vjp",
            "elu_vjp",
        )
    },
    "sigmoid_vjp_from_output": ((N,), "sigmoid_vjp_from_output", "xg"),
    # the cotangent a number (broadcast to x's shape inside the call)
    "silu_vjp_number": ((N,), "silu_vjp", "x2.5"),
    # row calls that run on another function's kernel (kernels/rowpath.Transform)
    "softmin1000": ((65536, 1000), "softmin", "x"),
    "softmax1000_t": ((65536, 1000), "softmax", "x", {"temperature": 0.5}),
    **{f: ((N,), f, "x") for f in ("relu", "sigmoid", "silu", "softplus", "log_sigmoid", "tanh")},
    # the Jacobian products of the row functions (kernels/row_products; before them, the
    # NumPy path took 0.1–0.3 s per million entries: hence the smaller shapes)
    "softmax_vjp1000": ((8192, 1000), "softmax_vjp", "xg"),
    "log_softmax_vjp1000": ((8192, 1000), "log_softmax_vjp", "xg"),
    "softmax_vjp10": ((400_000, 10), "softmax_vjp", "xg"),
    "log_softmax_vjp10": ((400_000, 10), "log_softmax_vjp", "xg"),
    # no kernel takes a temperature or a mask: the NumPy path on blocks of rows (before,
    # on the whole array)
    "softmax_vjp1000_t": ((8192, 1000), "softmax_vjp", "xg", {"temperature": 0.5}),
    "softmax_vjp1000_where": (
        (8192, 1000),
        "softmax_vjp",
        "xg",
        {"where": np.arange(1000) % 7 > 0},
    ),
    # one cotangent per row, on blocks of rows (before them, the whole array in the working
    # dtype: about twenty temporaries of its size)
    "logsumexp_vjp1000": ((8192, 1000), "logsumexp_vjp", "xrow", {"axis": -1}),
    # signed weights b, (value, sign) per row (no out=; before, the whole array in the working
    # dtype)
    "logsumexp_sign1000": ((8192, 1000), "logsumexp", "xb", {"axis": -1, "return_sign": True}),
    # attention's backward pass over short rows under a causal mask (−1e9 added)
    "softmax_vjp16_causal": ((400_000, 16), "softmax_vjp", "xg_causal"),
    "log_softmax_vjp16_causal": ((400_000, 16), "log_softmax_vjp", "xg_causal"),
}
DEFAULT = "softmax8192,log_softmax8192,softmax1000,log_softmax1000,softmax10,ce"


def arguments(
    shape: tuple[int, ...], dtype: str, kind: str, rng
) -> tuple[list, np.ndarray | None, dict]:
    """The call's arguments (x spread to ±25, where the functions saturate), its out= and
    its keyword arrays; "xg": a cotangent of x's shape, "xrow": one per row, "xt": class
    indices, "x2.5": the number 2.5, "xb": weights b of x's shape (no out=); "_causal": row i
    keeps its first i mod n + 1 entries, −1e9 is added to the others."""
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if kind.endswith("_causal"):
        kind = kind.removesuffix("_causal")
        n = shape[-1]
        x[np.arange(n)[None, :] > (np.arange(shape[0]) % n)[:, None]] += x.dtype.type(-1e9)
    args: list = [x]
    if kind == "xb":
        return args, None, {"b": rng.standard_normal(shape).astype(dtype)}
    if kind == "xg":
        args.append(rng.standard_normal(shape).astype(dtype))
    elif kind == "xrow":
        args.append(rng.standard_normal(shape[:-1]).astype(dtype))
    elif kind == "xt":
        args.append(rng.integers(0, shape[-1], shape[0]))
    elif kind != "x":  # "x2.5": g is that number
        args.append(float(kind[1:]))
    return args, np.empty_like(x), {}


def bound(
    module, func: str, args: list, out: np.ndarray | None, options: dict
) -> Callable[[], object]:
    given = options if out is None else {**options, "out": out}
    return lambda: getattr(module, func)(*args, **given)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the git revision to compare with (e.g. HEAD, a1b2c3d)")
    parser.add_argument("--cases", default=DEFAULT, help=f"comma-separated, of: {', '.join(CASES)}")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args(argv)
    names = args.cases.split(",")
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"--cases: unknown {', '.join(unknown)} (known: {', '.join(CASES)})")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NUMBA_CACHE_DIR"] = str(pathlib.Path(tmp) / "numba")  # read at import
        unpack(args.rev, pathlib.Path(tmp))
        sys.path.insert(0, tmp)
        packages = {
            "old": importlib.import_module("actlab_rev"),
            "new": importlib.import_module("actlab"),
        }
        made = [
            (
                f"{name} {dtype}",
                CASES[name][1],
                arguments(CASES[name][0], dtype, CASES[name][2], rng),
                CASES[name][3] if len(CASES[name]) > 3 else {},
            )
            for name in names
            for dtype in ("float32", "float64")
        ]
        where = packages["new"].__file__
        print(f"working tree ({where}) against {args.rev}; median ms of {args.rounds}")
        print("| case | threads | rev | working tree | ratio |\n|---|---|---|---|---|")
        for threads in (int(t) for t in args.threads.split(",")):
            for package in ("actlab", "actlab_rev"):
                importlib.import_module(f"{package}.kernels.config").set_num_threads(threads)
            for key, func, (call_args, out, arrays), options in made:
                options = {**options, **arrays}
                calls = {
                    side: bound(m, func, call_args, out, options) for side, m in packages.items()
                }
                for call in calls.values():
                    call()  # compile, fault the pages in
                times: dict[str, list[float]] = {"old": [], "new": []}
                for r in range(args.rounds):
                    for side in ("old", "new") if r % 2 else ("new", "old"):
                        times[side].append(timed(calls[side]))
                o, n = (float(np.median(times[s])) * 1e3 for s in ("old", "new"))
                print(f"| {key} | {threads} | {o:.1f} | {n:.1f} | {n / o:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

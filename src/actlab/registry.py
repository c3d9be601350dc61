"""One registry drives everything: the public API, the audit, the docs, the CLI and the tests.

Each activation is written once, as plain functions in the module of its family, followed by
one record (an ``Entry``) that describes it. Nothing else in actlab keeps a list of activations.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KINDS",
    "PROPERTIES",
    "Domain",
    "Elementwise",
    "Entry",
    "Formulas",
    "Kink",
    "Param",
    "Registry",
    "Tolerance",
    "UnknownActivationError",
    "entries",
    "get",
    "names",
    "register",
]

KINDS = ("elementwise", "vector", "reduction", "grouped", "loss")

# The vocabulary of properties. Each one has a checker in actlab.properties, and the tests
# verify that an entry declares exactly the properties its function has.
PROPERTIES = {
    "monotonic": "non-decreasing on the whole real line",
    "bounded_below": "f(x) ≥ some finite m for all x",
    "bounded_above": "f(x) ≤ some finite M for all x",
    "non_negative": "f(x) ≥ 0 for all x",
    "zero_centred": "f(0) = 0 and E[f(Z)] = 0 for Z ~ N(0, 1) (tanh; not leaky_relu, elu, silu)",
    "odd": "f(−x) = −f(x)",
    "smooth": "infinitely differentiable (no kinks)",
    "saturates_left": "f′(x) → 0 as x → −∞",
    "saturates_right": "f′(x) → 0 as x → +∞",
    "piecewise_linear": "made of straight pieces (f″ = 0 away from the kinks)",
}


@dataclass(frozen=True)
class Domain:
    """An interval of the real line for a scalar parameter; the ends are always finite-checked."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def contains(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above and below

    def holds(self, xp: Any, v: Any) -> Any:
        """``contains`` for an array ``v`` of namespace ``xp``, elementwise (no value read)."""
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return xp.isfinite(v) & above & below

    def describe(self) -> str:
        left = "(" if self.lo_open or self.lo == -math.inf else "["
        right = ")" if self.hi_open or self.hi == math.inf else "]"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right}"


def _fmt(v: float) -> str:
    if v == math.inf:
        return "∞"
    if v == -math.inf:
        return "−∞"
    return f"{v:g}"


REAL = Domain()
POSITIVE = Domain(0.0, math.inf, lo_open=True)
NON_NEGATIVE = Domain(0.0)


@dataclass(frozen=True)
class Param:
    """A numeric parameter of an activation, with its default and domain."""

    name: str
    default: Any
    domain: Domain = REAL
    doc: str = ""
    # "scalar": a real number (or a 0-d array, kept on the caller's backend for autograd);
    # "array": broadcast against x along a channel axis (PReLU's weight).
    shape: str = "scalar"


@dataclass(frozen=True)
class Formulas:
    """LaTeX for f, f′ and f″ (as the docs, the CLI and the report show them)."""

    f: str
    grad: str
    grad2: str


@dataclass(frozen=True)
class Kink:
    """A point where f is not differentiable, and the value actlab chooses for f′ and f″ there.

    ``grad`` and ``grad2`` take the entry's parameters (as keywords) and return the value.
    """

    at: float
    grad: Callable[..., float]
    grad2: Callable[..., float]
    rule: str


@dataclass(frozen=True)
class Tolerance:
    """An accuracy bar in ULP of the output dtype, with the reason it is what it is."""

    ulp: float
    reason: str


@dataclass(frozen=True)
class Entry:
    """What every registry record has, whatever its kind."""

    name: str
    kind: str
    family: str
    summary: str
    formulas: Formulas
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    properties: frozenset[str] = frozenset()
    # Keyword options that are not numeric parameters (axis, training, rng, ...).
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")
        unknown = set(self.properties) - set(PROPERTIES)
        if unknown:
            raise ValueError(f"{self.name}: unknown properties {sorted(unknown)}")

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


@dataclass(frozen=True)
class Elementwise(Entry):
    """An elementwise activation f: R → R with analytic f′, f″ and parameter gradients."""

    fn: Callable[..., Any] = None  # type: ignore[assignment]
    grad: Callable[..., Any] = None  # type: ignore[assignment]
    grad2: Callable[..., Any] = None  # type: ignore[assignment]
    # ∂f/∂p for each parameter p, elementwise (same shape as x).
    param_grads: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # The range of f at the default parameters, as (inf f, sup f) and as LaTeX.
    range: tuple[float, float] = (-math.inf, math.inf)
    range_latex: str = r"(-\infty, \infty)"
    kinks: tuple[Kink, ...] = ()
    # (f(−∞), f(+∞)) for order 0, 1, 2, given the parameters: the special-value contract.
    limits: Callable[..., tuple[float, float]] = None  # type: ignore[assignment]
    # mpmath references: order -> callable(x: mpf, **params) -> mpf; "exact" at ≥ 50 digits.
    reference: Mapping[int, Callable[..., Any]] = field(default_factory=dict)
    # mpmath references for the parameter gradients, keyed by parameter name.
    reference_param_grads: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    # The textbook NumPy formula the seed documents use (f only); the audit and benchmark
    # show why the stable form exists.
    naive: Callable[[Any], Any] | None = None
    # Zeros of f′ (order 1) and f″ (order 2) for given parameters: near them the accuracy bar
    # is an absolute error (relative error is meaningless at a root).
    zeros: Callable[..., tuple[float, ...]] = lambda order, **params: ()
    # float64 bars for (f, f′, f″); float32/float16/bfloat16 are 1 ULP for every order.
    float64_ulp: tuple[float, float, float] = (1.0, 4.0, 8.0)
    # Per-(dtype, order) overrides of the bar; each carries its reason.
    tolerance_overrides: Mapping[tuple[str, int], Tolerance] = field(default_factory=dict)
    # Parameter sets the audit covers beyond the defaults (swish at β = 0.1 and 10).
    audit_params: tuple[Mapping[str, Any], ...] = ()

    def derivative(self, order: int) -> Callable[..., Any]:
        return {0: self.fn, 1: self.grad, 2: self.grad2}[order]

    def ulp_bar(self, dtype_name: str, order: int) -> float:
        override = self.tolerance_overrides.get((dtype_name, order))
        if override is not None:
            return override.ulp
        return self.float64_ulp[order] if dtype_name == "float64" else 1.0


class UnknownActivationError(KeyError, ValueError):
    """An activation name that is not in the registry (the message suggests close matches)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry:
    """The set of entries, in registration order; iterable, and searchable by name or alias."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(self, entry: Entry) -> Entry:
        for key in (entry.name, *entry.aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{key!r} is already registered")
        self._entries[entry.name] = entry
        for alias in entry.aliases:
            self._aliases[alias] = entry.name
        return entry

    def get(self, name: str) -> Entry:
        key = self._aliases.get(name, name)
        try:
            return self._entries[key]
        except KeyError:
            known = [*self._entries, *self._aliases]
            close = difflib.get_close_matches(name, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownActivationError(f"unknown activation {name!r}{hint}") from None

    def names(self, kind: str | None = None) -> tuple[str, ...]:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        return tuple(n for n, e in self._entries.items() if kind is None or e.kind == kind)

    def __iter__(self) -> Iterator[Entry]:
        return iter(tuple(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases


REGISTRY = Registry()


def register(entry: Entry) -> Entry:
    """Add ``entry`` to the registry (called once, at the end of each family module)."""
    return REGISTRY.register(entry)


def get(name: str) -> Entry:
    """The entry for ``name`` or one of its aliases."""
    return REGISTRY.get(name)


def names(kind: str | None = None) -> tuple[str, ...]:
    """The registered names, optionally of one kind only."""
    return REGISTRY.names(kind)


def entries(kind: str | None = None) -> tuple[Entry, ...]:
    """The registered entries, optionally of one kind only."""
    return tuple(e for e in REGISTRY if kind is None or e.kind == kind)


# --- records of the softmax family, maxout and the losses (issue 3) -------------------------


@dataclass(frozen=True)
class HardRow:
    """One line of a written special-input contract: a 1-D row (with its mask or target)
    and what the entry returns for it (a tuple for vector/grouped kinds, a float otherwise).
    Values are Python floats, so ±inf and NaN are stated exactly."""

    label: str
    x: tuple[float, ...]
    expected: Any
    where: tuple[bool, ...] | None = None
    # A loss's target: a class index, or the target value of an elementwise loss.
    target: Any = None
    # Keyword options of the call, as (name, value) pairs (maxout's pieces, a temperature).
    options: tuple[tuple[str, Any], ...] = ()


def _default_row_ulp() -> dict[str, float]:
    return {"float64": 4.0, "float32": 2.0, "float16": 1.0, "bfloat16": 1.0}


@dataclass(frozen=True)
class RowEntry(Entry):
    """What the entries that act on whole rows (an axis) have in common.

    ``reference`` is an mpmath callable ``(mp, row, *args, **options)`` (see
    ``actlab.oracle_vector``); ``ulp`` the forward bar per dtype (every element, tiny ones
    included); ``product_eps`` the normwise bar of the derivative products per row, in eps of
    the dtype; ``hard_rows`` the special-input contract as data.
    """

    reference: Callable[..., Any] | None = None
    naive: Callable[..., Any] | None = None
    ulp: Mapping[str, float] = field(default_factory=_default_row_ulp)
    product_eps: float = 4.0
    tolerance_overrides: Mapping[tuple[str, str], Tolerance] = field(default_factory=dict)
    hard_rows: tuple[HardRow, ...] = ()

    def ulp_bar(self, dtype_name: str, what: str = "f") -> float:
        override = self.tolerance_overrides.get((dtype_name, what))
        if override is not None:
            return override.ulp
        return self.product_eps if what != "f" else self.ulp.get(dtype_name, 1.0)


@dataclass(frozen=True)
class VectorFunction(RowEntry):
    """f: Rⁿ → Rⁿ along an axis (softmax): products with the Jacobian, and the dense one.

    ``vjp(x, g, axis, **options)``, ``jvp(x, v, axis, **options)``, ``jacobian(x, axis,
    **options)``; ``reference_vjp``/``reference_jvp`` are the mpmath products
    ``(mp, row, w, **options)``.
    """

    fn: Callable[..., Any] = None  # type: ignore[assignment]
    vjp: Callable[..., Any] = None  # type: ignore[assignment]
    jvp: Callable[..., Any] = None  # type: ignore[assignment]
    jacobian: Callable[..., Any] = None  # type: ignore[assignment]
    reference_vjp: Callable[..., Any] | None = None
    reference_jvp: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Reduction(RowEntry):
    """f: Rⁿ → R over axes (logsumexp); ``vjp(x, g, axis, **options)`` has x's shape."""

    fn: Callable[..., Any] = None  # type: ignore[assignment]
    vjp: Callable[..., Any] = None  # type: ignore[assignment]
    reference_vjp: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Grouped(RowEntry):
    """f over groups of ``pieces`` entries along an axis (maxout), with its routing rule."""

    fn: Callable[..., Any] = None  # type: ignore[assignment]
    vjp: Callable[..., Any] = None  # type: ignore[assignment]
    tie_rule: str = ""


@dataclass(frozen=True)
class Loss(RowEntry):
    """A loss of (prediction, target) with its gradient w.r.t. the prediction.

    ``reference(mp, row, target, **options)`` is one row's (or element's) loss and
    ``reference_grad`` its gradient; ``targets`` says what a target may be.
    """

    fn: Callable[..., Any] = None  # type: ignore[assignment]
    grad: Callable[..., Any] = None  # type: ignore[assignment]
    reference_grad: Callable[..., Any] | None = None
    targets: str = ""
    elementwise: bool = False


__all__ += ["Grouped", "HardRow", "Loss", "Reduction", "RowEntry", "VectorFunction"]

"""Vectorisable exp, expm1 and log1p for the compiled kernels (imports numba; loaded lazily).

numba has no SVML here, so ``math.exp`` in a loop is a scalar libm call (no faster than
NumPy). These building blocks are plain arithmetic that LLVM vectorises to AVX2:

* exp: Cody-Waite reduction x = k·ln2 + r (|r| ≤ ln2/2, the split ln2 makes k·LN2_HI exact),
  a Taylor polynomial in r, and 2^k built from its bits. Two precisions: ``exp_w`` (degree
  8, relative error < 3e-10) for results that are rounded to float32, and ``exp_d`` (degree
  13, < 1 ULP of float64, subnormal results included).
* expm1: the polynomial itself for |x| < ln2/2 (no cancellation), exp(x) − 1 beyond.
* log1p on [0, 1]: 2·atanh(s) with s = u/(2 + u) ∈ [0, 1/3], an odd series in s (no 1 + u is
  ever rounded, so log1p(1e−30) = 1e−30 exactly enough).

Every function takes a float64 and computes in float64; kernels that produce float32 round
once at the store. Numba pitfalls (docs/performance.md): ``math.floor`` on float32 returns
int64 and promotes; ``error_model='python'`` adds a division check that blocks
vectorisation; loops must run 0-based; the reduction passes need ``reassoc``, which must
never reach the exp core (it would fold the rounding trick below), so reductions live in
their own small functions.
"""

from __future__ import annotations

import math

import numba
from numba import njit, types
from numba.extending import intrinsic

from .config import cache_dir, cpu_features, has_avx512f

# Must be set before the first @njit(cache=True) below creates its cache locator.
numba.config.CACHE_DIR = cache_dir()


def _use_wide_vectors() -> None:
    """512-bit vectors on a CPU with AVX-512 (``config.cpu_features``), unless the user chose
    numba's CPU or its features (``NUMBA_CPU_NAME``, ``NUMBA_CPU_FEATURES``). numba reads
    this when it first compiles, for every function it compiles in this process; if it has
    compiled before, its code generator keeps the features it started with (and caches
    under those)."""
    if numba.config.CPU_FEATURES is not None or numba.config.CPU_NAME is not None:
        return
    host = _host_features()
    if host is not None:  # None: no feature list on this platform, numba's defaults stand
        numba.config.CPU_FEATURES = cpu_features(host)


def _host_features() -> str | None:
    """LLVM's feature list of this CPU, or None where the platform gives none."""
    from llvmlite import binding

    try:
        return binding.get_host_cpu_features().flatten()
    except RuntimeError:
        return None


_use_wide_vectors()


def wide_vectors() -> bool:
    """Whether numba compiles for a CPU with AVX-512F (the features its code generator uses:
    ``NUMBA_CPU_FEATURES`` or ours from ``_use_wide_vectors``, else the host's): kernels
    that choose a vector width at compile time ask this."""
    features = numba.config.CPU_FEATURES
    if features is None:
        features = _host_features() or ""
    return has_avx512f(features)


# The options every kernel shares: cached on disk, numpy error model (no division check).
SCALAR = {"cache": True, "error_model": "numpy", "inline": "always", "fastmath": {"contract"}}
KERNEL = {"cache": True, "error_model": "numpy", "nogil": True, "fastmath": {"contract"}}
PARALLEL = {**KERNEL, "parallel": True}
# Only for reductions over already-computed values (sums, maxima).
REDUCE = {**KERNEL, "fastmath": {"reassoc", "nsz", "contract"}}

INV_LN2 = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01  # 32 trailing zero bits: k·LN2_HI is exact for |k| < 2^20
LN2_LO = 1.90821492927058770002e-10
LN2 = 0.6931471805599453
SHIFTER = 6755399441055744.0  # 1.5·2^52: x + SHIFTER − SHIFTER rounds x to an integer
# Below this, exp underflows to 0 in float64 (and well before, for a float32 result).
EXP_MIN = -745.5
EXP_MAX = 709.78
# The lowest argument ``exp_w`` takes: its result 2^−1022 is normal, and far below anything
# that survives rounding to float32 even after multiplying by float32's largest value.
EXP_W_MIN = -708.0


@intrinsic
def _as_f64(typingctx, v):
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _as_i64(typingctx, v):
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (LLVM's fma intrinsic; FMA3 hardware on x86-64-v3), in float64,
    or in float32 when all three are float32."""
    t = types.float32 if a == b == c == types.float32 else types.float64
    sig = t(t, t, t)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


_SHIFTER_BITS = 0x4338000000000000  # the bits of SHIFTER


@njit(**SCALAR)
def _round_k(x):
    """(k as a float, k as an int64) with k = round(x/ln2); the shifter's low bits hold k."""
    t = x * INV_LN2 + SHIFTER
    return t - SHIFTER, _as_i64(t) - _SHIFTER_BITS


@njit(**SCALAR)
def _pow2(k):
    """2^k for an integer k in [−1022, 1023]."""
    return _as_f64((k + 1023) << 52)


@njit(**SCALAR)
def _reduce(x, kf):
    return (x - kf * LN2_HI) - kf * LN2_LO


@njit(**SCALAR)
def _poly8(r):
    """exp(r) − 1 for |r| ≤ ln2/2, Taylor to r^8 (truncation < 2.1e−10 relative)."""
    p = 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    return r + (r * r) * p


@njit(**SCALAR)
def _poly13(r):
    """exp(r) − 1 for |r| ≤ ln2/2, Taylor to r^13 (truncation < 4e−18 relative)."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    return r + (r * r) * p


@njit(**SCALAR)
def exp_parts_w(x):
    """(p, s) with e^x = s + p·s and e^x − 1 = p·s + (s − 1), s = 2^k, |p| < 0.42.

    One reduction serves both exp and expm1: s − 1 is exact for the k that occur, and p·s
    carries the relative accuracy of the polynomial (< 3e−10), so expm1 has no cancellation
    (for k = 0 it is p itself). Arguments below EXP_W_MIN give s = 0 (exp = 0, expm1 = −1).
    """
    xc = x if x < EXP_MAX else EXP_MAX
    xc = xc if xc > EXP_W_MIN else EXP_W_MIN
    kf, k = _round_k(xc)
    p = _poly8(_reduce(xc, kf))
    s = _pow2(k)
    s = s if x > EXP_W_MIN else 0.0
    return p, s


@njit(**SCALAR)
def exp_w(x):
    """e^x for x ≤ 709, relative error < 3e−10: for results rounded to float32.

    Arguments below EXP_W_MIN give 0 instead of the exact tiny value (< 2^−1021); every
    caller rounds to float32, where both are 0 (parameters are kept moderate by the dispatch).
    Branch-free (selects only), so that the loops around it vectorise.
    """
    p, s = exp_parts_w(x)
    return s + p * s


@njit(**SCALAR)
def exp_dd(hi, lo):
    """e^(hi + lo) as an unevaluated sum eh + el, good to 2e−17 relative (under a tenth of an
    ULP), for |lo| ≤ ulp(hi).

    e^r = 1 + q is kept as the exact pair two_sum(1, q) and the lo factor is folded into the
    low part, so a caller can divide (eh + el)/(sh + sl) to within half an ULP plus a hair.
    Subnormal results are rounded in the scaling (an absolute error below one subnormal ULP).
    """
    return exp_dd_scaled(hi, lo, 0)


@njit(**SCALAR)
def exp_dd_scaled(hi, lo, extra):
    """e^(hi + lo)·2^extra as a pair (see ``exp_dd``); with extra ≥ 330 the pair is normal
    (exact to 2e−17) even where e^(hi+lo) itself is subnormal. 0 ≤ extra ≤ 500.

    e^r = 1 + q is kept as the exact pair two_sum(1, q) and the lo factor is folded into the
    low part, so a caller can divide (eh + el)/(sh + sl) to within half an ULP plus a hair.
    Subnormal results are rounded in the scaling (an absolute error below one subnormal ULP).
    """
    low = EXP_MIN - extra * LN2  # below: e^x·2^extra < 2^−1075, which rounds to 0
    x = hi if hi > low else low
    x = x if x < EXP_MAX else EXP_MAX
    kf, k = _round_k(x)
    r_hi = x - kf * LN2_HI  # exact
    p = kf * LN2_LO
    r = r_hi - p
    # What the rounding of r (and of k·LN2_LO) dropped; it joins lo: e^(r + δ) = e^r(1 + δ).
    lo = lo + (((r_hi - r) - p) - fma(kf, LN2_LO, -p))
    t = (r * r) * _poly13_tail(r)
    q = r + t
    q_lo = (r - q) + t  # Fast2Sum (|r| ≥ |t|): e^r − 1 = q + q_lo to ~1e−19
    a = 1.0 + q
    bv = a - 1.0
    b = (1.0 - (a - bv)) + (q - bv)
    b = (b + q_lo) + lo * a
    k1 = _as_i64(math.floor(kf * 0.5) + SHIFTER) - _SHIFTER_BITS
    s1 = _pow2(k1 + extra)
    s2 = _pow2(k - k1)
    keep = hi > low
    return ((a * s1) * s2 if keep else 0.0), ((b * s1) * s2 if keep else 0.0)


@njit(**SCALAR)
def expm1_w(x):
    """e^x − 1 for x ≤ 709, relative error < 1e−9 (−0.0 kept): for float32 results."""
    p, s = exp_parts_w(x)
    r = p * s + (s - 1.0)
    return x if x == 0 else r


@njit(**SCALAR)
def _poly13_tail(r):
    """(e^r − 1 − r)/r² for |r| ≤ ln2/2, the Taylor terms of ``_poly13`` after r."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    return p * r + 0.5


@njit(**SCALAR)
def exp_d(x):
    """e^x to within one float64 ULP, subnormal results included (x clamped to the range)."""
    x = x if x > EXP_MIN else EXP_MIN
    x = x if x < EXP_MAX else EXP_MAX
    kf, k = _round_k(x)
    p = 1.0 + _poly13(_reduce(x, kf))
    # Two factors 2^k1·2^k2: each is normal, and the product rounds once (to a subnormal
    # where e^x is one). k1 = floor(k/2) via the float k (AVX2 has no 64-bit arithmetic shift).
    k1f = math.floor(kf * 0.5)
    k1 = _as_i64(k1f + SHIFTER) - _SHIFTER_BITS
    return (p * _pow2(k1)) * _pow2(k - k1)


@njit(**SCALAR)
def log1p_unit(u):
    """log(1 + u) for u ∈ [0, 1], relative error < 1e−13, as 2·atanh(u/(2+u))."""
    s = u / (2.0 + u)
    z = s * s
    # atanh(s)/s = Σ z^n/(2n+1); z ≤ 1/9, 13 terms leave < 1e−14.
    p = 1.0 / 27.0
    p = p * z + 1.0 / 25.0
    p = p * z + 1.0 / 23.0
    p = p * z + 1.0 / 21.0
    p = p * z + 1.0 / 19.0
    p = p * z + 1.0 / 17.0
    p = p * z + 1.0 / 15.0
    p = p * z + 1.0 / 13.0
    p = p * z + 1.0 / 11.0
    p = p * z + 1.0 / 9.0
    p = p * z + 1.0 / 7.0
    p = p * z + 1.0 / 5.0
    p = p * z + 1.0 / 3.0
    return 2.0 * s + (2.0 * s) * (z * p)

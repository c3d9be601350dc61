"""Compiled softmax over short rows (n ≤ ``rowpath.SHORT_ROW``, e.g. 10 classes), float32 and
float64 (numba).

A loop per row would run its max, exp and sum over n values at a time: with n = 10 the
exp's vectors are mostly empty and the per-row reductions are scalar chains. Here the rows
are held transposed, one vector lane per row (``_lane_transpose``: tiles of rows moved by
register shuffles, the row maxima found on the way), and the stages work on whole vectors
of rows:

1. entry k of every row side by side, and each row's max m;
2. the exponentials e^(x − m) (the row kernels' own lean exps: float32 as pairs, float64 one
   number rounded once; both of the exact x − m, so the result is within the bars however
   far an entry lies below its max);
3. their sum per lane, compensated: it starts at the scale S (2^32 float32, 2^64 float64),
   above every term, so each addition's error is recovered exactly by Fast2Sum;
4. per row: the sum as a normalised pair, its reciprocal, and whether the row must go to the
   NumPy path (a NaN sum, or a max that is not finite: NaN entries, +∞, a row of −∞; in
   float32 also a −∞ entry of an ordinary row, whose exact x − m the lean exp makes NaN);
5. the quotients, rounded once, transposed back into a row-major staging block of 64 rows
   and streamed to the output (whole cache lines with non-temporal stores: no read of the
   output lines first).

float64 runs all five stages for four rows at a time in registers, unrolled for the row
length (``_lane_softmax``). float32 runs each stage as a loop over a block of 64 rows held
transposed in scratch arrays (``xt``, lane-major), each storing its results for the next.
The short stages are inlined into the block loop (with a call per stage and block, numba's
reference counting of the scratch arrays cost more than the transposes); the exp is one
call per block, for its constants (``_exp_w``), and a stage of its own: its loop is limited
by its dependency chain and by how many iterations the core holds in flight, and the sums
fused into it slowed it by more than a pass of their own costs (measured). The scratch is
allocated once per parallel chunk of many blocks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from ._exp_rows32 import exp_neg_pair
from ._lane_softmax import softmax_rows_d
from ._lane_transpose import rows_to_lanes, stream_out, tile_to_rows, tiles
from ._numba_math import KERNEL, PARALLEL, SCALAR, fma
from ._stream import fence

# Rows per block, the lanes of the transposed scratch: at n = 10 each scratch array holds
# 640 values and the block's scratch stays in L1 (128 rows measured no faster). A constant:
# with a runtime width the lane loops got remainder paths, and the exp and scaling passes
# took 1.2× and 2× the time.
BLOCK = 64
LANES_W = 8  # float32 lanes per 32-byte register
LANES_D = 4

_F = np.float32
_START_W = _F(2.0**32)  # = the max's own term: e^0 scaled by the pair exp's 2^32
_SCALE_W = _F(2.0**64)  # the quotient is computed ×2^64 so that no step is subnormal
_UNSCALE_W = _F(2.0**-64)
_ONE_W = _F(1.0)
_ZERO_W = _F(0.0)
_INF_W = _F(math.inf)


# ----------------------------------------------------------------------- both widths


@njit(**SCALAR)
def _to_lanes(x, base, rows, n, xt, m, width, lanes, tl):
    """xt[k·width + i] = x[base + i·n + k] and m[i] = max_k of it, for the block's rows
    i < rows: whole groups of ``lanes`` rows by tiles (``tl``), the rest one by one."""
    full = rows // lanes * lanes if tl.shape[0] > 0 else 0
    for i0 in range(0, full, lanes):
        rows_to_lanes(xt, x, base + i0 * n, n, tl, i0, width, m)
    for i in range(full, rows):
        top = x[base + i * n]
        for k in range(n):
            v = x[base + i * n + k]
            xt[k * width + i] = v
            top = v if v > top else top
        m[i] = top


@njit(**SCALAR)
def _from_lanes(yt, n, width, rows, out, lanes, tl):
    """out[i·n + k] = yt[k·width + i] for i < rows (the inverse of ``_to_lanes``)."""
    full = rows // lanes * lanes if tl.shape[0] > 0 else 0
    for i0 in range(0, full, lanes):
        for t in range(tl.shape[0]):
            tile_to_rows(out, i0 * n, n, yt, tl[t, 0], tl[t, 1], i0, width)
    for i in range(full, rows):
        for k in range(n):
            out[i * n + k] = yt[k * width + i]


@njit(**SCALAR)
def _flag(bad, rows, flags, r0):
    for i in range(rows):
        flags[r0 + i] = bad[i]


# ----------------------------------------------------------------------- float32


@njit(**KERNEL)
def _exp_w(xt, m, n, width, neg_m, eh, el):
    """eh + el = e^(x − m)·2^32 per entry (``exp_neg_pair``: el may reach 6% of eh).

    A function of its own, its exp one flat loop over the block (−m spread to every entry
    first): as the outermost loop of a function, LLVM keeps the exp's constants in registers
    and stack slots; nested in the block loop, it rebuilt them in every iteration (two more
    instructions per constant, 1.2× the time in float64)."""
    for k in range(n):
        for i in range(width):
            neg_m[k * width + i] = -m[i]
    for j in range(n * width):
        h, low = exp_neg_pair(xt[j], neg_m[j])
        eh[j] = h
        el[j] = low


@njit(**SCALAR)
def _sum_w(eh, el, n, width, s, c):
    """s + c − 2^32 = Σ_k (eh + el) per lane: each pair normalised in place (Fast2Sum: el
    then below half an ULP of eh), its high part added to s ≥ 2^32 ≥ it with the error
    recovered (Fast2Sum), the small rest in c (≤ n·2^−23 of the sum, so c's own roundings
    stay near 2^−47 of it). Summed unnormalised, c would hold up to 6% of the sum and its
    roundings reach 0.6 ULP at n = 10."""
    for i in range(width):
        s[i] = _START_W
        c[i] = _ZERO_W
    for k in range(n):
        for i in range(width):
            h = eh[k * width + i]
            low = el[k * width + i]
            hh = h + low
            ll = (h - hh) + low
            eh[k * width + i] = hh
            el[k * width + i] = ll
            a = s[i]
            t = a + hh
            c[i] += (hh - (t - a)) + ll
            s[i] = t


@njit(**SCALAR)
def _recip_w(s, c, m, rh, rl, bad):
    """rh + rl = 2^64/Σ to ~2^−46 (a float32 division and one correction with the exact
    residual, an FMA), and bad = 1 for a row the NumPy path must take."""
    for i in range(s.shape[0]):
        t = s[i] - _START_W  # exact
        t_hi = t + c[i]
        t_lo = (t - t_hi) + c[i]
        ok = (t_hi == t_hi) & (abs(m[i]) < _INF_W)
        t_hi = t_hi if ok else _ONE_W
        t_lo = t_lo if ok else _ZERO_W
        r0 = _ONE_W / t_hi
        residual = fma(-t_hi, r0, _ONE_W) - t_lo * r0
        rh[i] = r0 * _SCALE_W
        rl[i] = (r0 * residual) * _SCALE_W
        bad[i] = 0 if ok else 1


@njit(**SCALAR)
def _scale_w(eh, el, n, width, rh, rl, yt):
    """yt = (eh + el)·(rh + rl)·2^−64 (normalised pairs), rounded once where it matters: the
    small products (≤ 2^−23 of the result) in one FMA, the large one in the last FMA (×2^−64
    is exact unless the result is subnormal, where it is its only rounding but for 2^−24
    relative). Max error measured 0.79 ULP (full row audit), as the float64 scaling before."""
    for k in range(n):
        for i in range(width):
            h = eh[k * width + i]
            small = fma(el[k * width + i], rh[i], h * rl[i])
            yt[k * width + i] = fma(h, rh[i], small) * _UNSCALE_W


@njit(**PARALLEL)
def softmax_short_w(x, out, flags, chunk):
    """float32 softmax over the rows of ``x`` (n ≤ ``rowpath.SHORT_ROW``) into ``out``;
    rows that hold NaN or ±∞ get flags = 1 (their output is meaningless: the caller's
    NumPy path overwrites it). ``chunk``: rows per parallel chunk (a multiple of the block)."""
    n_rows, n = x.shape
    xf = x.reshape(n_rows * n)
    of = out.reshape(n_rows * n)
    width = BLOCK
    tl = tiles(n, LANES_W)
    size = max(n, LANES_W) * width
    n_blocks = (n_rows + width - 1) // width
    per_chunk = max(1, chunk // width)
    for c in prange((n_blocks + per_chunk - 1) // per_chunk):
        xt = np.zeros(size, dtype=np.float32)  # unused lanes of a last block: finite
        eh = np.empty(size, dtype=np.float32)
        el = np.empty(size, dtype=np.float32)
        neg_m = np.empty(size, dtype=np.float32)
        staging = np.empty(width * n, dtype=np.float32)
        m = np.zeros(width, dtype=np.float32)
        s = np.empty(width, dtype=np.float32)
        cs = np.empty(width, dtype=np.float32)
        rh = np.empty(width, dtype=np.float32)
        rl = np.empty(width, dtype=np.float32)
        bad = np.empty(width, dtype=np.int8)
        for b in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
            r0 = b * width
            rows = min(n_rows, r0 + width) - r0
            _to_lanes(xf, r0 * n, rows, n, xt, m, width, LANES_W, tl)
            _exp_w(xt, m, n, width, neg_m, eh, el)
            _sum_w(eh, el, n, width, s, cs)
            _recip_w(s, cs, m, rh, rl, bad)
            _flag(bad, rows, flags, r0)
            _scale_w(eh, el, n, width, rh, rl, xt)  # xt is free again: the quotients
            _from_lanes(xt, n, width, rows, staging, LANES_W, tl)
            stream_out(staging[: rows * n], of[r0 * n : (r0 + rows) * n])
        fence()


# ----------------------------------------------------------------------- float64


@njit(**SCALAR)
def _single_entries(x, out, flags):
    """Rows of one entry (no tiles): e^0/e^0 = 1 where the entry is finite; the others are
    flagged for the NumPy path."""
    for r in range(x.shape[0]):
        out[r, 0] = 1.0
        flags[r] = 0 if abs(x[r, 0]) < math.inf else 1


@njit(**PARALLEL)
def _softmax_short_d(x, out, flags, chunk, row):
    """``softmax_short_d`` for rows of n = len(row) entries, 2 ≤ n ≤ 32 (``row``: a tuple that
    gives n to the compiler, ``_lane_softmax``)."""
    n_rows, n = x.shape
    xf = x.reshape(n_rows * n)
    of = out.reshape(n_rows * n)
    width = BLOCK
    size = n * width
    n_blocks = (n_rows + width - 1) // width
    whole = n_rows // width
    per_chunk = max(1, chunk // width)
    for c in prange((n_blocks + per_chunk - 1) // per_chunk):
        staging = np.empty(size, dtype=np.float64)
        bad = np.empty(width, dtype=np.int8)
        for b in range(c * per_chunk, min(n_blocks, (c + 1) * per_chunk)):
            r0 = b * width
            rows = min(n_rows, r0 + width) - r0
            if b < whole:
                # The next whole block's lines are asked for while this one computes.
                ahead = size if b + 1 < whole else 0
                for i0 in range(0, width, LANES_D):
                    softmax_rows_d(staging, i0 * n, xf, (r0 + i0) * n, row, ahead, bad, i0)
            else:
                # A last block of fewer rows, copied first: its groups read whole rows.
                tail = np.zeros(size, dtype=np.float64)
                tail[: rows * n] = xf[r0 * n :]
                for i0 in range(0, width, LANES_D):
                    softmax_rows_d(staging, i0 * n, tail, i0 * n, row, 0, bad, i0)
            _flag(bad, rows, flags, r0)
            stream_out(staging[: rows * n], of[r0 * n : (r0 + rows) * n])
        fence()


def softmax_short_d(x, out, flags, chunk):
    """float64 softmax over the rows of ``x`` (n ≤ ``rowpath.SHORT_ROW``) into ``out``, as
    ``softmax_short_w``: four rows at a time in registers (``_lane_softmax``), the kernel
    compiled for each row length n in use."""
    n = x.shape[1]
    if n < 2:
        _single_entries(x, out, flags)
    else:
        _softmax_short_d(x, out, flags, chunk, (0,) * n)

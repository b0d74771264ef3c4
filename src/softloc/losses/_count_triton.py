"""The counting loss L_PB (paper Eq. 15-17) as one fused Triton kernel, for CUDA tensors.

:func:`softloc.losses.counting_loss` picks this path for CUDA input when ``triton`` imports and
``SOFTLOC_DISABLE_TRITON`` is not set; it imports this module lazily, so ``import softloc`` never
imports ``triton``. The method is that of the compiled CPU kernel (``_count_kernel.c``):

- one program per row (one sequence and class), ``K = sum_t Bernoulli(sigmoid(l_t))`` over the
  row's valid steps and ``c`` its labelled count;
- symmetry: ``P(K = c)`` with logits ``l`` equals ``P(K = n - c)`` with logits ``-l``, so the
  recursion runs to ``c_e = min(c, n - c) <= n / 2`` (``n`` valid steps);
- exponential tilting: for any ``theta``,
  ``log P(K = c) = -theta c + sum_t [softplus(l_t + theta) - softplus(l_t)] + log P_theta(c)``
  with ``P_theta`` the law under ``q_t = sigmoid(l_t + theta)``. Safeguarded Newton steps (inside
  the kernel) bring ``sum_t q_t`` within ``0.5 + sd`` of ``c_e``, so ``P_theta(c_e)`` sits near
  the mode and a linear-space recursion neither underflows nor loses precision;
- the recursion over counts ``F_{t+1}(k) = (1 - q_t) F_t(k) + q_t F_t(k - 1)``, truncated at
  degree ``c_e`` (exact: the coefficients up to degree ``c_e`` of a product of polynomials depend
  only on the factors' coefficients up to that degree), is held in one block of ``WIDTH``
  registers (a power of two ``> c_e``) and stepped by a loop over time inside the kernel;
- the gradient in closed form ``d(-log P(K = c)) / d l_t = sigmoid(l_t) - P(b_t = 1 | K = c)``,
  the posterior ``q_t sum_k F_t(k) B_{t+1}(c_e - 1 - k) / P_theta(c_e)`` from a backward
  recursion ``B``; the forward vectors are checkpointed every ``S ~ sqrt(T)`` steps (global
  scratch) and recomputed one block at a time, so a row costs three recursions of ``T`` steps and
  ``O((T / S + S) WIDTH)`` scratch;
- ``c_e = 0`` in closed form: ``-log P(K = 0) = sum_t softplus(l_t)``, gradient ``sigmoid(l_t)``.

Masked steps are identity factors (``q = 0``) with zero gradient. The recursion runs in float64
by default (:data:`COMPUTE_DTYPE`); the tilt, the sums and the loss formula always do. Measured
under the interpreter at T = 20,000 and counts 1, 37, 100 against the float64 tree product:
with a float64 recursion the loss is within 3e-16 (relative) and the gradient within 6e-14; with
a float32 recursion the loss stays within 2e-9, and the gradient within 4e-8 for logits of
moderate spread but only within 9.1e-6 (relative 9e-3) for logits ``8 randn - 6``: too close to
the 1e-5 target, so float64 is the default. (Its cost should be modest on data-centre GPUs,
whose float64 rate is half the float32 one, as the loop over time is latency-bound; on consumer
GPUs float64 is slow and ``COMPUTE_DTYPE = torch.float32`` is the trade. Not measured.)

Sizes: ``WIDTH`` is the next power of two above the largest effective count of the batch (at
least 16; one compiled variant per width), at most 2048 (:data:`MAX_COUNT`; a larger count goes
to the tree product); one warp up to width 256, two at 512, four beyond; the vectorised passes
over time take ``128 * warps`` steps at a time (four per thread: wider blocks spilled registers in
an sm_90 build). Rows are launched in chunks whose scratch fits in 512 MiB.

Status: tested on the CPU under Triton's interpreter (``TRITON_INTERPRET=1``) only, against
float64 brute force, the tree product and the CPU kernel, and compiled ahead of time for sm_90
(cubin, no register spills); it has never been run on a GPU, so its speed is unknown.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["COMPUTE_DTYPE", "MAX_COUNT", "count_nll", "counting_nll"]

#: Floating type of the recursion (float64 or float32). The tilt and all sums are float64.
COMPUTE_DTYPE = torch.float64
#: Largest effective count ``min(c, n - c)`` handled; larger ones go to the tree product.
MAX_COUNT = 2047
_NEWTON_ITERATIONS = 100
_SCRATCH_BYTES = 512 * 1024 * 1024  # per launch; rows are launched in chunks that fit


@triton.jit
def _log1p_of_small(e):
    """log(1 + e) for 0 <= e <= 1, accurate for tiny e (Goldberg's trick)."""
    u = 1.0 + e
    d = u - 1.0
    return tl.where(d == 0.0, e, tl.log(u) * (e / tl.where(d == 0.0, 1.0, d)))


@triton.jit
def _sigmoids(v):
    """sigmoid(v) and sigmoid(-v) = 1 - sigmoid(v), each to full relative precision."""
    e = tl.exp(-tl.abs(v))
    big = 1.0 / (1.0 + e)
    small = e * big
    positive = v >= 0.0
    return tl.where(positive, big, small), tl.where(positive, small, big)


@triton.jit
def _bernoulli(v):
    """sigmoid(v), sigmoid(-v) and softplus(v) without overflow or cancellation."""
    e = tl.exp(-tl.abs(v))
    big = 1.0 / (1.0 + e)
    small = e * big
    positive = v >= 0.0
    return tl.where(positive, big, small), tl.where(positive, small, big), \
        tl.maximum(v, 0.0) + _log1p_of_small(e)


@triton.jit
def _valid(mask_row, idx, inside, HAS_MASK: tl.constexpr):
    if HAS_MASK:
        return inside & (tl.load(mask_row + idx, mask=inside, other=0) != 0)
    else:
        return inside


@triton.jit
def _valid_step(mask_row, t, HAS_MASK: tl.constexpr):
    if HAS_MASK:
        return tl.load(mask_row + t) != 0
    else:
        return t >= 0


@triton.jit
def _tilted_moments(x_row, mask_row, length, sign, theta,
                    HAS_MASK: tl.constexpr, SPAN: tl.constexpr):
    """sum_t q_t and sum_t q_t (1 - q_t) over valid steps, q_t = sigmoid(sign l_t + theta)."""
    offsets = tl.arange(0, SPAN)
    mean = tl.zeros([SPAN], dtype=tl.float64)
    var = tl.zeros([SPAN], dtype=tl.float64)
    for start in range(0, length, SPAN):
        idx = start + offsets
        inside = idx < length
        on = _valid(mask_row, idx, inside, HAS_MASK)
        x = tl.load(x_row + idx, mask=inside, other=0.0).to(tl.float64) * sign
        q, a = _sigmoids(x + theta)
        mean += tl.where(on, q, 0.0)
        var += tl.where(on, q * a, 0.0)
    return tl.sum(mean, axis=0), tl.sum(var, axis=0)


@triton.jit
def _step(f, x, on, theta, k, WIDTH: tl.constexpr, DTYPE: tl.constexpr):
    """One factor of the recursion: f(k) <- (1 - q) f(k) + q f(k - 1)."""
    q, a = _sigmoids(x + theta)
    q = tl.where(on, q, 0.0).to(DTYPE)
    a = tl.where(on, a, 1.0).to(DTYPE)
    below = tl.gather(f, tl.maximum(k - 1, 0), 0)
    below = tl.where(k == 0, 0.0, below).to(DTYPE)
    return a * f + q * below


@triton.jit
def _count_nll_kernel(
    logits_ptr, counts_ptr, steps_ptr, mask_ptr, loss_ptr, grad_ptr, checkpoint_ptr, table_ptr,
    row_start, length, classes, block_steps, blocks,
    HAS_MASK: tl.constexpr, NEED_GRAD: tl.constexpr, WIDTH: tl.constexpr, SPAN: tl.constexpr,
    DTYPE: tl.constexpr, NEWTON_ITERATIONS: tl.constexpr,
):
    local = tl.program_id(0)
    row = row_start + local
    count = tl.load(counts_ptr + row)
    steps = tl.load(steps_ptr + row)
    flip = 2 * count > steps
    sign = tl.where(flip, -1.0, 1.0).to(tl.float64)
    c_e = tl.where(flip, steps - count, count)
    c_f = c_e.to(tl.float64)
    x_row = logits_ptr + row.to(tl.int64) * length
    mask_row = mask_ptr + (row // classes).to(tl.int64) * length
    offsets = tl.arange(0, SPAN)

    # Pass over the row: sum softplus, moments at theta = 0, extreme logits (all float64).
    softplus = tl.zeros([SPAN], dtype=tl.float64)
    mean_v = tl.zeros([SPAN], dtype=tl.float64)
    var_v = tl.zeros([SPAN], dtype=tl.float64)
    high_v = tl.full([SPAN], -1.0e308, dtype=tl.float64)
    low_v = tl.full([SPAN], 1.0e308, dtype=tl.float64)
    for start in range(0, length, SPAN):
        idx = start + offsets
        inside = idx < length
        on = _valid(mask_row, idx, inside, HAS_MASK)
        x = tl.load(x_row + idx, mask=inside, other=0.0).to(tl.float64) * sign
        p, pc, sp = _bernoulli(x)
        softplus += tl.where(on, sp, 0.0)
        mean_v += tl.where(on, p, 0.0)
        var_v += tl.where(on, p * pc, 0.0)
        high_v = tl.maximum(high_v, tl.where(on, x, -1.0e308))
        low_v = tl.minimum(low_v, tl.where(on, x, 1.0e308))
        if NEED_GRAD:
            if c_e == 0:  # closed form: d/dl_t = sigmoid(l_t)
                g = tl.where(on, p * sign, 0.0)
                tl.store(grad_ptr + row.to(tl.int64) * length + idx,
                         g.to(grad_ptr.dtype.element_ty), mask=inside)
    softplus_sum = tl.sum(softplus, axis=0)
    mean = tl.sum(mean_v, axis=0)
    var = tl.sum(var_v, axis=0)
    loss = softplus_sum

    if c_e > 0:
        # Tilt: safeguarded Newton on g(theta) = sum_t sigmoid(x_t + theta) - c_e, increasing,
        # bracketed by g(base - max x) <= 0 <= g(base - min x).
        base = tl.log(c_f / (steps.to(tl.float64) - c_f))
        low = base - tl.max(high_v, axis=0)
        high = base - tl.min(low_v, axis=0)
        theta = softplus_sum * 0.0
        done = (tl.abs(mean - c_f) <= 0.5 + tl.sqrt(var)).to(tl.int32)
        for iteration in range(NEWTON_ITERATIONS):
            if done == 0:
                g = mean - c_f
                low = tl.where(g < 0.0, tl.maximum(low, theta), low)
                high = tl.where(g < 0.0, high, tl.minimum(high, theta))
                middle = 0.5 * (low + high)
                proposal = tl.where(var > 0.0, theta - g / tl.where(var > 0.0, var, 1.0), middle)
                proposal = tl.where((proposal > low) & (proposal < high), proposal, middle)
                stuck = proposal == theta
                theta = proposal
                mean, var = _tilted_moments(x_row, mask_row, length, sign, theta, HAS_MASK, SPAN)
                close = tl.abs(mean - c_f) <= 0.5 + tl.sqrt(var)
                done = (stuck | close).to(tl.int32)

        # sum_t softplus(x_t + theta) over valid steps.
        tilted = tl.zeros([SPAN], dtype=tl.float64)
        for start in range(0, length, SPAN):
            idx = start + offsets
            inside = idx < length
            on = _valid(mask_row, idx, inside, HAS_MASK)
            x = tl.load(x_row + idx, mask=inside, other=0.0).to(tl.float64) * sign
            q_unused, a_unused, sp = _bernoulli(x + theta)
            tilted += tl.where(on, sp, 0.0)
        shift = tl.sum(tilted, axis=0) - softplus_sum

        # Forward recursion; checkpoints every block_steps steps for the gradient.
        k = tl.arange(0, WIDTH)
        scratch = local.to(tl.int64) * WIDTH
        f = tl.where(k == 0, 1.0, 0.0).to(DTYPE)
        for t in range(0, length):
            if NEED_GRAD:
                if t % block_steps == 0:
                    slot = scratch * blocks + (t // block_steps) * WIDTH
                    tl.store(checkpoint_ptr + slot + k, f)
            on = _valid_step(mask_row, t, HAS_MASK)
            x = tl.load(x_row + t).to(tl.float64) * sign
            f = _step(f, x, on, theta, k, WIDTH, DTYPE)
        p_c = tl.sum(tl.where(k == c_e, f, 0.0).to(tl.float64), axis=0)
        loss = theta * c_f - shift - tl.log(p_c)

        if NEED_GRAD:
            inverse = 1.0 / p_c
            table = table_ptr + scratch * block_steps
            b = tl.where(k == c_e, 1.0, 0.0).to(DTYPE)  # b(i) = B(c_e - i), B(0) = 1
            for j in range(0, blocks):
                block = blocks - 1 - j
                first = block * block_steps
                stop = tl.minimum(first + block_steps, length)
                f = tl.load(checkpoint_ptr + (scratch * blocks + block * WIDTH) + k)
                for t in range(first, stop):
                    tl.store(table + (t - first) * WIDTH + k, f)
                    on = _valid_step(mask_row, t, HAS_MASK)
                    x = tl.load(x_row + t).to(tl.float64) * sign
                    f = _step(f, x, on, theta, k, WIDTH, DTYPE)
                tl.debug_barrier()
                for i in range(0, stop - first):
                    t = stop - 1 - i
                    f_t = tl.load(table + (t - first) * WIDTH + k)
                    on = _valid_step(mask_row, t, HAS_MASK)
                    x = tl.load(x_row + t).to(tl.float64) * sign
                    q, a = _sigmoids(x + theta)
                    p, p_complement = _sigmoids(x)
                    above = tl.gather(b, tl.minimum(k + 1, WIDTH - 1), 0)
                    above = tl.where(k + 1 < WIDTH, above, 0.0).to(DTYPE)
                    s1 = tl.sum(f_t.to(tl.float64) * above.to(tl.float64), axis=0)
                    g = tl.where(on, p - q * s1 * inverse, 0.0) * sign
                    tl.store(grad_ptr + row.to(tl.int64) * length + t,
                             g.to(grad_ptr.dtype.element_ty))
                    q = tl.where(on, q, 0.0).to(DTYPE)
                    a = tl.where(on, a, 1.0).to(DTYPE)
                    b = a * b + q * above
                tl.debug_barrier()
    tl.store(loss_ptr + row, loss)


_TRITON_DTYPES = {torch.float32: tl.float32, torch.float64: tl.float64}


def count_nll(
    logits: Tensor,
    counts: Tensor,
    mask: Tensor | None,
    classes: int,
    *,
    need_grad: bool,
    compute_dtype: torch.dtype | None = None,
) -> tuple[Tensor, Tensor | None]:
    """Launch the kernel: ``-log P(K = c)`` per row and, if asked, its gradient.

    Works on CUDA tensors, and on CPU tensors under Triton's interpreter
    (``TRITON_INTERPRET=1`` set before ``triton`` is imported), which is how it is tested.

    Parameters
    ----------
    logits:
        ``(R, T)`` logits, any floating type, one row per (sequence, class); rows
        ``s * classes .. (s + 1) * classes - 1`` belong to sequence ``s``.
    counts:
        ``(R,)`` integer counts ``c``, ``0 <= c <= n`` (the row's valid steps). Not checked
        here: :func:`softloc.losses.counting_loss` validates the values before the launch.
    mask:
        ``None`` or boolean ``(R // classes, T)``, True on valid steps (at least one per row).
    classes:
        Number of consecutive rows that share a mask row.
    need_grad:
        Also return ``d loss / d logits``.
    compute_dtype:
        Type of the recursion, ``torch.float64`` (default, :data:`COMPUTE_DTYPE`) or
        ``torch.float32``.

    Returns
    -------
    tuple of Tensor
        The loss ``(R,)`` in float64 and the gradient ``(R, T)`` in the logits' type (or
        ``None``).

    Raises
    ------
    ValueError
        If an effective count ``min(c, n - c)`` exceeds :data:`MAX_COUNT`.
    RuntimeError
        If the tilted probability underflowed (not seen in tests; the CPU kernel raises too).
    """
    dtype = _TRITON_DTYPES[compute_dtype or COMPUTE_DTYPE]
    logits = logits.contiguous()
    rows, length = logits.shape
    device = logits.device
    if mask is not None:
        mask = mask.to(device=device, dtype=torch.bool).contiguous()
        steps = mask.sum(dim=1).repeat_interleave(classes)
        mask_bytes = mask.view(torch.uint8)
    else:
        steps = torch.full((rows,), length, device=device, dtype=torch.int64)
        mask_bytes = logits  # never read (HAS_MASK is False)
    counts = counts.to(device=device, dtype=torch.int64)
    effective = torch.minimum(counts, steps - counts)
    largest = int(effective.max()) if rows else 0
    if largest > MAX_COUNT:
        raise ValueError(f"the Triton counting kernel handles counts min(c, n - c) <= "
                         f"{MAX_COUNT}, got {largest}")
    width = max(16, triton.next_power_of_2(largest + 1))
    block_steps = max(1, math.isqrt(length))
    blocks = -(-length // block_steps)
    loss = torch.empty(rows, device=device, dtype=torch.float64)
    grad = torch.empty_like(logits) if need_grad else None
    element = torch.finfo(compute_dtype or COMPUTE_DTYPE).bits // 8
    per_row = (blocks + block_steps) * width * element if need_grad else 0
    chunk = max(1, min(rows, _SCRATCH_BYTES // max(per_row, 1))) if rows else 0
    torch_dtype = compute_dtype or COMPUTE_DTYPE
    if need_grad:
        checkpoints = torch.empty(chunk * blocks * width, device=device, dtype=torch_dtype)
        table = torch.empty(chunk * block_steps * width, device=device, dtype=torch_dtype)
    else:
        checkpoints = table = loss  # never touched (NEED_GRAD is False)
    warps = 1 if width <= 256 else (2 if width <= 512 else 4)
    # Four elements per thread in the vectorised passes: more spills registers (sm_90 build).
    span = min(128 * warps, max(16, triton.next_power_of_2(length)))
    counts32 = counts.to(torch.int32)
    steps32 = steps.to(torch.int32)
    for row_start in range(0, rows, max(chunk, 1)):
        programs = min(chunk, rows - row_start)
        _count_nll_kernel[(programs,)](
            logits, counts32, steps32, mask_bytes, loss,
            grad if grad is not None else loss, checkpoints, table,
            row_start, length, classes, block_steps, blocks,
            HAS_MASK=mask is not None, NEED_GRAD=need_grad, WIDTH=width, SPAN=span,
            DTYPE=dtype, NEWTON_ITERATIONS=_NEWTON_ITERATIONS, num_warps=warps,
            enable_fp_fusion=True,  # explicit: fused multiply-adds only help here
        )
    if rows and not bool(torch.isfinite(loss).all()):
        row = int(torch.nonzero(~torch.isfinite(loss))[0])
        raise RuntimeError(f"the count probability underflowed in row {row} (sequence "
                           f"{row // classes}, class {row % classes})")
    return loss, grad


class _TritonCountingNLL(torch.autograd.Function):
    """-log P(K = c) per row with the gradient computed by the kernel in the forward pass."""

    @staticmethod
    def forward(ctx, rows: Tensor, counts: Tensor, mask: Tensor | None, classes: int) -> Tensor:
        loss, grad = count_nll(rows.detach(), counts, mask, classes,
                               need_grad=rows.requires_grad)
        ctx.save_for_backward(grad if grad is not None else torch.empty(0))
        return loss.to(rows.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (grad,) = ctx.saved_tensors
        return grad * grad_output[:, None].to(grad.dtype), None, None, None


def counting_nll(rows: Tensor, counts: Tensor, mask: Tensor | None, classes: int) -> Tensor | None:
    """Differentiable ``-log P(K = c)`` per row (paper Eq. 16) through the Triton kernel.

    Parameters
    ----------
    rows:
        Logits ``(R, T)``, ``R = N * classes`` (validated by the caller: finite values).
    counts:
        Integer counts ``(R,)`` with ``0 <= c <= n`` valid steps of the row.
    mask:
        ``None`` or boolean ``(N, T)``, True on valid steps.
    classes:
        Rows per sequence (``C``).

    Returns
    -------
    Tensor or None
        The loss ``(R,)`` in the type of ``rows``, differentiable with respect to ``rows``
        (first order); ``None`` when an effective count ``min(c, n - c)`` exceeds
        :data:`MAX_COUNT`, so that the caller can use another method.
    """
    steps = mask.sum(dim=1).repeat_interleave(classes) if mask is not None else rows.shape[1]
    counts = counts.to(torch.int64)
    if rows.shape[0] and int(torch.minimum(counts, steps - counts).max()) > MAX_COUNT:
        return None
    return _TritonCountingNLL.apply(rows, counts, mask, classes)

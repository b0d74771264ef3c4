"""Poisson-binomial counting loss L_PB (paper Eq. 15-17).

For one sequence and class, the predicted number of events is modelled as
``K = sum_t Bernoulli(p_t)`` over the valid steps, ``p_t = sigmoid(l_t)``, and the loss is the
Kullback-Leibler divergence from the indicator of the labelled count ``c = sum_t y_t``::

    L_PB = D_KL(1_c || K) = -log P(K = c)
         = -log sum_{A subset of steps, |A| = c} prod_{t in A} p_t prod_{t not in A} (1 - p_t)

It is zero exactly when ``c`` probabilities are 1 and the rest 0 (Lemma 15), so it drives a
network to output one sharp spike per event.

Exactness
---------
No truncation error, no ``+eps`` inside the log and no cap on the value: unlike the authors'
code (a probability-space recursion with a 'rest' bin and ``log(P + 1e-9)``, reference-spec
section 1.5), the loss is exact for every count up to the number of valid steps, for any finite
logits. A count larger than the number of valid steps cannot happen and raises.

Computation
-----------
On CPU a compiled kernel (``_count_kernel.c``, built at first use) computes the loss and its
closed-form gradient ``sigmoid(l_t) - P(b_t = 1 | K = c)`` in one pass, with exponential tilting
so that a double-precision recursion neither underflows nor loses precision. On CUDA, when
``triton`` imports (the ``gpu`` extra) and ``SOFTLOC_DISABLE_TRITON`` is not set, a fused Triton
kernel (``_count_triton.py``, imported lazily) does the same with one program per sequence and
class; it is tested under Triton's interpreter on the CPU only. Elsewhere (other devices, no
triton, or no C compiler) a pure-PyTorch tree product of truncated polynomials, depth
``O(log T)`` and no loop over time steps, gives the same values through autograd.
"""

from __future__ import annotations

import math
import os

import torch
from torch import Tensor, nn

from . import _count_kernel
from ._utils import check_logits, check_mask, check_reduction, prepare, reduce

__all__ = ["count_log_pmf", "counting_loss", "CountingLoss", "kernel_available"]


def kernel_available() -> bool:
    """True when the compiled CPU kernel is built (or can be built) and loaded.

    It is False without a working C compiler or with ``SOFTLOC_DISABLE_KERNEL=1``; the losses
    then use the pure-PyTorch tree product, which gives the same values.

    Examples
    --------
    >>> isinstance(kernel_available(), bool)
    True
    """
    return _count_kernel.load() is not None


# ----------------------------------------------------------------------------------------------
# Tree products of polynomials (pure PyTorch)
# ----------------------------------------------------------------------------------------------


def _tree_product(leaves: Tensor, max_degree: int, multiply, identity: tuple[float, float]) -> Tensor:
    """Product over the time axis of degree-1 polynomials ``leaves`` ``(R, T, 2)``.

    Pairs of neighbours are multiplied level by level (``log2 T`` levels), each product
    truncated at ``max_degree``. Returns the coefficients ``(R, max_degree + 1)``.
    """
    rows, length, _ = leaves.shape
    padded = 1 << max(0, (length - 1).bit_length())
    if padded != length:
        pad = leaves.new_tensor(identity).expand(rows, padded - length, 2)
        leaves = torch.cat([leaves, pad], dim=1)
    node = leaves
    while node.shape[1] > 1:
        width = min(2 * (node.shape[2] - 1), max_degree) + 1
        node = multiply(node[:, 0::2], node[:, 1::2], width)
    coefficients = node[:, 0, : max_degree + 1]
    if coefficients.shape[1] < max_degree + 1:
        fill = identity[1]
        extra = coefficients.new_full((rows, max_degree + 1 - coefficients.shape[1]), fill)
        coefficients = torch.cat([coefficients, extra], dim=1)
    return coefficients


def _multiply_linear(a: Tensor, b: Tensor, width: int) -> Tensor:
    """Truncated products of polynomials ``(..., m)`` x ``(..., m)`` -> ``(..., width)``."""
    out = a.new_zeros(*a.shape[:-1], width)
    for i in range(min(a.shape[-1], width)):
        span = min(b.shape[-1], width - i)
        out[..., i : i + span] += a[..., i : i + 1] * b[..., :span]
    return out


def _log_zero(dtype: torch.dtype) -> float:
    # A finite stand-in for log(0): sums of a few of them stay finite and gradients stay NaN-free;
    # entries that hold it are impossible counts and become -inf at the end.
    return -1e30


def _multiply_log(a: Tensor, b: Tensor, width: int) -> Tensor:
    """Truncated products of polynomials held as log-coefficients."""
    zero = _log_zero(a.dtype)
    terms = []
    for i in range(min(a.shape[-1], width)):
        span = min(b.shape[-1], width - i)
        term = a[..., i : i + 1] + b[..., :span]
        terms.append(nn.functional.pad(term, (i, width - i - span), value=zero))
    return torch.logsumexp(torch.stack(terms, dim=-2), dim=-2)


def _rows(input: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """(N, C, T) -> (N C, T) rows with the mask repeated per class."""
    n, c, t = input.shape
    rows = input.reshape(n * c, t)
    row_mask = mask.repeat_interleave(c, dim=0) if mask is not None else None
    return rows, row_mask


def count_log_pmf(logits: Tensor, *, max_count: int, mask: Tensor | None = None) -> Tensor:
    """Exact ``log P(K = k)`` for ``k = 0 .. max_count``, ``K = sum_t Bernoulli(sigmoid(l_t))``.

    Parameters
    ----------
    logits:
        ``(N, T)`` or ``(N, C, T)``; the sum runs over the last axis (valid steps only).
    max_count:
        Largest count returned (>= 0).
    mask:
        Optional boolean ``(N, T)``, True on valid steps.

    Returns
    -------
    Tensor
        ``(N, max_count + 1)`` or ``(N, C, max_count + 1)``; ``-inf`` for counts larger than the
        number of valid steps. Differentiable. Computed in log space by a tree of truncated
        polynomial products (O(T max_count^2) work, depth O(log T)).

    Examples
    --------
    >>> pmf = count_log_pmf(torch.zeros(1, 2), max_count=3).exp()
    >>> [round(v, 4) for v in pmf[0].tolist()]
    [0.25, 0.5, 0.25, 0.0]
    """
    check_logits(logits, "logits")
    if isinstance(max_count, bool) or not isinstance(max_count, int):
        raise TypeError(f"max_count must be an int, got {type(max_count).__name__}")
    if max_count < 0:
        raise ValueError(f"max_count must be >= 0, got {max_count}")
    squeeze = logits.dim() == 2
    x = logits.unsqueeze(1) if squeeze else logits
    if mask is not None:
        mask = check_mask(mask, x.shape[0], x.shape[-1]).to(x.device)
    rows, row_mask = _rows(x, mask)
    zero = _log_zero(rows.dtype)
    leaves = torch.stack([nn.functional.logsigmoid(-rows), nn.functional.logsigmoid(rows)], dim=-1)
    if row_mask is not None:
        identity = leaves.new_tensor([0.0, zero])
        leaves = torch.where(row_mask.unsqueeze(-1), leaves, identity)
    coefficients = _tree_product(leaves, max_count, _multiply_log, (0.0, zero))
    valid = row_mask.sum(dim=1) if row_mask is not None else torch.full(
        (rows.shape[0],), rows.shape[1], device=rows.device
    )
    k = torch.arange(max_count + 1, device=rows.device)
    impossible = k[None, :] > valid[:, None]
    coefficients = torch.where(impossible, torch.full_like(coefficients, -math.inf), coefficients)
    coefficients = coefficients.reshape(*x.shape[:-1], max_count + 1)
    return coefficients.squeeze(1) if squeeze else coefficients


def _tilt(x: Tensor, valid: Tensor, counts: Tensor, iterations: int = 100) -> Tensor:
    """Per-row shift theta with ``sum_t sigmoid(x_t + theta)`` within ~1 std of the count.

    ``x`` and ``valid`` are ``(R, T)``; rows with count 0 or n get theta = 0 (unused).
    Safeguarded Newton iterations on all rows at once (no gradient).
    """
    n = valid.sum(dim=1).to(x.dtype)
    c = counts.to(x.dtype)
    interior = (c > 0) & (c < n)
    c_safe = torch.where(interior, c, n / 2).clamp_min(0.5)
    base = torch.log(c_safe / (n - c_safe).clamp_min(0.5))
    big = torch.finfo(x.dtype).max
    lo = base - torch.where(valid, x, -big).amax(dim=1)
    hi = base - torch.where(valid, x, big).amin(dim=1)
    theta = torch.zeros_like(base).clamp(lo, hi)
    done = ~interior
    for _ in range(iterations):
        s = torch.sigmoid(x + theta[:, None]) * valid
        mean = s.sum(dim=1)
        var = (s * (1 - s)).sum(dim=1)
        g = mean - c
        done = done | (g.abs() <= 0.25 + 0.5 * var.sqrt())
        if bool(done.all()):
            break
        lo = torch.where(g < 0, theta, lo)
        hi = torch.where(g >= 0, theta, hi)
        step = torch.where(var > 0, theta - g / var.clamp_min(torch.finfo(x.dtype).tiny), lo - 1)
        bisect = (lo + hi) / 2
        step = torch.where((step > lo) & (step < hi), step, bisect)
        theta = torch.where(done, theta, step)
    return torch.where(interior, theta, torch.zeros_like(theta))


def _counting_nll_torch(rows: Tensor, row_mask: Tensor | None, counts: Tensor) -> Tensor:
    """-log P(K = c) per row by a tilted linear-space tree product; differentiable."""
    work = torch.float32 if rows.device.type == "mps" else torch.float64
    x = rows.to(work)
    valid = row_mask if row_mask is not None else torch.ones_like(x, dtype=torch.bool)
    with torch.no_grad():
        theta = _tilt(x.detach(), valid, counts)
    v = x + theta[:, None]
    q, a = torch.sigmoid(v), torch.sigmoid(-v)
    leaves = torch.stack([a, q], dim=-1)
    leaves = torch.where(valid.unsqueeze(-1), leaves, leaves.new_tensor([1.0, 0.0]))
    max_count = int(counts.max())
    coefficients = _tree_product(leaves, max_count, _multiply_linear, (1.0, 0.0))
    p_c = coefficients.gather(1, counts.to(torch.int64)[:, None]).squeeze(1)
    # Closed forms where tilting cannot centre the count: c = 0 and c = n. Their rows take
    # P = 1 in the tilted branch so that no log(0) sends NaN gradients through torch.where.
    n = valid.sum(dim=1)
    interior = (counts > 0) & (counts < n)
    p_c = torch.where(interior, p_c, torch.ones_like(p_c))
    # softplus(z) = -logsigmoid(-z): F.softplus is linear above 20, which drops e^-20 terms.
    shift = ((nn.functional.logsigmoid(-x) - nn.functional.logsigmoid(-v)) * valid).sum(dim=1)
    tilted = theta * counts.to(work) - shift - torch.log(p_c)
    none = -(nn.functional.logsigmoid(-x) * valid).sum(dim=1)
    every = -(nn.functional.logsigmoid(x) * valid).sum(dim=1)
    loss = torch.where(counts == 0, none, torch.where(interior, tilted, every))
    return loss.to(rows.dtype)


class _KernelCountingNLL(torch.autograd.Function):
    """-log P(K = c) per row with the gradient from the compiled kernel."""

    @staticmethod
    def forward(ctx, rows: Tensor, target: Tensor, mask: Tensor | None, classes: int) -> Tensor:
        loss, grad = _count_kernel.count_nll(
            rows.detach(), target, mask, classes, need_grad=rows.requires_grad
        )
        ctx.save_for_backward(grad if grad is not None else torch.empty(0))
        return loss.to(rows.dtype)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (grad,) = ctx.saved_tensors
        return grad * grad_output[:, None].to(grad.dtype), None, None, None


def _use_kernel(input: Tensor) -> bool:
    return (
        input.device.type == "cpu"
        and input.dtype in (torch.float32, torch.float64)
        and kernel_available()
    )


def _triton_counting(input: Tensor):
    """The Triton path's ``counting_nll`` for CUDA ``input``; ``None`` without triton."""
    if not input.is_cuda or os.environ.get("SOFTLOC_DISABLE_TRITON", "") not in ("", "0"):
        return None
    try:
        from . import _count_triton  # imports triton: only here, never at import softloc
    except ImportError:
        return None
    return _count_triton.counting_nll


def counting_loss(
    input: Tensor,
    target: Tensor,
    *,
    mask: Tensor | None = None,
    reduction: str = "mean",
    validate_args: bool = True,
) -> Tensor:
    """Poisson-binomial counting loss L_PB = -log P(K = c) (paper Eq. 16).

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Whole event counts per frame, same shape; ``c`` is their sum over valid steps.
    mask:
        Optional boolean ``(N, T)``, True on valid steps; the count and the Bernoulli sum run
        over valid steps only, and padded steps get zero gradient.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'``.
    validate_args:
        Check shapes and values (a few passes over the data); disable in hot loops.

    Raises
    ------
    ValueError
        If a sequence's count exceeds its number of valid steps (that count cannot happen).

    Examples
    --------
    >>> target = torch.tensor([[0., 1., 0., 1.]])
    >>> sharp = torch.tensor([[-40., 40., -40., 40.]])
    >>> float(counting_loss(sharp, target)) < 1e-15
    True
    >>> round(float(counting_loss(torch.zeros(1, 4), target)), 4)  # -log(6/16)
    0.9808
    """
    kernel = _use_kernel(input)
    # The kernel checks values (finite logits, whole counts, counts <= steps) in its own pass.
    batch = prepare(input, target, mask, reduction, counts=True,
                    validate_args=validate_args, check_values=not kernel)
    x = batch.input
    n, c, t = x.shape
    if kernel:
        per_row = _KernelCountingNLL.apply(x.reshape(n * c, t), batch.target.reshape(n * c, t),
                                           batch.mask, c)
        return reduce(per_row.reshape(n, c), reduction, batch.squeeze)
    counts = batch.masked(batch.target).sum(dim=-1)
    counts = counts.round().to(torch.int64)
    if validate_args:
        steps = batch.mask.sum(dim=1, keepdim=True) if batch.mask is not None else t
        too_many = counts > steps
        if bool(too_many.any()):
            where = torch.nonzero(too_many)[0].tolist()
            raise ValueError(
                f"target holds more events than valid steps (sequence {where[0]}, class "
                f"{where[1]}: count {int(counts[tuple(where)])}); such a count cannot happen"
            )
    rows, row_mask = _rows(x, batch.mask)
    triton_nll = _triton_counting(x)
    per_row = triton_nll(rows, counts.reshape(-1), batch.mask, c) if triton_nll else None
    if per_row is None:  # not CUDA, no triton, or a count beyond the Triton kernel's largest
        per_row = _counting_nll_torch(rows, row_mask, counts.reshape(-1))
    return reduce(per_row.reshape(n, c), reduction, batch.squeeze)


class CountingLoss(nn.Module):
    """Module form of :func:`counting_loss`: ``-log P(K = c)`` per (sequence, class), Eq. 15-17.

    Parameters
    ----------
    reduction:
        ``'mean'`` (default) over (sequence, class) pairs, ``'sum'`` or ``'none'`` (``(N, C)``).

    Shapes
    ------
    input ``(N, C, T)`` or ``(N, T)`` logits; target of the same shape with event counts per
    step; mask ``(N, T)`` boolean (True on valid steps) or ``None``.

    Examples
    --------
    One spike per labelled event gives a loss near 0; the same mass spread over ten steps does
    not (the count is uncertain: ``-log(10 * 0.1 * 0.9**9) = 0.949``, less what the other steps'
    ``sigmoid(-12)`` add):

    >>> import torch
    >>> target = torch.zeros(1, 1, 20); target[0, 0, 5] = 1
    >>> sharp = torch.full((1, 1, 20), -12.0); sharp[0, 0, 5] = 12.0
    >>> spread = torch.full((1, 1, 20), -12.0); spread[0, 0, :10] = torch.logit(torch.tensor(0.1))
    >>> criterion = CountingLoss()
    >>> round(float(criterion(sharp, target)), 3), round(float(criterion(spread, target)), 3)
    (0.0, 0.948)
    >>> CountingLoss(reduction="none")(spread, target).shape
    torch.Size([1, 1])
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return counting_loss(input, target, mask=mask, reduction=self.reduction)

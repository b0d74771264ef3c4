"""Soft localization learning loss L_SLL (paper Eq. 11, with E = identity as in Eq. 19).

For one sequence and class, with ``p = sigmoid(input)``, labels ``y`` and a unit-sum Gaussian
``Phi`` of standard deviation ``softness`` frames::

    L_SLL(p, y) = sum_t ((Phi * p)_t - (Phi * y)_t) ** 2 = sum_t ((Phi * (p - y))_t) ** 2

Signals are zero outside ``[0, T)`` (and on masked steps), the sum runs over the valid steps,
and smoothing never leaks across padding: padded steps change neither the loss nor the gradients.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._utils import Batch, prepare, reduce
from .smoothing import DEFAULT_TRUNCATE, check_softness, gaussian_smooth

__all__ = ["soft_localization_loss", "SoftLocalizationLoss"]


class _SmoothedEnergy(torch.autograd.Function):
    """``sum_t m_t ((Phi * d)_t)^2`` per row, with one smoothing forward and one backward.

    ``Phi`` is symmetric and both the input and the output are restricted to ``[0, T)``, so the
    adjoint of the smoothing is the smoothing itself: ``d/dd = 2 Phi * (m (Phi * d))``. Autograd
    through the FFT would instead differentiate the transforms (and keep their spectra). Under
    ``create_graph=True`` the backward recomputes the forward smoothing with autograd, so second
    derivatives are exact too. ``softness`` is not differentiable.
    """

    @staticmethod
    def forward(ctx, difference: Tensor, softness, truncate: float, valid: Tensor | None) -> Tensor:
        smoothed = gaussian_smooth(difference, softness, truncate=truncate)
        if valid is not None:
            smoothed = smoothed * valid
        ctx.save_for_backward(difference, smoothed, valid)
        ctx.softness, ctx.truncate = softness, truncate
        return smoothed.square().sum(dim=-1)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        difference, smoothed, valid = ctx.saved_tensors
        if torch.is_grad_enabled():  # a differentiable backward: rebuild the forward's graph
            smoothed = gaussian_smooth(difference, ctx.softness, truncate=ctx.truncate)
            if valid is not None:
                smoothed = smoothed * valid
        grad = gaussian_smooth(smoothed, ctx.softness, truncate=ctx.truncate)
        return 2.0 * grad_output[..., None] * grad, None, None, None


def _per_sequence(batch: Batch, softness: float | Tensor, truncate: float) -> Tensor:
    """L_SLL for each (sequence, class): ``(N, C)``."""
    difference = batch.masked(torch.sigmoid(batch.input) - batch.target)
    if isinstance(softness, Tensor):
        softness = softness.detach()
    return _SmoothedEnergy.apply(difference, softness, truncate, batch.valid())


def soft_localization_loss(
    input: Tensor,
    target: Tensor,
    *,
    softness: float | Tensor,
    mask: Tensor | None = None,
    reduction: str = "mean",
    truncate: float = DEFAULT_TRUNCATE,
) -> Tensor:
    """Soft localization loss L_SLL (Eq. 11, E = id): squared error of Gaussian-smoothed signals.

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape (normally 0/1; any value >= 0 is accepted).
    softness:
        Gaussian standard deviation s_M in frames: a float or a ``(C,)`` tensor.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.
    truncate:
        Kernel radius in standard deviations.

    Examples
    --------
    >>> target = torch.zeros(1, 50); target[0, 20] = 1.0
    >>> on_time = torch.full((1, 50), -30.0); on_time[0, 20] = 30.0
    >>> late = torch.full((1, 50), -30.0); late[0, 23] = 30.0
    >>> a = soft_localization_loss(on_time, target, softness=3.0)
    >>> b = soft_localization_loss(late, target, softness=3.0)
    >>> bool(a < 1e-12), bool(0 < b < 0.1)
    (True, True)
    """
    batch = prepare(input, target, mask, reduction)
    softness = check_softness(softness, batch.input.shape[1])
    return reduce(_per_sequence(batch, softness, truncate), reduction, batch.squeeze)


class SoftLocalizationLoss(nn.Module):
    """Module form of :func:`soft_localization_loss` (L_SLL, Eq. 11); stores the hyper-parameters.

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    softness:
        s_M, the Gaussian standard deviation in frames: a float or a ``(C,)`` tensor.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'``.
    truncate:
        Kernel radius in standard deviations.

    Examples
    --------
    A prediction two frames late; a spurious peak on a padded step changes nothing:

    >>> import torch
    >>> target = torch.zeros(2, 30); target[:, 10] = 1
    >>> late = torch.full((2, 30), -30.0); late[:, 12] = 30.0
    >>> mask = torch.ones(2, 30, dtype=torch.bool); mask[1, 20:] = False
    >>> spurious = late.clone(); spurious[1, 25] = 30.0
    >>> criterion = SoftLocalizationLoss(softness=2.0, reduction="none")
    >>> criterion(late, target, mask)
    tensor([0.0624, 0.0624])
    >>> torch.equal(criterion(spurious, target, mask), criterion(late, target, mask))
    True
    """

    def __init__(
        self, softness: float | Tensor, reduction: str = "mean", truncate: float = DEFAULT_TRUNCATE
    ) -> None:
        super().__init__()
        self.softness = check_softness(softness)
        self.reduction = reduction
        self.truncate = truncate

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return soft_localization_loss(
            input, target, softness=self.softness, mask=mask, reduction=self.reduction,
            truncate=self.truncate,
        )

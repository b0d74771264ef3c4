"""The losses the paper compares SoftLoc against.

All take logits ``(N, C, T)`` or ``(N, T)``, frame targets of the same shape (event counts; a
frame with one event or more is a positive frame for these per-frame losses), an optional
``mask`` ``(N, T)`` and a ``reduction``; each per-(sequence, class) value sums over valid steps.

* :func:`stepwise_ce_loss` -- L_CE, Eq. 2: ``-sum_t [y_t log p_t + (1 - y_t) log(1 - p_t)]``
  with an optional ``pos_weight`` on the positive term (as ``binary_cross_entropy_with_logits``).
* :func:`label_smoothing_ce_loss` -- L_LS|CE, Eq. 6: L_CE against ``Phi * y``.
* :func:`label_smoothing_se_loss` -- L_LS|SE, Eq. 7: ``sum_t (p_t - (Phi * y)_t) ** 2``.
* :func:`bootstrap_loss` -- soft bootstrapping (Reed et al. 2014), per frame:
  ``-[(b y + (1 - b) p) log p + (b (1 - y) + (1 - b)(1 - p)) log(1 - p)]``, ``b = beta = 0.95``;
  the prediction inside the target is not detached, as in Reed et al. (with it detached the loss
  would reduce to a rescaled L_CE).
* :func:`extended_target_loss` -- target smearing ("extended" onsets, Hawthorne et al.): L_CE
  against labels widened to ``width`` frames starting at each event.

``Phi`` is the unit-sum Gaussian of :mod:`softloc.losses.smoothing` (``kernel_norm='sum'``, the
paper's Eq. 6); ``kernel_norm='max'`` scales the smoothed labels to peak 1 at an isolated event,
the convention of heat-map regression. Smoothed labels are clipped to [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_choice
from ._utils import Batch, check_positive, check_probability, check_reduction, prepare, reduce
from .smoothing import DEFAULT_TRUNCATE, check_softness, gaussian_kernel, gaussian_smooth

__all__ = [
    "stepwise_ce_loss", "StepwiseCELoss",
    "label_smoothing_ce_loss", "LabelSmoothingCELoss",
    "label_smoothing_se_loss", "LabelSmoothingSELoss",
    "bootstrap_loss", "BootstrapLoss",
    "extend_targets", "extended_target_loss", "ExtendedTargetLoss",
]

KERNEL_NORMS = ("sum", "max")


def _pos_weight(pos_weight: float | Tensor | None, num_classes: int, like: Tensor) -> Tensor | None:
    if pos_weight is None:
        return None
    if isinstance(pos_weight, Tensor):
        if pos_weight.dim() > 1 or (pos_weight.dim() == 1 and pos_weight.shape[0] != num_classes):
            raise ValueError(
                f"pos_weight must be a float or a (C,) tensor with C = {num_classes}, "
                f"got shape {tuple(pos_weight.shape)}"
            )
        if not bool(torch.isfinite(pos_weight).all()) or bool((pos_weight <= 0).any()):
            raise ValueError("pos_weight must hold finite values > 0")
        weight = pos_weight.to(like)
        return weight[:, None] if weight.dim() == 1 else weight
    return like.new_tensor(check_positive(pos_weight, "pos_weight"))


def _ce(batch: Batch, target: Tensor, pos_weight: float | Tensor | None) -> Tensor:
    weight = _pos_weight(pos_weight, batch.input.shape[1], batch.input)
    per_step = F.binary_cross_entropy_with_logits(
        batch.input, target, pos_weight=weight, reduction="none"
    )
    return batch.masked(per_step).sum(dim=-1)


def _smoothed_target(batch: Batch, softness: float | Tensor, kernel_norm: str, truncate: float) -> Tensor:
    check_choice(kernel_norm, "kernel_norm", KERNEL_NORMS)
    softness = check_softness(softness, batch.input.shape[1])
    target = batch.masked(batch.target.clamp(max=1.0))
    smoothed = gaussian_smooth(target, softness, truncate=truncate)
    if kernel_norm == "max":
        peak = gaussian_kernel(softness, truncate=truncate, dtype=smoothed.dtype,
                               device=smoothed.device).amax(dim=-1)
        smoothed = smoothed / (peak[:, None] if peak.dim() == 1 else peak)
    return smoothed.clamp(0.0, 1.0)


def stepwise_ce_loss(
    input: Tensor,
    target: Tensor,
    *,
    mask: Tensor | None = None,
    pos_weight: float | Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Stepwise binary cross-entropy L_CE (Eq. 2), summed over valid steps.

    Examples
    --------
    >>> target = torch.tensor([[0., 1., 0.]])
    >>> round(float(stepwise_ce_loss(torch.zeros(1, 3), target)), 4)  # 3 log 2
    2.0794
    """
    batch = prepare(input, target, mask, reduction)
    return reduce(_ce(batch, batch.target.clamp(max=1.0), pos_weight), reduction, batch.squeeze)


def label_smoothing_ce_loss(
    input: Tensor,
    target: Tensor,
    *,
    softness: float | Tensor,
    mask: Tensor | None = None,
    pos_weight: float | Tensor | None = None,
    kernel_norm: str = "sum",
    reduction: str = "mean",
    truncate: float = DEFAULT_TRUNCATE,
) -> Tensor:
    """Label smoothing + cross-entropy L_LS|CE (Eq. 6): L_CE against ``Phi * y``.

    Examples
    --------
    >>> target = torch.zeros(1, 30); target[0, 15] = 1
    >>> bool(label_smoothing_ce_loss(torch.zeros(1, 30), target, softness=2.0) > 0)
    True
    """
    batch = prepare(input, target, mask, reduction)
    smoothed = _smoothed_target(batch, softness, kernel_norm, truncate)
    return reduce(_ce(batch, smoothed, pos_weight), reduction, batch.squeeze)


def label_smoothing_se_loss(
    input: Tensor,
    target: Tensor,
    *,
    softness: float | Tensor,
    mask: Tensor | None = None,
    kernel_norm: str = "sum",
    reduction: str = "mean",
    truncate: float = DEFAULT_TRUNCATE,
) -> Tensor:
    """Label smoothing + squared error L_LS|SE (Eq. 7): ``sum_t (p_t - (Phi * y)_t) ** 2``.

    Examples
    --------
    >>> target = torch.zeros(1, 30); target[0, 15] = 1
    >>> float(label_smoothing_se_loss(torch.full((1, 30), -50.), target, softness=2.0)) < 0.2
    True
    """
    batch = prepare(input, target, mask, reduction)
    smoothed = _smoothed_target(batch, softness, kernel_norm, truncate)
    squared = (torch.sigmoid(batch.input) - smoothed).square()
    return reduce(batch.masked(squared).sum(dim=-1), reduction, batch.squeeze)


def bootstrap_loss(
    input: Tensor,
    target: Tensor,
    *,
    beta: float = 0.95,
    mask: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Soft bootstrapping (Reed et al. 2014) per frame, ``beta`` in [0, 1] (1 gives L_CE).

    Examples
    --------
    >>> target = torch.tensor([[0., 1., 0.]])
    >>> ce = stepwise_ce_loss(torch.zeros(1, 3), target)
    >>> torch.allclose(bootstrap_loss(torch.zeros(1, 3), target, beta=1.0), ce)
    True
    """
    beta = check_probability(beta, "beta")
    batch = prepare(input, target, mask, reduction)
    y = batch.target.clamp(max=1.0)
    p = torch.sigmoid(batch.input)
    soft_target = beta * y + (1.0 - beta) * p
    log_p, log_not_p = F.logsigmoid(batch.input), F.logsigmoid(-batch.input)
    per_step = -(soft_target * log_p + (1.0 - soft_target) * log_not_p)
    return reduce(batch.masked(per_step).sum(dim=-1), reduction, batch.squeeze)


def extend_targets(target: Tensor, width: int) -> Tensor:
    """Widen each positive frame to ``width`` frames starting at it (clipped to 0/1).

    ``target`` is ``(..., T)``; returns a float tensor of the same shape.

    Examples
    --------
    >>> extend_targets(torch.tensor([[0., 1., 0., 0., 0.]]), 3).tolist()
    [[0.0, 1.0, 1.0, 1.0, 0.0]]
    """
    if isinstance(width, bool) or not isinstance(width, int):
        raise TypeError(f"width must be an int (frames), got {type(width).__name__}")
    if width < 1:
        raise ValueError(f"width must be >= 1 frame, got {width}")
    positive = (target > 0).to(torch.float32 if not target.is_floating_point() else target.dtype)
    shape = positive.shape
    flat = positive.reshape(-1, 1, shape[-1])
    # out[t] = max(positive[t - width + 1 .. t]): pad on the left and take a running max.
    widened = F.max_pool1d(F.pad(flat, (width - 1, 0)), kernel_size=width, stride=1)
    return widened.reshape(shape)


def extended_target_loss(
    input: Tensor,
    target: Tensor,
    *,
    width: int,
    mask: Tensor | None = None,
    pos_weight: float | Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """L_CE against targets extended to ``width`` frames from each event (target smearing).

    Examples
    --------
    >>> target = torch.tensor([[0., 1., 0., 0.]])
    >>> a = extended_target_loss(torch.zeros(1, 4), target, width=2)
    >>> torch.allclose(a, stepwise_ce_loss(torch.zeros(1, 4), target))  # same at p = 0.5
    True
    """
    batch = prepare(input, target, mask, reduction)
    # Padded steps hold no events: their targets must not widen into valid steps.
    widened = extend_targets(batch.masked(batch.target), width)
    return reduce(_ce(batch, widened, pos_weight), reduction, batch.squeeze)


class StepwiseCELoss(nn.Module):
    """Module form of :func:`stepwise_ce_loss`."""

    def __init__(self, pos_weight: float | Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.pos_weight, self.reduction = pos_weight, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return stepwise_ce_loss(input, target, mask=mask, pos_weight=self.pos_weight,
                                reduction=self.reduction)


class LabelSmoothingCELoss(nn.Module):
    """Module form of :func:`label_smoothing_ce_loss`."""

    def __init__(self, softness: float | Tensor, pos_weight: float | Tensor | None = None,
                 kernel_norm: str = "sum", reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.softness, self.pos_weight = check_softness(softness), pos_weight
        self.kernel_norm, self.reduction = kernel_norm, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return label_smoothing_ce_loss(input, target, softness=self.softness, mask=mask,
                                       pos_weight=self.pos_weight, kernel_norm=self.kernel_norm,
                                       reduction=self.reduction)


class LabelSmoothingSELoss(nn.Module):
    """Module form of :func:`label_smoothing_se_loss`."""

    def __init__(self, softness: float | Tensor, kernel_norm: str = "sum",
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.softness, self.kernel_norm, self.reduction = check_softness(softness), kernel_norm, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return label_smoothing_se_loss(input, target, softness=self.softness, mask=mask,
                                       kernel_norm=self.kernel_norm, reduction=self.reduction)


class BootstrapLoss(nn.Module):
    """Module form of :func:`bootstrap_loss`."""

    def __init__(self, beta: float = 0.95, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.beta, self.reduction = check_probability(beta, "beta"), reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return bootstrap_loss(input, target, beta=self.beta, mask=mask, reduction=self.reduction)


class ExtendedTargetLoss(nn.Module):
    """Module form of :func:`extended_target_loss`."""

    def __init__(self, width: int, pos_weight: float | Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        extend_targets(torch.zeros(1, 1), width)  # validates width
        self.width, self.pos_weight, self.reduction = width, pos_weight, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return extended_target_loss(input, target, width=self.width, mask=mask,
                                    pos_weight=self.pos_weight, reduction=self.reduction)

"""The losses the paper compares SoftLoc against.

All take logits ``(N, C, T)`` or ``(N, T)``, frame targets of the same shape (event counts; a
frame with one event or more is a positive frame for these per-frame losses), an optional
``mask`` ``(N, T)`` and a ``reduction``; each per-(sequence, class) value sums over valid steps.
The softmax loss is the exception: its logits have one more channel (``(N, C + 1, T)``, the last
for "no event") and its per-sequence value couples the classes (``reduction='none'``: ``(N,)``).

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
* :func:`no_event_softmax_ce_loss` -- softmax cross-entropy over the C event classes and a
  "no event" class, one class per frame, optional class weights: the L_CE of the paper's golf
  experiment (Table 1) as the authors' code computes it (SwingNet's loss, GolfDB).

``Phi`` is the unit-sum Gaussian of :mod:`softloc.losses.smoothing` (``kernel_norm='sum'``, the
paper's Eq. 6); ``kernel_norm='max'`` scales the smoothed labels to peak 1 at an isolated event,
the convention of heat-map regression. Smoothed labels are clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_choice
from ._utils import (
    Batch,
    check_logits,
    check_mask,
    check_positive,
    check_probability,
    check_reduction,
    check_target,
    prepare,
    reduce,
)
from .smoothing import DEFAULT_TRUNCATE, check_softness, gaussian_kernel, gaussian_smooth

__all__ = [
    "stepwise_ce_loss", "StepwiseCELoss",
    "label_smoothing_ce_loss", "LabelSmoothingCELoss",
    "label_smoothing_se_loss", "LabelSmoothingSELoss",
    "bootstrap_loss", "BootstrapLoss",
    "extend_targets", "extended_target_loss", "ExtendedTargetLoss",
    "no_event_softmax_ce_loss", "NoEventSoftmaxCELoss",
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

    ``-sum_t [w y_t log p_t + (1 - y_t) log(1 - p_t)]`` with ``p = sigmoid(input)`` and ``w`` the
    ``pos_weight``.

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape; a frame with a count >= 1 is a positive frame.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.

    Returns
    -------
    Tensor
        The loss in nats, summed over the valid steps of each (sequence, class).

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

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape; a frame with a count >= 1 is a positive frame.
    softness:
        s_M, the Gaussian standard deviation of ``Phi`` in frames: a float or a ``(C,)`` tensor.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    kernel_norm:
        ``'sum'``: ``Phi`` sums to 1 (Eq. 6); ``'max'``: the smoothed labels peak at 1.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.

    truncate:
        Kernel radius in standard deviations.
    Returns
    -------
    Tensor
        The loss in nats, summed over the valid steps of each (sequence, class).

    Examples
    --------
    The loss is least where the prediction equals the smoothed labels (it is then their
    entropy); p = 0.5 everywhere costs ``T log 2``:

    >>> import torch
    >>> from softloc.losses import gaussian_smooth
    >>> target = torch.zeros(1, 30); target[0, 15] = 1
    >>> best = torch.logit(gaussian_smooth(target, 2.0).clamp(1e-6, 1 - 1e-6))  # p = Phi * y
    >>> round(float(label_smoothing_ce_loss(best, target, softness=2.0)), 3)
    3.037
    >>> round(float(label_smoothing_ce_loss(torch.zeros(1, 30), target, softness=2.0)), 3)
    20.794
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

    Bounded (at most 1 per step), unlike L_CE: the alternative the paper proposes for heavy
    label noise.

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape; a frame with a count >= 1 is a positive frame.
    softness:
        s_M, the Gaussian standard deviation of ``Phi`` in frames: a float or a ``(C,)`` tensor.
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    kernel_norm:
        ``'sum'``: ``Phi`` sums to 1 (Eq. 6); ``'max'``: the smoothed labels peak at 1.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.

    truncate:
        Kernel radius in standard deviations.
    Returns
    -------
    Tensor
        The loss (squared probabilities: unitless), summed over the valid steps of each
        (sequence, class).

    Examples
    --------
    Predicting no event at all (p = 0) costs ``sum_t Phi(t) ** 2 = 1 / (2 sqrt(pi) s_M)``:

    >>> import math, torch
    >>> target = torch.zeros(1, 30); target[0, 15] = 1
    >>> silent = torch.full((1, 30), -50.0)
    >>> loss = label_smoothing_se_loss(silent, target, softness=2.0)
    >>> round(float(loss), 3), round(1 / (2 * math.sqrt(math.pi) * 2.0), 3)
    (0.141, 0.141)
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

    ``-sum_t [(b y_t + (1 - b) p_t) log p_t + (b (1 - y_t) + (1 - b)(1 - p_t)) log(1 - p_t)]``
    with ``b = beta``; the prediction inside the target is not detached.

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape; a frame with a count >= 1 is a positive frame.
    beta:
        Weight of the labels in the soft target, in [0, 1].
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.

    Returns
    -------
    Tensor
        The loss in nats, summed over the valid steps of each (sequence, class).

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

    Parameters
    ----------
    input:
        Logits ``(N, C, T)`` or ``(N, T)``.
    target:
        Event counts per frame, same shape; a frame with a count >= 1 is a positive frame.
    width:
        Frames each positive frame is widened to, starting at it (see :func:`extend_targets`).
    mask:
        Optional boolean ``(N, T)``, True on valid steps.
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    reduction:
        ``'none'`` -> ``(N, C)`` (``(N,)`` for 2-D input), ``'mean'`` or ``'sum'`` over those.

    Returns
    -------
    Tensor
        The loss in nats, summed over the valid steps of each (sequence, class).

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


def _class_weights(class_weights: Tensor | Sequence[float] | None, num_classes: int,
                   like: Tensor) -> Tensor | None:
    if class_weights is None:
        return None
    if isinstance(class_weights, Tensor):
        weights = class_weights
    elif isinstance(class_weights, (list, tuple)):
        weights = torch.tensor([check_positive(w, "class_weights") for w in class_weights],
                               dtype=torch.float64)
    else:
        raise TypeError(f"class_weights must be a (C + 1,) tensor or a sequence of floats, "
                        f"got {type(class_weights).__name__}")
    if weights.shape != (num_classes,):
        raise ValueError(f"class_weights must hold one weight per class, C + 1 = {num_classes} "
                         f"(the events, then no event), got shape {tuple(weights.shape)}")
    if weights.is_complex() or not bool(torch.isfinite(weights).all()) \
            or bool((weights <= 0).any()):
        raise ValueError("class_weights must hold finite real values > 0")
    return weights.to(like)


def no_event_softmax_ce_loss(
    input: Tensor,
    target: Tensor,
    *,
    mask: Tensor | None = None,
    class_weights: Tensor | Sequence[float] | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy over ``C`` event classes and a "no event" class, one class per frame.

    The L_CE of the paper's golf experiment (Table 1) as the authors' code computes it: SwingNet's
    loss (GolfDB), ``CrossEntropyLoss(weight=[1/8] * 8 + [1/35])`` over the 8 swing events and
    "no event". Per sequence ``n``, over its valid frames::

        L_n = sum_t w_{c_nt} * (-log softmax(z_nt)_{c_nt})

    with ``z_nt`` the ``C + 1`` logits of frame ``t`` and ``c_nt`` the frame's class: the lowest
    class ``k`` with ``target[n, k, t] >= 1`` or, when no class has an event on the frame, ``C``
    (no event). A frame holds one class: events of several classes on one frame are labelled with
    the lowest of them (as GolfDB's data loader labels them) and a count above 1 is one event.

    Parameters
    ----------
    input:
        Logits ``(N, C + 1, T)``, ``C >= 1``: channels ``0 .. C - 1`` the event classes, the last
        channel "no event".
    target:
        Event counts ``(N, C, T)`` (whole numbers >= 0), one channel fewer than ``input``.
    mask:
        Optional boolean ``(N, T)``, True on valid frames; padded frames change neither the loss
        nor the gradients.
    class_weights:
        ``w``, one weight > 0 per class (a ``(C + 1,)`` tensor or sequence, the no-event class
        last); ``None``: all 1. SwingNet's: ``[1/8] * 8 + [1/35]``.
    reduction:
        ``'none'``: ``L_n`` per sequence, ``(N,)`` (the classes are coupled by the softmax, so
        there is one value per sequence rather than per (sequence, class)); ``'mean'``: their
        mean; ``'sum'``: their sum.

    Returns
    -------
    Tensor
        ``(N,)`` or a scalar, in nats.

    Notes
    -----
    ``torch.nn.functional.cross_entropy(input, c, weight=w, reduction='none')`` is the summand;
    its ``'mean'`` divides the total over the batch by the total weight of the valid frames, where
    ``'mean'`` here divides it by ``N``, as the other losses of the family: the two differ by a
    factor that depends on the batch's labels.

    Examples
    --------
    >>> target = torch.zeros(2, 8, 10); target[:, 2, 4] = 1
    >>> round(float(no_event_softmax_ce_loss(torch.zeros(2, 9, 10), target)), 4)  # 10 log 9
    21.9722
    >>> logits = torch.zeros(2, 9, 10); logits[:, 2, 4] = 100.0  # sure of class 2 on frame 4
    >>> target[:, 5, 4] = 1  # a second event on frame 4: the frame stays class 2, the lower
    >>> no_event_softmax_ce_loss(logits, target, reduction="none")  # 9 frames of log 9
    tensor([19.7750, 19.7750])
    """
    if isinstance(input, Tensor) and (input.dim() != 3 or input.shape[1] < 2):
        raise ValueError(f"input must have shape (N, C + 1, T) with C >= 1 event classes and "
                         f"no event last, got {tuple(input.shape)}")
    check_reduction(reduction)
    check_logits(input)
    n, num_classes, t = input.shape
    expected = (n, num_classes - 1, t)
    target = check_target(target, expected,
                          f"shape (N, C, T) = {expected}, one channel fewer than input "
                          f"(whose last channel is no event)", counts=True)
    weights = _class_weights(class_weights, num_classes, input)
    present = target > 0
    lowest = present.to(torch.uint8).argmax(dim=1)  # argmax returns the first maximum
    classes = torch.where(present.any(dim=1), lowest, torch.full_like(lowest, num_classes - 1))
    per_frame = -F.log_softmax(input, dim=1).gather(1, classes[:, None])[:, 0]
    if weights is not None:
        per_frame = per_frame * weights[classes]
    if mask is not None:
        per_frame = per_frame * check_mask(mask, n, t).to(per_frame.dtype)
    return reduce(per_frame.sum(dim=-1), reduction, squeeze=False)


class StepwiseCELoss(nn.Module):
    """Module form of :func:`stepwise_ce_loss` (L_CE, Eq. 2).

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    reduction:
        ``'none'`` -> ``(N, C)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import torch
    >>> criterion = StepwiseCELoss(pos_weight=2.0, reduction="none")
    >>> target = torch.zeros(2, 1, 20); target[:, 0, 8] = 1
    >>> criterion(torch.zeros(2, 1, 20), target)  # 19 log 2 + 2 log 2 per sequence
    tensor([[14.5561],
            [14.5561]])
    """

    def __init__(self, pos_weight: float | Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.pos_weight, self.reduction = pos_weight, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return stepwise_ce_loss(input, target, mask=mask, pos_weight=self.pos_weight,
                                reduction=self.reduction)


class LabelSmoothingCELoss(nn.Module):
    """Module form of :func:`label_smoothing_ce_loss` (L_LS|CE, Eq. 6).

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    softness:
        s_M, the Gaussian standard deviation of ``Phi`` in frames: a float or a ``(C,)`` tensor.
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    kernel_norm:
        ``'sum'`` (Eq. 6) or ``'max'`` (smoothed labels peak at 1).
    reduction:
        ``'none'`` -> ``(N, C)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    >>> import torch
    >>> criterion = LabelSmoothingCELoss(softness=torch.tensor([1.0, 4.0]))  # one per class
    >>> target = torch.zeros(3, 2, 40); target[:, :, 20] = 1
    >>> logits = torch.randn(3, 2, 40)
    >>> expected = label_smoothing_ce_loss(logits, target, softness=torch.tensor([1.0, 4.0]))
    >>> torch.allclose(criterion(logits, target), expected)
    True
    >>> round(float(criterion(torch.zeros(3, 2, 40), target)), 3)  # p = 0.5: T log 2
    27.726
    """

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
    """Module form of :func:`label_smoothing_se_loss` (L_LS|SE, Eq. 7).

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    softness:
        s_M, the Gaussian standard deviation of ``Phi`` in frames: a float or a ``(C,)`` tensor.
    kernel_norm:
        ``'sum'`` (Eq. 7 with the unit-sum ``Phi``) or ``'max'`` (smoothed labels peak at 1).
    reduction:
        ``'none'`` -> ``(N, C)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    A sharp, on-time prediction still pays for the smoothed labels' spread; with
    ``kernel_norm='max'`` a smoothed label is 1 on the event and 0.88 one frame away:

    >>> import torch
    >>> target = torch.zeros(2, 1, 20); target[:, 0, 8] = 1
    >>> sharp = torch.full((2, 1, 20), -30.0); sharp[:, 0, 8] = 30.0
    >>> round(float(LabelSmoothingSELoss(softness=2.0)(sharp, target)), 3)
    0.742
    >>> round(float(LabelSmoothingSELoss(softness=2.0, kernel_norm="max")(sharp, target)), 3)
    2.545
    """

    def __init__(self, softness: float | Tensor, kernel_norm: str = "sum",
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.softness, self.kernel_norm, self.reduction = check_softness(softness), kernel_norm, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return label_smoothing_se_loss(input, target, softness=self.softness, mask=mask,
                                       kernel_norm=self.kernel_norm, reduction=self.reduction)


class BootstrapLoss(nn.Module):
    """Module form of :func:`bootstrap_loss` (soft bootstrapping, Reed et al. 2014).

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    beta:
        Weight of the labels in the soft target, in [0, 1] (1: L_CE).
    reduction:
        ``'none'`` -> ``(N, C)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    A confident prediction that agrees with the labels costs almost nothing; p = 0.5 costs
    ``log 2`` per frame whatever ``beta``:

    >>> import torch
    >>> target = torch.zeros(2, 1, 20); target[:, 0, 8] = 1
    >>> sure = torch.full((2, 1, 20), -30.0); sure[:, 0, 8] = 30.0
    >>> float(BootstrapLoss()(sure, target)) < 1e-10
    True
    >>> round(float(BootstrapLoss(beta=0.8)(torch.zeros(2, 1, 20), target)), 3)  # 20 log 2
    13.863
    """

    def __init__(self, beta: float = 0.95, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.beta, self.reduction = check_probability(beta, "beta"), reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return bootstrap_loss(input, target, beta=self.beta, mask=mask, reduction=self.reduction)


class ExtendedTargetLoss(nn.Module):
    """Module form of :func:`extended_target_loss` (target smearing).

    ``forward(input, target, mask=None)`` takes logits ``(N, C, T)`` or ``(N, T)``, event counts
    of the same shape and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    width:
        Frames each event is widened to, starting at it (int >= 1).
    pos_weight:
        Weight of the positive term: a float or a ``(C,)`` tensor, > 0 (``None``: 1).
    reduction:
        ``'none'`` -> ``(N, C)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    With ``width=3`` a prediction sure of the event frame alone misses the two frames after it
    (30 nats each at logit -30):

    >>> import torch
    >>> target = torch.zeros(2, 1, 20); target[:, 0, 8] = 1
    >>> sharp = torch.full((2, 1, 20), -30.0); sharp[:, 0, 8] = 30.0
    >>> round(float(ExtendedTargetLoss(width=3)(sharp, target)), 3)
    60.0
    """

    def __init__(self, width: int, pos_weight: float | Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        extend_targets(torch.zeros(1, 1), width)  # validates width
        self.width, self.pos_weight, self.reduction = width, pos_weight, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return extended_target_loss(input, target, width=self.width, mask=mask,
                                    pos_weight=self.pos_weight, reduction=self.reduction)


class NoEventSoftmaxCELoss(nn.Module):
    """Module form of :func:`no_event_softmax_ce_loss` (the golf experiment's L_CE).

    ``forward(input, target, mask=None)`` takes logits ``(N, C + 1, T)`` (the last channel "no
    event"), event counts ``(N, C, T)`` and an optional boolean mask ``(N, T)``.

    Parameters
    ----------
    class_weights:
        One weight > 0 per class, ``(C + 1,)``, the no-event class last (``None``: all 1).
    reduction:
        ``'none'`` -> ``(N,)``, ``'mean'`` or ``'sum'``.

    Examples
    --------
    SwingNet's weights on 8 golf events; uniform logits over 10 frames with one event cost
    ``log 9 / 8 + 9 log 9 / 35``:

    >>> import math, torch
    >>> criterion = NoEventSoftmaxCELoss(class_weights=[1 / 8] * 8 + [1 / 35])
    >>> target = torch.zeros(2, 8, 10); target[:, 2, 4] = 1
    >>> loss = criterion(torch.zeros(2, 9, 10), target)
    >>> round(float(loss), 4), round(math.log(9) / 8 + 9 * math.log(9) / 35, 4)
    (0.8397, 0.8397)
    """

    def __init__(self, class_weights: Tensor | Sequence[float] | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.class_weights, self.reduction = class_weights, reduction

    def forward(self, input: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return no_event_softmax_ce_loss(input, target, mask=mask, class_weights=self.class_weights,
                                        reduction=self.reduction)

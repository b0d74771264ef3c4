"""Training losses by name: :class:`LossSpec` and the :class:`LossFunction` it makes.

A registry maps each of :data:`LOSS_NAMES` to a description and the hyper-parameters the loss
requires and accepts; :class:`LossSpec` validates a name and its hyper-parameters against it
(filling in defaults) and :class:`LossFunction` dispatches to the :mod:`softloc.losses`
function. The conventions the losses share are in :mod:`softloc.training`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._checks import check_choice, check_int
from ..losses import (
    AlphaSchedule,
    bootstrap_loss,
    counting_loss,
    extended_target_loss,
    label_smoothing_ce_loss,
    label_smoothing_se_loss,
    no_event_softmax_ce_loss,
    soft_localization_loss,
    softloc_loss,
    stepwise_ce_loss,
)
from ..losses._utils import check_positive, check_probability
from ..losses.baselines import KERNEL_NORMS

__all__ = ["LOSS_NAMES", "LossSpec", "LossFunction", "make_loss"]

_HYPER_PARAMETERS = ("softness", "alpha", "pos_weight", "beta", "width", "kernel_norm",
                     "class_weights")


@dataclass(frozen=True)
class _Entry:
    description: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


_REGISTRY: dict[str, _Entry] = {
    "ce": _Entry("stepwise binary cross-entropy L_CE (Eq. 2)", (), ("pos_weight",)),
    "ls-ce": _Entry("label smoothing + cross-entropy L_LS|CE (Eq. 6)", ("softness",),
                    ("pos_weight", "kernel_norm")),
    "ls-se": _Entry("label smoothing + squared error L_LS|SE (Eq. 7)", ("softness",),
                    ("kernel_norm",)),
    "bootstrap": _Entry("soft bootstrapping (Reed et al. 2014)", (), ("beta",)),
    "extended": _Entry("cross-entropy against extended targets (target smearing)", ("width",),
                       ("pos_weight",)),
    "sll": _Entry("soft localization learning L_SLL (Eq. 11)", ("softness",), ()),
    "pb": _Entry("Poisson-binomial counting loss L_PB (Eq. 16)", (), ()),
    "softloc": _Entry("SoftLoc (1 - alpha) L_SLL + alpha L_PB (Eq. 19)", ("softness", "alpha"),
                      ()),
    "softmax-ce": _Entry("softmax cross-entropy over C events and no event (the golf L_CE, "
                         "SwingNet's loss)", (), ("class_weights",)),
}

LOSS_NAMES: tuple[str, ...] = tuple(_REGISTRY)
"""The registered loss names, in the paper's order of presentation."""

_DEFAULT_BETA = 0.95  # Reed et al. 2014, soft variant
_DEFAULT_KERNEL_NORM = "sum"  # the paper's unit-sum Phi


def _float_or_per_class(value: Any, name: str) -> float | tuple[float, ...]:
    """A finite float > 0, or a non-empty sequence (or 1-D tensor) of them (one per class)."""
    if isinstance(value, Tensor):
        if value.dim() == 0:
            value = value.item()
        elif value.dim() == 1:
            value = value.tolist()
        else:
            raise ValueError(f"{name} must be a float or one float per class, "
                             f"got a tensor of shape {tuple(value.shape)}")
    if isinstance(value, (list, tuple, np.ndarray)):
        values = tuple(value.tolist() if isinstance(value, np.ndarray) else value)
        if not values:
            raise ValueError(f"{name} must not be an empty sequence")
        return tuple(check_positive(v, name) for v in values)
    return check_positive(value, name)


def _alpha(value: Any) -> float | AlphaSchedule:
    if isinstance(value, AlphaSchedule):
        return value
    if isinstance(value, Mapping):
        known = {f.name for f in fields(AlphaSchedule)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"alpha schedule has unknown keys {unknown}; "
                             f"an AlphaSchedule takes {sorted(known)}")
        try:
            return AlphaSchedule(**{k: float(v) for k, v in value.items()})
        except (TypeError, ValueError) as error:
            raise ValueError(f"alpha schedule {dict(value)!r} is invalid: {error}") from None
    return check_probability(value, "alpha")


@dataclass(frozen=True)
class LossSpec:
    """A training loss by name and its hyper-parameters, validated when constructed.

    Parameters
    ----------
    name:
        One of :data:`LOSS_NAMES`.
    softness:
        s_M, Gaussian standard deviation in frames (> 0), or one value per class;
        required by ``'ls-ce'``, ``'ls-se'``, ``'sll'`` and ``'softloc'``.
    alpha:
        ``'softloc'`` only (required): weight of the counting term, a constant in [0, 1], an
        :class:`~softloc.losses.AlphaSchedule` or a dict of its fields
        (``{'start': 1e5, 'length': 1e5, 'low': 0.2, 'high': 0.9}`` is the paper's piano ramp).
    pos_weight:
        Weight (> 0, or one per class) of the positive term of the cross-entropy in ``'ce'``,
        ``'ls-ce'`` and ``'extended'``; ``None`` means 1.
    beta:
        ``'bootstrap'`` only: weight of the label in the bootstrapped target, in [0, 1]
        (default 0.95, Reed et al.'s soft variant).
    width:
        ``'extended'`` only (required): each event's target covers ``width`` frames (>= 1).
    kernel_norm:
        ``'ls-ce'`` and ``'ls-se'`` only: ``'sum'`` (default, the paper's unit-sum Phi) or
        ``'max'`` (smoothed labels peak at 1).
    class_weights:
        ``'softmax-ce'`` only: one weight (> 0) per class, the ``C`` events then "no event"
        (SwingNet's: ``[1/8] * 8 + [1/35]``); ``None`` means 1 for every class.
    reduction:
        ``'mean'`` (default) or ``'sum'`` over (sequence, class) of per-pair sums over time.

    Notes
    -----
    Defaults of optional hyper-parameters are filled in, so ``LossSpec('bootstrap')`` equals
    ``LossSpec('bootstrap', beta=0.95)``. A hyper-parameter the loss does not take raises
    ``ValueError``.

    Examples
    --------
    >>> spec = LossSpec("softloc", softness=3.0, alpha={"start": 0, "length": 100, "low": 0.2,
    ...                                                  "high": 0.9})
    >>> spec.alpha_at(0), spec.alpha_at(50), spec.alpha_at(10**6)
    (0.2, 0.5, 0.9)
    >>> LossSpec.from_dict(spec.to_dict()) == spec
    True
    >>> LossSpec("ce", beta=0.9)
    Traceback (most recent call last):
    ...
    ValueError: loss 'ce' does not take beta; it takes pos_weight
    """

    name: str
    softness: float | tuple[float, ...] | None = None
    alpha: float | AlphaSchedule | None = None
    pos_weight: float | tuple[float, ...] | None = None
    beta: float | None = None
    width: int | None = None
    kernel_norm: str | None = None
    class_weights: tuple[float, ...] | None = None
    reduction: str = "mean"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or self.name not in _REGISTRY:
            raise ValueError(f"unknown loss name {self.name!r}; the losses are "
                             f"{', '.join(LOSS_NAMES)}")
        entry = _REGISTRY[self.name]
        accepted = entry.required + entry.optional
        for option in _HYPER_PARAMETERS:
            if getattr(self, option) is not None and option not in accepted:
                takes = ", ".join(accepted) if accepted else "no hyper-parameters"
                raise ValueError(f"loss {self.name!r} does not take {option}; it takes {takes}")
        for option in entry.required:
            if getattr(self, option) is None:
                raise ValueError(f"loss {self.name!r} needs {option}")
        if self.reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum' for training, "
                             f"got {self.reduction!r}")
        set_ = object.__setattr__
        if self.softness is not None:
            set_(self, "softness", _float_or_per_class(self.softness, "softness"))
        if self.pos_weight is not None:
            set_(self, "pos_weight", _float_or_per_class(self.pos_weight, "pos_weight"))
        if self.class_weights is not None:
            weights = _float_or_per_class(self.class_weights, "class_weights")
            if not isinstance(weights, tuple) or len(weights) < 2:
                raise ValueError(f"class_weights must be one weight per class, the events then "
                                 f"no event (2 values or more), got {self.class_weights!r}")
            set_(self, "class_weights", weights)
        if self.alpha is not None:
            set_(self, "alpha", _alpha(self.alpha))
        if "beta" in accepted:
            beta = _DEFAULT_BETA if self.beta is None else self.beta
            set_(self, "beta", check_probability(beta, "beta"))
        if self.width is not None:
            set_(self, "width", check_int(self.width, "width", 1, unit="frames"))
        if "kernel_norm" in accepted:
            norm = _DEFAULT_KERNEL_NORM if self.kernel_norm is None else self.kernel_norm
            set_(self, "kernel_norm", check_choice(norm, "kernel_norm", KERNEL_NORMS))

    @property
    def description(self) -> str:
        """One line naming the loss and its equation in the paper."""
        return _REGISTRY[self.name].description

    def alpha_at(self, step: int) -> float | None:
        """SoftLoc's alpha at training step ``step`` (``None`` for the other losses)."""
        if self.alpha is None:
            return None
        return self.alpha(step) if isinstance(self.alpha, AlphaSchedule) else self.alpha

    def to_dict(self) -> dict:
        """The set fields only (``None`` left out); an alpha schedule as a dict."""
        out: dict[str, Any] = {"name": self.name}
        for option in _HYPER_PARAMETERS:
            value = getattr(self, option)
            if value is None:
                continue
            if isinstance(value, AlphaSchedule):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[option] = value
        out["reduction"] = self.reduction
        return out

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> "LossSpec":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"a loss spec must be a mapping, got {type(mapping).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"loss spec has unknown keys {unknown}; it takes {sorted(known)}")
        if "name" not in mapping:
            raise ValueError(f"loss spec needs a name, one of {', '.join(LOSS_NAMES)}")
        return cls(**mapping)


def _as_spec(loss_spec: LossSpec | Mapping[str, Any] | str) -> LossSpec:
    if isinstance(loss_spec, LossSpec):
        return loss_spec
    if isinstance(loss_spec, str):
        return LossSpec(loss_spec)
    if isinstance(loss_spec, Mapping):
        return LossSpec.from_dict(loss_spec)
    raise TypeError(f"loss_spec must be a LossSpec, a dict or a loss name, "
                    f"got {type(loss_spec).__name__}")


class LossFunction:
    """A registered loss bound to its :class:`LossSpec`: ``loss(logits, targets, mask, step)``.

    Made by :func:`make_loss`; ``spec`` holds the :class:`LossSpec`. Logits and targets
    ``(N, C, T)`` (or ``(N, T)``), ``mask`` ``(N, T)`` or ``None``, ``step`` the optimiser steps
    taken before this one (it sets SoftLoc's alpha on a schedule); returns a scalar.

    Examples
    --------
    >>> import torch
    >>> from softloc.losses import soft_localization_loss
    >>> fn = make_loss(LossSpec("sll", softness=2.0))
    >>> type(fn).__name__, fn.spec.name
    ('LossFunction', 'sll')
    >>> logits, target = torch.randn(2, 3, 50), torch.zeros(2, 3, 50)
    >>> target[:, :, 20] = 1
    >>> torch.allclose(fn(logits, target), soft_localization_loss(logits, target, softness=2.0))
    True
    """

    def __init__(self, spec: LossSpec) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"LossFunction({self.spec!r})"

    def __call__(self, logits: Tensor, targets: Tensor, mask: Tensor | None = None,
                 step: int = 0) -> Tensor:
        """The loss of ``logits`` against ``targets``: a scalar tensor.

        Parameters
        ----------
        logits:
            ``(N, C, T)`` or ``(N, T)``; ``(N, C + 1, T)`` for ``'softmax-ce'``.
        targets:
            Event counts per frame, the shape of ``logits`` (``(N, C, T)`` for
            ``'softmax-ce'``).
        mask:
            Optional boolean ``(N, T)``, True on valid steps.
        step:
            Optimiser steps taken so far (drives SoftLoc's alpha schedule; ignored otherwise).
        """
        spec = self.spec
        name, reduction = spec.name, spec.reduction
        if not isinstance(logits, Tensor):
            raise TypeError(f"logits must be a torch.Tensor, got {type(logits).__name__}")
        softness = _per_class(spec.softness, torch.float64, logits.device)
        pos_weight = _per_class(spec.pos_weight, logits.dtype, logits.device)
        class_weights = _per_class(spec.class_weights, logits.dtype, logits.device)
        if name == "ce":
            return stepwise_ce_loss(logits, targets, mask=mask, pos_weight=pos_weight,
                                    reduction=reduction)
        if name == "ls-ce":
            return label_smoothing_ce_loss(logits, targets, softness=softness, mask=mask,
                                           pos_weight=pos_weight, kernel_norm=spec.kernel_norm,
                                           reduction=reduction)
        if name == "ls-se":
            return label_smoothing_se_loss(logits, targets, softness=softness, mask=mask,
                                           kernel_norm=spec.kernel_norm, reduction=reduction)
        if name == "bootstrap":
            return bootstrap_loss(logits, targets, beta=spec.beta, mask=mask, reduction=reduction)
        if name == "extended":
            return extended_target_loss(logits, targets, width=spec.width, mask=mask,
                                        pos_weight=pos_weight, reduction=reduction)
        if name == "sll":
            return soft_localization_loss(logits, targets, softness=softness, mask=mask,
                                          reduction=reduction)
        if name == "pb":
            return counting_loss(logits, targets, mask=mask, reduction=reduction)
        if name == "softloc":
            return softloc_loss(logits, targets, softness=softness, alpha=spec.alpha_at(step),
                                mask=mask, reduction=reduction)
        if name == "softmax-ce":
            return no_event_softmax_ce_loss(logits, targets, mask=mask,
                                            class_weights=class_weights, reduction=reduction)
        raise AssertionError(f"loss {name!r} is registered but not dispatched")  # unreachable


def _per_class(value: float | tuple[float, ...] | None, dtype: torch.dtype,
               device: torch.device) -> float | Tensor | None:
    if isinstance(value, tuple):
        return torch.tensor(value, dtype=dtype, device=device)
    return value


def make_loss(loss_spec: LossSpec | Mapping[str, Any] | str) -> LossFunction:
    """The loss function a :class:`LossSpec` (or its dict, or a bare name) describes.

    Examples
    --------
    >>> import torch
    >>> loss = make_loss({"name": "softloc", "softness": 2.0,
    ...                   "alpha": {"start": 0, "length": 10, "low": 0.0, "high": 1.0}})
    >>> target = torch.zeros(2, 1, 30); target[:, 0, 12] = 1
    >>> logits = torch.zeros(2, 1, 30)
    >>> bool(loss(logits, target, None, 10) == make_loss("pb")(logits, target))  # alpha = 1
    True
    """
    return LossFunction(_as_spec(loss_spec))

"""One training loop for every experiment: a loss registry, deterministic and resumable runs.

The pieces
----------
=====================================  ==========================================================
:class:`LossSpec`                      a loss by name plus its hyper-parameters, validated at
                                       construction; ``to_dict`` / ``from_dict`` for configs
:func:`make_loss`                      ``LossSpec`` -> ``loss(logits, targets, mask, step)``
:data:`LOSS_NAMES`                     ``'ce'``, ``'ls-ce'``, ``'ls-se'``, ``'bootstrap'``,
                                       ``'extended'``, ``'sll'``, ``'pb'``, ``'softloc'``,
                                       ``'softmax-ce'``
:func:`sampled_batches`                a batch function drawing random rows of in-memory tensors
:func:`train`                          the loop: optimiser, clipping, evaluation, checkpoints
:class:`TrainingResult`                final step, loss and evaluation histories, wall time
=====================================  ==========================================================

Conventions
-----------
* **Losses.** Every registered loss takes logits ``(N, C, T)`` (or ``(N, T)``), targets of the
  same shape holding event counts per frame, an optional boolean ``mask`` ``(N, T)`` (True on
  valid steps) and the training ``step`` (the number of optimiser steps taken before this one,
  from 0), and returns a scalar. ``reduction='mean'`` (the default) averages over (sequence,
  class) pairs the per-pair value, which sums over the valid time steps as the paper's equations
  do (:mod:`softloc.losses`): the scale of the loss, hence of its gradients, does not depend on
  the batch size or the number of classes but grows with the sequence length. ``'sum'`` sums
  the per-pair values instead; ``'none'`` is refused (training needs a scalar). The exception
  is ``'softmax-ce'`` (:func:`~softloc.losses.no_event_softmax_ce_loss`): its logits have one
  more channel than the targets, ``(N, C + 1, T)`` with "no event" last, and its per-sequence
  value covers all classes, so ``'mean'`` averages over sequences.
* **Hyper-parameters** are in frames where they are lengths: ``softness`` is the Gaussian
  standard deviation s_M (a float, or one float per class), ``width`` the length of extended
  targets; ``pos_weight`` and ``class_weights`` weigh terms of the cross-entropies. ``alpha``
  of SoftLoc is a constant in [0, 1] or an :class:`~softloc.losses.AlphaSchedule` (or the dict
  of one), evaluated at the training step, so the schedule of the paper's section 6.3 is
  driven by the loop. A hyper-parameter that the
  named loss does not take is refused rather than ignored.
* **Batches.** ``batches`` is a callable ``batches(step, generator) -> (inputs, targets)`` or
  ``(inputs, targets, mask)``. ``generator`` is a CPU ``torch.Generator`` seeded from
  ``(seed, step)`` only, so the batch of step ``k`` depends on nothing but the run's seed and
  ``k`` (provided the function draws its randomness from ``generator``): a resumed run sees
  exactly the batches the uninterrupted run saw, with no data-loader state to save. Tensors
  are moved to the training device after the call (data drawn on the CPU are the same on every
  device).
* **Randomness inside the model** (dropout, ...) draws from the global torch generator, which
  :func:`train` seeds from ``seed`` at the start, saves in checkpoints and restores on resume;
  the caller's global generator state is restored when :func:`train` returns. Initialising the
  model is the caller's job (seed before constructing it). Evaluation runs on a forked
  generator, under ``torch.no_grad()`` and in ``eval()`` mode, so evaluating (or not) never
  changes the training trajectory.
* **Determinism.** With ``deterministic=True`` (the default) :func:`train` enables
  ``torch.use_deterministic_algorithms(True, warn_only=True)`` and turns off the cuDNN
  benchmark for the duration of the run (both restored afterwards). On the CPU, two runs with the
  same seed, model initialisation, data and thread count give bit-identical parameters.
* **Checkpoints** hold the model and optimiser states, the step, the RNG states, the loss and
  evaluation histories and the settings that shape the trajectory (loss spec, seed, optimiser,
  learning rate and schedule, clipping, logging interval). They are written atomically
  (temporary file in the same folder, then ``os.replace``): a crash while writing leaves the
  previous checkpoint intact. ``resume=True`` continues from the checkpoint, after which the run
  is bit-identical to an uninterrupted one; work done after the last checkpoint is redone. A
  checkpoint written for another loss spec, model shape or setting refuses to load.
* **Histories.** The loss history holds one :class:`LossRecord` per ``log_every`` steps (the
  mean loss and pre-clipping gradient norm over those steps) plus one for a final partial
  window; the evaluation history one :class:`EvalRecord` per ``eval_every`` steps plus one at the
  final step. Steps in records count completed optimiser steps.

Examples
--------
>>> import torch
>>> from torch import nn
>>> _ = torch.manual_seed(0)
>>> model = nn.Conv1d(1, 1, kernel_size=3, padding=1)
>>> x = torch.zeros(16, 1, 20); x[:, 0, 5] = 1.0
>>> y = torch.zeros(16, 1, 20); y[:, 0, 5] = 1.0
>>> result = train(model, LossSpec("softloc", softness=2.0, alpha=0.5),
...                sampled_batches(x, y, batch_size=4), steps=20, learning_rate=0.1,
...                progress=False)
>>> result.final_step, len(result.loss_history)
(20, 2)
>>> result.loss_history[-1].loss < result.loss_history[0].loss
True
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from ._io import write_atomic
from .losses import (
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
from ._checks import check_choice, check_int
from .losses._utils import check_positive, check_probability
from .losses.baselines import KERNEL_NORMS

__all__ = [
    "LOSS_NAMES",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "CHECKPOINT_FORMAT",
    "LossSpec",
    "LossFunction",
    "make_loss",
    "sampled_batches",
    "train",
    "LossRecord",
    "EvalRecord",
    "TrainingResult",
]

# ----------------------------------------------------------------------------------------------
# Loss registry
# ----------------------------------------------------------------------------------------------

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

#: The registered loss names, in the paper's order of presentation.
LOSS_NAMES: tuple[str, ...] = tuple(_REGISTRY)

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

    Made by :func:`make_loss`; ``spec`` holds the :class:`LossSpec`.
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


# ----------------------------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------------------------

#: ``batches(step, generator) -> (inputs, targets)`` or ``(inputs, targets, mask)``.
BatchFunction = Callable[[int, torch.Generator], Sequence[Any]]


def sampled_batches(
    inputs: Tensor,
    targets: Tensor,
    mask: Tensor | None = None,
    *,
    batch_size: int,
    replacement: bool = True,
) -> BatchFunction:
    """A batch function that draws ``batch_size`` random rows of in-memory tensors.

    Parameters
    ----------
    inputs:
        ``(M, ...)``: the model inputs of ``M`` sequences (e.g. features ``(M, F, T)``).
    targets:
        ``(M, C, T)`` or ``(M, T)`` event counts per frame.
    mask:
        Optional boolean ``(M, T)``, True on valid steps.
    batch_size:
        Rows per batch (>= 1; <= M without replacement).
    replacement:
        True (default): rows drawn uniformly with replacement, as the authors' piano and drum
        code did; False: ``batch_size`` distinct rows (a prefix of a random permutation).

    Returns
    -------
    Callable
        ``batches(step, generator)`` -> ``(inputs, targets, mask)`` rows chosen with
        ``generator`` only, so a step's batch depends only on the generator's seed.

    Examples
    --------
    >>> import torch
    >>> x, y = torch.arange(10.0)[:, None, None], torch.zeros(10, 1, 1)
    >>> batches = sampled_batches(x, y, batch_size=3)
    >>> a = batches(0, torch.Generator().manual_seed(1))[0]
    >>> b = batches(0, torch.Generator().manual_seed(1))[0]
    >>> torch.equal(a, b), a.shape
    (True, torch.Size([3, 1, 1]))
    """
    for tensor, name in ((inputs, "inputs"), (targets, "targets")):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.dim() < 1 or tensor.shape[0] < 1:
            raise ValueError(f"{name} must have at least one row, got shape {tuple(tensor.shape)}")
    rows = inputs.shape[0]
    if targets.shape[0] != rows:
        raise ValueError(f"targets must have one row per input row ({rows}), "
                         f"got {targets.shape[0]}")
    if targets.dim() not in (2, 3):
        raise ValueError(f"targets must have shape (M, C, T) or (M, T), "
                         f"got {tuple(targets.shape)}")
    if mask is not None:
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
            raise TypeError("mask must be a boolean torch.Tensor")
        expected = (rows, targets.shape[-1])
        if tuple(mask.shape) != expected:
            raise ValueError(f"mask must have shape (M, T) = {expected}, "
                             f"got {tuple(mask.shape)}")
    batch_size = check_int(batch_size, "batch_size", 1)
    if not replacement and batch_size > rows:
        raise ValueError(f"batch_size must be <= the number of rows ({rows}) without "
                         f"replacement, got {batch_size}")

    def batches(step: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor | None]:
        if replacement:
            index = torch.randint(0, rows, (batch_size,), generator=generator)
        else:
            index = torch.randperm(rows, generator=generator)[:batch_size]
        chosen = index.to(inputs.device)
        return (inputs[chosen], targets[index.to(targets.device)],
                None if mask is None else mask[index.to(mask.device)])

    return batches


# ----------------------------------------------------------------------------------------------
# Records and result
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossRecord:
    """Training loss over a window of steps.

    Attributes
    ----------
    step:
        Completed optimiser steps at the end of the window.
    loss:
        Mean training loss over the window's steps (each on its own batch).
    grad_norm:
        Mean global L2 norm of the gradients over the window, before clipping.
    learning_rate:
        Learning rate of the window's last step.
    alpha:
        SoftLoc's alpha at the window's last step (``None`` for other losses).
    window:
        Number of steps averaged (``log_every``, fewer for a final partial window).
    """

    step: int
    loss: float
    grad_norm: float
    learning_rate: float
    alpha: float | None
    window: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EvalRecord:
    """Metrics returned by ``evaluate(model, step)`` after ``step`` completed optimiser steps."""

    step: int
    metrics: dict[str, float]

    def to_dict(self) -> dict:
        return {"step": self.step, "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`train` returns.

    Attributes
    ----------
    final_step:
        Optimiser steps completed (``steps``).
    loss_spec:
        The loss trained with.
    seed:
        The run's seed.
    loss_history:
        :class:`LossRecord` per ``log_every`` steps, including those before a resume.
    eval_history:
        :class:`EvalRecord` per ``eval_every`` steps and at the final step.
    wall_time_s:
        Seconds this call took (not counting earlier, interrupted calls).
    resumed_from_step:
        The checkpoint's step when the run was resumed, else ``None``.
    checkpoint_path:
        Where the final checkpoint was written, or ``None``.
    """

    final_step: int
    loss_spec: LossSpec
    seed: int
    loss_history: tuple[LossRecord, ...]
    eval_history: tuple[EvalRecord, ...]
    wall_time_s: float
    resumed_from_step: int | None = None
    checkpoint_path: str | None = None

    @property
    def final_loss(self) -> float | None:
        """Mean loss of the last logged window (``None`` if no step ran)."""
        return self.loss_history[-1].loss if self.loss_history else None

    @property
    def final_metrics(self) -> dict[str, float] | None:
        """Metrics of the last evaluation (``None`` without ``evaluate``)."""
        return dict(self.eval_history[-1].metrics) if self.eval_history else None

    def to_dict(self) -> dict:
        return {
            "final_step": self.final_step,
            "loss_spec": self.loss_spec.to_dict(),
            "seed": self.seed,
            "loss_history": [record.to_dict() for record in self.loss_history],
            "eval_history": [record.to_dict() for record in self.eval_history],
            "wall_time_s": self.wall_time_s,
            "resumed_from_step": self.resumed_from_step,
            "checkpoint_path": self.checkpoint_path,
        }


# ----------------------------------------------------------------------------------------------
# Settings of a run
# ----------------------------------------------------------------------------------------------

#: Optimisers by name (``optimizer_options`` go to their constructors).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
#: Learning-rate schedules: ``'constant'``, or ``'cosine'`` decay to 0 at the last step.
LR_SCHEDULES = ("constant", "cosine")
#: Format tag written into (and required from) checkpoints.
CHECKPOINT_FORMAT = "softloc.training.checkpoint/1"

OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


def _optional_int(value: Any, name: str, minimum: int) -> int | None:
    return check_int(value, name, minimum, optional=True)


@dataclass(frozen=True)
class _Settings:
    """The settings that shape the trajectory; a checkpoint must have been written with these."""

    seed: int
    optimizer: str
    optimizer_options: dict
    learning_rate: float
    lr_schedule: str
    warmup_steps: int
    gradient_clip: float | None
    log_every: int
    steps: int

    def comparable(self) -> dict:
        """Fields a resumed run must share; ``steps`` only where the schedule depends on it."""
        out = asdict(self)
        if self.lr_schedule == "constant":
            del out["steps"]
        return out

    def learning_rate_at(self, step: int) -> float:
        """Learning rate of the step that starts after ``step`` completed steps."""
        if step < self.warmup_steps:
            return self.learning_rate * (step + 1) / self.warmup_steps
        if self.lr_schedule == "cosine":
            span = max(self.steps - self.warmup_steps, 1)
            progress = (step - self.warmup_steps) / span
            return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.learning_rate


def _derive_seed(seed: int, *words: int) -> int:
    """A 63-bit seed for stream ``words`` of run ``seed`` (numpy's SeedSequence mixing)."""
    state = np.random.SeedSequence([seed, *words]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


_MODEL_STREAM, _BATCH_STREAM = 0, 1


# ----------------------------------------------------------------------------------------------
# Checkpoints
# ----------------------------------------------------------------------------------------------


def _model_signature(model: nn.Module) -> list[tuple[str, tuple[int, ...], str]]:
    return [(name, tuple(value.shape), str(value.dtype))
            for name, value in model.state_dict().items()]


def _describe_difference(saved: dict, current: dict) -> str:
    parts = []
    for key in sorted(set(saved) | set(current)):
        if saved.get(key, "<absent>") != current.get(key, "<absent>"):
            parts.append(f"{key} is {saved.get(key, '<absent>')!r} in the checkpoint and "
                         f"{current.get(key, '<absent>')!r} in this run")
    return "; ".join(parts)


def _check_model(saved: list, model: nn.Module, path: Path) -> None:
    saved_map = {name: (tuple(shape), dtype) for name, shape, dtype in saved}
    current_map = {name: (shape, dtype) for name, shape, dtype in _model_signature(model)}
    problems = []
    for name in saved_map.keys() - current_map.keys():
        problems.append(f"{name!r} is in the checkpoint but not in the model")
    for name in current_map.keys() - saved_map.keys():
        problems.append(f"{name!r} is in the model but not in the checkpoint")
    for name in saved_map.keys() & current_map.keys():
        if saved_map[name] != current_map[name]:
            (s_shape, s_dtype), (c_shape, c_dtype) = saved_map[name], current_map[name]
            problems.append(f"{name!r} has shape {s_shape} ({s_dtype}) in the checkpoint and "
                            f"{c_shape} ({c_dtype}) in the model")
    if problems:
        raise ValueError(f"checkpoint {str(path)!r} does not match this model: "
                         + "; ".join(sorted(problems)[:5]))


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------


@dataclass
class _State:
    """Mutable progress of a run; everything here goes into checkpoints."""

    step: int = 0
    loss_history: list[dict] = field(default_factory=list)
    eval_history: list[dict] = field(default_factory=list)
    final_evaluation: dict | None = None
    window_loss: float = 0.0
    window_grad_norm: float = 0.0
    window_count: int = 0

    def flush(self, learning_rate: float, alpha: float | None) -> dict:
        record = {
            "step": self.step,
            "loss": self.window_loss / self.window_count,
            "grad_norm": self.window_grad_norm / self.window_count,
            "learning_rate": learning_rate,
            "alpha": alpha,
            "window": self.window_count,
        }
        self.window_loss, self.window_grad_norm, self.window_count = 0.0, 0.0, 0
        return record


@contextmanager
def _deterministic(enabled: bool, device: torch.device) -> Iterator[None]:
    if not enabled:
        yield
        return
    if device.type == "cuda":
        # cuBLAS needs this for reproducible matrix products (read when its handle is created).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled())
    benchmark = torch.backends.cudnn.benchmark
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = benchmark


def _to_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_device(item, device) for item in value)
    if isinstance(value, Mapping):
        return {key: _to_device(item, device) for key, item in value.items()}
    return value


def _unpack(batch: Any, step: int) -> tuple[Any, Tensor, Tensor | None]:
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise TypeError(f"batches(step, generator) must return (inputs, targets) or "
                        f"(inputs, targets, mask); got {type(batch).__name__} at step {step}")
    inputs, targets = batch[0], batch[1]
    mask = batch[2] if len(batch) == 3 else None
    if not isinstance(targets, Tensor):
        raise TypeError(f"targets from batches() must be a torch.Tensor, got "
                        f"{type(targets).__name__} at step {step}")
    if mask is not None and not isinstance(mask, Tensor):
        raise TypeError(f"mask from batches() must be a torch.Tensor or None, got "
                        f"{type(mask).__name__} at step {step}")
    return inputs, targets, mask


def _metrics(values: Any, step: int) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise TypeError(f"evaluate(model, step) must return a dict of metrics, got "
                        f"{type(values).__name__} at step {step}")
    out: dict[str, float] = {}
    for key, value in values.items():
        if not isinstance(key, str):
            raise TypeError(f"metric names must be strings, got {key!r} at step {step}")
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"metric {key!r} must be a real number, got "
                            f"{type(value).__name__} at step {step}")
        out[key] = float(value)
    return out


def _make_optimizer(optimizer: str | OptimizerFactory, options: dict,
                    parameters: list[nn.Parameter], learning_rate: float) -> torch.optim.Optimizer:
    if isinstance(optimizer, str):
        return OPTIMIZERS[optimizer](parameters, lr=learning_rate, **options)
    built = optimizer(parameters)
    if not isinstance(built, torch.optim.Optimizer):
        raise TypeError(f"optimizer factory must return a torch.optim.Optimizer, got "
                        f"{type(built).__name__}")
    return built


def train(
    model: nn.Module,
    loss_spec: LossSpec | Mapping[str, Any] | str,
    batches: BatchFunction,
    *,
    steps: int,
    optimizer: str | OptimizerFactory = "adam",
    optimizer_options: Mapping[str, Any] | None = None,
    learning_rate: float = 1e-3,
    lr_schedule: str = "constant",
    warmup_steps: int = 0,
    gradient_clip: float | None = None,
    seed: int = 0,
    evaluate: Callable[[nn.Module, int], Mapping[str, float]] | None = None,
    eval_every: int | None = None,
    log_every: int = 10,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
    deterministic: bool = True,
) -> TrainingResult:
    """Train ``model`` for ``steps`` optimiser steps on ``loss_spec``; deterministic, resumable.

    Parameters
    ----------
    model:
        Maps the ``inputs`` of a batch to logits ``(N, C, T)`` (or ``(N, T)``; ``(N, C + 1, T)``
        for ``'softmax-ce'``). Trained in place; moved to ``device``.
    loss_spec:
        A :class:`LossSpec`, its dict, or a loss name without hyper-parameters.
    batches:
        ``batches(step, generator) -> (inputs, targets[, mask])``; ``generator`` is a CPU
        ``torch.Generator`` seeded from ``(seed, step)`` (see the module's conventions).
    steps:
        Total optimiser steps of the run (>= 1), counting those before a resume.
    optimizer:
        ``'adam'`` (default), ``'adamw'``, ``'sgd'``, or a factory ``f(parameters) -> Optimizer``
        (its name goes into checkpoints; the learning rate below overrides the factory's).
    optimizer_options:
        Keyword arguments for a named optimiser (``weight_decay``, ``momentum``, ``betas``...).
    learning_rate:
        Peak learning rate (> 0).
    lr_schedule:
        ``'constant'`` or ``'cosine'`` (decay to 0 at ``steps``), after a linear warm-up of
        ``warmup_steps`` steps (0: none). The rate is a function of the step only.
    gradient_clip:
        Largest global L2 norm of the gradients (over all trainable parameters, as
        ``torch.nn.utils.clip_grad_norm_``); ``None`` (default) turns clipping off.
    seed:
        Seeds the batch generators and the global generator of the run (>= 0).
    evaluate:
        Optional ``evaluate(model, step) -> {metric: number}``, called after ``step`` completed
        steps in eval mode under ``torch.no_grad()``; the model is put back in train mode.
    eval_every:
        Evaluate every ``eval_every`` steps (needs ``evaluate``); the final step is always
        evaluated when ``evaluate`` is given.
    log_every:
        Steps per :class:`LossRecord` (>= 1, default 10).
    checkpoint_path:
        File for checkpoints (``None``: no checkpoints). It must not exist unless ``resume``.
    checkpoint_every:
        Write a checkpoint every ``checkpoint_every`` steps (needs ``checkpoint_path``); one is
        always written at the end.
    resume:
        Continue from ``checkpoint_path`` when that file exists (start afresh when it does not).
    progress:
        Show a tqdm bar over steps with the loss and learning rate.
    device:
        Where to train; ``None``: where the model's parameters are.
    deterministic:
        Enable deterministic algorithms (warn-only) for the run.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        Bad options (before any step runs), a checkpoint that does not match this run.
    FileExistsError
        ``checkpoint_path`` exists and ``resume`` is False.
    FloatingPointError
        The loss or the gradient norm became NaN or infinite (the step is not applied).
    """
    # --- validate everything before anything runs ------------------------------------------
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    spec = _as_spec(loss_spec)
    loss_function = LossFunction(spec)
    if not callable(batches):
        raise TypeError(f"batches must be a callable batches(step, generator), got "
                        f"{type(batches).__name__}")
    steps = check_int(steps, "steps", 1)
    seed = check_int(seed, "seed", 0)
    log_every = check_int(log_every, "log_every", 1)
    warmup_steps = check_int(warmup_steps, "warmup_steps", 0)
    learning_rate = check_positive(learning_rate, "learning_rate")
    lr_schedule = check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    if gradient_clip is not None:
        gradient_clip = check_positive(gradient_clip, "gradient_clip")
    options = dict(optimizer_options or {})
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; use one of "
                             f"{', '.join(OPTIMIZERS)} or a factory f(parameters)")
        if "lr" in options:
            raise ValueError("optimizer_options must not hold 'lr'; use learning_rate")
        optimizer_name = optimizer
    elif callable(optimizer):
        if options:
            raise ValueError("optimizer_options apply to named optimizers only; configure a "
                             "factory inside it")
        optimizer_name = getattr(optimizer, "__qualname__", type(optimizer).__qualname__)
    else:
        raise TypeError(f"optimizer must be a name or a factory, got {type(optimizer).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a callable evaluate(model, step), got "
                        f"{type(evaluate).__name__}")
    eval_every = _optional_int(eval_every, "eval_every", 1)
    if eval_every is not None and evaluate is None:
        raise ValueError("eval_every needs an evaluate callable")
    checkpoint_every = _optional_int(checkpoint_every, "checkpoint_every", 1)
    path = None if checkpoint_path is None else Path(checkpoint_path)
    if checkpoint_every is not None and path is None:
        raise ValueError("checkpoint_every needs a checkpoint_path")
    if resume and path is None:
        raise ValueError("resume=True needs a checkpoint_path")
    if path is not None and path.exists() and not resume:
        raise FileExistsError(f"checkpoint {str(path)!r} exists; pass resume=True to continue "
                              f"that run, or remove it to start afresh")
    if path is not None and path.exists() and not path.is_file():
        raise ValueError(f"checkpoint_path {str(path)!r} is not a file")
    settings = _Settings(seed=seed, optimizer=optimizer_name, optimizer_options=options,
                         learning_rate=learning_rate, lr_schedule=lr_schedule,
                         warmup_steps=warmup_steps, gradient_clip=gradient_clip,
                         log_every=log_every, steps=steps)
    parameters_on = next(iter(model.parameters()), None)
    if device is None:
        device = parameters_on.device if parameters_on is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("model has no trainable parameters")
    optim = _make_optimizer(optimizer, options, parameters, learning_rate)

    started = time.perf_counter()
    cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []

    def save(state: _State) -> None:
        payload = {
            "format": CHECKPOINT_FORMAT,
            "step": state.step,
            "loss_spec": spec.to_dict(),
            "settings": settings.comparable(),
            "model_signature": _model_signature(model),
            "model_state": model.state_dict(),
            "optimizer_state": optim.state_dict(),
            "rng_state": {
                "cpu": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state(device) if cuda_devices else None,
            },
            "loss_history": state.loss_history,
            "eval_history": state.eval_history,
            "final_evaluation": state.final_evaluation,
            "window": [state.window_loss, state.window_grad_norm, state.window_count],
        }
        write_atomic(path, lambda f: torch.save(payload, f), binary=True)

    def load() -> _State:
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - reported with the file's name
            raise ValueError(f"checkpoint {str(path)!r} cannot be read: {error}") from error
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint {str(path)!r} is not a {CHECKPOINT_FORMAT} file")
        saved_spec = LossSpec.from_dict(payload["loss_spec"])
        if saved_spec != spec:
            raise ValueError(f"checkpoint {str(path)!r} was written for loss spec "
                             f"{saved_spec.to_dict()}, this run uses {spec.to_dict()}")
        if payload["settings"] != settings.comparable():
            raise ValueError(f"checkpoint {str(path)!r} was written with other settings: "
                             + _describe_difference(payload["settings"], settings.comparable()))
        _check_model(payload["model_signature"], model, path)
        if payload["step"] > steps:
            raise ValueError(f"checkpoint {str(path)!r} is at step {payload['step']}, beyond "
                             f"steps={steps}")
        model.load_state_dict(payload["model_state"])
        optim.load_state_dict(payload["optimizer_state"])
        torch.set_rng_state(payload["rng_state"]["cpu"])
        if cuda_devices and payload["rng_state"]["cuda"] is not None:
            torch.cuda.set_rng_state(payload["rng_state"]["cuda"], device)
        window_loss, window_grad_norm, window_count = payload["window"]
        state = _State(step=payload["step"], loss_history=list(payload["loss_history"]),
                       eval_history=list(payload["eval_history"]),
                       window_loss=window_loss, window_grad_norm=window_grad_norm,
                       window_count=window_count)
        # A final evaluation off the eval_every grid belongs to the run's last step only: when
        # the run is extended, an uninterrupted longer run would not have it.
        if payload["final_evaluation"] is not None and payload["step"] == steps:
            state.final_evaluation = payload["final_evaluation"]
        return state

    def run_evaluation(step: int) -> dict:
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad(), torch.random.fork_rng(devices=cuda_devices):
                metrics = _metrics(evaluate(model, step), step)
        finally:
            model.train(was_training)
        return {"step": step, "metrics": metrics}

    with _deterministic(deterministic, device), torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(_derive_seed(seed, _MODEL_STREAM))
        resumed_from = None
        if resume and path.exists():
            state = load()
            resumed_from = state.step
        else:
            state = _State()
        model.train()
        bar = tqdm(total=steps, initial=state.step, desc=f"train {spec.name}", unit="step",
                   disable=not progress, leave=False, dynamic_ncols=True)
        with bar:
            while state.step < steps:
                step = state.step
                learning_rate_now = settings.learning_rate_at(step)
                alpha_now = spec.alpha_at(step)
                for group in optim.param_groups:
                    group["lr"] = learning_rate_now
                generator = torch.Generator().manual_seed(_derive_seed(seed, _BATCH_STREAM, step))
                inputs, targets, mask = _unpack(batches(step, generator), step)
                inputs = _to_device(inputs, device)
                targets = targets.to(device)
                mask = None if mask is None else mask.to(device)

                optim.zero_grad(set_to_none=True)
                loss = loss_function(model(inputs), targets, mask, step)
                if not isinstance(loss, Tensor) or loss.dim() != 0:
                    raise TypeError(f"the loss must be a scalar tensor at step {step}")
                loss_value = float(loss.detach())
                if not math.isfinite(loss_value):
                    raise FloatingPointError(f"loss is {loss_value} at step {step}")
                loss.backward()
                gradients = [p.grad for p in parameters if p.grad is not None]
                total_norm = (torch.nn.utils.get_total_norm(gradients) if gradients
                              else torch.zeros((), device=device))
                grad_norm = float(total_norm)
                if not math.isfinite(grad_norm):
                    raise FloatingPointError(f"gradient norm is {grad_norm} at step {step}")
                if gradient_clip is not None:
                    torch.nn.utils.clip_grads_with_norm_(parameters, gradient_clip, total_norm)
                optim.step()

                state.step = step + 1
                state.window_loss += loss_value
                state.window_grad_norm += grad_norm
                state.window_count += 1
                if state.step % log_every == 0:
                    record = state.flush(learning_rate_now, alpha_now)
                    state.loss_history.append(record)
                    bar.set_postfix(loss=f"{record['loss']:.4g}", lr=f"{learning_rate_now:.3g}",
                                    refresh=False)
                bar.update(1)
                if evaluate is not None and eval_every is not None \
                        and state.step % eval_every == 0:
                    state.eval_history.append(run_evaluation(state.step))
                if path is not None and checkpoint_every is not None \
                        and state.step % checkpoint_every == 0 and state.step < steps:
                    save(state)

        if evaluate is not None and state.final_evaluation is None \
                and not (state.eval_history and state.eval_history[-1]["step"] == steps):
            state.final_evaluation = run_evaluation(steps)
        if path is not None:
            save(state)

    loss_history = list(state.loss_history)
    if state.window_count:
        # The last partial window: reported, but kept out of the checkpoint's history so that
        # extending the run continues the window as an uninterrupted run would.
        tail = _State(step=state.step, window_loss=state.window_loss,
                      window_grad_norm=state.window_grad_norm, window_count=state.window_count)
        loss_history.append(tail.flush(settings.learning_rate_at(steps - 1),
                                       spec.alpha_at(steps - 1)))
    evaluations = list(state.eval_history)
    if state.final_evaluation is not None:
        evaluations.append(state.final_evaluation)
    return TrainingResult(
        final_step=state.step,
        loss_spec=spec,
        seed=seed,
        loss_history=tuple(LossRecord(**record) for record in loss_history),
        eval_history=tuple(EvalRecord(step=e["step"], metrics=dict(e["metrics"]))
                           for e in evaluations),
        wall_time_s=time.perf_counter() - started,
        resumed_from_step=resumed_from,
        checkpoint_path=None if path is None else str(path),
    )

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
:func:`resolve_device`                 ``'cpu'``, ``'cuda'``, ``'cuda:N'``, ``'auto'`` -> a device
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
  device). With ``prefetch`` (on by default on a GPU) one background thread draws the next
  batches while a step trains; the batches are the same.
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

Modules
-------
=====================================  ==========================================================
:mod:`~softloc.training.loss_spec`     :class:`LossSpec`, the loss registry, :func:`make_loss`
:mod:`~softloc.training.batches`       the batch-function contract, :func:`sampled_batches`
:mod:`~softloc.training.optimizers`    :data:`OPTIMIZERS` by name, or a factory
:mod:`~softloc.training.settings`      the settings of a run, the learning-rate schedule
:mod:`~softloc.training.randomness`    per-stream seeds, deterministic algorithms
:mod:`~softloc.training.devices`       :func:`resolve_device`
:mod:`~softloc.training.evaluation`    ``evaluate(model, step)`` off the training trajectory
:mod:`~softloc.training.checkpoints`   atomic checkpoints, checked against the run on resume
:mod:`~softloc.training.records`       a run's progress, :class:`LossRecord`,
                                       :class:`EvalRecord`, :class:`TrainingResult`
:mod:`~softloc.training.loop`          :func:`train`: set up, then one step at a time
=====================================  ==========================================================

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

from .batches import BatchFunction, sampled_batches
from .checkpoints import CHECKPOINT_FORMAT
from .devices import DEVICE_CHOICES, resolve_device
from .loop import train
from .loss_spec import LOSS_NAMES, LossFunction, LossSpec, make_loss
from .optimizers import OPTIMIZERS, OptimizerFactory
from .records import EvalRecord, LossRecord, TrainingResult
from .settings import LR_SCHEDULES

__all__ = [
    "LOSS_NAMES",
    "OPTIMIZERS",
    "LR_SCHEDULES",
    "CHECKPOINT_FORMAT",
    "DEVICE_CHOICES",
    "resolve_device",
    "LossSpec",
    "LossFunction",
    "make_loss",
    "sampled_batches",
    "train",
    "LossRecord",
    "EvalRecord",
    "TrainingResult",
]

"""The training loop: :func:`train`, a run set up once and advanced one optimiser step at a time.

:func:`train` checks its options and builds the run (:func:`_set_up`), then, inside
deterministic algorithms and a forked global generator, starts or resumes it
(:meth:`_Run.start`) and repeats until ``steps`` steps are done: set the step's learning rate
(:meth:`_Run.set_learning_rate`), draw its batch (:meth:`_Run.sample_batch`, on a background
thread with ``prefetch``), take the step
(:meth:`_Run.optimizer_step`), log it (:meth:`_Run.log`), evaluate and checkpoint on their
grids (:meth:`_Run.evaluate_on_grid`, :meth:`_Run.checkpoint_on_grid`); then
:meth:`_Run.finish` evaluates and checkpoints the last step and :meth:`_Run.result` reports.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .._checks import check_int
from .batches import BatchFunction, _BatchSource, _checked_prefetch
from .checkpoints import _Checkpoint, _checked_path
from .evaluation import _checked_eval_every, _evaluation, _Evaluate
from .loss_spec import LossFunction, LossSpec, _as_spec
from .optimizers import OptimizerFactory, _make_optimizer
from .devices import resolve_device
from .randomness import _MODEL_STREAM, _derive_seed, _deterministic
from .records import EvalRecord, LossRecord, TrainingResult, _State
from .settings import _Settings

__all__ = ["train"]


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
    prefetch: int | None = None,
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
        ``torch.Generator`` seeded from ``(seed, step)`` (see :mod:`softloc.training`).
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
        Where to train: ``'cpu'``, ``'cuda'``, ``'cuda:N'``, ``'auto'`` (CUDA when available)
        or a :class:`torch.device` (:func:`~softloc.training.devices.resolve_device`);
        ``None``: where the model's parameters are. Batches are moved there after they are
        drawn.
    prefetch:
        Batches drawn ahead on one background thread while a step trains (>= 0; 0: drawn on
        the training thread when needed). ``None`` (default): 2 on a CUDA device, 0 on the
        CPU, where that thread would take a core from the step. The batches, hence the run,
        are the same for every value.
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

    Examples
    --------
    A filter that learns to put one spike on each impulse; two runs with one seed end with
    bit-identical parameters:

    >>> import torch
    >>> def batches(step, generator):
    ...     x = torch.zeros(8, 1, 40)
    ...     x[torch.arange(8), 0, torch.randint(5, 35, (8,), generator=generator)] = 1.0
    ...     return x, x.clone()
    >>> runs = []
    >>> for _ in range(2):
    ...     _ = torch.manual_seed(0)
    ...     model = torch.nn.Conv1d(1, 1, 5, padding=2)
    ...     result = train(model, {"name": "softloc", "softness": 2.0, "alpha": 0.5}, batches,
    ...                    steps=30, learning_rate=0.05, log_every=10, progress=False)
    ...     runs.append(model)
    >>> result.final_step, [r.step for r in result.loss_history]
    (30, [10, 20, 30])
    >>> result.loss_history[0].loss > result.final_loss
    True
    >>> all(torch.equal(a, b) for a, b in zip(runs[0].parameters(), runs[1].parameters()))
    True
    """
    run = _set_up(model, loss_spec, batches, steps=steps, optimizer=optimizer,
                  optimizer_options=optimizer_options, learning_rate=learning_rate,
                  lr_schedule=lr_schedule, warmup_steps=warmup_steps,
                  gradient_clip=gradient_clip, seed=seed, evaluate=evaluate,
                  eval_every=eval_every, log_every=log_every, checkpoint_path=checkpoint_path,
                  checkpoint_every=checkpoint_every, resume=resume, device=device,
                  prefetch=prefetch)
    started = time.perf_counter()
    with _deterministic(deterministic, run.device), \
            torch.random.fork_rng(devices=run.cuda_devices), closing(run.source):
        state, resumed_from = run.start(resume)
        bar = tqdm(total=run.settings.steps, initial=state.step, desc=f"train {run.spec.name}",
                   unit="step", disable=not progress, leave=False, dynamic_ncols=True)
        with bar:
            while state.step < run.settings.steps:
                step = state.step
                learning_rate_now, alpha_now = run.set_learning_rate(step)
                inputs, targets, mask = run.sample_batch(step)
                loss_value, grad_norm = run.optimizer_step(step, inputs, targets, mask)
                state.add_step(loss_value, grad_norm)
                run.log(state, learning_rate_now, alpha_now, bar)
                run.evaluate_on_grid(state)
                run.checkpoint_on_grid(state)
        run.finish(state)
    return run.result(state, started, resumed_from)


@dataclass(frozen=True)
class _Run:
    """A run whose options are checked: the model on its device, its loss, batches, optimiser."""

    model: nn.Module
    spec: LossSpec
    loss_function: LossFunction
    source: _BatchSource
    settings: _Settings
    evaluate: _Evaluate | None
    eval_every: int | None
    checkpoint: _Checkpoint | None
    checkpoint_every: int | None
    device: torch.device
    cuda_devices: list[int]
    parameters: list[nn.Parameter]
    optimizer: torch.optim.Optimizer

    def start(self, resume: bool) -> tuple[_State, int | None]:
        """Seed the global generator; resume from the checkpoint or start afresh, in train mode.

        Returns the progress and the step resumed from (``None`` when starting afresh).
        """
        torch.manual_seed(_derive_seed(self.settings.seed, _MODEL_STREAM))
        if resume and self.checkpoint.path.exists():
            state = self.checkpoint.load()
            resumed_from = state.step
        else:
            state, resumed_from = _State(), None
        self.model.train()
        return state, resumed_from

    def set_learning_rate(self, step: int) -> tuple[float, float | None]:
        """Set the learning rate of ``step``; return it and SoftLoc's alpha there (for the log)."""
        learning_rate = self.settings.learning_rate_at(step)
        alpha = self.spec.alpha_at(step)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        return learning_rate, alpha

    def sample_batch(self, step: int) -> tuple[Any, Tensor, Tensor | None]:
        """The batch of ``step`` (its generator seeded from seed and step), on the device."""
        return self.source.get(step)

    def optimizer_step(self, step: int, inputs: Any, targets: Tensor,
                       mask: Tensor | None) -> tuple[float, float]:
        """One optimiser step on a batch; its loss and gradient norm (before clipping).

        Raises ``FloatingPointError`` (the step not applied) when either is not finite.
        """
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_function(self.model(inputs), targets, mask, step)
        if not isinstance(loss, Tensor) or loss.dim() != 0:
            raise TypeError(f"the loss must be a scalar tensor at step {step}")
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"loss is {loss_value} at step {step}")
        loss.backward()
        gradients = [p.grad for p in self.parameters if p.grad is not None]
        total_norm = (torch.nn.utils.get_total_norm(gradients) if gradients
                      else torch.zeros((), device=self.device))
        grad_norm = float(total_norm)
        if not math.isfinite(grad_norm):
            raise FloatingPointError(f"gradient norm is {grad_norm} at step {step}")
        if self.settings.gradient_clip is not None:
            torch.nn.utils.clip_grads_with_norm_(self.parameters, self.settings.gradient_clip,
                                                 total_norm)
        self.optimizer.step()
        return loss_value, grad_norm

    def log(self, state: _State, learning_rate: float, alpha: float | None, bar: tqdm) -> None:
        """Close the loss window every ``log_every`` steps; advance the progress bar."""
        if state.step % self.settings.log_every == 0:
            record = state.flush(learning_rate, alpha)
            state.loss_history.append(record)
            bar.set_postfix(loss=f"{record['loss']:.4g}", lr=f"{learning_rate:.3g}",
                            refresh=False)
        bar.update(1)

    def evaluate_on_grid(self, state: _State) -> None:
        """Evaluate every ``eval_every`` steps."""
        if self.evaluate is not None and self.eval_every is not None \
                and state.step % self.eval_every == 0:
            state.eval_history.append(
                _evaluation(self.model, self.evaluate, state.step, self.cuda_devices))

    def checkpoint_on_grid(self, state: _State) -> None:
        """Checkpoint every ``checkpoint_every`` steps before the last (:meth:`finish` does it)."""
        if self.checkpoint is not None and self.checkpoint_every is not None \
                and state.step % self.checkpoint_every == 0 and state.step < self.settings.steps:
            self.checkpoint.save(state)

    def finish(self, state: _State) -> None:
        """Evaluate the last step unless already done; write the final checkpoint."""
        steps = self.settings.steps
        if self.evaluate is not None and state.final_evaluation is None \
                and not (state.eval_history and state.eval_history[-1]["step"] == steps):
            state.final_evaluation = _evaluation(self.model, self.evaluate, steps,
                                                 self.cuda_devices)
        if self.checkpoint is not None:
            self.checkpoint.save(state)

    def result(self, state: _State, started: float, resumed_from: int | None) -> TrainingResult:
        """The :class:`TrainingResult` of the finished run; ``started``: its perf_counter."""
        steps = self.settings.steps
        loss_history = list(state.loss_history)
        if state.window_count:
            # The last partial window: reported, but kept out of the checkpoint's history so
            # that extending the run continues the window as an uninterrupted run would.
            tail = _State(step=state.step, window_loss=state.window_loss,
                          window_grad_norm=state.window_grad_norm,
                          window_count=state.window_count)
            loss_history.append(tail.flush(self.settings.learning_rate_at(steps - 1),
                                           self.spec.alpha_at(steps - 1)))
        evaluations = list(state.eval_history)
        if state.final_evaluation is not None:
            evaluations.append(state.final_evaluation)
        return TrainingResult(
            final_step=state.step,
            loss_spec=self.spec,
            seed=self.settings.seed,
            loss_history=tuple(LossRecord(**record) for record in loss_history),
            eval_history=tuple(EvalRecord(step=e["step"], metrics=dict(e["metrics"]))
                               for e in evaluations),
            wall_time_s=time.perf_counter() - started,
            resumed_from_step=resumed_from,
            checkpoint_path=None if self.checkpoint is None else str(self.checkpoint.path),
        )


def _set_up(model: Any, loss_spec: Any, batches: Any, *, steps: Any, optimizer: Any,
            optimizer_options: Mapping[str, Any] | None, learning_rate: Any, lr_schedule: Any,
            warmup_steps: Any, gradient_clip: Any, seed: Any, evaluate: Any, eval_every: Any,
            log_every: Any, checkpoint_path: str | os.PathLike | None, checkpoint_every: Any,
            resume: bool, device: str | torch.device | None, prefetch: Any) -> _Run:
    """Check every option of :func:`train` before anything runs; place the model, build the
    optimiser."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    spec = _as_spec(loss_spec)
    loss_function = LossFunction(spec)
    if not callable(batches):
        raise TypeError(f"batches must be a callable batches(step, generator), got "
                        f"{type(batches).__name__}")
    settings = _Settings.checked(steps=steps, seed=seed, log_every=log_every,
                                 warmup_steps=warmup_steps, learning_rate=learning_rate,
                                 lr_schedule=lr_schedule, gradient_clip=gradient_clip,
                                 optimizer=optimizer, optimizer_options=optimizer_options)
    eval_every = _checked_eval_every(evaluate, eval_every)
    checkpoint_every = check_int(checkpoint_every, "checkpoint_every", 1, optional=True)
    path = _checked_path(checkpoint_path, checkpoint_every, resume)
    parameters_on = next(iter(model.parameters()), None)
    if device is None:
        device = parameters_on.device if parameters_on is not None else torch.device("cpu")
    device = resolve_device(device)
    prefetch = _checked_prefetch(prefetch, device)
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("model has no trainable parameters")
    optim = _make_optimizer(optimizer, settings.optimizer_options, parameters,
                            settings.learning_rate)
    cuda_devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    checkpoint = None if path is None else _Checkpoint(path, spec, settings, model, optim, device)
    source = _BatchSource(batches, settings.seed, settings.steps, device, prefetch)
    return _Run(model=model, spec=spec, loss_function=loss_function, source=source,
                settings=settings, evaluate=evaluate, eval_every=eval_every,
                checkpoint=checkpoint, checkpoint_every=checkpoint_every, device=device,
                cuda_devices=cuda_devices, parameters=parameters, optimizer=optim)

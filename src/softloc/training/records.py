"""What a run records: its progress (:class:`_State`), loss and evaluation records, the result.

:class:`_State` is the mutable progress of a run (step, histories, the open loss window), all of
it saved in checkpoints; :class:`LossRecord`, :class:`EvalRecord` and :class:`TrainingResult`
are what :func:`~softloc.training.train` reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .loss_spec import LossSpec

__all__ = ["LossRecord", "EvalRecord", "TrainingResult"]

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

    def add_step(self, loss: float, grad_norm: float) -> None:
        """Count one more completed step, its loss and gradient norm in the open window."""
        self.step += 1
        self.window_loss += loss
        self.window_grad_norm += grad_norm
        self.window_count += 1

    def flush(self, learning_rate: float, alpha: float | None) -> dict:
        """The record of the open window (its means), which is closed."""
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

    Examples
    --------
    >>> import torch
    >>> from softloc.training import sampled_batches, train
    >>> x = torch.zeros(8, 1, 16); x[:, 0, 4] = 1.0
    >>> _ = torch.manual_seed(0)
    >>> result = train(torch.nn.Conv1d(1, 1, 3, padding=1), {"name": "softloc", "softness": 2.0,
    ...                "alpha": 0.5}, sampled_batches(x, x.clone(), batch_size=4), steps=25,
    ...                learning_rate=0.05, log_every=10, progress=False)
    >>> [(r.step, r.window) for r in result.loss_history]  # the last window is partial
    [(10, 10), (20, 10), (25, 5)]
    >>> record = result.loss_history[0]
    >>> record.alpha, record.learning_rate, sorted(record.to_dict())
    (0.5, 0.05, ['alpha', 'grad_norm', 'learning_rate', 'loss', 'step', 'window'])
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
    """Metrics returned by ``evaluate(model, step)`` after ``step`` completed optimiser steps.

    Examples
    --------
    >>> import torch
    >>> from softloc.training import sampled_batches, train
    >>> x = torch.zeros(8, 1, 16); x[:, 0, 4] = 1.0
    >>> result = train(torch.nn.Conv1d(1, 1, 3, padding=1), "ce",
    ...                sampled_batches(x, x.clone(), batch_size=4), steps=30, progress=False,
    ...                evaluate=lambda model, step: {"step_seen": float(step)}, eval_every=15)
    >>> [record.step for record in result.eval_history]
    [15, 30]
    >>> result.eval_history[0].to_dict()
    {'step': 15, 'metrics': {'step_seen': 15.0}}
    """

    step: int
    metrics: dict[str, float]

    def to_dict(self) -> dict:
        return {"step": self.step, "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class TrainingResult:
    """What :func:`~softloc.training.train` returns.

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

    Examples
    --------
    A run of 30 steps with a checkpoint, then extended to 40 steps from it:

    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from softloc.training import sampled_batches, train
    >>> x = torch.zeros(8, 1, 16); x[:, 0, 4] = 1.0
    >>> batches = sampled_batches(x, x.clone(), batch_size=4)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "run.pt"
    ...     model = torch.nn.Conv1d(1, 1, 3, padding=1)
    ...     first = train(model, "ce", batches, steps=30, checkpoint_path=path,
    ...                   progress=False)
    ...     longer = train(model, "ce", batches, steps=40, checkpoint_path=path, resume=True,
    ...                    progress=False)
    >>> first.final_step, first.resumed_from_step, longer.final_step, longer.resumed_from_step
    (30, None, 40, 30)
    >>> longer.loss_spec.name, longer.final_loss == longer.loss_history[-1].loss
    ('ce', True)
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

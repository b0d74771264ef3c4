"""The settings that shape a run's trajectory, its learning-rate schedule among them.

:class:`_Settings` holds the validated seed, optimiser, learning rate and schedule, warm-up,
clipping, logging interval and length of a run; a checkpoint must have been written with the
same (:meth:`_Settings.comparable`), and :meth:`_Settings.learning_rate_at` is the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .._checks import check_choice, check_int
from ..losses._utils import check_positive
from .optimizers import _optimizer_name

__all__ = ["LR_SCHEDULES"]

LR_SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules: ``'constant'``, or ``'cosine'`` decay to 0 at the last step."""


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

    @classmethod
    def checked(cls, *, steps: Any, seed: Any, log_every: Any, warmup_steps: Any,
                learning_rate: Any, lr_schedule: Any, gradient_clip: Any, optimizer: Any,
                optimizer_options: Mapping[str, Any] | None) -> "_Settings":
        """The settings of :func:`~softloc.training.train`'s options, each checked in turn."""
        steps = check_int(steps, "steps", 1)
        seed = check_int(seed, "seed", 0)
        log_every = check_int(log_every, "log_every", 1)
        warmup_steps = check_int(warmup_steps, "warmup_steps", 0)
        learning_rate = check_positive(learning_rate, "learning_rate")
        lr_schedule = check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
        if gradient_clip is not None:
            gradient_clip = check_positive(gradient_clip, "gradient_clip")
        options = dict(optimizer_options or {})
        return cls(seed=seed, optimizer=_optimizer_name(optimizer, options),
                   optimizer_options=options, learning_rate=learning_rate,
                   lr_schedule=lr_schedule, warmup_steps=warmup_steps,
                   gradient_clip=gradient_clip, log_every=log_every, steps=steps)

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

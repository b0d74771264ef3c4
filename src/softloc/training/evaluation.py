"""Evaluation during a run: ``evaluate(model, step)`` off the training trajectory.

It runs in ``eval()`` mode, under ``torch.no_grad()`` and on a forked generator, so evaluating
(or not) never changes what training does; its metrics are checked to be real numbers.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from .._checks import check_int

#: ``evaluate(model, step) -> {metric: number}``.
_Evaluate = Callable[[nn.Module, int], Mapping[str, float]]


def _checked_eval_every(evaluate: _Evaluate | None, eval_every: Any) -> int | None:
    """``eval_every``, once ``evaluate`` is a callable (or None) that it can apply to."""
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be a callable evaluate(model, step), got "
                        f"{type(evaluate).__name__}")
    eval_every = check_int(eval_every, "eval_every", 1, optional=True)
    if eval_every is not None and evaluate is None:
        raise ValueError("eval_every needs an evaluate callable")
    return eval_every


def _evaluation(model: nn.Module, evaluate: _Evaluate, step: int,
                cuda_devices: list[int]) -> dict:
    """``{'step', 'metrics'}`` of ``evaluate(model, step)``, run off the training trajectory."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=cuda_devices):
            metrics = _metrics(evaluate(model, step), step)
    finally:
        model.train(was_training)
    return {"step": step, "metrics": metrics}


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

"""Optimisers of a run: by name (:data:`OPTIMIZERS`, with options) or from a factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = ["OPTIMIZERS", "OptimizerFactory"]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}
"""Optimisers by name (``optimizer_options`` go to their constructors)."""

#: ``f(parameters) -> Optimizer``, for optimisers :data:`OPTIMIZERS` does not name.
OptimizerFactory = Callable[[list[nn.Parameter]], torch.optim.Optimizer]


def _optimizer_name(optimizer: Any, options: dict) -> str:
    """The name checkpoints record for ``optimizer``, once it and ``options`` are checked."""
    if isinstance(optimizer, str):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; use one of "
                             f"{', '.join(OPTIMIZERS)} or a factory f(parameters)")
        if "lr" in options:
            raise ValueError("optimizer_options must not hold 'lr'; use learning_rate")
        return optimizer
    if callable(optimizer):
        if options:
            raise ValueError("optimizer_options apply to named optimizers only; configure a "
                             "factory inside it")
        return getattr(optimizer, "__qualname__", type(optimizer).__qualname__)
    raise TypeError(f"optimizer must be a name or a factory, got {type(optimizer).__name__}")


def _make_optimizer(optimizer: str | OptimizerFactory, options: dict,
                    parameters: list[nn.Parameter], learning_rate: float) -> torch.optim.Optimizer:
    if isinstance(optimizer, str):
        return OPTIMIZERS[optimizer](parameters, lr=learning_rate, **options)
    built = optimizer(parameters)
    if not isinstance(built, torch.optim.Optimizer):
        raise TypeError(f"optimizer factory must return a torch.optim.Optimizer, got "
                        f"{type(built).__name__}")
    return built

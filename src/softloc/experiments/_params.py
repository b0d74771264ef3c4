"""Checks of a sweep run's parameters shared by the experiments' ``run_one`` functions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["check_noise_level", "check_run_params"]

RUN_KEYS = ("loss", "noise_level", "distribution", "seed")


def check_noise_level(level: Any, unit: str) -> float:
    """A noise level: a finite number >= 0 in ``unit`` (``'steps'``, ``'frames'``,
    ``'seconds'``), as a float."""
    if isinstance(level, bool) or not isinstance(level, (int, float)):
        raise TypeError(f"noise_level must be a number of {unit}, got {type(level).__name__}")
    level = float(level)
    if not (math.isfinite(level) and level >= 0.0):
        raise ValueError(f"noise_level must be a finite number of {unit} >= 0, got {level}")
    return level


def check_run_params(params: Any, *, experiment: str, losses: Sequence[str],
                     distributions: Sequence[str], noise_unit: str,
                     keys: Sequence[str] = ()) -> tuple[str, float, str, int]:
    """Check the parameters every sweep run has and return ``(loss, noise_level,
    distribution, seed)``.

    ``params`` must be a mapping holding ``loss`` (one of ``losses``), ``noise_level`` (a number
    >= 0 in ``noise_unit``), ``distribution`` (one of ``distributions``), ``seed`` (a whole
    number >= 0) and the experiment's own ``keys`` (checked by the experiment).
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    missing = [k for k in (*RUN_KEYS, *keys) if k not in params]
    if missing:
        raise ValueError(f"params miss {missing}")
    loss = params["loss"]
    if loss not in losses:
        raise ValueError(f"unknown loss {loss!r}; the {experiment} experiment's losses are "
                         f"{', '.join(losses)}")
    level = check_noise_level(params["noise_level"], noise_unit)
    distribution = params["distribution"]
    if distribution not in distributions:
        raise ValueError(f"unknown noise distribution {distribution!r}; the {experiment} "
                         f"experiment's distributions are {', '.join(distributions)}")
    seed = params["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return loss, level, distribution, seed

"""Experiments: one module per experiment, and the registry the ``softloc`` command reads.

Each :class:`Experiment` names its configuration dataclass and its run function, called as
``run(config, *, seed=..., out_dir=..., progress=...)``; the result has ``format_table()``,
``files`` and ``passed``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .localization import LocalizationConfig, LocalizationResult, run_localization_experiment

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "LocalizationConfig",
    "LocalizationResult",
    "run_localization_experiment",
]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: what it shows, its configuration type and its run function."""

    summary: str
    config_type: type
    run: Callable[..., object]


EXPERIMENTS: dict[str, Experiment] = {
    "localization": Experiment(
        summary=(
            "the paper's localization-learning example: one learned 1-D filter per loss "
            "(CE, LS|CE, SLL, SoftLoc) on impulse inputs with misaligned labels, compared "
            "with the optimum the paper derives (Eq. 4-5, 8-9, 12, 19)"
        ),
        config_type=LocalizationConfig,
        run=run_localization_experiment,
    ),
}

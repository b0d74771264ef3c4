"""Experiments: one module per experiment, and the registry the ``softloc`` command reads.

The registry :data:`EXPERIMENTS` maps a name to one of two kinds of experiment:

* :class:`Experiment`, a single run with its own report (``softloc theory``): it names its
  configuration dataclass and its run function, called as
  ``run(config, *, seed=..., out_dir=..., progress=...)``; the result has ``format_table()``,
  ``files`` and ``passed``.
* :class:`~softloc.runner.SweepExperiment`, swept over losses x noise levels x noise
  distributions x seeds (x folds) by :mod:`softloc.runner` (``softloc bench NAME``): it names its
  axes (full and ``--quick``), its top-level ``run_one(params, config) -> dict``, its
  configuration dataclass, its score column and which axes are the losses, the noise levels and
  the distributions.

An experiment module registers a sweep with :func:`register_experiment`, e.g.::

    register_experiment(SweepExperiment(name="wearable", summary="...", config_type=Config,
                                        run_one=run_one, axes={...}, score="f1"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..runner import SweepExperiment
from .localization import LocalizationConfig, LocalizationResult, run_localization_experiment

__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "SweepExperiment",
    "register_experiment",
    "sweep_experiments",
    "LocalizationConfig",
    "SENSOR_EXPERIMENT",
    "SensorExperimentConfig",
    "PIANO_EXPERIMENT",
    "PianoExperimentConfig",
    "DRUM_EXPERIMENT",
    "DrumExperimentConfig",
    "GOLF_EXPERIMENT",
    "GolfExperimentConfig",
    "LocalizationResult",
    "run_localization_experiment",
]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: what it shows, its configuration type and its run function.

    ``run(config, *, seed=..., out_dir=..., progress=...)`` returns a result with
    ``format_table()``, ``files`` and ``passed`` (``softloc theory`` prints it).

    Examples
    --------
    >>> experiment = EXPERIMENTS["localization"]
    >>> experiment.config_type.__name__, experiment.run.__name__
    ('LocalizationConfig', 'run_localization_experiment')
    >>> config = experiment.config_type(steps=20, num_sequences=1000, sll_softness=(1.0,))
    >>> result = experiment.run(config, progress=False)
    >>> [row["loss"] for row in result.summary_rows()]
    ['CE', 'LS|CE s=2', 'SLL s=1', 'SoftLoc s=2 a=0.5']
    """

    summary: str
    config_type: type
    run: Callable[..., object]


EXPERIMENTS: dict[str, Experiment | SweepExperiment] = {
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
"""Every experiment by name: the single-run ones (:class:`Experiment`) and the sweeps
(:class:`~softloc.runner.SweepExperiment`, :func:`sweep_experiments`)."""


def register_experiment(
    experiment: SweepExperiment, *, replace: bool = False
) -> SweepExperiment:
    """Add a sweep experiment to :data:`EXPERIMENTS` under ``experiment.name``.

    Raises ``ValueError`` if the name is taken (unless ``replace``) and ``TypeError`` for
    anything but a :class:`~softloc.runner.SweepExperiment`. Returns ``experiment``.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):
    ...     return {"score": config.offset - params["noise_level"] / 10}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0]}, score="score", distribution_axis=None)
    >>> register_experiment(toy) is toy, "toy" in sweep_experiments()
    (True, True)
    >>> register_experiment(toy)
    Traceback (most recent call last):
    ...
    ValueError: an experiment named 'toy' is already registered; pass replace=True to replace it
    >>> del EXPERIMENTS["toy"]  # leave the registry as it was
    """
    if not isinstance(experiment, SweepExperiment):
        raise TypeError(f"experiment must be a SweepExperiment, got {type(experiment).__name__}")
    if experiment.name in EXPERIMENTS and not replace:
        raise ValueError(
            f"an experiment named {experiment.name!r} is already registered; pass replace=True "
            f"to replace it"
        )
    EXPERIMENTS[experiment.name] = experiment
    return experiment


from .music import (  # noqa: E402  (needs the above)
    DRUM_EXPERIMENT,
    DRUM_SOFTNESS_EXPERIMENT,
    PIANO_EXPERIMENT,
    DrumExperimentConfig,
    PianoExperimentConfig,
)
from .sensor import SENSOR_EXPERIMENT, SensorExperimentConfig  # noqa: E402

register_experiment(SENSOR_EXPERIMENT)
register_experiment(PIANO_EXPERIMENT)
register_experiment(DRUM_EXPERIMENT)
register_experiment(DRUM_SOFTNESS_EXPERIMENT)

from .golf import GOLF_EXPERIMENT, GolfExperimentConfig  # noqa: E402

register_experiment(GOLF_EXPERIMENT)


def sweep_experiments() -> dict[str, SweepExperiment]:
    """The registered sweep experiments (``softloc bench`` runs these), in registration order.

    Examples
    --------
    >>> sweeps = sweep_experiments()
    >>> list(sweeps)
    ['sensor', 'piano', 'drums', 'drums-softness', 'golf']
    >>> sweeps["sensor"].score, sweeps["golf"].score, sweeps["piano"].noise_unit
    ('f1', 'pce', 's')
    >>> "localization" in sweeps  # a single run, not a sweep
    False
    """
    return {name: exp for name, exp in EXPERIMENTS.items() if isinstance(exp, SweepExperiment)}

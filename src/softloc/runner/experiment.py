"""The sweep specification: :class:`SweepExperiment`, an experiment's axes, its ``run_one``, its
configurations and how its results are tabulated."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .hashing import _canonical_json
from .runs import _check_axes, _check_name

__all__ = ["SweepExperiment"]


@dataclass(frozen=True)
class SweepExperiment:
    """An experiment the runner can sweep: its axes, its ``run_one`` and how to tabulate it.

    Parameters
    ----------
    name:
        Registry name and default output folder name (letters, digits, ``_ . -``).
    summary:
        One line on what the experiment measures (shown by ``softloc bench --help``).
    config_type:
        The configuration dataclass; ``config_type()`` is the full sweep's configuration.
    run_one:
        ``run_one(params: dict, config) -> dict``: runs one point and returns a result row of
        JSON-serialisable values that holds the ``score`` column. A top-level function (process
        pools and Ray pickle it by reference). Called with ``progress=`` as well when
        ``takes_progress``.
    axes:
        Axis name -> values of the full sweep, e.g. ``{"loss": (...), "noise_level": (...),
        "distribution": (...), "seed": (0, 1, 2), "fold": (0, 1)}``.
    score:
        The result column the tables average (e.g. ``'f1'``).
    quick_axes, quick_config:
        Axes and configuration of ``--quick`` (a check that runs in minutes); default the full
        ones.
    presets:
        Named configurations besides the default and the quick one (``--preset NAME``), e.g.
        ``{"paper": ...}`` for the paper's scale, each a ``config_type``.
    loss_axis, noise_axis:
        The axes that are the rows (losses) and columns (noise levels) of the tables.
    distribution_axis:
        The axis with one table per value (noise distributions), or ``None`` for one table.
    seed_axis:
        The axis ``--seeds N`` replaces by ``0..N-1``, or ``None``.
    noise_unit:
        Unit of the noise levels (``'frames'``, ``'s'``), for help texts, tables and plots.
    score_label:
        Axis label of the score in plots (e.g. ``'F1 (tolerance 50 ms)'``); default ``score``.
    score_format:
        Format spec of means and standard deviations in the tables.
    version:
        Part of the configuration hash: change it when ``run_one`` changes what it computes,
        so that old results are not resumed into new ones.
    takes_progress:
        ``run_one`` accepts ``progress: bool`` (True only for in-process runs with progress on).
    takes_device:
        ``run_one`` accepts ``device: str`` (``'cpu'``, ``'cuda:0'``...), passed when a sweep is
        given a device (``softloc bench --device``).
    extra_report:
        Optional ``extra_report(results: SweepResults) -> {kind: path}``: writes figures or
        tables beyond the standard ones into ``results.out_dir`` (atomically) whenever the
        report is written (:func:`write_report`), e.g. a heat map over drawn parameters.

    Examples
    --------
    A toy experiment with a quick variant (fewer noise levels, one seed) and a preset:

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):
    ...     return {"score": config.offset - params["noise_level"] / 10}
    >>> toy = SweepExperiment(
    ...     name="toy", summary="a toy sweep", config_type=Config, run_one=run_one,
    ...     axes={"loss": ["a", "b"], "noise_level": [0, 1, 2], "seed": [0, 1, 2]},
    ...     quick_axes={"loss": ["a", "b"], "noise_level": [0, 2], "seed": [0]},
    ...     presets={"shifted": Config(offset=0.7)}, score="score", distribution_axis=None)
    >>> toy.sweep_axes(quick=True)
    {'loss': ('a', 'b'), 'noise_level': (0, 2), 'seed': (0,)}
    >>> toy.config(), toy.config(preset="shifted")
    (Config(offset=0.5), Config(offset=0.7))
    >>> SweepExperiment(name="toy", summary="", config_type=Config, run_one=run_one,
    ...                 axes={"loss": ["a"], "seed": [0]}, score="score")
    Traceback (most recent call last):
    ...
    ValueError: noise_axis must be one of the axes ['loss', 'seed'], got 'noise_level'
    """

    name: str
    summary: str
    config_type: type
    run_one: Callable[..., Mapping[str, Any]]
    axes: Mapping[str, Sequence[Any]]
    score: str
    quick_axes: Mapping[str, Sequence[Any]] | None = None
    quick_config: Any = None
    presets: Mapping[str, Any] = field(default_factory=dict)
    loss_axis: str = "loss"
    noise_axis: str = "noise_level"
    distribution_axis: str | None = "distribution"
    seed_axis: str | None = "seed"
    noise_unit: str = "frames"
    score_label: str | None = None
    score_format: str = ".3f"
    version: str = "1"
    takes_progress: bool = False
    takes_device: bool = False
    extra_report: Callable[..., Mapping[str, str]] | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "name")
        if not isinstance(self.config_type, type):
            raise TypeError(f"config_type must be a class, got {self.config_type!r}")
        if not callable(self.run_one):
            raise TypeError(f"run_one must be callable, got {self.run_one!r}")
        axes = _check_axes(self.axes, "axes")
        quick_axes = (axes if self.quick_axes is None
                      else _check_axes(self.quick_axes, "quick_axes"))
        if list(quick_axes) != list(axes):
            raise ValueError(
                f"quick_axes must have the axes of axes in the same order: {list(axes)}, "
                f"got {list(quick_axes)}"
            )
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "quick_axes", quick_axes)
        roles = {"loss_axis": self.loss_axis, "noise_axis": self.noise_axis}
        for role, axis in [("distribution_axis", self.distribution_axis),
                           ("seed_axis", self.seed_axis)]:
            if axis is not None:
                roles[role] = axis
        for role, axis in roles.items():
            if axis not in axes:
                raise ValueError(f"{role} must be one of the axes {list(axes)}, got {axis!r}")
        if len(set(roles.values())) != len(roles):
            raise ValueError(f"the axis roles must name different axes, got {roles}")
        if not isinstance(self.score, str) or not self.score:
            raise ValueError(f"score must be a non-empty column name, got {self.score!r}")
        if self.quick_config is not None and not isinstance(self.quick_config, self.config_type):
            raise TypeError(
                f"quick_config must be a {self.config_type.__name__}, "
                f"got {type(self.quick_config).__name__}"
            )
        if not isinstance(self.presets, Mapping):
            raise TypeError(f"presets must be a mapping of names to configurations, got "
                            f"{type(self.presets).__name__}")
        for preset, value in self.presets.items():
            _check_name(preset, "presets")
            if not isinstance(value, self.config_type):
                raise TypeError(f"presets[{preset!r}] must be a {self.config_type.__name__}, "
                                f"got {type(value).__name__}")
        object.__setattr__(self, "presets", dict(self.presets))
        try:
            format(1.0, self.score_format)
        except (TypeError, ValueError):
            raise ValueError(
                f"score_format must be a float format spec, got {self.score_format!r}"
            ) from None
        if not isinstance(self.version, str):
            raise TypeError(f"version must be a str, got {type(self.version).__name__}")

    def config(self, quick: bool = False, preset: str | None = None) -> Any:
        """The configuration of the full sweep, of ``--quick``, or of the named ``preset``.

        Raises ``ValueError`` for a preset the experiment does not have, or with ``quick``.
        """
        if preset is not None:
            if quick:
                raise ValueError("quick and preset exclude each other: choose one "
                                 "configuration")
            if preset not in self.presets:
                known = ", ".join(self.presets) or "none"
                raise ValueError(f"unknown preset {preset!r} of the {self.name!r} experiment; "
                                 f"its presets: {known}")
            return self.presets[preset]
        if quick and self.quick_config is not None:
            return self.quick_config
        return self.config_type()

    def sweep_axes(self, quick: bool = False) -> dict[str, tuple]:
        """A copy of the axes of the full sweep, or of ``--quick``."""
        return dict(self.quick_axes if quick else self.axes)

    def choices(self, axis: str) -> tuple:
        """Every value ``axis`` takes in the full or the quick sweep (full order first)."""
        values = list(self.axes[axis])
        keys = {_canonical_json(value) for value in values}
        values += [value for value in self.quick_axes[axis] if _canonical_json(value) not in keys]
        return tuple(values)

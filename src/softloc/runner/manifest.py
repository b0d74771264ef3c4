"""The manifest ``sweep.json``: :class:`SweepManifest`, what a results folder holds and how to
tabulate it, built from a sweep and read back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import SweepError
from .experiment import SweepExperiment
from .hashing import _canonical_json, _config_dict, config_hash

__all__ = ["MANIFEST_FILE", "SweepManifest"]

MANIFEST_FILE = "sweep.json"
"""The manifest's file name in a results folder (:class:`SweepManifest`)."""
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class SweepManifest:
    """The contents of ``sweep.json``: what a results folder holds and how to tabulate it.

    Examples
    --------
    :func:`prepare_sweep` builds one (nothing is written until the sweep runs):

    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from softloc.runner import SweepExperiment, prepare_sweep
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):  # a made-up score: lower with more noise
    ...     return {"score": config.offset - params["noise_level"] / 10 + params["seed"] / 100}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0, 1]}, score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = prepare_sweep(toy, out_dir=folder, workers=1).manifest
    >>> manifest.experiment, manifest.total_runs, manifest.score, manifest.config
    ('toy', 8, 'score', {'offset': 0.5})
    >>> manifest.axes
    {'loss': ['a', 'b'], 'noise_level': [0, 2], 'seed': [0, 1]}
    >>> SweepManifest.from_dict(manifest.to_dict()) == manifest
    True
    >>> grown = {**manifest.to_dict(), "axes": {**manifest.axes, "seed": [0, 1, 2]}}
    >>> manifest.same_sweep(SweepManifest.from_dict(grown))  # more seeds: may resume
    []
    """

    experiment: str
    summary: str
    config: dict
    config_hash: str
    version: str
    axes: dict
    loss_axis: str
    noise_axis: str
    distribution_axis: str | None
    seed_axis: str | None
    score: str
    score_label: str | None
    score_format: str
    noise_unit: str
    total_runs: int
    created: str
    softloc_version: str

    def to_dict(self) -> dict:
        return {"format": MANIFEST_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepManifest:
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"unknown manifest format {data.get('format')!r}")
        names = [f for f in cls.__dataclass_fields__]
        missing = [name for name in names if name not in data]
        if missing:
            raise ValueError(f"missing fields {missing}")
        return cls(**{name: data[name] for name in names})

    def same_sweep(self, other: SweepManifest) -> list[str]:
        """What keeps ``other`` from continuing this folder's sweep; empty if nothing.

        ``other`` may grow the axes (the same axes in the same order, each holding every value
        it held here, in any order): the rows here are then points of ``other`` as well.
        Another experiment or configuration, a value removed or an axis added, removed or
        reordered are differences.
        """
        differences = []
        if self.experiment != other.experiment:
            differences.append(f"experiment {other.experiment!r} instead of {self.experiment!r}")
        if self.config_hash != other.config_hash:
            changed = sorted(
                key for key in set(self.config) | set(other.config)
                if self.config.get(key) != other.config.get(key)
            )
            if changed:
                detail = f"changed fields: {', '.join(changed)}"
            else:
                detail = f"experiment version {other.version!r} instead of {self.version!r}"
            differences.append(
                f"config hash {other.config_hash} instead of {self.config_hash} ({detail})"
            )
        if list(self.axes) != list(other.axes):
            differences.append(f"the axes {list(other.axes)} instead of {list(self.axes)}")
            return differences
        for axis, values in self.axes.items():
            kept = {_canonical_json(value) for value in other.axes[axis]}
            missing = [value for value in values if _canonical_json(value) not in kept]
            if missing:
                differences.append(
                    f"axis {axis!r} = {other.axes[axis]} instead of {values} (without "
                    f"{', '.join(map(str, missing))}: a resumed sweep may add values, not drop them)"
                )
        return differences


def _manifest(experiment: SweepExperiment, config: Any, axes: dict, total: int,
              score: str) -> SweepManifest:
    from .. import __version__

    return SweepManifest(
        experiment=experiment.name,
        summary=experiment.summary,
        config=_config_dict(config),
        config_hash=config_hash(config, experiment.version),
        version=experiment.version,
        axes={axis: json.loads(_canonical_json(list(values))) for axis, values in axes.items()},
        loss_axis=experiment.loss_axis,
        noise_axis=experiment.noise_axis,
        distribution_axis=experiment.distribution_axis,
        seed_axis=experiment.seed_axis,
        score=score,
        score_label=experiment.score_label,
        score_format=experiment.score_format,
        noise_unit=experiment.noise_unit,
        total_runs=total,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        softloc_version=__version__,
    )


def _read_manifest(path: Path) -> SweepManifest:
    try:
        return SweepManifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as error:
        raise SweepError(f"{path} is not a sweep manifest: {error}") from None

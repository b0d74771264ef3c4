"""The points of a sweep: checked axes, :class:`RunSpec` (one point and its ``run_id``) and
:func:`build_runs` (the product of the axes, in run order)."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .hashing import _canonical_json, _sha256

__all__ = ["RunSpec", "build_runs"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{name} must be a non-empty name of letters, digits, '_', '.' or '-', got {value!r}"
        )
    return value


def _check_axes(axes: Any, name: str) -> dict[str, tuple]:
    """A dict of axis name -> non-empty tuple of distinct JSON scalars (copied)."""
    if not isinstance(axes, Mapping) or not axes:
        raise TypeError(f"{name} must be a non-empty mapping of axis name -> values, got {axes!r}")
    checked = {}
    for axis, values in axes.items():
        if not isinstance(axis, str) or not axis:
            raise TypeError(f"{name}: axis names must be non-empty strings, got {axis!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise TypeError(
                f"{name}[{axis!r}] must be a non-empty list or tuple of values, got {values!r}"
            )
        seen = set()
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name}[{axis!r}] values must be finite, got {value}")
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise TypeError(
                    f"{name}[{axis!r}] values must be str, int, float, bool or None, "
                    f"got {type(value).__name__}"
                )
            key = _canonical_json(value)
            if key in seen:
                raise ValueError(f"{name}[{axis!r}] holds {value!r} twice")
            seen.add(key)
        checked[axis] = tuple(values)
    return checked


@dataclass(frozen=True)
class RunSpec:
    """One point of a sweep.

    Parameters
    ----------
    experiment:
        Name of the experiment.
    config_hash:
        :func:`config_hash` of the sweep's configuration.
    index:
        Position in the run order (the product of the axes, first axis slowest).
    params:
        ``(axis name, value)`` pairs in axis order; :attr:`parameters` gives them as a dict.

    Examples
    --------
    >>> spec = RunSpec("toy", "0123456789ab", 3, (("loss", "ce"), ("seed", 1)))
    >>> spec.parameters, spec.describe()
    ({'loss': 'ce', 'seed': 1}, 'run 3 (loss=ce, seed=1)')
    >>> len(spec.run_id), spec.run_id == RunSpec("toy", "0123456789ab", 0, spec.params).run_id
    (16, True)
    >>> spec.run_id == RunSpec("toy", "ba9876543210", 3, spec.params).run_id  # another config
    False
    """

    experiment: str
    config_hash: str
    index: int
    params: tuple[tuple[str, Any], ...]

    @property
    def parameters(self) -> dict[str, Any]:
        """The parameters ``run_one`` receives: axis name -> value."""
        return dict(self.params)

    @property
    def run_id(self) -> str:
        """16 hex digits from the experiment, the configuration hash and the parameters."""
        identity = {
            "experiment": self.experiment,
            "config_hash": self.config_hash,
            "params": self.parameters,
        }
        return _sha256(_canonical_json(identity))[:16]

    def describe(self) -> str:
        """E.g. ``'run 3 (loss=ce, noise_level=0.5, seed=1)'``."""
        settings = ", ".join(f"{axis}={value}" for axis, value in self.params)
        return f"run {self.index} ({settings})"

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "index": self.index,
            "experiment": self.experiment,
            "config_hash": self.config_hash,
            "params": self.parameters,
        }


def build_runs(
    experiment: str, config_hash: str, axes: Mapping[str, Sequence]
) -> tuple[RunSpec, ...]:
    """Every point of the product of ``axes``, in run order.

    Examples
    --------
    >>> runs = build_runs("toy", "0123456789ab", {"loss": ["ce", "sll"], "seed": [0, 1, 2]})
    >>> len(runs), runs[1].parameters, runs[3].describe()
    (6, {'loss': 'ce', 'seed': 1}, 'run 3 (loss=sll, seed=0)')
    >>> len({run.run_id for run in runs})
    6
    """
    _check_name(experiment, "experiment")
    axes = _check_axes(axes, "axes")
    names = list(axes)
    return tuple(
        RunSpec(experiment, config_hash, index, tuple(zip(names, values)))
        for index, values in enumerate(itertools.product(*axes.values()))
    )

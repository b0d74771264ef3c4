"""Sweeps: run an experiment once per point of a product of named axes, resumably, and tabulate.

A sweep experiment (:class:`SweepExperiment`) names its axes, e.g. ``loss x noise_level x
distribution x seed x fold``, and a function ``run_one(params, config) -> dict`` that runs one
point. :func:`prepare_sweep` validates a sweep and its output folder without running anything;
:meth:`Sweep.run` runs the points not finished yet, in this process, in a process pool or as Ray
tasks, appends one JSON line per finished run to ``results.jsonl`` and writes the report: per
noise distribution, the mean and standard deviation of a score for each (loss, noise level)
(:func:`score_tables`, :func:`write_report`).

Conventions
-----------
* Run order is the order of :func:`itertools.product` over the axes as given (first axis
  slowest). ``RunSpec.index`` is the position in that order; the tables use it, so they do not
  depend on which executor finished which run first.
* Identity: ``config_hash`` is the first 12 hex digits of the SHA-256 of the sorted JSON of the
  configuration (``config.to_dict()``) and the experiment's ``version``; ``run_id`` is the first
  16 hex digits of the SHA-256 of the sorted JSON of the experiment name, ``config_hash`` and the
  run's parameters. Results of another configuration therefore never share a ``run_id``.
* Axis values are JSON scalars (str, int, float, bool, None); ``1`` and ``1.0`` are different
  values. ``run_one`` gets the parameters as a ``dict`` (axis name -> value) and returns a
  ``dict`` of JSON-serialisable values (NumPy scalars and arrays are converted; non-finite floats
  are written as ``NaN`` / ``Infinity``, as Python's ``json`` does). It must be a top-level
  (picklable) function when runs go to a process pool or Ray. Each run sees one torch intra-op
  thread in every executor, so N workers use N cores and the executors give identical results.
* Files in the output folder ``DIR``: ``sweep.json`` (the manifest: experiment, configuration,
  hash, axes, axis roles, score), ``results.jsonl`` (one row per finished run, in completion
  order), ``summary.csv`` (long format, one row per distribution x loss x noise level),
  ``summary.md`` (one table per distribution in the paper's layout) and ``scores.png``.
  ``.sweep.lock`` keeps two sweeps from writing to one folder at the same time (a POSIX
  record lock; none on Windows).

Durability and resume
---------------------
Only the main process writes ``results.jsonl``. Each row is one line written with a single
``os.write`` (repeated only if the kernel writes fewer bytes) on a descriptor opened with
``O_APPEND``, then ``fsync``-ed. Appending costs O(one row) per run, where rewriting the whole
file through a temporary file and ``os.replace`` would cost O(rows) per run, O(rows^2) per sweep.
A crash or ``SIGKILL`` can therefore leave at most a torn last line: bytes with no final newline
(or, after a power loss, a last line that is not JSON). Readers ignore it; ``--resume`` cuts it
off (``os.truncate`` to the end of the last complete row) before appending, redoes that run and
skips every ``run_id`` already present. A damaged line before the last one is an error, never
skipped silently. Without ``resume`` an existing ``results.jsonl`` is refused (``force`` deletes
it and starts over), and ``resume`` refuses a folder whose experiment or configuration hash
differ from the sweep's, so rows of two configurations are never mixed. ``resume`` may grow the
axes (add losses, noise levels or seeds; the manifest is rewritten with the larger axes), never
drop a value: a run's identity does not depend on the other points of the sweep.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm.auto import tqdm

from ._checks import check_choice
from ._io import write_atomic

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None

__all__ = [
    "EXECUTORS",
    "RESULTS_FILE",
    "MANIFEST_FILE",
    "REPORT_FILES",
    "SweepError",
    "RunFailedError",
    "SweepExperiment",
    "RunSpec",
    "SweepManifest",
    "SweepResults",
    "ScoreCell",
    "ScoreTable",
    "SweepResult",
    "Sweep",
    "config_hash",
    "build_runs",
    "prepare_sweep",
    "run_sweep",
    "read_results",
    "score_tables",
    "write_report",
    "default_workers",
]

EXECUTORS = ("local", "ray")
RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "sweep.json"
LOCK_FILE = ".sweep.lock"
REPORT_FILES = {"csv": "summary.csv", "markdown": "summary.md", "png": "scores.png"}
MANIFEST_FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ROW_KEYS = ("run_id", "index", "experiment", "config_hash", "params", "result")


class SweepError(ValueError):
    """A sweep that cannot start or a results folder that cannot be read as asked.

    Raised before any run starts (or by the read-only :func:`read_results`): an output folder
    that already holds results, a folder of another configuration, a damaged results file.
    """


class RunFailedError(RuntimeError):
    """``run_one`` raised (or returned something that is not a JSON row) for ``spec``.

    Rows finished before the failure stay in ``results.jsonl``; the sweep can be resumed.
    """

    def __init__(self, spec: RunSpec, message: str) -> None:
        super().__init__(message)
        self.spec = spec


def default_workers() -> int:
    """The number of CPUs this process may run on (at least 1)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- JSON and hashing


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _canonical_json(value: Any) -> str:
    """Sorted-key, whitespace-free JSON: the text the hashes are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _config_dict(config: Any) -> dict:
    if hasattr(config, "to_dict"):
        data = config.to_dict()
    elif is_dataclass(config) and not isinstance(config, type):
        data = asdict(config)
    elif isinstance(config, Mapping):
        data = dict(config)
    else:
        raise TypeError(
            f"config must be a dataclass, an object with to_dict() or a mapping, "
            f"got {type(config).__name__}"
        )
    if not isinstance(data, dict):
        raise TypeError(f"config.to_dict() must return a dict, got {type(data).__name__}")
    try:
        return json.loads(_canonical_json(data))
    except (TypeError, ValueError) as error:
        raise TypeError(f"config must convert to JSON: {error}") from None


def config_hash(config: Any, version: str = "1") -> str:
    """12 hex digits identifying a configuration (and the experiment ``version``).

    The SHA-256 of the sorted JSON of ``{"config": config.to_dict(), "version": version}``.

    Examples
    --------
    >>> config_hash({"epochs": 3, "lr": 0.1}) == config_hash({"lr": 0.1, "epochs": 3})
    True
    >>> config_hash({"epochs": 3}) == config_hash({"epochs": 4})
    False
    """
    return _sha256(_canonical_json({"config": _config_dict(config), "version": version}))[:12]


# --------------------------------------------------------------------------- axes and runs


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


# --------------------------------------------------------------------------- experiments


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
    extra_report:
        Optional ``extra_report(results: SweepResults) -> {kind: path}``: writes figures or
        tables beyond the standard ones into ``results.out_dir`` (atomically) whenever the
        report is written (:func:`write_report`), e.g. a heat map over drawn parameters.
    """

    name: str
    summary: str
    config_type: type
    run_one: Callable[..., Mapping[str, Any]]
    axes: Mapping[str, Sequence[Any]]
    score: str
    quick_axes: Mapping[str, Sequence[Any]] | None = None
    quick_config: Any = None
    loss_axis: str = "loss"
    noise_axis: str = "noise_level"
    distribution_axis: str | None = "distribution"
    seed_axis: str | None = "seed"
    noise_unit: str = "frames"
    score_label: str | None = None
    score_format: str = ".3f"
    version: str = "1"
    takes_progress: bool = False
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
        try:
            format(1.0, self.score_format)
        except (TypeError, ValueError):
            raise ValueError(
                f"score_format must be a float format spec, got {self.score_format!r}"
            ) from None
        if not isinstance(self.version, str):
            raise TypeError(f"version must be a str, got {type(self.version).__name__}")

    def config(self, quick: bool = False) -> Any:
        """The configuration of the full sweep, or of ``--quick``."""
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


# --------------------------------------------------------------------------- manifest and rows


@dataclass(frozen=True)
class SweepManifest:
    """The contents of ``sweep.json``: what a results folder holds and how to tabulate it."""

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
    from . import __version__

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


@dataclass(frozen=True)
class _Scan:
    """``results.jsonl`` read back: complete rows, their byte length, a torn tail after them."""

    rows: tuple[dict, ...]
    valid_bytes: int
    torn: bool


def _scan_results(path: Path) -> _Scan:
    """Parse ``results.jsonl``; a torn last line is reported, a damaged earlier line raises."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _Scan((), 0, False)
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    rows: list[dict] = []
    offset = 0
    seen: dict[str, int] = {}
    for number, line in enumerate(complete, start=1):
        try:
            row = json.loads(line.decode("utf-8"))
            if not isinstance(row, dict) or any(key not in row for key in _ROW_KEYS):
                raise ValueError(f"a row needs the keys {list(_ROW_KEYS)}")
        except (UnicodeDecodeError, ValueError) as error:
            if number == len(complete) and not tail:
                return _Scan(tuple(rows), offset, True)  # a torn last line (e.g. zero-filled)
            raise SweepError(
                f"{path}: line {number} is not a result row ({error}); only a torn last line "
                f"is repaired automatically, so fix or delete the file (or use --force)"
            ) from None
        if row["run_id"] in seen:
            raise SweepError(
                f"{path}: run {row['run_id']} appears on lines {seen[row['run_id']]} and {number}"
            )
        seen[row["run_id"]] = number
        rows.append(row)
        offset += len(line) + 1
    return _Scan(tuple(rows), offset, bool(tail))


def _row_bytes(spec: RunSpec, result: Any, runtime_s: float) -> bytes:
    """One ``results.jsonl`` line (with its newline) for a finished run."""
    if not isinstance(result, Mapping):
        raise TypeError(f"run_one must return a dict, got {type(result).__name__}")
    for key in result:
        if not isinstance(key, str):
            raise TypeError(f"run_one's result keys must be str, got {key!r}")
    row = {**spec.to_dict(), "result": dict(result), "runtime_s": round(runtime_s, 6)}
    try:
        text = json.dumps(row, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError) as error:
        raise TypeError(f"run_one's result must be JSON-serialisable: {error}") from None
    return (text + "\n").encode("utf-8")


def _append(fd: int, data: bytes) -> None:
    """Append ``data`` with one ``os.write`` (looping only on a short write), then ``fsync``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _fsync_folder(folder: Path) -> None:
    """Make a new file's directory entry durable (no-op where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.sweep.lock`` while a sweep writes to ``folder``.

    A POSIX record lock (``fcntl.lockf``): it belongs to this process only, so forked pool
    workers do not inherit it, and the kernel releases it when this process dies (even by
    ``SIGKILL``), so a killed sweep never blocks its own resume.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(
                f"another sweep is writing to {folder}; wait for it or choose another --out"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


# --------------------------------------------------------------------------- reading and tables


@dataclass(frozen=True)
class SweepResults:
    """A results folder read back: its manifest and its finished rows in run order.

    ``torn_tail`` is True when ``results.jsonl`` ends in a torn line (ignored here; a resumed
    sweep cuts it off and redoes that run).
    """

    out_dir: Path
    manifest: SweepManifest
    rows: tuple[dict, ...]
    torn_tail: bool

    @property
    def finished(self) -> int:
        return len(self.rows)

    @property
    def complete(self) -> bool:
        return self.finished == self.manifest.total_runs

    def describe(self) -> str:
        """One line: experiment, configuration hash, runs finished of planned, torn tail."""
        manifest = self.manifest
        text = (f"{manifest.experiment} (config {manifest.config_hash}): {self.finished} of "
                f"{manifest.total_runs} runs finished")
        if self.torn_tail:
            text += f"; a torn last line of {RESULTS_FILE} was ignored"
        return text

    def to_dict(self) -> dict:
        return {
            "out_dir": str(self.out_dir),
            "manifest": self.manifest.to_dict(),
            "rows": [dict(row) for row in self.rows],
            "torn_tail": self.torn_tail,
        }


def read_results(out_dir: Path | str) -> SweepResults:
    """Read a finished or partial sweep's folder (read-only; a torn last line is ignored).

    Raises :class:`SweepError` when the folder holds no sweep, when the manifest is unreadable,
    or when a row belongs to another experiment or configuration.
    """
    out_dir = Path(out_dir)
    manifest_path = out_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        raise SweepError(
            f"{out_dir} holds no sweep ({MANIFEST_FILE} is missing); run 'softloc bench' first"
        )
    manifest = _read_manifest(manifest_path)
    scan = _scan_results(out_dir / RESULTS_FILE)
    for row in scan.rows:
        if row["experiment"] != manifest.experiment or row["config_hash"] != manifest.config_hash:
            raise SweepError(
                f"{out_dir / RESULTS_FILE}: run {row['run_id']} comes from experiment "
                f"{row['experiment']!r}, config {row['config_hash']}, not from the manifest's "
                f"{manifest.experiment!r}, config {manifest.config_hash}"
            )
    # Run order of the manifest's axes: a row's stored index is its position in the sweep
    # that ran it, which differs for the rows run before the sweep's axes grew.
    order = {run.run_id: run.index
             for run in build_runs(manifest.experiment, manifest.config_hash, manifest.axes)}
    rows = tuple(sorted(scan.rows, key=lambda row: (order.get(row["run_id"], math.inf),
                                                    row["index"])))
    return SweepResults(out_dir, manifest, rows, scan.torn)


@dataclass(frozen=True)
class ScoreCell:
    """Mean and sample standard deviation (``ddof=1``; NaN for fewer than 2 runs) of a score."""

    mean: float
    std: float
    runs: int
    expected_runs: int

    def format(self, spec: str = ".3f") -> str:
        """``'mean (std)'``; ``'-'`` without runs; a ``*`` marks fewer runs than planned."""
        if self.runs == 0:
            return "-"
        std = "-" if math.isnan(self.std) else format(self.std, spec)
        mark = "*" if self.runs < self.expected_runs else ""
        return f"{format(self.mean, spec)} ({std}){mark}"

    def to_dict(self) -> dict:
        return asdict(self)


def _label(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class ScoreTable:
    """One table of the paper's layout: rows = losses, columns = noise levels, one distribution.

    ``cells[i][j]`` is the :class:`ScoreCell` of ``losses[i]`` at ``noise_levels[j]`` over the
    other axes (``averaged_over``, e.g. seeds and folds).
    """

    experiment: str
    score: str
    distribution_axis: str | None
    distribution: Any
    loss_axis: str
    noise_axis: str
    noise_unit: str
    averaged_over: tuple[str, ...]
    losses: tuple
    noise_levels: tuple
    cells: tuple[tuple[ScoreCell, ...], ...]
    score_format: str = ".3f"

    def cell(self, loss: Any, noise_level: Any) -> ScoreCell:
        """The cell of ``loss`` at ``noise_level``."""
        row = [_canonical_json(v) for v in self.losses].index(_canonical_json(loss))
        levels = [_canonical_json(v) for v in self.noise_levels]
        column = levels.index(_canonical_json(noise_level))
        return self.cells[row][column]

    @property
    def incomplete(self) -> bool:
        return any(cell.runs < cell.expected_runs for row in self.cells for cell in row)

    def title(self) -> str:
        """E.g. ``'toy: f1, mean (std) over seed x fold; distribution = normal'``."""
        over = " x ".join(self.averaged_over) if self.averaged_over else "one run"
        title = f"{self.experiment}: {self.score}, mean (std) over {over}"
        if self.distribution_axis is not None:
            title += f"; {self.distribution_axis} = {_label(self.distribution)}"
        return title

    def header(self) -> list[str]:
        corner = f"{self.loss_axis} \\ {self.noise_axis} ({self.noise_unit})"
        return [corner, *(_label(level) for level in self.noise_levels)]

    def body(self) -> list[list[str]]:
        return [
            [_label(loss), *(cell.format(self.score_format) for cell in row)]
            for loss, row in zip(self.losses, self.cells)
        ]

    def format_text(self) -> str:
        """The title and an aligned plain-text table."""
        lines = [self.header(), *self.body()]
        widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
        lines.insert(1, ["-" * width for width in widths])
        text = [self.title()]
        text += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                 for line in lines]
        if self.incomplete:
            text.append("* fewer runs than planned (partial sweep)")
        return "\n".join(text)

    def to_markdown(self) -> str:
        """A heading and a Markdown table."""

        def line(cells: list[str]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        header = self.header()
        rule = "|" + "|".join("---" for _ in header) + "|"
        lines = [f"## {self.title()}", "", line(header), rule]
        lines += [line(row) for row in self.body()]
        if self.incomplete:
            lines += ["", "\\* fewer runs than planned (partial sweep)"]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "score": self.score,
            "distribution_axis": self.distribution_axis,
            "distribution": self.distribution,
            "loss_axis": self.loss_axis,
            "noise_axis": self.noise_axis,
            "noise_unit": self.noise_unit,
            "averaged_over": list(self.averaged_over),
            "losses": list(self.losses),
            "noise_levels": list(self.noise_levels),
            "cells": [[cell.to_dict() for cell in row] for row in self.cells],
        }


def _score_value(row: dict, score: str) -> float:
    value = row["result"].get(score)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepError(
            f"score column {score!r} of run {row['run_id']} is not a number: {value!r}"
        )
    return float(value)


def score_tables(results: SweepResults, score: str | None = None) -> tuple[ScoreTable, ...]:
    """Mean and std of ``score`` per (loss, noise level), one table per noise distribution.

    Cells average over every other axis (seeds, folds, ...); losses, noise levels and
    distributions keep the manifest's axis order. A partial sweep gives cells with fewer runs
    (or none). ``score`` defaults to the manifest's score column; a run without it counts as NaN.
    """
    manifest = results.manifest
    score = manifest.score if score is None else score
    if results.rows and not any(score in row["result"] for row in results.rows):
        columns = sorted({key for row in results.rows for key, value in row["result"].items()
                          if isinstance(value, (int, float)) and not isinstance(value, bool)})
        raise SweepError(
            f"no run has the score column {score!r}; numeric columns: {', '.join(columns)}"
        )
    axes = manifest.axes
    roles = [manifest.loss_axis, manifest.noise_axis]
    if manifest.distribution_axis is not None:
        roles.append(manifest.distribution_axis)
    others = tuple(axis for axis in axes if axis not in roles)
    expected = math.prod(len(axes[axis]) for axis in others)
    groups: dict[tuple[str, str, str], list[float]] = {}
    for row in results.rows:
        params = row["params"]
        distribution = (params.get(manifest.distribution_axis)
                        if manifest.distribution_axis else None)
        key = (_canonical_json(distribution), _canonical_json(params.get(manifest.loss_axis)),
               _canonical_json(params.get(manifest.noise_axis)))
        groups.setdefault(key, []).append(_score_value(row, score))

    def cell(values: list[float]) -> ScoreCell:
        if not values:
            return ScoreCell(math.nan, math.nan, 0, expected)
        array = np.asarray(values, dtype=np.float64)
        std = float(np.std(array, ddof=1)) if array.size > 1 else math.nan
        return ScoreCell(float(np.mean(array)), std, int(array.size), expected)

    distributions = axes[manifest.distribution_axis] if manifest.distribution_axis else [None]
    tables = []
    for distribution in distributions:
        cells = tuple(
            tuple(
                cell(groups.get((_canonical_json(distribution), _canonical_json(loss),
                                 _canonical_json(level)), []))
                for level in axes[manifest.noise_axis]
            )
            for loss in axes[manifest.loss_axis]
        )
        tables.append(ScoreTable(
            experiment=manifest.experiment,
            score=score,
            distribution_axis=manifest.distribution_axis,
            distribution=distribution,
            loss_axis=manifest.loss_axis,
            noise_axis=manifest.noise_axis,
            noise_unit=manifest.noise_unit,
            averaged_over=others,
            losses=tuple(axes[manifest.loss_axis]),
            noise_levels=tuple(axes[manifest.noise_axis]),
            cells=cells,
            score_format=manifest.score_format,
        ))
    return tuple(tables)


def write_report(results: SweepResults, score: str | None = None,
                 tables: Sequence[ScoreTable] | None = None,
                 experiment: SweepExperiment | None = None) -> dict[str, str]:
    """Write ``summary.csv``, ``summary.md`` and ``scores.png`` into the results folder.

    Each file is written atomically (temporary file + ``os.replace``). ``summary.csv`` has one
    row per distribution x loss x noise level with ``mean``, ``std`` (``ddof=1``), ``runs`` and
    ``expected_runs``. Tables of another score than the experiment's go to
    ``summary-<score>.csv``, ``summary-<score>.md`` and ``scores-<score>.png`` (the default
    summaries stay). Returns ``{'csv': path, 'markdown': path, 'png': path}`` plus what the
    ``experiment``'s ``extra_report`` writes (when given, with results).
    """
    tables = score_tables(results, score) if tables is None else tuple(tables)
    manifest = results.manifest
    paths = {kind: results.out_dir / _report_name(name, tables[0].score, manifest.score)
             for kind, name in REPORT_FILES.items()}

    def summary(f: IO) -> None:
        writer = csv.writer(f)
        head = [manifest.distribution_axis] if manifest.distribution_axis else []
        writer.writerow([*head, manifest.loss_axis, manifest.noise_axis, "score", "mean", "std",
                         "runs", "expected_runs"])
        for table in tables:
            for loss, row in zip(table.losses, table.cells):
                for level, cell in zip(table.noise_levels, row):
                    first = [table.distribution] if manifest.distribution_axis else []
                    writer.writerow([*first, loss, level, table.score, repr(cell.mean),
                                     repr(cell.std), cell.runs, cell.expected_runs])

    def markdown(f: IO) -> None:
        f.write(f"# {manifest.experiment}: {manifest.summary}\n\n")
        f.write(f"{results.describe()}. Configuration: `{_canonical_json(manifest.config)}`"
                f"\n\n")
        f.write("\n".join(table.to_markdown() for table in tables))

    write_atomic(paths["csv"], summary)
    write_atomic(paths["markdown"], markdown)
    figure = _plot(tables, manifest)
    write_atomic(paths["png"], lambda f: figure.savefig(f, format="png", dpi=110), binary=True)
    files = {kind: str(path) for kind, path in paths.items()}
    if experiment is not None and experiment.extra_report is not None and results.rows:
        files.update({kind: str(path) for kind, path in experiment.extra_report(results).items()})
    return files


def _report_name(name: str, score: str, default: str) -> str:
    """``summary.csv`` for the experiment's score, ``summary-<score>.csv`` for another."""
    if score == default:
        return name
    stem, dot, suffix = name.partition(".")
    return f"{stem}-{score}{dot}{suffix}"


def _plot(tables: Sequence[ScoreTable], manifest: SweepManifest):
    """Score vs noise level per loss with std error bars; one panel per distribution (Agg)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.4 * len(tables), 3.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(tables), squeeze=False, sharey=True)[0]
    for ax, table in zip(axes, tables):
        levels = table.noise_levels
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels)
        x = np.asarray(levels if numeric else range(len(levels)), dtype=np.float64)
        for loss, row in zip(table.losses, table.cells):
            means = np.array([cell.mean for cell in row])
            stds = np.array([0.0 if math.isnan(cell.std) else cell.std for cell in row])
            ax.errorbar(x, means, yerr=stds, marker="o", markersize=4, capsize=3,
                        label=_label(loss))
        if not numeric:
            ax.set_xticks(x, [_label(v) for v in levels])
        if table.distribution_axis is not None:
            ax.set_title(f"{table.distribution_axis} = {_label(table.distribution)}", fontsize=10)
        ax.set_xlabel(f"{table.noise_axis} ({table.noise_unit})")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(manifest.score_label or tables[0].score)
    axes[0].legend(fontsize=8, title=tables[0].loss_axis, title_fontsize=8)
    over = " x ".join(tables[0].averaged_over) or "one run"
    figure.suptitle(f"{manifest.experiment}: mean +- std over {over}", fontsize=10)
    return figure


# --------------------------------------------------------------------------- executing


def _call(run_one: Callable[..., Any], params: dict, config: Any,
          progress: bool | None = None) -> tuple[Any, float]:
    """Run one point with one torch intra-op thread; returns ``(result, seconds)``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        if progress is None:
            result = run_one(params, config)
        else:
            result = run_one(params, config, progress=progress)
    finally:
        torch.set_num_threads(threads)
    return result, time.perf_counter() - start


def _failure(spec: RunSpec, error: BaseException, out_dir: Path) -> RunFailedError:
    failure = RunFailedError(
        spec,
        f"{spec.describe()} failed: {type(error).__name__}: {error}. The runs finished so far "
        f"are saved in {out_dir / RESULTS_FILE}; fix the cause and rerun with --resume.",
    )
    failure.__cause__ = error
    return failure


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's worker processes now (a worker that caught Ctrl-C in a run goes on with
    the queued runs, and interpreter exit would wait for them)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()


def _import_ray():
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            f"the 'ray' executor needs the optional dependency ray ({error}); install it with "
            f"pip install 'softloc[ray]'"
        ) from None
    return ray


def _check_picklable(experiment: SweepExperiment, config: Any, executor: str) -> None:
    for name, value in [("run_one", experiment.run_one), ("config", config)]:
        try:
            pickle.dumps(value)
        except Exception as error:
            raise TypeError(
                f"{name} of experiment {experiment.name!r} must be picklable to run in a "
                f"{'process pool' if executor == 'local' else 'Ray task'} (a top-level function "
                f"or dataclass of an importable module): {error}"
            ) from None


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :meth:`Sweep.run`.

    ``skipped_runs`` were already in ``results.jsonl`` (``resume``), ``completed_runs`` ran now;
    ``discarded_torn_line`` says a torn last line was cut off; ``files`` maps ``'results'``,
    ``'manifest'`` and the report kinds to paths; ``runtime_s`` is the wall time in seconds.
    """

    out_dir: Path
    experiment: str
    config_hash: str
    executor: str
    workers: int
    total_runs: int
    skipped_runs: int
    completed_runs: int
    discarded_torn_line: bool
    runtime_s: float
    tables: tuple[ScoreTable, ...]
    files: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line: experiment, configuration, runs done now and before, executor, time."""
        text = (f"{self.experiment} (config {self.config_hash}): {self.completed_runs} runs now, "
                f"{self.skipped_runs} resumed, {self.total_runs} in all; executor "
                f"{self.executor} with {self.workers} worker(s); {self.runtime_s:.1f} s")
        if self.discarded_torn_line:
            text += f"; a torn last line of {RESULTS_FILE} was discarded and its run redone"
        return text

    def format_tables(self) -> str:
        return "\n\n".join(table.format_text() for table in self.tables)

    def to_dict(self) -> dict:
        return {
            "out_dir": str(self.out_dir),
            "experiment": self.experiment,
            "config_hash": self.config_hash,
            "executor": self.executor,
            "workers": self.workers,
            "total_runs": self.total_runs,
            "skipped_runs": self.skipped_runs,
            "completed_runs": self.completed_runs,
            "discarded_torn_line": self.discarded_torn_line,
            "runtime_s": self.runtime_s,
            "tables": [table.to_dict() for table in self.tables],
            "files": dict(self.files),
        }


@dataclass(frozen=True)
class Sweep:
    """A validated sweep (from :func:`prepare_sweep`); :meth:`run` runs it."""

    experiment: SweepExperiment
    config: Any
    axes: dict[str, tuple]
    runs: tuple[RunSpec, ...]
    manifest: SweepManifest
    out_dir: Path
    executor: str
    workers: int
    address: str | None
    resume: bool
    force: bool

    @property
    def config_hash(self) -> str:
        return self.manifest.config_hash

    def _check_folder(self) -> _Scan:
        """The folder's finished rows of this sweep; raises if it must not be used as asked."""
        results_path = self.out_dir / RESULTS_FILE
        manifest_path = self.out_dir / MANIFEST_FILE
        if self.force:
            return _Scan((), 0, False)
        if not self.resume:
            if results_path.exists():
                scan = _scan_results(results_path)
                raise SweepError(
                    f"{self.out_dir} already holds a sweep ({len(scan.rows)} finished runs in "
                    f"{RESULTS_FILE}); pass --resume to continue it (same experiment, "
                    f"configuration and axes) or --force to delete its results and start over"
                )
            return _Scan((), 0, False)
        if manifest_path.exists():
            differences = _read_manifest(manifest_path).same_sweep(self.manifest)
            if differences:
                raise SweepError(
                    f"cannot resume the sweep in {self.out_dir}: this sweep has "
                    f"{'; '.join(differences)}; resume with the same options, choose another "
                    f"--out, or pass --force to delete its results and start over"
                )
        scan = _scan_results(results_path)
        planned = {run.run_id for run in self.runs}
        for row in scan.rows:
            if (row["experiment"] != self.experiment.name
                    or row["config_hash"] != self.config_hash or row["run_id"] not in planned):
                raise SweepError(
                    f"cannot resume the sweep in {self.out_dir}: run {row['run_id']} of "
                    f"{RESULTS_FILE} (experiment {row['experiment']!r}, config "
                    f"{row['config_hash']}, params {row['params']}) is not part of this sweep; "
                    f"choose another --out or pass --force to start over"
                )
        return scan

    def run(self, *, progress: bool = True) -> SweepResult:
        """Run the unfinished points, append their rows, write and return the report.

        Parameters
        ----------
        progress:
            Show a tqdm bar of runs done / total with the estimated time left (stderr).

        Raises
        ------
        SweepError
            The folder changed since :func:`prepare_sweep` and must not be used as asked, or
            another sweep holds its lock.
        RunFailedError
            A run raised; the rows finished before stay saved and ``resume`` continues.
        """
        start = time.perf_counter()
        out_dir = self.out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        results_path = out_dir / RESULTS_FILE
        with _folder_lock(out_dir):
            scan = self._check_folder()
            if self.force:
                for name in [RESULTS_FILE, MANIFEST_FILE, *REPORT_FILES.values()]:
                    (out_dir / name).unlink(missing_ok=True)
                for name in REPORT_FILES.values():  # tables of other scores
                    stem, _, suffix = name.partition(".")
                    for path in out_dir.glob(f"{stem}-*.{suffix}"):
                        path.unlink()
            if scan.torn:
                os.truncate(results_path, scan.valid_bytes)
            manifest_path = out_dir / MANIFEST_FILE
            if (not self.resume or not manifest_path.exists()
                    or _read_manifest(manifest_path).axes != self.manifest.axes):
                text = json.dumps(self.manifest.to_dict(), indent=2) + "\n"
                write_atomic(out_dir / MANIFEST_FILE, lambda f: f.write(text))
            done = {row["run_id"] for row in scan.rows}
            pending = [run for run in self.runs if run.run_id not in done]
            created = not results_path.exists()
            fd = os.open(results_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if created:
                    _fsync_folder(out_dir)
                bar = tqdm(total=len(self.runs), initial=len(self.runs) - len(pending),
                           desc=self.experiment.name, unit="run", disable=not progress,
                           dynamic_ncols=True, smoothing=0.1)
                try:
                    def record(spec: RunSpec, result: Any, runtime_s: float) -> None:
                        _append(fd, _row_bytes(spec, result, runtime_s))
                        bar.update(1)

                    self._execute(pending, record, progress)
                finally:
                    bar.close()
            finally:
                os.close(fd)
        results = read_results(out_dir)
        tables = score_tables(results, self.manifest.score)
        files = {"results": str(results_path), "manifest": str(out_dir / MANIFEST_FILE)}
        files.update(write_report(results, tables=tables, experiment=self.experiment))
        return SweepResult(
            out_dir=out_dir,
            experiment=self.experiment.name,
            config_hash=self.config_hash,
            executor=self.executor,
            workers=self.workers,
            total_runs=len(self.runs),
            skipped_runs=len(done),
            completed_runs=len(pending),
            discarded_torn_line=scan.torn,
            runtime_s=time.perf_counter() - start,
            tables=tables,
            files=files,
        )

    def _execute(self, runs: list[RunSpec], record: Callable[[RunSpec, Any, float], None],
                 progress: bool) -> None:
        if not runs:
            return
        if self.executor == "ray":
            self._execute_ray(runs, record)
        elif self.workers == 1:
            self._execute_in_process(runs, record, progress)
        else:
            self._execute_pool(runs, record)

    def _record(self, record: Callable, spec: RunSpec, result: Any, runtime_s: float) -> None:
        try:
            record(spec, result, runtime_s)
        except TypeError as error:  # run_one returned something that is not a JSON row
            raise _failure(spec, error, self.out_dir) from error

    def _execute_in_process(self, runs: list[RunSpec], record: Callable, progress: bool) -> None:
        run_progress = progress if self.experiment.takes_progress else None
        for spec in runs:
            try:
                result, runtime_s = _call(self.experiment.run_one, spec.parameters, self.config,
                                          run_progress)
            except Exception as error:
                raise _failure(spec, error, self.out_dir) from error
            self._record(record, spec, result, runtime_s)

    def _execute_pool(self, runs: list[RunSpec], record: Callable) -> None:
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(runs)),
                                   mp_context=multiprocessing.get_context())
        failure: RunFailedError | None = None
        interrupted = True
        try:
            progress = False if self.experiment.takes_progress else None
            run_one = self.experiment.run_one
            futures = {
                pool.submit(_call, run_one, spec.parameters, self.config, progress): spec
                for spec in runs
            }
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    result, runtime_s = future.result()
                except CancelledError:
                    continue
                except Exception as error:
                    if failure is None:
                        failure = _failure(spec, error, self.out_dir)
                        for other in futures:  # the running ones finish and are recorded
                            other.cancel()
                    continue
                try:
                    self._record(record, spec, result, runtime_s)
                except RunFailedError as error:
                    if failure is None:
                        failure = error
                        for other in futures:
                            other.cancel()
            interrupted = False
        finally:
            if interrupted:  # Ctrl-C or an error here: stop now, the finished rows are saved
                _terminate_workers(pool)  # the pool fails the futures left (BrokenProcessPool)
                pool.shutdown(wait=False)
            else:
                pool.shutdown(wait=True)
        if failure is not None:
            raise failure

    def _execute_ray(self, runs: list[RunSpec], record: Callable) -> None:
        ray = _import_ray()
        started_here = False
        if not ray.is_initialized():
            if self.address is not None:
                ray.init(address=self.address)
            else:
                # The workers of a local instance see the driver's sys.path, as the processes
                # of a "spawn" pool do, so run_one may live in a script folder, not a package.
                path = os.pathsep.join(dict.fromkeys(os.path.abspath(p) for p in sys.path))
                ray.init(num_cpus=self.workers, include_dashboard=False,
                         runtime_env={"env_vars": {"PYTHONPATH": path}})
            started_here = True
        try:
            remote_call = ray.remote(num_cpus=1)(_call)
            config_ref = ray.put(self.config)
            progress = False if self.experiment.takes_progress else None
            specs = {
                remote_call.remote(self.experiment.run_one, spec.parameters, config_ref, progress):
                spec
                for spec in runs
            }
            pending = list(specs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    spec = specs[ref]
                    try:
                        result, runtime_s = ray.get(ref)
                    except Exception as error:
                        for other in pending:
                            ray.cancel(other)
                        raise _failure(spec, error, self.out_dir) from error
                    self._record(record, spec, result, runtime_s)
        finally:
            if started_here:
                ray.shutdown()


def prepare_sweep(
    experiment: SweepExperiment,
    *,
    out_dir: Path | str,
    config: Any = None,
    axes: Mapping[str, Sequence] | None = None,
    quick: bool = False,
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    resume: bool = False,
    force: bool = False,
    score: str | None = None,
) -> Sweep:
    """Validate a sweep and its output folder; nothing runs and nothing is written.

    Parameters
    ----------
    experiment:
        The experiment to sweep.
    out_dir:
        Results folder (created when the sweep runs).
    config:
        An ``experiment.config_type``; default ``experiment.config(quick)``.
    axes:
        Axis name -> values, the experiment's axes (same names, same order) with any values;
        default ``experiment.sweep_axes(quick)``.
    quick:
        Use the experiment's quick axes and configuration where ``axes`` / ``config`` are not
        given.
    executor:
        ``'local'`` (this process or a process pool) or ``'ray'`` (Ray tasks).
    workers:
        Parallel runs, default :func:`default_workers`. ``'local'``: pool processes, ``1`` runs
        in this process without a pool. ``'ray'``: CPUs of the local Ray instance (ignored with
        ``address``: the cluster's CPUs decide).
    address:
        Address of a running Ray cluster (``ray.init(address=...)``); only with ``'ray'``. Its
        nodes need softloc and the module of ``run_one`` installed. Without it a local Ray
        instance starts (and stops at the end) whose workers see this process's ``sys.path``.
    resume:
        Continue the sweep in ``out_dir``: skip the runs already in ``results.jsonl``.
    force:
        Delete ``out_dir``'s results and start over (not with ``resume``).
    score:
        The result column the tables average; default ``experiment.score``.

    Raises
    ------
    TypeError, ValueError
        Invalid arguments (naming the argument).
    SweepError
        ``out_dir`` holds results and neither ``resume`` nor ``force`` is set, or ``resume`` is
        set and the folder holds another experiment, configuration or axes, or a damaged file.
    ImportError
        ``executor='ray'`` without Ray installed.
    """
    if not isinstance(experiment, SweepExperiment):
        raise TypeError(f"experiment must be a SweepExperiment, got {type(experiment).__name__}")
    config = experiment.config(quick) if config is None else config
    if not isinstance(config, experiment.config_type):
        raise TypeError(
            f"config must be a {experiment.config_type.__name__}, got {type(config).__name__}"
        )
    axes = experiment.sweep_axes(quick) if axes is None else _check_axes(axes, "axes")
    if list(axes) != list(experiment.axes):
        raise ValueError(f"axes must name the experiment's axes {list(experiment.axes)} in that "
                         f"order, got {list(axes)}")
    check_choice(executor, "executor", EXECUTORS)
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1, got {workers!r}")
    if address is not None and executor != "ray":
        raise ValueError(f"address needs executor='ray', got executor={executor!r}")
    if resume and force:
        raise ValueError("resume and force exclude each other: resume continues, force deletes")
    score = experiment.score if score is None else score
    if not isinstance(score, str) or not score:
        raise ValueError(f"score must be a non-empty column name, got {score!r}")
    if executor == "ray":
        _import_ray()
    if executor == "ray" or workers > 1:
        _check_picklable(experiment, config, executor)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"out_dir must be a folder, got the file {out_dir}")
    hash_ = config_hash(config, experiment.version)
    runs = build_runs(experiment.name, hash_, axes)
    sweep = Sweep(
        experiment=experiment,
        config=config,
        axes=axes,
        runs=runs,
        manifest=_manifest(experiment, config, axes, len(runs), score),
        out_dir=out_dir,
        executor=executor,
        workers=workers,
        address=address,
        resume=resume,
        force=force,
    )
    sweep._check_folder()
    return sweep


def run_sweep(experiment: SweepExperiment, *, out_dir: Path | str, progress: bool = True,
              **options: Any) -> SweepResult:
    """:func:`prepare_sweep` then :meth:`Sweep.run`; ``options`` are those of ``prepare_sweep``.

    Examples
    --------
    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):
    ...     bonus = 0.1 if params["loss"] == "b" else 0.0
    ...     return {"score": config.offset + bonus - params["noise_level"] / 10
    ...             + params["seed"] / 100}
    >>> toy = SweepExperiment(
    ...     name="toy", summary="a toy sweep", config_type=Config, run_one=run_one,
    ...     axes={"loss": ["a", "b"], "noise_level": [0, 2], "seed": [0, 1]},
    ...     score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = run_sweep(toy, out_dir=folder, workers=1, progress=False)
    ...     print(result.tables[0].format_text())
    toy: score, mean (std) over seed
    loss \\ noise_level (frames)  0              2
    ---------------------------  -------------  -------------
    a                            0.505 (0.007)  0.305 (0.007)
    b                            0.605 (0.007)  0.405 (0.007)
    """
    return prepare_sweep(experiment, out_dir=out_dir, **options).run(progress=progress)

"""A sweep: :func:`prepare_sweep` validates it and its output folder, :meth:`Sweep.run` runs
the unfinished points, appends their rows and writes the report (:class:`SweepResult`);
:func:`run_sweep` does both."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .._checks import check_choice
from .._io import write_atomic
from .errors import SweepError
from .executors import (
    EXECUTORS,
    _check_picklable,
    _Executors,
    _import_ray,
    default_workers,
)
from .experiment import SweepExperiment
from .hashing import config_hash
from .manifest import MANIFEST_FILE, SweepManifest, _manifest, _read_manifest
from .report import REPORT_FILES, write_report
from .runs import RunSpec, _check_axes, build_runs
from .store import (
    RESULTS_FILE,
    _append,
    _folder_lock,
    _fsync_folder,
    _row_bytes,
    _Scan,
    _scan_results,
    read_results,
)
from .tables import ScoreTable, score_tables

__all__ = ["SweepResult", "Sweep", "prepare_sweep", "run_sweep"]


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :meth:`Sweep.run`.

    ``skipped_runs`` were already in ``results.jsonl`` (``resume``), ``completed_runs`` ran now;
    ``discarded_torn_line`` says a torn last line was cut off; ``files`` maps ``'results'``,
    ``'manifest'`` and the report kinds to paths; ``runtime_s`` is the wall time in seconds.

    Examples
    --------
    A sweep, then the same sweep resumed with a third seed: only the new runs run:

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
    >>> more_seeds = {"loss": ["a", "b"], "noise_level": [0, 2], "seed": [0, 1, 2]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first = prepare_sweep(toy, out_dir=folder, workers=1).run(progress=False)
    ...     again = prepare_sweep(toy, out_dir=folder, workers=1, axes=more_seeds,
    ...                           resume=True).run(progress=False)
    >>> first.completed_runs, again.completed_runs, again.skipped_runs, again.total_runs
    (8, 4, 8, 12)
    >>> sorted(again.files), again.executor, again.workers
    (['csv', 'manifest', 'markdown', 'png', 'results'], 'local', 1)
    >>> round(again.tables[0].cell("a", 0).mean, 3)  # seeds 0, 1, 2
    0.51
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
class Sweep(_Executors):
    """A validated sweep (from :func:`prepare_sweep`); :meth:`run` runs it.

    Examples
    --------
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
    ...     sweep = prepare_sweep(toy, out_dir=folder, workers=1)
    ...     planned = [run.describe() for run in sweep.runs[:2]]
    ...     result = sweep.run(progress=False)
    >>> len(sweep.runs), sweep.config_hash, sweep.executor
    (8, 'a8243a02534a', 'local')
    >>> planned
    ['run 0 (loss=a, noise_level=0, seed=0)', 'run 1 (loss=a, noise_level=0, seed=1)']
    >>> result.completed_runs
    8
    """

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
    device: str | None = None

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
    device: str | None = None,
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
    device:
        Where each run trains (``'cpu'``, ``'cuda'``, ``'cuda:N'``, ``'auto'``:
        :func:`~softloc.training.resolve_device`), passed to ``run_one`` as ``device=``; only
        for experiments with ``takes_device``. ``None``: the experiment's default (the CPU).
        Not part of the configuration hash: a sweep resumed on another device continues (its
        rows record where they ran). A CUDA device runs with the local executor only.

    Raises
    ------
    TypeError, ValueError
        Invalid arguments (naming the argument).
    SweepError
        ``out_dir`` holds results and neither ``resume`` nor ``force`` is set, or ``resume`` is
        set and the folder holds another experiment, configuration or axes, or a damaged file.
    ImportError
        ``executor='ray'`` without Ray installed.

    Examples
    --------
    Nothing runs: the runs are planned and the folder is checked (a folder with results
    needs ``resume`` or ``force``):

    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from softloc.runner import SweepExperiment, SweepError, run_sweep
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):  # a made-up score: lower with more noise
    ...     return {"score": config.offset - params["noise_level"] / 10 + params["seed"] / 100}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0, 1]}, score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     sweep = prepare_sweep(toy, out_dir=folder, workers=1, config=Config(offset=0.6))
    ...     planned = len(sweep.runs), sweep.config.offset
    ...     _ = run_sweep(toy, out_dir=folder, workers=1, progress=False)
    ...     try:
    ...         prepare_sweep(toy, out_dir=folder, workers=1)
    ...     except SweepError as error:
    ...         print(str(error).split(";")[0].split(" already ")[1])
    ...     resumed = prepare_sweep(toy, out_dir=folder, workers=1, resume=True)
    holds a sweep (8 finished runs in results.jsonl)
    >>> planned, resumed.resume
    ((8, 0.6), True)
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
    if device is not None:
        if not experiment.takes_device:
            raise ValueError(f"device: the {experiment.name!r} experiment's runs do not take a "
                             f"device (its run_one has no device option)")
        from ..training.devices import resolve_device

        resolved = resolve_device(device)
        if resolved.type == "cuda" and executor == "ray":
            raise ValueError("device: CUDA runs need the local executor (Ray tasks would "
                             "need GPU resources, which softloc does not request yet)")
        device = str(resolved)
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
        device=device,
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

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

Modules
-------
=====================================  ==========================================================
:mod:`~softloc.runner.experiment`      :class:`SweepExperiment`, the sweep specification
:mod:`~softloc.runner.runs`            the points of a sweep: :class:`RunSpec`,
                                       :func:`build_runs`
:mod:`~softloc.runner.hashing`         canonical JSON, :func:`config_hash`
:mod:`~softloc.runner.manifest`        ``sweep.json``: :class:`SweepManifest`
:mod:`~softloc.runner.store`           ``results.jsonl``: atomic appends, torn-line repair, the
                                       folder lock, :func:`read_results`
:mod:`~softloc.runner.tables`          :class:`ScoreCell`, :class:`ScoreTable`,
                                       :func:`score_tables`
:mod:`~softloc.runner.report`          :func:`write_report`: ``summary.csv``, ``summary.md``,
                                       ``scores.png``
:mod:`~softloc.runner.executors`       in this process, in a process pool, as Ray tasks
:mod:`~softloc.runner.sweep`           :func:`prepare_sweep`, :class:`Sweep`,
                                       :class:`SweepResult`, :func:`run_sweep`
:mod:`~softloc.runner.errors`          :class:`SweepError`, :class:`RunFailedError`
=====================================  ==========================================================
"""

from .errors import RunFailedError, SweepError
from .executors import EXECUTORS, default_workers
from .experiment import SweepExperiment
from .hashing import config_hash
from .manifest import MANIFEST_FILE, SweepManifest
from .manifest import MANIFEST_FORMAT as MANIFEST_FORMAT  # public, not in __all__
from .report import REPORT_FILES, write_report
from .runs import RunSpec, build_runs
from .store import LOCK_FILE as LOCK_FILE  # public, not in __all__
from .store import RESULTS_FILE, SweepResults, read_results
from .sweep import Sweep, SweepResult, prepare_sweep, run_sweep
from .tables import ScoreCell, ScoreTable, score_tables

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

"""The results store ``results.jsonl``: rows appended atomically (one ``os.write`` and
``fsync`` each), read back with a torn last line detected, the folder lock, and
:func:`read_results` (a folder's manifest and rows, :class:`SweepResults`)."""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SweepError
from .hashing import _json_default
from .manifest import MANIFEST_FILE, SweepManifest, _read_manifest
from .runs import RunSpec, build_runs

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None

__all__ = ["RESULTS_FILE", "SweepResults", "read_results"]

RESULTS_FILE = "results.jsonl"
"""The results file's name in a results folder: one JSON row per finished run."""
LOCK_FILE = ".sweep.lock"
_ROW_KEYS = ("run_id", "index", "experiment", "config_hash", "params", "result")


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


@dataclass(frozen=True)
class SweepResults:
    """A results folder read back: its manifest and its finished rows in run order.

    ``torn_tail`` is True when ``results.jsonl`` ends in a torn line (ignored here; a resumed
    sweep cuts it off and redoes that run).

    Examples
    --------
    :func:`read_results` returns one; a torn last line (a crash mid-write) is ignored:

    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from softloc.runner import SweepExperiment, read_results, run_sweep
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):  # a made-up score: lower with more noise
    ...     return {"score": config.offset - params["noise_level"] / 10 + params["seed"] / 100}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0, 1]}, score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = run_sweep(toy, out_dir=folder, workers=1, progress=False)
    ...     with open(f"{folder}/results.jsonl", "a") as f:
    ...         _ = f.write('{"run_id": "0123')  # no newline: torn
    ...     results = read_results(folder)
    >>> results.finished, results.complete, results.torn_tail
    (8, True, True)
    >>> results.rows[1]["params"], results.rows[1]["result"]
    ({'loss': 'a', 'noise_level': 0, 'seed': 1}, {'score': 0.51})
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

    Examples
    --------
    >>> import tempfile
    >>> from dataclasses import dataclass
    >>> from softloc.runner import SweepExperiment, run_sweep
    >>> @dataclass(frozen=True)
    ... class Config:
    ...     offset: float = 0.5
    >>> def run_one(params, config):  # a made-up score: lower with more noise
    ...     return {"score": config.offset - params["noise_level"] / 10 + params["seed"] / 100}
    >>> toy = SweepExperiment(name="toy", summary="a toy sweep", config_type=Config,
    ...                       run_one=run_one, axes={"loss": ["a", "b"], "noise_level": [0, 2],
    ...                       "seed": [0, 1]}, score="score", distribution_axis=None)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = run_sweep(toy, out_dir=folder, workers=1, progress=False)
    ...     results = read_results(folder)
    >>> results.describe()
    'toy (config a8243a02534a): 8 of 8 runs finished'
    >>> [row["result"]["score"] for row in results.rows[:4]]  # run order: loss a first
    [0.5, 0.51, 0.3, 0.31]
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

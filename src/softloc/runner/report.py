"""The report of a results folder: ``summary.csv``, ``summary.md`` and the plot ``scores.png``,
each written atomically (:func:`write_report`)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from typing import IO

import numpy as np

from .._io import write_atomic
from .experiment import SweepExperiment
from .hashing import _canonical_json
from .manifest import SweepManifest
from .store import SweepResults
from .tables import ScoreTable, _label, score_tables

__all__ = ["REPORT_FILES", "write_report"]

REPORT_FILES = {"csv": "summary.csv", "markdown": "summary.md", "png": "scores.png"}
"""The report's files in a results folder, by kind (:func:`write_report`)."""


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

    Examples
    --------
    A sweep writes its report itself; this rewrites it, e.g. after reading a partial sweep:

    >>> import csv, os
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
    ...     files = write_report(read_results(folder))
    ...     names = sorted(os.path.basename(path) for path in files.values())
    ...     with open(files["csv"]) as f:
    ...         rows = list(csv.DictReader(f))
    >>> names
    ['scores.png', 'summary.csv', 'summary.md']
    >>> len(rows), rows[1]["loss"], rows[1]["noise_level"], round(float(rows[1]["mean"]), 3)
    (4, 'a', '2', 0.305)
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

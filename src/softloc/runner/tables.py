"""Score tables in the paper's layout: per noise distribution, the mean and standard deviation
of a score for each (loss, noise level) (:class:`ScoreCell`, :class:`ScoreTable`,
:func:`score_tables`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .errors import SweepError
from .hashing import _canonical_json
from .store import SweepResults

__all__ = ["ScoreCell", "ScoreTable", "score_tables"]


@dataclass(frozen=True)
class ScoreCell:
    """Mean and sample standard deviation (``ddof=1``; NaN for fewer than 2 runs) of a score.

    ``runs`` counts the runs averaged, ``expected_runs`` those planned.

    Examples
    --------
    >>> ScoreCell(mean=0.8125, std=0.0125, runs=4, expected_runs=4).format()
    '0.812 (0.013)'
    >>> ScoreCell(mean=0.8, std=float("nan"), runs=1, expected_runs=4).format(".2f")
    '0.80 (-)*'
    >>> ScoreCell(mean=float("nan"), std=float("nan"), runs=0, expected_runs=4).format()
    '-'
    """

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

    Examples
    --------
    :func:`score_tables` makes them (and :class:`SweepResult` holds them):

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
    ...     table, = run_sweep(toy, out_dir=folder, workers=1, progress=False).tables
    >>> table.title(), table.losses, table.noise_levels
    ('toy: score, mean (std) over seed', ('a', 'b'), (0, 2))
    >>> cell = table.cell("b", 2)
    >>> round(cell.mean, 3), cell.runs, table.incomplete
    (0.305, 2, False)
    >>> print(table.to_markdown())
    ## toy: score, mean (std) over seed
    <BLANKLINE>
    | loss \\ noise_level (frames) | 0 | 2 |
    |---|---|---|
    | a | 0.505 (0.007) | 0.305 (0.007) |
    | b | 0.505 (0.007) | 0.305 (0.007) |
    <BLANKLINE>
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

    Examples
    --------
    The table of a partial sweep: loss b at noise level 2 has one run of two (``*``):

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
    ...     with open(f"{folder}/results.jsonl") as f:
    ...         rows = f.readlines()
    ...     with open(f"{folder}/results.jsonl", "w") as f:  # as if it stopped after 7 runs
    ...         _ = f.writelines(rows[:7])
    ...     table, = score_tables(read_results(folder))
    >>> print(table.format_text())
    toy: score, mean (std) over seed
    loss \\ noise_level (frames)  0              2
    ---------------------------  -------------  -------------
    a                            0.505 (0.007)  0.305 (0.007)
    b                            0.505 (0.007)  0.300 (-)*
    * fewer runs than planned (partial sweep)
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

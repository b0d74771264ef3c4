"""Figures of the experiment pages, drawn from the measured tables on those pages.

The raw results of the long sweeps (``results.jsonl``) stay where they were run; their tables
were copied into ``docs/experiments/*.md``. This script reads the tables back from the pages (the
first number of each cell is the mean over seeds and folds; rows named ``paper ...`` are the
paper's numbers in percent) and draws one score-versus-noise plot per table, so a figure can
never disagree with its table.

    python docs/figures/plot_tables.py     # writes docs/figures/<page>-<n>.png
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DOCS = Path(__file__).resolve().parents[1]
#: (page, the table's header starts with, x label, figure name)
FIGURES = (
    ("sensor.md", "| F1 | sigma = 0 | 1 |", "label noise sigma (steps)", "sensor-normal"),
    ("golf.md", "| PCE | sigma = 0 |", "label noise sigma (frames)", "golf"),
    ("music.md", "| F1 (no offset) · paper |", "label noise sigma (ms)", "piano"),
    ("music.md", "| F1 (std) (no offset) |", "label noise sigma (ms)", "drums"),
)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
CELL = re.compile(r"(?<!\\)\|")  # a cell boundary: a pipe not escaped as \|


def cells_of(line: str) -> list[str]:
    return [c.strip() for c in CELL.split(line.strip().strip("|"))]


def read_table(page: Path, header: str) -> tuple[list[float], dict[str, list[float]]]:
    lines = page.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    levels = []
    for cell in cells_of(lines[start])[1:]:
        if "drop" in cell or "paper" in cell or not NUMBER.search(cell):
            break
        levels.append(float(NUMBER.search(cell).group()))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = cells_of(line)
        values = [float(NUMBER.search(c).group()) for c in cells[1:len(levels) + 1]]
        rows[cells[0].replace("\\|", "|")] = values
    return levels, rows


def main() -> None:
    for page, header, xlabel, name in FIGURES:
        levels, rows = read_table(DOCS / "experiments" / page, header)
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for loss, values in rows.items():
            if loss.startswith("paper"):
                continue
            ax.plot(levels, values, marker="o", label=loss)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(header.strip("| ").split()[0])
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(f"{name}: measured (the table on its page)", fontsize=10)
        fig.tight_layout()
        out = DOCS / "figures" / f"{name}.png"
        fig.savefig(out, dpi=100)
        plt.close(fig)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()

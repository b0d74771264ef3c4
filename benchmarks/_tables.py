"""Writing a benchmark's result rows as Markdown and CSV (atomically)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from softloc._io import write_text_atomic


def write_tables(rows: list[dict], folder: Path, name: str) -> None:
    """Write ``folder/name.md`` and ``folder/name.csv`` (floats with 2 decimals in Markdown)."""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(
            f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns) + " |")
    write_text_atomic(folder / f"{name}.md", "\n".join(lines) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(folder / f"{name}.csv", buffer.getvalue())
    print(f"wrote {folder / (name + '.md')} and {folder / (name + '.csv')}")

"""A griffe extension for the API reference: softloc's docstrings use Sphinx roles
(``:func:`x```, ``:class:`~softloc.a.B```) so that they read well in ``help()`` and IDEs; this
turns each role into inline code (``~`` keeps the last component, as Sphinx shows it), and each
reStructuredText simple table (columns framed by ``===`` lines) into a Markdown table, before
mkdocstrings renders the docstring. Double-backtick literals are left as they are (Markdown
shows them as code)."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")


BORDER = re.compile(r"^( *)(=+)((?: +=+)+) *$")


def _columns(border: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", border)]


def _split(line: str, columns: list[tuple[int, int]]) -> list[str]:
    starts = [start for start, _ in columns] + [None]
    return [line[starts[i]:starts[i + 1]].strip() for i in range(len(columns))]


def _markdown_table(rows: list[list[str]], header: list[str] | None) -> list[str]:
    if header is None:  # a table without a header row: an empty one (Markdown needs one)
        header = [" "] * len(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
                    for row in rows]


def rst_tables_to_markdown(text: str) -> str:
    """Rewrite every reST simple table of ``text`` as a Markdown table."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        if not BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        columns = _columns(lines[i])
        borders, rows, header, i = 1, [], None, i + 1
        while i < len(lines) and borders < 3:
            line = lines[i]
            if BORDER.match(line):
                borders += 1
                if borders == 2 and len(rows) == 1 and _header_follows(lines, i):
                    header, rows = rows[0], []
                elif borders == 2:
                    i += 1
                    break
            elif line.strip():
                cells = _split(line, columns)
                if rows and not cells[0]:  # a continuation line of the previous row
                    rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]
                else:
                    rows.append(cells)
            i += 1
        out.extend(["", *_markdown_table(rows, header), ""])
    return "\n".join(out)


def _header_follows(lines: list[str], i: int) -> bool:
    """Whether the border at ``i`` separates a header from the body (a third border follows
    before the next blank line)."""
    for line in lines[i + 1:]:
        if not line.strip():
            return False
        if BORDER.match(line):
            return True
    return False


def _code(match: re.Match) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_tables_to_markdown(ROLE.sub(_code, obj.docstring.value))

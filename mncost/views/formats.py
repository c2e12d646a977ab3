"""The output formats, and the few primitives every view renders with."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any

from ..console import TEXT_WIDTH  # the console rule keeps the width; every view uses it

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")  # a cell already made safe by mncost.text.md keeps its escapes


class Format(str, Enum):
    """``--format`` of analyze, models, hardware, sweep, ridge, crosscheck, bench and pick."""

    table = "table"
    csv = "csv"
    md = "md"
    json = "json"


class FitFormat(str, Enum):
    """``fit --format``: the measurements are already CSV, so no csv."""

    table = "table"
    md = "md"
    json = "json"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> str:
    """A GitHub pipe table; ``align`` is one of l/r/c per column (default: left)."""
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    spec = align or "l" * len(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in spec) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_UNESCAPED_PIPE.sub(r"\\|", str(cell)) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows of raw values as CSV (``\\n`` line ends); the header from ``columns`` or the first row."""
    import csv

    buffer = io.StringIO()
    fieldnames = list(columns) if columns is not None else (list(rows[0]) if rows else [])
    writer = csv.DictWriter(buffer, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def rich_to_text(*renderables: Any, width: int = TEXT_WIDTH) -> str:
    """What rich prints for ``renderables`` on a plain (colourless) stream ``width`` columns wide."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, legacy_windows=False)
    for item in renderables:
        console.print(item)
    return buffer.getvalue()


def console(file: Any = None) -> Any:
    """The terminal console on ``file`` (stdout); piped output gets :data:`TEXT_WIDTH` columns, as files do."""
    from rich.console import Console

    out = Console(file=file)
    if not out.is_terminal:
        out = Console(file=file, width=TEXT_WIDTH)
    return out

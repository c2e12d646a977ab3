"""How a console would lay out the analyze table on a stream: the columns and whether it
styles, decided the way rich decides, or None when only rich itself can say.

Light on purpose (os only): the answer cache keys the table on this before anything of
the analysis is imported, and :func:`mncost.render.print_table` draws by it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

TEXT_WIDTH = 160
"""Columns of a table written to a file or a pipe (a terminal uses its own width)."""

# any of these asks rich for something the direct drawing does not do
_RICH_ENV = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")


def terminal_width() -> int | None:
    """The width rich gives a terminal console (the first standard stream that has one)."""
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            continue
    return None


def table_layout(stream: Any) -> tuple[int, bool] | None:
    """``(width, styles)`` for a table printed on ``stream``: 160 plain columns when piped,
    the terminal's width with styles on a terminal; None when rich must decide."""
    env = os.environ
    if any(key in env for key in _RICH_ENV):
        return None
    if not stream.isatty():
        return TEXT_WIDTH, False
    if env.get("TERM", "") not in ("dumb", "unknown") and stream is sys.stdout:
        width = terminal_width()
        return (width, True) if width else None
    return None

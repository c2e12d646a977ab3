"""Atomic file output: a temporary file in the target directory, then an atomic rename.

An interrupted or failed run never leaves a partial file behind, and an existing
file is only replaced by a complete new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OptionError


def check_writable(path: Path) -> None:
    """Fail early, before any work, if ``path`` cannot be written."""
    if path.is_dir():
        raise OptionError("is a directory; expected a file path", file=str(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OptionError(f"directory {str(parent)!r} does not exist", file=str(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OptionError(f"directory {str(parent)!r} is not writable", file=str(path))


def write_atomic(path: Path, text: str) -> None:
    check_writable(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise

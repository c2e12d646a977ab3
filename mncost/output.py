"""Atomic file output: a temporary file in the target directory, then an atomic rename.

An interrupted or failed run never leaves a partial file behind, and an existing
file is only replaced by a complete new one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
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


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write ``text`` (or the pieces of an iterable, streamed) to ``path``, all or nothing."""
    check_writable(path)
    parent = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if isinstance(text, str):
                handle.write(text)
            else:
                for piece in text:
                    handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def check_report_folder(folder: Path, *, force: bool) -> None:
    """A report folder is new, empty, or replaced whole with ``force``: never mixed."""
    parent = folder.parent if str(folder.parent) else Path(".")
    if folder.exists() and not folder.is_dir():
        raise OptionError("exists and is not a directory", file=str(folder))
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise OptionError("exists and is not empty; use --force to replace it", file=str(folder))
    if not parent.is_dir():
        raise OptionError(f"directory {str(parent)!r} does not exist", file=str(folder))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OptionError(f"directory {str(parent)!r} is not writable", file=str(folder))


def write_folder_atomic(folder: Path, build: Callable[[Path], None], *, force: bool = False) -> None:
    """Let ``build`` fill a fresh sibling folder, then swap it into place whole."""
    import shutil

    check_report_folder(folder, force=force)
    parent = folder.parent if str(folder.parent) else Path(".")
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=parent))
    backup: Path | None = None
    try:
        build(staging)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a report folder is not
        if folder.exists():
            backup = parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, backup)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if backup is not None and backup.exists() and not folder.exists():
            os.replace(backup, folder)
        raise
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)

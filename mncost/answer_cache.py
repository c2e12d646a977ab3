"""Whole answers of ``mncost analyze`` for built-in names, cached on disk.

``mncost analyze v3-large --hw edgetpu`` prints the same bytes every time until mncost or
one of its spec or profile files changes, and importing the analysis costs several times
printing a stored answer. So the fast entry point (:mod:`mncost.launch`) stores the exact
stdout of such a run and prints it again next time, without importing anything but this
module (os and sys).

Safe by construction:

- only built-in names (a model or profile given as a file path is never cached: the file
  may change behind any fingerprint), only stdout (never ``--output``), only runs that
  succeed and write nothing to stderr;
- the key is the parsed options, the table's console layout (:mod:`mncost.console`),
  stdout's encoding, the warning options, the Python version and a fingerprint of every
  file of the package and of its built-in spec and profile folders (path, size, mtime);
  the whole key is stored in the entry and compared on reading, so a stale or colliding
  entry is simply a miss;
- entries are written to a temporary file and renamed, one file per question (a changed
  package overwrites its stale answer) and at most MAX_ENTRIES files (the oldest go
  first); any problem reading or writing means no cache and the same answer computed
  again; ``MNCOST_NO_CACHE=1`` turns it off.

The cache folder (this one and :mod:`mncost.builtin`'s parsed built-ins share it):
``$MNCOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/mncost``, else ``~/.cache/mncost``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_FORMAT = "mncost answer 1"  # change when the entry layout changes
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def cache_root() -> str | None:
    """The user's mncost cache folder, or None when caching is turned off."""
    if os.environ.get("MNCOST_NO_CACHE"):
        return None
    root = os.environ.get("MNCOST_CACHE_DIR")
    if root:
        return root
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mncost")


def _builtin_folders() -> list[str]:
    """Where :mod:`mncost.builtin` finds the specs and profiles (its rule, not a copy)."""
    from .builtin import builtin_folders

    return [str(folder) for folder in builtin_folders()]


def file_stats(folders: list[str], suffix: str = "") -> list[str]:
    """``path:size:mtime`` of every file under ``folders`` whose name ends with ``suffix``
    (``__pycache__`` skipped; an unreadable folder is marked, not an error): what both
    caches' fingerprints are made of."""
    parts = []
    stack = list(folders)
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            parts.append(f"{folder}:unreadable")
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stack.append(entry.path)
            elif entry.name.endswith(suffix):
                st = entry.stat()
                parts.append(f"{entry.path}:{st.st_size}:{st.st_mtime_ns}")
    return parts


def fingerprint() -> str:
    """Changes whenever a file of the package or of the built-in folders changes."""
    return "\n".join(sorted([sys.version, *file_stats([_PACKAGE, *_builtin_folders()])]))


def write_entry(path: str, data: bytes) -> None:
    """Write a cache entry whole: to a temporary file in the (private) folder, then renamed.
    Raises OSError; the callers treat any failure as "no cache"."""
    import tempfile

    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def analyze_key(options: dict[str, Any], stdout: Any) -> str | None:
    """The cache key of ``mncost analyze`` with these parsed options printing on ``stdout``,
    or None when the answer must not be cached (or caching is off)."""
    if cache_root() is None or options.get("output") is not None:
        return None
    from .builtin import is_path

    if any(is_path(str(options.get(name, ""))) for name in ("model", "hw")):
        return None
    layout: object = "text"
    if options.get("format", "table") == "table":
        from .console import table_layout

        layout = table_layout(stdout)
        if layout is None:  # rich draws it: leave it to rich
            return None
    encoding = (getattr(stdout, "encoding", None), getattr(stdout, "errors", None))  # what the text can be written as
    # -W / PYTHONWARNINGS decide whether a warning would show (and a warned run is not stored)
    question = f"analyze {sorted(options.items())!r}\nlayout {layout!r} {encoding!r}\nwarnings {sys.warnoptions!r}"
    return f"{_FORMAT}\n{question}\n{_FINGERPRINT_LINE}\n{fingerprint()}"


_FINGERPRINT_LINE = "-- fingerprint --"
MAX_ENTRIES = 500  # a script asking thousands of configurations keeps the folder to a few tens of MB


def _entry(root: str, key: str) -> str:
    """The entry file: named by the question alone, so that the answer of a changed package
    replaces the stale one instead of piling up beside it."""
    import zlib

    question = key.partition(f"\n{_FINGERPRINT_LINE}\n")[0]
    return os.path.join(root, "answers", f"{zlib.crc32(question.encode()):08x}.txt")


def _prune(folder: str) -> None:
    """Drop the least recently written entries once there are more than MAX_ENTRIES."""
    entries = [e for e in os.scandir(folder) if e.name.endswith(".txt") and not e.name.startswith(".")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[: len(entries) - MAX_ENTRIES * 4 // 5]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def lookup(key: str) -> str | None:
    """The stored answer for ``key``, or None."""
    root = cache_root()
    if root is None:
        return None
    try:
        with open(_entry(root, key), "rb") as handle:
            data = handle.read()
        stored, sep, body = data.partition(b"\0")
        if sep and stored.decode() == key:
            return body.decode()
    except (OSError, ValueError):  # absent, unreadable or garbled: a miss
        pass
    return None


def store(key: str, text: str) -> None:
    """Keep ``text`` as the answer for ``key``; silently nothing when that is not possible."""
    root = cache_root()
    if root is None:
        return
    try:
        path = _entry(root, key)
        write_entry(path, key.encode() + b"\0" + text.encode())
        _prune(os.path.dirname(path))
    except Exception:  # noqa: BLE001, S110 - a read-only home or a full disk: no cache, same answers
        pass

"""The architecture specs and hardware profiles installed with mncost.

An installed wheel carries them as ``mncost/builtin_specs`` and ``mncost/builtin_hardware``
(see pyproject.toml); a source checkout or editable install reads the repository's
top-level ``specs/`` and ``hardware/`` folders directly.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from .errors import MncostError

T = TypeVar("T")

_PACKAGE = Path(__file__).resolve().parent


def _folder(installed: str, checkout: str) -> Path:
    inside = _PACKAGE / installed
    return inside if inside.is_dir() else _PACKAGE.parent / checkout


def builtin_folders() -> tuple[Path, Path]:
    """The folders of the built-in specs and hardware profiles."""
    return _folder("builtin_specs", "specs"), _folder("builtin_hardware", "hardware")


_SIZES = {"s": "1", "m": "2", "l": "3"}


def _order(path: Path) -> str:
    """v1 before v1-cifar; v4-conv-s, -m, -l in size order."""
    parts = path.stem.split("-")
    if len(parts) > 1 and parts[-1] in _SIZES:
        parts[-1] = _SIZES[parts[-1]]
    return "~".join(parts)


@lru_cache(maxsize=None)
def spec_files() -> dict[str, Path]:
    """Built-in spec name → file."""
    return {p.stem: p for p in sorted(builtin_folders()[0].glob("*.yaml"), key=_order)}


@lru_cache(maxsize=None)
def hardware_files() -> dict[str, Path]:
    """Built-in hardware profile name → file."""
    return {p.stem: p for p in sorted(builtin_folders()[1].glob("*.yaml"), key=_order)}


PATH_SUFFIXES = (".yaml", ".yml", ".onnx")


def is_path(text: str) -> bool:
    """A file path rather than a built-in name: it has a ``/`` or a file suffix.

    A bare word always names a built-in, so a file called ``cpu`` in the current
    directory never shadows the built-in profile ``cpu`` (write ``./cpu`` for the file).
    """
    return text.endswith(PATH_SUFFIXES) or "/" in text


def resolve(
    name_or_path: str | Path,
    files: dict[str, Path],
    load: Callable[[Path, str | None], T],
    *,
    folder: str,
    what: str,
    listing: str,
    file_kind: str,
    error: type[MncostError],
) -> T:
    """Load a file path, or a built-in by name; an unknown name lists the valid ones."""
    from .schema import suggest

    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_path(text):
        return load(Path(text), None)
    if text in files:
        return cached(load, files[text], f"{folder}/{files[text].name}")
    if Path(text).exists():
        raise error(f"{text!r} is not a built-in {what}; to read the file of that name, write ./{text}")
    raise error(f"unknown {what} {text!r}{suggest(text, files)}; {listing}: {', '.join(files)}, or give a {file_kind} .yaml path")


# -- parsed built-ins, cached on disk ----------------------------------------------------------
# Parsing a built-in spec (YAML, then validation into frozen records) takes longer than
# walking and pricing it. The parsed record is pickled under the user's cache folder
# (answer_cache.cache_root: $MNCOST_CACHE_DIR, else $XDG_CACHE_HOME/mncost, else ~/.cache/mncost), keyed by the
# file's path, size and mtime and by a fingerprint of every module of the installed
# package (so editing or upgrading mncost invalidates it). MNCOST_NO_CACHE=1 turns it off;
# any problem reading or writing the cache just means parsing the file again.


def cache_folder() -> Path | None:
    from .answer_cache import cache_root  # one rule for the folder both caches share

    root = cache_root()
    return None if root is None else Path(root)


@lru_cache(maxsize=None)
def package_fingerprint() -> str:
    """Changes whenever any module of the package changes (path, size, mtime of every .py)."""
    import sys

    from .answer_cache import file_stats

    return "\n".join(sorted([sys.version, str(_PACKAGE), *file_stats([str(_PACKAGE)], ".py")]))


def cached(load: Callable[[Path, str | None], T], path: Path, display: str | None) -> T:
    """``load(path, display)`` for a built-in file, through the on-disk cache (and, like
    the loaders' own lru_cache, parsed once per process)."""
    memo_key = (load, path, display)
    if memo_key in _MEMO:
        return _MEMO[memo_key]  # type: ignore[no-any-return]
    value = _cached(load, path, display)
    _MEMO[memo_key] = value
    return value


_MEMO: dict[tuple[object, Path, str | None], object] = {}


def _cached(load: Callable[[Path, str | None], T], path: Path, display: str | None) -> T:

    folder = cache_folder()
    if folder is None:
        return load(path, display)
    try:
        st = path.stat()
    except OSError:
        return load(path, display)
    # the whole key is stored in the entry and compared on reading (no hash to collide)
    key = f"{package_fingerprint()}\n{path}|{display}|{st.st_size}|{st.st_mtime_ns}"
    entry = folder / f"{path.parent.name}-{path.stem}.pickle"
    import pickle

    try:
        with open(entry, "rb") as handle:
            stored_key, stored = pickle.load(handle)
        if stored_key == key:
            return stored  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - absent, stale or unreadable: parse again
        pass
    value = load(path, display)
    try:
        from .answer_cache import write_entry

        write_entry(str(entry), pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - a read-only home or a full disk: no cache, same result
        pass
    return value

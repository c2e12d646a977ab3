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
    return {p.stem: p for p in sorted(_folder("builtin_specs", "specs").glob("*.yaml"), key=_order)}


@lru_cache(maxsize=None)
def hardware_files() -> dict[str, Path]:
    """Built-in hardware profile name → file."""
    return {p.stem: p for p in sorted(_folder("builtin_hardware", "hardware").glob("*.yaml"), key=_order)}


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
        return load(files[text], f"{folder}/{files[text].name}")
    if Path(text).exists():
        raise error(f"{text!r} is not a built-in {what}; to read the file of that name, write ./{text}")
    raise error(f"unknown {what} {text!r}{suggest(text, files)}; {listing}: {', '.join(files)}, or give a {file_kind} .yaml path")

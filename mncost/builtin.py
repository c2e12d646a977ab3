"""The architecture specs and hardware profiles installed with mncost.

An installed wheel carries them as ``mncost/builtin_specs`` and ``mncost/builtin_hardware``
(see pyproject.toml); a source checkout or editable install reads the repository's
top-level ``specs/`` and ``hardware/`` folders directly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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

"""Write hardware profile YAML that ``mncost.load_hardware`` reads back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import HardwareError
from ..hardware import HardwareProfile, parse_hardware
from ..output import write_atomic
from ..schema import Context
from ..yamlio import Located


def profile_yaml(profile: dict[str, Any], *, comments: tuple[str, ...] = ()) -> str:
    """YAML text of a profile mapping, ``#`` comment lines first (where a fit records its data).

    The mapping is validated with the same parser as profile files, so the text
    always loads with ``mncost.load_hardware``.
    """
    check_profile(profile)
    head = "".join(f"# {line}".rstrip() + "\n" for comment in comments for line in (comment.splitlines() or [""]))
    body = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def check_profile(profile: dict[str, Any], *, file: str = "<profile>") -> HardwareProfile:
    """Parse a profile mapping as a file would be parsed (raises HardwareError)."""
    return parse_hardware(profile, Context(Located(profile, file), HardwareError))


def write_profile(path: str | Path, profile: dict[str, Any], *, comments: tuple[str, ...] = ()) -> None:
    """Validate, then write atomically (a failed run leaves no partial file)."""
    write_atomic(Path(path), profile_yaml(profile, comments=comments))

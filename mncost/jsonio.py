"""JSON output that is always valid JSON (RFC 8259): no NaN or Infinity.

A non-finite float (an undefined ratio, a missing measurement) is written as
``null``; ``json.dumps`` alone would write the invalid tokens ``NaN``/``Infinity``.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``value``, with a final newline."""
    return json.dumps(finite(value), indent=indent, allow_nan=False) + "\n"

"""Parsing of list and range options: ``0.5,0.75,1.0`` and ``0.5:1.4:0.1`` (inclusive)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from .errors import OptionError


def parse_floats(text: str, option: str, *, allow_zero: bool = False) -> list[float]:
    """Comma list and/or start:stop:step ranges, stop included; values stay decimal-exact."""
    values: list[float] = []
    for part in _parts(text, option):
        if ":" in part:
            values.extend(float(v) for v in _range(part, option))
        else:
            values.append(_number(part, option))
    for v in values:
        if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
            raise OptionError(f"{option}: values must be {'non-negative' if allow_zero else 'positive'} and finite, got {v:g}")
    return _unique(values)


def parse_ints(text: str, option: str) -> list[int]:
    values: list[int] = []
    for part in _parts(text, option):
        raw = _range(part, option) if ":" in part else [Decimal(str(_number(part, option)))]
        for v in raw:
            if v != v.to_integral_value():
                raise OptionError(f"{option}: expected integers, got {v}")
            values.append(int(v))
    for value in values:
        if value < 1:
            raise OptionError(f"{option}: values must be positive integers, got {value}")
    return _unique(values)


def parse_names(text: str, option: str, everything: list[str]) -> list[str]:
    """``all`` or a comma list (order kept, duplicates dropped)."""
    parts = _parts(text, option)
    if parts == ["all"]:
        return list(everything)
    return _unique(parts)


def _parts(text: str, option: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise OptionError(f"{option}: expected a comma-separated list, got {text!r}")
    return parts


def _number(part: str, option: str) -> float:
    try:
        return float(part)
    except ValueError:
        raise OptionError(f"{option}: {part!r} is not a number") from None


def _range(part: str, option: str) -> list[Decimal]:
    pieces = part.split(":")
    if len(pieces) not in (2, 3):
        raise OptionError(f"{option}: a range is start:stop or start:stop:step, got {part!r}")
    try:
        start, stop = Decimal(pieces[0]), Decimal(pieces[1])
        step = Decimal(pieces[2]) if len(pieces) == 3 else Decimal(1)
    except InvalidOperation:
        raise OptionError(f"{option}: {part!r} is not a numeric range") from None
    if step <= 0 or stop < start:
        raise OptionError(f"{option}: range {part!r} needs start <= stop and a positive step")
    points = int((stop - start) / step) + 1
    if points > 100_000:
        raise OptionError(f"{option}: range {part!r} has {points} points; the limit is 100000")
    return [start + i * step for i in range(points)]


def _unique(values: list) -> list:  # type: ignore[type-arg]
    seen = set()
    out = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out

"""Parsing of list and range options: ``0.5,0.75,1.0`` and ``0.5:1.4:0.1`` (inclusive).

One rule for every list option: a comma list of numbers and/or ranges
``start:stop:step`` (stop included when the steps reach it exactly). A range must
give its step: ``0.5:1.0`` is an error, not a silent one-value list. Numbers follow
the one number grammar of mncost (:data:`mncost.yamlio.NUMBER_TEXT`: plain decimals
with an optional exponent; no ``nan``, ``inf``, ``1_0`` or hex) and must lie within
``MAX_MAGNITUDE``.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from .errors import OptionError
from .yamlio import NUMBER_TEXT

MAX_MAGNITUDE = 1e15
"""No option of mncost has a meaningful value beyond this; larger ones are refused
before any arithmetic (``1e999999999`` would otherwise take minutes to expand)."""
MAX_POINTS = 100_000


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
        raw = _range(part, option) if ":" in part else [_decimal(part, option, " (expected integers)")]
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


def check_unique(names: list[str], given: list[str], option: str, what: str) -> None:
    """Two inputs that load under one name (``cpu`` and ``./cpu.yaml``) would be ranked
    as one in every table: refuse them."""
    for i, name in enumerate(names):
        j = names.index(name)
        if j != i:
            raise OptionError(f"{option}: {given[j]!r} and {given[i]!r} are both {what[:-1]} {name!r}; names must be unique")


def _parts(text: str, option: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise OptionError(f"{option}: expected a comma-separated list, got {text!r}")
    return parts


def _decimal(text: str, option: str, what: str) -> Decimal:
    text = text.strip()
    if not NUMBER_TEXT.fullmatch(text):
        raise OptionError(f"{option}: {text!r} is not a number{what}")
    if not abs(float(text)) <= MAX_MAGNITUDE:  # float first: Decimal arithmetic on 1e999999999 overflows
        raise OptionError(f"{option}: {text} is out of range (at most {MAX_MAGNITUDE:g})")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise OptionError(f"{option}: {text!r} is not a number{what}") from None


def _number(part: str, option: str) -> float:
    return float(_decimal(part, option, " (plain decimal, e.g. 0.75 or 1e-3)"))


def _range(part: str, option: str) -> list[Decimal]:
    pieces = part.split(":")
    if len(pieces) == 2:
        raise OptionError(f"{option}: range {part!r} has no step; write start:stop:step, e.g. {pieces[0]}:{pieces[1]}:<step>")
    if len(pieces) != 3:
        raise OptionError(f"{option}: a range is start:stop:step, got {part!r}")
    start, stop, step = (_decimal(p, option, " in a range start:stop:step") for p in pieces)
    if step <= 0 or stop < start:
        raise OptionError(f"{option}: range {part!r} needs start <= stop and a positive step")
    if (stop - start) / step >= MAX_POINTS:
        raise OptionError(f"{option}: range {part!r} has more than {MAX_POINTS} points; the limit is {MAX_POINTS}")
    points = int((stop - start) / step) + 1
    return [start + i * step for i in range(points)]


def _unique(values: list) -> list:  # type: ignore[type-arg]
    seen = set()
    out = []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out

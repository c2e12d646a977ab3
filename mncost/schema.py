"""Validate plain YAML mappings into frozen dataclass records.

A record class declares its keys as dataclass fields; the field's type annotation
says what is accepted (int, float, bool, str, a Literal choice, ``X | None``) and
``field(metadata=...)`` adds constraints. Unknown keys are refused with the
closest valid name, so a typo never becomes a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from .errors import MncostError
from .yamlio import Located, join_path

T = TypeVar("T")

from .text import CONTROL  # noqa: E402
from .yamlio import NUMBER_TEXT as _FLOAT_TEXT  # noqa: E402  (one number grammar everywhere)



class Context:
    """Where a record is read from: the document (for lines) and the error class to raise."""

    def __init__(self, doc: Located, error: type[MncostError]) -> None:
        self.doc = doc
        self.error = error

    def fail(self, path: str, message: str) -> MncostError:
        return self.error(message, file=self.doc.file, key=path or None, line=self.doc.line_of(path))


# Names from other tools (PyTorch, timm) that users reach for first.
_ALIASES = {
    "kernel": "k", "kernel_size": "k", "out_channels": "out", "channels": "out", "c": "out",
    "repeat": "n", "repeats": "n", "s": "stride", "activation": "act", "expand_ratio": "expand",
    "e": "expand", "t": "expand", "num_heads": "heads",
}


def suggest(name: str, valid: Iterable[str]) -> str:
    """' (did you mean X?)' when a close valid name exists, else ''."""
    options = list(valid)
    alias = _ALIASES.get(name)
    if alias in options:
        return f" (did you mean {alias!r}?)"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"boolean {value}"
    if isinstance(value, (int, float)):
        return f"{value!r}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# -- constraints --------------------------------------------------------------------

Check = Callable[[Any], "str | None"]


def positive(value: Any) -> str | None:
    return None if value > 0 else "a positive number"


def fraction(value: Any) -> str | None:
    return None if 0 < value <= 1 else "a number above 0 and at most 1"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "a number >= 0"


def at_least(bound: float) -> Check:
    def check(value: Any) -> str | None:
        return None if value >= bound else f"a number >= {bound:g}"

    return check


def between(low: int, high: int) -> Check:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"a number from {low} to {high}"

    return check


def within(low: float, high: float) -> Check:
    """A physical quantity in a range wide enough for any device, narrow enough that
    times and ratios computed from it stay finite."""

    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"a number from {low:g} to {high:g}"

    return check


def odd_positive(value: Any) -> str | None:
    return None if value > 0 and value % 2 == 1 else "a positive odd integer"


def meta(
    *,
    check: Check | None = None,
    parse: Callable[[Any, str, Context], Any] | None = None,
    internal: bool = False,
) -> dict[str, Any]:
    """Field metadata: an extra ``check`` on the typed value, a custom ``parse``, or
    ``internal`` for fields that mncost fills in and a YAML file may not set."""
    return {"check": check, "parse": parse, "internal": internal}


# -- scalar coercion ----------------------------------------------------------------


def coerce(value: Any, hint: Any, path: str, ctx: Context) -> Any:
    """Check ``value`` against a type annotation and return it (ints stay ints)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        non_none = [o for o in options if o is not type(None)]
        if len(non_none) == 1:
            return coerce(value, non_none[0], path, ctx)
        errors = []
        for option in non_none:
            try:
                return coerce(value, option, path, ctx)
            except MncostError as exc:
                errors.append(exc.message)
        raise ctx.fail(path, " or ".join(errors))
    if origin is Literal:
        choices = get_args(hint)
        if value in choices and not isinstance(value, bool):
            return value
        names = ", ".join(str(c) for c in choices)
        hint_text = suggest(str(value), [str(c) for c in choices]) if isinstance(value, str) else ""
        raise ctx.fail(path, f"expected one of {names}, got {describe(value)}{hint_text}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ctx.fail(path, f"expected true or false, got {describe(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            return int(value)
        raise ctx.fail(path, f"expected an integer, got {describe(value)}")
    if hint is float:
        number: float
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ctx.fail(path, f"expected a number, got {describe(value)}")
        if isinstance(value, str):
            # YAML 1.1 reads 2e12 (no dot, no exponent sign) as a string.
            if not _FLOAT_TEXT.fullmatch(value):  # not float(): it also takes '1_0', 'nan', ' 1\x1f'
                raise ctx.fail(path, f"expected a number, got {describe(value)}")
            number = float(value)
        else:
            number = float(value)
        if not math.isfinite(number):
            raise ctx.fail(path, f"expected a finite number, got {value!r}")
        return number
    if hint is str:
        if isinstance(value, str):
            bad = CONTROL.search(value)
            if bad:  # names and notes reach terminals, markdown and HTML: no escape sequences
                raise ctx.fail(path, f"control character U+{ord(bad.group()):04X} is not allowed in text (only newline and tab)")
            return value
        raise ctx.fail(path, f"expected a string, got {describe(value)}")
    raise TypeError(f"schema cannot check annotation {hint!r}")  # a bug in a record class


# -- records --------------------------------------------------------------------------


def field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")]


def parse_record(
    cls: type[T],
    mapping: Any,
    path: str,
    ctx: Context,
    *,
    ignore: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> T:
    """Build ``cls`` from ``mapping``; keys in ``ignore`` are read elsewhere."""
    if not isinstance(mapping, dict):
        raise ctx.fail(path, f"expected a mapping, got {describe(mapping)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and not f.metadata.get("internal")}  # type: ignore[arg-type]
    ignored = set(ignore)
    for key in mapping:
        if key not in fields and key not in ignored:
            valid = sorted(set(fields) | ignored)
            raise ctx.fail(
                join_path(path, key),
                f"unknown key{suggest(key, valid)}; valid keys: {', '.join(valid)}",
            )
    values: dict[str, Any] = dict(extra or {})
    for name, f in fields.items():
        if name in values:
            continue
        key_path = join_path(path, name)
        if name not in mapping:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ctx.fail(path, f"missing required key {name!r}")
            continue
        raw = mapping[name]
        parse = f.metadata.get("parse")
        if parse is not None:
            values[name] = parse(raw, key_path, ctx)
            continue
        value = coerce(raw, hints[name], key_path, ctx)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            expected = check(value)
            if expected:
                if isinstance(value, int):
                    expected = expected.replace("a number", "an integer").replace("number", "integer")
                shown = raw if isinstance(raw, str) and isinstance(value, float) else describe(raw)  # 2e12 is read as text by YAML 1.1
                raise ctx.fail(key_path, f"expected {expected}, got {shown}")
        values[name] = value
    return cls(**values)


def require_mapping(value: Any, path: str, ctx: Context) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ctx.fail(path, f"expected a mapping, got {describe(value)}")
    return value


def require_list(value: Any, path: str, ctx: Context) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail(path, f"expected a list, got {describe(value)}")
    return value

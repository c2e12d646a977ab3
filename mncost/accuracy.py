"""Published ImageNet-1k top-1 accuracy: the shipped table, user tables, and exact lookup.

A configuration is the key ``(model, alpha, resolution, width_rule)``: the network mncost
walks. A number belongs to a configuration only when a source printed it for those exact
weights at that input resolution; nothing is interpolated. The shipped table is
``mncost/data/accuracy.csv`` (its header says where each family's numbers come from).

Who gets which number:
- a built-in spec: the shipped table (plus any user table given);
- any spec: its own ``published.top1`` at α = 1, its default resolution and its default
  width rule (for a built-in, the table's row for that configuration wins), and the user
  table's rows for its name.
A spec file that merely reuses a built-in's name is not the built-in: it never gets the
shipped rows, because its network may differ.

Pure Python (csv): no pandas on this path.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AccuracyError
from .yamlio import NUMBER_TEXT

if TYPE_CHECKING:
    from .spec import ArchSpec

COLUMNS = ("model", "alpha", "resolution", "width_rule", "top1", "weights", "source", "published_macs_m")
REQUIRED = ("model", "alpha", "resolution", "width_rule", "top1", "source")
TABLE = Path(__file__).resolve().parent / "data" / "accuracy.csv"
SHIPPED = "mncost/data/accuracy.csv"  # how errors in the shipped table name it

Key = tuple[str, float, int, str]


def key(model: str, alpha: float, resolution: int, width_rule: str) -> Key:
    """The lookup key; α is rounded to 6 places so 0.75 from a CSV equals 0.75 from a range."""
    return (model, round(float(alpha), 6), int(resolution), width_rule)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """One published top-1 number and where it comes from."""

    model: str
    alpha: float
    resolution: int
    width_rule: str
    top1: float              # percent, ImageNet-1k validation
    source: str              # paper + table, or the checkpoint table read
    weights: str = ""        # the checkpoint the number belongs to
    published_macs_m: float | None = None  # MACs (millions) the source prints beside it, if any
    file: str = ""
    line: int = 0

    @property
    def key(self) -> Key:
        return key(self.model, self.alpha, self.resolution, self.width_rule)

    @property
    def cite(self) -> str:
        """The source and weights as one short string for tables."""
        return f"{self.source}; {self.weights}" if self.weights else self.source


Table = dict[Key, Accuracy]


def _number(text: str, fail: AccuracyError) -> float:
    """mncost's one number grammar (plain decimals, optional exponent: no nan, inf, 1_0 or hex)."""
    if not NUMBER_TEXT.fullmatch(text):
        raise fail
    value = float(text)
    if not math.isfinite(value):
        raise fail
    return value


def parse_table(text: str, file: str) -> Table:
    """Rows of an accuracy CSV, validated; '#' lines are comments. Any bad row raises one error."""
    lines = [(i, raw) for i, raw in enumerate(text.splitlines(), start=1) if raw.strip() and not raw.lstrip().startswith("#")]
    if not lines:
        raise AccuracyError(f"no header row; expected the columns {', '.join(COLUMNS)}", file=file)
    reader = csv.reader(io.StringIO("\n".join(raw for _, raw in lines)))
    rows = list(reader)
    header = [h.strip() for h in rows[0]]
    head_line = lines[0][0]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise AccuracyError(f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}", file=file, line=head_line)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise AccuracyError(f"missing column {missing[0]!r} (required: {', '.join(REQUIRED)})", file=file, line=head_line)
    if len(set(header)) != len(header):
        raise AccuracyError("a column appears twice in the header", file=file, line=head_line)
    table: Table = {}
    for (line, _), cells in zip(lines[1:], rows[1:]):
        if len(cells) != len(header):
            raise AccuracyError(f"expected {len(header)} cells ({', '.join(header)}), got {len(cells)}", file=file, line=line)
        row = dict(zip(header, (c.strip() for c in cells)))

        def bad(column: str, message: str) -> AccuracyError:
            return AccuracyError(message, file=file, line=line, key=column)  # noqa: B023 (used at once)

        for column in REQUIRED:
            if not row[column]:
                raise bad(column, "must not be empty")
        alpha = _number(row["alpha"], bad("alpha", f"expected a number, got {row['alpha']!r}"))
        if alpha <= 0:
            raise bad("alpha", f"must be positive, got {row['alpha']}")
        res = _number(row["resolution"], bad("resolution", f"expected an integer, got {row['resolution']!r}"))
        if res != int(res) or res < 1:
            raise bad("resolution", f"expected a positive integer, got {row['resolution']}")
        top1 = _number(row["top1"], bad("top1", f"expected a number, got {row['top1']!r}"))
        if not 0 < top1 < 100:
            raise bad("top1", f"must be a percentage in (0, 100), got {row['top1']}")
        macs_text = row.get("published_macs_m", "")
        macs = None
        if macs_text:
            macs = _number(macs_text, bad("published_macs_m", f"expected a number, got {macs_text!r}"))
            if macs <= 0:
                raise bad("published_macs_m", f"must be positive, got {macs_text}")
        entry = Accuracy(model=row["model"], alpha=alpha, resolution=int(res), width_rule=row["width_rule"], top1=top1,
                         source=row["source"], weights=row.get("weights", ""), published_macs_m=macs, file=file, line=line)
        if entry.key in table:
            first = table[entry.key]
            raise bad("model", f"duplicate configuration {row['model']} α={alpha:g} r={int(res)} {row['width_rule']} (first on line {first.line})")
        table[entry.key] = entry
    return table


def load_table(path: str | Path, display: str | None = None) -> Table:
    """A user's accuracy CSV (same columns as the shipped table)."""
    shown = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AccuracyError("no such file", file=shown) from None
    except (OSError, UnicodeDecodeError) as err:
        raise AccuracyError(f"cannot read: {err}", file=shown) from None
    return parse_table(text, shown)


@lru_cache(maxsize=1)
def builtin_table() -> Table:
    return load_table(TABLE, SHIPPED)


@lru_cache(maxsize=1)
def _builtin_by_model() -> dict[str, Table]:
    out: dict[str, Table] = {}
    for k, entry in builtin_table().items():
        out.setdefault(k[0], {})[k] = entry
    return out


def is_builtin(spec: ArchSpec) -> bool:
    """The spec is the shipped file of that name (not a user file reusing the name)."""
    from . import builtin

    files = builtin.spec_files()
    if spec.name not in files or not spec.file:
        return False
    path = files[spec.name]
    return spec.file == f"specs/{path.name}" or Path(spec.file).resolve() == path.resolve()


def published_top1(model: str, alpha: float, resolution: int, width_rule: str, *, table: Table | None = None) -> tuple[float, str] | None:
    """``(top1, source)`` for exactly this configuration in ``table`` (default: the shipped one), else None."""
    entry = (builtin_table() if table is None else table).get(key(model, alpha, resolution, width_rule))
    return None if entry is None else (entry.top1, entry.cite)


def entries_for(spec: ArchSpec, extra: Table | None = None) -> list[Accuracy]:
    """Every configuration of ``spec`` with a published top-1 (user rows override shipped ones)."""
    found: dict[Key, Accuracy] = {}
    if spec.published.top1 is not None:
        own = Accuracy(model=spec.name, alpha=1.0, resolution=spec.resolution, width_rule=spec.default_width_rule,
                       top1=spec.published.top1, source=spec.published.source or "the spec's published.top1", file=spec.file)
        found[own.key] = own
    if is_builtin(spec):  # the table's row for the same configuration names its weights: it wins
        found.update(_builtin_by_model().get(spec.name, {}))
    if extra:
        found.update({k: v for k, v in extra.items() if k[0] == spec.name})
    return list(found.values())


def top1_for(spec: ArchSpec, alpha: float, resolution: int, width_rule: str, extra: Table | None = None) -> float | None:
    """The published top-1 of this exact configuration of ``spec``, or None (what ``sweep`` fills in)."""
    wanted = key(spec.name, alpha, resolution, width_rule)
    for entry in entries_for(spec, extra):
        if entry.key == wanted:
            return entry.top1
    return None

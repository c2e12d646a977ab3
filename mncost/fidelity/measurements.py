"""Latency measurements: one CSV row per measured network configuration.

The format (what ``mncost fit`` reads, what ``bench_all`` writes, what the paper's
Table 6 ships as)::

    # free comment lines first: the source of the numbers
    model,alpha,resolution,width_rule,batch,device,dtype,latency_ms,status,label
    v2,0.5,224,,1,Pixel 6 CPU,int8,2.4,ok,MobileNet V2

Only ``model`` and ``latency_ms`` are required; every other column is optional and
may be left empty for its default. ``model`` is a built-in spec name, a spec
``.yaml`` path or an ``.onnx`` model (read as its imported spec; relative paths are
read from the CSV's folder). Defaults: ``alpha``
1, ``resolution`` the spec's, ``width_rule`` the spec's default, ``batch`` 1,
``dtype`` the one given to the fit (int8), ``status`` ``ok``. ``status`` is ``ok``,
``failed`` (the network did not run) or ``not_reported``; only ``ok`` rows carry a
latency and only they are fitted. ``label`` is free text (the paper's model name).
``threads``, ``runs`` and ``latency_iqr_ms`` record how a benchmark was run; ``source``
names where the row's number comes from (a paper and table, a benchmark command).
``graph`` says how the measured graph was made: ``exported`` (the default: converted from
another framework, as PyTorch → TFLite, CoreML or ONNX, and as mncost's own benchmarks do)
or ``native`` (built by the runtime's own framework, as the papers' TensorFlow MobileNets
on TFLite). The fitted activation costs are those of exported graphs: in a native graph
an activation counts as part of its layer (see :func:`mncost.fidelity.model.build_network_set`).
Unknown columns are refused, so a misspelt column never silently falls back to
its default.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..builtin import is_path
from ..errors import MncostError
from ..hardware import DTYPE_BYTES
from ..schema import suggest
from ..spec import ArchSpec, load_spec
from ..walker import Walk, walk
from ..yamlio import NUMBER_TEXT

Status = Literal["ok", "failed", "not_reported"]
STATUSES: tuple[str, ...] = ("ok", "failed", "not_reported")
GRAPHS: tuple[str, ...] = ("exported", "native")

REQUIRED_COLUMNS: tuple[str, ...] = ("model", "latency_ms")
COLUMNS: tuple[str, ...] = (
    "model", "alpha", "resolution", "width_rule", "batch", "device", "dtype",
    "latency_ms", "status", "label", "threads", "runs", "latency_iqr_ms", "source", "graph",
)
MAX_CSV_BYTES = 5_000_000


class MeasurementError(MncostError):
    """A measurements CSV is malformed: ``file``, ``line`` (CSV line) and ``key`` (column)."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """One measured (or failed) run of one network configuration on one device."""

    model: str
    alpha: float = 1.0
    resolution: int | None = None
    width_rule: str = ""
    batch: int = 1
    device: str = ""
    dtype: str = ""
    latency_ms: float = math.nan
    status: Status = "ok"
    label: str = ""
    threads: int | None = None
    runs: int | None = None
    latency_iqr_ms: float | None = None
    source: str = ""
    graph: str = "exported"  # how the measured graph was made (GRAPHS)
    line: int = 0
    file: str = ""

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1e3

    @property
    def config(self) -> tuple[str, float, int | None, str, int, str]:
        """What identifies the measured configuration (two rows may not share it)."""
        return (self.model, self.alpha, self.resolution, self.width_rule, self.batch, self.device)

    @property
    def name(self) -> str:
        """A short display name: ``v2 α=0.5 r224``."""
        text = f"{self.model} α={self.alpha:g}"
        if self.resolution is not None:
            text += f" r{self.resolution}"
        if self.width_rule:
            text += f" ({self.width_rule})"
        if self.batch != 1:
            text += f" b{self.batch}"
        return text


# -- reading --------------------------------------------------------------------------


def _float(text: str, column: str, fail: "_Fail", *, positive: bool = True) -> float:
    if not NUMBER_TEXT.fullmatch(text.strip(" ")):  # the grammar of specs and options: no '1_0', 'nan', '0x1f'
        raise fail(column, f"expected a number, got {text!r}")
    try:
        value = float(text)
    except ValueError:
        raise fail(column, f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or (positive and value <= 0):
        raise fail(column, f"expected a positive finite number, got {text!r}")
    return value


def _int(text: str, column: str, fail: "_Fail") -> int:
    if not re.fullmatch(r"\+?\d+", text.strip(" ")):  # not int()'s '1_0'
        raise fail(column, f"expected a positive integer, got {text!r}")
    try:
        value = int(text)
    except ValueError:
        raise fail(column, f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise fail(column, f"expected a positive integer, got {text!r}")
    return value


class _Fail:
    def __init__(self, file: str, line: int) -> None:
        self.file, self.line = file, line

    def __call__(self, column: str | None, message: str) -> MeasurementError:
        return MeasurementError(message, file=self.file, key=column, line=self.line)


def parse_measurements(text: str, *, file: str = "<measurements>") -> list[Measurement]:
    """Validate CSV text into measurements; leading ``#`` lines are comments.

    Raises MeasurementError naming the file, the CSV line and the column.
    """
    lines = text.splitlines()
    first = 0
    while first < len(lines) and (not lines[first].strip() or lines[first].lstrip().startswith("#")):
        first += 1
    if first == len(lines):
        raise MeasurementError("no header row: expected a CSV header naming at least the columns model, latency_ms", file=file)
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    header = [name.strip() for name in next(reader)]
    header_line = first + 1
    for name in header:
        if name not in COLUMNS:
            raise MeasurementError(f"unknown column{suggest(name, COLUMNS)}; columns: {', '.join(COLUMNS)}", file=file, key=name or "<empty>", line=header_line)
        if header.count(name) > 1:
            raise MeasurementError("column appears twice", file=file, key=name, line=header_line)
    for name in REQUIRED_COLUMNS:
        if name not in header:
            raise MeasurementError("required column missing from the header", file=file, key=name, line=header_line)
    rows: list[Measurement] = []
    seen: dict[tuple[object, ...], int] = {}
    for cells in reader:
        line = first + reader.line_num  # the row's last physical line (a quoted cell may span lines)
        if not cells or all(not c.strip() for c in cells):
            continue
        fail = _Fail(file, line)
        if len(cells) != len(header):
            raise fail(None, f"expected {len(header)} cells as in the header, got {len(cells)}")
        row = {name: cell.strip() for name, cell in zip(header, cells)}
        rows.append(_parse_row(row, fail))
        key = rows[-1].config
        if key in seen:
            raise fail("model", f"{rows[-1].name} on {rows[-1].device or 'this device'} is measured twice (also line {seen[key]})")
        seen[key] = line
    if not rows:
        raise MeasurementError("no measurement rows after the header", file=file, line=header_line)
    return rows


def _parse_row(row: dict[str, str], fail: _Fail) -> Measurement:
    model = row["model"]
    if not model:
        raise fail("model", "empty; expected a built-in model name or a spec .yaml path")
    status = row.get("status") or "ok"
    if status not in STATUSES:
        raise fail("status", f"expected one of {', '.join(STATUSES)}, got {status!r}{suggest(status, STATUSES)}")
    latency_text = row["latency_ms"]
    if status == "ok":
        if not latency_text:
            raise fail("latency_ms", "empty; an 'ok' row needs a latency (use status failed or not_reported otherwise)")
        latency = _float(latency_text, "latency_ms", fail)
    else:
        if latency_text:
            raise fail("latency_ms", f"a {status!r} row carries no latency, got {latency_text!r}")
        latency = math.nan
    dtype = row.get("dtype", "")
    if dtype and dtype not in DTYPE_BYTES:
        raise fail("dtype", f"expected one of {', '.join(DTYPE_BYTES)}, got {dtype!r}{suggest(dtype, DTYPE_BYTES)}")
    graph = row.get("graph") or "exported"
    if graph not in GRAPHS:
        raise fail("graph", f"expected one of {', '.join(GRAPHS)}, got {graph!r}{suggest(graph, GRAPHS)}")
    opt = {k: v for k, v in row.items() if v}
    return Measurement(
        model=model,
        alpha=_float(opt["alpha"], "alpha", fail) if "alpha" in opt else 1.0,
        resolution=_int(opt["resolution"], "resolution", fail) if "resolution" in opt else None,
        width_rule=opt.get("width_rule", ""),
        batch=_int(opt["batch"], "batch", fail) if "batch" in opt else 1,
        device=opt.get("device", ""),
        dtype=dtype,
        latency_ms=latency,
        status=status,  # type: ignore[arg-type]
        label=opt.get("label", ""),
        threads=_int(opt["threads"], "threads", fail) if "threads" in opt else None,
        runs=_int(opt["runs"], "runs", fail) if "runs" in opt else None,
        latency_iqr_ms=_float(opt["latency_iqr_ms"], "latency_iqr_ms", fail, positive=False) if "latency_iqr_ms" in opt else None,
        source=opt.get("source", ""),
        graph=graph,
        line=fail.line,
        file=fail.file,
    )


def read_measurements(path: str | Path) -> list[Measurement]:
    """Read and validate a measurements CSV file (see the module docstring)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise MeasurementError(f"file is {size} bytes; measurements files are limited to {MAX_CSV_BYTES}", file=str(path))
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise MeasurementError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise MeasurementError("is a directory; expected a CSV file", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise MeasurementError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    return parse_measurements(text, file=str(path))


# -- resolving rows to walks ----------------------------------------------------------


def resolve_spec(m: Measurement) -> ArchSpec:
    """The spec a row names: a built-in, or a path relative to the CSV's folder."""
    fail = _Fail(m.file, m.line)
    text = m.model
    if is_path(text):  # a spec or an ONNX file, read from the CSV's folder
        path = Path(text)
        if not path.is_absolute() and m.file and not m.file.startswith("<"):
            path = Path(m.file).parent / path
        if not path.is_file():
            raise fail("model", f"{'ONNX' if path.suffix.lower() == '.onnx' else 'spec'} file {str(path)!r} not found")
        return load_spec(path)
    try:
        return load_spec(text)
    except MncostError as exc:
        raise fail("model", exc.message) from None


def measurement_walk(m: Measurement) -> Walk:
    """Walk the configuration a row names; errors point at the row and column."""
    spec = resolve_spec(m)
    fail = _Fail(m.file, m.line)
    if m.width_rule and m.width_rule not in spec.width_rules:
        raise fail("width_rule", f"{spec.name} has no width rule {m.width_rule!r}{suggest(m.width_rule, spec.width_rules)}; it defines: {', '.join(spec.width_rules)}")
    try:
        return walk(spec, alpha=m.alpha, resolution=m.resolution, width_rule=m.width_rule or None)
    except MncostError as exc:
        raise fail("resolution" if m.resolution is not None else "alpha", exc.message) from None


# -- writing --------------------------------------------------------------------------


def format_measurements(rows: list[Measurement], *, comments: tuple[str, ...] = (), columns: tuple[str, ...] | None = None) -> str:
    """CSV text that ``parse_measurements`` reads back to the same rows.

    ``columns`` defaults to the columns any row sets away from its default.
    """
    if columns is None:
        used = {"model", "latency_ms"}
        for r in rows:
            used.update(name for name in COLUMNS if _cell(r, name) not in ("", _cell(Measurement(model=r.model), name)))
        columns = tuple(name for name in COLUMNS if name in used)
    out = io.StringIO()
    for comment in comments:
        for part in comment.splitlines() or [""]:
            out.write(f"# {part}".rstrip() + "\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r, name) for name in columns])
    return out.getvalue()


def _cell(m: Measurement, name: str) -> str:
    value = getattr(m, name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)

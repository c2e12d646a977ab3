"""Renderers: result → text. Pure functions; writing files is output.py's job.

Numbers stay raw in CSV and JSON. Human formatting (thousands separators, µs)
happens only in the table and markdown renderers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from .analysis import LAYER_COLUMNS, AnalysisResult, layer_dict
from .text import markup

if TYPE_CHECKING:
    from rich.console import RenderableType


class Format(str, Enum):
    table = "table"
    csv = "csv"
    md = "md"
    json = "json"


# -- human formatting -------------------------------------------------------------------


def count(value: int) -> str:
    """Exact integer with thousands separators: 300,774,272 (never 0.3G, never blank)."""
    return f"{value:,}"


def si(value: float, unit: str = "") -> str:
    """Compact size for summaries: 300.8 M, 5.46 M, 14.2 k."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}".rstrip()


def seconds(value: float) -> str:
    """Latency in the unit that reads best: 3.82 ms, 41.7 µs."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def shape(dims: Sequence[int]) -> str:
    return "×".join(str(d) for d in dims)


def op_label(op: str, kind: str) -> str:
    """``dwconv`` or ``dwconv (IB)``: the op, and the block kind where it says more."""
    return op if kind in (op, "") else f"{op} ({kind})"


def summary_rows(result: AnalysisResult) -> list[tuple[str, str]]:
    t = result.totals
    hw = result.profile
    rows = [
        ("model", f"{result.model} ({result.spec.title})" if result.spec.title else result.model),
        ("configuration", f"α={result.alpha:g}, resolution {result.resolution}, batch {result.batch}, width rule {result.width_rule}"),
        ("hardware", f"{hw.name}: {si(hw.peak_macs_per_s, 'MAC/s')}, {si(hw.mem_bw_bytes_per_s, 'B/s')}, ridge {hw.ridge_point:.1f} MAC/B, {hw.weight_dtype} weights / {hw.activation_dtype} activations"),
        ("MACs", f"{count(t.macs)} ({si(t.macs)})"),
        ("params", f"{count(t.params)} ({si(t.params)})" + ("" if result.conventions.include_bn_params else f"; + {count(t.bn_params)} BatchNorm (folded)")),
        ("weight bytes", f"{count(t.weight_bytes)} ({si(t.weight_bytes, 'B')})"),
        ("activation bytes", f"{count(t.activation_bytes)} ({si(t.activation_bytes, 'B')})"),
        ("element-wise ops", f"{count(t.elementwise_ops)}"),
    ]
    if t.attention_macs:
        rows.append(("attention MACs", f"{count(t.attention_macs)} (in MACs above)"))
    rows += [("predicted latency", seconds(t.latency_s) + (" (plain roofline)" if t.refined_latency_s is not None else ""))]
    if t.refined_latency_s is not None:
        r = hw.refinements
        assert r is not None
        parts = [f"{r.overhead_s_per_layer * 1e6:.3g} µs/layer" if r.overhead_s_per_layer else "", f"{r.invoke_s * 1e3:.3g} ms/inference" if r.invoke_s else "",
                 ", ".join(f"{g} ×{f:.3g}" for g, f in r.slowdown.items()), f"on-chip {r.onchip_bytes:.3g} B" if r.onchip_bytes else ""]
        rows.append(("refined latency", f"{seconds(t.refined_latency_s)} (the profile's fitted refinements: {'; '.join(p for p in parts if p)})"))
    expected = hw.expected_error
    if expected is not None:  # fitted profile: the selected model's prediction and its honest error
        shown = t.refined_latency_s if t.refined_latency_s is not None else t.latency_s
        rows.append(("selected model", f"{seconds(shown)} ({expected.sentence()})"))
    rows += [
        ("memory-bound", f"{t.memory_bound_share:.1%} of the time, {t.memory_bound_layers} of {t.layers} layers"),
    ]
    return rows


# -- renderers --------------------------------------------------------------------------


def rich_table(result: AnalysisResult) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    table = Table(title=f"{markup(result.model)} on {markup(result.hardware)}", title_justify="left", header_style="bold")
    table.add_column("layer", no_wrap=True)
    table.add_column("op", no_wrap=True)
    table.add_column("in → out", no_wrap=True)
    for name in ("MACs", "params", "bytes", "MAC/B", "time"):
        table.add_column(name, justify="right")
    table.add_column("bound")
    for layer in result.layers:
        bound = "[cyan]compute[/]" if layer.bound == "compute" else "[yellow]memory[/]"
        table.add_row(
            markup(layer.name),
            markup(op_label(layer.op, layer.kind)),
            f"{shape(layer.in_shape)} → {shape(layer.out_shape)}",
            count(layer.macs),
            count(layer.params),
            count(layer.weight_bytes + layer.activation_bytes),
            f"{layer.intensity:.1f}",
            seconds(layer.latency_s),
            bound,
        )
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for key, value in summary_rows(result):
        summary.add_row(key, markup(value))
    return Group(table, summary)


def to_table_text(result: AnalysisResult, width: int = 160) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, legacy_windows=False).print(rich_table(result))
    return buffer.getvalue()


def to_csv(result: AnalysisResult) -> str:
    """One row per layer, raw numbers; shapes as 16x112x112."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LAYER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for layer in result.layers:
        row = layer_dict(layer)
        row["in_shape"] = "x".join(map(str, layer.in_shape))
        row["out_shape"] = "x".join(map(str, layer.out_shape))
        writer.writerow(row)
    return buffer.getvalue()


def to_json(result: AnalysisResult) -> str:
    from .jsonio import dumps

    return dumps(result.to_dict())


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    """A GitHub pipe table; ``align`` is one of l/r per column (default: left)."""
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    spec = align or "l" * len(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in spec) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def to_markdown(result: AnalysisResult) -> str:
    parts = [f"# {result.model} on {result.hardware}\n"]
    parts.append(md_table(["quantity", "value"], [(f"**{k}**", v) for k, v in summary_rows(result)], "ll"))
    parts.append("\n## Layers\n")
    rows = [
        (
            layer.name,
            layer.op,
            layer.kind,
            f"{shape(layer.in_shape)} → {shape(layer.out_shape)}",
            count(layer.macs),
            count(layer.params),
            count(layer.weight_bytes),
            count(layer.activation_bytes),
            f"{layer.intensity:.1f}",
            seconds(layer.latency_s),
            layer.bound,
        )
        for layer in result.layers
    ]
    parts.append(
        md_table(
            ["layer", "op", "kind", "in → out", "MACs", "params", "weight bytes", "activation bytes", "MAC/B", "time", "bound"],
            rows,
            "llllrrrrrrl",
        )
    )
    parts.append(
        "\nCounting conventions: 1 MAC = one multiply-accumulate of a conv, fully connected layer or "
        "attention product; BatchNorm folded into the preceding conv; activation bytes = each layer's input "
        "read plus output written once (conv + BN + activation fused). See the mncost README.\n"
    )
    return "\n".join(parts)


def render(result: AnalysisResult, fmt: Format) -> str:
    if fmt is Format.table:
        return to_table_text(result)
    if fmt is Format.csv:
        return to_csv(result)
    if fmt is Format.md:
        return to_markdown(result)
    if fmt is Format.json:
        return to_json(result)
    raise AssertionError(f"unhandled format {fmt}")


# -- listings (models, hardware) -----------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return si(value) if abs(value) >= 1e3 else f"{value:g}"
    return str(value)


def list_rich_table(rows: list[dict[str, Any]], title: str) -> RenderableType:
    from rich.table import Table

    table = Table(title=markup(title), title_justify="left", header_style="bold")
    if not rows:
        return table
    for key in rows[0]:
        table.add_column(key.replace("_", " "), overflow="fold", max_width=70 if key == "source" else None)
    for row in rows:
        table.add_row(*(markup(_cell(v)) for v in row.values()))
    return table


def render_rows(rows: list[dict[str, Any]], fmt: Format, title: str) -> str:
    if fmt is Format.json:
        from .jsonio import dumps

        return dumps(rows)
    if fmt is Format.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if fmt is Format.md:
        headers = list(rows[0]) if rows else []
        return f"# {title}\n\n" + md_table(headers, [[_cell(v) for v in row.values()] for row in rows])
    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(list_rich_table(rows, title))
    return buffer.getvalue()

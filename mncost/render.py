"""Renderers: result → text. Pure functions; writing files is output.py's job.

Numbers stay raw in CSV and JSON. Human formatting (thousands separators, µs)
happens only in the table and markdown renderers.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .analysis import LAYER_COLUMNS, AnalysisResult, layer_dict
from .text import markup
from .views.formats import Format, md_table

if TYPE_CHECKING:
    from rich.console import RenderableType


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
                 ", ".join(f"{g} ×{f:.3g}" for g, f in r.slowdown.items()),
                 ", ".join(f"{c} activations {x * 1e9:.3g} ns/element" for c, x in r.act_s_per_elem.items()),
                 f"on-chip {r.onchip_bytes:.3g} B" if r.onchip_bytes else ""]
        rows.append(("refined latency", f"{seconds(t.refined_latency_s)} (the profile's fitted refinements: {'; '.join(p for p in parts if p)})"))
        if t.refined_activation_s:  # fitted on exported graphs; the papers' native TFLite MobileNets showed no such cost
            rows.append(("native graph", f"{seconds(t.refined_latency_s - t.refined_activation_s)} if built natively for the runtime "
                                         f"(the {seconds(t.refined_activation_s)} of activation cost is that of graphs exported from PyTorch)"))
    expected = hw.expected_error
    if expected is not None:  # fitted profile: the selected model's prediction and its honest error
        rows.append(("selected model", f"{seconds(t.predicted_s)} ({expected.sentence()})"))
    rows += [
        ("memory-bound", f"{t.memory_bound_share:.1%} of the time, {t.memory_bound_layers} of {t.layers} layers"),
    ]
    return rows


# -- renderers --------------------------------------------------------------------------


def rich_table(result: AnalysisResult) -> RenderableType:
    from rich.console import Group
    from rich.table import Table

    table = Table(title=markup(table_title(result)), title_justify="left", header_style="bold")
    table.add_column("layer", no_wrap=True)
    table.add_column("op", no_wrap=True)
    table.add_column("in → out", no_wrap=True)
    for name in ("MACs", "params", "bytes", "MAC/B", "time"):
        table.add_column(name, justify="right")
    table.add_column("bound")
    for layer in result.layers:
        bound = "[cyan]compute[/]" if layer.bound == "compute" else "[yellow]memory[/]"
        table.add_row(*(markup(cell) for cell in layer_cells(layer)[:-1]), bound)
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    for key, value in summary_rows(result):
        summary.add_row(markup(key), markup(value))
    return Group(table, summary)


# -- the same table without rich ------------------------------------------------------------
# rich takes ~150 ms to lay out a 91-row table; the layout of this one is simple enough to
# write directly. table_text() reproduces rich's drawing (box.HEAVY_HEAD, padding 1, a
# left-justified italic title, bold headers, coloured bound cells, a borderless summary
# with padding 2) and returns None whenever rich would do more than that (a line wider
# than the console, characters whose width rich measures differently), so the caller
# falls back to rich and the output never differs. tests/test_vector_walk.py compares
# the two on every built-in.

HEADERS = ("layer", "op", "in → out", "MACs", "params", "bytes", "MAC/B", "time", "bound")
_RIGHT = (False, False, False, True, True, True, True, True, False)
_NARROW = frozenset("×→αρµ–·—")  # non-ASCII characters of one cell each in rich and in terminals


def table_title(result: AnalysisResult) -> str:
    return f"{result.model} on {result.hardware}"


def layer_cells(layer: Any) -> tuple[str, ...]:
    """The cells of one layer row (plain text; names still unescaped)."""
    return (
        layer.name,
        op_label(layer.op, layer.kind),
        f"{shape(layer.in_shape)} → {shape(layer.out_shape)}",
        count(layer.macs),
        count(layer.params),
        count(layer.weight_bytes + layer.activation_bytes),
        f"{layer.intensity:.1f}",
        seconds(layer.latency_s),
        layer.bound,
    )


def _simple(text: str) -> bool:
    return text.isascii() and text.isprintable() or all((" " <= ch <= "~") or ch in _NARROW for ch in text)


def table_text(result: AnalysisResult, *, width: int = 160, styles: bool = False) -> str | None:
    """``rich_table(result)`` as a console of ``width`` columns prints it (with ANSI
    styles when ``styles``), or None where rich's layout could differ."""
    from .text import plain

    rows = [tuple(plain(c) for c in layer_cells(layer)) for layer in result.layers]
    summary = [(plain(k), plain(v)) for k, v in summary_rows(result)]
    title = plain(table_title(result))
    texts = [title, *(c for row in rows for c in row), *(c for pair in summary for c in pair)]
    if not all(_simple(t) for t in texts):
        return None
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(HEADERS)]
    table_width = sum(widths) + 3 * len(widths) + 1
    key_w = max((len(k) for k, _ in summary), default=0)
    value_w = max((len(v) for _, v in summary), default=0)
    if table_width > width or len(title) > table_width or key_w + value_w + 8 > width:
        return None

    def sgr(code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if styles and text else text

    def cell(text: str, i: int) -> str:
        return text.rjust(widths[i]) if _RIGHT[i] else text.ljust(widths[i])

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    lines = [sgr("3", title.ljust(table_width)), rule("┏", "━", "┳", "┓")]
    lines.append("┃" + "┃".join(sgr("1", " ") + sgr("1", cell(h, i)) + sgr("1", " ") for i, h in enumerate(HEADERS)) + "┃")
    lines.append(rule("┡", "━", "╇", "┩"))
    colour = {"compute": "36", "memory": "33"}
    for row in rows:
        cells = [f" {cell(text, i)} " for i, text in enumerate(row[:-1])]
        bound = row[-1]
        cells.append(" " + sgr(colour[bound], bound) + " " * (widths[-1] - len(bound)) + " ")
        lines.append("│" + "│".join(cells) + "│")
    lines.append(rule("└", "─", "┴", "┘"))
    for key, value in summary:
        lines.append(sgr("1", "  ") + sgr("1", key.ljust(key_w)) + sgr("1", "  ") + "  " + value.ljust(value_w) + "  ")
    return "\n".join(lines) + "\n"


def print_table(result: AnalysisResult, stream: Any) -> str | None:
    """Print the analyze table as the CLI's console shows it (see :func:`mncost.console.table_layout`);
    drawn by :func:`table_text` when it can, else by rich. Returns the text when it drew it."""
    from .console import table_layout

    layout = table_layout(stream)
    text = None if layout is None else table_text(result, width=layout[0], styles=layout[1])
    if text is not None:
        stream.write(text)
        return text
    from .views.formats import console

    console(stream).print(rich_table(result))
    return None


def to_table_text(result: AnalysisResult, width: int = 160) -> str:
    text = table_text(result, width=width)
    if text is not None:
        return text
    from .views.formats import rich_to_text

    return rich_to_text(rich_table(result), width=width)


def to_csv(result: AnalysisResult) -> str:
    """One row per layer, raw numbers; shapes as 16x112x112."""
    import csv

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

"""The views of a cross-check: one model layer by layer, and the ``--all`` suite's summary."""

from __future__ import annotations

from typing import Any

from ..crosscheck.compare import CrossCheck, LayerDiff
from ..crosscheck.suite import Suite
from ..jsonio import dumps
from ..text import markup, md, plain
from .formats import Format, csv_text, md_table, rich_to_text


def _layer_rows(result: CrossCheck, all_layers: bool) -> list[LayerDiff]:
    return list(result.layers) if all_layers else result.mismatched_layers


def to_dict(result: CrossCheck) -> dict[str, Any]:
    ref = result.reference
    return {
        "model": result.model,
        "alpha": result.alpha,
        "resolution": result.resolution,
        "width_rule": result.width_rule,
        "ok": result.ok,
        "totals": [{"quantity": t.quantity, "mncost": t.mncost, "torch": t.other, "ok": t.ok} for t in result.totals],
        "mismatched_layers": [{"name": d.name, "op": d.op, "problems": d.problems} for d in result.mismatched_layers],
        "layers_checked": len(result.layers),
        "unsupported_ops": result.unsupported_ops,
        "reference": None if ref is None else {
            "reference": ref.reference,
            "source": ref.source,
            "ok": ref.ok,
            "totals": [{"quantity": t.quantity, "mncost": t.mncost, "reference": t.other, "ok": t.ok} for t in ref.totals],
            "layer_problems": list(ref.layer_problems),
            "note": ref.note,
        },
        "reference_note": result.reference_note,
        "expected": [{"quantity": t.quantity, "mncost": t.mncost, "expected": t.other, "ok": t.ok} for t in result.expected],
    }


def rich_report(result: CrossCheck, *, all_layers: bool = False) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    verdict = "[green]exact[/]" if result.ok else "[red]MISMATCH[/]"
    parts.append(Text.from_markup(f"[bold]{markup(result.model)}[/] α={result.alpha:g}, resolution {result.resolution}, width rule {markup(result.width_rule)}: {verdict}"))
    parts.append(_totals_table("mncost vs the torch model built from the spec (fvcore)", "torch / fvcore", result.totals))
    rows = _layer_rows(result, all_layers)
    if rows:
        table = Table(title=f"layers ({len(result.mismatched_layers)} of {len(result.layers)} differ)", title_justify="left", header_style="bold")
        for col in ("layer", "op", "MACs", "fvcore MACs", "params", "torch params", "shape", "torch shape", ""):
            table.add_column(col, justify="right" if "MACs" in col or "params" in col else "left", no_wrap=col == "layer")
        for d in rows:
            table.add_row(
                markup(d.name), d.op, f"{d.macs:,}", "–" if d.torch_macs is None else f"{d.torch_macs:,}",
                f"{d.params:,}", "–" if d.torch_params is None else f"{d.torch_params:,}",
                "×".join(map(str, d.shape)), "–" if d.torch_shape is None else "×".join(map(str, d.torch_shape)),
                "✓" if d.ok else "[red]✗[/]",
            )
        parts.append(table)
    else:
        parts.append(Text(f"all {len(result.layers)} layers agree (MACs, params, output shapes)"))
    if result.unsupported_ops:
        parts.append(Text.from_markup("[red]operators fvcore could not count:[/] " + ", ".join(f"{k} ×{v}" for k, v in result.unsupported_ops.items())))
    ref = result.reference
    if ref is not None:
        rt = Table(title=f"reference: {markup(ref.reference)} \\[{ref.source}]", title_justify="left", header_style="bold")
        for col in ("quantity", "mncost", "reference", ""):
            rt.add_column(col, justify="right" if col in ("mncost", "reference") else "left")
        for t in ref.totals:
            rt.add_row(t.quantity, f"{t.mncost:,}", f"{t.other:,}", "✓" if t.ok else "[red]✗[/]")
        parts.append(rt)
        shown = ref.layer_problems if all_layers else ref.layer_problems[:8]
        for problem in shown:
            parts.append(Text.from_markup(f"[red]✗[/] {markup(problem)}"))
        if len(shown) < len(ref.layer_problems):
            parts.append(Text(f"… and {len(ref.layer_problems) - len(shown)} more layers differ from the reference (--layers shows all)"))
        if ref.note:
            parts.append(Text(plain(ref.note), style="dim"))
    elif result.reference_note:
        parts.append(Text(plain(result.reference_note), style="dim"))
    if result.expected:
        parts.append(_totals_table("the spec's expected: counts (α = 1, default resolution)", "expected", result.expected))
    return Group(*parts)


def _totals_table(title: str, other: str, rows: Any) -> Any:
    """quantity | mncost | OTHER | ✓/✗: the totals against fvcore, and against ``expected:``."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for col in ("quantity", "mncost", other, ""):
        table.add_column(col, justify="right" if col in ("mncost", other) else "left")
    for t in rows:
        table.add_row(t.quantity, f"{t.mncost:,}", f"{t.other:,}", "✓" if t.ok else "[red]✗[/]")
    return table


def render(result: CrossCheck, fmt: Format, *, all_layers: bool = False) -> str:
    if fmt is Format.json:
        return dumps(to_dict(result))
    if fmt is Format.md:
        lines = [f"# Cross-check of {md(result.model)} (α={result.alpha:g}, resolution {result.resolution}): {'exact' if result.ok else 'MISMATCH'}\n"]
        lines.append(md_table(["quantity", "mncost", "torch / fvcore", "ok"], [(t.quantity, f"{t.mncost:,}", f"{t.other:,}", "✓" if t.ok else "✗") for t in result.totals], "lrrl"))
        rows = _layer_rows(result, all_layers)
        if rows:
            lines.append(md_table(["layer", "op", "problems"], [(md(d.name), d.op, md("; ".join(d.problems)) or "✓") for d in rows]))
        if result.reference is not None:
            lines.append(md_table(["reference quantity", "mncost", "reference", "ok"], [(t.quantity, f"{t.mncost:,}", f"{t.other:,}", "✓" if t.ok else "✗") for t in result.reference.totals], "lrrl"))
            lines.extend(f"- ✗ {md(p)}" for p in result.reference.layer_problems)
        if result.expected:
            lines.append(md_table(["expected quantity", "mncost", "expected", "ok"], [(t.quantity, f"{t.mncost:,}", f"{t.other:,}", "✓" if t.ok else "✗") for t in result.expected], "lrrl"))
        return "\n".join(lines)
    if fmt is Format.csv:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["name", "op", "macs", "torch_macs", "params", "torch_params", "shape", "torch_shape", "ok"])
        for d in result.layers:
            writer.writerow([d.name, d.op, d.macs, d.torch_macs, d.params, d.torch_params, "x".join(map(str, d.shape)),
                             "" if d.torch_shape is None else "x".join(map(str, d.torch_shape)), d.ok])
        return buffer.getvalue()
    return rich_to_text(rich_report(result, all_layers=all_layers))


def all_rows(summary: Suite) -> list[dict[str, Any]]:
    by_model: dict[str, dict[str, Any]] = {}
    for r in summary.results:
        row = by_model.setdefault(r.model, {"model": r.model, "variants": 0, "exact": 0, "mismatched": 0, "reference_checked": 0, "first_problem": ""})
        row["variants"] += 1
        row["exact" if r.ok else "mismatched"] += 1
        row["reference_checked"] += r.reference is not None
        if not r.ok and not row["first_problem"]:
            problems = [f"{d.name}: {'; '.join(d.problems)}" for d in r.mismatched_layers] or list(r.reference.layer_problems if r.reference else []) or [
                f"expected {t.quantity} {t.other:,}, spec gives {t.mncost:,}" for t in r.expected if not t.ok]
            row["first_problem"] = f"α={r.alpha:g} r={r.resolution}: " + (problems[0] if problems else "totals differ")
    return list(by_model.values())


def render_all(summary: Suite, fmt: Format) -> str:
    rows = all_rows(summary)
    total = len(summary.results)
    exact = sum(r.ok for r in summary.results)
    footer = f"{total} variants checked, {exact} exact, {total - exact} mismatched in {summary.seconds:.1f} s"
    if fmt is Format.json:
        return dumps({"models": rows, "variants": total, "exact": exact, "mismatched": total - exact, "seconds": summary.seconds})
    if fmt is Format.md:
        headers = list(rows[0]) if rows else []
        return "# Cross-check of every built-in\n\n" + md_table(headers, [list(r.values()) for r in rows]) + f"\n{footer}\n"
    if fmt is Format.csv:
        return csv_text(rows)
    return rich_to_text(rich_all(summary))


def rich_all(summary: Suite) -> Any:
    """The suite's table, one row per model, and its footer."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    rows = all_rows(summary)
    total = len(summary.results)
    exact = sum(r.ok for r in summary.results)
    table = Table(title="Cross-check of every built-in (torch model by fvcore, and reference counts)", title_justify="left", header_style="bold")
    for key in ("model", "variants", "exact", "mismatched", "reference_checked", "first_problem"):
        table.add_column(key.replace("_", " "), justify="right" if key in ("variants", "exact", "mismatched", "reference_checked") else "left")
    for r in rows:
        table.add_row(markup(r["model"]), str(r["variants"]), str(r["exact"]), ("[red]" if r["mismatched"] else "") + str(r["mismatched"]), str(r["reference_checked"]), markup(r["first_problem"]))
    return Group(table, Text(f"{total} variants checked, {exact} exact, {total - exact} mismatched in {summary.seconds:.1f} s"))

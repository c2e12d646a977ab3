"""``mncost pick``: the most accurate configurations that fit a latency budget."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..views.formats import Format
from .app import FormatOpt, OutputOpt, app, check_output, show


@app.command("pick")
def pick_command(
    budget_ms: Annotated[float, typer.Option("--budget-ms", help="Latency budget per image in milliseconds (predicted, plain roofline).")],
    hw: Annotated[str, typer.Option("--hw", "-H", help="Comma list of hardware profiles (names or .yaml paths), 'generic' (cpu, dsp, edgetpu, gpu) or 'all' (with every fitted device profile).")] = "generic",
    min_top1: Annotated[Optional[float], typer.Option("--min-top1", help="Only configurations with at least this published top-1 (%).")] = None,
    models: Annotated[Optional[str], typer.Option("--models", "-m", help="Comma list of built-in names, spec paths or .onnx models (a spec counts with its own published.top1; an .onnx model has none), or 'all' (default).")] = None,
    accuracy: Annotated[Optional[Path], typer.Option("--accuracy", help="Your own accuracy CSV (columns as mncost/data/accuracy.csv); its rows add to, and override, the shipped ones.", dir_okay=False)] = None,
    top: Annotated[int, typer.Option("--top", help="Picks listed per hardware profile.")] = 5,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """The most accurate configurations (published ImageNet top-1) that fit a latency budget on each profile."""
    from ..pick import run_pick
    from ..views import pick as view

    check_output(output)
    result = run_pick(budget_ms, hw, min_top1, models, accuracy, top)
    show(format, output, lambda: view.rich_pick(result), lambda fmt: view.render(result, fmt))

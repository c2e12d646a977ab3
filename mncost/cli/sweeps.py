"""``mncost sweep``, ``ridge`` and ``report``: many variants, ridge points, report folders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..errors import OptionError
from ..views.formats import Format
from .app import (
    AlphaOpt, BatchOpt, BnOpt, DtypeOpt, FormatOpt, FusedAttnOpt, HwListOpt, ModelsOpt, OutputOpt, PeakOpt, RankByOpt, ResolutionOpt,
    ResolutionsOpt, RhosOpt, RidgeOpt, WidthRuleOpt, app, check_output, emit_chunks, show,
)

AlphasOpt = Annotated[str, typer.Option("--alpha", "-a", help="Width multipliers: a comma list and/or start:stop:step ranges, stop included (0.5,0.75,1.0 or 0.5:1.4:0.1); a range needs its step.")]


def _run_sweep(models: str | None, alpha: str, resolution: str | None, rho: str | None, hw: str, width_rule: str | None,
               batch: int, include_bn_params: bool, rank_by: str) -> Any:
    """Options → the sweep's frame, with a progress bar on a terminal for long sweeps."""
    from ..analysis import check_batch
    from ..grids import parse_floats, parse_ints
    from ..selection import load_profiles, load_specs
    from ..sweep import resolutions_for, sweep

    specs = load_specs(models)
    profiles = load_profiles(hw)
    alphas = parse_floats(alpha, "--alpha")
    resolutions = parse_ints(resolution, "--resolution") if resolution else None
    rhos = parse_floats(rho, "--rho") if rho else None
    check_batch(batch)
    kwargs = dict(alphas=alphas, resolutions=resolutions, rhos=rhos, width_rule=width_rule, batch=batch, include_bn_params=include_bn_params, rank_by=rank_by)
    configs = sum(len(resolutions_for(s, resolutions, rhos)) for s in specs) * len(alphas)
    if configs < 200 or not sys.stderr.isatty():
        return sweep(specs, profiles, **kwargs)  # type: ignore[arg-type]
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("sweeping", total=configs)
        return sweep(specs, profiles, on_config=lambda: progress.advance(task), **kwargs)  # type: ignore[arg-type]


@app.command("sweep")
def sweep_command(
    models: ModelsOpt = None,
    alpha: AlphasOpt = "1.0",
    resolution: ResolutionsOpt = None,
    rho: RhosOpt = None,
    hw: HwListOpt = "generic",
    width_rule: WidthRuleOpt = None,
    batch: BatchOpt = 1,
    include_bn_params: BnOpt = False,
    rank_by: RankByOpt = "predicted_s",
    top: Annotated[int, typer.Option("--top", help="Rows per hardware in the terminal table (files get every row).")] = 15,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Rank variants (models × α × resolution) on each hardware profile, with the Pareto frontier."""
    from ..views.sweep import render_sweep, rich_sweep

    if top < 1:
        raise OptionError(f"--top must be a positive integer, got {top}")
    check_output(output)
    df = _run_sweep(models, alpha, resolution, rho, hw, width_rule, batch, include_bn_params, rank_by)
    if format is Format.csv:  # streamed in chunks, to stdout or the file (a million rows never exist as one text)
        from ..sweep import csv_chunks

        emit_chunks(csv_chunks(df), output)
        return
    show(format, output, lambda: rich_sweep(df, rank_by, top), lambda fmt: render_sweep(df, fmt, rank_by))


def _ridge(models: str | None, alpha: float, resolution: int | None, rp: str, peak: float, dtype: str) -> tuple[Any, Any]:
    from ..grids import parse_floats
    from ..ridge import ridge_study
    from ..selection import RIDGE_MODELS, load_specs

    ridges = parse_floats(rp, "--rp", allow_zero=True)
    return ridge_study(load_specs(models if models is not None else RIDGE_MODELS), ridges, alpha=alpha, resolution=resolution, peak_macs_per_s=peak, dtype=dtype)


@app.command("ridge")
def ridge_command(
    models: Annotated[Optional[str], typer.Option("--models", "-m", help="Comma list of models (default v1,v2,v3-large,v4-conv-m), or 'all'.")] = None,
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    rp: RidgeOpt = "0:500:10",
    peak: PeakOpt = 1e12,
    dtype: DtypeOpt = "int8",
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Sweep the ridge point at fixed peak MAC/s (MobileNetV4 paper): latency per model and where rankings flip."""
    from ..views.sweep import render_ridge, rich_ridge

    check_output(output)
    df, found = _ridge(models, alpha, resolution, rp, peak, dtype)
    show(format, output, lambda: rich_ridge(df, found), lambda fmt: render_ridge(df, found, fmt, peak_macs_per_s=peak, dtype=dtype))


@app.command("report")
def report_command(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Report folder to create (refused if it exists and is not empty, unless --force).")],
    model: Annotated[Optional[str], typer.Argument(help="Model to report on (or use --sweep / --ridge).")] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="Report a sweep (models × α × resolution × hardware) instead of one model.")] = False,
    ridge: Annotated[bool, typer.Option("--ridge", help="Report a ridge-point sweep instead of one model.")] = False,
    pick: Annotated[bool, typer.Option("--pick", help="Report `mncost pick` (needs --budget-ms): top-1 against latency with the budget line.")] = False,
    budget_ms: Annotated[Optional[float], typer.Option("--budget-ms", help="Latency budget for --pick, in milliseconds.")] = None,
    min_top1: Annotated[Optional[float], typer.Option("--min-top1", help="For --pick: only configurations with at least this published top-1 (%).")] = None,
    models: ModelsOpt = None,
    alpha: Annotated[str, typer.Option("--alpha", "-a", help="α: one value for a model report, a list or range for --sweep.")] = "1.0",
    resolution: ResolutionsOpt = None,
    rho: RhosOpt = None,
    hw: Annotated[Optional[str], typer.Option("--hw", "-H", help="Hardware: one profile for a model report (default cpu); a list or 'all' for --sweep (default all).")] = None,
    width_rule: WidthRuleOpt = None,
    batch: BatchOpt = 1,
    include_bn_params: BnOpt = False,
    fused_attention: FusedAttnOpt = False,
    rank_by: RankByOpt = "predicted_s",
    rp: RidgeOpt = "0:500:10",
    peak: PeakOpt = 1e12,
    dtype: DtypeOpt = "int8",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report folder (whole, atomically).")] = False,
) -> None:
    """Write a self-contained report folder: report.md, report.html, CSV, JSON and charts (PNG, SVG)."""
    from .. import report
    from ..grids import parse_floats, parse_ints
    from ..output import check_report_folder, write_folder_atomic

    if (model is not None) + sweep + ridge + pick != 1:
        raise OptionError("give exactly one of MODEL, --sweep, --ridge or --pick")
    check_report_folder(output_dir, force=force)
    argv = sys.argv[1:] if sys.argv and sys.argv[0].endswith("mncost") else None
    if model is not None:
        from ..analysis import analyze as run_analysis

        alphas = parse_floats(alpha, "--alpha")
        resolutions = parse_ints(resolution, "--resolution") if resolution else [None]
        rhos = parse_floats(rho, "--rho") if rho else [None]
        if len(alphas) > 1 or len(resolutions) > 1 or len(rhos) > 1 or (hw and "," in hw):
            raise OptionError("a model report takes one --alpha, --resolution/--rho and --hw (use --sweep for several)")
        result = run_analysis(model, hw or "cpu", alpha=alphas[0], resolution=resolutions[0], rho=rhos[0], batch=batch,
                              width_rule=width_rule, include_bn_params=include_bn_params, fused_attention=fused_attention)
        write_folder_atomic(output_dir, lambda folder: report.model_report(result, folder, argv), force=force)
    elif pick:
        from ..pick import run_pick
        from ..pick_report import pick_report

        chosen = run_pick(budget_ms, hw, min_top1, models)  # the whole pick first, then the folder atomically
        write_folder_atomic(output_dir, lambda folder: pick_report(chosen, folder, argv), force=force)
    elif sweep:
        df = _run_sweep(models, alpha, resolution, rho, hw or "generic", width_rule, batch, include_bn_params, rank_by)
        write_folder_atomic(output_dir, lambda folder: report.sweep_report(df, folder, rank_by, argv), force=force)
    else:
        alphas = parse_floats(alpha, "--alpha")
        res = parse_ints(resolution, "--resolution") if resolution else [None]
        if len(alphas) > 1 or len(res) > 1:
            raise OptionError("a ridge report takes one --alpha and --resolution")
        df, found = _ridge(models, alphas[0], res[0], rp, peak, dtype)
        write_folder_atomic(output_dir, lambda folder: report.ridge_report(df, found, peak, dtype, folder, argv), force=force)
    print(f"wrote {output_dir}/report.md and report.html", file=sys.stderr)


"""The ``mncost`` command line: parse options, call the library, render, map errors.

Every user error (MncostError, a bad option) becomes one line on stderr and exit
code 2; an unexpected exception is reported as a bug, with the traceback only
under ``--debug``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .errors import MncostError, OptionError
from .output import output_path
from .render import Format

app = typer.Typer(
    name="mncost",
    help="Cost and roofline analysis of MobileNet-family networks: exact MACs, params and bytes per layer, and predicted latency per hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}

# -- shared options, declared once ---------------------------------------------------------

HwOpt = Annotated[str, typer.Option("--hw", "-H", help="Hardware profile: a built-in name (see `mncost hardware`) or a profile .yaml path.")]
AlphaOpt = Annotated[float, typer.Option("--alpha", "-a", help="Width multiplier α (> 0); channel counts follow the spec's width rule.")]
ResolutionOpt = Annotated[Optional[int], typer.Option("--resolution", "-r", help="Input resolution N (N×N); default: the spec's.")]
RhoOpt = Annotated[Optional[float], typer.Option("--rho", help="Resolution multiplier ρ: N = round(ρ × the spec's default). Not with --resolution.")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="Batch size: scales MACs and activation traffic, not weights.")]
WidthRuleOpt = Annotated[Optional[str], typer.Option("--width-rule", help="Channel rounding rule for α (e.g. torchvision, paper); default: the spec's own (see `mncost models`).")]
BnOpt = Annotated[bool, typer.Option("--include-bn-params", help="Count BatchNorm parameters in params and weight bytes (default: folded, reported apart).")]
FusedAttnOpt = Annotated[bool, typer.Option("--fused-attention", help="Attention runs as one fused kernel: the attention matrix never goes to memory.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.", parser=output_path, metavar="PATH")]


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        print(f"mncost {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)] = False,
) -> None:
    _state["debug"] = debug


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from .output import write_atomic

    write_atomic(output, text)
    print(f"wrote {output}", file=sys.stderr)


@app.command()
def analyze(
    model: Annotated[str, typer.Argument(help="A built-in model (see `mncost models`), an architecture spec .yaml path or an .onnx model.")],
    hw: HwOpt = "cpu",
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    rho: RhoOpt = None,
    batch: BatchOpt = 1,
    width_rule: WidthRuleOpt = None,
    include_bn_params: BnOpt = False,
    fused_attention: FusedAttnOpt = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Count MACs, params and bytes per layer and predict latency with the roofline model."""
    from .launch import run_analyze  # the same code path as the fast entry point

    run_analyze(model, hw, alpha, resolution, rho, batch, width_rule, include_bn_params, fused_attention, format.value, output)


@app.command()
def models(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in architectures with their default resolution, width rules and source."""
    from . import builtin
    from .spec import load_spec

    from .walk import walk

    rows: list[dict[str, Any]] = []
    for name in builtin.spec_files():
        spec = load_spec(name)
        layers = walk(spec).layers  # counts at α = 1 and the default resolution
        rows.append(
            {
                "name": spec.name,
                "family": spec.family,
                "title": spec.title,
                "resolution": spec.resolution,
                "macs": sum(x.macs for x in layers),
                "params": sum(x.params for x in layers),
                "width_rules": ",".join(spec.width_rules),
                "default_width_rule": spec.default_width_rule,
                "published_macs": spec.published.macs,
                "published_params": spec.published.params,
                "published_top1": spec.published.top1,
                "source": spec.source,
            }
        )
    families = list(dict.fromkeys(row["family"] for row in rows))
    rows.sort(key=lambda row: (not row["family"].startswith("MobileNet"), families.index(row["family"])))  # MobileNets first, then by family
    _list_output(rows, format, output, title="Built-in architectures", brief=("family", "name", "resolution", "macs", "params", "width_rules", "published_top1", "source"))


@app.command()
def hardware(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in hardware profiles: peak MAC/s, bandwidth, ridge point, dtypes, sources."""
    from .hardware import builtin_hardware

    rows = [
        {
            "name": hw.name,
            "title": hw.title,
            "peak_macs_per_s": hw.peak_macs_per_s,
            "mem_bw_bytes_per_s": hw.mem_bw_bytes_per_s,
            "ridge_macs_per_byte": hw.ridge_point,
            "weight_dtype": hw.weight_dtype,
            "activation_dtype": hw.activation_dtype,
            "source": "; ".join(f"{k}: {v}" for k, v in hw.sources.items()),
            **_fidelity_columns(hw),
        }
        for hw in builtin_hardware()
    ]
    _list_output(rows, format, output, title="Built-in hardware profiles", brief=("name", "title", "peak_macs_per_s", "mem_bw_bytes_per_s", "ridge_macs_per_byte", "weight_dtype", "activation_dtype", "fidelity"))


def _fidelity_columns(hw: Any) -> dict[str, Any]:
    """How far to trust a profile's latencies: a fitted one's honest error, a generic one's description."""
    e = hw.expected_error
    if e is None:
        return {"kind": hw.kind, "fidelity": hw.fidelity, "selected_model": None, "loo_median_ape": None, "loo_spearman": None, "networks": None}
    return {"kind": hw.kind, "fidelity": f"fitted: {e.model}, {e.sentence()}, r_s {e.loo_spearman:.3f}", "selected_model": e.model,
            "loo_median_ape": e.loo_median_ape, "loo_spearman": e.loo_spearman, "networks": e.networks}


@app.command()
def crosscheck(
    model: Annotated[Optional[str], typer.Argument(help="A built-in model or a spec .yaml path (omit with --all).")] = None,
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    rho: RhoOpt = None,
    width_rule: WidthRuleOpt = None,
    all_models: Annotated[bool, typer.Option("--all", help="Every built-in over its pinned α × resolution grid.")] = False,
    layers: Annotated[bool, typer.Option("--layers", help="Show every layer, not only the mismatched ones.")] = False,
    reference: Annotated[Optional[str], typer.Option("--reference", help="Also compare with the real network: torchvision:NAME or timm:NAME[?key=value&...] (layers paired in execution order).")] = None,
    max_memory_gb: Annotated[float, typer.Option("--max-memory-gb", help="Refuse a check estimated to need more memory than this.")] = 8.0,
    max_gmacs: Annotated[float, typer.Option("--max-gmacs", help="Refuse a check of more GMACs than this.")] = 50.0,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", help="Worker processes for --all (default: one per CPU).")] = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Prove the counts: build the torch model from the spec, count it with fvcore, compare layer by layer.

    Needs the optional extra: pip install torch==2.13.0 && pip install 'mncost[torch]'.
    Exits 1 when anything differs.
    """
    from .crosscheck import require_extras

    if all_models == (model is not None):
        raise OptionError("give a MODEL or --all, not both and not neither")
    require_extras()
    if output is not None:
        from .output import check_writable

        check_writable(output)
    from . import crosscheck_report as report

    if all_models:
        summary = report.run_all(_console(), jobs=jobs)
        ok = summary.ok
        text = report.all_to_text(summary, format)
    else:
        from .crosscheck import crosscheck as run_check

        result = run_check(model, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule,  # type: ignore[arg-type]
                           reference=reference, max_memory_gb=max_memory_gb, max_gmacs=max_gmacs)
        ok = result.ok
        if format is Format.table and output is None:
            _console().print(report.rich_report(result, all_layers=layers))
            text = None
        else:
            text = report.to_text(result, format, all_layers=layers)
    if text is not None:
        _emit(text, output)
    if not ok:
        raise typer.Exit(1)


# -- sweeps, ridge points, reports -------------------------------------------------------------

ModelsOpt = Annotated[Optional[str], typer.Option("--models", "-m", help="Comma list of built-in names or spec paths, or 'all'. Default: the built-in ImageNet models (those with a published top-1).")]
AlphasOpt = Annotated[str, typer.Option("--alpha", "-a", help="Width multipliers: a comma list and/or start:stop:step ranges, stop included (0.5,0.75,1.0 or 0.5:1.4:0.1); a range needs its step.")]
ResolutionsOpt = Annotated[Optional[str], typer.Option("--resolution", "-r", help="Input resolutions: a comma list and/or start:stop:step ranges (128:224:32). Default: each model's own.")]
RhosOpt = Annotated[Optional[str], typer.Option("--rho", help="Resolution multipliers ρ (N = round(ρ × default)): a list or range. Not with --resolution.")]
HwListOpt = Annotated[str, typer.Option("--hw", "-H", help="Comma list of hardware profiles (names or .yaml paths), 'generic' (cpu, dsp, edgetpu, gpu) or 'all' (with every fitted device profile).")]
RankByOpt = Annotated[str, typer.Option("--rank-by", help="Column to rank by within each hardware (latency_s, macs, params, weight_bytes, activation_bytes, memory_bound_share, top1).")]
RidgeOpt = Annotated[str, typer.Option("--rp", help="Ridge points in MACs/byte: a comma list and/or start:stop:step ranges (stop included).")]
PeakOpt = Annotated[float, typer.Option("--peak-macs-per-s", help="Fixed peak MAC/s of the ridge sweep (rankings do not depend on it).")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="Bytes per weight and activation in the ridge sweep: int8, fp16, bf16 or fp32.")]


def _default_models() -> list[str]:
    from . import builtin
    from .spec import load_spec

    return [name for name in builtin.spec_files() if load_spec(name).published.top1 is not None]


def _specs(models: str | None) -> list[Any]:
    from . import builtin
    from .grids import parse_names
    from .spec import load_spec

    from .grids import check_unique

    names = _default_models() if models is None else parse_names(models, "--models", list(builtin.spec_files()))
    specs = [load_spec(name) for name in names]
    check_unique([s.name for s in specs], names, "--models", "models")
    return specs


def _profiles(hw: str) -> list[Any]:
    from . import builtin
    from .grids import check_unique, parse_names
    from .hardware import load_hardware

    if hw.strip() == "generic":  # the four generic profiles; 'all' adds every fitted device profile
        hw = ",".join(name for name in builtin.hardware_files() if not load_hardware(name).fit)
    names = parse_names(hw, "--hw", list(builtin.hardware_files()))
    profiles = [load_hardware(name) for name in names]
    check_unique([p.name for p in profiles], names, "--hw", "profiles")
    return profiles


def _run_sweep(models: str | None, alpha: str, resolution: str | None, rho: str | None, hw: str, width_rule: str | None,
               batch: int, include_bn_params: bool, rank_by: str) -> Any:
    from .analysis import check_batch
    from .grids import parse_floats, parse_ints
    from .sweep import resolutions_for, sweep

    specs = _specs(models)
    profiles = _profiles(hw)
    alphas = parse_floats(alpha, "--alpha")
    resolutions = parse_ints(resolution, "--resolution") if resolution else None
    rhos = parse_floats(rho, "--rho") if rho else None
    check_batch(batch)
    configs = sum(len(resolutions_for(s, resolutions, rhos)) for s in specs) * len(alphas)
    kwargs = dict(alphas=alphas, resolutions=resolutions, rhos=rhos, width_rule=width_rule, batch=batch, include_bn_params=include_bn_params, rank_by=rank_by)
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
    rank_by: RankByOpt = "latency_s",
    top: Annotated[int, typer.Option("--top", help="Rows per hardware in the terminal table (files get every row).")] = 15,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Rank variants (models × α × resolution) on each hardware profile, with the Pareto frontier."""
    if top < 1:
        raise OptionError(f"--top must be a positive integer, got {top}")
    if output is not None:
        from .output import check_writable

        check_writable(output)
    df = _run_sweep(models, alpha, resolution, rho, hw, width_rule, batch, include_bn_params, rank_by)
    if format is Format.csv:  # written in chunks (several times faster than DataFrame.to_csv)
        from .sweep import csv_chunks

        if output is None:
            for chunk in csv_chunks(df):
                sys.stdout.write(chunk)
        else:
            from .output import write_atomic

            write_atomic(output, "".join(csv_chunks(df)))  # the file rules of output.py take the text whole
            print(f"wrote {output}", file=sys.stderr)
        return
    if format is Format.table and output is None:
        from .sweep_view import rich_sweep

        _console().print(rich_sweep(df, rank_by, top))
        return
    _emit(_sweep_text(df, format, rank_by), output)


def _sweep_text(df: Any, format: Format, rank_by: str) -> str:
    import json

    if format is Format.csv:
        return str(df.to_csv(index=False))
    if format is Format.json:
        from .jsonio import dumps

        return dumps(json.loads(df.to_json(orient="records")), indent=1)
    if format is Format.md:
        from .report import sweep_document

        return sweep_document(df, rank_by).to_markdown()
    from .sweep_view import rich_sweep

    return _render_to_text(rich_sweep(df, rank_by, 10**9))


def _render_to_text(renderable: Any) -> str:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=160, color_system=None).print(renderable)
    return buffer.getvalue()


def _ridge_points(rp: str) -> list[float]:
    from .grids import parse_floats

    return parse_floats(rp, "--rp", allow_zero=True)


def _run_ridge(models: str | None, alpha: float, resolution: int | None, rp: str, peak: float, dtype: str) -> tuple[Any, Any]:
    from .hardware import DTYPE_BYTES
    from .ridge import flips, ridge_sweep
    from .walk import walk

    if not 1 <= peak <= 1e21:
        raise OptionError(f"--peak-macs-per-s must be a number from 1 to 1e+21, got {peak:g}")
    if dtype not in DTYPE_BYTES:
        raise OptionError(f"--dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    specs = _specs(models if models is not None else "v1,v2,v3-large,v4-conv-m")
    walks = [walk(s, alpha=alpha, resolution=resolution) for s in specs]
    df = ridge_sweep(walks, _ridge_points(rp), peak_macs_per_s=peak, dtype=dtype)
    return df, flips(df)


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
    if output is not None:
        from .output import check_writable

        check_writable(output)
    df, found = _run_ridge(models, alpha, resolution, rp, peak, dtype)
    from .report import ridge_document

    if format is Format.csv:
        _emit(str(df.to_csv(index=False)), output)
    elif format is Format.json:
        import json

        from .jsonio import dumps

        payload = {"rows": json.loads(df.to_json(orient="records")), "flips": [f.__dict__ for f in found]}
        _emit(dumps(payload, indent=1), output)
    elif format is Format.md:
        _emit(ridge_document(df, found, peak, dtype).to_markdown(), output)
    else:
        from .sweep_view import rich_ridge

        if output is None:
            _console().print(rich_ridge(df, found))
        else:
            _emit(_render_to_text(rich_ridge(df, found)), output)


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
    rank_by: RankByOpt = "latency_s",
    rp: RidgeOpt = "0:500:10",
    peak: PeakOpt = 1e12,
    dtype: DtypeOpt = "int8",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing report folder (whole, atomically).")] = False,
) -> None:
    """Write a self-contained report folder: report.md, report.html, CSV, JSON and charts (PNG, SVG)."""
    from . import report
    from .output import check_report_folder, write_folder_atomic

    if (model is not None) + sweep + ridge + pick != 1:
        raise OptionError("give exactly one of MODEL, --sweep, --ridge or --pick")
    check_report_folder(output_dir, force=force)
    argv = sys.argv[1:] if sys.argv and sys.argv[0].endswith("mncost") else None
    if model is not None:
        from .analysis import analyze as run_analysis
        from .grids import parse_floats, parse_ints

        alphas = parse_floats(alpha, "--alpha")
        resolutions = parse_ints(resolution, "--resolution") if resolution else [None]
        rhos = parse_floats(rho, "--rho") if rho else [None]
        if len(alphas) > 1 or len(resolutions) > 1 or len(rhos) > 1 or (hw and "," in hw):
            raise OptionError("a model report takes one --alpha, --resolution/--rho and --hw (use --sweep for several)")
        result = run_analysis(model, hw or "cpu", alpha=alphas[0], resolution=resolutions[0], rho=rhos[0], batch=batch,
                              width_rule=width_rule, include_bn_params=include_bn_params, fused_attention=fused_attention)
        write_folder_atomic(output_dir, lambda folder: report.model_report(result, folder, argv), force=force)
    elif pick:
        from .pick_cli import pick_folder

        pick_folder(output_dir, budget_ms, hw, min_top1, models, force, argv)
    elif sweep:
        df = _run_sweep(models, alpha, resolution, rho, hw or "generic", width_rule, batch, include_bn_params, rank_by)
        write_folder_atomic(output_dir, lambda folder: report.sweep_report(df, folder, rank_by, argv), force=force)
    else:
        from .grids import parse_floats, parse_ints

        alphas = parse_floats(alpha, "--alpha")
        res = parse_ints(resolution, "--resolution") if resolution else [None]
        if len(alphas) > 1 or len(res) > 1:
            raise OptionError("a ridge report takes one --alpha and --resolution")
        df, found = _run_ridge(models, alphas[0], res[0], rp, peak, dtype)
        write_folder_atomic(output_dir, lambda folder: report.ridge_report(df, found, peak, dtype, folder, argv), force=force)
    print(f"wrote {output_dir}/report.md and report.html", file=sys.stderr)


# -- fidelity: fit, calibrate, bench ----------------------------------------------------------

ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", help="torch intra-op threads (default: torch's own choice).", min=1)]
QuickOpt = Annotated[bool, typer.Option("--quick", help="Tiny sizes and few runs: a smoke test, not a measurement.")]


@app.command("fit")
def fit_command(
    measurements: Annotated[Path, typer.Argument(help="CSV of measured latencies: model, alpha, resolution, latency_ms (and optional width_rule, batch, device, dtype, status).")],
    name: Annotated[str, typer.Option("--name", help="Name of the fitted hardware profile.")],
    device: Annotated[Optional[str], typer.Option("--device", help="Fit the rows of this device (needed when the CSV has several).")] = None,
    dtype: Annotated[Optional[str], typer.Option("--dtype", help="Weight and activation dtype (default: the CSV's dtype column, else int8).")] = None,
    ridge: Annotated[Optional[float], typer.Option("--ridge", help="Also score the plain roofline at this fixed ridge point (MACs/byte), e.g. a paper's.")] = None,
    select: Annotated[bool, typer.Option("--select/--no-select", help="Choose the refinement terms by nested leave-one-out (the profile's `refinements:`).")] = True,
    format: FormatOpt = Format.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the fitted profile YAML here (atomically); it records the fit and its data.", parser=output_path, metavar="PATH")] = None,
) -> None:
    """Fit a hardware profile to measured latencies: ridge point, r_s of the roofline and of MACs, errors, all also leave-one-out."""
    from .fidelity import require

    require("numpy", "scipy")
    from .fidelity.device import fit_measurements
    from .fidelity.measurements import read_measurements
    from .fidelity.report import render_fit

    if format is Format.csv:
        raise OptionError("fit prints a table, md or json; the measurements are already CSV")
    if output is not None:
        from .output import check_writable

        check_writable(output)
    fit = fit_measurements(read_measurements(measurements), name=name, device=device, dtype=dtype, ridge_macs_per_byte=ridge, select=select)
    if output is not None:
        fit.write_profile(output)
        print(f"wrote {output}", file=sys.stderr)
    if format is Format.json:
        import json

        from .jsonio import dumps

        sys.stdout.write(dumps({"name": fit.name, "device": fit.device, "dtype": fit.dtype, **fit.fit_record()}))
    else:
        sys.stdout.write(render_fit(fit))


@app.command("calibrate")
def calibrate_command(
    threads: ThreadsOpt = None,
    quick: QuickOpt = False,
    name: Annotated[str, typer.Option("--name", help="Name of the written profile.")] = "local-cpu",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the calibrated profile YAML here (atomically).", parser=output_path, metavar="PATH")] = None,
) -> None:
    """Measure this machine's achievable MAC/s (large fp32 matmul) and memory bandwidth (large copies) with torch."""
    from .fidelity import require

    require("torch")
    from .fidelity.calibrate import calibrate, calibration_profile
    from .fidelity.profile import write_profile

    if output is not None:
        from .output import check_writable

        check_writable(output)
    cal = calibrate(threads=threads, quick=quick)
    profile = calibration_profile(cal, name=name)
    print(f"{cal.machine}, torch {cal.torch_version}, {cal.threads} thread(s)")
    print(f"peak  {cal.peak_macs_per_s:.4g} MAC/s   (best of {cal.repeats} fp32 matmuls, {cal.matmul_n}×{cal.matmul_n})")
    print(f"bandwidth {cal.mem_bw_bytes_per_s / 1e9:.3g} GB/s   (best of {cal.repeats} copies of {cal.copy_bytes / 2**20:g} MiB)")
    print(f"ridge point {cal.peak_macs_per_s / cal.mem_bw_bytes_per_s:.3g} MACs/byte")
    for size, bw in sorted(cal.copy_bw_by_size.items()):
        print(f"  copy of {size / 2**20:g} MiB: {bw / 1e9:.3g} GB/s")
    if output is not None:
        write_profile(output, profile, comments=("Written by mncost calibrate.",))
        print(f"wrote {output}", file=sys.stderr)


@app.command("bench")
def bench_command(
    model: Annotated[Optional[str], typer.Argument(help="A built-in model or spec path (or --all).")] = None,
    all_models: Annotated[bool, typer.Option("--all", help="Benchmark the built-ins at a few α/resolution points, then fit and score this machine.")] = False,
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    width_rule: WidthRuleOpt = None,
    threads: Annotated[int, typer.Option("--threads", help="Intra-op threads; default 1 (single thread, pinned to one core: reproducible).", min=1)] = 1,
    runs: Annotated[int, typer.Option("--runs", help="Timed runs per round; rounds repeat until IQR/median ≤ 2% or --max-runs.")] = 50,
    max_runs: Annotated[int, typer.Option("--max-runs", help="Most timed runs per network.")] = 400,
    runtime: Annotated[str, typer.Option("--runtime", help="torch (eager) or onnxruntime (export to ONNX; needs mncost[bench]).")] = "torch",
    bench_dtype: Annotated[str, typer.Option("--dtype", help="onnxruntime only: fp32, or int8 (static QDQ quantization, calibrated on generated inputs).")] = "fp32",
    max_noise: Annotated[Optional[float], typer.Option("--max-noise", help="Refuse (exit 2) when a network's IQR/median exceeds this (e.g. 0.1); default: warn above 10%.")] = None,
    warmup: Annotated[int, typer.Option("--warmup", help="Untimed warm-up runs.")] = 10,
    layer_runs: Annotated[int, typer.Option("--layer-runs", help="Runs with per-layer timing hooks (0: none).")] = 20,
    hw: Annotated[Optional[str], typer.Option("--hw", "-H", help="Profile for the predictions (default: calibrate this machine first).")] = None,
    quick: QuickOpt = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Measure batch-1 CPU latency of the torch model built from the spec, against the roofline's prediction."""
    from .fidelity import require

    if all_models == (model is not None):
        raise OptionError("give a MODEL or --all, not both and not neither")
    if min(runs, warmup + 1, layer_runs + 1, threads, max_runs) < 1:
        raise OptionError("--runs, --max-runs and --threads must be positive; --warmup and --layer-runs at least 0")
    if runtime not in ("torch", "onnxruntime"):
        raise OptionError(f"--runtime must be torch or onnxruntime, got {runtime!r}")
    if bench_dtype not in ("fp32", "int8") or (runtime == "torch" and bench_dtype != "fp32"):
        raise OptionError("--dtype is fp32 or int8, and int8 needs --runtime onnxruntime")
    from .bench_view import noise_check
    require("torch")
    if output is not None:
        from .output import check_writable

        check_writable(output)
    if all_models:
        require("numpy", "scipy")
        from .fidelity.bench import bench_all
        from .fidelity.device import fit_measurements
        from .fidelity.measurements import format_measurements
        from .fidelity.report import render_fit

        rows = bench_all(threads=threads, quick=quick, runtime=runtime, dtype=bench_dtype, max_runs=max_runs)
        noise_check(rows, max_noise)
        if output is not None:
            from .output import write_atomic

            write_atomic(output, format_measurements(rows, comments=(f"Measured by mncost bench --all --runtime {runtime} --dtype {bench_dtype}: batch 1, BN folded, {threads} thread(s), median of the timed runs; noise = latency_iqr_ms / latency_ms.",)))
            print(f"wrote {output}", file=sys.stderr)
        sys.stdout.write(render_fit(fit_measurements(rows, name="local-cpu-fitted", dtype=bench_dtype)))
        return
    from .fidelity.bench import bench
    from .hardware import load_hardware

    if hw is not None:
        profile = load_hardware(hw)
    else:
        from .fidelity.calibrate import calibrate, calibration_profile
        from .fidelity.profile import check_profile

        profile = check_profile(calibration_profile(calibrate(threads=threads, quick=quick)))
    if runtime == "onnxruntime":
        from .fidelity.onnx_bench import bench_onnx

        result = bench_onnx(model, alpha=alpha, resolution=resolution, width_rule=width_rule, dtype=bench_dtype, threads=threads,  # type: ignore[arg-type]
                            warmup=warmup, runs=runs, max_runs=max_runs, hw=profile, quick=quick)
    else:
        result = bench(model, alpha=alpha, resolution=resolution, width_rule=width_rule, threads=threads, warmup=warmup, runs=runs,  # type: ignore[arg-type]
                       max_runs=max_runs, layer_runs=layer_runs, hw=profile, quick=quick)
    noise_check([result.measurement()], max_noise)
    from .bench_view import bench_text, rich_bench

    if format is Format.table and output is None:
        _console().print(rich_bench(result, profile))
    else:
        _emit(bench_text(result, profile, format), output)


fidelity_app = typer.Typer(help="Regenerate the fidelity reports (reports/fidelity).", no_args_is_help=True)
app.add_typer(fidelity_app, name="fidelity")


@fidelity_app.command("paper")
def fidelity_paper(
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write (atomically).", parser=output_path, metavar="PATH")] = Path("reports/fidelity/paper.md"),
    select: Annotated[bool, typer.Option("--select/--no-select", help="Include the nested leave-one-out choice of refinement terms.")] = True,
) -> None:
    """Score MACs, the plain roofline and the selected model on the papers' measurements, leave-one-out."""
    from .fidelity import require

    require("numpy", "scipy")
    from .fidelity.report import paper_report
    from .output import check_writable, write_atomic

    check_writable(output)
    write_atomic(output, paper_report(select=select))
    print(f"wrote {output}", file=sys.stderr)


@fidelity_app.command("profiles")
def fidelity_profiles(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder for the fitted profiles (the built-ins live in hardware/).")] = Path("hardware"),
) -> None:
    """Fit every measured device of the papers and write its built-in profile (pixel6-cpu.yaml, ...)."""
    from .fidelity import require

    require("numpy", "scipy")
    from .fidelity.catalog import fit_devices, write_builtin_profiles

    if not output_dir.is_dir():
        raise OptionError("is not a directory", file=str(output_dir))
    for path in write_builtin_profiles(output_dir, fit_devices()):
        print(f"wrote {path}", file=sys.stderr)


@fidelity_app.command("local")
def fidelity_local(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder for local.md, the measurements and the profiles.")] = Path("reports/fidelity"),
    threads: Annotated[int, typer.Option("--threads", help="torch threads for every measurement.", min=1)] = 1,
    quick: QuickOpt = False,
    report_only: Annotated[bool, typer.Option("--report-only", help="Only rewrite local.md from the measurements already in the folder.")] = False,
) -> None:
    """Calibrate this machine, benchmark the built-ins, fit and score: writes local.md and its data."""
    from .fidelity import require

    if not output_dir.is_dir():
        raise OptionError("is not a directory", file=str(output_dir))
    if report_only:
        require("numpy", "scipy")
        from .fidelity.report import local_report
        from .output import write_atomic

        text = local_report(output_dir / "local_measurements.csv", output_dir / "local-cpu-calibrated.yaml", output_dir / "local_layers.csv")
        write_atomic(output_dir / "local.md", text)
    else:
        require("numpy", "scipy", "torch")
        from .fidelity.report import run_local

        run_local(output_dir, threads=threads, quick=quick)
    print(f"wrote {output_dir}/local.md", file=sys.stderr)


from .graph.command import import_command  # noqa: E402  (`import` is a keyword: the function has another name)

app.command("import")(import_command)


def _console() -> Any:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped: do not squeeze tables into 80 columns
    return console


def _list_output(rows: list[dict[str, Any]], format: Format, output: Path | None, *, title: str, brief: tuple[str, ...]) -> None:
    """Terminal tables show the ``brief`` columns; files and other formats get every column."""
    from .render import list_rich_table, render_rows

    if format is Format.table and output is None:
        _console().print(list_rich_table([{k: row[k] for k in brief} for row in rows], title))
        return
    _emit(render_rows(rows, format, title), output)


def _click_exceptions() -> Any:
    """Click's exception classes: vendored inside recent typer, a dependency of older ones."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


from .launch import one_line_warning as _one_line_warning  # noqa: E402  (one definition for both entry points)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn every error into one stderr line."""
    from .output import interrupt_on_signals

    with interrupt_on_signals():  # SIGINT/SIGTERM/SIGHUP unwind (temporaries removed), then one line
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    import warnings

    from .output import Interrupted, os_error_message

    click = _click_exceptions()
    warnings.showwarning = _one_line_warning
    try:
        code = app(args=argv, prog_name="mncost", standalone_mode=False)
    except getattr(click, "NoArgsIsHelpError", ()) as exc:  # bare `mncost` or a bare group: usage, not an error
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        return 0
    except MncostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except click.UsageError as exc:
        print(f"error: {exc.format_message()}" + (f" (see 'mncost {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else ""), file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # a bug: say so briefly, traceback only on request
        message = os_error_message(exc) if isinstance(exc, OSError) else None
        if message is not None:  # a full disk, a read-only folder, no permission: the user's to fix
            print(f"error: {message}", file=sys.stderr)
            return 2
        if _state["debug"]:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} — this is a bug in mncost; please report it (rerun with --debug for the traceback)", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


from . import pick_cli as _pick_cli  # noqa: E402,F401  (registers `mncost pick` on the app)

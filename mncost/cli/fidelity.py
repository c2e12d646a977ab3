"""``mncost fit``, ``calibrate``, ``bench`` and ``fidelity …``: measured latencies against the model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import OptionError
from ..output import output_path
from ..views.formats import FitFormat, Format
from .app import AlphaOpt, FormatOpt, OutputOpt, QuickOpt, ResolutionOpt, ThreadsOpt, WidthRuleOpt, app, check_output, emit, show

@app.command("fit")
def fit_command(
    measurements: Annotated[Path, typer.Argument(help="CSV of measured latencies: model, alpha, resolution, latency_ms (and optional width_rule, batch, device, dtype, status).")],
    name: Annotated[str, typer.Option("--name", help="Name of the fitted hardware profile.")],
    device: Annotated[Optional[str], typer.Option("--device", help="Fit the rows of this device (needed when the CSV has several).")] = None,
    dtype: Annotated[Optional[str], typer.Option("--dtype", help="Weight and activation dtype (default: the CSV's dtype column, else int8).")] = None,
    ridge: Annotated[Optional[float], typer.Option("--ridge", "--ridge-point", help="Also score the plain roofline at this fixed ridge point (MACs/byte), e.g. a paper's.")] = None,
    select: Annotated[bool, typer.Option("--select/--no-select", help="Choose the refinement terms by nested leave-one-out (the profile's `refinements:`).")] = True,
    format: Annotated[FitFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)] = FitFormat.table,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the fitted profile YAML here (atomically); it records the fit and its data.", parser=output_path, metavar="PATH")] = None,
) -> None:
    """Fit a hardware profile to measured latencies: ridge point, r_s of the roofline and of MACs, errors, all also leave-one-out."""
    from ..fidelity import require

    require("numpy", "scipy")
    from ..fidelity.device import fit_measurements
    from ..fidelity.measurements import read_measurements
    from ..fidelity.report import render_fit

    check_output(output)
    fit = fit_measurements(read_measurements(measurements), name=name, device=device, dtype=dtype, ridge_macs_per_byte=ridge, select=select)
    if output is not None:
        fit.write_profile(output)
        print(f"wrote {output}", file=sys.stderr)
    if format is FitFormat.json:
        from ..jsonio import dumps

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
    from ..fidelity import require

    require("torch")
    from ..fidelity.calibrate import calibrate, calibration_profile
    from ..fidelity.profile import write_profile

    check_output(output)
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
    zoo: Annotated[bool, typer.Option("--zoo", help="With --all: add MobileOne, FastViT, EfficientViT and ConvNeXt (the MobileNetV4 paper's other families).")] = False,
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    width_rule: WidthRuleOpt = None,
    threads: Annotated[int, typer.Option("--threads", help="Intra-op threads; default 1 (single thread, pinned to one core: reproducible).", min=1)] = 1,
    runs: Annotated[int, typer.Option("--runs", help="Timed runs per round; rounds repeat until IQR/median ≤ 2% or --max-runs.")] = 50,
    max_runs: Annotated[int, typer.Option("--max-runs", help="Most timed runs per network.")] = 400,
    runtime: Annotated[str, typer.Option("--runtime", help="torch (eager), onnxruntime (export to ONNX; needs mncost[bench]) or litert (convert to LiteRT, XNNPACK; needs mncost[litert]).")] = "torch",
    bench_dtype: Annotated[str, typer.Option("--dtype", help="onnxruntime and litert: fp32, or int8 (static post-training quantization, calibrated on generated inputs).")] = "fp32",
    max_noise: Annotated[Optional[float], typer.Option("--max-noise", help="Refuse (exit 2) when a network's IQR/median exceeds this (e.g. 0.1); default: warn above 10%.")] = None,
    warmup: Annotated[int, typer.Option("--warmup", help="Untimed warm-up runs.")] = 10,
    layer_runs: Annotated[int, typer.Option("--layer-runs", help="Runs with per-layer timing hooks (0: none).")] = 20,
    hw: Annotated[Optional[str], typer.Option("--hw", "-H", help="Profile for the predictions (default: calibrate this machine first).")] = None,
    quick: QuickOpt = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Measure batch-1 CPU latency of the torch model built from the spec, against the roofline's prediction."""
    from ..fidelity import require
    from ..fidelity.bench import check_options
    from ..fidelity.timing import noise_check

    if all_models == (model is not None):
        raise OptionError("give a MODEL or --all, not both and not neither")
    if zoo and not all_models:
        raise OptionError("--zoo adds networks to --all; give it with --all")
    check_options(runtime=runtime, dtype=bench_dtype, runs=runs, warmup=warmup, layer_runs=layer_runs, threads=threads, max_runs=max_runs)
    require("torch")
    check_output(output)
    if all_models:
        require("numpy", "scipy")
        from ..fidelity.bench import bench_all, bench_grid
        from ..fidelity.device import fit_measurements
        from ..fidelity.measurements import format_measurements
        from ..fidelity.report import render_fit

        rows = bench_all(bench_grid(zoo=zoo, quick=quick), threads=threads, quick=quick, runtime=runtime, dtype=bench_dtype, runs=runs, max_runs=max_runs, warmup=warmup)
        noise_check(rows, max_noise)
        if output is not None:
            emit(format_measurements(rows, comments=(f"Measured by mncost bench --all{' --zoo' if zoo else ''} --runtime {runtime} --dtype {bench_dtype}: batch 1, BN folded, {threads} thread(s), median of the timed runs; noise = latency_iqr_ms / latency_ms.",)), output)
        sys.stdout.write(render_fit(fit_measurements(rows, name="local-cpu-fitted", dtype=bench_dtype)))
        return
    from ..fidelity.bench import measure
    from ..hardware import load_hardware
    from ..views import bench as view

    if hw is not None:
        profile = load_hardware(hw)
    else:
        from ..fidelity.calibrate import calibrate, calibration_profile
        from ..fidelity.profile import check_profile

        profile = check_profile(calibration_profile(calibrate(threads=threads, quick=quick)))
    result = measure(model, runtime=runtime, dtype=bench_dtype, alpha=alpha, resolution=resolution, width_rule=width_rule,  # type: ignore[arg-type]
                     threads=threads, warmup=warmup, runs=runs, max_runs=max_runs, layer_runs=layer_runs, hw=profile, quick=quick)
    noise_check([result.measurement()], max_noise)
    show(format, output, lambda: view.rich_bench(result, profile), lambda fmt: view.render(result, profile, fmt))


fidelity_app = typer.Typer(help="Regenerate the fidelity reports (reports/fidelity).", no_args_is_help=True)
app.add_typer(fidelity_app, name="fidelity")


@fidelity_app.command("paper")
def fidelity_paper(
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write (atomically).", parser=output_path, metavar="PATH")] = Path("reports/fidelity/paper.md"),
    select: Annotated[bool, typer.Option("--select/--no-select", help="Include the nested leave-one-out choice of refinement terms.")] = True,
) -> None:
    """Score MACs, the plain roofline and the selected model on the papers' measurements, leave-one-out."""
    from ..fidelity import require

    require("numpy", "scipy")
    from ..fidelity.report import paper_report
    check_output(output)
    emit(paper_report(select=select), output)


@fidelity_app.command("profiles")
def fidelity_profiles(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="Folder for the fitted profiles (the built-ins live in hardware/).")] = Path("hardware"),
) -> None:
    """Fit every measured device of the papers and write its built-in profile (pixel6-cpu.yaml, ...)."""
    from ..fidelity import require

    require("numpy", "scipy")
    from ..fidelity.catalog import fit_devices, write_builtin_profiles

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
    from ..fidelity import require

    if not output_dir.is_dir():
        raise OptionError("is not a directory", file=str(output_dir))
    if report_only:
        require("numpy", "scipy")
        from ..fidelity.report import local_report
        from ..output import write_atomic

        text = local_report(output_dir / "local_measurements.csv", output_dir / "local-cpu-calibrated.yaml", output_dir / "local_layers.csv")
        write_atomic(output_dir / "local.md", text)
    else:
        require("numpy", "scipy", "torch")
        from ..fidelity.local import run_local

        run_local(output_dir, threads=threads, quick=quick)
    print(f"wrote {output_dir}/local.md", file=sys.stderr)

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
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.", dir_okay=True)]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False) -> None:
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
    model: Annotated[str, typer.Argument(help="A built-in model (see `mncost models`) or an architecture spec .yaml path.")],
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
    from .analysis import analyze as run_analysis

    if output is not None:
        from .output import check_writable

        check_writable(output)
    result = run_analysis(
        model,
        hw,
        alpha=alpha,
        resolution=resolution,
        rho=rho,
        batch=batch,
        width_rule=width_rule,
        include_bn_params=include_bn_params,
        fused_attention=fused_attention,
    )
    if format is Format.table and output is None:
        from .render import rich_table

        _console().print(rich_table(result))
        return
    from .render import render

    _emit(render(result, format), output)


@app.command()
def models(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in architectures with their default resolution, width rules and source."""
    from . import builtin
    from .spec import load_spec

    rows: list[dict[str, Any]] = []
    for name in builtin.spec_files():
        spec = load_spec(name)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "resolution": spec.resolution,
                "width_rules": ",".join(spec.width_rules),
                "default_width_rule": spec.default_width_rule,
                "published_macs": spec.published.macs,
                "published_params": spec.published.params,
                "published_top1": spec.published.top1,
                "source": spec.source,
            }
        )
    _list_output(rows, format, output, title="Built-in architectures", brief=("name", "title", "resolution", "width_rules", "published_macs", "published_params", "published_top1"))


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
        }
        for hw in builtin_hardware()
    ]
    _list_output(rows, format, output, title="Built-in hardware profiles", brief=("name", "title", "peak_macs_per_s", "mem_bw_bytes_per_s", "ridge_macs_per_byte", "weight_dtype", "activation_dtype"))


@app.command()
def crosscheck(
    model: Annotated[Optional[str], typer.Argument(help="A built-in model or a spec .yaml path (omit with --all).")] = None,
    alpha: AlphaOpt = 1.0,
    resolution: ResolutionOpt = None,
    rho: RhoOpt = None,
    width_rule: WidthRuleOpt = None,
    all_models: Annotated[bool, typer.Option("--all", help="Every built-in over its pinned α × resolution grid.")] = False,
    layers: Annotated[bool, typer.Option("--layers", help="Show every layer, not only the mismatched ones.")] = False,
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
        summary = report.run_all(_console())
        ok = summary.ok
        text = report.all_to_text(summary, format)
    else:
        from .crosscheck import crosscheck as run_check

        result = run_check(model, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule)  # type: ignore[arg-type]
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
        print("(sources: --format md or json)", file=sys.stderr)
        return
    _emit(render_rows(rows, format, title), output)


def _click_exceptions() -> Any:
    """Click's exception classes: vendored inside recent typer, a dependency of older ones."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn every error into one stderr line."""
    click = _click_exceptions()
    try:
        code = app(args=argv, prog_name="mncost", standalone_mode=False)
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
    except Exception as exc:  # a bug: say so briefly, traceback only on request
        if _state["debug"]:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} — this is a bug in mncost; please report it (rerun with --debug for the traceback)", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())

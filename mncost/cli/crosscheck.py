"""``mncost crosscheck``: one model (optionally against the real network), or every built-in."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import OptionError
from ..views.formats import Format
from .app import AlphaOpt, FormatOpt, OutputOpt, ResolutionOpt, RhoOpt, WidthRuleOpt, app, check_output, show


@app.command()
def crosscheck(
    model: Annotated[Optional[str], typer.Argument(help="A built-in model, a spec .yaml path or an .onnx model (omit with --all).")] = None,
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
    from ..crosscheck import require_extras
    from ..views import crosscheck as view

    if all_models == (model is not None):
        raise OptionError("give a MODEL or --all, not both and not neither")
    require_extras()
    check_output(output)
    if all_models:
        suite = _check_all_with_progress(jobs)
        show(format, output, lambda: view.rich_all(suite), lambda fmt: view.render_all(suite, fmt))
        ok = suite.ok
    else:
        from ..crosscheck import crosscheck as run_check

        result = run_check(model, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule,  # type: ignore[arg-type]
                           reference=reference, max_memory_gb=max_memory_gb, max_gmacs=max_gmacs)
        show(format, output, lambda: view.rich_report(result, all_layers=layers), lambda fmt: view.render(result, fmt, all_layers=layers))
        ok = result.ok
    if not ok:
        raise typer.Exit(1)


def _check_all_with_progress(jobs: int | None):  # type: ignore[no-untyped-def]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..crosscheck.suite import check_all
    from ..text import markup

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("cross-checking", total=None)

        def advance(result, total):  # type: ignore[no-untyped-def]
            progress.update(task, total=total, advance=1, description=markup(f"{result.model} α={result.alpha:g} r={result.resolution} ({result.width_rule})"))

        return check_all(jobs=jobs, on_result=advance)

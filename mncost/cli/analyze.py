"""``mncost analyze``, ``models`` and ``hardware``: one network, and the built-in listings."""

from __future__ import annotations

from typing import Annotated

import typer

from ..views.formats import Format
from .app import AlphaOpt, BatchOpt, BnOpt, FormatOpt, FusedAttnOpt, HwOpt, OutputOpt, ProfileDtypesOpt, ResolutionOpt, RhoOpt, WidthRuleOpt, app, show


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
    profile_dtypes: ProfileDtypesOpt = False,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
) -> None:
    """Count MACs, params and bytes per layer and predict latency with the roofline model."""
    from ..launch import run_analyze  # the same code path as the fast entry point

    run_analyze(model, hw, alpha, resolution, rho, batch, width_rule, include_bn_params, fused_attention, format.value, output,
                profile_dtypes=profile_dtypes)


@app.command()
def models(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in architectures with their default resolution, width rules and source."""
    from ..views import listing

    rows = listing.model_rows()
    title = "Built-in architectures"
    show(format, output, lambda: listing.rich_listing(rows, title, listing.MODEL_BRIEF), lambda fmt: listing.render(rows, fmt, title, listing.MODEL_BRIEF))


@app.command()
def hardware(format: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """List the built-in hardware profiles: peak MAC/s, bandwidth, ridge point, dtypes, sources."""
    from ..views import listing

    rows = listing.hardware_rows()
    title = "Built-in hardware profiles"
    show(format, output, lambda: listing.rich_listing(rows, title, listing.HARDWARE_BRIEF), lambda fmt: listing.render(rows, fmt, title, listing.HARDWARE_BRIEF))

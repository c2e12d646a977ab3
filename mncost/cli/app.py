"""The typer application, its root options, and what several commands share: option
declarations, writing text to stdout or a file, and showing a view."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..output import output_path
from ..views.formats import Format

app = typer.Typer(
    name="mncost",
    help="Cost and roofline analysis of MobileNet-family networks: exact MACs, params and bytes per layer, and predicted latency per hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

state = {"debug": False}

# -- options several commands share, declared once --------------------------------------------

HwOpt = Annotated[str, typer.Option("--hw", "-H", help="Hardware profile: a built-in name (see `mncost hardware`) or a profile .yaml path.")]
AlphaOpt = Annotated[float, typer.Option("--alpha", "-a", help="Width multiplier α (> 0); channel counts follow the spec's width rule.")]
ResolutionOpt = Annotated[Optional[int], typer.Option("--resolution", "-r", help="Input resolution N (N×N); default: the spec's.")]
RhoOpt = Annotated[Optional[float], typer.Option("--rho", help="Resolution multiplier ρ: N = round(ρ × the spec's default). Not with --resolution.")]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="Batch size: scales MACs and activation traffic, not weights.")]
WidthRuleOpt = Annotated[Optional[str], typer.Option("--width-rule", help="Channel rounding rule for α (e.g. torchvision, paper); default: the spec's own (see `mncost models`).")]
BnOpt = Annotated[bool, typer.Option("--include-bn-params", help="Count BatchNorm parameters in params and weight bytes (default: folded, reported apart).")]
ProfileDtypesOpt = Annotated[bool, typer.Option("--profile-dtypes", help="A quantized ONNX graph: price every byte at the profile's dtypes, not the graph's int8 tensors.")]
FusedAttnOpt = Annotated[bool, typer.Option("--fused-attention", help="Attention runs as one fused kernel: the attention matrix never goes to memory.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)]
OutputOpt = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout.", parser=output_path, metavar="PATH")]
ModelsOpt = Annotated[Optional[str], typer.Option("--models", "-m", help="Comma list of built-in names, spec paths or .onnx models, or 'all'. Default: the built-in ImageNet models (those with a published top-1).")]
HwListOpt = Annotated[str, typer.Option("--hw", "-H", help="Comma list of hardware profiles (names or .yaml paths), 'generic' (cpu, dsp, edgetpu, gpu) or 'all' (with every fitted device profile).")]
ResolutionsOpt = Annotated[Optional[str], typer.Option("--resolution", "-r", help="Input resolutions: a comma list and/or start:stop:step ranges (128:224:32). Default: each model's own.")]
RhosOpt = Annotated[Optional[str], typer.Option("--rho", help="Resolution multipliers ρ (N = round(ρ × default)): a list or range. Not with --resolution.")]
RankByOpt = Annotated[str, typer.Option("--rank-by", help="Column to rank by within each hardware (predicted_s: the selected model on a fitted profile, else the plain roofline; latency_s: always the plain roofline; macs, params, weight_bytes, activation_bytes, memory_bound_share, top1).")]
RidgeOpt = Annotated[str, typer.Option("--rp", help="Ridge points in MACs/byte: a comma list and/or start:stop:step ranges (stop included).")]
PeakOpt = Annotated[float, typer.Option("--peak-macs-per-s", help="Fixed peak MAC/s of the ridge sweep (rankings do not depend on it).")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="Bytes per weight and activation in the ridge sweep: int8, fp16, bf16 or fp32.")]
ThreadsOpt = Annotated[Optional[int], typer.Option("--threads", help="torch intra-op threads (default: torch's own choice).", min=1)]
QuickOpt = Annotated[bool, typer.Option("--quick", help="Tiny sizes and few runs: a smoke test, not a measurement.")]


def check_output(output: Path | None) -> None:
    """Refuse an unwritable ``--output`` before any work is done."""
    if output is not None:
        from ..output import check_writable

        check_writable(output)


def emit(text: str, output: Path | None) -> None:
    """``text`` to stdout, or atomically to ``output``."""
    emit_chunks((text,), output)


def emit_chunks(chunks: Iterable[str], output: Path | None) -> None:
    """Text made in pieces to stdout, or atomically to ``output``, one piece at a time."""
    if output is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    from ..output import write_atomic_chunks

    write_atomic_chunks(output, chunks)
    print(f"wrote {output}", file=sys.stderr)


def show(fmt: Format, output: Path | None, rich: Callable[[], Any], text: Callable[[Format], str]) -> None:
    """The one way a command shows its view: a table on the terminal is printed by rich
    (the terminal's width, colours); anything else is ``text(fmt)``, whose table form is the
    same renderable as plain text."""
    if fmt is Format.table and output is None:
        from ..views.formats import console

        console().print(rich())
        return
    emit(text(fmt), output)

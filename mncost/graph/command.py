"""The ``mncost import`` command (registered in mncost.cli): ONNX graph → spec YAML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer


def import_command(
    model: Annotated[str, typer.Argument(help="An ONNX model file (.onnx).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Spec .yaml to write (atomically); default: stdout.")] = None,
    resolution: Annotated[Optional[int], typer.Option("--resolution", "-r", help="Input resolution N (needed when the graph's size is dynamic).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The spec's name (default: the file's stem).")] = None,
) -> None:
    """Write an ONNX graph as an architecture spec that counts exactly as the graph (checked before writing)."""
    from ..output import check_writable, write_atomic
    from .importer import import_graph

    if output is not None:
        check_writable(output)
    text = import_graph(model, resolution=resolution, name=name)
    if output is None:
        sys.stdout.write(text)
        return
    write_atomic(output, text)
    print(f"wrote {output}", file=sys.stderr)

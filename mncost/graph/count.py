"""An ONNX file as a :class:`~mncost.walker.Walk`: what ``analyze``, ``sweep`` and ``report`` consume."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

from ..errors import OptionError
from ..spec import ArchSpec
from ..walker import Walk
from .loader import load_graph
from .mapping import Mapped, map_graph

WIDTH_RULE = "onnx"  # a graph has fixed widths: no width rule applies


def check_options(path: str | Path, *, alpha: float = 1.0, width_rule: str | None = None) -> None:
    if alpha != 1.0:
        raise OptionError(f"--alpha does not apply to an ONNX graph (its widths are fixed; there is no width rule in a graph): "
                          f"run 'mncost import {path} -o net.yaml' and add a width rule to the spec", file=str(path))
    if width_rule not in (None, WIDTH_RULE):
        raise OptionError("--width-rule does not apply to an ONNX graph (its widths are fixed)", file=str(path))


def graph_walk(path: str | Path, *, alpha: float = 1.0, resolution: int | None = None, rho: float | None = None,
               width_rule: str | None = None, warn: bool = True, graph_dtypes: bool = True) -> tuple[Walk, Mapped]:
    """Count ``path`` at batch 1 and ``resolution`` (or ρ × its fixed size).

    ``graph_dtypes``: the sizes of the tensors a quantized graph stores (else the profile's dtypes)."""
    check_options(path, alpha=alpha, width_rule=width_rule)
    if resolution is not None and rho is not None:
        raise OptionError("give --resolution or --rho, not both")
    if resolution is not None and (isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1):
        raise OptionError(f"--resolution must be a positive integer, got {resolution!r}")
    if rho is not None:
        if not (math.isfinite(rho) and rho > 0):
            raise OptionError(f"--rho must be a positive finite number, got {rho}")
        base = load_graph(path, None)
        resolution = round(rho * base.resolution)
        if resolution < 1:
            raise OptionError(f"--rho {rho} gives resolution {resolution}; expected at least 1", file=str(path))
    graph = load_graph(path, resolution)
    mapped = map_graph(graph, graph_dtypes=graph_dtypes)
    if warn and mapped.unhandled:
        listed = ", ".join(f"{op} ×{n}" for op, n in sorted(mapped.unhandled.items()))
        warnings.warn(f"{path}: ops mncost does not count (their cost is missing from the totals): {listed}", stacklevel=2)
    spec = ArchSpec(name=Path(path).stem, title=f"ONNX graph {graph.name}" if graph.name != Path(path).stem else "ONNX graph",
                    source=str(path), resolution=graph.resolution, in_channels=graph.input_shape[0], file=str(path))
    w = Walk(spec=spec, alpha=1.0, resolution=graph.resolution, width_rule=WIDTH_RULE, layers=tuple(mapped.layers), out_shape=mapped.out_shape)
    return w, mapped

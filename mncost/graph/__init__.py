"""Bring your own model: count an ONNX graph under mncost's conventions.

``loader`` reads and checks the file (``quant`` reads a quantized graph through as
its float graph, noting the dtypes it stores) and runs ONNX shape inference with the
input fixed to batch 1 and the asked resolution (``shapefold`` evaluates the shape
arithmetic inference leaves unsized, then inference reruns); ``mapping`` turns the graph's nodes into
mncost layers (every LayerCost made by :mod:`mncost.ops`); ``importer`` writes the
graph back out as a spec. ``onnx`` is an optional extra (``mncost[onnx]``) and is
only imported when an ``.onnx`` file is actually read.
"""

from __future__ import annotations

from pathlib import Path


def is_onnx_path(model: object) -> bool:
    """A model argument that names an ONNX file (by its suffix)."""
    return isinstance(model, (str, Path)) and str(model).lower().endswith(".onnx")

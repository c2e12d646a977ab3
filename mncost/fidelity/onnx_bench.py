"""Measure a spec's network with a deployment runtime: ONNX Runtime on the CPU, fp32 or int8.

The spec's torch model (:func:`mncost.fidelity.bench.build_net`: eval mode, BN folded) is
exported with ``torch.onnx.export(..., dynamo=False)`` (TorchScript exporter, opset 17),
then run by ``onnxruntime`` with one intra-op and one inter-op thread by default, batch 1,
all graph optimisations on. ``dtype="int8"`` first quantizes it statically to QDQ form
(``onnxruntime.quantization.quantize_static``: int8 weights per channel, uint8 activations,
MinMax calibration on ``calibration_inputs`` generated inputs, standard normal, seeded).
Why uint8 activations (U8S8): with int8 ones (S8S8) onnxruntime 1.32 on x86 fuses only part of
the convolutions into ``QLinearConv`` and runs the rest as float ``Conv``s between
``DequantizeLinear`` and ``QuantizeLinear`` (MobileNetV3-Large: 30 of 62 fused, 17.3 ms profiled;
U8S8: 62 of 62, 6.1 ms; ``benchmarks/profile_onnxruntime.py --activations int8|uint8``), which is not
the int8 deployment the measurement stands for.
Timing as for the torch benchmark (:mod:`.timing`). No per-layer times.

Needs ``pip install 'mncost[bench]'`` (onnx, onnxruntime) and torch; imported lazily.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..extras import INSTALL, require
from ..hardware import HardwareProfile
from ..spec import load_spec
from ..walker import walk
from .bench import BenchResult, build_net, runtime_result
from .model import ModelParams
from .timing import pinned, time_until_steady


def _ort() -> Any:
    _, onnxruntime = require("onnx", "onnxruntime", what="--runtime onnxruntime", install=INSTALL["onnxruntime"])
    onnxruntime.set_default_logger_severity(3)  # the exporter's unused-initializer warnings are noise
    return onnxruntime


def export_onnx(net: Any, x: Any, path: Path) -> None:
    import torch

    with torch.no_grad():
        torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"], opset_version=17)


def quantize_int8(src: Path, dst: Path, input_shape: tuple[int, ...], calibration_inputs: int, *,
                  activations: str = "uint8") -> None:
    """Static QDQ quantization, int8 weights per channel; ``activations`` "uint8" (U8S8, what ``bench`` runs) or
    "int8" (S8S8, kept to show what it leaves float: ``benchmarks/profile_onnxruntime.py --activations int8``)."""
    import numpy as np

    import logging

    _ort()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Inputs(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"x": np.random.default_rng(i).standard_normal(input_shape).astype(np.float32)} for i in range(calibration_inputs)])

        def get_next(self) -> dict[str, Any] | None:
            return next(self._it, None)

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_static logs advice at WARNING on the root logger
    try:
        prepared = dst.with_suffix(".prep.onnx")
        quant_pre_process(str(src), str(prepared))  # shape inference and constant folding: biases become initializers
        quantize_static(str(prepared), str(dst), Inputs(), quant_format=QuantFormat.QDQ, activation_type={"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}[activations],
                        weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def conv_kernels(optimised: Path) -> tuple[int, int]:
    """(float ``Conv``, fused ``QLinearConv``) nodes of the graph onnxruntime optimised and runs."""
    import onnx

    ops = [node.op_type for node in onnx.load(str(optimised)).graph.node]
    return ops.count("Conv"), ops.count("QLinearConv")


def warn_float_convs(optimised: Path, what: str) -> None:
    """Say so when an int8 run is partly a float one: the int8 roofline does not describe that graph."""
    import warnings

    from ..errors import MncostWarning

    float_convs, fused = conv_kernels(optimised)
    if float_convs:
        warnings.warn(MncostWarning(
            f"{what}: onnxruntime runs {float_convs} of {float_convs + fused} convolutions of the int8 graph in float "
            "(not fused into QLinearConv); the measurement is not of an int8 network"), stacklevel=3)


def bench_onnx(
    model: str,
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    width_rule: str | None = None,
    dtype: str = "fp32",
    threads: int = 1,
    warmup: int = 10,
    runs: int = 50,
    max_runs: int = 400,
    calibration_inputs: int = 16,
    hw: HardwareProfile | ModelParams | None = None,
    quick: bool = False,
) -> BenchResult:
    """Export, (quantize), and time one configuration with onnxruntime."""
    if dtype not in ("fp32", "int8"):
        raise ValueError(f"dtype must be fp32 or int8, got {dtype!r}")
    ort = _ort()
    if quick:
        warmup, runs, max_runs, calibration_inputs = 1, 3, 3, 2
    spec = load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, width_rule=width_rule)
    net, x = build_net(spec, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(net, x, path)
        if dtype == "int8":
            quantized = Path(tmp) / "model.int8.onnx"
            quantize_int8(path, quantized, tuple(x.shape), calibration_inputs)
            path = quantized
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if dtype == "int8":
            options.optimized_model_filepath = str(Path(tmp) / "optimised.onnx")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        if dtype == "int8":
            warn_float_convs(Path(options.optimized_model_filepath), f"{model} α={w.alpha:g} r{w.resolution}")
    feed = {"x": x.numpy()}
    with pinned(threads):
        timing = time_until_steady(lambda: session.run(None, feed), warmup=warmup, runs=runs, max_runs=max_runs)
    return runtime_result(model, w, timing, runtime="onnxruntime", dtype=dtype, threads=threads, hw=hw)

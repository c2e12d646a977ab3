"""Measure a spec's network with LiteRT (TensorFlow Lite) and its XNNPACK CPU kernels, fp32 or int8:
the runtime the MobileNet papers measured with.

The spec's torch model (:func:`mncost.fidelity.bench.build_net`: eval mode, BN folded) is
converted by ``litert_torch.convert`` (torch.export, then the LiteRT converter; NCHW input, one
transpose to the NHWC layout LiteRT runs in). ``dtype="int8"`` then quantizes the fp32 model
post-training with the AI Edge Quantizer's full-integer recipe (``static_wi8_ai8``: int8 weights
per channel, int8 activations, int8 input and output; min/max calibration on
``calibration_inputs`` generated inputs, standard normal, seeded, as for onnxruntime). The
interpreter runs with ``threads`` threads and its default delegate, XNNPACK; batch 1. Timing as
for the other runtimes (:mod:`.timing`). No per-layer times.

Needs ``pip install torch==2.13.0 && pip install 'mncost[litert]'`` (litert-torch, ai-edge-litert,
ai-edge-quantizer); imported lazily, never on the analyze path.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import RuntimeFailure
from ..extras import INSTALL, require
from ..hardware import HardwareProfile
from ..spec import load_spec
from ..walker import walk
from .bench import BenchResult, build_net, runtime_result
from .model import ModelParams
from .timing import pinned, time_until_steady

PACKAGES = ("litert_torch", "ai_edge_litert", "ai_edge_quantizer")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence the converter and quantizer: their C++ logs, progress bars and deprecation warnings go to
    file descriptors 1 and 2 directly (a CSV on stdout must stay clean); an error still raises."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _litert() -> tuple[Any, Any, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet():
        litert_torch, ai_edge_litert, ai_edge_quantizer = require(*PACKAGES, what="--runtime litert", install=INSTALL["litert_torch"])
    litert_torch.config.show_progress = False
    from ai_edge_litert import interpreter

    return litert_torch, interpreter, ai_edge_quantizer


def convert_fp32(net: Any, x: Any, path: Path) -> None:
    """The torch model as a fp32 ``.tflite`` file."""
    litert_torch, _, _ = _litert()
    with quiet():
        litert_torch.convert(net, (x,)).export(str(path))


def quantize_int8(src: Path, dst: Path, calibration_inputs: int) -> None:
    """Full-integer post-training quantization of ``src`` (fp32 .tflite) to ``dst``."""
    import numpy as np

    _, interpreter, _ = _litert()
    from ai_edge_quantizer import quantizer, recipe

    with quiet():
        probe = interpreter.Interpreter(model_path=str(src))
    (signature, names), = probe.get_signature_list().items()
    (input_name,) = names["inputs"]
    shape = tuple(probe.get_signature_runner(signature).get_input_details()[input_name]["shape"])
    data = {signature: [{input_name: np.random.default_rng(i).standard_normal(shape).astype(np.float32)} for i in range(calibration_inputs)]}
    q = quantizer.Quantizer(str(src))
    q.load_quantization_recipe(recipe.static_wi8_ai8())
    with quiet():
        result = q.quantize(q.calibrate(data, num_threads=1), enable_progress_report=False)
    dst.write_bytes(result.quantized_model)


def quantized_input(x: Any, detail: dict[str, Any]) -> Any:
    """``x`` (float) as the interpreter's input tensor wants it: as is for a float input, else
    round(x / scale) + zero point, clipped to the integer type's range."""
    import numpy as np

    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return np.asarray(x, dtype=dtype)
    scale, zero_point = detail["quantization"]
    info = np.iinfo(dtype)
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point, info.min, info.max).astype(dtype)


def ready_interpreter(net: Any, x: Any, dtype: str, *, threads: int = 1, calibration_inputs: int = 16, what: str = "the model") -> Any:
    """``net`` converted (and for ``dtype`` int8 quantized) to a LiteRT interpreter with ``x`` set as
    its input and run once: a kernel that cannot run the graph raises :class:`RuntimeFailure` here,
    naming ``what``, before any timing. Shared by ``bench_litert`` and the LiteRT benchmark scripts."""
    _, interpreter, _ = _litert()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.tflite"
        convert_fp32(net, x, path)
        if dtype == "int8":
            quantized = Path(tmp) / "model.int8.tflite"
            quantize_int8(path, quantized, calibration_inputs)
            path = quantized
        with quiet():
            runner = interpreter.Interpreter(model_content=path.read_bytes(), num_threads=threads)
            runner.allocate_tensors()
    (detail,) = runner.get_input_details()
    runner.set_tensor(detail["index"], quantized_input(x.numpy(), detail))
    try:
        runner.invoke()
    except RuntimeError as exc:
        reason = " ".join(str(exc).split()).rstrip(".")
        raise RuntimeFailure(f"LiteRT cannot run the {dtype} graph of {what}: {reason}") from None
    return runner


def bench_litert(
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
    """Convert, (quantize), and time one configuration with the LiteRT interpreter (XNNPACK)."""
    if dtype not in ("fp32", "int8"):
        raise ValueError(f"dtype must be fp32 or int8, got {dtype!r}")
    _litert()  # a missing extra is one clear line before any model is built
    if quick:
        warmup, runs, max_runs, calibration_inputs = 1, 3, 3, 2
    spec = load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, width_rule=width_rule)
    net, x = build_net(spec, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule)
    runner = ready_interpreter(net, x, dtype, threads=threads, calibration_inputs=calibration_inputs,
                               what=f"{w.spec.name} α={w.alpha:g} r{w.resolution}")
    with pinned(threads):
        timing = time_until_steady(runner.invoke, warmup=warmup, runs=runs, max_runs=max_runs)
    return runtime_result(model, w, timing, runtime="litert", dtype=dtype, threads=threads, hw=hw)

"""Measure batch-1 CPU latency of spec-built torch models, in total and per layer.

The torch model is ``mncost.torchnet.SpecNet``: its module paths are
mncost layer names, so per-layer times line up with the walker's rows.
Before timing, BatchNorm that follows a convolution is folded into it (mncost's
convention: conv + BN + activation run as one layer), and the model runs in
``eval`` mode under ``torch.inference_mode``, fp32, NCHW, eager.

- total latency: ``warmup`` untimed runs, then timed runs of the whole forward pass (no
  hooks attached) in rounds of ``runs`` until the interquartile range is at most 2 % of
  the median or ``max_runs`` are timed (:mod:`.timing`); reported as the median, the
  interquartile range and the noise figure IQR / median. **One thread by default**
  (``threads=1``), the process pinned to one core while it measures;
- per layer: a separate set of ``layer_runs`` forward passes with a pre- and a
  post-forward hook on every module whose path is a layer name, timing each call
  with ``time.perf_counter``; the median per layer. The hooks add a little time
  of their own, so per-layer times are for comparing layers, the total for
  comparing networks.

torch is imported inside the functions only.
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import MncostWarning, RuntimeFailure
from ..hardware import HardwareProfile
from ..spec import ArchSpec, load_spec
from ..walker import walk
from .calibrate import import_torch, torch_threads
from .measurements import Measurement
from .timing import pinned, time_until_steady
from .model import ModelParams, build_network_set, layer_times_s


@dataclass(frozen=True)
class LayerBench:
    name: str
    op: str
    measured_s: float  # median over the per-layer runs; nan when no module has this name
    predicted_s: float  # the roofline (or given model) time of this layer


@dataclass(frozen=True)
class BenchResult:
    """Measured against predicted latency of one network configuration on this CPU."""

    model: str
    alpha: float
    resolution: int
    width_rule: str
    threads: int
    runs: int
    latency_s: float  # median of the timed runs
    latency_iqr_s: float  # interquartile range of the timed runs
    latency_min_s: float
    predicted_s: float  # Σ of the layers' predicted times
    layers: tuple[LayerBench, ...]
    unmatched: tuple[str, ...]  # layer names no torch module carries

    @property
    def layer_sum_s(self) -> float:
        """Σ of the measured per-layer medians (hooked runs)."""
        return sum(layer.measured_s for layer in self.layers if not math.isnan(layer.measured_s))

    @property
    def noise(self) -> float:
        """IQR / median of the timed runs."""
        return self.latency_iqr_s / self.latency_s if self.latency_s > 0 else float("inf")

    runtime: str = "torch"
    dtype: str = "fp32"
    refined_predicted_s: float | None = None  # the profile's refined model (None: it has no refinements)

    def measurement(self, *, device: str = "local-cpu") -> Measurement:
        """This result as a row of the measurements CSV that ``fit`` reads."""
        return Measurement(
            model=self.model, alpha=self.alpha, resolution=self.resolution, width_rule=self.width_rule,
            device=device, dtype=self.dtype, latency_ms=self.latency_s * 1e3, threads=self.threads,
            runs=self.runs, latency_iqr_ms=self.latency_iqr_s * 1e3,
            source=f"mncost bench ({self.runtime} {self.dtype}, {self.threads} thread(s), {self.runs} runs, noise {self.noise:.1%})",
        )


def fold_batchnorm(net: Any) -> Any:
    """Fold every BatchNorm2d that directly follows a Conv2d in an nn.Sequential (eval mode)."""
    import_torch()
    from torch import nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in net.modules():
        if isinstance(module, nn.Sequential):
            for i in range(len(module) - 1):
                conv, bn = module[i], module[i + 1]
                if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                    module[i] = fuse_conv_bn_eval(conv, bn)
                    module[i + 1] = nn.Identity()
    return net


def build_net(spec: ArchSpec, *, alpha: float, resolution: int, width_rule: str) -> tuple[Any, Any]:
    """The spec's torch model in eval mode, lazy layers materialized, BN folded; and its input."""
    torch = import_torch()
    from ..torchnet import SpecNet

    torch.manual_seed(0)
    net = SpecNet(spec, alpha=alpha, width_rule=width_rule).eval()
    x = torch.randn(1, spec.in_channels, resolution, resolution, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        net(x)  # materializes LazyLinear
        return fold_batchnorm(net), x


def _per_layer(net: Any, x: Any, names: Sequence[str], runs: int) -> tuple[dict[str, float], tuple[str, ...]]:
    modules = dict(net.named_modules())
    starts: dict[str, float] = {}
    times: dict[str, list[float]] = {name: [] for name in names if name in modules}
    handles = []
    for name in times:
        def pre(_m: Any, _inp: Any, name: str = name) -> None:
            starts[name] = time.perf_counter()

        def post(_m: Any, _inp: Any, _out: Any, name: str = name) -> None:
            times[name].append(time.perf_counter() - starts[name])

        handles.append(modules[name].register_forward_pre_hook(pre))
        handles.append(modules[name].register_forward_hook(post))
    try:
        for _ in range(runs):
            net(x)
    finally:
        for handle in handles:
            handle.remove()
    medians = {name: statistics.median(samples) for name, samples in times.items() if samples}
    return medians, tuple(name for name in names if name not in modules)


def bench(
    model: str | Path | ArchSpec,
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    width_rule: str | None = None,
    threads: int | None = 1,
    warmup: int = 10,
    runs: int = 50,
    max_runs: int = 400,
    layer_runs: int = 20,
    hw: HardwareProfile | ModelParams | None = None,
    quick: bool = False,
) -> BenchResult:
    """Measure one configuration; predictions from ``hw`` (a profile or fitted model parameters).

    ``hw`` None predicts nothing (predicted times are nan). ``quick``: 1 warm-up,
    3 runs, 2 per-layer runs (tests).
    """
    torch = import_torch()
    if quick:
        warmup, runs, layer_runs = 1, 3, 2
    spec = model if isinstance(model, ArchSpec) else load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, width_rule=width_rule)
    names = [layer.name for layer in w.layers]
    net, x = build_net(spec, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule)
    with torch_threads(threads) as used, pinned(threads), torch.inference_mode():
        timing = time_until_steady(lambda: net(x), warmup=warmup, runs=runs, max_runs=max_runs if not quick else runs)
        layer_medians, unmatched = _per_layer(net, x, names, layer_runs) if layer_runs else ({}, ())
    predicted = _predicted_layer_times(w, hw)
    return BenchResult(
        model=spec.name if isinstance(model, ArchSpec) else str(model),
        alpha=w.alpha,
        resolution=w.resolution,
        width_rule=w.width_rule,
        threads=used,
        runs=len(timing.samples),
        latency_s=timing.median_s,
        latency_iqr_s=timing.iqr_s,
        latency_min_s=timing.min_s,
        predicted_s=float(sum(predicted)),
        layers=tuple(
            LayerBench(layer.name, layer.op, layer_medians.get(layer.name, math.nan), float(t))
            for layer, t in zip(w.layers, predicted)
        ),
        unmatched=unmatched,
        refined_predicted_s=refined_prediction(w, hw),
    )


def refined_prediction(w: Any, hw: HardwareProfile | ModelParams | None) -> float | None:
    """The refined latency ``analyze`` reports on ``hw`` (the roofline core), if it has refinements."""
    if not isinstance(hw, HardwareProfile) or hw.refinements is None:
        return None
    from ..roofline import walk_latency_s

    return walk_latency_s(w.layers, hw).refined_latency_s


def runtime_result(model: str, w: Any, timing: Any, *, runtime: str, dtype: str, threads: int,
                   hw: HardwareProfile | ModelParams | None) -> BenchResult:
    """A deployment runtime's measurement (whole network only, no per-layer times) with ``hw``'s predictions."""
    predicted = _predicted_layer_times(w, hw)
    return BenchResult(
        model=str(model), alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule, threads=threads,
        runs=len(timing.samples), latency_s=timing.median_s, latency_iqr_s=timing.iqr_s, latency_min_s=timing.min_s,
        predicted_s=float(sum(predicted)),
        layers=tuple(LayerBench(layer.name, layer.op, math.nan, float(t)) for layer, t in zip(w.layers, predicted)),
        unmatched=(), runtime=runtime, dtype=dtype, refined_predicted_s=refined_prediction(w, hw),
    )


def _predicted_layer_times(w: Any, hw: HardwareProfile | ModelParams | None) -> list[float]:
    if hw is None:
        return [math.nan] * len(w.layers)
    if isinstance(hw, HardwareProfile):
        net = build_network_set([w], weight_dtype=hw.weight_dtype, activation_dtype=hw.activation_dtype)
        params = ModelParams.of_profile(hw)
    else:
        net = build_network_set([w], weight_dtype="fp32", activation_dtype="fp32")
        params = hw
    return [float(t) for t in layer_times_s(net, params)]


BENCH_GRID: tuple[tuple[str, float, int | None, str | None], ...] = (
    ("v1", 0.5, 160, None), ("v1", 0.75, 192, None), ("v1", 1.0, 224, None),
    ("v2", 0.5, 160, None), ("v2", 0.75, 192, None), ("v2", 1.0, 224, None), ("v2", 1.4, 224, None),
    ("v3-small", 1.0, 224, None), ("v3-large", 0.75, 224, "paper"), ("v3-large", 1.0, 224, None),
    ("v4-conv-s", 1.0, 224, None), ("v4-conv-m", 0.75, 256, None), ("v4-conv-m", 1.0, 256, None),
    ("v4-hybrid-m", 1.0, 256, None), ("v4-conv-l", 1.0, 256, None), ("v4-hybrid-l", 1.0, 256, None),
    ("v4-conv-l", 1.0, 384, None),
)
"""bench_all's default configurations: every built-in ImageNet model at a few α / resolutions
(up to ~6 GMACs; the L models also at 256 to keep the run short)."""

ZOO_GRID: tuple[tuple[str, float, int | None, str | None], ...] = (
    ("mobileone-s0", 1.0, 224, None), ("mobileone-s4", 1.0, 224, None), ("fastvit-t8", 1.0, 256, None),
    ("fastvit-s12", 1.0, 256, None), ("fastvit-sa12", 1.0, 256, None), ("efficientvit-b1", 1.0, 224, None),
    ("convnext-small", 1.0, 224, None),
)
"""``bench --all --zoo`` adds these: the other families of the MobileNetV4 paper's Table 6, at its resolutions
(the smaller members of each family, to keep the run short)."""

QUICK_GRID: tuple[tuple[str, float, int | None, str | None], ...] = (
    ("v1", 0.25, 32, None), ("v2", 0.35, 32, None), ("v3-small", 0.5, 32, None), ("v4-conv-s", 0.5, 32, None),
)
QUICK_ZOO_GRID: tuple[tuple[str, float, int | None, str | None], ...] = (
    ("mobileone-s0", 1.0, 64, None), ("fastvit-t8", 1.0, 64, None), ("efficientvit-b1", 1.0, 64, None),
    ("convnext-small", 1.0, 64, None),
)
"""``--quick`` stand-ins (a smoke run, seconds, not data): tiny MobileNets and one of each zoo family at 64 px."""


def bench_grid(*, zoo: bool = False, quick: bool = False) -> tuple[tuple[str, float, int | None, str | None], ...]:
    """``bench --all``'s configurations: the MobileNets, with ``zoo`` the paper's other families too."""
    if quick:
        return QUICK_GRID + QUICK_ZOO_GRID if zoo else QUICK_GRID
    return BENCH_GRID + ZOO_GRID if zoo else BENCH_GRID


def bench_all(
    grid: Sequence[tuple[str, float, int | None, str | None]] = BENCH_GRID,
    *,
    threads: int | None = 1,
    warmup: int = 5,
    runs: int = 30,
    max_runs: int = 300,
    device: str = "local-cpu",
    runtime: str = "torch",
    dtype: str = "fp32",
    quick: bool = False,
) -> list[Measurement]:
    """Benchmark each (model, α, resolution, width rule) of ``grid``: rows for ``fit`` (total latency only).

    ``runtime`` "onnxruntime" measures with :func:`mncost.fidelity.onnx_bench.bench_onnx`, "litert" with
    :func:`mncost.fidelity.litert_bench.bench_litert` (fp32 or int8). ``quick``: 1 warm-up and 3 runs each
    (pair it with ``bench_grid(quick=True)``'s small networks).
    """
    if quick:
        warmup, runs, max_runs = 1, 3, 3
    rows = []
    for model, alpha, res, rule in grid:
        try:
            result = measure(model, alpha=alpha, resolution=res, width_rule=rule, runtime=runtime, dtype=dtype, threads=threads,
                             warmup=warmup, runs=runs, max_runs=max_runs, layer_runs=0, quick=quick)
        except RuntimeFailure as exc:  # the runtime cannot run this graph: a 'failed' row, as the papers print "Failed"
            warnings.warn(MncostWarning(f"{exc}; recorded as failed"), stacklevel=2)
            rows.append(Measurement(model=model, alpha=alpha, resolution=res, width_rule=rule or "", device=device, dtype=dtype,
                                    status="failed", source=f"mncost bench ({runtime} {dtype}): {exc.message}"))
            continue
        rows.append(result.measurement(device=device))
    return rows


RUNTIMES = ("torch", "onnxruntime", "litert")


def check_options(*, runtime: str = "torch", dtype: str = "fp32", runs: int = 1, warmup: int = 0, layer_runs: int = 0,
                  threads: int | None = 1, max_runs: int = 1) -> None:
    """``bench``'s options, checked with the errors the CLI shows."""
    from ..errors import OptionError

    if min(runs, warmup + 1, layer_runs + 1, threads or 1, max_runs) < 1:
        raise OptionError("--runs, --max-runs and --threads must be positive; --warmup and --layer-runs at least 0")
    if runtime not in RUNTIMES:
        raise OptionError(f"--runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if dtype not in ("fp32", "int8") or (runtime == "torch" and dtype != "fp32"):
        raise OptionError("--dtype is fp32 or int8, and int8 needs --runtime onnxruntime or litert")


def measure(model: str, *, runtime: str = "torch", dtype: str = "fp32", alpha: float = 1.0, resolution: int | None = None,
            width_rule: str | None = None, threads: int | None = 1, warmup: int = 10, runs: int = 50, max_runs: int = 400,
            layer_runs: int = 20, hw: HardwareProfile | None = None, quick: bool = False) -> Any:
    """One network on ``runtime``: torch eager (with per-layer times), onnxruntime or LiteRT (fp32 or int8)."""
    check_options(runtime=runtime, dtype=dtype, runs=runs, warmup=warmup, layer_runs=layer_runs, threads=threads, max_runs=max_runs)
    if runtime == "onnxruntime":
        from .onnx_bench import bench_onnx

        return bench_onnx(model, alpha=alpha, resolution=resolution, width_rule=width_rule, dtype=dtype, threads=threads or 1,
                          warmup=warmup, runs=runs, max_runs=max_runs, hw=hw, quick=quick)
    if runtime == "litert":
        from .litert_bench import bench_litert

        return bench_litert(model, alpha=alpha, resolution=resolution, width_rule=width_rule, dtype=dtype, threads=threads or 1,
                            warmup=warmup, runs=runs, max_runs=max_runs, hw=hw, quick=quick)
    return bench(model, alpha=alpha, resolution=resolution, width_rule=width_rule, threads=threads, warmup=warmup, runs=runs,
                 max_runs=max_runs, layer_runs=layer_runs, hw=hw, quick=quick)

"""Reproducible benchmarks: rounds until the spread is small, a noise figure per network, a loud
warning or a refusal when the machine is too busy; the onnxruntime runtime (fp32 and int8)."""

from __future__ import annotations

import importlib.util
import os

import pytest

from helpers import run_cli
from mncost.errors import OptionError
from mncost.fidelity import timing
from mncost.fidelity.measurements import Measurement


def _fake_clock(monkeypatch, durations):
    """perf_counter advancing by the given call durations (two reads per timed call)."""
    ticks = iter(durations)
    now = [0.0]
    state = {"start": True}

    def clock():
        if state["start"]:
            state["start"] = False
            return now[0]
        now[0] += next(ticks)
        state["start"] = True
        return now[0]

    monkeypatch.setattr(timing.time, "perf_counter", clock)


def test_rounds_stop_once_steady(monkeypatch):
    _fake_clock(monkeypatch, [1.0] * 100)
    t = timing.time_until_steady(lambda: None, warmup=0, runs=5, max_runs=50)
    assert len(t.samples) == 5 and t.noise == 0.0 and t.median_s == 1.0


def test_rounds_continue_while_noisy_up_to_the_cap(monkeypatch):
    _fake_clock(monkeypatch, [1.0, 2.0, 1.0, 3.0] * 30)
    t = timing.time_until_steady(lambda: None, warmup=0, runs=4, max_runs=20, target_noise=0.02)
    assert len(t.samples) == 20 and t.noise > 0.5


def test_noise_check_warns_and_refuses(capsys):
    from mncost.fidelity.timing import noise_check

    quiet = Measurement(model="v2", latency_ms=10.0, latency_iqr_ms=0.2, runs=50)
    noisy = Measurement(model="v1", latency_ms=10.0, latency_iqr_ms=3.0, runs=400)
    noise_check([quiet, noisy], None)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "v1 α=1: noise 30%" in err and "too busy" in err
    with pytest.raises(OptionError, match="above --max-noise 0.1"):
        noise_check([quiet, noisy], 0.1)
    noise_check([quiet], 0.1)


def test_bench_refuses_int8_on_torch(capsys):
    code, _, err = run_cli(capsys, "bench", "v2", "--dtype", "int8")
    assert code == 2 and err.splitlines() == ["error: --dtype is fp32 or int8, and int8 needs --runtime onnxruntime or litert"]


def test_bench_names_its_runtimes(capsys):
    code, _, err = run_cli(capsys, "bench", "v2", "--runtime", "tflite")
    assert code == 2 and err.splitlines() == ["error: --runtime must be one of torch, onnxruntime, litert, got 'tflite'"]


def test_bench_all_records_a_graph_the_runtime_cannot_run_as_failed(monkeypatch):
    # LiteRT's int8 DIV kernel refuses EfficientViT-B1's graph (seen 2026-12-04): the campaign goes on,
    # the network becomes a 'failed' row naming the reason, and a warning says so.
    from mncost.errors import MncostWarning, RuntimeFailure
    from mncost.fidelity import bench
    from mncost.fidelity.measurements import format_measurements, parse_measurements

    ok = bench.BenchResult.__new__(bench.BenchResult)

    def fake_measure(model, **_):
        if model == "efficientvit-b1":
            raise RuntimeFailure("LiteRT cannot run the int8 graph of efficientvit-b1 α=1 r224: DIV failed")
        return ok

    monkeypatch.setattr(bench, "measure", fake_measure)
    monkeypatch.setattr(bench.BenchResult, "measurement", lambda self, device: Measurement(model="v1", latency_ms=3.0, device=device), raising=False)
    with pytest.warns(MncostWarning, match="efficientvit-b1 α=1 r224: DIV failed; recorded as failed"):
        rows = bench.bench_all([("v1", 1.0, 224, None), ("efficientvit-b1", 1.0, 224, None)], runtime="litert", dtype="int8")
    assert [(r.model, r.status) for r in rows] == [("v1", "ok"), ("efficientvit-b1", "failed")]
    assert "DIV failed" in rows[1].source and rows[1].dtype == "int8"
    assert [r.status for r in parse_measurements(format_measurements(rows))] == ["ok", "failed"]


def test_zoo_needs_all(capsys):
    code, _, err = run_cli(capsys, "bench", "v2", "--zoo")
    assert code == 2 and err.splitlines() == ["error: --zoo adds networks to --all; give it with --all"]


def capture_bench_all(monkeypatch, dtype):
    """Replace bench_all by a stand-in that records its grid and options and returns a few fittable rows."""
    from mncost.fidelity import bench

    seen = {}

    def fake_bench_all(grid, **kw):
        seen.update(kw, grid=grid)
        return [Measurement(model=m, alpha=a, resolution=r, latency_ms=1.0 + i, dtype=dtype, runs=3, latency_iqr_ms=0.01)
                for i, (m, a, r, _) in enumerate(grid[:5])]

    monkeypatch.setattr(bench, "bench_all", fake_bench_all)
    return seen


def test_bench_all_passes_its_options_and_the_zoo(monkeypatch, capsys):
    # --runs and --warmup reach every network (they were once ignored by --all); --zoo adds the other families.
    pytest.importorskip("torch")
    from mncost.fidelity import bench

    seen = capture_bench_all(monkeypatch, "int8")
    code, out, _ = run_cli(capsys, "bench", "--all", "--zoo", "--runtime", "onnxruntime", "--dtype", "int8", "--runs", "40", "--warmup", "3", "--max-runs", "99")
    assert code == 0 and "local-cpu-fitted" in out
    assert (seen["runs"], seen["warmup"], seen["max_runs"], seen["runtime"], seen["dtype"]) == (40, 3, 99, "onnxruntime", "int8")
    assert seen["grid"] == bench.BENCH_GRID + bench.ZOO_GRID and {m for m, *_ in bench.ZOO_GRID} >= {"fastvit-t8", "convnext-small"}


def test_bench_all_quick_zoo_is_small(capsys, monkeypatch):
    """--quick shrinks the zoo too: one network of each family at 64 px, not the full-size grid."""
    from mncost.fidelity import bench

    seen = capture_bench_all(monkeypatch, "fp32")
    code, _, _ = run_cli(capsys, "bench", "--all", "--zoo", "--quick")
    assert code == 0 and seen["quick"] is True
    assert seen["grid"] == bench.QUICK_GRID + bench.QUICK_ZOO_GRID
    families = {m.split("-")[0] for m, *_ in bench.QUICK_ZOO_GRID}
    assert families == {m.split("-")[0] for m, *_ in bench.ZOO_GRID} and max(r for _, _, r, _ in seen["grid"]) <= 64


def test_litert_input_quantization_by_hand():
    import numpy as np

    from mncost.fidelity.litert_bench import quantized_input

    x = np.array([-1.0, -0.06, 0.0, 0.049, 0.051, 10.0])
    # scale 0.1, zero point -3: round(x / 0.1) − 3, clipped to int8
    got = quantized_input(x, {"dtype": np.int8, "quantization": (0.1, -3)})
    assert got.dtype == np.int8 and got.tolist() == [-13, -4, -3, -3, -2, 97]
    assert quantized_input(np.array([1e4]), {"dtype": np.int8, "quantization": (0.1, 0)}).tolist() == [127]
    same = quantized_input(x, {"dtype": np.float32, "quantization": (0.0, 0)})
    assert same.dtype == np.float32 and same.tolist() == pytest.approx(x.tolist())


litert_needed = pytest.mark.skipif(importlib.util.find_spec("litert_torch") is None or importlib.util.find_spec("torch") is None,
                                   reason="litert extra not installed (CI does not install it: jax and transformers, ~1.5 GB)")


@pytest.mark.skipif(importlib.util.find_spec("litert_torch") is not None, reason="litert extra installed")
def test_litert_missing_is_one_line(capsys):
    pytest.importorskip("torch")
    code, out, err = run_cli(capsys, "bench", "v1", "--runtime", "litert", "--hw", "cpu", "--quick")
    assert code == 2 and out == ""
    assert err.splitlines() == ["error: --runtime litert needs litert_torch and ai_edge_litert and ai_edge_quantizer: "
                                "pip install torch==2.13.0 && pip install 'mncost[litert]'"]


@litert_needed
@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_litert_bench_quick(dtype, tmp_path):
    import mncost
    from mncost.fidelity.bench import build_net
    from mncost.fidelity.litert_bench import _litert, bench_litert, convert_fp32, quantize_int8

    result = bench_litert("v1", alpha=0.25, resolution=32, dtype=dtype, quick=True, hw=mncost.load_hardware("cpu"))
    assert result.runtime == "litert" and result.dtype == dtype and result.threads == 1 and result.runs == 3
    assert result.latency_s > 0 and result.predicted_s == pytest.approx(mncost.analyze("v1", "cpu", alpha=0.25, resolution=32).totals.latency_s, rel=1e-9)
    assert "litert" in result.measurement().source
    # the int8 model is full-integer: every conv and the classifier read and write int8 tensors
    net, x = build_net(mncost.load_spec("v1"), alpha=0.25, resolution=32, width_rule="timm")
    convert_fp32(net, x, tmp_path / "m.tflite")
    path = tmp_path / "m.tflite"
    if dtype == "int8":
        quantize_int8(path, tmp_path / "q.tflite", 2)
        path = tmp_path / "q.tflite"
    _, interpreter, _ = _litert()
    it = interpreter.Interpreter(model_path=str(path), experimental_op_resolver_type=interpreter.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    tensors = {t["index"]: t for t in it.get_tensor_details()}
    ops = [(op["op_name"], tensors[op["inputs"][0]]["dtype"].__name__, tensors[op["outputs"][0]]["dtype"].__name__) for op in it._get_ops_details()]
    heavy = [o for o in ops if o[0] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")]
    assert len([o for o in heavy if o[0] != "FULLY_CONNECTED"]) == 27  # v1: stem + 13 × (depthwise, pointwise)
    want = "int8" if dtype == "int8" else "float32"
    assert all(o[1] == o[2] == want for o in heavy), ops


ort_needed = pytest.mark.skipif(
    not os.environ.get("CI") and (importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("torch") is None),
    reason="bench extra (onnxruntime) or torch not installed")


@ort_needed
@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_onnxruntime_bench_quick(dtype):
    import mncost
    from mncost.fidelity.onnx_bench import bench_onnx

    result = bench_onnx("v1", alpha=0.25, resolution=32, dtype=dtype, quick=True, hw=mncost.load_hardware("cpu"))
    assert result.runtime == "onnxruntime" and result.dtype == dtype and result.threads == 1 and result.runs == 3
    assert result.latency_s > 0 and result.predicted_s == pytest.approx(mncost.analyze("v1", "cpu", alpha=0.25, resolution=32).totals.latency_s, rel=1e-9)
    row = result.measurement()
    assert row.dtype == dtype and "onnxruntime" in row.source and row.latency_iqr_ms is not None


@ort_needed
@pytest.mark.parametrize("model", ["v2", "v3-small"])
def test_onnxruntime_int8_runs_every_conv_in_int8(model, tmp_path):
    """The int8 graph onnxruntime runs has no float convolution left: every Conv of the export fuses into a
    QLinearConv (with int8 activations, S8S8, x86 onnxruntime 1.32 left 15 of MobileNetV2's 52 convs float)."""
    import onnxruntime as ort

    from mncost.fidelity.bench import build_net
    from mncost.fidelity.onnx_bench import conv_kernels, export_onnx, quantize_int8
    from mncost.spec import load_spec

    net, x = build_net(load_spec(model), alpha=0.5, resolution=64, width_rule=None)
    export_onnx(net, x, tmp_path / "m.onnx")
    quantize_int8(tmp_path / "m.onnx", tmp_path / "q.onnx", tuple(x.shape), 2)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(str(tmp_path / "q.onnx"), options, providers=["CPUExecutionProvider"])
    exported_convs, _ = conv_kernels(tmp_path / "m.onnx")
    float_convs, fused = conv_kernels(tmp_path / "optimised.onnx")
    assert float_convs == 0 and fused == exported_convs > 20


@ort_needed
def test_onnxruntime_bench_warns_when_int8_convs_run_in_float(monkeypatch):
    """An int8 graph the runtime runs partly in float is said so: S8S8 quantization (int8 activations) leaves
    some of MobileNetV2's convolutions float on x86 onnxruntime; the U8S8 recipe leaves none, and no warning."""
    import functools
    import warnings

    from mncost.errors import MncostWarning
    from mncost.fidelity import onnx_bench

    s8s8 = functools.partial(onnx_bench.quantize_int8, activations="int8")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        onnx_bench.bench_onnx("v2", alpha=0.5, resolution=64, dtype="int8", quick=True)
    assert not [w for w in seen if issubclass(w.category, MncostWarning)]
    monkeypatch.setattr(onnx_bench, "quantize_int8", s8s8)
    with pytest.warns(MncostWarning, match=r"v2 α=0.5 r64: onnxruntime runs \d+ of 52 convolutions of the int8 graph in float"):
        onnx_bench.bench_onnx("v2", alpha=0.5, resolution=64, dtype="int8", quick=True)

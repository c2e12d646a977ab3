"""Where onnxruntime spends a network's time, per operator type: prints numbers, asserts nothing.

    python benchmarks/profile_onnxruntime.py v4-hybrid-l [--resolution 256] [--dtype int8] [--runs 20] [--activations int8]

Exports and (for int8) quantizes the spec's torch model exactly as
`mncost bench --runtime onnxruntime` does (`mncost.fidelity.onnx_bench`), runs it with
onnxruntime's profiler on (one thread, all graph optimisations), and prints the median run and,
per operator type of the *optimised* graph, the time per run and the node count. Then it
counts the convolutions that stayed float (a DequantizeLinear feeding a float `Conv`) against
the fused `QLinearConv`s, and for the float ones what their quantized input also feeds: the
roofline counts every conv of an int8 graph as int8, so these are where it cannot be right.
Profiling adds its own overhead, so the run time printed is above `bench`'s. Needs torch,
onnx and onnxruntime (`mncost[bench]`).
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--resolution", type=int, default=None)
    ap.add_argument("--dtype", choices=("fp32", "int8"), default="int8")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--activations", choices=("uint8", "int8"), default="uint8",
                    help="int8 activation type: uint8 (U8S8, what bench runs) or int8 (S8S8, which leaves convs float)")
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort

    from mncost.fidelity.bench import build_net
    from mncost.fidelity.onnx_bench import _ort, export_onnx, quantize_int8
    from mncost.spec import load_spec
    from mncost.walker import walk

    _ort()
    spec = load_spec(args.model)
    w = walk(spec, resolution=args.resolution)
    net, x = build_net(spec, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(net, x, path)
        if args.dtype == "int8":
            quantize_int8(path, Path(tmp) / "model.int8.onnx", tuple(x.shape), 16, activations=args.activations)
            path = Path(tmp) / "model.int8.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        options.optimized_model_filepath = str(Path(tmp) / "optimised.onnx")
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        for _ in range(5 + args.runs):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
        graph = onnx.load(str(Path(tmp) / "optimised.onnx")).graph

    runs = [e["dur"] for e in events if e.get("name") == "model_run"][5:]
    per_op: dict[str, float] = collections.defaultdict(float)
    nodes: collections.Counter[str] = collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"]
            nodes[e["args"]["op_name"]] += 1
    n_all = len(runs) + 5
    total = sum(per_op.values())
    print(f"{args.model} α={w.alpha:g} r{w.resolution} {args.dtype}, onnxruntime {ort.__version__}, 1 thread: "
          f"median run {statistics.median(runs) / 1000:.2f} ms over {len(runs)} profiled runs")
    for op, us in sorted(per_op.items(), key=lambda kv: -kv[1]):
        print(f"  {op:26s} {us / n_all / 1000:8.2f} ms/run {100 * us / total:5.1f} %   {nodes[op] // n_all} nodes")

    producer = {o: n for n in graph.node for o in n.output}
    readers: dict[str, int] = collections.Counter(i for n in graph.node for i in n.input)
    fused = sum(n.op_type == "QLinearConv" for n in graph.node)
    float_convs = [n for n in graph.node if n.op_type == "Conv"]
    consumers: dict[str, list[str]] = collections.defaultdict(list)
    for n in graph.node:
        for i in n.input:
            consumers[i].append(n.op_type)
    why: collections.Counter[str] = collections.Counter()
    for n in float_convs:
        dq = producer.get(n.input[0])
        if any(op != "QuantizeLinear" for op in consumers[n.output[0]]):
            why["output read by a float op (" + "/".join(sorted(set(consumers[n.output[0]]))) + ")"] += 1
        elif dq is not None and dq.op_type == "DequantizeLinear" and readers[dq.input[0]] > 1:
            why["quantized input also read by another node (a residual)"] += 1
        else:
            source = "a DequantizeLinear → Conv → QuantizeLinear left unfused" if dq is not None and dq.op_type == "DequantizeLinear" else f"input from {dq.op_type if dq is not None else 'the graph input'}"
            why[source] += 1
    print(f"convolutions: {fused} QLinearConv (int8), {len(float_convs)} float Conv"
          + "".join(f"; {v} {k}" for k, v in why.most_common()))


if __name__ == "__main__":
    main()

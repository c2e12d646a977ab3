"""Quantized graphs: read through QuantizeLinear/DequantizeLinear and the QLinear ops.

Before shape inference, a quantized graph is rewritten into the float graph it
computes, so the mapper counts it with the float rules (same MACs, same layers):

- QDQ form: ``DequantizeLinear(QuantizeLinear(x))`` is ``x``, stored at the quantized
  dtype (the ``x`` between the pair is what the runtime keeps in memory); a
  ``DequantizeLinear`` of an integer initializer is that initializer (a weight stored
  at its integer dtype). The pairs read through are views, counted in ``views``.
- QOperator form: ``QLinearConv``, ``QLinearMatMul`` and onnxruntime's
  ``com.microsoft`` QLinear ops become their float op on the same tensors (scales and
  zero points dropped); the tensors keep their integer dtypes.
- Dynamic quantization (``DynamicQuantizeLinear`` → ``ConvInteger``/``MatMulInteger``
  → Cast, scale, bias) stays as it runs: the integer op is the conv or matmul, its
  int32 accumulator is stored at 4 bytes, the dequantizing ops are element-wise layers.

The rule for bytes (README, "Counting conventions", dtypes): a tensor the graph
stores at a quantized dtype (integers of up to 16 bits, 8- and 4-bit floats) is
counted at that size (as is a dynamic quantization's int32 accumulator); every other
tensor at the profile's dtype.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

# TensorProto types that are quantized storage: (u)int2/4/8/16 and the 8-/4-bit floats.
QUANTIZED_DTYPES = frozenset({2, 3, 4, 5, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26})

# QOperator op → (its float op, the positions of the float op's inputs among the QLinear op's,
# the position of its output zero point: the output's integer dtype; uint8 when it is omitted).
_QLINEAR: dict[str, tuple[str, tuple[int, ...], int]] = {
    "QLinearConv": ("Conv", (0, 3, 8), 7),
    "QLinearMatMul": ("MatMul", (0, 3), 7),
    "QGemm": ("Gemm", (0, 3, 6), 8),  # without y_scale (input 7) its output is float
    "QLinearAdd": ("Add", (0, 3), 7),
    "QLinearMul": ("Mul", (0, 3), 7),
    "QLinearGlobalAveragePool": ("GlobalAveragePool", (0,), 4),
    "QLinearAveragePool": ("AveragePool", (0,), 4),
    "QLinearSigmoid": ("Sigmoid", (0,), 4),
    "QLinearLeakyRelu": ("LeakyRelu", (0,), 4),
    "QLinearSoftmax": ("Softmax", (0,), 4),
}
_QLINEAR_SIGNATURE = {
    "QLinearConv": "x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B",
    "QLinearMatMul": "a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point",
    "QGemm": "A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale, y_zero_point",
    "QLinearAdd": "A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point",
    "QLinearMul": "A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point",
    **{op: "X, X_scale, X_zero_point, Y_scale, Y_zero_point" for op in
       ("QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax")},
}
_DROPPED_ATTRS = frozenset({"channels_last", "opset"})  # QLinear-only attributes the float op does not have
_QDQ = ("QuantizeLinear", "DequantizeLinear")


def _q_dtype(node: Any, init_dtype: dict[str, int]) -> int:
    """The storage dtype of a QuantizeLinear's output: its zero point's, its output_dtype, else uint8."""
    if len(node.input) > 2 and node.input[2] in init_dtype:
        return init_dtype[node.input[2]]
    for a in node.attribute:
        if a.name == "output_dtype" and a.i:
            return int(a.i)
    return 2


def read_through(model: Any, sizes: dict[int, float]) -> tuple[dict[str, float], Counter[str], bool]:
    """Rewrite ``model`` (in place) into its float graph.

    Returns (bytes per element of the float tensors the graph stores quantized, the
    Q/DQ nodes read through by op, whether anything was rewritten).
    """
    g = model.graph
    init_dtype = {i.name: i.data_type for i in g.initializer}
    producer = {out: n for n in g.node for out in n.output if out}
    qdq = [n for n in g.node if n.op_type in _QDQ and n.domain in ("", "ai.onnx", "com.microsoft") and n.input and n.output]
    stored = {n.input[0]: sizes[d] for n in qdq if n.op_type == "QuantizeLinear" and (d := _q_dtype(n, init_dtype)) in sizes}
    for n in g.node:  # dynamic quantization: the int32 accumulators are tensors of the quantized graph too
        if n.op_type in ("ConvInteger", "MatMulInteger") and n.domain in ("", "ai.onnx") and n.output:
            stored[n.output[0]] = sizes[6]
    # A Q/DQ whose output leaves the graph stays (a view), with the Q/DQ chain that feeds it.
    kept: set[str] = set()  # by output name
    frontier = [producer.get(o.name) for o in g.output]
    while frontier:
        n = frontier.pop()
        if n is not None and n.op_type in _QDQ and n.output[0] not in kept:
            kept.add(n.output[0])
            frontier.append(producer.get(n.input[0]))
    alias = {n.output[0]: n.input[0] for n in qdq if n.output[0] not in kept}
    views: Counter[str] = Counter()
    if not alias and not any(n.op_type in _QLINEAR for n in g.node):
        return stored, views, False

    def resolve(name: str) -> str:
        for _ in range(len(alias)):
            if name not in alias:
                break
            name = alias[name]
        return name

    for n in g.node:
        if n.op_type in _QDQ and n.output and n.output[0] in kept:
            continue
        for i, name in enumerate(n.input):
            if name in alias:
                n.input[i] = resolve(name)
        if n.op_type in _QLINEAR and n.domain in ("", "ai.onnx", "com.microsoft"):
            op, positions, zero_point = _QLINEAR[n.op_type]
            needed = positions[:2] if op in ("Conv", "Gemm") else positions  # their bias is optional
            if any(len(n.input) <= p or not n.input[p] for p in needed) or not n.output:
                raise ValueError(f"node {n.name or n.op_type!r} ({n.op_type}) lacks inputs: it needs inputs {', '.join(str(p) for p in needed)} "
                                 f"(of the {_QLINEAR_SIGNATURE[n.op_type]})")
            if n.op_type != "QGemm" or (len(n.input) > 7 and n.input[7]):
                dtype = init_dtype.get(n.input[zero_point], 2) if len(n.input) > zero_point and n.input[zero_point] else 2
                if dtype in sizes:
                    stored[n.output[0]] = sizes[dtype]  # shape inference on the float op would call it float
            inputs = [n.input[p] if p < len(n.input) else "" for p in positions]
            while inputs and not inputs[-1]:
                inputs.pop()
            attrs = [a for a in n.attribute if a.name not in _DROPPED_ATTRS]
            n.op_type, n.domain = op, ""
            del n.input[:]
            n.input.extend(inputs)
            del n.attribute[:]
            n.attribute.extend(attrs)
    for out in g.output:  # the graph's own output types describe the graph before the rewrite: inference says them again
        if out.type.HasField("tensor_type"):
            out.type.tensor_type.elem_type = 0
    dropped = [i for i, n in enumerate(g.node) if n.op_type in _QDQ and n.output and n.output[0] in alias]
    for i in reversed(dropped):
        views[g.node[i].op_type] += 1
        del g.node[i]
    return {resolve(k): v for k, v in stored.items()}, views, True


# Ops that produce integer tensors on purpose, and ops that compute on an integer tensor as it
# is (moves, views, max pooling): their output keeps their input's integer dtype.
_INTEGER_PRODUCERS = frozenset({"QuantizeLinear", "DynamicQuantizeLinear", "Cast", "CastLike", "Constant", "ConvInteger", "MatMulInteger"})
_INTEGER_SAFE = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Transpose", "Concat", "Slice", "Split",
                           "Gather", "Pad", "Tile", "Expand", "DepthToSpace", "SpaceToDepth", "MaxPool", "GlobalMaxPool", "Resize"})


def float_again(nodes: list[Any], dtypes: dict[str, int], known: set[str]) -> set[str]:
    """Tensors shape inference calls integer only because a float op now reads an integer tensor directly.

    A float op (Relu, Softmax…) whose DequantizeLinear was read through inherits its input's
    integer dtype in shape inference; in the graph its output is float. ``known``: the tensors
    whose dtype is the file's own (initializers, the input, the QLinear outputs).
    """
    integer = {t for t in known if dtypes.get(t) in QUANTIZED_DTYPES}
    wrong: set[str] = set()
    for node in nodes:  # in topological order
        keeps = node.op in _INTEGER_PRODUCERS or (node.op in _INTEGER_SAFE and bool(node.inputs) and node.inputs[0] in integer)
        for out in node.outputs:
            if dtypes.get(out) not in QUANTIZED_DTYPES:
                continue
            if keeps or out in known:
                integer.add(out)
            else:
                wrong.add(out)
    return wrong

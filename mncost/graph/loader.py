"""Read an ONNX file into a checked, shape-inferred :class:`Graph`.

Everything that can be wrong with a file is found here and reported as one
:class:`~mncost.errors.GraphError` line naming the file: not a protobuf, truncated,
over the size limit, external data missing, an opset this onnx does not know, a
cycle, no image-like input, a dtype mncost has no size for. Weight values are
never decoded: counting needs only their shapes and dtypes.
"""

from __future__ import annotations

import math
import os
import struct
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MncostError
from ..yamlio import read_input
from .proto import runtime
from .quant import QUANTIZED_DTYPES, float_again, read_through
from .shapefold import MAX_ELEMENTS, infer_folded

MAX_ONNX_BYTES = 2**31 - 1  # protobuf's own limit for one message
MIN_OPSET = 7  # the oldest opset whose Conv/Gemm/BatchNormalization signatures mncost reads

# ONNX TensorProto.DataType → bytes per element (sub-byte types as fractions); the
# floating types are the ones whose initializers are weights.
DTYPE_BYTES: dict[int, float] = {
    1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2,
    17: 1, 18: 1, 19: 1, 20: 1, 21: 0.5, 22: 0.5, 23: 0.5, 24: 1, 25: 0.25, 26: 0.25,
}
DTYPE_NAMES: dict[int, str] = {
    1: "fp32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool", 10: "fp16",
    11: "fp64", 12: "uint32", 13: "uint64", 16: "bf16", 17: "fp8e4m3fn", 18: "fp8e4m3fnuz", 19: "fp8e5m2",
    20: "fp8e5m2fnuz", 21: "uint4", 22: "int4", 23: "fp4e2m1", 24: "fp8e8m0", 25: "uint2", 26: "int2",
}
_TYPE_WORDS = {0: "undefined", 8: "string", 14: "complex64", 15: "complex128"}
_RESHAPES = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
FLOAT_DTYPES = frozenset({1, 10, 11, 16, 17, 18, 19, 20, 23, 24})


class GraphError(MncostError):
    """An ONNX file that cannot be read or counted."""


@dataclass(frozen=True, slots=True)
class Node:
    index: int
    name: str
    op: str
    domain: str
    inputs: tuple[str, ...]  # "" marks an omitted optional input
    outputs: tuple[str, ...]
    attrs: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    shape: tuple[int, ...] | None  # None: shape inference could not tell
    dtype: int


@dataclass
class Graph:
    """A shape-inferred ONNX graph at batch 1, nodes in a topological order."""

    file: str
    name: str
    opset: int
    input_name: str
    input_shape: tuple[int, int, int]  # C, H, W
    resolution: int
    fixed_size: bool
    nodes: list[Node]
    tensors: dict[str, Tensor]
    constants: set[str]  # initializers and Constant outputs (and what is computed from them only)
    outputs: set[str]
    consumers: dict[str, list[Node]] = field(default_factory=dict)
    producer: dict[str, Node] = field(default_factory=dict)
    stored: dict[str, float] = field(default_factory=dict)  # float tensors the graph keeps quantized → bytes per element
    qdq_views: Counter[str] = field(default_factory=Counter)  # Q/DQ nodes read through by mncost.graph.quant, by op
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # small constants known (slice steps, shape vectors)
    blur_filters: set[str] = field(default_factory=set)  # initializers that are a fixed binomial blur filter

    def shape(self, name: str) -> tuple[int, ...]:
        tensor = self.tensors.get(name)
        if tensor is None or tensor.shape is None:
            node = self.producer.get(name)
            where = f" (output of node {node.name!r}, {node.op})" if node else ""
            raise GraphError(f"shape inference could not tell the shape of tensor {name!r}{where}", file=self.file)
        return tensor.shape

    def dtype(self, name: str) -> int:
        tensor = self.tensors.get(name)
        return tensor.dtype if tensor is not None else 0

    def stored_bytes(self, name: str) -> float | None:
        """Bytes per element the graph stores ``name`` at, when it states a quantized dtype; None: the profile's."""
        for _ in range(64):
            if name in self.stored:
                return self.stored[name]
            dtype = self.dtype(name)
            if dtype in QUANTIZED_DTYPES:
                return DTYPE_BYTES[dtype]
            src = self.producer.get(name)
            if src is None or src.op not in _RESHAPES or not src.inputs:
                return None
            name = src.inputs[0]  # a reshaped view holds the bytes of what it views
        return None


def _attr(a: Any) -> Any:
    kind = a.type
    if kind == 1:
        return a.f
    if kind == 2:
        return a.i
    if kind == 3:
        return a.s.decode("utf-8", "replace")
    if kind == 4:
        return ("tensor", tuple(a.t.dims), a.t.data_type)
    if kind == 6:
        return tuple(a.floats)
    if kind == 7:
        return tuple(a.ints)
    if kind == 8:
        return tuple(s.decode("utf-8", "replace") for s in a.strings)
    if kind in (5, 10):
        return ("graph",)
    return None


def _numel(dims: Any) -> int:
    total = 1
    for d in dims:
        total *= int(d)
    return total


def _parse(raw: bytes, name: str) -> Any:
    rt = runtime()
    model = rt.model_class()
    try:
        model.ParseFromString(raw)
    except Exception:
        raise GraphError("not an ONNX model: the file does not parse as a protobuf (truncated or another format)", file=name) from None
    if not model.HasField("graph") or (not model.graph.node and not model.graph.input):
        raise GraphError("not an ONNX model: no graph in the file (truncated or another format)", file=name)
    return model


def _check_opset(model: Any, name: str) -> int:
    rt = runtime()
    versions = {imp.domain: imp.version for imp in model.opset_import}
    opset = versions.get("", versions.get("ai.onnx"))
    if opset is None:
        raise GraphError("the model imports no default-domain (ai.onnx) opset", file=name)
    if opset < MIN_OPSET:
        raise GraphError(f"opset {opset} is too old: mncost reads opsets {MIN_OPSET} to {rt.max_opset} (convert it with onnx.version_converter)", file=name)
    if opset > rt.max_opset:
        raise GraphError(f"opset {opset} is newer than the installed onnx {rt.version} knows (up to {rt.max_opset}): upgrade onnx", file=name)
    return int(opset)


def _check_external(model: Any, path: Path, name: str) -> None:
    """External tensors must lie beside the model (or below it) and be long enough; they are not read."""
    folder = path.resolve().parent
    for init in model.graph.initializer:
        if init.data_location != 1:
            continue
        info = {e.key: e.value for e in init.external_data}
        location = info.get("location", "")
        if not location or os.path.isabs(location) or ".." in Path(location).parts:
            raise GraphError(f"initializer {init.name!r}: external data location {location!r} must be a relative path beside the model", file=name)
        target = folder / location
        if not target.is_file():
            raise GraphError(f"initializer {init.name!r}: external data file {location!r} not found beside the model", file=name)
        try:
            offset = int(info.get("offset", 0))
            length = int(info["length"]) if "length" in info else int(_numel(init.dims) * DTYPE_BYTES.get(init.data_type, 0))
        except ValueError:
            raise GraphError(f"initializer {init.name!r}: external data offset/length are not integers", file=name) from None
        if offset < 0 or length < 0 or target.stat().st_size < offset + length:
            raise GraphError(f"initializer {init.name!r}: external data file {location!r} is shorter than offset {offset} + length {length} (truncated?)", file=name)


def _dims(type_proto: Any) -> tuple[list[Any], int] | None:
    if not type_proto.HasField("tensor_type"):
        return None
    tt = type_proto.tensor_type
    if not tt.HasField("shape"):
        return [], tt.elem_type
    return list(tt.shape.dim), tt.elem_type


def _fix_input(model: Any, name: str, resolution: int | None) -> tuple[str, tuple[int, int, int], int, bool]:
    """Fix the one image input to 1×C×N×N; the resolution asked, or the file's fixed one."""
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if not inputs:
        raise GraphError("the graph has no input (expected one image-like N×C×H×W input)", file=name)
    if len(inputs) > 1:
        listed = ", ".join(repr(i.name) for i in inputs)
        raise GraphError(f"the graph has {len(inputs)} inputs ({listed}); mncost counts models with one image-like N×C×H×W input", file=name)
    value = inputs[0]
    got = _dims(value.type)
    if got is None:
        raise GraphError(f"input {value.name!r} is not a tensor; expected an image-like N×C×H×W input", file=name)
    dims, elem = got
    shown = "×".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims) or "(no shape)"
    if len(dims) != 4 or elem not in FLOAT_DTYPES | {2, 3}:
        raise GraphError(f"input {value.name!r} has shape {shown} ({DTYPE_NAMES.get(elem, f'dtype {elem}')}); expected an image-like N×C×H×W input", file=name)
    batch, channels, height, width = dims
    if batch.HasField("dim_value") and batch.dim_value not in (0, 1):
        raise GraphError(f"input {value.name!r} has a fixed batch of {batch.dim_value}; mncost counts per image: export it with batch 1 or a dynamic batch", file=name)
    if not channels.HasField("dim_value") or channels.dim_value < 1:
        raise GraphError(f"input {value.name!r} ({shown}) has no fixed channel count; expected N×C×H×W with C fixed", file=name)
    fixed = height.HasField("dim_value") and width.HasField("dim_value") and height.dim_value > 0 and width.dim_value > 0
    if fixed:
        h, w = int(height.dim_value), int(width.dim_value)
        if resolution is not None and (resolution, resolution) != (h, w):
            raise GraphError(f"input {value.name!r} has a fixed size {h}×{w}; it cannot be analyzed at {resolution}×{resolution} (export it with dynamic height and width)", file=name)
        if h != w:
            raise GraphError(f"input {value.name!r} is {h}×{w}; mncost analyzes square N×N inputs", file=name)
        res = h
    else:
        if resolution is None:
            raise GraphError(f"input {value.name!r} ({shown}) has a dynamic height/width: give --resolution N", file=name)
        res = resolution
    for dim, size in zip(dims, (1, int(channels.dim_value), res, res)):
        dim.ClearField("dim_param")
        dim.dim_value = size
    return value.name, (int(channels.dim_value), res, res), res, fixed


def _blur_filters(model: Any) -> set[str]:
    """Initializers that are a fixed binomial blur filter (C×1×k×k, the same [1 2 1]ᵀ[1 2 1]/16 kernel, or its
    k×k kin, on every channel: timm's ``BlurPool2d`` buffer): a filter fixed by the architecture, not learned, so
    the depthwise conv reading it is a blur pool with no parameters. Read from float32 weights stored in the file."""
    found = set()
    for init in model.graph.initializer:
        dims = tuple(int(d) for d in init.dims)
        if init.data_type != 1 or init.data_location == 1 or len(dims) != 4 or dims[1] != 1 or dims[2] != dims[3] or dims[2] not in (3, 5, 7):
            continue
        k = dims[2]
        n = dims[0] * k * k
        raw = init.raw_data
        if len(raw) != 4 * n and len(init.float_data) != n:
            continue
        row = [math.comb(k - 1, i) / 2 ** (k - 1) for i in range(k)]
        kernel = [a * b for a in row for b in row]

        def binomial(values: Sequence[float]) -> bool:
            return all(abs(x - kernel[j % (k * k)]) <= 1e-6 for j, x in enumerate(values))

        # a learned filter already differs in its first channel: only a blur is unpacked whole
        first = struct.unpack_from(f"<{k * k}f", raw) if raw else tuple(init.float_data[:k * k])
        if binomial(first) and binomial(struct.unpack(f"<{n}f", raw) if raw else init.float_data):
            found.add(init.name)
    return found


def _strip_weights(model: Any) -> None:
    """Shape inference needs initializer shapes, and values only of small ones (shape vectors)."""
    for init in model.graph.initializer:
        if _numel(init.dims) > MAX_ELEMENTS:
            for part in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data"):
                init.ClearField(part)
            del init.external_data[:]
            init.data_location = 0


def _nodes(g: Any) -> list[Node]:
    nodes: list[Node] = []
    seen_names: dict[str, int] = {}
    for i, n in enumerate(g.node):
        attrs = {a.name: _attr(a) for a in n.attribute}
        label = n.name or f"{n.op_type}_{i}"
        count = seen_names.get(label, 0)  # layer names must be unique: a repeated name gets a suffix
        seen_names[label] = count + 1
        nodes.append(Node(i, f"{label}#{count}" if count else label, n.op_type, n.domain, tuple(n.input), tuple(n.output), attrs))
    return nodes


def _topological(nodes: list[Node], known: set[str], name: str) -> list[Node]:
    producer: dict[str, Node] = {}
    for node in nodes:
        for out in node.outputs:
            if out:
                producer[out] = node
    waiting: dict[int, int] = {}
    users: dict[int, list[Node]] = defaultdict(list)
    for node in nodes:
        deps = set()
        for inp in node.inputs:
            if not inp or inp in known:
                continue
            src = producer.get(inp)
            if src is None:
                raise GraphError(f"node {node.name!r} ({node.op}) reads tensor {inp!r}, which no node, input or initializer provides", file=name)
            deps.add(src.index)
        waiting[node.index] = len(deps)
        for dep in deps:
            users[dep].append(node)
    import heapq

    by_index = {n.index: n for n in nodes}
    ready = [n.index for n in nodes if waiting[n.index] == 0]  # file order among the ready ones
    heapq.heapify(ready)
    order: list[Node] = []
    while ready:
        node = by_index[heapq.heappop(ready)]
        order.append(node)
        for user in users[node.index]:
            waiting[user.index] -= 1
            if waiting[user.index] == 0:
                heapq.heappush(ready, user.index)
    if len(order) != len(nodes):
        stuck = next(n for n in nodes if waiting[n.index] > 0)
        raise GraphError(f"the graph has a cycle (through node {stuck.name!r}, {stuck.op})", file=name)
    return order


def load_graph(path: str | Path, resolution: int | None = None) -> Graph:
    """Read, check and shape-infer ``path`` with its input fixed to batch 1 and ``resolution``."""
    path = Path(path)
    name = str(path)
    raw = read_input(path, name, what="ONNX file", limit=MAX_ONNX_BYTES)
    model = _parse(raw, name)
    del raw
    opset = _check_opset(model, name)
    _check_external(model, path, name)
    input_name, in_shape, res, fixed = _fix_input(model, name, resolution)
    try:
        stored, qdq, rewritten = read_through(model, DTYPE_BYTES)
    except ValueError as exc:
        raise GraphError(str(exc), file=name) from None
    order = _topological(_nodes(model.graph), {input_name} | {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}, name)
    blur = _blur_filters(model)
    _strip_weights(model)
    if not fixed or rewritten:
        del model.graph.value_info[:]  # shapes inferred for another size (or types before the rewrite) would contradict the new ones
    rt = runtime()

    def infer(m: Any) -> Any:
        try:
            inferred = rt.model_class()
            inferred.ParseFromString(rt.infer_shapes(m.SerializeToString()))
        except Exception as exc:  # the extension's InferenceError, or whatever else it raises on a bad graph
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GraphError(f"ONNX shape inference failed at {res}×{res}: {first}", file=name) from None
        return inferred

    # the nodes mapped are ``order``'s: the Constant nodes infer_folded writes live only in ``model``
    inferred, values = infer_folded(model, [n.index for n in order], opset, infer)
    g = inferred.graph

    tensors: dict[str, Tensor] = {}
    constants: set[str] = set()
    for init in g.initializer:
        if init.data_type not in DTYPE_BYTES:
            raise GraphError(f"initializer {init.name!r} has dtype {init.data_type} ({_TYPE_WORDS.get(init.data_type, 'unknown')}), which mncost has no size for", file=name)
        tensors[init.name] = Tensor(init.name, tuple(int(d) for d in init.dims), init.data_type)
        constants.add(init.name)
    for value in list(g.input) + list(g.value_info) + list(g.output):
        if value.name in tensors:
            continue
        got = _dims(value.type)
        if got is None:
            continue
        dims, elem = got
        shape = tuple(int(d.dim_value) for d in dims) if dims and all(d.HasField("dim_value") for d in dims) else (() if not dims and value.type.tensor_type.HasField("shape") else None)
        tensors[value.name] = Tensor(value.name, shape, elem)


    if rewritten:  # a quantized graph read through: the float ops' outputs are float again
        for out in float_again(order, {t.name: t.dtype for t in tensors.values()}, constants | {input_name} | set(stored)):
            tensors[out] = Tensor(out, tensors[out].shape, 1)
    for tensor in tensors.values():
        if tensor.dtype not in DTYPE_BYTES and tensor.name not in constants:
            raise GraphError(f"tensor {tensor.name!r} has dtype {tensor.dtype} ({_TYPE_WORDS.get(tensor.dtype, 'unknown')}), which mncost has no size for", file=name)
    graph = Graph(
        file=name, name=g.name or path.stem, opset=opset, input_name=input_name, input_shape=in_shape, resolution=res,
        fixed_size=fixed, nodes=order, tensors=tensors, constants=constants, outputs={o.name for o in g.output},
        stored=stored, qdq_views=qdq, values={k: v.data for k, v in values.items()}, blur_filters=blur,
    )
    consumers: dict[str, list[Node]] = defaultdict(list)
    for node in order:
        for inp in node.inputs:
            if inp:
                consumers[inp].append(node)
        for out in node.outputs:
            if out:
                graph.producer[out] = node
        if node.op == "Constant" or (node.inputs and all(not i or i in constants for i in node.inputs) and node.op not in ("QuantizeLinear", "DequantizeLinear")):
            constants.update(o for o in node.outputs if o)
        if node.op == "Constant" and node.outputs and node.outputs[0] not in tensors:
            value = node.attrs.get("value")
            if isinstance(value, tuple) and value and value[0] == "tensor":
                tensors[node.outputs[0]] = Tensor(node.outputs[0], tuple(int(d) for d in value[1]), int(value[2]))
    graph.consumers = dict(consumers)
    return graph

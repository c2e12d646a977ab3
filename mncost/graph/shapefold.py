"""Size what ONNX shape inference leaves unsized: evaluate the graph's shape arithmetic.

ONNX shape inference propagates values through a few ops only (Shape, Gather, Slice,
Concat, Unsqueeze, Add, Sub, Mul…), not through Div, Floor or Where. torchvision's
ShuffleNetV2 splits channels with ``Slice(x, 0, C // 2)`` where ``C // 2`` is
``Div(Gather(Shape(x)))``: inference cannot size the halves. Once the input is fixed
(batch 1, the resolution), every such value is a constant, so :func:`infer_folded`
evaluates them here, in plain Python (no numpy, which reading a graph never loads):

1. run shape inference;
2. if every tensor a node reads (and every graph output) has a static shape, stop
   (the common case: nothing else runs);
3. else evaluate, in topological order, the nodes :func:`evaluate` knows (the ops of
   :data:`EVALUATORS`, Shape, Size, Slice, Squeeze, Unsqueeze, ConstantOfShape) whose
   inputs are known values (small initializers, Constant nodes, evaluated outputs; for
   Shape and Size, a tensor with a static shape), and turn each into a Constant node;
4. rerun inference and repeat while a round evaluates something new, at most
   :data:`MAX_ROUNDS` rounds (torchvision's ShuffleNetV2 needs one; a Shape of a
   tensor that only the previous round sized needs one more).

The rewritten nodes exist only in the model given to shape inference; the graph
mncost maps keeps its own nodes. A value computed from data (a ReduceMax of the
image, NonZero…) is not known, so what depends on it stays unsized and mncost names
the tensor it cannot size, as before. Values are computed exactly for integers
(Div truncates toward zero, as onnxruntime does); float values are rounded to fp32
after each op when their dtype is fp32.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_ELEMENTS = 64  # a shape vector or a small constant; bigger tensors are data (and their values are not kept)
MAX_ROUNDS = 64

_INTS = frozenset({2, 3, 4, 5, 6, 7, 12, 13})
_FLOATS = frozenset({1, 11})
_BOOL = 9
# TensorProto dtype → (field holding its values, struct code of its raw_data)
_STORAGE = {1: ("float_data", "f"), 11: ("double_data", "d"), 6: ("int32_data", "i"), 7: ("int64_data", "q"),
            2: ("int32_data", "B"), 3: ("int32_data", "b"), 4: ("int32_data", "H"), 5: ("int32_data", "h"),
            9: ("int32_data", "?"), 12: ("uint64_data", "I"), 13: ("uint64_data", "Q")}


@dataclass(frozen=True, slots=True)
class Value:
    """A known tensor: dtype (TensorProto), dims, elements in row-major order."""

    dtype: int
    dims: tuple[int, ...]
    data: tuple[Any, ...]


def _numel(dims: tuple[int, ...]) -> int:
    return math.prod(dims)


def _typed(dtype: int, x: Any) -> Any:
    if dtype in _INTS:
        return int(x)
    if dtype == _BOOL:
        return bool(x)
    if dtype == 1:
        return struct.unpack("<f", struct.pack("<f", float(x)))[0] if math.isfinite(x) else float(x)
    return float(x)


def _value(dtype: int, dims: tuple[int, ...], data: Any) -> Value | None:
    """A Value, if it is small, of a dtype evaluated here and in its dtype's range (no silent int64 wrap-around)."""
    data = tuple(data)
    if dtype not in _STORAGE or len(data) != _numel(dims) or len(data) > MAX_ELEMENTS:
        return None
    try:
        typed = tuple(_typed(dtype, x) for x in data)
        struct.pack(f"<{len(typed)}{_STORAGE[dtype][1]}", *typed)
    except (struct.error, OverflowError, ValueError):
        return None
    return Value(dtype, dims, typed)


def tensor_value(t: Any) -> Value | None:
    """The value of a TensorProto held in the file (None: too big, external, stripped or another dtype)."""
    if t.data_type not in _STORAGE or t.data_location == 1:
        return None
    dims = tuple(int(d) for d in t.dims)
    n = _numel(dims)
    if n > MAX_ELEMENTS:
        return None
    field, code = _STORAGE[t.data_type]
    if t.raw_data:
        size = struct.calcsize(code)
        if len(t.raw_data) != n * size:
            return None
        return _value(t.data_type, dims, struct.unpack(f"<{n}{code}", t.raw_data))
    return _value(t.data_type, dims, getattr(t, field))


def _constant_value(node: Any) -> Value | None:
    for a in node.attribute:
        if a.name == "value" and a.type == 4:
            return tensor_value(a.t)
        if a.name == "value_int":
            return Value(7, (), (int(a.i),))
        if a.name == "value_ints":
            return _value(7, (len(a.ints),), a.ints)
        if a.name == "value_float":
            return Value(1, (), (_typed(1, a.f),))
        if a.name == "value_floats":
            return _value(1, (len(a.floats),), a.floats)
    return None


# -- the ops --------------------------------------------------------------------------------

Ins = list["Value | None"]
Attrs = dict[str, Any]


def _strides(dims: tuple[int, ...]) -> tuple[int, ...]:
    out: list[int] = []
    step = 1
    for d in reversed(dims):
        out.append(step)
        step *= d
    return tuple(reversed(out))


def _broadcast(*dims: tuple[int, ...]) -> tuple[int, ...] | None:
    rank = max(len(d) for d in dims)
    padded = [(1,) * (rank - len(d)) + d for d in dims]
    out: list[int] = []
    for sizes in zip(*padded):
        big = {s for s in sizes if s != 1}
        if len(big) > 1:
            return None
        out.append(big.pop() if big else 1)
    return tuple(out)


def _elementwise(values: list[Value], fn: Callable[..., Any], dtype: int) -> Value | None:
    out_dims = _broadcast(*(v.dims for v in values))
    if out_dims is None or _numel(out_dims) > MAX_ELEMENTS:
        return None
    rank = len(out_dims)
    reads: list[list[int]] = []
    for v in values:  # each input's flat index for every output element (stride 0 on a broadcast axis)
        dims = (1,) * (rank - len(v.dims)) + v.dims
        strides = [0 if d == 1 else s for d, s in zip(dims, _strides(dims))]
        reads.append([sum(i * s for i, s in zip(idx, strides)) for idx in itertools.product(*(range(d) for d in out_dims))])
    try:
        data = [fn(*(v.data[r[k]] for v, r in zip(values, reads))) for k in range(_numel(out_dims))]
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return _value(dtype, out_dims, data)


def _div(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)  # truncation toward zero (onnxruntime's integer Div), not Python's floor
        return q if (a < 0) == (b < 0) else -q
    return a / b


def _mod(a: Any, b: Any) -> Any:
    return a % b  # Mod with fmod=0 takes the divisor's sign, as Python's %


def _fmod(a: Any, b: Any) -> Any:
    return math.fmod(a, b)  # fmod=1: the dividend's sign, as C's fmod


def _binary(fn: Callable[[Any, Any], Any], result: int | None = None) -> Callable[[Ins, Attrs], Value | None]:
    def run(ins: Ins, attrs: Attrs) -> Value | None:
        if len(ins) != 2 or ins[0] is None or ins[1] is None:
            return None
        return _elementwise([ins[0], ins[1]], fn, ins[0].dtype if result is None else result)
    return run


def _variadic(fn: Callable[..., Any]) -> Callable[[Ins, Attrs], Value | None]:
    def run(ins: Ins, attrs: Attrs) -> Value | None:
        known = [v for v in ins if v is not None]
        if not known or len(known) != len(ins):
            return None
        return _elementwise(known, fn, known[0].dtype)
    return run


def _unary(fn: Callable[[Any], Any]) -> Callable[[Ins, Attrs], Value | None]:
    def run(ins: Ins, attrs: Attrs) -> Value | None:
        if not ins or ins[0] is None:
            return None
        return _elementwise([ins[0]], fn, ins[0].dtype)
    return run


def _cast(ins: Ins, attrs: Attrs) -> Value | None:
    to = int(attrs.get("to", 0))
    if not ins or ins[0] is None or to not in _STORAGE:
        return None
    v = ins[0]
    if to in _INTS and v.dtype in _FLOATS:
        if not all(math.isfinite(x) for x in v.data):
            return None
        return _value(to, v.dims, (math.trunc(x) for x in v.data))  # float → int truncates
    return _value(to, v.dims, v.data)


def _where(ins: Ins, attrs: Attrs) -> Value | None:
    if len(ins) != 3 or any(v is None for v in ins):
        return None
    c, x, y = ins
    assert c is not None and x is not None and y is not None
    return _elementwise([c, x, y], lambda k, a, b: a if k else b, x.dtype)


def _axis(axis: int, rank: int) -> int | None:
    axis = axis + rank if axis < 0 else axis
    return axis if 0 <= axis < rank else None


def _axes(ins: Ins, attrs: Attrs, opset: int, since: int) -> tuple[int, ...] | None:
    """Axes from the second input (opset >= since) or the ``axes`` attribute; () when absent."""
    if opset >= since:
        if len(ins) < 2:
            return ()
        axes = ins[1]
        return None if axes is None else tuple(int(a) for a in axes.data)
    return tuple(attrs.get("axes", ()))


def _reshaped(v: Value, dims: tuple[int, ...]) -> Value | None:
    return Value(v.dtype, dims, v.data) if _numel(dims) == len(v.data) else None


def _unsqueeze(ins: Ins, attrs: Attrs, opset: int) -> Value | None:
    axes = _axes(ins, attrs, opset, 13)
    if not ins or ins[0] is None or not axes:
        return None
    v = ins[0]
    rank = len(v.dims) + len(axes)
    where = {_axis(a, rank) for a in axes}
    if None in where or len(where) != len(axes):
        return None
    rest = iter(v.dims)
    return _reshaped(v, tuple(1 if i in where else next(rest) for i in range(rank)))


def _squeeze(ins: Ins, attrs: Attrs, opset: int) -> Value | None:
    axes = _axes(ins, attrs, opset, 13)
    if not ins or ins[0] is None or axes is None:
        return None
    v = ins[0]
    where = {_axis(a, len(v.dims)) for a in axes} if axes else {i for i, d in enumerate(v.dims) if d == 1}
    if None in where or any(v.dims[i] != 1 for i in where if i is not None):
        return None
    return _reshaped(v, tuple(d for i, d in enumerate(v.dims) if i not in where))


def _reshape(ins: Ins, attrs: Attrs) -> Value | None:
    if len(ins) < 2 or ins[0] is None or ins[1] is None:
        return None
    v, target = ins[0], [int(d) for d in ins[1].data]
    dims = [v.dims[i] if d == 0 and not attrs.get("allowzero", 0) and i < len(v.dims) else d for i, d in enumerate(target)]
    if dims.count(-1) == 1:
        rest = _numel(tuple(d for d in dims if d != -1))
        if rest == 0 or len(v.data) % rest:
            return None
        dims[dims.index(-1)] = len(v.data) // rest
    return _reshaped(v, tuple(dims)) if all(d >= 0 for d in dims) else None


def _flat_blocks(v: Value, axis: int) -> tuple[int, int, int]:
    """(outer, along, inner) sizes around ``axis``."""
    return _numel(v.dims[:axis]), v.dims[axis], _numel(v.dims[axis + 1:])


def _concat(ins: Ins, attrs: Attrs) -> Value | None:
    if not ins or any(v is None for v in ins):
        return None
    values = [v for v in ins if v is not None]
    first = values[0]
    axis = _axis(int(attrs.get("axis", 0)), len(first.dims))
    if axis is None or any(len(v.dims) != len(first.dims) or v.dims[:axis] + v.dims[axis + 1:] != first.dims[:axis] + first.dims[axis + 1:]
                           for v in values):
        return None
    outer = _numel(first.dims[:axis])
    data: list[Any] = []
    for o in range(outer):
        for v in values:
            chunk = _numel(v.dims[axis:])
            data.extend(v.data[o * chunk:(o + 1) * chunk])
    dims = first.dims[:axis] + (sum(v.dims[axis] for v in values),) + first.dims[axis + 1:]
    return _value(first.dtype, dims, data)


def _gather(ins: Ins, attrs: Attrs) -> Value | None:
    if len(ins) != 2 or ins[0] is None or ins[1] is None:
        return None
    v, idx = ins[0], ins[1]
    axis = _axis(int(attrs.get("axis", 0)), len(v.dims))
    if axis is None:
        return None
    outer, along, inner = _flat_blocks(v, axis)
    picks = [int(i) + along if int(i) < 0 else int(i) for i in idx.data]
    if any(not 0 <= i < along for i in picks):
        return None
    data = [x for o in range(outer) for i in picks for x in v.data[(o * along + i) * inner:(o * along + i + 1) * inner]]
    return _value(v.dtype, v.dims[:axis] + idx.dims + v.dims[axis + 1:], data)


def _slice(ins: Ins, attrs: Attrs, opset: int) -> Value | None:
    if not ins or ins[0] is None:
        return None
    v = ins[0]
    if opset >= 10:
        if len(ins) < 3 or ins[1] is None or ins[2] is None:
            return None  # (an unknown named input never gets here: evaluate() stops first; None here is an omitted one)
        starts, ends = list(ins[1].data), list(ins[2].data)
        axes = list(ins[3].data) if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
        steps = list(ins[4].data) if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    else:
        starts, ends = list(attrs.get("starts", ())), list(attrs.get("ends", ()))
        axes = list(attrs.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps:
        return None
    picks = [list(range(d)) for d in v.dims]
    for start, end, axis, step in zip(starts, ends, axes, steps):
        a = _axis(int(axis), len(v.dims))
        if a is None:
            return None
        picks[a] = list(range(v.dims[a]))[slice(*_clamp(int(start), int(end), int(step), v.dims[a]))]
    strides = _strides(v.dims)
    data = [v.data[sum(i * s for i, s in zip(idx, strides))] for idx in itertools.product(*picks)]
    return _value(v.dtype, tuple(len(p) for p in picks), data)


def _transpose(ins: Ins, attrs: Attrs) -> Value | None:
    """The axes permuted (default: reversed), as torch's F.pad export transposes its pads pairs."""
    if not ins or ins[0] is None:
        return None
    v = ins[0]
    perm = tuple(int(p) for p in attrs.get("perm", range(len(v.dims) - 1, -1, -1)))
    if sorted(perm) != list(range(len(v.dims))):
        return None
    dims = tuple(v.dims[p] for p in perm)
    strides = _strides(v.dims)
    data = [v.data[sum(i * strides[p] for i, p in zip(idx, perm))] for idx in itertools.product(*(range(d) for d in dims))]
    return _value(v.dtype, dims, data)


def _clamp(start: int, end: int, step: int, size: int) -> tuple[int | None, int | None, int]:
    """ONNX Slice bounds as a Python slice (negative indices count from the end; ends past the edge clamp)."""
    def fix(i: int, low: int, high: int) -> int:
        i = i + size if i < 0 else i
        return max(low, min(high, i))
    if step > 0:
        return fix(start, 0, size), fix(end, 0, size), step
    s, e = fix(start, -1, size - 1), fix(end, -1, size - 1)
    return s, (None if e < 0 else e), step


def _constant_of_shape(ins: Ins, attrs: Attrs, node: Any) -> Value | None:
    if not ins or ins[0] is None:
        return None
    dims = tuple(int(d) for d in ins[0].data)
    fill = Value(1, (1,), (0.0,))
    for a in node.attribute:
        if a.name == "value" and a.type == 4:
            got = tensor_value(a.t)
            if got is None or len(got.data) != 1:
                return None
            fill = got
    if any(d < 0 for d in dims) or _numel(dims) > MAX_ELEMENTS:
        return None
    return Value(fill.dtype, dims, fill.data * _numel(dims))


def _range(ins: Ins, attrs: Attrs) -> Value | None:
    if len(ins) != 3 or any(v is None or len(v.data) != 1 for v in ins):
        return None
    start, limit, delta = (v.data[0] for v in ins if v is not None)
    if delta == 0:
        return None
    n = max(math.ceil((limit - start) / delta), 0)
    if n > MAX_ELEMENTS:
        return None
    first = ins[0]
    assert first is not None
    return _value(first.dtype, (n,), (start + i * delta for i in range(n)))


def _cmp(fn: Callable[[Any, Any], bool]) -> Callable[[Ins, Attrs], Value | None]:
    return _binary(fn, result=_BOOL)


# op → evaluator(inputs, attrs) (Shape and Size are handled apart: they read a static shape, not a value)
EVALUATORS: dict[str, Callable[[Ins, Attrs], Value | None]] = {
    "Identity": lambda ins, attrs: ins[0] if ins else None,
    "Cast": _cast,
    "Reshape": _reshape,
    "Concat": _concat,
    "Gather": _gather,
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(_div),
    "Mod": lambda ins, attrs: _binary(_fmod if attrs.get("fmod", 0) else _mod)(ins, attrs),
    "Min": _variadic(min),
    "Max": _variadic(max),
    "Sum": _variadic(lambda *xs: sum(xs)),
    "Neg": _unary(lambda a: -a),
    "Abs": _unary(abs),
    "Floor": _unary(lambda a: float(math.floor(a)) if isinstance(a, float) else a),
    "Ceil": _unary(lambda a: float(math.ceil(a)) if isinstance(a, float) else a),
    "Not": _unary(lambda a: not a),
    "Equal": _cmp(lambda a, b: a == b),
    "Less": _cmp(lambda a, b: a < b),
    "Greater": _cmp(lambda a, b: a > b),
    "LessOrEqual": _cmp(lambda a, b: a <= b),
    "GreaterOrEqual": _cmp(lambda a, b: a >= b),
    "And": _cmp(lambda a, b: bool(a and b)),
    "Or": _cmp(lambda a, b: bool(a or b)),
    "Where": _where,
    "Range": _range,
    "Transpose": _transpose,
}
_WITH_OPSET = {"Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Slice": _slice}


def _shape_of(name: str, shapes: Mapping[str, tuple[int, ...]], attrs: Attrs, op: str) -> Value | None:
    dims = shapes.get(name)
    if dims is None:
        return None
    if op == "Size":
        return Value(7, (), (_numel(dims),))
    rank = len(dims)
    start, end = int(attrs.get("start", 0)), int(attrs.get("end", rank))
    start, end = (max(0, min(rank, i + rank if i < 0 else i)) for i in (start, end))
    return Value(7, (max(end - start, 0),), dims[start:end])


def _attrs(node: Any) -> Attrs:
    out: Attrs = {}
    for a in node.attribute:
        if a.type == 1:
            out[a.name] = a.f
        elif a.type == 2:
            out[a.name] = a.i
        elif a.type == 7:
            out[a.name] = tuple(a.ints)
    return out


def evaluate(node: Any, values: Mapping[str, Value], shapes: Mapping[str, tuple[int, ...]], opset: int) -> Value | None:
    """The value of ``node``'s single output, if its inputs are known (None: unknown)."""
    if node.domain not in ("", "ai.onnx") or len(node.output) != 1:
        return None
    op, attrs = node.op_type, _attrs(node)
    if op in ("Shape", "Size"):
        return _shape_of(node.input[0], shapes, attrs, op) if node.input else None
    ins = [values.get(i) if i else None for i in node.input]
    if any(i and v is None for i, v in zip(node.input, ins)):
        return None  # a named input whose value is not known
    if op == "ConstantOfShape":
        return _constant_of_shape(ins, attrs, node)
    if op in _WITH_OPSET:
        return _WITH_OPSET[op](ins, attrs, opset)
    run = EVALUATORS.get(op)
    return run(ins, attrs) if run is not None else None


# -- the rounds -----------------------------------------------------------------------------

def _static_shapes(g: Any) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for value in itertools.chain(g.input, g.value_info, g.output):
        tt = value.type.tensor_type if value.type.HasField("tensor_type") else None
        if tt is None or not tt.HasField("shape") or not all(d.HasField("dim_value") for d in tt.shape.dim):
            continue
        shapes[value.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def _to_constant(node: Any, value: Value) -> None:
    """Rewrite ``node`` in place into a Constant node holding ``value``."""
    name = node.output[0]
    node.op_type, node.domain = "Constant", ""
    del node.input[:]
    del node.attribute[:]
    a = node.attribute.add()
    a.name, a.type = "value", 4
    a.t.name, a.t.data_type = name, value.dtype
    a.t.dims.extend(value.dims)
    code = _STORAGE[value.dtype][1]
    a.t.raw_data = struct.pack(f"<{len(value.data)}{code}", *value.data)  # raw_data is little-endian by definition


def infer_folded(model: Any, order: list[int], opset: int, infer: Callable[[Any], Any]) -> tuple[Any, dict[str, Value]]:
    """Shape inference of ``model``, with its shape arithmetic evaluated until nothing new is learnt,
    and the small values known (initializers, constants, evaluated shape arithmetic).

    ``order``: the indices of ``model.graph.node`` in a topological order. ``infer``: the
    model in, the inferred model out. The evaluated nodes of ``model`` become Constant nodes.
    """
    g = model.graph
    values: dict[str, Value] = {}
    for init in g.initializer:
        if (v := tensor_value(init)) is not None:
            values[init.name] = v
    for node in g.node:
        if node.op_type == "Constant" and node.output and (v := _constant_value(node)) is not None:
            values[node.output[0]] = v
    inferred = infer(model)
    read = {i for n in g.node for i in n.input if i} | {o.name for o in g.output}  # unread optional outputs need no shape
    for _ in range(MAX_ROUNDS):
        shapes = _static_shapes(inferred.graph)
        if read <= shapes.keys():
            break
        learnt = 0
        for i in order:
            node = g.node[i]
            if node.op_type == "Constant" or not node.output or node.output[0] in values:
                continue
            value = evaluate(node, values, shapes, opset)
            if value is not None:
                values[node.output[0]] = value
                _to_constant(node, value)
                learnt += 1
        if not learnt:
            break
        inferred = infer(model)
    return inferred, values

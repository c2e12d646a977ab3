"""ONNX nodes → mncost layers, under the conventions of the specs (README, "Counting conventions").

- A Conv (or Gemm / MatMul with a learned matrix) starts a fused chain: a following
  BatchNormalization and per-channel constant scales/shifts fold into it (their
  parameters go to ``bn_params``), then the element-wise ops computed from the
  chain alone (Relu, Clip, HardSwish, Sigmoid·x, the Erf form of GELU…) run fused:
  the chain reads the conv's input once and writes its last output once.
- A BatchNormalization with no conv before it folds into the convs it feeds, else
  it is an element-wise layer.
- Squeeze-excite is found by its structure (a per-channel gate computed from the
  global pool of the very tensor it scales) and put in the ``se`` group.
- Reshape, Flatten, Squeeze, Identity, Dropout and shape arithmetic are views: no
  layer, no cost; so are a Concat, Split or unit-step Slice along an axis with only
  unit axes before it (the channels of a batch-1 map: each part is one contiguous
  range of the buffer), as the specs count concatenation. Transpose, other Concats
  and Slices, Pad, Resize (nearest)… move bytes.
- Every other op is listed in ``unhandled`` with its count; nothing is dropped silently.
- A quantized graph arrives read through as its float graph (:mod:`mncost.graph.quant`);
  each layer carries the sizes the graph stores its weights, inputs and output at.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from .. import ops
from ..ops import LayerCost, Shape
from .loader import FLOAT_DTYPES, Graph, GraphError, Node
from .quant import QUANTIZED_DTYPES
from .structure import GraphView

VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Shape", "Size", "Constant",
                      "ConstantOfShape", "Range", "NonZero", "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"})
ACTIVATIONS = {
    "Relu": "relu", "Clip": "relu6", "HardSwish": "hswish", "HardSigmoid": "hsigmoid", "Sigmoid": "sigmoid", "Gelu": "gelu",
    "Tanh": "tanh", "LeakyRelu": "leaky_relu", "Elu": "elu", "Selu": "selu", "Celu": "celu", "Softplus": "softplus",
    "Softsign": "softsign", "Mish": "mish", "ThresholdedRelu": "thresholded_relu", "PRelu": "prelu", "Erf": "gelu",
    "Swish": "swish", "Exp": "exp", "Abs": "abs", "Neg": "neg", "Sqrt": "sqrt", "Reciprocal": "reciprocal",
    "Floor": "floor", "Ceil": "ceil", "Round": "round", "Sign": "sign", "Sin": "sin", "Cos": "cos", "Log": "log",
}
# Ops whose integer outputs are data, not shape arithmetic (dynamic quantization's int32 accumulators).
INTEGER_COMPUTE = frozenset({"QuantizeLinear", "DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"})
ARITHMETIC = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean"})
TRANSPARENT = frozenset({"Identity", "Dropout"})
MOVES = frozenset({"Transpose", "Concat", "Slice", "Split", "Gather", "GatherElements", "GatherND", "Pad", "Tile", "Expand",
                   "DepthToSpace", "SpaceToDepth", "Cast", "CastLike", "ScatterND", "ScatterElements", "Where", "ReverseSequence"})
NORMS = frozenset({"LayerNormalization", "InstanceNormalization", "GroupNormalization", "LpNormalization", "MeanVarianceNormalization"})
REDUCES = frozenset({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
                     "ReduceLogSumExp", "ArgMax", "ArgMin"})


@dataclass
class Mapped:
    """The layers of a graph, with what was not counted."""

    layers: list[LayerCost]
    unhandled: Counter[str] = field(default_factory=Counter)  # op → nodes not counted
    views: Counter[str] = field(default_factory=Counter)  # op → nodes that cost nothing (views, constants)
    out_shape: Shape = ()
    acts: dict[str, str] = field(default_factory=dict)  # layer name → the activation fused into it
    writes: dict[str, str] = field(default_factory=dict)  # layer name → the tensor it writes (the end of its fused chain)


def contiguous(graph: Graph, node: Node) -> bool:
    """A Concat, Split or unit-step Slice whose parts are contiguous ranges of the buffer: along one
    axis with only unit axes before it (batch 1: the channels of an N×C×H×W map). A view."""
    if node.op not in ("Concat", "Split", "Slice") or not node.inputs or not node.inputs[0]:
        return False
    shape = graph.shape(node.inputs[0])
    if node.op == "Slice":
        out = graph.shape(node.outputs[0])
        axes = [a for a, (x, y) in enumerate(zip(shape, out)) if x != y]
        steps = node.inputs[4] if len(node.inputs) > 4 else ""
        if len(out) != len(shape) or len(axes) > 1 or (steps and set(graph.values.get(steps, (0,))) != {1}):
            return False
        axis = axes[0] if axes else 0
    else:
        axis = int(node.attrs.get("axis", 0 if node.op == "Split" else 1))
        axis += len(shape) if axis < 0 else 0
    return all(d == 1 for d in shape[:axis])


def _per_image(shape: tuple[int, ...]) -> Shape:
    """Drop the batch axis (batch is 1): mncost shapes are per image."""
    return tuple(shape[1:]) if len(shape) > 1 else tuple(shape)


class _Mapper(GraphView):
    def __init__(self, graph: Graph, *, graph_dtypes: bool = True) -> None:
        super().__init__(graph)
        self.layers: list[LayerCost] = []
        self.unhandled: Counter[str] = Counter()
        self.views: Counter[str] = Counter(graph.qdq_views)
        self.graph_dtypes = graph_dtypes
        self.node: Node | None = None  # the node being mapped
        self.tail: str | None = None  # the last tensor of its fused chain
        self.pending_fold: dict[str, int] = {}  # tensor → BN params to fold into the first conv that reads it
        self.acts: dict[str, str] = {}
        self.writes: dict[str, str] = {}

    # -- helpers ---------------------------------------------------------------------------

    def emit(self, layer: LayerCost) -> None:
        if self.graph_dtypes and self.node is not None:
            layer = self.sized(layer, self.node)
        self.layers.append(layer)
        if self.node is not None and self.node.outputs:
            self.writes[layer.name] = self.tail or self.node.outputs[0]

    def sized(self, layer: LayerCost, node: Node) -> LayerCost:
        """The sizes the graph states for the layer's weights, inputs and output (quantized tensors only).

        Inputs the graph states differently (or leaves some at float) are read at the profile's dtype.
        """
        size = self.g.stored_bytes
        reads = [size(i) for i in self.act_inputs(node)]
        read = reads[0] if reads and all(r == reads[0] for r in reads) else None
        write = size(self.tail or node.outputs[0])
        weight = next((s for i in node.inputs if i and self.const(i) and (s := size(i)) is not None), None)
        if read is write is weight is None:
            return layer
        return replace(layer, weight_bytes_per_param=weight, read_bytes_per_elem=read, write_bytes_per_elem=write)

    # -- fused chains ----------------------------------------------------------------------

    def fuse(self, start: Node, out: str, *, fold: bool = True) -> tuple[str, int, str]:
        """Absorb what runs fused after ``start``: BN and affine constants, then activations.

        Returns (last tensor of the chain, folded affine params, activation or "none").
        """
        chain: set[str] = {out}
        tail = out
        folded = 0
        channels = self.g.shape(out)[1] if len(self.g.shape(out)) > 1 else 0

        def only_user(tensor: str) -> Node | None:
            users = self.users(tensor)
            if len(users) != 1 or tensor in self.g.outputs:
                return None
            return users[0]

        while fold:
            nxt = only_user(tail)
            if nxt is None or nxt.index in self.done:
                break
            if nxt.op == "BatchNormalization" and nxt.inputs[0] == tail and all(self.const(i) for i in nxt.inputs[1:3] if i):
                folded += sum(self.numel(i) for i in nxt.inputs[1:3] if i)  # scale and shift (2·C); running stats are not parameters
            elif nxt.op in ("Mul", "Add", "Sub", "Div") and len(self.act_inputs(nxt)) == 1 and tail in nxt.inputs:
                other = next(i for i in nxt.inputs if i != tail)
                size = self.numel(other)
                if size not in (1, channels) or self.g.shape(nxt.outputs[0]) != self.g.shape(tail):
                    break
                folded += size if size == channels else 0
            elif nxt.op in TRANSPARENT:
                pass
            else:
                break
            self.done.add(nxt.index)
            tail = nxt.outputs[0]
            chain.add(tail)

        act = "none"
        absorbed: list[Node] = []
        best = (tail, act, 0)
        members = set(chain)
        while True:
            candidates = []
            for tensor in members:
                for user in self.users(tensor):
                    if user.index in self.done or user in absorbed or len(user.outputs) != 1:
                        continue
                    if user.op not in ACTIVATIONS and user.op not in ARITHMETIC and user.op not in TRANSPARENT:
                        continue
                    inputs = [i for i in user.inputs if i]
                    if all(i in members or self.const(i) for i in inputs) and self.g.shape(user.outputs[0]) == self.g.shape(tensor):
                        candidates.append(user)
            if not candidates:
                break
            user = min(candidates, key=lambda n: n.index)
            absorbed.append(user)
            members.add(user.outputs[0])
            if user.op in ACTIVATIONS and act == "none":
                act = ACTIVATIONS[user.op]
            elif user.op == "Mul" and act in ("none", "sigmoid") and len(self.act_inputs(user)) > 1:
                act = "swish"  # x·σ(x): a product of the chain with itself
            tail_now = user.outputs[0]
            inside = {n.index for n in absorbed}
            valid = all(
                t == tail_now or (t not in self.g.outputs and all(u.index in inside for u in self.users(t)))
                for t in members - chain | {tail}
            )
            if valid:
                best = (tail_now, act, len(absorbed))
        tail, act, keep = best
        if keep == 0:
            act = "none"
        for node in absorbed[:keep]:
            self.done.add(node.index)
        self.tail = tail
        return tail, folded, act

    # -- handlers --------------------------------------------------------------------------

    def conv(self, node: Node, *, transposed: bool = False) -> None:
        x, w = node.inputs[0], node.inputs[1]
        b = node.inputs[2] if len(node.inputs) > 2 and node.op != "ConvInteger" else ""  # ConvInteger's third input is a zero point
        if not self.const(w):
            self.unhandled[f"{node.op} (weights computed at run time)"] += 1
            return
        out = node.outputs[0]
        tail, folded, act = self.fuse(node, out)
        folded += self.pending_fold.pop(x, 0)
        pads = node.attrs.get("pads", (0, 0, 0, 0))
        if node.index in self.conv_pads:
            x, p = self.conv_pads[node.index]
            pads = (p,) * 4
        in_shape = _per_image(self.g.shape(x))
        out_shape = _per_image(self.g.shape(tail))
        w_shape = self.g.shape(w)
        groups = int(node.attrs.get("group", 1))
        se = node.index in self.se_nodes
        layer = None
        strides = node.attrs.get("strides", (1, 1))
        dilations = node.attrs.get("dilations", (1, 1))
        if (not transposed and len(w_shape) == 4 and w_shape[2] == w_shape[3] and len(set(strides)) == 1 and len(set(pads)) == 1
                and set(dilations) == {1} and node.attrs.get("auto_pad", "NOTSET") == "NOTSET" and len(in_shape) == 3):
            layer = ops.conv2d(node.name, node.op, in_shape, w_shape[0], w_shape[2], stride=int(strides[0]), groups=groups,
                               bias=bool(b), bn=False, act=act, padding=int(pads[0]),
                               op="se_fc" if se else None, group="se" if se else None)
            if layer.out_shape != out_shape:
                layer = None  # let the graph's own shapes decide
        if layer is None:
            layer = ops.conv_from_graph(node.name, node.op, in_shape, out_shape, w_shape, groups=groups, bias=bool(b), act=act,
                                        transposed=transposed, op="se_fc" if se else None, group="se" if se else None)
        self.acts[node.name] = act
        if w in self.g.blur_filters and groups == in_shape[0] == w_shape[0] and not b and not folded and act == "none":
            layer = replace(layer, op="blur", params=0)  # a fixed filter: a blur pool, as the specs' aa: blur
        self.emit(ops.fold_affine(layer, folded) if folded else layer)

    def gemm(self, node: Node) -> None:
        a, b_in = node.inputs[0], node.inputs[1]
        c = node.inputs[2] if len(node.inputs) > 2 else ""
        if not self.const(b_in):
            return self.matmul(node)
        a_shape = self.g.shape(a)
        out = node.outputs[0]
        bias = self.numel(c) if c and self.const(c) else 0
        tail, folded, act = self.fuse(node, out, fold=False)
        n_out = self.g.shape(out)[-1]
        layer = ops.linear(node.name, node.op, ops.numel(a_shape), n_out, bias=bool(bias), act=act)
        self.acts[node.name] = act
        if bias and bias != n_out:
            layer = ops.matmul(node.name, node.op, _per_image(a_shape), self.g.shape(b_in), _per_image(self.g.shape(tail)), weight=True, bias=bias, act=act)
        self.emit(layer)

    def matmul(self, node: Node, a: str = "", b: str = "") -> None:
        a = a or node.inputs[0]
        b = b or node.inputs[1]
        out = node.outputs[0]
        weight = self.const(b)
        bias = 0
        tail = out
        if weight:
            users = self.users(out)
            n_out = self.g.shape(out)[-1]
            if len(users) == 1 and users[0].op == "Add" and len(self.act_inputs(users[0])) == 1 and out not in self.g.outputs:
                other = next(i for i in users[0].inputs if i != out)
                if self.numel(other) == n_out:  # the linear layer's bias
                    bias = n_out
                    self.done.add(users[0].index)
                    out = users[0].outputs[0]
            start = self.g.producer.get(out, node)
        else:
            start = node
        tail, folded, act = self.fuse(start, out, fold=False)
        a_shape = self.g.shape(a)
        self.acts[node.name] = act
        if weight and len(a_shape) == 2 and a_shape[0] == 1:
            layer = ops.linear(node.name, node.op, a_shape[1], self.g.shape(tail)[-1], bias=bool(bias), act=act)
        else:
            layer = ops.matmul(node.name, node.op, _per_image(a_shape), self.g.shape(b) if weight else _per_image(self.g.shape(b)),
                               _per_image(self.g.shape(tail)), weight=weight, bias=bias, act=act)
        if weight and a in self.pending_fold:
            layer = replace(layer, bn_params=layer.bn_params + self.pending_fold.pop(a))
        self.emit(layer)

    def batchnorm(self, node: Node) -> None:
        out = node.outputs[0]
        params = sum(self.numel(i) for i in node.inputs[1:3] if i)
        users = self.users(out)
        if users and out not in self.g.outputs and all(u.op in ("Conv", "ConvTranspose") and u.inputs[0] == out for u in users):
            self.pending_fold[out] = self.pending_fold.get(out, 0) + params  # a pre-norm: folds into the convs it feeds
            return
        if out in self.token_inputs and len(users) == 1 and out not in self.g.outputs:
            into = self.token_inputs[out]  # a pre-norm of a token linear (FastViT's attention): folds into it
            self.pending_fold[into] = self.pending_fold.get(into, 0) + params
            return
        self.elementwise(node, op="norm", bn_params=params)

    def elementwise(self, node: Node, *, op: ops.Op, ops_per_elem: int = 1, bn_params: int = 0, fuse: bool = False) -> None:
        acts = self.act_inputs(node)
        consts = [i for i in node.inputs if i and self.const(i)]
        out = node.outputs[0]
        tail, act = out, "none"
        if fuse:
            tail, _, act = self.fuse(node, out, fold=False)
        out_shape = _per_image(self.g.shape(tail))
        in_shape = _per_image(self.g.shape(acts[0])) if acts else out_shape
        in_elems = sum(self.numel(i) for i in acts)
        float_consts = [i for i in consts if self.g.dtype(i) in FLOAT_DTYPES | QUANTIZED_DTYPES and self.numel(i) > 1]
        params = 0
        if float_consts and not bn_params:
            size = sum(self.numel(i) for i in float_consts)
            channels = out_shape[0] if out_shape else 0
            if size <= channels:
                bn_params = size  # a per-channel affine, reported apart like BN
            else:
                params = size
        extra = 1 if act != "none" else 0
        if op == "add" and not consts and len(acts) == 2 and self.g.shape(acts[0]) == self.g.shape(acts[1]) and not extra:
            self.emit(ops.residual_add(node.name, node.op, out_shape))
            return
        se = node.index in self.se_nodes
        if op == "scale" and len(acts) == 2 and not extra:
            small = min(acts, key=self.numel)
            big = max(acts, key=self.numel)
            if self.numel(small) == (out_shape[0] if out_shape else -1) and self.g.shape(big) == self.g.shape(out):
                self.emit(ops.channel_scale(node.name, node.op, out_shape, group="se" if se else "elementwise"))
                return
        if op == "act":
            act = ACTIVATIONS[node.op]
        self.emit(ops.elementwise(node.name, node.op, in_elems, in_shape, out_shape, op=op, ops_per_elem=ops_per_elem + extra,
                                  params=params, bn_params=bn_params, group="se" if se else ("norm" if op == "norm" else "elementwise"),
                                  act=act))

    def norm(self, node: Node) -> None:
        """Mean, variance, normalise, affine: the specs' norm convention (README, "Counting conventions");
        a LayerNorm over the channels of an N×C×H×W map (Transposes around it) is one layer on that map."""
        affine = sum(self.numel(i) for i in node.inputs[1:3] if i and self.const(i))
        if node.index not in self.channel_norms:
            self.elementwise(node, op="norm", ops_per_elem=ops.NORM_OPS_PER_ELEMENT, bn_params=affine)
            return
        x, out = self.channel_norms[node.index]
        self.tail = out
        shape = _per_image(self.g.shape(x))
        self.emit(ops.elementwise(node.name, node.op, self.numel(x), shape, shape, op="norm", ops_per_elem=ops.NORM_OPS_PER_ELEMENT,
                                  bn_params=affine, group="norm"))

    def pool(self, node: Node) -> None:
        x, out = node.inputs[0], node.outputs[0]
        in_shape, out_shape = _per_image(self.g.shape(x)), _per_image(self.g.shape(out))
        se = node.index in self.se_nodes
        if node.op in ("GlobalAveragePool", "GlobalMaxPool") or (node.op in REDUCES and len(out_shape) == 3 and out_shape[1:] == (1, 1)
                                                                and len(in_shape) == 3 and out_shape[0] == in_shape[0]):
            self.emit(ops.global_pool(node.name, node.op, in_shape, group="se" if se else "elementwise"))
            return
        if node.op in REDUCES:
            window = max(1, ops.numel(in_shape) // max(1, ops.numel(out_shape)))  # elements reduced into each output
            self.emit(ops.window_pool(node.name, node.op, in_shape, out_shape, window))
            return
        kernel = tuple(int(k) for k in node.attrs.get("kernel_shape", (1, 1)))
        strides = tuple(int(s) for s in node.attrs.get("strides", (1,) * len(kernel)))
        pads = tuple(node.attrs.get("pads", (0,) * (2 * len(kernel))))
        ceil = int(node.attrs.get("ceil_mode", 0))
        if (node.op == "AveragePool" and len(kernel) == 2 and kernel[0] == kernel[1] == strides[0] == strides[1] and ceil and not any(pads)
                and len(in_shape) == 3):
            layer = ops.avg_pool_ceil(node.name, node.op, in_shape, kernel[0])
            if layer.out_shape == out_shape:
                self.emit(layer)
                return
        self.emit(ops.window_pool(node.name, node.op, in_shape, out_shape, ops.numel(kernel)))

    def resize(self, node: Node) -> None:
        x, out = node.inputs[0], node.outputs[0]
        in_shape, out_shape = _per_image(self.g.shape(x)), _per_image(self.g.shape(out))
        mode = node.attrs.get("mode", "nearest")
        if mode == "linear":
            self.emit(ops.upsample_bilinear(node.name, node.op, in_shape, out_shape))
        elif mode == "cubic":
            self.emit(ops.elementwise(node.name, node.op, ops.numel(in_shape), in_shape, out_shape, op="upsample", ops_per_elem=16))
        else:
            self.emit(ops.data_movement(node.name, node.op, ops.numel(in_shape), in_shape, out_shape))

    def move(self, node: Node) -> None:
        acts = [i for i in self.act_inputs(node) if self.g.dtype(i) in FLOAT_DTYPES | {2, 3}]
        outs = [o for o in node.outputs if o]
        if not acts or contiguous(self.g, node):
            self.views[node.op] += 1
            return
        in_shape = _per_image(self.g.shape(acts[0]))
        out_shape = _per_image(self.g.shape(outs[0]))
        self.emit(ops.data_movement(node.name, node.op, sum(self.numel(i) for i in acts), in_shape, out_shape,
                                    out_elems=sum(self.numel(o) for o in outs)))

    def attention(self, node: Node) -> None:
        layer = self.attention_at.get(node.index)
        if layer is not None:
            self.emit(layer)
        else:
            self.matmul(node)

    def run(self) -> Mapped:
        self.mark_shape_arithmetic()
        self.find_se(frozenset(ACTIVATIONS) | ARITHMETIC | TRANSPARENT)
        self.find_attention()
        self.find_linear_attention()
        self.find_channel_norms()
        self.find_token_linears()
        self.find_conv_pads()
        handlers = {
            "Conv": self.conv,
            "ConvTranspose": lambda n: self.conv(n, transposed=True),
            "ConvInteger": self.conv,
            "Gemm": self.gemm,
            "MatMul": self.attention,
            "MatMulInteger": self.matmul,
            "BatchNormalization": self.batchnorm,
            "Softmax": lambda n: self.elementwise(n, op="softmax"),
            "LogSoftmax": lambda n: self.elementwise(n, op="softmax"),
            "Add": lambda n: self.elementwise(n, op="add", fuse=True),
            "Sub": lambda n: self.elementwise(n, op="eltwise", fuse=True),
            "Mul": lambda n: self.elementwise(n, op="scale", fuse=True),
            "Div": lambda n: self.elementwise(n, op="eltwise", fuse=True),
            "Resize": self.resize,
            "Upsample": self.resize,
        }
        for op in ACTIVATIONS:
            handlers.setdefault(op, lambda n: self.elementwise(n, op="act"))
        for op in ARITHMETIC:
            handlers.setdefault(op, lambda n: self.elementwise(n, op="eltwise"))
        for op in NORMS:
            handlers[op] = self.norm
        for op in ("GlobalAveragePool", "GlobalMaxPool", "AveragePool", "MaxPool", "LpPool", *REDUCES):
            handlers[op] = self.pool
        for op in MOVES:
            handlers[op] = self.move
        for node in self.g.nodes:
            if node.index in self.done:
                continue
            outs = [o for o in node.outputs if o]
            if node.op in VIEW_OPS or (outs and all(o in self.g.constants for o in outs)):
                self.views[node.op] += 1
                continue
            if node.op not in INTEGER_COMPUTE and outs and all(self.g.dtype(o) in (6, 7, 9) for o in outs):
                self.views[node.op] += 1  # integer shape arithmetic
                continue
            handler = handlers.get(node.op)
            if handler is None or node.domain not in ("", "ai.onnx"):
                if outs and all(self.g.dtype(o) in (6, 7, 9) for o in outs):
                    self.views[node.op] += 1  # shape arithmetic on integer tensors
                else:
                    self.unhandled[node.op if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op}"] += 1
                continue
            if node.op in MOVES and outs and all(self.g.dtype(o) in (6, 7, 9) for o in outs):
                self.views[node.op] += 1
                continue
            self.done.add(node.index)
            self.node, self.tail = node, None
            handler(node)
        out_shape = _per_image(self.g.shape(next(iter(sorted(self.g.outputs))))) if self.g.outputs else ()
        return Mapped(layers=self.layers, unhandled=self.unhandled, views=self.views, out_shape=out_shape, acts=self.acts, writes=self.writes)


def map_graph(graph: Graph, *, graph_dtypes: bool = True) -> Mapped:
    """The layers of ``graph`` in execution order, plus the ops it could not count.

    ``graph_dtypes``: quantized tensors carry the sizes the graph stores them at
    (False: every byte at the profile's dtypes, as for a spec).
    """
    try:
        return _Mapper(graph, graph_dtypes=graph_dtypes).run()
    except ValueError as exc:
        raise GraphError(str(exc), file=graph.file) from None

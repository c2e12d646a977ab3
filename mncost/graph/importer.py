"""``mncost import model.onnx``: an ONNX graph written back as an architecture spec.

The mapped layers are read as a chain of the spec vocabulary's blocks — inverted
residuals (with SE), depthwise-separable blocks, UIB, FusedIB, Mobile MQA, residual
groups (with a shortcut of their own and an activation after the add: ResNet, RegNet),
SE blocks, and the single conv / dwconv / pwconv / pool / pool2d / fc layers — each
with a comment naming the ONNX nodes it came from. Every width is written ``fixed``: a graph holds one width, so
``--alpha`` changes nothing until the user writes a width rule into the file.

The spec is then walked and compared with the graph layer by layer (MACs, params,
BN params, traffic, element-wise ops); a spec that would count differently is never
written. Mobile MQA (the V4 hybrids' attention) is read as an ``mqa`` block, multi-head
attention over a map's tokens (FastViT) as ``mhsa``, ReLU linear attention (EfficientViT) as
``lite_mla`` and a blur filter as a ``pool2d`` blur; a residual
add outside a block wraps the blocks since its skip in a residual ``group``. Branches
joined by a channel concatenation become a ``concat`` block (each branch's blocks; ``split``
when they read equal channel parts of one map, ShuffleNetV2) and a channel shuffle
(Reshape → Transpose → Reshape) a ``shuffle``. What has no block in the vocabulary
(other attention layouts, non-square kernels, folded-BN biases inside bottlenecks,
branches that read different maps) is an error naming the node.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import ops
from ..ops import ACTIVATIONS, LayerCost, same_padding
from .loader import Graph, GraphError, Node, load_graph
from .mapping import Mapped, contiguous, map_graph
from .structure import LINEAR_ATTENTION

_VIEWS = ("BatchNormalization", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout")


@dataclass
class _Layer:
    cost: LayerCost
    node: Node | None
    act: str

    @property
    def op(self) -> str:
        return self.cost.op

    @property
    def c_in(self) -> int:
        return self.cost.in_shape[0]

    @property
    def c_out(self) -> int:
        return self.cost.out_shape[0]

    @property
    def bias(self) -> bool:
        return self.node is not None and len(self.node.inputs) > 2 and bool(self.node.inputs[2])

    @property
    def bn(self) -> bool:
        return self.cost.bn_params > 0

    def conv_attrs(self, graph: Graph) -> tuple[int, int, int, int] | None:
        """(k, stride, padding, groups) of a square, symmetric, undilated conv; None otherwise."""
        node = self.node
        if node is None or node.op != "Conv":
            return None
        w = graph.shape(node.inputs[1])
        strides = node.attrs.get("strides", (1, 1))
        pads = node.attrs.get("pads", (0, 0, 0, 0))
        if len(w) != 4 or w[2] != w[3] or len(set(strides)) != 1 or len(set(pads)) != 1 or set(node.attrs.get("dilations", (1, 1))) != {1}:
            return None
        if node.attrs.get("auto_pad", "NOTSET") != "NOTSET":
            return None
        return int(w[2]), int(strides[0]), int(pads[0]), int(node.attrs.get("group", 1))


def _fail(graph: Graph, layer: _Layer, why: str) -> GraphError:
    return GraphError(f"cannot import node {layer.cost.name!r} ({layer.node.op if layer.node else layer.op}): {why}", file=graph.file)


class _Reader:
    def __init__(self, graph: Graph, mapped: Mapped) -> None:
        self.g = graph
        by_name = {n.name: n for n in graph.nodes}
        self.layers = [_Layer(c, by_name.get(c.name), mapped.acts.get(c.name, "none")) for c in mapped.layers]
        self.writes = mapped.writes
        self.grouped: set[int] = set()  # Concat nodes already read as a concat block
        self.se: dict[str, Any] | None = None
        self.channels_last = False  # between a Transpose to N×H×W×C and the one back (ConvNeXt's LayerNorm, Linear)

    def at(self, i: int, *ops_: str) -> _Layer | None:
        if i < len(self.layers) and self.layers[i].op in ops_:
            return self.layers[i]
        return None

    def act(self, layer: _Layer) -> str:
        if layer.act not in ACTIVATIONS:
            raise _fail(self.g, layer, f"activation {layer.act!r} has no spec name (spec activations: {', '.join(ACTIVATIONS)})")
        return layer.act

    def plain(self, layer: _Layer, *, bn: bool = True, act: bool | None = None, dw: bool | None = None) -> tuple[int, int, int, int] | None:
        """(k, stride, padding, groups) when ``layer`` is a conv of the kind a block makes."""
        attrs = layer.conv_attrs(self.g)
        if attrs is None or layer.bias or layer.bn != bn:
            return None
        if act is not None and (layer.act != "none") != act:
            return None
        k, _, pad, groups = attrs
        if pad != same_padding(k):
            return None
        if dw is not None and (layer.op == "dwconv") != dw:
            return None
        return attrs

    def squeeze_excite(self, i: int, channels: int, in_channels: int, block_act: str, *,
                       spec_wide: bool = True) -> tuple[int, bool | dict[str, Any]]:
        """Layers of an SE at ``i`` on ``channels`` (0 when none) and the block's ``se`` value.

        The first SE sets the spec-level settings; a later one they do not size (torchvision's
        EfficientNet squeezes the block input: ``in // 4``) gets its own ``se`` mapping."""
        pool, reduce, expand, scale = (self.layers[i + j] if i + j < len(self.layers) else None for j in range(4))
        if not (pool and reduce and expand and scale) or (pool.op, reduce.op, expand.op, scale.op) != ("pool", "se_fc", "se_fc", "scale"):
            return 0, False
        if pool.c_in != channels:
            return 0, False
        act, gate, squeeze = self.act(reduce), self.act(expand), reduce.c_out
        if not spec_wide:
            return 4, True
        if self.se is None:
            self.se = {"act": act, "gate": gate, "squeeze": squeeze, "channels": channels}
        if (act, gate) == (self.se["act"], self.se["gate"]) and _spec_wide_squeeze(self.se, channels) == squeeze:
            return 4, True
        return 4, _block_se(channels, in_channels, squeeze, act=act, gate=gate, block_act=block_act)

    def residual(self, i: int, c_in: int, c_out: int, stride: int) -> tuple[int, bool]:
        add = self.at(i, "add")
        if add is not None and stride == 1 and c_in == c_out:
            return 1, True
        return 0, False

    def mqa(self, i: int) -> tuple[dict[str, Any], int] | None:
        """Mobile MQA at ``i``: q (the pre-norm folded in) → [k_down] k → [v_down] v → attention → o → [add].

        The layers of the spec's ``mqa`` block in its order. A q projection followed by an
        attention core that does not fit (layout ops counted between them, query
        downsampling, other widths) is an error that says what did not fit.
        """
        q = self.at(i, "pwconv")
        if q is None or not self.plain(q, act=False, dw=False) or q.cost.bn_params != 2 * q.c_in or q.conv_attrs(self.g)[3] != 1:  # type: ignore[index]
            return None
        core_at = next((j for j in range(i + 1, min(i + 8, len(self.layers))) if self.layers[j].op == "attention"), None)
        if core_at is None:
            return None

        def misfit(why: str) -> GraphError:
            return _fail(self.g, q, f"a Mobile MQA (attention at {self.layers[core_at].cost.name!r}) whose layers do not fit the mqa block: {why}")

        c, j = q.c_in, i + 1
        dims, downs = [], []
        for part in ("k", "v"):
            down = self.at(j, "dwconv")
            if down is not None:
                attrs = self.plain(down, act=False, dw=True)
                if attrs is None or down.c_in != c:
                    raise misfit(f"the {part} downsampling {down.cost.name!r} is not a {c}-channel depthwise conv with its BN and no activation")
                downs.append(attrs[:2])
                j += 1
            proj = self.at(j, "pwconv")
            if proj is None or not self.plain(proj, bn=False, act=False, dw=False) or proj.conv_attrs(self.g)[3] != 1 or proj.c_in != c:  # type: ignore[index]
                raise misfit(f"expected the {part} projection (a bias-free 1×1 conv from {c} channels, no BN) at {self.layers[j].cost.name!r} "
                             f"({self.layers[j].op})")
            dims.append(proj.c_out)
            j += 1
        core, out = self.at(j, "attention"), self.at(j + 1, "pwconv")
        if core is None or out is None:
            raise misfit(f"expected the attention core then the output projection after the v projection, found {self.layers[j].cost.name!r} "
                         f"({self.layers[j].op})")
        if len(downs) == 1 or (downs and downs[0] != downs[1]):
            raise misfit("k and v are not downsampled alike")
        heads, q_len, key_dim = core.cost.in_shape
        key, value = dims
        if (key_dim, core.cost.out_shape[2]) != (key, value) or heads * key != q.c_out or out.c_in != heads * value:
            raise misfit(f"the widths of q ({q.c_out}), k ({key}), v ({value}) and the output ({out.c_in}) do not match {heads} heads")
        if q_len != q.cost.out_shape[1] * q.cost.out_shape[2]:
            raise misfit("the queries are downsampled (query_stride > 1 is not matched)")
        if not self.plain(out, bn=out.cost.bn_params > 0, act=False, dw=False) or out.cost.bn_params not in (0, out.c_out):
            raise misfit(f"the output projection {out.cost.name!r} is not a bias-free 1×1 conv (with a layer scale or none)")
        n_add, skip = self.residual(j + 2, c, out.c_out, 1)
        block: dict[str, Any] = {"type": "mqa", "heads": heads, "key_dim": key, "value_dim": value, "out": out.c_out}
        if downs:
            block["kv_stride"], block["kv_k"] = downs[0][1], downs[0][0]
        if out.cost.bn_params:
            block["layer_scale"] = True
        if not skip and c == out.c_out and out.cost.out_shape == q.cost.in_shape:
            block["skip"] = False
        return block, j + 2 + n_add - i

    def mhsa(self, i: int) -> tuple[dict[str, Any], int] | None:
        """Multi-head self-attention at ``i`` (FastViT): a token linear QKV C → 3C (a BN pre-norm folded in) →
        an attention core of C / head_dim heads, a K and V per head → a token linear C → C."""
        qkv, core, proj = self.at(i, "fc"), self.at(i + 1, "attention"), self.at(i + 2, "fc")
        if qkv is None or core is None or proj is None or core.cost.kind == LINEAR_ATTENTION or len(qkv.cost.in_shape) != 2:
            return None
        tokens, c = qkv.cost.in_shape
        heads, q_len, head_dim = core.cost.in_shape
        if heads * head_dim != c or q_len != tokens or qkv.cost.out_shape != (tokens, 3 * c) or proj.cost.in_shape != (tokens, c) \
                or proj.cost.out_shape != (tokens, c) or qkv.act != "none" or proj.act != "none":
            return None
        block: dict[str, Any] = {"type": "mhsa", "head_dim": head_dim}
        if qkv.cost.params == 3 * c * c + 3 * c:
            block["qkv_bias"] = True
        if proj.cost.params == c * c:
            block["proj_bias"] = False
        if qkv.cost.bn_params == 2 * c:
            block["norm"] = "batchnorm"
        elif qkv.cost.bn_params or proj.cost.bn_params:
            raise _fail(self.g, qkv, f"a multi-head attention whose projections fold {qkv.cost.bn_params + proj.cost.bn_params} norm "
                                     f"parameters has no block (mhsa folds a BatchNorm pre-norm, 2·{c}, into the QKV projection)")
        return block, 3

    def lite_mla(self, i: int) -> tuple[dict[str, Any], int] | None:
        """EfficientViT's LiteMLA at ``i``: 1×1 QKV conv C → 3·T → per scale k a k×k depthwise conv and a 1×1
        conv grouped per head → ReLU linear attention → 1×1 projection (+BN)."""
        qkv = self.at(i, "pwconv")
        core_at = next((j for j in range(i + 1, min(i + 12, len(self.layers))) if self.layers[j].op == "attention"), None)
        if qkv is None or core_at is None or self.layers[core_at].cost.kind != LINEAR_ATTENTION:
            return None
        if not self.plain(qkv, bn=False, act=False, dw=False) or qkv.conv_attrs(self.g)[3] != 1:  # type: ignore[index]
            return None
        core = self.layers[core_at]
        heads_total, _, head_dim = core.cost.in_shape
        total = qkv.c_out // 3
        heads = total // head_dim
        scales = []
        j = i + 1
        while j + 1 < core_at:
            dw, pw = self.at(j, "dwconv"), self.at(j + 1, "pwconv")
            dw_attrs = self.plain(dw, bn=False, act=False, dw=True) if dw is not None else None
            pw_attrs = pw.conv_attrs(self.g) if pw is not None else None
            if dw_attrs is None or pw_attrs is None or pw.bias or pw.bn or pw.act != "none" or pw_attrs[3] != 3 * heads:  # type: ignore[union-attr]
                return None
            if dw.c_in != qkv.c_out or pw.c_out != qkv.c_out:  # type: ignore[union-attr]
                return None
            scales.append(dw_attrs[0])
            j += 2
        proj = self.at(core_at + 1, "pwconv")
        if j != core_at or proj is None or heads_total != (1 + len(scales)) * heads or qkv.c_out != 3 * heads * head_dim:
            return None
        if not self.plain(proj, act=False, dw=False) or proj.c_in != heads_total * head_dim:
            return None
        return {"type": "lite_mla", "out": proj.c_out, "head_dim": head_dim, "scales": scales}, core_at + 2 - i

    def block(self, i: int) -> tuple[dict[str, Any], int]:
        """The block that starts at layer ``i`` and how many layers it spans."""
        for attention in (self.mqa, self.mhsa, self.lite_mla):
            found = attention(i)
            if found is not None:
                return found
        found = self.composite(i)
        if found is not None and self.chained(i, found[1]):
            return found
        return self.single(i)

    def chained(self, i: int, span: int) -> bool:
        """Every conv of layers i..i+span−1 after the first reads what a layer before it in the span wrote
        (a pw → dw → pw run across a concatenation is no inverted residual)."""
        written = {self.base(self.writes[x.cost.name]) for x in self.layers[i:i + 1] if x.cost.name in self.writes}
        for layer in self.layers[i + 1:i + span]:
            if layer.op in ("conv", "dwconv", "pwconv") and layer.node is not None and self.base(layer.node.inputs[0]) not in written:
                return False
            if layer.cost.name in self.writes:
                written.add(self.base(self.writes[layer.cost.name]))
        return True

    def composite(self, i: int) -> tuple[dict[str, Any], int] | None:
        """The multi-layer block (IR, DS, UIB, FusedIB) that starts at layer ``i``, if any."""
        first = self.layers[i]
        # inverted residual: [pw expand, act] → dw k×k (act) → [SE] → pw project (linear) → [add]
        j = i
        expand = self.at(j, "pwconv")
        if expand is not None and self.plain(expand, act=True, dw=False) and expand.conv_attrs(self.g)[3] == 1 and self.at(j + 1, "dwconv"):  # type: ignore[index]
            j += 1
        else:
            expand = None
        dw = self.at(j, "dwconv")
        if dw is not None and self.plain(dw, act=True, dw=True):
            k, stride, _, _ = dw.conv_attrs(self.g)  # type: ignore[misc]
            c_in = expand.c_in if expand else dw.c_in
            se, se_value = self.squeeze_excite(j + 1, dw.c_out, c_in, dw.act)
            project = self.at(j + 1 + se, "pwconv")
            if (project is not None and self.plain(project, act=False, dw=False) and project.conv_attrs(self.g)[3] == 1  # type: ignore[index]
                    and (expand is None or (expand.act == dw.act and expand.c_out != c_in))):
                n_add, skip = self.residual(j + 2 + se, c_in, project.c_out, stride)
                block = {"type": "ir", "k": k, "stride": stride, "exp": dw.c_out, "out": project.c_out, "act": self.act(dw)}
                if se:
                    block["se"] = se_value
                if not skip and stride == 1 and c_in == project.c_out:
                    block["skip"] = False
                return block, j + 2 + se + n_add - i
            # depthwise-separable: dw (act) → [SE] → pw (act or linear) → [add]
            if expand is None and project is None and (pw := self.at(j + 1 + se, "pwconv")) is not None and self.plain(pw, dw=False) \
                    and pw.conv_attrs(self.g)[3] == 1 and pw.act in ("none", dw.act):  # type: ignore[index]
                n_add, skip = self.residual(j + 2 + se, dw.c_in, pw.c_out, stride)
                block = {"type": "dsconv", "k": k, "stride": stride, "out": pw.c_out, "act": self.act(dw)}
                if pw.act == "none":
                    block["pw_act"] = False
                if se:
                    block["se"] = se_value
                if skip:
                    block["skip"] = True
                return block, j + 2 + se + n_add - i
        # UIB: [dw start, linear] → pw expand (act) → [dw mid (act)] → pw project (linear) → [add]
        j = i
        start = self.at(j, "dwconv")
        if start is not None and self.plain(start, act=False, dw=True):
            j += 1
        else:
            start = None
        expand = self.at(j, "pwconv")
        if expand is not None and self.plain(expand, act=True, dw=False) and expand.conv_attrs(self.g)[3] == 1:  # type: ignore[index]
            mid = self.at(j + 1, "dwconv")
            if mid is not None and not self.plain(mid, act=True, dw=True):
                mid = None
            project = self.at(j + 1 + (mid is not None), "pwconv")
            if project is not None and self.plain(project, act=False, dw=False) and project.conv_attrs(self.g)[3] == 1:  # type: ignore[index]
                c_in = (start or expand).c_in
                stride = (mid or start).conv_attrs(self.g)[1] if (mid or start) else 1  # type: ignore[union-attr,index]
                if start and mid and start.conv_attrs(self.g)[1] != 1:  # type: ignore[index]
                    stride = -1
                if stride > 0 and (start or mid or self.at(j + 2, "add")):  # an FFN UIB only with its residual
                    end = j + 2 + (mid is not None)
                    n_add, skip = self.residual(end, c_in, project.c_out, stride)
                    block = {"type": "uib", "start_dw": start.conv_attrs(self.g)[0] if start else 0,  # type: ignore[index]
                             "mid_dw": mid.conv_attrs(self.g)[0] if mid else 0, "expand": round(expand.c_out / c_in, 6),  # type: ignore[index]
                             "out": project.c_out, "stride": stride, "act": self.act(expand)}
                    if project.cost.bn_params == 3 * project.c_out:
                        block["layer_scale"] = True
                    if not skip and stride == 1 and c_in == project.c_out:
                        block["skip"] = False
                    return block, end + n_add - i
        # FusedIB: k×k conv expansion (act) → pw project (linear) → [add]
        attrs = self.plain(first, act=True, dw=False)
        project = self.at(i + 1, "pwconv")
        if attrs and attrs[3] == 1 and attrs[0] > 1 and project is not None and self.plain(project, act=False, dw=False) \
                and self.at(i + 2, "add"):
            n_add, skip = self.residual(i + 2, first.c_in, project.c_out, attrs[1])
            if skip:
                return {"type": "fused_ib", "k": attrs[0], "expand": round(first.c_out / first.c_in, 6), "out": project.c_out,
                        "stride": attrs[1], "act": self.act(first)}, 3
        return None

    def single(self, i: int) -> tuple[dict[str, Any], int]:
        """The one-layer block (or SE) at layer ``i``; an error when the vocabulary has none."""
        first = self.layers[i]
        found = self.layout_block(first)
        if found is not None:
            return found, 1
        if first.op == "attention":
            raise _fail(self.g, first, "an attention core without Mobile MQA's 1×1 q, k, v and output convs around it (and no query "
                                       "downsampling) has no block; analyze the .onnx file itself")
        if first.op in ("conv", "dwconv", "pwconv"):
            return self.single_conv(first), 1
        if first.op == "blur":
            return self.blur_pool(first), 1
        if first.op == "pool" and first.node is not None and first.node.op in ("GlobalAveragePool", "ReduceMean") and first.cost.group != "se":
            return {"type": "pool"}, 1
        if first.op == "pool" and first.cost.group == "se":
            # an SE after a plain conv (RegNet): the vocabulary's se block, sized as the exact fraction of the map
            n, _ = self.squeeze_excite(i, first.c_in, first.c_in, "none", spec_wide=False)
            if n:
                reduce, expand = self.layers[i + 1], self.layers[i + 2]
                return {"type": "se", "ratio": reduce.c_out / first.c_in, "act": self.act(reduce), "gate": self.act(expand)}, n
        if first.op == "pool" and first.node is not None and first.node.op in ("MaxPool", "AveragePool"):
            return self.local_pool(first), 1
        if first.op == "fc":
            block = {"type": "fc", "out": first.c_out}
            if not (first.node and len(first.node.inputs) > 2 and first.node.inputs[2]):
                block["bias"] = False
            if first.act != "none":
                block["act"] = self.act(first)
            return block, 1
        raise _fail(self.g, first, "no block of the spec vocabulary starts here (blocks expect bias-free convs with their BN; "
                                   "element-wise layers, data movement other than a channel shuffle or a layout permute, and residual "
                                   "adds whose skip is not the input of an earlier block have no block yet)")

    def single_conv(self, layer: _Layer) -> dict[str, Any]:
        attrs = layer.conv_attrs(self.g)
        if attrs is None:
            raise _fail(self.g, layer, "only square, symmetric, undilated convolutions have a spec block")
        k, stride, pad, groups = attrs
        if layer.op == "dwconv":
            block: dict[str, Any] = {"type": "dwconv", "k": k, "stride": stride}
        elif layer.op == "pwconv" and pad == 0 and stride == 1:
            block = {"type": "pwconv", "out": layer.c_out}
        else:
            block = {"type": "conv", "out": layer.c_out, "k": k, "stride": stride}
        if groups != 1 and layer.op != "dwconv":
            block["groups"] = groups
        if pad != same_padding(k) and block["type"] != "pwconv":
            block["padding"] = pad
        if layer.bias:
            block["bias"] = True
        folded = layer.cost.bn_params // layer.c_out if layer.cost.bn_params % layer.c_out == 0 else -1
        if folded not in (0, 1, 2, 3) or (folded % 2 and layer.act != "none"):
            raise _fail(self.g, layer, f"its folded affine has {layer.cost.bn_params} parameters; a spec conv folds a BN "
                                       f"({2 * layer.c_out}), a layer scale ({layer.c_out}, without an activation), both or none")
        if folded < 2:
            block["bn"] = False
        if folded % 2:
            block["layer_scale"] = True  # a per-channel γ after it (ConvNeXt, FastViT)
        if layer.act != "none":
            block["act"] = self.act(layer)
        return block

    def layout_block(self, layer: _Layer) -> dict[str, Any] | None:
        """ConvNeXt's channels-last pieces: the Transposes as ``permute``, a LayerNorm over the last
        (channel) axis as ``norm``, a Linear at every position as a biased ``pwconv``, and a learned
        per-channel scale as ``layer_scale``; None when ``layer`` is none of them."""
        node = layer.node
        if node is None:
            return None
        shape = layer.cost.in_shape
        if node.op == "Transpose" and len(shape) == 4 and tuple(node.attrs.get("perm", ())) == (0, 2, 1, 3, 4):
            src = self.g.producer.get(node.inputs[0])
            if src is not None and src.op == "Reshape" and len(self.g.shape(src.inputs[0])) == 4:
                return {"type": "shuffle", "groups": shape[0]}  # N×C×H×W viewed as N×g×C/g×H×W, g and C/g swapped
        if node.op == "Transpose" and len(shape) == 3:
            perm = tuple(int(p) for p in node.attrs.get("perm", ()))
            if perm in ((0, 2, 3, 1), (0, 3, 1, 2)) and self.channels_last == (perm == (0, 3, 1, 2)):
                self.channels_last = perm == (0, 2, 3, 1)
                return {"type": "permute"}
            return None
        if node.op == "LayerNormalization" and (self.channels_last and int(node.attrs.get("axis", -1)) in (-1, 3)
                                                or (not self.channels_last and len(shape) in (1, 3) and layer.cost.out_shape == shape)):
            block: dict[str, Any] = {"type": "norm"}
            if not layer.cost.bn_params:
                block["affine"] = False
            return block
        if layer.op == "fc" and self.channels_last and len(shape) == 3 and node.op == "MatMul":
            c_in, c_out = shape[-1], layer.cost.out_shape[-1]
            block = {"type": "pwconv", "out": c_out, "bn": False}
            if layer.cost.params == c_in * c_out + c_out:
                block["bias"] = True
            if layer.act != "none":
                block["act"] = self.act(layer)
            return block
        if (layer.op == "scale" and node.op == "Mul" and layer.cost.group == "elementwise" and len(shape) == 3
                and layer.cost.bn_params == shape[0] and len([i for i in node.inputs if i and i not in self.g.constants]) == 1):
            return {"type": "layer_scale"}
        return None

    def blur_pool(self, layer: _Layer) -> dict[str, Any]:
        """A depthwise conv by the fixed binomial filter as the spec's ``pool2d`` blur (its padding is the blur pool's)."""
        node = layer.node
        assert node is not None
        k = int(self.g.shape(node.inputs[1])[2])
        strides = tuple(int(s) for s in node.attrs.get("strides", (1, 1)))
        stride = strides[0]
        want = ops.blur_pool(layer.cost.name, "pool", layer.cost.in_shape, k=k, stride=stride).out_shape if len(set(strides)) == 1 else None
        if want != layer.cost.out_shape:
            raise _fail(self.g, layer, "a blur filter whose padding is not the blur pool's ((stride − 1) + (k − 1)) // 2 has no spec block")
        return {"type": "pool2d", "mode": "blur", "k": k, "stride": stride}

    def local_pool(self, layer: _Layer) -> dict[str, Any]:
        """A MaxPool / AveragePool as the spec's ``pool2d`` (square window, equal strides, symmetric pads)."""
        node = layer.node
        assert node is not None
        kernel = tuple(int(k) for k in node.attrs.get("kernel_shape", ()))
        strides = tuple(int(s) for s in node.attrs.get("strides", (1,) * len(kernel)))
        pads = tuple(int(p) for p in node.attrs.get("pads", (0,) * (2 * len(kernel))))
        dilations = tuple(int(d) for d in node.attrs.get("dilations", (1,) * len(kernel)))
        if (len(kernel) != 2 or len(set(kernel)) != 1 or len(set(strides)) != 1 or len(set(pads)) != 1 or set(dilations) != {1}
                or node.attrs.get("auto_pad", "NOTSET") != "NOTSET"):
            raise _fail(self.g, layer, "only square, equally strided, symmetrically padded, undilated pooling has a spec block (pool2d)")
        block: dict[str, Any] = {"type": "pool2d", "mode": "max" if node.op == "MaxPool" else "avg", "k": kernel[0]}
        if strides[0] != kernel[0]:
            block["stride"] = strides[0]
        if pads[0]:
            block["padding"] = pads[0]
        if node.attrs.get("ceil_mode", 0):
            block["ceil_mode"] = True
        if node.op == "AveragePool" and not node.attrs.get("count_include_pad", 0):
            block["count_include_pad"] = False  # ONNX's default; it changes values only, kept for the torch model
        return block

    def token_map(self, layer: _Layer) -> str:
        """The N×C×H×W map a token linear reads (through its flatten and transpose)."""
        tensor = layer.node.inputs[0] if layer.node else ""
        while (src := self.g.producer.get(tensor)) is not None and src.op in ("Transpose", "Flatten", "Reshape"):
            tensor = src.inputs[0]
        return tensor

    def base(self, tensor: str) -> str:
        """``tensor`` seen back through views and folded norms to the tensor they view."""
        src = self.g.producer.get(tensor)
        while src is not None and src.op in _VIEWS:
            tensor = src.inputs[0]
            src = self.g.producer.get(tensor)
        return tensor

    def reads(self, tensor: str) -> tuple[str, int | None]:
        """What a branch reads: (X, None) for a map X itself, (X, i) for the i-th equal channel part of X."""
        tensor = self.base(tensor)
        src = self.g.producer.get(tensor)
        if src is None or src.op not in ("Split", "Slice") or not contiguous(self.g, src):
            return tensor, None
        whole, piece = self.g.shape(src.inputs[0]), self.g.shape(tensor)
        if len(whole) != 4 or whole[2:] != piece[2:] or whole[1] % piece[1]:
            return tensor, None
        if src.op == "Split":
            if any(self.g.shape(o) != piece for o in src.outputs if o):
                return tensor, None
            return self.base(src.inputs[0]), list(src.outputs).index(tensor)
        starts = self.g.values.get(src.inputs[1], ())
        axes = self.g.values.get(src.inputs[3], tuple(range(len(starts)))) if len(src.inputs) > 3 and src.inputs[3] else tuple(range(len(starts)))
        at = [int(st) + (whole[1] if st < 0 else 0) for st, ax in zip(starts, axes) if ax in (1, -3)]
        if len(at) != 1 or at[0] % piece[1]:
            return tensor, None
        return self.base(src.inputs[0]), at[0] // piece[1]

    def ghost(self, concat: Node, parts: list[int | str], out: list[tuple[dict[str, Any], list[str], tuple[int, ...]]],
              heads: list[str]) -> dict[str, Any] | None:
        """A Ghost module: a primary conv, a cheap conv grouped per primary channel on its output, the two
        concatenated (and sliced to ``out`` channels by a view); None when ``concat`` joins something else."""
        if len(parts) != 2 or not all(isinstance(p, int) for p in parts) or parts[1] != parts[0] + 1:  # type: ignore[operator]
            return None
        (primary, _, _), (cheap, _, _) = out[parts[0]], out[parts[1]]  # type: ignore[index]
        if primary["type"] not in ("conv", "pwconv") or cheap["type"] not in ("conv", "dwconv") or primary.get("groups", 1) != 1:
            return None
        if self.base(heads[parts[1]]) != self.base(self.writes.get(out[parts[0]][1][-1], "")):  # type: ignore[index]
            return None  # the cheap conv reads the primary's output
        p = primary["out"]
        c = cheap.get("out", p)
        if c % p or (cheap["type"] == "conv" and cheap.get("groups", 1) != p) or cheap.get("stride", 1) != 1:
            return None
        if any(b.get(key, default) != default for b in (primary, cheap) for key, default in (("bias", False), ("bn", True), ("padding", None))):
            return None
        if primary.get("act", "none") != cheap.get("act", "none"):
            return None
        ratio = 1 + c // p
        width = p + c
        users = [u for u in self.g.consumers.get(concat.outputs[0], []) if u.op not in ("Shape", "Size")]
        if len(users) == 1 and users[0].op == "Slice" and contiguous(self.g, users[0]):
            width = self.g.shape(users[0].outputs[0])[1]  # sliced to ``out``
        if -(-width // ratio) != p:
            return None
        block: dict[str, Any] = {"type": "ghost", "out": width}
        if primary["type"] == "conv":
            block["k"] = primary["k"]
        block["ratio"] = ratio
        block["dw_k"] = cheap.get("k", 1)
        if primary.get("stride", 1) != 1:
            block["stride"] = primary["stride"]
        block["act"] = primary.get("act", "none")
        return block

    def concat_read(self, layer: _Layer) -> Node | None:
        """A channel Concat (a view) whose output ``layer`` reads, not yet read as a block."""
        node = layer.node
        for tensor in (node.inputs if node else ()):
            if not tensor or tensor in self.g.constants:
                continue
            src = self.g.producer.get(self.base(tensor))
            while src is not None and src.op in ("Split", "Slice") and contiguous(self.g, src):
                src = self.g.producer.get(self.base(src.inputs[0]))  # a channel part of a concatenation
            if src is not None and src.op == "Concat" and src.index not in self.grouped and contiguous(self.g, src):
                return src
        return None

    def concat_block(self, concat: Node, out: list[tuple[dict[str, Any], list[str], tuple[int, ...]]], heads: list[str],
                     ends: list[set[str]]) -> int:
        """Read the blocks that compute ``concat``'s inputs as one concat block in place of them; its first index."""
        self.grouped.add(concat.index)

        def fail(why: str) -> GraphError:
            return GraphError(f"cannot import node {concat.name!r} (Concat): {why}", file=self.g.file)

        shape = self.g.shape(concat.outputs[0])
        if len(shape) != 4 or int(concat.attrs.get("axis", 1)) not in (1, -3):
            raise fail("only a concatenation along the channels of a map has a block (concat)")
        parts: list[int | str] = []  # per input: the index of the block ending its branch, or the tensor passed through
        last = -1
        for tensor in (t for t in concat.inputs if t):
            seen = self.sources(tensor)
            k = next((k for k in range(len(out) - 1, last, -1) if ends[k] & seen), None)
            parts.append(tensor if k is None else k)
            last = k if k is not None else last
        runs = [p for p in parts if isinstance(p, int)]
        if not runs:
            raise fail("no branch computes anything (a concatenation of the input with itself has no block)")
        end = runs[-1] + 1  # blocks after it (a shortcut computed before the add reads the concatenation) stay after it
        written = set(concat.outputs) | {u.outputs[0] for u in self.g.consumers.get(concat.outputs[0], [])
                                         if u.op == "Slice" and contiguous(self.g, u)}  # and its channel prefix (Ghost)
        ghost = self.ghost(concat, parts, out, heads)
        if ghost is not None:
            j0 = runs[0]
            out[j0:end] = [(ghost, out[j0][1] + out[j0 + 1][1] + [concat.name], out[j0][2])]
            heads[j0:end] = heads[j0:j0 + 1]
            ends[j0:end] = [written]
            return j0
        # what each branch reads: later runs start right after the previous one; the first is found by that
        read: list[tuple[str, int | None] | None] = []
        for i, p in enumerate(parts):
            if isinstance(p, str):
                read.append(self.reads(p))
            else:
                prev = max((q for q in parts[:i] if isinstance(q, int)), default=None)
                read.append(None if prev is None else self.reads(heads[prev + 1]))
        known = [r for r in read if r is not None]
        x = known[0][0]
        split = known[0][1] is not None
        first = parts.index(runs[0])
        want = (x, first if split else None)
        j0 = next((j for j in range(runs[0], -1, -1) if self.reads(heads[j]) == want), None)
        if j0 is None:
            raise fail(f"the first branch (ending at {out[runs[0]][1][-1]!r}) does not start from the map the others read")
        read[first] = want
        if any(r != ((x, i) if split else (x, None)) for i, r in enumerate(read)):
            raise fail("its branches read different maps, or channel parts out of order: the concat block runs every branch on the "
                       "same input (split: its equal channel parts, in order)")
        if split and self.g.shape(x)[1] % len(parts):
            raise fail("the channel parts are not equal")
        branches: list[list[dict[str, Any]]] = []
        names: list[str] = []
        start = j0
        for p in parts:
            if isinstance(p, str):
                branches.append([])
                continue
            branches.append([b for b, _, _ in out[start:p + 1]])
            names += [n for _, ns, _ in out[start:p + 1] for n in ns]
            start = p + 1
        block: dict[str, Any] = {"type": "concat", "branches": branches}
        if split:
            block["split"] = True
        c, *spatial = out[j0][2]
        out[j0:end] = [(block, names + [concat.name], (c * len(parts) if split else c, *spatial))]
        heads[j0:end] = [x]
        ends[j0:end] = [written]
        return j0

    def sources(self, tensor: str) -> set[str]:
        """``tensor`` and what it was computed from by views and folded norms alone (a block's input as a skip sees it)."""
        found = {tensor}
        src = self.g.producer.get(tensor)
        while src is not None and src.op in _VIEWS:
            tensor = src.inputs[0]
            found.add(tensor)
            src = self.g.producer.get(tensor)
        return found

    def skip_start(self, add: _Layer, starts: list[set[str]]) -> int | None:
        """The first block whose input the residual ``add`` adds back (the blocks after it form the residual branch)."""
        node = add.node
        if node is None or len(node.inputs) != 2 or not all(node.inputs):
            return None
        for skip in node.inputs:
            for j, start in enumerate(starts):
                if self.sources(skip) & start:
                    return j
        return None

    def shortcut_start(self, add: _Layer, starts: list[set[str]], ends: list[set[str]]) -> tuple[int, int] | None:
        """(j, k) when ``add`` sums the outputs of blocks j..k-1 and of blocks k.. that read block j's input again:
        a residual whose shortcut has its own layers (ResNet's strided 1×1 conv + BN after the branch,
        RegNet's before it). The shorter run is the shortcut."""
        node = add.node
        if node is None or len(node.inputs) != 2 or not all(node.inputs):
            return None
        seen = [self.sources(t) for t in node.inputs]
        for k in range(len(starts) - 1, 0, -1):
            j = next((j for j in range(k) if starts[j] & starts[k]), None)
            if j is not None and j < k and any(a & ends[k - 1] and b & ends[-1] for a, b in (seen, seen[::-1])):
                return j, k
        return None

    def blocks(self) -> list[tuple[dict[str, Any], list[str], tuple[int, ...]]]:
        out: list[tuple[dict[str, Any], list[str], tuple[int, ...]]] = []
        starts: list[set[str]] = []  # per block: the tensors its input is, seen back through views and folded norms
        ends: list[set[str]] = []  # per block: the tensors its last layer's node writes
        heads: list[str] = []  # per block: the tensor its first layer reads
        by_name = {n.name: n for n in self.g.nodes}
        i = 0
        while i < len(self.layers):
            layer = self.layers[i]
            while (concat := self.concat_read(layer)) is not None:
                n = len(out)
                j = self.concat_block(concat, out, heads, ends)
                starts[j:j + 1 + n - len(out)] = [self.sources(heads[j])]
            span_at: tuple[int, int] | None = None
            if layer.op == "add":
                j = self.skip_start(layer, starts)
                span_at = (j, len(out)) if j is not None and j < len(out) else self.shortcut_start(layer, starts, ends)
            if span_at is not None:
                # a residual add outside a block: the blocks since its skip become a residual group
                j, k = span_at
                inner, short = out[j:k], out[k:]
                first = 0 < k - j < len(short)  # the shorter run is the shortcut; here it ran first
                if first:
                    inner, short = short, inner
                group: dict[str, Any] = {"type": "group", "residual": True}
                if layer.cost.act != "none":
                    if layer.cost.act not in ACTIVATIONS:
                        raise _fail(self.g, layer, f"activation {layer.cost.act!r} after the add has no spec name")
                    group["act"] = layer.cost.act  # fused after the add (ResNet's ReLU)
                group["blocks"] = [b for b, _, _ in inner]
                if short:
                    group["shortcut"] = [b for b, _, _ in short]
                if first:
                    group["shortcut_first"] = True
                names = [n for _, ns, _ in (short + inner if first else inner + short) for n in ns] + [layer.cost.name]
                out[j:] = [(group, names, inner[0][2])]
                starts[j + 1:] = []
                heads[j + 1:] = []
                ends[j:] = [set(layer.node.outputs) if layer.node else set()]
                i += 1
                continue
            in_shape = layer.cost.in_shape
            if self.channels_last and len(in_shape) == 3:
                in_shape = (in_shape[2], in_shape[0], in_shape[1])  # the spec's C×H×W (for the stage headings)
            block, span = self.block(i)
            reads: tuple[str, ...] = layer.node.inputs[:1] if layer.node else ()
            if block["type"] == "mhsa":
                reads = (self.token_map(layer),)
                in_shape = tuple(self.g.shape(reads[0])[1:])
            if block["type"] == "shuffle":
                in_shape = (in_shape[0] * in_shape[1], *in_shape[2:])  # the N×g×C/g×H×W view of a C×H×W map
            starts.append(set().union(*(self.sources(t) for t in reads if t)))
            heads.append(reads[0] if reads else "")
            out.append((block, [layer.cost.name for layer in self.layers[i:i + span]], in_shape))
            last_name = self.layers[i + span - 1].cost.name
            last = by_name.get(last_name)
            ends.append((set(last.outputs) if last else set()) | ({self.writes[last_name]} if last_name in self.writes else set()))
            i += span
        for tensor in sorted(self.g.outputs):  # a graph that ends with a concatenation
            src = self.g.producer.get(self.base(tensor))
            if src is not None and src.op == "Concat" and src.index not in self.grouped and contiguous(self.g, src):
                self.concat_block(src, out, heads, ends)
        return out


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return v
    return str(v)


def _flow(block: dict[str, Any]) -> str:
    """One block as a YAML flow mapping; a group's inner blocks nested in its ``blocks`` list."""
    if block["type"] == "group":
        fields = ", ".join(f"{k}: {_value(v)}" for k, v in block.items() if k not in ("blocks", "shortcut"))
        lists = "".join(f", {key}: [{', '.join(_flow(b) for b in block[key])}]" for key in ("blocks", "shortcut") if key in block)
        return f"{{{fields}{lists}}}"
    if block["type"] == "concat":
        fields = ", ".join(f"{k}: {_value(v)}" for k, v in block.items() if k != "branches")
        branches = ", ".join(f"[{', '.join(_flow(b) for b in branch)}]" for branch in block["branches"])
        return f"{{{fields}, branches: [{branches}]}}"
    fields = ", ".join(f"{k}: {_value(v)}" for k, v in block.items())
    return f"{{{fields}, width: fixed}}"


def _printable(text: str) -> str:
    """Names from the file are data: no control characters reach the YAML (a newline would end a comment)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _quote(text: str) -> str:
    text = _printable(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spec_text(graph: Graph, mapped: Mapped, name: str) -> str:
    """The YAML text of the spec; raises GraphError when the graph has no spec form."""
    reader = _Reader(graph, mapped)
    blocks = reader.blocks()
    se = reader.se
    lines = [
        f"# Imported by mncost from the ONNX graph {Path(graph.file).name} ({len(graph.nodes)} nodes, opset {graph.opset}).",
        "# Each block's comment names the ONNX nodes it came from. Every width is fixed (width: fixed):",
        "# the graph holds one width, so --alpha changes nothing until you give the blocks a width policy",
        "# and write the width rule you want under width_rules.",
        f"name: {_quote(name)}",
        f"title: {_quote('imported from ' + Path(graph.file).name)}",
        f"source: {_quote('ONNX graph ' + Path(graph.file).name + ' (mncost import)')}",
        f"resolution: {graph.resolution}",
        f"in_channels: {graph.input_shape[0]}",
        "width_rules:",
        "  graph:",
        "    source: \"the imported graph's own widths (every block is width: fixed); hidden widths are the blocks' exp\"",
        "    hidden: exp_scaled",
    ]
    if se is not None:
        ratio, rule = _se_ratio(se["channels"], se["squeeze"])
        if rule == "floor":
            lines.append("    se_round: floor")
        lines.append(f"se: {{ratio: {ratio!r}, act: {se['act']}, gate: {se['gate']}}}")
    lines.append("stages:")
    stage = -1
    spatial: tuple[int, ...] | None = None
    for block, names, in_shape in blocks:
        if in_shape[1:] != spatial:
            stage += 1
            spatial = in_shape[1:]
            where = f"  # {'x'.join(map(str, spatial))} in" if spatial else ""
            lines += [f"  - name: stage{stage}{where}", "    blocks:"]
        shown = ", ".join(_printable(n) for n in names[:6]) + (f" … ({len(names)} layers)" if len(names) > 6 else "")
        lines.append(f"      # {shown}")
        lines.append(f"      - {_flow(block)}")
    return "\n".join(lines) + "\n"


def _spec_wide_squeeze(first: dict[str, Any], channels: int) -> int:
    """The squeeze width the spec-level ``se:`` written from the first SE gives ``channels`` (BlockContext.squeeze)."""
    from ..width import make_divisible

    ratio, rule = _se_ratio(first["channels"], first["squeeze"])
    return make_divisible(channels // round(1 / ratio) if rule == "floor" else channels * ratio, 8)


def _block_se(channels: int, in_channels: int, squeeze: int, *, act: str, gate: str, block_act: str) -> dict[str, Any]:
    """A block's own ``se`` mapping (blocks.se.BlockSE) that sizes ``squeeze``: a quarter of the input
    floored (torchvision) or rounded (timm), else the exact fraction of the map it sits on."""
    import math

    se: dict[str, Any]
    if math.floor(in_channels * 0.25) == squeeze:
        se = {"base": "input", "round": "floor"}
    elif round(in_channels * 0.25) == squeeze:
        se = {"base": "input"}
    else:
        se = {"ratio": squeeze / channels, "base": "expanded"}
    if act != block_act:
        se["act"] = act
    if gate != "sigmoid":
        se["gate"] = gate
    return se


def _se_ratio(channels: int, squeeze: int) -> tuple[float, str]:
    from ..width import make_divisible

    if make_divisible(channels * 0.25, 8) == squeeze:
        return 0.25, "exact"
    if make_divisible(channels // 4, 8) == squeeze:
        return 0.25, "floor"
    return squeeze / channels, "exact"


def import_graph(path: str | Path, *, resolution: int | None = None, name: str | None = None) -> str:
    """The spec text of ``path``, checked to count exactly as the graph does."""
    from ..schema import Context
    from ..spec import parse_spec
    from ..walker import walk
    from ..yamlio import loads

    graph = load_graph(path, resolution)
    mapped = map_graph(graph)
    if mapped.unhandled:
        listed = ", ".join(f"{op} ×{n}" for op, n in sorted(mapped.unhandled.items()))
        raise GraphError(f"cannot import a graph with ops mncost does not count: {listed}", file=graph.file)
    text = spec_text(graph, mapped, name or Path(path).stem)
    doc = loads(text, f"{path} (imported spec)")
    from ..errors import SpecError

    spec = parse_spec(doc.data, Context(doc, SpecError))
    layers = walk(spec).layers
    keys = ("macs", "params", "bn_params", "act_read_elems", "act_write_elems", "elementwise_ops", "attention_macs")
    if len(layers) != len(mapped.layers):
        raise GraphError(f"the imported spec has {len(layers)} layers, the graph {len(mapped.layers)}: not written", file=graph.file)
    for mine, theirs in zip(layers, mapped.layers):
        if any(getattr(mine, k) != getattr(theirs, k) for k in keys):
            diff = ", ".join(f"{k} {getattr(mine, k)} vs {getattr(theirs, k)}" for k in keys if getattr(mine, k) != getattr(theirs, k))
            raise GraphError(f"cannot import node {theirs.name!r} exactly: as a spec block it would count {diff}; not written", file=graph.file)
    return text


DYNAMIC_DEFAULT_RESOLUTION = 224  # the imported spec's default when the graph's size is dynamic


def import_spec(path: str | Path) -> Any:
    """The ArchSpec of ``path`` (sweep, report and crosscheck read ONNX files through this)."""
    from ..errors import SpecError
    from ..schema import Context
    from ..spec import parse_spec
    from ..yamlio import loads

    try:
        text = import_graph(path)
    except GraphError as exc:
        if "dynamic height/width" not in exc.message:
            raise
        text = import_graph(path, resolution=DYNAMIC_DEFAULT_RESOLUTION)
    doc = loads(text, str(path))
    return parse_spec(doc.data, Context(doc, SpecError))

"""Structures found in a graph before it is mapped: squeeze-excite, attention cores, shape arithmetic.

The mapper (:mod:`mncost.graph.mapping`) builds on :class:`GraphView`: these passes
mark nodes (SE members, attention cores with their layout ops, values computed
from shapes alone) so that the node-by-node walk counts them under the specs'
conventions. Every rule is structural; nothing is read from node names.
"""

from __future__ import annotations

from .. import ops
from ..ops import LayerCost
from .loader import Graph, Node

ATTENTION_LAYOUT_OPS = ("Transpose", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Mul", "Div")
LINEAR_ATTENTION = "linear attention"  # the kind of a ReLU linear attention core (softmax cores: "attention")


class GraphView:
    """A graph with the node marks of the passes below; the base of the mapper."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.done: set[int] = set()
        self.se_nodes: set[int] = set()
        self.attention_at: dict[int, LayerCost] = {}  # first MatMul of an attention core → its layer
        self.channel_norms: dict[int, tuple[str, str]] = {}  # LayerNorm over NCHW channels → (its NCHW input, output)
        self.token_inputs: dict[str, str] = {}  # N×C×H×W map → the N×L×C input of the token linear that reads it
        self.conv_pads: dict[int, tuple[str, int]] = {}  # Conv → (the unpadded input, padding) of a zero Pad before it

    def const(self, name: str) -> bool:
        return name in self.g.constants

    def numel(self, name: str) -> int:
        return ops.numel(self.g.shape(name))

    def users(self, name: str) -> list[Node]:
        """The nodes that read ``name``'s data (Shape and Size read only its metadata)."""
        return [u for u in self.g.consumers.get(name, []) if u.op not in ("Shape", "Size")]

    def act_inputs(self, node: Node) -> list[str]:
        return [i for i in node.inputs if i and not self.const(i)]

    def find_se(self, gate_ops: frozenset[str]) -> None:
        """Mark squeeze-excite: Mul(x, g) where g is computed from a global pool of x alone."""
        path_ops = set(gate_ops) | {"Conv", "Gemm", "MatMul", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "BatchNormalization"}
        for node in self.g.nodes:
            if node.op != "Mul":
                continue
            acts = self.act_inputs(node)
            if len(acts) != 2:
                continue
            for x, gate in (acts, acts[::-1]):
                gshape, xshape = self.g.tensors.get(gate), self.g.tensors.get(x)
                if not gshape or not xshape or gshape.shape is None or xshape.shape is None or len(xshape.shape) != 4:
                    continue
                if ops.numel(gshape.shape) != xshape.shape[1]:
                    continue
                found = self._gate_path(gate, x, path_ops)
                if found is not None:
                    self.se_nodes |= found | {node.index}
                    break

    def _gate_path(self, gate: str, x: str, path_ops: set[str]) -> set[int] | None:
        """The nodes from the pool of ``x`` to ``gate``; a tensor read twice inside the gate
        (SiLU written as h·σ(h)) is followed once."""
        seen: set[int] = set()
        visited: set[str] = set()
        pooled = False
        frontier = [gate]
        while frontier:
            tensor = frontier.pop()
            if tensor in visited:
                continue
            visited.add(tensor)
            src = self.g.producer.get(tensor)
            if src is None or len(seen) >= 64:
                return None
            if src.op in ("GlobalAveragePool", "ReduceMean") and src.inputs[0] == x:
                seen.add(src.index)
                pooled = True
                continue
            if src.op not in path_ops:
                return None
            seen.add(src.index)
            frontier.extend(i for i in src.inputs if i and not self.const(i))
        return seen if pooled else None

    # -- the walk --------------------------------------------------------------------------

    def mark_shape_arithmetic(self) -> None:
        """Values computed from tensor shapes alone (Shape → Gather → Cast → Sqrt…) are constants of the graph."""
        constants = self.g.constants
        for node in self.g.nodes:
            outs = [o for o in node.outputs if o]
            if not outs or node.op in ("QuantizeLinear", "DequantizeLinear"):
                continue
            inputs = [i for i in node.inputs if i]
            if node.op in ("Shape", "Size") or (inputs and all(i in constants for i in inputs)):
                constants.update(outs)

    def find_attention(self) -> None:
        """Q·Kᵀ → [scale] → Softmax → ·V with shared K/V (multi-query) or a K/V per head (multi-head)
        as one attention core.

        The layout changes (Reshape, Transpose, Unsqueeze…), scalar scalings of Q, K, V and of the
        output, and the pick of Q, K or V out of one fused QKV tensor (a Gather of one index)
        belong to the core, as in the specs' MQA and MHSA: it reads Q, K, V and writes its
        output once, plus the materialized attention matrix (written and read once).
        """
        for mm in self.g.nodes:
            if mm.op != "MatMul" or len(self.act_inputs(mm)) != 2 or mm.index in self.done:
                continue
            path = [mm]
            t = mm.outputs[0]
            nxt = self._single(t)
            if nxt is not None and nxt.op in ("Mul", "Div") and len(self.act_inputs(nxt)) == 1 and self.numel(next(i for i in nxt.inputs if i != t)) == 1:
                path.append(nxt)
                t = nxt.outputs[0]
                nxt = self._single(t)
            if nxt is None or nxt.op != "Softmax":
                continue
            path.append(nxt)
            av = self._single(nxt.outputs[0])
            if av is None or av.op != "MatMul" or av.inputs[0] != nxt.outputs[0] or self.const(av.inputs[1]):
                continue
            path.append(av)
            q_shape, k_shape = self.g.shape(mm.inputs[0]), self.g.shape(mm.inputs[1])
            v_shape = self.g.shape(av.inputs[1])
            if len(q_shape) != 4 or len(k_shape) != 4 or len(v_shape) != 4:
                continue
            heads, q_len, key_dim = q_shape[1], q_shape[2], q_shape[3]
            kv_heads, kv_len, value_dim = k_shape[1], k_shape[3], v_shape[3]
            if kv_heads not in (1, heads) or v_shape[1] != kv_heads:
                continue  # grouped K/V heads: counted op by op
            layouts = self._core_layouts((mm.inputs[0], mm.inputs[1], av.inputs[1])) + self._output_layouts(av.outputs[0])
            layer = ops.attention_matmuls(mm.name, "attention", heads=heads, q_len=q_len, kv_len=kv_len, key_dim=key_dim, value_dim=value_dim,
                                          kv_heads=kv_heads)
            self.attention_at[mm.index] = layer
            for node in path[1:] + layouts:
                self.done.add(node.index)

    def find_linear_attention(self) -> None:
        """ReLU linear attention (EfficientViT's LiteMLA) as one attention core, as the specs' ``lite_mla``:
        kv = ReLU(K)ᵀ·Pad(V, 1) → out = ReLU(Q)·kv → out[..., :-1] / (out[..., -1:] + ε).

        The ReLUs, the padding, the two slices of the result and the normalising Add and Div, and the
        layout ops into and out of it, belong to the core (:func:`mncost.ops.linear_attention`).
        """
        for kv in self.g.nodes:
            if kv.op != "MatMul" or len(self.act_inputs(kv)) != 2 or kv.index in self.done:
                continue
            kt, pad = self.g.producer.get(kv.inputs[0]), self.g.producer.get(kv.inputs[1])
            if not _transposes(kt, (0, 1, 3, 2)) or self._pad_of(pad) != ((0, 0, 0, 0, 0, 0, 0, 1), 1.0):
                continue
            relu_k = self.g.producer.get(kt.inputs[0])  # type: ignore[union-attr]
            qkv = self._single(kv.outputs[0])
            if relu_k is None or relu_k.op != "Relu":
                continue
            relu_q = self.g.producer.get(qkv.inputs[0]) if qkv is not None else None
            if qkv is None or qkv.op != "MatMul" or qkv.inputs[1] != kv.outputs[0] or relu_q is None or relu_q.op != "Relu":
                continue
            tail = self._normalise(qkv.outputs[0])
            if tail is None:
                continue
            q_shape = self.g.shape(relu_q.inputs[0])
            if len(q_shape) != 4 or self.g.shape(relu_k.inputs[0]) != q_shape or self.g.shape(pad.inputs[0]) != q_shape:
                continue
            heads, length, dim = q_shape[1], q_shape[2], q_shape[3]
            core = [kt, pad, relu_k, relu_q, qkv, *tail]
            layouts = self._core_layouts((relu_q.inputs[0], relu_k.inputs[0], pad.inputs[0])) + self._output_layouts(tail[-1].outputs[0])
            self.attention_at[kv.index] = ops.linear_attention(kv.name, LINEAR_ATTENTION, heads=heads, length=length, dim=dim)
            for node in core + layouts:
                self.done.add(node.index)

    def _normalise(self, out: str) -> list[Node] | None:
        """out[..., :-1] / (out[..., -1:] + ε): the Slices, the Add and the Div, or None."""
        users = self.users(out)
        if len(users) != 2 or not all(u.op == "Slice" for u in users) or out in self.g.outputs:
            return None
        for num, den in (users, users[::-1]):
            add = self._single(den.outputs[0])
            if add is None or add.op != "Add" or len(self.act_inputs(add)) != 1:
                continue
            div = self._single(add.outputs[0])
            if div is not None and div.op == "Div" and div.inputs[0] == num.outputs[0] and div.inputs[1] == add.outputs[0]:
                return [num, den, add, div]
        return None

    def find_channel_norms(self) -> None:
        """Transpose to N×H×W×C → LayerNormalization over the last axis → Transpose back: a LayerNorm over
        the channels of an N×C×H×W map (timm ``LayerNorm2d``), one layer like the specs' ``norm``."""
        for node in self.g.nodes:
            if node.op != "LayerNormalization" or int(node.attrs.get("axis", -1)) not in (-1, 3) or not node.inputs:
                continue
            before, after = self.g.producer.get(node.inputs[0]), self._single(node.outputs[0])
            if not _transposes(before, (0, 2, 3, 1)) or self._single(node.inputs[0]) is None or len(self.g.shape(node.inputs[0])) != 4:
                continue
            if not _transposes(after, (0, 3, 1, 2)):
                continue
            self.channel_norms[node.index] = (before.inputs[0], after.outputs[0])
            self.done |= {before.index, after.index}

    def find_token_linears(self) -> None:
        """A Linear (MatMul by a weight) over the positions of a map: the map flattened to N×C×L and
        transposed to N×L×C on the way in, transposed back and reshaped to N×C×H×W on the way out (after
        its bias Add). Those transposes are the map's channels-last layout, which runtimes run the
        linear in as the 1×1 conv it is (the specs' token linear): layout, not data movement. Either
        side alone counts (timm's attention keeps the tokens for the heads' reshape)."""
        for mm in self.g.nodes:
            if mm.op != "MatMul" or len(mm.inputs) != 2 or not self.const(mm.inputs[1]) or len(self.g.shape(mm.inputs[1])) != 2:
                continue
            into = self.g.producer.get(mm.inputs[0])
            flat = self.g.producer.get(into.inputs[0]) if into is not None and into.inputs else None
            if (_transposes(into, (0, 2, 1)) and self._single(mm.inputs[0]) and flat is not None and flat.op in ("Flatten", "Reshape") and self._single(into.inputs[0])):
                n, c, h, w = (self.g.shape(flat.inputs[0]) + (0, 0, 0, 0))[:4]
                if len(self.g.shape(flat.inputs[0])) == 4 and self.g.shape(into.inputs[0]) == (n, c, h * w):
                    self.done.add(into.index)
                    self.token_inputs[flat.inputs[0]] = mm.inputs[0]
            t = mm.outputs[0]
            back = self._single(t)
            if back is not None and back.op == "Add" and len(self.act_inputs(back)) == 1:
                t = back.outputs[0]
                back = self._single(t)
            if not _transposes(back, (0, 2, 1)):
                continue
            to_map = self._single(back.outputs[0])
            if to_map is not None and to_map.op == "Reshape" and len(self.g.shape(to_map.outputs[0])) == 4:
                self.done.add(back.index)

    def find_conv_pads(self) -> None:
        """A zero Pad of H and W (the same on every side) read only by a Conv without padding of its own is that
        conv's padding, as runtimes fuse it (onnxruntime's pad fusion; timm's ``BlurPool2d`` pads this way)."""
        for pad in self.g.nodes:
            padded = self._pad_of(pad)
            if padded is None or padded[1] != 0:
                continue
            conv = self._single(pad.outputs[0])
            if conv is None or conv.op != "Conv" or conv.inputs[0] != pad.outputs[0] or any(conv.attrs.get("pads", (0,))):
                continue
            amounts = padded[0]
            if any(amounts[i] for i in (0, 1, 4, 5)) or len({amounts[i] for i in (2, 3, 6, 7)}) != 1:
                continue
            self.conv_pads[conv.index] = (pad.inputs[0], int(amounts[2]))
            self.done.add(pad.index)

    def _pad_of(self, node: Node | None) -> tuple[tuple[int, ...], float] | None:
        """A constant-mode Pad of a 4-D tensor with known amounts (all axes, no ``axes`` input): (amounts, fill value)."""
        if node is None or node.op != "Pad" or node.attrs.get("mode", "constant") != "constant" or not 2 <= len(node.inputs) <= 3:
            return None
        amounts = self.g.values.get(node.inputs[1])
        value = self.g.values.get(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else (0,)
        if amounts is None or value is None or len(value) != 1 or len(amounts) != 8:
            return None
        return tuple(int(a) for a in amounts), value[0]

    def _single(self, tensor: str) -> Node | None:
        users = self.users(tensor)
        return users[0] if len(users) == 1 and tensor not in self.g.outputs else None

    def _picks_one(self, node: Node) -> bool:
        """Q, K or V picked out of one fused tensor: a Gather of one constant index or a Split (``qkv.unbind``), or
        a Slice of constant bounds (``qkv.chunk(3, dim=-1)``), whose input is not a weight."""
        if not node.inputs or self.const(node.inputs[0]) or not all(self.const(i) for i in node.inputs[1:] if i):
            return False
        if node.op == "Gather":
            return len(node.inputs) == 2 and len(self.g.shape(node.inputs[1])) == 0
        return node.op in ("Slice", "Split")  # Split: ``unbind`` as the exporter writes it (a Squeeze after each part)

    def _shared_layout_back(self, picks: list[Node]) -> list[Node]:
        """The layout ops (Transpose, Reshape) that make the one tensor Q, K and V are picked from, when only
        those picks read it: they belong to the attention core too."""
        sources = {p.inputs[0] for p in picks}
        if len(sources) != 1:
            return []
        t = sources.pop()
        if {u.index for u in self.users(t)} != {p.index for p in picks} or t in self.g.outputs:
            return []
        if any(p.op == "Split" and any(o and len(self.users(o)) != 1 for o in p.outputs) for p in picks):
            return []
        found: list[Node] = []
        while (src := self.g.producer.get(t)) is not None and src.op in ("Transpose", "Reshape"):
            found.append(src)
            t = src.inputs[0]
            if self._single(t) is None:
                break
        return found

    def _core_layouts(self, starts: tuple[str, ...]) -> list[Node]:
        """Every layout op on the way into an attention core from Q, K and V (``starts``)."""
        layouts: list[Node] = []
        picks: list[Node] = []
        for start in starts:
            chain = self._layout_chain_back(start)
            layouts += chain
            if chain and self._picks_one(chain[-1]):
                picks.append(chain[-1])
        if len(picks) == len(starts):
            layouts += self._shared_layout_back(picks)
        return layouts

    def _output_layouts(self, t: str) -> list[Node]:
        found: list[Node] = []
        while (nxt := self._single(t)) is not None and nxt.op in ("Transpose", "Reshape") and nxt.inputs[0] == t:
            found.append(nxt)
            t = nxt.outputs[0]
        return found

    def _layout_chain_back(self, tensor: str) -> list[Node]:
        found: list[Node] = []
        while True:
            src = self.g.producer.get(tensor)
            if src is None or self._single(tensor) is None or not (src.op in ATTENTION_LAYOUT_OPS or self._picks_one(src)):
                return found
            if src.op in ("Mul", "Div"):
                acts = self.act_inputs(src)
                if len(acts) != 1 or acts[0] != src.inputs[0] or self.numel(src.inputs[1]) != 1:
                    return found
            found.append(src)
            tensor = src.inputs[0]
            if src.op in ("Gather", "Slice", "Split"):
                return found  # Q, K or V picked out of the fused QKV tensor: the chain starts there


def _transposes(node: Node | None, perm: tuple[int, ...]) -> bool:
    """``node`` is a Transpose by ``perm``."""
    return node is not None and node.op == "Transpose" and tuple(node.attrs.get("perm", ())) == perm

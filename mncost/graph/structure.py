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


class GraphView:
    """A graph with the node marks of the passes below; the base of the mapper."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.done: set[int] = set()
        self.se_nodes: set[int] = set()
        self.attention_at: dict[int, LayerCost] = {}  # first MatMul of an attention core → its layer
        self.channel_norms: dict[int, tuple[str, str]] = {}  # LayerNorm over NCHW channels → (its NCHW input, output)

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
        """Q·Kᵀ → [scale] → Softmax → ·V with shared K/V (multi-query) as one attention core.

        The layout changes (Reshape, Transpose, Unsqueeze…) and scalar scalings of Q, K, V and of the
        output belong to the core, as in the specs' MQA: it reads Q, K, V and writes its
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
            if len(q_shape) != 4 or len(k_shape) != 4 or len(v_shape) != 4 or k_shape[1] != 1 or v_shape[1] != 1:
                continue  # multi-head K/V: counted op by op
            heads, q_len, key_dim = q_shape[1], q_shape[2], q_shape[3]
            kv_len, value_dim = k_shape[3], v_shape[3]
            layouts: list[Node] = []
            for start in (mm.inputs[0], mm.inputs[1], av.inputs[1]):
                layouts += self._layout_chain_back(start)
            t = av.outputs[0]
            while (nxt := self._single(t)) is not None and nxt.op in ("Transpose", "Reshape") and nxt.inputs[0] == t:
                layouts.append(nxt)
                t = nxt.outputs[0]
            layer = ops.attention_matmuls(mm.name, "attention", heads=heads, q_len=q_len, kv_len=kv_len, key_dim=key_dim, value_dim=value_dim)
            self.attention_at[mm.index] = layer
            for node in path[1:] + layouts:
                self.done.add(node.index)

    def find_channel_norms(self) -> None:
        """Transpose to N×H×W×C → LayerNormalization over the last axis → Transpose back: a LayerNorm over
        the channels of an N×C×H×W map (timm ``LayerNorm2d``), one layer like the specs' ``norm``."""
        for node in self.g.nodes:
            if node.op != "LayerNormalization" or int(node.attrs.get("axis", -1)) not in (-1, 3) or not node.inputs:
                continue
            before, after = self.g.producer.get(node.inputs[0]), self._single(node.outputs[0])
            if (before is None or before.op != "Transpose" or tuple(before.attrs.get("perm", ())) != (0, 2, 3, 1)
                    or self._single(node.inputs[0]) is None or len(self.g.shape(node.inputs[0])) != 4):
                continue
            if after is None or after.op != "Transpose" or tuple(after.attrs.get("perm", ())) != (0, 3, 1, 2):
                continue
            self.channel_norms[node.index] = (before.inputs[0], after.outputs[0])
            self.done |= {before.index, after.index}

    def _single(self, tensor: str) -> Node | None:
        users = self.users(tensor)
        return users[0] if len(users) == 1 and tensor not in self.g.outputs else None

    def _layout_chain_back(self, tensor: str) -> list[Node]:
        found: list[Node] = []
        while True:
            src = self.g.producer.get(tensor)
            if src is None or self._single(tensor) is None or src.op not in ATTENTION_LAYOUT_OPS:
                return found
            if src.op in ("Mul", "Div"):
                acts = self.act_inputs(src)
                if len(acts) != 1 or acts[0] != src.inputs[0] or self.numel(src.inputs[1]) != 1:
                    return found
            found.append(src)
            tensor = src.inputs[0]

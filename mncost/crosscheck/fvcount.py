"""Count a torch module with fvcore under mncost's conventions.

Only convolutions, linear layers, matrix products and scaled-dot-product attention
are MACs. fvcore's default handles are cleared first: ``set_op_handle(op, None)``
does not remove a default handle, and the defaults count BatchNorm and pooling.
Every other operator that appears must be on ``ELEMENTWISE_OPS`` (ignored on
purpose); anything else is reported as unsupported rather than silently dropped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .quiet import quiet_dependencies

with quiet_dependencies():  # fvcore's import uses torch.jit.script, deprecated in torch 2.14
    from fvcore.nn import FlopCountAnalysis
    from fvcore.nn.jit_handles import addmm_flop_jit, bmm_flop_jit, conv_flop_jit, get_shape, linear_flop_jit, matmul_flop_jit

SDPA = "aten::scaled_dot_product_attention"
# Operators whose MACs are attention MACs: the fused kernel, and the explicit products of
# linear attention (EfficientViT-B); no other torch builder uses matmul/bmm.
ATTENTION_OPS = ("scaled_dot_product_attention", "matmul", "bmm")

# Operators that are not MACs under mncost's conventions (BatchNorm folded,
# element-wise work reported apart) and so are ignored on purpose.
ELEMENTWISE_OPS = frozenset(
    "aten::" + name
    for name in (
        "batch_norm", "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "hardswish", "hardswish_",
        "hardsigmoid", "hardsigmoid_", "gelu", "silu", "silu_", "sigmoid", "sigmoid_", "add", "add_",
        "mul", "mul_", "adaptive_avg_pool2d", "avg_pool2d", "mean", "upsample_bilinear2d", "softmax",
        "div", "dropout", "feature_dropout", "max_pool2d", "layer_norm", "group_norm", "constant_pad_nd", "pad", "permute", "chunk", "cat",
        # seen only in reference models (torchvision, timm): in-place variants, nearest upsampling
        "relu6_", "div_", "dropout_", "gelu_", "upsample_nearest2d",
    )
)


def sdpa_flop_jit(inputs: list[Any], outputs: list[Any]) -> int:
    """Q·Kᵀ + A·V MACs of scaled_dot_product_attention: B·H·L·S·(E + Ev)."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    return sdpa_macs(q, k, v)


def sdpa_macs(q: Any, k: Any, v: Any) -> int:
    """The same count from the shapes of q, k and v (K/V may broadcast over the heads of q)."""
    batch_heads = 1
    for dim in q[:-2]:
        batch_heads *= dim
    length, e = q[-2], q[-1]
    s, ev = k[-2], v[-1]
    return batch_heads * length * s * (e + ev)


HANDLES = {
    "aten::_convolution": conv_flop_jit,
    "aten::addmm": addmm_flop_jit,
    "aten::linear": linear_flop_jit,
    "aten::matmul": matmul_flop_jit,
    "aten::bmm": bmm_flop_jit,
    SDPA: sdpa_flop_jit,
}


@dataclass(frozen=True)
class TorchCounts:
    """fvcore's view of a module: per module path, MACs and attention MACs; shapes from hooks."""

    macs: dict[str, int]
    attention_macs: dict[str, int]
    params: dict[str, int]          # conv + linear weights and biases under each path
    folded_params: dict[str, int]   # BatchNorm and layer-scale parameters under each path
    out_shapes: dict[str, tuple[int, ...]]
    unsupported_ops: dict[str, int]
    total_macs: int


def _param_counts(model: nn.Module) -> tuple[dict[str, int], dict[str, int]]:
    params: Counter[str] = Counter()
    folded: Counter[str] = Counter()
    for name, module in model.named_modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if not own:
            continue
        target = params if isinstance(module, (nn.Conv2d, nn.Linear)) else folded
        parts = name.split(".") if name else []
        for i in range(len(parts) + 1):
            target[".".join(parts[:i])] += own
    return dict(params), dict(folded)


def analysis_of(model: nn.Module, x: torch.Tensor) -> FlopCountAnalysis:
    """fvcore's analysis with mncost's handles only (the defaults also count BN and pooling)."""
    analysis = FlopCountAnalysis(model, x)
    analysis.clear_op_handles()
    analysis.set_op_handle(**HANDLES)
    analysis.set_op_handle(**{op: None for op in ELEMENTWISE_OPS})
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    analysis.tracer_warnings("none")
    return analysis


def count(model: nn.Module, input_shape: tuple[int, ...], layer_names: set[str], *, warm_up: bool = True) -> TorchCounts:
    """Run ``model`` on zeros of ``input_shape`` (batch 1), recording shapes and counting MACs.

    The shapes are recorded during fvcore's own trace. ``warm_up`` runs one forward
    pass first, which materializes lazy layers; without it they must be materialized.
    """
    x = torch.zeros(1, *input_shape)
    shapes: dict[str, Any] = {}
    hooks = []
    for name, module in model.named_modules():
        if name in layer_names:
            hooks.append(module.register_forward_hook(_recorder(shapes, name)))
    model.eval()
    with torch.no_grad(), quiet_dependencies():
        if warm_up:
            model(x)
        analysis = analysis_of(model, x)
        try:
            total = int(analysis.total())
        finally:
            for hook in hooks:
                hook.remove()
        by_module = {name: int(value) for name, value in analysis.by_module().items()}
        attention = {
            name: int(sum(v for op, v in ops.items() if op.endswith(ATTENTION_OPS)))
            for name, ops in analysis.by_module_and_operator().items()
        }
        unsupported = dict(analysis.unsupported_ops())
    params, folded = _param_counts(model)
    out_shapes = {name: tuple(int(d) for d in shape) for name, shape in shapes.items()}  # traced sizes may be tensors
    return TorchCounts(by_module, attention, params, folded, out_shapes, unsupported, total)


# Reading a tensor's shape inside the trace records size ops into the graph: a sixth of a
# check's time for nothing fvcore counts. The hook reads it with tracing paused (a private
# torch call; without it, the shape is read traced, as before, and made ints afterwards).
_GET_TRACING = getattr(torch._C, "_get_tracing_state", None)
_SET_TRACING = getattr(torch._C, "_set_tracing_state", None)


def _recorder(shapes: dict[str, Any], name: str) -> Any:
    def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        if _GET_TRACING is None or _SET_TRACING is None:
            shapes[name] = output.shape[1:]
            return
        state = _GET_TRACING()
        _SET_TRACING(None)
        try:
            shapes[name] = tuple(output.shape[1:])
        finally:
            _SET_TRACING(state)

    return hook

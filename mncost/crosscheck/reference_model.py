"""``--reference torchvision:NAME`` / ``timm:NAME[?key=value&...]``: the real network, counted by fvcore.

The model is built with ``torchvision.models.get_model(NAME, weights=None, **kwargs)`` or
``timm.create_model(NAME, pretrained=False, **kwargs)`` (nothing is downloaded), put in
eval mode and counted by fvcore with the handles mncost's own cross-check uses
(``fvcount.HANDLES``: conv, linear, and scaled-dot-product attention by mncost's handle).
Any ``torch.nn.Module`` can be given instead of a name (the library API).

Names differ between mncost and the reference (``stage3.0.project`` vs
``features.4.conv.2``), so layers are paired by execution order: the reference's rows are
its ``nn.Conv2d`` and ``nn.Linear`` modules in the order their forward passes finish, with
one row per ``scaled_dot_product_attention`` call at the place it runs; mncost's are its
MAC-carrying layers (conv, dwconv, pwconv, se_fc, fc, attention) in walk order. The i-th
of one is compared with the i-th of the other (MACs, params, output shape) and the first
differing pairs are named.

Torch is imported only inside the functions, so :func:`parse` works without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import MissingExtraError, OptionError
from ..walker import Walk
from .compare import ReferenceCheck, compare_layer_table, reference_totals

LIBRARIES = ("torchvision", "timm")
SYNTAX = "torchvision:NAME or timm:NAME[?key=value&key=value]"


@dataclass(frozen=True)
class ReferenceName:
    library: str
    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        args = "&".join(f"{k}={v}" for k, v in self.kwargs)
        return f"{self.library}:{self.name}" + (f"?{args}" if args else "")


def parse(text: str) -> ReferenceName:
    """``timm:mobilenetv4_conv_small?channel_multiplier=0.75`` → library, name, typed kwargs.

    >>> parse("timm:mnv4?channel_multiplier=0.5&fix_stem=true").kwargs
    (('channel_multiplier', 0.5), ('fix_stem', True))
    """
    library, sep, rest = text.partition(":")
    name, _, query = rest.partition("?")
    if not sep or library not in LIBRARIES or not name.strip():
        raise OptionError(f"--reference: expected {SYNTAX}, got {text!r}")
    kwargs = []
    for pair in filter(None, query.replace(",", "&").split("&")):
        key, eq, value = pair.partition("=")
        if not eq or not key.isidentifier():
            raise OptionError(f"--reference: expected key=value after '?', got {pair!r} in {text!r}")
        kwargs.append((key, _value(value)))
    return ReferenceName(library, name.strip(), tuple(kwargs))


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        if isinstance(number, float) and not math.isfinite(number):
            break
        return number
    return text


def build(ref: ReferenceName) -> Any:
    """The reference model in eval mode, randomly initialized (never pretrained)."""
    from .quiet import quiet_dependencies

    with quiet_dependencies():
        try:
            module = __import__(ref.library)
        except ImportError:
            raise MissingExtraError(f"--reference {ref.label}: {ref.library} is not installed here (pip install {ref.library})") from None
        try:
            if ref.library == "torchvision":
                import torchvision.models

                model = torchvision.models.get_model(ref.name, weights=None, **dict(ref.kwargs))
            else:
                model = module.create_model(ref.name, pretrained=False, **dict(ref.kwargs))
        except (ValueError, RuntimeError, TypeError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OptionError(f"--reference {ref.label}: {ref.library} cannot build it: {first}") from None
    return model.eval()


@dataclass(frozen=True)
class ReferenceCount:
    rows: list[dict[str, Any]]      # conv / linear / attention in execution order
    entry: dict[str, int]           # totals as in reference_counts.json
    unsupported_ops: dict[str, int]
    problems: list[str]


def count(model: Any, input_shape: tuple[int, ...]) -> ReferenceCount:
    """One fvcore trace of ``model`` on zeros (batch 1), recording its layer rows on the way."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from .fvcount import analysis_of, sdpa_macs
    from .quiet import quiet_dependencies

    names = {id(m): n for n, m in model.named_modules()}
    rows: list[dict[str, Any]] = []
    calls: dict[str, int] = {}
    stack: list[str] = []

    def pre(module: nn.Module, inputs: Any) -> None:
        stack.append(names[id(module)])

    def post(module: nn.Module, inputs: Any, output: Any) -> None:
        stack.pop()
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            name = names[id(module)]
            calls[name] = calls.get(name, 0) + 1
            own = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append({"module": name, "type": type(module).__name__, "out_shape": [int(d) for d in output.shape[1:]], "params": int(own), "macs": 0})

    original = F.scaled_dot_product_attention

    def attention(q: Any, k: Any, v: Any, *args: Any, **kwargs: Any) -> Any:
        out = original(q, k, v, *args, **kwargs)
        rows.append({"module": stack[-1] if stack else "", "type": "attention", "out_shape": [int(d) for d in out.shape[1:]],
                     "params": 0, "macs": sdpa_macs([int(d) for d in q.shape], [int(d) for d in k.shape], [int(d) for d in v.shape])})
        return out

    handles = [h for m in model.modules() for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    x = torch.zeros(1, *input_shape)
    F.scaled_dot_product_attention = attention
    try:
        with torch.no_grad(), quiet_dependencies():
            analysis = analysis_of(model, x)
            total = int(analysis.total())
            by_module = dict(analysis.by_module())
            by_operator = dict(analysis.by_operator())
            unsupported = dict(analysis.unsupported_ops())
    finally:
        F.scaled_dot_product_attention = original
        for handle in handles:
            handle.remove()
    for row in rows:
        if row["type"] != "attention":  # a module called n times: fvcore sums its calls
            row["macs"] = int(by_module.get(row["module"], 0)) // calls[row["module"]]
    attention_macs = int(sum(v for op, v in by_operator.items() if op.endswith("scaled_dot_product_attention")))
    problems = []
    if unsupported:
        problems.append("operators fvcore could not count in the reference: " + ", ".join(f"{k} ×{v}" for k, v in unsupported.items()))
    seen = sum(r["macs"] for r in rows if r["type"] == "attention")
    if seen != attention_macs:
        problems.append(f"the reference's attention rows sum to {seen:,} MACs, fvcore counted {attention_macs:,} (attention called outside torch.nn.functional)")
    return ReferenceCount(rows, {"macs": total - attention_macs, "attention_macs": attention_macs, **_params(model)}, unsupported, problems)


def _params(model: Any) -> dict[str, int]:
    """conv + linear weights and biases; BatchNorm affine; everything else (layer scale)."""
    from torch import nn

    conv_linear = bn = 0
    for module in model.modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            conv_linear += own
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            bn += own
    total = sum(p.numel() for p in model.parameters())
    return {"params": int(conv_linear), "bn_params": int(bn), "other_params": int(total - conv_linear - bn)}


def check(w: Walk, reference: str | Any) -> ReferenceCheck:
    """mncost's walk against the reference model, in totals and layer by layer (execution order).

    ``reference``: a name (:func:`parse`), a ``torch.nn.Module``, or (module, label).
    """
    if isinstance(reference, str):
        ref = parse(reference)
        model, label = build(ref), ref.label
    elif isinstance(reference, tuple):
        model, label = reference
    else:
        model, label = reference.eval(), type(reference).__name__
    counted = count(model, (w.spec.in_channels, w.resolution, w.resolution))
    problems = counted.problems + compare_layer_table(w, counted.rows)
    return ReferenceCheck(
        reference=label,
        source="live",
        totals=reference_totals(w, counted.entry),
        layer_problems=tuple(problems),
        note=f"counted now by fvcore; {len(counted.rows)} conv/linear/attention layers paired with mncost's in execution order",
    )

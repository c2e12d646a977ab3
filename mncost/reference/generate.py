#!/usr/bin/env python
"""Generate independent reference MAC / parameter counts for MobileNet V1-V4.

The counts come from the upstream PyTorch implementations (torchvision and
timm), measured with fvcore's ``FlopCountAnalysis``.  They are committed as
data files so that mncost's own test-suite can assert against them without
needing torch / torchvision / timm / fvcore installed.

This script is NOT run by the test-suite.  It needs a separate "reference"
environment, e.g.::

    python3.11 -m venv /work/refenv
    /work/refenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/refenv/bin/pip install timm fvcore
    /work/refenv/bin/python mncost/reference/generate.py

Outputs (paths relative to the repository root unless overridden):

* ``mncost/reference/reference_counts.json`` - one entry per
  (spec, width_rule, alpha, resolution) grid point.
* ``mncost/reference/layers/<name>.json`` - ordered per-layer table
  (every leaf Conv2d / Linear, plus attention ops) for the default config of
  each spec.
* ``<arch-dir>/<name>.txt`` - ``print(model)`` of each default model, for
  reading only (default ``/work/refdata/arch``, outside the repository).

Counting convention (also written into the JSON):

* ``macs``: fvcore counts of ``aten::_convolution`` plus linear/addmm/mm
  ops.  fvcore counts one fused multiply-add as one "flop", i.e. these are
  MACs.  BatchNorm, pooling, activations and element-wise ops are ignored on
  purpose (their handles are set to ``None``).
* ``attention_macs``: Q@K^T + A@V MACs of attention, counted by a custom
  handle for ``aten::scaled_dot_product_attention`` (or explicit
  matmul/bmm/einsum when the non-fused attention path is used).  NOT included
  in ``macs``.
* ``params``: weights + biases of ``nn.Conv2d`` and ``nn.Linear`` modules.
* ``bn_params``: affine weight + bias of BatchNorm modules (running stats are
  buffers, not parameters, and are not counted).
* ``other_params``: every remaining parameter (e.g. timm's LayerScale gamma).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

# torch.jit (used by fvcore tracing, and touched at import time by timm) emits
# deprecation / tracer warnings that are irrelevant for counting.
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=UserWarning)

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import timm
import fvcore
from fvcore.nn import FlopCountAnalysis
from fvcore.nn import jit_handles
from fvcore.nn.jit_handles import get_shape
from timm.models.efficientnet import _gen_mobilenet_v1
from timm.models.mobilenetv3 import _gen_mobilenet_v3, _gen_mobilenet_v4

try:
    from importlib.metadata import version as _pkg_version
except ImportError:  # pragma: no cover
    _pkg_version = None

warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

REPO_ROOT = Path(__file__).resolve().parents[2]
NUM_CLASSES = 1000

# ---------------------------------------------------------------------------
# Operator classification
# ---------------------------------------------------------------------------

# fvcore reports operators by name with the "aten::" prefix removed; the conv
# handle reports under the custom name "conv".
MAC_OPS = {"conv", "linear", "addmm", "mm"}
ATTENTION_OPS = {"scaled_dot_product_attention", "matmul", "bmm", "einsum"}

# Operators we ignore ON PURPOSE (handle set to None so fvcore neither counts
# nor warns about them).  Anything else that shows up as "unsupported" is
# unexpected and gets printed.
IGNORED_OPS = [
    # normalisation / pooling / resampling (fvcore has default handles for
    # some of these; we override them with None)
    "aten::batch_norm", "aten::group_norm", "aten::layer_norm", "aten::instance_norm",
    "aten::adaptive_avg_pool2d", "aten::avg_pool2d", "aten::mean",
    "aten::upsample_nearest2d", "aten::upsample_bilinear2d",
    # activations
    "aten::relu", "aten::relu_", "aten::relu6", "aten::relu6_",
    "aten::hardtanh", "aten::hardtanh_",  # ReLU6 traces as hardtanh
    "aten::hardswish", "aten::hardswish_", "aten::hardsigmoid", "aten::hardsigmoid_",
    "aten::sigmoid", "aten::sigmoid_", "aten::gelu", "aten::gelu_", "aten::silu", "aten::silu_",
    "aten::softmax",
    # element-wise arithmetic (residual adds, SE gating, layer scale, q*scale)
    "aten::add", "aten::add_", "aten::mul", "aten::mul_", "aten::div", "aten::div_",
    # misc no-compute ops
    "aten::dropout", "aten::dropout_", "aten::feature_dropout",
    # padding (BlurPool2d pads explicitly) and max pooling: no MACs
    "aten::pad", "aten::constant_pad_nd", "aten::max_pool2d",
]
EXPECTED_UNSUPPORTED: set = set()  # everything we know about is in IGNORED_OPS


def _prod(xs) -> int:
    return int(math.prod(int(x) for x in xs))


def sdpa_macs_from_shapes(q: List[int], k: List[int], v: List[int]) -> Tuple[int, int]:
    """(Q@K^T MACs, A@V MACs) for q=[..., Lq, E], k=[..., S, E], v=[..., S, Ev].

    Leading (batch, head) dims of q define the work: K/V may be broadcast over
    heads (multi-query attention has k/v with a head dim of 1).
    """
    lead = _prod(q[:-2])
    lq, e = q[-2], q[-1]
    s, ev = k[-2], v[-1]
    assert k[-1] == e and v[-2] == s, (q, k, v)
    return lead * lq * s * e, lead * lq * s * ev


def sdpa_flop_jit(inputs, outputs) -> int:
    """fvcore handle for aten::scaled_dot_product_attention: B*H*Lq*Lk*E + B*H*Lq*Lk*Ev."""
    q, k, v = (get_shape(x) for x in inputs[:3])
    qk, av = sdpa_macs_from_shapes(q, k, v)
    return qk + av


def matmul_flop_jit(inputs, outputs) -> int:
    """Broadcast-aware aten::matmul / bmm handle: prod(batch) * M * K * N."""
    a, b = (get_shape(x) for x in inputs[:2])
    out = get_shape(outputs[0])
    assert a[-1] == b[-2], (a, b)
    # out = [..., M, N]; K is the contracted dim.
    return _prod(out) * a[-1]


def make_analysis(model: nn.Module, res: int) -> FlopCountAnalysis:
    fa = FlopCountAnalysis(model, (torch.zeros(1, 3, res, res),))
    # Start from an empty handle table (fvcore's defaults also count
    # batch_norm / adaptive_avg_pool2d / upsample, and set_op_handle(op=None)
    # does not remove an already-registered handle), then register exactly
    # the counted ops.  conv/linear/addmm/mm/einsum use fvcore's own handles.
    fa.clear_op_handles()
    fa.set_op_handle(**{
        "aten::_convolution": jit_handles.conv_flop_jit,
        "aten::linear": jit_handles.linear_flop_jit,
        "aten::addmm": jit_handles.addmm_flop_jit,
        "aten::mm": jit_handles.matmul_flop_jit,
        "aten::einsum": jit_handles.einsum_flop_jit,
        "aten::scaled_dot_product_attention": sdpa_flop_jit,
        "aten::matmul": matmul_flop_jit,
        "aten::bmm": matmul_flop_jit,
    })
    fa.set_op_handle(**{name: None for name in IGNORED_OPS})
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    fa.tracer_warnings("none")
    return fa


UNEXPECTED: Dict[str, Counter] = {}  # label -> unexpected unsupported ops


def count_model(model: nn.Module, res: int, label: str) -> Tuple[Dict[str, int], FlopCountAnalysis]:
    """Run fvcore on a batch-1 input and split the totals into MACs / attention MACs."""
    fa = make_analysis(model, res)
    with torch.no_grad():
        by_op = fa.by_operator()
        unsupported = fa.unsupported_ops()
    unexpected = Counter({k: v for k, v in unsupported.items() if k not in EXPECTED_UNSUPPORTED})
    if unexpected:
        UNEXPECTED[label] = unexpected
        print(f"  !! unexpected unsupported ops in {label}: {dict(unexpected)}", flush=True)
    unknown = set(by_op) - MAC_OPS - ATTENTION_OPS
    assert not unknown, f"{label}: counted ops outside the convention: {unknown}"
    macs = sum(v for k, v in by_op.items() if k in MAC_OPS)
    attn = sum(v for k, v in by_op.items() if k in ATTENTION_OPS)
    return {"macs": int(macs), "attention_macs": int(attn),
            "attention_ops": sorted(k for k in by_op if k in ATTENTION_OPS)}, fa


def count_params(model: nn.Module) -> Dict[str, int]:
    """Split parameters into conv/linear, batch-norm and everything else."""
    conv_lin = bn = 0
    for m in model.modules():
        own = [p for p in m.parameters(recurse=False)]
        n = sum(p.numel() for p in own)
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            conv_lin += n
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            bn += n
        else:
            continue
    total = sum(p.numel() for p in model.parameters())
    return {"params": int(conv_lin), "bn_params": int(bn), "other_params": int(total - conv_lin - bn)}


# ---------------------------------------------------------------------------
# Model builders (all pretrained=False; nothing is downloaded)
# ---------------------------------------------------------------------------

def _fmt_alpha(a: float) -> str:
    return repr(float(a))


def build(spec: str, width_rule: str, alpha: float) -> Tuple[nn.Module, str, str]:
    """Return (model, reference name, exact constructor expression)."""
    tvm = torchvision.models
    if spec == "v2":
        assert width_rule == "torchvision"
        return (tvm.mobilenet_v2(width_mult=alpha, num_classes=NUM_CLASSES),
                "torchvision.mobilenet_v2", f"torchvision.models.mobilenet_v2(width_mult={_fmt_alpha(alpha)})")
    if spec in ("v3-large", "v3-small"):
        size = spec.split("-")[1]
        if width_rule == "torchvision":
            fn = getattr(tvm, f"mobilenet_v3_{size}")
            return (fn(width_mult=alpha, num_classes=NUM_CLASSES), f"torchvision.mobilenet_v3_{size}",
                    f"torchvision.models.mobilenet_v3_{size}(width_mult={_fmt_alpha(alpha)})")
        assert width_rule == "paper"
        variant = f"mobilenetv3_{size}_100"  # registered name; only selects large/small arch + cfg
        return (_gen_mobilenet_v3(variant, channel_multiplier=alpha, pretrained=False, num_classes=NUM_CLASSES),
                f"timm.{variant}",
                f"timm.models.mobilenetv3._gen_mobilenet_v3('{variant}', channel_multiplier={_fmt_alpha(alpha)})")
    if spec == "v1":
        # mobilenetv1_100 is the plain paper MobileNetV1 (no head conv);
        # mobilenetv1_100h adds head_conv=True, mobilenetv1_125 is alpha=1.25.
        variant = "mobilenetv1_100"
        return (_gen_mobilenet_v1(variant, channel_multiplier=alpha, pretrained=False, num_classes=NUM_CLASSES),
                f"timm.{variant}",
                f"timm.models.efficientnet._gen_mobilenet_v1('{variant}', channel_multiplier={_fmt_alpha(alpha)})")
    if spec in V4_VARIANTS:
        variant = V4_VARIANTS[spec]
        return (_gen_mobilenet_v4(variant, channel_multiplier=alpha, pretrained=False, num_classes=NUM_CLASSES),
                f"timm.{variant}",
                f"timm.models.mobilenetv3._gen_mobilenet_v4('{variant}', channel_multiplier={_fmt_alpha(alpha)})")
    from . import zoo  # the other backbones (raises ValueError for unknown specs too)

    return zoo.build(spec, alpha)


V4_VARIANTS = {
    "v4-conv-s": "mobilenetv4_conv_small",
    "v4-conv-m": "mobilenetv4_conv_medium",
    "v4-conv-l": "mobilenetv4_conv_large",
    "v4-hybrid-m": "mobilenetv4_hybrid_medium",
    "v4-hybrid-l": "mobilenetv4_hybrid_large",
}
# timm's pretrained_cfg input_size for these variants (checked at run time).
V4_DEFAULT_RES = {"v4-conv-s": 224, "v4-conv-m": 256, "v4-conv-l": 384, "v4-hybrid-m": 256, "v4-hybrid-l": 384}


def grid() -> List[Tuple[str, str, float, int]]:
    """All (spec, width_rule, alpha, resolution) reference points, in output order."""
    pts: List[Tuple[str, str, float, int]] = []
    for a in (0.25, 0.5, 0.75, 1.0, 1.25):
        for r in (128, 160, 192, 224):
            pts.append(("v1", "timm", a, r))
    for a in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4):
        for r in (96, 128, 160, 192, 224):
            pts.append(("v2", "torchvision", a, r))
    for rule in ("torchvision", "paper"):
        for spec in ("v3-large", "v3-small"):
            for a in (0.5, 0.75, 1.0, 1.25):
                for r in (160, 192, 224, 256):
                    pts.append((spec, rule, a, r))
    for spec in V4_VARIANTS:
        for r in (224, 256, 384):
            pts.append((spec, "timm", 1.0, r))
        for a in (0.5, 0.75, 1.25):
            pts.append((spec, "timm", a, V4_DEFAULT_RES[spec]))
    return pts


# Default configs that get a per-layer table and a print(model) dump:
# (file stem, spec, width_rule, alpha, resolution)
DEFAULTS = [
    ("v1", "v1", "timm", 1.0, 224),
    ("v2", "v2", "torchvision", 1.0, 224),
    ("v3-large", "v3-large", "torchvision", 1.0, 224),
    ("v3-small", "v3-small", "torchvision", 1.0, 224),
    ("v3-large-paper075", "v3-large", "paper", 0.75, 224),
    ("v3-small-paper075", "v3-small", "paper", 0.75, 224),
] + [(s, s, "timm", 1.0, V4_DEFAULT_RES[s]) for s in V4_VARIANTS]

# Known-good values (from the brief / upstream model cards):
# (spec, width_rule, alpha, res) -> (macs, params)  (params None = not checked)
SANITY = {
    ("v2", "torchvision", 1.0, 224): (300_774_272, 3_470_760),
    ("v2", "torchvision", 0.35, 96): (11_934_128, 1_663_048),
    ("v3-large", "torchvision", 1.0, 224): (216_589_760, 5_458_632),
    ("v3-small", "torchvision", 1.0, 224): (56_510_400, 2_530_744),
    ("v1", "timm", 1.0, 224): (568_740_352, 4_210_088),
    ("v1", "timm", 1.0, 160): (290_675_200, None),
    ("v4-conv-s", "timm", 1.0, 224): (186_005_568, 3_748_936),
    ("v4-conv-m", "timm", 1.0, 256): (1_080_244_224, 9_647_608),
    ("v4-conv-l", "timm", 1.0, 384): (6_376_220_672, 32_441_312),
    ("v4-hybrid-m", "timm", 1.0, 256): (1_229_240_320, 10_992_632),
    ("v4-hybrid-l", "timm", 1.0, 384): (7_372_138_496, 37_587_936),
}


# ---------------------------------------------------------------------------
# Per-layer tables
# ---------------------------------------------------------------------------

def _pair(x) -> List[int]:
    return [int(v) for v in (x if isinstance(x, (tuple, list)) else (x, x))]


def layer_table(model: nn.Module, res: int, fa: FlopCountAnalysis) -> List[Dict[str, Any]]:
    """Ordered list of leaf Conv2d / Linear modules and attention ops, in forward order.

    Uses forward hooks (conv/linear) and a temporary wrapper around
    F.scaled_dot_product_attention (attention).  MACs per module come from
    fvcore's by_module(); attention MACs from by_module_and_operator().
    """
    by_module = fa.by_module()
    by_mod_op = fa.by_module_and_operator()
    names = {m: n for n, m in model.named_modules()}
    rows: List[Dict[str, Any]] = []
    stack: List[str] = []
    handles = []

    def pre_hook(mod, inp):
        stack.append(names[mod])

    def post_hook(mod, inp, out):
        stack.pop()
        if isinstance(mod, nn.Conv2d):
            x = inp[0]
            rows.append({
                "module": names[mod], "type": "Conv2d",
                "in_shape": list(x.shape[1:]), "out_shape": list(out.shape[1:]),
                "in_channels": mod.in_channels, "out_channels": mod.out_channels,
                "kernel": _pair(mod.kernel_size), "stride": _pair(mod.stride),
                "padding": _pair(mod.padding), "dilation": _pair(mod.dilation),
                "groups": mod.groups, "bias": mod.bias is not None,
                "macs": int(by_module[names[mod]]),
                "params": int(sum(p.numel() for p in mod.parameters(recurse=False))),
            })
        elif isinstance(mod, nn.Linear):
            x = inp[0]
            rows.append({
                "module": names[mod], "type": "Linear",
                "in_shape": list(x.shape[1:]), "out_shape": list(out.shape[1:]),
                "in_channels": mod.in_features, "out_channels": mod.out_features,
                "bias": mod.bias is not None,
                "macs": int(by_module[names[mod]]),
                "params": int(sum(p.numel() for p in mod.parameters(recurse=False))),
            })

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre_hook))
        handles.append(m.register_forward_hook(post_hook))

    orig_sdpa = F.scaled_dot_product_attention

    def sdpa_wrapper(q, k, v, *args, **kwargs):
        owner = stack[-1]
        qk, av = sdpa_macs_from_shapes(list(q.shape), list(k.shape), list(v.shape))
        out = orig_sdpa(q, k, v, *args, **kwargs)
        rows.append({
            "module": owner, "type": "attention", "op": "scaled_dot_product_attention",
            # shapes without the batch dim: q [H, Lq, E], k/v [Hkv, S, E/Ev]
            "q_shape": list(q.shape[1:]), "k_shape": list(k.shape[1:]),
            "v_shape": list(v.shape[1:]), "out_shape": list(out.shape[1:]),
            "num_heads": int(q.shape[1]), "kv_heads": int(k.shape[1]),
            "key_dim": int(q.shape[-1]), "value_dim": int(v.shape[-1]),
            "q_len": int(q.shape[-2]), "kv_len": int(k.shape[-2]),
            "qk_macs": qk, "av_macs": av,
            "macs": int(by_mod_op[owner]["scaled_dot_product_attention"]),
            "params": 0,
        })
        return out

    F.scaled_dot_product_attention = sdpa_wrapper
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, res, res))
    finally:
        F.scaled_dot_product_attention = orig_sdpa
        for h in handles:
            h.remove()
    for r in rows:
        if r["type"] == "attention":
            assert r["macs"] == r["qk_macs"] + r["av_macs"], r
    return rows


def nonfused_attention_macs(model: nn.Module, res: int) -> Optional[int]:
    """Re-count attention with timm's non-fused (explicit matmul) path, as a cross-check."""
    attn_mods = [m for m in model.modules() if hasattr(m, "fused_attn")]
    if not attn_mods:
        return None
    old = [m.fused_attn for m in attn_mods]
    try:
        for m in attn_mods:
            m.fused_attn = False
        fa = make_analysis(model, res)
        with torch.no_grad():
            by_op = fa.by_operator()
        assert "scaled_dot_product_attention" not in by_op
        return int(by_op.get("matmul", 0) + by_op.get("bmm", 0))
    finally:
        for m, o in zip(attn_mods, old):
            m.fused_attn = o


# ---------------------------------------------------------------------------
# JSON output helpers: one entry / layer per line (compact, diff-friendly)
# ---------------------------------------------------------------------------

def dump_json(path: Path, obj: Dict[str, Any], list_key: str) -> None:
    lines = ["{"]
    keys = list(obj)
    for i, k in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        if k == list_key:
            items = obj[k]
            lines.append(f" {json.dumps(k)}: [")
            for j, it in enumerate(items):
                c = "," if j < len(items) - 1 else ""
                lines.append("  " + json.dumps(it, separators=(", ", ": ")) + c)
            lines.append(" ]" + comma)
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(obj[k])}{comma}")
    lines.append("}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    json.loads(path.read_text())  # self-check


def versions() -> Dict[str, str]:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "timm": timm.__version__,
        "fvcore": _pkg_version("fvcore") if _pkg_version else getattr(fvcore, "__version__", "?"),
    }


CONVENTION = (
    "macs = fvcore counts of aten::_convolution + linear/addmm ops only (1 fused multiply-add = 1 MAC; "
    "BatchNorm, pooling, activations, elementwise ignored); params = weights+biases of nn.Conv2d and "
    "nn.Linear modules only; attention_macs = Q@K^T + A@V MACs of scaled_dot_product_attention "
    "(or explicit matmul/bmm in attention), counted with a custom handle; bn_params and other_params "
    "reported separately"
)
ATTENTION_PATH = (
    "timm MultiQueryAttention2d with fused_attn=True (timm default, TIMM_FUSED_ATTN unset): "
    "aten::scaled_dot_product_attention, q [B,heads,Lq,key_dim], k [B,1,Lkv,key_dim], "
    "v [B,1,Lkv,value_dim] (K/V broadcast over heads); handle = B*heads*Lq*Lkv*(key_dim+value_dim). "
    "Cross-checked: the non-fused explicit-matmul path (fused_attn=False) gives identical attention_macs."
)


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=REPO_ROOT / "mncost" / "reference",
                    help="where reference_counts.json and layers/ are written")
    ap.add_argument("--arch-dir", type=Path, default=Path("/work/refdata/arch"),
                    help="where print(model) dumps are written (not committed)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    failures: List[str] = []

    # --- grid -------------------------------------------------------------
    entries = []
    for spec, rule, alpha, res in grid():
        model, ref, ctor = build(spec, rule, alpha)
        model.eval()
        label = f"{spec}/{rule}/a={alpha}/r={res}"
        counts, _ = count_model(model, res, label)
        p = count_params(model)
        entry = {
            "reference": ref, "spec": spec, "width_rule": rule, "alpha": alpha, "resolution": res,
            "macs": counts["macs"], "params": p["params"], "attention_macs": counts["attention_macs"],
            "bn_params": p["bn_params"], "other_params": p["other_params"], "num_classes": NUM_CLASSES,
            "constructor": ctor,
        }
        if counts["attention_ops"]:
            entry["attention_path"] = "+".join(counts["attention_ops"])
        entries.append(entry)
        msg = f"{label:38s} macs={entry['macs']:>14,} params={entry['params']:>11,} attn={entry['attention_macs']:>12,}"
        exp = SANITY.get((spec, rule, alpha, res))
        if exp is not None:
            ok = entry["macs"] == exp[0] and (exp[1] is None or entry["params"] == exp[1])
            msg += "  sanity " + ("OK" if ok else f"MISMATCH (expected {exp})")
            if not ok:
                failures.append(msg)
        print(msg, flush=True)
        # check timm's registered default resolution for the V4 models
        if spec in V4_VARIANTS and alpha == 1.0 and res == V4_DEFAULT_RES[spec]:
            cfg_res = model.pretrained_cfg.get("input_size", (3, 0, 0))[-1]
            if cfg_res != res:
                failures.append(f"{spec}: timm default input_size {cfg_res} != {res}")

    doc = {
        "generated_by": "mncost/reference/generate.py",
        "command": "/work/refenv/bin/python mncost/reference/generate.py",
        "environment": ("python3.11 -m venv /work/refenv && /work/refenv/bin/pip install torch==2.14.1 "
                        "torchvision==0.29.1 && /work/refenv/bin/pip install timm fvcore"),
        "versions": versions(),
        "convention": CONVENTION,
        "attention_path": ATTENTION_PATH,
        "input": "batch 1, torch.zeros(1, 3, R, R), model.eval(), torch.no_grad(), pretrained=False",
        "entries": entries,
    }
    dump_json(args.out_dir / "reference_counts.json", doc, "entries")

    # --- per-layer tables for the default configs --------------------------
    args.arch_dir.mkdir(parents=True, exist_ok=True)
    for stem, spec, rule, alpha, res in DEFAULTS:
        model, ref, ctor = build(spec, rule, alpha)
        model.eval()
        counts, fa = count_model(model, res, stem)
        rows = layer_table(model, res, fa)
        p = count_params(model)
        # consistency checks: layer table sums to the totals
        lay_macs = sum(r["macs"] for r in rows if r["type"] != "attention")
        lay_attn = sum(r["macs"] for r in rows if r["type"] == "attention")
        lay_params = sum(r["params"] for r in rows)
        n_leaf = sum(1 for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
        for what, got, want in (("macs", lay_macs, counts["macs"]),
                                ("attention_macs", lay_attn, counts["attention_macs"]),
                                ("params", lay_params, p["params"]),
                                ("n_layers", sum(1 for r in rows if r["type"] != "attention"), n_leaf)):
            if got != want:
                failures.append(f"layers/{stem}: sum of {what} {got} != total {want}")
        nf = nonfused_attention_macs(model, res)
        if nf is not None and nf != counts["attention_macs"]:
            failures.append(f"{stem}: non-fused attention macs {nf} != sdpa {counts['attention_macs']}")
        layer_doc = {
            "generated_by": "mncost/reference/generate.py",
            "reference": ref, "constructor": ctor, "spec": spec, "width_rule": rule,
            "alpha": alpha, "resolution": res,
            "macs": counts["macs"], "attention_macs": counts["attention_macs"], **p,
            "note": ("shapes exclude the batch dim; layers in forward execution order (forward hooks); "
                     "macs per module from fvcore by_module(); attention rows: q/k/v shapes are "
                     "[heads, len, dim]"),
            "layers": rows,
        }
        dump_json(args.out_dir / "layers" / f"{stem}.json", layer_doc, "layers")
        (args.arch_dir / f"{stem}.txt").write_text(
            f"# {ctor}\n# resolution {res}; macs {counts['macs']:,}; params {p['params']:,}; "
            f"attention_macs {counts['attention_macs']:,}\n{model}\n")
        print(f"layers/{stem}.json: {len(rows)} rows"
              + (f" (non-fused attention cross-check {nf:,})" if nf is not None else ""), flush=True)

    if UNEXPECTED:
        print("\nUnexpected unsupported operators (not counted, not in the ignore list):")
        for k, v in UNEXPECTED.items():
            print(f"  {k}: {dict(v)}")
    if failures:
        print("\nFAILURES:")
        for f in failures:
            print("  " + f)
        return 1
    print(f"\nwrote {len(entries)} entries; all sanity checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

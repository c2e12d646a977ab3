#!/usr/bin/env python
"""Reference counts of the zoo: the non-MobileNet mobile backbones of the built-in specs.

Same convention, counting code and output format as ``generate.py`` (which it imports),
written to ``zoo_counts.json`` beside ``reference_counts.json`` so the MobileNet grid does not
have to be regenerated. Not run by the test-suite; needs torchvision, timm and fvcore::

    <reference-python> -m mncost.reference.zoo            # every model
    <reference-python> -m mncost.reference.zoo lcnet mnasnet  # some specs (merged into the file)

All models are built with ``pretrained=False``; re-parameterizable models (MobileOne, FastViT)
are counted in their deployed form (``timm.utils.reparameterize_model``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import generate as g

torch, torchvision, timm = g.torch, g.torchvision, g.timm

FILE = Path(__file__).resolve().parent / "zoo_counts.json"

Builder = Callable[[float], Any]


def _tv(name: str) -> tuple[Builder, str, Callable[[float], str]]:
    return (lambda a: getattr(torchvision.models, name)(num_classes=g.NUM_CLASSES)), f"torchvision.{name}", (lambda a: f"torchvision.models.{name}()")


def _timm(name: str, reparameterize: bool = False) -> tuple[Builder, str, Callable[[float], str]]:
    def build(alpha: float) -> Any:
        model = timm.create_model(name, pretrained=False, num_classes=g.NUM_CLASSES)
        if reparameterize:
            from timm.utils import reparameterize_model

            model = reparameterize_model(model)
        return model

    suffix = " + timm.utils.reparameterize_model" if reparameterize else ""
    return build, f"timm.{name}", (lambda a: f"timm.create_model('{name}', pretrained=False){suffix}")


def _by_alpha(names: dict[float, tuple[str, str]]) -> tuple[Builder, str, Callable[[float], str]]:
    """One reference model per published width multiplier: {α: (package, name)}."""

    def build(alpha: float) -> Any:
        package, name = names[alpha]
        if package == "torchvision":
            return getattr(torchvision.models, name)(num_classes=g.NUM_CLASSES)
        return timm.create_model(name, pretrained=False, num_classes=g.NUM_CLASSES)

    first = next(iter(names.values()))
    return build, f"{first[0]}.{first[1].rsplit('_', 1)[0]}_*", (lambda a: f"{names[a][0]} {names[a][1]}()")


# spec -> (builder, reference name, constructor text), width rule, [(alpha, resolution)]
MODELS: dict[str, tuple[tuple[Builder, str, Callable[[float], str]], str, list[tuple[float, int]]]] = {}


def _add(spec: str, ref: tuple[Builder, str, Callable[[float], str]], rule: str, points: list[tuple[float, int]]) -> None:
    MODELS[spec] = (ref, rule, points)


for _i, _res in enumerate((224, 240, 260, 300)):
    _add(f"efficientnet-b{_i}", _tv(f"efficientnet_b{_i}"), "torchvision", [(1.0, _res), (1.0, 192 if _res != 192 else 224)])
for _i, _res in enumerate((224, 240, 260, 280, 300)):
    _add(f"efficientnet-lite{_i}", _timm(f"efficientnet_lite{_i}"), "timm", [(1.0, _res), (1.0, 192)])
_add("mnasnet", _by_alpha({0.5: ("torchvision", "mnasnet0_5"), 0.75: ("torchvision", "mnasnet0_75"),
                           1.0: ("torchvision", "mnasnet1_0"), 1.3: ("torchvision", "mnasnet1_3")}), "torchvision",
     [(0.5, 224), (0.75, 224), (1.0, 224), (1.3, 224), (1.0, 192)])
_add("fbnet-c", _timm("fbnetc_100"), "timm", [(1.0, 224), (1.0, 192)])
_add("spnasnet-100", _timm("spnasnet_100"), "timm", [(1.0, 224), (1.0, 192)])
_add("lcnet", _by_alpha({0.35: ("timm", "lcnet_035"), 0.5: ("timm", "lcnet_050"), 0.75: ("timm", "lcnet_075"),
                         1.0: ("timm", "lcnet_100"), 1.5: ("timm", "lcnet_150")}), "timm",
     [(0.35, 224), (0.5, 224), (0.75, 224), (1.0, 224), (1.5, 224), (1.0, 192)])
for _v, _res in zip("abcde", (192, 188, 184, 152, 106)):
    _add(f"tinynet-{_v}", _timm(f"tinynet_{_v}"), "timm", [(1.0, _res), (1.0, 224)])
_add("mobilenet-edgetpu", _timm("mobilenet_edgetpu_100"), "timm", [(1.0, 224), (1.0, 256)])
_add("v4-conv-aa-m", _timm("mobilenetv4_conv_aa_medium"), "timm", [(1.0, 256), (1.0, 224)])
_add("v4-conv-aa-l", _timm("mobilenetv4_conv_aa_large"), "timm", [(1.0, 384), (1.0, 448)])
_add("v4-conv-blur-m", _timm("mobilenetv4_conv_blur_medium"), "timm", [(1.0, 224), (1.0, 256)])
_add("v2-110d", _timm("mobilenetv2_110d"), "timm", [(1.0, 224), (1.0, 192)])
_add("v2-120d", _timm("mobilenetv2_120d"), "timm", [(1.0, 224), (1.0, 192)])
_add("ghostnet", _by_alpha({0.5: ("timm", "ghostnet_050"), 1.0: ("timm", "ghostnet_100"), 1.3: ("timm", "ghostnet_130")}), "timm",
     [(0.5, 224), (1.0, 224), (1.3, 224), (1.0, 192)])
for _s in range(5):
    _add(f"mobileone-s{_s}", _timm(f"mobileone_s{_s}", reparameterize=True), "timm", [(1.0, 224), (1.0, 256)])
for _v in ("t8", "s12", "sa12", "sa24", "sa36"):
    _add(f"fastvit-{_v}", _timm(f"fastvit_{_v}", reparameterize=True), "timm", [(1.0, 256), (1.0, 224)])
for _v in ("b1", "b2", "b3"):
    _add(f"efficientvit-{_v}", _timm(f"efficientvit_{_v}"), "timm", [(1.0, 224), (1.0, 256)])
_add("convnext-atto", _timm("convnext_atto"), "timm", [(1.0, 224), (1.0, 288)])
_add("convnext-small", _timm("convnext_small"), "timm", [(1.0, 224), (1.0, 288)])


def build(spec: str, alpha: float) -> tuple[Any, str, str]:
    """(model, reference name, constructor) of a zoo spec at width multiplier ``alpha``."""
    if spec not in MODELS:
        raise ValueError(spec)
    (builder, name, constructor), _, points = MODELS[spec]
    if alpha not in {a for a, _ in points}:
        raise ValueError(f"{spec}: no reference model at α={alpha}")
    return builder(alpha), name, constructor(alpha)


def count(spec: str, alpha: float, resolution: int) -> dict[str, Any]:
    model, name, constructor = build(spec, alpha)
    model.eval()
    counts, _ = g.count_model(model, resolution, f"{spec}/a={alpha}/r={resolution}")
    params = g.count_params(model)
    entry = {
        "reference": name, "spec": spec, "width_rule": MODELS[spec][1], "alpha": alpha, "resolution": resolution,
        "macs": counts["macs"], "params": params["params"], "attention_macs": counts["attention_macs"],
        "bn_params": params["bn_params"], "other_params": params["other_params"], "num_classes": g.NUM_CLASSES,
        "constructor": constructor,
    }
    if counts["attention_ops"]:
        entry["attention_path"] = "+".join(counts["attention_ops"])
        entry["attention_macs_flop_counter"] = flop_counter_attention_macs(model, resolution)
        if entry["attention_macs_flop_counter"] != entry["attention_macs"]:
            g.UNEXPECTED[f"{spec}/r={resolution}"] = {"attention MACs differ from FlopCounterMode": entry["attention_macs_flop_counter"]}
    return entry


def flop_counter_attention_macs(model: Any, resolution: int) -> int:
    """Attention MACs by an independent counter: torch.utils.flop_counter.FlopCounterMode with
    timm's fused attention turned off, so Q·Kᵀ and A·V run as aten.bmm; MACs = bmm FLOPs / 2."""
    from torch.utils.flop_counter import FlopCounterMode

    modules = [m for m in model.modules() if hasattr(m, "fused_attn")]
    old = [m.fused_attn for m in modules]
    try:
        for m in modules:
            m.fused_attn = False
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(torch.zeros(1, 3, resolution, resolution))
        flops = counter.get_flop_counts()["Global"]
        return int(flops.get(torch.ops.aten.bmm, 0)) // 2
    finally:
        for m, o in zip(modules, old):
            m.fused_attn = o


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", help="spec names (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    unknown = [s for s in args.specs if s not in MODELS]
    if unknown:
        print(f"unknown specs: {unknown}; known: {', '.join(MODELS)}")
        return 2
    old = json.loads(FILE.read_text())["entries"] if FILE.is_file() else []
    chosen = args.specs or list(MODELS)
    kept = [e for e in old if e["spec"] not in chosen and e["spec"] in MODELS]
    new = []
    for spec in chosen:
        for alpha, res in MODELS[spec][2]:
            entry = count(spec, alpha, res)
            print(f"{spec:20s} a={alpha:<5} r={res:<4} macs={entry['macs']:>14,} params={entry['params']:>11,} attn={entry['attention_macs']:>12,}", flush=True)
            new.append(entry)
    order = list(MODELS)
    entries = sorted(kept + new, key=lambda e: (order.index(e["spec"]), e["alpha"], e["resolution"]))
    doc = {
        "generated_by": "mncost/reference/zoo.py",
        "command": "<reference-python> -m mncost.reference.zoo",
        "versions": g.versions(),
        "convention": g.CONVENTION,
        "input": "batch 1, torch.zeros(1, 3, R, R), model.eval(), torch.no_grad(), pretrained=False",
        "entries": entries,
    }
    g.dump_json(FILE, doc, "entries")
    if g.UNEXPECTED:
        print(f"unexpected unsupported operators: {g.UNEXPECTED}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

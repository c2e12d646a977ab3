"""What one activation costs in a network's LiteRT graph: prints numbers, asserts nothing.

    python benchmarks/litert_swap_activation.py fastvit-t8 [--resolution 256] [--dtype int8] [--act gelu]

Builds the spec's torch model as `mncost bench --runtime litert` does, times its LiteRT graph
(XNNPACK, one thread pinned) as is, then with every module of that activation replaced by
ReLU (which fuses into the conv before it as a clamp), and prints both medians and noise
figures: the difference is what the activation costs in that graph. The floor is the ReLU
variant. Needs the litert extra (`mncost[litert]`).
"""

from __future__ import annotations

import argparse
from typing import Any

ACTIVATIONS = {"gelu": "GELU", "silu": "SiLU", "hardswish": "Hardswish", "sigmoid": "Sigmoid"}


def swap(module: Any, cls: type, relu: type) -> int:
    """Replace every ``cls`` submodule of ``module`` by ``relu()``; the number replaced."""
    n = 0
    for name, child in module.named_children():
        if isinstance(child, cls):
            setattr(module, name, relu())
            n += 1
        else:
            n += swap(child, cls, relu)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--resolution", type=int, default=None)
    ap.add_argument("--dtype", choices=("fp32", "int8"), default="int8")
    ap.add_argument("--act", choices=sorted(ACTIVATIONS), default="gelu")
    args = ap.parse_args()

    from torch import nn

    from mncost.fidelity.bench import build_net
    from mncost.fidelity.litert_bench import ready_interpreter
    from mncost.fidelity.timing import pinned, time_until_steady
    from mncost.spec import load_spec
    from mncost.walker import walk

    spec = load_spec(args.model)
    w = walk(spec, resolution=args.resolution)
    for variant in ("as is", f"{args.act} → relu"):
        net, x = build_net(spec, alpha=w.alpha, resolution=w.resolution, width_rule=w.width_rule)
        swapped = swap(net, getattr(nn, ACTIVATIONS[args.act]), nn.ReLU) if variant != "as is" else 0
        runner = ready_interpreter(net, x, args.dtype, calibration_inputs=8, what=f"{args.model} ({variant})")
        with pinned(1):
            t = time_until_steady(runner.invoke, warmup=10, runs=40, max_runs=300)
        print(f"{args.model} r{w.resolution} {args.dtype} {variant:16s} ({swapped:3d} replaced): {t.median_s * 1e3:8.2f} ms, "
              f"noise {t.noise:.1%}, {len(t.samples)} runs", flush=True)


if __name__ == "__main__":
    main()

"""Depthwise convolution speed by kernel size on LiteRT (XNNPACK): prints numbers, asserts nothing.

    python benchmarks/dwconv_kernels.py [--dtype fp32|int8|both] [--kernels 3,5,7,9]

Times one depthwise conv at a time (channels × resolution of the early, middle and late
stages of a mobile network), converted and quantized as `mncost bench --runtime litert` does
(`mncost.fidelity.litert_bench`), one thread pinned, and prints its MAC rate. The floor of
each row is the 3×3 kernel of the same shape: a larger kernel has more MACs per output and
should run at least as fast per MAC. Where it does not, the roofline's single peak cannot be
right for those layers; that is why depthwise kernels above ``mncost.ops.LARGE_KERNEL_TAPS``
taps are their own layer group (``large_depthwise``). Needs the litert extra (`mncost[litert]`).
"""

from __future__ import annotations

import argparse
import platform
import time
from importlib.metadata import version

SHAPES = ((48, 64), (96, 32), (256, 16))  # (channels, resolution): early, middle, late stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", choices=("fp32", "int8", "both"), default="both")
    ap.add_argument("--kernels", default="3,5,7,9", help="odd kernel sizes, comma-separated")
    args = ap.parse_args()
    kernels = [int(k) for k in args.kernels.split(",")]

    import torch
    from torch import nn

    from mncost.fidelity.calibrate import cpu_model
    from mncost.fidelity.litert_bench import ready_interpreter
    from mncost.fidelity.timing import pinned, time_until_steady

    print(f"# {cpu_model() or platform.processor() or platform.machine()}, ai-edge-litert {version('ai-edge-litert')}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one thread")
    print(f"{'dtype':5s} {'kernel':>6s} {'channels':>8s} {'res':>4s} {'µs':>9s} {'GMAC/s':>7s} {'3×3 GMAC/s (floor)':>19s}")
    for dtype in (("fp32", "int8") if args.dtype == "both" else (args.dtype,)):
        for channels, res in SHAPES:
            floor = None
            for k in kernels:
                conv = nn.Conv2d(channels, channels, k, padding=k // 2, groups=channels).eval()
                runner = ready_interpreter(conv, torch.randn(1, channels, res, res), dtype, calibration_inputs=4, what=f"a {k}×{k} depthwise conv")
                with pinned(1):
                    t = time_until_steady(runner.invoke, warmup=5, runs=30, max_runs=200)
                rate = channels * res * res * k * k / t.median_s / 1e9
                floor = rate if k == 3 else floor
                shown = f"{floor:19.2f}" if floor is not None else f"{'':19s}"
                print(f"{dtype:5s} {f'{k}×{k}':>6s} {channels:8d} {res:4d} {t.median_s * 1e6:9.1f} {rate:7.2f} {shown}", flush=True)


if __name__ == "__main__":
    main()

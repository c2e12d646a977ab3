"""Score 100,000 random UIB variants of MobileNetV4-Conv-S on three hardware profiles.

    python benchmarks/nas_example.py [--n 100000] [--seed 0]

Every UIB block of MNv4-Conv-S may become any UIB kind (IB, ConvNext, ExtraDW, FFN where
it has no stride) with kernels 3 or 5 and expansion 2, 3, 4 or 6: a search space of the
kind MNv4's NAS explores. Candidates are rows of choice indices (mncost.nas.SearchSpace);
the script times scoring them all, shows the fastest on each profile, and checks a few
candidates against mncost.analyze (exact counts, the same latency).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import mncost
from mncost.blocks.v4 import UIB
from mncost.nas import SearchSpace

KERNELS = [(0, 3), (0, 5), (3, 0), (5, 0), (3, 3), (5, 5), (3, 5), (0, 0)]  # (start_dw, mid_dw); (0, 0) is an FFN
EXPANSIONS = [2.0, 3.0, 4.0, 6.0]


def uib_space(base: mncost.ArchSpec) -> SearchSpace:
    choices = {}
    for stage in base.stages:
        for i, block in enumerate(stage.blocks):
            if not isinstance(block, UIB):
                continue
            options = []
            for start_dw, mid_dw in KERNELS:
                if (start_dw, mid_dw) == (0, 0) and block.stride != 1:
                    continue  # an FFN has no depthwise conv to carry the stride
                for expand in EXPANSIONS:
                    options.append(dataclasses.replace(block, start_dw=start_dw, mid_dw=mid_dw, expand=expand, kind=None))
            choices[f"{stage.name}.{i}"] = options
    return SearchSpace(base, choices)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = mncost.load_spec("v4-conv-s")
    profiles = [mncost.load_hardware(name) for name in ("cpu", "edgetpu", "dsp")]
    space = uib_space(base)
    rows = space.sample(args.n, seed=args.seed)
    start, cpu = time.perf_counter(), time.process_time()
    df = space.evaluate(rows, profiles)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{len(space.positions)} searchable UIB positions, {' × '.join(map(str, space.sizes))} choices")
    print(f"scored {args.n:,} candidates × {len(profiles)} profiles = {len(df):,} rows in {elapsed:.2f} s "
          f"({elapsed / len(df) * 1e6:.1f} µs a row; {cpu:.2f} s of CPU time)")
    for hw in profiles:
        best = df[df.hardware == hw.name].nsmallest(3, "latency_s")
        cells = ", ".join(f"{c} ({lat * 1e3:.3g} ms, {m / 1e6:.0f} MMACs)" for c, lat, m in zip(best.candidate, best.latency_s, best.macs))
        print(f"  fastest on {hw.name}: {cells}")
    for row in rows[:3]:  # the same numbers as analyze gives for the built spec
        spec = space.spec(row)
        label = "-".join(map(str, row))
        for hw in profiles:
            got = df[(df.candidate == label) & (df.hardware == hw.name)].iloc[0]
            want = mncost.analyze(spec, hw).totals
            assert (int(got.macs), int(got.params)) == (want.macs, want.params)
            assert abs(got.latency_s / want.latency_s - 1) < 1e-12
    print("checked 3 candidates against mncost.analyze: same MACs, params and latency")


if __name__ == "__main__":
    main()

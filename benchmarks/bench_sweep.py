"""Speed of `mncost sweep`: prints each target beside its measurement and the paired floors.

    python benchmarks/bench_sweep.py [--runs 7] [--big-runs 3] [--no-big]

1. 100,880 rows (10 built-ins × 26 α × 97 resolutions × the 4 generic profiles) as CSV to a file:
   target ≤ 3 s and ≤ 200 MiB;
2. 1,053,360 rows (10 × 126 α × 209 resolutions × 4) streamed as CSV to a file: ≤ 30 s.
Whole processes, interleaved with the floors `python -c pass`, `python -c "import yaml"`
and `python -c "import pandas"` (a sweep needs pandas and numpy), medians.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from _measure import Samples, machine, measure, python, row

MODELS = "v1,v1-cifar,v2,v3-large,v3-small,v4-conv-s,v4-conv-m,v4-conv-l,v4-hybrid-m,v4-hybrid-l"  # the MobileNet built-ins
SWEEP = ["-m", "mncost", "sweep", "--models", MODELS, "--hw", "generic", "--format", "csv"]  # the four generic profiles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big-runs", type=int, default=3)
    parser.add_argument("--no-big", action="store_true")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sweep.csv")
        floors = (Samples("python -c pass", python("-c", "pass")), Samples("python -c 'import yaml'", python("-c", "import yaml")),
                  Samples("python -c 'import pandas'", python("-c", "import pandas")))
        small = Samples("sweep 100,880 rows → csv file", python(*SWEEP, "--alpha", "0.25:1.5:0.05", "--resolution", "96:384:3", "-o", out))
        measure([*floors, small], args.runs)
        with open(out) as handle:
            rows = sum(1 for _ in handle) - 1
        for f in floors:
            print(row(f))
        verdict = "met" if small.wall <= 3.0 and small.rss <= 200 else "NOT met"
        print(row(small, f"≤3 s ≤200 MiB: {verdict}", floors) + f"  [{rows:,} rows, {args.runs} runs]")
        if not args.no_big:
            big = Samples("sweep 1,053,360 rows → csv file (streamed)", python(*SWEEP, "--alpha", "0.25:1.5:0.01", "--resolution", "96:512:2", "-o", out))
            measure([floors[0], big], args.big_runs, warmup=0)
            with open(out) as handle:
                rows = sum(1 for _ in handle) - 1
            verdict = "met" if big.wall <= 30.0 else "NOT met"
            print(row(big, f"≤30 s: {verdict}", floors[:1]) + f"  [{rows:,} rows, {args.big_runs} runs]")


if __name__ == "__main__":
    main()

"""Speed of the fidelity fits: prints numbers, asserts nothing.

    python benchmarks/bench_fidelity.py [--runs 3] [--skip-paper]

1. `mncost fidelity paper` as a whole process (writes to a temporary file): wall and CPU time;
2. `mncost fit` of 25 networks with the nested selection, in process: a synthetic device whose
   latencies come from a known model (plain roofline + 4 µs per layer, 2 % noise) on 25 built-in
   configurations, written as a measurements CSV and read back as `mncost fit` does;
3. the same fit by CSV through the CLI, as a whole process.
Targets (issue): the paper report ≤ 60 s and the 25-network fit ≤ 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = [(m, a, r) for m, alphas, res in (
    ("v1", (0.25, 0.5, 0.75, 1.0), (160, 224)),
    ("v2", (0.35, 0.5, 1.0, 1.4), (160, 224)),
    ("v3-small", (0.5, 0.75, 1.0), (224,)),
    ("v3-large", (0.75, 1.0), (224,)),
    ("v4-conv-s", (1.0,), (224,)),
    ("v4-conv-m", (1.0,), (256,)),
    ("v4-hybrid-m", (1.0,), (256,)),
    ("v4-conv-l", (1.0,), (256,)),
) for a in alphas for r in res]


def _cli() -> list[str]:
    exe = shutil.which("mncost")
    return [exe] if exe else [sys.executable, "-m", "mncost"]


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(args: list[str], runs: int, label: str) -> None:
    walls, cpus = [], []
    for _ in range(runs):
        before = _child_cpu()
        start = time.perf_counter()
        subprocess.run(_cli() + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        cpus.append(_child_cpu() - before)
    print(f"{label}: wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
          f"CPU median {statistics.median(cpus):.2f} s, {runs} run(s)")


def synthetic_csv(path: Path) -> None:
    import numpy as np

    import mncost
    from mncost.fidelity.measurements import Measurement, format_measurements
    from mncost.fidelity.model import ModelParams, build_network_set, predict_latency_s

    walks = [mncost.walk(mncost.load_spec(m), alpha=a, resolution=r) for m, a, r in CONFIGS]
    net = build_network_set(walks)
    truth = ModelParams(1e11, 3e9, overhead_s=4e-6)
    y = predict_latency_s(net, truth) * np.exp(np.random.default_rng(0).normal(0.0, 0.02, len(walks)))
    rows = [Measurement(model=m, alpha=a, resolution=r, device="synthetic", dtype="int8", latency_ms=float(t) * 1e3)
            for (m, a, r), t in zip(CONFIGS, y)]
    path.write_text(format_measurements(rows, comments=("synthetic: plain roofline 1e11 MAC/s, 3e9 B/s, 4 us per layer, 2% noise",)))


def in_process_fit(path: Path, runs: int) -> None:
    from mncost.fidelity.device import fit_measurements
    from mncost.fidelity.measurements import read_measurements

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fit = fit_measurements(read_measurements(path), name="synthetic", select=True)
        times.append(time.perf_counter() - start)
    s = fit.selection
    print(f"fit of {len(fit.rows)} networks with selection, in process: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}), {runs} run(s); selected {s.chosen.name}, LOO r_s {s.loo.spearman:.3f}, "
          f"median error {s.loo.median_ape:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-paper", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "synthetic.csv"
        synthetic_csv(csv)
        in_process_fit(csv, args.runs)
        whole_process(["fit", str(csv), "--name", "synthetic"], args.runs, f"mncost fit ({len(CONFIGS)} networks, selection on)")
        if not args.skip_paper:
            whole_process(["fidelity", "paper", "--output", str(Path(tmp) / "paper.md")], args.runs, "mncost fidelity paper")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

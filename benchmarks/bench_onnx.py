"""Speed of `mncost analyze model.onnx`, whole process: prints numbers, asserts nothing.

    python benchmarks/bench_onnx.py [--runs 7] [--model v3-large] [--file some.onnx [--resolution N]]

Exports the built-in spec's torch model to ONNX (fp32 weights, so about 4 bytes a
parameter; needs torch and onnx) unless --file is given, then times, as whole
processes, median and spread of N runs each:
1. the floor: `python -c pass` and `python -c "import onnx"`;
2. `mncost analyze MODEL --format csv` from the spec, then from the ONNX file (the
   terminal table adds rich's rendering to both). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], runs: int) -> tuple[float, float, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def export(model: str, folder: Path) -> Path:
    import warnings

    import torch

    sys.path.insert(0, str(ROOT))
    from mncost.torchnet import SpecNet
    from mncost.spec import load_spec

    spec = load_spec(model)
    net = SpecNet(spec).eval()
    x = torch.zeros(1, spec.in_channels, spec.resolution, spec.resolution)
    with torch.no_grad():
        net(x)
    path = folder / f"{model}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, opset_version=17, training=torch.onnx.TrainingMode.EVAL,
                          do_constant_folding=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="v3-large", help="built-in spec to export (default v3-large, about 22 MB)")
    parser.add_argument("--file", type=Path, help="an ONNX file to time instead of exporting one")
    parser.add_argument("--resolution", type=int, help="the file's resolution, for a graph with a dynamic size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or export(args.model, Path(tmp))
        size_mb = path.stat().st_size / 1e6
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ('python -c "import onnx"', [sys.executable, "-c", "import onnx"]),
            (f"mncost analyze {args.model} -f csv (its spec)", [sys.executable, "-m", "mncost", "analyze", args.model, "-f", "csv"]),
            (f"mncost analyze {path.name} -f csv ({size_mb:.1f} MB)", [sys.executable, "-m", "mncost", "analyze", str(path), "-f", "csv",
                                                                     *(["-r", str(args.resolution)] if args.resolution else [])]),
        ]
        print(f"{'command':<52} {'median':>8} {'min':>8} {'max':>8}   ({args.runs} runs, {os.cpu_count()} CPUs)")
        for label, cmd in rows:
            med, lo, hi = timed(cmd, args.runs)
            print(f"{label:<52} {med:8.3f} {lo:8.3f} {hi:8.3f}")


if __name__ == "__main__":
    main()

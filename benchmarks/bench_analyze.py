"""Speed of `mncost analyze`: prints each target beside its measurement and the paired floors.

    python benchmarks/bench_analyze.py [--runs 9]

Whole processes, interleaved with the floors `python -c pass` and `python -c "import yaml"`,
medians of --runs runs after one warm-up round (which also fills mncost's on-disk caches:
the whole answers of built-in names, mncost.answer_cache, and the parsed built-ins; the
"parsed only" row clears the stored answers before each run, the cold row runs with
MNCOST_NO_CACHE=1). Wall time is what the
targets are about; on a shared machine read it beside CPU time and the floor ratios.
Also: the in-process cost of the walk, and which heavy modules the path imports.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _measure import REPO, Samples, machine, measure, python, row

sys.path.insert(0, REPO)

TARGETS = {"table": (0.120, 40.0), "json": (0.080, 40.0)}


def whole_process(runs: int, compare: list[str]) -> None:
    analyze = python("-m", "mncost", "analyze", "v3-large", "--hw", "edgetpu")
    floor_pass = Samples("python -c pass", python("-c", "pass"))
    floor_yaml = Samples("python -c 'import yaml'", python("-c", "import yaml"))
    table = Samples("analyze v3-large --hw edgetpu (table)", analyze)
    js = Samples("analyze … --format json", analyze + ["--format", "json"])
    cold = Samples("analyze … (table, MNCOST_NO_CACHE=1)", analyze, env={"MNCOST_NO_CACHE": "1"})
    answers = os.path.join(tempfile.mkdtemp(prefix="mncost-bench-"), "cache")
    clear = f"import shutil, sys; shutil.rmtree(sys.argv[1] + '/answers', ignore_errors=True); from mncost.launch import run; sys.argv[1:] = {analyze[3:]!r}; run()"
    parsed = Samples("analyze … (table, parsed built-ins only)", python("-c", clear, answers), env={"MNCOST_CACHE_DIR": answers})
    others = []
    for folder in compare:  # another checkout of mncost, timed in the same interleaving
        env = {"PYTHONPATH": folder}
        others += [Samples(f"  {os.path.basename(folder.rstrip('/'))}: table", analyze, env=env),
                   Samples(f"  {os.path.basename(folder.rstrip('/'))}: json", analyze + ["--format", "json"], env=env)]
    measure([floor_pass, floor_yaml, table, js, parsed, cold, *others], runs)
    floors = (floor_pass, floor_yaml)
    print(row(floor_pass))
    print(row(floor_yaml))
    for s, key in ((table, "table"), (js, "json")):
        wall, rss = TARGETS[key]
        verdict = "met" if s.wall <= wall and s.rss <= rss else "NOT met"
        print(row(s, f"target ≤{wall * 1e3:.0f} ms ≤{rss:.0f} MiB: {verdict}", floors))
    print(row(parsed, "(no target)", floors))
    print(row(cold, "(no target)", floors))
    for other in others:
        mine = table if other.label.endswith("table") else js
        print(row(other, f"this checkout {other.wall / mine.wall:.1f}× faster", floors))
    print(f"({runs} runs each, medians)")


def in_process(repeats: int) -> None:
    import mncost

    spec = mncost.load_spec("v3-large")
    hw = mncost.load_hardware("edgetpu")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        mncost.analyze(spec, hw)
        best = min(best, time.perf_counter() - start)
    print(f"in process: walk + roofline of v3-large on edgetpu {best * 1e3:.2f} ms (best of {repeats})")


def counting_grid() -> None:
    """Every built-in (the zoo included) over its pinned α × resolution grid, walked and timed."""
    import mncost
    from mncost.crosscheck import grid

    points = grid()
    hw = mncost.load_hardware("cpu")
    specs = {name: mncost.load_spec(name) for name in dict.fromkeys(p[0] for p in points)}
    start = time.perf_counter()
    for name, rule, alpha, resolution in points:
        mncost.analyze(specs[name], hw, alpha=alpha, resolution=resolution, width_rule=rule)
    elapsed = time.perf_counter() - start
    print(f"in process: counting grid of {len(specs)} built-ins, {len(points)} configurations: {elapsed * 1e3:.0f} ms ({elapsed / len(points) * 1e3:.2f} ms each)")


def heavy_imports() -> None:
    code = ("import sys; from mncost.launch import main; main(['analyze', 'v3-large', '--hw', 'edgetpu']); "
            "print([m for m in ('typer', 'click', 'rich', 'torch', 'pandas', 'matplotlib', 'numpy') if m in sys.modules], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    print(f"analyze path imports of typer/click/rich/torch/pandas/matplotlib/numpy: {proc.stderr.strip()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--compare", action="append", default=[], help="another mncost checkout to time beside this one")
    args = parser.parse_args()
    print(machine())
    whole_process(max(args.runs, 7), args.compare)
    in_process(20)
    counting_grid()
    heavy_imports()

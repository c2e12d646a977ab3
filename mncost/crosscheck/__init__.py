"""``mncost crosscheck``: prove the walker's counts against torch models counted by fvcore.

For any spec, a real ``torch.nn.Module`` is built from the spec, run on a random-free
(zeros) input of the spec's resolution, and counted by fvcore under mncost's
conventions; every layer's MACs, parameters and output shape are compared. For the
built-in specs the totals are also compared with the independent reference
implementation (torchvision / timm) when it is importable, else with the reference
counts committed in ``mncost/reference``.

With ``reference="torchvision:NAME"`` or ``"timm:NAME[?key=value]"`` (``--reference``)
the real network is built and compared instead, layer by layer in execution order
(:mod:`.reference_model`). A spec's ``expected:`` counts are checked where they apply
(α = 1, default resolution and width rule). Before torch runs, the memory and MACs are
estimated from the walk and a check above the limits is refused (:mod:`.budget`).

torch and fvcore are an optional extra (``pip install 'mncost[torch]'``); nothing
else in mncost imports them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import reference as reference_data
from ..errors import OptionError
from ..extras import TORCH, require
from ..expected import expected_rows
from ..spec import ArchSpec, load_spec
from ..walker import Walk, walk
from . import budget
from .compare import CrossCheck, ReferenceCheck, Total, compare_layer_table, compare_with_torch, reference_totals

def require_extras() -> None:
    require("torch", "fvcore", what="crosscheck", install=TORCH)

def crosscheck(
    model: str | Path | ArchSpec,
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
    width_rule: str | None = None,
    use_reference: bool = True,
    reference: Any = None,
    max_memory_gb: float = budget.DEFAULT_MAX_MEMORY_GB,
    max_gmacs: float = budget.DEFAULT_MAX_GMACS,
) -> CrossCheck:
    """Compare mncost's walk of ``model`` with fvcore's count of the torch model built from it.

    ``reference``: ``"torchvision:NAME"``, ``"timm:NAME[?key=value&...]"`` or a
    ``torch.nn.Module``: compare with that network too (instead of the built-in's own
    reference). ``use_reference=False`` skips the built-in reference.
    """
    require_extras()
    spec = model if isinstance(model, ArchSpec) else load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule)
    budget.check(w, max_memory_gb=max_memory_gb, max_gmacs=max_gmacs)
    if isinstance(reference, str):  # a bad --reference fails before the long part
        from .reference_model import build, parse

        name = parse(reference)
        reference = (build(name), name.label)
    counts = _count_spec_net(w)
    layers, totals = compare_with_torch(w, counts)
    if reference is not None:
        from . import reference_model

        ref, note = reference_model.check(w, reference), ""
    else:
        ref, note = (reference_check(w) if use_reference else (None, "reference comparison skipped"))
    return CrossCheck(
        model=spec.name,
        alpha=w.alpha,
        resolution=w.resolution,
        width_rule=w.width_rule,
        layers=layers,
        totals=totals,
        unsupported_ops=counts.unsupported_ops,
        reference=ref,
        reference_note=note,
        expected=tuple(Total(*row) for row in expected_rows(w)),
    )


def _count_spec_net(w: Walk) -> Any:
    """fvcore's count of the SpecNet of ``w``, in one trace.

    Lazy linear layers are sized from the walk, so no warm-up forward pass is needed
    (it cost as much as the trace). If the walk is wrong about a linear layer's input,
    the trace fails: then the module is rebuilt and sized by a real forward pass, and
    the comparison names the layer.
    """
    import torch
    from torch.nn.modules.lazy import LazyModuleMixin

    from .fvcount import count
    from ..torchnet import SpecNet

    spec = w.spec
    shape = (spec.in_channels, w.resolution, w.resolution)
    names = {layer.name for layer in w.layers}
    inputs = {layer.name: layer.in_shape for layer in w.layers}
    key = (id(spec), w.alpha, w.width_rule)
    held = _last_net.pop(key, None)
    _last_net.clear()

    def fc_input(name: str) -> int:  # a lazy linear layer's input, as the walk sizes it
        return math.prod(inputs.get(name.rpartition(".")[0], inputs.get(name, (1,))))

    if held is not None and all(fc_input(name) == size for name, size in held[1].items()):
        net, sizes = held[0], held[1]
    else:
        torch.manual_seed(0)
        net = SpecNet(spec, alpha=w.alpha, width_rule=w.width_rule)
        sizes = {}
        for name, module in net.named_modules():
            if isinstance(module, LazyModuleMixin) and module.has_uninitialized_params():
                sizes[name] = fc_input(name)
                with torch.no_grad():
                    module.initialize_parameters(torch.zeros(1, sizes[name]))  # type: ignore[operator]
    try:
        counts = count(net, shape, names, warm_up=False)
    except RuntimeError:
        torch.manual_seed(0)
        return count(SpecNet(spec, alpha=w.alpha, width_rule=w.width_rule), shape, names)
    _last_net[key] = (net, sizes, spec)
    return counts


# The module of the last check, by (spec object, α, width rule): `crosscheck --all` checks
# each α at several resolutions in a row, and building the module cost a sixth of a check.
# Reused only where every linear layer sized from the walk gets the same input (a head
# after global pooling); the spec is held so that its id stays its own.
_last_net: dict[tuple[int, float, str], tuple[Any, dict[str, int], ArchSpec]] = {}

def reference_check(w: Walk) -> tuple[ReferenceCheck | None, str]:
    """Totals against torchvision/timm when importable, else against the committed counts."""
    spec = w.spec
    live = _live_reference(w)
    if live is not None:
        return live, ""
    entry = reference_data.entry(spec.name, w.width_rule, w.alpha, w.resolution)
    if entry is None:
        return None, f"no reference count for {spec.name} at α={w.alpha:g}, resolution {w.resolution}, width rule {w.width_rule}"
    meta = reference_data.counts()
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if k != "python")
    problems: list[str] = []
    for name in _layer_table_names():
        table = reference_data.layer_table(name)
        if table and (table["spec"], table["width_rule"], table["resolution"]) == (spec.name, w.width_rule, w.resolution) and abs(table["alpha"] - w.alpha) < 1e-12:
            problems = compare_layer_table(w, table["layers"])
            break
    return (
        ReferenceCheck(
            reference=f"{entry['reference']} ({entry['constructor']})",
            source="committed",
            totals=reference_totals(w, entry),
            layer_problems=tuple(problems),
            note=f"committed counts from {versions}; regenerate with {entry.get('generated_by', meta['generated_by'])}",
        ),
        "",
    )

def _layer_table_names() -> Iterator[str]:
    for path in sorted((reference_data.FOLDER / "layers").glob("*.json")):
        yield path.stem

def _live_reference(w: Walk) -> ReferenceCheck | None:
    """Build and count the reference model itself, when torchvision and timm import."""
    from .quiet import quiet_dependencies

    with quiet_dependencies():  # generate.py sets warning filters at import: keep them inside
        try:
            from ..reference import generate
        except Exception:  # torchvision/timm absent or not importable beside this torch
            return None
        try:
            model, name, constructor = generate.build(w.spec.name, w.width_rule, w.alpha)
        except (ValueError, AssertionError):
            return None
        model.eval()  # BatchNorm on the 1x1 head needs eval mode at batch 1
        counted, _ = generate.count_model(model, w.resolution, name)
    entry = {**counted, **generate.count_params(model)}
    return ReferenceCheck(reference=f"{name} ({constructor})", source="live", totals=reference_totals(w, entry), note="counted now by fvcore")

Point = tuple[str, str, float, int]  # model, width rule, α, resolution

def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)

def crosscheck_many(points: list[Point], *, jobs: int | None = None) -> Iterator[CrossCheck]:
    """``crosscheck`` of every point, in the order given, on ``jobs`` worker processes.

    Workers are forked (torch is imported, not yet run, in the parent) and run torch on one
    thread each: on a busy machine two-thread torch in two processes spends most of its
    time waiting at OpenMP barriers (measured 5–10× slower). A worker takes every resolution
    of one (model, rule, α) in a row, so they share one torch module; the largest start first
    so that no worker is left with one at the end. One job, or no ``fork``, runs here.
    """
    jobs = default_jobs() if jobs is None else jobs
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise OptionError(f"--jobs must be a positive integer, got {jobs!r}")
    jobs = min(jobs, len(points))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for point in points:
            yield _check_point(point)
        return
    groups: dict[tuple[str, str, float], list[int]] = {}  # one task per (model, rule, α): its resolutions share a module
    for i, (name, rule, alpha, _) in enumerate(points):
        groups.setdefault((name, rule, alpha), []).append(i)
    tasks = sorted(groups.values(), key=lambda indices: -sum(_work(points[i]) for i in indices))
    done: dict[int, CrossCheck] = {}
    next_index = 0
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_start) as pool:
        for results in pool.imap_unordered(_check_indexed, [[(i, points[i]) for i in task] for task in tasks]):
            done.update(results)
            while next_index in done:
                yield done.pop(next_index)
                next_index += 1

def _work(point: Point) -> int:
    name, rule, alpha, resolution = point
    return budget.estimate(walk(load_spec(name), alpha=alpha, resolution=resolution, width_rule=rule)).macs


def _worker_start() -> None:
    """A worker runs torch on one thread and leaves signals to the parent: it inherited the
    CLI's handlers, which turned the pool's closing SIGTERM into a traceback per worker."""
    import signal

    import torch

    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent reports it and ends the pool
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def _check_point(point: Point) -> CrossCheck:
    name, rule, alpha, resolution = point
    return crosscheck(name, alpha=alpha, resolution=resolution, width_rule=rule)


def _check_indexed(items: list[tuple[int, Point]]) -> list[tuple[int, CrossCheck]]:
    return [(i, _check_point(point)) for i, point in items]


def grid() -> list[tuple[str, str, float, int]]:
    """Every built-in over its pinned α × resolution grid (the reference grids), per width rule."""
    from .. import builtin

    points: list[tuple[str, str, float, int]] = []
    entries = reference_data.counts()["entries"]
    for name in builtin.spec_files():
        spec = load_spec(name)
        mine = [(e["spec"], e["width_rule"], e["alpha"], e["resolution"]) for e in entries if e["spec"] == name]
        if not mine:  # no reference implementation: the V1 width grid at the default resolution
            mine = [(name, spec.default_width_rule, a, spec.resolution) for a in (0.25, 0.5, 0.75, 1.0, 1.25)]
        points.extend(mine)
    return points

__all__ = ["CrossCheck", "crosscheck", "crosscheck_many", "default_jobs", "grid", "require_extras"]

"""``mncost crosscheck``: prove the walker's counts against torch models counted by fvcore.

For any spec, a real ``torch.nn.Module`` is built from the spec, run on a random-free
(zeros) input of the spec's resolution, and counted by fvcore under mncost's
conventions; every layer's MACs, parameters and output shape are compared. For the
built-in specs the totals are also compared with the independent reference
implementation (torchvision / timm) when it is importable, else with the reference
counts committed in ``mncost/reference``.

torch and fvcore are an optional extra (``pip install 'mncost[torch]'``); nothing
else in mncost imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .. import reference as reference_data
from ..errors import MissingExtraError
from ..spec import ArchSpec, load_spec
from ..walk import Walk, walk
from .compare import CrossCheck, ReferenceCheck, compare_layer_table, compare_with_torch, reference_totals

INSTALL_HINT = "crosscheck needs torch and fvcore: pip install torch==2.13.0 && pip install 'mncost[torch]'"


def require_extras() -> None:
    try:
        import fvcore  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None


def crosscheck(
    model: str | Path | ArchSpec,
    *,
    alpha: float = 1.0,
    resolution: int | None = None,
    rho: float | None = None,
    width_rule: str | None = None,
    use_reference: bool = True,
) -> CrossCheck:
    """Compare mncost's walk of ``model`` with fvcore's count of the torch model built from it."""
    require_extras()
    import torch

    from .fvcount import count
    from .torch_model import SpecNet

    spec = model if isinstance(model, ArchSpec) else load_spec(model)
    w = walk(spec, alpha=alpha, resolution=resolution, rho=rho, width_rule=width_rule)
    torch.manual_seed(0)
    net = SpecNet(spec, alpha=w.alpha, width_rule=w.width_rule)
    counts = count(net, (spec.in_channels, w.resolution, w.resolution), {layer.name for layer in w.layers})
    layers, totals = compare_with_torch(w, counts)
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
    )


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


__all__ = ["CrossCheck", "INSTALL_HINT", "crosscheck", "grid", "require_extras"]

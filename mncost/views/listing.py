"""The views of ``mncost models`` and ``mncost hardware``: one row per built-in.

The rows are the view model: every column goes to csv, json and md; the table (on a
terminal or in a file) shows the brief columns that fit a screen.
"""

from __future__ import annotations

from typing import Any

from ..render import si
from ..text import markup
from .formats import Format, csv_text, md_table, rich_to_text

MODEL_BRIEF = ("family", "name", "resolution", "macs", "params", "width_rules", "published_top1", "source")
HARDWARE_BRIEF = ("name", "title", "peak_macs_per_s", "mem_bw_bytes_per_s", "ridge_macs_per_byte", "weight_dtype", "activation_dtype", "fidelity")


def model_rows() -> list[dict[str, Any]]:
    """Every built-in architecture, counted at α = 1 and its default resolution; MobileNets first, then by family."""
    from .. import builtin
    from ..spec import load_spec
    from ..walker import walk

    rows: list[dict[str, Any]] = []
    for name in builtin.spec_files():
        spec = load_spec(name)
        layers = walk(spec).layers
        rows.append({
            "name": spec.name, "family": spec.family, "title": spec.title, "resolution": spec.resolution,
            "macs": sum(x.macs for x in layers), "params": sum(x.params for x in layers),
            "width_rules": ",".join(spec.width_rules), "default_width_rule": spec.default_width_rule,
            "published_macs": spec.published.macs, "published_params": spec.published.params,
            "published_top1": spec.published.top1, "source": spec.source,
        })
    families = list(dict.fromkeys(row["family"] for row in rows))
    rows.sort(key=lambda row: (not row["family"].startswith("MobileNet"), families.index(row["family"])))
    return rows


def hardware_rows() -> list[dict[str, Any]]:
    """Every built-in hardware profile, with how far to trust its latencies."""
    from ..hardware import builtin_hardware

    return [
        {
            "name": hw.name, "title": hw.title, "peak_macs_per_s": hw.peak_macs_per_s, "mem_bw_bytes_per_s": hw.mem_bw_bytes_per_s,
            "ridge_macs_per_byte": hw.ridge_point, "weight_dtype": hw.weight_dtype, "activation_dtype": hw.activation_dtype,
            "source": "; ".join(f"{k}: {v}" for k, v in hw.sources.items()), **_fidelity_columns(hw),
        }
        for hw in builtin_hardware()
    ]


def _fidelity_columns(hw: Any) -> dict[str, Any]:
    """A fitted profile's honest error; a generic one's description."""
    e = hw.expected_error
    if e is None:
        return {"kind": hw.kind, "fidelity": hw.fidelity, "selected_model": None, "loo_median_ape": None, "loo_spearman": None, "networks": None}
    return {"kind": hw.kind, "fidelity": f"fitted: {e.model}, {e.sentence()}, r_s {e.loo_spearman:.3f}", "selected_model": e.model,
            "loo_median_ape": e.loo_median_ape, "loo_spearman": e.loo_spearman, "networks": e.networks}


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return si(value) if abs(value) >= 1e3 else f"{value:g}"
    return str(value)


def rich_listing(rows: list[dict[str, Any]], title: str, brief: tuple[str, ...]) -> Any:
    from rich.table import Table

    table = Table(title=markup(title), title_justify="left", header_style="bold")
    for key in brief:
        table.add_column(key.replace("_", " "), overflow="fold", max_width=70 if key == "source" else None)
    for row in rows:
        table.add_row(*(markup(_cell(row[k])) for k in brief))
    return table


def render(rows: list[dict[str, Any]], fmt: Format, title: str, brief: tuple[str, ...]) -> str:
    if fmt is Format.json:
        from ..jsonio import dumps

        return dumps(rows)
    if fmt is Format.csv:
        return csv_text(rows)
    if fmt is Format.md:
        headers = list(rows[0]) if rows else []
        return f"# {title}\n\n" + md_table(headers, [[_cell(v) for v in row.values()] for row in rows])
    return rich_to_text(rich_listing(rows, title, brief))

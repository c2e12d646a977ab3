"""Measure this machine's roofs with torch: achievable MAC/s and memory bandwidth.

- compute roof: the best of several ``torch.mm`` of two n×n fp32 matrices
  (n³ MACs each), at ``threads`` intra-op threads;
- memory roof: the best of several ``dst.copy_(src)`` of fp32 tensors of
  ``copy_bytes`` each, counted as 2 × copy_bytes moved (one read, one write).
  Choose a size well above the last-level cache for a DRAM figure; smaller sizes
  (``extra_copy_bytes``) are measured too and recorded, to show the cache levels.

torch is imported inside the functions only (``pip install 'mncost[torch]'``).
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..extras import require

MIB = 2**20


def import_torch() -> Any:
    return require("torch", what="measuring this machine (calibrate, bench)")[0]


@contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run with ``threads`` intra-op threads (None: torch's current setting), then restore it."""
    torch = import_torch()
    before = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class Calibration:
    """Achievable roofs of this machine, fp32, and how they were measured."""

    peak_macs_per_s: float
    mem_bw_bytes_per_s: float
    threads: int
    matmul_n: int
    copy_bytes: int
    repeats: int
    copy_bw_by_size: dict[int, float] = field(default_factory=dict)  # bytes per tensor -> bytes/s
    machine: str = ""
    torch_version: str = ""

    @property
    def ridge_macs_per_byte(self) -> float:
        return self.peak_macs_per_s / self.mem_bw_bytes_per_s


def _best_seconds(fn: Any, repeats: int) -> float:
    fn()  # warm-up: first-touch page faults, thread pool start
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_macs_per_s(n: int, repeats: int) -> float:
    """Best-of-``repeats`` MAC/s of an n×n×n fp32 matmul (n³ MACs)."""
    torch = import_torch()
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    c = torch.empty(n, n)
    return n**3 / _best_seconds(lambda: torch.mm(a, b, out=c), repeats)


def copy_bytes_per_s(nbytes: int, repeats: int) -> float:
    """Best-of-``repeats`` bytes/s of a fp32 tensor copy of ``nbytes`` (2·nbytes moved)."""
    torch = import_torch()
    src = torch.ones(max(nbytes // 4, 1))
    dst = torch.empty_like(src)
    return 2 * int(src.numel()) * 4 / _best_seconds(lambda: dst.copy_(src), repeats)


def calibrate(
    *,
    threads: int | None = None,
    matmul_n: int = 2048,
    copy_bytes: int = 1024 * MIB,
    extra_copy_bytes: tuple[int, ...] = (1 * MIB, 16 * MIB, 256 * MIB),
    repeats: int = 10,
    quick: bool = False,
) -> Calibration:
    """Measure the compute and memory roofs. ``quick``: tiny sizes, 2 repeats (tests)."""
    torch = import_torch()
    if quick:
        matmul_n, copy_bytes, extra_copy_bytes, repeats = 128, 4 * MIB, (1 * MIB,), 2
    with torch_threads(threads) as used, torch.inference_mode():
        peak = matmul_macs_per_s(matmul_n, repeats)
        by_size = {size: copy_bytes_per_s(size, repeats) for size in sorted({*extra_copy_bytes, copy_bytes})}
    return Calibration(
        peak_macs_per_s=peak,
        mem_bw_bytes_per_s=by_size[copy_bytes],
        threads=used,
        matmul_n=matmul_n,
        copy_bytes=copy_bytes,
        repeats=repeats,
        copy_bw_by_size=by_size,
        machine=f"{platform.machine()} {platform.processor() or cpu_model()}".strip(),
        torch_version=str(torch.__version__),
    )


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else ''."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def calibration_profile(cal: Calibration, *, name: str = "local-cpu") -> dict[str, Any]:
    """A HardwareProfile-compatible mapping (``mncost.hardware.parse_hardware`` reads it)."""
    sizes = ", ".join(f"{size / MIB:g} MiB: {bw / 1e9:.1f} GB/s" for size, bw in sorted(cal.copy_bw_by_size.items()))
    return {
        "name": name,
        "title": f"This machine's CPU, fp32 torch, {cal.threads} thread(s) (calibrated)",
        "kind": "cpu",
        "peak_macs_per_s": float(f"{cal.peak_macs_per_s:.4g}"),
        "mem_bw_bytes_per_s": float(f"{cal.mem_bw_bytes_per_s:.4g}"),
        "weight_dtype": "fp32",
        "activation_dtype": "fp32",
        "sources": {
            "peak_macs_per_s": f"mncost.fidelity.calibrate: best of {cal.repeats} torch.mm {cal.matmul_n}x{cal.matmul_n} fp32, "
                               f"{cal.threads} thread(s), torch {cal.torch_version}, {cal.machine}",
            "mem_bw_bytes_per_s": f"mncost.fidelity.calibrate: best of {cal.repeats} copies of {cal.copy_bytes / MIB:g} MiB fp32 "
                                  f"(2 x size moved), {cal.threads} thread(s)",
        },
        "note": f"Achievable roofs measured with torch, not vendor peaks. Copy bandwidth by tensor size: {sizes}.",
    }

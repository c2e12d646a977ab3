"""How well does the roofline predict measured latency? Fit it, refine it, score it honestly.

Modules (import the one you need; this package imports nothing heavy itself):

- :mod:`.measurements` — the measurements CSV (one row per measured network), validated
  with ``file:line: column: message`` errors; no numpy;
- :mod:`.paper` — the MobileNetV4 paper's Table 6 latencies and Table 16 ridge points (data files);
- :mod:`.model` — the roofline as a vectorized function of its parameters, with the
  refinements (per-layer and per-inference overheads, per-group slowdowns, on-chip memory);
- :mod:`.fit` — least-squares fits on log latency, leave-one-out, scores, nested selection;
- :mod:`.device` — ``fit_measurements()``: one device's rows → every variant fitted and
  scored, and the hardware profile YAML (the library behind ``mncost fit``);
- :mod:`.calibrate`, :mod:`.bench` — this machine's roofs and latencies, with torch
  (imported inside their functions only);
- :mod:`.report` — the markdown reports (``paper_report()``, ``local_report()``)
  and ``render_fit()``, the text ``mncost fit`` prints;
- :mod:`.local` — ``run_local()``: the study of this machine that writes ``reports/fidelity/``.

numpy and scipy come with the ``fit`` extra, torch with the ``torch`` extra; call
:func:`require` before importing a module that needs them to get a one-line error.
"""

from __future__ import annotations

from ..extras import require

__all__ = ["require"]

from __future__ import annotations

import os

from hypothesis import settings

# CI runs a lighter profile; `HYPOTHESIS_PROFILE=thorough pytest` runs the long one.
settings.register_profile("ci", max_examples=60, deadline=None)
settings.register_profile("dev", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "10000")), deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

"""Hypothesis' budget for the property tests: bounded, so the whole set runs in about a minute on two cores.

``HYPOTHESIS_PROFILE=thorough`` asks for ten times as many examples (by hand, when a parser changes).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,  # a loaded machine must not turn a slow example into a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
    print_blob=True,
    database=None,  # no example database in the working tree; a failure prints its reproduction blob
)
settings.register_profile("thorough", parent=settings.get_profile("ci"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

"""Hypothesis settings for the SLA suite: enough examples to find edge cases, fast enough
to run on every commit. `HYPOTHESIS_PROFILE=sla-thorough` runs ten times as many."""

import os

from hypothesis import HealthCheck, settings

# deadline=None: the first call into a zone loads tz data and would trip the 200 ms
# default deadline at random. database=None: the tree is shared; no .hypothesis/ writes.
settings.register_profile(
    "sla",
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "sla-thorough",
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sla"))

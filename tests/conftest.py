"""Shared pytest setup: hypothesis profiles.

``ci`` (the default) keeps property tests to a modest budget so the suite stays fast;
``long`` explores much further for local runs: ``pytest --hypothesis-profile=long``.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("ci")

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


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _crd_registry_per_test():
    """CRDs registered by a test (register_crd, a generated module, a docs example) are the
    process's; restore the registry afterwards so no other test sees them."""
    from kubegen._manifests import CUSTOM_CLUSTER_SCOPED
    from kubegen._policy import crds

    schemas, scoped = dict(crds._schemas), set(CUSTOM_CLUSTER_SCOPED)
    yield
    crds._schemas.clear()
    crds._schemas.update(schemas)
    CUSTOM_CLUSTER_SCOPED.clear()
    CUSTOM_CLUSTER_SCOPED.update(scoped)

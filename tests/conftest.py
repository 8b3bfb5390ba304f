"""Shared test setup: hypothesis profiles and the optional PyTorch oracle."""

import os

import pytest
from hypothesis import HealthCheck, settings

# "ci": derandomized and bounded, so the suite is repeatable and fast on 2 cores.
settings.register_profile(
    "ci", derandomize=True, max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def torch():
    """PyTorch as an oracle; the test is skipped when it is not installed."""
    return pytest.importorskip("torch")


def pytest_configure(config):
    config.addinivalue_line("markers", "notebooks: runs the teaching notebooks in notebooks/ (tests/test_notebooks.py)")

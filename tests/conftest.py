"""Shared test setup: hypothesis profiles and PyTorch as the oracle (frozen or live)."""

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import autograd.engine
import tolerance_audit
import torch_oracle
from torch_oracle import FREEZING, LIVE_SKIP_REASON, STORE, Oracle

# Every gradient a built-in op returns is checked against its input's shape and dtype while the
# suite runs (in its subprocesses too): what lets the engine skip those checks in ordinary use.
autograd.engine.check_every_gradient = True
os.environ["DAGRAD_CHECK_GRADS"] = "1"

# "ci": derandomized and bounded, so the suite is repeatable and fast on 2 cores.
settings.register_profile(
    "ci", derandomize=True, max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def torch():
    """PyTorch itself, for the live tier (random programs); the test is skipped without it."""
    if torch_oracle._torch is None:
        pytest.skip(LIVE_SKIP_REASON)
    return torch_oracle._torch


@pytest.fixture
def oracle(request):
    """PyTorch's values for a deterministic comparison: live where torch is installed, else frozen."""
    node = request.node
    found = Oracle(Path(str(node.fspath)).stem, node.nodeid.split("::", 1)[1])
    yield found
    found.finish()


AUDIT = os.environ.get("DAGRAD_TOLERANCE_AUDIT")  # a file: record how close comparisons come to their limits


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if AUDIT:
        tolerance_audit.start(item.nodeid)
    yield
    if AUDIT:
        tolerance_audit.finish()


def pytest_configure(config):
    if AUDIT:
        tolerance_audit.install(AUDIT)
    config.addinivalue_line("markers", "notebooks: runs the teaching notebooks in notebooks/ (tests/test_notebooks.py)")
    if FREEZING and torch_oracle.torch_version() != torch_oracle.FROZEN_TORCH:
        raise pytest.UsageError(
            f"make oracle-freeze needs torch {torch_oracle.FROZEN_TORCH} (found {torch_oracle.torch_version()}): "
            "run `make oracle` first"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """While freezing, run only the tests that ask the oracle (and remember which exist)."""
    if not FREEZING:
        return
    for item in items:
        if "oracle" in getattr(item, "fixturenames", ()):
            STORE.collected.setdefault(Path(str(item.fspath)).stem, set()).add(item.nodeid.split("::", 1)[1])
    items[:] = [item for item in items if "oracle" in getattr(item, "fixturenames", ())]


def pytest_sessionfinish(session, exitstatus):
    # values PyTorch computed are written even where a dagrad assertion failed after them
    if FREEZING and not hasattr(session.config, "workerinput"):
        for path in STORE.write():
            print(
                f"\nfroze {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path} "
                f"({path.stat().st_size // 1024} KiB)"
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """One closing line per kind of skip: how many, why, and what to run (after pytest's own summary)."""
    result = yield
    reasons = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons["live" if LIVE_SKIP_REASON in reason else reason.removeprefix("Skipped: ")] += 1
    for reason, count in reasons.most_common():
        if reason == "live":
            terminalreporter.write_line(
                f"{count} live PyTorch comparisons (random programs) skipped: run `make oracle`; "
                "every deterministic comparison ran against frozen PyTorch values"
            )
        else:
            terminalreporter.write_line(f"{count} skipped: {reason}")
    return result

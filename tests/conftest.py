"""Shared pytest configuration: hypothesis profile, fixtures for the reference data."""
import os

import pytest
from hypothesis import HealthCheck, settings

# Deterministic, CI-friendly property tests: a fixed number of examples, no wall-clock deadline
# (timing is measured by benchmarks/, never by tests).
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Submission notebooks used by the grader tests are data, not notebooks to validate.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(autouse=True)
def _deterministic_torch():
    import torch
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def digits():
    from pruninglab.data import load_digits
    return {s: load_digits(s) for s in ("train", "val", "test")}


@pytest.fixture(scope="session")
def digits_images():
    from pruninglab.data import load_digits
    return {s: load_digits(s, images=True) for s in ("train", "val", "test")}


@pytest.fixture
def mlp():
    from pruninglab.models import load_reference
    return load_reference("mlp")


@pytest.fixture
def cnn():
    from pruninglab.models import load_reference
    return load_reference("cnn")

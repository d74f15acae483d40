"""Import tests commit (the applier opens its own transactions): every test starts and ends empty."""

from __future__ import annotations

import pytest


@pytest.fixture
def clean(committed):
    """Empty tables and indices before and after the test (the `committed` fixture of tests/fixtures.py)."""
    yield

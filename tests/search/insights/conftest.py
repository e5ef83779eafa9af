from __future__ import annotations

import pytest

from tests.support.insights import write_busy_week


@pytest.fixture
def busy_week(db):
    """A week of rollups (tests.support.insights.write_busy_week says what is in it)."""
    write_busy_week()

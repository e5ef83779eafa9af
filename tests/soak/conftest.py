"""Soak tests run only when asked for by marker (`pytest -m soak tests/soak`): they take ten
minutes or more and mount a tmpfs (root). Any `-m` expression that names `soak` decides for
itself; without one, they are deselected, so `make test`, CI and `-m "not smoke and not
faults"` never start them. (An `-m "not soak"` in addopts would be replaced by any -m given on
the command line, and the soak would then run.)"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "soak" in (config.option.markexpr or ""):
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if not item.get_closest_marker("soak")]

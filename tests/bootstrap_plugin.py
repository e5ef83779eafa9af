"""The test suite's entry point: bootstraps Vitrine (config/bootstrap.py) before pytest-django
reads the settings.

pytest-django loads the settings while pytest loads its first conftest files, too early for
tests/conftest.py; this plugin is loaded before that (`-p tests.bootstrap_plugin` in
pyproject's addopts). Without DATABASE_URL / REDIS_URL, that starts (or attaches to) the
embedded PostgreSQL and Redis of $VITRINE_VAR_DIR and exports their URLs, which every process
a test starts inherits.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from config.bootstrap import bootstrap


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args) -> Generator[None, None, None]:
    bootstrap()
    return (yield)

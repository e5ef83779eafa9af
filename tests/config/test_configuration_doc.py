"""docs/CONFIGURATION.md's table cannot drift from the code: every variable config/ reads is in
it (or is explicitly not a setting), and every row names a variable something still reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "CONFIGURATION.md"

# Read by config/ but not settings anyone sets.
NOT_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "Django's own pointer to config.settings",
    "VITRINE_STACK_ID": "the mark `make run` puts on its children so `make stop` finds them",
}
# Internal knobs that catalog/ and search/ now keep as named constants; config/settings.py still
# reads them until those lines are removed. Empty this set when they are.
BECOMING_CONSTANTS: set[str] = set()

QUOTED_NAME = re.compile(r"[\"']((?:VITRINE|DJANGO)_[A-Z0-9_]+)[\"']")


def documented() -> set[str]:
    """The variables named in the first column of the table's rows."""
    names = set()
    for line in DOC.read_text().splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def read_by_config() -> set[str]:
    """Every VITRINE_* / DJANGO_* name config/ passes as a string: env("..."), os.environ."""
    names = set()
    for path in (ROOT / "config").glob("*.py"):
        names |= set(QUOTED_NAME.findall(path.read_text()))
    return names


def test_every_variable_config_reads_is_in_the_table():
    names = read_by_config()
    assert "VITRINE_EMBEDDER" in names and "DJANGO_SECRET_KEY" in names  # the scan works
    missing = names - documented() - NOT_SETTINGS.keys() - BECOMING_CONSTANTS
    assert not missing, f"read by config/ but not in docs/CONFIGURATION.md's table: {missing}"


def test_the_table_lists_settings_only():
    wrongly = documented() & (NOT_SETTINGS.keys() | BECOMING_CONSTANTS)
    assert not wrongly, f"not settings, yet in the table: {wrongly}"


def test_every_row_names_a_variable_something_still_reads():
    sources = [
        path.read_text()
        for folder in ("config", "catalog", "search", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    sources += [(ROOT / name).read_text() for name in ("docker-compose.yml", "Makefile")]
    text = "\n".join(sources)
    unread = {name for name in documented() if not re.search(rf"\b{name}\b", text)}
    assert not unread, f"in the table but read nowhere (remove the row): {unread}"


def test_the_benchmark_knobs_and_compose_variables_are_documented():
    """The knobs BENCHMARKS.md's reproduction commands set, and what docker-compose sets."""
    name = re.compile(r"\b(?:VITRINE|DJANGO)_[A-Z0-9_]+")
    bench = set(name.findall((ROOT / "docs" / "BENCHMARKS.md").read_text()))
    compose = set(name.findall((ROOT / "docker-compose.yml").read_text()))
    missing = (bench | compose) - documented() - NOT_SETTINGS.keys()
    assert not missing, f"not in docs/CONFIGURATION.md's table: {missing}"

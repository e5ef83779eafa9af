"""`make audit` (config/audit.py) audits what the tree requires, as installed, whatever else is
installed by hand; it fails on a known vulnerability unless allow-listed, says which allow-list
entries match nothing, and never calls an audit it could not do clean. (The advisory source
itself is not reached from the suite: the audit is not part of CI.)"""

from __future__ import annotations

from importlib import metadata

from config.audit import CLEAN, INCOMPLETE, VULNERABLE, classify, required_distributions


def test_the_audited_packages_are_the_trees_requirements_however_deep(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["django>=5"]\n')
    found = required_distributions(pyproject, extras=())
    # Django and what Django needs here (tzdata only on Windows), at the installed versions;
    # nothing installed by hand (pip-audit, axes...) comes along.
    assert found == {
        "asgiref": metadata.version("asgiref"),
        "django": metadata.version("django"),
        "sqlparse": metadata.version("sqlparse"),
    }


def test_the_projects_own_list_holds_its_runtime_and_dev_tools():
    from config.audit import ROOT

    found = required_distributions(ROOT / "pyproject.toml")
    assert {"django", "celery", "kombu", "torch", "pytest", "pip-audit"} <= found.keys()
    assert list(found) == sorted(found)  # one order, so one output, for one tree


REPORT = {
    "dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [
            {"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["5.2.1"]},
        ]},
        {"name": "pillow", "version": "11.0", "vulns": [
            {"id": "GHSA-2", "aliases": [], "fix_versions": []},
        ]},
        {"name": "redis", "version": "8.0", "vulns": []},
    ]
}  # fmt: skip


def test_a_known_vulnerability_fails_unless_allow_listed():
    report = classify(REPORT, {})
    assert report.exit_code == VULNERABLE
    assert report.vulnerable == [
        "django 5.2.0: PYSEC-1 (fixed in 5.2.1)",
        "pillow 11.0: GHSA-2 (fixed in no fixed version yet)",
    ]
    # Allow-listed by id or alias, with the reason shown; a stale entry is named.
    allowed = classify(REPORT, {"CVE-1": "admin-only path", "GHSA-2": "no fix", "OLD-9": "x"})
    assert allowed.exit_code == CLEAN and allowed.audited == 3
    assert allowed.allowed[0] == "django 5.2.0: PYSEC-1 (fixed in 5.2.1): admin-only path"
    assert allowed.unused_allowances == ["OLD-9"]


def test_packages_the_source_could_not_answer_for_make_the_audit_incomplete_not_clean():
    report = classify(
        {
            "dependencies": [
                *REPORT["dependencies"][2:],
                {"name": "torch", "skip_reason": "not found"},
            ]
        },
        {},
    )
    assert report.exit_code == INCOMPLETE and report.skipped == ["torch: not found"]

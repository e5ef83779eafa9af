"""`make audit`: the known vulnerabilities of the packages Vitrine depends on (pip-audit),
less the allow-listed ones (audit-allowlist.toml). Not part of CI.

What is audited does not drift with the machine: the packages the tree's pyproject.toml
requires, runtime and dev, directly or through another package (markers evaluated here),
each at the version installed in this environment (what `make setup` installed and what runs).
Packages installed by hand but required by nothing are left out. The output is sorted.
What can still change the result on an unchanged tree is the advisory data itself (a new
advisory is the point of an audit) and whether its source answers: when it cannot be reached,
or cannot say for some packages, the audit says so and fails with exit code 2, never "clean".

Exit codes: 0 nothing known and not allow-listed; 1 vulnerable; 2 could not audit (all or part).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "audit-allowlist.toml"
CLEAN, VULNERABLE, INCOMPLETE = 0, 1, 2


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_distributions(pyproject: Path, extras: tuple[str, ...] = ("dev",)) -> dict[str, str]:
    """{name: installed version} of everything the project requires, however deep."""
    project = tomllib.loads(pyproject.read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        todo += [Requirement(r) for r in project.get("optional-dependencies", {}).get(extra, [])]
    found: dict[str, str] = {}
    seen_extras: set[tuple[str, str]] = set()
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        wanted = set(requirement.extras)
        if name in found and all((name, e) in seen_extras for e in wanted):
            continue
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue  # a requirement not installed here (another platform's); nothing to audit
        found[name] = dist.version
        seen_extras |= {(name, e) for e in wanted}
        for line in dist.requires or []:
            child = Requirement(line)
            if child.marker is None or any(
                child.marker.evaluate({"extra": e}) for e in (wanted or {""})
            ):
                todo.append(child)
    return dict(sorted(found.items()))


@dataclass
class Report:
    audited: int = 0
    vulnerable: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unused_allowances: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.skipped:
            return INCOMPLETE
        return VULNERABLE if self.vulnerable else CLEAN


def load_allowlist(path: Path) -> dict[str, str]:
    """{advisory id: why} from the allow-list file."""
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text()).get("allow", [])
    return {entry["id"]: entry["reason"] for entry in entries}


def classify(pip_audit_json: dict, allowlist: dict[str, str]) -> Report:
    """Sort pip-audit's JSON into vulnerable, allow-listed and not audited."""
    report = Report()
    used: set[str] = set()
    for dep in pip_audit_json.get("dependencies", []):
        if "skip_reason" in dep:
            report.skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        report.audited += 1
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            line = f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})"
            if allowed := ids & allowlist.keys():
                used |= allowed
                report.allowed.append(f"{line}: {allowlist[sorted(allowed)[0]]}")
            else:
                report.vulnerable.append(line)
    report.unused_allowances = sorted(allowlist.keys() - used)
    for items in (report.vulnerable, report.allowed, report.skipped):
        items.sort()
    return report


def run_pip_audit(packages: dict[str, str], service: str) -> tuple[dict | None, str]:
    """pip-audit's JSON for exactly these pins (no resolution, no pip), or None and why not."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as pins:
        # Advisories name public versions: a local build label (torch's "+cpu") is dropped.
        pins.write("".join(f"{n}=={v.split('+')[0]}\n" for n, v in packages.items()))
        pins.flush()
        command = [
            sys.executable, "-m", "pip_audit", "-r", pins.name, "--no-deps", "--disable-pip",
            "--progress-spinner", "off", "--format", "json", "--vulnerability-service", service,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    try:
        return json.loads(done.stdout), ""
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["pip-audit printed nothing"])[-1]
        return None, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", default="pypi", choices=["pypi", "osv"],
                        help="advisory source: PyPI's JSON API (default) or OSV")  # fmt: skip
    args = parser.parse_args(argv)
    try:
        import pip_audit  # noqa: F401
    except ImportError:
        print("make audit: pip-audit is not installed (make setup installs the dev tools)")
        return INCOMPLETE
    packages = required_distributions(ROOT / "pyproject.toml")
    print(
        f"auditing {len(packages)} packages (pyproject.toml's, as installed) against {args.service}"
    )
    result, why = run_pip_audit(packages, args.service)
    if result is None:
        print(f"make audit: the advisory source ({args.service}) could not be reached: {why}")
        print("NOT AUDITED: nothing is known about these packages' vulnerabilities.")
        return INCOMPLETE
    report = classify(result, load_allowlist(ALLOWLIST))
    for title, items in (
        ("VULNERABLE", report.vulnerable),
        ("allow-listed (audit-allowlist.toml)", report.allowed),
        ("allow-list entries that match nothing any more (remove them)", report.unused_allowances),
    ):
        if items:
            print(f"\n{title}:")
            print("\n".join(f"  {item}" for item in items))
    if report.skipped and not report.audited:
        print(f"\nNOT AUDITED: the advisory source ({args.service}) answered for none of the "
              f"{len(packages)} packages, e.g. {report.skipped[0]}")  # fmt: skip
        print("Nothing is known about these packages' vulnerabilities; try where the source is "
              "reachable (--service osv needs api.osv.dev).")  # fmt: skip
    elif report.skipped:
        print(f"\nNOT AUDITED ({len(report.skipped)} of {len(packages)}): the advisory source "
              f"({args.service}) had nothing to say about them:")  # fmt: skip
        print("\n".join(f"  {item}" for item in report.skipped))
    verdict = {
        CLEAN: f"no known vulnerabilities in {report.audited} packages",
        VULNERABLE: f"{len(report.vulnerable)} known vulnerabilities",
        INCOMPLETE: f"incomplete: {len(report.skipped)} of {len(packages)} packages not audited",
    }[report.exit_code]
    print(f"\nmake audit: {verdict}")
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

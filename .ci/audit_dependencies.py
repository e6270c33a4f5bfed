"""Fail the build on a known vulnerability in any installed dependency (``make audit``, part of ``make test``).

Runs ``pip-audit`` against PyPI's vulnerability data over the whole virtualenv (runtime and dev
dependencies; civicwatch itself, installed editable, is not on PyPI and is skipped). Three outcomes:

- a known vulnerability not in ``IGNORED``: each is printed with its fixed versions, exit 1;
- every dependency checked, none vulnerable: one line, exit 0;
- the service answered for none of them (no network, or a package mirror that serves only the index):
  one line saying nothing was checked, exit 0 -- unless ``CIVICWATCH_AUDIT_REQUIRED=1``, then exit 1.
  A green build without network must not be read as "audited clean"; the line says so.

Usage: ``python .ci/audit_dependencies.py [PIP_AUDIT]`` (default: ``pip-audit`` beside this Python).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Vulnerability id -> why it does not apply to civicwatch. Every entry is also listed in docs/security.md.
IGNORED: dict[str, str] = {}


def main(argv: list[str]) -> int:
    tool = argv[1] if len(argv) > 1 else str(Path(sys.executable).with_name("pip-audit"))
    command = [tool, "--vulnerability-service", "pypi", "--skip-editable", "--progress-spinner", "off",
               "--desc", "off", "--format", "json", "--timeout", "20"]
    for vuln in IGNORED:
        command += ["--ignore-vuln", vuln]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        print(f"dependency audit: {tool} not found; install the dev extras (pip install -e '.[dev]')")
        return 1
    except subprocess.TimeoutExpired:
        return unreachable("pip-audit took more than 10 minutes")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return unreachable(f"pip-audit failed: {reason}")
    dependencies = report.get("dependencies", [])
    checked = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    if not checked:
        return unreachable(f"PyPI answered for none of the {len(skipped)} dependencies")
    found = [(d, v) for d in checked for v in d.get("vulns", []) if v["id"] not in IGNORED]
    for dependency, vuln in found:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
        aliases = ", ".join(vuln.get("aliases") or [])
        print(f"dependency audit: {dependency['name']} {dependency['version']}: {vuln['id']}"
              f"{f' ({aliases})' if aliases else ''}; fixed in {fixed}")
    if found:
        print("dependency audit: upgrade the pin in pyproject.toml, or add the id to IGNORED in "
              ".ci/audit_dependencies.py with the reason it does not apply (and list it in docs/security.md)")
        return 1
    names = ", ".join(sorted(d["name"] for d in skipped))
    print(f"dependency audit: {len(checked)} dependencies checked, no known vulnerabilities"
          + (f"; not on PyPI, so not checked: {names}" if skipped else ""))
    return 0


def unreachable(why: str) -> int:
    """Nothing could be checked: say so plainly; fail only where the network is known to be there."""
    required = os.environ.get("CIVICWATCH_AUDIT_REQUIRED") == "1"
    print(f"dependency audit: NOT RUN: {why} (no network to PyPI's vulnerability data, or a mirror that does "
          f"not serve it); {'failing, as CIVICWATCH_AUDIT_REQUIRED=1' if required else 'nothing was checked'}")
    return 1 if required else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

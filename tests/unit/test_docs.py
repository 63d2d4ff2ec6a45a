"""The operator documentation keeps up with the code: every setting an operator can give is
described in the README, and so is every other ``SAMSKAB_*`` variable the code reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from volunteer.config import DEFAULTS, ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_every_environment_variable_has_a_row_in_the_configuration_reference():
    reference = _section("Configuration reference")
    rows = set(re.findall(r"`(SAMSKAB_[A-Z0-9_]+)`", reference))
    assert set(ENV_VARS) - rows == set()
    assert rows - set(ENV_VARS) == set(), "documented but not read by volunteer/config.py"


def test_every_environment_variable_maps_to_a_known_setting():
    for var, key in ENV_VARS.items():
        assert key in DEFAULTS or key in {"SECRET_KEY", "DEBUG"}, var


def test_every_samskab_variable_in_the_code_is_documented():
    files = subprocess.run(
        ["git", "ls-files", "*.py", "*.sh", ".ci/*", "Makefile", "Procfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    used = set()
    for name in files:
        path = ROOT / name
        if path.is_file():
            used |= set(re.findall(r"\bSAMSKAB_[A-Z0-9_]*[A-Z0-9]\b", path.read_text("utf-8")))
    documented = set(re.findall(r"`(SAMSKAB_[A-Z0-9_]+)`", README))
    assert used - documented == set()


def test_the_operator_sections_exist():
    for title in ("Configuration reference", "Production deployment", "Upgrading"):
        assert len(_section(title)) > 500, title
    statement = _section("Accessibility statement (draft)")
    assert "WCAG 2.1" in statement and "Digitaliseringsstyrelsen" in statement

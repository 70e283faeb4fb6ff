"""What the project's own files promise about installing it (issue 11).

No servers: these read pyproject.toml and scripts/setup.sh.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
SETUP_SH = ROOT / "scripts" / "setup.sh"


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


# ------------------------------------------------------------- the license

def test_license_is_an_spdx_expression():
    """The table form ({text = ...}) is deprecated and warns on every build."""
    assert pyproject()["project"]["license"] == "MIT"


def test_build_requires_a_setuptools_that_reads_spdx_licenses():
    requires = pyproject()["build-system"]["requires"]
    setuptools = [r for r in requires if re.match(r"setuptools\b", r)]
    assert setuptools == ["setuptools>=77"], requires
    # setup.sh installs the build requirements into the venv for in-place rebuilds.
    assert '"setuptools>=77"' in SETUP_SH.read_text()

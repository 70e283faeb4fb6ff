"""docs/spec-coverage.md is complete, current, and names only tests that exist."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import spec_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(spec_text.spec_dir() is None, reason="shared/spec not found")
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the generator needs tomllib")
def test_spec_coverage_document_is_complete_and_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "spec_coverage.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

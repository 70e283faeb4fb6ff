"""The static checks the README promises, run on every clone: ruff and mypy
clean, and the .pyi stubs of the compiled core matching the modules built
from it (mypy.stubtest), so a method added in Cython cannot go unstubbed."""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE_MODULES = ["sshcore.buffer", "sshcore.channels", "sshcore.crypto", "sshcore.packet",
                "sshcore.wire"]


def _run(*args: str, cwd: str = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_ruff_clean():
    r = _run("ruff", "check", "src", "bench", "tests")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_clean():
    r = _run("mypy")  # files and options: [tool.mypy] in pyproject.toml
    assert r.returncode == 0, r.stdout + r.stderr


def test_core_stubs_match_the_extension_modules():
    src = os.path.join(ROOT, "src")
    env = dict(os.environ, PYTHONPATH=src)
    r = _run("mypy.stubtest", "--ignore-disjoint-bases", "--allowlist",
             os.path.join(ROOT, "tests", "stubtest_allowlist.txt"), *CORE_MODULES,
             cwd=src, env=env)
    assert r.returncode == 0, r.stdout + r.stderr

"""The example programs run unchanged against the local sshd."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_spec_examples_program(sshd, test_user, client_keys, tcp_source_factory):
    source = tcp_source_factory(100000)
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spec_examples.py"), sshd.host,
         str(sshd.port), test_user.name, test_user.password, client_keys["ed25519"].path,
         source.host, str(source.port)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "exec: hello from exec | exit status 7" in out
    assert f"as {test_user.name}" in out and "Ed25519" in out
    assert "shell: terminal 24 80" in out
    assert "tunnel to" in out and ": 100000 bytes" in out
    assert "raw exec: built by hand" in out

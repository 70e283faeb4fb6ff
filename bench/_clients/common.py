"""Helpers shared by the client modules (no third-party imports here)."""
from __future__ import annotations


def download_command(nbytes: int) -> str:
    # The test user's shell is /bin/sh: keep it POSIX.
    return f"head -c {int(nbytes)} /dev/zero"


UPLOAD_COMMAND = "cat > /dev/null"
HANDSHAKE_COMMAND = "true"


class BenchError(RuntimeError):
    """A run that finished but not correctly (short read, bad exit status)."""


def check_count(what: str, got: int, expected: int) -> int:
    if got != expected:
        raise BenchError(f"{what}: got {got} bytes, expected {expected}")
    return got


def check_status(what: str, status: object) -> None:
    if status not in (0, None):
        raise BenchError(f"{what}: remote command exited with status {status}")


def zero_chunk(size: int) -> bytes:
    return bytes(size)

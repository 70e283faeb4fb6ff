"""OpenSSH known_hosts files: is this the key we know for this host?

Read as ssh reads them: one entry per line, `[marker] hosts keytype base64
[comment]`; hosts are comma-separated patterns (`*` and `?` wildcards, a
leading `!` negates) or one hashed name (`|1|salt|hash`, HMAC-SHA1 of the
name under the salt, as `ssh-keygen -H` writes them); a host on a port
other than 22 is written `[host]:port`. `@revoked` keys are refused
outright; `@cert-authority` lines are for host certificates, not handled
here yet (they are skipped).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from enum import Enum

from .hostkeys import Certificate
from .options import HostKeyInfo

DEFAULT_FILES = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
GLOBAL_FILES = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


class Verdict(Enum):
    KNOWN = "known"          # the key is one listed for the host
    CHANGED = "changed"      # the host is listed, with other keys of this type
    REVOKED = "revoked"      # an @revoked line names this key
    UNKNOWN = "unknown"      # the host is not listed with a key of this type


@dataclass(frozen=True)
class Entry:
    path: str
    line: int
    marker: str | None
    hosts: str
    key_type: str
    blob: bytes

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def host_name(host: str, port: int) -> str:
    """How known_hosts writes a host: the name, or [name]:port off port 22."""
    return host if port == 22 else f"[{host}]:{port}"


def _matches(patterns: str, name: str) -> bool:
    if patterns.startswith("|1|"):
        return _hashed_matches(patterns, name)
    matched = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if _wildcard(pattern.lstrip("!")).fullmatch(name.lower()):
            if negated:
                return False
            matched = True
    return matched


def _wildcard(pattern: str) -> re.Pattern[str]:
    """ssh's patterns: only * and ? are special ([host]:port is literal)."""
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern.lower())
    return re.compile("".join(parts))


def _hashed_matches(field: str, name: str) -> bool:
    try:
        _, _, salt, digest = field.split("|")
        expected = base64.b64decode(digest)
        mac = hmac.new(base64.b64decode(salt), name.encode(), hashlib.sha1).digest()
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(mac, expected)


def read_entries(path: str) -> list[Entry]:
    """The usable lines of one file (a file that is not there has none)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError):
        return []
    entries = []
    for number, text in enumerate(lines, 1):
        fields = text.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else None
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except binascii.Error:
            continue
        entries.append(Entry(path, number, marker, fields[0], fields[1], blob))
    return entries


def _blobs(info: HostKeyInfo) -> set[bytes]:
    """The blobs that stand for the server's key: itself, and for a host
    certificate also the key it certifies (as ssh compares them)."""
    blobs = {info.blob}
    key = info.public_key
    if isinstance(key, Certificate):
        blobs.add(key.public_key.blob)
    return blobs


def check(info: HostKeyInfo, host: str, port: int,
          files: list[str]) -> tuple[Verdict, Entry | None]:
    """What the files say of `info` for host:port (with the entry that decided)."""
    name = host_name(host, port)
    blobs = _blobs(info)
    entries = [entry for path in files for entry in read_entries(path)]
    for entry in entries:
        if entry.marker == "@revoked" and entry.blob in blobs:
            return Verdict.REVOKED, entry
    changed: Entry | None = None
    for entry in entries:
        if entry.marker is not None or not _matches(entry.hosts, name):
            continue
        if entry.blob in blobs:
            return Verdict.KNOWN, entry
        if entry.key_type == info.key_type and changed is None:
            changed = entry
    if changed is not None:
        return Verdict.CHANGED, changed
    return Verdict.UNKNOWN, None


def add(path: str, info: HostKeyInfo, host: str, port: int) -> None:
    """Append `info` for host:port to a known_hosts file (made if missing,
    with its directory, private to the user as ssh makes them)."""
    path = os.path.expanduser(path)
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    line = f"{host_name(host, port)} {info.key_type} {base64.b64encode(info.blob).decode()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line)

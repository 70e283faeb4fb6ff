"""sshclient's spec API: SSHClient with on_* events and a do_events() loop."""
from __future__ import annotations

from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    BenchError,
    check_count,
    download_command,
    zero_chunk,
)

import sshclient
from sshclient import SSHClient

NAME = "sshclient (spec API)"


def version() -> str:
    return sshclient.__version__


class _Session:
    """An SSHClient logged in, counting received bytes per channel."""

    def __init__(self, cfg: dict) -> None:
        c = SSHClient()
        c.ssh_user = cfg["user"]
        c.ssh_auth_mode = 3  # public key
        c.ssh_cert_store_type = 6  # a private key file
        c.ssh_cert_store = cfg["key"]
        c.ssh_cert_subject = "*"
        c.timeout = 120
        c.ssh_encryption_algorithms = cfg["cipher"]
        c.ssh_mac_algorithms = cfg["mac"]
        if cfg.get("kex"):
            c.ssh_key_exchange_algorithms = cfg["kex"]
        self.received: dict = {}
        self.closed: set = set()
        self.eof: set = set()
        self.errors: list = []
        c.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
        c.on_ssh_channel_data = self._on_data
        c.on_ssh_channel_eof = lambda e: self.eof.add(e.channel_id)
        c.on_ssh_channel_closed = lambda e: self.closed.add(e.channel_id)
        c.on_error = lambda e: self.errors.append(f"{e.error_code}: {e.description}")
        self.client = c
        c.ssh_logon(cfg["host"], cfg["port"])

    def _on_data(self, e) -> None:  # type: ignore[no-untyped-def]
        self.received[e.channel_id] = self.received.get(e.channel_id, 0) + len(e.channel_data)

    def loop_until(self, done) -> None:  # type: ignore[no-untyped-def]
        c = self.client
        while not done():
            if self.errors:
                raise BenchError("; ".join(self.errors))
            if not c.connected:
                raise BenchError("disconnected")
            c.do_events()

    def close(self) -> None:
        self.client.ssh_logoff()


def _exec_and_wait(s: _Session, command: str) -> str:
    ch = s.client.open_channel("session")
    s.client.start_service(ch, "exec", command)
    s.loop_until(lambda: ch in s.closed)
    return ch


def download(cfg: dict, nbytes: int) -> int:
    s = _Session(cfg)
    try:
        ch = _exec_and_wait(s, download_command(nbytes))
    finally:
        s.close()
    return check_count("download", s.received.get(ch, 0), nbytes)


def upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    s = _Session(cfg)
    try:
        c = s.client
        ch = c.open_channel("session")
        c.start_service(ch, "exec", UPLOAD_COMMAND)
        left = nbytes
        while left:
            k = min(left, len(chunk))
            c.send_channel_data(ch, chunk if k == len(chunk) else chunk[:k])
            left -= k
        # The spec API has no "send EOF" method: closing the channel makes
        # sshd drain what it has buffered into cat, then close cat's stdin.
        c.close_channel(ch)
        s.loop_until(lambda: ch in s.closed)
    finally:
        s.close()
    return nbytes


def tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    s = _Session(cfg)
    try:
        c = s.client
        ch = c.open_tcp_ip_channel(host, port, "127.0.0.1", 0)
        # Nothing to send: EOF, as `ssh -W` with stdin from /dev/null (the
        # spec API has no EOF method; a raw CHANNEL_EOF is how it says it).
        c.send_ssh_packet(ch, 96, b"")
        s.loop_until(lambda: ch in s.eof or ch in s.closed)
        if ch not in s.closed:
            c.close_channel(ch)
    finally:
        s.close()
    return check_count("tunnel", s.received.get(ch, 0), nbytes)


def handshake(cfg: dict) -> None:
    s = _Session(cfg)
    try:
        _exec_and_wait(s, HANDSHAKE_COMMAND)
    finally:
        s.close()

"""Demo: a throwaway local sshd, a command, a tunnel, and bulk transfers with MB/s.

Run through `bash scripts/demo.sh` (which installs everything first), or with
an already prepared venv: `python examples/demo.py [--size MiB]` (as root: it
creates the `sshclient-test` user and starts sshd on a free loopback port).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import servers  # noqa: E402  (the test fixtures' machinery)
from sshclient import AuthMode, CertStoreType, SSHClient  # noqa: E402

SUITES = [
    ("aes128-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("aes256-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("chacha20-poly1305@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
    ("aes256-ctr", "hmac-sha2-256"),
]


class Demo:
    """One spec-API client and the bookkeeping its events feed."""

    def __init__(self, sshd: servers.SshdServer, key_path: str, cipher: str, mac: str) -> None:
        self.client = client = SSHClient()
        client.ssh_user = servers.TEST_USER
        client.ssh_auth_mode = AuthMode.PUBLIC_KEY
        client.ssh_cert_store_type = CertStoreType.PEM_KEY_FILE  # OpenSSH, PEM or PKCS#8
        client.ssh_cert_store = key_path
        client.ssh_cert_subject = "*"
        client.ssh_encryption_algorithms = cipher
        client.ssh_mac_algorithms = mac
        self.host_key = ""
        client.on_ssh_server_authentication = self._accept
        self.received: dict[str, list[bytes]] = {}
        self.counted = 0
        self.counting = False
        self.closed: set[str] = set()
        self.eof: set[str] = set()
        client.on_ssh_channel_data = self._data
        client.on_ssh_channel_closed = lambda e: self.closed.add(e.channel_id)
        client.on_ssh_channel_eof = lambda e: self.eof.add(e.channel_id)
        client.ssh_logon(sshd.host, sshd.port)

    def _accept(self, e) -> None:  # a real program pins the fingerprint instead
        self.host_key = f"{e.key_algorithm} {e.fingerprint}"
        e.accept = True

    def _data(self, e) -> None:
        if self.counting:
            self.counted += len(e.channel_data)
        else:
            self.received.setdefault(e.channel_id, []).append(e.channel_data)

    def wait(self, channel: str, done: set[str]) -> bytes:
        while channel not in done:
            self.client.do_events()
        return b"".join(self.received.pop(channel, []))

    def command(self, command: str) -> bytes:
        ch = self.client.open_channel("session")
        self.client.start_service(ch, "exec", command)
        return self.wait(ch, self.closed)

    def download(self, size: int) -> float:
        self.counting, self.counted = True, 0
        start = time.perf_counter()
        ch = self.client.open_channel("session")
        self.client.start_service(ch, "exec", f"head -c {size} /dev/zero")
        self.wait(ch, self.closed)
        elapsed = time.perf_counter() - start
        self.counting = False
        assert self.counted == size, (self.counted, size)
        return size / elapsed / 1e6

    def upload(self, size: int) -> float:
        block = b"\x5a" * (1 << 20)
        start = time.perf_counter()
        ch = self.client.open_channel("session")
        self.client.start_service(ch, "exec", "wc -c")
        for _ in range(size // len(block)):
            self.client.send_channel_data(ch, block)
        self.client.close_channel(ch)  # EOF + close: wc prints its count first
        elapsed = time.perf_counter() - start
        return size / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=512, help="MiB per bulk transfer")
    args = parser.parse_args()
    size = args.size * 1024 * 1024
    servers.ensure_test_user()
    keys = servers.ClientKeys.generate()
    try:
        with servers.SshdServer() as sshd, servers.TcpSource(16 * 1024 * 1024) as source:
            print(f"throwaway sshd on {sshd.host}:{sshd.port}, user {servers.TEST_USER}, "
                  f"publickey auth with an ed25519 key")
            demo = Demo(sshd, keys["ed25519"].path, *SUITES[0])
            print("server host key:", demo.host_key)
            print("command output:", demo.command("uname -sr; id -un").decode().strip()
                  .replace("\n", " | "))
            ch = demo.client.open_tcp_ip_channel(source.host, source.port, "127.0.0.1", 0)
            data = demo.wait(ch, demo.eof)
            demo.client.close_channel(ch)
            ok = hashlib.sha256(data).hexdigest() == source.expected_sha256
            print(f"tunnel: {len(data)} bytes through direct-tcpip, sha256 "
                  f"{'verified' if ok else 'MISMATCH'}")
            demo.client.ssh_logoff()
            print(f"\nbulk transfers through the spec API, {args.size} MiB each "
                  f"(client and sshd share this machine's cores):")
            print(f"{'cipher':32} {'mac':32} {'download MB/s':>14} {'upload MB/s':>12}")
            for cipher, mac in SUITES:
                demo = Demo(sshd, keys["ed25519"].path, cipher, mac)
                down = demo.download(size)
                up = demo.upload(size)
                demo.client.ssh_logoff()
                shown_mac = "(AEAD)" if "gcm" in cipher or "chacha" in cipher else mac
                print(f"{cipher:32} {shown_mac:32} {down:14.0f} {up:12.0f}")
    finally:
        keys.close()


if __name__ == "__main__":
    main()

"""Demo: a throwaway local sshd, a command, a tunnel and a bulk transfer with MB/s.

Run through `bash scripts/demo.sh` (which installs everything first), or with
an already prepared venv: `python examples/demo.py` (as root: it creates the
`sshtest` user and starts sshd on a free loopback port).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import servers  # noqa: E402  (the test fixtures' machinery)
from sshclient import SSHClient  # noqa: E402

SIZE = 256 * 1024 * 1024


def main() -> None:
    user = servers.ensure_test_user()
    keys = servers.ClientKeys.generate()
    with servers.SshdServer() as sshd, servers.TcpSource(16 * 1024 * 1024) as source:
        print(f"throwaway sshd on {sshd.host}:{sshd.port}, user {user.name}")
        client = SSHClient()
        client.ssh_user = user.name
        client.ssh_auth_mode = 3  # public key
        client.ssh_cert_store_type = 6  # PEM/OpenSSH key file
        client.ssh_cert_store = keys["ed25519"].path
        client.ssh_cert_subject = "*"
        client.on_ssh_server_authentication = lambda e: (
            print(f"host key {e.key_algorithm} {e.fingerprint}"), setattr(e, "accept", True))
        received: dict[str, list[bytes]] = {}
        closed: set[str] = set()
        eof: set[str] = set()
        client.on_ssh_channel_eof = lambda e: eof.add(e.channel_id)
        client.on_ssh_channel_data = lambda e: received.setdefault(e.channel_id, []).append(
            e.channel_data)
        client.on_ssh_channel_closed = lambda e: closed.add(e.channel_id)
        client.ssh_encryption_algorithms = "aes128-gcm@openssh.com"
        client.ssh_logon(sshd.host, sshd.port)

        def wait(channel: str) -> bytes:
            while channel not in closed:
                client.do_events()
            return b"".join(received.pop(channel, []))

        ch = client.open_channel("session")
        client.start_service(ch, "exec", "uname -sr; id -un")
        print("command output:", wait(ch).decode().strip().replace("\n", " | "))

        ch = client.open_tcp_ip_channel(source.host, source.port, "127.0.0.1", 0)
        while ch not in eof:
            client.do_events()
        client.close_channel(ch)
        data = b"".join(received.pop(ch, []))
        ok = hashlib.sha256(data).hexdigest() == source.expected_sha256
        print(f"tunnel: {len(data)} bytes through direct-tcpip, sha256 "
              f"{'verified' if ok else 'MISMATCH'}")

        counter = {"n": 0}

        def count(e) -> None:
            counter["n"] += len(e.channel_data)

        client.on_ssh_channel_data = count
        start = time.perf_counter()
        ch = client.open_channel("session")
        client.start_service(ch, "exec", f"head -c {SIZE} /dev/zero")
        while ch not in closed:
            client.do_events()
        elapsed = time.perf_counter() - start
        total = counter["n"]
        print(f"download: {total / 1e6:.0f} MB in {elapsed:.2f} s = "
              f"{total / elapsed / 1e6:.0f} MB/s (aes128-gcm, spec API)")
        client.ssh_logoff()
    keys.close()


if __name__ == "__main__":
    main()

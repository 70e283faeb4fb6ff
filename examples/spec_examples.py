"""The spec's examples, written against `from sshclient import SSHClient`.

Each function follows one example of shared/spec (password and public-key
logon, exec, a shell with a terminal, a tunnel, building a raw packet) with
nothing but the spec's API.  Run against any server:

    python examples/spec_examples.py HOST PORT USER PASSWORD KEYFILE TUNNEL_HOST TUNNEL_PORT
"""
from __future__ import annotations

import sys

from sshclient import AuthMode, CertStoreType, SSHClient


class Events:
    """Collects what the events report (what a spec program keeps in its handlers)."""

    def __init__(self, client: SSHClient) -> None:
        self.data: dict[str, bytearray] = {}
        self.closed: set[str] = set()
        self.eof: set[str] = set()
        self.exit_status: dict[str, int] = {}
        client.on_ssh_server_authentication = self.server_authentication
        client.on_ssh_channel_data = lambda e: self.data.setdefault(
            e.channel_id, bytearray()).extend(e.channel_data)
        client.on_ssh_channel_closed = lambda e: self.closed.add(e.channel_id)
        client.on_ssh_channel_eof = lambda e: self.eof.add(e.channel_id)
        client.on_ssh_channel_request = self.channel_request
        self.client = client

    def server_authentication(self, e) -> None:
        # A real program compares e.fingerprint with the one it knows.
        print(f"  server key {e.key_algorithm} {e.fingerprint}")
        e.accept = True

    def channel_request(self, e) -> None:
        if e.request_type == "exit-status":
            self.exit_status[e.channel_id] = int(
                self.client.get_ssh_param(e.packet, "ExitStatus"))

    def wait(self, done) -> None:
        while not done():
            self.client.do_events()


def password_logon(host: str, port: int, user: str, password: str) -> tuple[SSHClient, Events]:
    """Example 1's logon (amPassword is the default ssh_auth_mode)."""
    client = SSHClient()
    events = Events(client)
    client.ssh_user = user
    client.ssh_password = password
    client.ssh_logon(host, port)
    return client, events


def password_logon_and_exec(host: str, port: int, user: str, password: str) -> None:
    # Example 1. User/Password Authentication
    client = SSHClient()
    events = Events(client)
    client.ssh_auth_mode = AuthMode.PASSWORD
    client.ssh_user = user
    client.ssh_password = password
    client.ssh_logon(host, port)
    channel = client.open_channel("session")
    client.start_service(channel, "exec", "echo hello from exec; exit 7")
    events.wait(lambda: channel in events.closed)
    print("  exec:", events.data[channel].decode().strip(),
          "| exit status", events.exit_status.get(channel))
    client.ssh_logoff()


def public_key_logon(host: str, port: int, user: str, key_file: str) -> None:
    # Example 2. Public Key Authentication (a PEM/OpenSSH key file instead of a PFX)
    client = SSHClient()
    events = Events(client)
    client.ssh_auth_mode = AuthMode.PUBLIC_KEY
    client.ssh_user = user
    client.ssh_cert_store_type = CertStoreType.PEM_KEY_FILE
    client.ssh_cert_store = key_file
    client.ssh_cert_store_password = ""
    client.ssh_cert_subject = "*"
    client.ssh_logon(host, port)
    channel = client.open_channel("session")
    client.start_service(channel, "exec", "whoami")
    events.wait(lambda: channel in events.closed)
    print("  logged on with", client.ssh_cert_public_key_algorithm, "key as",
          events.data[channel].decode().strip())
    client.ssh_logoff()


def shell_with_terminal(host: str, port: int, user: str, password: str) -> None:
    client, events = password_logon(host, port, user, password)
    channel = client.open_channel("session")
    client.open_terminal(channel, "vt100", 80, 24, False, "350000000000")  # echo off
    client.start_service(channel, "shell", "")
    client.send_text(channel, "echo terminal $(stty size)\nexit\n")
    events.wait(lambda: channel in events.closed)
    text = events.data[channel].decode(errors="replace")
    # the shell's prompt may precede the echoed line on the terminal
    lines = [line[line.index("terminal "):].strip() for line in text.splitlines()
             if "terminal " in line and "$(stty" not in line]
    print("  shell:", lines[0] if lines else f"(unexpected output {text!r})")
    client.ssh_logoff()


def tunnel(host: str, port: int, user: str, password: str, dest_host: str,
           dest_port: int) -> None:
    client, events = password_logon(host, port, user, password)
    channel = client.open_tcp_ip_channel(dest_host, dest_port, "127.0.0.1", 0)
    events.wait(lambda: channel in events.eof)
    client.close_channel(channel)
    print(f"  tunnel to {dest_host}:{dest_port}: {len(events.data.get(channel, b''))} bytes")
    client.ssh_logoff()


def raw_packet(host: str, port: int, user: str, password: str) -> None:
    # Build a channel request with set_ssh_param and send it with send_ssh_packet.
    client, events = password_logon(host, port, user, password)
    channel = client.open_channel("session")
    payload = client.set_ssh_param(b"", "s", "exec")
    payload = client.set_ssh_param(payload, "f", "True")
    payload = client.set_ssh_param(payload, "s", "echo built by hand")
    print("  packet:", client.encode_packet(payload))
    client.send_ssh_packet(channel, 98, payload)  # SSH_MSG_CHANNEL_REQUEST
    events.wait(lambda: channel in events.closed)
    print("  raw exec:", events.data[channel].decode().strip())
    client.ssh_logoff()


def main(argv: list[str]) -> None:
    host, port, user, password, key_file, dest_host, dest_port = argv
    print("password logon + exec")
    password_logon_and_exec(host, int(port), user, password)
    print("public key logon")
    public_key_logon(host, int(port), user, key_file)
    print("shell with a terminal")
    shell_with_terminal(host, int(port), user, password)
    print("tunnel")
    tunnel(host, int(port), user, password, dest_host, int(dest_port))
    print("raw packet")
    raw_packet(host, int(port), user, password)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The spec's SSHClient against a real OpenSSH sshd on loopback."""
from __future__ import annotations

import hashlib
import socket
import threading

import pytest

from sshclient import SSHClient, SSHClientError

CIPHERS = ["aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com",
           "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
MACS = ["hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha2-256-etm@openssh.com",
        "hmac-sha2-512-etm@openssh.com", "hmac-sha1-etm@openssh.com"]
KEX = ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
       "ecdh-sha2-nistp384", "ecdh-sha2-nistp521", "diffie-hellman-group14-sha256",
       "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
       "diffie-hellman-group-exchange-sha256"]
HOST_KEYS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa"]


class Recorder:
    """Collects the spec events of one client."""

    def __init__(self, client: SSHClient) -> None:
        self.data: dict[str, bytearray] = {}
        self.requests: list[tuple[str, str, bytes]] = []
        self.closed: list[str] = []
        self.eof: list[str] = []
        self.host_keys: list = []
        self.status: list[str] = []
        self.disconnected: list[tuple[int, str]] = []
        client.on_ssh_channel_data = self._data
        client.on_ssh_channel_request = lambda e: self.requests.append(
            (e.channel_id, e.request_type, e.packet))
        client.on_ssh_channel_closed = lambda e: self.closed.append(e.channel_id)
        client.on_ssh_channel_eof = lambda e: self.eof.append(e.channel_id)
        client.on_ssh_status = lambda e: self.status.append(e.message)
        client.on_disconnected = lambda e: self.disconnected.append(
            (e.status_code, e.description))

    def _data(self, e) -> None:
        self.data.setdefault(e.channel_id, bytearray()).extend(e.channel_data)

    def exit_status(self, channel_id: str) -> int | None:
        for ch, kind, packet in self.requests:
            if ch == channel_id and kind == "exit-status":
                return int.from_bytes(packet[-4:], "big")
        return None


def make_client(server, user, accept: bool = True, **props) -> SSHClient:
    client = SSHClient()
    client.ssh_user = user.name
    client.ssh_password = user.password
    client.timeout = 30
    if accept:
        client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    for name, value in props.items():
        setattr(client, name, value)
    return client


def run_command(client: SSHClient, rec: Recorder, command: str, stdin: bytes = b"") -> str:
    channel = client.open_channel("session")
    client.start_service(channel, "exec", command)
    if stdin:
        client.send_channel_data(channel, stdin)
    wait_closed(client, rec, channel)
    return channel


def wait_closed(client: SSHClient, rec: Recorder, channel: str, limit: int = 3000) -> None:
    for _ in range(limit):
        if channel in rec.closed:
            return
        client.do_events()
    raise AssertionError(f"channel {channel} did not close")


def logon(server, user, **props) -> tuple[SSHClient, Recorder]:
    client = make_client(server, user, **props)
    rec = Recorder(client)
    client.ssh_logon(server.host, server.port)
    return client, rec


def test_password_exec_exit_status_and_stderr(sshd, test_user):
    client, rec = logon(sshd, test_user)
    assert client.connected
    ch = run_command(client, rec, "echo out; echo err >&2; exit 3")
    assert bytes(rec.data[ch]) in (b"out\nerr\n", b"err\nout\n")
    assert rec.exit_status(ch) == 3
    assert ch in rec.eof
    client.ssh_logoff()
    assert not client.connected
    assert rec.disconnected[-1][0] == 0


@pytest.mark.parametrize("cipher", CIPHERS)
def test_each_cipher(sshd, test_user, cipher):
    client, rec = logon(sshd, test_user, ssh_encryption_algorithms=cipher)
    ch = run_command(client, rec, "echo $((6*7))")
    assert bytes(rec.data[ch]) == b"42\n"
    client.ssh_logoff()


@pytest.mark.parametrize("mac", MACS)
def test_each_mac(sshd, test_user, mac):
    client, rec = logon(sshd, test_user, ssh_encryption_algorithms="aes128-ctr",
                        ssh_mac_algorithms=mac)
    ch = run_command(client, rec, "echo mac")
    assert bytes(rec.data[ch]) == b"mac\n"
    client.ssh_logoff()


@pytest.mark.parametrize("kex", KEX)
def test_each_kex(sshd, test_user, kex):
    client, rec = logon(sshd, test_user, ssh_key_exchange_algorithms=kex)
    ch = run_command(client, rec, "echo kex")
    assert bytes(rec.data[ch]) == b"kex\n"
    assert any(kex in message for message in rec.status)
    client.ssh_logoff()


@pytest.mark.parametrize("algorithm", HOST_KEYS)
def test_each_host_key_algorithm(sshd, test_user, algorithm):
    client = make_client(sshd, test_user, accept=False, ssh_public_key_algorithms=algorithm)
    seen = []

    def on_auth(e):
        seen.append((e.key_algorithm, e.fingerprint, e.host_key))
        e.accept = True

    client.on_ssh_server_authentication = on_auth
    client.ssh_logon(sshd.host, sshd.port)
    assert seen and seen[0][0] == algorithm
    fp = hashlib.sha256(seen[0][2]).digest()
    assert seen[0][1] == ":".join(f"{b:02x}" for b in fp)
    client.ssh_logoff()


def test_unaccepted_host_key_fails_1030(sshd, test_user):
    client = make_client(sshd, test_user, accept=False)
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 1030
    assert not client.connected


def test_accept_host_key_by_fingerprint_setting(sshd, test_user):
    probe = make_client(sshd, test_user)
    fps = []
    probe.on_ssh_server_authentication = lambda e: (fps.append(e.fingerprint),
                                                    setattr(e, "accept", True))
    probe.ssh_logon(sshd.host, sshd.port)
    probe.ssh_logoff()
    client = make_client(sshd, test_user, accept=False)
    client.config(f"SSHAcceptServerHostKeyFingerPrint={fps[0]}")
    client.ssh_logon(sshd.host, sshd.port)
    assert client.connected
    assert client.config("SSHFingerprintSHA256") == fps[0]
    client.ssh_logoff()


def test_wrong_password_fails_1032(sshd, test_user):
    client = make_client(sshd, test_user)
    client.ssh_password = "not-the-password"
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 1032
    assert not client.connected


def test_connection_refused_is_clear():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = SSHClient()
    client.ssh_user = "nobody"
    codes = []
    client.on_connected = lambda e: codes.append(e.status_code)
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon("127.0.0.1", port)
    assert info.value.code == 10061
    assert codes == [10061]
    assert "refused" in str(info.value).lower()


def test_timeout_on_silent_server():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    t.start()
    try:
        client = SSHClient()
        client.ssh_user = "nobody"
        client.timeout = 1
        with pytest.raises(SSHClientError) as info:
            client.ssh_logon("127.0.0.1", listener.getsockname()[1])
        assert info.value.code == 301
        assert not client.connected
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()


def test_strict_kex_negotiated_with_openssh(sshd, test_user):
    client, rec = logon(sshd, test_user)
    assert client.config("NegotiatedStrictKex") == "True"
    assert client.config("ServerSSHVersionString").startswith("SSH-2.0-OpenSSH")
    client.ssh_logoff()


def test_strict_kex_disabled(sshd, test_user):
    client = make_client(sshd, test_user)
    client.config("UseStrictKeyExchange=0")
    client.ssh_logon(sshd.host, sshd.port)
    assert client.config("NegotiatedStrictKex") == "False"
    client.ssh_logoff()


def test_twenty_concurrent_channels(sshd, test_user):
    client, rec = logon(sshd, test_user)
    channels = []
    for i in range(20):
        ch = client.open_channel("session")
        # each command waits for one byte of stdin, so all 20 are open at once
        client.start_service(ch, "exec", f"head -c 1 >/dev/null; "
                                         f"head -c {10000 + i} /dev/zero | tr '\\0' x; echo {i}")
        channels.append(ch)
    assert client.ssh_channel_count == 20
    assert [client.get_channel_id(i) for i in range(20)] == channels
    for ch in channels:
        client.send_channel_data(ch, b"go")
    for ch in channels:
        wait_closed(client, rec, ch)
    for i, ch in enumerate(channels):
        assert bytes(rec.data[ch]) == b"x" * (10000 + i) + f"{i}\n".encode()
        assert rec.exit_status(ch) == 0
    assert client.ssh_channel_count == 0
    client.ssh_logoff()


def test_exchange_keys_while_connected(sshd, test_user):
    client, rec = logon(sshd, test_user)
    client.exchange_keys()
    assert sum("re-exchange" in m for m in rec.status) >= 1
    ch = run_command(client, rec, "echo after")
    assert bytes(rec.data[ch]) == b"after\n"
    client.ssh_logoff()


def test_config_roundtrip_and_unknown_setting():
    client = SSHClient()
    client.config("KeyRenegotiationThreshold=524288000")
    assert client.config("KeyRenegotiationThreshold") == "524288000"
    client.config("TryAllAvailableAuthMethods=yes")
    assert client.config("TryAllAvailableAuthMethods") == "True"
    with pytest.raises(SSHClientError):
        client.config("NoSuchSetting=1")
    assert client.get_ssh_port() == 22
    client.set_ssh_port(2222)
    assert client.ssh_port == 2222
    client.reset()
    assert client.ssh_port == 22
    assert client.config("KeyRenegotiationThreshold") == str(1 << 30)


def test_algorithm_list_without_supported_entry_is_rejected():
    client = SSHClient()
    with pytest.raises(SSHClientError) as info:
        client.ssh_encryption_algorithms = "arcfour,3des-ctr"
    assert info.value.code == 1005


def test_ssh_keepalive_is_answered(sshd, test_user):
    import time

    client = make_client(sshd, test_user)
    client.config("SSHKeepAliveInterval=1")
    client.config("SSHKeepAliveCountMax=2")
    client.ssh_logon(sshd.host, sshd.port)
    end = time.monotonic() + 3.5
    while time.monotonic() < end:
        client.do_events()
    proto = client._proto  # keep-alive timing lives in the protocol, not the driver
    assert proto is not None and proto._last_keepalive > 0  # some were sent...
    assert proto.keepalives_outstanding <= 1  # ...and sshd answered them
    assert client.connected
    client.ssh_logoff()


def test_asynchronous_mode_timeout_zero(sshd, test_user):
    """timeout=0: calls return at once and everything arrives through do_events()."""
    client = make_client(sshd, test_user, timeout=0)
    rec = Recorder(client)
    opened: list[str] = []
    ready: list[str] = []
    client.on_ssh_channel_opened = lambda e: opened.append(e.channel_id)
    client.on_ssh_channel_ready_to_send = lambda e: ready.append(e.channel_id)
    client.ssh_logon(sshd.host, sshd.port)  # returns before the handshake is done
    with pytest.raises(SSHClientError) as info:
        client.open_channel("session")
    assert info.value.code == 1130
    for _ in range(500):
        if any("Authentication successful" in m for m in rec.status):
            break
        client.do_events()
    ch = client.open_channel("session")
    assert ch not in opened  # not confirmed yet
    client.start_service(ch, "exec", "cat")  # pipelined before the confirmation
    for _ in range(500):
        if ch in ready:
            break
        client.do_events()
    assert ch in opened
    assert client.get_ready_to_send(0)
    client.send_channel_data(ch, b"async\n")
    for _ in range(500):
        if bytes(rec.data.get(ch, b"")) == b"async\n":
            break
        client.do_events()
    assert bytes(rec.data[ch]) == b"async\n"
    client.close_channel(ch)
    wait_closed(client, rec, ch)
    client.ssh_logoff()

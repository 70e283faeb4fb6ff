"""Spec items not shown elsewhere: connect() without logon, connection events,
would-block codes, rate limiting, settings that mirror properties, rare errors."""
from __future__ import annotations

import struct
import time

import pytest

from peer import HostilePeer
from spec_client import password_client
from sshclient import SSHClient, SSHClientError


def client_for(server, user, **config) -> SSHClient:
    return password_client(user, **config)


def test_connect_without_logon(sshd, test_user):
    c = client_for(sshd, test_user)
    c.ssh_host = sshd.host
    c.ssh_port = sshd.port
    c.connect()
    assert c.connected
    assert c.config("ServerSSHVersionString").startswith("SSH-2.0-OpenSSH")
    assert "Accepted" not in sshd.log_text().split(f"port {c.local_port}")[-1]
    ch = c.open_channel("session")  # logs on when first needed
    assert ch
    c.ssh_logoff()


def test_connection_events(sshd, test_user):
    c = client_for(sshd, test_user)
    seen = []
    c.on_connected = lambda e: seen.append(("connected", e.status_code, e.description))
    c.on_connection_status = lambda e: seen.append(("status", e.connection_event,
                                                    e.status_code))
    c.on_disconnected = lambda e: seen.append(("disconnected", e.status_code))
    c.ssh_logon(sshd.host, sshd.port)
    c.ssh_logoff()
    assert seen[0] == ("connected", 0, "OK")
    assert ("status", "Remote host connection complete.", 0) in seen
    assert ("status", "SSH handshake complete.", 0) in seen
    assert ("status", "Remote host disconnected.", 0) in seen
    assert seen[-1] == ("disconnected", 0)


def test_on_error_for_async_refusal(sshd, test_user):
    c = client_for(sshd, test_user)
    errors = []
    c.on_error = lambda e: errors.append((e.error_code, e.description))
    c.ssh_logon(sshd.host, sshd.port)
    c.timeout = 0
    c.open_channel("no-such-type")  # returns at once; the refusal comes later
    for _ in range(200):
        if errors:
            break
        c.do_events()
    assert errors and errors[0][0] == 1020
    assert c.ssh_channel_count == 0
    c.timeout = 30
    c.ssh_logoff()


def test_algorithm_settings_mirror_properties():
    c = SSHClient()
    c.config("SSHKeyExchangeAlgorithms=curve25519-sha256")
    assert c.ssh_key_exchange_algorithms == "curve25519-sha256"
    c.config("SSHMacAlgorithms=hmac-sha2-512")
    assert c.ssh_mac_algorithms == "hmac-sha2-512"
    c.ssh_public_key_algorithms = "ssh-ed25519"
    assert c.config("SSHPublicKeyAlgorithms") == "ssh-ed25519"
    with pytest.raises(SSHClientError) as info:
        c.config("SSHMacAlgorithms=umac-64@openssh.com")
    assert info.value.code == 1005


def test_connection_timeout_setting():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never answers
    try:
        c = SSHClient()
        c.ssh_user = "x"
        c.timeout = 2
        c.config("ConnectionTimeout=1")
        assert c.config("ConnectionTimeout") == "1"
        with pytest.raises(SSHClientError) as info:
            c.ssh_logon("127.0.0.1", listener.getsockname()[1])
        assert info.value.code == 301
    finally:
        listener.close()


def test_max_line_length_setting(sshd, test_user):
    c = client_for(sshd, test_user)
    c.config("MaxLineLength=100")
    assert c.config("MaxLineLength") == "256"  # the spec's minimum
    c.ssh_logon(sshd.host, sshd.port)
    with pytest.raises(SSHClientError) as info:
        c.config("MaxLineLength=4096")
    assert info.value.code == 112
    c.ssh_logoff()


def test_max_transfer_rate_limits_uploads(sshd, test_user):
    """2 MiB at MaxTransferRate=1 MiB/s cannot finish in much under a second
    (the bucket starts with one second's worth)."""
    c = client_for(sshd, test_user, MaxTransferRate=1 << 20)
    closed = []
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.ssh_logon(sshd.host, sshd.port)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "cat >/dev/null")
    start = time.monotonic()
    for _ in range(3):
        c.send_channel_data(ch, b"r" * (1 << 20))
    while c._driver is not None and c._driver.proto.output_size():
        c.do_events()
    elapsed = time.monotonic() - start
    assert elapsed >= 1.5, f"3 MiB at 1 MiB/s took only {elapsed:.2f} s"
    c.ssh_logoff()


def test_license_info():
    assert "open source" in SSHClient().config("LicenseInfo")


def test_use_internal_security_api():
    c = SSHClient()
    assert c.config("UseInternalSecurityAPI") == "True"
    c.config("UseInternalSecurityAPI=False")
    assert c.config("UseInternalSecurityAPI") == "False"


def test_empty_host_and_zero_port():
    c = SSHClient()
    c.ssh_user = "x"
    with pytest.raises(SSHClientError) as info:
        c.connect()
    assert info.value.code == 102
    c.ssh_host = "127.0.0.1"
    c.ssh_port = 0
    with pytest.raises(SSHClientError) as info:
        c.connect()
    assert info.value.code == 116


def test_missing_key_file_302(test_user):
    c = SSHClient()
    c.ssh_cert_store_type = 6
    c.ssh_cert_store = "/nonexistent/key"
    with pytest.raises(SSHClientError) as info:
        c.ssh_cert_subject = "*"
    assert info.value.code == 302


def test_unreadable_key_1012():
    c = SSHClient()
    c.ssh_cert_store_type = 7
    c.ssh_cert_store = b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n"
    with pytest.raises(SSHClientError) as info:
        c.ssh_cert_subject = "*"
    assert info.value.code == 1012


def test_would_block_1130(sshd, test_user):
    c = client_for(sshd, test_user)
    c.ssh_logon(sshd.host, sshd.port)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "sleep 5")  # reads nothing: the window fills up
    c.timeout = 0
    with pytest.raises(SSHClientError) as info:
        for _ in range(64):
            c.send_channel_data(ch, b"w" * (1 << 20))
    assert info.value.code == 1130
    assert 0 <= c.get_bytes_sent(0) < (1 << 20)
    assert not c.get_ready_to_send(0)
    c.disconnect()


def test_would_block_during_key_exchange_1133(sshd, test_user):
    c = client_for(sshd, test_user)
    c.ssh_logon(sshd.host, sshd.port)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "cat >/dev/null")
    c.timeout = 0
    c.exchange_keys()  # returns at once: the exchange runs in do_events
    with pytest.raises(SSHClientError) as info:
        c.send_channel_data(ch, b"during the re-exchange")
    assert info.value.code == 1133
    ready = []
    c.on_ssh_channel_ready_to_send = lambda e: ready.append(e.channel_id)
    for _ in range(200):
        if ready:
            break
        c.do_events()
    assert ready == [ch]
    c.send_channel_data(ch, b"after it")
    c.disconnect()


def test_duplicate_open_confirmation_1023():
    def confirm_twice(s, ch, cmd):
        s.send(bytes([91]) + struct.pack(">IIII", ch.remote_id, ch.id, 65536, 32768))

    with HostilePeer(script={"exec": confirm_twice}) as peer:
        c = SSHClient()
        c.ssh_user = "tester"
        c.ssh_password = "secret"
        c.timeout = 10
        c.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
        codes = []
        c.on_error = lambda e: codes.append(e.error_code)
        c.ssh_logon(peer.host, peer.port)
        ch = c.open_channel("session")
        try:
            c.start_service(ch, "exec", "run")
            for _ in range(100):
                if not c.connected:
                    break
                c.do_events()
        except SSHClientError as exc:
            codes.append(exc.code)
        assert codes and codes[0] == 1023
        assert not c.connected


@pytest.mark.parametrize("answer", [True, False])
def test_channel_request_success_is_answered(sshd_factory, test_user, answer):
    """sshd's ClientAlive probes are channel requests that want a reply: the handler's
    `success` decides the answer; either answer keeps sshd content."""
    server = sshd_factory(["ClientAliveInterval 1", "ClientAliveCountMax 1"])
    c = client_for(server, test_user)
    seen, requested = [], []

    def on_request(e):
        seen.append(e.request_type)
        if e.request_type == "keepalive@openssh.com":
            assert e.success is False  # not a request the class serves by itself
            e.success = answer

    c.on_ssh_channel_request = on_request
    c.on_ssh_channel_requested = lambda e: requested.append(e.request_type)
    c.ssh_logon(server.host, server.port)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "sleep 4; echo alive")
    out = []
    closed = []
    c.on_ssh_channel_data = lambda e: out.append(e.channel_data)
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    end = time.monotonic() + 20
    while ch not in closed and time.monotonic() < end:
        c.do_events()
    assert "keepalive@openssh.com" in seen
    assert b"".join(out) == b"alive\n"
    assert ("keepalive@openssh.com" in requested) == answer
    c.ssh_logoff()


def test_idle_client_uses_no_cpu(sshd, test_user):
    """do_events() sleeps in select(): a second of idling costs (almost) no CPU."""
    c = client_for(sshd, test_user, SelectWaitMillis=200)
    c.ssh_logon(sshd.host, sshd.port)
    c.open_channel("session")
    start_cpu = time.process_time()
    end = time.monotonic() + 1.0
    rounds = 0
    while time.monotonic() < end:
        c.do_events()
        rounds += 1
    used = time.process_time() - start_cpu
    assert rounds <= 10, f"{rounds} rounds in a second: do_events did not wait"
    assert used < 0.05, f"idle client used {used:.3f} CPU-s in a second"
    c.ssh_logoff()

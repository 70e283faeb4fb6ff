"""Spec channel features against sshd: terminals and shells, receive framing
(ChannelDataEOL / MaxChannelDataLength, RecordLength), per-channel properties,
requests, re-keying through config, version strings and timeouts."""
from __future__ import annotations

import time

import pytest

from spec_client import password_client
from sshclient import SSHClient, SSHClientError


class Session:
    def __init__(self, server, user, **config) -> None:
        self.client = c = password_client(user, **config)
        self.chunks: list[tuple[str, bytes, bool]] = []
        self.closed: list[str] = []
        self.eof: list[str] = []
        self.requested: list[tuple[str, str]] = []
        c.on_ssh_channel_data = lambda e: self.chunks.append(
            (e.channel_id, e.channel_data, e.channel_data_eol_found))
        c.on_ssh_channel_closed = lambda e: self.closed.append(e.channel_id)
        c.on_ssh_channel_eof = lambda e: self.eof.append(e.channel_id)
        c.on_ssh_channel_requested = lambda e: self.requested.append(
            (e.channel_id, e.request_type))
        c.ssh_logon(server.host, server.port)

    def pump_until(self, done, limit: float = 20.0) -> None:
        end = time.monotonic() + limit
        while not done():
            assert time.monotonic() < end, "timed out waiting"
            self.client.do_events()

    def data(self, ch: str) -> bytes:
        return b"".join(d for c, d, _ in self.chunks if c == ch)


def test_shell_with_terminal(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    c.open_terminal(ch, "vt100", 100, 30, False, "350000000000")  # ECHO off
    c.start_service(ch, "shell", "")
    c.send_text(ch, "stty size; tty; exit 4\n")
    s.pump_until(lambda: ch in s.closed)
    out = s.data(ch)
    assert b"30 100" in out
    assert b"/dev/pts/" in out
    assert (ch, "exit-status") in s.requested
    c.ssh_logoff()


def test_terminal_in_pixels(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    c.open_terminal(ch, "xterm", 640, 480, True, "")
    c.start_service(ch, "exec", "echo $TERM")
    s.pump_until(lambda: ch in s.closed)
    assert s.data(ch).strip() == b"xterm"
    c.ssh_logoff()


def test_channel_data_eol_framing(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    c.config(f"ChannelDataEOL[{ch}]=\n")
    c.config(f"MaxChannelDataLength[{ch}]=8")
    assert c.get_channel_eol(0) == "\n" and c.get_max_channel_length(0) == 8
    found: list[str] = []
    c.on_ssh_channel_data = lambda e: (
        s.chunks.append((e.channel_id, e.channel_data, e.channel_data_eol_found)),
        found.append(c.config(f"ChannelDataEOLFound[{e.channel_id}]")))
    c.start_service(ch, "exec", "printf 'ab\\ncdefghijklmn\\nxyz\\n'")
    s.pump_until(lambda: ch in s.closed)
    got = [(d, eol) for cid, d, eol in s.chunks if cid == ch]
    assert got == [(b"ab", True), (b"cdefghij", False), (b"klmn", True), (b"xyz", True)]
    assert found == ["True", "False", "True", "True"]
    c.ssh_logoff()


def test_record_length_and_change_record_length(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    c.change_record_length(ch, 4)
    assert c.get_record_length(0) == 4
    sizes: list[int] = []

    def on_data(e):
        sizes.append(len(e.channel_data))
        if len(sizes) == 2:
            c.change_record_length(e.channel_id, 3)  # allowed inside the event

    c.on_ssh_channel_data = on_data
    c.start_service(ch, "exec", "head -c 14 /dev/zero")
    s.pump_until(lambda: ch in s.closed)
    assert sizes[:4] == [4, 4, 3, 3]
    assert sum(sizes) == 14  # the tail arrives when the channel closes
    c.ssh_logoff()


def test_record_length_setting_applies_to_new_channels(sshd, test_user):
    s = Session(sshd, test_user, RecordLength=5)
    c = s.client
    ch = c.open_channel("session")
    assert c.get_record_length(0) == 5
    c.start_service(ch, "exec", "printf 0123456789")
    s.pump_until(lambda: ch in s.closed)
    assert [d for cid, d, _ in s.chunks if cid == ch] == [b"01234", b"56789"]
    c.ssh_logoff()


def test_per_channel_properties_and_bytes_sent(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    assert c.get_channel_id(0) == ch and c.get_service(0) == "session"
    c.start_service(ch, "exec", "wc -c")
    assert c.get_ready_to_send(0)
    c.send_bytes(ch, b"x" * 100000)
    assert c.get_bytes_sent(0) == 100000
    with pytest.raises(SSHClientError) as info:
        c.get_channel_id(5)
    assert info.value.code == 1021
    c.ssh_logoff()


def test_start_service_failure_is_1033(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    with pytest.raises(SSHClientError) as info:
        c.start_service(ch, "subsystem", "no-such-subsystem")
    assert info.value.code == 1033
    c.ssh_logoff()


def test_subsystem_sftp_starts(sshd, test_user):
    s = Session(sshd, test_user)
    c = s.client
    ch = c.open_channel("session")
    c.start_service(ch, "subsystem", "sftp")
    # SSH_FXP_INIT version 3 -> the server answers SSH_FXP_VERSION (type 2)
    c.send_bytes(ch, bytes.fromhex("00000005010000000300"[:18]))
    s.pump_until(lambda: len(s.data(ch)) >= 9)
    assert s.data(ch)[4] == 2
    c.ssh_logoff()


def test_open_channel_refused_is_1020(sshd, test_user):
    s = Session(sshd, test_user)
    with pytest.raises(SSHClientError) as info:
        s.client.open_channel("no-such-channel-type")
    assert info.value.code == 1020
    s.client.ssh_logoff()


def test_tcp_ip_channel_refused_is_1020(sshd, test_user):
    import servers

    s = Session(sshd, test_user)
    with pytest.raises(SSHClientError) as info:
        s.client.open_tcp_ip_channel("127.0.0.1", servers.free_port(), "127.0.0.1", 0)
    assert info.value.code == 1020
    s.client.ssh_logoff()


def test_ssh_key_renegotiate_config(sshd, test_user):
    s = Session(sshd, test_user)
    status = []
    s.client.on_ssh_status = lambda e: status.append(e.message)
    s.client.config("SSHKeyRenegotiate")
    assert any("re-exchange" in m for m in status)
    s.client.ssh_logoff()


def test_client_version_string(sshd, test_user):
    s = Session(sshd, test_user, ClientSSHVersionString="SSH-2.0-SpecTest_1.0")
    s.client.ssh_logoff()
    assert "remote software version SpecTest_1.0" in sshd.log_text()


def test_window_and_packet_size_settings(sshd, test_user):
    s = Session(sshd, test_user, MaxWindowSize=1 << 20, MaxPacketSize=16384)
    c = s.client
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "head -c 3000000 /dev/zero")
    s.pump_until(lambda: ch in s.closed)
    sizes = [len(d) for cid, d, _ in s.chunks if cid == ch]
    assert sum(sizes) == 3000000
    with pytest.raises(SSHClientError):
        c.config("MaxWindowSize=65536")  # may only grow while connected
    c.ssh_logoff()


def test_preferred_dh_group_bits(sshd, test_user):
    s = Session(sshd, test_user, PreferredDHGroupBits=4096)
    s.client.ssh_key_exchange_algorithms = "diffie-hellman-group-exchange-sha256"
    s.client.ssh_logoff()
    s = Session(sshd, test_user, PreferredDHGroupBits=4096)
    s.client.ssh_logoff()


def test_connection_timeout_and_absolute_timeout():
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held = []
    stop = threading.Event()

    def accept_and_trickle():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept_and_trickle, daemon=True).start()
    try:
        c = SSHClient()
        c.ssh_user = "x"
        c.timeout = 1
        c.config("AbsoluteTimeout=True")
        start = time.monotonic()
        with pytest.raises(SSHClientError) as info:
            c.ssh_logon("127.0.0.1", listener.getsockname()[1])
        assert info.value.code == 301
        assert time.monotonic() - start < 10
    finally:
        stop.set()
        listener.close()
        for conn in held:
            conn.close()


def test_wait_for_server_disconnect(sshd, test_user):
    s = Session(sshd, test_user, WaitForServerDisconnect="True")
    events = []
    s.client.on_disconnected = lambda e: events.append(e.status_code)
    s.client.ssh_logoff()
    assert events == [0] and not s.client.connected


def test_select_wait_millis_bounds_do_events(sshd, test_user):
    s = Session(sshd, test_user, SelectWaitMillis=50)
    start = time.monotonic()
    for _ in range(4):
        s.client.do_events()
    assert time.monotonic() - start >= 0.15  # it waited (no busy loop)...
    s.client.ssh_logoff()

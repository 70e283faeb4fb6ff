"""SSHClient cases a new user ran into: rejected values must not linger,
connect() then ssh_logon(), failures half way through a logon, channels
lost with the connection, repeated authentication methods, terminal modes,
value checks of config settings. Real sshd and dropbear on loopback."""
from __future__ import annotations

import os
import signal
import time

import pytest

from sshclient import SSHClient, SSHClientError
from sshclient.eventclient.client import _terminal_modes
from test_spec_sshd import Recorder, make_client, run_command, wait_closed

# ----------------------------------------------------------- algorithm lists

@pytest.mark.parametrize("prop,good,bad", [
    ("ssh_encryption_algorithms", "aes128-ctr", "aes128-nonesuch"),
    ("ssh_mac_algorithms", "hmac-sha2-256", "hmac-nonesuch"),
    ("ssh_key_exchange_algorithms", "curve25519-sha256", "foo-bar"),
    ("ssh_public_key_algorithms", "ssh-ed25519", "ssh-nonesuch"),
    ("ssh_compression_algorithms", "none", "lz4-nonesuch"),
])
def test_rejected_algorithm_list_is_not_stored(prop, good, bad):
    client = SSHClient()
    setattr(client, prop, good)
    with pytest.raises(SSHClientError) as info:
        setattr(client, prop, bad)
    assert info.value.code == 1005
    assert getattr(client, prop) == good


def test_rejected_list_through_config_is_not_stored():
    client = SSHClient()
    before = client.ssh_key_exchange_algorithms
    with pytest.raises(SSHClientError) as info:
        client.config("SSHKeyExchangeAlgorithms=foo-bar")
    assert info.value.code == 1005
    assert client.ssh_key_exchange_algorithms == before


def test_logon_keeps_the_cipher_after_a_rejected_change(sshd, test_user):
    client = make_client(sshd, test_user)
    messages: list[str] = []
    client.config("LogLevel=2")
    client.on_log = lambda e: messages.append(e.message)
    client.ssh_encryption_algorithms = "aes192-ctr"
    with pytest.raises(SSHClientError):
        client.ssh_encryption_algorithms = "aes128-cbc-nonesuch"
    client.ssh_logon(sshd.host, sshd.port)
    try:
        negotiated = [m for m in messages if "aes192-ctr" in m]
        assert negotiated, messages
        assert not any("chacha20" in m for m in messages)
    finally:
        client.ssh_logoff()


# ------------------------------------------------------------ enumerations

@pytest.mark.parametrize("prop,value", [
    ("ssh_auth_mode", 7), ("ssh_auth_mode", -1), ("ssh_cert_store_type", 42),
    ("ssh_cert_store_type", 20), ("ssh_accept_server_host_key_store_type", 100),
    ("timeout", "abc"), ("ssh_port", "http"),
])
def test_invalid_property_values_are_refused(prop, value):
    client = SSHClient()
    before = getattr(client, prop)
    with pytest.raises(SSHClientError) as info:
        setattr(client, prop, value)
    assert info.value.code == 211
    assert getattr(client, prop) == before


@pytest.mark.parametrize("setting,code", [
    ("LogLevel=9", 211), ("LogLevel=-1", 211), ("UseStrictKeyExchange=7", 211),
    ("PreferredDHGroupBits=1", 211), ("PreferredDHGroupBits=16384", 211),
    ("SSHFingerprintHashAlgorithm=SHA512", 211), ("UseIPv6=3", 211), ("CodePage=99999", 434),
])
def test_config_values_outside_the_spec_are_refused(setting, code):
    client = SSHClient()
    name = setting.split("=")[0]
    before = client.config(name)
    with pytest.raises(SSHClientError) as info:
        client.config(setting)
    assert info.value.code == code
    assert client.config(name) == before


@pytest.mark.parametrize("setting", [
    "LogLevel=3", "UseStrictKeyExchange=2", "PreferredDHGroupBits=1024",
    "SSHFingerprintHashAlgorithm=sha-1", "SSHFingerprintHashAlgorithm=MD5", "CodePage=1252",
    "CodePage=20866", "UseIPv6=2",
])
def test_config_values_inside_the_spec_are_taken(setting):
    client = SSHClient()
    client.config(setting)
    name, value = setting.split("=")
    assert client.config(name) == value


# ------------------------------------------------------ connect, then logon

def test_connect_then_ssh_logon_logs_in(sshd, test_user):
    client = make_client(sshd, test_user)
    rec = Recorder(client)
    client.ssh_host, client.ssh_port = sshd.host, sshd.port
    client.connect()
    assert client.connected
    client.ssh_logon(sshd.host, sshd.port)
    channel = run_command(client, rec, "echo logged-on")
    assert bytes(rec.data[channel]) == b"logged-on\n"
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(sshd.host, sshd.port)  # already logged on
    assert info.value.code == 104
    client.ssh_logoff()


def test_connect_then_logon_with_a_key(sshd, test_user, client_keys):
    """connect() knows no credentials yet; the later logon loads the key."""
    client = make_client(sshd, test_user)
    client.ssh_password = ""
    client.ssh_auth_mode = 3
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = client_keys["ed25519"].path
    client.ssh_cert_subject = "*"
    client.ssh_host, client.ssh_port = sshd.host, sshd.port
    client.connect()
    client.ssh_logon(sshd.host, sshd.port)
    rec = Recorder(client)
    channel = run_command(client, rec, "whoami")
    assert bytes(rec.data[channel]) == f"{test_user.name}\n".encode()
    client.ssh_logoff()


def test_connect_then_logon_elsewhere_is_104(sshd, test_user):
    client = make_client(sshd, test_user)
    client.ssh_host, client.ssh_port = sshd.host, sshd.port
    client.connect()
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(sshd.host, sshd.port + 1)
    assert info.value.code == 104
    client.disconnect()


def test_asynchronous_connect_then_logon(sshd, test_user):
    client = make_client(sshd, test_user)
    client.ssh_host, client.ssh_port = sshd.host, sshd.port
    client.timeout = 0
    client.connect()
    client.ssh_logon(sshd.host, sshd.port)  # returns at once; do_events completes it
    deadline = time.monotonic() + 30
    opened = None
    while opened is None and time.monotonic() < deadline:
        client.do_events()
        try:
            opened = client.open_channel("session")
        except SSHClientError as exc:
            assert exc.code == 1130, exc
    assert opened is not None
    client.disconnect()


# ----------------------------------------------- failures half way in a logon

def test_host_key_handler_exception_leaves_no_half_connection(sshd, test_user):
    client = make_client(sshd, test_user, accept=False)
    rec = Recorder(client)

    def boom(e):
        raise RuntimeError("handler bug")

    client.on_ssh_server_authentication = boom
    with pytest.raises(RuntimeError):
        client.ssh_logon(sshd.host, sshd.port)
    assert not client.connected
    assert rec.disconnected and rec.disconnected[-1][0] == 1036
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    client.ssh_logon(sshd.host, sshd.port)  # the object is usable again
    assert client.connected
    client.ssh_logoff()


# ------------------------------------------------ channels lost with the link

def test_disconnect_closes_open_channels_with_events(sshd, test_user):
    client = make_client(sshd, test_user)
    rec = Recorder(client)
    client.ssh_logon(sshd.host, sshd.port)
    first = client.open_channel("session")
    second = client.open_channel("session")
    client.start_service(first, "exec", "sleep 30")
    client.disconnect()
    assert sorted(rec.closed) == sorted([first, second])
    assert client.ssh_channel_count == 0


def _session_processes(listener_pid: int) -> list[int]:
    out, todo = [], [listener_pid]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        out.extend(kids)
        todo.extend(kids)
    return out


def test_server_death_closes_channels_and_keeps_their_data(sshd_factory, test_user):
    server = sshd_factory()
    client = make_client(server, test_user)
    rec = Recorder(client)
    client.ssh_logon(server.host, server.port)
    channel = client.open_channel("session")
    client.start_service(channel, "exec", "echo before-the-end; sleep 30")
    for _ in range(500):
        if rec.data.get(channel):
            break
        client.do_events()
    for pid in _session_processes(server.process.pid):
        os.kill(pid, signal.SIGKILL)
    wait_closed(client, rec, channel)  # returns: the loop of the README ends
    assert bytes(rec.data[channel]) == b"before-the-end\n"
    assert not client.connected
    assert rec.disconnected and rec.disconnected[-1][0] != 0


# --------------------------------------------------- repeated auth methods

def test_do_not_repeat_auth_methods_false_repeats_a_method(sshd_factory, test_user):
    server = sshd_factory(["AuthenticationMethods password,password"])
    client = make_client(server, test_user)
    client.ssh_auth_mode = 1  # amMultiFactor
    client.config("DoNotRepeatAuthMethods=False")
    client.ssh_logon(server.host, server.port)
    assert client.connected
    client.ssh_logoff()


def test_do_not_repeat_auth_methods_true_does_not(sshd_factory, test_user):
    server = sshd_factory(["AuthenticationMethods password,password"])
    client = make_client(server, test_user)
    client.ssh_auth_mode = 1
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(server.host, server.port)
    assert info.value.code == 1032
    assert not client.connected


# ------------------------------------------------------------ terminal modes

@pytest.mark.parametrize("modes,wire", [
    ("", "00"), ("00", "00"), ("350000000000", "350000000000"),
    ("3500000000", "350000000000"),  # the terminator was left out
    ("35000000003600000001", "3500000000360000000100"),
    ("3500000000a0ff", "3500000000a0ff"),  # undefined opcode: passed on as given
])
def test_terminal_modes_are_terminated(modes, wire):
    assert _terminal_modes(modes).hex() == wire


@pytest.mark.parametrize("modes", ["3500", "zz"])
def test_bad_terminal_modes_are_refused(modes):
    with pytest.raises(SSHClientError) as info:
        _terminal_modes(modes)
    assert info.value.code == 211


def test_unterminated_modes_work_with_dropbear(dropbear, test_user):
    client = make_client(dropbear, test_user)
    rec = Recorder(client)
    client.ssh_logon(dropbear.host, dropbear.port)
    channel = client.open_channel("session")
    client.open_terminal(channel, "xterm", 80, 24, False, "3500000000")
    client.start_service(channel, "exec", "echo tty-ok")
    wait_closed(client, rec, channel)
    assert b"tty-ok" in bytes(rec.data.get(channel, b""))
    assert client.connected
    client.ssh_logoff()


# ------------------------------------------------------ ssh_host resolution

def test_ssh_host_name_becomes_the_address(sshd, test_user):
    """The spec: a domain name in ssh_host is set to the address it resolved to."""
    client = make_client(sshd, test_user)
    client.ssh_logon("localhost", sshd.port)
    try:
        assert client.ssh_host == "127.0.0.1"
        with pytest.raises(SSHClientError) as info:
            client.ssh_logon("localhost", sshd.port)  # the same host, already logged on
        assert info.value.code == 104
    finally:
        client.ssh_logoff()
    client.ssh_logon(client.ssh_host, sshd.port)  # the address works for the next logon
    assert client.connected
    client.ssh_logoff()


def test_raw_channel_eof_is_tracked(dropbear, test_user):
    """send_ssh_packet(ch, 96, b"") is the spec API's only EOF: data after it
    is refused here instead of reaching a server that drops the connection."""
    client = make_client(dropbear, test_user)
    rec = Recorder(client)
    client.ssh_logon(dropbear.host, dropbear.port)
    channel = client.open_channel("session")
    client.start_service(channel, "exec", "cat")
    client.send_channel_data(channel, b"abc")
    client.send_ssh_packet(channel, 96, b"")
    with pytest.raises(SSHClientError):
        client.send_channel_data(channel, b"late")
    wait_closed(client, rec, channel)
    assert bytes(rec.data[channel]) == b"abc"
    assert client.connected
    client.ssh_logoff()

"""Spec behaviours: logging levels and masking, multi-factor auth, property locks,
logoff vs disconnect, unavailable modes."""
from __future__ import annotations

import logging

import pytest

from spec_client import password_client
from sshclient import SSHClient, SSHClientError


def client_for(user, **config) -> SSHClient:
    return password_client(user, **config)


def collect_logs(c: SSHClient) -> list[tuple[int, str]]:
    logs: list[tuple[int, str]] = []
    c.on_log = lambda e: logs.append((e.log_level, e.message))
    return logs


def test_log_level_3_masks_the_password(sshd, test_user):
    c = client_for(test_user, LogLevel=3)
    logs = collect_logs(c)
    c.ssh_logon(sshd.host, sshd.port)
    c.ssh_logoff()
    text = "\n".join(m for _, m in logs)
    assert any(level == 3 for level, _ in logs)
    assert "USERAUTH_REQUEST" in text and "[masked" in text
    assert test_user.password.encode().hex() not in text
    assert test_user.password not in text


def test_mask_sensitive_data_off_shows_bytes(sshd, test_user):
    c = client_for(test_user, LogLevel=3, MaskSensitiveData="False")
    logs = collect_logs(c)
    c.ssh_logon(sshd.host, sshd.port)
    c.ssh_logoff()
    assert test_user.password.encode().hex() in "\n".join(m for _, m in logs)


def test_log_levels_0_1_2(sshd, test_user, caplog):
    counts = {}
    for level in (0, 1, 2):
        c = client_for(test_user, LogLevel=level)
        logs = collect_logs(c)
        with caplog.at_level(logging.DEBUG, logger="sshclient"):
            c.ssh_logon(sshd.host, sshd.port)
            c.ssh_logoff()
        counts[level] = logs
    assert counts[0] == []
    assert counts[1] and all(level == 1 for level, _ in counts[1])
    assert any(level == 2 and "KEXINIT" in m for level, m in counts[2])
    assert any("Key exchange complete" in r.getMessage() for r in caplog.records)


def test_multifactor_publickey_then_password(sshd_factory, test_user, client_keys):
    server = sshd_factory(["AuthenticationMethods publickey,password"])
    c = client_for(test_user)
    c.ssh_auth_mode = 1  # amMultiFactor
    c.ssh_cert_store_type = 6
    c.ssh_cert_store = client_keys["ed25519"].path
    c.ssh_cert_subject = "*"
    status = []
    c.on_ssh_status = lambda e: status.append(e.message)
    logs = collect_logs(c)
    c.ssh_logon(server.host, server.port)
    assert c.connected
    assert any("Partial success with publickey" in m for _, m in logs)
    c.ssh_logoff()


def test_multifactor_missing_second_factor_fails(sshd_factory, test_user, client_keys):
    server = sshd_factory(["AuthenticationMethods publickey,password"])
    c = client_for(test_user)
    c.ssh_password = ""
    c.ssh_auth_mode = 1
    c.ssh_cert_store_type = 6
    c.ssh_cert_store = client_keys["ed25519"].path
    c.ssh_cert_subject = "*"
    with pytest.raises(SSHClientError) as info:
        c.ssh_logon(server.host, server.port)
    assert info.value.code == 1032


def test_try_all_available_auth_methods(sshd, test_user, client_keys):
    """A rejected key, then the password: TryAllAvailableAuthMethods goes on."""
    c = client_for(test_user, TryAllAvailableAuthMethods="True")
    c.ssh_auth_mode = 3
    c.ssh_cert_store_type = 6
    c.ssh_cert_store = client_keys["ed25519-unauthorized"].path
    c.ssh_cert_subject = "*"
    c.ssh_logon(sshd.host, sshd.port)
    assert c.connected
    c.ssh_logoff()


def test_properties_locked_while_connected(sshd, test_user):
    c = client_for(test_user)
    c.ssh_logon(sshd.host, sshd.port)
    for name, code in [("ssh_host", 101), ("ssh_port", 100), ("local_port", 106),
                       ("local_host", 107)]:
        with pytest.raises(SSHClientError) as info:
            setattr(c, name, 1 if "port" in name else "127.0.0.2")
        assert info.value.code == code
    with pytest.raises(SSHClientError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 104
    assert c.local_port > 0 and c.local_host == "127.0.0.1"
    c.ssh_logoff()
    c.ssh_port = 2022  # free again


def test_disconnect_vs_logoff(sshd, test_user):
    c = client_for(test_user)
    events = []
    c.on_disconnected = lambda e: events.append((e.status_code, e.description))
    c.ssh_logon(sshd.host, sshd.port)
    c.open_channel("session")
    c.disconnect()
    assert not c.connected and events == [(0, "OK")]
    assert c.ssh_channel_count == 0
    c.ssh_logon(sshd.host, sshd.port)
    ch = c.open_channel("session")
    closed = []
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.ssh_logoff()  # WaitForChannelClose: the channel is closed politely first
    assert closed == [ch]
    assert events[-1] == (0, "OK")


def test_methods_need_a_connection():
    c = SSHClient()
    with pytest.raises(SSHClientError) as info:
        c.open_channel("session")
    assert info.value.code == 1117


def test_gssapi_modes_are_a_clear_error(sshd, test_user):
    c = client_for(test_user)
    c.ssh_auth_mode = 5
    with pytest.raises(SSHClientError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert "GSSAPI" in str(info.value)
    assert not c.connected


def test_unsupported_settings_are_clear_errors():
    c = SSHClient()
    with pytest.raises(SSHClientError) as info:
        c.config("EnablePageantAuth=1")
    assert "Windows" in str(info.value)
    with pytest.raises(SSHClientError):
        c.config("UseFIPSCompliantAPI=True")
    assert c.config("EnablePageantAuth") == "0"
    assert "sshclient" in c.config("BuildInfo")


def _first_byte_sent(server, user, code_page: int | None, text: str) -> bytes:
    c = client_for(user) if code_page is None else client_for(user, CodePage=code_page)
    out, closed = [], []
    c.on_ssh_channel_data = lambda e: out.append(e.channel_data)
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.ssh_logon(server.host, server.port)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", "head -c 1 | od -An -tx1")
    try:
        c.send_text(ch, text)
        for _ in range(500):
            if ch in closed:
                break
            c.do_events()
    finally:
        c.ssh_logoff()
    return b"".join(out).strip()


def test_send_text_code_page(sshd, test_user):
    assert _first_byte_sent(sshd, test_user, None, "é") == b"c3"  # UTF-8 by default
    assert _first_byte_sent(sshd, test_user, 28591, "é") == b"e9"  # ISO 8859-1
    with pytest.raises(SSHClientError) as info:
        _first_byte_sent(sshd, test_user, 20127, "é")  # US-ASCII cannot
    assert info.value.code == 434

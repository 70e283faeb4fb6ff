"""Raw packets and custom authentication through the spec API."""
from __future__ import annotations

import pytest

from sshclient import SSHClient, SSHClientError


def test_set_and_get_params_round_trip():
    c = SSHClient()
    p = b"\x62"  # CHANNEL_REQUEST
    p = c.set_ssh_param(p, "i", "7")
    p = c.set_ssh_param(p, "s", "pty-req")
    p = c.set_ssh_param(p, "f", "True")
    p = c.set_ssh_param(p, "s", "vt100")
    p = c.set_ssh_param(p, "i", "0x50")
    p = c.set_ssh_param(p, "i", "24")
    p = c.set_ssh_param(p, "i", "0")
    p = c.set_ssh_param(p, "i", "0")
    p = c.set_ssh_param(p, "sb", "3500000000" + "00")
    assert c.get_ssh_param(p, "ChannelId") == "7"
    assert c.get_ssh_param(p, "RequestType") == "pty-req"
    assert c.get_ssh_param(p, "WantsReply") == "True"
    assert c.get_ssh_param(p, "TerminalType") == "vt100"
    assert c.get_ssh_param(p, "TerminalWidthCharacters") == "80"
    assert c.get_ssh_param(p, "TerminalHeightRows") == "24"
    assert c.get_ssh_param_bytes(p, "TerminalModes") == bytes.fromhex("350000000000")
    assert c.get_ssh_param(p, "%i,s,f,s") == "vt100"
    assert c.decode_packet(c.encode_packet(p)) == p


def test_every_field_type():
    c = SSHClient()
    p = b"\x50"
    for kind, value in [("s", "hé"), ("sb", "A1B23C"), ("m", "-1234567890123456789"),
                        ("i", "4294967295"), ("l", "0x1122334455667788"), ("b", "255"),
                        ("f", "no")]:
        p = c.set_ssh_param(p, kind, value)
    assert c.get_ssh_param(p, "%s") == "hé"
    assert c.get_ssh_param(p, "%s,sb") == "A1B23C"
    assert c.get_ssh_param(p, "%s,sb,m") == "-1234567890123456789"
    assert c.get_ssh_param(p, "%s,sb,m,i") == "4294967295"
    assert c.get_ssh_param(p, "%s,sb,m,i,l") == str(0x1122334455667788)
    assert c.get_ssh_param(p, "%s,sb,m,i,l,b") == "255"
    assert c.get_ssh_param(p, "%s,sb,m,i,l,b,f") == "False"


def test_bad_params_are_clear_errors():
    c = SSHClient()
    with pytest.raises(SSHClientError):
        c.set_ssh_param(b"", "q", "1")
    with pytest.raises(SSHClientError):
        c.set_ssh_param(b"", "b", "256")
    with pytest.raises(SSHClientError):
        c.get_ssh_param(b"\x62\x00", "ChannelId")
    with pytest.raises(SSHClientError):
        c.decode_packet("zz")


def _client(user) -> SSHClient:
    c = SSHClient()
    c.ssh_user = user.name
    c.ssh_password = user.password
    c.timeout = 30
    c.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    return c


def test_send_ssh_packet_exec_request(sshd, test_user):
    c = _client(test_user)
    out, closed, requests = [], [], []
    c.on_ssh_channel_data = lambda e: out.append(e.channel_data)
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.on_ssh_channel_request = lambda e: requests.append(
        (e.request_type, c.get_ssh_param(e.packet, "RequestType"),
         c.get_ssh_param(e.packet, "ExitStatus") if e.request_type == "exit-status" else None))
    c.ssh_logon(sshd.host, sshd.port)
    ch = c.open_channel("session")
    payload = c.set_ssh_param(b"", "s", "exec")
    payload = c.set_ssh_param(payload, "f", "False")
    payload = c.set_ssh_param(payload, "s", "echo raw; exit 5")
    c.send_ssh_packet(ch, 98, payload)
    for _ in range(1000):
        if ch in closed:
            break
        c.do_events()
    assert b"".join(out) == b"raw\n"
    assert ("exit-status", "exit-status", "5") in requests
    c.ssh_logoff()


def test_custom_auth_drives_password_login(sshd, test_user):
    c = _client(test_user)
    c.ssh_auth_mode = 99
    seen = []

    def custom(e):
        seen.append(e.packet)
        if e.packet == "":
            p = c.set_ssh_param(b"\x32", "s", test_user.name)  # USERAUTH_REQUEST
            p = c.set_ssh_param(p, "s", "ssh-connection")
            p = c.set_ssh_param(p, "s", "password")
            p = c.set_ssh_param(p, "f", "False")
            p = c.set_ssh_param(p, "s", test_user.password)
            e.packet = c.encode_packet(p)

    c.on_ssh_custom_auth = custom
    c.ssh_logon(sshd.host, sshd.port)
    assert c.connected
    assert seen == [""]
    c.ssh_logoff()


def test_custom_auth_failure_reaches_handler(sshd, test_user):
    c = _client(test_user)
    c.ssh_auth_mode = 99
    seen = []

    def custom(e):
        seen.append(e.packet)
        if e.packet == "":
            p = c.set_ssh_param(b"\x32", "s", test_user.name)
            p = c.set_ssh_param(p, "s", "ssh-connection")
            p = c.set_ssh_param(p, "s", "password")
            p = c.set_ssh_param(p, "f", "False")
            p = c.set_ssh_param(p, "s", "wrong")
            e.packet = c.encode_packet(p)

    c.on_ssh_custom_auth = custom
    with pytest.raises(SSHClientError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 1032
    assert len(seen) == 2 and seen[1].startswith("33")  # USERAUTH_FAILURE, hex


def test_remote_forward_channel_open_request(sshd, test_user):
    """tcpip-forward as a raw global request; sshd then opens forwarded-tcpip channels."""
    import socket as _socket

    import servers

    c = _client(test_user)
    requests, data, closed = [], [], []

    def on_open(e):
        requests.append((e.service, c.get_ssh_param(b"\x5a" + e.parameters, "%s"),
                         c.get_ssh_param(b"\x5a" + e.parameters, "%s,i")))
        e.accept = True

    c.on_ssh_channel_open_request = on_open
    c.on_ssh_channel_data = lambda e: data.append(e.channel_data)
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.ssh_logon(sshd.host, sshd.port)
    port = servers.free_port()
    payload = c.set_ssh_param(b"", "s", "tcpip-forward")
    payload = c.set_ssh_param(payload, "f", "True")
    payload = c.set_ssh_param(payload, "s", "127.0.0.1")
    payload = c.set_ssh_param(payload, "i", str(port))
    c.send_ssh_packet("", 80, payload)
    for _ in range(50):
        c.do_events()
    with _socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"through the reverse tunnel")
        s.shutdown(_socket.SHUT_WR)
        for _ in range(500):
            if b"".join(data) == b"through the reverse tunnel":
                break
            c.do_events()
    assert requests and requests[0][0] == "forwarded-tcpip"
    assert requests[0][1] == "127.0.0.1" and requests[0][2] == str(port)
    assert b"".join(data) == b"through the reverse tunnel"
    assert c.ssh_channel_count == 1
    c.ssh_logoff()

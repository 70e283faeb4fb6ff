"""Jump hosts (ssh -J): connections carried in direct-tcpip channels of
other connections, through real sshd and dropbear, one body for every
front end. The same local server serves as every hop."""
from __future__ import annotations

import hashlib
import socket

import pytest

import sshclient
from front_ends import api_fixture, login, server_fixture  # noqa: F401  (fixtures)

MiB = 1 << 20




def test_two_and_three_hops_from_strings(api, server, test_user):
    hop = f"{test_user.name}@{server.host}:{server.port}"
    data = hashlib.sha256(b"jump").digest() * (8 * MiB // 32)
    with login(api, server, test_user, jump=hop) as conn:
        result = conn.exec("sha256sum", stdin=data)
        assert result.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()
    with login(api, server, test_user, jump=f"{hop},{server.host}:{server.port}") as conn:
        assert conn.exec("echo three").stdout == b"three\n"
    with login(api, server, test_user, jump=[hop, hop, hop]) as conn:
        assert conn.exec("echo four").stdout == b"four\n"


def test_through_a_connection_of_ours(api, sshd, dropbear, test_user):
    """A connection passed as jump carries the next one and stays open after
    it closes: dropbear reached through sshd."""
    with login(api, sshd, test_user) as hop:
        with login(api, dropbear, test_user, jump=hop) as conn:
            assert conn.exec("echo via").stdout == b"via\n"
            assert hop.exec("echo hop").stdout == b"hop\n"        # both at once
        assert hop.exec("echo still").stdout == b"still\n"


def test_failures_name_the_hop(api, server, test_user):
    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    dead = spare.getsockname()[1]
    spare.close()
    with pytest.raises(sshclient.SSHConnectionError) as first:
        login(api, server, test_user, jump=f"127.0.0.1:{dead}")
    assert f"jump host 127.0.0.1:{dead}" in str(first.value)
    with pytest.raises(sshclient.ChannelError) as middle:
        api.connect("127.0.0.1", dead, username=test_user.name, password=test_user.password,
                    accept_any_host_key=True, timeout=30,
                    jump=f"{server.host}:{server.port}")
    message = str(middle.value)
    assert middle.value.code == 1020
    assert f"127.0.0.1:{dead}" in message and f"jump host {test_user.name}@" in message
    with pytest.raises(sshclient.AuthenticationError) as auth:
        api.connect(server.host, server.port, username=test_user.name, password="wrong",
                    accept_any_host_key=True, timeout=30,
                    jump=f"{server.host}:{server.port}")
    assert "jump host" in str(auth.value)


def test_jump_arguments_are_checked(api, test_user):
    with pytest.raises(sshclient.ArgumentTypeError):
        api.connect("127.0.0.1", 22, username="u", accept_any_host_key=True, jump=42)
    with pytest.raises(sshclient.UsageError):
        api.connect("127.0.0.1", 22, username="u", accept_any_host_key=True, jump="h:notaport")
    with pytest.raises(sshclient.UsageError):
        api.connect("127.0.0.1", 22, username="u", accept_any_host_key=True, jump="h",
                    proxy=sshclient.ProxySettings.from_url("socks5://127.0.0.1:1080"))

"""Jump hosts (ssh -J) and ProxyCommand: connections carried in
direct-tcpip channels of other connections or in a command's pipes,
through real sshd and dropbear, one body for every front end. The same
local server serves as every hop."""
from __future__ import annotations

import hashlib
import shlex
import socket
import sys

import pytest

import servers
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


# ------------------------------------------------------------ ProxyCommand
RELAY = '''
import os, selectors, socket, sys
sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
sel = selectors.DefaultSelector()
sel.register(0, selectors.EVENT_READ)
sel.register(sock, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj == 0:
            data = os.read(0, 65536)
            if not data:
                sock.shutdown(socket.SHUT_WR)
                sel.unregister(0)
                continue
            sock.sendall(data)
        else:
            data = sock.recv(65536)
            if not data:
                sys.exit(0)
            os.write(1, data)
'''


def test_proxy_command_carries_the_connection(api, server, test_user, tmp_path):
    relay = tmp_path / "relay.py"
    relay.write_text(RELAY)
    data = hashlib.sha256(b"proxy").digest() * (4 * MiB // 32)
    with login(api, server, test_user, proxy_command=f"{sys.executable} {relay} %h %p") as conn:
        result = conn.exec("sha256sum", stdin=data)
        assert result.stdout.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_openssh_as_the_proxy_command(api, sshd, dropbear, test_user, client_keys):
    """ssh -W to dropbear through sshd, as an OpenSSH user's ProxyCommand."""
    argv = servers.ssh_command(sshd, key=client_keys["ed25519"], extra_args=["-W", "%h:%p"])
    with login(api, dropbear, test_user, proxy_command=shlex.join(argv)) as conn:
        assert conn.exec("echo proxied").stdout == b"proxied\n"


def test_a_failing_proxy_command_is_named(api, test_user):
    with pytest.raises(sshclient.SSHClientError) as excinfo:
        api.connect("127.0.0.1", 22, username=test_user.name, password="x",
                    accept_any_host_key=True, timeout=10, proxy_command="exit 3")
    assert "ProxyCommand 'exit 3'" in str(excinfo.value)
    with pytest.raises(sshclient.UsageError):
        api.connect("127.0.0.1", 22, username="u", accept_any_host_key=True,
                    proxy_command="nc %x")

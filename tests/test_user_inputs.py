"""What callers hand in, against real peers on loopback (issue 11, defects 3-5):
secrets never shown (repr, str, vars(), logs at LogLevel 3, exception text),
host names and argument types refused before any connection, and host key
errors that name the API in use and show the fingerprint as ssh does."""
from __future__ import annotations

import contextlib
import select
import socket

import pytest

import sshclient
from sshclient import (
    ConnectionError_,
    SSHClient,
    SSHClientError,
    UsageError,
)

# ---------------------------------------------------------------- defect 4

@contextlib.contextmanager
def listener():
    """A loopback TCP port that only records whether anybody connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


def nobody_connected(sock: socket.socket) -> bool:
    return not select.select([sock], [], [], 0)[0]


BAD_HOSTS = ["127.0.0.1\0evil.example", "a" * 300 + ".example", "127.0.0.1\nx", "a..b", ""]


@pytest.mark.parametrize("host", BAD_HOSTS, ids=["nul", "long-label", "newline",
                                                  "empty-label", "empty"])
def test_a_bad_host_name_fails_before_connecting(host):
    with listener() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(ConnectionError_) as info:
            sshclient.connect(host, port, username="u", password="p", accept_any_host_key=True,
                              timeout=2)
        assert info.value.code == 11001
        assert "host" in info.value.message
        if host:  # the spec API keeps "" as "no host" (its error 102)
            client = SSHClient()
            client.timeout = 2
            with pytest.raises(ConnectionError_) as info:
                client.ssh_host = host
            assert info.value.code == 11001
            assert client.ssh_host == ""  # the bad name was not kept
            with pytest.raises(ConnectionError_) as info:
                client.ssh_logon(host, port)
            assert info.value.code == 11001
        assert nobody_connected(sock)


def test_a_nul_in_the_host_name_does_not_reach_the_server(sshd, test_user):
    # "127.0.0.1\0evil.example" used to log in to 127.0.0.1.
    with pytest.raises(SSHClientError) as info:
        sshclient.connect(f"{sshd.host}\0evil.example", sshd.port, username=test_user.name,
                          password=test_user.password, accept_any_host_key=True, timeout=30)
    assert info.value.code == 11001
    assert "\\x00" in info.value.message  # shown escaped


@pytest.mark.parametrize("kwargs,argument", [
    ({"host": None}, "host"),
    ({"host": b"127.0.0.1"}, "host"),
    ({"port": "abc"}, "port"),
    ({"port": 22.0}, "port"),
    ({"username": None}, "username"),
    ({"password": b"pw"}, "password"),
    ({"timeout": "abc"}, "timeout"),
    ({"host_key_verifier": "yes"}, "host_key_verifier"),
])
def test_a_wrong_argument_type_is_named(kwargs, argument):
    with listener() as sock:
        args = {"host": "127.0.0.1", "port": sock.getsockname()[1], "username": "u",
                "password": "p", "accept_any_host_key": True, "timeout": 2, **kwargs}
        with pytest.raises(TypeError) as info:
            sshclient.connect(**args)
        assert isinstance(info.value, UsageError) and info.value.code == 211
        assert f"{argument} must be" in info.value.message
        assert nobody_connected(sock)  # host=None used to mean localhost


@pytest.mark.parametrize("name,value", [("ssh_host", 127001), ("ssh_port", "abc"),
                                        ("local_host", "127.0.0.1\0x")])
def test_spec_properties_refuse_bad_values(name, value):
    client = SSHClient()
    with pytest.raises(SSHClientError) as info:
        setattr(client, name, value)
    assert name in str(info.value)

"""Every error that reaches a user is an SSHClientError with a code: what the
compiled core raises, what handling a malformed server message raises, and
misuse of the core through the public API.  A user's own callback's error is
the exception that stays theirs."""
from __future__ import annotations

import struct

import pytest

import sshclient
from peer import PeerChannel, Session
from sshclient import SSHClientError
from sshcore import errors as core_errors
from sshcore.packet import ProtocolError
from sshcore.wire import WireError
from test_hostile_peer import PASSWORD, USER, go, start


def u32(n: int) -> bytes:
    return struct.pack(">I", n)


def test_the_cores_errors_are_in_the_hierarchy():
    assert issubclass(ProtocolError, sshclient.RemoteProtocolError)
    for cls, builtin in ((core_errors.InvalidArgumentError, ValueError),
                         (core_errors.ConcurrentUseError, RuntimeError),
                         (core_errors.UnknownChannelError, KeyError)):
        assert issubclass(cls, sshclient.UsageError) and issubclass(cls, builtin)
    assert sshclient.SSHClientError is core_errors.SSHClientError
    assert not issubclass(WireError, SSHClientError)   # internal: always translated


# Message types a server may send after login, each cut short or filled with
# junk: whatever the client makes of it, a user sees an SSHClientError.
MALFORMED = [bytes([t]) + tail for t in list(range(1, 8)) + [20, 21, 30, 31, 50, 51, 52, 53, 60]
             + list(range(80, 101)) + [128, 200, 255]
             for tail in (b"\x00\x00", u32(0) + u32(0xFFFFFFFF) + b"\xff" * 7)]


@pytest.mark.parametrize("message", MALFORMED, ids=lambda m: f"{m[0]}-{len(m)}")
def test_malformed_server_message_is_an_sshclient_error(make_peer, message):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"ok")
        s.send(message)
        s.send_data(ch, b"after")
        s.send_eof(ch)
        s.send_close(ch)
        s.hang()

    peer = make_peer(allow_errors=True, script={"exec": script})
    got = bytearray()
    try:
        with sshclient.connect(peer.host, peer.port, username=USER, password=PASSWORD,
                               accept_any_host_key=True, timeout=5) as conn:
            ch = start(conn)
            while chunk := ch.read():
                got += chunk
    except SSHClientError as exc:       # anything else fails the test
        assert exc.code > 0
    assert got.startswith(b"ok")


def login(sshd, test_user) -> sshclient.SSHConnection:
    return sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                             password=test_user.password, accept_any_host_key=True, timeout=20)


def test_bad_stream_number_is_a_usage_error(sshd, test_user):
    with login(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("echo hi")
            with pytest.raises(sshclient.UsageError) as info:
                ch.read(stream=2)
            assert isinstance(info.value, ValueError) and info.value.code == 211
            assert ch.read_all() == b"hi\n"


def test_user_callback_error_stays_the_users_and_closes_the_connection(sshd, test_user):
    class Mine(Exception):
        pass

    def verifier(info):
        raise Mine("my bug")

    with pytest.raises(Mine):
        sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                          password=test_user.password, host_key_verifier=verifier, timeout=20)


# ------------------------------------------------------------ built-in bases
def test_new_names_and_old_aliases_are_the_same_classes():
    from sshclient import errors

    assert sshclient.SSHTimeoutError is sshclient.TimeoutError_ is errors.TimeoutError_
    assert sshclient.SSHConnectionError is sshclient.ConnectionError_
    assert {"SSHTimeoutError", "SSHConnectionError", "TimeoutError_",
            "ConnectionError_"} <= set(sshclient.__all__)
    namespace: dict = {}
    exec("from sshclient import *", namespace)
    # a star import must not hide the built-ins under our classes
    assert "TimeoutError" not in namespace and "ConnectionError" not in namespace


@pytest.mark.parametrize("cls, builtins, others", [
    (sshclient.SSHTimeoutError, (TimeoutError,), (ConnectionError,)),
    (sshclient.SSHConnectionError, (ConnectionError,), (TimeoutError,)),
    (sshclient.errors.ConnectTimeoutError, (TimeoutError, ConnectionError,
                                            sshclient.SSHTimeoutError,
                                            sshclient.SSHConnectionError), ()),
    (sshclient.DisconnectedError, (ConnectionError,), (sshclient.SSHConnectionError,)),
    (sshclient.errors.WouldBlockError, (BlockingIOError,), ()),
    (sshclient.AuthenticationError, (), (OSError,)),
    (sshclient.HostKeyError, (), (OSError,)),
])
def test_built_in_bases(cls, builtins, others):
    assert issubclass(cls, SSHClientError)
    for base in builtins:
        assert issubclass(cls, base), base
    for base in others:
        assert not issubclass(cls, base), base


def _same_error(a: SSHClientError, b: SSHClientError) -> None:
    assert type(a) is type(b)
    assert (str(a), repr(a), a.args, a.code, a.message) == \
        (str(b), repr(b), b.args, b.code, b.message)
    assert vars(a) == vars(b)


@pytest.mark.parametrize("make", [
    lambda: sshclient.SSHTimeoutError("read timed out after 2 s", code=301),
    lambda: sshclient.SSHTimeoutError(),
    lambda: sshclient.SSHConnectionError("cannot connect to h:22: refused", code=10061),
    lambda: sshclient.errors.ConnectTimeoutError("cannot connect to h:22: timed out"),
    lambda: sshclient.DisconnectedError("the server said bye", reason=11),
    lambda: sshclient.ProxyError("SOCKS5 proxy p:1080: refused", proxy="SOCKS5 proxy p:1080",
                                 reason="refused", reply=2),
    lambda: sshclient.errors.WouldBlockError("3 of 9 bytes sent", code=135),
    lambda: ProtocolError(1015, "bad tag"),
    lambda: core_errors.UnknownChannelError("no channel 7"),
], ids=["timeout", "timeout-default", "connection", "connect-timeout", "disconnected",
        "proxy", "would-block", "protocol", "unknown-channel"])
def test_message_code_and_pickling_survive_the_built_in_base(make):
    """OSError's own constructor and str() must not garble "[code] message",
    and a copy or a pickled error (e.g. from a worker process) is the same."""
    import copy
    import pickle

    exc = make()
    assert str(exc) == f"[{exc.code}] {exc.message}"
    if isinstance(exc, OSError):
        assert exc.errno is None and exc.strerror is None and exc.filename is None
    for again in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
        _same_error(exc, again)
        assert str(again).count(core_errors.MESSAGES.get(exc.code, "\0")) <= 1


def test_except_timeout_error_catches_a_read_timeout(sshd, test_user):
    with login(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("sleep 30")
            conn.timeout = 1
            try:
                ch.read()
            except TimeoutError as exc:
                caught: BaseException = exc
            assert isinstance(caught, sshclient.SSHTimeoutError) and caught.code == 301
            assert str(caught).startswith("[301] ")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_except_connection_error_catches_a_refused_connection():
    try:
        sshclient.connect("127.0.0.1", _closed_port(), username="u", password="p",
                          accept_any_host_key=True, timeout=5)
    except ConnectionError as exc:
        caught: BaseException = exc
    assert isinstance(caught, sshclient.SSHConnectionError) and caught.code == 10061
    assert not isinstance(caught, TimeoutError)

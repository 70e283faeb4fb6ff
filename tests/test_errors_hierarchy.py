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


def test_bad_stream_number_is_a_usage_error(sshd, test_user):
    with sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                           password=test_user.password, accept_any_host_key=True,
                           timeout=20) as conn:
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

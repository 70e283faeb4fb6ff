"""The protocol's own meaning of time and of the end of the stream, without a
socket: a driver feeds bytes (b"" = EOF), the clock (handle_timeout) and asks
when to wake next (next_deadline); it holds no protocol policy itself."""
from __future__ import annotations

import pytest

from sshclient.errors import DisconnectedError, RemoteProtocolError, SSHClientError
from sshclient.events import Disconnected
from sshclient.options import ClientOptions
from sshclient.protocol import STATE_CONNECTED, ClientProtocol


def logged_in(**options) -> ClientProtocol:
    """A protocol past its version exchange, marked logged in (the timers
    only run then); no keys were exchanged, so what it sends waits queued."""
    proto = ClientProtocol(ClientOptions(username="u", **options))
    proto.receive_data(b"SSH-2.0-peer\r\n")
    proto.process()
    proto.take_output()
    proto.state = STATE_CONNECTED
    return proto


def test_eof_before_the_version_line_is_1002_after_the_last_events():
    proto = ClientProtocol(ClientOptions(username="u"))
    proto.receive_data(b"HTTP/1.1 400 Bad Request\r\n")
    proto.receive_data(b"")
    events = proto.process()
    assert [type(e) for e in events] == [Disconnected] and events[0].code == 1002
    assert proto.closed
    with pytest.raises(RemoteProtocolError) as info:
        proto.process()
    assert info.value.code == 1002 and "HTTP/1.1 400" in info.value.message


def test_eof_after_the_version_is_a_disconnect_1001():
    proto = logged_in()
    proto.receive_data(b"")
    assert proto.process()[-1].code == 1001
    with pytest.raises(DisconnectedError):
        proto.process()


def test_no_timer_without_keepalive_or_before_login():
    assert logged_in().next_deadline() is None
    proto = ClientProtocol(ClientOptions(username="u", keepalive_interval=5))
    proto.handle_timeout(100.0)
    assert proto.next_deadline() is None            # not logged in yet


def test_keepalive_probes_then_1039_and_input_resets_the_count():
    proto = logged_in(keepalive_interval=5, keepalive_count_max=2)
    proto.handle_timeout(100.0)                     # the clock starts
    assert proto.next_deadline() == 105.0
    probes = proto.connection._global_requests
    proto.handle_timeout(104.9)
    assert not probes                               # not due yet
    proto.handle_timeout(105.0)
    assert [name for name, _ticket in probes] == ["keepalive@openssh.com"]
    assert proto.keepalives_outstanding == 1
    assert proto.next_deadline() == 110.0
    proto.receive_data(b"\x00\x00\x00\x0c\x0a\x02")  # input (a packet's start) shows life
    proto.handle_timeout(107.0)
    assert proto.keepalives_outstanding == 0 and proto.next_deadline() == 112.0
    proto.handle_timeout(112.0)
    proto.handle_timeout(117.0)
    assert proto.keepalives_outstanding == 2 and len(probes) == 3
    with pytest.raises(SSHClientError) as info:
        proto.handle_timeout(122.0)                 # two unanswered in a row
    assert info.value.code == 1039
    assert proto.closed and proto.output_size() > 0  # DISCONNECT sent


def _drive(sock, proto, until, limit: float = 20.0) -> list:
    """A minimal driver: bytes both ways until `until(events)` is true."""
    import select
    import time

    events: list = []
    end = time.monotonic() + limit
    while not until(events):
        assert time.monotonic() < end, f"stuck; events so far: {events}"
        out = proto.take_output()
        if out:
            sock.sendall(out)
        readable = proto.wants_input() and select.select([sock], [], [], 0.2)[0]
        if readable:
            proto.receive_data(sock.recv(65536))
        events += proto.process()
    return events


@pytest.mark.parametrize("accept", [True, False])
def test_the_host_key_is_answered_when_the_front_end_is_ready(sshd, test_user, accept):
    """HostKeyReceived holds the exchange: while unanswered nothing more is
    handled or read (the server's NEWKEYS waits), however long; the answer
    lets it go on, or refuses the key with DISCONNECT and 1030."""
    import socket
    import time

    from sshclient.errors import HostKeyError
    from sshclient.events import AuthCompleted, HostKeyReceived

    proto = ClientProtocol(ClientOptions(username=test_user.name, password=test_user.password))
    proto.begin_auth()
    with socket.create_connection((sshd.host, sshd.port)) as sock:
        events = _drive(sock, proto, lambda evs: any(isinstance(e, HostKeyReceived) for e in evs))
        info = next(e for e in events if isinstance(e, HostKeyReceived)).info
        assert info.fingerprint.startswith("SHA256:")
        time.sleep(0.5)                                     # the server's NEWKEYS arrives
        assert not proto.wants_input()
        assert proto.process() == [] and not proto.kex_done  # held, not handled
        if accept:
            proto.answer_host_key(True)
            _drive(sock, proto, lambda evs: any(isinstance(e, AuthCompleted) for e in evs))
            assert proto.authenticated
        else:
            proto.answer_host_key(False)
            with pytest.raises(HostKeyError) as excinfo:
                proto.process()
            assert excinfo.value.code == 1030 and info.fingerprint in excinfo.value.message
            assert proto.closed and b"" != proto.take_output()  # the DISCONNECT


@pytest.mark.parametrize("method", ["publickey", "keyboard-interactive"])
def test_authentication_questions_are_answered_when_ready(sshd, test_user, client_keys,
                                                          method):
    """A signature (as an agent gives it) and prompts (as a person types
    them) are events answered later: meanwhile no packet is handled and no
    input read; then the login goes on."""
    import socket
    import time

    from sshclient.events import (
        AuthCompleted,
        HostKeyReceived,
        PromptsReceived,
        SignatureRequested,
    )
    from sshclient.keys import load_private_key_file
    from sshclient.options import AUTH_KEYBOARD_INTERACTIVE, AUTH_PUBLICKEY

    key = load_private_key_file(client_keys["ed25519"].path)
    question = SignatureRequested if method == "publickey" else PromptsReceived
    # (with a password, keyboard-interactive counts as possible; we answer it)
    mode = AUTH_PUBLICKEY if method == "publickey" else AUTH_KEYBOARD_INTERACTIVE
    options = ClientOptions(username=test_user.name, private_key=key,
                            password=test_user.password, auth_mode=mode)
    proto = ClientProtocol(options)
    proto.begin_auth()
    with socket.create_connection((sshd.host, sshd.port)) as sock:
        events = _drive(sock, proto, lambda evs: any(isinstance(e, HostKeyReceived)
                                                     for e in evs))
        proto.answer_host_key(True)
        events = _drive(sock, proto, lambda evs: any(isinstance(e, question) for e in evs))
        asked = next(e for e in events if isinstance(e, question))
        time.sleep(0.3)
        assert not proto.wants_input() and proto.process() == []
        assert not proto.authenticated
        if isinstance(asked, SignatureRequested):
            assert asked.public_blob == key.public_blob
            proto.answer_signature(key.sign(asked.data, asked.algorithm))
        else:
            assert any("assword" in text for text, _echo in asked.prompts)
            proto.answer_prompts([test_user.password] * len(asked.prompts))
        done = _drive(sock, proto, lambda evs: any(isinstance(e, AuthCompleted) for e in evs))
        assert proto.authenticated
        assert next(e for e in done if isinstance(e, AuthCompleted)).method == method


def test_the_phase_tables_hang_together():
    """Every phase a move reaches takes messages through a method that
    exists; a message a phase does not take is 1036, naming it."""
    from sshclient import auth
    from sshclient import protocol as p

    reached = set(p._MOVES.values())
    assert reached == set(p._PHASES)
    assert all(callable(getattr(ClientProtocol, name)) for _, name in p._PHASES.values())
    assert all(callable(getattr(auth.Authenticator, name))
               for name in auth._HANDLERS.values())
    proto = ClientProtocol(ClientOptions(username="u"))
    proto.state = p.STATE_SERVICE
    with pytest.raises(RemoteProtocolError) as excinfo:
        proto.handle_packet(94, b"\x5e")             # CHANNEL_DATA before authentication
    assert excinfo.value.code == 1036 and "CHANNEL_DATA" in excinfo.value.message

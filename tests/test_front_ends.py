"""One test body for every front end (issue 12, item 5).

Each test here is written once against the blocking API's shape and runs
on `sshclient.connect()` ("blocking") and on `sshclient.aio.connect()`
driven through `front_ends.SyncProxy` on asyncio's own loop ("asyncio") and
on uvloop's ("uvloop"), against OpenSSH's sshd and dropbear (or the scripted
hostile peer). Whatever a test asserts is asserted of all of them: a result
that differs between the front ends fails here.

The spec API (`sshclient.SSHClient`) is left out. It delivers data by
events as it arrives (on_ssh_channel_data) while the application pumps
do_events(); it has no read() to call, no exit status or signal to ask a
channel for (they come as on_ssh_channel_request packets), no per-call
timeout error and no exec() result. Driving it from these bodies would need
an emulation of read()/wait_closed() written on top of its events, and the
tests would then test that emulation. Its own tests of the same scenarios
are tests/test_spec_*.py and the *_spec_api_* cases of
tests/test_hostile_peer.py.

dropbear 2022.83 (Debian 12, bug #321) closes a new session channel when
another channel's child exits between our open and our exec; tests that
run one command after another on a connection therefore wait for each
channel's close before opening the next, and tests that keep many channels
open start all of them before any command can end.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

import servers
import sshclient
from front_ends import (  # noqa: F401  (the fixtures api and server)
    FRONT_ENDS,
    SyncProxy,
    api_fixture,
    front_end,
    login,
    server_fixture,
)
from peer import PeerChannel, Session
from sshclient import aio
from test_hostile_peer import (
    PASSWORD,
    USER,
    _corrupt_after,
    _data_then,
    _disconnect,
    assert_client_left,
    assert_delivered,
    pattern,
    read_until_error,
    start,
)

MiB = 1 << 20


def peer_login(api, peer, **kw) -> Any:
    kw.setdefault("timeout", 10)
    return api.connect(peer.host, peer.port, username=USER, password=PASSWORD,
                       accept_any_host_key=True, **kw)


def data_of(size: int, seed: bytes = b"front ends") -> bytes:
    return hashlib.shake_256(seed).digest(size)


def echo_through(ch, data: bytes, chunk: int = 256 * 1024,
                 between: Callable[[int], object] = lambda index: None) -> bytes:
    """Write `data` to a channel that echoes it, a chunk at a time, reading
    each chunk's echo back before the next (one thread, no deadlock on the
    windows); `between(index)` runs after each chunk."""
    got = bytearray()
    for index, begin in enumerate(range(0, len(data), chunk)):
        ch.write(data[begin:begin + chunk])
        while len(got) < min(begin + chunk, len(data)):
            piece = ch.read()
            assert piece, f"EOF after {len(got)} of {len(data)} bytes"
            got += piece
        between(index)
    return bytes(got)


# ------------------------------------------------------------- the harness
class _Gadget:
    """Stands for an API class with a method the proxy has never heard of."""

    def __init__(self) -> None:
        self.level = 1
        self.entered = self.exited = False

    async def brand_new(self, n: int) -> int:
        await asyncio.sleep(0)
        return n + self.level

    async def another(self) -> _Gadget:
        return _Gadget()

    def plain(self) -> str:
        return "plain"

    async def __aenter__(self) -> _Gadget:
        self.entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.exited = True

    async def _rows(self):
        for row in (b"a", b"b"):
            await asyncio.sleep(0)
            yield row

    def __aiter__(self):
        return self._rows()


def test_the_proxy_needs_no_list_of_methods():
    loop = asyncio.new_event_loop()
    try:
        gadget = _Gadget()
        proxy = SyncProxy(gadget, loop)
        assert proxy.brand_new(41) == 42
        proxy.level = 2                                    # attributes are the target's
        assert (gadget.level, proxy.brand_new(40)) == (2, 42)
        assert proxy.plain() == "plain"
        assert isinstance(proxy.another(), SyncProxy)       # async results come proxied
        with proxy as entered:
            assert gadget.entered and entered.brand_new(0) == 2
        assert gadget.exited
        assert list(proxy) == [b"a", b"b"]
    finally:
        loop.close()


def test_each_front_end_is_the_one_named(api, request, sshd, test_user):
    kind = request.node.callspec.params["api"]
    with login(api, sshd, test_user) as conn:
        if kind == "blocking":
            assert isinstance(conn, sshclient.SSHConnection)
        else:
            target = conn._target
            assert isinstance(target, aio.AsyncSSHConnection)
            assert type(target._driver.loop).__module__.split(".")[0] == kind


# ---------------------------------------------------------------- commands
def test_exec_result(api, server, test_user):
    with login(api, server, test_user) as conn:
        result = conn.exec("echo out; echo err >&2; exit 3")
        assert (result.stdout, result.stderr, result.exit_status, result.exit_signal) == \
            (b"out\n", b"err\n", 3, None)
        result = conn.exec("tr a-z A-Z", stdin=b"fed through stdin\n")
        assert (result.stdout, result.exit_status) == (b"FED THROUGH STDIN\n", 0)
        result = conn.exec("head -c 5", stdin=bytes(8 * MiB))  # most of stdin left unread
        assert (result.stdout, result.exit_status) == (bytes(5), 0)


def test_exit_signal(api, server, test_user):
    with login(api, server, test_user) as conn:
        result = conn.exec("kill -TERM $$")
        assert (result.exit_status, result.exit_signal) == (None, "TERM")
        with conn.open_session() as ch:
            ch.exec("kill -KILL $$")
            assert ch.wait_closed() is None
            assert (ch.exit_status, ch.exit_signal) == (None, "KILL")


# ----------------------------------------------------------------- streams
def test_large_streams_both_ways(api, server, test_user, tmp_path):
    data = data_of(6 * MiB)
    with login(api, server, test_user) as conn:
        # exec() feeds stdin while it collects stdout: more than both windows
        result = conn.exec("cat", stdin=data)
        assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(data).digest()
        with conn.open_session() as ch:
            ch.exec("cat")
            echoed = echo_through(ch, data[:4 * MiB])
            assert hashlib.sha256(echoed).digest() == hashlib.sha256(data[:4 * MiB]).digest()
            ch.send_eof()
            assert ch.read_all() == b""
            assert ch.wait_closed() == 0
        with conn.open_session() as ch:
            ch.exec("head -c 8388608 /dev/zero | tr '\\0' z")
            digest = hashlib.sha256()
            assert ch.drain(lambda view: digest.update(view)) == 8 * MiB
            assert digest.digest() == hashlib.sha256(b"z" * (8 * MiB)).digest()
            assert ch.wait_closed() == 0
        with conn.open_session() as ch, open(tmp_path / "download", "wb") as file:
            file.write(b"header\n")                       # the file's own buffer goes first
            ch.exec("cat")
            ch.write(data[:MiB])                          # no more than our window holds
            ch.send_eof()
            assert ch.drain(file) == MiB
        assert (tmp_path / "download").read_bytes() == b"header\n" + data[:MiB]


def test_unread_stderr_holding_the_window(api, server, test_user):
    """stderr and stdout share the window: a drain() of stdout that unread
    stderr blocks says so (UsageError 211) instead of waiting for ever."""
    with login(api, server, test_user, window_size=MiB) as conn:
        with conn.open_session() as ch:
            ch.exec("head -c 3000000 /dev/zero >&2; echo out")
            with pytest.raises(sshclient.UsageError) as info:
                ch.drain()
            assert info.value.code == 211 and "stderr" in str(info.value)
            errors = bytearray()
            assert ch.drain(stderr_sink=errors.extend) == 4
            assert errors == bytes(3_000_000)
            assert ch.wait_closed() == 0


def test_eof_and_close(api, server, test_user):
    with login(api, server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("echo started >&2; cat; exit 7")  # stderr long before the EOF
            ch.write(b"last words")
            ch.send_eof()
            assert ch.read_all() == b"last words"
            assert ch.read() == b""                       # the end stays the end
            assert ch.read_all(1) == b"started\n"
            assert ch.wait_closed() == 7
            assert ch.exit_status == 7
            with pytest.raises(sshclient.ChannelError) as info:
                ch.write(b"too late")
            assert info.value.code == 1022
        assert ch.exit_status == 7                        # still there after close()
        with pytest.raises(sshclient.ChannelError) as info:
            ch.wait_closed()                              # a closed channel is forgotten
        assert info.value.code == 1021


def test_lines(api, server, test_user):
    with login(api, server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("printf 'a\\nbb\\n\\nccc'")
            assert list(ch) == [b"a\n", b"bb\n", b"\n", b"ccc"]
            assert ch.wait_closed() == 0


def test_many_channels_interleaved(api, server, test_user):
    with login(api, server, test_user) as conn:
        channels = [conn.open_session() for _ in range(16)]
        for ch in channels:  # every one open before any command can end (dropbear #321)
            ch.exec("cat")
        sent: list[bytearray] = [bytearray() for _ in channels]
        got: list[bytearray] = [bytearray() for _ in channels]
        for round_ in range(4):
            for i, ch in enumerate(channels):
                piece = data_of(20_000 + 1000 * i, f"{i}/{round_}".encode())
                ch.write(piece)
                sent[i] += piece
            for i, ch in reversed(list(enumerate(channels))):
                while len(got[i]) < len(sent[i]):
                    piece = ch.read()
                    assert piece, f"channel {i}: EOF after {len(got[i])} bytes"
                    got[i] += piece
        for ch in channels:
            ch.send_eof()
        for i, ch in enumerate(channels):
            got[i] += ch.read_all()
            assert ch.wait_closed() == 0
            ch.close()
        assert got == sent


def test_direct_tcpip_tunnel(api, server, test_user, tcp_echo):
    data = data_of(2 * MiB, b"tunnel")
    with login(api, server, test_user) as conn:
        with conn.open_tcpip(*tcp_echo.address) as ch:
            assert echo_through(ch, data, chunk=100_000) == data
            ch.send_eof()                                 # the echo server then ends
            assert ch.read_all() == b""
    assert tcp_echo.bytes_echoed == len(data)


def test_rekey_mid_transfer(api, server, test_user):
    data = data_of(4 * MiB, b"rekey")
    with login(api, server, test_user) as conn:
        first = conn._proto.transport.kex_count
        with conn.open_session() as ch:
            ch.exec("cat")
            # four key exchanges, each with data in flight both ways
            echoed = echo_through(ch, data, between=lambda i: conn.rekey() if i % 4 == 1 else None)
            assert echoed == data
        assert conn._proto.transport.kex_count == first + 4
    with login(api, server, test_user, rekey_bytes=MiB) as conn:
        first = conn._proto.transport.kex_count
        result = conn.exec("cat", stdin=data)            # re-keyed by the byte limit
        assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(data).digest()
        assert conn._proto.transport.kex_count >= first + 3


# -------------------------------------------------------- timeouts, errors
def test_timeouts_leave_the_connection_usable(api, server, test_user):
    with login(api, server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("read x; echo got-$x")                 # waits for us: no race with a clock
            conn.timeout = 0.3
            with pytest.raises(sshclient.SSHTimeoutError) as info:
                ch.read()
            assert isinstance(info.value, TimeoutError) and info.value.code == 301
            assert conn.error is None
            conn.timeout = 30
            ch.write(b"it\n")
            assert ch.read_all() == b"got-it\n"
            assert ch.wait_closed() == 0
        assert conn.exec("echo still here").stdout == b"still here\n"
        with conn.open_session() as ch:
            ch.exec("sleep 60")                            # never reads its stdin
            conn.timeout = 0.5
            with pytest.raises(sshclient.SSHTimeoutError) as info:
                ch.write(bytes(16 * MiB))                  # more than windows and buffers hold
            assert info.value.code == 301 and conn.error is None


def test_refusals_and_misuse(api, server, test_user):
    with login(api, server, test_user) as conn:
        with pytest.raises(sshclient.ChannelError) as info:
            conn.open_tcpip("127.0.0.1", servers.free_port())  # nothing listens there
        assert info.value.code == 1020
        with conn.open_session() as ch:
            with pytest.raises(sshclient.ChannelError) as info:
                ch.subsystem("no-such-subsystem")
            assert info.value.code == 1033
            ch.exec("cat")
            with pytest.raises(sshclient.ChannelError) as info:
                ch.exec("echo a second command")               # one per session
            assert info.value.code == 1033
            with pytest.raises(sshclient.UsageError) as info:
                ch.read(stream=2)
            assert isinstance(info.value, ValueError) and info.value.code == 211
            with pytest.raises(sshclient.UsageError) as info:
                ch.resize_pty(-1, 24)
            assert info.value.code == 211
            ch.send_eof()
            with pytest.raises(sshclient.ChannelError) as info:
                ch.write(b"after EOF")
            assert info.value.code == 1022
            assert ch.wait_closed() == 0
        # a closed channel is forgotten: 1021, one class however it is reached
        # (a ChannelError, and the caller's mistake: a UsageError and KeyError)
        for use in (lambda: ch.read(), lambda: ch.write(b"x"), lambda: ch.exec("true"),
                    lambda: ch.wait_closed()):
            with pytest.raises(sshclient.ChannelError) as info:
                use()
            assert info.value.code == 1021
            assert isinstance(info.value, sshclient.UsageError) and isinstance(info.value, KeyError)
        assert conn.error is None
        assert conn.exec("echo fine").stdout == b"fine\n"
    assert conn.error is None                              # closed by us, not broken
    with pytest.raises(sshclient.DisconnectedError) as info:
        conn.open_session()
    assert info.value.code == 1001


def test_connection_refused(api, test_user):
    port = servers.free_port()
    with pytest.raises(sshclient.SSHConnectionError) as info:
        api.connect("127.0.0.1", port, username=test_user.name, password=test_user.password,
                    accept_any_host_key=True, timeout=10)
    assert isinstance(info.value, ConnectionError) and info.value.code == 10061
    with pytest.raises(sshclient.ArgumentTypeError):
        api.connect("127.0.0.1", str(port), username=test_user.name,
                    accept_any_host_key=True)


# -------------------------------------------------------------- hostile peer
def test_bad_mac_mid_stream(api, make_peer):
    part = pattern(100_000)
    peer = make_peer(script={"exec": _corrupt_after(part)})
    with peer_login(api, peer) as conn:
        ch = start(conn)
        got, err = read_until_error(ch)
        assert err.code == 1015, err
        assert conn.error is err
        with pytest.raises(sshclient.SSHClientError) as info:
            ch.read()                                      # asked again: the same answer
        assert info.value is err
    assert_delivered(got, part)
    assert_client_left(peer, reason=5)  # SSH_DISCONNECT_MAC_ERROR


def test_new_work_after_a_fatal_error_names_its_cause(api, make_peer):
    peer = make_peer(script={"exec": _corrupt_after(b"some data")})
    with peer_login(api, peer) as conn:
        _, err = read_until_error(start(conn))
        assert err.code == 1015
        for use in (lambda: conn.exec("anything"), lambda: conn.open_session()):
            with pytest.raises(sshclient.SSHClientError) as info:
                use()
            assert info.value.code == 1015, info.value


@pytest.mark.parametrize("ending, message", [
    (_disconnect, "maintenance shutdown"),
    (lambda s: s.close(), ""),
], ids=["disconnect", "tcp-close"])
def test_server_goes_away_mid_stream(api, make_peer, ending, message):
    part = pattern(300_000)
    peer = make_peer(script={"exec": _data_then(part, ending)})
    with peer_login(api, peer) as conn:
        got, err = read_until_error(start(conn))
        assert conn.error is err
    assert isinstance(err, sshclient.DisconnectedError) and isinstance(err, ConnectionError)
    assert err.code == 1001 and message in str(err)
    assert_delivered(got, part)


def test_server_stops_answering(api, make_peer):
    peer = make_peer(script={"exec": _data_then(b"half an answer", lambda s: s.hang())})
    with peer_login(api, peer, timeout=1) as conn:
        got, err = read_until_error(start(conn))
        assert isinstance(err, sshclient.SSHTimeoutError) and err.code == 301
        assert conn.error is None                          # a timeout ends nothing
    assert got == b"half an answer"


def test_data_beyond_the_window(api, make_peer):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        s.wait_for(lambda: bool(ch.received))
        s.send_data(ch, b"x" * (ch.remote_window + 1), respect_window=False)

    peer = make_peer(script={"exec": script})
    with peer_login(api, peer, window_size=65536) as conn:
        ch = start(conn)
        with pytest.raises(sshclient.SSHClientError) as info:
            ch.wait_closed()  # pumps without reading: no WINDOW_ADJUST goes out
        assert info.value.code == 1022
        assert conn.error is info.value
    assert_client_left(peer, reason=2)

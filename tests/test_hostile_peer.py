"""The client against a scripted, misbehaving SSH server (tests/peer).

Real sshd and dropbear never send bad MACs, 2 GiB packet lengths or data
beyond the window; the peer does, on purpose.  Each case checks the error
code of the spec, that the client said DISCONNECT and closed, that data
received before the fault reached the application, and that memory stayed
bounded.

"Reached the application" is checked the way applications read: the
blocking API's `Channel.read()` in a loop until it raises, and the spec
API's `on_ssh_channel_data` events.  A peer script that misbehaves first
waits for b"go" from the client, so the client has finished its exec
request before the interesting bytes arrive.
"""
from __future__ import annotations

import hashlib
import os
import resource
import socket
import struct
import threading
import time

import pytest

import sshclient
from peer import ExecSpec, HostilePeer, PeerChannel, Session
from sshclient import SSHClient
from sshclient.errors import SSHClientError

MiB = 1 << 20
USER, PASSWORD = "tester", "secret"
SUITES = [("aes128-ctr", "hmac-sha2-256"), ("aes256-ctr", "hmac-sha2-512-etm@openssh.com"),
          ("aes128-gcm@openssh.com", "hmac-sha2-256"),
          ("chacha20-poly1305@openssh.com", "hmac-sha2-256")]
SUITE_IDS = ["ctr-hmac", "ctr-etm", "gcm", "chacha"]

# SSH message numbers, written out for the peer's raw packets
IGNORE, SERVICE_ACCEPT, GLOBAL_REQUEST = 2, 6, 80
WINDOW_ADJUST, DATA, EXTENDED_DATA, EOF, CLOSE, REQUEST, SUCCESS = 93, 94, 95, 96, 97, 98, 99


def u32(n: int) -> bytes:
    return struct.pack(">I", n)


def sshstr(data: bytes) -> bytes:
    return u32(len(data)) + data


def pattern(size: int, seed: bytes = b"peer") -> bytes:
    """Deterministic, incompressible test data."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha512(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


# ------------------------------------------------------------------------------ harness
def connect(peer: HostilePeer, **kw) -> sshclient.SSHConnection:
    kw.setdefault("timeout", 10)
    kw.setdefault("password", PASSWORD)
    return sshclient.connect(peer.host, peer.port, username=kw.pop("username", USER),
                             accept_any_host_key=True, **kw)


def start(conn: sshclient.SSHConnection, command: str = "run"):
    """Open a session, exec, and tell the peer to go on."""
    ch = conn.open_session()
    ch.exec(command)
    ch.write(b"go")
    return ch


def go(s: Session, ch: PeerChannel) -> None:
    """Peer side of start(): wait until the client's exec request is complete."""
    s.wait_for(lambda: bool(ch.received))


def assert_delivered(got: bytes, sent: bytes) -> None:
    """The application got exactly the bytes sent before the fault."""
    assert len(got) == len(sent) and got == sent, \
        f"{len(got)} of the {len(sent)} bytes sent before the fault reached the application"


def read_until_error(ch) -> tuple[bytes, SSHClientError]:
    """What an application gets from read() in a loop, and the error that ends it."""
    got = bytearray()
    try:
        while True:
            chunk = ch.read()
            if not chunk:
                raise AssertionError(f"clean EOF after {len(got)} bytes, expected an error")
            got += chunk
    except SSHClientError as exc:
        return bytes(got), exc


class SpecRecorder:
    def __init__(self, client: SSHClient) -> None:
        self.data = bytearray()
        self.disconnected: list[tuple[int, str]] = []
        self.prompts: list[tuple[str, bool]] = []
        client.on_ssh_channel_data = lambda e: self.data.extend(e.channel_data)
        client.on_disconnected = lambda e: self.disconnected.append(
            (e.status_code, e.description))


def spec_client(**props) -> tuple[SSHClient, SpecRecorder]:
    client = SSHClient()
    client.ssh_user = USER
    client.ssh_password = PASSWORD
    client.timeout = 10
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    for name, value in props.items():
        setattr(client, name, value)
    return client, SpecRecorder(client)


def spec_run(client: SSHClient, peer: HostilePeer, until=lambda: False) -> int | None:
    """Log on, exec, say go, pump events until disconnected (or until());
    the code of a raised error."""
    try:
        client.ssh_logon(peer.host, peer.port)
        ch = client.open_channel("session")
        client.start_service(ch, "exec", "run")
        client.send_channel_data(ch, b"go")
        deadline = time.monotonic() + 20
        while client.connected and not until() and time.monotonic() < deadline:
            client.do_events()
    except SSHClientError as exc:
        return exc.code
    return None


def assert_client_left(peer: HostilePeer, reason: int | None = None) -> Session:
    """The client sent DISCONNECT (with `reason`) and closed the TCP connection."""
    s = peer.finished()
    assert s.client_disconnect is not None, \
        f"the client did not send DISCONNECT (peer got {s.received_types}, error {s.error!r})"
    if reason is not None:
        assert s.client_disconnect[0] == reason, s.client_disconnect
    assert s.client_closed, "the client did not close the connection"
    return s


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssProbe:
    """Growth of this process's resident memory while the block runs (sampled every
    2 ms, and the ru_maxrss high-water mark)."""

    def __enter__(self) -> RssProbe:
        self.start = self.peak = _rss()
        self._maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self.growth = max(self.peak - self.start, maxrss - self._maxrss)


# ------------------------------------------------------------------- the peer itself
def test_peer_serves_a_normal_session(make_peer):
    peer = make_peer(auth_banner="welcome\n", commands={
        "hello": ExecSpec(stdout=b"out\n", stderr=b"err\n", exit_status=3)})
    with connect(peer) as conn:
        with conn.open_session() as ch:
            ch.exec("hello")
            assert ch.read_all() == b"out\n"
            assert ch.read_stderr() == b"err\n"
            assert ch.wait_closed() == 3
        assert conn.negotiated.strict_kex
    s = assert_client_left(peer, reason=11)
    assert ("password", PASSWORD) in s.auth_log
    assert s.client_version.startswith(b"SSH-2.0-")


def _close_first_channel_at_once(s: Session, ch: PeerChannel) -> None:
    """What dropbear before 2024.85 can do (its bug #321): close a fresh
    session channel before any exec arrives."""
    if len(s.channels) == 1:
        s.send_eof(ch)
        s.send_close(ch)


@pytest.mark.parametrize("front_end", ["blocking", "aio"])
def test_channel_closed_by_the_server_before_exec_is_named_so(make_peer, front_end):
    """The exec fails with 1022 "closed by the server", whichever side of the
    open confirmation the close arrives on; the connection stays usable."""
    peer = make_peer(script={"open": _close_first_channel_at_once},
                     commands={"hello": ExecSpec(stdout=b"out\n")})
    if front_end == "blocking":
        with connect(peer) as conn:
            with conn.open_session() as ch:
                with pytest.raises(sshclient.ChannelError) as excinfo:
                    ch.exec("hello")
            with conn.open_session() as ch:
                ch.exec("hello")
                assert ch.read_all() == b"out\n"
    else:
        from sshclient import aio

        async def main() -> pytest.ExceptionInfo[sshclient.ChannelError]:
            async with aio.connect(peer.host, peer.port, username=USER, password=PASSWORD,
                                   accept_any_host_key=True, timeout=10) as conn:
                async with await conn.open_session() as ch:
                    with pytest.raises(sshclient.ChannelError) as info:
                        await ch.exec("hello")
                async with await conn.open_session() as ch:
                    await ch.exec("hello")
                    assert await ch.read_all() == b"out\n"
            return info
        excinfo = aio.run(main())
    assert excinfo.value.code == 1022
    assert "closed" in str(excinfo.value) and "server" in str(excinfo.value)


# --------------------------------------------------------------------- version line
def _send_then_close(data: bytes):
    def script(s: Session) -> None:
        s.send_raw(data)
        s.close()
    return script


def _send_then_wait(data: bytes):
    def script(s: Session) -> None:
        s.send_raw(data)
    return script


@pytest.mark.parametrize("script", [
    {"version": _send_then_close(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")},
    {"version": _send_then_wait(b"\x00\xff garbage " * 2000)},  # one endless line
    {"version": _send_then_wait(b"not a version line\r\n" * 2000)},
    # the same limits when a whole line arrives in one read
    {"version": _send_then_wait(b"SSH-2.0-" + b"x" * 20000 + b"\r\n")},
    {"version": _send_then_wait(b"y" * 60000 + b"\r\nSSH-2.0-Peer\r\n")},
], ids=["http-then-close", "line-too-long", "too-many-lines", "version-line-too-long-whole",
        "pre-version-line-too-long-whole"])
def test_garbage_instead_of_version_1002(make_peer, script):
    peer = make_peer(script=script)
    with pytest.raises(SSHClientError) as info:
        connect(peer, timeout=5)
    assert info.value.code == 1002, info.value


@pytest.mark.parametrize("version", [b"SSH-1.5-OldServer", b"SSH-garbage", b"SSH-3.0-Future"])
def test_version_not_matching_pattern_1002(make_peer, version):
    peer = make_peer(version=version)
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1002
    assert version.decode() in str(info.value)


def test_ssh_version_pattern_setting_1002(make_peer):
    peer = make_peer(banner_lines=[b"Welcome to the peer", b"(lines before the version)"])
    client, rec = spec_client()
    client.ssh_logon(peer.host, peer.port)  # banner lines are fine
    assert client.config("ServerSSHVersionString") == "SSH-2.0-HostilePeer_1.0"
    client.ssh_logoff()
    client, rec = spec_client()
    client.config("SSHVersionPattern=*SSH-2.0-OpenSSH*")
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(peer.host, peer.port)
    assert info.value.code == 1002
    assert rec.disconnected and rec.disconnected[-1][0] == 1002
    assert not client.connected


# ------------------------------------------------------------------------ key exchange
@pytest.mark.parametrize("field", ["kex", "host_key_algorithms", "ciphers", "macs"])
def test_no_common_algorithm_1003(make_peer, field):
    peer = make_peer(**{field: ["nonsense@hostile.example"]})
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1003
    assert "nonsense@hostile.example" in str(info.value)
    assert_client_left(peer)


def test_bad_host_key_signature_1031(make_peer):
    peer = make_peer(bad_signature=True)
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1031
    assert_client_left(peer)


@pytest.mark.parametrize("strict", [True, False])
def test_ignore_before_kexinit_breaks_strict_kex(make_peer, strict):
    ignore = bytes([IGNORE]) + sshstr(b"Terrapin was here")
    peer = make_peer(strict_kex=strict, script={"before_kexinit": lambda s: s.send(ignore)})
    if not strict:
        with connect(peer) as conn:
            assert not conn.negotiated.strict_kex
        return
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1036
    assert_client_left(peer, reason=2)


@pytest.mark.parametrize("strict", [True, False])
def test_ignore_during_initial_kex_breaks_strict_kex(make_peer, strict):
    ignore = bytes([IGNORE]) + sshstr(b"")
    peer = make_peer(strict_kex=strict, script={"kex": lambda s: s.send(ignore)})
    if not strict:
        with connect(peer) as conn:
            assert not conn.negotiated.strict_kex
        return
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1036
    assert_client_left(peer, reason=2)


def test_strict_kex_without_sequence_reset_is_a_mac_error(make_peer):
    peer = make_peer(reset_sequence=False, allow_errors=True)
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1015


def _rekey_with_intruder(intruder):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"before the re-exchange")
        s.rekey(between=lambda s: s.send(intruder(ch)))
    return script


@pytest.mark.parametrize("intruder", [
    lambda ch: bytes([DATA]) + u32(ch.remote_id) + sshstr(b"sneaky"),
    lambda ch: bytes([EOF]) + u32(ch.remote_id),
    lambda ch: bytes([GLOBAL_REQUEST]) + sshstr(b"keepalive@openssh.com") + b"\x01",
    lambda ch: bytes([SERVICE_ACCEPT]) + sshstr(b"ssh-userauth"),
], ids=["channel-data", "channel-eof", "global-request", "service-accept"])
def test_non_kex_message_in_key_reexchange_1036(make_peer, intruder):
    peer = make_peer(script={"exec": _rekey_with_intruder(intruder)})
    with connect(peer) as conn:
        _, err = read_until_error(start(conn))
    assert err.code == 1036, err
    assert_client_left(peer, reason=2)


def test_non_kex_message_in_initial_kex_1036(make_peer):
    accept = bytes([SERVICE_ACCEPT]) + sshstr(b"ssh-userauth")
    peer = make_peer(strict_kex=False, script={"kex": lambda s: s.send(accept)})
    with pytest.raises(SSHClientError) as info:
        connect(peer)
    assert info.value.code == 1036
    assert_client_left(peer, reason=2)


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_server_rekey_in_the_middle_of_a_download(make_peer, suite):
    data = pattern(4 * MiB, suite[0].encode())

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        for i in range(4):
            s.send_data(ch, data[i * MiB:(i + 1) * MiB])
            s.rekey()
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(ciphers=[suite[0]], macs=[suite[1]], script={"exec": script})
    with connect(peer) as conn:
        with conn.open_session() as ch:
            ch.exec("download")
            digest = hashlib.sha256()
            total = ch.drain(lambda view: digest.update(view))
            assert ch.wait_closed() == 0
        assert conn._proto.transport.kex_count == 5
    assert total == len(data)
    assert digest.digest() == hashlib.sha256(data).digest()
    assert peer.finished().kex_count == 5


# ------------------------------------------------------------------- packet framing
def _corrupt_after(part: bytes):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        with s.held():  # the good data and the bad packet in one burst
            s.send_data(ch, part)
            s.send_bad_mac(bytes([DATA]) + u32(ch.remote_id) + sshstr(b"never seen"))
    return script


@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_bad_mac_in_the_middle_of_channel_data_1015(make_peer, suite):
    part = pattern(100_000)
    peer = make_peer(ciphers=[suite[0]], macs=[suite[1]], script={"exec": _corrupt_after(part)})
    with connect(peer) as conn:
        got, err = read_until_error(start(conn))
    assert err.code == 1015, err
    assert_delivered(got, part)
    assert_client_left(peer, reason=5)  # SSH_DISCONNECT_MAC_ERROR


def _bad_compressed_after(part: bytes, kind: str):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        with s.held():  # the good data and the bad packet in one burst
            s.send_data(ch, part)
            if kind == "bomb":  # 8 MiB of zeros: ~8 KiB on the wire, inflates past 256 KiB
                s.send(bytes([DATA]) + u32(ch.remote_id) + sshstr(bytes(8 * MiB)))
            else:  # not a continuation of the zlib stream
                s.send_uncompressed(bytes([DATA]) + u32(ch.remote_id) + sshstr(b"raw"))
    return script


@pytest.mark.parametrize("kind", ["bomb", "corrupt"])
@pytest.mark.parametrize("name", ["zlib", "zlib@openssh.com"])
def test_bad_compressed_data_1016(make_peer, name, kind):
    """A zlib bomb or bytes that do not inflate: error 1016, DISCONNECT with
    COMPRESSION_ERROR (6), the data before it delivered, memory bounded."""
    part = pattern(100_000)
    peer = make_peer(compression=[name], script={"exec": _bad_compressed_after(part, kind)})
    with RssProbe() as rss:
        with connect(peer, compression=[name]) as conn:
            assert conn._proto.engine.incoming_compression
            got, exc = read_until_error(start(conn))
    assert exc.code == 1016
    assert_delivered(got, part)
    assert_client_left(peer, reason=6)
    assert rss.growth < 32 * MiB


def test_zlib_bomb_spec_api_1016(make_peer):
    part = pattern(100_000)
    peer = make_peer(compression=["zlib"], script={"exec": _bad_compressed_after(part, "bomb")})
    client, rec = spec_client(ssh_compression_algorithms="zlib,none")
    spec_run(client, peer)
    assert rec.disconnected and rec.disconnected[-1][0] == 1016
    assert_delivered(bytes(rec.data), part)
    assert not client.connected
    assert_client_left(peer, reason=6)


def test_bad_mac_spec_api_1015(make_peer):
    part = pattern(100_000)
    peer = make_peer(script={"exec": _corrupt_after(part)})
    client, rec = spec_client()
    spec_run(client, peer)
    assert rec.disconnected and rec.disconnected[-1][0] == 1015
    assert_delivered(bytes(rec.data), part)
    assert not client.connected
    assert_client_left(peer, reason=5)


@pytest.mark.parametrize("length", [1 << 31, 0xFFFFFFFF, 3])
@pytest.mark.parametrize("suite", SUITES, ids=SUITE_IDS)
def test_absurd_packet_length_1036(make_peer, suite, length):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"fine so far")
        s.send_length(length, extra=os.urandom(4096))

    peer = make_peer(ciphers=[suite[0]], macs=[suite[1]], script={"exec": script})
    with RssProbe() as probe:
        t0 = time.monotonic()
        with connect(peer) as conn:
            _, err = read_until_error(start(conn))
        elapsed = time.monotonic() - t0
    assert err.code == 1036, err
    assert elapsed < 5, "the client waited for the rest of the packet"
    assert probe.growth < 50 * MiB, f"memory grew by {probe.growth / MiB:.0f} MiB"
    assert_client_left(peer, reason=2)


# ------------------------------------------------------------------------- channels
@pytest.mark.parametrize("window", [None, 65536])
def test_channel_data_beyond_the_window_1022(make_peer, window):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"x" * (ch.remote_window + 1), respect_window=False)

    peer = make_peer(script={"exec": script})
    options = {"window_size": window} if window else {}
    with connect(peer, **options) as conn:
        ch = start(conn)
        with pytest.raises(SSHClientError) as info:
            ch.wait_closed()  # pumps without reading: no WINDOW_ADJUST goes out
    assert info.value.code == 1022, info.value
    s = assert_client_left(peer, reason=2)
    assert s.channels[100].sent == (window or 2 * MiB) + 1


def test_channel_data_after_eof_1022(make_peer):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"last words")
        s.send_eof(ch)
        s.send_data(ch, b"words after the last")

    peer = make_peer(script={"exec": script})
    with connect(peer, timeout=3) as conn:
        ch = start(conn)
        with pytest.raises(SSHClientError) as info:
            ch.wait_closed()
    assert info.value.code == 1022, info.value
    assert_client_left(peer, reason=2)


def _unknown_extended_data(ext_bytes: int, respect_window: bool = True):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"before ")
        s.send_data(ch, b"z" * ext_bytes, ext=2, respect_window=respect_window)
        s.send_data(ch, b"after")
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)
    return script


def test_extended_data_of_unknown_type_gives_its_window_back(make_peer):
    """Data type 2 is dropped, but it used window (RFC 4254 §5.2): the client
    must advertise it again or the server stalls for good."""
    script = _unknown_extended_data(3 * MiB)
    peer = make_peer(script={"exec": script})
    with connect(peer, timeout=5) as conn:
        ch = start(conn)
        assert ch.read_all() == b"before after"
        assert ch.wait_closed() == 0
    peer = make_peer(script={"exec": script})
    client, rec = spec_client(timeout=5)
    assert spec_run(client, peer, until=lambda: rec.data.endswith(b"after")) is None
    assert bytes(rec.data) == b"before after"
    client.ssh_logoff()


def test_extended_data_of_unknown_type_beyond_the_window_1022(make_peer):
    peer = make_peer(script={"exec": _unknown_extended_data(8193, respect_window=False)})
    with connect(peer, window_size=8192) as conn:  # one packet (the peer's max 32 KiB)
        got, err = read_until_error(start(conn))
    assert err.code == 1022, err
    assert got == b"before "
    assert_client_left(peer, reason=2)


@pytest.mark.parametrize("message", [
    bytes([DATA]) + u32(4711) + sshstr(b"data"),
    bytes([EXTENDED_DATA]) + u32(4711) + u32(1) + sshstr(b"stderr"),
    bytes([WINDOW_ADJUST]) + u32(4711) + u32(1000),
    bytes([EOF]) + u32(4711),
    bytes([CLOSE]) + u32(4711),
    bytes([REQUEST]) + u32(4711) + sshstr(b"exit-status") + b"\x00" + u32(0),
    bytes([SUCCESS]) + u32(4711),
], ids=["data", "extended-data", "window-adjust", "eof", "close", "request", "success"])
def test_message_for_unknown_channel_1021(make_peer, message):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"ok")
        s.send(message)

    peer = make_peer(script={"exec": script})
    with connect(peer) as conn:
        _, err = read_until_error(start(conn))
    assert err.code == 1021, err
    assert_client_left(peer, reason=2)


# ------------------------------------------------------------ the server goes away
def _data_then(part: bytes, ending):
    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        with s.held():
            s.send_data(ch, part)
            ending(s)
    return script


def _disconnect(s: Session) -> None:
    s.disconnect(11, "maintenance shutdown")


def test_server_disconnect_mid_transfer_1001(make_peer):
    part = pattern(300_000)
    peer = make_peer(script={"exec": _data_then(part, _disconnect)})
    with connect(peer) as conn:
        got, err = read_until_error(start(conn))
    assert err.code == 1001, err
    assert "maintenance shutdown" in str(err)
    # the server went away: a ConnectionError, as a reset would be
    assert isinstance(err, sshclient.DisconnectedError) and isinstance(err, ConnectionError)
    assert_delivered(got, part)


def test_server_disconnect_mid_transfer_spec_api_1001(make_peer):
    part = pattern(300_000)
    peer = make_peer(script={"exec": _data_then(part, _disconnect)})
    client, rec = spec_client()
    spec_run(client, peer)
    assert rec.disconnected and rec.disconnected[-1][0] == 1001
    assert "maintenance shutdown" in rec.disconnected[-1][1]
    assert_delivered(bytes(rec.data), part)
    assert not client.connected


DISCONNECT = 1


@pytest.mark.parametrize("message, shown", [
    (u32(11) + sshstr("Wartung läuft".encode("latin-1")) + sshstr(b""), "Wartung l\ufffduft"),
    (u32(11) + u32(50) + b"cut off", "malformed"),
    (b"", "malformed"),
], ids=["latin-1-description", "truncated-description", "no-reason"])
def test_malformed_disconnect_is_still_a_disconnect_1001(make_peer, message, shown):
    """The server has left whatever its DISCONNECT looks like: 1001, not a protocol
    error of ours (and no DISCONNECT sent back)."""
    def ending(s: Session) -> None:
        s.send(bytes([DISCONNECT]) + message)
        s.close()

    part = pattern(100_000)
    peer = make_peer(script={"exec": _data_then(part, ending)})
    with connect(peer) as conn:
        got, err = read_until_error(start(conn))
    assert err.code == 1001, err
    assert shown in str(err)
    assert_delivered(got, part)
    assert peer.finished().client_disconnect is None
    peer = make_peer(script={"exec": _data_then(part, ending)})
    client, rec = spec_client()
    spec_run(client, peer)
    assert rec.disconnected and rec.disconnected[-1][0] == 1001
    assert_delivered(bytes(rec.data), part)


def test_tcp_close_mid_stream_1001(make_peer):
    part = pattern(300_000)
    peer = make_peer(script={"exec": _data_then(part, lambda s: s.close())})
    with connect(peer) as conn:
        got, err = read_until_error(start(conn))
    assert err.code == 1001, err
    assert_delivered(got, part)


def test_tcp_close_mid_stream_spec_api_1001(make_peer):
    part = pattern(300_000)
    peer = make_peer(script={"exec": _data_then(part, lambda s: s.close())})
    client, rec = spec_client()
    spec_run(client, peer)
    assert rec.disconnected and rec.disconnected[-1][0] == 1001
    assert_delivered(bytes(rec.data), part)


def test_server_stops_answering_times_out_301(make_peer):
    peer = make_peer(script={"exec": _data_then(b"half an answer", lambda s: s.hang())})
    with connect(peer, timeout=1) as conn:
        ch = start(conn)
        t0 = time.monotonic()
        got, err = read_until_error(ch)
        assert err.code == 301, err
        assert 0.8 < time.monotonic() - t0 < 5
    assert got == b"half an answer"


# ------------------------------------------------------------------- authentication
def test_wrong_password_1032(make_peer):
    peer = make_peer()
    with pytest.raises(SSHClientError) as info:
        connect(peer, password="not-it")
    assert info.value.code == 1032
    client, rec = spec_client(ssh_password="not-it")
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(peer.host, peer.port)
    assert info.value.code == 1032
    assert rec.disconnected[-1][0] == 1032


@pytest.mark.parametrize("allowed", [True, False])
def test_none_auth_mode_0(make_peer, allowed):
    peer = make_peer(allow_none=allowed)
    client, rec = spec_client(ssh_auth_mode=0, ssh_password="")
    if not allowed:
        with pytest.raises(SSHClientError) as info:
            client.ssh_logon(peer.host, peer.port)
        assert info.value.code == 1032
        return
    client.ssh_logon(peer.host, peer.port)
    assert client.connected
    client.ssh_logoff()
    assert peer.finished().auth_log == [("none",)]


def test_password_change_request_1032(make_peer):
    peer = make_peer(password_change=True)
    client, rec = spec_client()
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(peer.host, peer.port)
    assert info.value.code == 1032
    assert "password change" in str(info.value).lower()
    assert not client.connected


def _kbd_client(answers: dict[str, str]) -> tuple[SSHClient, SpecRecorder]:
    client, rec = spec_client(ssh_auth_mode=4, ssh_password="")

    def on_kbd(e) -> None:
        rec.prompts.append((e.prompt, e.echo_response))
        e.response = answers.get(e.prompt, "")

    client.on_ssh_keyboard_interactive = on_kbd
    return client, rec


KBD_ANSWERS = {"Password: ": PASSWORD, "Token: ": "123456", "PIN: ": "0000"}


@pytest.mark.parametrize("rounds", [
    [[("Password: ", False), ("Token: ", True), ("PIN: ", False)]],
    [[("Password: ", False), ("Token: ", True)], [("PIN: ", False)]],
    [[], [("Password: ", False)]],
    [[("Token: ", True)], [], [("PIN: ", False), ("Password: ", False)]],
], ids=["three-prompts", "two-rounds", "zero-prompts-first", "three-rounds"])
def test_keyboard_interactive(make_peer, rounds):
    expected = [[KBD_ANSWERS[p] for p, _ in prompts] for prompts in rounds]
    peer = make_peer(auth=["keyboard-interactive"], kbd_rounds=rounds, kbd_answers=expected)
    client, rec = _kbd_client(KBD_ANSWERS)
    client.ssh_logon(peer.host, peer.port)
    assert client.connected
    assert rec.prompts == [prompt for prompts in rounds for prompt in prompts]
    client.ssh_logoff()
    assert peer.finished().auth_log[-1] == ("keyboard-interactive", expected)


def test_keyboard_interactive_wrong_answer_1032(make_peer):
    rounds = [[("Password: ", False), ("Token: ", True)]]
    peer = make_peer(auth=["keyboard-interactive"], kbd_rounds=rounds,
                     kbd_answers=[[PASSWORD, "123456"]])
    client, rec = _kbd_client({"Password: ": PASSWORD, "Token: ": "654321"})
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(peer.host, peer.port)
    assert info.value.code == 1032


def test_partial_success_password_then_keyboard_interactive(make_peer):
    rounds = [[("Token: ", True)]]
    peer = make_peer(auth=["password", "keyboard-interactive"], kbd_rounds=rounds,
                     kbd_answers=[["123456"]])
    client, rec = _kbd_client(KBD_ANSWERS)
    client.ssh_auth_mode = 2  # password first; the partial success asks for more
    client.ssh_password = PASSWORD
    client.ssh_logon(peer.host, peer.port)
    assert client.connected
    client.ssh_logoff()
    assert peer.finished().auth_log[1:] == [("password", PASSWORD),
                                            ("keyboard-interactive", [["123456"]])]


# --------------------------------------------------------------- rare but legal
LATIN1 = "Willkommen auf dem Rechner für Übungen\n".encode("latin-1")


def test_banner_and_debug_text_not_in_utf8_are_shown_not_fatal(make_peer):
    """sshd sends its Banner file as it is, often Latin-1; DEBUG text is only shown.
    Neither may cost the connection."""
    banner = bytes([53]) + sshstr(LATIN1) + sshstr(b"")
    debug = bytes([4, 1]) + sshstr(LATIN1) + sshstr(b"")

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        s.send(debug)
        s.send_data(ch, b"still here")
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(script={"auth": lambda s: s.send(banner), "exec": script})
    with connect(peer) as conn:
        with conn.open_session() as ch:
            ch.exec("run")
            assert ch.read_all() == b"still here"
    peer = make_peer(script={"auth": lambda s: s.send(banner)})
    client, rec = spec_client()
    statuses: list[str] = []
    client.on_ssh_status = lambda e: statuses.append(e.message)
    client.ssh_logon(peer.host, peer.port)
    assert client.connected
    assert any("Willkommen auf dem Rechner f\ufffdr" in text for text in statuses), statuses
    client.ssh_logoff()


@pytest.mark.parametrize("msg_type", [15, 101, 200, 255])
def test_unimplemented_message_is_answered(make_peer, msg_type):
    sent_seq: list[int] = []

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        sent_seq.append(s.send(bytes([msg_type]) + b"from the future"))
        s.send_data(ch, b"still here")
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(script={"exec": script})
    with connect(peer) as conn:
        ch = start(conn)
        assert ch.read_all() == b"still here"
        assert ch.wait_closed() == 0
    assert peer.finished().unimplemented == sent_seq


def test_server_global_request_is_refused_politely(make_peer):
    answers: list[bool] = []

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        answers.append(s.global_request("keepalive@openssh.com"))
        s.send_data(ch, b"done")
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(script={"exec": script})
    with connect(peer) as conn:
        with conn.open_session() as ch:
            ch.exec("run")
            assert ch.read_all() == b"done"
    assert answers == [False]


def test_server_opened_channel(make_peer):
    extra = sshstr(b"127.0.0.1") + u32(8080) + sshstr(b"10.0.0.1") + u32(5555)
    opened: list[PeerChannel] = []

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        fwd = s.open_channel("forwarded-tcpip", extra)
        opened.append(fwd)
        if fwd.confirmed:
            s.send_data(fwd, b"forwarded hello")
            s.send_eof(fwd)
            s.send_close(fwd)
        s.send_data(ch, b"session data")
        s.send_close(ch)

    peer = make_peer(script={"exec": script})
    with connect(peer) as conn:  # the blocking API refuses server-opened channels
        with conn.open_session() as ch:
            ch.exec("run")
            assert ch.read_all() == b"session data"
    assert opened[0].failure == 1

    peer = make_peer(script={"exec": script})
    client, rec = spec_client()
    requests = []

    def on_open(e) -> None:
        requests.append((e.service, e.parameters))
        e.accept = True

    client.on_ssh_channel_open_request = on_open
    spec_run(client, peer, until=lambda: rec.data.endswith(b"session data"))
    assert requests and requests[0][0] == "forwarded-tcpip"
    assert opened[1].confirmed
    assert bytes(rec.data) == b"forwarded hello" + b"session data"


def test_direct_tcpip_accepted_and_refused(make_peer):
    peer = make_peer()
    with connect(peer) as conn:
        with conn.open_tcpip("example.invalid", 80) as ch:
            ch.write(b"echo me")
            ch.send_eof()
            assert ch.read_all() == b"echo me"
    peer = make_peer(direct_tcpip=False)
    with connect(peer) as conn:
        with pytest.raises(SSHClientError) as info:
            conn.open_tcpip("example.invalid", 80)
    assert info.value.code == 1020


def test_exec_answered_and_closed_before_the_clients_eof(make_peer):
    """A fast command: reply, output, exit status and CLOSE arrive in one burst."""
    peer = make_peer(commands={"true": ExecSpec(stdout=b"fast\n", exit_status=0)})
    with connect(peer) as conn:
        result = conn.exec("true")
    assert (result.stdout, result.exit_status) == (b"fast\n", 0)


# ------------------------------------------------------------------------- memory
def test_slow_consumer_is_held_back_by_the_window(make_peer):
    total = 64 * MiB
    block = pattern(MiB, b"slow")

    def flood(s: Session, ch: PeerChannel, command: str) -> None:
        for _ in range(total // MiB):
            s.send_data(ch, block)
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(script={"exec": flood})
    with connect(peer) as conn:
        ch = conn.open_session()
        ch.exec("flood")
        peer_channel = peer.session().channels[100]
        with RssProbe() as probe:
            conn.timeout = 1.0
            with pytest.raises(SSHClientError) as info:
                ch.wait_closed()  # the client runs, the application reads nothing
            assert info.value.code == 301
            stalled = peer_channel.sent
            time.sleep(0.3)
            assert peer_channel.sent == stalled
            assert MiB <= stalled <= 2 * MiB, f"the peer could send {stalled} bytes"
            conn.timeout = 20
            digest = hashlib.sha256()
            got = ch.drain(lambda view: digest.update(view))
            assert ch.wait_closed() == 0
    assert got == total
    assert digest.digest() == hashlib.sha256(block * (total // MiB)).digest()
    assert probe.growth < 50 * MiB, f"memory grew by {probe.growth / MiB:.0f} MiB"


def test_a_window_of_4_gib_does_not_seal_a_whole_write_into_memory(make_peer):
    # The peer advertises the largest window there is and never reads: the
    # write used to be sealed whole into the output buffer (64 MiB here, up
    # to 4 GiB); it now waits once 8 MiB are queued, and times out cleanly.
    def hang(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.hang()

    peer = make_peer(allow_errors=True, window=0xFFFFFFFF, script={"exec": hang})
    with connect(peer) as conn:
        ch = start(conn)
        conn.timeout = 1.0
        with pytest.raises(SSHClientError) as info:
            ch.write(bytes(64 * MiB))
        assert info.value.code == 301
        assert conn._proto.engine.output_size() <= 8 * MiB + 64 * 1024


def test_a_server_that_never_reads_is_held_back_not_fed_our_memory(make_peer):
    # A flood of requests wanting a reply from a server that reads nothing:
    # the replies used to queue without bound (about 55 bytes each, 66 MiB
    # per million requests). Past the pause mark the client stops reading
    # (TCP holds the server back), so memory stays bounded and nothing is
    # fatal: the application's own timeout ends the wait.
    request = bytes([GLOBAL_REQUEST]) + sshstr(b"flood@example.com") + b"\x01"

    def flood(s: Session, ch: PeerChannel, command: str) -> None:
        go(s, ch)
        s.send_data(ch, b"before")
        with s.held():
            for _ in range(60000):
                s.send(request)
        s.hang()

    peer = make_peer(allow_errors=True, script={"exec": flood})
    with connect(peer, timeout=3) as conn:
        conn._driver.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        conn._proto.input_pause_output = 256 * 1024
        ch = start(conn)
        got, err = read_until_error(ch)
        assert err.code == 301, err
        # one receive buffer of requests processed past the mark, no more
        assert 256 * 1024 <= conn._proto.engine.output_size() < 4 * MiB
    assert got == b"before"


# ------------------------------------------------------------------- keep-alives
def test_keepalive_limit_1039(make_peer):
    """A server that stops answering: after SSHKeepAliveCountMax unanswered
    keepalive@openssh.com requests the client gives up with 1039."""
    peer = make_peer(allow_errors=True,
                     script={"exec": _data_then(b"still here", lambda s: s.hang())})
    client, rec = spec_client(timeout=30)
    client.config("SSHKeepAliveInterval=1")
    client.config("SSHKeepAliveCountMax=2")
    errors = []
    client.on_error = lambda e: errors.append((e.error_code, e.description))
    assert spec_run(client, peer) is None  # do_events reports through on_error
    assert errors and errors[0][0] == 1039, errors
    assert rec.disconnected and rec.disconnected[-1][0] == 1039
    assert bytes(rec.data) == b"still here"
    assert not client.connected

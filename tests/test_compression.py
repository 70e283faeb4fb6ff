"""SSH compression (RFC 4253 §6.2): "zlib" and OpenSSH's delayed
"zlib@openssh.com", in the core, against the scripted peer (whose zlib is
Python's own module, not sshcore's) and against real sshd and dropbear.

Neither local server offers plain "zlib" (OpenSSH 9.2 with `Compression yes`
and dropbear 2022.83 offer only zlib@openssh.com), so "zlib" is tested
against the peer.
"""
from __future__ import annotations

import hashlib
import os
import zlib

import pytest

import sshclient
from peer import HostilePeer, PeerChannel, Session
from sshclient import SSHClient, algorithms
from sshclient.errors import SSHClientError
from sshcore.packet import PacketEngine, ProtocolError, compression_available
from test_hostile_peer import pattern

pytestmark = pytest.mark.skipif(not compression_available(), reason="libz not resolved")

MiB = 1 << 20
USER, PASSWORD = "tester", "secret"
BOTH = ["zlib", "zlib@openssh.com"]


def incompressible(size: int, seed: bytes = b"z") -> bytes:
    return pattern(size, seed)


def compressible(size: int) -> bytes:
    line = b"".join(b"line %08d of a very repetitive log file\n" % i for i in range(1000))
    return (line * (size // len(line) + 1))[:size]


# ------------------------------------------------------------------------ the core
def _pair() -> tuple[PacketEngine, PacketEngine]:
    a, b = PacketEngine(), PacketEngine()
    a.set_outgoing_compression(True)
    b.set_incoming_compression(True)
    return a, b


def test_engine_round_trip_keeps_one_stream_across_packets():
    a, b = _pair()
    payloads = [b"\x05" + b"hello " * 2000, b"\x32" + os.urandom(200_000),
                b"\x02" + bytes(256 * 1024), b"\x07", b"\x05" + b"hello " * 2000]
    for p in payloads:
        a.send_packet(p)
    b.feed(a.take_output())
    for p in payloads:
        assert b.next_packet() == (p[0], p)
    plain_out, wire_out = a.compression_counters[2:]
    assert plain_out == sum(map(len, payloads))
    assert b.compression_counters == (wire_out, plain_out, 0, 0)
    # the repeated payload compressed against the history: far smaller the second time
    assert wire_out < 200_000 + 2_000


def test_engine_output_is_plain_zlib_with_a_flush_per_packet():
    """Each packet inflates on its own with Python's zlib (the peer's view)."""
    a = PacketEngine()
    a.set_outgoing_compression(True)
    plain = PacketEngine()
    inflate = zlib.decompressobj()
    for p in (b"\x05abc", b"\x5e" + incompressible(100_000), b"\x05abc"):
        a.send_packet(p)
        plain.feed(a.take_output())
        _t, wire = plain.next_packet()
        assert inflate.decompress(wire) == p


def test_engine_inflates_python_zlib():
    deflate = zlib.compressobj(9)
    sender, b = PacketEngine(), PacketEngine()
    b.set_incoming_compression(True)
    payloads = [b"\x05" + compressible(70_000), b"\x14" + incompressible(5000)]
    for p in payloads:
        sender.send_packet(deflate.compress(p) + deflate.flush(zlib.Z_SYNC_FLUSH))
    b.feed(sender.take_output())
    assert [b.next_packet() for _ in payloads] == [(p[0], p) for p in payloads]


def test_engine_restarts_the_stream_when_turned_on_again():
    """What NEWKEYS does: a fresh context (RFC 4253 §6.2, OpenSSH)."""
    a, b = _pair()
    a.send_packet(b"\x05first")
    b.feed(a.take_output())
    assert b.next_packet() == (5, b"\x05first")
    a.set_outgoing_compression(True)
    a.send_packet(b"\x05second")
    wire = a.take_output()
    fresh = PacketEngine()
    fresh.set_incoming_compression(True)
    fresh.feed(wire)
    assert fresh.next_packet() == (5, b"\x05second")
    a.set_outgoing_compression(False)
    assert not a.outgoing_compression
    a.send_packet(b"\x05plain")
    plain = PacketEngine()
    plain.feed(a.take_output())
    assert plain.next_packet() == (5, b"\x05plain")


def _engine_with_channel(remote_id: int):
    """A PacketEngine with channel 1 open (4 MiB windows, 32 KiB packets)."""
    from sshcore.channels import ChannelTable
    table = ChannelTable()
    engine = PacketEngine(table)
    table.add(1, 4 * MiB, 32768)
    table.confirm(1, remote_id, 4 * MiB, 32768)
    return table, engine


def test_engine_routes_inflated_channel_data():
    table, b = _engine_with_channel(remote_id=7)
    b.set_incoming_compression(True)
    deflate = zlib.compressobj()
    sender = PacketEngine()
    data = compressible(30_000)
    for _ in range(3):
        payload = b"\x5e" + (1).to_bytes(4, "big") + len(data).to_bytes(4, "big") + data
        sender.send_packet(deflate.compress(payload) + deflate.flush(zlib.Z_SYNC_FLUSH))
    b.feed(sender.take_output())
    assert b.next_packet() is None
    assert table.read(1, 1 << 20) == data * 3
    assert b.packets_fused == 0


@pytest.mark.parametrize("size", [256 * 1024 + 1025, 8 * MiB])
def test_engine_refuses_a_zlib_bomb(size):
    deflate = zlib.compressobj(9)
    bomb = deflate.compress(b"\x5e" + bytes(size)) + deflate.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < size // 100
    sender, b = PacketEngine(), PacketEngine()
    b.set_incoming_compression(True)
    sender.send_packet(bomb)
    b.feed(sender.take_output())
    with pytest.raises(ProtocolError) as info:
        b.next_packet()
    assert info.value.code == 1016 and info.value.reason == 6   # COMPRESSION_ERROR
    with pytest.raises(ProtocolError):      # sticky
        b.next_packet()


def test_engine_accepts_the_largest_payload():
    deflate = zlib.compressobj()
    p = b"\x05" + bytes(256 * 1024 + 1023)   # max_packet_length exactly
    sender, b = PacketEngine(), PacketEngine()
    b.set_incoming_compression(True)
    sender.send_packet(deflate.compress(p) + deflate.flush(zlib.Z_SYNC_FLUSH))
    b.feed(sender.take_output())
    assert b.next_packet() == (5, p)


@pytest.mark.parametrize("wire", [b"\x05not zlib at all", b"", b"\x78\x9c"],
                         ids=["garbage", "empty", "header-only"])
def test_engine_refuses_corrupt_data(wire):
    sender, b = PacketEngine(), PacketEngine()
    b.set_incoming_compression(True)
    sender.send_packet(wire or b"\x00")  # an empty payload cannot be sent: one zero byte
    b.feed(sender.take_output())
    with pytest.raises(ProtocolError) as info:
        b.next_packet()
    assert info.value.code == 1016


def test_engine_refuses_a_finished_stream():
    c = zlib.compressobj()
    sender, b = PacketEngine(), PacketEngine()
    b.set_incoming_compression(True)
    sender.send_packet(c.compress(b"\x05last") + c.flush(zlib.Z_FINISH))
    b.feed(sender.take_output())
    with pytest.raises(ProtocolError) as info:
        b.next_packet()
    assert info.value.code == 1016


def _inflated_payloads(sender: PacketEngine) -> list[bytes]:
    """The payloads `sender` wrote (no keys, compressed), inflated in order."""
    plain = PacketEngine()
    plain.feed(sender.take_output())
    inflate = zlib.decompressobj()
    payloads = []
    while (packet := plain.next_packet()) is not None:
        payloads.append(inflate.decompress(packet[1]))
    return payloads


def test_channel_data_compressed_on_send():
    table, a = _engine_with_channel(remote_id=9)
    a.set_outgoing_compression(True)
    data = incompressible(100_000) + compressible(100_000)
    assert a.send_channel_data(1, data) == len(data)
    payloads = _inflated_payloads(a)
    assert all(p[0] == 94 and int.from_bytes(p[1:5], "big") == 9 for p in payloads)
    assert b"".join(p[9:] for p in payloads) == data


def test_channel_data_compressed_with_a_small_receive_limit():
    """The deflate buffer fits a whole channel data packet even when the
    engine's own (receive) max_packet_length is small."""
    from sshcore.channels import ChannelTable
    table = ChannelTable()
    a = PacketEngine(table, max_packet_length=1024)
    a.set_outgoing_compression(True)
    table.add(1, MiB, 1024)
    table.confirm(1, 9, 4 * MiB, 256 * 1024)
    data = incompressible(600_000)
    assert a.send_channel_data(1, data) == len(data)
    assert b"".join(p[9:] for p in _inflated_payloads(a)) == data


def test_implemented_names():
    assert set(algorithms.supported("compression")) == {"none", "zlib", "zlib@openssh.com"}
    assert algorithms.defaults("compression") == ("none",)
    from sshclient.options import ClientOptions
    assert ClientOptions().compression == ["none"]
    from sshclient.transport import Transport
    with pytest.raises(SSHClientError) as info:
        Transport(ClientOptions(compression=["zlib", "lz4"]), lambda event: None)
    assert info.value.code == 1005


def test_spec_property_accepts_the_spec_names():
    client = SSHClient()
    assert client.ssh_compression_algorithms == "none,zlib"
    for value in ("zlib", "zlib@openssh.com", "none", "zlib@openssh.com,zlib,none"):
        client.ssh_compression_algorithms = value
        assert client.ssh_compression_algorithms == value
    with pytest.raises(SSHClientError) as info:
        client.ssh_compression_algorithms = "lz4"
    assert info.value.code == 1005


# ------------------------------------------------------------------ the scripted peer
def peer_connect(peer: HostilePeer, **kw) -> sshclient.SSHConnection:
    return sshclient.connect(peer.host, peer.port, username=USER, password=PASSWORD,
                             accept_any_host_key=True, timeout=20, **kw)


@pytest.fixture
def make_peer():
    peers: list[HostilePeer] = []

    def factory(**config) -> HostilePeer:
        peer = HostilePeer(**config)
        peers.append(peer)
        return peer

    yield factory
    for peer in peers:
        peer.close()
    for peer in peers:
        assert not peer.errors(), f"the peer failed: {peer.errors()!r}"


def _expect_active(conn: sshclient.SSHConnection, name: str) -> None:
    t = conn._proto.transport
    assert (t.compression_out, t.compression_in) == (name, name)
    assert t.engine.outgoing_compression and t.engine.incoming_compression


@pytest.mark.parametrize("name", BOTH)
def test_peer_download_upload_and_rekeys(make_peer, name):
    """Both directions, compressible and not, with re-exchanges started by
    the peer and by the client in the middle: each NEWKEYS restarts both
    streams on both sides, and no byte is lost."""
    down = compressible(2 * MiB) + incompressible(2 * MiB)

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        s.wait_for(lambda: ch.eof_received)
        s.send_data(ch, hashlib.sha256(bytes(ch.received)).hexdigest().encode(), ext=1)
        for i in range(4):
            s.send_data(ch, down[i * MiB:(i + 1) * MiB])
            s.rekey()
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(compression=[name, "none"], script={"exec": script})
    up = incompressible(MiB, b"up") + compressible(MiB)
    with peer_connect(peer, compression=[name]) as conn:
        _expect_active(conn, name)
        with conn.open_session() as ch:
            ch.exec("transfer")
            ch.write(up[:MiB])
            conn.rekey()
            ch.write(up[MiB:])
            ch.send_eof()
            digest = hashlib.sha256()
            total = ch.drain(lambda view: digest.update(view))
            remote = ch.read_all(1)
            assert ch.wait_closed() == 0
        _expect_active(conn, name)
        assert conn._proto.transport.kex_count == 6
        inflated_from, inflated_to, deflated_from, deflated_to = \
            conn._proto.engine.compression_counters
        assert inflated_to > len(down) > inflated_from
        assert deflated_from > len(up) > deflated_to
    assert total == len(down) and digest.digest() == hashlib.sha256(down).digest()
    assert remote.decode() == hashlib.sha256(up).hexdigest()
    assert peer.finished().kex_count == 6


def test_peer_delayed_compression_starts_after_authentication(make_peer):
    """zlib@openssh.com: nothing compressed before USERAUTH_SUCCESS (the
    peer would fail to parse it), everything after."""
    seen: list[tuple[bool, bool]] = []
    peer = make_peer(compression=["zlib@openssh.com"],
                     script={"login": lambda s: seen.append(
                         (s._deflate is not None, s._inflate is not None))})
    with peer_connect(peer, compression=["zlib@openssh.com", "none"]) as conn:
        _expect_active(conn, "zlib@openssh.com")
        assert conn.exec("x").exit_status == 0
    assert seen == [(True, True)]
    assert peer.finished().compression == ("zlib@openssh.com", "zlib@openssh.com")


def test_peer_prefers_the_clients_order(make_peer):
    peer = make_peer(compression=["zlib@openssh.com", "zlib", "none"])
    with peer_connect(peer, compression=["none", "zlib"]) as conn:
        assert conn.negotiated.compression_c2s == "none"
        assert not conn._proto.engine.incoming_compression
    peer = make_peer(compression=["none", "zlib@openssh.com", "zlib"])
    with peer_connect(peer, compression=["zlib", "zlib@openssh.com", "none"]) as conn:
        _expect_active(conn, "zlib")


@pytest.mark.parametrize("name", BOTH)
def test_peer_tunnel_echo(make_peer, name):
    peer = make_peer(compression=[name])
    message = compressible(300_000) + incompressible(300_000)
    with peer_connect(peer, compression=[name]) as conn:
        with conn.open_tcpip("127.0.0.1", 9) as ch:
            ch.write(message)
            got = bytearray()
            while len(got) < len(message):
                got += ch.read()
    assert bytes(got) == message


def test_peer_spec_api_zlib(make_peer):
    data = compressible(MiB)

    def script(s: Session, ch: PeerChannel, command: str) -> None:
        s.send_data(ch, data)
        s.send_exit_status(ch, 0)
        s.send_eof(ch)
        s.send_close(ch)

    peer = make_peer(compression=["zlib"], script={"exec": script})
    client = SSHClient()
    client.ssh_user, client.ssh_password = USER, PASSWORD
    client.timeout = 20
    client.ssh_compression_algorithms = "zlib,none"
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    chunks: list[bytes] = []
    closed: list[str] = []
    client.on_ssh_channel_data = lambda e: chunks.append(e.channel_data)
    client.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    client.ssh_logon(peer.host, peer.port)
    ch = client.open_channel("session")
    client.start_service(ch, "exec", "get")
    while ch not in closed:
        client.do_events()
    assert b"".join(chunks) == data
    assert client._driver.proto.transport.compression_in == "zlib"  # type: ignore[union-attr]
    client.ssh_logoff()


# -------------------------------------------------------------------- real servers
def real_connect(server, user, **kw) -> sshclient.SSHConnection:
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, accept_any_host_key=True, timeout=60,
                             compression=kw.pop("compression", ["zlib@openssh.com"]), **kw)


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


def test_servers_offer_only_delayed_zlib(server):
    import servers
    k = servers.probe_kexinit(server.host, server.port)
    assert "zlib@openssh.com" in k.compression_server_to_client
    assert "zlib" not in k.compression_server_to_client


def test_server_download_verified(server, test_user):
    n = 3 * MiB
    with real_connect(server, test_user) as conn:
        _expect_active(conn, "zlib@openssh.com")
        for source in ("/dev/urandom", "/dev/zero"):
            with conn.open_session() as ch:
                ch.exec(f"f=$(mktemp); head -c {n} {source} >$f; sha256sum <$f >&2; "
                        f"cat $f; rm -f $f")
                digest = hashlib.sha256()
                assert ch.drain(digest.update) == n
                remote = ch.read_all(1)
                assert ch.wait_closed() == 0
            assert remote.split()[0].decode() == digest.hexdigest()
        inflated_from, inflated_to = conn._proto.engine.compression_counters[:2]
        assert inflated_to > 2 * n and inflated_from < n + n // 10   # the zeros shrank


def test_server_upload_verified(server, test_user):
    data = incompressible(2 * MiB) + compressible(2 * MiB)
    with real_connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("sha256sum")
            ch.write(data)
            ch.send_eof()
            out = ch.read_all()
            assert ch.wait_closed() == 0
        deflated_from, deflated_to = conn._proto.engine.compression_counters[2:]
        assert deflated_from > len(data) > deflated_to
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_server_upload_to_file(server, test_user):
    data = compressible(MiB) + incompressible(MiB)
    with real_connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("f=$(mktemp); cat >$f; sha256sum <$f; wc -c <$f; rm -f $f")
            ch.write(data)
            ch.send_eof()
            out = ch.read_all().split()
            assert ch.wait_closed() == 0
    assert out[0].decode() == hashlib.sha256(data).hexdigest()
    assert int(out[2]) == len(data)


def test_server_tunnel_echo(server, test_user, tcp_echo):
    message = compressible(MiB) + incompressible(MiB)
    with real_connect(server, test_user) as conn:
        with conn.open_tcpip(tcp_echo.host, tcp_echo.port) as ch:
            ch.write(message)
            got = bytearray()
            while len(got) < len(message):
                got += ch.read()
    assert bytes(got) == message


def test_server_client_rekey_mid_transfer(server, test_user):
    """Each re-exchange restarts both zlib streams (the server does too):
    a download spanning three re-exchanges arrives intact."""
    n = 12 * MiB
    with real_connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec(f"f=$(mktemp); head -c {n // 2} /dev/urandom >$f; head -c {n // 2} "
                    f"/dev/zero >>$f; sha256sum <$f >&2; cat $f; rm -f $f")
            digest = hashlib.sha256()
            buf = bytearray(1 << 20)
            total = rekeyed = 0
            while True:
                k = ch.read_into(buf)
                if k == 0:
                    break
                digest.update(memoryview(buf)[:k])
                total += k
                if total > (rekeyed + 1) * 3 * MiB and rekeyed < 3:
                    conn.rekey()
                    rekeyed += 1
            remote = ch.read_all(1)
            assert ch.wait_closed() == 0
        assert rekeyed == 3 and conn._proto.transport.kex_count == 4
        _expect_active(conn, "zlib@openssh.com")
        assert conn.exec("echo after").stdout == b"after\n"
    assert total == n and remote.split()[0].decode() == digest.hexdigest()


def test_sshd_initiated_rekey_during_compressed_download(sshd_factory, test_user):
    server = sshd_factory(["RekeyLimit 1M"])
    n = 8 * MiB
    with real_connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec(f"head -c {n} /dev/urandom | tee /dev/stderr | sha256sum >&2")
            digest = hashlib.sha256()
            err = bytearray()
            while True:
                chunk = ch.read_stderr()
                if not chunk:
                    break
                err += chunk
            assert ch.wait_closed() == 0
        assert conn._proto.transport.kex_count > 5
        digest.update(err[:n])
    assert err[n:].split()[0].decode() == digest.hexdigest()


def test_rekey_by_threshold_during_compressed_upload(server, test_user):
    data = incompressible(6 * MiB)
    with real_connect(server, test_user, rekey_bytes=1 * MiB) as conn:
        with conn.open_session() as ch:
            ch.exec("sha256sum")
            ch.write(data)
            ch.send_eof()
            out = ch.read_all()
        # checked as input is processed, so not once per MiB: a few re-exchanges
        assert conn._proto.transport.kex_count >= 3
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()


def _spec_exec(server, user, algorithms: str, command: str) -> tuple[str, bytes]:
    """(compression in effect, stdout) of one exec through the spec API."""
    client = SSHClient()
    client.ssh_user, client.ssh_password = user.name, user.password
    client.ssh_compression_algorithms = algorithms
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    out: list[bytes] = []
    closed: list[str] = []
    client.on_ssh_channel_data = lambda e: out.append(e.channel_data)
    client.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    client.ssh_logon(server.host, server.port)
    try:
        transport = client._driver.proto.transport  # type: ignore[union-attr]
        assert transport.compression_out == transport.compression_in
        ch = client.open_channel("session")
        client.start_service(ch, "exec", command)
        while ch not in closed:
            client.do_events()
    finally:
        client.ssh_logoff()
    return transport.compression_in, b"".join(out)


def test_spec_api_against_sshd(sshd, test_user):
    """The spec API: the user's order decides (none first: none, as the
    default "none,zlib" gives with every server)."""
    expected_sum = hashlib.sha256(bytes(1000000)).hexdigest()
    for value, expected in (("zlib@openssh.com,none", "zlib@openssh.com"),
                            ("none,zlib", "none"), ("zlib,zlib@openssh.com", "zlib@openssh.com")):
        used, out = _spec_exec(sshd, test_user, value, "head -c 1000000 /dev/zero | sha256sum")
        assert used == expected
        assert out.split()[0].decode() == expected_sum

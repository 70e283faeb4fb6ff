"""CHANNEL_DATA / EXTENDED_DATA / WINDOW_ADJUST routing in C, flow control,
window-adjust batching and backpressure."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_codec import random_keys
from sshcore import crypto
from sshcore.channels import ChannelTable
from sshcore.packet import PacketEngine, ProtocolError

BACKENDS = crypto.available_backends()
SUITES = [("none", None), ("chacha20-poly1305@openssh.com", None),
          ("aes256-gcm@openssh.com", None), ("aes128-ctr", "hmac-sha2-256-etm@openssh.com")]


def data_msg(rid, data):
    return struct.pack(">BII", 94, rid, len(data)) + data


def ext_msg(rid, data, code=1):
    return struct.pack(">BIII", 95, rid, code, len(data)) + data


def adjust_msg(rid, n):
    return struct.pack(">BII", 93, rid, n)


class Link:
    """A server-side engine sending to our client engine, and back."""

    def __init__(self, suite=("none", None)):
        self.srv, self.cli = PacketEngine(), PacketEngine()
        self.srv.routing = False                 # see everything the client sends
        cipher, mac = suite
        if cipher != "none":
            k_up, k_down = random_keys(cipher, mac), random_keys(cipher, mac)
            self.cli.set_outgoing(cipher, *k_up)
            self.srv.set_incoming(cipher, *k_up)
            self.srv.set_outgoing(cipher, *k_down)
            self.cli.set_incoming(cipher, *k_down)
        self.t = self.cli.channels

    def down(self, *payloads):
        """Server sends payloads; returns what the client hands to Python."""
        for p in payloads:
            self.srv.send_packet(p)
        self.cli.feed(self.srv.take_output())
        out = []
        while (p := self.cli.next_packet()) is not None:
            out.append(p[1])
        return out

    def up(self):
        """Payloads the client sent (e.g. its WINDOW_ADJUSTs)."""
        self.srv.feed(self.cli.take_output())
        out = []
        while (p := self.srv.next_packet()) is not None:
            out.append(p[1])
        return out

    def open(self, lid=0, rid=100, lwin=1 << 20, lmax=32768, rwin=1 << 20, rmax=32768):
        self.t.add(lid, lwin, lmax)
        self.t.confirm(lid, rid, rwin, rmax)


@pytest.fixture(params=BACKENDS)
def backend(request):
    prev = crypto._set_backend(request.param)
    yield request.param
    crypto._set_backend(prev)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s[0])
def test_routes_data_and_stderr_to_the_right_channel(backend, suite):
    ln = Link(suite)
    ln.open(0)
    ln.open(7, rid=107)
    assert ln.down(data_msg(0, b"out0"), ext_msg(7, b"err7"), data_msg(7, b"out7"),
                   data_msg(0, b"more0")) == []
    t = ln.t
    assert sorted(t.take_dirty()) == [0, 7] and t.take_dirty() == []
    assert (t.available(0), t.available(0, 1), t.available(7), t.available(7, 1)) == (9, 0, 4, 4)
    assert t.read(0) == b"out0more0"
    assert t.read(7, stream=1) == b"err7"
    buf = bytearray(2)
    assert t.read_into(7, buf) == 2 and buf == b"ou"
    assert t.read(7, 100) == b"t7"
    assert t.read(7) == b"" and t.total_buffered() == 0
    assert t.local_window(0) == (1 << 20) - 9


def test_skip_consumes_without_copying_and_reopens_the_window():
    ln = Link()
    W = 64 * 1024
    ln.open(0, rid=5, lwin=W)
    ln.down(data_msg(0, bytes(40000)), ext_msg(0, b"err"))
    t = ln.t
    assert t.skip(0, 1000) == 1000 and t.available(0) == 39000
    assert t.skip(0) == 39000 and t.available(0) == 0 and t.skip(0) == 0
    assert t.available(0, 1) == 3                  # the other stream is untouched
    assert ln.up() == [adjust_msg(5, 40000)]       # skipped bytes are re-advertised


def test_write_to_writes_from_the_channel_buffer(tmp_path):
    import os
    ln = Link()
    ln.open(0, rid=5)
    payload = bytes(range(256)) * 300
    ln.down(data_msg(0, payload), ext_msg(0, b"stderr"))
    path = tmp_path / "out"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        assert ln.t.write_to(0, fd, 100) == 100
        while ln.t.available(0):
            assert ln.t.write_to(0, fd) > 0
        assert ln.t.write_to(0, fd) == 0           # nothing buffered
        assert ln.t.write_to(0, fd, stream=1) == 6
    finally:
        os.close(fd)
    assert path.read_bytes() == payload + b"stderr"
    ln.down(data_msg(0, b"x"))
    with pytest.raises(OSError):
        ln.t.write_to(0, fd)                       # closed fd: the error, nothing consumed
    assert ln.t.available(0) == 1


def test_write_to_a_full_nonblocking_pipe_returns_0():
    import os
    ln = Link()
    ln.open(0, rid=5, lwin=4 << 20)
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        ln.down(*[data_msg(0, bytes(32768)) for _ in range(64)])  # 2 MiB > a pipe
        written = 0
        while (n := ln.t.write_to(0, w)) > 0:
            written += n
        assert n == 0 and 0 < written < 2 << 20
        assert ln.t.available(0) == (2 << 20) - written
    finally:
        os.close(r)
        os.close(w)


def test_not_routed_goes_to_python():
    ln = Link()
    ln.open(0)
    ln.t.add(1, 1000, 1000)                       # opened but not confirmed
    unknown = data_msg(5, b"x")
    unconfirmed = data_msg(1, b"y")
    ext2 = ext_msg(0, b"z", code=2)
    adj_unknown = adjust_msg(9, 10)
    other = b"\x62" + bytes(10)                    # CHANNEL_REQUEST
    assert ln.down(unknown, unconfirmed, ext2, adj_unknown, other) == \
        [unknown, unconfirmed, ext2, adj_unknown, other]
    assert ln.t.total_buffered() == 0


def test_order_is_preserved_around_returned_packets():
    ln = Link()
    ln.open(0)
    ln.srv.send_packet(data_msg(0, b"a"))
    ln.srv.send_packet(b"\x60\x00\x00\x00\x00")    # CHANNEL_EOF
    ln.srv.send_packet(data_msg(0, b"b"))
    ln.cli.feed(ln.srv.take_output())
    assert ln.cli.next_packet() == (96, b"\x60\x00\x00\x00\x00")
    assert ln.t.read(0) == b"a"                    # only what came before the EOF
    assert ln.cli.next_packet() is None
    assert ln.t.read(0) == b"b"


def test_routing_false_returns_everything():
    ln = Link()
    ln.open(0)
    ln.cli.routing = False
    msgs = [data_msg(0, b"x"), ext_msg(0, b"y"), adjust_msg(0, 5)]
    assert ln.down(*msgs) == msgs
    assert ln.t.total_buffered() == 0 and ln.t.remote_window(0) == 1 << 20
    ln.cli.routing = True
    assert ln.down(*msgs) == []


def test_data_beyond_window_is_1022():
    ln = Link()
    ln.open(0, lwin=100)
    assert ln.down(data_msg(0, bytes(60)), ext_msg(0, bytes(40))) == []
    with pytest.raises(ProtocolError) as exc:
        ln.down(data_msg(0, b"!"))
    assert (exc.value.code, exc.value.reason) == (1022, 2)
    assert ln.t.available(0) == 60                 # what arrived before is kept


def test_data_after_eof_is_1022():
    ln = Link()
    ln.open(0)
    ln.t.mark_eof_received(0)
    with pytest.raises(ProtocolError) as exc:
        ln.down(data_msg(0, b"late"))
    assert exc.value.code == 1022


@pytest.mark.parametrize("msg", [
    struct.pack(">BII", 94, 0, 5) + b"abcd",          # short string
    struct.pack(">BII", 94, 0, 3) + b"abcd",          # trailing byte
    struct.pack(">BI", 94, 0),                        # no length
    struct.pack(">BIII", 95, 0, 1, 9) + b"x",
    struct.pack(">BI", 93, 0) + b"\0\0\0",            # short adjust
])
def test_malformed_channel_messages_are_1022(msg):
    ln = Link()
    ln.open(0)
    with pytest.raises(ProtocolError) as exc:
        ln.down(msg)
    assert exc.value.code == 1022


def test_window_adjust_from_peer():
    ln = Link()
    ln.open(0, rwin=10)
    assert ln.down(adjust_msg(100 - 100, 1000)) == []
    assert ln.t.remote_window(0) == 1010
    assert ln.t.take_dirty() == [0]
    ln.down(adjust_msg(0, 2**32 - 1 - 1010))
    assert ln.t.remote_window(0) == 2**32 - 1
    with pytest.raises(ProtocolError) as exc:
        ln.down(adjust_msg(0, 1))
    assert exc.value.code == 1022


def test_window_adjust_batched_at_half_window():
    ln = Link()
    W = 64 * 1024
    ln.open(0, rid=55, lwin=W)
    ln.down(*[data_msg(0, bytes(4096)) for _ in range(16)])     # the whole window
    assert ln.t.local_window(0) == 0
    sent = 0
    while sent < W // 2 - 100:                     # many small reads: no adjust yet
        sent += len(ln.t.read(0, 100))
    assert ln.cli.output_size() == 0
    sent += len(ln.t.read(0, 100))                 # crosses half the window
    assert ln.up() == [adjust_msg(55, sent)]       # exactly one adjust, for what was read
    assert ln.t.local_window(0) == sent
    ln.t.read(0)                                   # W - sent is just under half:
    assert ln.up() == []                           # held back for the next batch
    assert ln.t.local_window(0) == sent
    ln.down(data_msg(0, bytes(200)))
    ln.t.read(0)
    assert ln.up() == [adjust_msg(55, W - sent + 200)]
    assert ln.t.local_window(0) == W


def test_slow_reader_backpressure_bounds_memory():
    """A peer that honours the window can never make us buffer more than it."""
    ln = Link()
    W = 256 * 1024
    ln.open(0, rid=9, lwin=W)
    peer_window = W
    for _ in range(50):
        n = min(peer_window, 32768)
        if n:
            ln.down(data_msg(0, bytes(n)))
            peer_window -= n
        assert ln.t.total_buffered() <= W
        assert ln.t.available(0) + ln.t.local_window(0) <= W
        ln.t.read(0, 5000)                          # slower than the peer
        for adj in ln.up():
            assert adj[0] == 93
            peer_window += struct.unpack(">I", adj[5:9])[0]
    assert peer_window == ln.t.local_window(0)     # both sides agree on the window
    with pytest.raises(ProtocolError):            # a peer ignoring the window is cut off
        ln.down(data_msg(0, bytes(ln.t.local_window(0) + 1)))


def test_window_policy_growth_advertises_at_once():
    ln = Link()
    ln.open(0, rid=3, lwin=1000)
    ln.t.set_window_policy(0, 1000)               # unchanged: nothing to say
    assert ln.up() == []
    ln.t.set_window_policy(0, 5000)
    assert ln.up() == [adjust_msg(3, 4000)]
    assert ln.t.max_window(0) == 5000 and ln.t.local_window(0) == 5000
    with pytest.raises(ValueError):
        ln.t.set_window_policy(0, 10)


def _peer_round(ln, peer_window, send_limit, packet=8192):
    """The peer sends up to min(window, send_limit) in packets; returns the
    window it has left."""
    sent = 0
    while peer_window >= packet and sent + packet <= send_limit:
        ln.down(data_msg(0, bytes(packet)))
        peer_window -= packet
        sent += packet
    return peer_window


def _adjusts(ln):
    return sum(struct.unpack(">I", adj[5:9])[0] for adj in ln.up())


def test_window_grows_when_it_holds_the_transfer_back():
    """Each round trip the peer uses all the credit it has (the window is the
    limit) and the reader keeps up: the window doubles once per growth
    period, up to the limit, and both sides agree on the credit."""
    ln = Link()
    W = 64 * 1024
    ln.open(0, rid=9, lwin=W, lmax=8192)
    ln.t.set_window_growth(0, 8 * W)
    peer, sizes = W, []
    for _ in range(6):
        peer = _peer_round(ln, peer, 1 << 30)     # until the window runs out
        ln.t.skip(0)                               # a reader that keeps up
        peer += _adjusts(ln)
        grown = ln.t.grow_windows(0.05, 0.05)      # one round trip went by
        peer += _adjusts(ln)                       # the growth is advertised at once
        sizes.append((ln.t.max_window(0), grown))
    assert sizes == [(2 * W, 1), (4 * W, 1), (8 * W, 1), (8 * W, 0), (8 * W, 0), (8 * W, 0)]
    assert peer == ln.t.local_window(0) == 8 * W  # both sides agree


def test_window_growth_limit_is_checked_and_capped_at_the_wire_maximum():
    ln = Link()
    ln.open(0, rid=9, lwin=1 << 20)
    with pytest.raises(ValueError):
        ln.t.set_window_growth(0, -1)
    ln.t.set_window_growth(0, 1 << 40)             # more than a window can say
    ln.down(*[data_msg(0, bytes(32768)) for _ in range(32)])
    ln.t.skip(0)
    ln.up()
    assert ln.t.grow_windows(1.0, 1.0) == 1
    assert ln.t.max_window(0) == 2 << 20           # doubled, no overflow
    assert ln.t.grow_windows(0.0, 1.0) == ln.t.grow_windows(1.0, 0.0) == 0  # no period, no rate


@pytest.mark.parametrize("case", ["slow reader", "link slower than the window",
                                  "long period", "no growth set", "after EOF"])
def test_window_stays_put_unless_the_window_is_the_limit(case):
    ln = Link()
    W = 64 * 1024
    ln.open(0, rid=9, lwin=W, lmax=8192)
    if case != "no growth set":
        ln.t.set_window_growth(0, 8 * W)
    peer, elapsed = W, 0.05
    for _ in range(1 if case == "after EOF" else 8):
        if case == "slow reader":
            peer = _peer_round(ln, peer, 1 << 30)
            ln.t.read(0, W // 2)                   # half a window behind
            assert ln.t.total_buffered() <= W
        elif case == "link slower than the window":
            peer = _peer_round(ln, peer, W // 4)   # a quarter of the window per round trip
            ln.t.skip(0)
        elif case == "long period":
            peer = _peer_round(ln, peer, 1 << 30)  # a whole window, but over 4 round trips
            ln.t.skip(0)
            elapsed = 0.2
        else:
            peer = _peer_round(ln, peer, 1 << 30)
            ln.t.skip(0)
            if case == "after EOF":
                ln.t.mark_eof_received(0)          # nothing more will come
        peer += _adjusts(ln)
        assert ln.t.grow_windows(elapsed, 0.05) == 0
        assert ln.t.max_window(0) == W
    assert peer == ln.t.local_window(0)


def test_data_blocked_defers_sends_and_adjusts():
    ln = Link()
    ln.open(0, rid=4, lwin=1000)
    ln.down(data_msg(0, bytes(1000)))
    ln.cli.data_blocked = True
    assert ln.cli.send_channel_data(0, b"hello") == 0
    ln.t.read(0)                                   # would trigger an adjust
    assert ln.cli.output_size() == 0
    ln.cli.data_blocked = False                    # key re-exchange over
    assert ln.up() == [adjust_msg(4, 1000)]
    assert ln.cli.send_channel_data(0, b"hello") == 5
    assert ln.up() == [data_msg(4, b"hello")]


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s[0])
def test_send_channel_data_respects_window_and_max_packet(backend, suite):
    ln = Link(suite)
    ln.open(0, rid=77, rwin=100_000, rmax=30_000)
    data = bytes(range(256)) * 500                 # 128000 bytes
    assert ln.cli.send_channel_data(0, data) == 100_000
    assert ln.t.remote_window(0) == 0
    got = ln.up()
    assert [len(p) - 9 for p in got] == [30_000, 30_000, 30_000, 10_000]
    assert all(p[:5] == b"\x5e\x00\x00\x00\x4d" for p in got)
    assert b"".join(p[9:] for p in got) == data[:100_000]
    assert ln.cli.send_channel_data(0, data) == 0  # window exhausted
    ln.down(adjust_msg(0, 50))
    assert ln.cli.send_channel_data(0, memoryview(data)[100_000:]) == 50
    assert ln.up() == [data_msg(77, data[100_000:100_050])]


def test_send_extended_data_and_closed_directions():
    ln = Link()
    ln.open(0, rid=8)
    assert ln.cli.send_channel_data(0, b"err", ext=1) == 3
    assert ln.up() == [ext_msg(8, b"err")]
    ln.t.mark_eof_sent(0)
    assert ln.cli.send_channel_data(0, b"x") == 0
    ln.t.add(1, 10, 10)
    assert ln.cli.send_channel_data(1, b"x") == 0  # not confirmed yet
    with pytest.raises(KeyError):
        ln.cli.send_channel_data(2, b"x")
    ln.t.confirm(1, 9, 10, 10)
    ln.t.mark_close_sent(1)
    assert ln.cli.send_channel_data(1, b"x") == 0
    assert ln.cli.send_channel_data(0, b"") == 0


def test_table_bookkeeping_and_many_channels():
    t = ChannelTable()
    for i in range(0, 3000, 3):
        t.add(i, 1000, 100)
        t.confirm(i, i + 1, 10, 10)
    assert len(t) == 1000 and 2997 in t and 1 not in t
    assert -1 not in t and 2**40 not in t and "x" not in t
    for i in range(0, 3000, 6):
        t.remove(i)
    t.remove(12345)                                # unknown: no-op
    assert len(t) == 500 and 0 not in t and 3 in t
    with pytest.raises(ValueError):
        t.add(3, 1, 1)
    with pytest.raises(KeyError):
        t.read(0)
    for i in range(3000, 6000):                    # reuse tombstones, grow
        t.add(i, 1, 1)
    assert len(t) == 3500 and sorted(t.ids())[:2] == [3, 9]
    assert t.remote_window(9) == 10 and t.remote_max_packet(9) == 10


def test_removed_channel_data_goes_to_python():
    ln = Link()
    ln.open(0)
    ln.down(data_msg(0, b"abc"))
    ln.t.remove(0)
    assert ln.t.total_buffered() == 0
    assert ln.down(data_msg(0, b"late")) == [data_msg(0, b"late")]


def test_standalone_table_cannot_join_two_engines():
    t = ChannelTable()
    e = PacketEngine(t)
    assert e.channels is t
    with pytest.raises(ValueError):
        PacketEngine(t)


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["data", "ext", "read", "read_err"]),
                              st.integers(0, 40000)), max_size=40),
       window=st.integers(1, 200_000))
def test_flow_control_invariants(ops, window):
    """Whatever the interleaving: nothing lost, buffers within the window,
    every adjust re-advertises exactly what was consumed."""
    ln = Link()
    ln.open(0, rid=1, lwin=window)
    peer_window, sent, received = window, bytearray(), bytearray()
    counter = 0
    for op, n in ops:
        if op in ("data", "ext"):
            n = min(n, peer_window)
            if not n:
                continue
            chunk = bytes((counter + i) % 251 for i in range(n))
            counter += n
            if op == "data":
                ln.down(data_msg(0, chunk))
                sent += chunk
            else:
                ln.down(ext_msg(0, chunk))
            peer_window -= n
        else:
            received += ln.t.read(0, n) if op == "read" else b""
            ln.t.read(0, n, stream=1) if op == "read_err" else None
        assert ln.t.total_buffered() <= window
        assert ln.t.local_window(0) + ln.t.total_buffered() <= window
        for adj in ln.up():
            peer_window += struct.unpack(">I", adj[5:9])[0]
        assert peer_window == ln.t.local_window(0)
    received += ln.t.read(0)
    assert received == sent

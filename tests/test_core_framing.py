"""Receive framing in the compiled channel buffers: ChannelTable.read_record /
read_line / window_stalled, and the spec adapter's SpecChannel.deliver on top.

The pieces must be exactly what a plain-Python framer over a bytearray cuts
(RecordLength; ChannelDataEOL + MaxChannelDataLength), whatever the packet
boundaries; partial pieces hold window, and framing never deadlocks."""
from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sshclient.eventclient.channels import SpecChannel
from sshcore.channels import ChannelTable
from sshcore.packet import PacketEngine

RID = 100  # the peer's id for our channel 0: WINDOW_ADJUSTs carry it


def data_msg(data: bytes, stream: int = 0) -> bytes:
    """CHANNEL_DATA / EXTENDED_DATA(stderr) for our local channel 0."""
    if stream:
        return struct.pack(">BIII", 95, 0, 1, len(data)) + data
    return struct.pack(">BII", 94, 0, len(data)) + data


class Peer:
    """A server engine feeding one channel (local id 0) of a client engine,
    honouring the window the client advertises."""

    def __init__(self, window: int, max_packet: int = 32768) -> None:
        self.srv, self.cli = PacketEngine(), PacketEngine()
        self.srv.routing = False               # see every WINDOW_ADJUST
        self.table: ChannelTable = self.cli.channels
        self.table.add(0, window, max_packet)
        self.table.confirm(0, RID, 1 << 20, 32768)
        self.window = window                   # what the peer believes it may send
        self.adjusts: list[int] = []

    def send(self, data: bytes, stream: int = 0) -> None:
        assert 0 < len(data) <= self.window
        self.srv.send_packet(data_msg(data, stream))
        self.cli.feed(self.srv.take_output())
        assert self.cli.next_packet() is None  # routed into the table
        self.window -= len(data)

    def take_adjusts(self) -> int:
        self.srv.feed(self.cli.take_output())
        total = 0
        while (p := self.srv.next_packet()) is not None:
            assert p[0] == 93 and struct.unpack(">I", p[1][1:5])[0] == RID
            n = struct.unpack(">I", p[1][5:9])[0]
            self.adjusts.append(n)
            total += n
        self.window += total
        assert self.window == self.table.local_window(0)  # both sides agree
        return total


class Reference:
    """The framing rules in plain Python: a bytearray, find, slices."""

    def __init__(self, ch: SpecChannel) -> None:
        self.ch = ch
        self.pending = bytearray()
        self.got: list[tuple[bytes, bool]] = []

    def feed(self, data: bytes) -> None:
        ch = self.ch
        self.pending += data
        while self.pending:
            if ch.record_length > 0:
                if len(self.pending) < ch.record_length:
                    return
                piece, found = bytes(self.pending[:ch.record_length]), True
                del self.pending[:ch.record_length]
            elif ch.eol and ch.max_length > 0:
                index = self.pending.find(ch.eol)
                if 0 <= index <= ch.max_length:
                    piece, found = bytes(self.pending[:index]), True
                    del self.pending[:index + len(ch.eol)]
                elif len(self.pending) >= ch.max_length:
                    piece, found = bytes(self.pending[:ch.max_length]), False
                    del self.pending[:ch.max_length]
                else:
                    return
            else:
                piece, found = bytes(self.pending), True
                self.pending.clear()
            self.got.append((piece, found))


class TableView:
    """Channel 0 of a ChannelTable with the reading half of ChannelHandle's
    interface: what SpecChannel frames from, without a connection."""

    def __init__(self, table=None) -> None:
        self.table = table
        self.id = 0

    @property
    def buffered(self) -> bool:
        return 0 in self.table

    def window_stalled(self) -> bool:
        return self.table.window_stalled(0)

    def read(self, max_bytes=-1, stream=0):
        return self.table.read(0, max_bytes, stream)

    def read_record(self, size, stream=0):
        return self.table.read_record(0, size, stream)

    def read_line(self, eol, max_length, stream=0):
        return self.table.read_line(0, eol, max_length, stream)


def spec_channel(**settings) -> SpecChannel:
    return SpecChannel(TableView(), "session", **settings)  # type: ignore[arg-type]


def on(table, ch: SpecChannel) -> SpecChannel:
    """`ch` framing from `table` (a ChannelTable, or a Tap around one)."""
    ch.handle.table = table
    return ch


def collector():
    got: list[tuple[bytes, bool]] = []
    return got, lambda data, found: got.append((data, found))


# ------------------------------------------------------------ ChannelTable API

def test_read_record_waits_for_whole_records():
    p = Peer(1 << 20)
    t = p.table
    assert t.read_record(0, 4) is None
    p.send(b"abc")
    assert t.read_record(0, 4) is None and t.available(0) == 3  # nothing taken
    p.send(b"defghij")
    assert t.read_record(0, 4) == b"abcd"
    assert t.read_record(0, 4) == b"efgh"
    assert t.read_record(0, 4) is None
    assert t.read_record(0, 2) == b"ij"    # the size may change between reads
    assert t.read_record(0, 1) is None and t.total_buffered() == 0
    big = bytes(range(256)) * 1000         # one record over many packets
    for i in range(0, len(big), 999):
        assert t.read_record(0, len(big)) is None
        p.send(big[i:i + 999])
    assert t.read_record(0, len(big)) == big


def test_read_line_rules():
    p = Peer(1 << 20)
    t = p.table
    p.send(b"ab\n\ncdefghijklmn\nxyz")
    assert t.read_line(0, b"\n", 8) == (b"ab", True)
    assert t.read_line(0, b"\n", 8) == (b"", True)             # empty line
    assert t.read_line(0, b"\n", 8) == (b"cdefghij", False)    # no EOL within 8
    assert t.read_line(0, b"\n", 8) == (b"klmn", True)
    assert t.read_line(0, b"\n", 8) is None                    # "xyz": wait
    assert t.available(0) == 3
    p.send(b"12345\n")
    assert t.read_line(0, b"\n", 8) == (b"xyz12345", True)     # EOL right at max_length
    assert t.read_line(0, b"\n", 8) is None and t.total_buffered() == 0


def test_no_eol_within_max_length():
    p = Peer(1 << 20)
    t = p.table
    for _ in range(9):
        p.send(b"x" * 11)
        assert t.read_line(0, b"\r\n", 100) is None
    p.send(b"x" * 11)                        # 110 bytes, no EOL anywhere
    assert t.read_line(0, b"\r\n", 100) == (b"x" * 100, False)
    assert t.read_line(0, b"\r\n", 100) is None
    p.send(b"yy" + b"z" * 200 + b"\r\n")     # an EOL, but only beyond max_length
    assert t.read_line(0, b"\r\n", 100) == (b"x" * 10 + b"yy" + b"z" * 88, False)
    assert t.read_line(0, b"\r\n", 100) == (b"z" * 100, False)
    assert t.read_line(0, b"\r\n", 100) == (b"z" * 12, True)


@pytest.mark.parametrize("eol", [b"\r\n", b"<END>", b"\x00", b"\x00\x00", b"\x00\r\n\x00",
                                 b"abab", b"\n" * 7])
@pytest.mark.parametrize("max_length", [1, 5, 64])
def test_long_eol_split_across_packets(eol, max_length):
    """One byte per packet, a read after each: every EOL arrives split, with
    near misses (its prefix, NULs) in the lines."""
    p = Peer(1 << 20)
    t = p.table
    stream = (b"one\x00two\x00" + eol[:-1] + b"|" + eol + b"second" + eol + eol
              + eol[:1] + b"tail" * 5 + eol + b"head")
    ch = spec_channel(eol=eol, max_length=max_length)
    ref = Reference(ch)
    got: list[tuple[bytes, bool]] = []
    for i in range(len(stream)):
        p.send(stream[i:i + 1])
        ref.feed(stream[i:i + 1])
        while (piece := t.read_line(0, eol, max_length)) is not None:
            got.append(piece)
    assert got == ref.got and t.available(0) == len(ref.pending)
    if max_length == 64 and b"\x00" not in eol:  # else the NULs in line 1 end it
        assert got[:3] == [(b"one\x00two\x00" + eol[:-1] + b"|", True), (b"second", True),
                           (b"", True)]


def test_eol_with_nul_bytes_is_binary():
    p = Peer(1 << 20)
    t = p.table
    p.send(b"a\x00b\x00\x00c\x00\x00\x00d")
    assert t.read_line(0, b"\x00\x00", 64) == (b"a\x00b", True)
    assert t.read_line(0, b"\x00\x00", 64) == (b"c", True)
    assert t.read_line(0, b"\x00\x00", 64) is None              # "\x00d"
    assert t.read_line(0, b"\x00", 64) == (b"", True)
    assert t.read_line(0, b"\x00", 2) is None
    assert t.read_line(0, b"\x00", 1) == (b"d", False)
    assert t.total_buffered() == 0


def test_search_memory_follows_eol_and_consumption():
    """read_line remembers how far it searched; a different EOL, a shorter
    max_length or other reads must not make it miss a match."""
    p = Peer(1 << 20)
    t = p.table
    p.send(b"a;b" + b"c" * 50)
    assert t.read_line(0, b"\n", 1000) is None   # scanned 53 bytes for "\n"
    assert t.read_line(0, b";", 1000) == (b"a", True)   # new EOL: searched again
    assert t.read_line(0, b"\n", 1000) is None
    assert t.read(0, 10) == b"b" + b"c" * 9      # a plain read shifts the memory
    p.send(b"\n")
    assert t.read_line(0, b"\n", 1000) == (b"c" * 41, True)
    p.send(b"xyz" * 20)
    assert t.read_line(0, b"\n", 1000) is None   # scanned all 60
    assert t.read_line(0, b"\n", 10) == (b"xyzxyzxyzx", False)  # shorter limit
    p.send(b"\n")
    assert t.read_line(0, b"\n", 1000) == ((b"xyz" * 20)[10:], True)
    # a long unterminated line arriving in many packets is found at once
    for _ in range(100):
        p.send(b"q" * 1000)
        assert t.read_line(0, b"END", 1 << 20) is None
    p.send(b"EN")
    assert t.read_line(0, b"END", 1 << 20) is None
    p.send(b"D")
    assert t.read_line(0, b"END", 1 << 20) == (b"q" * 100_000, True)


def test_streams_are_framed_separately():
    p = Peer(1 << 20)
    t = p.table
    p.send(b"out1\nou", stream=0)
    p.send(b"err1\ner", stream=1)
    assert t.read_line(0, b"\n", 99, 1) == (b"err1", True)
    assert t.read_line(0, b"\n", 99, 1) is None
    assert t.read_line(0, b"\n", 99, 0) == (b"out1", True)
    assert t.read_record(0, 2, 0) == b"ou"
    assert t.read_record(0, 2, 1) == b"er"


def test_bad_arguments():
    t = ChannelTable()
    t.add(0, 1000, 1000)
    with pytest.raises(ValueError):
        t.read_record(0, 0)
    with pytest.raises(ValueError):
        t.read_record(0, 4, stream=2)
    with pytest.raises(ValueError):
        t.read_line(0, b"", 4)
    with pytest.raises(ValueError):
        t.read_line(0, b"\n", 0)
    with pytest.raises(ValueError):
        t.read_line(0, b"\n", 4, stream=-1)
    with pytest.raises(TypeError):
        t.read_line(0, "\n", 4)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        t.read_record(5, 4)
    with pytest.raises(KeyError):
        t.read_line(5, b"\n", 4)
    with pytest.raises(KeyError):
        t.window_stalled(5)


# ------------------------------------------------------------- window accounting

def test_records_batch_window_adjusts_like_read():
    """Consuming through read_record re-advertises exactly as read() does."""
    W = 64 * 1024
    a, b = Peer(W), Peer(W)
    for p in (a, b):
        for _ in range(16):
            p.send(bytes(4096))
    for _ in range(64):
        assert a.table.read_record(0, 1024) == bytes(1024)
        assert b.table.read(0, 1024) == bytes(1024)
        assert a.take_adjusts() == b.take_adjusts()
        assert a.table.local_window(0) == b.table.local_window(0)
    assert a.adjusts == b.adjusts == [W // 2, W // 2]


def test_waiting_record_of_a_whole_window_completes():
    """A partial record keeps holding window; the adjust for what was read
    before it still goes out, so a record of up to max_window completes."""
    W = 64 * 1024
    p = Peer(W)
    t = p.table
    p.send(bytes(W // 4))
    assert t.read_record(0, W // 4) == bytes(W // 4)
    assert p.take_adjusts() == 0              # a quarter: batched, not sent
    p.send(bytes(W // 2))                     # first part of a W-byte record
    p.send(bytes(W // 4))                     # the peer's window is now used up
    assert p.window == 0 and t.read_record(0, W) is None
    # normal batching would wait for half of W; the held 3/4 W is not slow
    # reading, so the quarter goes out now
    assert p.take_adjusts() == W // 4
    p.send(bytes(W // 4))
    assert t.read_record(0, W) == bytes(W)
    assert p.take_adjusts() == W and not t.window_stalled(0)


def test_waiting_line_longer_than_half_the_window_completes():
    """Plain half-window batching would deadlock here: two bytes read, a
    partial line holding the rest of the window, the peer out of window."""
    W = 3000
    p = Peer(W)
    t = p.table
    p.send(b"x\n" + b"y" * (W - 2))
    assert t.read_line(0, b"\n", W) == (b"x", True)
    assert t.read_line(0, b"\n", W) is None and not t.window_stalled(0)
    assert p.take_adjusts() == 2              # the two bytes read, at once
    p.send(b"z\n")
    assert t.read_line(0, b"\n", W) == (b"y" * (W - 2) + b"z", True)


def test_waiting_adjust_deferred_by_key_exchange_is_sent_after():
    W = 10_000
    p = Peer(W)
    t = p.table
    p.send(bytes(3000))
    assert t.read_record(0, 3000) is not None
    p.send(bytes(7000))
    p.cli.data_blocked = True                 # key re-exchange in progress
    assert t.read_record(0, 9000) is None
    assert p.take_adjusts() == 0
    p.cli.data_blocked = False
    assert p.take_adjusts() == 3000           # flush_adjusts keeps the waiting rule
    p.send(bytes(2000))
    assert t.read_record(0, 9000) == bytes(9000)


def test_window_stalled_when_a_piece_exceeds_the_window():
    W = 8192
    p = Peer(W)
    t = p.table
    p.send(bytes(W - 1))
    assert t.read_record(0, W + 1) is None and not t.window_stalled(0)
    p.send(b"\x01")
    assert t.read_record(0, W + 1) is None and t.read_line(0, b"\n", W + 1) is None
    assert t.window_stalled(0) and p.take_adjusts() == 0   # nothing can come
    assert t.read(0) == bytes(W - 1) + b"\x01"              # hand out what is there
    assert p.take_adjusts() == W and not t.window_stalled(0)


# ------------------------------------------------ the spec adapter on the table

MODES = st.one_of(
    st.tuples(st.just("record"), st.integers(1, 3000)),
    st.tuples(st.just("line"), st.tuples(
        st.sampled_from([b"\n", b"\r\n", b"\x00", b"\x00\x00", b"<EOL>", b"aa", b"\n\x00\n"]),
        st.integers(1, 3000))),
    st.tuples(st.just("plain"), st.none()),
)


def channel_for(mode) -> SpecChannel:
    kind, arg = mode
    ch = spec_channel()
    if kind == "record":
        ch.record_length = arg
    elif kind == "line":
        ch.eol, ch.max_length = arg
    return ch


# (length, seed, EOL positions): big payloads are cheap to draw this way
RAW = st.tuples(st.integers(0, 30_000), st.integers(0, 2**32),
                st.lists(st.integers(0, 30_000), max_size=40))


def payload(raw: tuple[int, int, list[int]], mode) -> bytes:
    """Random bytes, with the EOL put in at drawn places for line framing:
    lines of any length (short ones, and ones longer than max_length or the
    window)."""
    size, seed, cuts = raw
    data = random.Random(seed).randbytes(size)
    if mode[0] != "line":
        return data
    eol = mode[1][0]
    out, last = bytearray(), 0
    for cut in sorted(min(c, size) for c in cuts):
        out += data[last:cut] + eol
        last = cut
    return bytes(out + data[last:])


def run_peer(p: Peer, ch: SpecChannel, data: bytes, sizes, fire, ref=None, stream=0,
             other: bytes = b"", table=None):
    """Send `data` (and `other` on the other stream) in packets of the drawn
    sizes, as the window allows, delivering after each packet; fail if the
    peer ever has data, no window, and gets none back (a deadlock)."""
    pos = opos = 0
    i = 0
    while pos < len(data) or opos < len(other):
        n = min(sizes[i % len(sizes)], p.window)
        i += 1
        if n == 0:
            pytest.fail("deadlock: the peer has data but no window")
        if pos < len(data) and (opos >= len(other) or i % 2):
            chunk = data[pos:pos + n]
            pos += len(chunk)
            p.send(chunk, stream)
            if ref is not None:
                ref.feed(chunk)
        else:
            chunk = other[opos:opos + n]
            opos += len(chunk)
            p.send(chunk, 1 - stream)
        on(table or p.table, ch).deliver(fire)
        p.take_adjusts()


@settings(max_examples=300, deadline=None)
@given(mode=MODES, raw=RAW,
       sizes=st.lists(st.integers(1, 32768), min_size=1, max_size=30),
       extra_window=st.integers(0, 4000), stream=st.sampled_from([0, 1]))
def test_random_chunking_matches_the_reference(mode, raw, sizes, extra_window, stream):
    """Any packet boundaries, any window at least one piece big: the pieces
    are the reference's, and the window never stalls."""
    data = payload(raw, mode)
    need = mode[1] if mode[0] == "record" else (mode[1][1] if mode[0] == "line" else 1)
    p = Peer(need + extra_window)
    ch = channel_for(mode)
    ref = Reference(channel_for(mode))
    got, fire = collector()
    run_peer(p, ch, data, sizes, fire, ref, stream)
    assert got == ref.got
    assert not p.table.window_stalled(0)
    held = p.table.available(0, stream)
    assert held == len(ref.pending)
    on(p.table, ch).flush(fire)                   # at close: the remainder, eol_found False
    reassemble(got, data, ch)
    if held:
        assert got[-1] == (bytes(ref.pending), False)
    assert p.table.total_buffered() == 0


class Tap:
    """The table as SpecChannel sees it, noting which stream each read is for."""

    def __init__(self, table: ChannelTable) -> None:
        self.t = table
        self.stream = -1

    def __contains__(self, local_id: object) -> bool:
        return local_id in self.t

    def window_stalled(self, local_id: int) -> bool:
        return self.t.window_stalled(local_id)

    def read(self, local_id, max_bytes=-1, stream=0):
        self.stream = stream
        return self.t.read(local_id, max_bytes, stream)

    def read_record(self, local_id, size, stream=0):
        self.stream = stream
        return self.t.read_record(local_id, size, stream)

    def read_line(self, local_id, eol, max_length, stream=0):
        self.stream = stream
        return self.t.read_line(local_id, eol, max_length, stream)


def reassemble(pieces, data: bytes, ch: SpecChannel) -> None:
    """The pieces are `data` in order, cut by the rules: whole records, lines
    without their EOL, or (eol_found False) whatever was held."""
    pos = 0
    lines = ch.record_length <= 0 and ch.eol and ch.max_length > 0
    for piece, found in pieces:
        assert data[pos:pos + len(piece)] == piece
        pos += len(piece)
        if found and ch.record_length > 0:
            assert len(piece) == ch.record_length
        if found and lines:
            assert data[pos:pos + len(ch.eol)] == ch.eol and len(piece) <= ch.max_length
            pos += len(ch.eol)
    assert pos == len(data)


@settings(max_examples=150, deadline=None)
@given(mode=MODES, raw=RAW, raw_other=RAW,
       sizes=st.lists(st.integers(1, 32768), min_size=1, max_size=30),
       window=st.integers(1, 20_000))
def test_framing_never_deadlocks(mode, raw, raw_other, sizes, window):
    """Pieces bigger than the window, both streams holding part of it: the
    adapter hands out what is held when the window is stalled; on each
    stream nothing is lost or reordered and every byte arrives."""
    data, other = payload(raw, mode), payload(raw_other, mode)
    p = Peer(window)
    tap = Tap(p.table)
    ch = channel_for(mode)
    got: dict[int, list[tuple[bytes, bool]]] = {0: [], 1: []}

    def fire(piece: bytes, found: bool) -> None:
        got[tap.stream].append((piece, found))

    run_peer(p, ch, data, sizes, fire, other=other, table=tap)
    on(tap, ch).flush(fire)
    assert p.table.total_buffered() == 0
    reassemble(got[0], data, ch)
    reassemble(got[1], other, ch)


def test_record_length_changed_inside_the_handler():
    p = Peer(1 << 20)
    ch = spec_channel(record_length=4)
    sizes: list[int] = []

    def fire(piece: bytes, found: bool) -> None:
        sizes.append(len(piece))
        if len(sizes) == 2:
            ch.record_length = 3              # change_record_length inside the event

    for b in bytes(15):
        p.send(bytes([b]))
        on(p.table, ch).deliver(fire)
    assert sizes == [4, 4, 3, 3] and ch.eol_found is True
    on(p.table, ch).flush(fire)                   # at close: the tail
    assert sizes == [4, 4, 3, 3, 1] and ch.eol_found is False


def test_framing_switched_off_hands_out_what_is_held():
    p = Peer(1 << 20)
    ch = spec_channel(eol=b"\n", max_length=100)
    got, fire = collector()
    p.send(b"line\npartial")
    on(p.table, ch).deliver(fire)
    assert got == [(b"line", True)] and ch.eol_found
    ch.max_length = 0
    on(p.table, ch).deliver(fire)
    assert got[-1] == (b"partial", True) and p.table.total_buffered() == 0


def test_adapter_stall_fallback_keeps_order_and_sizes():
    """RecordLength above the window: each time the window is full, what is
    held goes out (eol_found False) and the peer is let go on."""
    W = 10_000
    p = Peer(W)
    ch = spec_channel(record_length=25_000)
    got, fire = collector()
    data = bytes(i % 251 for i in range(60_000))
    run_peer(p, ch, data, [4096], fire)
    on(p.table, ch).flush(fire)
    assert b"".join(d for d, _ in got) == data
    assert all(not found and len(d) <= W for d, found in got)
    assert [len(d) for d, _ in got[:-1]] == [W] * (len(got) - 1)

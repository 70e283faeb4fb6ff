"""The packet engine against the pure-Python reference codec (hypothesis), and
its framing bounds, error codes, buffers and sequence/counter bookkeeping."""
from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_codec import Opener, Sealer, random_keys, suites
from sshcore import crypto
from sshcore.packet import PacketEngine, ProtocolError

BACKENDS = crypto.available_backends()
SUITES = suites()
SECURE_SUITES = [s for s in SUITES if s[0] != "none"]
HSET = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(params=BACKENDS)
def backend(request):
    prev = crypto._set_backend(request.param)
    yield request.param
    crypto._set_backend(prev)


def sid(s):
    return "{}+{}".format(*s)


def keys_st(cipher, mac):
    key_len, iv_len, _, _ = crypto.cipher_info(cipher) if cipher != "none" else (0, 0, 8, False)
    mk = crypto.mac_info(mac)[0] if mac else 0
    return st.tuples(st.binary(min_size=key_len, max_size=key_len),
                     st.binary(min_size=iv_len, max_size=iv_len),
                     st.just(mac), st.binary(min_size=mk, max_size=mk) if mac else st.none())


# Message types that are never routed, so every packet comes back to Python.
# Mostly small bodies, sometimes above the sizes where the fast backend
# switches implementation (chacha: OpenSSL from 512 B, gcm: cryptography from 16 KiB).
big_body_st = st.tuples(st.integers(16400, 20000), st.binary(min_size=1, max_size=16)).map(
    lambda t: (t[1] * (t[0] // len(t[1]) + 1))[: t[0]])
body_st = st.one_of(st.binary(max_size=600), st.binary(min_size=500, max_size=1500), big_body_st)
payload_st = st.tuples(st.sampled_from([2, 5, 20, 50, 80, 90, 98, 100, 250]),
                       body_st).map(lambda t: bytes([t[0]]) + t[1])
payloads_st = st.lists(payload_st, min_size=1, max_size=6)
seq_st = st.one_of(st.integers(0, 2**32 - 1), st.integers(2**32 - 4, 2**32 - 1))


def drain(e):
    out = []
    while (p := e.next_packet()) is not None:
        out.append(p)
    return out


def engine_pair(cipher, mac, keys, seq):
    a, b = PacketEngine(), PacketEngine()
    a.set_outgoing(cipher, *keys)
    b.set_incoming(cipher, *keys)
    a.seq_out = b.seq_in = seq
    return a, b


# ------------------------------------------------------------ interop (a)

@pytest.mark.parametrize("suite", SUITES, ids=sid)
@HSET
@given(data=st.data(), payloads=payloads_st, seq=seq_st)
def test_engine_seals_reference_opens(backend, suite, data, payloads, seq):
    cipher, mac = suite
    keys = data.draw(keys_st(cipher, mac))
    e = PacketEngine()
    e.set_outgoing(cipher, *keys)
    e.seq_out = seq
    for p in payloads:
        e.send_packet(p)
    wire = e.take_output()
    ref = Opener(cipher, *keys)
    assert ref.open_stream(wire, seq) == payloads
    assert e.seq_out == (seq + len(payloads)) % 2**32
    assert e.packets_out == len(payloads) and e.bytes_out == len(wire)


@pytest.mark.parametrize("suite", SUITES, ids=sid)
@HSET
@given(data=st.data(), payloads=payloads_st, seq=seq_st)
def test_reference_seals_engine_opens(backend, suite, data, payloads, seq):
    cipher, mac = suite
    keys = data.draw(keys_st(cipher, mac))
    ref = Sealer(cipher, *keys)
    wire = b""
    for i, p in enumerate(payloads):
        # Any legal padding, not just the minimum the engine itself sends.
        minimum = ref.min_padding(len(p))
        extra = data.draw(st.integers(0, (255 - minimum) // ref.block)) * ref.block
        wire += ref.seal((seq + i) % 2**32, p, bytes(minimum + extra))
    e = PacketEngine()
    e.set_incoming(cipher, *keys)
    e.seq_in = seq
    e.feed(wire)
    assert [p for _, p in drain(e)] == payloads
    assert e.pending_input() == 0
    assert e.packets_in == len(payloads) and e.bytes_in == len(wire)


# ------------------------------------------------------------ chunking (b)

@pytest.mark.parametrize("suite", SECURE_SUITES, ids=sid)
@HSET
@given(data=st.data(), payloads=payloads_st, seq=seq_st)
def test_any_chunking_gives_same_packets(backend, suite, data, payloads, seq):
    cipher, mac = suite
    keys = data.draw(keys_st(cipher, mac))
    ref = Sealer(cipher, *keys)
    wire = b"".join(ref.seal((seq + i) % 2**32, p) for i, p in enumerate(payloads))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=12)))
    e = PacketEngine()
    e.set_incoming(cipher, *keys)
    e.seq_in = seq
    got, pos = [], 0
    for i, cut in enumerate(cuts + [len(wire)]):
        chunk = wire[pos:cut]
        pos = cut
        if i % 2:
            e.feed(chunk)
        else:   # the recv_into path
            view = e.recv_buffer(max(1, len(chunk)))
            view[: len(chunk)] = chunk
            del view
            e.recv_commit(len(chunk))
        got += drain(e)
    assert [p for _, p in got] == payloads
    assert e.pending_input() == 0


# ----------------------------------------------------------- corruption (c)

@pytest.mark.parametrize("suite", SECURE_SUITES, ids=sid)
@HSET
@given(data=st.data(), payloads=st.lists(payload_st, min_size=1, max_size=4), seq=seq_st)
def test_corruption_is_detected(backend, suite, data, payloads, seq):
    cipher, mac = suite
    keys = data.draw(keys_st(cipher, mac))
    ref = Sealer(cipher, *keys)
    packets = [ref.seal((seq + i) % 2**32, p) for i, p in enumerate(payloads)]
    wire = bytearray(b"".join(packets))
    where = data.draw(st.integers(0, len(wire) - 1))
    wire[where] ^= data.draw(st.integers(1, 255))
    bad = 0
    while where >= len(packets[bad]):
        where -= len(packets[bad])
        bad += 1
    e = PacketEngine()
    e.set_incoming(cipher, *keys)
    e.seq_in = seq
    e.feed(bytes(wire))
    got = []
    with pytest.raises(ProtocolError) as exc:
        while True:
            p = e.next_packet()
            if p is None:
                # A corrupted length can make the engine wait for bytes that
                # never come; more input must still end in an error.
                e.feed(bytes(e.max_packet_length + 100))
                continue
            got.append(p[1])
    assert exc.value.code in (1015, 1036)
    assert got == payloads[:bad]     # everything before the damage, nothing after
    with pytest.raises(ProtocolError):
        e.next_packet()              # sticky


# ------------------------------------------------------------ framing bounds

def plain_packet(payload: bytes, pad: int, length: int | None = None) -> bytes:
    body = bytes([pad]) + payload + bytes(pad)
    return struct.pack(">I", len(body) if length is None else length) + body


@pytest.mark.parametrize("wire,why", [
    (struct.pack(">IB", 4, 3) + bytes(8), "length below 5"),
    (plain_packet(b"\x02" * 7, 4, 300 * 1024), "length over max_packet_length"),
    (plain_packet(b"\x02" * 6, 4), "length+4 not a multiple of 8"),
    (plain_packet(b"\x02" * 7, 3)[:-1] + bytes(1), "padding below 4"),
    (struct.pack(">IB", 12, 11) + bytes(11), "padding leaves no message type"),
    (struct.pack(">IB", 12, 200) + bytes(11), "padding longer than the packet"),
])
def test_bad_framing_is_1036(wire, why):
    e = PacketEngine()
    e.feed(wire + bytes(64))
    with pytest.raises(ProtocolError) as exc:
        e.next_packet()
    assert exc.value.code == 1036, why
    assert exc.value.reason == 2
    assert isinstance(exc.value, ValueError)


def test_valid_none_packet_and_type_byte():
    e = PacketEngine()
    e.feed(plain_packet(b"\x15", 10) + plain_packet(b"\x05abc", 7))
    assert e.next_packet() == (21, b"\x15")
    assert e.next_packet() == (5, b"\x05abc")
    assert e.next_packet() is None


@pytest.mark.parametrize("suite", [("aes128-gcm@openssh.com", None),
                                   ("aes128-ctr", "hmac-sha2-256-etm@openssh.com")], ids=sid)
def test_oversize_length_rejected_before_buffering(backend, suite):
    """A huge announced length fails at once, not after buffering it."""
    cipher, mac = suite
    keys = random_keys(cipher, mac)
    e = PacketEngine(max_packet_length=35000, recv_buffer_limit=64 * 1024)
    e.set_incoming(cipher, *keys)
    e.feed(struct.pack(">I", 35008) + bytes(12))
    with pytest.raises(ProtocolError) as exc:
        e.next_packet()
    assert exc.value.code == 1036


@pytest.mark.parametrize("suite", SECURE_SUITES, ids=sid)
def test_bad_mac_is_1015_and_send_side_survives(backend, suite):
    cipher, mac = suite
    keys = random_keys(cipher, mac)
    a, b = engine_pair(cipher, mac, keys, 7)
    a.send_packet(b"\x02hello")
    wire = bytearray(a.take_output())
    wire[-1] ^= 1
    b.feed(wire)
    with pytest.raises(ProtocolError) as exc:
        b.next_packet()
    assert (exc.value.code, exc.value.reason) == (1015, 5)
    assert "1015" in str(exc.value)
    with pytest.raises(ProtocolError):
        b.next_packet()
    b.send_packet(b"\x01\x00\x00\x00\x02")     # DISCONNECT still goes out
    assert b.output_size() > 0


@pytest.mark.parametrize("suite", SUITES, ids=sid)
def test_padding_rules_on_send(backend, suite):
    cipher, mac = suite
    keys = random_keys(cipher, mac)
    ref = Opener(cipher, *keys)
    e = PacketEngine()
    e.set_outgoing(cipher, *keys)
    bs = 8 if cipher == "none" else crypto.cipher_info(cipher)[2]
    in_clear = cipher in ("chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
                          "aes256-gcm@openssh.com") or (mac or "").endswith("etm@openssh.com")
    for n in range(1, 70):
        e.send_packet(bytes([50]) * n)
        wire = e.take_output()
        length = len(wire) - 4 - ref.mac_len
        assert (length + (0 if in_clear else 4)) % bs == 0
        pad = length - 1 - n
        assert 4 <= pad < 4 + bs
        assert ref.open_stream(wire, e.seq_out - 1) == [bytes([50]) * n]


def test_padding_is_random():
    e = PacketEngine()
    e.send_packet(b"\x02abc")
    e.send_packet(b"\x02abc")
    w = e.take_output()
    assert len(w) == 32                      # two 16-byte packets, 7 padding bytes each
    assert w[:9] == w[16:25] and w[9:16] != w[25:32]


def test_send_packet_rejects_empty_and_huge():
    e = PacketEngine()
    with pytest.raises(ValueError):
        e.send_packet(b"")
    with pytest.raises(ValueError):
        e.send_packet(bytes(e.max_packet_length + 1))


# ------------------------------------------------------ keys and sequence

@pytest.mark.parametrize("suite", SECURE_SUITES, ids=sid)
def test_stops_after_each_packet_for_newkeys(backend, suite):
    """NEWKEYS then a packet under the new keys, arriving in one read."""
    cipher, mac = suite
    keys = random_keys(cipher, mac)
    srv = PacketEngine()
    srv.send_packet(b"\x15")                       # NEWKEYS in the clear
    srv.set_outgoing(cipher, *keys)
    srv.send_packet(b"\x05\x00\x00\x00\x0cssh-userauth")
    cli = PacketEngine()
    cli.feed(srv.take_output())
    assert cli.next_packet() == (21, b"\x15")
    assert cli.pending_input() > 0                 # the next packet is untouched
    cli.set_incoming(cipher, *keys)
    assert cli.next_packet() == (5, b"\x05\x00\x00\x00\x0cssh-userauth")


def test_strict_kex_sequence_reset_and_wrap():
    e = PacketEngine()
    e.seq_out = 2**32 - 1
    e.send_packet(b"\x02")
    assert e.seq_out == 0
    e.send_packet(b"\x02")
    e.reset_outgoing_sequence()
    assert e.seq_out == 0
    e.seq_in = 5
    e.reset_incoming_sequence()
    assert e.seq_in == 0


def test_set_incoming_mid_packet_is_refused_for_ctr():
    keys = random_keys("aes128-ctr", "hmac-sha1")
    a, b = engine_pair("aes128-ctr", "hmac-sha1", keys, 0)
    a.send_packet(b"\x02" * 100)
    b.feed(a.take_output()[:20])                   # first block decrypted, rest missing
    assert b.next_packet() is None
    with pytest.raises(RuntimeError):
        b.set_incoming("aes128-ctr", *keys)


def test_counters_and_reset():
    a, b = PacketEngine(), PacketEngine()
    for n in (1, 10, 100):
        a.send_packet(b"\x02" * n)
    wire = a.take_output()
    b.feed(wire)
    drain(b)
    assert (a.packets_out, a.bytes_out) == (3, len(wire))
    assert (b.packets_in, b.bytes_in) == (3, len(wire))
    a.reset_counters()
    b.reset_counters()
    assert a.packets_out == a.bytes_out == b.packets_in == b.bytes_in == 0
    assert a.seq_out == 3                           # not a sequence reset


# ---------------------------------------------------------------- buffers

def test_recv_buffer_limit():
    e = PacketEngine(max_packet_length=2048, recv_buffer_limit=4096)
    v = e.recv_buffer(1 << 20)
    assert len(v) == 4096                          # clamped to the limit
    del v
    e.recv_commit(4000)
    assert len(e.recv_buffer(1000)) == 96
    e.recv_commit(96)
    # Full: backpressure (process first), never an error a peer could cause.
    assert len(e.recv_buffer()) == 0
    e.feed(b"x")                                   # what a caller already holds is kept
    assert e.pending_input() == 4097
    with pytest.raises(ValueError):
        PacketEngine(max_packet_length=35000, recv_buffer_limit=35000)


def test_recv_commit_bounds():
    e = PacketEngine()
    v = e.recv_buffer(100)
    with pytest.raises(ValueError):
        e.recv_commit(len(v) + 1)
    with pytest.raises(ValueError):
        e.recv_commit(-1)


def test_stale_recv_view_stays_memory_safe():
    e = PacketEngine()
    old = e.recv_buffer(16)
    e.feed(bytes(200 * 1024))                      # forces a new, larger block
    old[:4] = b"abcd"                              # the old block is still alive
    assert bytes(old[:4]) == b"abcd"
    assert e.pending_input() == 200 * 1024


def test_output_view_contents_stay_put_while_held():
    e = PacketEngine()
    e.send_packet(b"\x02" + bytes(100))
    view = e.output_view()
    snapshot = bytes(view)
    assert view.readonly
    e.output_consume(len(view))
    for _ in range(3000):                          # grows and would reuse the block
        e.send_packet(b"\x02" + bytes(100))
    assert bytes(view) == snapshot
    del view
    total = e.output_size()
    e.output_consume(total)
    assert e.output_size() == 0 and e.take_output() == b""
    with pytest.raises(ValueError):
        e.output_consume(1)


def test_take_output_and_partial_consume():
    a, b = PacketEngine(), PacketEngine()
    for i in range(10):
        a.send_packet(bytes([2]) + bytes(i))
    size = a.output_size()
    v = a.output_view()
    first = bytes(v[:7])
    del v
    a.output_consume(7)
    rest = a.take_output()
    assert len(first) + len(rest) == size
    b.feed(first + rest)
    assert len(drain(b)) == 10


def test_concurrent_use_is_refused_not_corrupting():
    """While a big batch is processed without the GIL, another thread touching
    the engine gets RuntimeError instead of racing on its buffers."""
    import threading
    keys = random_keys("aes128-gcm@openssh.com", None)
    a, b = engine_pair("aes128-gcm@openssh.com", None, keys, 0)
    for _ in range(200):
        a.send_packet(b"\x02" + bytes(32768))
    b.feed(a.take_output())
    errors, stop = [], threading.Event()

    def poke():
        while not stop.is_set():
            try:
                b.recv_buffer(10)
            except RuntimeError:
                errors.append(1)
    t = threading.Thread(target=poke)
    t.start()
    try:
        got = drain(b)
    finally:
        stop.set()
        t.join()
    assert len(got) == 200                          # never corrupted, whatever the timing

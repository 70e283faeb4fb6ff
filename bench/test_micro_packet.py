"""Micro benchmarks of the compiled core (pytest-benchmark).

    python -m pytest bench/test_micro_packet.py --benchmark-only \
        --benchmark-group-by=param:suite,param:size --benchmark-columns=min,median,ops

For each cipher suite and packet size the groups put side by side:
  engine_seal / engine_open  the whole PacketEngine path (framing, padding,
                             sequence numbers, buffers, one Python call),
  cipher_seal                the PacketCipher alone on a prebuilt frame,
  raw_*                      the bare crypto call it wraps,
so framing overhead = engine_seal - cipher_seal, and the cost of the suite
construction itself = cipher_seal - raw_*.  Then channel routing and window
accounting.  The backend mode is a parameter too (fast / nogil / cryptography).
"""
from __future__ import annotations

import os
import struct

import pytest

from sshcore import crypto
from sshcore.packet import PacketEngine

SIZES = [64, 1024, 32768]
SUITES = [
    ("chacha20-poly1305@openssh.com", None),
    ("aes128-gcm@openssh.com", None),
    ("aes256-gcm@openssh.com", None),
    ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
    ("aes128-ctr", "hmac-sha2-256"),
    ("aes256-ctr", "hmac-sha2-512-etm@openssh.com"),
]
MODES = crypto.available_backends()


def sid(s):
    return s[0] if s[1] is None else "{}+{}".format(*s)


def keys(cipher, mac):
    k, iv, _, _ = crypto.cipher_info(cipher)
    mk = crypto.mac_info(mac)[0] if mac else 0
    return os.urandom(k), os.urandom(iv), mac, os.urandom(mk) if mac else None


@pytest.fixture(params=MODES)
def mode(request):
    prev = crypto._set_backend(request.param)
    yield request.param
    crypto._set_backend(prev)


def payload(size):
    return b"\x50" + bytes(size - 1)      # GLOBAL_REQUEST: never routed


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite", SUITES, ids=sid)
def test_engine_seal(benchmark, mode, suite, size):
    e = PacketEngine()
    e.set_outgoing(suite[0], *keys(*suite))
    p = payload(size)

    def seal():
        e.send_packet(p)
        e.output_consume(e.output_size())
    benchmark(seal)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite", SUITES, ids=sid)
def test_engine_open(benchmark, mode, suite, size):
    """Steady state: one packet per call through feed + next_packet, from a
    ring of 64 pre-sealed packets (the opener is re-keyed every 64)."""
    k = keys(*suite)
    src = PacketEngine()
    src.set_outgoing(suite[0], *k)
    ring = []
    for _ in range(64):
        src.send_packet(payload(size))
        ring.append(src.take_output())
    e = PacketEngine()
    state = [0]

    def open_one():
        i = state[0]
        if i == 0:
            e.set_incoming(suite[0], *k)
            e.seq_in = 0
        e.feed(ring[i])
        e.next_packet()
        state[0] = (i + 1) % 64
    benchmark(open_one)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite", SUITES, ids=sid)
def test_cipher_seal(benchmark, mode, suite, size):
    """The PacketCipher on an already framed buffer (no engine around it)."""
    c = crypto.make_cipher(suite[0], *keys(*suite), True)
    buf = bytearray(4 + 1 + size + 16 + c.mac_len)
    benchmark(c.seal_inplace, 1, buf)


@pytest.mark.parametrize("size", SIZES)
def test_raw_gcm(benchmark, mode, size):
    g = crypto._gcm(os.urandom(16), True)
    buf = bytearray(4 + size + 16)
    benchmark(g.seal_inplace, bytes(12), buf)


@pytest.mark.parametrize("size", SIZES)
def test_raw_cryptography_aesgcm_encrypt_into(benchmark, size):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    a = AESGCM(os.urandom(16))
    data, out = bytes(size), bytearray(size + 16)
    benchmark(a.encrypt_into, bytes(12), data, b"\0\0\0\0", out)


@pytest.mark.parametrize("impl", sorted(crypto._chacha_impls()))
@pytest.mark.parametrize("size", SIZES)
def test_raw_chacha20_poly1305(benchmark, impl, size):
    """The two primitive calls a chacha packet makes on its body (plus copies
    in this Python-facing helper)."""
    ch = crypto._chacha_impls()[impl]
    key, nonce, data = os.urandom(32), bytes(8), bytes(size)

    def both():
        ch.stream_xor(key, nonce, 1, data)
        ch.poly1305(key, data)
    benchmark(both)


@pytest.mark.parametrize("size", SIZES)
def test_raw_aes_ctr(benchmark, mode, size):
    c = crypto._ctr(os.urandom(16), os.urandom(16))
    buf = bytearray(size)
    benchmark(c.update_inplace, buf)


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("size", SIZES)
def test_raw_hmac(benchmark, mode, digest, size):
    m = crypto._hmac(digest, os.urandom(32))
    benchmark(m.digest_raw, bytes(size))


# ------------------------------------------------------------ channels

def _download_ring(suite, size, k):
    """64 CHANNEL_DATA packets for local channel 0, sealed."""
    src = PacketEngine()
    if suite[0] != "none":
        src.set_outgoing(suite[0], *k)
    ring = []
    for _ in range(64):
        src.send_packet(struct.pack(">BII", 94, 0, size) + bytes(size))
        ring.append(src.take_output())
    return ring


@pytest.mark.parametrize("reader", ["skip", "read_into"])
@pytest.mark.parametrize("size", [1024, 32768])
@pytest.mark.parametrize("suite", [("none", None)] + SUITES, ids=sid)
def test_route_channel_data(benchmark, mode, suite, size, reader):
    """Receive path of a download: feed, decrypt (straight into the channel
    buffer after the first packet), then the reader either discards the
    data (skip: what drain() does, no copy) or copies it out (read_into);
    window adjusts going out. Compare with test_raw_open."""
    k = keys(*suite) if suite[0] != "none" else None
    ring = _download_ring(suite, size, k)
    e = PacketEngine()
    t = e.channels
    t.add(0, 2 << 20, 32768)
    t.confirm(0, 0, 2 << 20, 32768)
    sink = bytearray(size)
    state = [0]
    take = t.skip if reader == "skip" else (lambda cid: t.read_into(cid, sink))

    def one():
        i = state[0]
        if i == 0 and k is not None:
            e.set_incoming(suite[0], *k)
            e.seq_in = 0
        e.feed(ring[i])
        assert e.next_packet() is None
        take(0)
        e.output_consume(e.output_size())
        state[0] = (i + 1) % 64
    benchmark(one)


@pytest.mark.parametrize("size", [1024, 32768])
def test_raw_open_cryptography_aesgcm_decrypt_into(benchmark, size):
    """The bare call behind big AES-GCM opens in the fast mode."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    a = AESGCM(os.urandom(16))
    ct = a.encrypt(bytes(12), bytes(size), b"\0\0\0\0")
    out = bytearray(size)
    benchmark(a.decrypt_into, bytes(12), ct, b"\0\0\0\0", out)


@pytest.mark.parametrize("size", [1024, 32768])
@pytest.mark.parametrize("suite", SUITES, ids=sid)
def test_send_channel_data(benchmark, mode, suite, size):
    """Upload path: window check, framing, sealing in C (GCM: framed in a
    scratch buffer, sealed out of place into the output buffer)."""
    e = PacketEngine()
    e.set_outgoing(suite[0], *keys(*suite))
    t = e.channels
    t.add(0, 2 << 20, 32768)
    t.confirm(0, 1, 2**32 - 1, 32768)
    data = bytes(size)

    def send():
        e.send_channel_data(0, data)
        e.output_consume(e.output_size())
    benchmark(send)


def test_window_accounting_small_reads(benchmark):
    """100-byte reads against a 2 MiB window: mostly pure bookkeeping, one
    WINDOW_ADJUST per MiB consumed."""
    e, srv = PacketEngine(), PacketEngine()
    t = e.channels
    t.add(0, 2 << 20, 32768)
    t.confirm(0, 5, 0, 32768)
    chunk = struct.pack(">BII", 94, 0, 32768) + bytes(32768)

    def refill():
        while t.local_window(0) >= 32768:
            srv.send_packet(chunk)
            e.feed(srv.take_output())
            e.next_packet()

    refill()

    def read_small():
        if t.available(0) < 100:
            e.output_consume(e.output_size())
            refill()
        t.read(0, 100)
    benchmark(read_small)


@pytest.mark.parametrize("suite", [("none", None)] + SUITES, ids=sid)
def test_route_8_packets_of_32k(benchmark, mode, suite):
    """Framing overhead in its real setting: one receive brings several
    packets (the driver reads 256 KiB at a time), so feed 8 sealed 32 KiB
    CHANNEL_DATA packets at once, route them all in one next_packet() and
    discard them with skip(). Time per call / 8 = time per packet; minus
    the raw crypto call for the suite (test_raw_* at 32768) and minus
    feed()'s copy (test_memcpy_256k / 8; in real use recv_into's) = the
    framing overhead."""
    size = 32768
    k = keys(*suite) if suite[0] != "none" else None
    ring = b"".join(_download_ring(suite, size, k)[:8])
    e = PacketEngine(recv_buffer_limit=4 << 20)
    t = e.channels
    t.add(0, 4 << 20, 32768)
    t.confirm(0, 0, 4 << 20, 32768)

    def batch():
        if k is not None:
            e.set_incoming(suite[0], *k)
            e.seq_in = 0
        e.feed(ring)
        assert e.next_packet() is None
        assert t.skip(0) == 8 * size
        e.output_consume(e.output_size())
    benchmark(batch)


def test_memcpy_256k(benchmark):
    """A 256 KiB copy: what feed() costs inside test_route_8_packets_of_32k."""
    data = bytes(8 * 32768)
    dst = bytearray(len(data))
    benchmark(dst.__setitem__, slice(None), data)

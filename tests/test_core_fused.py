"""Bulk CHANNEL_DATA decrypted straight into the channel's buffer.

After one CHANNEL_DATA is routed, the engine bets that the next big packet
is data for the same channel and decrypts it in place in that channel's
buffer (PacketEngine._open_fused). These tests check that the bet never
changes what a reader sees: lost bets (other packets, other channels,
stderr), live unread bytes next to the slot, bad tags, window and EOF
violations, for every cipher suite and crypto backend.
"""
from __future__ import annotations

import hashlib
import struct

import pytest

from reference_codec import random_keys
from sshcore import crypto
from sshcore.packet import PacketEngine, ProtocolError
from test_core_channels import Link, adjust_msg, data_msg, ext_msg

BACKENDS = crypto.available_backends()
SUITES = [("chacha20-poly1305@openssh.com", None), ("aes128-gcm@openssh.com", None),
          ("aes256-gcm@openssh.com", None), ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
          ("aes256-ctr", "hmac-sha2-512"), ("aes192-ctr", "hmac-sha1-etm@openssh.com")]
SIZES = [1100, 16 * 1024 - 40, 16 * 1024 + 40, 32768]


@pytest.fixture(params=BACKENDS)
def backend(request):
    prev = crypto._set_backend(request.param)
    yield request.param
    crypto._set_backend(prev)


def chunk(i: int, n: int) -> bytes:
    return hashlib.sha256(b"%d" % i).digest() * (n // 32) + bytes(n % 32)


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: "+".join(filter(None, s)))
def test_stream_with_lost_bets_reads_back_exactly(backend, suite):
    ln = Link(suite)
    ln.open(0, rid=100, lwin=8 << 20)
    ln.open(1, rid=101, lwin=8 << 20)
    other = b"\x62" + struct.pack(">I", 0) + b"\x00" * 3000    # a big CHANNEL_REQUEST
    expect0, expect1, err0 = bytearray(), bytearray(), bytearray()
    returned = []
    for i, n in enumerate(SIZES * 3):
        d = chunk(i, n)
        expect0 += d
        returned += ln.down(data_msg(0, d))
        if i % 3 == 0:                              # bets lost three ways
            returned += ln.down(other)
            e = chunk(100 + i, 2000)
            err0 += e
            returned += ln.down(ext_msg(0, e))
            c1 = chunk(200 + i, 1500)
            expect1 += c1
            returned += ln.down(data_msg(1, c1))
        if i % 4 == 1:                              # a partial read leaves live bytes
            got = ln.t.read(0, 777)
            assert bytes(got) == bytes(expect0[:777])
            del expect0[:777]
    assert returned == [other] * 4
    # every data packet for channel 0 but the first (and the first after
    # each lost bet) went the direct way
    assert ln.cli.packets_fused == len(SIZES) * 3 - 1 - 4
    assert ln.t.read(0) == bytes(expect0)
    assert ln.t.read(1) == bytes(expect1)
    assert ln.t.read(0, stream=1) == bytes(err0)


@pytest.mark.parametrize("suite", SUITES[:4], ids=lambda s: s[0])
def test_bad_tag_on_a_fused_packet_is_1015_and_keeps_what_came_before(backend, suite):
    ln = Link(suite)
    ln.open(0, rid=100, lwin=8 << 20)
    first, second = chunk(1, 5000), chunk(2, 5000)
    ln.down(data_msg(0, first))                    # arms the direct path
    ln.t.read(0, 4990)                             # 10 live bytes right before the slot
    ln.srv.send_packet(data_msg(0, second))
    wire = bytearray(ln.srv.take_output())
    wire[-30] ^= 1                                 # inside the data
    ln.cli.feed(bytes(wire))
    with pytest.raises(ProtocolError) as exc:
        ln.cli.next_packet()
    assert exc.value.code == 1015 and ln.cli.packets_fused == 0
    assert ln.t.read(0) == first[4990:]            # nothing of the forged packet


@pytest.mark.parametrize("suite", SUITES[:4], ids=lambda s: s[0])
def test_window_and_eof_violations_on_the_direct_path_are_1022(suite):
    ln = Link(suite)
    ln.open(0, rid=100, lwin=6000)
    ln.down(data_msg(0, chunk(1, 4000)))
    with pytest.raises(ProtocolError) as exc:
        ln.down(data_msg(0, chunk(2, 2001)))        # 1 byte beyond the window
    assert exc.value.code == 1022
    assert ln.t.read(0) == chunk(1, 4000)

    ln = Link(suite)
    ln.open(0, rid=100)
    ln.down(data_msg(0, chunk(1, 4000)))
    ln.t.mark_eof_received(0)
    with pytest.raises(ProtocolError) as exc:
        ln.down(data_msg(0, chunk(2, 4000)))
    assert exc.value.code == 1022
    assert ln.t.read(0) == chunk(1, 4000)


def test_removed_channel_ends_the_bet():
    ln = Link(SUITES[1])
    ln.open(0, rid=100)
    ln.down(data_msg(0, chunk(1, 4000)))
    ln.t.remove(0)
    msg = data_msg(0, chunk(2, 4000))
    assert ln.down(msg, adjust_msg(0, 5)) == [msg, adjust_msg(0, 5)]


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: "+".join(filter(None, s)))
@pytest.mark.parametrize("size", [64, 1100, 20000])
def test_open_to_equals_open(backend, suite, size):
    """The cipher's out-of-place open gives the same plaintext as open()."""
    cipher, mac = suite
    keys = random_keys(cipher, mac)
    tx = PacketEngine()
    tx.set_outgoing(cipher, *keys)
    payload = chunk(size, size)
    tx.send_packet(payload)
    wire = tx.take_output()
    rx = crypto.make_cipher(cipher, keys[0], keys[1], mac, keys[3], False)
    body = rx.open_to_bytes(0, wire)
    pad = body[0]
    assert body[1:len(body) - pad] == payload
    rx2 = crypto.make_cipher(cipher, keys[0], keys[1], mac, keys[3], False)
    forged = bytearray(wire)
    forged[8] ^= 0x80
    with pytest.raises(ValueError):
        rx2.open_to_bytes(0, bytes(forged))


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: "+".join(filter(None, s)))
def test_big_sends_sealed_from_scratch_arrive_intact(backend, suite):
    """send_channel_data frames big packets in a scratch buffer and seals
    them into the output buffer (GCM); every suite must round-trip."""
    ln = Link(suite)
    ln.open(0, rid=100, rwin=8 << 20, rmax=32768)
    data = b"".join(chunk(i, n) for i, n in enumerate(SIZES * 2))
    assert ln.cli.send_channel_data(0, data) == len(data)
    assert ln.cli.send_channel_data(0, chunk(99, 40), 1) == 40
    got = ln.up()
    assert b"".join(m[9:] for m in got[:-1]) == data
    assert all(m[0] == 94 and len(m) - 9 <= 32768 for m in got[:-1])
    assert got[-1] == ext_msg(100, chunk(99, 40))

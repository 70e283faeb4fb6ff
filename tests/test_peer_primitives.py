"""The hostile peer's own tools, checked without the client.

test_hostile_peer.py trusts that send_length() really announces the length it
is given and that send_bad_mac() breaks only the MAC: a wrong keystream offset
would also make the client fail with 1036, and the test would pass for the
wrong reason.  Here the peer's bytes are decoded independently (cryptography's
AES-CTR / ChaCha20, lengths read by hand) and by a second PacketEngine.
"""
from __future__ import annotations

import os
import socket
import struct
import threading

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from peer import PeerConfig, Session
from sshcore import crypto
from sshcore.packet import PacketEngine, ProtocolError

SUITES = [("none", None), ("aes128-ctr", "hmac-sha2-256"), ("aes256-ctr", "hmac-sha1"),
          ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"), ("aes256-gcm@openssh.com", None),
          ("chacha20-poly1305@openssh.com", None)]


def keys(cipher: str, mac: str | None) -> tuple:
    key_len, iv_len, _, _ = crypto.cipher_info(cipher)
    mac_key = os.urandom(crypto.mac_info(mac)[0]) if mac else None
    return (cipher, os.urandom(key_len) or None, os.urandom(iv_len) or None, mac, mac_key)


def peer_bytes(suite: tuple, action) -> bytes:  # type: ignore[no-untyped-def]
    """Three IGNOREs of different sizes, then action(session); what went on the wire."""
    a, b = socket.socketpair()
    try:
        s = Session(PeerConfig(), a, threading.Event())
        s.engine.set_outgoing(*suite)
        s._out_keys = suite
        s._out_base = (s.engine.bytes_out, s.engine.packets_out)
        for size in (1, 100, 5000):
            s.send(b"\x02" + struct.pack(">I", size) + bytes(size))
        action(s)
        a.shutdown(socket.SHUT_WR)
        out = bytearray()
        while chunk := b.recv(65536):
            out += chunk
        return bytes(out)
    finally:
        a.close()
        b.close()


def last_length(suite: tuple, wire: bytes, packets: int) -> int:
    """Walk `packets` packets by hand, then decode the next packet_length field."""
    cipher, key, iv, mac, _ = suite
    mac_len = 16 if cipher != "none" and mac is None else crypto.mac_info(mac)[1] if mac else 0
    pos = 0
    if cipher.endswith("-ctr") and not mac.endswith("-etm@openssh.com"):
        plain = Cipher(algorithms.AES(key), modes.CTR(iv)).decryptor()
        for _ in range(packets):
            length = struct.unpack(">I", plain.update(wire[pos:pos + 16])[:4])[0]
            plain.update(wire[pos + 16:pos + 4 + length])
            pos += 4 + length + mac_len
        return int(struct.unpack(">I", plain.update(wire[pos:pos + 16])[:4])[0])
    for seq in range(packets + 1):
        field = wire[pos:pos + 4]
        if cipher.startswith("chacha20"):
            nonce = bytes(8) + seq.to_bytes(8, "big")
            field = Cipher(algorithms.ChaCha20(key[32:], nonce), None).decryptor().update(field)
        length = struct.unpack(">I", field)[0]
        pos += 4 + length + mac_len
    return int(length)


@pytest.mark.parametrize("length", [1 << 31, 0xFFFFFFFF, 3, 70000])
@pytest.mark.parametrize("suite", SUITES, ids=lambda s: f"{s[0]}+{s[1]}")
def test_send_length_announces_exactly_that_length(suite, length):
    suite = keys(*suite)
    wire = peer_bytes(suite, lambda s: s.send_length(length))
    assert last_length(suite, wire, 3) == length
    engine = PacketEngine()
    engine.set_incoming(*suite)
    engine.feed(wire + os.urandom(256))
    assert [engine.next_packet()[0] for _ in range(3)] == [2, 2, 2]
    if length > engine.max_packet_length:
        with pytest.raises(ProtocolError) as info:
            engine.next_packet()
        assert info.value.code == 1036


@pytest.mark.parametrize("suite", SUITES[1:], ids=lambda s: f"{s[0]}+{s[1]}")
def test_send_bad_mac_breaks_only_that_packet(suite):
    suite = keys(*suite)
    wire = peer_bytes(suite, lambda s: s.send_bad_mac(b"\x02\x00\x00\x00\x00"))
    engine = PacketEngine()
    engine.set_incoming(*suite)
    engine.feed(wire)
    assert [engine.next_packet()[0] for _ in range(3)] == [2, 2, 2]
    with pytest.raises(ProtocolError) as info:
        engine.next_packet()
    assert info.value.code == 1015

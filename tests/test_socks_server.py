"""The SOCKS server's handshake as a sans-IO parser (forwarding/socks.py):
every request shape fed whole and byte by byte, and the refusals."""
from __future__ import annotations

import struct

import pytest

from sshclient.forwarding.socks import SocksHandshake, SocksRequest, socks5_code

SOCKS5_NAME = b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0bexample.org\x01\xbb"
SOCKS5_IPV6 = b"\x05\x01\x00" + b"\x05\x01\x00\x04" + b"\x00" * 15 + b"\x01" + b"\x00\x16"
SOCKS4 = struct.pack(">BBH4s", 4, 1, 80, bytes([10, 0, 0, 7])) + b"user\x00"
SOCKS4A = struct.pack(">BBH4s", 4, 1, 443, b"\x00\x00\x00\x01") + b"\x00db.internal\x00"


def fed(data: bytes, byte_by_byte: bool, credentials=None) -> SocksHandshake:
    handshake = SocksHandshake(credentials)
    if byte_by_byte:
        for i in range(len(data)):
            handshake.feed(data[i:i + 1])
    else:
        handshake.feed(data)
    return handshake


@pytest.mark.parametrize("byte_by_byte", [False, True])
@pytest.mark.parametrize("data, request_, greeting", [
    (SOCKS5_NAME, SocksRequest(5, "example.org", 443), b"\x05\x00"),
    (SOCKS5_IPV6, SocksRequest(5, "::1", 22), b"\x05\x00"),
    (SOCKS4, SocksRequest(4, "10.0.0.7", 80), b""),
    (SOCKS4A, SocksRequest(4, "db.internal", 443), b""),
])
def test_requests(data, request_, greeting, byte_by_byte):
    handshake = fed(data + b"early data", byte_by_byte)
    assert handshake.request == request_ and handshake.refusal is None
    assert bytes(handshake.output) == greeting
    assert handshake.leftover() == b"early data"
    assert handshake.reply(True)[:2] in (b"\x05\x00", b"\x00\x5a")


def test_replies_carry_the_failure():
    handshake = fed(SOCKS5_NAME, False)
    assert handshake.reply(False, 5) == b"\x05\x05\x00\x01" + bytes(6)
    assert fed(SOCKS4, False).reply(False) == b"\x00\x5b" + bytes(6)


def test_username_and_password():
    login = b"\x05\x01\x02" + b"\x01\x05alice\x06s3cret" + SOCKS5_NAME[3:]
    handshake = fed(login, True, ("alice", "s3cret"))
    assert handshake.request == SocksRequest(5, "example.org", 443)
    assert bytes(handshake.output) == b"\x05\x02\x01\x00"
    wrong = fed(b"\x05\x01\x02\x01\x05alice\x05guess", False, ("alice", "s3cret"))
    assert wrong.refusal and bytes(wrong.output) == b"\x05\x02\x01\x01"
    no_method = fed(b"\x05\x01\x00", False, ("alice", "s3cret"))
    assert no_method.refusal and bytes(no_method.output) == b"\x05\xff"
    socks4 = fed(SOCKS4, False, ("alice", "s3cret"))
    assert socks4.refusal and bytes(socks4.output) == b"\x00\x5b" + bytes(6)


@pytest.mark.parametrize("data, reply", [
    (b"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", b"\x05\x00\x05\x07"),   # BIND
    (b"\x05\x01\x00\x05\x01\x00\x09", b"\x05\x00\x05\x08"),                         # atyp 9
    (b"\x05\x01\x00\x05\x01\x00\x03\x03a\x00b\x00\x50", b"\x05\x00\x05\x04"),         # NUL in name
    (b"GET / HTTP/1.1\r\n", b""),                                                   # not SOCKS
])
def test_refusals(data, reply):
    handshake = fed(data, False)
    assert handshake.refusal is not None and handshake.request is None
    assert bytes(handshake.output)[:len(reply)] == reply


def test_an_endless_user_id_is_refused():
    handshake = fed(struct.pack(">BBH4s", 4, 1, 80, b"\x01\x02\x03\x04") + b"u" * 300, False)
    assert handshake.refusal is not None


def test_open_failures_map_to_socks5_codes():
    assert socks5_code(1, "administratively prohibited") == 2
    assert socks5_code(2, "Connection refused") == 5
    assert socks5_code(2, "Network is unreachable") == 3
    assert socks5_code(2, "No route to host") == 4
    assert socks5_code(4, "resource shortage") == 1

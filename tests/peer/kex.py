"""The server's half of a key exchange: KEXINIT, curve25519-sha256, ssh-ed25519
(or ssh-ed448, when the config offers it and the client asks for it).

Written from RFC 4253 §7-8, RFC 8731 and RFC 8709; only `derive_key` is taken
from the library (it is tested on its own in tests/test_kex.py).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sshclient.kex import derive_key
from sshcore import crypto
from sshcore.wire import Reader, Writer

MSG_KEXINIT = 20
MSG_KEX_ECDH_INIT = 30
MSG_KEX_ECDH_REPLY = 31
STRICT_C = "kex-strict-c-v00@openssh.com"
STRICT_S = "kex-strict-s-v00@openssh.com"

HOST_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"peer host").digest())
HOST_KEY_BLOB = (Writer().string(b"ssh-ed25519")
                 .string(HOST_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
                 .getvalue())
HOST_KEY_448 = ed448.Ed448PrivateKey.from_private_bytes(
    hashlib.shake_256(b"peer host 448").digest(57))
HOST_KEY_448_BLOB = (Writer().string(b"ssh-ed448")
                     .string(HOST_KEY_448.public_key().public_bytes(Encoding.Raw,
                                                                    PublicFormat.Raw))
                     .getvalue())
# host key algorithm -> (private key, public key blob)
HOST_KEYS = {"ssh-ed25519": (HOST_KEY, HOST_KEY_BLOB),
             "ssh-ed448": (HOST_KEY_448, HOST_KEY_448_BLOB)}


class NegotiationFailed(Exception):
    """No algorithm in common: the client is expected to give up first."""


def kexinit_payload(kex: list[str], host_keys: list[str], ciphers: list[str],
                    macs: list[str], compression: list[str] | None = None) -> bytes:
    """A server KEXINIT (RFC 4253 §7.1) with a random cookie."""
    comp = compression or ["none"]
    return (Writer().byte(MSG_KEXINIT).raw(os.urandom(16)).name_list(kex)
            .name_list(host_keys).name_list(ciphers).name_list(ciphers)
            .name_list(macs).name_list(macs).name_list(comp).name_list(comp)
            .name_list([]).name_list([]).boolean(False).uint32(0).getvalue())


def parse_kexinit(payload: bytes) -> list[list[str]]:
    """The ten name-lists of a KEXINIT."""
    r = Reader(payload)
    r.byte()
    r.raw(16)
    return [r.name_list() for _ in range(10)]


def _choose(client: list[str], server: list[str], what: str) -> str:
    for name in client:
        if name in server:
            return name
    raise NegotiationFailed(f"no common {what}: client {client}, server {server}")


@dataclass
class Suite:
    """What one exchange agreed on (c2s = client to server)."""
    kex: str
    host_key: str
    cipher_c2s: str
    cipher_s2c: str
    mac_c2s: str | None
    mac_s2c: str | None
    client_strict: bool
    client_ext_info: bool
    compression_c2s: str = "none"
    compression_s2c: str = "none"


def negotiate(client_kexinit: bytes, server_kexinit: bytes) -> Suite:
    c = parse_kexinit(client_kexinit)
    s = parse_kexinit(server_kexinit)
    kex = _choose(c[0], s[0], "kex")
    host_key = _choose(c[1], s[1], "host key algorithm")
    ciphers = [_choose(c[i], s[i], "cipher") for i in (2, 3)]
    macs = [None if crypto.cipher_info(ciphers[i - 4])[3] else _choose(c[i], s[i], "MAC")
            for i in (4, 5)]
    comp = [_choose(c[i], s[i], "compression") for i in (6, 7)]
    return Suite(kex, host_key, ciphers[0], ciphers[1], macs[0], macs[1], STRICT_C in c[0],
                 "ext-info-c" in c[0], comp[0], comp[1])


@dataclass
class KexOutput:
    reply: bytes  # the KEX_ECDH_REPLY payload
    exchange_hash: bytes
    shared_secret: bytes  # K, mpint-encoded, as derive_key wants it


def ecdh_reply(init: bytes, v_c: bytes, v_s: bytes, i_c: bytes, i_s: bytes,
               bad_signature: bool = False, host_key: str = "ssh-ed25519") -> KexOutput:
    """Answer a client's KEX_ECDH_INIT for curve25519-sha256 (RFC 8731),
    signing with the `host_key` algorithm's key."""
    key, blob = HOST_KEYS[host_key]
    r = Reader(init)
    if r.byte() != MSG_KEX_ECDH_INIT:
        raise ValueError(f"expected KEX_ECDH_INIT, got message {init[0]}")
    q_c = r.string()
    r.expect_end()
    ours = x25519.X25519PrivateKey.generate()
    q_s = ours.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    k = Writer().mpint(int.from_bytes(
        ours.exchange(x25519.X25519PublicKey.from_public_bytes(q_c)), "big")).getvalue()
    h = hashlib.sha256(Writer().string(v_c).string(v_s).string(i_c).string(i_s)
                       .string(blob).string(q_c).string(q_s).getvalue() + k).digest()
    signed = key.sign(h + b"!" if bad_signature else h)
    sig = Writer().string(host_key.encode()).string(signed).getvalue()
    reply = (Writer().byte(MSG_KEX_ECDH_REPLY).string(blob).string(q_s).string(sig)
             .getvalue())
    return KexOutput(reply, h, k)


def session_keys(out: KexOutput, session_id: bytes, cipher: str, mac: str | None,
                 client_to_server: bool) -> tuple:
    """(cipher, key, iv, mac, mac_key) for PacketEngine.set_incoming/set_outgoing."""
    iv_letter, key_letter, mac_letter = (b"A", b"C", b"E") if client_to_server else (
        b"B", b"D", b"F")

    def key(letter: bytes, size: int) -> bytes:
        return derive_key("sha256", out.shared_secret, out.exchange_hash, session_id, letter,
                          size)

    key_len, iv_len, _block, _aead = crypto.cipher_info(cipher)
    mac_key = key(mac_letter, crypto.mac_info(mac)[0]) if mac else None
    return (cipher, key(key_letter, key_len), key(iv_letter, iv_len), mac, mac_key)

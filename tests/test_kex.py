"""Key exchange (sshclient.kex): known answers, a server counterpart, hostile input.

The server side here is written independently of the library, from the RFCs: its own SSH
encoders (struct), its own exchange-hash layouts, the curve math from `cryptography` and
finite-field DH with pow().  A run with fixed private keys is frozen in
tests/vectors/kex_exchange_hash.json; regenerate it (only when the test server itself
changes) with

    SSHCLIENT_REGEN_KEX_VECTORS=1 python -m pytest tests/test_kex.py -k frozen

Set SSHCLIENT_SLOW_TESTS=1 to also prime-test the 6144- and 8192-bit groups (~5 s).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import struct
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sshclient import algorithms, dh_groups
from sshclient.errors import RemoteProtocolError, SSHClientError, UsageError
from sshclient.kex import (
    KexMethod,
    KexResult,
    _agreement,
    create_kex,
    derive_key,
    is_supported,
)

VECTORS = Path(__file__).parent / "vectors"

# ----------------------------------------------------------------------------- test server
# Independent SSH encoders (RFC 4251 §5).


def s(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def mpint(value: int) -> bytes:
    assert value >= 0
    body = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return s(body)


def read_string(buf: bytes, pos: int) -> Tuple[bytes, int]:
    (n,) = struct.unpack_from(">I", buf, pos)
    return buf[pos + 4:pos + 4 + n], pos + 4 + n


HASH = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
        "sha512": hashlib.sha512}

# name -> (kind, hash, parameter), from RFC 8731, 5656, 4419, 4253 §8, 8268.
METHODS: Dict[str, Tuple[str, str, Any]] = {
    "curve25519-sha256": ("x25519", "sha256", None),
    "curve25519-sha256@libssh.org": ("x25519", "sha256", None),
    "ecdh-sha2-nistp256": ("ecdh", "sha256", ec.SECP256R1()),
    "ecdh-sha2-nistp384": ("ecdh", "sha384", ec.SECP384R1()),
    "ecdh-sha2-nistp521": ("ecdh", "sha512", ec.SECP521R1()),
    "diffie-hellman-group-exchange-sha256": ("gex", "sha256", None),
    "diffie-hellman-group-exchange-sha1": ("gex", "sha1", None),
    "diffie-hellman-group1-sha1": ("dh", "sha1", dh_groups.OAKLEY_GROUP2),
    "diffie-hellman-group14-sha1": ("dh", "sha1", dh_groups.MODP_GROUP14),
    "diffie-hellman-group14-sha256": ("dh", "sha256", dh_groups.MODP_GROUP14),
    "diffie-hellman-group16-sha512": ("dh", "sha512", dh_groups.MODP_GROUP16),
    "diffie-hellman-group18-sha512": ("dh", "sha512", dh_groups.MODP_GROUP18),
}
ALL = sorted(METHODS)
FAST = ["curve25519-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp521",
        "diffie-hellman-group14-sha256", "diffie-hellman-group-exchange-sha256"]

V_C = b"SSH-2.0-sshclient_0.1"
V_S = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"


def kexinit(cookie: int, kex: str) -> bytes:
    lists = [kex, "ssh-ed25519", "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256",
             "none", "none", "", ""]
    return (b"\x14" + bytes([cookie]) * 16 + b"".join(s(x.encode()) for x in lists)
            + b"\x00" + b"\x00\x00\x00\x00")


HOST_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"host key").digest())
K_S = s(b"ssh-ed25519") + s(HOST_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

# GEX: the group the test server hands out for each method (3072 bits: not one of the
# groups OpenSSL knows by name, so the client takes its pow() path; sha1: group 14).
GEX_GROUP = {"diffie-hellman-group-exchange-sha256": dh_groups.MODP_GROUP15,
             "diffie-hellman-group-exchange-sha1": dh_groups.MODP_GROUP14}


class KexServer:
    """The server's side of one exchange, enough to answer our client."""

    def __init__(self, name: str, private: Optional[int] = None,
                 group: Optional[dh_groups.DHGroup] = None) -> None:
        self.name = name
        self.kind, self.hash_name, self.param = METHODS[name]
        self.private = private
        self.group = group or GEX_GROUP.get(name)
        self.gex_request: Optional[Tuple[int, int, int]] = None
        self.i_c = kexinit(1, name)
        self.i_s = kexinit(2, name)
        self.last_reply = b""

    def gex_group(self, request: bytes) -> bytes:
        assert request[0] == 34 and len(request) == 13
        self.gex_request = struct.unpack(">III", request[1:])
        assert self.group is not None
        return b"\x1f" + mpint(self.group.p) + mpint(self.group.g)

    def reply(self, init: bytes) -> Tuple[bytes, bytes, int]:
        """(REPLY payload, H, K) for the client's *_INIT payload."""
        if self.kind in ("x25519", "ecdh"):
            assert init[0] == 30
            q_c, end = read_string(init, 1)
            assert end == len(init)
            q_s, k = self._curve(q_c)
            c_field, s_field = s(q_c), s(q_s)
        else:
            assert init[0] == (32 if self.kind == "gex" else 30)
            e_raw, end = read_string(init, 1)
            assert end == len(init) and e_raw[:1] < b"\x80"
            e = int.from_bytes(e_raw, "big")
            group = self.group if self.kind == "gex" else self.param
            assert group is not None
            y = self.private or secrets.randbits(512) + 2
            f = pow(group.g, y, group.p)
            k = pow(e, y, group.p)
            c_field, s_field = mpint(e), mpint(f)
        gex = b""
        if self.kind == "gex":
            assert self.gex_request is not None and self.group is not None
            gex = (struct.pack(">III", *self.gex_request) + mpint(self.group.p)
                   + mpint(self.group.g))
        h = HASH[self.hash_name](
            s(V_C) + s(V_S) + s(self.i_c) + s(self.i_s) + s(K_S) + gex + c_field + s_field
            + mpint(k)).digest()
        sig = s(b"ssh-ed25519") + s(HOST_KEY.sign(h))
        msg = 33 if self.kind == "gex" else 31
        self.last_reply = bytes([msg]) + s(K_S) + s_field + s(sig)
        return self.last_reply, h, k

    def _curve(self, q_c: bytes) -> Tuple[bytes, int]:
        if self.kind == "x25519":
            if self.private is None:
                key = x25519.X25519PrivateKey.generate()
            else:
                key = x25519.X25519PrivateKey.from_private_bytes(
                    self.private.to_bytes(32, "big"))
            shared = key.exchange(x25519.X25519PublicKey.from_public_bytes(q_c))
            return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw), \
                int.from_bytes(shared, "big")
        curve = self.param
        if self.private is None:
            eckey = ec.generate_private_key(curve)
        else:
            eckey = ec.derive_private_key(self.private, curve)
        peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, q_c)
        shared = eckey.exchange(ec.ECDH(), peer)
        q_s = eckey.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return q_s, int.from_bytes(shared, "big")


def client_for(server: KexServer, **kw: Any) -> KexMethod:
    return create_kex(server.name, V_C, V_S, server.i_c, server.i_s, **kw)


def run_exchange(server: KexServer, **kw: Any) -> Tuple[KexResult, bytes, int, List[bytes]]:
    """Client against server; returns (client result, server H, server K, client payloads)."""
    client = client_for(server, **kw)
    sent = client.start()
    assert len(sent) == 1
    if server.kind == "gex":
        assert client.expected_message == 31
        out = client.handle(31, server.gex_group(sent[0]))
        assert isinstance(out, list) and len(out) == 1
        sent += out
    reply, h, k = server.reply(sent[-1])
    assert client.expected_message == reply[0]
    result = client.handle(reply[0], reply)
    assert isinstance(result, KexResult)
    assert client.done and client.expected_message is None
    return result, h, k, sent


@pytest.fixture(params=["openssl", "pow"])
def ffdh_backend(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run finite-field DH through OpenSSL (named groups) and through pow()."""
    monkeypatch.setattr(_agreement, "USE_OPENSSL_FFDH", request.param == "openssl")
    return str(request.param)


# ----------------------------------------------------------------------------- API surface
def test_method_lists() -> None:
    """The registry's kex rows are exactly the methods create_kex can run."""
    implemented = {row.name for row in algorithms.rows("kex") if row.implemented}
    assert implemented == set(METHODS)
    assert all(is_supported(name) for name in implemented)
    assert algorithms.defaults("kex")[0] == "curve25519-sha256"


def test_unknown_method_is_1005() -> None:
    for name in ("sntrup761x25519-sha512@openssh.com", "ext-info-c", ""):
        with pytest.raises(SSHClientError) as info:
            create_kex(name, V_C, V_S, b"\x14", b"\x14")
        assert info.value.code == 1005


def test_bad_arguments() -> None:
    with pytest.raises(UsageError):
        create_kex("curve25519-sha256", V_C + b"\r\n", V_S, b"\x14", b"\x14")
    with pytest.raises(UsageError):
        create_kex("curve25519-sha256", V_C, V_S, b"\x15", b"\x14")
    for bits in [(512, 1024, 2048), (2048, 1024, 4096), (2048, 3072, 16384), (4096, 2048, 8192)]:
        with pytest.raises(UsageError):
            create_kex("diffie-hellman-group-exchange-sha256", V_C, V_S, b"\x14", b"\x14",
                       gex_bits=bits)
    kex = create_kex("curve25519-sha256", V_C, V_S, b"\x14", b"\x14")
    kex.start()
    with pytest.raises(UsageError):
        kex.start()


def test_kex_result_repr_hides_the_secret() -> None:
    result, _, _, _ = run_exchange(KexServer("curve25519-sha256"))
    assert result.shared_secret.hex() not in repr(result)


# ----------------------------------------------------------------------------- DH groups
def _pi_bits(bits: int) -> int:
    """floor(pi * 2^bits), by Machin's formula in integers (with guard bits)."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x: int) -> int:
        total = term = one // x
        n, sign = 3, -1
        while term:
            term //= x * x
            total += sign * (term // n)
            n, sign = n + 2, -sign
        return total

    return (4 * (4 * arctan_inv(5) - arctan_inv(239))) >> guard


def _probable_prime(n: int) -> bool:
    """Strong probable-prime test to bases 2 and 3."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in (2, 3):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


ALL_GROUPS = [dh_groups.OAKLEY_GROUP2, *dh_groups.RFC3526_GROUPS]


@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda g: g.name)
def test_group_constants_match_their_definition(group: dh_groups.DHGroup) -> None:
    n, k = dh_groups.FORMULA[group.name]
    expected = 2**n - 2**(n - 64) - 1 + 2**64 * (_pi_bits(n - 130) + k)
    assert group.p == expected
    assert group.bits == n and group.g == 2
    if n > 4096 and os.environ.get("SSHCLIENT_SLOW_TESTS") != "1":
        return
    q = (group.p - 1) // 2
    # Safe prime: q prime, and 2 is a quadratic residue mod p (p = 7 mod 8), so 2^q = 1.
    assert pow(2, q, group.p) == 1
    assert _probable_prime(q)


def test_group_spot_values() -> None:
    # Last words as printed in RFC 2409 §6.2 and RFC 3526 §3.
    assert hex(dh_groups.OAKLEY_GROUP2.p).endswith("49286651ece65381ffffffffffffffff")
    assert hex(dh_groups.MODP_GROUP14.p).endswith("15728e5a8aacaa68ffffffffffffffff")


# ----------------------------------------------------------------------------- X25519 vectors
X25519_VECTORS = json.loads((VECTORS / "kex_x25519_rfc7748.json").read_text())


@pytest.mark.parametrize("case", X25519_VECTORS["scalar_mult"], ids=lambda c: c["name"])
def test_x25519_rfc7748_scalar_mult(case: Dict[str, str]) -> None:
    agreement = _agreement.X25519Agreement(bytes.fromhex(case["scalar"]))
    assert agreement.exchange(bytes.fromhex(case["u"])).hex() == case["output"]


@pytest.mark.parametrize("case", X25519_VECTORS["iterated"], ids=lambda c: str(c["iterations"]))
def test_x25519_rfc7748_iterated(case: Dict[str, Any]) -> None:
    k = u = bytes.fromhex("09" + "00" * 31)
    for _ in range(case["iterations"]):
        k, u = _agreement.X25519Agreement(k).exchange(u), k
    assert k.hex() == case["output"]


def test_x25519_rfc7748_dh_through_kex() -> None:
    """RFC 7748 §6.1 as a full curve25519-sha256 exchange: Alice the client, Bob the server."""
    v = X25519_VECTORS["diffie_hellman"]
    server = KexServer("curve25519-sha256", private=int(v["bob_private"], 16))
    result, h, k, sent = run_exchange(server, private_key=bytes.fromhex(v["alice_private"]))
    assert sent[0] == b"\x1e" + s(bytes.fromhex(v["alice_public"]))
    assert k == int(v["shared"], 16)
    assert result.shared_secret == mpint(int(v["shared"], 16))
    assert result.exchange_hash == h and result.hash_name == "sha256"


# ----------------------------------------------------------------------------- live exchanges
@pytest.mark.parametrize("name", ALL)
def test_exchange_against_test_server(name: str, ffdh_backend: str) -> None:
    if METHODS[name][0] not in ("dh", "gex") and ffdh_backend == "pow":
        pytest.skip("no finite-field DH in this method")
    server = KexServer(name)
    result, h, k, sent = run_exchange(server)
    assert result.exchange_hash == h
    assert result.shared_secret == mpint(k)
    assert result.hash_name == METHODS[name][1]
    assert len(h) == HASH[METHODS[name][1]]().digest_size
    assert result.host_key_blob == K_S
    HOST_KEY.public_key().verify(read_string(result.signature_blob, 15)[0], h)


def test_gex_request_and_hash_use_the_requested_sizes() -> None:
    server = KexServer("diffie-hellman-group-exchange-sha256", group=dh_groups.MODP_GROUP5)
    result, h, _, sent = run_exchange(server, gex_bits=(1024, 1536, 2048))
    assert sent[0] == b"\x22" + struct.pack(">III", 1024, 1536, 2048)
    assert server.gex_request == (1024, 1536, 2048)
    assert result.exchange_hash == h


def test_short_private_exponent_on_the_pow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_agreement, "USE_OPENSSL_FFDH", False)
    agreement = _agreement.FFDHAgreement(dh_groups.MODP_GROUP18, 1024)
    assert agreement._x is not None and agreement._x.bit_length() == 1024
    assert _agreement.exponent_bits(dh_groups.MODP_GROUP14.p, 256) == 512
    assert _agreement.exponent_bits(dh_groups.OAKLEY_GROUP2.p, 160) == 320


def test_named_groups_take_the_openssl_path() -> None:
    if not _agreement.OPENSSL_FFDH:
        pytest.skip("this cryptography has no finite-field DH")
    assert _agreement.FFDHAgreement(dh_groups.MODP_GROUP14, 512)._openssl is not None
    assert _agreement.FFDHAgreement(dh_groups.MODP_GROUP18, 1024)._openssl is not None
    # Oakley group 2 and a generator other than 2 are not OpenSSL-named groups: pow()
    assert _agreement.FFDHAgreement(dh_groups.OAKLEY_GROUP2, 320)._openssl is None
    group5 = dh_groups.DHGroup("g5", dh_groups.MODP_GROUP14.p, 5)
    assert _agreement.FFDHAgreement(group5, 512)._openssl is None


def test_no_cryptography_deprecation_warning_escapes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_exchange(KexServer("diffie-hellman-group14-sha256"))


# ----------------------------------------------------------------------------- frozen vectors
def _fixed_private(name: str, side: str) -> int:
    """Deterministic private keys for the frozen vectors."""
    kind, hash_name, param = METHODS[name]
    if kind == "x25519":
        v = X25519_VECTORS["diffie_hellman"]
        return int(v["alice_private" if side == "client" else "bob_private"], 16)
    material = b"".join(hashlib.sha512(f"{name} {side} {i}".encode()).digest()
                        for i in range(2))
    seed = int.from_bytes(material, "big")  # 1024 bits
    if kind == "ecdh":
        # below 2^(n-1) < the group order of every NIST curve, and not zero
        return seed % 2 ** (param.key_size - 1) + 1
    bits = 2 * HASH[hash_name]().digest_size * 8
    return seed >> (1024 - bits) | 1 << (bits - 1)


def _length(name: str, value: int) -> int:
    return 32 if METHODS[name][0] == "x25519" else (value.bit_length() + 7) // 8


def make_vectors() -> Dict[str, Any]:
    vectors = []
    for name in ALL:
        kind = METHODS[name][0]
        client_x = _fixed_private(name, "client")
        server = KexServer(name, private=_fixed_private(name, "server"))
        gex_bits = (2048, 3072, 8192) if name.endswith("sha256") else (1024, 2048, 4096)
        client_key = client_x.to_bytes(_length(name, client_x), "big")
        result, h, k, sent = run_exchange(server, private_key=client_key, gex_bits=gex_bits)
        reply = server.last_reply
        entry: Dict[str, Any] = {"method": name, "client_private": client_key.hex(),
                                 "server_private": f"{server.private:x}"}
        if kind == "gex":
            assert server.group is not None
            entry["gex_bits"] = list(gex_bits)
            entry["gex_request"] = sent[0].hex()
            entry["gex_group"] = server.gex_group(sent[0]).hex()
            entry["gex_group_name"] = server.group.name
        entry.update(client_init=sent[-1].hex(), server_reply=reply.hex(),
                     shared_secret=mpint(k).hex(), exchange_hash=h.hex())
        assert result.exchange_hash == h
        vectors.append(entry)
    return {
        "source": (
            "Generated by the independent test server in tests/test_kex.py (RFC 4253 §8, "
            "RFC 4419 §3, RFC 5656 §4, RFC 8731 §3 hash layouts; cryptography for the curve "
            "math, pow() for finite-field DH) with fixed private keys: curve25519 uses the "
            "RFC 7748 §6.1 Alice (client) and Bob (server) keys, so K is that RFC's shared "
            "secret; the others use SHA-512('<method> <side> 0') || SHA-512('<method> <side> 1') "
            "(side = client or server), reduced as in _fixed_private(). The host key is "
            "Ed25519 with seed SHA-256('host key'); the signature is over H."),
        "client_version": V_C.decode(),
        "server_version": V_S.decode(),
        "host_key_blob": K_S.hex(),
        "kexinit_client": {n: kexinit(1, n).hex() for n in ALL},
        "kexinit_server": {n: kexinit(2, n).hex() for n in ALL},
        "vectors": vectors,
    }


FROZEN_PATH = VECTORS / "kex_exchange_hash.json"


def test_frozen_vectors_are_reproducible() -> None:
    fresh = make_vectors()
    if os.environ.get("SSHCLIENT_REGEN_KEX_VECTORS") == "1":
        FROZEN_PATH.write_text(json.dumps(fresh, indent=1) + "\n")
    assert json.loads(FROZEN_PATH.read_text()) == fresh


FROZEN = json.loads(FROZEN_PATH.read_text())


@pytest.mark.parametrize("vector", FROZEN["vectors"], ids=lambda v: v["method"])
def test_frozen_exchange_hash(vector: Dict[str, Any], ffdh_backend: str) -> None:
    name = vector["method"]
    if METHODS[name][0] not in ("dh", "gex") and ffdh_backend == "pow":
        pytest.skip("no finite-field DH in this method")
    kw: Dict[str, Any] = {"private_key": bytes.fromhex(vector["client_private"])}
    if "gex_bits" in vector:
        kw["gex_bits"] = tuple(vector["gex_bits"])
    client = create_kex(name, FROZEN["client_version"].encode(),
                        FROZEN["server_version"].encode(),
                        bytes.fromhex(FROZEN["kexinit_client"][name]),
                        bytes.fromhex(FROZEN["kexinit_server"][name]), **kw)
    sent = client.start()
    if "gex_request" in vector:
        assert sent == [bytes.fromhex(vector["gex_request"])]
        sent = client.handle(31, bytes.fromhex(vector["gex_group"]))  # type: ignore[assignment]
    assert sent == [bytes.fromhex(vector["client_init"])]
    reply = bytes.fromhex(vector["server_reply"])
    result = client.handle(reply[0], reply)
    assert isinstance(result, KexResult)
    assert result.shared_secret.hex() == vector["shared_secret"]
    assert result.exchange_hash.hex() == vector["exchange_hash"]
    assert result.host_key_blob.hex() == FROZEN["host_key_blob"]
    HOST_KEY.public_key().verify(read_string(result.signature_blob, 15)[0],
                                 result.exchange_hash)


# ----------------------------------------------------------------------------- derive_key
DERIVE = json.loads((VECTORS / "kex_derive_key.json").read_text())


def test_derive_key_by_hand() -> None:
    """RFC 4253 §7.2 written out: K1 = H(K||H||X||session_id), Kn = H(K||H||K1..K(n-1))."""
    k = mpint(0xFEEDFACE_CAFEBABE_0123456789 << 200)
    h = hashlib.sha1(b"exchange hash").digest()
    sid = hashlib.sha1(b"session id").digest()
    k1 = hashlib.sha1(k + h + b"C" + sid).digest()
    k2 = hashlib.sha1(k + h + k1).digest()
    k3 = hashlib.sha1(k + h + k1 + k2).digest()
    k4 = hashlib.sha1(k + h + k1 + k2 + k3).digest()
    assert derive_key("sha1", k, h, sid, b"C", 64) == (k1 + k2 + k3 + k4)[:64]
    assert derive_key("sha1", k, h, sid, b"C", 20) == k1
    assert derive_key("sha1", k, h, sid, b"C", 16) == k1[:16]
    assert derive_key("sha1", k, h, sid, b"C", 0) == b""
    # the first exchange's H is the session id
    assert derive_key("sha1", k, h, h, b"A", 20) == hashlib.sha1(k + h + b"A" + h).digest()


@pytest.mark.parametrize("case", DERIVE["cases"], ids=lambda c: f"{c['hash']}-{c['size']}")
def test_derive_key_frozen(case: Dict[str, Any]) -> None:
    key = derive_key(case["hash"], bytes.fromhex(case["shared_secret"]),
                     bytes.fromhex(case["exchange_hash"]), bytes.fromhex(case["session_id"]),
                     case["letter"].encode(), case["size"])
    assert key.hex() == case["key"]
    # shorter keys are prefixes of longer ones
    assert derive_key(case["hash"], bytes.fromhex(case["shared_secret"]),
                      bytes.fromhex(case["exchange_hash"]), bytes.fromhex(case["session_id"]),
                      case["letter"].encode(), 7) == key[:7]


def test_derive_key_bad_arguments() -> None:
    with pytest.raises(SSHClientError):
        derive_key("md5", b"", b"", b"", b"A", 16)
    with pytest.raises(UsageError):
        derive_key("sha256", b"", b"", b"", b"AB", 16)
    with pytest.raises(UsageError):
        derive_key("sha256", b"", b"", b"", b"A", -1)


# ----------------------------------------------------------------------------- hostile input
def started(name: str, **kw: Any) -> Tuple[KexMethod, KexServer, List[bytes]]:
    """A client waiting for the REPLY (after the GEX group step for GEX)."""
    server = KexServer(name)
    client = client_for(server, **kw)
    sent = client.start()
    if server.kind == "gex":
        out = client.handle(31, server.gex_group(sent[0]))
        assert isinstance(out, list)
        sent += out
    return client, server, sent


def family_code(name: str) -> int:
    return 1034 if METHODS[name][0] in ("dh", "gex") else 1038


def expect_error(code: int, fn: Callable[[], Any],
                 disconnect_reason: Optional[int] = None) -> RemoteProtocolError:
    with pytest.raises(RemoteProtocolError) as info:
        fn()
    assert info.value.code == code, info.value
    if disconnect_reason is not None:
        assert info.value.disconnect_reason == disconnect_reason
    return info.value


@pytest.mark.parametrize("name", FAST)
def test_messages_out_of_order(name: str) -> None:
    server = KexServer(name)
    # before start() nothing is expected
    expect_error(1036, lambda: client_for(server).handle(31, b"\x1f"))
    # after start(), anything but the one expected message
    for wrong in (1, 20, 21, 30, 31, 32, 33, 34, 49, 50):
        client = client_for(server)
        client.start()
        if wrong != client.expected_message:
            expect_error(1036, functools.partial(client.handle, wrong, bytes([wrong])),
                         disconnect_reason=2)
    client, server, sent = started(name)
    if server.kind == "gex":
        # a second GEX_GROUP while waiting for the GEX_REPLY
        expect_error(1036, lambda: client.handle(31, server.gex_group(sent[0])))
        client, server, sent = started(name)
    reply, _, _ = server.reply(sent[-1])
    assert isinstance(client.handle(reply[0], reply), KexResult)
    # nothing after the REPLY either
    expect_error(1036, lambda: client.handle(reply[0], reply))


def test_failed_exchange_stays_failed() -> None:
    client, server, sent = started("curve25519-sha256")
    reply, _, _ = server.reply(sent[-1])
    expect_error(1038, lambda: client.handle(31, reply[:-1]))
    expect_error(1036, lambda: client.handle(31, reply))


@pytest.mark.parametrize("name", ALL)
def test_truncated_and_padded_replies(name: str) -> None:
    _, srv, snt = started(name)
    r, _, _ = srv.reply(snt[-1])  # well-formed; its values do not matter here
    for cut in sorted({1, 2, 4, 5, 9, len(r) // 2, len(r) - 5, len(r) - 1}):
        c, _, _ = started(name)
        expect_error(family_code(name), functools.partial(c.handle, r[0], r[:cut]),
                     disconnect_reason=2)
    c, _, _ = started(name)
    expect_error(family_code(name), lambda: c.handle(r[0], r + b"\x00"))
    # a payload whose first byte is not the message type
    c, _, _ = started(name)
    expect_error(family_code(name), lambda: c.handle(r[0], bytes([r[0] ^ 1]) + r[1:]))
    expect_error(1036, lambda: c.handle(r[0], r))  # failed for good


def dh_reply(f_field: bytes, msg: int = 31) -> bytes:
    sig = s(b"ssh-ed25519") + s(bytes(64))
    return bytes([msg]) + s(K_S) + f_field + s(sig)


@pytest.mark.parametrize("name", ["diffie-hellman-group14-sha256", "diffie-hellman-group1-sha1",
                                  "diffie-hellman-group-exchange-sha256"])
@pytest.mark.parametrize("which", ["0", "1", "p-1", "p", "p+1", "-1", "-(p-1)", "2^9000"])
def test_dh_public_value_out_of_range(name: str, which: str, ffdh_backend: str) -> None:
    client, server, _ = started(name)
    group = server.group if server.kind == "gex" else server.param
    assert group is not None
    p = group.p
    value = {"0": 0, "1": 1, "p-1": p - 1, "p": p, "p+1": p + 1, "-1": -1, "-(p-1)": -(p - 1),
             "2^9000": 2**9000}[which]
    msg = 33 if server.kind == "gex" else 31
    expect_error(1034, lambda: client.handle(msg, dh_reply(encode_signed(value), msg)),
                 disconnect_reason=3)


@pytest.mark.parametrize("case", ["too-small", "too-big", "even", "zero", "negative",
                                  "g=0", "g=1", "g=p-1", "g=p", "g=-2", "huge"])
def test_gex_group_checks(case: str) -> None:
    g14, g16 = dh_groups.MODP_GROUP14.p, dh_groups.MODP_GROUP16.p
    p, g = {
        "too-small": (dh_groups.MODP_GROUP5.p, 2),  # 1536 bits, min asked 2048
        "too-big": (dh_groups.MODP_GROUP17.p, 2),  # 6144 bits, max asked 4096
        "even": (g14 + 1, 2),
        "zero": (0, 2),
        "negative": (-g14, 2),
        "g=0": (g14, 0), "g=1": (g14, 1), "g=p-1": (g14, g14 - 1), "g=p": (g14, g14),
        "g=-2": (g16, -2),
        "huge": (2**70000 + 1, 2),
    }[case]
    client = create_kex("diffie-hellman-group-exchange-sha256", V_C, V_S, b"\x14", b"\x14",
                        gex_bits=(2048, 3072, 4096))
    client.start()
    payload = b"\x1f" + encode_signed(p) + encode_signed(g)
    expect_error(1034, lambda: client.handle(31, payload), disconnect_reason=3)


def encode_signed(value: int) -> bytes:
    if value == 0:
        return s(b"")
    n = (value.bit_length() + 8) // 8
    return s(value.to_bytes(n, "big", signed=True))


def test_gex_accepts_small_groups_only_when_asked() -> None:
    server = KexServer("diffie-hellman-group-exchange-sha1", group=dh_groups.OAKLEY_GROUP2)
    result, h, _, _ = run_exchange(server, gex_bits=(1024, 1024, 2048))
    assert result.exchange_hash == h
    client = client_for(server)  # default sizes: at least 2048 bits
    sent = client.start()
    expect_error(1034, lambda: client.handle(31, server.gex_group(sent[0])))


def ecdh_reply(q_s: bytes) -> bytes:
    return b"\x1f" + s(K_S) + s(q_s) + s(s(b"ssh-ed25519") + s(bytes(64)))


@pytest.mark.parametrize("name", ["ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
                                  "ecdh-sha2-nistp521"])
def test_ecdh_bad_points(name: str) -> None:
    curve = METHODS[name][2]
    good = ec.generate_private_key(curve).public_key()
    unc = good.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    comp = good.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    n = (curve.key_size + 7) // 8
    x = int.from_bytes(unc[1:1 + n], "big")
    y = int.from_bytes(unc[1 + n:], "big")
    field_p = {256: 2**256 - 2**224 + 2**192 + 2**96 - 1,
               384: 2**384 - 2**128 - 2**96 + 2**32 - 1, 521: 2**521 - 1}[curve.key_size]
    bad = {
        "off-curve": unc[:-1] + bytes([unc[-1] ^ 1]),
        "compressed": comp,
        "infinity": b"\x00",
        "empty": b"",
        "short": unc[:-1],
        "long": unc + b"\x00",
        "hybrid-prefix": b"\x06" + unc[1:],
        "zero-point": b"\x04" + bytes(2 * n),
        "x=p": b"\x04" + field_p.to_bytes(n, "big") + unc[1 + n:],
        "x=p+x": b"\x04" + ((x + field_p) % 256 ** n).to_bytes(n, "big") + unc[1 + n:],
        "all-ff": b"\x04" + b"\xff" * (2 * n),
        "y+1": b"\x04" + unc[1:1 + n] + ((y + 1) % field_p).to_bytes(n, "big"),
    }
    for why, point in bad.items():
        client, _, _ = started(name)
        err = expect_error(1038, functools.partial(client.handle, 31, ecdh_reply(point)),
                           disconnect_reason=3)
        assert "public key" in str(err), why


LOW_ORDER_X25519 = [
    "00" * 32, "01" + "00" * 31,
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ec" + "ff" * 30 + "7f", "ed" + "ff" * 30 + "7f", "ee" + "ff" * 30 + "7f",
]


@pytest.mark.parametrize("point", LOW_ORDER_X25519)
def test_x25519_low_order_points_give_all_zero_and_fail(point: str) -> None:
    client, _, _ = started("curve25519-sha256")
    err = expect_error(1038, lambda: client.handle(31, ecdh_reply(bytes.fromhex(point))),
                       disconnect_reason=3)
    assert "all zeros" in str(err)


@pytest.mark.parametrize("length", [0, 31, 33, 65])
def test_x25519_wrong_length(length: int) -> None:
    client, _, _ = started("curve25519-sha256")
    expect_error(1038, lambda: client.handle(31, ecdh_reply(b"\x09" * length)))


# hypothesis: handle() raises nothing but SSHClientError, whatever the server sends.
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FAST + ["diffie-hellman-group1-sha1"]),
       msg=st.sampled_from([20, 21, 30, 31, 32, 33, 34, 0, 255]),
       body=st.binary(max_size=300), keep_type=st.booleans())
def test_random_payloads_raise_only_ssh_errors(name: str, msg: int, body: bytes,
                                               keep_type: bool) -> None:
    client, _, _ = started(name)
    payload = bytes([msg]) + body if keep_type else body
    try:
        out = client.handle(msg, payload)
    except SSHClientError:
        return
    assert isinstance(out, (list, KexResult))


def _field(draw: Any) -> bytes:
    return draw(st.one_of(
        st.binary(max_size=80).map(s),
        st.integers(min_value=-(2**2100), max_value=2**2100).map(encode_signed),
        st.binary(min_size=32, max_size=32).map(s),
        st.binary(min_size=64, max_size=64).map(lambda b: s(b"\x04" + b)),
        st.binary(max_size=6),
    ))


@st.composite
def structured_reply(draw: Any) -> Tuple[str, int, bytes]:
    name = draw(st.sampled_from(FAST + ["diffie-hellman-group1-sha1",
                                        "diffie-hellman-group-exchange-sha1"]))
    msg = 33 if METHODS[name][0] == "gex" else 31
    parts = [draw(st.binary(max_size=60).map(s)), _field(draw),
             draw(st.binary(max_size=90).map(s)), draw(st.binary(max_size=3))]
    keep = draw(st.integers(min_value=0, max_value=4))
    return name, msg, bytes([msg]) + b"".join(parts[:keep])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structured_reply())
def test_structured_hostile_replies(case: Tuple[str, int, bytes]) -> None:
    name, msg, payload = case
    client, _, _ = started(name)
    try:
        out = client.handle(msg, payload)
    except SSHClientError:
        return
    # Only a well-formed reply with an acceptable public value may pass.
    assert isinstance(out, KexResult)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=st.integers(min_value=-(2**4200), max_value=2**4200),
       g=st.integers(min_value=-5, max_value=2**64), extra=st.binary(max_size=2))
def test_hostile_gex_groups(p: int, g: int, extra: bytes) -> None:
    client = create_kex("diffie-hellman-group-exchange-sha256", V_C, V_S, b"\x14", b"\x14",
                        gex_bits=(1024, 2048, 4096))
    client.start()
    try:
        client.handle(31, b"\x1f" + encode_signed(p) + encode_signed(g) + extra)
    except SSHClientError:
        return
    assert 1024 <= p.bit_length() <= 4096 and p % 2 == 1 and 1 < g < p - 1 and not extra


# ----------------------------------------------------------------------------- real peers
# The exchange runs in cleartext, so a few lines of framing are enough to run it against
# OpenSSH sshd and dropbear: if the server's Ed25519 signature over our H verifies, our
# exchange hash and K layouts match theirs.  (sshd draws GEX groups from /etc/ssh/moduli.)


def _send_packet(sock: Any, payload: bytes) -> None:
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    sock.sendall(struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + bytes(pad))


def _read_packet(stream: Any) -> bytes:
    length, pad = struct.unpack(">IB", stream.read(5))
    assert 5 <= length < 65536
    body = stream.read(length - 1)
    assert len(body) == length - 1, "server closed the connection"
    return bytes(body[:len(body) - pad])


def _exchange_with(host: str, port: int, name: str) -> KexResult:
    import socket

    with socket.create_connection((host, port), timeout=20) as sock:
        stream = sock.makefile("rb")
        sock.sendall(V_C + b"\r\n")
        while True:
            line = stream.readline()
            assert line, "no identification string"
            if line.startswith(b"SSH-"):
                break
        v_s = line.rstrip(b"\r\n")
        i_c = kexinit(7, name)
        _send_packet(sock, i_c)
        i_s = _read_packet(stream)
        assert i_s[0] == 20
        client = create_kex(name, V_C, v_s, i_c, i_s)
        for out in client.start():
            _send_packet(sock, out)
        while True:
            packet = _read_packet(stream)
            if packet[0] in (2, 4):  # IGNORE, DEBUG
                continue
            result = client.handle(packet[0], packet)
            if isinstance(result, KexResult):
                return result
            for out in result:
                _send_packet(sock, out)


def _check_against(server: Any, name: str) -> None:
    import importlib

    servers = importlib.import_module("servers")  # tests/servers.py, beside conftest.py
    offered = servers.probe_kexinit(server.host, server.port).kex_algorithms
    if name not in offered:
        pytest.skip(f"{server.kind} does not offer {name}")
    result = _exchange_with(server.host, server.port, name)
    alg, pos = read_string(result.host_key_blob, 0)
    assert alg == b"ssh-ed25519"
    public = ed25519.Ed25519PublicKey.from_public_bytes(read_string(result.host_key_blob, pos)[0])
    sig_alg, pos = read_string(result.signature_blob, 0)
    assert sig_alg == b"ssh-ed25519"
    public.verify(read_string(result.signature_blob, pos)[0], result.exchange_hash)


@pytest.mark.parametrize("name", ALL)
def test_exchange_with_openssh(sshd: Any, name: str) -> None:
    _check_against(sshd, name)


@pytest.mark.parametrize("name", ALL)
def test_exchange_with_dropbear(dropbear: Any, name: str) -> None:
    _check_against(dropbear, name)

"""The key agreement primitives under the SSH methods: X25519, ECDH over NIST curves, FFDH.

Each one owns one ephemeral private key.  `client_public()` is our public value in the SSH
encoding used both on the wire and in the exchange hash (a string for the curves, an mpint
for finite-field DH); `read_server_public()` reads and checks the server's value from a
REPLY and returns its hash encoding; `shared_secret()` then gives K as an integer.

Peer values are checked before use (RFC 4253 §8: 1 < f < p-1; RFC 5656 §4 / SEC1: the point
is on the curve; RFC 8731 §3: 32 bytes and a non-zero X25519 result) and every failure is a
RemoteProtocolError with the method family's spec code (1034 DH, 1038 ECDH/X25519).
"""
from __future__ import annotations

import abc
import hmac
import secrets
import warnings
from typing import Any, Dict, Optional, Tuple

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sshcore.wire import Reader, encode_mpint, encode_string

from ..dh_groups import RFC3526_GROUPS, DHGroup
from ..errors import UsageError
from ._common import ERR_DH, ERR_ECDH, bad_value

# cryptography >= 50 deprecates finite-field DH and warns when the names are looked up on its
# module (not when they are called): look them up once, here, with that one warning muted, so
# neither our users nor a test suite run with -W error ever see it.  If a later release drops
# FFDH, everything falls back to Python's pow().
try:
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dh as _dh

        _DHParameterNumbers: Any = _dh.DHParameterNumbers
        _DHPublicNumbers: Any = _dh.DHPublicNumbers
        _DHPrivateNumbers: Any = _dh.DHPrivateNumbers
    OPENSSL_FFDH = True
except (ImportError, AttributeError):  # pragma: no cover - depends on the cryptography release
    OPENSSL_FFDH = False

#: Use OpenSSL for these groups (tests switch it off to exercise the pow() path).  Only
#: groups OpenSSL knows by name: for any other prime it checks the parameters' primality on
#: every load (0.3 s for 2048 bits, tens of seconds for 8192 with g = 5) and uses full-length
#: exponents, far slower than pow() with a short exponent.
USE_OPENSSL_FFDH = OPENSSL_FFDH
_OPENSSL_NAMED = frozenset(group.p for group in RFC3526_GROUPS)
_openssl_params: Dict[int, Any] = {}


class Agreement(abc.ABC):
    """One side of one ephemeral key agreement."""

    #: Spec error code for a failure of this agreement (1034 or 1038).
    error_code: int

    @abc.abstractmethod
    def client_public(self) -> bytes:
        """Our public value, SSH-encoded as sent in *_INIT and hashed into H."""

    @abc.abstractmethod
    def read_server_public(self, reader: Reader) -> bytes:
        """Read the server's public value from a REPLY, check it, return its hash encoding."""

    @abc.abstractmethod
    def shared_secret(self) -> int:
        """K as an integer (after read_server_public)."""


# ----------------------------------------------------------------------------- X25519
class X25519Agreement(Agreement):
    """curve25519-sha256 (RFC 8731): 32-byte public values, K = X25519 output, big-endian."""

    error_code = ERR_ECDH

    def __init__(self, private_key: Optional[bytes] = None) -> None:
        if private_key is None:
            self._key = x25519.X25519PrivateKey.generate()
        else:
            if len(private_key) != 32:
                raise UsageError("an X25519 private key is 32 bytes")
            self._key = x25519.X25519PrivateKey.from_private_bytes(private_key)
        self.public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._peer: Optional[bytes] = None

    def client_public(self) -> bytes:
        return encode_string(self.public)

    def read_server_public(self, reader: Reader) -> bytes:
        q_s = reader.string()
        if len(q_s) != 32:
            raise bad_value(ERR_ECDH, f"server's X25519 public key is {len(q_s)} bytes, not 32")
        self._peer = q_s
        return encode_string(q_s)

    def exchange(self, peer_public: bytes) -> bytes:
        """Raw X25519(our private key, peer_public); refuses the all-zero result."""
        try:
            shared = self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:
            # OpenSSL refuses low-order points: the result would be all zeros.
            shared = bytes(32)
        if hmac.compare_digest(shared, bytes(32)):
            raise bad_value(ERR_ECDH, "X25519 shared secret is all zeros "
                                      "(server sent a low-order public key)")
        return shared

    def shared_secret(self) -> int:
        if self._peer is None:
            raise UsageError("no server public key yet")
        return int.from_bytes(self.exchange(self._peer), "big")


# ----------------------------------------------------------------------------- NIST ECDH
_CURVES: Dict[str, Tuple[ec.EllipticCurve, int]] = {
    "nistp256": (ec.SECP256R1(), 32),
    "nistp384": (ec.SECP384R1(), 48),
    "nistp521": (ec.SECP521R1(), 66),
}


class ECDHAgreement(Agreement):
    """ecdh-sha2-nistp* (RFC 5656 §4): SEC1 uncompressed points, K = x-coordinate."""

    error_code = ERR_ECDH

    def __init__(self, curve_name: str, private_key: Optional[bytes] = None) -> None:
        self._curve, self._coord_len = _CURVES[curve_name]
        self._curve_name = curve_name
        if private_key is None:
            self._key = ec.generate_private_key(self._curve)
        else:
            try:
                self._key = ec.derive_private_key(int.from_bytes(private_key, "big"), self._curve)
            except ValueError as exc:
                raise UsageError(f"bad {curve_name} private key: {exc}") from None
        self.public = self._key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)
        self._peer: Optional[ec.EllipticCurvePublicKey] = None

    def client_public(self) -> bytes:
        return encode_string(self.public)

    def read_server_public(self, reader: Reader) -> bytes:
        q_s = reader.string()
        # Uncompressed points only, like OpenSSH: fixed length, one encoding per point.
        if len(q_s) != 1 + 2 * self._coord_len or q_s[0] != 4:
            raise bad_value(ERR_ECDH, f"server's {self._curve_name} public key is not an "
                                      f"uncompressed point ({len(q_s)} bytes)")
        try:
            # Checks coordinates < p and the curve equation (cofactor 1: on curve = in group).
            self._peer = ec.EllipticCurvePublicKey.from_encoded_point(self._curve, q_s)
        except ValueError:
            raise bad_value(ERR_ECDH, f"server's {self._curve_name} public key is not a "
                                      "point on the curve") from None
        return encode_string(q_s)

    def shared_secret(self) -> int:
        if self._peer is None:
            raise UsageError("no server public key yet")
        try:
            shared = self._key.exchange(ec.ECDH(), self._peer)
        except ValueError:
            raise bad_value(ERR_ECDH, "ECDH computation failed") from None
        return int.from_bytes(shared, "big")


# ----------------------------------------------------------------------------- FFDH
def exponent_bits(p: int, hash_bits: int) -> int:
    """Private exponent length for pow(): twice the hash size (OpenSSH uses twice the
    key/MAC size, at most 1024 bits), capped below the group size.  With the safe primes
    SSH uses, a 2t-bit exponent gives t bits of security."""
    return max(2, min(2 * hash_bits, p.bit_length() - 2))


class FFDHAgreement(Agreement):
    """diffie-hellman-group* and -group-exchange-* (RFC 4253 §8, RFC 4419, RFC 8268)."""

    error_code = ERR_DH

    def __init__(self, group: DHGroup, xbits: int, private_key: Optional[bytes] = None) -> None:
        p, g = group.p, group.g
        self._p = p
        self._f: Optional[int] = None
        self._x: Optional[int] = None
        self._openssl: Any = None  # OpenSSL private key, when that path is used
        self._openssl_numbers: Any = None
        x: Optional[int] = None
        if private_key is not None:
            x = int.from_bytes(private_key, "big")
            if not 1 < x < p - 1:
                raise UsageError("DH private exponent out of range")
        if USE_OPENSSL_FFDH and g == 2 and p in _OPENSSL_NAMED:
            try:
                self._openssl, self.e = _openssl_keypair(p, g, x)
                self._openssl_numbers = _openssl_params[p].parameter_numbers()
            except (ValueError, UnsupportedAlgorithm):  # pragma: no cover - FIPS builds etc.
                self._openssl = None
        if self._openssl is None:
            if x is None:
                x = secrets.randbits(xbits) | (1 << (xbits - 1))
            self._x = x
            self.e = pow(g, x, p)
        if not 1 < self.e < p - 1:
            # Only a generator of tiny order can do this (GEX lets the server pick g).
            raise bad_value(ERR_DH, "the DH generator has a tiny order")

    def client_public(self) -> bytes:
        return encode_mpint(self.e)

    def read_server_public(self, reader: Reader) -> bytes:
        f = reader.mpint()
        if not 1 < f < self._p - 1:
            raise bad_value(ERR_DH, "server's DH public value f is out of range (1 < f < p-1)")
        self._f = f
        return encode_mpint(f)

    def shared_secret(self) -> int:
        f, p = self._f, self._p
        if f is None:
            raise UsageError("no server public value yet")
        if self._openssl is not None:
            try:
                peer = _DHPublicNumbers(f, self._openssl_numbers)
                k = int.from_bytes(self._openssl.exchange(peer.public_key()), "big")
            except ValueError:
                raise bad_value(ERR_DH, "DH computation failed") from None
        else:
            assert self._x is not None
            k = pow(f, self._x, p)
        if not 1 < k < p - 1:
            raise bad_value(ERR_DH, "DH shared secret is degenerate (f has a tiny order)")
        return k


def _openssl_keypair(p: int, g: int, x: Optional[int]) -> Tuple[Any, int]:
    params = _openssl_params.get(p)
    if params is None:
        params = _openssl_params[p] = _DHParameterNumbers(p, g).parameters()
    if x is None:
        key = params.generate_private_key()
        return key, key.public_key().public_numbers().y
    e = pow(g, x, p)
    numbers = _DHPrivateNumbers(x, _DHPublicNumbers(e, params.parameter_numbers()))
    return numbers.private_key(), e

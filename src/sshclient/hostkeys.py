"""Public keys: SSH encodings, host key signature checks, fingerprints.

The server proves who it is by signing the exchange hash with its host key
(RFC 4253 §8).  This module turns the key blob it sends (RFC 4253 §6.6) into a
:class:`PublicKey` and checks that signature with ``cryptography``:

=====================  ==============  =========================================
host key algorithm     key type        signature
=====================  ==============  =========================================
ssh-ed25519            ssh-ed25519     Ed25519, 64 bytes (RFC 8709)
ecdsa-sha2-nistp256    (same)          string(mpint r, mpint s), SHA-256 (RFC 5656)
ecdsa-sha2-nistp384    (same)          … SHA-384
ecdsa-sha2-nistp521    (same)          … SHA-512
rsa-sha2-512           ssh-rsa         PKCS#1 v1.5, SHA-512 (RFC 8332)
rsa-sha2-256           ssh-rsa         PKCS#1 v1.5, SHA-256 (RFC 8332)
ssh-rsa                ssh-rsa         PKCS#1 v1.5, SHA-1 (RFC 4253)
ssh-ed448              ssh-ed448       Ed448, 114 bytes (RFC 8709)
ssh-dss                ssh-dss         DSA, SHA-1, 40 bytes r || s (RFC 4253)
=====================  ==============  =========================================

The last two are in ``EXTRA_HOST_KEY_ALGORITHMS``: verified when asked for by
name, never offered by default.

Every failure here is a :class:`~sshclient.errors.HostKeyError` with code 1031
("Cannot verify server's host key") and a message saying what was wrong:
malformed or unsupported key blobs, malformed signatures, a signature made
with another algorithm than the negotiated one, and signatures that do not
verify.  Whether a *valid* key is trusted (code 1030) is decided elsewhere.

OpenSSH certificates (``*-cert-v01@openssh.com``, PROTOCOL.certkeys) parse
to :class:`Certificate`, a ``PublicKey`` whose ``verify`` uses the certified
key.  Parsing checks the CA's signature over the certificate (as OpenSSH
does); :meth:`Certificate.check_host` applies OpenSSH's rules for host
certificates (type, validity period, principals, no critical options).
Whether the CA (``Certificate.signature_key``) is trusted, e.g. through a
known_hosts ``@cert-authority`` line, is the caller's decision.  The
certificate algorithms are listed apart, in ``HOST_KEY_CERT_ALGORITHMS``: offer
them only when such CA keys are configured.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from typing import Callable, Dict, Optional, Tuple, Type, Union

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from sshcore.wire import Reader, Writer, encode_string

from . import algorithms
from .algorithms import CERT_SUFFIX, Kind, Offer
from .errors import HostKeyError, UsageError

__all__ = [
    "CA_SIGNATURE_ALGORITHMS",
    "CERT_SUFFIX",
    "CERT_TYPE_HOST",
    "CERT_TYPE_USER",
    "Certificate",
    "EXTRA_HOST_KEY_ALGORITHMS",
    "HOST_KEY_ALGORITHMS",
    "HOST_KEY_CERT_ALGORITHMS",
    "PublicKey",
    "fingerprint",
    "fingerprint_openssh",
    "key_type_for_algorithm",
    "load_public_key",
    "parse_openssh_public_key",
    "parse_public_key",
    "public_key_from_cryptography",
    "signature_algorithm_for",
]

# Which host key algorithms we offer is the algorithm registry's; the
# verifiers below (_SIGNATURE_ALGORITHMS) are what runs them.
_PLAIN = tuple(row for row in algorithms.rows(Kind.HOST_KEY)
               if row.implemented and not row.is_certificate)

#: Host key algorithms we offer by default, most preferred first.
HOST_KEY_ALGORITHMS: Tuple[str, ...] = tuple(
    row.name for row in _PLAIN if row.offer is Offer.DEFAULT)

#: Verified, but offered only when asked for by name (ssh-ed448, ssh-dss:
#: the registry's rows say why).
EXTRA_HOST_KEY_ALGORITHMS: Tuple[str, ...] = tuple(
    row.name for row in _PLAIN if row.offer is not Offer.DEFAULT)

#: OpenSSH host certificate algorithms, most preferred first (PROTOCOL.certkeys).
HOST_KEY_CERT_ALGORITHMS: Tuple[str, ...] = tuple(
    row.name for row in algorithms.rows(Kind.HOST_KEY) if row.is_certificate)

#: Signature algorithms accepted from a certificate authority: OpenSSH's default
#: CASignatureAlgorithms, which refuses SHA-1 ``ssh-rsa`` since OpenSSH 8.2.
CA_SIGNATURE_ALGORITHMS: Tuple[str, ...] = tuple(
    a for a in HOST_KEY_ALGORITHMS if a != "ssh-rsa")

CryptoPublicKey = Union[rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey,
                        ed448.Ed448PublicKey, dsa.DSAPublicKey]

_HashType = Type[hashes.HashAlgorithm]

# algorithm name -> (key type, hash used by the signature; None for Ed25519)
_SIGNATURE_ALGORITHMS: Dict[str, Tuple[str, Optional[_HashType]]] = {
    "ssh-ed25519": ("ssh-ed25519", None),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256", hashes.SHA256),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384", hashes.SHA384),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521", hashes.SHA512),
    "rsa-sha2-512": ("ssh-rsa", hashes.SHA512),
    "rsa-sha2-256": ("ssh-rsa", hashes.SHA256),
    "ssh-rsa": ("ssh-rsa", hashes.SHA1),
    "ssh-ed448": ("ssh-ed448", None),
    "ssh-dss": ("ssh-dss", hashes.SHA1),
}

# ECDSA key type -> (curve identifier inside the blob, curve class)
_EC_CURVES: Dict[str, Tuple[str, Type[ec.EllipticCurve]]] = {
    "ecdsa-sha2-nistp256": ("nistp256", ec.SECP256R1),
    "ecdsa-sha2-nistp384": ("nistp384", ec.SECP384R1),
    "ecdsa-sha2-nistp521": ("nistp521", ec.SECP521R1),
}
_EC_KEY_TYPES_BY_CURVE_NAME = {curve().name: kt for kt, (_, curve) in _EC_CURVES.items()}

#: OpenSSH's RSA limits: smaller keys still parse (to show fingerprints) but their
#: signatures are refused; larger moduli do not parse.
RSA_MIN_BITS = 1024
RSA_MAX_BITS = 16384
DSA_MAX_BITS = 3072

_CODE = 1031  # "Cannot verify server's host key."


def _fail(message: str) -> HostKeyError:
    return HostKeyError(message, code=_CODE)


def _shown(name: Union[str, bytes]) -> str:
    """A peer-supplied name, made safe and short for an error message."""
    text = name if isinstance(name, str) else name.decode("ascii", "replace")
    return repr(text if len(text) <= 64 else text[:64] + "...")


def _split_algorithm(algorithm: str) -> Tuple[str, str]:
    """(key type, signature algorithm) of a host key algorithm name."""
    base = algorithm[:-len(CERT_SUFFIX)] if algorithm.endswith(CERT_SUFFIX) else algorithm
    entry = _SIGNATURE_ALGORITHMS.get(base)
    if entry is None or (base != algorithm and base not in HOST_KEY_ALGORITHMS):
        raise _fail(f"unsupported host key algorithm {_shown(algorithm)}")
    key_type = entry[0] + CERT_SUFFIX if base != algorithm else entry[0]
    return key_type, base


def key_type_for_algorithm(algorithm: str) -> str:
    """The public key type a host key / signature algorithm uses.

    ``rsa-sha2-256`` and ``rsa-sha2-512`` -> ``ssh-rsa``;
    ``rsa-sha2-512-cert-v01@openssh.com`` -> ``ssh-rsa-cert-v01@openssh.com``;
    other supported names map to themselves.  Raises ``HostKeyError`` (1031)
    for unknown names.
    """
    return _split_algorithm(algorithm)[0]


def signature_algorithm_for(algorithm: str) -> str:
    """The signature name expected inside a signature blob for a host key algorithm.

    The same name for plain keys; a certificate algorithm without its suffix
    (``rsa-sha2-512-cert-v01@openssh.com`` -> ``rsa-sha2-512``).
    """
    return _split_algorithm(algorithm)[1]


class PublicKey:
    """An SSH public key (server host key, or the public half of a client key).

    ``blob`` is the RFC 4253 §6.6 encoding exactly as received (fingerprints
    and known-hosts comparisons use it unchanged); ``bits`` is the key size
    (256/384/521 for the curves, the modulus length for RSA); ``comment`` is
    the text after the key in an OpenSSH line or RFC 4716 file (else "").
    Equality and hashing use ``blob``.
    """

    __slots__ = ("key_type", "blob", "bits", "comment", "_key")

    def __init__(self, key_type: str, blob: bytes, key: CryptoPublicKey, bits: int,
                 comment: str = "") -> None:
        self.key_type: str = key_type
        self.blob: bytes = blob
        self.bits: int = bits
        self.comment: str = comment
        self._key = key

    @property
    def crypto_key(self) -> CryptoPublicKey:
        """The ``cryptography`` public key object."""
        return self._key

    @property
    def algorithms(self) -> Tuple[str, ...]:
        """Host key algorithms usable with this key, most preferred first."""
        return tuple(a for a in HOST_KEY_ALGORITHMS + HOST_KEY_CERT_ALGORITHMS
                     + EXTRA_HOST_KEY_ALGORITHMS
                     if key_type_for_algorithm(a) == self.key_type)

    # -- signatures -------------------------------------------------------

    def verify(self, signature_blob: bytes, data: bytes, algorithm: str) -> None:
        """Check an SSH signature blob (``string(alg) + string(sig)``) over ``data``.

        ``algorithm`` is the negotiated host key algorithm (e.g. ``rsa-sha2-512``
        for an ``ssh-rsa`` key); it must fit this key, and the name inside the
        blob must equal it.  Returns None if the signature is good; raises
        ``HostKeyError`` (1031) otherwise.
        """
        try:
            key_type, expected = _split_algorithm(algorithm)
        except HostKeyError:
            key_type = expected = ""
        if key_type != self.key_type:
            raise _fail(f"host key algorithm {_shown(algorithm)} cannot be used with "
                        f"a {self.key_type} key")
        try:
            reader = Reader(signature_blob)
            name = reader.string()
            sig = reader.string()
            reader.expect_end()
        except ValueError as exc:
            raise _fail(f"malformed {algorithm} signature: {exc}") from None
        if name != expected.encode("ascii"):
            raise _fail(f"signature algorithm {_shown(name)} does not match the negotiated "
                        f"host key algorithm {expected!r}")
        hash_type = _SIGNATURE_ALGORITHMS[expected][1]
        try:
            self._verify_raw(sig, data, hash_type)
        except InvalidSignature:
            raise _fail(f"the {expected} signature does not verify") from None
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise _fail(f"malformed {expected} signature: {exc}") from None

    def _verify_raw(self, sig: bytes, data: bytes, hash_type: Optional[_HashType]) -> None:
        key = self._key
        if isinstance(key, ed25519.Ed25519PublicKey):
            if len(sig) != 64:
                raise ValueError(f"Ed25519 signature is {len(sig)} bytes, not 64")
            key.verify(sig, data)
        elif isinstance(key, ed448.Ed448PublicKey):
            if len(sig) != 114:
                raise ValueError(f"Ed448 signature is {len(sig)} bytes, not 114")
            key.verify(sig, data)
        elif isinstance(key, dsa.DSAPublicKey):
            # RFC 4253 §6.6: r and s as two 160-bit big-endian integers.
            if len(sig) != 40:
                raise ValueError(f"DSA signature is {len(sig)} bytes, not 40")
            r = int.from_bytes(sig[:20], "big")
            s = int.from_bytes(sig[20:], "big")
            if r == 0 or s == 0:
                raise InvalidSignature()
            key.verify(encode_dss_signature(r, s), data, hashes.SHA1())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            assert hash_type is not None
            inner = Reader(sig)
            r = inner.mpint()
            s = inner.mpint()
            inner.expect_end()
            if r <= 0 or s <= 0:
                raise InvalidSignature()
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hash_type()))
        else:
            assert hash_type is not None
            if self.bits < RSA_MIN_BITS:
                raise ValueError(f"RSA key of {self.bits} bits is too small "
                                 f"(minimum {RSA_MIN_BITS})")
            size = (self.bits + 7) // 8
            if len(sig) > size:
                raise ValueError(f"RSA signature of {len(sig)} bytes is longer than the "
                                 f"{size}-byte modulus")
            # Some peers strip leading zero bytes; OpenSSH accepts that too.
            sig = sig.rjust(size, b"\0")
            key.verify(sig, data, padding.PKCS1v15(), hash_type())

    # -- encodings --------------------------------------------------------

    def openssh_line(self, comment: Optional[str] = None) -> str:
        """``"<type> <base64 blob>[ <comment>]"`` as in authorized_keys / ``*.pub`` files.

        ``comment`` defaults to ``self.comment``; "" leaves it out.
        """
        text = f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"
        comment = self.comment if comment is None else comment
        return f"{text} {comment}" if comment else text

    def public_pem(self) -> str:
        """The key as a PEM ``PUBLIC KEY`` (X.509 SubjectPublicKeyInfo)."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def public_der(self) -> bytes:
        """The key as DER SubjectPublicKeyInfo."""
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def fingerprint(self, hash_name: str = "sha256") -> str:
        """See :func:`fingerprint`."""
        return fingerprint(self.blob, hash_name)

    def fingerprint_openssh(self, hash_name: str = "sha256") -> str:
        """See :func:`fingerprint_openssh`."""
        return fingerprint_openssh(self.blob, hash_name)

    # -- value semantics --------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self.blob == other.blob

    def __hash__(self) -> int:
        return hash(self.blob)

    def __repr__(self) -> str:
        return (f"<PublicKey {self.key_type} {self.bits} bits "
                f"{fingerprint_openssh(self.blob)}>")


# -- parsing the wire encoding -------------------------------------------

def _parse_ed25519(reader: Reader, key_type: str) -> Tuple[CryptoPublicKey, int]:
    raw = reader.string()
    if len(raw) != 32:
        raise ValueError(f"Ed25519 public key is {len(raw)} bytes, not 32")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw), 256


def _parse_ed448(reader: Reader, key_type: str) -> Tuple[CryptoPublicKey, int]:
    raw = reader.string()
    if len(raw) != 57:
        raise ValueError(f"Ed448 public key is {len(raw)} bytes, not 57")
    return ed448.Ed448PublicKey.from_public_bytes(raw), 448


def _parse_dss(reader: Reader, key_type: str) -> Tuple[CryptoPublicKey, int]:
    p, q, g, y = (reader.mpint() for _ in range(4))
    if q.bit_length() != 160:
        # The SSH signature format only has room for 160-bit r and s.
        raise ValueError(f"DSA subgroup order of {q.bit_length()} bits, not 160")
    if p.bit_length() > DSA_MAX_BITS:
        raise ValueError(f"DSA modulus of {p.bit_length()} bits is larger than "
                         f"{DSA_MAX_BITS} bits")
    key = dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
    return key, key.key_size


def _parse_ecdsa(reader: Reader, key_type: str) -> Tuple[CryptoPublicKey, int]:
    curve_id, curve = _EC_CURVES[key_type]
    name = reader.string()
    if name != curve_id.encode("ascii"):
        raise ValueError(f"curve {_shown(name)} does not match key type {key_type}")
    point = reader.string()
    if not point:
        raise ValueError("empty EC point")
    key = ec.EllipticCurvePublicKey.from_encoded_point(curve(), point)
    return key, key.curve.key_size


def _parse_rsa(reader: Reader, key_type: str) -> Tuple[CryptoPublicKey, int]:
    e = reader.mpint()
    n = reader.mpint()
    if n.bit_length() > RSA_MAX_BITS:
        raise ValueError(f"RSA modulus of {n.bit_length()} bits is larger than "
                         f"{RSA_MAX_BITS} bits")
    if e <= 1 or n <= 1:
        raise ValueError("RSA exponent and modulus must be positive")
    key = rsa.RSAPublicNumbers(e, n).public_key()
    return key, key.key_size


_Parser = Callable[[Reader, str], Tuple[CryptoPublicKey, int]]

# key type -> parser of what follows the type name (in a certificate, of what
# follows the nonce).
_PUBLIC_KEY_PARSERS: Dict[str, _Parser] = {
    "ssh-ed25519": _parse_ed25519,
    "ecdsa-sha2-nistp256": _parse_ecdsa,
    "ecdsa-sha2-nistp384": _parse_ecdsa,
    "ecdsa-sha2-nistp521": _parse_ecdsa,
    "ssh-rsa": _parse_rsa,
    "ssh-ed448": _parse_ed448,
    "ssh-dss": _parse_dss,
}


def parse_public_key(blob: bytes, comment: str = "") -> PublicKey:
    """Decode an SSH public key blob (RFC 4253 §6.6, RFC 5656, RFC 8709).

    Raises ``HostKeyError`` (1031) if the blob is malformed, has trailing
    bytes, or is of an unsupported type.
    """
    blob = bytes(blob)
    try:
        reader = Reader(blob)
        raw_type = reader.string()
    except ValueError as exc:
        raise _fail(f"malformed public key blob: {exc}") from None
    key_type = raw_type.decode("ascii", "replace")
    # No certificates of the extra types: OpenSSH has dropped DSA ones, and
    # defines none for Ed448.
    if key_type.endswith(CERT_SUFFIX) and key_type[:-len(CERT_SUFFIX)] in _PUBLIC_KEY_PARSERS \
            and key_type[:-len(CERT_SUFFIX)] not in EXTRA_HOST_KEY_ALGORITHMS:
        return _parse_certificate(blob, reader, key_type, comment)
    parser = _PUBLIC_KEY_PARSERS.get(key_type)
    if parser is None:
        raise _fail(f"unsupported public key type {_shown(raw_type)}")
    try:
        key, bits = parser(reader, key_type)
        reader.expect_end()
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise _fail(f"malformed {key_type} public key: {exc}") from None
    return PublicKey(key_type, blob, key, bits, comment)


# -- OpenSSH certificates (PROTOCOL.certkeys) ------------------------------------

CERT_TYPE_USER = 1
CERT_TYPE_HOST = 2
_FOREVER = (1 << 64) - 1


class Certificate(PublicKey):
    """An OpenSSH certificate: a public key signed by a certificate authority.

    ``key_type`` / ``blob`` are the certificate's (``ssh-ed25519-cert-v01@openssh.com``,
    the whole certificate); ``verify``, ``bits`` and ``public_pem`` use the
    certified key, also available alone as ``public_key``.  The CA's signature
    was checked when the certificate was parsed; ``signature_key`` is the CA.
    Times are seconds since the epoch (``valid_before`` 2**64-1 means forever).
    """

    __slots__ = ("public_key", "nonce", "serial", "cert_type", "key_id", "principals",
                 "valid_after", "valid_before", "critical_options", "extensions",
                 "signature_key")

    def __init__(self, key_type: str, blob: bytes, public_key: PublicKey, *, nonce: bytes,
                 serial: int, cert_type: int, key_id: str, principals: Tuple[str, ...],
                 valid_after: int, valid_before: int, critical_options: Dict[str, bytes],
                 extensions: Dict[str, bytes], signature_key: PublicKey,
                 comment: str = "") -> None:
        super().__init__(key_type, blob, public_key.crypto_key, public_key.bits, comment)
        self.public_key: PublicKey = public_key
        self.nonce: bytes = nonce
        self.serial: int = serial
        self.cert_type: int = cert_type
        self.key_id: str = key_id
        self.principals: Tuple[str, ...] = principals
        self.valid_after: int = valid_after
        self.valid_before: int = valid_before
        self.critical_options: Dict[str, bytes] = critical_options
        self.extensions: Dict[str, bytes] = extensions
        self.signature_key: PublicKey = signature_key

    def check_host(self, hostname: str, now: Optional[float] = None) -> None:
        """Apply OpenSSH's checks for a host certificate presented by ``hostname``.

        It must be a host certificate, valid at ``now`` (default: the current
        time), list ``hostname`` among its principals (an empty list allows any
        host, as in OpenSSH) and carry no critical options.  Raises
        ``HostKeyError`` code 1030 otherwise.  Trusting the CA is separate.
        """
        if self.cert_type != CERT_TYPE_HOST:
            raise HostKeyError("the server presented a user certificate, not a host "
                               "certificate", code=1030)
        when = time.time() if now is None else now
        if when < self.valid_after:
            raise HostKeyError("the host certificate is not valid yet", code=1030)
        if self.valid_before != _FOREVER and when >= self.valid_before:
            raise HostKeyError("the host certificate has expired", code=1030)
        if self.principals and hostname not in self.principals:
            raise HostKeyError(f"the host certificate is not valid for {hostname!r} "
                               f"(principals: {', '.join(self.principals)})", code=1030)
        if self.critical_options:
            raise HostKeyError("the host certificate has unsupported critical options: "
                               + ", ".join(sorted(self.critical_options)), code=1030)

    def __repr__(self) -> str:
        kind = {CERT_TYPE_HOST: "host", CERT_TYPE_USER: "user"}.get(self.cert_type, "?")
        return (f"<Certificate {self.key_type} {kind} id={self.key_id!r} "
                f"serial={self.serial} {fingerprint_openssh(self.public_key.blob)} "
                f"CA {fingerprint_openssh(self.signature_key.blob)}>")


def _cert_options(data: bytes, what: str) -> Dict[str, bytes]:
    reader = Reader(data)
    options: Dict[str, bytes] = {}
    while not reader.at_end():
        name = reader.string().decode("utf-8")
        if name in options:
            raise ValueError(f"duplicate certificate {what} {_shown(name)}")
        options[name] = reader.string()
    return options


def _parse_certificate(blob: bytes, reader: Reader, key_type: str,
                       comment: str) -> Certificate:
    base_type = key_type[:-len(CERT_SUFFIX)]
    try:
        nonce = reader.string()
        key, bits = _PUBLIC_KEY_PARSERS[base_type](reader, base_type)
        key_fields_end = reader.pos
        serial = reader.uint64()
        cert_type = reader.uint32()
        key_id = reader.string().decode("utf-8")
        principals_data = reader.string()
        valid_after = reader.uint64()
        valid_before = reader.uint64()
        critical_data = reader.string()
        extensions_data = reader.string()
        reader.string()  # reserved
        ca_blob = reader.string()
        signed_length = reader.pos
        signature = reader.string()
        reader.expect_end()
        principals_reader = Reader(principals_data)
        principals = []
        while not principals_reader.at_end():
            principals.append(principals_reader.string().decode("utf-8"))
        critical_options = _cert_options(critical_data, "critical option")
        extensions = _cert_options(extensions_data, "extension")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # WireError and UnicodeDecodeError are ValueErrors
        raise _fail(f"malformed {key_type} certificate: {exc}") from None
    if cert_type not in (CERT_TYPE_USER, CERT_TYPE_HOST):
        raise _fail(f"unknown certificate type {cert_type}")
    # The certified key alone: its type name followed by the same key fields.
    nonce_end = 4 + len(key_type) + 4 + len(nonce)
    public = PublicKey(base_type, encode_string(base_type) + blob[nonce_end:key_fields_end],
                       key, bits)
    try:
        ca_type = Reader(ca_blob).string()
    except ValueError:
        ca_type = b""
    if ca_type.endswith(CERT_SUFFIX.encode("ascii")):  # checked first: no recursion
        raise _fail("the certificate is signed by another certificate, not by a CA key")
    ca = parse_public_key(ca_blob)
    try:
        ca_algorithm = Reader(signature).string().decode("ascii")
    except ValueError:
        raise _fail("malformed certificate signature") from None
    if ca_algorithm not in CA_SIGNATURE_ALGORITHMS:
        raise _fail(f"certificate signature algorithm {_shown(ca_algorithm)} is not accepted")
    try:
        ca.verify(signature, blob[:signed_length], ca_algorithm)
    except HostKeyError as exc:
        raise _fail(f"bad certificate signature: {exc.message}") from None
    return Certificate(
        key_type, blob, public, nonce=nonce, serial=serial, cert_type=cert_type,
        key_id=key_id, principals=tuple(principals), valid_after=valid_after,
        valid_before=valid_before, critical_options=critical_options, extensions=extensions,
        signature_key=ca, comment=comment)


def public_key_from_cryptography(key: object, comment: str = "") -> PublicKey:
    """Wrap a ``cryptography`` public key (Ed25519, P-256/384/521 ECDSA, RSA,
    Ed448, DSA)."""
    writer = Writer()
    if isinstance(key, ed25519.Ed25519PublicKey):
        key_type = "ssh-ed25519"
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        writer.string(key_type).string(raw)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        found = _EC_KEY_TYPES_BY_CURVE_NAME.get(key.curve.name)
        if found is None:
            raise _fail(f"unsupported elliptic curve {key.curve.name}")
        key_type = found
        point = key.public_bytes(serialization.Encoding.X962,
                                 serialization.PublicFormat.UncompressedPoint)
        writer.string(key_type).string(_EC_CURVES[key_type][0]).string(point)
    elif isinstance(key, rsa.RSAPublicKey):
        key_type = "ssh-rsa"
        numbers = key.public_numbers()
        writer.string(key_type).mpint(numbers.e).mpint(numbers.n)
    elif isinstance(key, ed448.Ed448PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        writer.string("ssh-ed448").string(raw)
    elif isinstance(key, dsa.DSAPublicKey):
        dn = key.public_numbers()
        pn = dn.parameter_numbers
        writer.string("ssh-dss").mpint(pn.p).mpint(pn.q).mpint(pn.g).mpint(dn.y)
    else:
        raise _fail(f"unsupported public key type {type(key).__name__}")
    return parse_public_key(writer.getvalue(), comment)


# -- text formats ----------------------------------------------------------

_RFC4716_BEGIN = "---- BEGIN SSH2 PUBLIC KEY ----"
_RFC4716_END = "---- END SSH2 PUBLIC KEY ----"
_BASE64_RE = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_OPENSSH_LINE_RE = re.compile(rb"^[A-Za-z0-9@._-]+[ \t]+AAAA")


def _b64decode(text: str, what: str) -> bytes:
    if not _BASE64_RE.match(text) or len(text) % 4:
        raise _fail(f"{what} is not valid base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"{what} is not valid base64") from None


def _as_text(data: Union[str, bytes], what: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(f"{what} is not UTF-8 text") from None


def parse_openssh_public_key(text: Union[str, bytes]) -> PublicKey:
    """Parse ``"<type> <base64> [comment]"`` (a ``*.pub`` line) or an RFC 4716 block.

    Blank lines and ``#`` comment lines before the key are skipped.  The type
    word must match the type inside the blob.  Raises ``HostKeyError`` (1031).
    """
    text = _as_text(text, "public key")
    stripped = text.strip()
    if stripped.startswith(_RFC4716_BEGIN):
        return _parse_rfc4716(stripped)
    for line in stripped.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise _fail("public key line needs '<type> <base64>'")
        key_type, data = parts[0], parts[1]
        comment = parts[2].strip() if len(parts) == 3 else ""
        key = parse_public_key(_b64decode(data, "public key"), comment)
        if key.key_type != key_type:
            raise _fail(f"public key line says {_shown(key_type)} but the key is "
                        f"{key.key_type}")
        return key
    raise _fail("no public key found")


def _parse_rfc4716(text: str) -> PublicKey:
    lines = [line.strip() for line in text.splitlines()]
    try:
        end = lines.index(_RFC4716_END)
    except ValueError:
        raise _fail(f"RFC 4716 public key without '{_RFC4716_END}'") from None
    headers: Dict[str, str] = {}
    body = []
    pending = ""
    in_headers = True
    for line in lines[1:end]:
        if in_headers and (pending or ":" in line):
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1]
                continue
            tag, _, value = pending.partition(":")
            headers[tag.strip().lower()] = value.strip()
            pending = ""
            continue
        in_headers = False
        body.append(line)
    comment = headers.get("comment", "")
    if len(comment) >= 2 and comment[0] == comment[-1] == '"':
        comment = comment[1:-1]
    return parse_public_key(_b64decode("".join(body), "RFC 4716 public key"), comment)


def load_public_key(data: Union[str, bytes]) -> PublicKey:
    """Load a public key from any common encoding, detected from the data.

    Accepts an SSH wire blob, an OpenSSH ``*.pub`` line, RFC 4716, PEM
    (``PUBLIC KEY`` SubjectPublicKeyInfo or PKCS#1 ``RSA PUBLIC KEY``), DER
    SubjectPublicKeyInfo, and unarmoured base64 of the blob or the DER.
    Raises ``HostKeyError`` (1031).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    stripped = raw.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            return public_key_from_cryptography(serialization.load_pem_public_key(stripped))
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise _fail(f"cannot load PEM public key: {exc}") from None
    if stripped.startswith(b"---- ") or _OPENSSH_LINE_RE.match(stripped):
        return parse_openssh_public_key(stripped)
    candidates = [raw]
    if _BASE64_RE.match(re.sub(rb"\s+", b"", stripped).decode("latin-1")):
        try:
            candidates.append(base64.b64decode(re.sub(rb"\s+", b"", stripped), validate=True))
        except (binascii.Error, ValueError):
            pass
    for candidate in candidates:
        if candidate[:1] == b"\0":
            try:
                return parse_public_key(candidate)
            except HostKeyError:
                pass
        elif candidate[:1] == b"\x30":
            try:
                return public_key_from_cryptography(serialization.load_der_public_key(candidate))
            except (ValueError, TypeError, UnsupportedAlgorithm):
                pass
    raise _fail("unrecognised public key format")


# -- fingerprints ----------------------------------------------------------

_FINGERPRINT_HASHES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256",
                       "sha384": "sha384", "sha512": "sha512"}


def _digest(blob: bytes, hash_name: str) -> Tuple[str, bytes]:
    name = _FINGERPRINT_HASHES.get(hash_name.lower().replace("-", "").replace("_", ""))
    if name is None:
        raise UsageError(f"unsupported fingerprint hash {hash_name!r} "
                         f"(use md5, sha1 or sha256)", code=1005)
    return name, hashlib.new(name, bytes(blob), usedforsecurity=False).digest()


def fingerprint(blob: bytes, hash_name: str = "sha256") -> str:
    """Hex fingerprint of a key blob, lowercase, colon separated: ``"0a:1b:..."``.

    ``hash_name``: md5, sha1 or sha256 (also sha384/sha512; "SHA-256" etc. accepted).
    This is the spec's format for Fingerprint / SSHAcceptServerHostKeyFingerPrint.
    """
    _, digest = _digest(blob, hash_name)
    return ":".join(f"{b:02x}" for b in digest)


def fingerprint_openssh(blob: bytes, hash_name: str = "sha256") -> str:
    """Fingerprint as ``ssh-keygen -l`` prints it: ``"SHA256:<base64, no padding>"``.

    With ``hash_name="md5"``: ``"MD5:0a:1b:..."`` (``ssh-keygen -l -E md5``).
    """
    name, digest = _digest(blob, hash_name)
    if name == "md5":
        return "MD5:" + ":".join(f"{b:02x}" for b in digest)
    return f"{name.upper()}:" + base64.b64encode(digest).decode("ascii").rstrip("=")

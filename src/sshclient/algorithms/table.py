"""The algorithm table: every name the library knows, one row each.

A row says what kind of algorithm a name is, how we offer it, and why not
by default (or why not at all).  Within a kind, the order of the rows is our
preference: the DEFAULT rows, in table order, are our default KEXINIT list,
and the table order is the order in which "supported" lists are shown.

The implementations keep their own dispatch tables, keyed by the same
names: the key exchanges in `sshclient.kex`, the packet ciphers and MACs in
the compiled `sshcore.crypto` (which cannot import this layer), the host
key verifiers in `sshclient.hostkeys`, zlib in `sshcore.packet`.
tests/test_algorithm_registry.py checks that they agree with this table.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    """The KEXINIT name-list an algorithm belongs in."""
    KEX = "kex"
    HOST_KEY = "host_key"
    CIPHER = "cipher"
    MAC = "mac"
    COMPRESSION = "compression"

    # hashed as its name-list's string (in C; Enum's own __hash__ is Python
    # code, and the registry looks kinds up several times per connection)
    __hash__ = str.__hash__

    @property
    def label(self) -> str:
        """How error messages name the kind."""
        return _LABELS[self]


_LABELS = {Kind.KEX: "key exchange", Kind.HOST_KEY: "host key", Kind.CIPHER: "encryption",
           Kind.MAC: "MAC", Kind.COMPRESSION: "compression"}


class Offer(str, Enum):
    """How we offer an algorithm."""
    #: Implemented, and in our default offer.
    DEFAULT = "default"
    #: Implemented and sound, but offered only when named (or, for host
    #: certificates, when host CA keys are configured).
    ON_REQUEST = "on request"
    #: Implemented but weak: offered only when named, and after every strong
    #: algorithm in a list left at the spec's default.
    LEGACY = "legacy"
    #: Not an algorithm: a marker the client adds to its own kex list.
    MARKER = "marker"
    #: Known, and not implemented (`why` says why).
    NOT_IMPLEMENTED = "not implemented"


#: Where each kind is implemented (the dispatch that runs a negotiated name).
IMPLEMENTED_BY = {
    Kind.KEX: "sshclient.kex.create_kex",
    Kind.HOST_KEY: "sshclient.hostkeys.PublicKey.verify",
    Kind.CIPHER: "sshcore.crypto.make_cipher",
    Kind.MAC: "sshcore.crypto.make_cipher",
    Kind.COMPRESSION: "sshcore.packet.PacketEngine (zlib)",
}

#: The markers our first KEXINIT carries in its kex list.
EXT_INFO_CLIENT = "ext-info-c"
STRICT_KEX_CLIENT = "kex-strict-c-v00@openssh.com"

#: Suffix of OpenSSH certificate key types and algorithms (PROTOCOL.certkeys).
CERT_SUFFIX = "-cert-v01@openssh.com"


@dataclass(frozen=True)
class Algorithm:
    """One row: `name` is an SSH algorithm name, or for a NOT_IMPLEMENTED
    family a prefix ending in "*" (gss-* names carry a mechanism OID)."""
    name: str
    kind: Kind
    offer: Offer
    #: Why it is not in the default offer, or why it is not implemented.
    why: str = ""

    @property
    def implemented(self) -> bool:
        return self.offer in (Offer.DEFAULT, Offer.ON_REQUEST, Offer.LEGACY)

    @property
    def is_certificate(self) -> bool:
        return self.name.endswith(CERT_SUFFIX)

    @property
    def implemented_by(self) -> str:
        return IMPLEMENTED_BY[self.kind] if self.implemented else ""

    def matches(self, name: str) -> bool:
        if self.name.endswith("*"):
            return name.startswith(self.name[:-1])
        return name == self.name


def _rows(kind: Kind, offer: Offer, names: tuple[str, ...], why: str = "") -> list[Algorithm]:
    return [Algorithm(name, kind, offer, why) for name in names]


_SHA1_HASH = "SHA-1 exchange hash"
_CBC = ("CBC mode: the packet length is encrypted and MAC-then-encrypt invites "
        "padding-oracle attacks")
_WEAK_MAC = "MD5, RIPEMD-160 or a MAC truncated to 96 bits"
_64BIT_BLOCKS = "64-bit block cipher with no libcrypto 3 default provider support"

_KEX = [
    *_rows(Kind.KEX, Offer.DEFAULT, (
        "curve25519-sha256", "curve25519-sha256@libssh.org",
        "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
        "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256")),
    Algorithm("diffie-hellman-group14-sha1", Kind.KEX, Offer.LEGACY, _SHA1_HASH),
    Algorithm("diffie-hellman-group-exchange-sha1", Kind.KEX, Offer.LEGACY, _SHA1_HASH),
    Algorithm("diffie-hellman-group1-sha1", Kind.KEX, Offer.LEGACY,
              "1024-bit group and SHA-1 exchange hash"),
    # The transport appends these to its first KEXINIT by itself.
    Algorithm(EXT_INFO_CLIENT, Kind.KEX, Offer.MARKER,
              "asks the server for SSH_MSG_EXT_INFO (RFC 8308); added by the client itself"),
    Algorithm(STRICT_KEX_CLIENT, Kind.KEX, Offer.MARKER,
              "strict key exchange (Terrapin counter-measure); added by the client itself"),
    Algorithm("gss-*", Kind.KEX, Offer.NOT_IMPLEMENTED,
              "GSS-API key exchange (RFC 4462) is not implemented"),
]

_PLAIN_HOST_KEYS = [
    *_rows(Kind.HOST_KEY, Offer.DEFAULT, (
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")),
    Algorithm("ssh-ed448", Kind.HOST_KEY, Offer.ON_REQUEST,
              "strong, but no mainstream server has Ed448 host keys, OpenSSH included"),
    Algorithm("ssh-dss", Kind.HOST_KEY, Offer.LEGACY,
              "DSA with SHA-1, at most 1024 bits in practice (OpenSSH 7.0 disabled it)"),
]
_HOST_KEYS = [
    *_PLAIN_HOST_KEYS,
    # A certificate for each default algorithm, in the same order.
    *(Algorithm(row.name + CERT_SUFFIX, Kind.HOST_KEY, Offer.ON_REQUEST,
                "host certificate algorithm: offered when host CA keys are configured")
      for row in _PLAIN_HOST_KEYS if row.offer is Offer.DEFAULT),
    Algorithm("x509v3-*", Kind.HOST_KEY, Offer.NOT_IMPLEMENTED,
              "X.509 host key algorithms (RFC 6187) are not implemented"),
]

_CIPHERS = [
    *_rows(Kind.CIPHER, Offer.DEFAULT, (
        "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        "aes128-ctr", "aes192-ctr", "aes256-ctr")),
    *_rows(Kind.CIPHER, Offer.LEGACY, ("aes128-cbc", "aes192-cbc", "aes256-cbc"), _CBC),
    Algorithm("3des-cbc", Kind.CIPHER, Offer.LEGACY,
              "64-bit blocks (Sweet32) in CBC mode"),
    Algorithm("3des-ctr", Kind.CIPHER, Offer.NOT_IMPLEMENTED,
              "not implemented (no mainstream server offers it; 3des-cbc is available)"),
    Algorithm("arcfour*", Kind.CIPHER, Offer.NOT_IMPLEMENTED,
              "not implemented: RC4 is broken (RFC 8758 forbids it in SSH)"),
    Algorithm("blowfish-cbc", Kind.CIPHER, Offer.NOT_IMPLEMENTED,
              "not implemented: " + _64BIT_BLOCKS),
    Algorithm("cast128-cbc", Kind.CIPHER, Offer.NOT_IMPLEMENTED,
              "not implemented: " + _64BIT_BLOCKS),
]

_MACS = [
    *_rows(Kind.MAC, Offer.DEFAULT, (
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1")),
    *_rows(Kind.MAC, Offer.LEGACY, (
        "hmac-sha1-96", "hmac-sha2-256-96", "hmac-sha2-512-96", "hmac-md5", "hmac-md5-96",
        "hmac-ripemd160", "hmac-ripemd160-96",
        "hmac-sha1-96-etm@openssh.com", "hmac-sha2-256-96-etm@openssh.com",
        "hmac-sha2-512-96-etm@openssh.com", "hmac-md5-etm@openssh.com",
        "hmac-md5-96-etm@openssh.com"), _WEAK_MAC),
    Algorithm("umac-*", Kind.MAC, Offer.NOT_IMPLEMENTED,
              "UMAC is not implemented (no libcrypto primitive; use an hmac-sha2 MAC)"),
]

_COMPRESSION = [
    # RFC 4253 §6.2 zlib starts with NEWKEYS; OpenSSH's zlib@openssh.com is
    # delayed until USERAUTH_SUCCESS.
    Algorithm("zlib", Kind.COMPRESSION, Offer.ON_REQUEST,
              "compression costs CPU and rarely pays on fast links"),
    Algorithm("zlib@openssh.com", Kind.COMPRESSION, Offer.ON_REQUEST,
              "compression costs CPU and rarely pays on fast links"),
    Algorithm("none", Kind.COMPRESSION, Offer.DEFAULT),
]

#: Every row, kind by kind, each kind in preference order.
ALGORITHMS: tuple[Algorithm, ...] = (*_KEX, *_HOST_KEYS, *_CIPHERS, *_MACS, *_COMPRESSION)

"""What every key exchange method shares: the result, key derivation, errors."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable, Dict

from ..errors import RemoteProtocolError, UsageError

# Message numbers (RFC 4253 §12, RFC 5656 §7.1, RFC 4419 §5).  30-49 are reused per method.
MSG_KEXDH_INIT = 30
MSG_KEXDH_REPLY = 31
MSG_KEX_ECDH_INIT = 30
MSG_KEX_ECDH_REPLY = 31
MSG_KEX_DH_GEX_REQUEST = 34
MSG_KEX_DH_GEX_GROUP = 31
MSG_KEX_DH_GEX_INIT = 32
MSG_KEX_DH_GEX_REPLY = 33

# SSH_MSG_DISCONNECT reasons (RFC 4250 §4.2.2).
DISCONNECT_PROTOCOL_ERROR = 2
DISCONNECT_KEY_EXCHANGE_FAILED = 3

# Spec error codes.
ERR_UNSUPPORTED = 1005  # "Selected algorithm unsupported."
ERR_DH = 1034  # "Diffie-Hellman exchange failed."
ERR_CONNECTION = 1036  # "SSH connection failed."
ERR_ECDH = 1038  # "Elliptic curve Diffie-Hellman exchange failed."

HashFactory = Callable[[], "hashlib._Hash"]

HASHES: Dict[str, HashFactory] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def hash_factory(hash_name: str) -> HashFactory:
    try:
        return HASHES[hash_name]
    except KeyError:
        raise UsageError(f"unknown key exchange hash {hash_name!r}", code=ERR_UNSUPPORTED) from None


def bad_value(code: int, message: str) -> RemoteProtocolError:
    """The peer's key exchange value (public key, group) is unacceptable."""
    return RemoteProtocolError(message, code=code,
                               disconnect_reason=DISCONNECT_KEY_EXCHANGE_FAILED)


@dataclass(frozen=True)
class KexResult:
    """What a finished key exchange hands to the transport.

    The transport verifies `signature_blob` over `exchange_hash` with `host_key_blob`, takes
    the first exchange hash as the session id, and derives keys with `derive_key`.
    """

    #: K_S, the server's public host key blob, as received.
    host_key_blob: bytes
    #: The signature field as received: string(algorithm name) + string(signature).
    signature_blob: bytes
    #: K, already encoded for hashing and key derivation (an SSH mpint for every method here).
    shared_secret: bytes = field(repr=False)
    #: H, the exchange hash.
    exchange_hash: bytes
    #: Hash used by the method: "sha1", "sha256", "sha384" or "sha512".
    hash_name: str


def derive_key(hash_name: str, shared_secret: bytes, exchange_hash: bytes,
               session_id: bytes, letter: bytes, size: int) -> bytes:
    """RFC 4253 §7.2: a `size`-byte key for `letter` (b"A" ... b"F").

    K1 = HASH(K || H || letter || session_id), K2 = HASH(K || H || K1),
    K3 = HASH(K || H || K1 || K2), ...; key = first `size` bytes of K1 || K2 || ....
    `shared_secret` is K already encoded (KexResult.shared_secret).
    """
    factory = hash_factory(hash_name)
    if len(letter) != 1:
        raise UsageError(f"key letter must be one byte, not {letter!r}")
    if size < 0:
        raise UsageError(f"negative key size {size}")
    if size == 0:
        return b""
    prefix = factory()
    prefix.update(shared_secret)
    prefix.update(exchange_hash)
    first = prefix.copy()
    first.update(letter)
    first.update(session_id)
    out = bytearray(first.digest())
    while len(out) < size:
        more = prefix.copy()
        more.update(out)
        out += more.digest()
    return bytes(out[:size])

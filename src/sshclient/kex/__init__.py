"""SSH key exchange, client side, sans-IO.

The transport negotiates a method name (RFC 4253 §7.1), then::

    kex = create_kex(name, client_version, server_version, client_kexinit, server_kexinit,
                     gex_bits=(2048, 3072, 8192))
    send_all(kex.start())
    # for each incoming message 30..49 while the exchange runs:
    out = kex.handle(msg_type, payload)
    if isinstance(out, KexResult): verify the host key signature over out.exchange_hash,
        then NEWKEYS and derive_key(...) for the six keys
    else: send_all(out)

Methods: curve25519-sha256(@libssh.org) (RFC 8731), ecdh-sha2-nistp256/384/521 (RFC 5656),
diffie-hellman-group-exchange-sha256/-sha1 (RFC 4419), diffie-hellman-group14/16/18
(RFC 4253, RFC 8268) and diffie-hellman-group1-sha1.  Errors are RemoteProtocolError with
code 1036 (message out of order), 1034 (finite-field DH) or 1038 (ECDH / X25519).
Which methods we offer, and in what order, is the algorithm registry's
(`sshclient.algorithms`).
"""
from __future__ import annotations

from ._common import (
    MSG_KEX_DH_GEX_GROUP,
    MSG_KEX_DH_GEX_INIT,
    MSG_KEX_DH_GEX_REPLY,
    MSG_KEX_DH_GEX_REQUEST,
    MSG_KEX_ECDH_INIT,
    MSG_KEX_ECDH_REPLY,
    MSG_KEXDH_INIT,
    MSG_KEXDH_REPLY,
    KexResult,
    derive_key,
)
from ._method import (
    DEFAULT_GEX_BITS,
    KexMethod,
    create_kex,
    is_supported,
)

__all__ = [
    "DEFAULT_GEX_BITS",
    "KexResult",
    "KexMethod",
    "create_kex",
    "derive_key",
    "is_supported",
    "MSG_KEXDH_INIT",
    "MSG_KEXDH_REPLY",
    "MSG_KEX_ECDH_INIT",
    "MSG_KEX_ECDH_REPLY",
    "MSG_KEX_DH_GEX_REQUEST",
    "MSG_KEX_DH_GEX_GROUP",
    "MSG_KEX_DH_GEX_INIT",
    "MSG_KEX_DH_GEX_REPLY",
]

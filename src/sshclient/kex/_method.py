"""KexMethod: one client-side key exchange as a sans-IO state machine.

    state        message accepted          next state    we send
    ---------    ----------------------    ----------    -------------------------------
    new          (start() is called)       reply         *_INIT          (ECDH, X25519, DH)
    new          (start() is called)       gex_group     KEX_DH_GEX_REQUEST         (GEX)
    gex_group    KEX_DH_GEX_GROUP (31)     reply         KEX_DH_GEX_INIT            (GEX)
    reply        KEXDH/ECDH_REPLY (31)     done          -> KexResult
                 KEX_DH_GEX_REPLY (33)
    done/failed  nothing

Any other message in any state is a protocol error; so is a second start().  Exchange
hashes (all fields are SSH strings unless noted):

    DH     (RFC 4253 §8):  V_C V_S I_C I_S K_S mpint(e) mpint(f) mpint(K)
    GEX    (RFC 4419 §3):  V_C V_S I_C I_S K_S uint32(min,n,max) mpint(p,g) mpint(e,f,K)
    ECDH   (RFC 5656 §4):  V_C V_S I_C I_S K_S Q_C Q_S mpint(K)
    X25519 (RFC 8731 §3):  as ECDH, K = the X25519 output read as a big-endian integer
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

from sshcore.wire import Reader, WireError, Writer, encode_mpint, encode_string

from .. import dh_groups
from ..errors import RemoteProtocolError, SSHClientError, UsageError
from ._agreement import Agreement, ECDHAgreement, FFDHAgreement, X25519Agreement, exponent_bits
from ._common import (
    DISCONNECT_PROTOCOL_ERROR,
    ERR_CONNECTION,
    ERR_DH,
    ERR_ECDH,
    ERR_UNSUPPORTED,
    HASHES,
    MSG_KEX_DH_GEX_GROUP,
    MSG_KEX_DH_GEX_INIT,
    MSG_KEX_DH_GEX_REPLY,
    MSG_KEX_DH_GEX_REQUEST,
    MSG_KEXDH_INIT,
    MSG_KEXDH_REPLY,
    KexResult,
    bad_value,
)

# Limits on the group a GEX server may hand out (RFC 4419 §3: 1024 <= min, max <= 8192).
GEX_MIN_BITS = 1024
GEX_MAX_BITS = 8192
DEFAULT_GEX_BITS = (2048, 3072, 8192)


@dataclass(frozen=True)
class _Spec:
    kind: str  # "x25519" | "ecdh" | "dh" | "gex"
    hash_name: str
    param: str = ""  # curve name for "ecdh", group attribute of dh_groups for "dh"


_METHODS: Dict[str, _Spec] = {
    "curve25519-sha256": _Spec("x25519", "sha256"),
    "curve25519-sha256@libssh.org": _Spec("x25519", "sha256"),
    "ecdh-sha2-nistp256": _Spec("ecdh", "sha256", "nistp256"),
    "ecdh-sha2-nistp384": _Spec("ecdh", "sha384", "nistp384"),
    "ecdh-sha2-nistp521": _Spec("ecdh", "sha512", "nistp521"),
    "diffie-hellman-group-exchange-sha256": _Spec("gex", "sha256"),
    "diffie-hellman-group-exchange-sha1": _Spec("gex", "sha1"),
    "diffie-hellman-group18-sha512": _Spec("dh", "sha512", "MODP_GROUP18"),
    "diffie-hellman-group16-sha512": _Spec("dh", "sha512", "MODP_GROUP16"),
    "diffie-hellman-group14-sha256": _Spec("dh", "sha256", "MODP_GROUP14"),
    "diffie-hellman-group14-sha1": _Spec("dh", "sha1", "MODP_GROUP14"),
    "diffie-hellman-group1-sha1": _Spec("dh", "sha1", "OAKLEY_GROUP2"),
}

# (kind, state) -> the one message type accepted there.
_EXPECTED: Dict[Tuple[str, str], int] = {
    ("x25519", "reply"): MSG_KEXDH_REPLY,
    ("ecdh", "reply"): MSG_KEXDH_REPLY,
    ("dh", "reply"): MSG_KEXDH_REPLY,
    ("gex", "gex_group"): MSG_KEX_DH_GEX_GROUP,
    ("gex", "reply"): MSG_KEX_DH_GEX_REPLY,
}
_MSG_NAMES: Dict[Tuple[str, int], str] = {
    ("x25519", 31): "SSH_MSG_KEX_ECDH_REPLY",
    ("ecdh", 31): "SSH_MSG_KEX_ECDH_REPLY",
    ("dh", 31): "SSH_MSG_KEXDH_REPLY",
    ("gex", 31): "SSH_MSG_KEX_DH_GEX_GROUP",
    ("gex", 33): "SSH_MSG_KEX_DH_GEX_REPLY",
}


class KexMethod:
    """One key exchange, client side, sans-IO.  Make one per (re-)exchange.

    `client_version` / `server_version` are the identification strings without CR LF;
    `client_kexinit` / `server_kexinit` the KEXINIT payloads including the type byte 20.
    `gex_bits` = (min, preferred, max) modulus size for group exchange.  `private_key` fixes
    the ephemeral private key, for known-answer tests only (32 raw bytes for X25519, the
    big-endian scalar or exponent otherwise).
    """

    def __init__(self, name: str, client_version: bytes, server_version: bytes,
                 client_kexinit: bytes, server_kexinit: bytes, *,
                 gex_bits: Tuple[int, int, int] = DEFAULT_GEX_BITS,
                 private_key: Optional[bytes] = None) -> None:
        spec = _METHODS.get(name)
        if spec is None:
            raise UsageError(f"unsupported key exchange method {name!r}", code=ERR_UNSUPPORTED)
        for label, version in (("client", client_version), ("server", server_version)):
            if version.endswith(b"\n") or version.endswith(b"\r"):
                raise UsageError(f"{label} version must be given without CR LF")
        for label, kexinit in (("client", client_kexinit), ("server", server_kexinit)):
            if kexinit[:1] != b"\x14":
                raise UsageError(f"{label} KEXINIT payload must start with its type byte 20")
        self.name = name
        self.hash_name = spec.hash_name
        self._kind = spec.kind
        self._spec = spec
        self._private_key = private_key
        self._error_code = ERR_DH if spec.kind in ("dh", "gex") else ERR_ECDH
        # V_C, V_S, I_C, I_S: the start of every exchange hash here.
        self._hash_prefix = b"".join(encode_string(v) for v in (
            client_version, server_version, client_kexinit, server_kexinit))
        self._gex_bits = DEFAULT_GEX_BITS
        if spec.kind == "gex":
            lo, n, hi = gex_bits
            if not GEX_MIN_BITS <= lo <= n <= hi <= GEX_MAX_BITS:
                raise UsageError(
                    f"group exchange sizes must satisfy {GEX_MIN_BITS} <= min <= preferred "
                    f"<= max <= {GEX_MAX_BITS}, not {gex_bits!r}")
            self._gex_bits = (lo, n, hi)
        self._gex_hash_block = b""  # uint32 min, n, max + mpint p, g (GEX only)
        self._agreement: Optional[Agreement] = None
        self._state = "new"

    # ------------------------------------------------------------------ public API
    @property
    def expected_message(self) -> Optional[int]:
        """The message type handle() accepts now (None before start() and when finished)."""
        return _EXPECTED.get((self._kind, self._state))

    @property
    def done(self) -> bool:
        return self._state == "done"

    def start(self) -> List[bytes]:
        """Payloads to send first: [*_INIT], or [KEX_DH_GEX_REQUEST] for group exchange."""
        if self._state != "new":
            raise UsageError(f"{self.name} key exchange already started")
        if self._kind == "gex":
            lo, n, hi = self._gex_bits
            self._state = "gex_group"
            return [Writer().byte(MSG_KEX_DH_GEX_REQUEST).uint32(lo).uint32(n).uint32(hi)
                    .getvalue()]
        spec = self._spec
        agreement: Agreement
        if spec.kind == "x25519":
            agreement = X25519Agreement(self._private_key)
        elif spec.kind == "ecdh":
            agreement = ECDHAgreement(spec.param, self._private_key)
        else:
            group: dh_groups.DHGroup = getattr(dh_groups, spec.param)
            agreement = self._ffdh(group)
        self._agreement = agreement
        self._state = "reply"
        return [bytes([MSG_KEXDH_INIT]) + agreement.client_public()]

    def handle(self, msg_type: int, payload: bytes) -> Union[List[bytes], KexResult]:
        """Feed one key exchange message (`payload` includes its type byte).

        Returns payloads to send next, or the KexResult once the REPLY is in.  Raises
        RemoteProtocolError: code 1036 for a message out of order, 1034 (DH) / 1038 (ECDH,
        X25519) for a malformed message or an unacceptable value from the server.
        """
        expected = self.expected_message
        if expected is None or msg_type != expected:
            state = self._state
            self._state = "failed"
            wanted = "no message" if expected is None else self._msg_name(expected)
            raise RemoteProtocolError(
                f"unexpected message {msg_type} during {self.name} key exchange "
                f"(state {state}: expected {wanted})", code=ERR_CONNECTION)
        if payload[:1] != bytes([msg_type]):
            self._state = "failed"
            raise self._malformed(msg_type, "payload does not start with its message type")
        try:
            if self._state == "gex_group":
                return self._on_gex_group(Reader(payload))
            return self._on_reply(Reader(payload))
        except WireError as exc:
            self._state = "failed"
            raise self._malformed(msg_type, str(exc)) from None
        except SSHClientError:
            self._state = "failed"
            raise

    # ------------------------------------------------------------------ steps
    def _ffdh(self, group: dh_groups.DHGroup) -> FFDHAgreement:
        hash_bits = HASHES[self.hash_name]().digest_size * 8
        return FFDHAgreement(group, exponent_bits(group.p, hash_bits), self._private_key)

    def _on_gex_group(self, r: Reader) -> List[bytes]:
        r.byte()
        p = r.mpint()
        g = r.mpint()
        r.expect_end()
        lo, n, hi = self._gex_bits
        bits = p.bit_length()
        if p <= 0 or not lo <= bits <= hi:
            raise bad_value(ERR_DH, f"server offered a {bits}-bit DH group; asked for "
                                    f"{lo} to {hi} bits")
        if p % 2 == 0:
            raise bad_value(ERR_DH, "server offered an even DH modulus")
        if not 1 < g < p - 1:
            raise bad_value(ERR_DH, "server offered a DH generator out of range (1 < g < p-1)")
        # Not checked: that p is a (safe) prime.  It would cost seconds for big groups, and
        # only the server could profit: p and g are in H, which the host key signs, so
        # nobody else can substitute a weak group.
        self._gex_hash_block = (
            Writer().uint32(lo).uint32(n).uint32(hi).mpint(p).mpint(g).getvalue())
        agreement = self._ffdh(dh_groups.DHGroup("gex", p, g))
        self._agreement = agreement
        self._state = "reply"
        return [bytes([MSG_KEX_DH_GEX_INIT]) + agreement.client_public()]

    def _on_reply(self, r: Reader) -> KexResult:
        agreement = self._agreement
        assert agreement is not None
        r.byte()
        host_key = r.string()
        server_public = agreement.read_server_public(r)
        signature = r.string()
        r.expect_end()
        k = encode_mpint(agreement.shared_secret())
        h = HASHES[self.hash_name]()
        for part in (self._hash_prefix, encode_string(host_key), self._gex_hash_block,
                     agreement.client_public(), server_public, k):
            h.update(part)
        self._agreement = None  # drop the ephemeral private key
        self._state = "done"
        return KexResult(host_key_blob=host_key, signature_blob=signature, shared_secret=k,
                         exchange_hash=h.digest(), hash_name=self.hash_name)

    # ------------------------------------------------------------------ errors
    def _msg_name(self, msg_type: int) -> str:
        name = _MSG_NAMES.get((self._kind, msg_type))
        return f"{name} ({msg_type})" if name else str(msg_type)

    def _malformed(self, msg_type: int, why: str) -> RemoteProtocolError:
        return RemoteProtocolError(f"malformed {self._msg_name(msg_type)}: {why}",
                                   code=self._error_code,
                                   disconnect_reason=DISCONNECT_PROTOCOL_ERROR)


def create_kex(name: str, client_version: bytes, server_version: bytes,
               client_kexinit: bytes, server_kexinit: bytes, *,
               gex_bits: Tuple[int, int, int] = DEFAULT_GEX_BITS,
               private_key: Optional[bytes] = None) -> KexMethod:
    """The key exchange for a negotiated method name; unknown name -> UsageError(1005)."""
    return KexMethod(name, client_version, server_version, client_kexinit, server_kexinit,
                     gex_bits=gex_bits, private_key=private_key)


def is_supported(name: str) -> bool:
    """Whether `create_kex` can run `name` (which ones we offer is the
    algorithm registry's business)."""
    return name in _METHODS


__all__ = ["KexMethod", "create_kex", "is_supported"]

"""Read-only certificate fields of the spec (ssh_cert_* and ssh_accept_server_host_key_*).

SSH keys have no X.509 issuer, dates or usages: those fields stay at the
spec's empty defaults; the fingerprints, public key, algorithm, length and
encoding are filled in from the loaded key.
"""
from __future__ import annotations

import base64
from typing import Any, Callable

from .certstore import Certificate

# field -> (default, how to compute it from a Certificate)
FIELDS: dict[str, tuple[Any, Callable[[Certificate], Any]]] = {
    "effective_date": ("", lambda c: ""),
    "expiration_date": ("", lambda c: ""),
    "extended_key_usage": ("", lambda c: ""),
    "fingerprint": ("", lambda c: c.fingerprint("md5")),
    "fingerprint_sha1": ("", lambda c: c.fingerprint("sha1")),
    "fingerprint_sha256": ("", lambda c: c.fingerprint("sha256")),
    "issuer": ("", lambda c: ""),
    "private_key": ("", lambda c: c.private_key.private_pem() if c.private_key else ""),
    "private_key_available": (False, lambda c: c.private_key is not None),
    "private_key_container": ("", lambda c: ""),
    "public_key": ("", lambda c: c.public_key.public_pem()),
    "public_key_algorithm": ("", lambda c: c.algorithm_name),
    "public_key_length": (0, lambda c: c.public_key.bits),
    "serial_number": ("", lambda c: ""),
    "signature_algorithm": ("", lambda c: c.public_key.key_type),
    "subject_alt_names": ("", lambda c: ""),
    "thumbprint_md5": ("", lambda c: c.fingerprint("md5").replace(":", "")),
    "thumbprint_sha1": ("", lambda c: c.fingerprint("sha1").replace(":", "")),
    "thumbprint_sha256": ("", lambda c: c.fingerprint("sha256").replace(":", "")),
    "usage": ("", lambda c: ""),
    "usage_flags": (0, lambda c: 0),
    "version": ("", lambda c: ""),
}


def install_cert_properties(cls: type, prefix: str, attr: str) -> None:
    """Add read-only get_<prefix>_<field> + property for every field; <prefix>_encoded r/w."""
    for field_name, (default, compute) in FIELDS.items():
        _install_readonly(cls, f"{prefix}_{field_name}", attr, default, compute)
    _install_encoded(cls, prefix, attr)


def _install_readonly(cls: type, name: str, attr: str, default: Any,
                      compute: Callable[[Certificate], Any]) -> None:
    def getter(self: Any) -> Any:
        cert = getattr(self, attr)
        return default if cert is None else compute(cert)

    getter.__name__ = "get_" + name
    setattr(cls, "get_" + name, getter)
    setattr(cls, name, property(getter, None))


def _install_encoded(cls: type, prefix: str, attr: str) -> None:
    name = f"{prefix}_encoded"

    def getter(self: Any) -> bytes:
        cert = getattr(self, attr)
        return b"" if cert is None else cert.encoded.encode("ascii")

    def setter(self: Any, value: bytes | str) -> None:
        from .certstore import CST_AUTO, load_certificate

        raw = value.encode() if isinstance(value, str) else bytes(value)
        if not raw:
            setattr(self, attr, None)
            return
        try:
            raw = base64.b64decode(raw, validate=True) if b" " not in raw.strip() else raw
        except ValueError:
            pass
        setattr(self, attr, load_certificate(CST_AUTO, raw, ""))

    getter.__name__, setter.__name__ = "get_" + name, "set_" + name
    setattr(cls, "get_" + name, getter)
    setattr(cls, "set_" + name, setter)
    setattr(cls, name, property(getter, setter))

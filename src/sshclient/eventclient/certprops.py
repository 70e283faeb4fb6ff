"""Read-only certificate fields of the spec (ssh_cert_* and ssh_accept_server_host_key_*).

Every key has fingerprints (colon-separated hex over the SSH key blob), a
public key (PEM), algorithm and length.  Keys that came with an X.509
certificate (PFX, PEM with a certificate, public certificate files) also show
its subject, issuer, dates (local time, ``23-Jan-2000 15:00:00``), serial
number, version, signature algorithm, key usage, extended key usage and
subject alternative names; the thumbprints hash the DER certificate.  OpenSSH
certificates show their validity, serial, principals (as alternative names),
key id (subject) and CA (issuer).  Other fields keep the spec's defaults.

``<prefix>_encoded`` is read/write: setting it selects that certificate; when
the store properties designate a store holding its private key, that entry is
used and the subject becomes its full subject, otherwise the subject is "".
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import SSHClientError
from ..secret import reveal
from .certstore import Certificate, load_encoded, load_store

# field -> (default, how to compute it from a Certificate)
FIELDS: dict[str, tuple[Any, Callable[[Certificate], Any]]] = {
    "effective_date": ("", lambda c: c.effective_date),
    "expiration_date": ("", lambda c: c.expiration_date),
    "extended_key_usage": ("", lambda c: c.extended_key_usage),
    "fingerprint": ("", lambda c: c.fingerprint("md5")),
    "fingerprint_sha1": ("", lambda c: c.fingerprint("sha1")),
    "fingerprint_sha256": ("", lambda c: c.fingerprint("sha256")),
    "issuer": ("", lambda c: c.issuer),
    "private_key": ("", lambda c: c.private_key.private_pem() if c.private_key else ""),
    "private_key_available": (False, lambda c: c.private_key is not None),
    "private_key_container": ("", lambda c: ""),
    "public_key": ("", lambda c: c.public_key.public_pem()),
    "public_key_algorithm": ("", lambda c: c.algorithm_name),
    "public_key_length": (0, lambda c: c.public_key.bits),
    "serial_number": ("", lambda c: c.serial_number),
    "signature_algorithm": ("", lambda c: c.signature_algorithm or c.public_key.key_type),
    "subject_alt_names": ("", lambda c: c.subject_alt_names),
    "thumbprint_md5": ("", lambda c: c.thumbprint("md5")),
    "thumbprint_sha1": ("", lambda c: c.thumbprint("sha1")),
    "thumbprint_sha256": ("", lambda c: c.thumbprint("sha256")),
    "usage": ("", lambda c: c.usage),
    "usage_flags": (0, lambda c: c.usage_flags),
    "version": ("", lambda c: c.version),
}

# attribute holding the Certificate -> attribute holding the subject property's value
_SUBJECT_ATTRS = {"_cert": "_cert_subject", "_accept_key": "_accept_subject"}


def install_cert_properties(cls: type, prefix: str, attr: str,
                            subject_attr: str | None = None) -> None:
    """Add read-only get_<prefix>_<field> + property for every field; <prefix>_encoded r/w."""
    for field_name, (default, compute) in FIELDS.items():
        _install_readonly(cls, f"{prefix}_{field_name}", attr, default, compute)
    _install_encoded(cls, prefix, attr, subject_attr or _SUBJECT_ATTRS.get(attr, attr + "_subject"))


def _install_readonly(cls: type, name: str, attr: str, default: Any,
                      compute: Callable[[Certificate], Any]) -> None:
    def getter(self: Any) -> Any:
        cert = getattr(self, attr)
        return default if cert is None else compute(cert)

    getter.__name__ = "get_" + name
    setattr(cls, "get_" + name, getter)
    setattr(cls, name, property(getter, None))


def _key_in_store(self: Any, prefix: str, cert: Certificate) -> Certificate | None:
    """The entry of the configured store holding ``cert``'s private key, if any."""
    props = getattr(self, "_props", {})
    store_type = props.get(f"{prefix}_store_type", 0)
    store = props.get(f"{prefix}_store", b"")
    if not store or store == b"MY":
        return None
    try:
        entries = load_store(store_type, store, reveal(props.get(f"{prefix}_store_password")))
    except SSHClientError:
        return None
    return next((e for e in entries if e.private_key is not None and e.blob == cert.blob),
                None)


def _install_encoded(cls: type, prefix: str, attr: str, subject_attr: str) -> None:
    name = f"{prefix}_encoded"

    def getter(self: Any) -> bytes:
        cert = getattr(self, attr)
        return b"" if cert is None else cert.encoded.encode("ascii")

    def setter(self: Any, value: bytes | str) -> None:
        raw = value.encode() if isinstance(value, str) else bytes(value or b"")
        if not raw.strip():
            setattr(self, attr, None)
            setattr(self, subject_attr, "")
            return
        cert = load_encoded(raw)
        subject = cert.subject if cert.private_key is not None else ""
        if cert.private_key is None:
            found = _key_in_store(self, prefix, cert)
            if found is not None:
                cert, subject = found, found.subject
        setattr(self, attr, cert)
        setattr(self, subject_attr, subject)

    getter.__name__, setter.__name__ = "get_" + name, "set_" + name
    setattr(cls, "get_" + name, getter)
    setattr(cls, "set_" + name, setter)
    setattr(cls, name, property(getter, setter))

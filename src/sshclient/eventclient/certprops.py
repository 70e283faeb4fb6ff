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
from .properties import install_accessors

# field -> (default, how to compute it from a Certificate, doc).  In the doc,
# {key} names the key the properties describe (see KEYS).
FIELDS: dict[str, tuple[Any, Callable[[Certificate], Any], str]] = {
    "effective_date": ("", lambda c: c.effective_date,
                       "Start of {key}'s validity, local time (23-Jan-2000 15:00:00); "
                       "empty for a plain key."),
    "expiration_date": ("", lambda c: c.expiration_date,
                        "End of {key}'s validity, local time; empty for a plain key."),
    "extended_key_usage": ("", lambda c: c.extended_key_usage,
                           "Extended key usages of {key}'s X.509 certificate, as "
                           "comma-separated dotted OIDs."),
    "fingerprint": ("", lambda c: c.fingerprint("md5"),
                    "MD5 of {key}'s SSH key blob, as colon-separated hex."),
    "fingerprint_sha1": ("", lambda c: c.fingerprint("sha1"),
                         "SHA-1 of {key}'s SSH key blob, as colon-separated hex."),
    "fingerprint_sha256": ("", lambda c: c.fingerprint("sha256"),
                           "SHA-256 of {key}'s SSH key blob, as colon-separated hex."),
    "issuer": ("", lambda c: c.issuer,
               "Who signed {key}'s certificate: the X.509 issuer name, or the CA key of "
               "an OpenSSH certificate."),
    "private_key": ("", lambda c: c.private_key.private_pem() if c.private_key else "",
                    "Private half of {key} as PEM, when the store holds it; else empty."),
    "private_key_available": (False, lambda c: c.private_key is not None,
                              "True when the store gave the private half of {key}."),
    "private_key_container": ("", lambda c: "",
                              "Always empty here: key containers are a Windows store "
                              "feature."),
    "public_key": ("", lambda c: c.public_key.public_pem(),
                   "Public half of {key} as PEM (SubjectPublicKeyInfo)."),
    "public_key_algorithm": ("", lambda c: c.algorithm_name,
                             "Algorithm of {key} (e.g. RSA, ECDSA, Ed25519)."),
    "public_key_length": (0, lambda c: c.public_key.bits, "Size of {key} in bits."),
    "serial_number": ("", lambda c: c.serial_number,
                      "Serial number of {key}'s certificate, as hex."),
    "signature_algorithm": ("", lambda c: c.signature_algorithm or c.public_key.key_type,
                            "Algorithm the issuer signed {key}'s certificate with (the key "
                            "type for a plain key)."),
    "subject_alt_names": ("", lambda c: c.subject_alt_names,
                          "Alternative names in {key}'s certificate (principals of an "
                          "OpenSSH certificate), comma separated."),
    "thumbprint_md5": ("", lambda c: c.thumbprint("md5"),
                       "MD5 of {key}'s certificate (DER), as hex."),
    "thumbprint_sha1": ("", lambda c: c.thumbprint("sha1"),
                        "SHA-1 of {key}'s certificate (DER), as hex."),
    "thumbprint_sha256": ("", lambda c: c.thumbprint("sha256"),
                          "SHA-256 of {key}'s certificate (DER), as hex."),
    "usage": ("", lambda c: c.usage,
              "Key usages of {key}'s X.509 certificate, as names, comma separated."),
    "usage_flags": (0, lambda c: c.usage_flags,
                    "Key usages of {key}'s X.509 certificate, as a bit mask."),
    "version": ("", lambda c: c.version, "Version of {key}'s X.509 certificate."),
}

# property prefix -> what "{key}" reads as in its docs
KEYS = {"ssh_cert": "the client key", "ssh_accept_server_host_key": "the trusted host key"}

ENCODED_DOC = ("{key} itself, PEM or Base64; setting it selects that key or certificate "
               "(with its private half from the store properties, when they hold it).")

# attribute holding the Certificate -> attribute holding the subject property's value
_SUBJECT_ATTRS = {"_cert": "_cert_subject", "_accept_key": "_accept_subject"}


def install_cert_properties(cls: type, prefix: str, attr: str,
                            subject_attr: str | None = None) -> None:
    """Add read-only get_<prefix>_<field> + property for every field; <prefix>_encoded r/w."""
    for field_name, (default, compute, doc) in FIELDS.items():
        _install_readonly(cls, f"{prefix}_{field_name}", attr, default, compute,
                          doc.format(key=KEYS[prefix]))
    _install_encoded(cls, prefix, attr, subject_attr or _SUBJECT_ATTRS.get(attr, attr + "_subject"))


def _install_readonly(cls: type, name: str, attr: str, default: Any,
                      compute: Callable[[Certificate], Any], doc: str) -> None:
    def getter(self: Any) -> Any:
        cert = getattr(self, attr)
        return default if cert is None else compute(cert)

    install_accessors(cls, name, doc, getter, None)


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

    doc = ENCODED_DOC.format(key=KEYS[prefix])
    install_accessors(cls, name, doc[0].upper() + doc[1:], getter, setter)

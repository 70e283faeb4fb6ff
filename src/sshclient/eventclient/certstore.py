"""Certificate stores: the spec's ssh_cert_* / ssh_accept_server_host_key_* data.

A "certificate" here is an SSH key (with its private half when the store has
it), loaded from the store type the user selected, plus the X.509 (or OpenSSH
certificate) details the store carried with it.  Its descriptive fields are
what the spec's read-only cert properties show (see ``certprops``).

Store types (the spec's ``ssh_cert_store_type`` values)::

    2/3    PFX (PKCS#12) file / blob       key + certificate(s), password
    6/7    PEM key file / blob             private key (OpenSSH, PKCS#1/8, SEC1,
                                           DER) and optional X.509 certificates
    8/9    public key file / blob          X.509 certificate or SubjectPublicKeyInfo,
                                           PEM or DER
    10/13  SSH public key blob / file      OpenSSH line, RFC 4716, wire blob
                                           (also OpenSSH certificates)
    14/15  PuTTY PPK file / blob           v2 and v3
    18/19  JWK file / blob                 RSA, EC P-256/384/521, OKP Ed25519;
                                           a JWK set ({"keys": [...]}) too
    99     auto                            any of the above, detected

Blobs may be binary or Base64.  Windows, Java, .NET and hardware stores raise
a ``UsageError`` (1005) saying why.  Every other failure is a ``KeyLoadError``
(1012; 302 for an unreadable file); a store with no key matching the subject
raises :class:`CertificateNotFound`.

Subject search (``load_certificate(..., subject)``): "" or "*" picks the first
entry (one with a private key first); otherwise an exact match of the full
subject, then a substring match (case-insensitive, blanks around "," and "="
ignored).  Entries are named by their X.509 subject, PFX friendly name, JWK
"kid" (the subject of a JWK) or OpenSSH certificate key id.  A store whose single entry has no name
at all (a bare SSH key) is returned whatever the subject: there is nothing to
choose between.
"""
from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtensionOID, NameOID

from ..errors import SSHClientError, UsageError
from ..hostkeys import CERT_SUFFIX, PublicKey, load_public_key, public_key_from_cryptography
from ..hostkeys import Certificate as OpenSSHCertificate
from ..keys import KeyLoadError, KeyPassphraseError, PrivateKey, load_private_key

CST_USER, CST_MACHINE, CST_PFX_FILE, CST_PFX_BLOB = 0, 1, 2, 3
CST_JKS_FILE, CST_JKS_BLOB, CST_PEM_KEY_FILE, CST_PEM_KEY_BLOB = 4, 5, 6, 7
CST_PUBLIC_KEY_FILE, CST_PUBLIC_KEY_BLOB, CST_SSH_PUBLIC_KEY_BLOB = 8, 9, 10
CST_P7B_FILE, CST_P7B_BLOB, CST_SSH_PUBLIC_KEY_FILE = 11, 12, 13
CST_PPK_FILE, CST_PPK_BLOB, CST_XML_FILE, CST_XML_BLOB = 14, 15, 16, 17
CST_JWK_FILE, CST_JWK_BLOB, CST_BCFKS_FILE, CST_BCFKS_BLOB, CST_PKCS11 = 18, 19, 21, 22, 23
CST_AUTO = 99

_FILE_TYPES = {CST_PFX_FILE, CST_JKS_FILE, CST_PEM_KEY_FILE, CST_PUBLIC_KEY_FILE, CST_P7B_FILE,
               CST_SSH_PUBLIC_KEY_FILE, CST_PPK_FILE, CST_XML_FILE, CST_JWK_FILE, CST_BCFKS_FILE}
_UNAVAILABLE = {
    CST_USER: "the Windows user certificate store exists only on Windows",
    CST_MACHINE: "the Windows machine certificate store exists only on Windows",
    CST_JKS_FILE: "Java Key Stores are only available in the Java edition",
    CST_JKS_BLOB: "Java Key Stores are only available in the Java edition",
    CST_XML_FILE: "XML key stores are a .NET format not supported here",
    CST_XML_BLOB: "XML key stores are a .NET format not supported here",
    CST_BCFKS_FILE: "BCFKS stores are only available in the Java and .NET editions",
    CST_BCFKS_BLOB: "BCFKS stores are only available in the Java and .NET editions",
    CST_PKCS11: "PKCS#11 hardware keys are not supported in this release",
    CST_P7B_FILE: "PKCS#7 stores hold certificates without SSH keys; not supported",
    CST_P7B_BLOB: "PKCS#7 stores hold certificates without SSH keys; not supported",
}
_ALGORITHM_NAMES = {
    "ssh-rsa": "RSA", "ssh-ed25519": "Ed25519", "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA", "ecdsa-sha2-nistp521": "ECDSA",
}
#: Largest store file read (key and certificate files are a few KiB).
MAX_STORE_SIZE = 1 << 22


class CertificateNotFound(KeyLoadError):
    """The store opened, but no certificate in it matches the subject (1012)."""


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


@dataclass
class Certificate:
    """A loaded key with the descriptive fields the spec's cert properties show.

    ``der`` is the X.509 certificate (DER) when the key came with one; the
    thumbprints hash it (else the SSH key blob).  ``aliases`` are further
    names the subject search matches (PFX friendly name, JWK kid).
    """
    public_key: PublicKey
    private_key: PrivateKey | None = None
    subject: str = ""
    store_type: int = 0
    encoded: str = ""
    issuer: str = ""
    effective_date: str = ""
    expiration_date: str = ""
    serial_number: str = ""
    version: str = ""
    signature_algorithm: str = ""
    usage_flags: int = 0
    usage: str = ""
    extended_key_usage: str = ""
    subject_alt_names: str = ""
    der: bytes = b""
    aliases: tuple[str, ...] = ()

    @property
    def blob(self) -> bytes:
        """The SSH public key blob (the whole certificate for OpenSSH certificates)."""
        return self.public_key.blob

    @property
    def key_blobs(self) -> tuple[bytes, ...]:
        """The blobs a server host key is compared with: the key, and for an
        OpenSSH certificate also the certified key alone."""
        if isinstance(self.public_key, OpenSSHCertificate):
            return (self.public_key.blob, self.public_key.public_key.blob)
        return (self.public_key.blob,)

    def fingerprint(self, hash_name: str) -> str:
        """Colon-separated lowercase hex digest of the SSH key blob (spec format)."""
        return _colon_hex(hashlib.new(hash_name, self.blob).digest())

    def thumbprint(self, hash_name: str) -> str:
        """Hex digest of the X.509 certificate (of the SSH key blob if there is none)."""
        return hashlib.new(hash_name, self.der or self.blob).hexdigest()

    @property
    def algorithm_name(self) -> str:
        key_type = self.public_key.key_type
        if key_type.endswith(CERT_SUFFIX):
            key_type = key_type[:-len(CERT_SUFFIX)]
        return _ALGORITHM_NAMES.get(key_type, key_type)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.subject, *self.aliases) if n)


# -- entry points -------------------------------------------------------------------

def load_certificate(store_type: int, store: bytes | str, password: str,
                     subject: str = "") -> Certificate:
    """Load the key the spec's store properties designate (see the module docstring)."""
    return select_certificate(load_store(store_type, store, password), subject)


def load_store(store_type: int, store: bytes | str, password: str) -> list[Certificate]:
    """Every usable entry of a store, the ones with a private key first."""
    if store_type in _UNAVAILABLE:
        raise UsageError(f"certificate store type {store_type}: {_UNAVAILABLE[store_type]}",
                         code=1005)
    if store_type == CST_AUTO:
        raw = store.encode("utf-8") if isinstance(store, str) else bytes(store)
        data = _read_file(raw) if _looks_like_path(raw) else raw
        entries = _entries_auto(data, password)
    else:
        loader = _LOADERS.get(store_type)
        if loader is None:
            raise UsageError(f"certificate store type {store_type} does not exist", code=1005)
        data = _read_store(store, store_type)
        if not data.strip():
            raise KeyLoadError(f"the certificate store (type {store_type}) is empty")
        entries = loader(data, password)
    for entry in entries:
        entry.store_type = store_type
    entries.sort(key=lambda e: e.private_key is None)
    return entries


def load_encoded(value: bytes | str) -> Certificate:
    """A certificate or key given directly (the spec's ``*_encoded`` properties):
    PEM/Base64/DER X.509, SSH public key, JWK, or a private key."""
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return select_certificate(_entries_auto(raw, ""), "")


def select_certificate(entries: Sequence[Certificate], subject: str) -> Certificate:
    """Pick the entry ``subject`` designates (see the module docstring)."""
    if not entries:
        raise KeyLoadError("the certificate store holds no usable key")
    wanted = (subject or "").strip()
    if not wanted or wanted == "*":
        return entries[0]
    norm = _normalize_name(wanted)
    for exact in (True, False):
        for entry in entries:
            for name in entry.names:
                candidate = _normalize_name(name)
                if candidate == norm if exact else norm in candidate:
                    return entry
    if len(entries) == 1 and not entries[0].names:
        return entries[0]
    known = "; ".join(n for e in entries for n in e.names[:1]) or "none"
    raise CertificateNotFound(f"no certificate in the store matches the subject {wanted!r} "
                              f"(subjects in the store: {known})")


def _normalize_name(name: str) -> str:
    return re.sub(r"\s*([,=+])\s*", r"\1", name.strip()).lower()


# -- reading the store ---------------------------------------------------------------

def _looks_like_path(raw: bytes) -> bool:
    if not raw or len(raw) > 4096 or b"\n" in raw or b"\0" in raw:
        return False
    try:
        return os.path.isfile(os.path.expanduser(raw.decode("utf-8", "surrogateescape")))
    except (ValueError, OSError):
        return False


def _read_file(raw: bytes) -> bytes:
    path = os.path.expanduser(raw.decode("utf-8", "surrogateescape"))
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_STORE_SIZE + 1)
    except OSError as exc:
        raise KeyLoadError(f"cannot read certificate store {path!r}: {exc.strerror or exc}",
                           code=302) from None
    if len(data) > MAX_STORE_SIZE:
        raise KeyLoadError(f"certificate store {path!r} is too large")
    return data


def _read_store(store: bytes | str, store_type: int) -> bytes:
    raw = store.encode("utf-8") if isinstance(store, str) else bytes(store)
    if store_type in _FILE_TYPES:
        return _read_file(raw)
    return raw


_BASE64_RE = re.compile(rb"^[A-Za-z0-9+/_-]+={0,2}$")


def _unbase64(data: bytes) -> bytes | None:
    """The decoded bytes if ``data`` is nothing but Base64 (or base64url), else None."""
    compact = re.sub(rb"\s+", b"", data)
    if len(compact) < 8 or not _BASE64_RE.match(compact):
        return None
    try:
        if b"-" in compact or b"_" in compact:
            decoded = base64.urlsafe_b64decode(compact + b"=" * (-len(compact) % 4))
        else:
            decoded = base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded or None


def _maybe_base64(data: bytes) -> bytes:
    """Blobs may be binary or Base64 text: return what a parser can read."""
    stripped = data.strip()
    if stripped.startswith((b"-----", b"PuTTY", b"---- BEGIN", b"{")) \
            or _SSH_LINE_RE.match(stripped):
        return data
    return _unbase64(stripped) or data


_SSH_LINE_RE = re.compile(rb"^(ssh-|ecdsa-|sk-|rsa-)[A-Za-z0-9@._-]*[ \t]+AAAA")
_PEM_BLOCK_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def _pem_labels(data: bytes) -> list[bytes]:
    return [m.group(1) for m in _PEM_BLOCK_RE.finditer(data)]


# -- building entries ----------------------------------------------------------------

def _from_private(key: PrivateKey, subject: str = "") -> Certificate:
    return Certificate(key.public_key(), key, subject=subject,
                       encoded=key.openssh_public_line())


def _from_public(public: PublicKey) -> Certificate:
    if isinstance(public, OpenSSHCertificate):
        return _from_openssh_certificate(public)
    return Certificate(public, None, encoded=public.openssh_line())


def _from_openssh_certificate(cert: OpenSSHCertificate,
                              key: PrivateKey | None = None) -> Certificate:
    kind = {1: "user", 2: "host"}.get(cert.cert_type, str(cert.cert_type))
    try:
        ca_algorithm = _ca_signature_algorithm(cert)
    except ValueError:
        ca_algorithm = ""
    return Certificate(
        cert, key, subject=cert.key_id, encoded=cert.openssh_line(),
        issuer=f"{cert.signature_key.key_type} {cert.signature_key.fingerprint_openssh()}",
        effective_date=_format_timestamp(cert.valid_after, never=0),
        expiration_date=_format_timestamp(cert.valid_before, never=(1 << 64) - 1),
        serial_number=_serial_hex(cert.serial), version=f"OpenSSH {kind} certificate",
        signature_algorithm=ca_algorithm, subject_alt_names=",".join(cert.principals))


def _ca_signature_algorithm(cert: OpenSSHCertificate) -> str:
    """The CA's signature algorithm: the name inside the certificate's last field."""
    from sshcore.wire import Reader

    reader = Reader(cert.blob)
    reader.string()  # certificate type
    reader.string()  # nonce
    base_type = cert.key_type[:-len(CERT_SUFFIX)]
    for _ in range(1 if base_type == "ssh-ed25519" else 2):  # the key's own fields
        reader.string()
    reader.uint64()  # serial
    reader.uint32()  # type
    for _ in range(2):  # key id, principals
        reader.string()
    reader.uint64()  # valid after
    reader.uint64()  # valid before
    for _ in range(4):  # critical options, extensions, reserved, signature key
        reader.string()
    return Reader(reader.string()).string().decode("ascii")


def _x509_entry(cert: x509.Certificate, key: PrivateKey | None,
                aliases: tuple[str, ...] = ()) -> Certificate:
    """An entry for an X.509 certificate (raises KeyLoadError for keys SSH cannot use)."""
    if key is not None:
        public = key.public_key()
    else:
        try:
            public = public_key_from_cryptography(cert.public_key())
        except (SSHClientError, ValueError, UnsupportedAlgorithm) as exc:
            detail = getattr(exc, "message", str(exc))
            raise KeyLoadError(f"the certificate's key cannot be used for SSH: {detail}") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    flags, usage = _key_usage(cert)
    return Certificate(
        public, key, subject=format_name(cert.subject), encoded=base64.b64encode(der).decode(),
        issuer=format_name(cert.issuer),
        effective_date=format_date(cert.not_valid_before_utc),
        expiration_date=format_date(cert.not_valid_after_utc),
        serial_number=_serial_hex(cert.serial_number),
        version="V1" if cert.version == x509.Version.v1 else "V3",
        signature_algorithm=_SIGNATURE_NAMES.get(cert.signature_algorithm_oid.dotted_string,
                                                 cert.signature_algorithm_oid.dotted_string),
        usage_flags=flags, usage=usage, extended_key_usage=_extended_key_usage(cert),
        subject_alt_names=_subject_alt_names(cert), der=der, aliases=aliases)


def _spki_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    try:
        return public_key_from_cryptography(cert.public_key()).blob == key.public_blob
    except (SSHClientError, ValueError, UnsupportedAlgorithm):
        return False


def _with_certificates(key: PrivateKey | None, certs: Sequence[x509.Certificate],
                       aliases: tuple[str, ...] = ()) -> list[Certificate]:
    """Entries for a private key and the certificates stored with it: the key gets
    the details of the certificate that holds its public key."""
    entries: list[Certificate] = []
    own = next((c for c in certs if key is not None and _spki_matches(c, key)), None)
    if key is not None:
        entries.append(_x509_entry(own, key, aliases) if own is not None
                       else _from_private(key, aliases[0] if aliases else ""))
    for cert in certs:
        if cert is own:
            continue
        try:
            entries.append(_x509_entry(cert, None))
        except KeyLoadError:
            if key is None and len(certs) == 1:
                raise
    return entries


# -- X.509 details ------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(when: _dt.datetime) -> str:
    """The spec's date format, in the local time zone: ``23-Jan-2000 15:00:00``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    try:
        local = when.astimezone()
    except (OverflowError, ValueError, OSError):
        local = when
    return (f"{local.day:02d}-{_MONTHS[local.month - 1]}-{local.year:04d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}")


def _format_timestamp(seconds: int, never: int) -> str:
    if seconds == never:
        return ""
    try:
        return format_date(_dt.datetime.fromtimestamp(seconds, _dt.timezone.utc))
    except (OverflowError, ValueError, OSError):
        return ""


def _serial_hex(serial: int) -> str:
    """Hex digits, two per byte of the (two's complement, big-endian) serial number."""
    size = max(1, (serial.bit_length() + 8) // 8)
    raw = serial.to_bytes(size, "big", signed=True)
    if len(raw) > 1 and raw[0] == 0 and raw[1] < 0x80:
        raw = raw[1:]
    return raw.hex().upper()


_NAME_LABELS = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "S", NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E", NameOID.STREET_ADDRESS: "STREET",
    NameOID.DOMAIN_COMPONENT: "DC", NameOID.USER_ID: "UID",
    NameOID.SERIAL_NUMBER: "SERIALNUMBER", NameOID.TITLE: "T", NameOID.GIVEN_NAME: "G",
    NameOID.SURNAME: "SN",
}
_NEEDS_QUOTES = re.compile(r'[,+;"=<>#\r\n]|^\s|\s$')


def _name_value(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes) else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def format_name(name: x509.Name) -> str:
    """An X.509 name as the spec shows it: ``CN=www.server.com, OU=test, C=US``
    (most specific first; values with commas quoted)."""
    parts = []
    for rdn in reversed(name.rdns):
        parts.append(" + ".join(
            f"{_NAME_LABELS.get(attr.oid, attr.oid.dotted_string)}={_name_value(attr.value)}"
            for attr in rdn))
    return ", ".join(parts)


_USAGE_BITS = (
    (0x80, "Digital Signature", "digital_signature"),
    (0x40, "Non-Repudiation", "content_commitment"),
    (0x20, "Key Encipherment", "key_encipherment"),
    (0x10, "Data Encipherment", "data_encipherment"),
    (0x08, "Key Agreement", "key_agreement"),
    (0x04, "Certificate Signing", "key_cert_sign"),
    (0x02, "CRL Signing", "crl_sign"),
)


def _key_usage(cert: x509.Certificate) -> tuple[int, str]:
    try:
        ku = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    except (x509.ExtensionNotFound, ValueError):
        return 0, ""
    assert isinstance(ku, x509.KeyUsage)
    flags = 0
    names = []
    for bit, text, attr in _USAGE_BITS:
        if getattr(ku, attr):
            flags |= bit
            names.append(text)
    if ku.key_agreement and ku.encipher_only:
        flags |= 0x01
        names.append("Encipher Only")
    return flags, ", ".join(names)


def _extended_key_usage(cert: x509.Certificate) -> str:
    try:
        eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    except (x509.ExtensionNotFound, ValueError):
        return ""
    assert isinstance(eku, x509.ExtendedKeyUsage)
    return ",".join(oid.dotted_string for oid in eku)


def _subject_alt_names(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_oid(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError):
        return ""
    assert isinstance(san, x509.SubjectAlternativeName)
    out = []
    for general_name in san:
        value = general_name.value
        if isinstance(value, x509.Name):
            out.append(format_name(value))
        elif isinstance(value, bytes):
            out.append(value.hex())
        else:
            out.append(str(value))
    return ",".join(out)


_SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.4": "md5RSA",
    "1.2.840.113549.1.1.5": "sha1RSA",
    "1.2.840.113549.1.1.11": "sha256RSA",
    "1.2.840.113549.1.1.12": "sha384RSA",
    "1.2.840.113549.1.1.13": "sha512RSA",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "sha1ECDSA",
    "1.2.840.10045.4.3.2": "sha256ECDSA",
    "1.2.840.10045.4.3.3": "sha384ECDSA",
    "1.2.840.10045.4.3.4": "sha512ECDSA",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}


def _load_x509(data: bytes) -> list[x509.Certificate]:
    """Certificates in PEM (every CERTIFICATE block) or one DER certificate."""
    if b"-----BEGIN" in data:
        certs = []
        for match in _PEM_BLOCK_RE.finditer(data):
            if match.group(1) in (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"):
                try:
                    certs.append(x509.load_pem_x509_certificate(
                        match.group(0).replace(b"TRUSTED CERTIFICATE", b"CERTIFICATE")
                        .replace(b"X509 CERTIFICATE", b"CERTIFICATE")))
                except ValueError as exc:
                    raise KeyLoadError(f"malformed X.509 certificate: {exc}") from None
        return certs
    if data[:1] == b"\x30":
        try:
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            return []
    return []


# -- loaders per store type -------------------------------------------------------------

def _password(password: str) -> bytes | None:
    return password.encode("utf-8") if password else None


def _entries_pfx(data: bytes, password: str) -> list[Certificate]:
    candidates = [data]
    decoded = _unbase64(data)
    if decoded is not None:
        candidates.append(decoded)
    attempts = [_password(password)] if password else [None, b""]
    for blob in candidates:
        for pw in attempts:
            try:
                p12 = pkcs12.load_pkcs12(blob, pw)
            except ValueError:
                continue
            except UnsupportedAlgorithm as exc:
                raise KeyLoadError(f"the PFX store uses an unsupported algorithm: {exc}") \
                    from None
            return _pfx_entries(p12)
    if any(c[:1] == b"\x30" for c in candidates):
        raise KeyPassphraseError("cannot open the PFX (PKCS#12) store: the password is wrong "
                                 "or the data is damaged")
    raise KeyLoadError("the data is not a PFX (PKCS#12) store")


def _friendly(entry: Any) -> tuple[str, ...]:
    name = getattr(entry, "friendly_name", None)
    return (name.decode("utf-8", "replace"),) if name else ()


def _pfx_entries(p12: pkcs12.PKCS12KeyAndCertificates) -> list[Certificate]:
    key = None
    if p12.key is not None:
        key = PrivateKey(p12.key, "")  # type: ignore[arg-type]  # refuses DSA etc.
    certs: list[x509.Certificate] = []
    aliases: tuple[str, ...] = ()
    if p12.cert is not None:
        certs.append(p12.cert.certificate)
        aliases = _friendly(p12.cert)
    certs += [c.certificate for c in p12.additional_certs]
    entries = _with_certificates(key, certs, aliases)
    if not entries:
        raise KeyLoadError("the PFX store holds no key and no certificate")
    return entries


def _entries_pem_key(data: bytes, password: str) -> list[Certificate]:
    text = _maybe_base64(data)
    certs = _load_x509(text) if b"-----BEGIN" in text else []
    try:
        key = load_private_key(text, password or None)
    except KeyPassphraseError:
        raise
    except KeyLoadError:
        if certs:  # a certificate without its key: usable to check a server's key
            return _with_certificates(None, certs)
        raise
    return _with_certificates(key, certs)


def _entries_public(data: bytes, password: str) -> list[Certificate]:
    for candidate in (data, _unbase64(data)):
        if not candidate:
            continue
        certs = _load_x509(candidate.strip() if b"-----" in candidate else candidate)
        if certs:
            return _with_certificates(None, certs)
        try:
            return [_from_public(load_public_key(candidate))]
        except SSHClientError:
            continue
    raise KeyLoadError("no public key or X.509 certificate found (expected PEM or DER)")


def _entries_ssh_public(data: bytes, password: str) -> list[Certificate]:
    try:
        return [_from_public(load_public_key(data))]
    except SSHClientError as exc:
        raise KeyLoadError(f"not an SSH public key: {exc.message}") from None


def _entries_ppk(data: bytes, password: str) -> list[Certificate]:
    return [_from_private(load_private_key(_maybe_base64(data), password or None))]


def _entries_jwk(data: bytes, password: str) -> list[Certificate]:
    text = data.strip()
    if not text.startswith(b"{"):
        text = (_unbase64(text) or text).strip()
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise KeyLoadError("the JWK store is not valid JSON") from None
    if isinstance(doc, dict) and isinstance(doc.get("keys"), list):
        items = doc["keys"]
        entries = []
        problems = []
        for item in items:
            try:
                entries.append(_jwk_entry(item))
            except KeyLoadError as exc:
                problems.append(exc.detail)
        if not entries:
            raise KeyLoadError("the JWK set holds no usable key"
                               + (f" ({'; '.join(problems)})" if problems else ""))
        return entries
    return [_jwk_entry(doc)]


_LOADERS: dict[int, Callable[[bytes, str], list[Certificate]]] = {
    CST_PFX_FILE: _entries_pfx, CST_PFX_BLOB: _entries_pfx,
    CST_PEM_KEY_FILE: _entries_pem_key, CST_PEM_KEY_BLOB: _entries_pem_key,
    CST_PUBLIC_KEY_FILE: _entries_public, CST_PUBLIC_KEY_BLOB: _entries_public,
    CST_SSH_PUBLIC_KEY_FILE: _entries_ssh_public, CST_SSH_PUBLIC_KEY_BLOB: _entries_ssh_public,
    CST_PPK_FILE: _entries_ppk, CST_PPK_BLOB: _entries_ppk,
    CST_JWK_FILE: _entries_jwk, CST_JWK_BLOB: _entries_jwk,
}


# -- JWK (RFC 7517 / RFC 7518 / RFC 8037) ----------------------------------------------

_JWK_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "P-256": (ec.SECP256R1, 32), "P-384": (ec.SECP384R1, 48), "P-521": (ec.SECP521R1, 66),
}


def _jwk_bytes(jwk: dict, name: str, required: bool = True) -> bytes:
    value = jwk.get(name)
    if value is None:
        if required:
            raise KeyLoadError(f"JWK member {name!r} is missing")
        return b""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", value):
        raise KeyLoadError(f"JWK member {name!r} is not base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _jwk_int(jwk: dict, name: str) -> int:
    return int.from_bytes(_jwk_bytes(jwk, name), "big")


def _jwk_entry(jwk: Any) -> Certificate:
    if not isinstance(jwk, dict):
        raise KeyLoadError("a JWK must be a JSON object")
    kty = jwk.get("kty")
    kid = jwk.get("kid")
    try:
        private, public = _jwk_keys(jwk, kty)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError(f"invalid {kty} JWK: {exc}") from None
    if private is not None:
        key = PrivateKey(private, str(kid or ""))
        if key.public_blob != public_key_from_cryptography(public).blob:
            raise KeyLoadError(f"invalid {kty} JWK: the private key does not match "
                               "the public key members")
        entry = _from_private(key)
    else:
        entry = _from_public(public_key_from_cryptography(public))
    entry.subject = str(kid or "")
    return entry


def _jwk_keys(jwk: dict, kty: Any) -> tuple[Any, Any]:
    has_private = "d" in jwk
    if kty == "RSA":
        n, e = _jwk_int(jwk, "n"), _jwk_int(jwk, "e")
        public_numbers = rsa.RSAPublicNumbers(e, n)
        if not has_private:
            return None, public_numbers.public_key()
        d = _jwk_int(jwk, "d")
        if "p" in jwk and "q" in jwk:
            p, q = _jwk_int(jwk, "p"), _jwk_int(jwk, "q")
        else:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
        numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                        rsa.rsa_crt_iqmp(p, q), public_numbers)
        private = numbers.private_key()
        return private, private.public_key()
    if kty == "EC":
        crv = jwk.get("crv")
        if crv not in _JWK_CURVES:
            raise KeyLoadError(f"unsupported JWK curve {crv!r} (use P-256, P-384 or P-521)")
        curve, size = _JWK_CURVES[str(crv)]
        x, y = _jwk_bytes(jwk, "x"), _jwk_bytes(jwk, "y")
        if len(x) != size or len(y) != size:
            raise KeyLoadError(f"JWK {crv} coordinates must be {size} bytes")
        public = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"),
                                               int.from_bytes(y, "big"), curve()).public_key()
        if not has_private:
            return None, public
        ec_private = ec.derive_private_key(_jwk_int(jwk, "d"), curve())
        return ec_private, public
    if kty == "OKP":
        crv = jwk.get("crv")
        if crv != "Ed25519":
            raise KeyLoadError(f"unsupported OKP curve {crv!r} (only Ed25519 is an SSH key)")
        ed_public = ed25519.Ed25519PublicKey.from_public_bytes(_jwk_bytes(jwk, "x"))
        if not has_private:
            return None, ed_public
        return ed25519.Ed25519PrivateKey.from_private_bytes(_jwk_bytes(jwk, "d")), ed_public
    raise KeyLoadError(f"unsupported JWK key type {kty!r} (use RSA, EC or OKP)")


# -- auto detection -------------------------------------------------------------------

def _entries_auto(data: bytes, password: str) -> list[Certificate]:
    stripped = data.strip()
    if not stripped:
        raise KeyLoadError("the certificate store is empty")
    first_error: KeyLoadError | None = None
    for candidate in (stripped, _unbase64(stripped)):
        if not candidate:
            continue
        for loader in _sniff(candidate):
            try:
                return loader(candidate, password)
            except KeyPassphraseError:
                raise
            except KeyLoadError as exc:
                first_error = first_error or exc
    raise first_error or KeyLoadError(
        "unrecognised key or certificate format (expected PFX, PEM, DER, OpenSSH, "
        "RFC 4716, PuTTY PPK or JWK)")


def _sniff(data: bytes) -> list[Callable[[bytes, str], list[Certificate]]]:
    """The loaders worth trying for ``data``, most likely first."""
    if data.startswith(b"{"):
        return [_entries_jwk]
    if data.startswith(b"PuTTY-User-Key-File-"):
        return [_entries_ppk]
    if b"-----BEGIN" in data:
        labels = _pem_labels(data)
        if any(label.endswith(b"PRIVATE KEY") for label in labels):
            return [_entries_pem_key]
        return [_entries_public]
    if data.startswith(b"---- BEGIN SSH2 PUBLIC KEY") or _SSH_LINE_RE.match(data):
        return [_entries_ssh_public]
    if data.startswith(b"openssh-key-v1\0"):
        return [_entries_pem_key]
    if data[:1] == b"\x30":
        return [_entries_public, _entries_pem_key, _entries_pfx]
    if data[:1] == b"\0":
        return [_entries_ssh_public]
    return []


# -- trusting the server (SSHAcceptServerHostKeyFingerPrint, SSHAcceptServerCAKey) ---------

_HEX_DIGEST_LENGTHS = {16: "md5", 20: "sha1", 32: "sha256"}


def fingerprint_matches(wanted: str, blobs: Sequence[bytes]) -> bool:
    """Whether one of ``blobs`` has the fingerprint ``wanted``.

    ``wanted``: MD5, SHA-1 or SHA-256 in hex (colons optional, any case,
    optionally prefixed ``MD5:``/``SHA1:``/``SHA256:``), or OpenSSH's
    ``SHA256:<base64>`` / ``SHA1:<base64>`` form (padding optional).
    """
    text = wanted.strip()
    if not text:
        return False
    prefix, sep, rest = text.partition(":")
    named = prefix.strip().upper().replace("-", "") if sep else ""
    if named in ("MD5", "SHA1", "SHA256"):
        text = rest.strip()
    hex_text = text.replace(":", "").replace(" ", "").lower()
    candidates: set[tuple[str, bytes]] = set()
    if re.fullmatch(r"[0-9a-f]+", hex_text) and len(hex_text) // 2 in _HEX_DIGEST_LENGTHS \
            and len(hex_text) % 2 == 0:
        candidates.add((_HEX_DIGEST_LENGTHS[len(hex_text) // 2], bytes.fromhex(hex_text)))
    if named in ("SHA1", "SHA256") and ":" not in text:
        try:
            digest = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if digest:
            candidates.add((named.lower(), digest))
    return any(hashlib.new(name, blob).digest() == digest
               for name, digest in candidates for blob in blobs)


_CA_LINE_RE = re.compile(r"([A-Za-z0-9@._-]+)[ \t]+(AAAA[A-Za-z0-9+/]*={0,2})")


def parse_ca_keys(text: str) -> list[PublicKey]:
    """The CA keys of SSHAcceptServerCAKey: OpenSSH public key lines (several may be
    given, one per line or comma separated; a known_hosts ``@cert-authority``
    line works too), or the Base64 blob alone.  Raises KeyLoadError."""
    keys = []
    for match in _CA_LINE_RE.finditer(text):
        try:
            keys.append(load_public_key(f"{match.group(1)} {match.group(2)}"))
        except SSHClientError as exc:
            raise KeyLoadError(f"SSHAcceptServerCAKey: {exc.message}") from None
    if not keys and text.strip():
        try:
            keys.append(load_public_key(text.strip()))
        except SSHClientError as exc:
            raise KeyLoadError(f"SSHAcceptServerCAKey is not an SSH public key: "
                               f"{exc.message}") from None
    return keys

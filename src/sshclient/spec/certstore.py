"""Certificate stores: the spec's ssh_cert_* / ssh_accept_server_host_key_* data.

A "certificate" here is an SSH key (with its private half when the store has
it), loaded from the store type the user selected.  Its descriptive fields
(fingerprints, public key, algorithm, length, subject) are what the spec's
read-only cert properties show.
"""
from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field

from ..errors import SSHClientError, UsageError
from ..hostkeys import PublicKey, load_public_key
from ..keys import PrivateKey, load_private_key

CST_USER, CST_MACHINE, CST_PFX_FILE, CST_PFX_BLOB = 0, 1, 2, 3
CST_JKS_FILE, CST_JKS_BLOB, CST_PEM_KEY_FILE, CST_PEM_KEY_BLOB = 4, 5, 6, 7
CST_PUBLIC_KEY_FILE, CST_PUBLIC_KEY_BLOB, CST_SSH_PUBLIC_KEY_BLOB = 8, 9, 10
CST_P7B_FILE, CST_P7B_BLOB, CST_SSH_PUBLIC_KEY_FILE = 11, 12, 13
CST_PPK_FILE, CST_PPK_BLOB, CST_XML_FILE, CST_XML_BLOB = 14, 15, 16, 17
CST_JWK_FILE, CST_JWK_BLOB, CST_BCFKS_FILE, CST_BCFKS_BLOB, CST_PKCS11 = 18, 19, 21, 22, 23
CST_AUTO = 99

_FILE_TYPES = {CST_PFX_FILE, CST_JKS_FILE, CST_PEM_KEY_FILE, CST_PUBLIC_KEY_FILE, CST_P7B_FILE,
               CST_SSH_PUBLIC_KEY_FILE, CST_PPK_FILE, CST_XML_FILE, CST_JWK_FILE, CST_BCFKS_FILE}
_PRIVATE_KEY_TYPES = {CST_PEM_KEY_FILE, CST_PEM_KEY_BLOB, CST_PPK_FILE, CST_PPK_BLOB}
_SSH_PUBLIC_TYPES = {CST_SSH_PUBLIC_KEY_BLOB, CST_SSH_PUBLIC_KEY_FILE}
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


def _colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


@dataclass
class Certificate:
    """A loaded key with the descriptive fields the spec's cert properties show."""
    public_key: PublicKey
    private_key: PrivateKey | None = None
    subject: str = ""
    store_type: int = 0
    encoded: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def blob(self) -> bytes:
        return self.public_key.blob

    def fingerprint(self, hash_name: str) -> str:
        return _colon_hex(hashlib.new(hash_name, self.blob).digest())

    @property
    def algorithm_name(self) -> str:
        return _ALGORITHM_NAMES.get(self.public_key.key_type, self.public_key.key_type)


def _read_store(store: bytes | str, store_type: int) -> bytes:
    raw = store.encode("utf-8") if isinstance(store, str) else bytes(store)
    if store_type in _FILE_TYPES:
        path = os.path.expanduser(raw.decode("utf-8", "surrogateescape"))
        try:
            with open(path, "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise SSHClientError(f"cannot read certificate store {path!r}: {exc.strerror}",
                                 code=302) from None
    return raw


def _maybe_base64(data: bytes) -> bytes:
    """Blobs may be binary or Base64 text: return what a parser can read."""
    text = data.strip()
    if text.startswith(b"-----") or text.startswith(b"PuTTY") or text.startswith(b"ssh-") \
            or text.startswith(b"ecdsa-") or text.startswith(b"---- BEGIN"):
        return data
    try:
        decoded = base64.b64decode(text, validate=True)
    except ValueError:
        return data
    return decoded or data


def load_certificate(store_type: int, store: bytes | str, password: str,
                     subject: str = "") -> Certificate:
    """Load the key the spec's store properties designate."""
    if store_type in _UNAVAILABLE:
        raise UsageError(f"certificate store type {store_type}: {_UNAVAILABLE[store_type]}",
                         code=1005)
    if store_type == CST_AUTO:
        raw = store.encode() if isinstance(store, str) else bytes(store)
        try:
            is_file = len(raw) < 4096 and os.path.isfile(
                os.path.expanduser(raw.decode("utf-8", "surrogateescape")))
        except (ValueError, OSError):
            is_file = False
        data = _read_store(store, CST_PEM_KEY_FILE if is_file else CST_PEM_KEY_BLOB)
        return _load_auto(data, password, subject)
    data = _read_store(store, store_type)
    if store_type in _PRIVATE_KEY_TYPES:
        key = load_private_key(_maybe_base64(data), password or None)
        return Certificate(key.public_key(), key, subject or key.comment, store_type,
                           key.openssh_public_line())
    if store_type in _SSH_PUBLIC_TYPES:
        public = load_public_key(data)
        return Certificate(public, None, subject, store_type, public.openssh_line())
    raise UsageError(f"certificate store type {store_type} is not supported in this release",
                     code=1005)


def _load_auto(data: bytes, password: str, subject: str) -> Certificate:
    candidate = _maybe_base64(data)
    try:
        key = load_private_key(candidate, password or None)
        return Certificate(key.public_key(), key, subject or key.comment, CST_AUTO,
                           key.openssh_public_line())
    except SSHClientError as private_error:
        try:
            public = load_public_key(data)
        except SSHClientError:
            raise private_error from None
        return Certificate(public, None, subject, CST_AUTO, public.openssh_line())

"""Client private keys for publickey authentication (RFC 4252 §7).

:func:`load_private_key` detects the format from the data:

- OpenSSH (``-----BEGIN OPENSSH PRIVATE KEY-----``, PROTOCOL.key), plain or
  encrypted with bcrypt-pbkdf + aes{128,192,256}-{ctr,cbc},
  aes{128,256}-gcm@openssh.com or chacha20-poly1305@openssh.com;
- PEM: PKCS#1 ``RSA PRIVATE KEY``, SEC1 ``EC PRIVATE KEY`` (also with the
  legacy ``Proc-Type: 4,ENCRYPTED`` / ``DEK-Info`` encryption), PKCS#8
  ``PRIVATE KEY`` and ``ENCRYPTED PRIVATE KEY``;
- DER of any of those, raw or as unarmoured base64;
- PuTTY PPK versions 2 and 3, plain or aes256-cbc encrypted (v2: SHA-1
  derived key, HMAC-SHA-1; v3: Argon2id/Argon2i/Argon2d, HMAC-SHA-256).

Key types: Ed25519, ECDSA on P-256/P-384/P-521, RSA, and DSA (ssh-dss: 160-bit
q, SHA-1; existing keys only, :func:`generate_private_key` makes none; servers
accept it only when configured to, e.g. OpenSSH's ``PubkeyAcceptedAlgorithms
+ssh-dss``).  ASN.1 and PEM
decoding, ciphers, KDFs and signatures come from ``cryptography`` (bcrypt-pbkdf
from ``bcrypt``; Argon2 from ``cryptography``, else PyNaCl, else argon2-cffi).

Errors (both are :class:`KeyLoadError`, a ``SSHClientError``):

- code **302** "Could not open file." — :func:`load_private_key_file` could
  not read the file (missing, permissions, a directory);
- code **1012** "Cannot make key." — anything else: not a private key, an
  unsupported format or key type, corrupt data, or (as the subclass
  :class:`KeyPassphraseError`) a passphrase that is missing or wrong.

Signing failures raise ``SSHClientError`` code **1013** "Cannot sign data.".
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Type, Union

from cryptography.exceptions import InvalidSignature, InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305

from sshcore.wire import Reader, encode_mpint, encode_string

from .errors import HostKeyError, SSHClientError
from .hostkeys import PublicKey, public_key_from_cryptography

__all__ = [
    "KeyLoadError",
    "KeyPassphraseError",
    "PrivateKey",
    "generate_private_key",
    "load_private_key",
    "load_private_key_file",
]

CryptoPrivateKey = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                         ed25519.Ed25519PrivateKey, dsa.DSAPrivateKey]

#: Largest file :func:`load_private_key_file` reads (key files are a few KiB).
MAX_KEY_FILE_SIZE = 1 << 20
#: Argon2 memory above this (KiB) in a PPK file is refused rather than allocated.
MAX_ARGON2_MEMORY_KIB = 1 << 20

_HashType = Type[hashes.HashAlgorithm]

_RSA_SIGNATURE_HASHES: Dict[str, _HashType] = {
    "rsa-sha2-512": hashes.SHA512,
    "rsa-sha2-256": hashes.SHA256,
    "ssh-rsa": hashes.SHA1,
}
_EC_CURVES: Dict[str, Tuple[str, Type[ec.EllipticCurve], _HashType]] = {
    "ecdsa-sha2-nistp256": ("nistp256", ec.SECP256R1, hashes.SHA256),
    "ecdsa-sha2-nistp384": ("nistp384", ec.SECP384R1, hashes.SHA384),
    "ecdsa-sha2-nistp521": ("nistp521", ec.SECP521R1, hashes.SHA512),
}


class KeyLoadError(SSHClientError):
    """A private key could not be loaded (302: file unreadable, 1012: anything else)."""

    default_code = 1012

    def __init__(self, message: Optional[str] = None, code: Optional[int] = None) -> None:
        super().__init__(message, code)
        #: The specific reason, without the spec's generic text.
        self.detail: str = message or ""


class KeyPassphraseError(KeyLoadError):
    """The key is encrypted and the passphrase is missing or wrong (code 1012)."""


def _missing_passphrase() -> KeyPassphraseError:
    return KeyPassphraseError("the private key is encrypted: a passphrase is required")


def _wrong_passphrase() -> KeyPassphraseError:
    return KeyPassphraseError("wrong passphrase for the encrypted private key")


def _sign_error(message: str) -> SSHClientError:
    return SSHClientError(message, code=1013)


class PrivateKey:
    """A client key pair usable for publickey authentication.

    ``key_type`` is the SSH public key type (``ssh-ed25519``,
    ``ecdsa-sha2-nistp256/384/521``, ``ssh-rsa``, ``ssh-dss``), ``public_blob`` its RFC 4253
    §6.6 encoding, ``bits`` the key size, ``comment`` the comment stored in
    OpenSSH / PPK files ("" otherwise).
    """

    __slots__ = ("key_type", "public_blob", "bits", "comment", "_key", "_public")

    def __init__(self, key: CryptoPrivateKey, comment: str = "") -> None:
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey,
                                ed25519.Ed25519PrivateKey, dsa.DSAPrivateKey)):
            raise KeyLoadError(f"unsupported private key type {type(key).__name__}: only "
                               "Ed25519, ECDSA (P-256/384/521), RSA and DSA keys can be used")
        if isinstance(key, dsa.DSAPrivateKey) and \
                key.parameters().parameter_numbers().q.bit_length() != 160:
            # ssh-dss signatures have room for 160-bit r and s only.
            raise KeyLoadError("unsupported DSA key: ssh-dss needs a 160-bit q "
                               "(1024-bit keys)")
        try:
            public = public_key_from_cryptography(key.public_key(), comment)
        except HostKeyError as exc:
            raise KeyLoadError(exc.message) from None
        self._key = key
        self._public = public
        self.key_type: str = public.key_type
        self.public_blob: bytes = public.blob
        self.bits: int = public.bits
        self.comment: str = comment

    @property
    def crypto_key(self) -> CryptoPrivateKey:
        """The ``cryptography`` private key object."""
        return self._key

    def signature_algorithms(self) -> List[str]:
        """Signature algorithms this key can make, most preferred first."""
        if self.key_type == "ssh-rsa":
            return list(_RSA_SIGNATURE_HASHES)
        return [self.key_type]

    def sign(self, data: bytes, algorithm: Optional[str] = None) -> bytes:
        """Sign ``data``; returns the SSH signature blob ``string(alg) + string(sig)``.

        ``algorithm`` defaults to the first of :meth:`signature_algorithms`.
        Raises ``SSHClientError`` (1013) if the key cannot make that signature.
        """
        if algorithm is None:
            algorithm = self.signature_algorithms()[0]
        if algorithm not in self.signature_algorithms():
            raise _sign_error(f"a {self.key_type} key cannot make {algorithm!r} signatures")
        key = self._key
        try:
            if isinstance(key, ed25519.Ed25519PrivateKey):
                sig = key.sign(bytes(data))
            elif isinstance(key, ec.EllipticCurvePrivateKey):
                der = key.sign(bytes(data), ec.ECDSA(_EC_CURVES[algorithm][2]()))
                r, s = decode_dss_signature(der)
                sig = encode_mpint(r) + encode_mpint(s)
            elif isinstance(key, dsa.DSAPrivateKey):
                # RFC 4253 §6.6: r || s, each a 160-bit big-endian integer.
                r, s = decode_dss_signature(key.sign(bytes(data), hashes.SHA1()))
                sig = r.to_bytes(20, "big") + s.to_bytes(20, "big")
            else:
                sig = key.sign(bytes(data), padding.PKCS1v15(),
                               _RSA_SIGNATURE_HASHES[algorithm]())
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise _sign_error(f"{algorithm} signing failed: {exc}") from None
        return encode_string(algorithm) + encode_string(sig)

    def public_key(self) -> PublicKey:
        """The public half, as a :class:`~sshclient.hostkeys.PublicKey`."""
        return self._public

    def openssh_public_line(self) -> str:
        """``"<type> <base64>[ <comment>]"``, as ``ssh-keygen -y`` prints it."""
        return self._public.openssh_line(self.comment)

    def private_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def __repr__(self) -> str:
        return (f"<PrivateKey {self.key_type} {self.bits} bits "
                f"{self._public.fingerprint_openssh()} {self.comment!r}>")


def generate_private_key(key_type: str = "ssh-ed25519", bits: Optional[int] = None,
                         comment: str = "") -> PrivateKey:
    """Make a new key: ``ssh-ed25519``, ``ecdsa-sha2-nistp256/384/521`` or ``ssh-rsa``
    (``bits`` defaults to 3072 for RSA)."""
    key: CryptoPrivateKey
    if key_type == "ssh-ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    elif key_type in _EC_CURVES:
        key = ec.generate_private_key(_EC_CURVES[key_type][1]())
    elif key_type == "ssh-rsa":
        key = rsa.generate_private_key(65537, bits or 3072)
    else:
        raise KeyLoadError(f"cannot generate {key_type!r} keys")
    return PrivateKey(key, comment)


# -- entry points ------------------------------------------------------------

def _passphrase_bytes(passphrase: Union[str, bytes, None]) -> Optional[bytes]:
    if passphrase is None:
        return None
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    return bytes(passphrase) or None


def load_private_key(data: Union[bytes, str],
                     passphrase: Union[str, bytes, None] = None) -> PrivateKey:
    """Load a private key in any supported format (see the module docstring).

    ``passphrase`` (str is UTF-8 encoded) is used only if the key is
    encrypted; an empty one counts as none.  Raises :class:`KeyLoadError`
    (1012), or :class:`KeyPassphraseError` when the passphrase is missing or wrong.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        return _load(raw, _passphrase_bytes(passphrase))
    except KeyLoadError:
        raise
    except (ValueError, TypeError, ArithmeticError, UnsupportedAlgorithm) as exc:
        # WireError (truncated structures) is a ValueError.
        raise KeyLoadError(f"malformed private key: {exc}") from None


def load_private_key_file(path: Union[str, os.PathLike[str]],
                          passphrase: Union[str, bytes, None] = None) -> PrivateKey:
    """Read and load a private key file; errors name the file.

    A file that cannot be read raises :class:`KeyLoadError` with code 302.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE_SIZE + 1)
    except OSError as exc:
        raise KeyLoadError(f"{os.fspath(path)}: {exc.strerror or exc}", code=302) from None
    if len(data) > MAX_KEY_FILE_SIZE:
        raise KeyLoadError(f"{os.fspath(path)}: too large to be a private key file")
    try:
        return load_private_key(data, passphrase)
    except KeyLoadError as exc:
        raise type(exc)(f"{os.fspath(path)}: {exc.detail}", code=exc.code) from None


_PEM_BLOCK_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
_BASE64_RE = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")
_PUBLIC_LINE_RE = re.compile(rb"^(ssh-|ecdsa-|sk-|rsa-)[A-Za-z0-9@._-]*[ \t]+AAAA")


def _load(raw: bytes, pw: Optional[bytes]) -> PrivateKey:
    if raw.startswith(b"\x30"):
        # Binary DER (a SEQUENCE): every byte counts. Stripping it as text
        # cut a key whose last byte happened to be 0x0a, 0x20, ... (about one
        # random key or ciphertext in 40).
        return _load_der(raw, pw)
    stripped = raw.strip()
    if stripped.startswith(b"PuTTY-User-Key-File-"):
        return _load_ppk(stripped, pw)
    if stripped.startswith(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"):
        raise KeyLoadError("ssh.com (SECSH) private keys are not supported; convert the key "
                           "with 'ssh-keygen -i' or puttygen")
    if stripped.startswith(b"---- BEGIN SSH2 PUBLIC KEY ----") or _PUBLIC_LINE_RE.match(stripped):
        raise KeyLoadError("this is a public key; a private key is needed")
    if b"-----BEGIN " in stripped:
        for match in _PEM_BLOCK_RE.finditer(stripped):
            label = match.group(1)
            if label == b"OPENSSH PRIVATE KEY":
                body = re.sub(rb"\s+", b"", match.group(2))
                return _load_openssh(_b64decode(body, "OpenSSH private key"), pw)
            if label.endswith(b"PRIVATE KEY"):
                return _load_pem(match.group(0), pw)
        labels = {m.group(1).decode("ascii") for m in _PEM_BLOCK_RE.finditer(stripped)}
        if labels:
            raise KeyLoadError(f"no private key found (the PEM data holds: "
                               f"{', '.join(sorted(labels))})")
        raise KeyLoadError("malformed PEM data (no complete BEGIN/END block)")
    if stripped.startswith(b"\x30"):
        return _load_der(stripped, pw)
    if raw.startswith(_OPENSSH_MAGIC):
        return _load_openssh(raw, pw)
    compact = re.sub(rb"\s+", b"", stripped)
    if compact and _BASE64_RE.match(compact) and len(compact) % 4 == 0:
        decoded = _b64decode(compact, "private key")
        if decoded.startswith(b"\x30"):
            return _load_der(decoded, pw)
        if decoded.startswith(_OPENSSH_MAGIC):
            return _load_openssh(decoded, pw)
    raise KeyLoadError("unrecognised private key format (expected OpenSSH, PEM, PKCS#8, "
                       "DER or PuTTY PPK)")


def _b64decode(data: bytes, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise KeyLoadError(f"{what}: invalid base64") from None


# -- PEM / PKCS#8 / DER via cryptography ----------------------------------------

def _load_pem(block: bytes, pw: Optional[bytes]) -> PrivateKey:
    return _load_asn1(serialization.load_pem_private_key, block, pw)


def _load_der(der: bytes, pw: Optional[bytes]) -> PrivateKey:
    return _load_asn1(serialization.load_der_private_key, der, pw)


def _load_asn1(loader: Callable[..., Any], data: bytes, pw: Optional[bytes]) -> PrivateKey:
    try:
        key = loader(data, None)
    except TypeError:  # "Password was not given but private key is encrypted"
        if pw is None:
            raise _missing_passphrase() from None
        try:
            key = loader(data, pw)
        except ValueError:  # "Incorrect password, could not decrypt key"
            raise _wrong_passphrase() from None
    except UnsupportedAlgorithm as exc:
        raise KeyLoadError(f"unsupported private key: {exc}") from None
    except ValueError as exc:
        raise KeyLoadError(f"cannot decode the private key: {exc}") from None
    return PrivateKey(key, "")  # PrivateKey refuses unsupported key types


# -- OpenSSH private key format (PROTOCOL.key) -----------------------------------

_OPENSSH_MAGIC = b"openssh-key-v1\0"


class _KeyCipher(NamedTuple):
    key_len: int
    iv_len: int
    block_size: int
    tag_len: int
    decrypt: Callable[[bytes, bytes, bytes, bytes], bytes]  # key, iv, data, tag


def _aes_ctr(key: bytes, iv: bytes, data: bytes, tag: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.CTR(iv)).decryptor()
    return ctx.update(data) + ctx.finalize()


def _aes_cbc(key: bytes, iv: bytes, data: bytes, tag: bytes) -> bytes:
    ctx = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return ctx.update(data) + ctx.finalize()


def _aes_gcm(key: bytes, iv: bytes, data: bytes, tag: bytes) -> bytes:
    return AESGCM(key).decrypt(iv, data + tag, None)


def _chacha20_poly1305(key: bytes, iv: bytes, data: bytes, tag: bytes) -> bytes:
    # OpenSSH's construction with sequence number 0 and no length header: the
    # Poly1305 key is block 0 of ChaCha20 under the first 32 key bytes, the
    # payload is encrypted from block 1.  cryptography's 16-byte ChaCha20
    # nonce is the little-endian block counter followed by the 8-byte nonce.
    main_key = key[:32]
    poly_key = Cipher(algorithms.ChaCha20(main_key, bytes(16)), None).encryptor().update(
        bytes(32))
    Poly1305.verify_tag(poly_key, data, tag)
    nonce = (1).to_bytes(8, "little") + bytes(8)
    # A stream cipher: decrypting is encrypting.
    return Cipher(algorithms.ChaCha20(main_key, nonce), None).encryptor().update(data)


_OPENSSH_CIPHERS: Dict[str, _KeyCipher] = {
    "aes128-ctr": _KeyCipher(16, 16, 16, 0, _aes_ctr),
    "aes192-ctr": _KeyCipher(24, 16, 16, 0, _aes_ctr),
    "aes256-ctr": _KeyCipher(32, 16, 16, 0, _aes_ctr),
    "aes128-cbc": _KeyCipher(16, 16, 16, 0, _aes_cbc),
    "aes192-cbc": _KeyCipher(24, 16, 16, 0, _aes_cbc),
    "aes256-cbc": _KeyCipher(32, 16, 16, 0, _aes_cbc),
    "aes128-gcm@openssh.com": _KeyCipher(16, 12, 16, 16, _aes_gcm),
    "aes256-gcm@openssh.com": _KeyCipher(32, 12, 16, 16, _aes_gcm),
    "chacha20-poly1305@openssh.com": _KeyCipher(64, 0, 8, 16, _chacha20_poly1305),
}


def _bcrypt_kdf(pw: bytes, salt: bytes, length: int, rounds: int) -> bytes:
    try:
        import bcrypt
    except ImportError:
        raise KeyLoadError("encrypted OpenSSH private keys need the 'bcrypt' package "
                           "(pip install bcrypt)") from None
    if rounds < 1 or not salt:
        raise KeyLoadError(f"invalid bcrypt parameters (rounds={rounds}, "
                           f"salt of {len(salt)} bytes)")
    return bytes(bcrypt.kdf(password=pw, salt=salt, desired_key_bytes=length, rounds=rounds,
                            ignore_few_rounds=True))


def _load_openssh(blob: bytes, pw: Optional[bytes]) -> PrivateKey:
    if not blob.startswith(_OPENSSH_MAGIC):
        raise KeyLoadError("not an OpenSSH private key (bad magic)")
    reader = Reader(blob[len(_OPENSSH_MAGIC):])
    cipher_name = reader.string().decode("ascii", "replace")
    kdf_name = reader.string().decode("ascii", "replace")
    kdf_options = reader.string()
    count = reader.uint32()
    if count != 1:
        raise KeyLoadError(f"the OpenSSH key file holds {count} keys; only one is supported")
    public_blob = reader.string()
    section = reader.string()
    if cipher_name == "none":
        if kdf_name != "none":
            raise KeyLoadError(f"unencrypted OpenSSH key with KDF {kdf_name!r}")
        reader.expect_end()
        block_size = 8
        plain = section
    else:
        cipher = _OPENSSH_CIPHERS.get(cipher_name)
        if cipher is None:
            raise KeyLoadError(f"unsupported OpenSSH key cipher {cipher_name!r}")
        if kdf_name != "bcrypt":
            raise KeyLoadError(f"unsupported OpenSSH key KDF {kdf_name!r}")
        tag = reader.raw(cipher.tag_len)
        reader.expect_end()
        options = Reader(kdf_options)
        salt = options.string()
        rounds = options.uint32()
        options.expect_end()
        if pw is None:
            raise _missing_passphrase()
        if len(section) % cipher.block_size:
            raise KeyLoadError("the encrypted OpenSSH key is not a whole number of blocks")
        derived = _bcrypt_kdf(pw, salt, cipher.key_len + cipher.iv_len, rounds)
        try:
            plain = cipher.decrypt(derived[:cipher.key_len], derived[cipher.key_len:],
                                   section, tag)
        except (InvalidTag, InvalidSignature):
            raise _wrong_passphrase() from None
        block_size = cipher.block_size

    private = Reader(plain)
    if private.uint32() != private.uint32():
        if cipher_name != "none":
            raise _wrong_passphrase()
        raise KeyLoadError("corrupt OpenSSH private key (check numbers differ)")
    key_type = private.string().decode("ascii", "replace")
    key = _read_openssh_private(private, key_type)
    comment = private.string().decode("utf-8", "replace")
    pad = private.rest()
    if len(pad) >= block_size or pad != bytes(range(1, len(pad) + 1)):
        raise KeyLoadError("corrupt OpenSSH private key (bad padding)")
    result = PrivateKey(key, comment)
    if result.public_blob != public_blob:
        raise KeyLoadError("the public and private parts of the OpenSSH key do not match")
    return result


def _read_openssh_private(reader: Reader, key_type: str) -> CryptoPrivateKey:
    if key_type == "ssh-ed25519":
        public = reader.string()
        secret = reader.string()
        if len(public) != 32 or len(secret) != 64 or secret[32:] != public:
            raise KeyLoadError("corrupt Ed25519 private key")
        return ed25519.Ed25519PrivateKey.from_private_bytes(secret[:32])
    if key_type in _EC_CURVES:
        curve_id, curve, _ = _EC_CURVES[key_type]
        if reader.string() != curve_id.encode("ascii"):
            raise KeyLoadError(f"curve does not match key type {key_type}")
        point = reader.string()
        ec_key = ec.derive_private_key(reader.mpint(), curve())
        if ec_key.public_key().public_bytes(
                serialization.Encoding.X962,
                serialization.PublicFormat.UncompressedPoint) != point:
            raise KeyLoadError("corrupt ECDSA private key (public point does not match)")
        return ec_key
    if key_type == "ssh-rsa":
        n = reader.mpint()
        e = reader.mpint()
        d = reader.mpint()
        reader.mpint()  # iqmp: recomputed from p and q
        p = reader.mpint()
        q = reader.mpint()
        return _rsa_private_key(e, n, d, p, q)
    if key_type == "ssh-dss":
        p, q, g, y, x = (reader.mpint() for _ in range(5))
        return _dsa_private_key(p, q, g, y, x)
    raise _unsupported_type(key_type)


def _dsa_private_key(p: int, q: int, g: int, y: int, x: int) -> dsa.DSAPrivateKey:
    try:
        return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(
            y, dsa.DSAParameterNumbers(p, q, g))).private_key()
    except ValueError as exc:
        raise KeyLoadError(f"corrupt DSA private key: {exc}") from None


def _unsupported_type(key_type: str) -> KeyLoadError:
    shown = key_type if len(key_type) <= 64 else key_type[:64] + "..."
    if key_type.startswith("sk-"):
        return KeyLoadError(f"security-key (FIDO) keys ({shown}) are not supported")
    return KeyLoadError(f"unsupported private key type {shown!r}")


def _rsa_private_key(e: int, n: int, d: int, p: int, q: int) -> rsa.RSAPrivateKey:
    if min(e, n, d, p, q) <= 1 or p * q != n:
        raise KeyLoadError("inconsistent RSA private key")
    if n.bit_length() > 16384:
        raise KeyLoadError("RSA keys larger than 16384 bits are not supported")
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q), iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, n),
    )
    return numbers.private_key()


# -- PuTTY PPK v2 / v3 -------------------------------------------------------------

_PPK_HEADER_RE = re.compile(r"^PuTTY-User-Key-File-(\d+): *(\S+)$")
_ARGON2_FLAVOURS = ("Argon2id", "Argon2i", "Argon2d")


def _load_ppk(raw: bytes, pw: Optional[bytes]) -> PrivateKey:
    # surrogateescape keeps non-UTF-8 comment bytes exact for the MAC.
    lines = raw.decode("utf-8", "surrogateescape").splitlines()
    header = _PPK_HEADER_RE.match(lines[0].strip())
    if header is None:
        raise KeyLoadError("malformed PuTTY key file header")
    version = int(header.group(1))
    if version not in (2, 3):
        raise KeyLoadError(f"PuTTY key file version {version} is not supported (only 2 and 3); "
                           "convert it with puttygen")
    key_type = header.group(2)
    fields: Dict[str, str] = {}
    i = 1
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        name, sep, value = line.partition(": ")
        if not sep:
            raise KeyLoadError(f"malformed line {i} in PuTTY key file")
        if name in ("Public-Lines", "Private-Lines"):
            if not value.strip().isdigit() or int(value) > len(lines) - i:
                raise KeyLoadError(f"bad {name} count in PuTTY key file")
            count = int(value)
            value = "".join(part.strip() for part in lines[i:i + count])
            i += count
        fields[name] = value.rstrip("\r")
    for name in ("Encryption", "Comment", "Public-Lines", "Private-Lines", "Private-MAC"):
        if name not in fields:
            raise KeyLoadError(f"PuTTY key file has no {name} field")
    encryption = fields["Encryption"]
    if encryption not in ("none", "aes256-cbc"):
        raise KeyLoadError(f"unsupported PuTTY key encryption {encryption!r}")
    encrypted = encryption != "none"
    comment_bytes = fields["Comment"].encode("utf-8", "surrogateescape")
    public_blob = _b64decode(fields["Public-Lines"].encode("ascii", "replace"), "PPK public key")
    private_blob = _b64decode(fields["Private-Lines"].encode("ascii", "replace"),
                              "PPK private key")
    try:
        mac = bytes.fromhex(fields["Private-MAC"])
    except ValueError:
        raise KeyLoadError("PuTTY key file has a malformed Private-MAC") from None
    if encrypted:
        if pw is None:
            raise _missing_passphrase()
        if not private_blob or len(private_blob) % 16:
            raise KeyLoadError("the encrypted PPK private key is not a whole number of blocks")

    secret = pw if encrypted and pw is not None else b""
    if version == 2:
        cipher_key = (hashlib.sha1(b"\0\0\0\0" + secret).digest()
                      + hashlib.sha1(b"\0\0\0\1" + secret).digest())[:32]
        iv = bytes(16)
        mac_key = hashlib.sha1(b"putty-private-key-file-mac-key" + secret).digest()
        digest = "sha1"
    else:
        if encrypted:
            derived = _ppk3_kdf(fields, secret)
            cipher_key, iv, mac_key = derived[:32], derived[32:48], derived[48:]
        else:
            cipher_key = iv = mac_key = b""
        digest = "sha256"
    if encrypted:
        private_blob = _aes_cbc(cipher_key, iv, private_blob, b"")

    mac_data = (encode_string(key_type) + encode_string(encryption)
                + encode_string(comment_bytes) + encode_string(public_blob)
                + encode_string(private_blob))
    expected = hmac.new(mac_key, mac_data, digest).digest()
    if not hmac.compare_digest(expected, mac):
        if encrypted:
            raise _wrong_passphrase()
        raise KeyLoadError("PuTTY key file MAC check failed: the file is corrupt or was edited")

    key = _read_ppk_private(key_type, public_blob, private_blob)
    result = PrivateKey(key, comment_bytes.decode("utf-8", "replace"))
    if result.public_blob != public_blob:
        raise KeyLoadError("the public and private parts of the PuTTY key do not match")
    return result


def _ppk3_kdf(fields: Dict[str, str], secret: bytes) -> bytes:
    flavour = fields.get("Key-Derivation", "")
    if flavour not in _ARGON2_FLAVOURS:
        raise KeyLoadError(f"unsupported PuTTY key derivation {flavour!r}")
    try:
        memory = int(fields["Argon2-Memory"])
        passes = int(fields["Argon2-Passes"])
        parallelism = int(fields["Argon2-Parallelism"])
        salt = bytes.fromhex(fields["Argon2-Salt"])
    except (KeyError, ValueError):
        raise KeyLoadError("PuTTY key file has missing or malformed Argon2 parameters") from None
    if not (1 <= passes <= 1 << 20 and 1 <= parallelism <= 255
            and 8 * parallelism <= memory <= MAX_ARGON2_MEMORY_KIB and len(salt) >= 8):
        raise KeyLoadError(f"unsupported Argon2 parameters (memory={memory} KiB, "
                           f"passes={passes}, parallelism={parallelism}, "
                           f"salt of {len(salt)} bytes)")
    return _argon2(_Argon2Params(flavour, secret, salt, memory, passes, parallelism, 80))


class _Argon2Params(NamedTuple):
    flavour: str  # "Argon2id", "Argon2i" or "Argon2d"
    password: bytes
    salt: bytes
    memory_kib: int
    passes: int
    parallelism: int
    length: int


def _argon2_cryptography(a: _Argon2Params) -> Optional[bytes]:
    """cryptography: Argon2id since 44, Argon2i and Argon2d in later releases."""
    try:
        from cryptography.hazmat.primitives.kdf import argon2 as crypto_argon2
    except ImportError:
        return None
    kdf_class = getattr(crypto_argon2, a.flavour, None)
    if kdf_class is None:
        return None
    try:
        kdf = kdf_class(salt=a.salt, length=a.length, iterations=a.passes,
                        lanes=a.parallelism, memory_cost=a.memory_kib)
    except UnsupportedAlgorithm:  # e.g. built against an OpenSSL without Argon2
        return None
    return bytes(kdf.derive(a.password))


def _argon2_pynacl(a: _Argon2Params) -> Optional[bytes]:
    """libsodium: Argon2id and Argon2i (at least 3 passes), one lane, 16-byte salt."""
    if (a.flavour == "Argon2d" or a.parallelism != 1 or len(a.salt) != 16
            or (a.flavour == "Argon2i" and a.passes < 3)):
        return None
    try:
        import nacl.bindings as sodium
    except ImportError:
        return None
    alg = (sodium.crypto_pwhash_ALG_ARGON2ID13 if a.flavour == "Argon2id"
           else sodium.crypto_pwhash_ALG_ARGON2I13)
    return bytes(sodium.crypto_pwhash_alg(a.length, a.password, a.salt, a.passes,
                                          a.memory_kib * 1024, alg))


def _argon2_cffi(a: _Argon2Params) -> Optional[bytes]:
    """argon2-cffi, if installed: every flavour and lane count."""
    try:
        from argon2.low_level import Type as Argon2Type
        from argon2.low_level import hash_secret_raw
    except ImportError:
        return None
    argon2_type = {"Argon2id": Argon2Type.ID, "Argon2i": Argon2Type.I,
                   "Argon2d": Argon2Type.D}[a.flavour]
    return bytes(hash_secret_raw(a.password, a.salt, a.passes, a.memory_kib, a.parallelism,
                                 a.length, argon2_type))


#: Tried in order; each returns None if it cannot compute the requested Argon2.
_ARGON2_BACKENDS: Tuple[Callable[[_Argon2Params], Optional[bytes]], ...] = (
    _argon2_cryptography, _argon2_pynacl, _argon2_cffi,
)


def _argon2(params: _Argon2Params) -> bytes:
    for backend in _ARGON2_BACKENDS:
        result = backend(params)
        if result is not None:
            return result
    raise KeyLoadError(f"this PuTTY key needs {params.flavour} with {params.parallelism} "
                       "lane(s), which the installed libraries cannot compute: upgrade "
                       "'cryptography' or install 'argon2-cffi'")


def _read_ppk_private(key_type: str, public_blob: bytes, private_blob: bytes
                      ) -> CryptoPrivateKey:
    public = Reader(public_blob)
    if public.string() != key_type.encode("ascii", "replace"):
        raise KeyLoadError("the PuTTY key file header and public key disagree on the key type")
    private = Reader(private_blob)  # trailing bytes are cipher padding
    if key_type == "ssh-ed25519":
        # PuTTY stores the 32-byte seed as a little-endian integer, minimal length.
        value = int.from_bytes(private.string(), "little")
        if value >> 256:
            raise KeyLoadError("corrupt Ed25519 private key")
        return ed25519.Ed25519PrivateKey.from_private_bytes(value.to_bytes(32, "little"))
    if key_type in _EC_CURVES:
        return ec.derive_private_key(private.mpint(), _EC_CURVES[key_type][1]())
    if key_type == "ssh-rsa":
        e = public.mpint()
        n = public.mpint()
        d = private.mpint()
        p = private.mpint()
        q = private.mpint()
        return _rsa_private_key(e, n, d, p, q)
    if key_type == "ssh-dss":
        try:
            p, q, g, y = (public.mpint() for _ in range(4))
            x = private.mpint()
        except ValueError:
            raise KeyLoadError("corrupt DSA private key") from None
        return _dsa_private_key(p, q, g, y, x)
    raise _unsupported_type(key_type)


"""Client private keys: loading every format, signing (src/sshclient/keys.py).

The key files in tests/data/keys were made by ssh-keygen, puttygen and openssl
(see README.md there); *.pub is `ssh-keygen -y` of the same key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sshclient import keys as keys_module
from sshclient.errors import HostKeyError, SSHClientError
from sshclient.hostkeys import parse_openssh_public_key, parse_public_key
from sshclient.keys import (
    KeyLoadError,
    KeyPassphraseError,
    PrivateKey,
    generate_private_key,
    load_private_key,
    load_private_key_file,
)
from sshcore.wire import Reader, encode_string

DATA = Path(__file__).parent / "data" / "keys"
PASSPHRASE = (DATA / "passphrase.txt").read_text()
KEY_TYPES = {
    "ed25519": "ssh-ed25519",
    "ecdsa256": "ecdsa-sha2-nistp256",
    "ecdsa384": "ecdsa-sha2-nistp384",
    "ecdsa521": "ecdsa-sha2-nistp521",
    "rsa2048": "ssh-rsa",
}
SUFFIXES = [".openssh", ".openssh.enc", ".pem", ".pem.enc", ".pkcs8", ".pkcs8.enc",
            ".pem.der.b64", ".pkcs8.der.b64", ".v2.ppk", ".v2.enc.ppk", ".v3.ppk", ".v3.enc.ppk"]
EXTRA_FILES = [
    "ed25519.aes256-gcm.openssh.enc", "ed25519.chacha20.openssh.enc",
    "ed25519.aes128-cbc.openssh.enc", "rsa2048.aes192-ctr.openssh.enc",
    "ed25519.v3.argon2i.enc.ppk", "ed25519.v3.argon2d.enc.ppk", "ed25519.v3.parallel.enc.ppk",
    "ed25519-openssl.pkcs8", "ed25519-openssl.pkcs8.enc",
]
KEY_FILES = sorted(
    [f"{name}{suffix}" for name in KEY_TYPES for suffix in SUFFIXES
     if (DATA / f"{name}{suffix}").exists()] + EXTRA_FILES)
ENCRYPTED_FILES = [f for f in KEY_FILES if ".enc" in f]


def key_name(filename: str) -> str:
    return filename.split(".")[0]


def load(filename: str) -> PrivateKey:
    return load_private_key_file(str(DATA / filename), PASSPHRASE)


def has_comment(filename: str) -> bool:
    return ".openssh" in filename or filename.endswith(".ppk")


def test_every_format_is_covered() -> None:
    # ed25519: OpenSSH x2, PPK x4; ECDSA and RSA: all 12 suffixes; plus the extras
    assert len(KEY_FILES) == 6 + 4 * 12 + len(EXTRA_FILES)
    assert all((DATA / f).exists() for f in KEY_FILES)


@pytest.mark.parametrize("filename", KEY_FILES)
def test_load_matches_ssh_keygen(filename: str) -> None:
    key = load(filename)
    expected = parse_openssh_public_key((DATA / f"{key_name(filename)}.pub").read_text())
    assert key.public_blob == expected.blob
    assert key.key_type == expected.key_type
    assert key.bits == expected.bits
    assert key.public_key() == expected
    if has_comment(filename):
        assert key.comment == f"{key_name(filename)}@sshclient-test"
        assert key.openssh_public_line() == (DATA / f"{key_name(filename)}.pub").read_text().strip()
    else:
        assert key.comment == ""
        assert key.openssh_public_line() == expected.openssh_line("")
    assert key.key_type in repr(key) and "BEGIN" not in repr(key)


@pytest.mark.parametrize("filename", ENCRYPTED_FILES)
def test_passphrase_required_and_checked(filename: str) -> None:
    data = (DATA / filename).read_bytes()
    for missing in (None, "", b""):
        with pytest.raises(KeyPassphraseError) as excinfo:
            load_private_key(data, missing)
        assert excinfo.value.code == 1012
        assert "passphrase is required" in excinfo.value.message
    with pytest.raises(KeyPassphraseError) as excinfo:
        load_private_key(data, "wrong passphrase")
    assert excinfo.value.code == 1012
    assert "wrong passphrase" in excinfo.value.message
    # str and bytes passphrases are the same thing
    assert load_private_key(data, PASSPHRASE.encode()).public_blob == \
        load_private_key(data.decode(), PASSPHRASE).public_blob


def test_passphrase_ignored_for_plain_keys() -> None:
    for filename in ("ed25519.openssh", "rsa2048.pem", "ecdsa256.pkcs8", "rsa2048.v3.ppk",
                     "ecdsa256.pkcs8.der.b64"):
        assert load_private_key((DATA / filename).read_bytes(), "unused").comment is not None


def test_binary_der_and_line_endings() -> None:
    for filename in ("rsa2048.pem.der.b64", "ecdsa384.pkcs8.der.b64"):
        der = base64.b64decode((DATA / filename).read_bytes())
        assert load_private_key(der).public_blob == load(filename).public_blob
    # encrypted PKCS#8 as DER
    der = load("ecdsa256.pkcs8.enc").crypto_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"))
    assert load_private_key(der, "pw").key_type == "ecdsa-sha2-nistp256"
    with pytest.raises(KeyPassphraseError):
        load_private_key(der)
    with pytest.raises(KeyPassphraseError):
        load_private_key(der, "wrong")
    for filename in ("ed25519.openssh.enc", "rsa2048.v2.enc.ppk", "ecdsa521.v3.enc.ppk",
                     "rsa2048.pem.enc"):
        crlf = (DATA / filename).read_bytes().replace(b"\n", b"\r\n")
        assert load_private_key(b"\r\n" + crlf, PASSPHRASE).public_blob == \
            load(filename).public_blob


def test_binary_der_ending_in_a_whitespace_byte_is_kept_whole() -> None:
    """DER is binary: its last byte may be 0x0a or 0x20, which text
    stripping used to cut off (a random encrypted key failed 1 time in ~40)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    for _ in range(5000):
        key = ec.generate_private_key(ec.SECP256R1())
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        if der[-1:] in (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c"):
            break
    else:
        pytest.fail("no key ending in a whitespace byte in 5000 tries")
    assert load_private_key(der).key_type == "ecdsa-sha2-nistp256"


def test_pem_bundle_with_certificate_first() -> None:
    bundle = (b"-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n"
              + (DATA / "ecdsa256.pem").read_bytes())
    assert load_private_key(bundle).key_type == "ecdsa-sha2-nistp256"


def test_openssh_binary_and_base64_forms() -> None:
    text = (DATA / "ed25519.openssh").read_text().splitlines()
    body = "".join(text[1:-1])
    raw = base64.b64decode(body)
    assert load_private_key(raw).comment == "ed25519@sshclient-test"
    assert load_private_key(body).comment == "ed25519@sshclient-test"


# -- signing -------------------------------------------------------------------

ALL_ALGORITHMS = {
    "ssh-ed25519": ["ssh-ed25519"],
    "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
    "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
    "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
}
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "ecdsa-sha2-nistp256": hashes.SHA256, "ecdsa-sha2-nistp384": hashes.SHA384,
    "ecdsa-sha2-nistp521": hashes.SHA512, "rsa-sha2-512": hashes.SHA512,
    "rsa-sha2-256": hashes.SHA256, "ssh-rsa": hashes.SHA1,
}


def verify_with_cryptography(key: PrivateKey, signature_blob: bytes, data: bytes) -> str:
    """Check an SSH signature blob with cryptography alone; returns its algorithm."""
    reader = Reader(signature_blob)
    algorithm = reader.string().decode()
    sig = reader.string()
    reader.expect_end()
    public = key.crypto_key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        assert len(sig) == 64
        public.verify(sig, data)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        inner = Reader(sig)
        r, s = inner.mpint(), inner.mpint()
        inner.expect_end()
        public.verify(encode_dss_signature(r, s), data, ec.ECDSA(HASHES[algorithm]()))
    else:
        assert isinstance(public, rsa.RSAPublicKey)
        assert len(sig) == public.key_size // 8
        public.verify(sig, data, padding.PKCS1v15(), HASHES[algorithm]())
    return algorithm


@pytest.mark.parametrize("name", KEY_TYPES)
def test_sign_and_verify_every_algorithm(name: str) -> None:
    key = load(f"{name}.openssh")
    assert key.signature_algorithms() == ALL_ALGORITHMS[key.key_type]
    public = key.public_key()
    data = b"exchange hash or userauth data"
    for algorithm in key.signature_algorithms():
        signature = key.sign(data, algorithm)
        assert verify_with_cryptography(key, signature, data) == algorithm
        public.verify(signature, data, algorithm)
        # tampered data or signature: HostKeyError 1031
        with pytest.raises(HostKeyError) as excinfo:
            public.verify(signature, data + b"!", algorithm)
        assert excinfo.value.code == 1031
        bad = bytearray(signature)
        bad[-1] ^= 0x40
        with pytest.raises(HostKeyError) as excinfo:
            public.verify(bytes(bad), data, algorithm)
        assert excinfo.value.code == 1031
        with pytest.raises(InvalidSignature):
            verify_with_cryptography(key, bytes(bad), data)
    # default is the first (strongest) algorithm
    default = key.sign(data)
    assert Reader(default).string().decode() == key.signature_algorithms()[0]


def test_sign_errors() -> None:
    key = load("ed25519.openssh")
    with pytest.raises(SSHClientError) as excinfo:
        key.sign(b"x", "rsa-sha2-256")
    assert excinfo.value.code == 1013
    assert "rsa-sha2-256" in excinfo.value.message
    rsa_key = load("rsa2048.openssh")
    with pytest.raises(SSHClientError) as excinfo:
        rsa_key.sign(b"x", "ssh-ed25519")
    assert excinfo.value.code == 1013


@pytest.mark.parametrize("key_type", list(ALL_ALGORITHMS))
def test_generated_keys(key_type: str) -> None:
    key = generate_private_key(key_type, bits=2048 if key_type == "ssh-rsa" else None,
                               comment="made here")
    assert key.key_type == key_type
    assert key.openssh_public_line().endswith(" made here")
    for algorithm in key.signature_algorithms():
        key.public_key().verify(key.sign(b"abc", algorithm), b"abc", algorithm)
    # PKCS#8 PEM round trip
    pem = key.private_pem()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert load_private_key(pem).public_blob == key.public_blob
    with pytest.raises(KeyLoadError):
        generate_private_key("ssh-dss")


@pytest.mark.parametrize("name", KEY_TYPES)
def test_private_pem_is_pkcs8(name: str) -> None:
    key = load(f"{name}.v2.ppk")
    loaded = serialization.load_pem_private_key(key.private_pem().encode(), None)
    assert loaded.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode() == key.public_key().openssh_line("")


def _sshsig(key: PrivateKey, message: bytes, namespace: bytes) -> str:
    """An `ssh-keygen -Y sign` style signature (PROTOCOL.sshsig) made with our sign()."""
    signed = (b"SSHSIG" + encode_string(namespace) + encode_string(b"")
              + encode_string(b"sha512") + encode_string(hashlib.sha512(message).digest()))
    algorithm = "rsa-sha2-512" if key.key_type == "ssh-rsa" else None
    blob = (b"SSHSIG" + (1).to_bytes(4, "big") + encode_string(key.public_blob)
            + encode_string(namespace) + encode_string(b"") + encode_string(b"sha512")
            + encode_string(key.sign(signed, algorithm)))
    text = base64.b64encode(blob).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "\n".join(["-----BEGIN SSH SIGNATURE-----", *lines, "-----END SSH SIGNATURE-----"])


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH ssh-keygen")
@pytest.mark.parametrize("name", KEY_TYPES)
def test_openssh_accepts_our_signatures(name: str, tmp_path: Path) -> None:
    key = load(f"{name}.v3.ppk")
    message = b"signed by sshclient\n"
    (tmp_path / "allowed").write_text(f"tester {key.public_key().openssh_line('')}\n")
    (tmp_path / "sig").write_text(_sshsig(key, message, b"sshclient-test"))
    result = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "tester",
         "-n", "sshclient-test", "-s", str(tmp_path / "sig")],
        input=message, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "tester",
         "-n", "sshclient-test", "-s", str(tmp_path / "sig")],
        input=message + b"x", capture_output=True, timeout=60)
    assert result.returncode != 0


# -- errors --------------------------------------------------------------------

def test_missing_file_is_302(tmp_path: Path) -> None:
    for path in (tmp_path / "nope", tmp_path):
        with pytest.raises(KeyLoadError) as excinfo:
            load_private_key_file(str(path))
        assert excinfo.value.code == 302
        assert str(path) in excinfo.value.message
    with pytest.raises(KeyLoadError) as excinfo:
        load_private_key_file(tmp_path / "nope")  # PathLike works too
    assert excinfo.value.code == 302


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"garbage")
    with pytest.raises(KeyLoadError) as excinfo:
        load_private_key_file(str(path))
    assert excinfo.value.code == 1012
    assert str(path) in excinfo.value.message
    assert excinfo.value.message.count("Cannot make key.") == 1
    with pytest.raises(KeyPassphraseError) as excinfo:
        load_private_key_file(str(DATA / "ed25519.openssh.enc"))
    assert "ed25519.openssh.enc" in excinfo.value.message
    path.write_bytes(b"x" * (keys_module.MAX_KEY_FILE_SIZE + 1))
    with pytest.raises(KeyLoadError) as excinfo:
        load_private_key_file(str(path))
    assert "too large" in excinfo.value.message


def expect_load_error(data: bytes | str, words: str, passphrase: str | None = None) -> None:
    with pytest.raises(KeyLoadError) as excinfo:
        load_private_key(data, passphrase)
    assert excinfo.value.code == 1012
    assert words.lower() in excinfo.value.message.lower(), excinfo.value.message


def test_not_a_private_key() -> None:
    expect_load_error((DATA / "ed25519.pub").read_bytes(), "public key")
    expect_load_error((DATA / "rsa2048.rfc4716.pub").read_bytes(), "public key")
    expect_load_error(b"", "unrecognised")
    expect_load_error(b"hello world", "unrecognised")
    expect_load_error(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                      "CERTIFICATE")
    expect_load_error(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n", "BEGIN/END")
    expect_load_error(b"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n", "ssh.com")
    expect_load_error(b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
                      "cannot decode")


def test_unsupported_key_types() -> None:
    # DSA: only ssh-dss's 1024-bit / 160-bit q form (see test_dsa_key_signs).
    big_dsa = dsa.generate_private_key(2048)
    for key in (big_dsa, ed448.Ed448PrivateKey.generate(),
                ec.generate_private_key(ec.SECP224R1())):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        expect_load_error(pem, "unsupported")
    with pytest.raises(KeyLoadError):
        PrivateKey(big_dsa)


def test_dsa_key_signs() -> None:
    """ssh-dss (RFC 4253 §6.6): SHA-1, the blob holds r || s in 40 bytes."""
    key = dsa.generate_private_key(1024)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    loaded = load_private_key(pem)
    assert loaded.key_type == "ssh-dss" and loaded.signature_algorithms() == ["ssh-dss"]
    blob = loaded.sign(b"session data")
    r = Reader(blob)
    assert r.string() == b"ssh-dss"
    raw = r.string()
    assert len(raw) == 40
    key.public_key().verify(encode_dss_signature(int.from_bytes(raw[:20], "big"),
                                                 int.from_bytes(raw[20:], "big")),
                            b"session data", hashes.SHA1())
    loaded.public_key().verify(blob, b"session data", "ssh-dss")
    with pytest.raises(KeyLoadError):
        generate_private_key("ssh-dss")  # existing keys only: no new DSA keys


def _openssh_body(filename: str) -> bytes:
    lines = (DATA / filename).read_text().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def _openssh_armor(body: bytes) -> bytes:
    text = base64.b64encode(body)
    return (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + text
            + b"\n-----END OPENSSH PRIVATE KEY-----\n")


def test_openssh_corruption() -> None:
    body = _openssh_body("ed25519.openssh")
    expect_load_error(_openssh_armor(body[:-5]), "malformed")
    expect_load_error(_openssh_armor(body + b"\0"), "malformed")
    expect_load_error(_openssh_armor(b"openssh-key-v2\0" + body[15:]), "bad magic")
    # the two check numbers differ
    i = body.index(b"ssh-ed25519", 60) - 12
    bad = body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]
    expect_load_error(_openssh_armor(bad), "check numbers")
    # public key in the header does not match the private key
    header_pub = body.index(b"\0\0\0\x33\0\0\0\x0bssh-ed25519") + 4 + 19 + 4
    bad = body[:header_pub] + bytes([body[header_pub] ^ 1]) + body[header_pub + 1:]
    expect_load_error(_openssh_armor(bad), "do not match")
    # wrong cipher names / kdf
    for old, new in ((b"\0\0\0\x0aaes256-ctr", b"\0\0\0\x0aaes999-ctr"),
                     (b"\0\0\0\x06bcrypt", b"\0\0\0\x06scrypt")):
        data = _openssh_body("ed25519.openssh.enc").replace(old, new)
        expect_load_error(_openssh_armor(data), "unsupported", PASSPHRASE)
    # tampering with an AEAD-encrypted key looks like a wrong passphrase
    tampered = bytearray(_openssh_body("ed25519.aes256-gcm.openssh.enc"))
    tampered[-20] ^= 1
    with pytest.raises(KeyPassphraseError):
        load_private_key(_openssh_armor(bytes(tampered)), PASSPHRASE)


def _replace_line(filename: str, prefix: str, new: str) -> str:
    lines = (DATA / filename).read_text().splitlines()
    return "\n".join(new if line.startswith(prefix) else line for line in lines) + "\n"


def test_ppk_corruption() -> None:
    expect_load_error(_replace_line("rsa2048.v2.ppk", "Comment:", "Comment: edited"), "MAC")
    expect_load_error(_replace_line("rsa2048.v3.ppk", "Private-MAC:", "Private-MAC: zz"),
                      "Private-MAC")
    expect_load_error(_replace_line("rsa2048.v3.ppk", "PuTTY-User-Key-File-3",
                                    "PuTTY-User-Key-File-1: ssh-rsa"), "version 1")
    expect_load_error(_replace_line("rsa2048.v3.ppk", "Encryption:", "Encryption: 3des"),
                      "encryption")
    expect_load_error(_replace_line("ed25519.v3.enc.ppk", "Key-Derivation:",
                                    "Key-Derivation: scrypt"), "derivation", PASSPHRASE)
    expect_load_error(_replace_line("ed25519.v3.enc.ppk", "Argon2-Memory:",
                                    "Argon2-Memory: 99999999999"), "Argon2", PASSPHRASE)
    expect_load_error(_replace_line("ed25519.v3.enc.ppk", "Argon2-Passes:",
                                    "Argon2-Passes: x"), "Argon2", PASSPHRASE)
    expect_load_error(_replace_line("ed25519.v3.ppk", "Private-Lines:", "Private-Lines: 99"),
                      "Private-Lines")
    expect_load_error(_replace_line("ed25519.v3.ppk", "Comment:", "Nothing here"), "malformed")
    text = (DATA / "ed25519.v2.ppk").read_text()
    expect_load_error(text.replace("Private-MAC:", "Private-Mac:"), "Private-MAC")
    expect_load_error(text.replace("PuTTY-User-Key-File-2: ssh-ed25519",
                                   "PuTTY-User-Key-File-2: ssh-rsa"), "MAC check failed")


def _ppk_v2_plain(key_type: str, comment: str, public: bytes, private: bytes) -> str:
    """An unencrypted PPK v2 file with a correct MAC (PuTTY's sshpubk.c layout)."""
    mac_key = hashlib.sha1(b"putty-private-key-file-mac-key").digest()
    mac = hmac.new(mac_key, encode_string(key_type) + encode_string("none")
                   + encode_string(comment) + encode_string(public) + encode_string(private),
                   "sha1").hexdigest()
    return (f"PuTTY-User-Key-File-2: {key_type}\nEncryption: none\nComment: {comment}\n"
            f"Public-Lines: 1\n{base64.b64encode(public).decode()}\n"
            f"Private-Lines: 1\n{base64.b64encode(private).decode()}\nPrivate-MAC: {mac}\n")


def test_ppk_consistency_checks() -> None:
    mine = load("ed25519.v2.ppk")
    seed = mine.crypto_key.private_bytes(serialization.Encoding.Raw,
                                         serialization.PrivateFormat.Raw,
                                         serialization.NoEncryption())
    # the helper computes puttygen's MAC (its files wrap base64 at 64 columns; ours don't)
    assert _ppk_v2_plain("ssh-ed25519", mine.comment, mine.public_blob,
                         encode_string(seed)).splitlines()[-1] == \
        (DATA / "ed25519.v2.ppk").read_text().splitlines()[-1]
    # PuTTY drops high zero bytes of the little-endian seed; both lengths load
    short_seed = seed[:31] + b"\0"
    expected = PrivateKey(ed25519.Ed25519PrivateKey.from_private_bytes(short_seed))
    for stored in (short_seed, seed[:31]):
        text = _ppk_v2_plain("ssh-ed25519", "c", expected.public_blob, encode_string(stored))
        assert load_private_key(text).public_blob == expected.public_blob
    other = generate_private_key("ssh-ed25519")
    expect_load_error(_ppk_v2_plain("ssh-ed25519", "c", other.public_blob,
                                    encode_string(seed)), "do not match")
    expect_load_error(_ppk_v2_plain("ssh-rsa", "c", mine.public_blob, encode_string(seed)),
                      "disagree")
    expect_load_error(_ppk_v2_plain("ssh-ed25519", "c", mine.public_blob,
                                    encode_string(b"\1" * 33)), "corrupt")
    expect_load_error(_ppk_v2_plain("ssh-dss", "c", encode_string("ssh-dss"), b""), "DSA")


# -- Argon2 backends ------------------------------------------------------------

def test_argon2_backends_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    want = load("ed25519.v3.enc.ppk").public_blob
    for filename in ("ed25519.v3.enc.ppk", "ed25519.v3.argon2i.enc.ppk"):
        monkeypatch.setattr(keys_module, "_ARGON2_BACKENDS", (keys_module._argon2_pynacl,))
        assert load(filename).public_blob == want
    # libsodium cannot do Argon2d or several lanes: a clear error, not a wrong key
    for filename in ("ed25519.v3.argon2d.enc.ppk", "ed25519.v3.parallel.enc.ppk"):
        monkeypatch.setattr(keys_module, "_ARGON2_BACKENDS", (keys_module._argon2_pynacl,))
        with pytest.raises(KeyLoadError) as excinfo:
            load(filename)
        assert "argon2-cffi" in excinfo.value.message
        monkeypatch.setattr(keys_module, "_ARGON2_BACKENDS", (keys_module._argon2_cryptography,))
        assert load(filename).public_blob == want


def test_argon2_cffi_backend_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("argon2")
    monkeypatch.setattr(keys_module, "_ARGON2_BACKENDS", (keys_module._argon2_cffi,))
    want = load("ed25519.v3.enc.ppk").public_blob
    for filename in ("ed25519.v3.enc.ppk", "ed25519.v3.argon2i.enc.ppk",
                     "ed25519.v3.argon2d.enc.ppk", "ed25519.v3.parallel.enc.ppk"):
        assert load(filename).public_blob == want


def test_bcrypt_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "bcrypt", None)
    expect_load_error((DATA / "ed25519.openssh.enc").read_bytes(), "bcrypt", PASSPHRASE)


# -- random input never escapes the error hierarchy ------------------------------

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
PLAIN_FILES = ["ed25519.openssh", "ecdsa256.openssh", "rsa2048.openssh", "rsa2048.pem",
               "ecdsa384.pkcs8", "ed25519.v2.ppk", "ecdsa521.v3.ppk", "rsa2048.v3.ppk"]


def _try_load(data: bytes | str, passphrase: str | None = None) -> None:
    try:
        load_private_key(data, passphrase)
    except KeyLoadError as exc:
        assert exc.code == 1012


@FUZZ
@given(st.one_of(
    st.binary(max_size=400), st.text(max_size=200),
    st.binary(max_size=300).map(_openssh_armor),
    st.binary(max_size=300).map(lambda b: b"openssh-key-v1\0" + b),
    st.binary(max_size=300).map(lambda b: base64.b64encode(b"\x30" + b)),
    st.binary(max_size=300).map(
        lambda b: b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: c\n"
        b"Public-Lines: 1\n" + base64.b64encode(b) + b"\nPrivate-Lines: 1\n"
        + base64.b64encode(b[::-1]) + b"\nPrivate-MAC: 00\n"),
))
def test_fuzz_load_private_key(data: bytes | str) -> None:
    _try_load(data)
    _try_load(data, "pw")


@FUZZ
@given(st.sampled_from(PLAIN_FILES), st.data())
def test_fuzz_mutated_key_files(filename: str, data: st.DataObject) -> None:
    raw = bytearray((DATA / filename).read_bytes())
    if filename.endswith(".openssh"):
        raw = bytearray(_openssh_body(filename))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[:data.draw(st.integers(0, len(raw)))]
    mutated = bytes(raw)
    _try_load(_openssh_armor(mutated) if filename.endswith(".openssh") else mutated)


def test_error_types() -> None:
    assert issubclass(KeyPassphraseError, KeyLoadError)
    assert issubclass(KeyLoadError, SSHClientError)
    assert not issubclass(KeyLoadError, HostKeyError)
    # an unsupported curve reaches PrivateKey as a HostKeyError and leaves as KeyLoadError
    with pytest.raises(KeyLoadError) as excinfo:
        PrivateKey(ec.generate_private_key(ec.SECP224R1()))
    assert "curve" in excinfo.value.message
    assert parse_public_key(load("ed25519.v2.ppk").public_blob).key_type == "ssh-ed25519"

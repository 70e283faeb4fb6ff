"""Certificate stores and the spec's certificate fields (eventclient/certstore.py, certprops.py).

Expected values come from the tools that made the files in tests/data/certs
(openssl: subjects, serials, thumbprints, dates; ssh-keygen: public key lines
and fingerprints) — see README.md there.  No server needed.
"""
from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path

import pytest

from sshclient import SSHClient, SSHClientError
from sshclient.eventclient import certstore
from sshclient.eventclient.certstore import (
    CertificateNotFound,
    fingerprint_matches,
    load_certificate,
    load_encoded,
    load_store,
    parse_ca_keys,
)
from sshclient.hostkeys import parse_openssh_public_key, parse_public_key

CERTS = Path(__file__).parent / "data" / "certs"
KEYS = Path(__file__).parent / "data" / "keys"
PASSWORD = (CERTS / "password.txt").read_text()
KEY_PASSPHRASE = (KEYS / "passphrase.txt").read_text()
X509_KEYS = ["rsa2048", "ecdsa256", "ed25519"]
ALL_KEYS = ["rsa2048", "ecdsa256", "ecdsa384", "ecdsa521", "ed25519"]
KEY_TYPES = {"rsa2048": "ssh-rsa", "ecdsa256": "ecdsa-sha2-nistp256",
             "ecdsa384": "ecdsa-sha2-nistp384", "ecdsa521": "ecdsa-sha2-nistp521",
             "ed25519": "ssh-ed25519"}
BITS = {"rsa2048": 2048, "ecdsa256": 256, "ecdsa384": 384, "ecdsa521": 521, "ed25519": 256}
ALGORITHM_NAMES = {"rsa2048": "RSA", "ecdsa256": "ECDSA", "ecdsa384": "ECDSA",
                   "ecdsa521": "ECDSA", "ed25519": "Ed25519"}
DATE_RE = re.compile(r"^\d\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} "
                     r"\d\d:\d\d:\d\d$")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def ssh_blob(name: str) -> bytes:
    """The public key blob ssh-keygen wrote for ``name``."""
    return parse_openssh_public_key((CERTS / f"{name}.pub").read_text()).blob


def keygen_fingerprints(name: str) -> dict[str, str]:
    """{"sha256": "SHA256:...", "md5": "aa:bb:..."} as ssh-keygen -l printed them."""
    out = {}
    for line in (CERTS / f"{name}.fp").read_text().splitlines():
        fp = line.split()[1]
        if fp.startswith("MD5:"):
            out["md5"] = fp[4:]
        else:
            out["sha256"] = fp
    return out


def openssl_facts(name: str) -> dict[str, str]:
    """What `openssl x509` printed about <name>.crt.pem (make_certs.sh)."""
    text = (CERTS / f"{name}.x509.txt").read_text()
    facts = {}
    for key in ("subject", "issuer", "serial", "notBefore", "notAfter"):
        facts[key] = re.search(rf"^{key}=(.*)$", text, re.M).group(1)
    for h in ("md5", "sha1", "sha256"):
        facts[h] = re.search(rf"^{h} Fingerprint=(.*)$", text, re.M).group(1)
    epoch = re.search(r"^epoch notBefore=(\d+) notAfter=(\d+)$", text, re.M)
    facts["epoch_before"], facts["epoch_after"] = epoch.group(1), epoch.group(2)
    facts["san"] = re.search(r"Subject Alternative Name: *\n\s*(.*)$", text, re.M).group(1)
    return facts


def rfc2253_to_spec(text: str) -> str:
    """openssl -nameopt RFC2253 ("emailAddress=..,CN=..,O=a\\, b,ST=..") -> the
    spec's form ("E=.., CN=.., O="a, b", S=..")."""
    labels = {"emailAddress": "E", "ST": "S"}
    parts = re.split(r"(?<!\\),", text)
    out = []
    for part in parts:
        label, _, value = part.partition("=")
        value = value.replace("\\,", ",")
        if "," in value:
            value = f'"{value}"'
        out.append(f"{labels.get(label, label)}={value}")
    return ", ".join(out)


def local_date(epoch: str) -> str:
    t = time.localtime(int(epoch))
    return (f"{t.tm_mday:02d}-{MONTHS[t.tm_mon - 1]}-{t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}")


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def check_ssh_fields(cert, name: str) -> None:
    """Fields every store fills: key, fingerprints (ssh-keygen's), algorithm, length."""
    blob = ssh_blob(name)
    assert cert.blob == blob
    assert cert.public_key.key_type == KEY_TYPES[name]
    assert cert.public_key.bits == BITS[name]
    assert cert.algorithm_name == ALGORITHM_NAMES[name]
    fps = keygen_fingerprints(name)
    assert cert.fingerprint("md5") == fps["md5"]
    sha256 = base64.b64encode(bytes.fromhex(cert.fingerprint("sha256").replace(":", "")))
    assert "SHA256:" + sha256.decode().rstrip("=") == fps["sha256"]
    assert cert.fingerprint("sha1") == colon_hex(hashlib.sha1(blob).digest())


def check_x509_fields(cert, name: str) -> None:
    facts = openssl_facts(name)
    assert cert.subject == rfc2253_to_spec(facts["subject"])
    assert cert.issuer == rfc2253_to_spec(facts["issuer"])
    assert cert.serial_number == facts["serial"].upper()
    assert cert.version == "V3"
    for h in ("md5", "sha1", "sha256"):
        assert cert.thumbprint(h) == facts[h].replace(":", "").lower()
    assert cert.effective_date == local_date(facts["epoch_before"])
    assert cert.expiration_date == local_date(facts["epoch_after"])
    assert DATE_RE.match(cert.effective_date)
    assert cert.extended_key_usage == "1.3.6.1.5.5.7.3.2,1.3.6.1.5.5.7.3.1"
    assert cert.subject_alt_names.split(",") == [
        re.sub(r"^(DNS|IP Address|email):", "", s) for s in facts["san"].split(", ")]
    expected_usage = {"rsa2048": (0xA0, "Digital Signature, Key Encipherment"),
                      "ecdsa256": (0x88, "Digital Signature, Key Agreement"),
                      "ed25519": (0xC0, "Digital Signature, Non-Repudiation")}[name]
    assert (cert.usage_flags, cert.usage) == expected_usage
    assert cert.signature_algorithm == "sha256RSA"
    der = (CERTS / f"{name}.crt.der").read_bytes()
    assert cert.der == der
    assert base64.b64decode(cert.encoded) == der


# ----------------------------------------------------------------- PFX (2, 3)

@pytest.mark.parametrize("name", X509_KEYS)
def test_pfx_file(name):
    cert = load_certificate(2, str(CERTS / f"{name}.pfx"), PASSWORD, "*")
    assert cert.private_key is not None
    assert cert.private_key.public_blob == ssh_blob(name)
    check_ssh_fields(cert, name)
    check_x509_fields(cert, name)
    assert cert.aliases == (f"{name} test key",)


@pytest.mark.parametrize("encoding", ["binary", "base64", "base64-lines"])
def test_pfx_blob(encoding):
    data = (CERTS / "ecdsa256.pfx").read_bytes()
    if encoding == "base64":
        data = base64.b64encode(data)
    elif encoding == "base64-lines":
        data = base64.encodebytes(data)
    cert = load_certificate(3, data, PASSWORD, "*")
    assert cert.private_key is not None
    check_x509_fields(cert, "ecdsa256")


def test_pfx_private_key_signs():
    cert = load_certificate(2, str(CERTS / "rsa2048.pfx"), PASSWORD)
    assert cert.private_key is not None
    sig = cert.private_key.sign(b"data", "rsa-sha2-256")
    cert.public_key.verify(sig, b"data", "rsa-sha2-256")


def test_pfx_other_flavours():
    legacy = load_certificate(2, str(CERTS / "rsa2048-legacy.pfx"), PASSWORD)
    assert legacy.private_key is not None and legacy.blob == ssh_blob("rsa2048")
    nopass = load_certificate(2, str(CERTS / "rsa2048-nopass.pfx"), "")
    assert nopass.private_key is not None and nopass.blob == ssh_blob("rsa2048")
    keyonly = load_certificate(2, str(CERTS / "ecdsa256-keyonly.pfx"), PASSWORD)
    assert keyonly.private_key is not None and keyonly.blob == ssh_blob("ecdsa256")
    assert keyonly.subject == "" and keyonly.der == b""


def test_pfx_wrong_password():
    with pytest.raises(SSHClientError) as info:
        load_certificate(2, str(CERTS / "rsa2048.pfx"), "wrong", "*")
    assert info.value.code == 1012
    assert "password" in str(info.value)
    with pytest.raises(SSHClientError):
        load_certificate(2, str(CERTS / "rsa2048.pfx"), "", "*")


def test_pfx_missing_file_is_302():
    with pytest.raises(SSHClientError) as info:
        load_certificate(2, str(CERTS / "no-such.pfx"), PASSWORD, "*")
    assert info.value.code == 302


def test_pfx_holds_key_entry_and_ca_entry():
    entries = load_store(2, str(CERTS / "rsa2048.pfx"), PASSWORD)
    assert [e.private_key is not None for e in entries] == [True, False]
    assert entries[1].subject == "CN=sshclient test CA, O=sshclient test, C=US"
    assert entries[1].usage_flags == 0x06  # certificate signing, CRL signing


# ---------------------------------------------------------- subject selection

def test_subject_exact_substring_star_and_miss():
    store = str(CERTS / "rsa2048.pfx")
    full = rfc2253_to_spec(openssl_facts("rsa2048")["subject"])
    assert load_certificate(2, store, PASSWORD, full).private_key is not None
    assert load_certificate(2, store, PASSWORD, "*").subject == full
    assert load_certificate(2, store, PASSWORD, "").subject == full
    # substring, case and blanks ignored
    assert load_certificate(2, store, PASSWORD, "cn=RSA2048.sshclient.test").subject == full
    assert load_certificate(2, store, PASSWORD, "OU=Tests,O=\"sshclient, Inc.\"").subject == full
    # the CA certificate in the same store
    ca = load_certificate(2, store, PASSWORD, "sshclient test CA")
    assert ca.private_key is None and ca.subject.startswith("CN=sshclient test CA")
    # exact beats substring: "CN=sshclient test CA, O=sshclient test, C=US" also contains
    # "C=US", but so does the leaf; the leaf comes first (it has the key)
    assert load_certificate(2, store, PASSWORD, "C=US").private_key is not None
    # the PFX friendly name
    assert load_certificate(2, store, PASSWORD, "rsa2048 test key").subject == full
    with pytest.raises(CertificateNotFound):
        load_certificate(2, store, PASSWORD, "CN=nobody")


def test_client_subject_property_follows_the_spec():
    client = SSHClient()
    client.ssh_cert_store_type = 2
    client.ssh_cert_store = str(CERTS / "ed25519.pfx")
    client.ssh_cert_store_password = PASSWORD
    client.ssh_cert_subject = "CN=ed25519.sshclient.test"
    full = rfc2253_to_spec(openssl_facts("ed25519")["subject"])
    assert client.ssh_cert_subject == full  # set to the full subject of the match
    assert client.ssh_cert_private_key_available
    assert client.ssh_cert_issuer == "CN=sshclient test CA, O=sshclient test, C=US"
    assert client.ssh_cert_version == "V3"
    assert client.ssh_cert_usage_flags == 0xC0
    assert client.ssh_cert_public_key_algorithm == "Ed25519"
    assert client.ssh_cert_public_key_length == 256
    assert client.ssh_cert_serial_number == "1003"
    assert client.ssh_cert_thumbprint_sha1 == openssl_facts("ed25519")["sha1"].replace(
        ":", "").lower()
    assert client.ssh_cert_private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert client.ssh_cert_public_key.startswith("-----BEGIN PUBLIC KEY-----")
    client.ssh_cert_subject = "CN=nobody"
    assert client.ssh_cert_subject == ""
    assert not client.ssh_cert_private_key_available
    assert client.ssh_cert_fingerprint == ""


def test_bare_ssh_key_ignores_subject():
    # one unnamed key: nothing to choose between
    cert = load_certificate(6, str(KEYS / "ed25519.openssh"), "", "anything")
    assert cert.private_key is not None


# ------------------------------------------------------------- PEM key (6, 7)

@pytest.mark.parametrize("name", X509_KEYS)
def test_pem_key_with_certificate(name):
    cert = load_certificate(6, str(CERTS / f"{name}.key+crt.pem"), "", "*")
    assert cert.private_key is not None
    check_ssh_fields(cert, name)
    check_x509_fields(cert, name)


@pytest.mark.parametrize("name", X509_KEYS)
def test_pem_encrypted_key_with_certificate(name):
    cert = load_certificate(6, str(CERTS / f"{name}.key+crt.enc.pem"), PASSWORD, "*")
    assert cert.private_key is not None
    check_x509_fields(cert, name)
    with pytest.raises(SSHClientError) as info:
        load_certificate(6, str(CERTS / f"{name}.key+crt.enc.pem"), "wrong", "*")
    assert info.value.code == 1012


@pytest.mark.parametrize("encoding", ["text", "base64"])
def test_pem_key_blob(encoding):
    data = (CERTS / "rsa2048.key+crt.pem").read_bytes()
    if encoding == "base64":
        data = base64.b64encode(data)
    cert = load_certificate(7, data, "", "*")
    assert cert.private_key is not None
    check_x509_fields(cert, "rsa2048")


@pytest.mark.parametrize("path", ["rsa2048.pem", "ecdsa384.pkcs8", "ed25519.openssh"])
def test_pem_key_without_certificate(path):
    cert = load_certificate(6, str(KEYS / path), "", "*")
    assert cert.private_key is not None
    expected = parse_openssh_public_key((KEYS / (path.split(".")[0] + ".pub")).read_text())
    assert cert.blob == expected.blob
    assert cert.subject == "" and cert.issuer == "" and cert.effective_date == ""
    assert cert.thumbprint("sha256") == hashlib.sha256(expected.blob).hexdigest()


def test_pem_key_der_base64_blob():
    data = (KEYS / "ecdsa256.pkcs8.der.b64").read_bytes()
    cert = load_certificate(7, data, "", "*")
    assert cert.private_key is not None
    assert cert.blob == parse_openssh_public_key((KEYS / "ecdsa256.pub").read_text()).blob


def test_pem_certificate_without_key_gives_public_entry():
    cert = load_certificate(6, str(CERTS / "rsa2048.crt.pem"), "", "*")
    assert cert.private_key is None
    check_x509_fields(cert, "rsa2048")


# ------------------------------------------------------- public key (8, 9)

@pytest.mark.parametrize("name", X509_KEYS)
@pytest.mark.parametrize("suffix", ["crt.pem", "crt.der", "spki.pem", "spki.der"])
def test_public_key_file(name, suffix):
    cert = load_certificate(8, str(CERTS / f"{name}.{suffix}"), "", "*")
    assert cert.private_key is None
    check_ssh_fields(cert, name)
    if suffix.startswith("crt"):
        check_x509_fields(cert, name)
    else:
        assert cert.subject == "" and cert.der == b""


@pytest.mark.parametrize("encoding", ["binary", "base64"])
def test_public_key_blob(encoding):
    data = (CERTS / "ecdsa256.crt.der").read_bytes()
    if encoding == "base64":
        data = base64.b64encode(data)
    cert = load_certificate(9, data, "", "*")
    check_x509_fields(cert, "ecdsa256")
    spki = load_certificate(9, (CERTS / "ed25519.spki.pem").read_bytes(), "", "*")
    assert spki.blob == ssh_blob("ed25519")


def test_public_key_file_rejects_garbage():
    with pytest.raises(SSHClientError) as info:
        load_certificate(9, b"not a key at all", "", "*")
    assert info.value.code == 1012


# ------------------------------------------------------ SSH public key (10, 13)

@pytest.mark.parametrize("name", ALL_KEYS)
def test_ssh_public_key_file(name):
    cert = load_certificate(13, str(CERTS / f"{name}.pub"), "", "*")
    check_ssh_fields(cert, name)
    assert cert.encoded.split()[:2] == (CERTS / f"{name}.pub").read_text().split()[:2]


def test_ssh_public_key_rfc4716():
    cert = load_certificate(13, str(CERTS / "rsa2048.rfc4716.pub"), "", "*")
    check_ssh_fields(cert, "rsa2048")


@pytest.mark.parametrize("encoding", ["line", "binary", "base64"])
def test_ssh_public_key_blob(encoding):
    line = (CERTS / "ecdsa521.pub").read_text()
    data = {"line": line.encode(), "binary": ssh_blob("ecdsa521"),
            "base64": line.split()[1].encode()}[encoding]
    cert = load_certificate(10, data, "", "*")
    check_ssh_fields(cert, "ecdsa521")


def test_openssh_certificate_fields():
    cert = load_certificate(13, str(KEYS / "ed25519-user-cert.pub"), "", "*")
    assert cert.public_key.key_type == "ssh-ed25519-cert-v01@openssh.com"
    assert cert.subject == "user-cert"
    assert cert.subject_alt_names == "alice"
    assert cert.serial_number == "00"
    assert cert.signature_algorithm == "ssh-ed25519"
    txt = (KEYS / "ed25519-user-cert.txt").read_text()
    ca_fp = re.search(r"Signing CA: ED25519 (\S+)", txt).group(1)
    assert cert.issuer == f"ssh-ed25519 {ca_fp}"
    start = time.mktime(time.strptime("2020-01-01T00:00:00", "%Y-%m-%dT%H:%M:%S"))
    assert cert.effective_date == local_date(str(int(start)))
    assert cert.algorithm_name == "Ed25519"
    plain = parse_openssh_public_key((KEYS / "ed25519.pub").read_text()).blob
    assert plain in cert.key_blobs


# -------------------------------------------------------------- PPK (14, 15)

def test_ppk_file_and_blob():
    cert = load_certificate(14, str(CERTS / "rsa2048.ppk"), PASSWORD, "*")
    assert cert.private_key is not None
    check_ssh_fields(cert, "rsa2048")
    for path in ("ed25519.v2.ppk", "ecdsa384.v3.enc.ppk"):
        blob = (KEYS / path).read_bytes()
        cert = load_certificate(15, blob, KEY_PASSPHRASE, "*")
        assert cert.blob == parse_openssh_public_key(
            (KEYS / (path.split(".")[0] + ".pub")).read_text()).blob
    assert load_certificate(15, base64.b64encode(blob), KEY_PASSPHRASE, "*").private_key


def test_ppk_wrong_password():
    with pytest.raises(SSHClientError) as info:
        load_certificate(14, str(CERTS / "rsa2048.ppk"), "wrong", "*")
    assert info.value.code == 1012


# -------------------------------------------------------------- JWK (18, 19)

@pytest.mark.parametrize("name", ALL_KEYS)
def test_jwk_private(name):
    cert = load_certificate(18, str(CERTS / f"{name}.jwk"), "", "*")
    assert cert.private_key is not None
    check_ssh_fields(cert, name)
    assert cert.subject == f"{name}-kid"
    algorithm = cert.private_key.signature_algorithms()[0]
    cert.public_key.verify(cert.private_key.sign(b"jwk", algorithm), b"jwk", algorithm)


@pytest.mark.parametrize("name", ALL_KEYS)
def test_jwk_public(name):
    cert = load_certificate(19, (CERTS / f"{name}.public.jwk").read_bytes(), "", "*")
    assert cert.private_key is None
    check_ssh_fields(cert, name)


def test_jwk_set_by_kid():
    store = str(CERTS / "public.jwks")
    assert load_certificate(18, store, "", "*").blob == ssh_blob("rsa2048")  # the first
    assert load_certificate(18, store, "", "ecdsa384-kid").blob == ssh_blob("ecdsa384")
    assert load_certificate(18, store, "", "ed25519").blob == ssh_blob("ed25519")
    with pytest.raises(CertificateNotFound):
        load_certificate(18, store, "", "missing-kid")
    private = load_certificate(18, str(CERTS / "private.jwks"), "", "ed25519-kid")
    assert private.private_key is not None and private.blob == ssh_blob("ed25519")


def test_jwk_blob_base64():
    data = base64.urlsafe_b64encode((CERTS / "ecdsa256.jwk").read_bytes())
    assert load_certificate(19, data, "", "*").blob == ssh_blob("ecdsa256")


def test_jwk_rsa_without_crt_parameters():
    import json

    jwk = json.loads((CERTS / "rsa2048.jwk").read_text())
    for member in ("p", "q", "dp", "dq", "qi"):
        del jwk[member]
    cert = load_certificate(19, json.dumps(jwk).encode(), "", "*")
    assert cert.private_key is not None and cert.blob == ssh_blob("rsa2048")


@pytest.mark.parametrize("jwk, message", [
    (b'{"kty": "oct", "k": "AAAA"}', "unsupported JWK key type"),
    (b'{"kty": "EC", "crv": "P-192", "x": "AA", "y": "AA"}', "unsupported JWK curve"),
    (b'{"kty": "OKP", "crv": "X25519", "x": "AA"}', "only Ed25519"),
    (b'{"kty": "RSA", "e": "AQAB"}', "'n' is missing"),
    (b'{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}', "32 bytes"),
    (b'{"kty": "RSA", "n": "***", "e": "AQAB"}', "base64url"),
    (b"[1, 2]", "JSON object"),
    (b"{nope", "not valid JSON"),
    (b'{"keys": []}', "no usable key"),
])
def test_jwk_errors(jwk, message):
    with pytest.raises(SSHClientError) as info:
        load_certificate(19, jwk, "", "*")
    assert info.value.code == 1012
    assert message in str(info.value)


def test_jwk_private_key_must_match_public_members():
    import json

    jwk = json.loads((CERTS / "ecdsa256.jwk").read_text())
    d = int.from_bytes(base64.urlsafe_b64decode(jwk["d"] + "=="), "big") + 1
    jwk["d"] = base64.urlsafe_b64encode(d.to_bytes(32, "big")).decode().rstrip("=")
    with pytest.raises(SSHClientError) as info:
        load_certificate(19, json.dumps(jwk).encode(), "", "*")
    assert "does not match" in str(info.value)


# --------------------------------------------------------------- auto (99)

@pytest.mark.parametrize("path, private, name", [
    ("certs/rsa2048.pfx", True, "rsa2048"),
    ("certs/ed25519.key+crt.pem", True, "ed25519"),
    ("certs/ecdsa256.crt.der", False, "ecdsa256"),
    ("certs/ecdsa256.crt.pem", False, "ecdsa256"),
    ("certs/rsa2048.spki.der", False, "rsa2048"),
    ("certs/ed25519.spki.pem", False, "ed25519"),
    ("certs/ecdsa384.pub", False, "ecdsa384"),
    ("certs/rsa2048.rfc4716.pub", False, "rsa2048"),
    ("certs/rsa2048.ppk", True, "rsa2048"),
    ("certs/ecdsa521.jwk", True, "ecdsa521"),
    ("certs/public.jwks", False, "rsa2048"),
])
@pytest.mark.parametrize("form", ["file", "blob", "base64"])
def test_auto_detects(path, private, name, form):
    full = Path(__file__).parent / "data" / path
    store: bytes | str = str(full)
    if form == "blob":
        store = full.read_bytes()
    elif form == "base64":
        store = base64.b64encode(full.read_bytes())
    cert = load_certificate(99, store, PASSWORD, "*")
    assert (cert.private_key is not None) == private
    assert cert.blob == ssh_blob(name)


def test_auto_openssh_private_key_and_binary_blob():
    assert load_certificate(99, str(KEYS / "ed25519.openssh"), "", "*").private_key
    assert load_certificate(99, str(KEYS / "rsa2048.openssh.enc"), KEY_PASSPHRASE, "*") \
        .private_key
    assert load_certificate(99, ssh_blob("ed25519"), "", "*").blob == ssh_blob("ed25519")


def test_auto_wrong_password_is_reported():
    with pytest.raises(SSHClientError) as info:
        load_certificate(99, str(CERTS / "rsa2048.pfx"), "wrong", "*")
    assert "password" in str(info.value)


def test_auto_unrecognised():
    with pytest.raises(SSHClientError) as info:
        load_certificate(99, b"\x01\x02\x03 definitely not a key", "", "*")
    assert info.value.code == 1012


# ------------------------------------------------------ unavailable store types

@pytest.mark.parametrize("store_type, word", [
    (0, "Windows"), (1, "Windows"), (4, "Java"), (5, "Java"), (11, "PKCS#7"), (12, "PKCS#7"),
    (16, "XML"), (17, "XML"), (21, "BCFKS"), (22, "BCFKS"), (23, "PKCS#11"),
])
def test_unavailable_store_types(store_type, word):
    with pytest.raises(SSHClientError) as info:
        load_certificate(store_type, b"MY", "", "*")
    assert info.value.code == 1005
    assert word in str(info.value)


def test_unknown_store_type():
    with pytest.raises(SSHClientError) as info:
        load_certificate(42, b"x", "", "*")
    assert info.value.code == 1005


# ------------------------------------------------------------ *_encoded

def test_encoded_setter_finds_private_key_in_store():
    client = SSHClient()
    client.ssh_cert_store_type = 2
    client.ssh_cert_store = str(CERTS / "rsa2048.pfx")
    client.ssh_cert_store_password = PASSWORD
    client.ssh_cert_encoded = base64.b64encode((CERTS / "rsa2048.crt.der").read_bytes())
    assert client.ssh_cert_private_key_available
    assert client.ssh_cert_subject == rfc2253_to_spec(openssl_facts("rsa2048")["subject"])
    assert base64.b64decode(client.ssh_cert_encoded) == (CERTS / "rsa2048.crt.der").read_bytes()


def test_encoded_setter_without_store():
    client = SSHClient()
    client.ssh_accept_server_host_key_encoded = (CERTS / "ecdsa256.crt.pem").read_bytes()
    assert client.ssh_accept_server_host_key_subject == ""
    assert not client.ssh_accept_server_host_key_private_key_available
    assert client.ssh_accept_server_host_key_serial_number == "1002"
    line = (CERTS / "ed25519.pub").read_text().strip()
    client.ssh_accept_server_host_key_encoded = line
    assert client.ssh_accept_server_host_key_encoded.decode() == line
    assert client.ssh_accept_server_host_key_public_key_algorithm == "Ed25519"
    assert client.ssh_accept_server_host_key_effective_date == ""
    client.ssh_accept_server_host_key_encoded = b""
    assert client.ssh_accept_server_host_key_fingerprint_sha256 == ""
    assert client.ssh_accept_server_host_key_public_key_length == 0


def test_encoded_key_not_in_store_clears_subject():
    client = SSHClient()
    client.ssh_cert_store_type = 2
    client.ssh_cert_store = str(CERTS / "rsa2048.pfx")
    client.ssh_cert_store_password = PASSWORD
    client.ssh_cert_encoded = (CERTS / "ed25519.crt.pem").read_bytes()
    assert client.ssh_cert_subject == ""
    assert not client.ssh_cert_private_key_available
    assert client.ssh_cert_usage == "Digital Signature, Non-Repudiation"


def test_load_encoded_formats():
    assert load_encoded((CERTS / "rsa2048.spki.der").read_bytes()).blob == ssh_blob("rsa2048")
    assert load_encoded((CERTS / "ed25519.public.jwk").read_text()).blob == ssh_blob("ed25519")
    assert load_encoded((KEYS / "ed25519.openssh").read_bytes()).private_key is not None


# ------------------------------------------------------------------ dates

def test_dates_are_local_time(monkeypatch):
    import datetime as dt

    when = dt.datetime(2000, 1, 23, 15, 0, 0, tzinfo=dt.timezone.utc)
    text = certstore.format_date(when)
    assert DATE_RE.match(text)
    assert text == local_date(str(int(when.timestamp())))


# --------------------------------------------- trusting the server: helpers

def test_fingerprint_matches_every_form():
    blob = ssh_blob("ed25519")
    md5 = hashlib.md5(blob).digest()
    sha1 = hashlib.sha1(blob).digest()
    sha256 = hashlib.sha256(blob).digest()
    forms = [colon_hex(md5), colon_hex(sha1), colon_hex(sha256), md5.hex().upper(),
             "MD5:" + colon_hex(md5), "SHA1:" + colon_hex(sha1),
             keygen_fingerprints("ed25519")["sha256"],
             "SHA1:" + base64.b64encode(sha1).decode().rstrip("="),
             "SHA256:" + base64.b64encode(sha256).decode(),
             " " + sha256.hex() + " "]
    for form in forms:
        assert fingerprint_matches(form, [blob]), form
    other = ssh_blob("rsa2048")
    for form in forms:
        assert not fingerprint_matches(form, [other]), form
    for junk in ["", "zz", "SHA256:", "0a:1b:2c:3d", "SHA512:" + sha256.hex()]:
        assert not fingerprint_matches(junk, [blob])


def test_parse_ca_keys():
    line = (KEYS / "ca-ed25519.pub").read_text().strip()
    rsa = (KEYS / "ca-rsa.pub").read_text().strip()
    assert [k.key_type for k in parse_ca_keys(line)] == ["ssh-ed25519"]
    keys = parse_ca_keys(f"{line}\n{rsa}")
    assert [k.key_type for k in keys] == ["ssh-ed25519", "ssh-rsa"]
    assert len(parse_ca_keys(f"@cert-authority *.example {line}")) == 1
    assert parse_ca_keys(line.split()[1])[0].blob == parse_public_key(
        base64.b64decode(line.split()[1])).blob
    with pytest.raises(SSHClientError):
        parse_ca_keys("not a key")

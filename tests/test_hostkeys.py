"""Host keys: parsing, signature verification, fingerprints (src/sshclient/hostkeys.py).

Expected values come from OpenSSH: tests/data/keys/*.pub are `ssh-keygen -y`
output, *.fp are `ssh-keygen -l -E sha256/md5`, *.sshsig are `ssh-keygen -Y
sign` signatures (see tests/data/keys/README.md).
"""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sshclient.errors import HostKeyError, SSHClientError
from sshclient.hostkeys import (
    CERT_TYPE_HOST,
    CERT_TYPE_USER,
    EXTRA_HOST_KEY_ALGORITHMS,
    HOST_KEY_ALGORITHMS,
    HOST_KEY_CERT_ALGORITHMS,
    Certificate,
    PublicKey,
    fingerprint,
    fingerprint_openssh,
    key_type_for_algorithm,
    load_public_key,
    parse_openssh_public_key,
    parse_public_key,
    public_key_from_cryptography,
    signature_algorithm_for,
)
from sshclient.keys import PrivateKey, generate_private_key
from sshcore.wire import Reader, Writer, encode_mpint, encode_string

DATA = Path(__file__).parent / "data" / "keys"
KEYS = {  # name -> (key type, bits)
    "ed25519": ("ssh-ed25519", 256),
    "ecdsa256": ("ecdsa-sha2-nistp256", 256),
    "ecdsa384": ("ecdsa-sha2-nistp384", 384),
    "ecdsa521": ("ecdsa-sha2-nistp521", 521),
    "rsa2048": ("ssh-rsa", 2048),
}


def pub(name: str) -> PublicKey:
    return parse_openssh_public_key((DATA / f"{name}.pub").read_text())


def blob(name: str) -> bytes:
    return base64.b64decode((DATA / f"{name}.pub").read_text().split()[1])


def expect_1031(excinfo: pytest.ExceptionInfo[HostKeyError]) -> str:
    assert excinfo.value.code == 1031
    return excinfo.value.message


# -- algorithms ----------------------------------------------------------------

def test_algorithm_table() -> None:
    assert HOST_KEY_ALGORITHMS == (
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")
    assert key_type_for_algorithm("rsa-sha2-256") == "ssh-rsa"
    assert key_type_for_algorithm("rsa-sha2-512") == "ssh-rsa"
    assert key_type_for_algorithm("ssh-rsa") == "ssh-rsa"
    for alg in HOST_KEY_ALGORITHMS[:4]:
        assert key_type_for_algorithm(alg) == alg
        assert signature_algorithm_for(alg) == alg
    for alg in EXTRA_HOST_KEY_ALGORITHMS:  # ssh-ed448, ssh-dss: only when asked for
        assert alg not in HOST_KEY_ALGORITHMS
        assert key_type_for_algorithm(alg) == signature_algorithm_for(alg) == alg
    with pytest.raises(HostKeyError) as excinfo:
        key_type_for_algorithm("x509v3-sign-dss")
    assert "x509v3-sign-dss" in expect_1031(excinfo)


# -- parsing -------------------------------------------------------------------

@pytest.mark.parametrize("name", KEYS)
def test_parse_openssh_line(name: str) -> None:
    key = pub(name)
    key_type, bits = KEYS[name]
    assert key.key_type == key_type
    assert key.bits == bits
    assert key.blob == blob(name)
    assert key.comment == f"{name}@sshclient-test"
    assert key.openssh_line() == (DATA / f"{name}.pub").read_text().strip()
    assert key.openssh_line("") == " ".join((DATA / f"{name}.pub").read_text().split()[:2])
    assert key.algorithms == tuple(a for a in HOST_KEY_ALGORITHMS
                                   if key_type_for_algorithm(a) == key_type)
    # the wire form alone gives the same key
    assert parse_public_key(key.blob) == key
    assert hash(parse_public_key(key.blob)) == hash(key)
    assert key.fingerprint_openssh() in repr(key)


@pytest.mark.parametrize("name", KEYS)
def test_public_pem_matches_cryptography(name: str) -> None:
    key = pub(name)
    pem = key.public_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    loaded = serialization.load_pem_public_key(pem.encode())
    ssh_form = serialization.load_ssh_public_key(key.openssh_line("").encode())
    assert loaded.public_bytes(serialization.Encoding.OpenSSH,
                               serialization.PublicFormat.OpenSSH) == \
        ssh_form.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert public_key_from_cryptography(loaded).blob == key.blob
    assert key.public_der() == loaded.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("name", KEYS)
def test_load_public_key_any_encoding(name: str) -> None:
    key = pub(name)
    encodings: list[str | bytes] = [
        key.blob, key.openssh_line(), key.openssh_line().encode(), key.public_pem(),
        key.public_der(), base64.b64encode(key.blob), base64.b64encode(key.public_der()),
    ]
    if name == "rsa2048":
        encodings.append(key.crypto_key.public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.PKCS1))
        encodings.append((DATA / "rsa2048.rfc4716.pub").read_bytes())
    for data in encodings:
        assert load_public_key(data).blob == key.blob
    with pytest.raises(HostKeyError):
        load_public_key(b"not a key")


def test_rfc4716() -> None:
    key = parse_openssh_public_key((DATA / "rsa2048.rfc4716.pub").read_text())
    assert key.blob == blob("rsa2048")
    assert key.comment == "rsa2048@sshclient-test"
    body = base64.b64encode(blob("ed25519")).decode()
    text = ("---- BEGIN SSH2 PUBLIC KEY ----\r\n"
            'Subject: someone\r\nComment: "a long \\\r\ncomment"\r\n'
            "x-private: \\\r\nvalue\r\n"
            f"{body[:40]}\r\n{body[40:]}\r\n---- END SSH2 PUBLIC KEY ----\r\n")
    key = parse_openssh_public_key(text.encode())
    assert key.blob == blob("ed25519")
    assert key.comment == "a long comment"
    with pytest.raises(HostKeyError) as excinfo:
        parse_openssh_public_key(text.replace("---- END SSH2 PUBLIC KEY ----", ""))
    assert "END" in expect_1031(excinfo)


def test_openssh_line_details() -> None:
    line = (DATA / "ed25519.pub").read_text()
    key = parse_openssh_public_key("# my key\n\n" + line.replace(" ", "\t", 1))
    assert key.blob == blob("ed25519")
    # type word must match the blob
    wrong = "ssh-rsa " + line.split()[1]
    with pytest.raises(HostKeyError) as excinfo:
        parse_openssh_public_key(wrong)
    assert "ssh-rsa" in expect_1031(excinfo)
    bad_inputs: list[str | bytes] = [
        "", "ssh-ed25519", "ssh-ed25519 !!!!", "ssh-ed25519 AAAAC3", b"\xff\xfe"]
    for bad in bad_inputs:
        with pytest.raises(HostKeyError) as excinfo:
            parse_openssh_public_key(bad)
        expect_1031(excinfo)


def w(*parts: bytes | str | int) -> bytes:
    out = Writer()
    for part in parts:
        if isinstance(part, int):
            out.mpint(part)
        else:
            out.string(part)
    return out.getvalue()


def test_malformed_blobs() -> None:
    ed = blob("ed25519")
    ec_blob = blob("ecdsa256")
    point = Reader(ec_blob)
    point.string()
    point.string()
    q = point.string()
    cases = {
        b"": "malformed",
        ed + b"\0": "trailing",
        w("ssh-ed25519", b"\1" * 31): "32",
        w("x509v3-sign-dss", 1, 2, 3, 4): "unsupported",
        w("ssh-dss", 1, 2, 3, 4): "160",
        w("ssh-ed448", b"\1" * 56): "57",
        w("ssh-ed25519-cert-v01@openssh.com", b"x"): "certificate",
        w("ssh-dss-cert-v01@openssh.com", b"x"): "unsupported",
        w("x" * 500): "unsupported",
        w("ecdsa-sha2-nistp256", "nistp384", q): "curve",
        w("ecdsa-sha2-nistp256", "nistp256", b""): "point",
        w("ecdsa-sha2-nistp256", "nistp256", q[:-1] + bytes([q[-1] ^ 1])): "ecdsa",
        w("ssh-rsa", 65537, -5): "rsa",
        w("ssh-rsa", 1, (1 << 2047) + 1): "rsa",
        w("ssh-rsa", 65537, (1 << 20000) + 1): "16384",
    }
    for data, words in cases.items():
        with pytest.raises(HostKeyError) as excinfo:
            parse_public_key(data)
        assert words.lower() in expect_1031(excinfo).lower(), data[:40]
    # every truncation of every valid blob fails cleanly
    for name in KEYS:
        full = blob(name)
        for n in range(len(full)):
            with pytest.raises(HostKeyError):
                parse_public_key(full[:n])


# -- fingerprints --------------------------------------------------------------

def ssh_keygen_fingerprints(name: str) -> dict[str, str]:
    out = {}
    for line in (DATA / f"{name}.fp").read_text().splitlines():
        value = line.split()[1]
        out[value.split(":", 1)[0]] = value
    return out


@pytest.mark.parametrize("name", KEYS)
def test_fingerprints_match_ssh_keygen(name: str) -> None:
    expected = ssh_keygen_fingerprints(name)
    data = blob(name)
    assert fingerprint_openssh(data) == expected["SHA256"]
    assert fingerprint_openssh(data, "md5") == expected["MD5"]
    assert fingerprint(data, "md5") == expected["MD5"][4:]
    sha256 = base64.b64decode(expected["SHA256"][7:] + "=")
    assert fingerprint(data) == ":".join(f"{b:02x}" for b in sha256)
    assert fingerprint(data, "SHA-1") == ":".join(
        f"{b:02x}" for b in hashlib.sha1(data).digest())
    assert pub(name).fingerprint("sha256") == fingerprint(data)


def test_fingerprint_format() -> None:
    data = blob("ed25519")
    assert re.fullmatch(r"([0-9a-f]{2}:){31}[0-9a-f]{2}", fingerprint(data))
    assert re.fullmatch(r"([0-9a-f]{2}:){19}[0-9a-f]{2}", fingerprint(data, "sha1"))
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", fingerprint(data, "md5"))
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", fingerprint_openssh(data))
    with pytest.raises(SSHClientError) as excinfo:
        fingerprint(data, "crc32")
    assert excinfo.value.code == 1005


# -- signatures made by OpenSSH ------------------------------------------------

def sshsig(name: str) -> tuple[bytes, bytes, bytes]:
    """(public key blob, signed data, signature blob) of an `ssh-keygen -Y sign` file."""
    armored = (DATA / f"{name}.sshsig").read_text().splitlines()
    raw = base64.b64decode("".join(armored[1:-1]))
    assert raw[:6] == b"SSHSIG"
    r = Reader(raw[6:])
    assert r.uint32() == 1
    key_blob, namespace, reserved, hash_alg, signature = (r.string() for _ in range(5))
    r.expect_end()
    message = (DATA / "message.txt").read_bytes()
    digest = hashlib.new(hash_alg.decode(), message).digest()
    signed = (b"SSHSIG" + encode_string(namespace) + encode_string(reserved)
              + encode_string(hash_alg) + encode_string(digest))
    return key_blob, signed, signature


@pytest.mark.parametrize("name", KEYS)
def test_verify_openssh_signatures(name: str) -> None:
    key_blob, signed, signature = sshsig(name)
    key = parse_public_key(key_blob)
    assert key.blob == blob(name)
    algorithm = Reader(signature).string().decode()
    assert algorithm == (key.key_type if name != "rsa2048" else "rsa-sha2-512")
    key.verify(signature, signed, algorithm)
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(signature, signed + b"x", algorithm)
    assert "does not verify" in expect_1031(excinfo)


@pytest.mark.parametrize("name", KEYS)
def test_verify_rejects_tampering(name: str) -> None:
    key_blob, signed, signature = sshsig(name)
    key = parse_public_key(key_blob)
    algorithm = Reader(signature).string().decode()
    # every truncation, and a flip of every byte of the raw signature
    for n in range(len(signature)):
        with pytest.raises(HostKeyError):
            key.verify(signature[:n], signed, algorithm)
    with pytest.raises(HostKeyError):
        key.verify(signature + b"\0", signed, algorithm)
    name_len = 4 + len(algorithm) + 4
    for i in range(name_len, len(signature)):
        bad = bytearray(signature)
        bad[i] ^= 0x01
        with pytest.raises(HostKeyError):
            key.verify(bytes(bad), signed, algorithm)


def test_verify_algorithm_must_match() -> None:
    key_blob, signed, signature = sshsig("rsa2048")
    key = parse_public_key(key_blob)
    # negotiated rsa-sha2-256 but signed with rsa-sha2-512
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(signature, signed, "rsa-sha2-256")
    assert "rsa-sha2-512" in expect_1031(excinfo)
    # the algorithm does not fit the key
    for alg in ("ssh-ed25519", "ecdsa-sha2-nistp256", "unknown-alg"):
        with pytest.raises(HostKeyError) as excinfo:
            key.verify(signature, signed, alg)
        assert "cannot be used" in expect_1031(excinfo)
    # same raw signature relabelled as another algorithm
    raw = Reader(signature)
    raw.string()
    relabelled = encode_string("rsa-sha2-256") + encode_string(raw.string())
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(relabelled, signed, "rsa-sha2-256")
    assert "does not verify" in expect_1031(excinfo)
    # ECDSA P-256 key, signature labelled P-384
    key_blob, signed, signature = sshsig("ecdsa256")
    key = parse_public_key(key_blob)
    with pytest.raises(HostKeyError):
        key.verify(signature, signed, "ecdsa-sha2-nistp384")


# -- signatures made with cryptography directly ----------------------------------

def test_rsa_signature_variants() -> None:
    private = rsa.generate_private_key(65537, 2048)
    key = public_key_from_cryptography(private.public_key())
    assert key.key_type == "ssh-rsa" and key.bits == 2048
    for alg, hash_type in (("rsa-sha2-512", hashes.SHA512), ("rsa-sha2-256", hashes.SHA256),
                           ("ssh-rsa", hashes.SHA1)):
        sig = private.sign(b"data", padding.PKCS1v15(), hash_type())
        key.verify(encode_string(alg) + encode_string(sig), b"data", alg)
    # a signature with its leading zero byte stripped is accepted (as OpenSSH does)
    for i in range(20000):
        data = i.to_bytes(4, "big")
        sig = private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if sig[0] == 0:
            key.verify(encode_string("rsa-sha2-256") + encode_string(sig[1:]), data,
                       "rsa-sha2-256")
            break
    else:  # pragma: no cover
        pytest.fail("no signature with a leading zero byte")
    too_long = encode_string("rsa-sha2-256") + encode_string(b"\0" + sig)
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(too_long, data, "rsa-sha2-256")
    assert "longer" in expect_1031(excinfo)


def test_small_rsa_keys_refused() -> None:
    n = (2**127 - 1) * (2**521 - 1)  # 648 bits
    key = parse_public_key(w("ssh-rsa", 65537, n))
    assert key.bits == 648
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(encode_string("rsa-sha2-256") + encode_string(b"\1" * 81), b"", "rsa-sha2-256")
    assert "too small" in expect_1031(excinfo)


def test_ecdsa_signature_encoding() -> None:
    for curve, alg, hash_type in ((ec.SECP256R1, "ecdsa-sha2-nistp256", hashes.SHA256),
                                  (ec.SECP384R1, "ecdsa-sha2-nistp384", hashes.SHA384),
                                  (ec.SECP521R1, "ecdsa-sha2-nistp521", hashes.SHA512)):
        private = ec.generate_private_key(curve())
        key = public_key_from_cryptography(private.public_key())
        assert key.key_type == alg
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        r, s = decode_dss_signature(private.sign(b"data", ec.ECDSA(hash_type())))
        good = encode_string(alg) + encode_string(encode_mpint(r) + encode_mpint(s))
        key.verify(good, b"data", alg)
        for bad_r, bad_s, extra in ((r, s, b"\0"), (-r, s, b""), (r, 0, b""), (s, r, b"")):
            bad = encode_string(alg) + encode_string(encode_mpint(bad_r) + encode_mpint(bad_s)
                                                     + extra)
            with pytest.raises(HostKeyError):
                key.verify(bad, b"data", alg)
        # wrong hash for the curve
        r, s = decode_dss_signature(private.sign(b"data", ec.ECDSA(hashes.SHA1())))
        with pytest.raises(HostKeyError):
            key.verify(encode_string(alg) + encode_string(encode_mpint(r) + encode_mpint(s)),
                       b"data", alg)


def test_ed25519_signature_length() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    key = public_key_from_cryptography(private.public_key())
    sig = private.sign(b"data")
    key.verify(encode_string("ssh-ed25519") + encode_string(sig), b"data", "ssh-ed25519")
    for bad in (sig[:-1], sig + b"\0"):
        with pytest.raises(HostKeyError) as excinfo:
            key.verify(encode_string("ssh-ed25519") + encode_string(bad), b"data", "ssh-ed25519")
        assert "64" in expect_1031(excinfo)


def test_unsupported_cryptography_key() -> None:
    with pytest.raises(HostKeyError):
        public_key_from_cryptography(ec.generate_private_key(ec.SECP224R1()).public_key())
    with pytest.raises(HostKeyError):
        public_key_from_cryptography(object())


# -- random input never escapes the error hierarchy -----------------------------

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_parse_public_key(data: bytes) -> None:
    try:
        parse_public_key(data)
    except HostKeyError as exc:
        assert exc.code == 1031


@FUZZ
@given(st.sampled_from(list(KEYS)), st.binary(max_size=40), st.binary(max_size=600))
def test_fuzz_parse_typed_blobs(name: str, prefix: bytes, data: bytes) -> None:
    key_type = KEYS[name][0]
    for candidate in (encode_string(key_type) + data, encode_string(key_type) + prefix + data,
                      blob(name)[:len(prefix)] + data):
        try:
            parse_public_key(candidate)
        except HostKeyError as exc:
            assert exc.code == 1031


@FUZZ
@given(st.sampled_from(list(KEYS)), st.binary(max_size=600),
       st.sampled_from(HOST_KEY_ALGORITHMS + ("bogus",)))
def test_fuzz_verify(name: str, data: bytes, algorithm: str) -> None:
    key = pub(name)
    for candidate in (data, encode_string(algorithm) + data,
                      encode_string(algorithm) + encode_string(data)):
        with pytest.raises(HostKeyError) as excinfo:
            key.verify(candidate, b"message", algorithm)
        assert excinfo.value.code == 1031


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 st.binary(max_size=200).map(lambda b: b"ssh-rsa " + base64.b64encode(b)),
                 st.binary(max_size=200).map(
                     lambda b: b"---- BEGIN SSH2 PUBLIC KEY ----\nComment: x\n"
                     + base64.b64encode(b) + b"\n---- END SSH2 PUBLIC KEY ----"),
                 st.binary(max_size=200).map(
                     lambda b: b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(b)
                     + b"\n-----END PUBLIC KEY-----\n")))
def test_fuzz_text_formats(data: str | bytes) -> None:
    for parser in (parse_openssh_public_key, load_public_key):
        try:
            parser(data)
        except HostKeyError as exc:
            assert exc.code == 1031


# -- OpenSSH certificates --------------------------------------------------------

def cert(name: str) -> Certificate:
    key = parse_openssh_public_key((DATA / f"{name}-cert.pub").read_text())
    assert isinstance(key, Certificate)
    return key


def test_certificate_algorithms() -> None:
    assert HOST_KEY_CERT_ALGORITHMS == tuple(a + "-cert-v01@openssh.com"
                                             for a in HOST_KEY_ALGORITHMS)
    assert key_type_for_algorithm("rsa-sha2-512-cert-v01@openssh.com") == \
        "ssh-rsa-cert-v01@openssh.com"
    assert signature_algorithm_for("rsa-sha2-512-cert-v01@openssh.com") == "rsa-sha2-512"
    assert key_type_for_algorithm("ssh-ed25519-cert-v01@openssh.com") == \
        "ssh-ed25519-cert-v01@openssh.com"
    assert signature_algorithm_for("ssh-ed25519-cert-v01@openssh.com") == "ssh-ed25519"
    for bad in ("ssh-dss-cert-v01@openssh.com", "-cert-v01@openssh.com"):
        with pytest.raises(HostKeyError):
            key_type_for_algorithm(bad)


CERTS = {  # cert file -> (certified key, CA, key id, serial, principals)
    "ed25519-host": ("ed25519", "ca-ed25519", "host-ed25519", 7,
                     ("host.example", "localhost")),
    "ecdsa256-host": ("ecdsa256", "ca-ed25519", "host-ecdsa256", 8, ("host.example",)),
    "rsa2048-host": ("rsa2048", "ca-rsa", "host-rsa", 9, ("host.example",)),
    "ecdsa521-host-anyname": ("ecdsa521", "ca-ed25519", "any-host", 0, ()),
}


@pytest.mark.parametrize("name", CERTS)
def test_parse_host_certificates(name: str) -> None:
    key_name, ca_name, key_id, serial, principals = CERTS[name]
    c = cert(name)
    plain = pub(key_name)
    assert c.key_type == plain.key_type + "-cert-v01@openssh.com"
    assert c.openssh_line() == (DATA / f"{name}-cert.pub").read_text().strip()
    assert c.public_key == plain
    assert c.bits == plain.bits
    assert c.public_pem() == plain.public_pem()
    assert c.signature_key == pub(ca_name)
    assert (c.cert_type, c.key_id, c.serial, c.principals) == \
        (CERT_TYPE_HOST, key_id, serial, principals)
    assert c.critical_options == {} and c.extensions == {}
    assert parse_public_key(c.blob) == c
    assert load_public_key(c.openssh_line()) == c
    # what `ssh-keygen -L` printed about it
    listing = (DATA / f"{name}-cert.txt").read_text()
    assert fingerprint_openssh(c.public_key.blob) in listing
    assert fingerprint_openssh(c.signature_key.blob) in listing
    if principals:
        assert 1577750400 <= c.valid_after <= 1577923200  # 2020-01-01 ± 1 day
        assert c.valid_before > 4102000000  # 2099
        c.check_host("host.example")
    else:
        assert (c.valid_after, c.valid_before) == (0, 2**64 - 1)
        c.check_host("anything.example")


@pytest.mark.parametrize("name", ["ed25519", "ecdsa256", "rsa2048"])
def test_certificate_verifies_with_certified_key(name: str) -> None:
    c = cert(f"{name}-host")
    key_blob, signed, signature = sshsig(name)
    algorithm = Reader(signature).string().decode()
    c.verify(signature, signed, algorithm + "-cert-v01@openssh.com")
    with pytest.raises(HostKeyError):
        c.verify(signature, signed + b"x", algorithm + "-cert-v01@openssh.com")
    with pytest.raises(HostKeyError) as excinfo:
        c.verify(signature, signed, algorithm)  # plain algorithm for a certificate
    assert "cannot be used" in expect_1031(excinfo)
    with pytest.raises(HostKeyError):
        pub(name).verify(signature, signed, algorithm + "-cert-v01@openssh.com")


def test_check_host_rules() -> None:
    c = cert("ed25519-host")
    c.check_host("localhost")
    for hostname, now, words in (("other.example", None, "not valid for"),
                                 ("host.example", 1500000000, "not valid yet"),
                                 ("host.example", 4200000000, "expired")):
        with pytest.raises(HostKeyError) as excinfo:
            c.check_host(hostname, now)
        assert excinfo.value.code == 1030
        assert words in excinfo.value.message
    with pytest.raises(HostKeyError) as excinfo:
        cert("ed25519-host-expired").check_host("host.example")
    assert "expired" in excinfo.value.message
    user = cert("ed25519-user")
    assert user.cert_type == CERT_TYPE_USER
    assert user.critical_options == {"force-command": encode_string("/bin/true")}
    assert "permit-pty" in user.extensions
    with pytest.raises(HostKeyError) as excinfo:
        user.check_host("alice")
    assert "user certificate" in excinfo.value.message


def test_certificate_signature_checks() -> None:
    # SHA-1 RSA CA signatures are refused, as by OpenSSH >= 8.2
    with pytest.raises(HostKeyError) as excinfo:
        cert("ecdsa384-host-sha1ca")
    assert "ssh-rsa" in expect_1031(excinfo)
    good = cert("ed25519-host").blob
    # any change to the signed part breaks the CA signature; truncation is malformed
    key_id_at = good.index(b"host-ed25519")
    for i in (40, key_id_at, len(good) - 200):
        bad = bytearray(good)
        bad[i] ^= 0x01
        with pytest.raises(HostKeyError) as excinfo:
            parse_public_key(bytes(bad))
        expect_1031(excinfo)
    for n in range(0, len(good), 7):
        with pytest.raises(HostKeyError):
            parse_public_key(good[:n])


def _make_cert(ca_key: PrivateKey, ca_blob: bytes, cert_type: int = CERT_TYPE_HOST,
               critical: bytes = b"", principals: bytes = b"") -> bytes:
    """A certificate for the ed25519 test key, signed by `ca_key`."""
    raw_key = Reader(blob("ed25519"))
    raw_key.string()
    body = (encode_string("ssh-ed25519-cert-v01@openssh.com") + encode_string(b"n" * 32)
            + encode_string(raw_key.string()) + (1).to_bytes(8, "big")
            + cert_type.to_bytes(4, "big") + encode_string("id") + encode_string(principals)
            + (0).to_bytes(8, "big") + (2**64 - 1).to_bytes(8, "big")
            + encode_string(critical) + encode_string(b"") + encode_string(b"")
            + encode_string(ca_blob))
    return body + encode_string(ca_key.sign(body))


def test_certificates_built_here() -> None:
    ca = generate_private_key("ssh-ed25519")
    c = parse_public_key(_make_cert(ca, ca.public_blob))
    assert isinstance(c, Certificate) and c.signature_key == ca.public_key()
    c.check_host("any")
    # signed by a certificate instead of a CA key
    nested = _make_cert(ca, c.blob)
    with pytest.raises(HostKeyError) as excinfo:
        parse_public_key(nested)
    assert "another certificate" in expect_1031(excinfo)
    # critical options on a host certificate
    opts = encode_string("verify-required") + encode_string(b"")
    c = parse_public_key(_make_cert(ca, ca.public_blob, critical=opts))
    assert isinstance(c, Certificate)
    with pytest.raises(HostKeyError) as excinfo:
        c.check_host("any")
    assert "critical" in excinfo.value.message
    # malformed inner structures
    for malformed in (_make_cert(ca, ca.public_blob, cert_type=3),
                      _make_cert(ca, ca.public_blob, critical=opts + opts),
                      _make_cert(ca, ca.public_blob, principals=b"\0\0\0\5ab"),
                      _make_cert(ca, ca.public_blob, principals=encode_string(b"\xff"))):
        with pytest.raises(HostKeyError):
            parse_public_key(malformed)
    # signed with a key other than the one named as CA
    other = generate_private_key("ssh-ed25519")
    with pytest.raises(HostKeyError) as excinfo:
        parse_public_key(_make_cert(other, ca.public_blob))
    assert "bad certificate signature" in expect_1031(excinfo)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_certificates(data: bytes) -> None:
    for prefix in (encode_string("ssh-ed25519-cert-v01@openssh.com"),
                   cert("ed25519-host").blob[:100]):
        try:
            parse_public_key(prefix + data)
        except HostKeyError as exc:
            assert exc.code == 1031


# -- ssh-dss and ssh-ed448 (verified when asked for, never offered by default) ----

def test_dss_signature_r_s_40_bytes() -> None:
    """RFC 4253 §6.6: the blob holds r || s as two 20-byte integers (SHA-1)."""
    from cryptography.hazmat.primitives.asymmetric import dsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    private = dsa.generate_private_key(1024)
    key = public_key_from_cryptography(private.public_key())
    assert key.key_type == "ssh-dss" and key.bits == 1024
    assert parse_public_key(key.blob) == key
    assert key.algorithms == ("ssh-dss",)
    r, s = decode_dss_signature(private.sign(b"exchange hash", hashes.SHA1()))
    raw = r.to_bytes(20, "big") + s.to_bytes(20, "big")
    key.verify(w("ssh-dss", raw), b"exchange hash", "ssh-dss")
    for sig, data, words in ((raw, b"other data", "does not verify"),
                             (raw[:39], b"exchange hash", "40"),
                             (bytes(40), b"exchange hash", "does not verify")):
        with pytest.raises(HostKeyError) as excinfo:
            key.verify(w("ssh-dss", sig), data, "ssh-dss")
        assert words in expect_1031(excinfo)
    with pytest.raises(HostKeyError):
        key.verify(w("ssh-dss", raw), b"exchange hash", "ssh-rsa")


def test_ed448_signature() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed448

    private = ed448.Ed448PrivateKey.generate()
    key = public_key_from_cryptography(private.public_key())
    assert key.key_type == "ssh-ed448" and key.bits == 448 and len(key.blob) == 4 + 9 + 4 + 57
    assert parse_public_key(key.blob) == key
    sig = private.sign(b"exchange hash")
    key.verify(w("ssh-ed448", sig), b"exchange hash", "ssh-ed448")
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(w("ssh-ed448", sig), b"exchange hash!", "ssh-ed448")
    assert "does not verify" in expect_1031(excinfo)
    with pytest.raises(HostKeyError) as excinfo:
        key.verify(w("ssh-ed448", sig[:-1]), b"exchange hash", "ssh-ed448")
    assert "114" in expect_1031(excinfo)
    with pytest.raises(HostKeyError):
        key_type_for_algorithm("ssh-ed448-cert-v01@openssh.com")

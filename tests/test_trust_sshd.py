"""Trusting the server and certificate authentication, against a real OpenSSH sshd.

- ssh_accept_server_host_key_* (store types), SSHAcceptServerHostKeyFingerPrint,
  SSHAcceptAnyServerHostKey, SSHFingerprintHashAlgorithm, SSHFingerprint* during
  on_ssh_server_authentication;
- SSHAcceptServerCAKey with sshd ``HostCertificate`` (certificates made here with
  ``ssh-keygen -s ca -h``): good, wrong CA, expired, wrong principal;
- SignedSSHCert user certificates with sshd ``TrustedUserCAKeys``;
- SSHPubKeyAuthSigAlgorithms for RSA;
- client keys from PFX / JWK / PPK / PEM+certificate stores.
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sshclient import SSHClient, SSHClientError

CERTS = Path(__file__).parent / "data" / "certs"
PASSWORD = (CERTS / "password.txt").read_text()
KEYGEN = shutil.which("ssh-keygen")


def keygen(*args: str) -> None:
    assert KEYGEN is not None
    subprocess.run([KEYGEN, "-q", *args], check=True, capture_output=True, timeout=60)


def new_key(directory: Path, name: str, key_type: str = "ed25519") -> Path:
    path = directory / name
    keygen("-t", key_type, "-N", "", "-C", name, "-f", str(path))
    return path


@pytest.fixture(scope="module")
def workdir():
    # Readable by sshd's unprivileged child and the test user (no pytest 0700 parents).
    if KEYGEN is None:
        pytest.skip("ssh-keygen not found")
    path = Path(tempfile.mkdtemp(prefix="sshclient-trust-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def host_ca(workdir):
    return new_key(workdir, "host-ca")


@pytest.fixture(scope="module")
def other_ca(workdir):
    return new_key(workdir, "other-ca")


@pytest.fixture(scope="module")
def user_ca(workdir):
    return new_key(workdir, "user-ca")


def sign_host_key(workdir: Path, sshd, ca: Path, name: str, *args: str,
                  key: str = "ed25519") -> Path:
    """A copy of the sshd fixture's host key with a certificate from ``ca``."""
    source = Path(sshd.host_keys[key].path)
    copy = workdir / f"{name}-host-key"
    shutil.copy(source, copy)
    shutil.copy(str(source) + ".pub", str(copy) + ".pub")
    os.chmod(copy, 0o600)
    keygen("-s", str(ca), "-h", "-I", name, *args, str(copy) + ".pub")
    return copy


def cert_server(sshd_factory, host_key: Path):
    return sshd_factory([f"HostKey {host_key}", f"HostCertificate {host_key}-cert.pub"])


class Seen:
    """Records on_ssh_server_authentication; accepts only if told to."""

    def __init__(self, client: SSHClient, accept: bool | None = None) -> None:
        self.events: list = []
        self.config: dict[str, str] = {}
        self.logs: list[str] = []
        self.client = client
        self.force = accept
        client.on_ssh_server_authentication = self
        client.on_log = lambda e: self.logs.append(e.message)

    def logged(self, text: str) -> bool:
        return any(text in message for message in self.logs)

    def __call__(self, e) -> None:
        self.events.append((e.key_algorithm, e.fingerprint, bytes(e.host_key), e.accept))
        for name in ("SSHFingerprintMD5", "SSHFingerprintSHA1", "SSHFingerprintSHA256"):
            self.config[name] = self.client.config(name)
        if self.force is not None:
            e.accept = self.force


def client_for(user, **props) -> SSHClient:
    client = SSHClient()
    client.ssh_user = user.name
    client.ssh_password = user.password
    client.timeout = 30
    for name, value in props.items():
        setattr(client, name, value)
    return client


def logon_fails(client: SSHClient, server, code: int) -> SSHClientError:
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(server.host, server.port)
    assert info.value.code == code, info.value
    assert not client.connected
    return info.value


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02x}" for b in digest)


def plain_blob(line: str) -> bytes:
    return base64.b64decode(line.split()[1])


# ======================================================== host certificates (CA)

def test_ca_accepts_host_certificate(workdir, sshd, sshd_factory, test_user, host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "good", "-n", "127.0.0.1,localhost")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + (host_ca.with_suffix(".pub")).read_text().strip())
    client.ssh_logon(server.host, server.port)
    assert client.connected
    algorithm, fp, host_key_blob, accepted = seen.events[0]
    assert algorithm == "ssh-ed25519-cert-v01@openssh.com"
    assert accepted  # trusted before the handler ran
    assert host_key_blob == plain_blob((Path(str(host_key) + "-cert.pub")).read_text())
    # the fingerprint is the certified key's (as ssh-keygen -l shows the host key)
    key_blob = plain_blob(sshd.host_keys["ed25519"].public_line)
    assert fp == colon_hex(hashlib.sha256(key_blob).digest())
    client.ssh_logoff()


def test_ca_key_rsa_host_certificate(workdir, sshd, sshd_factory, test_user, host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "rsa", "-n", "127.0.0.1", key="rsa")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user, ssh_public_key_algorithms="rsa-sha2-256,ssh-ed25519")
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    client.ssh_logon(server.host, server.port)
    assert seen.events[0][0] == "rsa-sha2-256-cert-v01@openssh.com"
    client.ssh_logoff()


def test_ca_several_keys_one_matches(workdir, sshd, sshd_factory, test_user, host_ca,
                                     other_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "multi", "-n", "127.0.0.1")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    Seen(client)
    lines = other_ca.with_suffix(".pub").read_text() + host_ca.with_suffix(".pub").read_text()
    client.config("SSHAcceptServerCAKey=" + lines)
    client.ssh_logon(server.host, server.port)
    client.ssh_logoff()


def test_wrong_ca_is_1030(workdir, sshd, sshd_factory, test_user, host_ca, other_ca):
    host_key = sign_host_key(workdir, sshd, other_ca, "wrongca", "-n", "127.0.0.1")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    logon_fails(client, server, 1030)
    assert seen.events and seen.events[0][3] is False
    assert seen.events[0][0] == "ssh-ed25519-cert-v01@openssh.com"
    assert seen.logged("signed by a CA that is not trusted")


def test_expired_host_certificate_is_1030(workdir, sshd, sshd_factory, test_user, host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "expired", "-n", "127.0.0.1",
                             "-V", "20000101:20010101")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    logon_fails(client, server, 1030)
    assert seen.logged("has expired")


def test_not_yet_valid_host_certificate_is_1030(workdir, sshd, sshd_factory, test_user,
                                                host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "future", "-n", "127.0.0.1",
                             "-V", "+3650d:+3660d")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    logon_fails(client, server, 1030)
    assert seen.logged("not valid yet")


def test_wrong_principal_is_1030(workdir, sshd, sshd_factory, test_user, host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "principal", "-n", "other.example")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    logon_fails(client, server, 1030)
    assert seen.logged("not valid for '127.0.0.1'")


def test_refused_certificate_can_still_be_accepted_by_the_handler(
        workdir, sshd, sshd_factory, test_user, host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "override", "-n", "other.example")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    Seen(client, accept=True)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    client.ssh_logon(server.host, server.port)
    assert client.connected
    client.ssh_logoff()


def test_ca_configured_plain_host_key_falls_back(sshd, test_user, host_ca):
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    logon_fails(client, sshd, 1030)
    assert "cert" not in seen.events[0][0]
    client = client_for(test_user)
    Seen(client, accept=True)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    client.ssh_logon(sshd.host, sshd.port)
    client.ssh_logoff()


def test_no_ca_means_no_certificate_algorithms(workdir, sshd, sshd_factory, test_user,
                                               host_ca):
    host_key = sign_host_key(workdir, sshd, host_ca, "noca", "-n", "127.0.0.1")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client, accept=True)
    client.ssh_logon(server.host, server.port)
    assert seen.events[0][0] == "ssh-ed25519"
    client.ssh_logoff()


# ================================================ pinning the host key

def host_line(sshd, key: str = "ed25519") -> str:
    return sshd.host_keys[key].public_line


@pytest.mark.parametrize("form", ["ssh-file", "ssh-blob", "ssh-blob-base64", "auto",
                                  "spki-pem", "encoded"])
def test_accept_server_host_key_store(sshd, test_user, workdir, form):
    # ssh-keygen writes PKCS#8 (SubjectPublicKeyInfo) for RSA and ECDSA keys only
    key, algorithm = ("ecdsa256", "ecdsa-sha2-nistp256") if form == "spki-pem" else (
        "ed25519", "ssh-ed25519")
    line = host_line(sshd, key)
    client = client_for(test_user, ssh_public_key_algorithms=algorithm)
    seen = Seen(client)
    if form == "encoded":
        client.ssh_accept_server_host_key_encoded = line
    else:
        store_type, store = {
            "ssh-file": (13, sshd.host_public_key_paths["ssh-ed25519"]),
            "ssh-blob": (10, plain_blob(line)),
            "ssh-blob-base64": (10, line.split()[1]),
            "auto": (99, line),
            "spki-pem": (8, None),
        }[form]
        if form == "spki-pem":
            pem = subprocess.run([KEYGEN, "-e", "-m", "PKCS8", "-f",
                                  sshd.host_public_key_paths[algorithm]],
                                 capture_output=True, check=True).stdout
            store_type, store = 9, pem
        client.ssh_accept_server_host_key_store_type = store_type
        client.ssh_accept_server_host_key_store = store
        client.ssh_accept_server_host_key_subject = "*"
    assert client.ssh_accept_server_host_key_fingerprint_sha256 == colon_hex(
        hashlib.sha256(plain_blob(line)).digest())
    client.ssh_logon(sshd.host, sshd.port)
    assert seen.events[0][3] is True
    client.ssh_logoff()


def test_accept_server_host_key_other_key_is_1030(sshd, test_user):
    client = client_for(test_user, ssh_public_key_algorithms="ssh-ed25519")
    seen = Seen(client)
    client.ssh_accept_server_host_key_encoded = host_line(sshd, "ecdsa256")
    logon_fails(client, sshd, 1030)
    assert seen.events[0][3] is False


def test_handler_can_refuse_a_pinned_key(sshd, test_user):
    client = client_for(test_user, ssh_public_key_algorithms="ssh-ed25519")
    Seen(client, accept=False)
    client.ssh_accept_server_host_key_encoded = host_line(sshd)
    logon_fails(client, sshd, 1030)


def test_accept_server_host_key_matches_certified_key(workdir, sshd, sshd_factory, test_user,
                                                      host_ca):
    """A pinned plain key accepts the server presenting a certificate of it."""
    host_key = sign_host_key(workdir, sshd, host_ca, "pinned", "-n", "other.example")
    server = cert_server(sshd_factory, host_key)
    client = client_for(test_user)
    seen = Seen(client)
    client.config("SSHAcceptServerCAKey=" + host_ca.with_suffix(".pub").read_text())
    client.ssh_accept_server_host_key_encoded = host_line(sshd)
    client.ssh_logon(server.host, server.port)
    assert seen.events[0][0].endswith("-cert-v01@openssh.com")
    client.ssh_logoff()


@pytest.mark.parametrize("form", ["md5", "sha1", "sha256", "openssh", "upper-no-colons",
                                  "list"])
def test_accept_fingerprint_forms(sshd, test_user, form):
    blob = plain_blob(host_line(sshd))
    value = {
        "md5": colon_hex(hashlib.md5(blob).digest()),
        "sha1": colon_hex(hashlib.sha1(blob).digest()),
        "sha256": colon_hex(hashlib.sha256(blob).digest()),
        "openssh": sshd.host_keys["ed25519"].fingerprint,  # SHA256:base64
        "upper-no-colons": hashlib.sha256(blob).hexdigest().upper(),
        "list": "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff, "
                + colon_hex(hashlib.md5(blob).digest()),
    }[form]
    client = client_for(test_user, ssh_public_key_algorithms="ssh-ed25519")
    seen = Seen(client)
    client.config(f"SSHAcceptServerHostKeyFingerPrint={value}")
    client.ssh_logon(sshd.host, sshd.port)
    assert seen.events[0][3] is True
    client.ssh_logoff()


def test_wrong_fingerprint_is_1030(sshd, test_user):
    client = client_for(test_user, ssh_public_key_algorithms="ssh-ed25519")
    Seen(client)
    client.config("SSHAcceptServerHostKeyFingerPrint=SHA256:"
                  + base64.b64encode(b"\0" * 32).decode().rstrip("="))
    logon_fails(client, sshd, 1030)


def test_accept_any_server_host_key(sshd, test_user):
    client = client_for(test_user)
    client.config("SSHAcceptAnyServerHostKey=True")
    client.ssh_logon(sshd.host, sshd.port)  # no handler at all
    assert client.connected
    client.ssh_logoff()


@pytest.mark.parametrize("setting, hash_name", [("MD5", "md5"), ("SHA1", "sha1"),
                                                ("SHA256", "sha256"), ("", "sha256"),
                                                ("sha-1", "sha1")])
def test_fingerprint_hash_algorithm_and_config_during_event(sshd, test_user, setting,
                                                            hash_name):
    client = client_for(test_user, ssh_public_key_algorithms="ecdsa-sha2-nistp384")
    seen = Seen(client, accept=True)
    if setting:
        client.config(f"SSHFingerprintHashAlgorithm={setting}")
    client.ssh_logon(sshd.host, sshd.port)
    algorithm, fp, blob, _ = seen.events[0]
    assert algorithm == "ecdsa-sha2-nistp384"
    assert blob == plain_blob(host_line(sshd, "ecdsa384"))
    assert fp == colon_hex(hashlib.new(hash_name, blob).digest())
    assert seen.config == {
        "SSHFingerprintMD5": colon_hex(hashlib.md5(blob).digest()),
        "SSHFingerprintSHA1": colon_hex(hashlib.sha1(blob).digest()),
        "SSHFingerprintSHA256": colon_hex(hashlib.sha256(blob).digest()),
    }
    client.ssh_logoff()


# ================================================ SignedSSHCert (user certificates)

@pytest.fixture(scope="module")
def user_keys(workdir, user_ca, test_user):
    """Keys never put into authorized_keys, each with a user certificate for the test user."""
    keys = {}
    for name, key_type in (("ed25519", "ed25519"), ("rsa", "rsa"), ("ecdsa", "ecdsa")):
        path = new_key(workdir, f"user-{name}", key_type)
        keygen("-s", str(user_ca), "-I", f"user-{name}", "-n", test_user.name,
               str(path) + ".pub")
        keys[name] = path
    return keys


def ca_server(sshd_factory, user_ca, *extra: str):
    return sshd_factory([f"TrustedUserCAKeys {user_ca}.pub", *extra], log_level="DEBUG3")


def cert_client(test_user, key: Path, cert_line: str | None = None) -> SSHClient:
    client = client_for(test_user, ssh_auth_mode=3)
    client.ssh_password = ""
    Seen(client, accept=True)
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = str(key)
    client.ssh_cert_subject = "*"
    line = cert_line or Path(f"{key}-cert.pub").read_text().strip()
    client.config(f"SignedSSHCert={line}")
    return client


@pytest.mark.parametrize("name, logged", [
    ("ed25519", "ssh-ed25519-cert-v01@openssh.com"),
    ("ecdsa", "ecdsa-sha2-nistp256-cert-v01@openssh.com"),
    ("rsa", "rsa-sha2-512-cert-v01@openssh.com"),
])
def test_signed_user_certificate(sshd_factory, test_user, user_ca, user_keys, name, logged):
    server = ca_server(sshd_factory, user_ca)
    client = cert_client(test_user, user_keys[name])
    client.ssh_logon(server.host, server.port)
    assert client.connected
    server.wait_for_log(rf"Accepted publickey for {test_user.name} .* ID user-{name}")
    server.wait_for_log(rf"pkalg {logged}")
    client.ssh_logoff()


def test_signed_rsa_certificate_named_algorithm(sshd_factory, test_user, user_ca, user_keys):
    server = ca_server(sshd_factory, user_ca)
    line = Path(f"{user_keys['rsa']}-cert.pub").read_text().split()
    client = cert_client(test_user, user_keys["rsa"],
                         f"rsa-sha2-256-cert-v01@openssh.com {line[1]}")
    client.ssh_logon(server.host, server.port)
    server.wait_for_log(r"pkalg rsa-sha2-256-cert-v01@openssh.com")
    client.ssh_logoff()


def test_signed_rsa_certificate_follows_sig_algorithms(sshd_factory, test_user, user_ca,
                                                       user_keys):
    server = ca_server(sshd_factory, user_ca)
    client = cert_client(test_user, user_keys["rsa"])
    client.config("SSHPubKeyAuthSigAlgorithms=ssh-rsa,rsa-sha2-256")
    client.ssh_logon(server.host, server.port)
    server.wait_for_log(r"pkalg rsa-sha2-256-cert-v01@openssh.com")
    client.ssh_logoff()


def test_signed_certificate_without_trusted_ca_is_1032(sshd, test_user, user_keys):
    client = cert_client(test_user, user_keys["ed25519"])
    logon_fails(client, sshd, 1032)


def test_signed_certificate_of_another_key_type_is_1032(sshd_factory, test_user, user_ca,
                                                        user_keys):
    server = ca_server(sshd_factory, user_ca)
    client = cert_client(test_user, user_keys["ed25519"],
                         Path(f"{user_keys['rsa']}-cert.pub").read_text())
    error = logon_fails(client, server, 1032)
    assert "ssh-rsa-cert-v01@openssh.com" in str(error)


# ================================================ SSHPubKeyAuthSigAlgorithms (RSA)

@pytest.fixture(scope="module")
def rsa_key(workdir):
    return new_key(workdir, "rsa-plain", "rsa")


def authorized_server(sshd_factory, workdir, key: Path, *extra: str):
    """sshd that authorizes ``key`` through its own AuthorizedKeysFile."""
    keys_file = workdir / f"authorized-{key.name}"
    keys_file.write_text(Path(str(key) + ".pub").read_text() if key.suffix != ".pub"
                         else key.read_text())
    os.chmod(keys_file, 0o644)
    return sshd_factory([f"AuthorizedKeysFile {keys_file}", "StrictModes no", *extra],
                        log_level="DEBUG3")


def key_client(test_user, store_type: int, store, password: str = "",
               subject: str = "*") -> SSHClient:
    client = client_for(test_user, ssh_auth_mode=3)
    client.ssh_password = ""
    Seen(client, accept=True)
    client.ssh_cert_store_type = store_type
    client.ssh_cert_store = store
    client.ssh_cert_store_password = password
    client.ssh_cert_subject = subject
    return client


def test_sig_algorithms_only_ssh_rsa(sshd_factory, workdir, test_user, rsa_key):
    server = authorized_server(sshd_factory, workdir, rsa_key,
                               "PubkeyAcceptedAlgorithms +ssh-rsa")
    client = key_client(test_user, 6, str(rsa_key))
    client.config("SSHPubKeyAuthSigAlgorithms=ssh-rsa")
    client.ssh_logon(server.host, server.port)
    server.wait_for_log(r"pkalg ssh-rsa ")
    client.ssh_logoff()


def test_sig_algorithms_ssh_rsa_refused_by_server_is_1032(sshd_factory, workdir, test_user,
                                                          rsa_key):
    server = authorized_server(sshd_factory, workdir, rsa_key,
                               "PubkeyAcceptedAlgorithms rsa-sha2-256,rsa-sha2-512")
    client = key_client(test_user, 6, str(rsa_key))
    client.config("SSHPubKeyAuthSigAlgorithms=ssh-rsa")
    logon_fails(client, server, 1032)


@pytest.mark.parametrize("setting, logged", [("rsa-sha2-256", "rsa-sha2-256"),
                                             ("ssh-rsa,rsa-sha2-512", "rsa-sha2-512")])
def test_sig_algorithms_sha2(sshd_factory, workdir, test_user, rsa_key, setting, logged):
    server = authorized_server(sshd_factory, workdir, rsa_key)
    client = key_client(test_user, 6, str(rsa_key))
    client.config(f"SSHPubKeyAuthSigAlgorithms={setting}")
    client.ssh_logon(server.host, server.port)
    server.wait_for_log(rf"pkalg {logged} ")
    client.ssh_logoff()


# ================================================ client keys from other stores

@pytest.mark.parametrize("name, store_type, file, password, subject", [
    ("rsa2048", 2, "rsa2048.pfx", PASSWORD, "CN=rsa2048.sshclient.test"),
    ("ed25519", 2, "ed25519.pfx", PASSWORD, "*"),
    ("ecdsa256", 3, "ecdsa256.pfx", PASSWORD, "ecdsa256 test key"),
    ("ecdsa256", 6, "ecdsa256.key+crt.enc.pem", PASSWORD, "*"),
    ("rsa2048", 14, "rsa2048.ppk", PASSWORD, "*"),
    ("ecdsa521", 18, "ecdsa521.jwk", "", "ecdsa521-kid"),
    ("ed25519", 19, "private.jwks", "", "ed25519-kid"),
    ("ecdsa384", 99, "ecdsa384.jwk", "", "*"),
])
def test_client_key_from_store(sshd_factory, workdir, test_user, name, store_type, file,
                               password, subject):
    server = authorized_server(sshd_factory, workdir, CERTS / f"{name}.pub")
    store = (CERTS / file).read_bytes() if store_type in (3, 19) else str(CERTS / file)
    client = key_client(test_user, store_type, store, password, subject)
    assert client.ssh_cert_private_key_available
    client.ssh_logon(server.host, server.port)
    assert client.connected
    server.wait_for_log(rf"Accepted publickey for {test_user.name}")
    client.ssh_logoff()

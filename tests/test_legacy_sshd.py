"""Legacy algorithms (CBC, 3DES, MD5 / truncated HMACs, SHA-1 key exchange,
ssh-dss, ssh-ed448) end to end: real OpenSSH sshd and dropbear, the scripted
peer for what no real server here speaks (RIPEMD-160 MACs, Ed448 host keys).

They are implemented but never offered by default: each test asks for them."""
from __future__ import annotations

import hashlib

import pytest

import servers
import sshclient
from peer import ExecSpec, HostilePeer
from sshclient import SSHClient, SSHClientError, algorithms
from test_spec_sshd import logon, make_client, run_command

MiB = 1024 * 1024
SIZE = 4 * MiB
# OpenSSH 9.2 has neither RIPEMD-160 nor SHA-2-96 MACs: those run against the peer.
# The legacy names that run here (the registry leaves out what libcrypto lacks).
LEGACY_CIPHERS = algorithms.with_offer("cipher", algorithms.Offer.LEGACY)
LEGACY_MACS = algorithms.with_offer("mac", algorithms.Offer.LEGACY)
SSHD_MACS = [m for m in LEGACY_MACS if m in servers.openssh_algorithms()["MACs"]]
PEER_MACS = [m for m in LEGACY_MACS if m not in SSHD_MACS]
# (cipher, MAC): every CBC cipher with a MAC-then-encrypt and an etm MAC, every
# legacy MAC under CTR, and a few legacy-with-legacy pairs.
SUITES = ([(c, m) for c in LEGACY_CIPHERS
           for m in ("hmac-sha2-256", "hmac-sha2-256-etm@openssh.com")]
          + [("aes128-ctr", m) for m in SSHD_MACS]
          + [("3des-cbc", "hmac-md5-96"), ("aes192-cbc", "hmac-sha1-96-etm@openssh.com"),
             ("aes256-cbc", "hmac-md5-etm@openssh.com")])
LEGACY_KEX = ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1",
              "diffie-hellman-group-exchange-sha1"]


def connect(server, user, **overrides):
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, accept_any_host_key=True, timeout=60,
                             **overrides)


@pytest.mark.parametrize("suite", SUITES, ids="+".join)
def test_download_and_upload_verified(sshd, test_user, suite):
    cipher, mac = suite
    upload = hashlib.sha256(cipher.encode() + mac.encode()).digest() * (SIZE // 32)
    with connect(sshd, test_user, ciphers=[cipher], macs=[mac]) as conn:
        with conn.open_session() as ch:
            ch.exec(f"f=$(mktemp); head -c {SIZE} /dev/urandom >$f; sha256sum <$f >&2; "
                    f"cat $f; rm -f $f")
            digest = hashlib.sha256()
            assert ch.drain(lambda view: digest.update(view)) == SIZE
            remote = ch.read_all(1)
            assert ch.wait_closed() == 0
        assert remote.split()[0].decode() == digest.hexdigest()
        with conn.open_session() as ch:
            ch.exec("sha256sum")
            ch.write(upload)
            ch.send_eof()
            out = ch.read_all()
            assert ch.wait_closed() == 0
        assert out.split()[0].decode() == hashlib.sha256(upload).hexdigest()


def test_sshd_log_names_the_suite(sshd, test_user):
    """sshd itself reports the CBC cipher and truncated MAC as negotiated."""
    offset = sshd.log_size()
    with connect(sshd, test_user, ciphers=["3des-cbc"], macs=["hmac-md5-96"]) as conn:
        assert conn.exec("echo ok").stdout == b"ok\n"
    assert sshd.wait_for_log(r"cipher: 3des-cbc MAC: hmac-md5-96", since=offset)


@pytest.mark.parametrize("suite", [("aes128-cbc", "hmac-md5"), ("3des-cbc", "hmac-sha1-96")],
                         ids="+".join)
def test_spec_api_suite(sshd, test_user, suite):
    offset = sshd.log_size()
    client, rec = logon(sshd, test_user, ssh_encryption_algorithms=suite[0],
                        ssh_mac_algorithms=suite[1])
    ch = run_command(client, rec, "head -c 300000 /dev/zero | tr '\\0' x")
    assert bytes(rec.data[ch]) == b"x" * 300000
    assert any(suite[0] in m for m in rec.status)
    client.ssh_logoff()
    assert sshd.wait_for_log(f"cipher: {suite[0]} MAC: {suite[1]} ", since=offset)


@pytest.mark.parametrize("kex", LEGACY_KEX)
def test_legacy_kex_spec_api(sshd, test_user, kex):
    client, rec = logon(sshd, test_user, ssh_key_exchange_algorithms=kex)
    ch = run_command(client, rec, "echo kex")
    assert bytes(rec.data[ch]) == b"kex\n"
    assert any(kex in message for message in rec.status)
    client.ssh_logoff()


@pytest.mark.parametrize("kex", LEGACY_KEX)
def test_legacy_kex_pythonic_api_with_rekey(sshd, test_user, kex):
    with connect(sshd, test_user, kex_algorithms=[kex]) as conn:
        assert conn.exec("echo one").stdout == b"one\n"
        conn.rekey()
        assert conn.exec("echo two").stdout == b"two\n"


def test_group14_sha1_against_dropbear(dropbear, test_user):
    with connect(dropbear, test_user, kex_algorithms=["diffie-hellman-group14-sha1"]) as conn:
        assert conn.exec("echo dropbear").stdout == b"dropbear\n"


def test_dss_host_key(sshd_factory, test_user):
    server = sshd_factory(host_key_types=("ed25519", "dsa"))
    client = make_client(server, test_user, accept=False, ssh_public_key_algorithms="ssh-dss")
    seen = []

    def on_auth(e):
        seen.append((e.key_algorithm, e.fingerprint, e.host_key))
        e.accept = True

    client.on_ssh_server_authentication = on_auth
    client.ssh_logon(server.host, server.port)
    assert seen and seen[0][0] == "ssh-dss"
    assert seen[0][2] == server.host_keys["dsa"].public_blob
    client.ssh_logoff()
    with connect(server, test_user, host_key_algorithms=["ssh-dss"]) as conn:
        assert conn.exec("echo dss").stdout == b"dss\n"


def test_ed448_host_key_with_the_peer():
    """No real server here has Ed448: the scripted peer signs with it."""
    from peer.kex import HOST_KEY_448_BLOB

    with HostilePeer(host_key_algorithms=["ssh-ed448", "ssh-ed25519"],
                     ciphers=["aes256-cbc"], macs=["hmac-ripemd160"]) as peer:
        client = SSHClient()
        client.ssh_user, client.ssh_password, client.timeout = "tester", "secret", 20
        client.ssh_public_key_algorithms = "ssh-ed448"
        client.ssh_encryption_algorithms = "aes256-cbc"
        client.ssh_mac_algorithms = "hmac-ripemd160"
        seen = []
        client.on_ssh_server_authentication = lambda e: (
            seen.append((e.key_algorithm, e.host_key)), setattr(e, "accept", True))
        client.ssh_logon(peer.host, peer.port)
        assert seen == [("ssh-ed448", HOST_KEY_448_BLOB)]
        client.ssh_logoff()


def _digest_of_upload(s, ch, command) -> None:
    """Peer exec script: answer with the SHA-256 of what the client sent."""
    s.wait_for(lambda: ch.eof_received)
    s.send_data(ch, hashlib.sha256(bytes(ch.received)).hexdigest().encode())
    s.send_exit_status(ch, 0)
    s.send_eof(ch)
    s.send_close(ch)


@pytest.mark.parametrize("mac", PEER_MACS)
def test_peer_only_macs_verified(mac):
    """The MACs no server here speaks, both ways through the scripted peer
    (whose packet code is sshcore's too, so the vectors in test_core_crypto
    are what ties them to the RFCs)."""
    down = hashlib.sha256(mac.encode()).digest() * (MiB // 32)
    up = down[::-1]
    with HostilePeer(ciphers=["aes128-cbc"], macs=[mac],
                     commands={"down": ExecSpec(stdout=down)}) as peer:
        with sshclient.connect(peer.host, peer.port, username="tester", password="secret",
                               accept_any_host_key=True, ciphers=["aes128-cbc"],
                               macs=[mac]) as conn:
            assert conn.exec("down").stdout == down
    with HostilePeer(ciphers=["3des-cbc"], macs=[mac],
                     script={"exec": _digest_of_upload}) as peer:
        with sshclient.connect(peer.host, peer.port, username="tester", password="secret",
                               accept_any_host_key=True, ciphers=["3des-cbc"],
                               macs=[mac]) as conn:
            result = conn.exec("up", stdin=up)
            assert result.stdout.decode() == hashlib.sha256(up).hexdigest()


def test_bad_ed448_signature_is_1031():
    with HostilePeer(host_key_algorithms=["ssh-ed448"], bad_signature=True) as peer:
        client = SSHClient()
        client.ssh_user, client.ssh_password, client.timeout = "tester", "secret", 20
        client.ssh_public_key_algorithms = "ssh-ed448"
        client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
        with pytest.raises(SSHClientError) as info:
            client.ssh_logon(peer.host, peer.port)
        assert info.value.code == 1031


def test_pythonic_defaults_offer_nothing_weak():
    """connect() without algorithm options offers only the strong defaults."""
    from sshclient.options import ClientOptions
    from sshclient.transport import check_algorithm_choices

    weak = (set(LEGACY_CIPHERS) | set(LEGACY_MACS) | set(LEGACY_KEX)
            | {"ssh-dss"})
    o = ClientOptions()
    assert not (o.ciphers or o.macs or o.kex_algorithms or o.host_key_algorithms)
    offered = {name for kind in algorithms.Kind for name in algorithms.defaults(kind)}
    assert not weak & offered
    check_algorithm_choices(o)
    with pytest.raises(SSHClientError) as info:
        check_algorithm_choices(ClientOptions(ciphers=["aes128-ctr", "arcfour256"]))
    assert info.value.code == 1005 and "arcfour256" in info.value.message


def test_spec_default_lists_put_weak_algorithms_last():
    """The spec's default MAC list names hmac-md5 before the etm MACs; left at
    the default, weak entries are offered after every strong one."""
    options = SSHClient()._build_options(authenticate=False)
    weak = set(LEGACY_MACS)
    macs = options.macs
    first_weak = min(i for i, m in enumerate(macs) if m in weak)
    assert all(m not in weak for m in macs[:first_weak])
    assert all(m in weak for m in macs[first_weak:])
    assert "hmac-sha2-256-etm@openssh.com" in macs[:first_weak]


@pytest.mark.parametrize("prop,value,word", [
    ("ssh_encryption_algorithms", "blowfish-cbc,cast128-cbc,3des-ctr", "not implemented"),
    ("ssh_encryption_algorithms", "arcfour256,arcfour128,arcfour", "RC4"),
    ("ssh_mac_algorithms", "umac-64@openssh.com,umac-128-etm@openssh.com", "UMAC"),
    ("ssh_public_key_algorithms", "x509v3-sign-rsa,x509v3-sign-dss", "X.509"),
    ("ssh_key_exchange_algorithms", "gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g==", "GSS"),
])
def test_unimplemented_algorithms_are_1005_saying_why(prop, value, word):
    client = SSHClient()
    with pytest.raises(SSHClientError) as info:
        setattr(client, prop, value)
    assert info.value.code == 1005
    assert word in info.value.message
    for name in value.split(","):
        assert name in info.value.message


@pytest.mark.parametrize("fmt", ["openssh", "pem"])
def test_dss_publickey_auth(sshd_factory, test_user, fmt):
    """An existing DSA key logs in where the server accepts ssh-dss (sshd's
    PubkeyAcceptedAlgorithms here lists every algorithm it has)."""
    import os
    import shutil
    import subprocess
    import tempfile

    from sshclient.keys import load_private_key_file

    directory = tempfile.mkdtemp(prefix="sshclient-dsa-")
    try:
        os.chmod(directory, 0o755)  # sshd reads authorized_keys as the test user
        key = os.path.join(directory, "id_dsa")
        subprocess.run(["ssh-keygen", "-q", "-t", "dsa", "-N", "", "-f", key], check=True)
        if fmt == "pem":
            subprocess.run(["ssh-keygen", "-q", "-p", "-N", "", "-m", "PEM", "-f", key],
                           check=True, capture_output=True)
            with open(key) as f:
                assert f.read().startswith("-----BEGIN DSA PRIVATE KEY-----")
        authorized = os.path.join(directory, "authorized_keys")
        shutil.copy(key + ".pub", authorized)
        os.chmod(authorized, 0o644)
        loaded = load_private_key_file(key)
        assert loaded.key_type == "ssh-dss" and loaded.signature_algorithms() == ["ssh-dss"]
        server = sshd_factory({"AuthorizedKeysFile": authorized, "StrictModes": False})
        offset = server.log_size()
        with sshclient.connect(server.host, server.port, username=test_user.name, key=key,
                               accept_any_host_key=True, timeout=30) as conn:
            assert conn.exec("echo dsa").stdout == b"dsa\n"
        assert server.wait_for_log(r"Accepted publickey for \S+ .* DSA", since=offset)
    finally:
        shutil.rmtree(directory, ignore_errors=True)

"""Tests of the test peers themselves (tests/servers.py, tests/conftest.py).

They use the system OpenSSH client (and paramiko, when importable) as an
independent reference, so a broken fixture shows up here rather than as a
mysterious failure in a library test.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import stat
import subprocess
import threading
from pathlib import Path

import pytest

import servers

SSH = shutil.which("ssh")
pytestmark = pytest.mark.skipif(SSH is None, reason="OpenSSH client (ssh) not installed")

# Keys the OpenSSH client can load (it cannot read PuTTY files).
OPENSSH_READABLE = ("openssh", "pem", "pkcs8")


def run_ssh(argv, *, env=None, input=None, timeout=60):
    return subprocess.run(argv, input=input, env=env, capture_output=True,
                          stdin=None if input is not None else subprocess.DEVNULL,
                          timeout=timeout)


def ssh_ok(argv, **kw) -> bytes:
    r = run_ssh(argv, **kw)
    assert r.returncode == 0, (r.returncode, r.stderr.decode(errors="replace"))
    return r.stdout


def password_login(server, tmp_path, method, password=servers.TEST_PASSWORD,
                   command="echo hi"):
    env = servers.askpass_env(password, str(tmp_path))
    argv = servers.ssh_command(server, command, options={
        "BatchMode": "no", "PreferredAuthentications": method,
        "NumberOfPasswordPrompts": "1"})
    r = run_ssh(argv, env=env)
    prompts_file = tmp_path / "askpass-prompts.txt"
    prompts = prompts_file.read_text() if prompts_file.exists() else ""
    return r, prompts


# ---------------------------------------------------------------------------
# user and keys
# ---------------------------------------------------------------------------


def test_test_user_is_quiet_and_strictmodes_clean(test_user):
    pw = pwd.getpwnam(servers.TEST_USER)
    assert pw.pw_shell == "/bin/sh"
    assert pw.pw_dir == servers.TEST_HOME
    for path, mode in ((servers.TEST_HOME, 0o755), (servers.TEST_HOME + "/.ssh", 0o700),
                       (test_user.authorized_keys_path, 0o600)):
        st = os.stat(path)
        assert st.st_uid == pw.pw_uid, path
        assert stat.S_IMODE(st.st_mode) == mode, path
    # Nothing a login shell would run: no bashrc/profile/pyenv.
    for noisy in (".bashrc", ".profile", ".bash_profile", ".pyenv"):
        assert not os.path.exists(os.path.join(servers.TEST_HOME, noisy)), noisy


@pytest.fixture
def preexisting_user(tmp_path):
    """A user made by someone else before the tests ran: `useradd --create-home`
    copied a skeleton of shell dotfiles into its home, its shell is bash and
    its password locked. Removed again afterwards."""
    servers.ensure_test_user()  # skips when not root
    name = "sshclient-tpre"

    def remove() -> None:
        subprocess.run(["userdel", "--force", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)  # if userdel left it

    remove()
    skel = tmp_path / "skel"
    skel.mkdir()
    for dotfile in (".bashrc", ".profile", ".bash_logout"):
        (skel / dotfile).write_text("echo noise from $0 startup >&2\n")
    yield name, skel
    remove()


@pytest.mark.parametrize("home_was", ["ours", "elsewhere"])
def test_test_user_normalizes_a_preexisting_user(monkeypatch, tmp_path, preexisting_user,
                                                 home_was):
    """Issue 11: a machine may already have the test user, made with skeleton
    dotfiles; ensure_test_user() must make its own state true, not assume it.
    Runs on a throwaway user so the session's own test user is left alone."""
    name, skel = preexisting_user
    home = str(tmp_path / "own" / "home")  # stands for TEST_HOME
    made_home = home if home_was == "ours" else str(tmp_path / "theirs")
    subprocess.run(["useradd", "--create-home", "--skel", str(skel), "--home-dir", made_home,
                    "--shell", "/bin/bash", "--user-group", name],
                   check=True, capture_output=True)
    subprocess.run(["passwd", "--lock", name], check=True, capture_output=True)
    assert (Path(made_home) / ".bashrc").exists()  # the situation of the issue
    monkeypatch.setattr(servers, "TEST_USER", name)
    monkeypatch.setattr(servers, "TEST_HOME", home)
    monkeypatch.setattr(servers, "_user_cache", None)

    user = servers.ensure_test_user()

    pw = pwd.getpwnam(name)
    assert (user.name, user.home, pw.pw_dir, pw.pw_shell) == (name, home, home, "/bin/sh")
    for path, mode in ((home, 0o755), (home + "/.ssh", 0o700), (user.authorized_keys_path, 0o600)):
        st = os.stat(path)
        assert st.st_uid == pw.pw_uid, path
        assert stat.S_IMODE(st.st_mode) == mode, path
    assert sorted(os.listdir(home)) == [".hushlogin", ".ssh"]
    status = subprocess.run(["passwd", "--status", name], capture_output=True, text=True)
    assert status.stdout.split()[1] == "P", status.stdout  # usable password, unlocked
    if home_was == "elsewhere":
        # Not ours: left as it was.
        assert sorted(os.listdir(made_home)) == [".bash_logout", ".bashrc", ".profile"]


def test_test_user_is_made_where_only_its_group_is_left(monkeypatch, tmp_path,
                                                        preexisting_user):
    """userdel can leave the user's group behind; useradd --user-group then fails."""
    name, _ = preexisting_user
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    home = str(tmp_path / "own" / "home")
    monkeypatch.setattr(servers, "TEST_USER", name)
    monkeypatch.setattr(servers, "TEST_HOME", home)
    monkeypatch.setattr(servers, "_user_cache", None)
    user = servers.ensure_test_user()
    assert user.gid == grp.getgrnam(name).gr_gid
    assert sorted(os.listdir(home)) == [".hushlogin", ".ssh"]


def test_client_key_set_is_complete(client_keys):
    for name in ("ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
                 "ed25519-enc", "rsa-enc", "ecdsa256-enc",
                 "rsa-pem", "ecdsa256-pem", "rsa-pem-enc", "ecdsa256-pem-enc",
                 "rsa-pkcs8", "ecdsa256-pkcs8", "rsa-pkcs8-enc", "ecdsa256-pkcs8-enc",
                 "ed25519-unauthorized"):
        assert name in client_keys, name
    heads = {
        "rsa": b"-----BEGIN OPENSSH PRIVATE KEY-----",
        "rsa-pem": b"-----BEGIN RSA PRIVATE KEY-----",
        "ecdsa256-pem": b"-----BEGIN EC PRIVATE KEY-----",
        "rsa-pkcs8": b"-----BEGIN PRIVATE KEY-----",
        "rsa-pkcs8-enc": b"-----BEGIN ENCRYPTED PRIVATE KEY-----",
    }
    for name, head in heads.items():
        assert client_keys[name].read_bytes().startswith(head), name
    assert b"Proc-Type: 4,ENCRYPTED" in client_keys["rsa-pem-enc"].read_bytes()
    assert client_keys["rsa"].bits == 3072
    assert client_keys["rsa-pem-enc"].passphrase == servers.KEY_PASSPHRASE
    assert client_keys["rsa-pem"].public_line == client_keys["rsa"].public_line
    assert all(k.passphrase is None for k in client_keys.select(encrypted=False))


def test_authorized_keys_holds_every_authorized_base_key(client_keys, test_user):
    text = open(test_user.authorized_keys_path).read()
    for key in client_keys.select(authorized=None):
        blob = key.public_line.split()[1]
        assert (blob in text) == key.authorized, key.name


@pytest.mark.parametrize("name", [
    "ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
    "ed25519-enc", "rsa-enc", "ecdsa256-enc", "rsa-pem", "rsa-pem-enc",
    "ecdsa256-pem", "ecdsa384-pem", "ecdsa521-pem", "ecdsa256-pem-enc",
    "rsa-pkcs8", "rsa-pkcs8-enc", "ecdsa256-pkcs8", "ecdsa384-pkcs8",
    "ecdsa521-pkcs8", "ecdsa256-pkcs8-enc",
])
def test_private_key_files_decrypt_to_their_public_key(client_keys, name):
    key = client_keys[name]
    r = subprocess.run(["ssh-keygen", "-y", "-P", key.passphrase or "", "-f", key.path],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == key.public_line.split()[:2]
    if key.encrypted:
        bad = subprocess.run(["ssh-keygen", "-y", "-P", "wrong", "-f", key.path],
                             capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert bad.returncode != 0


@pytest.mark.parametrize("name", ["ed25519-pkcs8", "ed25519-pkcs8-enc"])
def test_ed25519_pkcs8_files(client_keys, name):
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    if name not in client_keys:
        pytest.skip("cryptography not importable when keys were made")
    key = client_keys[name]
    data = key.read_bytes()
    assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----" if key.encrypted
                           else b"-----BEGIN PRIVATE KEY-----")
    priv = serialization.load_pem_private_key(
        data, password=key.passphrase.encode() if key.passphrase else None)
    pub = priv.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH)
    assert pub.decode().split()[:2] == key.public_line.split()[:2]


def test_ppk_files(client_keys, tmp_path):
    puttygen = shutil.which("puttygen")
    if puttygen is None:
        pytest.skip("puttygen (putty-tools) not installed")
    ppk = client_keys.select(format="ppk3") + client_keys.select(format="ppk2")
    assert {k.name for k in ppk} >= {"ed25519-ppk", "rsa-ppk", "rsa-ppk2", "ed25519-ppk-enc",
                                     "rsa-ppk2-enc", "ecdsa256-ppk"}
    pass_file = tmp_path / "pass"
    pass_file.write_text(servers.KEY_PASSPHRASE + "\n")
    for key in ppk:
        head = key.read_bytes().split(b"\n", 1)[0]
        assert head.startswith(b"PuTTY-User-Key-File-" + key.format[-1].encode() + b":"), key.name
        argv = [puttygen, key.path, "-L"]
        if key.encrypted:
            argv += ["--old-passphrase", str(pass_file)]
        r = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (key.name, r.stderr)
        assert r.stdout.split()[:2] == key.public_line.split()[:2], key.name


# ---------------------------------------------------------------------------
# sshd
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
                                  "rsa-pem", "ecdsa256-pem", "rsa-pkcs8", "ecdsa521-pkcs8"])
def test_sshd_exec_with_each_client_key(sshd, client_keys, name):
    out = ssh_ok(servers.ssh_command(sshd, "echo hi", key=client_keys[name]))
    assert out == b"hi\n"


def test_sshd_exec_output_is_clean(sshd, client_keys):
    r = run_ssh(servers.ssh_command(sshd, 'echo "$0 $(id -un) $HOME"', key=client_keys["ed25519"]))
    assert r.returncode == 0
    assert r.stdout == f"sh {servers.TEST_USER} {servers.TEST_HOME}\n".encode()
    assert r.stderr == b""  # no pyenv/bashrc noise


@pytest.mark.parametrize("name", ["ed25519-enc", "rsa-pem-enc", "ecdsa256-pkcs8-enc"])
def test_sshd_encrypted_key_via_askpass(sshd, client_keys, tmp_path, name):
    env = servers.askpass_env(servers.KEY_PASSPHRASE, str(tmp_path))
    argv = servers.ssh_command(sshd, "echo hi", key=client_keys[name],
                               options={"BatchMode": "no"})
    assert ssh_ok(argv, env=env) == b"hi\n"


def test_sshd_rejects_unauthorized_key(sshd, client_keys):
    r = run_ssh(servers.ssh_command(sshd, "echo hi", key=client_keys["ed25519-unauthorized"]))
    assert r.returncode == 255
    assert b"Permission denied" in r.stderr


def test_sshd_password_auth_via_pam(sshd, tmp_path):
    r, prompts = password_login(sshd, tmp_path, "password")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi\n"
    assert f"{servers.TEST_USER}@127.0.0.1's password:" in prompts  # the "password" method's prompt


def test_sshd_keyboard_interactive_via_pam(sshd, tmp_path):
    r, prompts = password_login(sshd, tmp_path, "keyboard-interactive")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi\n"
    assert "Password:" in prompts and "'s password" not in prompts  # a PAM prompt


@pytest.mark.parametrize("method", ["password", "keyboard-interactive"])
def test_sshd_rejects_wrong_password(sshd, tmp_path, method):
    r, _ = password_login(sshd, tmp_path, method, password="not-the-password")
    assert r.returncode == 255
    assert b"Permission denied" in r.stderr


@pytest.mark.parametrize("hostkey_alg", [
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa",
])
def test_sshd_host_keys_match_fixture(sshd, client_keys, tmp_path, hostkey_alg):
    known = sshd.write_known_hosts(str(tmp_path / "known_hosts"))
    argv = servers.ssh_command(sshd, "echo hi", key=client_keys["ed25519"], known_hosts=known,
                               options={"HostKeyAlgorithms": hostkey_alg})
    assert ssh_ok(argv) == b"hi\n"


def test_sshd_host_key_mismatch_is_detected(sshd, client_keys, tmp_path):
    other = servers.SshdServer(fresh_host_keys=True, host_key_types=("ed25519",))
    try:
        algo, b64 = other.host_keys["ed25519"].public_line.split()[:2]
    finally:
        other.stop()
    assert b64 != sshd.host_keys["ed25519"].public_line.split()[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{sshd.host}]:{sshd.port} {algo} {b64}\n")
    argv = servers.ssh_command(sshd, "echo hi", key=client_keys["ed25519"], known_hosts=str(known),
                               options={"HostKeyAlgorithms": "ssh-ed25519"})
    r = run_ssh(argv)
    assert r.returncode == 255
    assert b"HOST IDENTIFICATION HAS CHANGED" in r.stderr


def test_sshd_fingerprints(sshd):
    fps = sshd.host_key_fingerprints
    assert set(fps) == {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                        "ecdsa-sha2-nistp521", "ssh-rsa"}
    for algo, path in sshd.host_public_key_paths.items():
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", path],
                             capture_output=True, text=True, check=True).stdout
        assert out.split()[1] == fps[algo]


def test_sshd_advertises_full_algorithm_lists(sshd):
    k = servers.probe_kexinit(sshd.host, sshd.port)
    assert k.banner.startswith("SSH-2.0-OpenSSH_")
    assert set(k.encryption_client_to_server) >= {
        "aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"}
    assert set(k.mac_server_to_client) >= {
        "hmac-sha1", "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512",
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"}
    assert set(k.kex_algorithms) >= {
        "diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1",
        "diffie-hellman-group14-sha256", "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512", "diffie-hellman-group-exchange-sha1",
        "diffie-hellman-group-exchange-sha256", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521", "curve25519-sha256", "curve25519-sha256@libssh.org"}
    assert set(k.server_host_key_algorithms) == {
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"}
    assert "zlib@openssh.com" in k.compression_client_to_server


@pytest.mark.parametrize("cipher,mac,kex", [
    ("chacha20-poly1305@openssh.com", "hmac-sha2-256", "curve25519-sha256"),
    ("aes128-gcm@openssh.com", "hmac-sha2-256", "ecdh-sha2-nistp256"),
    ("aes256-gcm@openssh.com", "hmac-sha2-512", "ecdh-sha2-nistp521"),
    ("aes128-ctr", "hmac-sha1", "diffie-hellman-group14-sha1"),
    ("aes192-ctr", "hmac-sha1-etm@openssh.com", "diffie-hellman-group-exchange-sha256"),
    ("aes256-ctr", "hmac-sha2-256-etm@openssh.com", "diffie-hellman-group16-sha512"),
    ("aes256-ctr", "hmac-sha2-512-etm@openssh.com", "diffie-hellman-group1-sha1"),
])
def test_sshd_negotiates(sshd, client_keys, cipher, mac, kex):
    argv = servers.ssh_command(sshd, "echo hi", key=client_keys["ed25519"], options={
        "Ciphers": cipher, "MACs": mac, "KexAlgorithms": kex})
    assert ssh_ok(argv) == b"hi\n"


def test_sshd_ssh_rsa_sha1_user_key(sshd, client_keys):
    argv = servers.ssh_command(sshd, "echo hi", key=client_keys["rsa"], options={
        "PubkeyAcceptedAlgorithms": "ssh-rsa"})
    assert ssh_ok(argv) == b"hi\n"


def test_sshd_effective_config(sshd):
    cfg = sshd.effective_config()
    assert cfg["usepam"] == "yes"
    assert cfg["kbdinteractiveauthentication"] == "yes"
    assert cfg["passwordauthentication"] == "yes"
    assert cfg["maxsessions"] == "64"
    assert cfg["maxstartups"].startswith("256")
    assert cfg["usedns"] == "no"
    assert cfg["allowtcpforwarding"] == "yes"
    assert "sftp internal-sftp" in cfg["subsystem"]
    assert f"127.0.0.1:{sshd.port}" in cfg["listenaddress"]


def test_sshd_factory_extra_config(sshd_factory, client_keys, tmp_path):
    srv = sshd_factory({"Ciphers": "aes128-ctr", "RekeyLimit": "1M",
                        "AuthenticationMethods": "publickey,password"},
                       host_key_types=("ed25519",))
    k = servers.probe_kexinit(srv.host, srv.port)
    assert k.encryption_server_to_client == ["aes128-ctr"]
    assert k.server_host_key_algorithms == ["ssh-ed25519"]
    cfg = srv.effective_config()
    assert cfg["rekeylimit"].split()[0] == "1048576"
    # publickey alone is only a partial success now...
    r = run_ssh(servers.ssh_command(srv, "echo hi", key=client_keys["ed25519"]))
    assert r.returncode == 255
    # ...publickey then password gets in.
    env = servers.askpass_env(servers.TEST_PASSWORD, str(tmp_path))
    argv = servers.ssh_command(srv, "echo hi", key=client_keys["ed25519"], options={
        "BatchMode": "no", "PreferredAuthentications": "publickey,password"})
    assert ssh_ok(argv, env=env) == b"hi\n"
    assert "Partial publickey" in srv.log_text() or "partial" in srv.log_text().lower()


def test_sshd_factory_config_lines_and_rejects_bad_config(sshd_factory):
    srv = sshd_factory(["Ciphers aes256-gcm@openssh.com", "MACs hmac-sha2-256",
                        "Match User nobody", "  PasswordAuthentication no"])
    k = servers.probe_kexinit(srv.host, srv.port)
    assert k.encryption_client_to_server == ["aes256-gcm@openssh.com"]
    assert k.mac_client_to_server == ["hmac-sha2-256"]
    with pytest.raises(ValueError, match="sshd rejected the config"):
        sshd_factory({"Ciphers": "no-such-cipher"})


def test_sshd_rekey_limit_rekeys(sshd_factory, client_keys):
    srv = sshd_factory({"RekeyLimit": "1M"})
    out = ssh_ok(servers.ssh_command(srv, "head -c 4000000 /dev/zero", key=client_keys["ed25519"]))
    assert len(out) == 4000000
    srv.wait_for_log(r"(?i)rekey|SSH2_MSG_KEXINIT sent", timeout=5)


def test_sshd_twenty_concurrent_connections(sshd, client_keys):
    results = [None] * 20

    def one(i):
        results[i] = run_ssh(servers.ssh_command(sshd, f"sleep 0.5; echo {i}",
                                                 key=client_keys["ed25519"]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, r in enumerate(results):
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"{i}\n".encode()


def test_sshd_sftp_subsystem(sshd, client_keys):
    sftp = shutil.which("sftp")
    if sftp is None:
        pytest.skip("sftp client not installed")
    argv = [sftp, "-b", "-", "-P", str(sshd.port), "-F", "/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", f"IdentityFile={client_keys['ed25519'].path}",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "LogLevel=ERROR", f"{servers.TEST_USER}@{sshd.host}"]
    r = run_ssh(argv, input=b"pwd\n")
    assert r.returncode == 0, r.stderr
    assert servers.TEST_HOME.encode() in r.stdout


def test_sshd_direct_tcpip_to_source(sshd, client_keys, tcp_source_factory):
    src = tcp_source_factory(1_000_003)
    argv = servers.ssh_command(sshd, key=client_keys["ed25519"],
                               extra_args=["-W", f"{src.host}:{src.port}"])
    out = ssh_ok(argv)
    assert out == src.expected


def test_sshd_direct_tcpip_to_echo(sshd, client_keys, tcp_echo):
    data = servers.pattern_bytes(300_000, 7)
    argv = servers.ssh_command(sshd, key=client_keys["ed25519"],
                               extra_args=["-W", f"{tcp_echo.host}:{tcp_echo.port}"])
    assert ssh_ok(argv, input=data) == data


def test_sshd_stop_ends_sessions(sshd_factory, client_keys):
    srv = sshd_factory()
    proc = subprocess.Popen(servers.ssh_command(srv, "sleep 60", key=client_keys["ed25519"]),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        srv.wait_for_log(r"Starting session", timeout=10)
        srv.stop()
        assert proc.wait(10) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not srv.running
    assert "Starting session" in srv.log_text()  # log survives stop()
    with pytest.raises(OSError):
        socket.create_connection((srv.host, srv.port), timeout=1).close()


def _have_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _have_ipv6_loopback(), reason="no ::1 on this machine")
def test_sshd_on_ipv6_loopback(sshd_factory, client_keys):
    srv = sshd_factory(host="::1", host_key_types=("ed25519",))
    assert srv.known_hosts_lines()[0].startswith(f"[::1]:{srv.port} ssh-ed25519 ")
    assert ssh_ok(servers.ssh_command(srv, "echo v6", key=client_keys["ed25519"])) == b"v6\n"


def test_config_merge_semantics():
    defaults = [("Port", "22"), ("HostKey", "/a"), ("HostKey", "/b"), ("Ciphers", "x,y")]
    assert servers._config_lines(defaults, {"ciphers": "z", "HostKey": ["/c"]}) == [
        "Port 22", "ciphers z", "HostKey /c"]
    assert servers._config_lines(defaults, {"Ciphers": None}) == [
        "Port 22", "HostKey /a", "HostKey /b"]
    assert servers._config_lines(defaults, ["Ciphers aes128-ctr", "Match User x",
                                            "  Ciphers z"]) == [
        "Port 22", "HostKey /a", "HostKey /b", "Ciphers aes128-ctr", "Match User x", "Ciphers z"]


# ---------------------------------------------------------------------------
# dropbear
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa"])
def test_dropbear_exec_with_each_client_key(dropbear, client_keys, name):
    out = ssh_ok(servers.ssh_command(dropbear, "echo hi", key=client_keys[name]))
    assert out == b"hi\n"


def test_dropbear_password_auth(dropbear, tmp_path):
    r, prompts = password_login(dropbear, tmp_path, "password")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hi\n"
    r, _ = password_login(dropbear, tmp_path, "password", password="wrong")
    assert r.returncode == 255


def test_dropbear_algorithms(dropbear):
    k = servers.probe_kexinit(dropbear.host, dropbear.port)
    assert k.banner.startswith("SSH-2.0-dropbear")
    assert {"aes128-ctr", "aes256-ctr", "chacha20-poly1305@openssh.com"} <= set(
        k.encryption_client_to_server)
    assert {"hmac-sha1", "hmac-sha2-256"} <= set(k.mac_client_to_server)
    assert {"curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256",
            "diffie-hellman-group14-sha1"} <= set(k.kex_algorithms)
    assert {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp521", "rsa-sha2-256",
            "ssh-rsa"} <= set(k.server_host_key_algorithms)


@pytest.mark.parametrize("hostkey_alg", ["ssh-ed25519", "ecdsa-sha2-nistp256",
                                         "ecdsa-sha2-nistp521", "rsa-sha2-256", "ssh-rsa"])
def test_dropbear_host_keys_match_fixture(dropbear, client_keys, tmp_path, hostkey_alg):
    known = dropbear.write_known_hosts(str(tmp_path / "known_hosts"))
    argv = servers.ssh_command(dropbear, "echo hi", key=client_keys["ed25519"], known_hosts=known,
                               options={"HostKeyAlgorithms": hostkey_alg})
    assert ssh_ok(argv) == b"hi\n"


def test_dropbear_direct_tcpip(dropbear, client_keys, tcp_source_factory):
    src = tcp_source_factory(500_000)
    argv = servers.ssh_command(dropbear, key=client_keys["ed25519"],
                               extra_args=["-W", f"{src.host}:{src.port}"])
    assert ssh_ok(argv) == src.expected


def test_dropbear_rejects_too_many_host_keys(test_user):
    with pytest.raises(ValueError, match="at most"):
        servers.DropbearServer(("ed25519", "ecdsa", "rsa"))


# ---------------------------------------------------------------------------
# paramiko (optional independent client for password / keyboard-interactive)
# ---------------------------------------------------------------------------


def _paramiko_exec(server, **auth):
    paramiko = pytest.importorskip("paramiko")
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(server.host, server.port, username=servers.TEST_USER,
                       allow_agent=False, look_for_keys=False, timeout=10, **auth)
        _, stdout, _ = client.exec_command("echo hi")
        return stdout.read()
    finally:
        client.close()


def test_paramiko_password_sshd(sshd):
    assert _paramiko_exec(sshd, password=servers.TEST_PASSWORD) == b"hi\n"


def test_paramiko_keyboard_interactive_sshd(sshd):
    paramiko = pytest.importorskip("paramiko")
    sock = socket.create_connection((sshd.host, sshd.port), timeout=10)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=10)
        prompts_seen = []

        def handler(title, instructions, prompts):
            prompts_seen.extend(p for p, _ in prompts)
            return [servers.TEST_PASSWORD for _ in prompts]

        t.auth_interactive(servers.TEST_USER, handler)
        assert t.is_authenticated()
        assert prompts_seen and "Password" in prompts_seen[0]
        ch = t.open_session()
        ch.exec_command("echo hi")
        assert ch.makefile("rb").read() == b"hi\n"
    finally:
        t.close()


def test_paramiko_password_dropbear(dropbear):
    assert _paramiko_exec(dropbear, password=servers.TEST_PASSWORD) == b"hi\n"


# ---------------------------------------------------------------------------
# TCP helpers
# ---------------------------------------------------------------------------


def _read_all(sock):
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_pattern_bytes_is_deterministic_and_offsettable():
    a = servers.pattern_bytes(100_000)
    assert a[:3] == b"\x00\x01\x02" and a[251] == 0 and a[252] == 1
    assert servers.pattern_bytes(5000, 1234) == a[1234:6234]
    import hashlib
    assert servers.pattern_sha256(100_000) == hashlib.sha256(a).hexdigest()


def test_tcp_source_serves_each_connection(tcp_source_factory):
    src = tcp_source_factory(200_000)
    for _ in range(3):
        with socket.create_connection(src.address, timeout=10) as s:
            assert _read_all(s) == src.expected
    src.wait_finished(3)
    assert src.connections == 3 and src.bytes_sent == [200_000] * 3
    assert not src.errors


def test_tcp_echo_and_sink(tcp_echo, tcp_sink):
    data = servers.pattern_bytes(300_000)
    with socket.create_connection(tcp_echo.address, timeout=10) as s:
        t = threading.Thread(target=s.sendall, args=(data,))
        t.start()
        got = bytearray()
        while len(got) < len(data):
            got += s.recv(65536)
        t.join()
        s.shutdown(socket.SHUT_WR)
        assert _read_all(s) == b""
    assert bytes(got) == data
    with socket.create_connection(tcp_sink.address, timeout=10) as s:
        s.sendall(data)
    tcp_sink.wait_finished(1)
    import hashlib
    assert tcp_sink.results[0].nbytes == len(data)
    assert tcp_sink.results[0].sha256 == hashlib.sha256(data).hexdigest()


def test_free_port_is_bindable():
    port = servers.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))

"""What callers hand in, against real peers on loopback (issue 11, defects 3-5):
secrets never shown (repr, str, vars(), logs at LogLevel 3, exception text),
host names and argument types refused before any connection, and host key
errors that name the API in use and show the fingerprint as ssh does."""
from __future__ import annotations

import base64
import contextlib
import logging
import select
import socket
import subprocess

import pytest

import sshclient
from sshclient import (
    ConnectionError_,
    HostKeyError,
    ProxySettings,
    SSHClient,
    SSHClientError,
    UsageError,
)
from sshclient.hostkeys import fingerprint, parse_public_key
from sshclient.options import HostKeyInfo

# ---------------------------------------------------------------- defect 4

@contextlib.contextmanager
def listener():
    """A loopback TCP port that only records whether anybody connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock
    finally:
        sock.close()


def nobody_connected(sock: socket.socket) -> bool:
    return not select.select([sock], [], [], 0)[0]


BAD_HOSTS = ["127.0.0.1\0evil.example", "a" * 300 + ".example", "127.0.0.1\nx", "a..b", ""]


@pytest.mark.parametrize("host", BAD_HOSTS, ids=["nul", "long-label", "newline",
                                                  "empty-label", "empty"])
def test_a_bad_host_name_fails_before_connecting(host):
    with listener() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(ConnectionError_) as info:
            sshclient.connect(host, port, username="u", password="p", accept_any_host_key=True,
                              timeout=2)
        assert info.value.code == 11001
        assert "host" in info.value.message
        if host:  # the spec API keeps "" as "no host" (its error 102)
            client = SSHClient()
            client.timeout = 2
            with pytest.raises(ConnectionError_) as info:
                client.ssh_host = host
            assert info.value.code == 11001
            assert client.ssh_host == ""  # the bad name was not kept
            with pytest.raises(ConnectionError_) as info:
                client.ssh_logon(host, port)
            assert info.value.code == 11001
        assert nobody_connected(sock)


def test_a_nul_in_the_host_name_does_not_reach_the_server(sshd, test_user):
    # "127.0.0.1\0evil.example" used to log in to 127.0.0.1.
    with pytest.raises(SSHClientError) as info:
        sshclient.connect(f"{sshd.host}\0evil.example", sshd.port, username=test_user.name,
                          password=test_user.password, accept_any_host_key=True, timeout=30)
    assert info.value.code == 11001
    assert "\\x00" in info.value.message  # shown escaped


@pytest.mark.parametrize("kwargs,argument", [
    ({"host": None}, "host"),
    ({"host": b"127.0.0.1"}, "host"),
    ({"port": "abc"}, "port"),
    ({"port": 22.0}, "port"),
    ({"username": None}, "username"),
    ({"password": b"pw"}, "password"),
    ({"timeout": "abc"}, "timeout"),
    ({"host_key_verifier": "yes"}, "host_key_verifier"),
])
def test_a_wrong_argument_type_is_named(kwargs, argument):
    with listener() as sock:
        args = {"host": "127.0.0.1", "port": sock.getsockname()[1], "username": "u",
                "password": "p", "accept_any_host_key": True, "timeout": 2, **kwargs}
        with pytest.raises(TypeError) as info:
            sshclient.connect(**args)
        assert isinstance(info.value, UsageError) and info.value.code == 211
        assert f"{argument} must be" in info.value.message
        assert nobody_connected(sock)  # host=None used to mean localhost


@pytest.mark.parametrize("name,value", [("ssh_host", 127001), ("ssh_port", "abc"),
                                        ("local_host", "127.0.0.1\0x")])
def test_spec_properties_refuse_bad_values(name, value):
    client = SSHClient()
    with pytest.raises(SSHClientError) as info:
        setattr(client, name, value)
    assert name in str(info.value)


# ---------------------------------------------------------------- defect 3

def no_secret_in(texts: list[str], secret: str) -> None:
    forms = (secret, secret.encode().hex(), repr(secret.encode()))
    for text in texts:
        for form in forms:
            assert form not in text, text


def test_connect_shows_no_password(sshd, test_user):
    with sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                           password=test_user.password, accept_any_host_key=True,
                           timeout=30) as conn:
        with conn.open_session() as ch:
            ch.exec("true")
            ch.wait_closed()
            texts = [repr(conn), repr(vars(conn)), repr(conn.options), str(conn.options),
                     repr(vars(conn.options)), repr(ch), repr(vars(ch))]
        assert "password=<hidden>" in repr(conn.options)
        assert conn.exec("echo ok").stdout == b"ok\n"  # the password still logged us in
    no_secret_in(texts, test_user.password)


def test_spec_client_shows_no_password_even_at_log_level_3(sshd, test_user, caplog):
    client = SSHClient()
    client.ssh_user = test_user.name
    client.ssh_password = test_user.password
    client.ssh_auth_mode = 4  # keyboard-interactive: the password goes in an INFO_RESPONSE
    client.timeout = 30
    client.config("LogLevel=3")
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    logs: list[str] = []
    client.on_log = lambda e: logs.append(e.message)
    prompts: list[str] = []
    client.on_ssh_keyboard_interactive = lambda e: prompts.append(repr(e))
    with caplog.at_level(logging.DEBUG, logger="sshclient"):
        client.ssh_logon(sshd.host, sshd.port)
    try:
        assert client.connected
        assert any("USERAUTH_INFO_RESPONSE" in line for line in logs)  # level 3 logs packets
        assert prompts and "response=<hidden>" in prompts[0]
        assert client.ssh_password == test_user.password  # the spec API still reads it back
        texts = [repr(client), repr(vars(client)), *logs, caplog.text, *prompts]
    finally:
        client.ssh_logoff()
    no_secret_in(texts, test_user.password)


def test_a_secret_of_the_wrong_type_is_refused_without_showing_it():
    client = SSHClient()
    for name in ("ssh_password", "firewall_password", "ssh_cert_store_password"):
        with pytest.raises(TypeError) as info:
            setattr(client, name, b"s3cret-bytes")  # str() of it was sent as the password
        assert isinstance(info.value, UsageError) and info.value.code == 211
        assert name in str(info.value) and "s3cret" not in str(info.value)
    with pytest.raises(TypeError) as info:
        sshclient.connect("127.0.0.1", 22, username="u", password=b"s3cret-bytes",
                          accept_any_host_key=True)
    assert "password" in str(info.value) and "s3cret" not in str(info.value)


def test_proxy_settings_show_no_password():
    proxy = ProxySettings.from_url("socks5://user:s3cret-proxy@127.0.0.1:1080")
    assert "s3cret-proxy" not in repr(proxy)
    assert proxy.password == "s3cret-proxy"


# ---------------------------------------------------------------- defect 5

def ed25519_fingerprint(server) -> str:
    """The server's ed25519 host key fingerprint as `ssh-keygen -lf` prints it."""
    key = next(k for k in server.host_keys.values() if k.algorithm == "ssh-ed25519")
    return subprocess.run(["ssh-keygen", "-lf", key.path + ".pub"], capture_output=True,
                          text=True, check=True).stdout.split()[1]


def test_connect_host_key_error_names_connect_and_shows_ssh_fingerprint(sshd, test_user):
    with pytest.raises(HostKeyError) as info:
        sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                          password=test_user.password, host_key_verifier=lambda key: False,
                          host_key_algorithms=["ssh-ed25519"], timeout=30)
    text = str(info.value)
    assert info.value.code == 1030
    assert "host_key_verifier" in text and "HostKeyInfo.fingerprint" in text
    for spec_only in ("on_ssh_server_authentication", "ssh_accept_server_host_key"):
        assert spec_only not in text
    assert ed25519_fingerprint(sshd) in text


def test_spec_host_key_error_names_spec_members_and_shows_ssh_fingerprint(sshd, test_user):
    client = SSHClient()
    client.ssh_user = test_user.name
    client.ssh_password = test_user.password
    client.ssh_public_key_algorithms = "ssh-ed25519"
    client.timeout = 30
    with pytest.raises(HostKeyError) as info:
        client.ssh_logon(sshd.host, sshd.port)
    text = str(info.value)
    assert info.value.code == 1030
    assert "on_ssh_server_authentication" in text
    assert ed25519_fingerprint(sshd) in text


def test_a_host_certificate_shows_the_fingerprint_ssh_keygen_prints(tmp_path):
    # ssh-keygen -lf (and ssh) fingerprint a certificate by the key it certifies.
    for name in ("host", "ca"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(tmp_path / name)], check=True)
    subprocess.run(["ssh-keygen", "-q", "-s", str(tmp_path / "ca"), "-I", "host", "-h",
                    "-n", "localhost", str(tmp_path / "host.pub")], check=True)
    cert_file = tmp_path / "host-cert.pub"
    blob = base64.b64decode(cert_file.read_text().split()[1])
    cert = parse_public_key(blob)
    info = HostKeyInfo(blob=blob, key_type=cert.key_type, algorithm=cert.key_type,
                       public_key=cert)
    assert info.fingerprint_sha256 == fingerprint(blob)
    printed = subprocess.run(["ssh-keygen", "-lf", str(cert_file)], capture_output=True,
                             text=True, check=True).stdout.split()[1]
    assert info.fingerprint == printed


def test_an_async_verifier_is_never_taken_for_a_yes(sshd, test_user):
    """An `async def` host_key_verifier returns a coroutine, which is true:
    the blocking API, which cannot await it, must not accept the key. The
    key is refused with a message saying why, and no 'coroutine was never
    awaited' warning is left behind. (The asyncio API awaits it: test_aio.)"""
    import gc
    import warnings

    async def verifier(info):
        return True                                  # would accept, if it were awaited

    kw = dict(username=test_user.name, password=test_user.password,
              host_key_verifier=verifier, timeout=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(sshclient.HostKeyError) as excinfo:
            sshclient.connect(sshd.host, sshd.port, **kw)
        gc.collect()
    assert excinfo.value.code == 1030 and "awaitable" in excinfo.value.message
    assert "sshclient.aio" in excinfo.value.message


def test_an_async_prompt_handler_is_refused_by_the_blocking_api(sshd, test_user):
    from sshclient.options import AUTH_KEYBOARD_INTERACTIVE

    async def answer(name, instructions, prompts):
        return [test_user.password for _ in prompts]

    with pytest.raises(sshclient.SSHClientError) as excinfo:
        sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                          accept_any_host_key=True, timeout=20,
                          auth_mode=AUTH_KEYBOARD_INTERACTIVE, try_all_auth_methods=False,
                          kbd_interactive_handler=answer)
    assert "kbd_interactive_handler returned an awaitable" in str(excinfo.value)

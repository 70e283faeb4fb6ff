"""Authentication against real servers: publickey (every key type and file
format, encrypted too), keyboard-interactive, and dropbear."""
from __future__ import annotations

import pytest

from sshclient import SSHClient, SSHClientError

PUBLICKEY_CASES = [
    "ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
    "ed25519-enc", "ecdsa256-enc", "rsa-enc",
    "rsa-pem", "rsa-pem-enc", "ecdsa256-pem", "ecdsa256-pem-enc",
    "rsa-pkcs8", "rsa-pkcs8-enc", "ecdsa256-pkcs8", "ecdsa256-pkcs8-enc",
]


def base_client(user) -> SSHClient:
    client = SSHClient()
    client.ssh_user = user.name
    client.timeout = 30
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    return client


def exec_output(client: SSHClient, command: str) -> bytes:
    out: list[bytes] = []
    closed: list[str] = []
    client.on_ssh_channel_data = lambda e: out.append(e.channel_data)
    client.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    ch = client.open_channel("session")
    client.start_service(ch, "exec", command)
    for _ in range(2000):
        if ch in closed:
            break
        client.do_events()
    return b"".join(out)


@pytest.mark.parametrize("name", PUBLICKEY_CASES)
def test_publickey_each_key(sshd, test_user, client_keys, name):
    key = client_keys[name]
    client = base_client(test_user)
    client.ssh_auth_mode = 3
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = key.path
    client.ssh_cert_store_password = key.passphrase or ""
    client.ssh_cert_subject = "*"
    assert client.ssh_cert_private_key_available
    assert client.ssh_cert_fingerprint_sha256
    client.ssh_logon(sshd.host, sshd.port)
    assert exec_output(client, "whoami") == f"{test_user.name}\n".encode()
    client.ssh_logoff()


@pytest.mark.parametrize("name,store_type", [("ed25519", 99), ("rsa-pem", 7)])
def test_publickey_key_blob(sshd, test_user, client_keys, name, store_type):
    """The key itself in ssh_cert_store: auto-detected (99) or PEM key blob (7)."""
    client = base_client(test_user)
    client.ssh_auth_mode = 3
    client.ssh_cert_store_type = store_type
    client.ssh_cert_store = client_keys[name].read_bytes()
    client.ssh_cert_subject = "*"
    client.ssh_logon(sshd.host, sshd.port)
    assert client.connected
    client.ssh_logoff()


def test_unauthorized_key_fails_1032(sshd, test_user, client_keys):
    client = base_client(test_user)
    client.ssh_auth_mode = 3
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = client_keys["ed25519-unauthorized"].path
    client.ssh_cert_subject = "*"
    with pytest.raises(SSHClientError) as info:
        client.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 1032


def test_wrong_key_passphrase_is_clear(test_user, client_keys):
    client = base_client(test_user)
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = client_keys["ed25519-enc"].path
    client.ssh_cert_store_password = "wrong"
    with pytest.raises(SSHClientError) as info:
        client.ssh_cert_subject = "*"
    assert "passphrase" in str(info.value).lower() or "password" in str(info.value).lower()


def test_keyboard_interactive_event_per_prompt(sshd, test_user):
    client = base_client(test_user)
    client.ssh_auth_mode = 4
    prompts = []

    def answer(e):
        prompts.append((e.prompt, e.echo_response))
        e.response = test_user.password

    client.on_ssh_keyboard_interactive = answer
    client.ssh_logon(sshd.host, sshd.port)
    assert prompts and "assword" in prompts[0][0]
    assert prompts[0][1] is False
    assert exec_output(client, "echo kbd") == b"kbd\n"
    client.ssh_logoff()


def test_keyboard_interactive_password_prompt_setting(sshd, test_user):
    client = base_client(test_user)
    client.ssh_auth_mode = 4
    client.ssh_password = test_user.password
    client.config("PasswordPrompt=*assword*")
    seen = []
    client.on_ssh_keyboard_interactive = lambda e: seen.append(e.response)
    client.ssh_logon(sshd.host, sshd.port)
    assert seen == [test_user.password]
    client.ssh_logoff()


def test_dropbear_password_and_exec(dropbear, test_user):
    client = base_client(test_user)
    client.ssh_password = test_user.password
    client.ssh_logon(dropbear.host, dropbear.port)
    assert client.config("ServerSSHVersionString").startswith("SSH-2.0-dropbear")
    assert exec_output(client, "echo dropbear") == b"dropbear\n"
    client.ssh_logoff()


@pytest.mark.parametrize("name", ["ed25519", "ecdsa256", "rsa"])
def test_dropbear_publickey(dropbear, test_user, client_keys, name):
    client = base_client(test_user)
    client.ssh_auth_mode = 3
    client.ssh_cert_store_type = 6
    client.ssh_cert_store = client_keys[name].path
    client.ssh_cert_subject = "*"
    client.ssh_logon(dropbear.host, dropbear.port)
    assert exec_output(client, "echo ok") == b"ok\n"
    client.ssh_logoff()


@pytest.mark.parametrize("cipher", ["aes128-ctr", "aes256-ctr", "chacha20-poly1305@openssh.com",
                                    "aes256-gcm@openssh.com"])
def test_dropbear_ciphers(dropbear, test_user, cipher):
    client = base_client(test_user)
    client.ssh_password = test_user.password
    client.ssh_encryption_algorithms = cipher
    try:
        client.ssh_logon(dropbear.host, dropbear.port)
    except SSHClientError as exc:
        if exc.code == 1003:
            pytest.skip(f"this dropbear build does not offer {cipher}")
        raise
    assert exec_output(client, "echo c") == b"c\n"
    client.ssh_logoff()

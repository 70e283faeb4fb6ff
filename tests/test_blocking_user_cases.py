"""sshclient.connect() cases a new user ran into, against a real sshd:
keepalives on a healthy link, write timeouts, exec() with more stdin than
the command reads, non-blocking close, argument checks, drain() into
BytesIO, the OpenSSH form of the host key fingerprint."""
from __future__ import annotations

import hashlib
import io
import os
import pathlib
import subprocess
import sys

import pytest

import sshclient
from sshclient import SSHClientError

MiB = 1024 * 1024


def connect(server, user, **kwargs):
    kwargs.setdefault("accept_any_host_key", True)
    kwargs.setdefault("timeout", 30)
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, **kwargs)


def test_answered_keepalives_never_end_the_connection(sshd, test_user):
    # About seven probes, each answered: only probes in a row without an
    # answer count toward keepalive_count_max (the fourth ended it before).
    with connect(sshd, test_user, keepalive_interval=0.5, keepalive_count_max=3) as conn:
        result = conn.exec("sleep 3.5; echo alive")
        assert result.stdout == b"alive\n"


def test_write_to_a_command_that_does_not_read_times_out(sshd, test_user):
    with connect(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("sleep 60")
            conn.timeout = 2  # after the login, which a busy host may make slow
            with pytest.raises(SSHClientError) as info:
                ch.write(bytes(16 * MiB))  # more than sshd's window and buffers
            assert info.value.code == 301


def test_exec_feeds_stdin_while_collecting_output(sshd, test_user):
    data = bytes(range(256)) * (32 * 1024)  # 8 MiB: far more than one window
    with connect(sshd, test_user) as conn:
        result = conn.exec("cat", stdin=data)
    assert result.exit_status == 0
    assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("command,stdout,status", [
    ("head -c 5", b"\0" * 5, 0),
    ("echo started; exit 3", b"started\n", 3),
    ("true", b"", 0),
])
def test_exec_result_when_the_command_leaves_stdin_unread(sshd, test_user, command, stdout,
                                                           status):
    with connect(sshd, test_user) as conn:
        result = conn.exec(command, stdin=bytes(10 * MiB))
        assert (result.stdout, result.exit_status) == (stdout, status)
        assert conn.exec("echo still-usable").stdout == b"still-usable\n"


def test_close_does_not_wait_for_the_command_to_end(sshd, test_user):
    with connect(sshd, test_user, timeout=60) as conn:
        ch = conn.open_session()
        ch.exec("sleep 30")
        ch.close()
        # sshd answers CLOSE only when sleep exits: the channel is still
        # known, waiting for that answer, and close() has returned.
        assert ch.id in conn._proto.connection.channels
        assert conn._proto.connection.channels[ch.id].close_sent
        assert conn.exec("echo next").stdout == b"next\n"


def test_an_abandoned_channel_is_forgotten_when_the_server_closes_it(sshd, test_user):
    with connect(sshd, test_user) as conn:
        ch = conn.open_session()
        ch.exec("sleep 0.2")
        ch.close()
        conn._wait(lambda: ch.id not in conn._proto.connection.channels, "forget")
        assert ch.id not in conn._proto.engine.channels


@pytest.mark.parametrize("overrides,code", [
    ({"ciphers": ["aes128-nonesuch", "aes128-ctr"]}, 1005),
    ({"macs": ["hmac-nonesuch"]}, 1005),
    ({"kex_algorithms": ["pq-nonesuch", "curve25519-sha256"]}, 1005),
    ({"host_key_algorithms": ["ssh-nonesuch"]}, 1005),
    ({"compression": ["lz4-nonesuch"]}, 1005),
    ({"ciphers": "aes128-ctr"}, 211),
])
def test_unimplemented_or_malformed_algorithm_choices(sshd, test_user, overrides, code):
    with pytest.raises(SSHClientError) as info:
        connect(sshd, test_user, **overrides)
    assert info.value.code == code


def test_key_as_a_path_object(sshd, test_user, client_keys):
    with sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                           key=pathlib.Path(client_keys["ed25519"].path),
                           accept_any_host_key=True, timeout=30) as conn:
        assert conn.exec("whoami").stdout == f"{test_user.name}\n".encode()


@pytest.mark.parametrize("port", [0, 70000])
def test_port_out_of_range(port, test_user):
    with pytest.raises(SSHClientError) as info:
        sshclient.connect("127.0.0.1", port, username=test_user.name, accept_any_host_key=True)
    assert info.value.code == 211


def test_drain_into_bytesio(sshd, test_user):
    sink = io.BytesIO()
    with connect(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("head -c 3000000 /dev/zero")
            assert ch.drain(sink) == 3000000
    assert sink.getvalue() == bytes(3000000)


def test_fingerprint_is_what_ssh_keygen_prints(sshd, test_user):
    seen = []

    def verify(info):
        seen.append(info)
        return True

    with connect(sshd, test_user, accept_any_host_key=False, host_key_verifier=verify,
                 host_key_algorithms=["ssh-ed25519"]):
        pass
    key = next(k for k in sshd.host_keys.values() if k.algorithm == "ssh-ed25519")
    printed = subprocess.run(["ssh-keygen", "-lf", key.path + ".pub"], capture_output=True,
                             text=True, check=True).stdout.split()[1]
    assert seen[0].fingerprint == printed


def test_wrong_password_names_every_refused_method(sshd, test_user):
    with pytest.raises(SSHClientError) as info:
        sshclient.connect(sshd.host, sshd.port, username=test_user.name, password="wrong",
                          accept_any_host_key=True, timeout=30)
    assert info.value.code == 1032
    assert "password" in info.value.message


def test_public_names_are_exported():
    for name in sshclient.__all__:
        assert getattr(sshclient, name) is not None, name
    assert issubclass(sshclient.TimeoutError_, sshclient.SSHClientError)
    assert sshclient.HostKeyInfo.fingerprint.__doc__


LAZY_IMPORT_CHECK = """
import sys
import sshclient
HEAVY = ["sshclient.eventclient.client", "sshclient.eventclient.certstore", "cryptography.x509",
         "cryptography.hazmat.primitives.serialization.pkcs12"]
early = [name for name in HEAVY if name in sys.modules]
assert not early, f"import sshclient loaded {early}"
from sshclient import SSHClient
assert SSHClient.__module__ == "sshclient.eventclient.client" and sshclient.SSHClient is SSHClient
late = [name for name in HEAVY if name not in sys.modules]
assert not late, f"SSHClient came without {late}"
"""


def test_import_loads_the_spec_adapter_only_when_used():
    """`import sshclient` for connect() does not pay for the spec class's
    X.509 / PKCS#12 certificate store; `from sshclient import SSHClient` still works."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    run = subprocess.run([sys.executable, "-c", LAZY_IMPORT_CHECK], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr

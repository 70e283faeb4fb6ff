"""The `sshclient` command line against real sshd and dropbear, with
OpenSSH's own tools (ssh, ssh-keygen, curl, script) as the oracles.

Each run gets a HOME of its own (no ~/.ssh of the machine's user is read)
and an explicit identity file and known_hosts file."""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

import servers
import sshclient

GiB = 1 << 30


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    (path / ".ssh").mkdir(parents=True)
    return path


def cli_argv(server, key, known_hosts, *args, strict="accept-new"):
    return [sys.executable, "-m", "sshclient", "-p", str(server.port), "-i", key.path,
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", f"StrictHostKeyChecking={strict}", "-o", "BatchMode=yes", *args]


def env_for(home):
    env = dict(os.environ, HOME=str(home))
    env.pop("SSH_AUTH_SOCK", None)
    return env


def run(argv, home, **kw):
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, capture_output=True, env=env_for(home), **kw)


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def key(client_keys):
    return client_keys["ed25519"]


def dest(server, user):
    return f"{user.name}@{server.host}"


# ---------------------------------------------------------------- commands
def test_exit_status_streams_and_stdin(server, test_user, key, home):
    kh = home / "kh"
    done = run(cli_argv(server, key, kh, dest(server, test_user),
                        "echo out; echo err >&2; exit 7"), home)
    assert done.returncode == 7, done.stderr
    assert done.stdout == b"out\n"
    assert b"err\n" in done.stderr
    assert b"Permanently added" in done.stderr         # accept-new wrote it
    again = run(cli_argv(server, key, kh, dest(server, test_user), "cat"), home,
                input=b"piped\n")
    assert again.returncode == 0 and again.stdout == b"piped\n"
    assert b"Permanently added" not in again.stderr     # known now


def test_a_gigabyte_of_stdin(sshd, test_user, key, home):
    """`head -c 1G /dev/zero | sshclient host sha256sum` at full speed."""
    argv = cli_argv(sshd, key, home / "kh", dest(sshd, test_user), "sha256sum")
    pipeline = f"head -c {GiB} /dev/zero | {shlex.join(argv)}"
    done = subprocess.run(["/bin/sh", "-c", pipeline], capture_output=True,
                          env=env_for(home), timeout=300)
    assert done.returncode == 0, done.stderr
    expected = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(GiB >> 20):
        expected.update(block)
    assert done.stdout.split()[0].decode() == expected.hexdigest()


def test_options_we_do_not_support_are_refused_by_name(sshd, test_user, key, home):
    for args, words in ((["-X"], "-X (X11)"), (["-F", "/dev/null"], "-F"),
                        (["-o", "ForwardX11=yes"], "'forwardx11' is not supported"),
                        (["-L", "8080"], "bad -L forwarding specification"),
                        (["-R", "8080"], "dynamic remote forward")):
        done = run(cli_argv(sshd, key, home / "kh", *args, dest(sshd, test_user), "true"), home)
        assert done.returncode == 255
        assert words in done.stderr.decode()
        assert done.stderr.decode().count("\n") <= 1 or b"usage" in done.stderr
    assert run([sys.executable, "-m", "sshclient"], home).returncode == 255
    helped = run([sys.executable, "-m", "sshclient", "--help"], home)
    assert helped.returncode == 0 and b"-L address" in helped.stdout


def test_connection_errors_exit_255_with_one_line(test_user, key, home):
    port = servers.free_port()
    done = run([sys.executable, "-m", "sshclient", "-p", str(port), "-i", key.path,
                "-o", "BatchMode=yes", f"{test_user.name}@127.0.0.1", "true"], home)
    assert done.returncode == 255
    assert done.stderr.decode().strip().count("\n") == 0
    assert "refused" in done.stderr.decode().lower()


def test_the_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "sshclient")
    assert os.access(script, os.X_OK), "pip install should have made the sshclient command"
    done = subprocess.run([script, "-V"], capture_output=True, timeout=30)
    assert done.returncode == 0 and b"sshclient" in done.stderr


# --------------------------------------------------------------- host keys
def test_known_hosts_policies_with_ssh_keygen_as_the_oracle(sshd, test_user, key, home):
    kh = home / "known_hosts"
    kh.write_text("")
    strict = run(cli_argv(sshd, key, kh, dest(sshd, test_user), "true", strict="yes"), home)
    assert strict.returncode == 255 and b"Host key verification failed" in strict.stderr
    assert run(cli_argv(sshd, key, kh, dest(sshd, test_user), "true"), home).returncode == 0
    found = subprocess.run(["ssh-keygen", "-F", f"[127.0.0.1]:{sshd.port}", "-f", str(kh)],
                           capture_output=True, text=True)
    assert found.returncode == 0 and f"[127.0.0.1]:{sshd.port}" in found.stdout
    assert run(cli_argv(sshd, key, kh, dest(sshd, test_user), "true", strict="yes"),
               home).returncode == 0
    # hashed by ssh-keygen -H: still found
    subprocess.run(["ssh-keygen", "-H", "-f", str(kh)], capture_output=True, check=True)
    assert "|1|" in kh.read_text()
    assert run(cli_argv(sshd, key, kh, dest(sshd, test_user), "true", strict="yes"),
               home).returncode == 0
    # another key of the same type for the host: refused, loudly, even with accept-new
    hosts, key_type, _blob = kh.read_text().split()[:3]
    options = {"ssh-ed25519": ["-t", "ed25519"], "ssh-rsa": ["-t", "rsa", "-b", "2048"]}.get(
        key_type, ["-t", "ecdsa", "-b", key_type[-3:]])
    subprocess.run(["ssh-keygen", "-q", *options, "-N", "", "-f", str(home / "other")],
                   capture_output=True, check=True)
    other = (home / "other.pub").read_text().split()[1]
    kh.write_text(f"{hosts} {key_type} {other}\n")
    changed = run(cli_argv(sshd, key, kh, dest(sshd, test_user), "true"), home)
    assert changed.returncode == 255 and b"CHANGED" in changed.stderr


# -------------------------------------------------------------- forwarding
def _wait_listening(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def _echo_through(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    return got


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_local_and_dynamic_forwarding(server, test_user, key, home, tcp_echo):
    local, socks_port = servers.free_port(), servers.free_port()
    argv = cli_argv(server, key, home / "kh", "-N", "-L",
                    f"127.0.0.1:{local}:127.0.0.1:{tcp_echo.port}", "-D", f"127.0.0.1:{socks_port}",
                    dest(server, test_user))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(home))
    try:
        _wait_listening(local, proc)
        data = os.urandom(1 << 20)
        assert _echo_through(local, data) == data
        _wait_listening(socks_port, proc)
        proxy = sshclient.ProxySettings.from_url(f"socks5h://127.0.0.1:{socks_port}")
        with sshclient.connect(server.host, server.port, username=test_user.name,
                               password=test_user.password, accept_any_host_key=True,
                               proxy=proxy, timeout=30) as inner:
            assert inner.exec("echo socks").stdout == b"socks\n"
    finally:
        assert _stop(proc) == 0


def test_remote_forward_port_zero_is_announced_as_ssh_does(server, test_user, key, home,
                                                          tcp_echo):
    argv = cli_argv(server, key, home / "kh", "-N", "-R", f"0:127.0.0.1:{tcp_echo.port}",
                    dest(server, test_user))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env_for(home))
    try:
        assert proc.stderr is not None
        line = b""
        while b"Allocated port" not in line:
            line = proc.stderr.readline()
            assert line, "sshclient ended without announcing the port"
        match = re.match(rb"Allocated port (\d+) for remote forward to 127\.0\.0\.1:(\d+)", line)
        assert match and int(match.group(2)) == tcp_echo.port
        assert _echo_through(int(match.group(1)), b"remote") == b"remote"
    finally:
        _stop(proc)


def test_stdio_forward_as_openssh_proxycommand(sshd, dropbear, test_user, key, home):
    """ssh -o ProxyCommand='sshclient -W %h:%p sshd' reaches dropbear."""
    ours = cli_argv(sshd, key, home / "kh", "-W", "%h:%p", dest(sshd, test_user))
    argv = servers.ssh_command(dropbear, "echo", "through-W", key=key,
                               options={"ProxyCommand": shlex.join(ours)})
    done = subprocess.run(argv, capture_output=True, env=env_for(home), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"through-W\n"


def test_jump_host(server, test_user, key, home):
    hop = f"{test_user.name}@{server.host}:{server.port}"
    done = run(cli_argv(server, key, home / "kh", "-J", hop, dest(server, test_user),
                        "echo jumped"), home)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"jumped\n"


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux script is not installed")
def test_interactive_shell_with_a_pty(sshd, test_user, key, home):
    """A shell on a pty, driven through script(1) as a terminal would."""
    argv = shlex.join(cli_argv(sshd, key, home / "kh", dest(sshd, test_user)))
    done = subprocess.run(["script", "-qefc", argv, "/dev/null"],
                          input=b"tty; stty size; exit 3\n", capture_output=True,
                          env=dict(env_for(home), TERM="xterm"), timeout=60)
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert b"/dev/pts/" in done.stdout

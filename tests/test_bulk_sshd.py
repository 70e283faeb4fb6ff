"""Bulk data, tunnels and re-keying against a real sshd, verified end to end."""
from __future__ import annotations

import hashlib

import pytest

import sshclient
from sshclient import SSHClient

MiB = 1024 * 1024
BULK = 64 * MiB
CIPHERS = ["aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-gcm@openssh.com",
           "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]


def connect(server, user, **overrides):
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, accept_any_host_key=True, timeout=60,
                             **overrides)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_download_64mib_verified(sshd, test_user, cipher):
    with connect(sshd, test_user, ciphers=[cipher], macs=["hmac-sha2-256-etm@openssh.com"]) \
            as conn:
        with conn.open_session() as ch:
            ch.exec(f"f=$(mktemp); head -c {BULK} /dev/urandom >$f; sha256sum <$f >&2; "
                    f"cat $f; rm -f $f")
            digest = hashlib.sha256()
            total = ch.drain(lambda view: digest.update(view))
            remote = b""
            while True:
                chunk = ch.read_stderr()
                if not chunk:
                    break
                remote += chunk
            ch.wait_closed()
        assert total == BULK
        assert remote.split()[0].decode() == digest.hexdigest()


def test_drain_discards_or_writes_to_a_file(sshd, test_user, tmp_path):
    """drain(): no sink discards (only counts); a file is written straight
    from the channel buffer, after what the file object had buffered."""
    n = 8 * MiB + 5
    with connect(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec(f"head -c {n} /dev/zero")
            assert ch.drain() == n
            assert ch.wait_closed() == 0
        with conn.open_session() as ch, open(tmp_path / "out", "wb") as f:
            f.write(b"header:")                    # still in the file object's buffer
            ch.exec(f"f=$(mktemp); head -c {n} /dev/urandom >$f; sha256sum <$f >&2; "
                    f"cat $f; rm -f $f")
            assert ch.drain(f) == n
            remote = ch.read_all(1)
            assert ch.wait_closed() == 0
        data = (tmp_path / "out").read_bytes()
        assert data[:7] == b"header:" and len(data) == n + 7
        assert remote.split()[0].decode() == hashlib.sha256(data[7:]).hexdigest()
        with conn.open_session() as ch:
            ch.exec("true")
            with pytest.raises(sshclient.SSHClientError, match="sink"):
                ch.drain(b"not a sink")            # type: ignore[arg-type]


def test_a_fixed_window_stays_fixed(sshd, test_user):
    """window_limit=0: the window stays what it was given (growth itself:
    test_window_growth.py, on a long link)."""
    n = 16 * MiB
    with connect(sshd, test_user, window_size=64 * 1024, window_limit=0) as conn:
        with conn.open_session() as ch:
            ch.exec(f"head -c {n} /dev/zero")
            assert ch.drain() == n
            assert conn._proto.engine.channels.max_window(ch.id) == 64 * 1024
        assert conn._proto.windows_grown == 0


@pytest.mark.parametrize("cipher", CIPHERS)
def test_upload_64mib_verified(sshd, test_user, cipher):
    data = hashlib.sha256(cipher.encode()).digest() * (BULK // 32)
    with connect(sshd, test_user, ciphers=[cipher], macs=["hmac-sha2-256"]) as conn:
        with conn.open_session() as ch:
            ch.exec("sha256sum")
            ch.write(data)
            ch.send_eof()
            out = ch.read_all()
            assert ch.wait_closed() == 0
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_exec_result(sshd, test_user):
    with connect(sshd, test_user) as conn:
        result = conn.exec("echo out; echo err >&2; exit 7")
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"
    assert result.exit_status == 7


def test_stdin_round_trip(sshd, test_user):
    with connect(sshd, test_user) as conn:
        result = conn.exec("cat", stdin=b"hello\n" * 1000)
    assert result.stdout == b"hello\n" * 1000


def test_direct_tcpip_tunnel_verified(sshd, test_user, tcp_source_factory):
    source = tcp_source_factory(32 * MiB)
    with connect(sshd, test_user) as conn:
        with conn.open_tcpip(source.host, source.port) as ch:
            digest = hashlib.sha256()
            total = ch.drain(lambda view: digest.update(view))
    assert total == 32 * MiB
    assert digest.hexdigest() == source.expected_sha256


def test_direct_tcpip_echo(sshd, test_user, tcp_echo):
    message = bytes(range(256)) * 4096
    with connect(sshd, test_user) as conn:
        with conn.open_tcpip(tcp_echo.host, tcp_echo.port) as ch:
            ch.write(message)
            got = bytearray()
            while len(got) < len(message):
                got += ch.read()
    assert bytes(got) == message


def test_tunnel_spec_api(sshd, test_user, tcp_source_factory):
    source = tcp_source_factory(4 * MiB)
    client = SSHClient()
    client.ssh_user = test_user.name
    client.ssh_password = test_user.password
    client.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    chunks: list[bytes] = []
    closed: list[str] = []
    client.on_ssh_channel_data = lambda e: chunks.append(e.channel_data)
    client.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    eof: list[str] = []
    client.on_ssh_channel_eof = lambda e: eof.append(e.channel_id)
    client.ssh_logon(sshd.host, sshd.port)
    ch = client.open_tcp_ip_channel(source.host, source.port, "127.0.0.1", 40000)
    assert client.get_service(0) == "direct-tcpip"
    while ch not in eof:
        client.do_events()
    client.close_channel(ch)
    assert ch in closed
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == source.expected_sha256
    client.ssh_logoff()


def test_client_rekey_mid_transfer(sshd, test_user):
    """exchange_keys() in the middle of a download: no byte lost or corrupted."""
    with connect(sshd, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec(f"head -c {BULK} /dev/zero")
            buf = bytearray(1 << 20)
            total = 0
            rekeyed = 0
            while True:
                n = ch.read_into(buf)
                if n == 0:
                    break
                assert buf[:n].count(0) == n
                total += n
                if total > (rekeyed + 1) * 16 * MiB and rekeyed < 3:
                    conn.rekey()
                    rekeyed += 1
            ch.wait_closed()
        assert rekeyed == 3
        assert conn._proto.transport.kex_count == 4
    assert total == BULK


def test_rekey_by_threshold_during_upload(sshd, test_user):
    data = b"u" * (32 * MiB)
    with connect(sshd, test_user, rekey_bytes=4 * MiB) as conn:
        with conn.open_session() as ch:
            ch.exec("sha256sum")
            ch.write(data)
            ch.send_eof()
            out = ch.read_all()
        assert conn._proto.transport.kex_count >= 5
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()


def test_server_initiated_rekey(sshd_factory, test_user):
    server = sshd_factory(["RekeyLimit 1M"])
    with connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec(f"head -c {BULK} /dev/zero | tr '\\0' z")
            digest = hashlib.sha256()
            total = ch.drain(lambda view: digest.update(view))
        assert conn._proto.transport.kex_count > 10
    assert total == BULK
    assert digest.hexdigest() == hashlib.sha256(b"z" * BULK).hexdigest()


def test_blocking_api_through_socks5_with_keepalive(sshd, test_user):
    """The Pythonic API through a SOCKS5 proxy: OpenSSH's own `ssh -D` on loopback."""
    import subprocess
    import time

    import servers

    port = servers.free_port()
    proc = subprocess.Popen(
        ["ssh", "-N", "-D", f"127.0.0.1:{port}", "-p", str(sshd.port), "-o", "BatchMode=no",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "PreferredAuthentications=password", f"{test_user.name}@{sshd.host}"],
        env=servers.askpass_env(test_user.password, servers.tempfile.mkdtemp()),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                servers.socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        proxy = sshclient.ProxySettings.from_url(f"socks5://127.0.0.1:{port}")
        with connect(sshd, test_user, proxy=proxy, keepalive_interval=0.5) as conn:
            assert conn.exec("echo via-socks").stdout == b"via-socks\n"
            time.sleep(1.2)
            conn._driver.pump(0.1)
            assert conn._proto.keepalives_outstanding > 0 or conn._proto._last_keepalive > 0
            assert conn.exec("echo still").stdout == b"still\n"
    finally:
        proc.terminate()
        proc.wait(5)

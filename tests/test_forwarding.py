"""Local forwarding (ssh -L) through real sshd and dropbear, one test body for
the blocking API and the asyncio API (its loop running in a thread of its
own, as an application's would, while the test plays the local clients).

The local side is plain sockets, as a forwarded application would use;
the far side is a threaded echo server on 127.0.0.1 (TCP) or in a
temporary directory (Unix sockets), reached by the server."""
from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import threading
import time

import pytest

import servers
import sshclient
from front_ends import api_fixture, login, server_fixture  # noqa: F401  (fixtures)

MiB = 1 << 20


# the event loop runs in a thread while the test plays local clients
LOOP_IN_THREAD = True


def pattern(size: int, seed: bytes) -> bytes:
    block = hashlib.sha256(seed).digest() * 2048          # 64 KiB, not compressible to nothing
    return (block * (size // len(block) + 1))[:size]


def through(address, data: bytes, family=socket.AF_INET) -> bytes:
    """Send `data` to a listener, then EOF, while reading what comes back to EOF."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(address)

    def send() -> None:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    sender = threading.Thread(target=send)
    sender.start()
    got = bytearray()
    while chunk := sock.recv(1 << 20):
        got += chunk
    sender.join()
    sock.close()
    return bytes(got)


def wait_for(condition, seconds: float = 20.0) -> None:
    limit = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < limit, "condition not met in time"
        time.sleep(0.02)


# ------------------------------------------------------------------ TCP
def test_one_connection_64_mib_each_way(api, server, test_user, tcp_echo):
    data = pattern(64 * MiB, b"one")
    with login(api, server, test_user) as conn:
        with conn.forward_local_port("127.0.0.1", 0, *tcp_echo.address) as forward:
            assert forward.port > 0 and forward.address == ("127.0.0.1", forward.port)
            back = through(("127.0.0.1", forward.port), data)
            assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
            wait_for(lambda: forward.connections == 0)
            assert forward.failures == 0


def test_fifty_connections_at_once(api, server, test_user, tcp_echo):
    """Each connection's bytes come back whole and to it alone; meanwhile
    the connection runs commands as usual."""
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []
    with login(api, server, test_user) as conn:
        with conn.forward_local_port("127.0.0.1", 0, *tcp_echo.address) as forward:
            def client(i: int) -> None:
                try:
                    results[i] = through(("127.0.0.1", forward.port),
                                         pattern(2 * MiB + i, b"%d" % i))
                except BaseException as exc:
                    errors.append(exc)
            threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
            for thread in threads:
                thread.start()
            assert conn.exec("echo busy").stdout == b"busy\n"
            for thread in threads:
                thread.join(120)
            assert not errors, errors[:3]
            for i in range(50):
                assert results[i] == pattern(2 * MiB + i, b"%d" % i), i
            wait_for(lambda: forward.connections == 0)


class ReplyAfterEof(servers._TcpServer):
    """Reads to EOF, then answers with the byte count and SHA-256 and ends."""

    def handle(self, conn: socket.socket, index: int) -> None:
        conn.settimeout(60)
        digest, total = hashlib.sha256(), 0
        while data := conn.recv(65536):
            digest.update(data)
            total += len(data)
        conn.sendall(f"{total} {digest.hexdigest()}".encode())
        conn.shutdown(socket.SHUT_WR)


def test_half_close_both_ways(api, server, test_user):
    """Our EOF reaches the target while its answer still comes back; its
    EOF reaches us after that answer."""
    with ReplyAfterEof() as sink, login(api, server, test_user) as conn:
        with conn.forward_local_port("127.0.0.1", 0, *sink.address) as forward:
            sock = socket.create_connection(("127.0.0.1", forward.port), timeout=30)
            sock.sendall(b"x" * 100_000)
            sock.shutdown(socket.SHUT_WR)               # EOF: the sink answers after it
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
            assert answer.decode().split() == ["100000",
                                               hashlib.sha256(b"x" * 100_000).hexdigest()]


def test_a_refused_open_closes_that_connection_and_the_listener_goes_on(
        api, server, test_user):
    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()                                       # nothing listens there now
    with login(api, server, test_user) as conn:
        with conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", port) as forward:
            sock = socket.create_connection(("127.0.0.1", forward.port), timeout=30)
            try:
                assert sock.recv(10) == b""             # closed by us, after the refusal
            except ConnectionResetError:
                pass
            sock.close()
            wait_for(lambda: forward.failures == 1)
            assert str(port) in forward.last_failure
            with servers.TcpEcho(port=port) as echo:    # the target comes up: served now
                assert through(("127.0.0.1", forward.port), b"again") == b"again"
                assert echo.bytes_echoed == 5
            assert conn.exec("echo alive").stdout == b"alive\n"


def test_close_stops_listening_and_optionally_the_connections(api, server, test_user,
                                                               tcp_echo):
    with login(api, server, test_user) as conn:
        forward = conn.forward_local_port("127.0.0.1", 0, *tcp_echo.address)
        live = socket.create_connection(("127.0.0.1", forward.port), timeout=30)
        live.sendall(b"before")
        assert live.recv(100) == b"before"
        forward.close()                                 # the live connection stays
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", forward.port), timeout=5)
        live.sendall(b"after")
        assert live.recv(100) == b"after"
        forward.close(close_connections=True)
        assert live.recv(100) == b""
        live.close()
        wait_for(lambda: forward.connections == 0)


def test_closing_the_ssh_connection_ends_its_forwards(api, server, test_user, tcp_echo):
    conn = login(api, server, test_user)
    forward = conn.forward_local_port("127.0.0.1", 0, *tcp_echo.address)
    live = socket.create_connection(("127.0.0.1", forward.port), timeout=30)
    live.sendall(b"ping")
    assert live.recv(100) == b"ping"
    conn.close()
    assert live.recv(100) == b""
    live.close()
    assert forward.closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", forward.port), timeout=5)


def test_listen_errors_are_clear(api, server, test_user):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    with login(api, server, test_user) as conn:
        with pytest.raises(sshclient.SSHConnectionError) as excinfo:
            conn.forward_local_port("127.0.0.1", taken.getsockname()[1], "127.0.0.1", 22)
        assert excinfo.value.code == 10048 and str(taken.getsockname()[1]) in str(excinfo.value)
        with pytest.raises(sshclient.ArgumentTypeError):
            conn.forward_local_port("127.0.0.1", "80", "127.0.0.1", 22)
        with pytest.raises(sshclient.UsageError):
            conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", 70000)
        assert conn.exec("echo fine").stdout == b"fine\n"
    taken.close()


# ---------------------------------------------------------- Unix sockets
class UnixEcho:
    """Echoes each connection on a Unix socket, half-closing after its EOF."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        os.chmod(path, 0o777)                            # sshd connects as the test user
        self._sock.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def unix_dir():
    path = tempfile.mkdtemp(prefix="sshclient-fwd-")
    os.chmod(path, 0o755)
    yield path
    for name in os.listdir(path):
        os.unlink(os.path.join(path, name))
    os.rmdir(path)


def test_unix_socket_forwards(api, sshd, test_user, tcp_echo, unix_dir):
    """Local Unix socket -> remote Unix socket, TCP -> Unix, Unix -> TCP.
    (dropbear does not open direct-streamlocal channels.)"""
    remote = UnixEcho(os.path.join(unix_dir, "remote.sock"))
    data = pattern(3 * MiB, b"unix")
    try:
        with login(api, sshd, test_user) as conn:
            local_path = os.path.join(unix_dir, "local.sock")
            with conn.forward_local_path(local_path, remote.path) as forward:
                assert forward.path == local_path and forward.port == 0
                assert through(local_path, data, socket.AF_UNIX) == data
            assert not os.path.exists(local_path)        # removed on close
            with conn.forward_local_port_to_path("127.0.0.1", 0, remote.path) as forward:
                assert through(("127.0.0.1", forward.port), data) == data
            with conn.forward_local_path_to_port(local_path, *tcp_echo.address):
                assert through(local_path, data, socket.AF_UNIX) == data
    finally:
        remote.close()


# ------------------------------------------------------ remote forwarding
def test_remote_forward_port_zero_and_many_connections(api, server, test_user, tcp_echo):
    """The server picks the port; connections to it come back to our echo."""
    data = pattern(64 * MiB, b"remote")
    errors: list[BaseException] = []
    results: dict[int, bytes] = {}
    with login(api, server, test_user) as conn:
        with conn.forward_remote_port("127.0.0.1", 0, *tcp_echo.address) as forward:
            assert forward.port > 0
            assert through(("127.0.0.1", forward.port), data) == data

            def client(i: int) -> None:
                try:
                    results[i] = through(("127.0.0.1", forward.port), pattern(MiB + i, b"r%d" % i))
                except BaseException as exc:
                    errors.append(exc)
            threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert not errors, errors[:3]
            assert all(results[i] == pattern(MiB + i, b"r%d" % i) for i in range(20))
            wait_for(lambda: forward.connections == 0)
            port = forward.port
        # Cancelled: nothing reaches the target any more. sshd stops listening;
        # dropbear 2022.83 keeps listening after cancel-tcpip-forward (it
        # answers but does not close the socket), and we refuse its channels.
        reached = tcp_echo.connections
        if server.kind == "sshd":
            wait_for(lambda: _refused(port))
        else:
            _knock(port)
        assert tcp_echo.connections == reached
        assert conn.exec("echo still").stdout == b"still\n"


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def _unix_refused(path: str) -> bool:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except ConnectionRefusedError:
        return True
    finally:
        sock.close()
    return False


def _knock(port: int) -> None:
    """Connect and send a little, if the port still takes connections."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"anyone?")
            time.sleep(1)
    except OSError:
        pass


def test_remote_forward_to_an_unreachable_target(api, server, test_user):
    spare = socket.socket()
    spare.bind(("127.0.0.1", 0))
    dead_port = spare.getsockname()[1]
    spare.close()
    with login(api, server, test_user) as conn:
        with conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", dead_port) as forward:
            sock = socket.create_connection(("127.0.0.1", forward.port), timeout=30)
            try:
                assert sock.recv(10) == b""                 # the server closes it
            except ConnectionResetError:
                pass
            sock.close()
            wait_for(lambda: forward.failures == 1)
            assert "connect failed" in forward.last_failure
            with servers.TcpEcho(port=dead_port):           # the target comes up
                assert through(("127.0.0.1", forward.port), b"now") == b"now"


def test_remote_forward_refused_by_the_server(api, server, test_user):
    """A port the server will not listen on (below 1024, and we are not
    root there): RequestRefusedError 1098; the connection goes on."""
    with login(api, server, test_user) as conn:
        with pytest.raises(sshclient.RequestRefusedError) as excinfo:
            conn.forward_remote_port("127.0.0.1", 1, "127.0.0.1", 9)
        assert excinfo.value.code == 1098 and "tcpip-forward" in str(excinfo.value)
        assert conn.exec("echo ok").stdout == b"ok\n"


def test_remote_unix_socket_forwards(api, sshd, test_user, tcp_echo, unix_dir):
    """Server-side Unix socket -> local Unix socket and -> local TCP.
    (dropbear does not listen on Unix sockets for us.)"""
    local = UnixEcho(os.path.join(unix_dir, "local.sock"))
    os.chmod(unix_dir, 0o777)                                # sshd creates it as the test user
    data = pattern(2 * MiB, b"unix-r")
    try:
        with login(api, sshd, test_user) as conn:
            remote_path = os.path.join(unix_dir, "remote1.sock")
            with conn.forward_remote_path(remote_path, local.path) as forward:
                assert forward.path == remote_path
                assert through(remote_path, data, socket.AF_UNIX) == data
            # cancelled: sshd closes the socket (and leaves its file, as it does for ssh -R)
            wait_for(lambda: _unix_refused(remote_path))
            remote_path = os.path.join(unix_dir, "remote2.sock")
            with conn.forward_remote_path_to_port(remote_path, *tcp_echo.address):
                assert through(remote_path, data, socket.AF_UNIX) == data
            with conn.forward_remote_port_to_path("127.0.0.1", 0, local.path) as forward:
                assert through(("127.0.0.1", forward.port), data) == data
    finally:
        local.close()


# ------------------------------------------------------ dynamic forwarding
@pytest.fixture
def web(tmp_path):
    """A plain HTTP server on 127.0.0.1 with one 3 MiB file."""
    import functools
    import http.server
    body = pattern(3 * MiB, b"web")
    (tmp_path / "big.bin").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None                 # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], hashlib.sha256(body).hexdigest()
    httpd.shutdown()
    httpd.server_close()


def curl(proxy_option: str, proxy: str, url: str, *extra: str):
    import subprocess
    return subprocess.run(["curl", "-sS", "--max-time", "60", "--noproxy", "", proxy_option,
                           proxy, *extra, url, "-o", "-"], capture_output=True, timeout=90)


@pytest.mark.parametrize("flavour", ["--socks5-hostname", "--socks5", "--socks4a", "--socks4"])
def test_socks_through_curl(api, server, test_user, web, flavour):
    port, digest = web
    with login(api, server, test_user) as conn:
        with conn.forward_socks("127.0.0.1", 0) as socks_server:
            done = curl(flavour, f"127.0.0.1:{socks_server.port}",
                        f"http://localhost:{port}/big.bin")
            assert done.returncode == 0, done.stderr
            assert hashlib.sha256(done.stdout).hexdigest() == digest
            # a port nobody listens on: the SOCKS reply says so, curl reports it
            spare = socket.socket()
            spare.bind(("127.0.0.1", 0))
            dead = spare.getsockname()[1]
            spare.close()
            failed = curl(flavour, f"127.0.0.1:{socks_server.port}", f"http://127.0.0.1:{dead}/")
            assert failed.returncode != 0
            wait_for(lambda: socks_server.failures == 1)
            assert "127.0.0.1" in socks_server.last_failure


def test_socks5_with_a_password(api, server, test_user, web):
    port, digest = web
    with login(api, server, test_user) as conn:
        with conn.forward_socks("127.0.0.1", 0, username="alice", password="s3cret") as s:
            assert "s3cret" not in repr(s)
            proxy = f"127.0.0.1:{s.port}"
            ok = curl("--socks5-hostname", proxy, f"http://localhost:{port}/big.bin",
                      "--proxy-user", "alice:s3cret")
            assert ok.returncode == 0, ok.stderr
            assert hashlib.sha256(ok.stdout).hexdigest() == digest
            wrong = curl("--socks5-hostname", proxy, f"http://localhost:{port}/big.bin",
                         "--proxy-user", "alice:guess")
            assert wrong.returncode != 0
            anonymous = curl("--socks5-hostname", proxy, f"http://localhost:{port}/big.bin")
            assert anonymous.returncode != 0
            socks4 = curl("--socks4a", proxy, f"http://localhost:{port}/big.bin")
            assert socks4.returncode != 0
            wait_for(lambda: s.failures == 3)


def test_our_own_proxy_client_through_our_socks_server(api, sshd, test_user):
    """An SSH connection made through this library's SOCKS5 client, to the
    SOCKS server another connection runs: both codecs against each other."""
    with login(api, sshd, test_user) as conn:
        with conn.forward_socks("127.0.0.1", 0) as socks_server:
            for kind in (sshclient.proxy.FIREWALL_SOCKS5, sshclient.proxy.FIREWALL_SOCKS4A):
                proxy = sshclient.ProxySettings(kind, "127.0.0.1", socks_server.port)
                with sshclient.connect("localhost", sshd.port, username=test_user.name,
                                       password=test_user.password, accept_any_host_key=True,
                                       proxy=proxy, timeout=30) as inner:
                    assert inner.exec("echo inner").stdout == b"inner\n"


def test_socks_replies_for_what_is_not_supported(api, server, test_user):
    """Raw SOCKS5: BIND is refused with reply 7, an unknown address type with 8."""
    with login(api, server, test_user) as conn:
        with conn.forward_socks("127.0.0.1", 0) as socks_server:
            for request, code in ((b"\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", 7),
                                  (b"\x05\x01\x00\x09\x00\x50", 8)):
                with socket.create_connection(("127.0.0.1", socks_server.port), 10) as sock:
                    sock.sendall(b"\x05\x01\x00")
                    assert sock.recv(2) == b"\x05\x00"
                    sock.sendall(request)
                    reply = sock.recv(10)
                    assert reply[:2] == bytes([5, code])
                    assert sock.recv(10) == b""            # and the connection ends

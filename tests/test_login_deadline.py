"""A login is bounded by the clock, not only by inactivity (issue 12).

A server that trickles its banner or its KEXINIT a byte at a time never
lets an inactivity timeout fire; `connect(timeout=)` / `login_timeout=` and
the spec API's logon (ConnectionTimeout, else timeout) must still fail on
time, in every phase: TCP connect, proxy handshake, version exchange, key
exchange.  A login that is slow but moving finishes, time spent in the
user's own callbacks is not counted, and after login `timeout` is again
only the inactivity timeout.

Bounds are generous ("2 s" fails within 2-6 s) for a busy machine.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

import proxies
import sshclient
from sshclient import SSHClient
from sshclient.errors import ConnectTimeoutError
from sshclient.proxy import ProxySettings, ProxyTimeoutError


def trickle(data: bytes, interval: float, first: bytes = b""):
    """A ScriptedProxy script: send `first`, then `data` one byte per `interval` s."""
    def script(peer: proxies.ScriptedProxy, conn: socket.socket) -> None:
        conn.sendall(first)
        for i in range(len(data)):
            time.sleep(interval)
            conn.sendall(data[i:i + 1])
    return script


# A banner that never ends (a version line may be 255 bytes: this is longer
# than any test waits for), and a valid banner followed by a KEXINIT packet
# of which only the length ever arrives in full.
BANNER_TARPIT = trickle(b"SSH-2.0-tarpit" + b"_" * 200 + b"\r\n", 1.0)
KEX_TARPIT = trickle(b"\x14" + bytes(1000), 1.0,
                     first=b"SSH-2.0-tarpit\r\n" + struct.pack(">IB", 1012, 10))
TARPITS = {"banner": BANNER_TARPIT, "kex": KEX_TARPIT}


def elapsed_failing(fn) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(sshclient.SSHClientError) as info:
        fn()
    return info.value, time.monotonic() - start


def assert_login_timed_out(err: BaseException, took: float, limit: float) -> None:
    assert isinstance(err, sshclient.SSHTimeoutError) and isinstance(err, TimeoutError), err
    assert err.code == 301, err
    assert f"within {limit:g} s" in str(err)
    assert limit - 0.1 <= took <= limit + 4, took


def connect(port: int, **kw) -> sshclient.SSHConnection:
    return sshclient.connect("127.0.0.1", port, username="u", password="p",
                             accept_any_host_key=True, **kw)


@pytest.mark.parametrize("phase", TARPITS)
def test_tarpit_fails_connect_on_time(phase):
    with proxies.ScriptedProxy(TARPITS[phase]) as tarpit:
        err, took = elapsed_failing(lambda: connect(tarpit.port, timeout=2))
    assert_login_timed_out(err, took, 2)
    assert "login" in str(err)


def test_login_timeout_is_separate_from_timeout():
    with proxies.ScriptedProxy(KEX_TARPIT) as tarpit:
        err, took = elapsed_failing(lambda: connect(tarpit.port, timeout=60, login_timeout=2))
    assert_login_timed_out(err, took, 2)


@pytest.mark.parametrize("phase, settings", [
    ("banner", {"timeout": 2}),
    ("kex", {"timeout": 2}),
    ("kex", {"timeout": 60, "ConnectionTimeout": 2}),
], ids=["banner", "kex", "ConnectionTimeout"])
def test_tarpit_fails_spec_logon_on_time(phase, settings):
    c = SSHClient()
    c.ssh_user, c.ssh_password = "u", "p"
    c.timeout = settings["timeout"]
    if "ConnectionTimeout" in settings:
        c.config(f"ConnectionTimeout={settings['ConnectionTimeout']}")
    disconnected = []
    c.on_disconnected = lambda e: disconnected.append(e.status_code)
    with proxies.ScriptedProxy(TARPITS[phase]) as tarpit:
        err, took = elapsed_failing(lambda: c.ssh_logon("127.0.0.1", tarpit.port))
    assert_login_timed_out(err, took, 2)
    assert "logon" in str(err)
    assert disconnected == [301] and not c.connected


@pytest.fixture
def full_backlog():
    """A loopback port whose accept queue is full: a connect's SYN goes
    unanswered, as with a host that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held = []
    try:
        for _ in range(4):  # enough to fill a backlog of 0 (Linux takes 1)
            s = socket.socket()
            s.settimeout(0.3)
            held.append(s)
            try:
                s.connect(("127.0.0.1", port))
            except OSError:
                break
        else:
            pytest.skip("this system does not stall a connect on a full backlog")
        yield port
    finally:
        for s in held:
            s.close()
        listener.close()


def test_tcp_connect_gets_the_time_left(full_backlog):
    err, took = elapsed_failing(lambda: connect(full_backlog, timeout=60, login_timeout=1.5))
    assert isinstance(err, ConnectTimeoutError) and err.code == 10060, err
    assert isinstance(err, TimeoutError) and isinstance(err, ConnectionError)
    assert 1.4 <= took <= 5.5, took


def test_proxy_handshake_gets_the_time_left():
    listener, port = proxies.silent_listener()
    try:
        proxy = ProxySettings(type=3, host="127.0.0.1", port=port)
        err, took = elapsed_failing(lambda: connect(22, timeout=60, login_timeout=1.5,
                                                    proxy=proxy))
    finally:
        listener.close()
    assert isinstance(err, ProxyTimeoutError) and err.reason == "timeout", err
    assert isinstance(err, TimeoutError)
    assert 1.4 <= took <= 5.5, took


# ------------------------------------------------------- logins that finish
class SlowRelay(proxies.ScriptedProxy):
    """Relays to `target`, handing the server's first `slow` bytes to the
    client one per `interval` s (a slow link), the rest at once."""

    def __init__(self, target: tuple[str, int], slow: int, interval: float) -> None:
        self.target, self.slow, self.interval = target, slow, interval
        super().__init__(lambda _peer, conn: self._relay(conn))

    def _relay(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target, timeout=30)
        conn.settimeout(None)
        upstream.settimeout(None)

        def pump(src: socket.socket, dst: socket.socket, slow: int) -> None:
            try:
                while chunk := src.recv(65536):
                    while slow and chunk:
                        time.sleep(self.interval)
                        dst.sendall(chunk[:1])
                        chunk, slow = chunk[1:], slow - 1
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        up = threading.Thread(target=pump, args=(conn, upstream, 0), daemon=True)
        up.start()
        pump(upstream, conn, self.slow)
        up.join(30)
        upstream.close()


def test_slow_but_moving_login_finishes(sshd, test_user):
    """The banner takes ~3 s to arrive, with never a second's silence:
    timeout=1 (inactivity) does not fire, login_timeout=20 is not reached."""
    with SlowRelay((sshd.host, sshd.port), slow=20, interval=0.15) as relay:
        start = time.monotonic()
        with sshclient.connect(relay.host, relay.port, username=test_user.name,
                               password=test_user.password, accept_any_host_key=True,
                               timeout=1, login_timeout=20) as conn:
            assert time.monotonic() - start > 2.5
            assert conn.exec("echo ok").stdout == b"ok\n"


def test_time_in_user_callbacks_does_not_count(sshd, test_user):
    """A verifier that asks a person (here: sleeps 3 s) outlasts
    login_timeout=2, yet the server was never slow."""
    def slow_verifier(info: sshclient.HostKeyInfo) -> bool:
        time.sleep(3)
        return True

    with sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                           password=test_user.password, host_key_verifier=slow_verifier,
                           timeout=20, login_timeout=2) as conn:
        assert conn.exec("echo ok").stdout == b"ok\n"


def test_time_in_spec_event_handlers_does_not_count(sshd, test_user):
    c = SSHClient()
    c.ssh_user, c.ssh_password = test_user.name, test_user.password
    c.timeout = 20
    c.config("ConnectionTimeout=2")

    def accept_slowly(e) -> None:
        time.sleep(3)
        e.accept = True

    c.on_ssh_server_authentication = accept_slowly
    c.ssh_logon(sshd.host, sshd.port)
    assert c.connected
    c.ssh_logoff()


def test_after_login_timeout_none_waits_past_the_login_timeout(sshd, test_user):
    with sshclient.connect(sshd.host, sshd.port, username=test_user.name,
                           password=test_user.password, accept_any_host_key=True,
                           timeout=None, login_timeout=2) as conn:
        with conn.open_session() as ch:
            start = time.monotonic()
            ch.exec("sleep 3.5; echo done")
            assert ch.read_all() == b"done\n"
            assert time.monotonic() - start >= 3


def test_login_timeout_is_checked():
    with pytest.raises(sshclient.ArgumentTypeError) as info:
        connect(22, login_timeout="2")
    assert "login_timeout" in str(info.value)

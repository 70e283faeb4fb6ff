"""Firewalls/proxies and socket options (issue 4).

Real proxies on loopback (tests/proxies.py): dante (SOCKS4, SOCKS5, RFC 1929
username/password against the system user sshclient-test), tinyproxy (HTTP CONNECT,
Basic auth) and OpenSSH ``ssh -D`` (SOCKS4A, which dante lacks). Each
end-to-end test logs in to the sshd fixture through the proxy and checks the
proxy's own log. Scripted peers cover the failure modes real proxies do not
produce on demand; the rest are unit tests.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest

import proxies
import servers
from peers_fixture import start
from spec_client import password_client
from sshclient import SSHClient, SSHClientError
from sshclient.errors import ConnectionError_, UsageError
from sshclient.proxy import (
    MAX_HTTP_HEADER,
    ProxyError,
    ProxySettings,
    host_matches,
    parse_exceptions,
    proxy_from_settings,
)
from sshclient.sockets import RateLimiter, open_socket, open_socket_async

PROXY_USER = "proxyuser"
PROXY_PASS = "proxy-pass"


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def dante(test_user):
    server = start(proxies.DanteServer, "none")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dante_auth(test_user):
    server = start(proxies.DanteServer, "username")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tinyproxy(sshd):
    server = start(proxies.TinyProxyServer, [sshd.port])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tinyproxy_auth(sshd):
    server = start(proxies.TinyProxyServer, [sshd.port], user=PROXY_USER,
                    password=PROXY_PASS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ssh_socks(sshd, client_keys):
    server = start(proxies.SshDynamicForward, sshd, client_keys["ed25519"])
    yield server
    server.stop()


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in ("all_proxy", "ALL_PROXY", "https_proxy", "HTTPS_PROXY", "http_proxy",
                 "HTTP_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def make_client(user, **config) -> SSHClient:
    return password_client(user, timeout=20, **config)


def run_echo(c: SSHClient, text: str = "through-the-proxy") -> bytes:
    data = bytearray()
    closed: list[str] = []
    c.on_ssh_channel_data = lambda e: data.extend(e.channel_data)
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    ch = c.open_channel("session")
    c.start_service(ch, "exec", f"echo {text}")
    for _ in range(3000):
        if ch in closed:
            break
        c.do_events()
    return bytes(data)


def login_via(c: SSHClient, host: str, port: int) -> tuple[int, list[str]]:
    """ssh_logon, a command, logoff; returns the client's local port and the
    connection-status events."""
    events: list[str] = []
    c.on_connection_status = lambda e: events.append(e.connection_event)
    c.ssh_logon(host, port)
    assert c.connected
    local_port = c.local_port
    assert run_echo(c) == b"through-the-proxy\n"
    c.ssh_logoff()
    return local_port, events


def proxy_log(server, since: int) -> str:
    return server.log_since(since)


# ------------------------------------------------------- SOCKS5 via dante
def test_socks5_no_auth_login(dante, sshd, test_user):
    mark = dante.log_size()
    c = make_client(test_user)
    c.firewall_type = 3
    assert c.firewall_port == 1080
    c.firewall_host = "127.0.0.1"
    c.firewall_port = dante.port
    local_port, events = login_via(c, sshd.host, sshd.port)
    assert events[:2] == ["Firewall connection complete.", "Remote host connection complete."]
    # dante: "pass(1): tcp/connect [: <client> <proxy> -> <external> <target>"
    dante.wait_for_log(rf"tcp/connect \[: 127\.0\.0\.1\.{local_port} 127\.0\.0\.1\.{dante.port}"
                       rf" -> 127\.0\.0\.1\.\d+ 127\.0\.0\.1\.{sshd.port}\b", since=mark)


def test_socks5_domain_name_sent_to_proxy(dante, sshd, test_user):
    mark = dante.log_size()
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante.port)
    local_port, _ = login_via(c, "localhost", sshd.port)
    dante.wait_for_log(rf"tcp/connect \[: 127\.0\.0\.1\.{local_port} .*"
                       rf"127\.0\.0\.1\.{sshd.port}\b", since=mark)


def test_socks5_ipv6_target(dante, sshd_factory, test_user):
    sshd6 = sshd_factory(host="::1")
    mark = dante.log_size()
    c = make_client(test_user)
    c.firewall_type = 3
    c.firewall_host = "127.0.0.1"
    c.firewall_port = dante.port
    local_port, _ = login_via(c, "::1", sshd6.port)
    dante.wait_for_log(rf"tcp/connect \[: 127\.0\.0\.1\.{local_port} .* -> ::1\.\d+ "
                       rf"::1\.{sshd6.port}\b", since=mark)


def test_socks5_username_password_login(dante_auth, sshd, test_user):
    mark = dante_auth.log_size()
    c = make_client(test_user)
    c.firewall_type = 3
    c.firewall_host = "127.0.0.1"
    c.firewall_port = dante_auth.port
    c.firewall_user = test_user.name
    c.firewall_password = test_user.password
    local_port, _ = login_via(c, sshd.host, sshd.port)
    # the authenticated user shows in dante's log line
    dante_auth.wait_for_log(rf"tcp/connect \[: username%{test_user.name}@127\.0\.0\.1\."
                            rf"{local_port} .*127\.0\.0\.1\.{sshd.port}\b", since=mark)


def test_socks5_wrong_password_is_a_clear_error(dante_auth, sshd, test_user):
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante_auth.port, FirewallUser=test_user.name,
                    FirewallPassword="not-the-password")
    connected: list[tuple[int, str]] = []
    c.on_connected = lambda e: connected.append((e.status_code, e.description))
    with pytest.raises(SSHClientError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    err = info.value
    assert isinstance(err, ProxyError) and isinstance(err, ConnectionError_)
    assert err.code == 1036 and err.reason == "auth"
    assert f"SOCKS5 proxy 127.0.0.1:{dante_auth.port}" in str(err)
    assert "rejected the username/password" in str(err)
    assert connected == [(1036, err.message)]
    assert not c.connected


def test_socks5_auth_required_without_credentials(dante_auth, sshd, test_user):
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante_auth.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert info.value.reason == "auth" and info.value.code == 1036
    assert "set the firewall user and password" in str(info.value)


def test_socks5_target_unreachable(dante, test_user):
    closed_port = servers.free_port()
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon("127.0.0.1", closed_port)
    assert info.value.code == 1036 and info.value.reason == "unreachable"
    assert f"127.0.0.1:{closed_port}" in str(info.value)


def test_socks5_ruleset_denial(dante, test_user):
    # dante's rules pass only 127.0.0.1 and ::1; 127.0.0.2 is refused by the rule
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon("127.0.0.2", 22)
    assert info.value.code == 1036 and info.value.reason == "refused"
    assert "not allowed by ruleset" in str(info.value)


def test_proxy_not_listening_is_socket_error(test_user):
    port = servers.free_port()
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1", FirewallPort=port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon("127.0.0.1", 22)
    assert info.value.code == 10061 and info.value.reason == "connect"
    assert f"cannot connect to SOCKS5 proxy 127.0.0.1:{port}" in str(info.value)


# ------------------------------------------------------- SOCKS4 via dante
def test_socks4_login_with_user_id(dante, sshd, test_user):
    mark = dante.log_size()
    c = make_client(test_user)
    c.firewall_type = 2
    assert c.firewall_port == 1080
    c.firewall_host = "127.0.0.1"
    c.firewall_port = dante.port
    c.firewall_user = "someone"
    local_port, _ = login_via(c, "localhost", sshd.port)  # resolved here for SOCKS4
    dante.wait_for_log(rf"tcp/connect \[: 127\.0\.0\.1\.{local_port} .*"
                       rf"127\.0\.0\.1\.{sshd.port}\b", since=mark)


def test_socks4_refused(dante, test_user):
    c = make_client(test_user, FirewallType=2, FirewallHost="127.0.0.1",
                    FirewallPort=dante.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon("127.0.0.1", servers.free_port())
    assert info.value.code == 1036 and info.value.reply == 91
    assert "SOCKS4 reply 91" in str(info.value)


def test_socks4_cannot_carry_ipv6():
    listener, port = proxies.silent_listener()
    try:
        proxy = ProxySettings(type=2, host="127.0.0.1", port=port)
        with pytest.raises(UsageError, match="IPv6"):
            open_socket("::1", 22, 5, proxy=proxy)
    finally:
        listener.close()


# ----------------------------------------------------- SOCKS4A via ssh -D
def test_socks4a_sends_the_host_name(ssh_socks, sshd, test_user):
    mark_fwd = ssh_socks.log_size()
    mark_sshd = sshd.log_size()
    c = make_client(test_user)
    c.firewall_type = 10
    assert c.firewall_port == 1080
    c.firewall_host = "127.0.0.1"
    c.firewall_port = ssh_socks.port
    login_via(c, "localhost", sshd.port)
    ssh_socks.wait_for_log(rf"dynamic request: socks4 host localhost port {sshd.port}\b",
                           since=mark_fwd)
    # the name went to the proxy unresolved: sshd opened the tunnel to "localhost"
    sshd.wait_for_log(rf"direct_tcpip: originator 127\.0\.0\.1 port \d+, target localhost "
                      rf"port {sshd.port}\b", since=mark_sshd)


def test_socks5_via_ssh_dynamic_forward(ssh_socks, sshd, test_user):
    mark = ssh_socks.log_size()
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=ssh_socks.port)
    login_via(c, "127.0.0.1", sshd.port)
    ssh_socks.wait_for_log(rf"dynamic request: socks5 host 127\.0\.0\.1 port {sshd.port}\b",
                           since=mark)


# -------------------------------------------------- HTTP CONNECT via tinyproxy
def test_http_tunnel_login(tinyproxy, sshd, test_user):
    mark = tinyproxy.log_size()
    c = make_client(test_user)
    c.firewall_type = 1
    assert c.firewall_port == 80
    c.firewall_host = "127.0.0.1"
    c.firewall_port = tinyproxy.port
    c.config("FirewallData=X-Sshclient-Test: 1")
    _, events = login_via(c, sshd.host, sshd.port)
    assert "Firewall connection complete." in events
    tinyproxy.wait_for_log(rf"CONNECT 127\.0\.0\.1:{sshd.port} HTTP/1\.1", since=mark)
    tinyproxy.wait_for_log(r'Established connection to host "127\.0\.0\.1"', since=mark)


def test_http_tunnel_basic_auth_login(tinyproxy_auth, sshd, test_user):
    mark = tinyproxy_auth.log_size()
    c = make_client(test_user, FirewallType=1, FirewallHost="127.0.0.1",
                    FirewallPort=tinyproxy_auth.port, FirewallUser=PROXY_USER,
                    FirewallPassword=PROXY_PASS)
    login_via(c, "localhost", sshd.port)
    tinyproxy_auth.wait_for_log(rf"CONNECT localhost:{sshd.port} HTTP/1\.1", since=mark)
    tinyproxy_auth.wait_for_log(r'Established connection to host "localhost"', since=mark)


def test_http_tunnel_wrong_password(tinyproxy_auth, sshd, test_user):
    c = make_client(test_user, FirewallType=1, FirewallHost="127.0.0.1",
                    FirewallPort=tinyproxy_auth.port, FirewallUser=PROXY_USER,
                    FirewallPassword="wrong")
    with pytest.raises(ProxyError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    err = info.value
    assert err.code == 1036 and err.reason == "auth" and err.reply in (401, 407)
    assert f"HTTP tunnel proxy 127.0.0.1:{tinyproxy_auth.port}" in str(err)
    assert f"rejected the credentials for user '{PROXY_USER}'" in str(err)


def test_http_tunnel_407_without_credentials(tinyproxy_auth, sshd, test_user):
    c = make_client(test_user, FirewallType=1, FirewallHost="127.0.0.1",
                    FirewallPort=tinyproxy_auth.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert info.value.reply == 407 and info.value.reason == "auth"
    assert "requires authentication (it asks for Basic)" in str(info.value)


def test_http_tunnel_non_2xx(tinyproxy, dante, test_user):
    # dante's port is not a ConnectPort of this tinyproxy: 403
    c = make_client(test_user, FirewallType=1, FirewallHost="127.0.0.1",
                    FirewallPort=tinyproxy.port)
    with pytest.raises(ProxyError) as info:
        c.ssh_logon("127.0.0.1", dante.port)
    assert info.value.code == 1036 and info.value.reply == 403
    assert f"refused the tunnel to 127.0.0.1:{dante.port}: HTTP 403" in str(info.value)


# ------------------------------------------------ exceptions and auto-detect
def test_proxy_exceptions_list_bypasses(dante, sshd, test_user):
    mark_dante = dante.log_size()
    mark_sshd = sshd.log_size()
    c = make_client(test_user, FirewallType=3, FirewallHost="127.0.0.1",
                    FirewallPort=dante.port, ProxyExceptionsList="example.org;127.0.0.*")
    local_port, events = login_via(c, sshd.host, sshd.port)
    assert "Firewall connection complete." not in events
    # sshd saw the client's own port: a direct connection
    sshd.wait_for_log(rf"Connection from 127\.0\.0\.1 port {local_port} ", since=mark_sshd)
    assert f"127.0.0.1.{local_port} " not in proxy_log(dante, mark_dante)


def test_auto_detect_all_proxy_socks5(no_proxy_env, dante, sshd, test_user):
    no_proxy_env.setenv("ALL_PROXY", f"socks5h://127.0.0.1:{dante.port}")
    mark = dante.log_size()
    c = make_client(test_user, FirewallAutoDetect="True")
    local_port, events = login_via(c, sshd.host, sshd.port)
    assert "Firewall connection complete." in events
    dante.wait_for_log(rf"tcp/connect \[: 127\.0\.0\.1\.{local_port} ", since=mark)


def test_auto_detect_all_proxy_socks5_credentials(no_proxy_env, dante_auth, sshd, test_user):
    no_proxy_env.setenv("all_proxy", f"socks5://{test_user.name}:{test_user.password}"
                                     f"@127.0.0.1:{dante_auth.port}")
    mark = dante_auth.log_size()
    c = make_client(test_user)
    c.config("FirewallAutoDetect=true")
    local_port, _ = login_via(c, sshd.host, sshd.port)
    dante_auth.wait_for_log(rf"username%{test_user.name}@127\.0\.0\.1\.{local_port} ",
                            since=mark)


def test_auto_detect_socks4a(no_proxy_env, ssh_socks, sshd, test_user):
    no_proxy_env.setenv("ALL_PROXY", f"socks4a://127.0.0.1:{ssh_socks.port}")
    mark = ssh_socks.log_size()
    c = make_client(test_user, FirewallAutoDetect="True")
    login_via(c, "localhost", sshd.port)
    ssh_socks.wait_for_log(rf"socks4 host localhost port {sshd.port}\b", since=mark)


def test_auto_detect_https_proxy_tunnel(no_proxy_env, tinyproxy_auth, sshd, test_user):
    no_proxy_env.setenv("HTTPS_PROXY",
                        f"http://{PROXY_USER}:{PROXY_PASS}@127.0.0.1:{tinyproxy_auth.port}/")
    mark = tinyproxy_auth.log_size()
    c = make_client(test_user, FirewallAutoDetect="True")
    login_via(c, sshd.host, sshd.port)
    tinyproxy_auth.wait_for_log(rf"CONNECT 127\.0\.0\.1:{sshd.port} HTTP/1\.1", since=mark)


def test_auto_detect_no_proxy_bypasses(no_proxy_env, sshd, test_user):
    # the proxy would refuse the connection: only NO_PROXY lets the login work
    no_proxy_env.setenv("ALL_PROXY", f"socks5://127.0.0.1:{servers.free_port()}")
    no_proxy_env.setenv("NO_PROXY", "example.com, 127.0.0.1")
    c = make_client(test_user, FirewallAutoDetect="True")
    _, events = login_via(c, sshd.host, sshd.port)
    assert "Firewall connection complete." not in events
    no_proxy_env.setenv("NO_PROXY", "example.com")
    c = make_client(test_user, FirewallAutoDetect="True")
    with pytest.raises(ProxyError) as info:
        c.ssh_logon(sshd.host, sshd.port)
    assert info.value.code == 10061


def test_auto_detect_off_or_empty_environment(no_proxy_env, sshd, test_user):
    no_proxy_env.setenv("ALL_PROXY", f"socks5://127.0.0.1:{servers.free_port()}")
    c = make_client(test_user)  # FirewallAutoDetect False: the environment is ignored
    login_via(c, sshd.host, sshd.port)
    no_proxy_env.delenv("ALL_PROXY")
    c = make_client(test_user, FirewallAutoDetect="True")  # nothing to detect: direct
    login_via(c, sshd.host, sshd.port)


# ------------------------------------------------------------- IPv6 / UseIPv6
def test_use_ipv6_only(sshd_factory, test_user):
    sshd6 = sshd_factory(host="::1")
    mark = sshd6.log_size()
    c = make_client(test_user, UseIPv6=1)
    c.ssh_logon("::1", sshd6.port)
    assert c.local_host == "::1"
    local_port = c.local_port
    assert run_echo(c) == b"through-the-proxy\n"
    c.ssh_logoff()
    sshd6.wait_for_log(rf"Connection from ::1 port {local_port} ", since=mark)


def test_use_ipv4_only_rejects_ipv6_address(sshd_factory, test_user):
    sshd6 = sshd_factory(host="::1")
    c = make_client(test_user, UseIPv6=0)
    with pytest.raises(ConnectionError_) as info:
        c.ssh_logon("::1", sshd6.port)
    assert info.value.code == 11001
    assert f"cannot connect to ::1:{sshd6.port}" in str(info.value)


def test_use_ipv6_with_ipv4_fallback(sshd_factory, sshd, test_user):
    sshd6 = sshd_factory(host="::1")
    c = make_client(test_user, UseIPv6=2)
    c.ssh_logon("::1", sshd6.port)
    assert c.local_host == "::1"
    c.ssh_logoff()
    c = make_client(test_user, UseIPv6=2)
    c.ssh_logon("127.0.0.1", sshd.port)  # no IPv6 address: falls back to IPv4
    assert c.local_host == "127.0.0.1"
    c.ssh_logoff()


# ------------------------------------------------------------ socket options
def _linger(sock: socket.socket) -> tuple[int, int]:
    return struct.unpack("ii", sock.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8))


def test_socket_options_on_open_socket(tcp_echo):
    host, port = tcp_echo.address
    s = open_socket(host, port, 5)
    try:
        assert _linger(s) == (0, 0)          # Linger True, LingerTime 0: system default
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert s.gettimeout() == 0.0         # non-blocking
    finally:
        s.close()
    s = open_socket(host, port, 5, linger=False, in_buffer=96 * 1024, out_buffer=80 * 1024,
                    keepalive_time_ms=30_000, keepalive_interval_ms=1_500, nodelay=False)
    try:
        assert _linger(s) == (1, 0)          # Linger False: immediate (abortive) close
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 96 * 1024
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 80 * 1024
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1  # implied
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 2  # rounded up
        assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        s.close()
    s = open_socket(host, port, 5, linger_time=7, keepalive=True)
    try:
        assert _linger(s) == (1, 7)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        s.close()


def test_socket_options_from_spec_config(dante, sshd, test_user):
    c = make_client(test_user, Linger="False", InBufferSize=128 * 1024,
                    OutBufferSize=64 * 1024, KeepAliveTime=45_000, KeepAliveInterval=3_000,
                    FirewallType=3, FirewallHost="127.0.0.1", FirewallPort=dante.port)
    c.ssh_logon(sshd.host, sshd.port)
    try:
        sock = c._driver.sock  # the connection to the proxy carries the options
        assert _linger(sock) == (1, 0)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= 128 * 1024
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 64 * 1024
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 45
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 3
        assert run_echo(c) == b"through-the-proxy\n"
    finally:
        c.ssh_logoff()
    c = make_client(test_user, LingerTime=9, TCPKeepAlive="True")
    c.ssh_logon(sshd.host, sshd.port)
    try:
        assert _linger(c._driver.sock) == (1, 9)
        assert c._driver.sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    finally:
        c.ssh_logoff()


# ------------------------------------------------- scripted failure modes
@pytest.fixture(params=["blocking", "asyncio"])
def opener(request):
    """open_socket(), or open_socket_async() run on an event loop: the same
    handshakes (handshake.py) through either driver, byte for byte."""
    if request.param == "blocking":
        return open_socket

    def on_a_loop(*args, **kwargs):
        return asyncio.run(open_socket_async(*args, **kwargs))
    return on_a_loop


def _socks5_accept(p: proxies.ScriptedProxy, conn: socket.socket) -> None:
    p.read(conn, 3)
    conn.sendall(b"\x05\x00")
    head = p.read(conn, 5)
    p.read(conn, {1: 3 + 2, 4: 15 + 2, 3: head[4] + 2}[head[3]])


def test_socks5_bad_reply_is_reported(opener):
    def script(p, conn):
        p.read(conn, 3)
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=3, host="127.0.0.1", port=peer.port)
        with pytest.raises(ProxyError) as info:
            opener("127.0.0.1", 22, 5, proxy=proxy)
    assert info.value.code == 1036 and info.value.reason == "protocol"
    assert "not a SOCKS5 proxy?" in str(info.value)


def test_socks5_reply_with_domain_bound_address_and_early_data(opener):
    def script(p, conn):
        _socks5_accept(p, conn)
        conn.sendall(b"\x05\x00\x00\x03\x09proxy.lan\x00\x16" + b"SSH-2.0-scripted\r\n")
        time.sleep(0.5)

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=3, host="127.0.0.1", port=peer.port)
        s = opener("target.example", 2222, 5, proxy=proxy)
        try:
            s.setblocking(True)
            assert s.recv(100) == b"SSH-2.0-scripted\r\n"  # nothing after the reply was eaten
        finally:
            s.close()
    name = b"target.example"
    assert bytes(peer.received) == (b"\x05\x01\x00" + b"\x05\x01\x00\x03" + bytes([len(name)])
                                    + name + struct.pack(">H", 2222))


def test_socks5_local_resolution_sends_address(opener):
    def script(p, conn):
        _socks5_accept(p, conn)
        conn.sendall(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x16")

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings.from_url(f"socks5://127.0.0.1:{peer.port}")
        assert proxy.remote_dns is False
        opener("localhost", 2222, 5, proxy=proxy).close()
    assert bytes(peer.received).endswith(b"\x01\x7f\x00\x00\x01" + struct.pack(">H", 2222))


def test_silent_proxy_times_out(opener):
    listener, port = proxies.silent_listener()
    try:
        proxy = ProxySettings(type=1, host="127.0.0.1", port=port)
        start = time.monotonic()
        with pytest.raises(ProxyError) as info:
            opener("127.0.0.1", 22, 0.5, proxy=proxy)
        assert time.monotonic() - start < 5
    finally:
        listener.close()
    assert info.value.code == 10060 and info.value.reason == "timeout"
    assert "within 0.5 s" in str(info.value)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)


def test_proxy_closing_mid_handshake(opener):
    def script(p, conn):
        p.read(conn, 9)

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=2, host="127.0.0.1", port=peer.port)
        with pytest.raises(ProxyError) as info:
            opener("127.0.0.1", 22, 5, proxy=proxy)
    assert info.value.reason == "closed" and info.value.code == 1036
    assert not isinstance(info.value, TimeoutError)


def test_http_request_headers_and_early_banner(opener):
    def script(p, conn):
        p.read_until(conn, b"\r\n\r\n")
        # status, headers and the SSH banner in one segment
        conn.sendall(b"HTTP/1.1 200 Connection established\r\nX-A: b\r\n\r\nSSH-2.0-x\r\n")
        time.sleep(0.5)

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=1, host="127.0.0.1", port=peer.port, user="u s",
                              password="p:w", extra_headers="X-One: 1\r\nX-Two: 2\n")
        s = opener("::1", 22, 5, proxy=proxy)
        try:
            s.setblocking(True)
            assert s.recv(100) == b"SSH-2.0-x\r\n"
        finally:
            s.close()
    assert bytes(peer.received) == (b"CONNECT [::1]:22 HTTP/1.1\r\nHost: [::1]:22\r\n"
                                    b"Proxy-Authorization: Basic dSBzOnA6dw==\r\n"
                                    b"X-One: 1\r\nX-Two: 2\r\n\r\n")


def test_http_custom_authorization_header_replaces_basic(opener):
    def script(p, conn):
        p.read_until(conn, b"\r\n\r\n")
        conn.sendall(b"HTTP/1.0 200 OK\n\n")  # bare LFs are accepted too

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=1, host="127.0.0.1", port=peer.port, user="u",
                              password="p", extra_headers="Proxy-Authorization: Token abc")
        opener("h.example", 22, 5, proxy=proxy).close()
    assert bytes(peer.received).count(b"Proxy-Authorization") == 1
    assert b"Proxy-Authorization: Token abc\r\n" in peer.received


def test_http_header_size_cap(opener):
    def script(p, conn):
        p.read_until(conn, b"\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
        try:
            for _ in range(MAX_HTTP_HEADER // len(filler) + 2):
                conn.sendall(filler)
        except OSError:
            pass

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=1, host="127.0.0.1", port=peer.port)
        with pytest.raises(ProxyError, match="response header longer than"):
            opener("127.0.0.1", 22, 5, proxy=proxy)


def test_http_not_http_reply(opener):
    def script(p, conn):
        p.read_until(conn, b"\r\n\r\n")
        conn.sendall(b"\x05\xff\r\n\r\n")

    with proxies.ScriptedProxy(script) as peer:
        proxy = ProxySettings(type=1, host="127.0.0.1", port=peer.port)
        with pytest.raises(ProxyError, match="not an HTTP response"):
            opener("127.0.0.1", 22, 5, proxy=proxy)


def test_bad_firewall_data_is_a_usage_error():
    proxy = ProxySettings(type=1, host="127.0.0.1", extra_headers="no colon here")
    with pytest.raises(UsageError, match="FirewallData"):
        proxy.header_lines()


# ------------------------------------------------------------------ settings
def test_firewall_type_defaults_and_labels():
    assert ProxySettings(type=1, host="p").effective_port == 80
    for t in (2, 3, 10):
        assert ProxySettings(type=t, host="p").effective_port == 1080
    assert ProxySettings(type=3, host="p", port=9).effective_port == 9
    assert ProxySettings(type=10, host="::1", port=9).label == "SOCKS4A proxy [::1]:9"
    assert ProxySettings(type=1, host="h").label == "HTTP tunnel proxy h:80"
    with pytest.raises(UsageError):
        ProxySettings(type=4, host="p")
    assert not ProxySettings().enabled


@pytest.mark.parametrize("host,pattern,expected", [
    ("www.google.com", "www.google.com", True),
    ("WWW.Google.com.", "www.google.com", True),
    ("google.com", "www.google.com", False),
    ("10.0.0.7", "10.0.0.*", True),
    ("10.0.1.7", "10.0.0.*", False),
    ("a.b.example.com", "*.example.com", True),
    ("a.example.com", ".example.com", True),
    ("example.com", ".example.com", True),
    ("notexample.com", ".example.com", False),
    ("10.2.3.4", "10.0.0.0/8", True),
    ("11.2.3.4", "10.0.0.0/8", False),
    ("host.example", "10.0.0.0/8", False),
    ("::1", "[::1]", True),
    ("0:0::1", "::1", True),
    ("fd00::5", "fd00::/8", True),
    ("anything", "*", True),
    ("x", "", False),
])
def test_host_matches(host, pattern, expected):
    assert host_matches(host, pattern) is expected


def test_exceptions_list_parsing_and_bypass():
    assert parse_exceptions("host1;host2 ; 10.0.0.*;;") == ["host1", "host2", "10.0.0.*"]
    assert parse_exceptions(["a", " ", "b "]) == ["a", "b"]
    p = ProxySettings(type=3, host="proxy", exceptions="host1;10.0.0.*")  # type: ignore[arg-type]
    assert p.exceptions == ["host1", "10.0.0.*"]
    assert p.bypasses("HOST1") and p.bypasses("10.0.0.9") and not p.bypasses("host2")
    assert p.applies_to("host2") and not p.applies_to("host1")


def test_from_url():
    p = ProxySettings.from_url("socks5h://us%40er:p%3Ass@proxy.lan:1081")
    assert (p.type, p.host, p.port, p.user, p.password, p.remote_dns) == \
        (3, "proxy.lan", 1081, "us@er", "p:ss", True)
    assert ProxySettings.from_url("socks5://h").remote_dns is False
    assert ProxySettings.from_url("socks://h").type == 3
    assert ProxySettings.from_url("socks4://h").type == 2
    assert ProxySettings.from_url("socks4a://h:1").type == 10
    p = ProxySettings.from_url("proxy.corp:3128")
    assert (p.type, p.host, p.effective_port) == (1, "proxy.corp", 3128)
    assert ProxySettings.from_url("http://[::1]:8080/").host == "::1"
    assert ProxySettings.from_url("http://h").effective_port == 80
    with pytest.raises(UsageError, match="TLS to the proxy"):
        ProxySettings.from_url("https://u:secret@h:443")
    with pytest.raises(UsageError) as info:
        ProxySettings.from_url("ftp://u:secret@h")
    assert "secret" not in str(info.value)


def test_from_environment_precedence():
    env = {"HTTP_PROXY": "http://h1:1", "https_proxy": "http://h2:2", "ALL_PROXY": "socks5://h3:3"}
    assert ProxySettings.from_environment(env).host == "h3"  # type: ignore[union-attr]
    env.pop("ALL_PROXY")
    assert ProxySettings.from_environment(env).host == "h2"  # type: ignore[union-attr]
    env.pop("https_proxy")
    assert ProxySettings.from_environment(env).host == "h1"  # type: ignore[union-attr]
    env["REQUEST_METHOD"] = "GET"  # CGI: HTTP_PROXY may come from a request header
    assert ProxySettings.from_environment(env) is None
    env = {"all_proxy": "socks4://l:1", "ALL_PROXY": "socks4://u:1", "no_proxy": "a.com,:1,"
           "b.org:8080,[::1]:22,10.0.0.0/8,.c.net,*.d.io", "NO_PROXY": "ignored"}
    p = ProxySettings.from_environment(env)
    assert p is not None and p.host == "l"
    assert p.exceptions == [".a.com", ".b.org", "::1", "10.0.0.0/8", ".c.net", "*.d.io"]
    assert p.bypasses("a.com") and p.bypasses("x.a.com") and not p.bypasses("xa.com")
    assert p.bypasses("::1") and p.bypasses("10.1.1.1") and p.bypasses("c.net")
    assert ProxySettings.from_environment({}) is None
    assert ProxySettings.from_environment({"ALL_PROXY": "  "}) is None


def test_proxy_from_settings():
    assert proxy_from_settings(0) is None
    assert proxy_from_settings(0, auto_detect=True, env={}) is None
    p = proxy_from_settings(0, auto_detect=True, exceptions="x.y", firewall_data="A: b",
                            env={"ALL_PROXY": "socks5h://h:5", "NO_PROXY": "z"})
    assert p is not None and (p.type, p.host, p.port) == (3, "h", 5)
    assert p.exceptions == ["x.y", ".z"] and p.header_lines() == ["A: b"]
    p = proxy_from_settings(1, " proxy ", 0, "u", "pw", "", "a;b", auto_detect=True,
                            env={"ALL_PROXY": "socks5://ignored:1"})
    assert p is not None and (p.type, p.host, p.effective_port, p.user, p.password) == \
        (1, "proxy", 80, "u", "pw")
    assert p.exceptions == ["a", "b"]
    with pytest.raises(UsageError, match="needs a firewall host"):
        proxy_from_settings(3, "")


def test_empty_firewall_host_fails_logon_clearly(test_user):
    c = make_client(test_user, FirewallType=3)
    with pytest.raises(UsageError, match="needs a firewall host"):
        c.ssh_logon("127.0.0.1", 22)


# -------------------------------------------------------------- RateLimiter
def test_rate_limiter_token_bucket():
    r = RateLimiter(1000, now=0.0)
    assert r.allowance(0.0) == 1000          # starts with one second's worth
    r.consume(1000, 0.0)
    assert r.allowance(0.0) == 0
    assert r.delay(500, 0.0) == pytest.approx(0.5)
    assert r.allowance(0.25) == 250
    r.consume(250, 0.25)
    assert r.allowance(10.0) == 1000         # capped at the burst
    r.consume(3000, 10.0)                     # overdraw: a whole packet
    assert r.allowance(11.0) == 0
    assert r.delay(1, 11.0) == pytest.approx(1.001)
    assert r.allowance(13.0) == 1000
    assert r.delay(5000, 13.0) == 0.0         # never asks for more than the burst
    r.allowance(12.0)                          # a clock going backwards is ignored
    assert r.allowance(13.0) == 1000


def test_rate_limiter_average_rate_and_unlimited():
    r = RateLimiter(10_000, burst=1000, now=0.0)
    now, sent = 0.0, 0
    while now < 10.0:
        n = min(r.allowance(now), 700)
        r.consume(n, now)
        sent += n
        now += max(r.delay(700, now), 0.001)
    assert 10_000 * 10 <= sent <= 10_000 * 10 + 1000 + 700
    u = RateLimiter(0)
    assert u.unlimited and u.allowance() > 1 << 40 and u.delay(1 << 30) == 0.0
    u.consume(1 << 30)
    assert u.allowance() > 1 << 40


# --------------------------------------------- the asyncio API through proxies
@pytest.mark.parametrize("kind", ["socks5-auth", "http-auth", "socks4a", "http-wrong-password"])
def test_asyncio_api_logs_in_through_real_proxies(request, kind, sshd, test_user):
    """sshclient.aio.connect() does its proxy handshake on the event loop
    (handshake.py's steps, no worker thread) against dante, tinyproxy and
    ssh -D, with the blocking API's errors."""
    from sshclient import aio

    if kind == "socks5-auth":
        server = request.getfixturevalue("dante_auth")
        proxy = ProxySettings(type=3, host="127.0.0.1", port=server.port, user=test_user.name,
                              password=test_user.password)
    elif kind.startswith("http"):
        server = request.getfixturevalue("tinyproxy_auth")
        proxy = ProxySettings(type=1, host="127.0.0.1", port=server.port, user=PROXY_USER,
                              password="wrong" if "wrong" in kind else PROXY_PASS)
    else:
        server = request.getfixturevalue("ssh_socks")
        proxy = ProxySettings(type=10, host="127.0.0.1", port=server.port)

    async def main():
        async with aio.connect("localhost", sshd.port, username=test_user.name,
                               password=test_user.password, accept_any_host_key=True,
                               proxy=proxy, timeout=20) as conn:
            return (await conn.exec("echo through")).stdout

    if "wrong" in kind:
        with pytest.raises(ProxyError) as info:
            asyncio.run(main())
        assert info.value.reason == "auth" and info.value.reply in (401, 407)
    else:
        assert asyncio.run(main()) == b"through\n"

"""Shared pytest fixtures: real SSH peers and TCP endpoints on loopback.

The machinery lives in ``tests/servers.py`` (no pytest dependency, also used
by ``bench/``). This file must not import ``sshclient``: tests do that.

Fixtures
--------
test_user           session  servers.TestUser (sshclient-test / sshclient-test-pass)
client_keys         session  servers.ClientKeys, e.g. client_keys["rsa-pem-enc"]
sshd                session  servers.SshdServer with the default config
sshd_factory        function sshd_factory(extra_config=None, **kw) -> started SshdServer
dropbear            session  servers.DropbearServer
dropbear_factory    function dropbear_factory(host_key_types=..., extra_args=(), **kw)
tcp_source_factory  function tcp_source_factory(nbytes, **kw) -> servers.TcpSource
tcp_echo            function servers.TcpEcho
tcp_sink            function servers.TcpSink
make_peer           function make_peer(**PeerConfig) -> a scripted peer.HostilePeer

When servers cannot run here (not root, sshd/dropbear missing) the fixtures
skip, unless SSHCLIENT_REQUIRE_SERVERS=1 (the default when CI is set), in
which case they fail: CI must never go green by skipping every real-peer test.

On a failing test, the part of each running server's log written during the
test is attached to the report ("sshd log" / "dropbear log" sections).
"""

from __future__ import annotations

from typing import Dict, List

import pytest

import servers
from peers_fixture import start, unavailable


@pytest.fixture(scope="session")
def test_user() -> servers.TestUser:
    try:
        return servers.ensure_test_user()
    except servers.ServerUnavailable as e:
        unavailable(str(e))


@pytest.fixture(scope="session")
def client_keys(test_user):
    try:
        keys = servers.ClientKeys.generate()
    except servers.ServerUnavailable as e:
        unavailable(str(e))
    yield keys
    keys.close()


@pytest.fixture(scope="session")
def sshd(test_user, client_keys):
    server = start(servers.SshdServer)
    yield server
    server.stop()


@pytest.fixture
def sshd_factory(test_user, client_keys):
    started: List[servers.SshdServer] = []

    def factory(extra_config=None, **kwargs) -> servers.SshdServer:
        server = start(servers.SshdServer, extra_config, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def dropbear(test_user, client_keys):
    server = start(servers.DropbearServer)
    yield server
    server.stop()


@pytest.fixture
def dropbear_factory(test_user, client_keys):
    started: List[servers.DropbearServer] = []

    def factory(*args, **kwargs) -> servers.DropbearServer:
        server = start(servers.DropbearServer, *args, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def tcp_source_factory():
    started: List[servers.TcpSource] = []

    def factory(nbytes: int, **kwargs) -> servers.TcpSource:
        src = servers.TcpSource(nbytes, **kwargs)
        started.append(src)
        return src

    yield factory
    for src in started:
        src.stop()


@pytest.fixture
def tcp_echo():
    echo = servers.TcpEcho()
    yield echo
    echo.stop()


@pytest.fixture
def tcp_sink():
    sink = servers.TcpSink()
    yield sink
    sink.stop()


# ---------------------------------------------------------------------------
# Attach server logs to failing tests
# ---------------------------------------------------------------------------

_LOG_OFFSETS_KEY = pytest.StashKey[Dict[int, int]]()
_MAX_LOG_CHARS = 20000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item.stash[_LOG_OFFSETS_KEY] = {id(s): s.log_size() for s in servers.running_servers()}
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or call.when == "collect":
        return
    offsets = item.stash.get(_LOG_OFFSETS_KEY, {})
    for s in servers.running_servers():
        text = s.log_since(offsets.get(id(s), 0))
        if not text:
            continue
        if len(text) > _MAX_LOG_CHARS:
            text = "[... earlier lines cut ...]\n" + text[-_MAX_LOG_CHARS:]
        report.sections.append((f"{s.kind} log {s.host}:{s.port} ({call.when})", text))


@pytest.fixture
def make_peer():
    """make_peer(**PeerConfig fields) -> a running HostilePeer, closed after the test.
    The peer must not have hit an unexpected error unless allow_errors=True."""
    from peer import HostilePeer  # imported here: it uses sshclient's key derivation

    peers: list[tuple[HostilePeer, bool]] = []

    def factory(allow_errors: bool = False, **config) -> HostilePeer:
        peer = HostilePeer(**config)
        peers.append((peer, allow_errors))
        return peer

    yield factory
    for peer, _ in peers:
        peer.close()
    for peer, allowed in peers:
        if not allowed:
            assert not peer.errors(), f"the peer failed: {peer.errors()!r}"

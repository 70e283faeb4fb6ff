"""run_many() at scale (issue 12, item 5): 200 connections to one local sshd
all at once and 50 at a time, a mix of hosts that fail in different ways,
the host forms it takes ("name", "name:port", "[address]:port"), its
argument checks, and that nothing stays open afterwards.

The sshd listens on several ports of 127.0.0.1 and every host runs
`echo $SSH_CONNECTION`, whose last field is the server port it reached: each
result shows which kind of slot it belongs to, so a result in the wrong
place is seen. On one more port a Match block denies the test user, which
to the client is exactly a wrong password. No test here measures time."""
from __future__ import annotations

import asyncio
import collections
import os
import re
import resource
import subprocess
import threading
from typing import Any, Callable

import pytest

import servers
import sshclient
from peers_fixture import start
from sshclient import aio
from sshclient.aio import ExecResult
from sshclient.connect_args import host_and_port as _host_and_port
from sshclient.errors import ConnectTimeoutError

N = 200
GOOD_PORTS = 8   # sshd listens on at most 16 sockets: 8 good + 1 denying
COMMAND = "echo $SSH_CONNECTION"


# ------------------------------------------------------------------ helpers
def sshd_knows(keyword: str) -> bool:
    """Whether this sshd has `keyword` (PerSourcePenalties is OpenSSH 9.8+):
    `sshd -T` lists every keyword it knows; its version is the fallback."""
    path = servers._which("sshd")
    if path is None:
        return False
    shown = subprocess.run([path, "-T", "-f", "/dev/null"], capture_output=True, text=True)
    if shown.returncode == 0:
        return any(line.split(" ", 1)[0] == keyword.lower()
                   for line in shown.stdout.splitlines())
    version = subprocess.run([path, "-V"], capture_output=True, text=True).stderr
    found = re.search(r"OpenSSH_(\d+)\.(\d+)", version)
    return keyword == "PerSourcePenalties" and found is not None and \
        (int(found[1]), int(found[2])) >= (9, 8)


def open_fds() -> set[str]:
    """This process's open file descriptors, each with what it refers to."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.add(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:  # the directory listdir() itself had open
            pass
    return fds


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(servers.free_port())
    return sorted(ports)


def server_port(result: Any) -> int:
    """The server port in a result of COMMAND ("client cport server sport")."""
    assert isinstance(result, ExecResult), repr(result)
    assert result.exit_status == 0, result
    fields = result.stdout.split()
    assert len(fields) == 4 and fields[2] == b"127.0.0.1", result.stdout
    return int(fields[3])


class Fanout:
    """One sshd on GOOD_PORTS ports plus `denied_port`, where the test user
    is refused whatever the password."""

    def __init__(self, server: servers.SshdServer, ports: list[int], denied_port: int,
                 user: servers.TestUser) -> None:
        self.server = server
        self.ports = ports
        self.denied_port = denied_port
        self.user = user

    def run_many(self, hosts: list[str], concurrency: int,
                 progress: Callable[[str, Any], object] | None = None,
                 loop_kind: str = "uvloop") -> list[Any]:
        async def main() -> list[Any]:
            return await asyncio.wait_for(aio.run_many(
                hosts, COMMAND, concurrency=concurrency, progress=progress,
                username=self.user.name, password=self.user.password,
                accept_any_host_key=True, timeout=120), 600)  # 600: a hang guard only
        if loop_kind == "asyncio":
            return asyncio.run(main())
        return aio.run(main())


@pytest.fixture(scope="module")
def enough_fds():
    """Room for N client sockets and then some (a CI runner may give 1024,
    or less); as root the hard limit may be raised too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 4 * N + 256
    if soft != resource.RLIM_INFINITY and soft < need:
        raised_hard = hard if hard == resource.RLIM_INFINITY else max(hard, need)
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, raised_hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.fixture(scope="module")
def fanout(test_user, client_keys, enough_fds):
    *ports, denied = free_ports(GOOD_PORTS + 1)
    config = [
        "MaxStartups 400:30:800",        # N unauthenticated at once, none dropped
        *(f"Port {p}" for p in (*ports, denied)),
    ]
    if sshd_knows("PerSourcePenalties"):
        # OpenSSH 9.8+ would shut 127.0.0.1 out after the refused logins
        config.append("PerSourcePenalties no")
    config += [f"Match LocalPort {denied}", f"DenyUsers {test_user.name}"]
    # VERBOSE: DEBUG1 for N sessions at once is a lot of log
    server = start(servers.SshdServer, config, port=ports[0], log_level="VERBOSE")
    yield Fanout(server, ports, denied, test_user)
    server.stop()


@pytest.fixture(autouse=True)
def warm_loops():
    """uvloop keeps a pipe pair open from its first loop on: open it before
    any test counts file descriptors."""
    aio.run(asyncio.sleep(0))
    asyncio.run(asyncio.sleep(0))


# -------------------------------------------------------------------- tests
@pytest.mark.parametrize("concurrency,loop_kind",
                         [(N, "uvloop"), (N, "asyncio"), (50, "uvloop")])
def test_200_connections(fanout, concurrency, loop_kind):
    if loop_kind == "uvloop":
        pytest.importorskip("uvloop")
    # slot i reaches port ports[i % 8], written as "[127.0.0.1]:port" every third slot
    hosts = [(f"[127.0.0.1]:{port}" if i % 3 == 0 else f"127.0.0.1:{port}")
             for i, port in ((i, fanout.ports[i % GOOD_PORTS]) for i in range(N))]
    calls: list[tuple[str, Any]] = []
    before = open_fds()

    results = fanout.run_many(hosts, concurrency,
                              lambda host, outcome: calls.append((host, outcome)), loop_kind)

    assert open_fds() == before, "connections left open"
    assert len(results) == N
    for i, result in enumerate(results):      # in input order, each with its own slot's port
        assert server_port(result) == fanout.ports[i % GOOD_PORTS], i
    assert len(set(map(id, results))) == N
    # progress: once per host, with exactly the outcome run_many returned for it
    assert len(calls) == N
    assert collections.Counter(host for host, _ in calls) == collections.Counter(hosts)
    assert sorted(id(outcome) for _, outcome in calls) == sorted(map(id, results))
    for host, outcome in calls:
        assert host.endswith(f":{server_port(outcome)}")


def test_failures_are_those_hosts_results(fanout):
    refused = free_ports(1)[0]   # nobody listens there
    good = [f"127.0.0.1:{p}" for p in fanout.ports]
    kinds: dict[str, Callable[[Any], None]] = {}

    def expect_refused(outcome: Any) -> None:
        assert isinstance(outcome, sshclient.SSHConnectionError), repr(outcome)
        assert isinstance(outcome, ConnectionError) and outcome.code == 10061

    def expect_bad_name(outcome: Any) -> None:
        assert isinstance(outcome, sshclient.SSHConnectionError), repr(outcome)
        assert outcome.code == 11001 and "not a valid host name" in str(outcome)

    def expect_usage(outcome: Any) -> None:
        assert isinstance(outcome, sshclient.UsageError), repr(outcome)
        assert outcome.code == 211

    def expect_denied(outcome: Any) -> None:
        assert isinstance(outcome, sshclient.AuthenticationError), repr(outcome)
        assert not isinstance(outcome, ConnectionError)

    kinds[f"127.0.0.1:{refused}"] = expect_refused
    kinds[f"bad host:{fanout.ports[0]}"] = expect_bad_name        # a space
    kinds[f"127.0.0.1..:{fanout.ports[0]}"] = expect_bad_name     # an empty label
    kinds["127.0.0.1:ssh"] = expect_usage                         # a port that is no number
    kinds["127.0.0.1:70000"] = expect_usage                       # out of range
    kinds[f"[127.0.0.1:{fanout.ports[0]}"] = expect_usage         # no closing bracket
    kinds[f"127.0.0.1:{fanout.denied_port}"] = expect_denied      # "wrong password"
    failing = list(kinds)
    # every fourth host fails, each kind several times, between working ones
    hosts = [failing[i // 4 % len(failing)] if i % 4 == 3 else good[i % len(good)]
             for i in range(8 * 4 * len(failing))]
    calls: list[tuple[str, Any]] = []
    before = open_fds()

    results = fanout.run_many(hosts, 40, lambda host, outcome: calls.append((host, outcome)))

    assert open_fds() == before, "connections left open"
    assert len(results) == len(hosts)
    for host, result in zip(hosts, results):
        if host in kinds:
            kinds[host](result)
        else:
            assert server_port(result) == int(host.rsplit(":", 1)[1]), host
    assert sorted(id(outcome) for _, outcome in calls) == sorted(map(id, results))
    assert collections.Counter(host for host, _ in calls) == collections.Counter(hosts)


def test_a_failing_progress_callback_stops_the_rest_and_closes_them(fanout):
    hosts = [f"127.0.0.1:{fanout.ports[i % GOOD_PORTS]}" for i in range(40)]
    calls = []

    def progress(host: str, outcome: Any) -> None:
        calls.append(host)
        raise LookupError("the callback's own bug")

    async def main() -> None:
        with pytest.raises(LookupError, match="own bug"):
            await aio.run_many(hosts, "sleep 1", concurrency=20, progress=progress,
                               username=fanout.user.name, password=fanout.user.password,
                               accept_any_host_key=True, timeout=120)
        # nothing of run_many's is left running on the loop
        left = [task for task in asyncio.all_tasks()
                if task.get_coro().__qualname__.startswith("run_many.")]
        assert not left

    before = open_fds()
    aio.run(asyncio.wait_for(main(), 600))
    assert open_fds() == before, "connections left open"
    assert 1 <= len(calls) < len(hosts)


def test_hosts_stuck_in_connect_do_not_hold_up_the_others(fanout, monkeypatch):
    """Many hosts whose TCP connect hangs (more than any thread pool would
    have threads): the working hosts must still all finish while those are
    stuck. Only a hang guard here, no timing."""
    stuck_port = 9
    release = threading.Event()
    real_open_socket = aio.open_socket_async

    async def open_socket(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if port == stuck_port:  # a host that never answers the SYN, until released
            while not release.is_set():
                await asyncio.sleep(0.05)
            raise ConnectTimeoutError("no answer (released by the test)", code=10060)
        return await real_open_socket(host, port, *args, **kwargs)
    monkeypatch.setattr(aio, "open_socket_async", open_socket)
    stuck = [f"127.0.0.1:{stuck_port}"] * 40          # first: they are queued first
    good = [f"127.0.0.1:{port}" for port in fanout.ports] * 3
    hosts = stuck + good

    async def main() -> list[Any]:
        good_done = asyncio.Event()
        finished: list[str] = []

        def progress(host: str, outcome: Any) -> None:
            if host in good:
                finished.append(host)
                if len(finished) == len(good):
                    good_done.set()
        task = asyncio.ensure_future(aio.run_many(
            hosts, COMMAND, concurrency=len(hosts), progress=progress,
            username=fanout.user.name, password=fanout.user.password,
            accept_any_host_key=True, timeout=120))
        try:
            await asyncio.wait_for(good_done.wait(), 120)  # while the stuck ones still hang
        finally:
            release.set()
        return await task

    results = aio.run(main())
    for result in results[:len(stuck)]:
        assert isinstance(result, ConnectTimeoutError), repr(result)
    for host, result in zip(good, results[len(stuck):]):
        assert server_port(result) == int(host.rsplit(":", 1)[1])


@pytest.mark.parametrize("target,expected", [
    ("example.org", ("example.org", 22)),
    ("example.org:2222", ("example.org", 2222)),
    ("127.0.0.1:22", ("127.0.0.1", 22)),
    ("[127.0.0.1]:2222", ("127.0.0.1", 2222)),
    ("[::1]:2222", ("::1", 2222)),
    ("[::1]", ("::1", 22)),
    ("::1", ("::1", 22)),                       # a bare IPv6 address: no port in it
    ("fe80::1:2222", ("fe80::1:2222", 22)),     # ... however it ends
    ("[fe80::1%eth0]:22", ("fe80::1%eth0", 22)),
    ("example.org:0", ("example.org", 0)),      # connect() says 0 is out of range
])
def test_host_forms(target, expected):
    assert _host_and_port(target, 22) == expected


@pytest.mark.parametrize("target", [
    "[::1", "[::1]2222", "[::1]:", "example.org:", "example.org:ssh", "example.org: 22",
    "example.org:+22", "example.org:-1", "example.org:\u0662\u0662",  # Arabic-Indic digits
])
def test_malformed_host_forms(target):
    with pytest.raises(sshclient.UsageError) as info:
        _host_and_port(target, 22)
    assert info.value.code == 211


def test_a_host_must_be_a_str():
    with pytest.raises(sshclient.ArgumentTypeError):
        _host_and_port(b"example.org", 22)


def run_many_with(hosts: Any = ("127.0.0.1:1",), **kw: Any) -> list[Any]:
    """run_many with arguments that fail before any connection is tried."""
    return aio.run(aio.run_many(hosts, "true", username="u", accept_any_host_key=True, **kw))


@pytest.mark.parametrize("concurrency", [0, -1])
def test_concurrency_must_be_positive(concurrency):
    with pytest.raises(sshclient.UsageError, match="positive"):
        run_many_with(concurrency=concurrency)


@pytest.mark.parametrize("concurrency", [1.5, "10", None, True])
def test_concurrency_must_be_an_int(concurrency):
    with pytest.raises(sshclient.ArgumentTypeError, match="concurrency"):
        run_many_with(concurrency=concurrency)


def test_hosts_must_not_be_one_str():
    # a str is an iterable of one-character host names: never what was meant
    with pytest.raises(sshclient.ArgumentTypeError, match="hosts"):
        run_many_with("127.0.0.1")


def test_no_hosts_no_results():
    assert run_many_with([]) == []

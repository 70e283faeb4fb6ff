"""Opening the TCP connection: address families, local binding, socket options,
firewalls/proxies (see `proxy`), and the outbound rate limiter (MaxTransferRate).

Kept apart from the driver so that proxies (SOCKS, HTTP CONNECT) and socket
settings have one home.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Sequence

from .deadline import Deadline
from .errors import ConnectTimeoutError, SSHConnectionError, socket_error_code
from .handshake import negotiate, negotiate_async
from .proxy import REASON_CONNECT, ProxySettings, proxy_error
from .validate import check_host

_FAMILIES = {0: [socket.AF_INET], 1: [socket.AF_INET6], 2: [socket.AF_INET6, socket.AF_INET]}


def address_families(ipv6: int) -> list[int]:
    """The spec's UseIPv6: 0 IPv4 only, 1 IPv6 only, 2 IPv6 then IPv4."""
    return list(_FAMILIES.get(int(ipv6), [socket.AF_INET]))


def apply_socket_options(sock: socket.socket, *, nodelay: bool = True, keepalive: bool = False,
                         linger: bool = True, linger_time: int = 0, in_buffer: int = 0,
                         out_buffer: int = 0, keepalive_time_ms: int = 0,
                         keepalive_interval_ms: int = 0) -> None:
    """The spec's socket settings on a TCP socket (best called before connect,
    so that the receive buffer size shapes the TCP window).

    - ``linger`` True and ``linger_time`` 0: the system default (close()
      returns at once; the kernel sends what is pending in the background).
      ``linger`` True and ``linger_time`` > 0: SO_LINGER on, that many seconds.
      ``linger`` False: SO_LINGER on with 0 seconds -- an immediate, abortive
      close (RST; unsent data is dropped).
    - ``in_buffer`` / ``out_buffer`` > 0: SO_RCVBUF / SO_SNDBUF (the kernel
      may round or cap the value; Linux reports twice the request).
    - ``keepalive_time_ms`` / ``keepalive_interval_ms`` > 0 (milliseconds,
      rounded up to whole seconds): TCP_KEEPIDLE / TCP_KEEPINTVL; either one
      turns SO_KEEPALIVE on, like ``keepalive``.
    """
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if in_buffer > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(in_buffer))
    if out_buffer > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, int(out_buffer))
    if not linger:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif linger_time > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, min(int(linger_time), 65535)))
    if keepalive or keepalive_time_ms > 0 or keepalive_interval_ms > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # TCP_KEEPIDLE on Linux/BSD; macOS calls it TCP_KEEPALIVE.
        idle_opt = getattr(socket, "TCP_KEEPIDLE", None)
        if idle_opt is None and sys.platform == "darwin":
            idle_opt = getattr(socket, "TCP_KEEPALIVE", None)
        for ms, opt in ((keepalive_time_ms, idle_opt),
                        (keepalive_interval_ms, getattr(socket, "TCP_KEEPINTVL", None))):
            if ms > 0 and opt is not None:
                seconds = min(max(1, -(-int(ms) // 1000)), 32767)
                sock.setsockopt(socket.IPPROTO_TCP, opt, seconds)


def _new_socket(family: int, kind: int, proto: int, local_host: str, local_port: int,
                options: dict) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    try:
        if local_host or local_port:
            sock.bind((local_host or ("::" if family == socket.AF_INET6 else "0.0.0.0"),
                       local_port))
        apply_socket_options(sock, **options)
    except BaseException:
        sock.close()
        raise
    return sock


def _candidates(target: _Target, found: list[Any]) -> tuple[list[Any], OSError | None]:
    """The addresses to try, in family order, from one lookup per family
    (its getaddrinfo() result, or the OSError it raised)."""
    addresses: list[Any] = []
    last: OSError | None = None
    for result in found:
        if isinstance(result, OSError):
            last = result
        else:
            addresses += result
    return addresses, last


def _attempt(target: _Target, deadline: Deadline, address: Any) -> tuple[socket.socket, Any,
                                                                         float | None]:
    """A socket for one address, bound and set up; the address; its time."""
    attempt = deadline.bound(target.timeout)
    if attempt is not None and attempt <= 0:
        raise socket.timeout("timed out")
    family, kind, proto, _name, addr = address
    return (_new_socket(family, kind, proto, target.local_host, target.local_port,
                        target.options), addr, attempt)


def _lookup(target: _Target, family: int) -> Any:
    try:
        return socket.getaddrinfo(target.host, target.port, family, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return exc


def _connect(target: _Target, deadline: Deadline) -> socket.socket:
    """First address of the target (in family order) that accepts; raises the
    last OSError. Each attempt has `timeout` seconds, all of them together
    what is left before `deadline`."""
    addresses, last_error = _candidates(target, [_lookup(target, f) for f in target.families])
    for address in addresses:
        sock, addr, attempt = _attempt(target, deadline, address)
        try:
            sock.settimeout(attempt)
            sock.connect(addr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError("no address to connect to")


async def _all_of(lookups: Sequence[Awaitable[Any]]) -> list[Any]:
    """Each lookup's result or exception, the lookups running at once; one
    alone is awaited as it is (gather() would cost it a task, on every
    connection)."""
    if len(lookups) != 1:
        return list(await asyncio.gather(*lookups, return_exceptions=True))
    try:
        return [await lookups[0]]
    except Exception as exc:  # as gather(return_exceptions=True) gives it
        return [exc]


async def _connect_async(target: _Target, deadline: Deadline) -> socket.socket:
    """_connect() on the running event loop."""
    loop = asyncio.get_running_loop()
    lookups = [loop.getaddrinfo(target.host, target.port, family=f, type=socket.SOCK_STREAM)
               for f in target.families]
    addresses, last_error = _candidates(target, await _all_of(lookups))
    for address in addresses:
        sock, addr, attempt = _attempt(target, deadline, address)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, addr), attempt)
        except asyncio.TimeoutError:
            sock.close()
            last_error = socket.timeout("timed out")
            continue
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise last_error or OSError("no address to connect to")


@dataclass
class _Target:
    """Where a TCP connect goes (the proxy, when one applies) and how."""
    host: str
    port: int
    timeout: float | None
    families: list[int]
    local_host: str
    local_port: int
    options: dict


@dataclass
class _Plan:
    """open_socket()'s arguments, checked: the connect, and the tunnel a
    proxy is asked for (None: straight to the server)."""
    target: _Target
    proxy: ProxySettings | None
    host: str
    port: int
    deadline: Deadline

    def unreachable(self, exc: OSError) -> SSHConnectionError:
        code = socket_error_code(exc)
        if self.proxy is not None:
            return proxy_error(f"cannot connect to {self.proxy.label} (for {self.host}:"
                               f"{self.port}): {exc}", code, proxy=self.proxy.label,
                               reason=REASON_CONNECT)
        cls = ConnectTimeoutError if code == ConnectTimeoutError.default_code \
            else SSHConnectionError
        return cls(f"cannot connect to {self.host}:{self.port}: {exc}", code=code)

    def handshake_timeout(self) -> float | None:
        self.deadline.check()  # the time went on the connect: no handshake to bound
        return self.deadline.bound(self.target.timeout)


def _plan(host: str, port: int, timeout: float | None, *, local_host: str = "",
          local_port: int = 0, ipv6: int = 0, nodelay: bool = True, keepalive: bool = False,
          proxy: ProxySettings | None = None, linger: bool = True, linger_time: int = 0,
          in_buffer: int = 0, out_buffer: int = 0, keepalive_time_ms: int = 0,
          keepalive_interval_ms: int = 0, deadline: Deadline | None = None) -> _Plan:
    # Every front end comes through here: no name reaches the resolver unchecked.
    check_host(host)
    if proxy is not None and proxy.enabled:
        check_host(proxy.host, "proxy host")
    if timeout is not None and timeout <= 0:
        timeout = None
    options = dict(nodelay=nodelay, keepalive=keepalive, linger=linger,
                   linger_time=linger_time, in_buffer=in_buffer, out_buffer=out_buffer,
                   keepalive_time_ms=keepalive_time_ms,
                   keepalive_interval_ms=keepalive_interval_ms)
    tunnel = proxy if proxy is not None and proxy.applies_to(host) else None
    where = (tunnel.host, tunnel.effective_port) if tunnel is not None else (host, port)
    target = _Target(where[0], where[1], timeout, address_families(ipv6), local_host,
                     local_port, options)
    return _Plan(target, tunnel, host, port, deadline or Deadline(None))


def open_socket(host: str, port: int, timeout: float | None, **settings: Any) -> socket.socket:
    """A connected, non-blocking TCP socket to ``host:port``.

    ``ipv6``: the spec's UseIPv6 (0 v4 only, 1 v6 only, 2 v6 then v4); it
    also governs the connection to a proxy and names this side resolves for
    one.  ``timeout`` (seconds, None or 0: none) bounds each connection
    attempt, and, through a proxy, the proxy's handshake; a ``deadline``
    (a login's) bounds all of it together.  ``proxy``: used
    unless it is None, of type 0, or ``host`` is in its exceptions.  The
    other keywords (``local_host``, ``local_port``, ``nodelay``,
    ``keepalive``, ``linger``, ...) are the spec's socket settings, see
    `apply_socket_options`.

    Raises `SSHConnectionError` (code from the socket error: 10061 refused,
    10060 timed out, 11001 host not found, ...) or, for proxy failures, its
    subclass `ProxyError` (see `proxy`).
    """
    plan = _plan(host, port, timeout, **settings)
    try:
        sock = _connect(plan.target, plan.deadline)
    except OSError as exc:
        raise plan.unreachable(exc) from None
    if plan.proxy is not None:
        try:
            negotiate(sock, plan.proxy, host, port, plan.handshake_timeout(),
                      plan.target.families)
        except BaseException:
            sock.close()
            raise
    sock.setblocking(False)
    return sock


async def open_socket_async(host: str, port: int, timeout: float | None,
                            **settings: Any) -> socket.socket:
    """open_socket() on the running event loop: the same checks, limits and
    errors, with the loop's resolver, connect and the same proxy handshakes."""
    plan = _plan(host, port, timeout, **settings)
    try:
        sock = await _connect_async(plan.target, plan.deadline)
    except OSError as exc:
        raise plan.unreachable(exc) from None
    if plan.proxy is not None:
        try:
            await negotiate_async(sock, plan.proxy, host, port, plan.handshake_timeout(),
                                  plan.target.families)
        except BaseException:
            sock.close()
            raise
    return sock


class RateLimiter:
    """Token bucket for MaxTransferRate (outbound bytes per second).

    ``rate`` <= 0 means unlimited.  The bucket holds at most ``burst`` bytes
    (default: one second's worth) and starts full.  A driver asks
    ``allowance(now)`` how many bytes it may send, sends up to that, then
    ``consume(n)``.  ``consume`` may overdraw the bucket (a driver that must
    send a whole packet can); the debt is paid back before anything more is
    allowed.  ``delay(n, now)`` says how long to wait before ``n`` bytes (at
    most ``burst``) are allowed -- a select() timeout.  ``now`` is
    ``time.monotonic()`` seconds; omit it to use the clock.
    """

    def __init__(self, rate: float, burst: float | None = None,
                 now: float | None = None) -> None:
        self.rate = float(rate)
        self.burst = max(1.0, float(burst) if burst is not None else self.rate)
        self._tokens = self.burst
        self._stamp = time.monotonic() if now is None else now

    @property
    def unlimited(self) -> bool:
        return self.rate <= 0

    def _refill(self, now: float | None) -> None:
        now = time.monotonic() if now is None else now
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = max(self._stamp, now)

    def allowance(self, now: float | None = None) -> int:
        """Bytes that may be sent now (sys.maxsize when unlimited)."""
        if self.unlimited:
            return sys.maxsize
        self._refill(now)
        return max(0, int(self._tokens))

    def consume(self, n: int, now: float | None = None) -> None:
        """Record ``n`` bytes sent (may overdraw)."""
        if self.unlimited or n <= 0:
            return
        self._refill(now)
        self._tokens -= n

    def delay(self, n: int = 1, now: float | None = None) -> float:
        """Seconds until ``min(n, burst)`` bytes are allowed (0.0 if now)."""
        if self.unlimited:
            return 0.0
        self._refill(now)
        need = min(float(max(n, 1)), self.burst) - self._tokens
        return 0.0 if need <= 0 else need / self.rate

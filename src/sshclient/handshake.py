"""Proxy handshakes (SOCKS4, SOCKS4A, SOCKS5, HTTP CONNECT), sans-IO.

Each handshake is a generator of steps; a driver carries the steps out on a
connected socket and sends each result back in:

    Send(data)        write all of it
    Recv(n)           exactly n bytes (the proxy closing first is an error)
    RecvHead()        an HTTP response header block, up to its blank line,
                      leaving what follows (the SSH banner may come along)
    Resolve(host)     a local name lookup, for SOCKS4 and SOCKS5 without
                      remote DNS: the address as text

`negotiate()` drives it with blocking socket calls, `negotiate_async()` with
the event loop's, so the blocking and asyncio front ends share every byte of
the protocols (and a future SOCKS server can read the same tables).
"""
from __future__ import annotations

import asyncio
import base64
import ipaddress
import re
import socket
import struct
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Union

from . import socks
from .errors import UsageError, socket_error_code
from .proxy import (
    FIREWALL_SOCKS4,
    FIREWALL_SOCKS4A,
    FIREWALL_SOCKS5,
    FIREWALL_TUNNEL,
    MAX_HTTP_HEADER,
    REASON_AUTH,
    REASON_CLOSED,
    REASON_CONNECT,
    REASON_PROTOCOL,
    REASON_REFUSED,
    REASON_RESOLVE,
    REASON_TIMEOUT,
    REASON_UNREACHABLE,
    ProxyError,
    ProxySettings,
    _ip,
    _norm_host,
    logger,
    proxy_error,
)


@dataclass
class Send:
    data: bytes
    doing: str


@dataclass
class Recv:
    n: int
    doing: str


@dataclass
class RecvHead:
    doing: str


@dataclass
class Resolve:
    host: str
    families: Sequence[int]


Step = Union[Send, Recv, RecvHead, Resolve]
Steps = Generator[Step, Any, None]


class _Context:
    """What the steps' errors are worded with."""

    def __init__(self, proxy: ProxySettings, timeout: float | None) -> None:
        self.proxy = proxy
        self.timeout = timeout

    def error(self, text: str, reason: str = REASON_PROTOCOL, code: int | None = None,
              reply: int | None = None) -> ProxyError:
        return proxy_error(f"{self.proxy.label}: {text}", ProxyError.default_code
                           if code is None else code, proxy=self.proxy.label, reason=reason,
                           reply=reply)

    def os_error(self, exc: OSError, doing: str) -> ProxyError:
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return self.error(f"no answer while {doing} within {self.timeout:g} s",
                              REASON_TIMEOUT, 10060)
        return self.error(f"{doing} failed: {exc}", REASON_CONNECT, socket_error_code(exc))

    def closed(self, doing: str, got: bytes = b"") -> ProxyError:
        return self.error(f"closed the connection while {doing}"
                          + (f" (got {got[:200]!r})" if got else ""), REASON_CLOSED)

    def unresolved(self, host: str, exc: OSError | None) -> ProxyError:
        return ProxyError(f"{self.proxy.label}: cannot resolve {host!r} locally: {exc}", 11001,
                          proxy=self.proxy.label, reason=REASON_RESOLVE)


class _Exact:
    """Exactly `step.n` bytes, however they come; the proxy closing first is
    an error naming what we were doing."""

    def __init__(self, ctx: _Context, step: Recv) -> None:
        self.ctx, self.step = ctx, step
        self.buf = bytearray()

    @property
    def missing(self) -> int:
        return self.step.n - len(self.buf)

    def add(self, chunk: bytes) -> None:
        if not chunk:
            raise self.ctx.closed(self.step.doing)
        self.buf += chunk


class _HeadReader:
    """An HTTP response header block read by peeking: each round, how much
    of what is waiting belongs to the header; the rest stays in the socket."""

    def __init__(self, ctx: _Context, doing: str) -> None:
        self.ctx, self.doing = ctx, doing
        self.head = bytearray()
        self._complete = False

    def take(self, peeked: bytes) -> int:
        """How much of the `peeked` bytes to receive now."""
        if not peeked:
            raise self.ctx.closed(self.doing, bytes(self.head))
        tail = bytes(self.head[-3:])
        window = tail + peeked
        ends = [i + len(m) for m in (b"\r\n\r\n", b"\n\n") if (i := window.find(m)) >= 0]
        take = min(ends) - len(tail) if ends else len(peeked)
        if len(self.head) + take > MAX_HTTP_HEADER:
            raise self.ctx.error(f"response header longer than {MAX_HTTP_HEADER} bytes")
        self._complete = bool(ends)
        return take

    def received(self, got: bytes, wanted: int) -> bytes | None:
        """The whole header once it is in, else None."""
        self.head += got
        return bytes(self.head) if self._complete and len(got) == wanted else None


def _first_address(ctx: _Context, step: Resolve, found: Sequence[Any]) -> str:
    """The first address of the lookups, one per family in order (each a
    getaddrinfo() result or the OSError it raised)."""
    last: OSError | None = None
    for result in found:
        if isinstance(result, OSError):
            last = result
        elif result:
            return str(result[0][4][0])
    raise ctx.unresolved(step.host, last)


def _lookup(host: str, family: int) -> Any:
    try:
        return socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
    except OSError as exc:
        return exc


# ---------------------------------------------------------------- protocols
def _encode_name(host: str, limit: int, proxy: ProxySettings) -> bytes:
    try:
        name = host.encode("idna")
    except UnicodeError:
        name = host.encode("utf-8")
    if not name or len(name) > limit or b"\x00" in name:
        raise UsageError(f"{proxy.label}: host name {host!r} cannot be sent to the proxy",
                         code=211)
    return name


def _socks4(ctx: _Context, host: str, port: int, socks4a: bool) -> Steps:
    proxy = ctx.proxy
    addr = _ip(host)
    if isinstance(addr, ipaddress.IPv6Address):
        raise UsageError(f"{proxy.label}: SOCKS4 cannot carry the IPv6 address {host}; "
                         "use SOCKS5", code=211)
    user = proxy.user.encode("utf-8")
    if b"\x00" in user:
        raise UsageError(f"{proxy.label}: the user id contains a NUL byte", code=211)
    if addr is None and socks4a:
        # SOCKS4A: address 0.0.0.x (x != 0), then the name after the user id.
        request = struct.pack(">BBH4s", 4, 1, port, b"\x00\x00\x00\x01") + user + b"\x00" \
            + _encode_name(host, 255, proxy) + b"\x00"
    else:
        if addr is None:
            addr = ipaddress.ip_address((yield Resolve(host, [socket.AF_INET])))
        request = struct.pack(">BBH4s", 4, 1, port, addr.packed) + user + b"\x00"
    yield Send(request, "sending the CONNECT request")
    reply = yield Recv(8, "reading the reply")
    version, status = reply[0], reply[1]
    if version not in (0, 4):
        raise ctx.error(f"bad reply (version byte {version}; not a SOCKS4 proxy?)",
                        reply=version)
    if status != 90:
        text = socks.SOCKS4_REPLIES.get(status, f"unknown reply code {status}")
        reason = REASON_AUTH if status in (92, 93) else REASON_REFUSED
        raise ctx.error(f"refused the connection to {_hostport(host, port)}: {text} "
                        f"(SOCKS4 reply {status})", reason, reply=status)


# SOCKS5 replies that mean the target, not the proxy, could not be reached
_UNREACHABLE = {socks.SOCKS5_NETWORK_UNREACHABLE, socks.SOCKS5_HOST_UNREACHABLE,
                socks.SOCKS5_REFUSED, 6}


def _socks5(ctx: _Context, host: str, port: int, families: Sequence[int]) -> Steps:
    proxy = ctx.proxy
    methods = b"\x00\x02" if proxy.user or proxy.password else b"\x00"
    yield Send(b"\x05" + bytes([len(methods)]) + methods, "sending the greeting")
    version, method = yield Recv(2, "reading the method selection")
    if version != 5:
        raise ctx.error(f"bad reply (version byte {version}; not a SOCKS5 proxy?)",
                        reply=version)
    if method == 0xFF:
        hint = ("; set the firewall user and password" if not (proxy.user or proxy.password)
                else " (it does not accept username/password authentication)")
        raise ctx.error("accepts none of the offered authentication methods" + hint,
                        REASON_AUTH, reply=method)
    if bytes([method]) not in methods:
        raise ctx.error(f"chose authentication method {method}, which was not offered",
                        reply=method)
    if method == 2:
        user = proxy.user.encode("utf-8")
        password = proxy.password.encode("utf-8")
        if len(user) > 255 or len(password) > 255:
            raise UsageError(f"{proxy.label}: SOCKS5 user name and password are limited "
                             "to 255 bytes", code=211)
        yield Send(b"\x01" + bytes([len(user)]) + user + bytes([len(password)]) + password,
                   "sending the username/password")
        _ver, status = yield Recv(2, "reading the authentication result")
        if status != 0:
            raise ctx.error(f"rejected the username/password for user {proxy.user!r} "
                            f"(RFC 1929 status {status})", REASON_AUTH, reply=status)
    addr = _ip(host)
    if addr is None and not proxy.remote_dns:
        addr = ipaddress.ip_address((yield Resolve(host, families)))
    if isinstance(addr, ipaddress.IPv4Address):
        target = b"\x01" + addr.packed
    elif isinstance(addr, ipaddress.IPv6Address):
        target = b"\x04" + addr.packed
    else:
        name = _encode_name(host, 255, proxy)
        target = b"\x03" + bytes([len(name)]) + name
    yield Send(b"\x05\x01\x00" + target + struct.pack(">H", port), "sending the CONNECT request")
    version, status, _rsv, atyp = yield Recv(4, "reading the reply")
    if version != 5:
        raise ctx.error(f"bad reply (version byte {version})", reply=version)
    if status != 0:
        text = socks.SOCKS5_REPLIES.get(status, f"unknown reply code {status}")
        reason = REASON_UNREACHABLE if status in _UNREACHABLE else REASON_REFUSED
        raise ctx.error(f"refused the connection to {_hostport(host, port)}: {text} "
                        f"(SOCKS5 reply {status})", reason, reply=status)
    if atyp == 3:
        rest = (yield Recv(1, "reading the bound address"))[0]
    elif atyp in socks.ADDRESS_LENGTHS:
        rest = socks.ADDRESS_LENGTHS[atyp]
    else:
        raise ctx.error(f"bad reply (address type {atyp})", reply=atyp)
    yield Recv(rest + 2, "reading the bound address")


_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?")


def _tunnel(ctx: _Context, host: str, port: int) -> Steps:
    proxy = ctx.proxy
    authority = _hostport(host, port)
    extra = proxy.header_lines()
    given = {line.split(":", 1)[0].strip().lower() for line in extra}
    lines = [f"CONNECT {authority} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {authority}")
    if (proxy.user or proxy.password) and "proxy-authorization" not in given:
        token = base64.b64encode(f"{proxy.user}:{proxy.password}".encode()).decode("ascii")
        lines.append(f"Proxy-Authorization: Basic {token}")
    lines += extra
    yield Send(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"), "sending the CONNECT request")
    head = yield RecvHead("reading the response")
    match = _STATUS_LINE.match(head)
    if match is None:
        raise ctx.error(f"bad reply (not an HTTP response: {head[:80]!r})")
    status = int(match.group(3))
    text = (match.group(4) or b"").decode("latin-1").strip()
    headers: dict[str, str] = {}
    for raw in re.split(rb"\r?\n", head)[1:]:
        name, sep, value = raw.partition(b":")
        if sep:
            headers.setdefault(name.strip().lower().decode("latin-1"),
                               value.strip().decode("latin-1"))
    if 200 <= status < 300:
        return
    shown = f"HTTP {status} {text}".rstrip()
    if status in (401, 407):  # tinyproxy answers 401 to wrong credentials
        challenge = headers.get("proxy-authenticate") or headers.get("www-authenticate", "")
        scheme = f" (it asks for {challenge.split()[0]})" if challenge else ""
        if proxy.user or proxy.password or "proxy-authorization" in given:
            msg = f"rejected the credentials for user {proxy.user!r}{scheme}: {shown}"
        else:
            msg = (f"requires authentication{scheme}; set the firewall user and password: "
                   f"{shown}")
        raise ctx.error(msg, REASON_AUTH, reply=status)
    reason = REASON_UNREACHABLE if status in (502, 503, 504) else REASON_REFUSED
    raise ctx.error(f"refused the tunnel to {authority}: {shown}", reason, reply=status)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def handshake(proxy: ProxySettings, host: str, port: int, timeout: float | None,
              families: Sequence[int]) -> tuple[_Context, Steps]:
    """The steps that ask `proxy` for a tunnel to host:port."""
    ctx = _Context(proxy, timeout)
    host = _norm_host(host) if _ip(host) is not None else host.strip()
    if proxy.type in (FIREWALL_SOCKS4, FIREWALL_SOCKS4A):
        return ctx, _socks4(ctx, host, port, proxy.type == FIREWALL_SOCKS4A)
    if proxy.type == FIREWALL_SOCKS5:
        return ctx, _socks5(ctx, host, port, families)
    if proxy.type == FIREWALL_TUNNEL:
        return ctx, _tunnel(ctx, host, port)
    raise UsageError(f"firewall type {proxy.type} has no handshake", code=211)


# ------------------------------------------------------------------ drivers
def negotiate(sock: socket.socket, proxy: ProxySettings, host: str, port: int,
              timeout: float | None = None, families: Sequence[int] = (socket.AF_INET,)
              ) -> None:
    """Ask the proxy on the connected `sock` for a tunnel to `host:port`,
    with blocking calls, within `timeout` seconds (None: no limit).
    `families`: for names this side resolves (SOCKS4; SOCKS5 without remote
    DNS). Raises `ProxyError` (or `UsageError` for settings the protocol
    cannot express). On success the socket carries the target's bytes;
    nothing after the proxy's answer was consumed."""
    ctx, steps = handshake(proxy, host, port, timeout, families)
    deadline = None if timeout is None else time.monotonic() + timeout
    logger.debug("%s: requesting a tunnel to %s", proxy.label, _hostport(host, port))

    def arm() -> None:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise socket.timeout()
        sock.settimeout(left)

    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration:
            break
        try:
            result = _blocking_step(sock, step, ctx, arm)
        except ProxyError:
            raise
        except OSError as exc:
            raise ctx.os_error(exc, getattr(step, "doing", "resolving")) from None
    logger.debug("%s: tunnel to %s established", proxy.label, _hostport(host, port))


def _blocking_step(sock: socket.socket, step: Step, ctx: _Context, arm: Any) -> Any:
    if isinstance(step, Send):
        arm()
        sock.sendall(step.data)
        return None
    if isinstance(step, Recv):
        exact = _Exact(ctx, step)
        while exact.missing:
            arm()
            exact.add(sock.recv(exact.missing))
        return bytes(exact.buf)
    if isinstance(step, RecvHead):
        # peek, and take only the header: what follows stays in the socket
        reader = _HeadReader(ctx, step.doing)
        while True:
            arm()
            want = reader.take(sock.recv(8192, socket.MSG_PEEK))
            head = reader.received(sock.recv(want), want)
            if head is not None:
                return head
    return _first_address(ctx, step, [_lookup(step.host, f) for f in step.families])


async def negotiate_async(sock: socket.socket, proxy: ProxySettings, host: str, port: int,
                          timeout: float | None = None,
                          families: Sequence[int] = (socket.AF_INET,)) -> None:
    """negotiate() on the running event loop: `sock` must be non-blocking."""
    ctx, steps = handshake(proxy, host, port, timeout, families)
    loop = asyncio.get_running_loop()
    logger.debug("%s: requesting a tunnel to %s", proxy.label, _hostport(host, port))
    result: Any = None
    doing = "starting"
    try:
        async with _within(timeout):
            while True:
                try:
                    step = steps.send(result)
                except StopIteration:
                    break
                doing = getattr(step, "doing", "resolving")
                result = await _async_step(loop, sock, step, ctx)
    except ProxyError:
        raise
    except OSError as exc:
        raise ctx.os_error(exc, doing) from None
    logger.debug("%s: tunnel to %s established", proxy.label, _hostport(host, port))


class _within:
    """async with: TimeoutError (an OSError) after `seconds` (None: never);
    asyncio.timeout() is 3.11+."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._handle: asyncio.TimerHandle | None = None
        self._fired = False

    async def __aenter__(self) -> None:
        if self.seconds is not None:
            task = asyncio.current_task()
            assert task is not None
            self._handle = asyncio.get_running_loop().call_later(self.seconds, self._fire, task)

    def _fire(self, task: asyncio.Task[Any]) -> None:
        self._fired = True
        task.cancel()

    async def __aexit__(self, kind: type[BaseException] | None, *rest: object) -> bool:
        if self._handle is not None:
            self._handle.cancel()
        if self._fired and kind is asyncio.CancelledError:
            raise socket.timeout("timed out")
        return False


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)
    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())


async def _async_step(loop: asyncio.AbstractEventLoop, sock: socket.socket, step: Step,
                      ctx: _Context) -> Any:
    if isinstance(step, Send):
        await loop.sock_sendall(sock, step.data)
        return None
    if isinstance(step, Recv):
        exact = _Exact(ctx, step)
        while exact.missing:
            exact.add(await loop.sock_recv(sock, exact.missing))
        return bytes(exact.buf)
    if isinstance(step, RecvHead):
        reader = _HeadReader(ctx, step.doing)
        while True:
            await _readable(loop, sock)
            try:
                want = reader.take(sock.recv(8192, socket.MSG_PEEK))
            except BlockingIOError:
                continue
            head = reader.received(sock.recv(want), want)  # peeked: it is there
            if head is not None:
                return head
    found = await asyncio.gather(*(loop.getaddrinfo(step.host, None, family=family,
                                                    type=socket.SOCK_STREAM)
                                   for family in step.families), return_exceptions=True)
    return _first_address(ctx, step, found)

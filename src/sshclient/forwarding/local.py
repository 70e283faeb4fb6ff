"""Local forwarding (ssh -L): a listener whose connections become channels.

Each accepted connection opens a direct-tcpip channel (to a host and port
as the server sees them) or a direct-streamlocal@openssh.com channel (to
a Unix socket on the server), and a Splice joins the two. A refused open
closes that one connection and is counted and logged; the listener goes on.
"""
from __future__ import annotations

import errno
import logging
import os
import socket
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from ..errors import SSHClientError, SSHConnectionError, UsageError, socket_error_code
from ..validate import check_host, check_port, check_socket_path, check_type
from .socks import SocksConnection
from .splice import Splice

if TYPE_CHECKING:
    from ..operations import OpenChannel
    from ..protocol import ClientProtocol
    from .service import Forwarding

log = logging.getLogger("sshclient.forwarding")

ACCEPTS_PER_WAKEUP = 32
BACKLOG = 128


class _ChannelTarget(ABC):
    """A target reached by opening a channel for each connection."""

    @abstractmethod
    def open(self, proto: ClientProtocol, origin: tuple[str, int]) -> OpenChannel:
        """The channel to open for a connection from `origin`."""

    def start(self, listener: LocalForward, conn: socket.socket,
              origin: tuple[str, int]) -> None:
        label = f"{listener.label} -> {self}"
        try:
            opening = self.open(listener.service.proto, origin)
        except SSHClientError as exc:
            conn.close()
            listener.failed(f"{label}: {exc.message}")
            return
        Splice(listener.service, conn, opening, label, listener, listener.failed)


@dataclass(frozen=True)
class TcpTarget(_ChannelTarget):
    """Where the server connects each forwarded connection: host:port."""
    host: str
    port: int

    def open(self, proto: ClientProtocol, origin: tuple[str, int]) -> OpenChannel:
        return proto.open_direct_tcpip(self.host, self.port, *origin)

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class UnixTarget(_ChannelTarget):
    """A Unix socket on the server's side."""
    path: str

    def open(self, proto: ClientProtocol, origin: tuple[str, int]) -> OpenChannel:
        return proto.open_direct_streamlocal(self.path)

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class SocksTarget:
    """Each connection speaks SOCKS first and says where to (ssh -D)."""
    credentials: tuple[str, str] | None = field(default=None, repr=False)

    def start(self, listener: LocalForward, conn: socket.socket,
              origin: tuple[str, int]) -> None:
        SocksConnection(listener, listener.service, conn, origin, self.credentials)

    def __str__(self) -> str:
        return "SOCKS"


Target = Union[TcpTarget, UnixTarget, SocksTarget]


def socks_target(username: str | None, password: str | None) -> SocksTarget:
    if (username is None) != (password is None):
        raise UsageError("forward_socks(): give both username and password, or neither",
                         code=211)
    check_type("username", username, (str, type(None)), "a str or None")
    check_type("password", password, (str, type(None)), "a str or None")
    if username is None or password is None:
        return SocksTarget()
    return SocksTarget((username, password))


def tcp_target(host: str, port: int) -> TcpTarget:
    return TcpTarget(check_host(host, "dest_host"), check_port(port, "dest_port"))


def unix_target(path: str) -> UnixTarget:
    return UnixTarget(check_socket_path(path, "dest_path"))


def check_listen_port(host: str, port: int) -> None:
    check_type("listen_host", host, str, "a str (\"localhost\", an address, or \"\" for all)")
    check_port(port, "listen_port", allow_zero=True)


# ------------------------------------------------------------------ listening
def listen_tcp(addresses: list[tuple[Any, ...]], port: int) -> list[socket.socket]:
    """Listening sockets on the addresses getaddrinfo() gave (`addresses`:
    its (family, type, proto, canonname, sockaddr) tuples). With port 0 the
    first bind picks the port and the others take the same one. As ssh
    does, an address that cannot be bound (::1 without IPv6) is left out
    as long as one can; if none can, the first failure is the error."""
    socks: list[socket.socket] = []
    failure: SSHConnectionError | None = None
    for family, kind, proto, _name, sockaddr in addresses:
        if port == 0 and socks:
            sockaddr = (sockaddr[0], socks[0].getsockname()[1], *sockaddr[2:])
        try:
            socks.append(_listening(family, kind, proto, sockaddr))
        except OSError as exc:
            failure = failure or SSHConnectionError(
                f"cannot listen on {_shown(sockaddr)}: {exc.strerror or exc}",
                code=socket_error_code(exc))
    if not socks:
        raise failure or SSHConnectionError("no address to listen on", code=11001)
    return socks


def _listening(family: int, kind: int, proto: int, sockaddr: Any) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def tcp_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """What to bind for `host` (as OpenSSH: "localhost" the loopback
    addresses, "" or "*" every interface), resolved here and now."""
    try:
        return socket.getaddrinfo(listen_name(host), port, **LISTEN_HINTS)
    except socket.gaierror as exc:
        raise unresolved(host, exc) from None


# getaddrinfo()'s hints for the addresses to listen on
LISTEN_HINTS: dict[str, Any] = {"family": socket.AF_UNSPEC, "type": socket.SOCK_STREAM,
                                "flags": socket.AI_PASSIVE}


def listen_name(host: str) -> str | None:
    """getaddrinfo()'s host for a listening address ("" or "*": every interface)."""
    return None if host in ("", "*") else host


def unresolved(host: str, exc: socket.gaierror) -> SSHConnectionError:
    return SSHConnectionError(f"cannot listen on {host!r}: {exc.strerror}", code=11001)


def listen_unix(path: str) -> socket.socket:
    """A listening Unix socket at `path`; a file already there is an error
    (it could be anything; ssh refuses too, unless told to unlink)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise SSHConnectionError(f"cannot listen on {path}: {exc.strerror or exc}",
                                 code=socket_error_code(exc)) from None
    return sock


def _shown(sockaddr: Any) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# ------------------------------------------------------------------ the listener
class LocalForward:
    """A listener forwarding its connections through the SSH connection
    (what `ssh -L` sets up). `port` is the bound port (the one chosen when
    0 was asked), `path` the Unix socket path; `connections` counts the
    live forwarded connections, `failures` those whose channel the server
    refused (`last_failure` says why). close() stops listening; with
    `close_connections=True` it also ends the live connections. Usable as
    a context manager."""

    def __init__(self, service: Forwarding, socks: list[socket.socket], target: Target) -> None:
        self.service = service
        self._socks = socks
        self.target = target
        first = socks[0].getsockname()
        self.path: str | None = first if socks[0].family == socket.AF_UNIX else None
        self.port = 0 if self.path is not None else int(first[1])
        # (host, port) of the first listening socket, or the Unix socket's path
        self.address: tuple[str, int] | str = self.path or (first[0], self.port)
        self.label = self.path or _shown(first)
        self.failures = 0
        self.last_failure: str | None = None
        self.closed = False
        for sock in socks:
            service.watcher.watch(sock, True, False, self._acceptor(sock))
        service.listeners.append(self)

    @property
    def connections(self) -> int:
        """How many of the connections it accepted are still being forwarded."""
        return sum(1 for splice in self.service.splices if splice.owner is self)

    def _acceptor(self, sock: socket.socket) -> Any:
        def on_ready(readable: bool, writable: bool) -> None:
            for _ in range(ACCEPTS_PER_WAKEUP):
                if self.closed or not self._accept(sock):
                    return
        return on_ready

    def _accept(self, sock: socket.socket) -> bool:
        try:
            conn, peer = sock.accept()
        except (BlockingIOError, InterruptedError):
            return False
        except OSError as exc:
            # out of descriptors and the like: this connection waits in the
            # backlog; the next round tries again
            if exc.errno not in (errno.ECONNABORTED, errno.EPROTO):
                log.warning("local forward %s: accept failed: %s", self.target, exc)
                return False
            return True
        conn.setblocking(False)
        origin = ("127.0.0.1", 0)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            origin = (peer[0], peer[1])
        self.target.start(self, conn, origin)
        return True

    def failed(self, message: str) -> None:
        """Count a connection that could not be forwarded, and keep why."""
        self.failures += 1
        self.last_failure = message

    def close(self, close_connections: bool = False) -> None:
        """Stop listening (a Unix socket's file is removed); with
        `close_connections`, also end the connections it forwarded."""
        if not self.closed:
            self.closed = True
            for sock in self._socks:
                self.service.watcher.watch(sock, False, False, _ignore)
                sock.close()
            if self.path is not None:
                _unlink_socket(self.path)
            self.service.listener_closed(self)
        if close_connections:
            for splice in [s for s in self.service.splices if s.owner is self]:
                splice.close()

    def __enter__(self) -> LocalForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.connections} connections"
        return f"<LocalForward {self.label} -> {self.target}, {state}>"


def _ignore(readable: bool, writable: bool) -> None:
    pass


def _unlink_socket(path: str) -> None:
    """Remove our socket file, and only a socket (never what replaced it)."""
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
    except OSError:
        pass

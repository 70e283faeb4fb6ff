"""Remote forwarding (ssh -R): the server listens, we connect locally.

`tcpip-forward` (RFC 4254 section 7.1) or OpenSSH's
`streamlocal-forward@openssh.com` asks the server to listen; each
connection it accepts arrives as a `forwarded-tcpip` or
`forwarded-streamlocal@openssh.com` channel open, which we answer once our
own (non-blocking) connect to the local target has succeeded or failed.
Channels for a listener we never asked for, or one already cancelled,
are refused.
"""
from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from sshcore.wire import Reader, WireError, Writer

from .. import constants as c
from ..errors import SSHConnectionError
from ..events import ChannelOpenRequested
from ..validate import check_host, check_port, check_socket_path, check_type
from .splice import Splice

if TYPE_CHECKING:
    from .service import Forwarding

log = logging.getLogger("sshclient.forwarding")

FORWARDED_TCPIP = "forwarded-tcpip"
FORWARDED_STREAMLOCAL = "forwarded-streamlocal@openssh.com"


# ------------------------------------------------- what the server listens on
@dataclass(frozen=True)
class TcpListen:
    host: str
    port: int

    def request(self) -> tuple[str, bytes]:
        return "tcpip-forward", Writer().string(self.host.encode()).uint32(self.port).getvalue()

    def cancel(self, port: int) -> tuple[str, bytes]:
        data = Writer().string(self.host.encode()).uint32(port).getvalue()
        return "cancel-tcpip-forward", data

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class UnixListen:
    path: str

    def request(self) -> tuple[str, bytes]:
        return "streamlocal-forward@openssh.com", Writer().string(self.path.encode()).getvalue()

    def cancel(self, port: int) -> tuple[str, bytes]:
        return ("cancel-streamlocal-forward@openssh.com",
                Writer().string(self.path.encode()).getvalue())

    def __str__(self) -> str:
        return self.path


Listen = Union[TcpListen, UnixListen]


def tcp_listen(host: str, port: int) -> TcpListen:
    check_type("listen_host", host, str, "a str (\"localhost\", an address, or \"\" for all)")
    return TcpListen(host, check_port(port, "listen_port", allow_zero=True))


def unix_listen(path: str) -> UnixListen:
    return UnixListen(check_socket_path(path, "listen_path"))


# ----------------------------------------------------- where we connect to
@dataclass(frozen=True)
class Dial:
    """The local target of a remote forward: socket addresses to try in
    order (from getaddrinfo, or a Unix path), and how to show it."""
    addresses: tuple[tuple[int, Any], ...]  # (family, sockaddr)
    label: str


def dial_addresses(infos: list[tuple[Any, ...]], label: str) -> Dial:
    """A Dial from getaddrinfo()'s answer."""
    if not infos:
        raise SSHConnectionError(f"{label}: no address", code=11001)
    return Dial(tuple((info[0], info[4]) for info in infos), label)


def dial_host(host: str, port: int) -> tuple[str, int, str]:
    """(host, port, label) of a TCP target, checked."""
    check_host(host, "dest_host")
    check_port(port, "dest_port")
    return host, port, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def unreachable(label: str, exc: socket.gaierror) -> SSHConnectionError:
    return SSHConnectionError(f"cannot resolve {label}: {exc.strerror}", code=11001)


def resolve_dial(host: str, port: int) -> Dial:
    """A Dial to host:port, resolved here and now (blocking)."""
    host, port, label = dial_host(host, port)
    try:
        return dial_addresses(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), label)
    except socket.gaierror as exc:
        raise unreachable(label, exc) from None


def dial_path(path: str) -> Dial:
    check_socket_path(path, "dest_path")
    return Dial(((socket.AF_UNIX, path),), path)


class _Connecting:
    """Our local connect for a channel the server opened; answers the open
    when it succeeds (then a Splice takes over) or every address failed."""

    def __init__(self, forward: RemoteForward, local_id: int, origin: str) -> None:
        self._forward = forward
        self._service = forward.service
        self._local_id = local_id
        self._label = f"{forward.listen} -> {forward.target.label} (from {origin})"
        self._left = list(forward.target.addresses)
        self._sock: socket.socket | None = None
        self._error = "no address"
        self._next()

    def _next(self) -> None:
        while self._left:
            family, sockaddr = self._left.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            err = sock.connect_ex(sockaddr)
            if err in (0, errno.EINPROGRESS, errno.EAGAIN):
                self._sock = sock
                self._service.watcher.watch(sock, False, True, self._on_ready)
                return
            sock.close()
            self._error = errno.errorcode.get(err, str(err))
        self._refuse()

    def _on_ready(self, readable: bool, writable: bool) -> None:
        sock = self._sock
        assert sock is not None
        self._service.watcher.watch(sock, False, False, self._on_ready)
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            sock.close()
            self._sock = None
            self._error = errno.errorcode.get(err, str(err))
            self._next()
            return
        self._connected(sock)

    def _connected(self, sock: socket.socket) -> None:
        proto = self._service.proto
        if self._forward.closed or proto.closed:
            sock.close()
            self._answer(False, "the forward was cancelled")
            return
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        proto.answer_channel_open(self._local_id, True)
        Splice(self._service, sock, proto.channel(self._local_id), self._label, self._forward,
               self._forward.failed).on_round()
        self._service.starting.discard(self)

    def _refuse(self) -> None:
        message = f"{self._label}: connect failed: {self._error}"
        log.warning("remote forward: %s", message)
        self._forward.failed(message)
        self._answer(False, f"connect failed: {self._error}")

    def _answer(self, ok: bool, description: str) -> None:
        self._service.starting.discard(self)
        if not self._service.proto.closed:
            self._service.proto.answer_channel_open(self._local_id, ok, c.OPEN_CONNECT_FAILED,
                                                    description)

    def on_round(self) -> None:
        """Nothing to do between rounds: the socket's readiness drives it."""

    def close(self) -> None:
        if self._sock is not None:
            self._service.watcher.watch(self._sock, False, False, self._on_ready)
            self._sock.close()
            self._sock = None
        self._left = []


# ------------------------------------------------------------------ the forward
class RemoteForward:
    """A listener on the server whose connections come to a local target
    (what `ssh -R` sets up). `port` is the port the server listens on (the
    one it chose when 0 was asked), `path` the server-side socket path;
    `connections`, `failures` and `last_failure` as for LocalForward (a
    failure: the local target could not be reached). close() asks the
    server to stop listening; with `close_connections=True` it also ends
    the live connections. Usable as a context manager."""

    def __init__(self, service: Forwarding, listen: Listen, target: Dial) -> None:
        self.service = service
        self.listen = listen
        self.target = target
        self.path: str | None = listen.path if isinstance(listen, UnixListen) else None
        self.listen_host: str | None = listen.host if isinstance(listen, TcpListen) else None
        self._asked_port = listen.port if isinstance(listen, TcpListen) else 0
        self._port: int | None = None if self._asked_port == 0 and self.path is None \
            else self._asked_port
        self.failures = 0
        self.last_failure: str | None = None
        self.closed = False
        self.started = False
        self.request = service.proto.global_request(*listen.request())
        service.remote_forwards.append(self)

    # ----------------------------------------------------------- starting
    @property
    def port(self) -> int:
        """The port the server listens on (0 for a Unix socket, or until known)."""
        if self._port is None:
            self._port = self._port_from_reply()
        return self._port or 0

    def _port_from_reply(self) -> int | None:
        """With port 0 asked, the server's reply names the port: it can come
        before start() (a connection may follow the reply at once)."""
        reply = self.service.proto.global_reply(self.request.ticket)
        if reply is None or not reply[0]:
            return None
        try:
            return int(Reader(reply[1]).uint32())
        except WireError:
            return None

    def start(self, reply: bytes) -> None:
        """The server accepted the request (its reply's data given)."""
        self.started = True
        if self._port is None:
            try:
                self._port = int(Reader(reply).uint32())
            except WireError:
                self._port = 0  # no port in the reply: the server chose none
        if self.port:
            log.info("remote forward: the server listens on %s:%d for %s",
                     self.listen_host, self.port, self.target.label)

    def serves(self, host: str, port: int, path: str | None) -> bool:
        """Whether an incoming channel for (host, port) or `path` is ours."""
        if self.closed:
            return False
        if path is not None:
            return self.path == path
        return self.path is None and port == self.port and (
            host == self.listen_host or self._asked_port == 0 or not self.listen_host
            or self.listen_host in ("localhost", "*"))

    def accept(self, event: ChannelOpenRequested, origin: str) -> None:
        """The server opened a channel for us: connect to the target, then answer."""
        self.service.starting.add(_Connecting(self, event.channel, origin))

    def failed(self, message: str) -> None:
        """Count a connection that could not be forwarded, and keep why."""
        self.failures += 1
        self.last_failure = message

    @property
    def connections(self) -> int:
        """How many forwarded connections are live now."""
        return sum(1 for splice in self.service.splices if splice.owner is self)

    # ------------------------------------------------------------- closing
    def close(self, close_connections: bool = False) -> None:
        """Ask the server to stop listening (no reply is waited for); with
        `close_connections`, also end the connections it forwarded."""
        service = self.service
        if not self.closed:
            self.closed = True
            if self in service.remote_forwards:
                service.remote_forwards.remove(self)
            if self.started and not service.proto.closed:
                name, data = self.listen.cancel(self.port)
                service.proto.send_global_request(name, data)
        if close_connections:
            for splice in [s for s in service.splices if s.owner is self]:
                splice.close()

    def __enter__(self) -> RemoteForward:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.path or f"{self.listen_host}:{self.port}"
        state = "closed" if self.closed else f"{self.connections} connections"
        return f"<RemoteForward {where} (on the server) -> {self.target.label}, {state}>"


def parse_forwarded_open(event: ChannelOpenRequested) -> tuple[str, int, str | None, str]:
    """(host, port, path, origin) of a forwarded-* channel open."""
    r = Reader(event.payload)
    if event.channel_type == FORWARDED_TCPIP:
        host, port = r.text(), r.uint32()
        origin_host, origin_port = r.text(), r.uint32()
        return host, port, None, f"{origin_host}:{origin_port}"
    return "", 0, r.text(), "a Unix socket"

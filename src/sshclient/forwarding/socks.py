"""Dynamic forwarding (ssh -D): a local SOCKS server whose requests become
direct-tcpip channels.

`SocksHandshake` is the server side of SOCKS4, SOCKS4A and SOCKS5 (CONNECT;
no authentication, or RFC 1929 username/password) as a sans-IO parser:
fed the client's bytes as they come, it has replies to send and, at the
end, the request (host, port) or the reason it refused. `SocksConnection`
carries one accepted connection through it, opens the channel, answers
the client with the outcome and hands over to a Splice.
"""
from __future__ import annotations

import hmac
import logging
import socket
import struct
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from .. import constants as c
from .. import socks
from ..errors import SSHClientError
from ..validate import check_host
from .splice import Splice

if TYPE_CHECKING:
    from ..operations import OpenChannel
    from .local import LocalForward
    from .service import Forwarding

log = logging.getLogger("sshclient.forwarding")

MAX_NAME = 255  # a SOCKS4 user id or SOCKS4A host name, NUL-terminated


@dataclass(frozen=True)
class SocksRequest:
    version: int
    host: str
    port: int


@dataclass(frozen=True)
class _Exactly:
    n: int


@dataclass(frozen=True)
class _UntilNul:
    limit: int


_Want = Union[_Exactly, _UntilNul]


class _Refused(Exception):
    """The handshake ends here; a reply, if the protocol has one, is queued."""


class SocksHandshake:
    """See the module docstring. `credentials` (user, password): SOCKS5
    clients must log in with them (SOCKS4 has no passwords: refused)."""

    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self._credentials = credentials
        self._input = bytearray()
        self.output = bytearray()          # to send to the client now
        self.request: SocksRequest | None = None
        self.refusal: str | None = None    # why it failed (output holds the reply)
        self._steps = self._serve()
        self._want: _Want = next(self._steps)

    @property
    def finished(self) -> bool:
        return self.request is not None or self.refusal is not None

    def feed(self, data: bytes) -> None:
        self._input += data
        while not self.finished:
            chunk = self._take(self._want)
            if chunk is None:
                return
            try:
                self._want = self._steps.send(chunk)
            except StopIteration as done:
                self.request = done.value
            except _Refused as exc:
                self.refusal = str(exc)

    def leftover(self) -> bytes:
        """What the client sent after its request (data for the target)."""
        return bytes(self._input)

    def _take(self, want: _Want) -> bytes | None:
        buf = self._input
        if isinstance(want, _Exactly):
            if len(buf) < want.n:
                return None
            chunk = bytes(buf[:want.n])
            del buf[:want.n]
            return chunk
        end = buf.find(b"\0")
        if end < 0:
            if len(buf) > want.limit:
                self.refusal = "a name or user id longer than 255 bytes"
            return None
        chunk = bytes(buf[:end])
        del buf[:end + 1]
        return chunk

    # ------------------------------------------------------------ replies
    def reply(self, success: bool, socks5_code: int = socks.SOCKS5_FAILURE) -> bytes:
        """The answer to a parsed request, once the channel opened or not."""
        assert self.request is not None
        if self.request.version == socks.SOCKS4_VERSION:
            status = socks.SOCKS4_GRANTED if success else socks.SOCKS4_REJECTED
            return struct.pack(">BBH4s", 0, status, 0, b"\0\0\0\0")
        return _socks5_reply(socks.SOCKS5_SUCCEEDED if success else socks5_code)

    # ------------------------------------------------------------ parsing
    def _serve(self) -> Generator[_Want, bytes, SocksRequest]:
        version = (yield _Exactly(1))[0]
        if version == socks.SOCKS4_VERSION:
            return (yield from self._socks4())
        if version == socks.SOCKS5_VERSION:
            return (yield from self._socks5())
        raise _Refused(f"not a SOCKS4 or SOCKS5 request (first byte {version})")

    def _socks4(self) -> Generator[_Want, bytes, SocksRequest]:
        command, port, address = struct.unpack(">BH4s", (yield _Exactly(7)))
        yield _UntilNul(MAX_NAME)                      # the user id: not checked, as ssh
        if address[:3] == b"\0\0\0" and address[3]:  # SOCKS4A: the name follows
            host = self._name((yield _UntilNul(MAX_NAME)), socks.SOCKS4_VERSION)
        else:
            host = socket.inet_ntoa(address)
        if command != socks.CMD_CONNECT:
            self.output += struct.pack(">BBH4s", 0, socks.SOCKS4_REJECTED, 0, b"\0\0\0\0")
            raise _Refused(f"SOCKS4 command {command} is not supported (only CONNECT)")
        if self._credentials is not None:
            self.output += struct.pack(">BBH4s", 0, socks.SOCKS4_REJECTED, 0, b"\0\0\0\0")
            raise _Refused("SOCKS4 has no password: this server requires SOCKS5 with one")
        return SocksRequest(socks.SOCKS4_VERSION, host, port)

    def _socks5(self) -> Generator[_Want, bytes, SocksRequest]:
        count = (yield _Exactly(1))[0]
        methods = yield _Exactly(count)
        method = socks.METHOD_NONE if self._credentials is None else socks.METHOD_PASSWORD
        if method not in methods:
            self.output += bytes([socks.SOCKS5_VERSION, socks.METHOD_UNACCEPTABLE])
            raise _Refused("the client offers no acceptable authentication method")
        self.output += bytes([socks.SOCKS5_VERSION, method])
        if method == socks.METHOD_PASSWORD:
            yield from self._login()
        version, command, _reserved, kind = yield _Exactly(4)
        if version != socks.SOCKS5_VERSION:
            raise _Refused(f"bad SOCKS5 request (version byte {version})")
        if kind == socks.ATYP_IPV4:
            host = socket.inet_ntop(socket.AF_INET, (yield _Exactly(4)))
        elif kind == socks.ATYP_IPV6:
            host = socket.inet_ntop(socket.AF_INET6, (yield _Exactly(16)))
        elif kind == socks.ATYP_DOMAIN:
            size = (yield _Exactly(1))[0]
            host = self._name((yield _Exactly(size)), socks.SOCKS5_VERSION)
        else:
            self.output += _socks5_reply(socks.SOCKS5_ADDRESS_UNSUPPORTED)
            raise _Refused(f"SOCKS5 address type {kind} is not supported")
        (port,) = struct.unpack(">H", (yield _Exactly(2)))
        if command != socks.CMD_CONNECT:
            self.output += _socks5_reply(socks.SOCKS5_COMMAND_UNSUPPORTED)
            raise _Refused(f"SOCKS5 command {command} is not supported (only CONNECT)")
        return SocksRequest(socks.SOCKS5_VERSION, host, port)

    def _login(self) -> Generator[_Want, bytes, None]:
        """RFC 1929: version 1, user, password; compared in constant time."""
        assert self._credentials is not None
        yield _Exactly(1)                              # the subnegotiation's version
        user = yield _Exactly((yield _Exactly(1))[0])
        password = yield _Exactly((yield _Exactly(1))[0])
        want_user, want_password = (part.encode() for part in self._credentials)
        ok = hmac.compare_digest(user, want_user) & hmac.compare_digest(password, want_password)
        self.output += bytes([socks.PASSWORD_VERSION, 0 if ok else 1])
        if not ok:
            raise _Refused("wrong SOCKS5 username or password")

    def _name(self, raw: bytes, version: int) -> str:
        try:
            return check_host(raw.decode("utf-8"))
        except (UnicodeDecodeError, SSHClientError):
            if version == socks.SOCKS5_VERSION:
                self.output += _socks5_reply(socks.SOCKS5_HOST_UNREACHABLE)
            else:
                self.output += struct.pack(">BBH4s", 0, socks.SOCKS4_REJECTED, 0, b"\0\0\0\0")
            raise _Refused(f"not a usable host name: {raw[:60]!r}") from None


def _socks5_reply(code: int) -> bytes:
    # the bound address is not ours to tell (it is the server's): 0.0.0.0:0
    return bytes([socks.SOCKS5_VERSION, code, 0, socks.ATYP_IPV4]) + bytes(6)


def socks5_code(reason: int, description: str) -> int:
    """The SOCKS5 reply for a refused channel open (reason code and text)."""
    if reason == c.OPEN_ADMINISTRATIVELY_PROHIBITED:
        return socks.SOCKS5_NOT_ALLOWED
    if reason == c.OPEN_CONNECT_FAILED:
        text = description.lower()
        if "refused" in text:
            return socks.SOCKS5_REFUSED
        if "network" in text:
            return socks.SOCKS5_NETWORK_UNREACHABLE
        return socks.SOCKS5_HOST_UNREACHABLE
    return socks.SOCKS5_FAILURE


class SocksConnection:
    """One accepted connection of a SOCKS listener, until its channel is
    open (then a Splice carries it) or it was refused."""

    def __init__(self, listener: LocalForward, service: Forwarding, sock: socket.socket,
                 origin: tuple[str, int], credentials: tuple[str, str] | None) -> None:
        self._listener = listener
        self._service = service
        self._sock = sock
        self._origin = origin
        self._handshake = SocksHandshake(credentials)
        self._opening: OpenChannel | None = None
        self._label = f"{listener.label} (SOCKS)"
        self.done = False
        service.starting.add(self)
        service.watcher.watch(sock, True, False, self._on_ready)

    def _on_ready(self, readable: bool, writable: bool) -> None:
        try:
            data = self._sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()  # gone before its request was complete
            return
        handshake = self._handshake
        handshake.feed(data)
        self._send(bytes(handshake.output))
        handshake.output.clear()
        if handshake.refusal is not None:
            self._refused(handshake.refusal)
        elif handshake.request is not None:
            self._service.watcher.watch(self._sock, False, False, self._on_ready)
            self._open(handshake.request)

    def _open(self, request: SocksRequest) -> None:
        self._label = f"{self._listener.label} -> {request.host}:{request.port} (SOCKS)"
        try:
            self._opening = self._service.proto.open_direct_tcpip(request.host, request.port,
                                                                  *self._origin)
        except SSHClientError as exc:
            self._send(self._handshake.reply(False))
            self._refused(exc.message)

    def on_round(self) -> None:
        opening = self._opening
        if self.done or opening is None or not opening.ready():
            return
        self._opening = None
        record = opening.channel.record
        try:
            channel = opening.result()
        except SSHClientError as exc:
            code = socks5_code(record.failure_reason or 0, record.failure_description or "")
            self._send(self._handshake.reply(False, code))
            self._refused(exc.message)
            return
        self._send(self._handshake.reply(True))
        self.done = True
        self._service.starting.discard(self)
        Splice(self._service, self._sock, channel, self._label, self._listener,
               self._listener.failed, first=self._handshake.leftover()).on_round()

    def _send(self, data: bytes) -> None:
        # A handshake's replies are a few bytes into an empty socket buffer:
        # one send takes them (anything less means the client is gone).
        if data:
            try:
                self._sock.send(data)
            except OSError:
                pass

    def _refused(self, why: str) -> None:
        message = f"{self._label}: {why}"
        log.info("SOCKS request refused: %s", message)
        self._listener.failed(message)
        self.close()

    def close(self) -> None:
        if self.done:
            return
        self.done = True
        self._service.starting.discard(self)
        self._service.watcher.watch(self._sock, False, False, self._on_ready)
        self._sock.close()
        if self._opening is not None:
            self._opening.channel.close(connection_usable=not self._service.proto.closed)
            self._opening = None

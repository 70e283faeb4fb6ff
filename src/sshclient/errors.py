"""One exception hierarchy; every error carries the spec's numeric code.

`SSHClientError.code` is the number from the spec's error tables
(1001 server disconnected … 1133 would block during key re-exchange, the
TCP client codes 100–1120, and 10000+ socket errors).  The subclass says
whose fault it was: the peer (`RemoteProtocolError`), the user
(`UsageError`), or the network (`SSHConnectionError`).

Where a built-in exception means the same thing, the class is one too, so
code that knows nothing of this library still catches it:

- `SSHTimeoutError` (301) is a `TimeoutError`; a TCP connect that times
  out (`ConnectTimeoutError`, 10060) is a `TimeoutError` and an
  `SSHConnectionError`.
- `SSHConnectionError` (could not connect: refused, unreachable, name not
  found, proxy failure) is a `ConnectionError`.
- `DisconnectedError` (the server closed or dropped an open connection) is
  a `ConnectionError` too, as a reset or a broken pipe is, but not an
  `SSHConnectionError`: a handler that retries failed connects should not
  also retry work cut off half way.
- `WouldBlockError` (the spec API with timeout 0) is a `BlockingIOError`.
- The `UsageError`s are `ValueError`, `TypeError`, `RuntimeError` or
  `KeyError` (see `sshcore.errors`).

`AuthenticationError` and `HostKeyError` have no built-in base: the
nearest, `PermissionError`, means the local system denied access (a key
file that cannot be read), which a handler around `connect()` must be
able to tell from a server saying no.

These built-ins are `OSError`s, whose `errno`, `strerror` and `filename`
stay None: `code` and `message` carry the details, and `str()` is
"[code] message" as for every `SSHClientError`.

`ConnectionError_` and `TimeoutError_` are the old names of
`SSHConnectionError` and `SSHTimeoutError` (the same classes).
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, TypeVar

from sshcore.errors import (  # noqa: F401  (re-exported: the one place to import from)
    MESSAGES,
    ArgumentTypeError,
    ChannelError,
    ConcurrentUseError,
    InvalidArgumentError,
    MacError,
    ProtocolError,
    RemoteProtocolError,
    SSHClientError,
    UnknownChannelError,
    UsageError,
)

T = TypeVar("T")


class DisconnectedError(SSHClientError, ConnectionError):
    """The server closed the connection or sent SSH_MSG_DISCONNECT."""

    default_code = 1001

    def __init__(self, message: str | None = None, code: int | None = None,
                 reason: int = 0) -> None:
        super().__init__(message, code)
        self.reason = reason


class AuthenticationError(SSHClientError):
    """The server refused every way of logging in that was tried (1032); the
    message names the methods it refused."""

    default_code = 1032


class HostKeyError(SSHClientError):
    """The server's host key was not accepted (1030) or its signature is bad (1031)."""

    default_code = 1030


class SSHConnectionError(SSHClientError, ConnectionError):
    """TCP-level failure: refused, unreachable, DNS (socket errno mapped to 10000+)."""

    default_code = 10061


class SSHTimeoutError(SSHClientError, TimeoutError):
    """An operation did not finish in time (301)."""

    default_code = 301


class ConnectTimeoutError(SSHConnectionError, SSHTimeoutError):
    """The TCP connection (or a proxy's answer) did not come in time (10060)."""

    default_code = 10060


# The old names, kept for code written against them.
ConnectionError_ = SSHConnectionError
TimeoutError_ = SSHTimeoutError


class RequestRefusedError(SSHClientError):
    """The server said no to a global request (tcpip-forward: the port is
    taken, or forwarding is not allowed): 1098."""


class WouldBlockError(SSHClientError, BlockingIOError):
    default_code = 1130


class UserClock:
    """One thread's time in the user's callbacks."""
    __slots__ = ("seconds", "depth")

    def __init__(self) -> None:
        self.seconds = 0.0  # spent in the user's callbacks by this thread, ever
        self.depth = 0      # callbacks now running (one inside another counts once)


class _ThreadClocks(threading.local):
    def __init__(self) -> None:
        self.clock = UserClock()


_clocks = _ThreadClocks()


def user_clock() -> UserClock:
    """This thread's clock, readable from any thread: a login deadline made
    here and checked in a worker thread (the TCP connect) reads this one."""
    return _clocks.clock


def user_seconds() -> float:
    """Seconds this thread has spent in the user's own callbacks: a login
    deadline leaves them out (see `deadline.Deadline`)."""
    return _clocks.clock.seconds


def timed_user_call(fn: Callable[..., T], *args: Any) -> T:
    """Call the user's code, adding its time to `user_seconds()`."""
    clock = _clocks.clock
    if clock.depth:
        return fn(*args)
    clock.depth = 1
    started = time.monotonic()
    try:
        return fn(*args)
    finally:
        clock.depth = 0
        clock.seconds += time.monotonic() - started


# errno -> Winsock-style code used by the spec's TCP/IP error table.
_ERRNO_TO_SPEC = {
    "ECONNREFUSED": 10061, "ETIMEDOUT": 10060, "ECONNRESET": 10054, "ECONNABORTED": 10053,
    "ENETUNREACH": 10051, "EHOSTUNREACH": 10065, "EADDRINUSE": 10048, "EADDRNOTAVAIL": 10049,
    "ENETDOWN": 10050, "EHOSTDOWN": 10064, "EPIPE": 10058, "EINVAL": 10022, "EACCES": 10013,
    "EAFNOSUPPORT": 10047, "ENOTCONN": 10057,
}


def socket_error_code(exc: OSError) -> int:
    """Map an OSError from the socket layer to the spec's TCP/IP error code."""
    import errno
    import socket

    if isinstance(exc, socket.gaierror):
        return 11001
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return 10060
    name = errno.errorcode.get(exc.errno or 0, "")
    return _ERRNO_TO_SPEC.get(name, 10000 + (exc.errno or 0) if exc.errno else 1036)

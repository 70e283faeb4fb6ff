"""What connect() is given, checked and turned into ClientOptions: the same
for every front end (blocking and asyncio), so both refuse the same mistakes
with the same words before anything reaches the network."""
from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from .errors import HostKeyError, SSHClientError, UsageError
from .keys import PrivateKey, load_private_key_file
from .options import (
    AUTH_PASSWORD,
    AUTH_PUBLICKEY,
    DEFAULT_WINDOW_LIMIT,
    ClientOptions,
    HostKeyInfo,
)
from .proxy import ProxySettings
from .proxy_command import expand
from .secret import Secret
from .transport import check_algorithm_choices
from .validate import (
    ArgumentTypeError,
    check_host,
    check_port,
    check_timeout,
    check_type,
    shown_host,
    type_name,
)


class _HostKeyRejected(HostKeyError):
    """1030 worded for connect(): the spec's text for this code tells how to
    accept a key in the spec API (SSHClient), which a connect() user lacks."""

    def __init__(self, info: HostKeyInfo) -> None:
        super().__init__(code=1030)
        self.message = (
            f"host_key_verifier rejected the server's {info.key_type} host key "
            f"{info.fingerprint}. To trust this key, first make sure it is the server's "
            "(ssh-keygen -lf on the server's host key file prints the same form), then have "
            "host_key_verifier return True when HostKeyInfo.fingerprint equals it.")
        self.args = (f"[{self.code}] {self.message}",)


def _verifier(user_verifier: Callable[[HostKeyInfo], bool] | None
              ) -> Callable[[HostKeyInfo], object]:
    """The user's host key check (None: accept any key), raising our own
    error when it says no. An `async def` check gives an awaitable of the
    same (the asyncio API awaits it; the blocking API refuses it)."""
    def verify(info: HostKeyInfo) -> object:
        if user_verifier is None:
            return True
        verdict = user_verifier(info)
        if inspect.isawaitable(verdict):
            return _AwaitedVerdict(verdict, info)
        return _accepted(verdict, info)
    return verify


def _accepted(verdict: object, info: HostKeyInfo) -> bool:
    if verdict:
        return True
    raise _HostKeyRejected(info)


class _AwaitedVerdict:
    """An async verifier's verdict, checked once awaited; close() closes the
    verifier's coroutine when nobody will await it (the blocking API)."""

    def __init__(self, verdict: Awaitable[object], info: HostKeyInfo) -> None:
        self._verdict = verdict
        self._info = info

    def __await__(self) -> Generator[Any, None, bool]:
        return self._check().__await__()

    async def _check(self) -> bool:
        return _accepted(await self._verdict, self._info)

    def close(self) -> None:
        close = getattr(self._verdict, "close", None)
        if close is not None:
            close()


class SameAsTimeout:
    """The default of login_timeout: whatever timeout is."""

    def __repr__(self) -> str:
        return "<same as timeout>"


SAME_AS_TIMEOUT = SameAsTimeout()


@dataclass
class ConnectRequest:
    """A checked connect() call: where to, through what, and the options."""
    host: str
    port: int
    options: ClientOptions
    timeout: float | None
    login_timeout: float | None
    proxy: ProxySettings | None
    proxy_command: str | None = None


def prepare_connect(host: str, port: int = 22, *, username: str,
                    password: str | None = None,
                    key: str | os.PathLike[str] | PrivateKey | None = None,
                    passphrase: str | None = None,
                    host_key_verifier: Callable[[HostKeyInfo], bool] | None = None,
                    accept_any_host_key: bool = False, timeout: float | None = 30.0,
                    login_timeout: float | None | SameAsTimeout = SAME_AS_TIMEOUT,
                    proxy: ProxySettings | None = None, keepalive_interval: float = 0.0,
                    keepalive_count_max: int = 5, proxy_command: str | None = None,
                    **option_overrides: object) -> ConnectRequest:
    """Check connect()'s arguments (see its docstring); nothing touches the network."""
    # Every argument is checked before a key file is read or a name looked up.
    check_host(host)
    check_port(port)
    check_type("username", username, str, "a str")
    check_type("password", password, (str, type(None)), "a str or None")
    check_type("passphrase", passphrase, (str, bytes, type(None)), "a str, bytes or None")
    timeout = check_timeout(timeout)
    login_timeout = timeout if isinstance(login_timeout, SameAsTimeout) else \
        check_timeout(login_timeout, "login_timeout")
    check_timeout(keepalive_interval, "keepalive_interval")
    check_type("keepalive_count_max", keepalive_count_max, int, "an int")
    check_type("proxy", proxy, (ProxySettings, type(None)), "a ProxySettings or None")
    check_type("proxy_command", proxy_command, (str, type(None)), "a str or None")
    if proxy_command is not None and proxy is not None:
        raise UsageError("pass proxy or proxy_command, not both", code=211)
    if proxy_command is not None:
        expand(proxy_command, host, port, username)  # its tokens, checked now
    if host_key_verifier is not None and not callable(host_key_verifier):
        raise ArgumentTypeError("host_key_verifier must be a callable taking a HostKeyInfo, "
                                f"not {type_name(host_key_verifier)}")
    private_key = None
    if isinstance(key, (str, os.PathLike)):
        private_key = load_private_key_file(os.path.expanduser(key), passphrase)
    elif key is not None:
        if not isinstance(key, PrivateKey):
            raise UsageError(f"key must be a file path or a PrivateKey, not {type(key).__name__}",
                             code=211)
        private_key = key
    if host_key_verifier is None and not accept_any_host_key:
        raise UsageError("pass host_key_verifier=... or accept_any_host_key=True", code=211)
    options = ClientOptions(
        username=username, password=None if password is None else Secret(password),
        private_key=private_key,
        auth_mode=AUTH_PUBLICKEY if private_key is not None else AUTH_PASSWORD,
        try_all_auth_methods=True, host_key_verifier=_verifier(host_key_verifier),
        keepalive_interval=keepalive_interval, keepalive_count_max=keepalive_count_max,
        # these front ends show no protocol log: no LogMessage events to make
        # (log_level=1 or more as an option brings them back, for a subclass)
        log_level=0,
    )
    options.window_limit = DEFAULT_WINDOW_LIMIT  # a long link grows the window
    for name, value in option_overrides.items():
        if not hasattr(options, name):
            raise UsageError(f"unknown option {name!r}")
        setattr(options, name, value)
    check_algorithm_choices(options)  # before connecting: a typo is no network error
    return ConnectRequest(host, port, options, timeout, login_timeout, proxy, proxy_command)


def host_and_port(target: object, default_port: int) -> tuple[str, int]:
    """A host as (name, port): "name", "name:port", "[name]" or
    "[name]:port". Brackets are how an IPv6 address takes a port
    ("[::1]:2222"); a bare address with two colons or more ("::1") is a
    name without one. The name itself is checked by connect()."""
    check_type("host", target, str, "a str (\"name\", \"name:port\" or \"[address]:port\")")
    assert isinstance(target, str)
    number: str | None = None
    if target.startswith("["):
        name, closed, rest = target[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise UsageError(f"host {shown_host(target)}: write an IPv6 address with a port "
                             "as [address]:port", code=211)
        number = rest[1:] if rest else None
    elif target.count(":") == 1:
        name, _, number = target.partition(":")
    else:
        name = target
    if number is None:
        return name, default_port
    if not (number.isascii() and number.isdigit()):
        raise UsageError(f"host {shown_host(target)}: the port {number!r} is not a number",
                         code=211)
    return name, int(number)


# ------------------------------------------------------------------ jump hosts
@dataclass(frozen=True)
class Hop:
    """One jump host of `connect(jump=...)`: [user@]host[:port]."""
    user: str | None
    host: str
    port: int

    def __str__(self) -> str:
        where = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        return f"{self.user}@{where}" if self.user else where


def jump_hops(jump: object) -> list[Hop]:
    """The hops of a jump given as "[user@]host[:port]" strings (one string
    may list several, comma-separated, as ssh -J does), first hop first."""
    if isinstance(jump, str):
        specs = jump.split(",")
    elif isinstance(jump, (list, tuple)):
        specs = list(jump)
    else:
        raise ArgumentTypeError("jump must be a connection, a \"[user@]host[:port]\" string "
                                f"or a list of them, not {type_name(jump)}")
    hops = []
    for spec in specs:
        check_type("jump host", spec, str, "a \"[user@]host[:port]\" string")
        user, _, where = spec.strip().rpartition("@")
        host, port = host_and_port(where, 22)
        check_host(host, "jump host")
        check_port(port, "jump host port")
        hops.append(Hop(user or None, host, port))
    if not hops:
        raise UsageError("jump names no host", code=211)
    return hops


def at_hop(exc: SSHClientError, where: str) -> SSHClientError:
    """`exc`, its message saying where on the way it happened."""
    exc.message = f"{where}: {exc.message}"
    exc.args = (f"[{exc.code}] {exc.message}",)
    return exc


@contextmanager
def closed_on_failure(opened: list[Any]) -> Iterator[None]:
    """Close the connections in `opened` (last first) if the block fails:
    the hops of a jump that could not be completed."""
    try:
        yield
    except BaseException:
        for conn in reversed(opened):
            conn.close()
        raise

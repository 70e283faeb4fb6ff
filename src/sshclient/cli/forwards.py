"""`-L`, `-R`, `-D` and `-W` arguments, in OpenSSH's syntax.

    -L [bind_address:]port:host:hostport     -L [bind_address:]port:remote_socket
    -L local_socket:host:hostport            -L local_socket:remote_socket
    -R (the same forms, listening on the server)
    -D [bind_address:]port                   -W host:port

An IPv6 address is written in brackets ([::1]); a field with a slash is a
Unix socket path; an empty bind address or "*" means every interface, and
none means localhost (ssh's GatewayPorts=no).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from ..errors import UsageError


@dataclass(frozen=True)
class Tcp:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Unix:
    path: str

    def __str__(self) -> str:
        return self.path


Endpoint = Union[Tcp, Unix]


@dataclass(frozen=True)
class Forward:
    option: str          # "-L", "-R" or "-D"
    listen: Endpoint
    target: Endpoint | None  # None: dynamic (SOCKS)


def split_fields(spec: str) -> list[str]:
    """Split on colons outside brackets; brackets are dropped."""
    fields: list[str] = []
    current: list[str] = []
    depth = 0
    for char in spec:
        if char in "[]":
            depth += 1 if char == "[" else -1
            if depth not in (0, 1):
                raise UsageError(f"unbalanced brackets in {spec!r}", code=211)
        elif char == ":" and depth == 0:
            fields.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth:
        raise UsageError(f"unbalanced brackets in {spec!r}", code=211)
    fields.append("".join(current))
    return fields


def _port(text: str, spec: str, allow_zero: bool = True) -> int:
    low = 0 if allow_zero else 1
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= 65535:
        raise UsageError(f"bad port {text!r} in {spec!r}", code=211)
    return int(text)


def _listen(bind: str | None, port: str, spec: str) -> Tcp:
    host = "localhost" if bind is None else ("" if bind in ("", "*") else bind)
    return Tcp(host, _port(port, spec))


def _is_path(field: str) -> bool:
    return "/" in field


def parse_forward(option: str, spec: str) -> Forward:
    """One -L or -R argument."""
    fields = split_fields(spec)
    listen: Endpoint
    target: Endpoint
    if len(fields) == 4:
        listen = _listen(fields[0], fields[1], spec)
        target = Tcp(fields[2], _port(fields[3], spec, allow_zero=False))
    elif len(fields) == 3 and _is_path(fields[0]):
        listen, target = Unix(fields[0]), Tcp(fields[1], _port(fields[2], spec, False))
    elif len(fields) == 3 and _is_path(fields[2]):
        listen, target = _listen(fields[0], fields[1], spec), Unix(fields[2])
    elif len(fields) == 3:
        listen = _listen(None, fields[0], spec)
        target = Tcp(fields[1], _port(fields[2], spec, allow_zero=False))
    elif len(fields) == 2 and _is_path(fields[1]):
        listen = Unix(fields[0]) if _is_path(fields[0]) else _listen(None, fields[0], spec)
        target = Unix(fields[1])
    else:
        hint = (" (a dynamic remote forward, -R [bind:]port, is not supported)"
                if option == "-R" and len(fields) <= 2 else "")
        raise UsageError(f"bad {option} forwarding specification {spec!r}{hint}", code=211)
    if isinstance(target, Tcp) and not target.host:
        raise UsageError(f"no target host in {option} {spec!r}", code=211)
    return Forward(option, listen, target)


def parse_dynamic(spec: str) -> Forward:
    """One -D argument: [bind_address:]port."""
    fields = split_fields(spec)
    if len(fields) == 1:
        return Forward("-D", _listen(None, fields[0], spec), None)
    if len(fields) == 2:
        return Forward("-D", _listen(fields[0], fields[1], spec), None)
    raise UsageError(f"bad -D forwarding specification {spec!r}", code=211)


def parse_stdio(spec: str) -> Tcp:
    """-W host:port."""
    fields = split_fields(spec)
    if len(fields) != 2 or not fields[0]:
        raise UsageError(f"bad -W argument {spec!r} (host:port)", code=211)
    return Tcp(fields[0], _port(fields[1], spec, allow_zero=False))

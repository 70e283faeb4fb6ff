"""Checks on what a caller hands in, shared by every front end.

They run before any DNS lookup or connection. The resolver must never see a
host name it would cut short (at a NUL: ``"127.0.0.1\\0evil.example"``
reaches 127.0.0.1, so a name an allow-list passed could reach another host)
or choke on (a label over 63 characters raises a bare UnicodeError from the
IDNA codec); a wrong type must be named here, not fail deep inside.

Messages never show the value of a wrong-type argument: it may be a secret.
"""
from __future__ import annotations

import functools
import os
from typing import Union

from .errors import ArgumentTypeError, SSHConnectionError, UsageError

# RFC 1035 §2.3.4 (a name of 255 octets on the wire is 253 characters written out)
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
HOST_NOT_FOUND = 11001
_SHOWN_LENGTH = 80


def type_name(value: object) -> str:
    return "None" if value is None else type(value).__name__


def check_type(name: str, value: object, kinds: Union[type, tuple[type, ...]],
               expected: str) -> None:
    """`value` must be an instance of `kinds` (a bool passes only where bool is
    named: True is an int to isinstance, but never a port or a timeout)."""
    allowed = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise ArgumentTypeError(f"{name} must be {expected}, not {type_name(value)}")


def check_port(port: object, name: str = "port", *, allow_zero: bool = False) -> int:
    check_type(name, port, int, "an int")
    assert isinstance(port, int)
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise UsageError(f"{name} {port} is out of range {low}..65535", code=211)
    return port


def shown_host(host: str) -> str:
    """A host name as a message may show it: escaped (repr) and cut short."""
    if len(host) > _SHOWN_LENGTH:
        return repr(host[:_SHOWN_LENGTH]) + f"... ({len(host)} characters)"
    return repr(host)


# The same names come back (a fan-out connects to each host many times, and
# every connect checks its name again): the answers are kept.
@functools.lru_cache(maxsize=1024)
def host_name_problem(host: str) -> str | None:
    """Why `host` cannot be a host name or address, or None if it can be."""
    if not host:
        return "it is empty"
    odd = next((ch for ch in host if ch.isspace() or not ch.isprintable()), None)
    if odd is not None:
        return f"it contains the character {odd!r}"
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's dot
    for number, label in enumerate(name.split("."), 1):
        if not label:
            return f"label {number} is empty"
        if len(label) > MAX_LABEL_LENGTH:
            return f"label {number} is {len(label)} characters long (at most {MAX_LABEL_LENGTH})"
    try:
        encoded = name.encode("idna")  # what the resolver is given for non-ASCII names
    except UnicodeError as exc:
        return f"it has no DNS form (IDNA: {exc})"
    if len(encoded) > MAX_NAME_LENGTH:
        return f"it is {len(encoded)} characters long in DNS (at most {MAX_NAME_LENGTH})"
    return None


def check_host(host: object, name: str = "host") -> str:
    """`host` as given, if it can be a host name or address: a str (else
    ArgumentTypeError) that the resolver can take whole (else error 11001,
    the code of a name that is not found, before any lookup)."""
    check_type(name, host, str, "a host name or address (str)")
    assert isinstance(host, str)
    problem = host_name_problem(host)
    if problem is not None:
        raise SSHConnectionError(
            f"{name} {shown_host(host)} is not a valid host name: {problem}", code=HOST_NOT_FOUND)
    return host


def check_timeout(value: object, name: str = "timeout") -> float | None:
    """Seconds (int or float; 0 or less: none) or None."""
    if value is None:
        return None
    check_type(name, value, (int, float), "a number of seconds or None")
    assert isinstance(value, (int, float))
    return float(value)


def check_socket_path(path: object, name: str = "socket path") -> str:
    """A Unix socket path: a non-empty str without NUL that fits sun_path."""
    check_type(name, path, str, "a str")
    assert isinstance(path, str)
    if not path or "\0" in path:
        raise UsageError(f"{name} must be a non-empty path without NUL bytes", code=211)
    if len(os.fsencode(path)) > 107:
        raise UsageError(f"{name} {path[:40]!r}... is longer than a Unix socket path can be "
                         "(107 bytes)", code=211)
    return path

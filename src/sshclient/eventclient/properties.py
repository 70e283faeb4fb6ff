"""The spec's SSHClient properties, as a data table, installed onto the class.

Each simple property becomes `get_x()` / `set_x(v)` methods plus a Python
`property` named `x`, as the spec's Python edition shows.  Computed ones
(certificate fields, connection state, per-channel arrays) are defined on
the class itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable

from .. import algorithms as algs
from ..errors import SSHClientError, UsageError
from ..secret import Secret, reveal
from ..validate import ArgumentTypeError, check_host, check_type
from .enums import AuthMode, CertStoreType


@dataclass(frozen=True)
class Prop:
    name: str
    kind: type
    default: Any
    locked_code: int = 0  # spec error code when set while connected (0: always settable)
    validate: Callable[[Any], Any] | None = None
    # Kept as a Secret (masked in vars() and reprs); the getter gives the text.
    secret: bool = False


def _port(value: Any) -> int:
    value = int(value)
    if not 0 <= value <= 65535:
        raise UsageError(f"port {value} is out of range 0..65535", code=211)
    return value


def _non_negative(value: Any) -> int:
    value = int(value)
    if value < 0:
        raise UsageError("value must not be negative", code=211)
    return value


def _member_of(kind: str, enum: type[IntEnum]) -> Callable[[Any], IntEnum]:
    """A validator for an enumerated int property: takes a member or its
    number, stores the member (equal to the spec's integer)."""
    def check(value: Any) -> IntEnum:
        value = int(value)
        try:
            return enum(value)
        except ValueError:
            raise UsageError(f"{value} is not a valid {kind} (one of "
                             f"{', '.join(str(m.value) for m in enum)})", code=211) from None
    return check


_auth_mode = _member_of("ssh_auth_mode", AuthMode)
_store_type = _member_of("certificate store type", CertStoreType)


def _host(name: str) -> Callable[[Any], str]:
    """A validator for a host property: None or "" clear it, anything else
    must be a host name the resolver can take whole (see validate.check_host)."""
    def check(value: Any) -> str:
        return "" if value is None or value == "" else check_host(value, name)
    return check


def _store(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


SIMPLE_PROPERTIES: tuple[Prop, ...] = (
    Prop("ssh_host", str, "", locked_code=101, validate=_host("ssh_host")),
    Prop("ssh_port", int, 22, locked_code=100, validate=_port),
    Prop("ssh_user", str, ""),
    Prop("ssh_password", str, "", secret=True),
    Prop("ssh_auth_mode", int, AuthMode.PASSWORD, validate=_auth_mode),
    Prop("timeout", int, 60, validate=_non_negative),
    Prop("ssh_compression_algorithms", str, algs.SPEC_DEFAULT_COMPRESSION),
    Prop("ssh_encryption_algorithms", str, algs.SPEC_DEFAULT_CIPHERS),
    Prop("ssh_key_exchange_algorithms", str, algs.SPEC_DEFAULT_KEX),
    Prop("ssh_mac_algorithms", str, algs.SPEC_DEFAULT_MACS),
    Prop("ssh_public_key_algorithms", str, algs.SPEC_DEFAULT_HOST_KEYS),
    Prop("firewall_auto_detect", bool, False),
    Prop("firewall_host", str, "", validate=_host("firewall_host")),
    Prop("firewall_password", str, "", secret=True),
    Prop("firewall_port", int, 0, validate=_port),
    Prop("firewall_user", str, ""),
    Prop("local_host", str, "", locked_code=107, validate=_host("local_host")),
    Prop("local_port", int, 0, locked_code=106, validate=_port),
    Prop("ssh_cert_store", bytes, b"MY", validate=_store),
    Prop("ssh_cert_store_password", str, "", secret=True),
    Prop("ssh_cert_store_type", int, CertStoreType.USER, validate=_store_type),
    Prop("ssh_accept_server_host_key_store", bytes, b"MY", validate=_store),
    Prop("ssh_accept_server_host_key_store_password", str, "", secret=True),
    Prop("ssh_accept_server_host_key_store_type", int, CertStoreType.USER,
         validate=_store_type),
)

PROPERTY_DEFAULTS = {p.name: Secret(p.default) if p.secret else p.default
                     for p in SIMPLE_PROPERTIES}


def install_simple_properties(cls: type, props: tuple[Prop, ...],
                              on_change: str = "_property_changing") -> None:
    """Add get_x/set_x and property x for each row, unless the class defines them."""
    for prop in props:
        _install(cls, prop, on_change)


def _converted(prop: Prop, value: Any) -> Any:
    """`value` as the property stores it, or the error naming the property."""
    try:
        if prop.validate is not None:
            return prop.validate(value)
        if prop.kind is bool:
            return bool(value)
        if prop.kind is int:
            return int(value)
        if prop.kind is str:
            return "" if value is None else str(value)
        return value
    except SSHClientError:
        raise  # the validator's own words
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"{prop.name}: invalid value {value!r} ({exc})") from None


def _install(cls: type, prop: Prop, on_change: str) -> None:
    name = prop.name

    def getter(self: Any) -> Any:
        return reveal(self._props[name]) if prop.secret else self._props[name]

    def setter(self: Any, value: Any) -> None:
        if prop.locked_code and self._is_connected():
            raise UsageError(f"{name} cannot be changed while connected", code=prop.locked_code)
        if prop.secret:
            # str() of anything else would be a wrong password sent silently
            # (str(b"pw") is "b'pw'"); the message must not show the value.
            check_type(name, value, (str, type(None)), "a str")
            value = Secret(value or "")
        else:
            value = _converted(prop, value)
        # Checked before it is stored: a rejected value must not stay behind
        # for the next logon to use.
        getattr(self, on_change)(name, value)
        self._props[name] = value

    getter.__name__ = "get_" + name
    setter.__name__ = "set_" + name
    if not hasattr(cls, "get_" + name):
        setattr(cls, "get_" + name, getter)
    if not hasattr(cls, "set_" + name):
        setattr(cls, "set_" + name, setter)
    if not hasattr(cls, name):
        setattr(cls, name, property(getattr(cls, "get_" + name), getattr(cls, "set_" + name)))

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
from ..errors import UsageError
from .enums import AuthMode, CertStoreType


@dataclass(frozen=True)
class Prop:
    name: str
    kind: type
    default: Any
    locked_code: int = 0  # spec error code when set while connected (0: always settable)
    validate: Callable[[Any], Any] | None = None


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


def _store(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


SIMPLE_PROPERTIES: tuple[Prop, ...] = (
    Prop("ssh_host", str, "", locked_code=101),
    Prop("ssh_port", int, 22, locked_code=100, validate=_port),
    Prop("ssh_user", str, ""),
    Prop("ssh_password", str, ""),
    Prop("ssh_auth_mode", int, AuthMode.PASSWORD, validate=_auth_mode),
    Prop("timeout", int, 60, validate=_non_negative),
    Prop("ssh_compression_algorithms", str, algs.SPEC_DEFAULT_COMPRESSION),
    Prop("ssh_encryption_algorithms", str, algs.SPEC_DEFAULT_CIPHERS),
    Prop("ssh_key_exchange_algorithms", str, algs.SPEC_DEFAULT_KEX),
    Prop("ssh_mac_algorithms", str, algs.SPEC_DEFAULT_MACS),
    Prop("ssh_public_key_algorithms", str, algs.SPEC_DEFAULT_HOST_KEYS),
    Prop("firewall_auto_detect", bool, False),
    Prop("firewall_host", str, ""),
    Prop("firewall_password", str, ""),
    Prop("firewall_port", int, 0, validate=_port),
    Prop("firewall_user", str, ""),
    Prop("local_host", str, "", locked_code=107),
    Prop("local_port", int, 0, locked_code=106, validate=_port),
    Prop("ssh_cert_store", bytes, b"MY", validate=_store),
    Prop("ssh_cert_store_password", str, ""),
    Prop("ssh_cert_store_type", int, CertStoreType.USER, validate=_store_type),
    Prop("ssh_accept_server_host_key_store", bytes, b"MY", validate=_store),
    Prop("ssh_accept_server_host_key_store_password", str, ""),
    Prop("ssh_accept_server_host_key_store_type", int, CertStoreType.USER,
         validate=_store_type),
)

PROPERTY_DEFAULTS = {p.name: p.default for p in SIMPLE_PROPERTIES}


def install_simple_properties(cls: type, props: tuple[Prop, ...],
                              on_change: str = "_property_changing") -> None:
    """Add get_x/set_x and property x for each row, unless the class defines them."""
    for prop in props:
        _install(cls, prop, on_change)


def _install(cls: type, prop: Prop, on_change: str) -> None:
    name = prop.name

    def getter(self: Any) -> Any:
        return self._props[name]

    def setter(self: Any, value: Any) -> None:
        if prop.locked_code and self._is_connected():
            raise UsageError(f"{name} cannot be changed while connected", code=prop.locked_code)
        try:
            if prop.validate is not None:
                value = prop.validate(value)
            elif prop.kind is bool:
                value = bool(value)
            elif prop.kind is int:
                value = int(value)
            elif prop.kind is str:
                value = "" if value is None else str(value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{name}: invalid value {value!r} ({exc})", code=211) from None
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

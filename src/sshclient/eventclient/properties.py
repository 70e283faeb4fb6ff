"""The spec's SSHClient properties, as a data table, installed onto a class.

Each simple property becomes `get_x()` / `set_x(v)` methods plus a Python
`property` named `x`, as the spec's Python edition shows; its doc comes from
PROPERTY_DOCS, and its types (for the generated stub, accessors.pyi) from
the row.  Computed ones (connection state, per-channel arrays) are defined
on the class itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Callable

from ..errors import SSHClientError, UsageError
from ..secret import Secret, reveal
from ..validate import ArgumentTypeError, check_host, check_type
from . import defaults
from .enums import AuthMode, CertStoreType

_NONE = type(None)  # types.NoneType is 3.10+


@dataclass(frozen=True)
class Prop:
    name: str
    kind: type  # what the getter returns
    default: Any
    locked_code: int = 0  # spec error code when set while connected (0: always settable)
    validate: Callable[[Any], Any] | None = None
    # Kept as a Secret (masked in vars() and reprs); the getter gives the text.
    secret: bool = False
    # What the setter takes, when more than `kind` (a path as str, None to clear).
    also_accepts: tuple[type, ...] = ()


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
    Prop("ssh_host", str, "", locked_code=101, validate=_host("ssh_host"),
         also_accepts=(_NONE,)),
    Prop("ssh_port", int, 22, locked_code=100, validate=_port),
    Prop("ssh_user", str, ""),
    Prop("ssh_password", str, "", secret=True, also_accepts=(_NONE,)),
    Prop("ssh_auth_mode", AuthMode, AuthMode.PASSWORD, validate=_auth_mode, also_accepts=(int,)),
    Prop("timeout", int, 60, validate=_non_negative),
    Prop("ssh_compression_algorithms", str, defaults.COMPRESSION_ALGORITHMS),
    Prop("ssh_encryption_algorithms", str, defaults.ENCRYPTION_ALGORITHMS),
    Prop("ssh_key_exchange_algorithms", str, defaults.KEX_ALGORITHMS),
    Prop("ssh_mac_algorithms", str, defaults.MAC_ALGORITHMS),
    Prop("ssh_public_key_algorithms", str, defaults.PUBLIC_KEY_ALGORITHMS),
    Prop("firewall_auto_detect", bool, False),
    Prop("firewall_host", str, "", validate=_host("firewall_host"), also_accepts=(_NONE,)),
    Prop("firewall_password", str, "", secret=True, also_accepts=(_NONE,)),
    Prop("firewall_port", int, 0, validate=_port),
    Prop("firewall_user", str, ""),
    Prop("local_host", str, "", locked_code=107, validate=_host("local_host"),
         also_accepts=(_NONE,)),
    Prop("local_port", int, 0, locked_code=106, validate=_port),
    Prop("ssh_cert_store", bytes, b"MY", validate=_store, also_accepts=(str,)),
    Prop("ssh_cert_store_password", str, "", secret=True, also_accepts=(_NONE,)),
    Prop("ssh_cert_store_type", CertStoreType, CertStoreType.USER, validate=_store_type,
         also_accepts=(int,)),
    Prop("ssh_accept_server_host_key_store", bytes, b"MY", validate=_store,
         also_accepts=(str,)),
    Prop("ssh_accept_server_host_key_store_password", str, "", secret=True,
         also_accepts=(_NONE,)),
    Prop("ssh_accept_server_host_key_store_type", CertStoreType, CertStoreType.USER,
         validate=_store_type, also_accepts=(int,)),
)

# One line per property, in our words: the property's __doc__, the get_/set_
# methods' too, and the generated stub's docstring.
PROPERTY_DOCS: dict[str, str] = {
    "ssh_host": "Name or address of the SSH server. After a logon it holds the address "
                "the name resolved to (unless a proxy resolved it). Fixed while connected.",
    "ssh_port": "TCP port of the SSH server (default 22). Fixed while connected.",
    "ssh_user": "User name to log in as.",
    "ssh_password": "Password for password logons, also offered to keyboard-interactive "
                    "prompts that ask for a password. Never shown in reprs or logs.",
    "ssh_auth_mode": "How to authenticate: an AuthMode member or its number "
                     "(default AuthMode.PASSWORD).",
    "timeout": "Seconds a blocking call may wait without progress before it fails with "
               "error 301; 0 makes every call return at once (results come through "
               "do_events()). Default 60.",
    "ssh_compression_algorithms": "Compression methods to offer, comma separated, most "
                                  "wanted first.",
    "ssh_encryption_algorithms": "Ciphers to offer, comma separated, most wanted first. "
                                 "Names not implemented here are refused when set.",
    "ssh_key_exchange_algorithms": "Key exchange methods to offer, comma separated, most "
                                   "wanted first.",
    "ssh_mac_algorithms": "Message authentication codes to offer, comma separated, most "
                          "wanted first.",
    "ssh_public_key_algorithms": "Host key types to accept from the server, comma "
                                 "separated, most wanted first.",
    "firewall_auto_detect": "With firewall_type left at NONE, take the proxy from the "
                            "environment (all_proxy, https_proxy, ... and no_proxy).",
    "firewall_host": "Name or address of the proxy the connection goes through; empty for "
                     "a direct connection.",
    "firewall_password": "Password for the proxy, when it asks for one.",
    "firewall_port": "TCP port of the proxy; setting firewall_type fills in the usual one.",
    "firewall_user": "User name for the proxy, when it asks for one.",
    "local_host": "Local address to connect from; empty lets the system choose. While "
                  "connected it reads the address actually in use.",
    "local_port": "Local TCP port to connect from; 0 lets the system choose. While "
                  "connected it reads the port actually in use.",
    "ssh_cert_store": "Where the client key comes from: a file path or the data itself, "
                      "as ssh_cert_store_type says.",
    "ssh_cert_store_password": "Password that opens ssh_cert_store (a PFX file or an "
                               "encrypted key), if it needs one.",
    "ssh_cert_store_type": "What ssh_cert_store holds: a CertStoreType member or its "
                           "number.",
    "ssh_accept_server_host_key_store": "Where a trusted server host key comes from: a "
                                        "file path or the data itself, as "
                                        "ssh_accept_server_host_key_store_type says.",
    "ssh_accept_server_host_key_store_password": "Password that opens "
                                                 "ssh_accept_server_host_key_store, if it "
                                                 "needs one.",
    "ssh_accept_server_host_key_store_type": "What ssh_accept_server_host_key_store "
                                             "holds: a CertStoreType member or its number.",
}

PROPERTY_DEFAULTS = {p.name: Secret(p.default) if p.secret else p.default
                     for p in SIMPLE_PROPERTIES}


def install_simple_properties(cls: type, props: tuple[Prop, ...],
                              on_change: str = "_property_changing") -> None:
    """Add get_x/set_x and property x for each row.  The property calls the
    methods by name, so a subclass that overrides get_x (local_host does)
    changes what the property reads too."""
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
    doc = PROPERTY_DOCS[name]

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

    install_accessors(cls, name, doc, getter, setter)


def install_accessors(cls: type, name: str, doc: str, getter: Callable[[Any], Any],
                      setter: Callable[[Any, Any], None] | None) -> None:
    """Put get_<name> (and set_<name>) on `cls`, and a property <name> that
    goes through them by name, all documented with `doc`."""
    getter.__name__, getter.__qualname__ = "get_" + name, f"{cls.__name__}.get_{name}"
    getter.__doc__ = f"Get {name}. {doc}"
    setattr(cls, "get_" + name, getter)
    get_name, set_name = "get_" + name, "set_" + name

    def read(self: Any) -> Any:
        return getattr(self, get_name)()

    def write(self: Any, value: Any) -> None:
        getattr(self, set_name)(value)

    if setter is not None:
        setter.__name__, setter.__qualname__ = set_name, f"{cls.__name__}.{set_name}"
        setter.__doc__ = f"Set {name}. {doc}"
        setattr(cls, set_name, setter)
    setattr(cls, name, property(read, write if setter is not None else None, doc=doc))

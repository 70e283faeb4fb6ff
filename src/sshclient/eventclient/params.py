"""Event parameter objects of the spec's SSHClient (one class per on_* event).

Fields are read-only properties except the ones the spec lets a handler set
(accept, success, response, packet), exactly as the spec's Python edition
shows them.
"""
from __future__ import annotations

from typing import Any

from ..secret import HIDDEN, Secret


class _Params:
    """Base: keyword fields stored as `_name`, exposed by generated properties."""

    _fields: tuple[str, ...] = ()
    _settable: tuple[str, ...] = ()
    # Held as a Secret and masked by repr: a handler may print or log its params.
    _secret: tuple[str, ...] = ()

    def __init__(self, **values: Any) -> None:
        for name in self._fields:
            setattr(self, "_" + name, self._held(name, values.pop(name)))
        if values:
            raise TypeError(f"unexpected fields {sorted(values)}")

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={HIDDEN if n in self._secret else repr(getattr(self, n))}"
                          for n in self._fields)
        return f"{type(self).__name__}({inner})"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._fields:
            cls._install(name, name in cls._settable)

    @classmethod
    def _held(cls, name: str, value: Any) -> Any:
        return Secret(value) if name in cls._secret and isinstance(value, str) else value

    @classmethod
    def _install(cls, name: str, settable: bool) -> None:
        attr = "_" + name

        def getter(self: _Params) -> Any:
            value = getattr(self, attr)
            return value.reveal() if isinstance(value, Secret) else value

        def setter(self: _Params, value: Any) -> None:
            setattr(self, attr, self._held(name, value))

        setattr(cls, name, property(getter, setter if settable else None))


class SSHClientConnectedEventParams(_Params):
    _fields = ("status_code", "description")


class SSHClientConnectionStatusEventParams(_Params):
    _fields = ("connection_event", "status_code", "description")


class SSHClientDisconnectedEventParams(_Params):
    _fields = ("status_code", "description")


class SSHClientErrorEventParams(_Params):
    _fields = ("error_code", "description")


class SSHClientLogEventParams(_Params):
    _fields = ("log_level", "message", "log_type")


class SSHClientSSHChannelClosedEventParams(_Params):
    _fields = ("channel_id",)


class SSHClientSSHChannelDataEventParams(_Params):
    _fields = ("channel_id", "channel_data", "channel_data_eol_found")


class SSHClientSSHChannelEOFEventParams(_Params):
    _fields = ("channel_id",)


class SSHClientSSHChannelOpenedEventParams(_Params):
    _fields = ("channel_id",)


class SSHClientSSHChannelOpenRequestEventParams(_Params):
    _fields = ("channel_id", "service", "parameters", "accept")
    _settable = ("accept",)


class SSHClientSSHChannelReadyToSendEventParams(_Params):
    _fields = ("channel_id",)


class SSHClientSSHChannelRequestEventParams(_Params):
    _fields = ("channel_id", "request_type", "packet", "success")
    _settable = ("success",)


class SSHClientSSHChannelRequestedEventParams(_Params):
    _fields = ("channel_id", "request_type", "packet")


class SSHClientSSHCustomAuthEventParams(_Params):
    _fields = ("packet",)
    _settable = ("packet",)


class SSHClientSSHKeyboardInteractiveEventParams(_Params):
    _fields = ("name", "instructions", "prompt", "response", "echo_response")
    _settable = ("response",)
    _secret = ("response",)  # preset with ssh_password for a password prompt


class SSHClientSSHServerAuthenticationEventParams(_Params):
    _fields = ("host_key", "fingerprint", "key_algorithm", "cert_subject", "cert_issuer",
               "status", "accept")
    _settable = ("accept",)


class SSHClientSSHStatusEventParams(_Params):
    _fields = ("message",)


EVENT_NAMES = (
    "on_connected", "on_connection_status", "on_disconnected", "on_error", "on_log",
    "on_ssh_channel_closed", "on_ssh_channel_data", "on_ssh_channel_eof",
    "on_ssh_channel_opened", "on_ssh_channel_open_request", "on_ssh_channel_ready_to_send",
    "on_ssh_channel_request", "on_ssh_channel_requested", "on_ssh_custom_auth",
    "on_ssh_keyboard_interactive", "on_ssh_server_authentication", "on_ssh_status",
)

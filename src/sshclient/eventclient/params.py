"""Event parameter objects of the spec's SSHClient (one class per on_* event).

Fields are read-only properties except the ones the spec lets a handler set
(accept, success, response, packet), as the spec's Python edition shows
them.  Each class's docstring says when its event fires (it is the on_*
property's doc too); each field's type is in `_fields` and its doc in
FIELD_DOCS, so the generated stub (params.pyi) shows both.
"""
from __future__ import annotations

from typing import Any

from ..secret import HIDDEN, Secret

# One line per field name, in our words; a class may override one in `_docs`.
FIELD_DOCS: dict[str, str] = {
    "status_code": "0 when all went well, else the error code (see SSHClientError.code).",
    "description": "What happened, in words (\"OK\" on success).",
    "connection_event": "Which step of the connection this is, in words.",
    "error_code": "The error code (see SSHClientError.code).",
    "log_level": "How detailed the message is: 1 informative, 2 verbose, 3 debug.",
    "message": "The text.",
    "log_type": "Kind of log entry; \"Info\" for now.",
    "channel_id": "The channel, as open_channel() named it.",
    "channel_data": "The bytes received (the EOL removed when ChannelDataEOL framing cut "
                    "them).",
    "channel_data_eol_found": "False when framing handed the bytes over before the "
                              "channel's EOL or record was complete.",
    "service": "Channel type the server asks for (e.g. forwarded-tcpip, x11).",
    "parameters": "The type-specific part of the server's open request, raw.",
    "accept": "Set to True to accept.",
    "request_type": "Name of the request (e.g. exit-status, keepalive@openssh.com).",
    "packet": "The whole request packet, its message type byte first; read fields with "
              "get_ssh_param().",
    "success": "Whether to answer the request with success (preset True for requests "
               "the client knows).",
    "name": "Title the server gave the prompts (may be empty).",
    "instructions": "Instructions the server sent with the prompts (may be empty).",
    "prompt": "The question to answer.",
    "response": "Set to the answer; preset with ssh_password when the prompt asks for "
                "the password.",
    "echo_response": "Whether the answer may be shown as it is typed.",
    "host_key": "The server's host key (SSH wire format).",
    "fingerprint": "Fingerprint of the host key, in the hash SSHFingerprintHashAlgorithm "
                   "names.",
    "key_algorithm": "Host key algorithm the server uses (e.g. ssh-ed25519).",
    "cert_subject": "Not used for SSH host keys: always empty.",
    "cert_issuer": "Not used for SSH host keys: always empty.",
    "status": "Not used here: always empty.",
}


class _Params:
    """Base: keyword fields stored as `_name`, exposed by generated properties."""

    _fields: dict[str, type] = {}  # field -> type, in the spec's order
    _settable: tuple[str, ...] = ()
    # Held as a Secret and masked by repr: a handler may print or log its params.
    _secret: tuple[str, ...] = ()
    _docs: dict[str, str] = {}  # this class's own doc for a field, over FIELD_DOCS

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
    def field_doc(cls, name: str) -> str:
        """The doc of field `name` of this class."""
        return cls._docs.get(name) or FIELD_DOCS[name]

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

        setattr(cls, name, property(getter, setter if settable else None,
                                    doc=cls.field_doc(name)))


class SSHClientConnectedEventParams(_Params):
    """on_connected: the TCP connection to the server (or proxy) was made, or failed."""

    _fields = {"status_code": int, "description": str}


class SSHClientConnectionStatusEventParams(_Params):
    """on_connection_status: a step of connecting or disconnecting finished (proxy
    reached, server reached, SSH handshake done, connection gone)."""

    _fields = {"connection_event": str, "status_code": int, "description": str}


class SSHClientDisconnectedEventParams(_Params):
    """on_disconnected: the connection is closed, by either side or by an error."""

    _fields = {"status_code": int, "description": str}


class SSHClientErrorEventParams(_Params):
    """on_error: something failed where no call could raise it (a refused channel or
    request in asynchronous mode, a connection lost inside do_events())."""

    _fields = {"error_code": int, "description": str}


class SSHClientLogEventParams(_Params):
    """on_log: a log line, for each one at or below the LogLevel setting."""

    _fields = {"log_level": int, "message": str, "log_type": str}


class SSHClientSSHChannelClosedEventParams(_Params):
    """on_ssh_channel_closed: a channel is closed (also for every channel left when
    the connection ends)."""

    _fields = {"channel_id": str}


class SSHClientSSHChannelDataEventParams(_Params):
    """on_ssh_channel_data: bytes arrived on a channel, cut as RecordLength or
    ChannelDataEOL framing asks."""

    _fields = {"channel_id": str, "channel_data": bytes, "channel_data_eol_found": bool}


class SSHClientSSHChannelEOFEventParams(_Params):
    """on_ssh_channel_eof: the server will send no more data on a channel."""

    _fields = {"channel_id": str}


class SSHClientSSHChannelOpenedEventParams(_Params):
    """on_ssh_channel_opened: a channel is open and can be used."""

    _fields = {"channel_id": str}


class SSHClientSSHChannelOpenRequestEventParams(_Params):
    """on_ssh_channel_open_request: the server wants to open a channel to us (a
    forwarded port, X11); it is refused unless the handler sets accept."""

    _fields = {"channel_id": str, "service": str, "parameters": bytes, "accept": bool}
    _settable = ("accept",)


class SSHClientSSHChannelReadyToSendEventParams(_Params):
    """on_ssh_channel_ready_to_send: a channel can take data again (after opening,
    or after a send that would have blocked)."""

    _fields = {"channel_id": str}


class SSHClientSSHChannelRequestEventParams(_Params):
    """on_ssh_channel_request: the server sent a request on a channel (exit-status,
    keepalive, ...); the handler decides the answer."""

    _fields = {"channel_id": str, "request_type": str, "packet": bytes, "success": bool}
    _settable = ("success",)


class SSHClientSSHChannelRequestedEventParams(_Params):
    """on_ssh_channel_requested: a channel request from the server was accepted."""

    _fields = {"channel_id": str, "request_type": str, "packet": bytes}


class SSHClientSSHCustomAuthEventParams(_Params):
    """on_ssh_custom_auth: with AuthMode.CUSTOM, a step of an authentication the
    handler drives itself."""

    _fields = {"packet": str}
    _settable = ("packet",)
    _docs = {"packet": "The server's packet, hex encoded; set it to the hex packet to "
                       "send back (unchanged or empty: nothing is sent)."}


class SSHClientSSHKeyboardInteractiveEventParams(_Params):
    """on_ssh_keyboard_interactive: the server asks a keyboard-interactive question
    (one event per prompt)."""

    _fields = {"name": str, "instructions": str, "prompt": str, "response": str,
               "echo_response": bool}
    _settable = ("response",)
    _secret = ("response",)  # preset with ssh_password for a password prompt


class SSHClientSSHServerAuthenticationEventParams(_Params):
    """on_ssh_server_authentication: the server showed its host key; set accept to
    trust it (preset True when a trust setting already matched it)."""

    _fields = {"host_key": bytes, "fingerprint": str, "key_algorithm": str,
               "cert_subject": str, "cert_issuer": str, "status": str, "accept": bool}
    _settable = ("accept",)
    _docs = {"accept": "Set to True to trust the key and go on; False ends the logon "
                       "(error 1030)."}


class SSHClientSSHStatusEventParams(_Params):
    """on_ssh_status: a progress note (connecting, key exchange, authentication)."""

    _fields = {"message": str}


# on_* event -> the class of the object its handler gets
EVENTS: dict[str, type[_Params]] = {
    "on_connected": SSHClientConnectedEventParams,
    "on_connection_status": SSHClientConnectionStatusEventParams,
    "on_disconnected": SSHClientDisconnectedEventParams,
    "on_error": SSHClientErrorEventParams,
    "on_log": SSHClientLogEventParams,
    "on_ssh_channel_closed": SSHClientSSHChannelClosedEventParams,
    "on_ssh_channel_data": SSHClientSSHChannelDataEventParams,
    "on_ssh_channel_eof": SSHClientSSHChannelEOFEventParams,
    "on_ssh_channel_opened": SSHClientSSHChannelOpenedEventParams,
    "on_ssh_channel_open_request": SSHClientSSHChannelOpenRequestEventParams,
    "on_ssh_channel_ready_to_send": SSHClientSSHChannelReadyToSendEventParams,
    "on_ssh_channel_request": SSHClientSSHChannelRequestEventParams,
    "on_ssh_channel_requested": SSHClientSSHChannelRequestedEventParams,
    "on_ssh_custom_auth": SSHClientSSHCustomAuthEventParams,
    "on_ssh_keyboard_interactive": SSHClientSSHKeyboardInteractiveEventParams,
    "on_ssh_server_authentication": SSHClientSSHServerAuthenticationEventParams,
    "on_ssh_status": SSHClientSSHStatusEventParams,
}
EVENT_NAMES = tuple(EVENTS)

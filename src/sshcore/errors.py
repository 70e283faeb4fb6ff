"""The root of the library's exception hierarchy, with the spec's codes.

It lives in the compiled core's package because the core raises these too
(a bad MAC, a malformed packet): whatever reaches a user, from the core or
the Python layer, is an `SSHClientError`, so one `except` catches it all.
`sshclient.errors` re-exports every name here and adds the rest.
"""
from __future__ import annotations

# Spec messages, keyed by code (the Python edition's "SSHClient Errors" and
# "TCPClient Errors": they name the Python spellings, e.g. remote_port).
MESSAGES: dict[int, str] = {
    100: "You cannot change the remote_port at this time. A connection is in progress.",
    101: "You cannot change the remote_host (Server) at this time. A connection is in progress.",
    102: "The remote_host address is invalid (0.0.0.0).",
    104: "Already connected. If you want to reconnect, close the current connection first.",
    106: "You cannot change the local_port at this time. A connection is in progress.",
    107: "You cannot change the local_host at this time. A connection is in progress.",
    112: "You cannot change MaxLineLength at this time. A connection is in progress.",
    116: "remote_port cannot be zero. Please specify a valid service port number.",
    117: "You cannot change the UseConnection option while the class is active.",
    135: "Operation would block.",
    201: "Timeout.",
    211: "Action impossible in control's present state.",
    212: "Action impossible while not connected.",
    213: "Action impossible while listening.",
    301: "Timeout.",
    302: "Could not open file.",
    434: "Unable to convert string to selected CodePage.",
    1001: "Server has disconnected.",
    1002: "Protocol version unsupported or other issue with version string.",
    1003: "Cannot negotiate algorithms.",
    1005: "Selected algorithm unsupported.",
    1006: "Cannot set keys.",
    1010: "Unexpected algorithm.",
    1011: "Cannot create exchange hash.",
    1012: "Cannot make key.",
    1013: "Cannot sign data.",
    1014: "Cannot encrypt packet.",
    1015: "Cannot decrypt packet.",
    1016: "Cannot decompress packet.",
    1020: "Failure to open channel.",
    1021: "Invalid channel Id.",
    1022: "Invalid channel data.",
    1023: "Invalid channel message.",
    1024: "SSH message unimplemented.",
    1027: "Server message unsupported.",
    1030: "Server's host key was rejected. The host key may be accepted within the "
    "on_ssh_server_authentication event or using the ssh_accept_server_host_key property.",
    1031: "Cannot verify server's host key.",
    1032: "Authentication failed. Check description for details.",
    1033: "Channel request failed.",
    1034: "Diffie-Hellman exchange failed.",
    1036: "SSH connection failed.",
    1037: "SSH reconnect limit reached.",
    1038: "Elliptic curve Diffie-Hellman exchange failed.",
    1039: "SSH keep-alive limit reached.",
    1098: "Request failure.",
    1105: "Already connecting. If you want to reconnect, close the current connection first.",
    1117: "You need to connect first.",
    1119: "You cannot change the LocalHost at this time. A connection is in progress.",
    1120: "Connection dropped by remote host.",
    1130: "Would block error.",
    1133: "Would block, reason: key reExchange.",
}


class SSHClientError(Exception):
    """Base of every error this library raises; `code` is the spec's number."""

    default_code = 1036

    def __init__(self, message: str | None = None, code: int | None = None) -> None:
        self.code: int = code if code is not None else self.default_code
        base = MESSAGES.get(self.code, "")
        if message and base and message != base:
            text = f"{base} {message}"
        else:
            text = message or base or "SSH error"
        self.message: str = text
        super().__init__(f"[{self.code}] {text}")

    def __reduce__(self) -> tuple:
        # Pickle and copy rebuild from args and __dict__ without calling
        # __init__ again, which would put the spec's text in front of a
        # message that already starts with it (and subclasses take other
        # arguments); an OSError base would otherwise pickle the same way.
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[SSHClientError], args: tuple) -> SSHClientError:
    exc = cls.__new__(cls)
    exc.args = args
    return exc


class RemoteProtocolError(SSHClientError):
    """The peer sent something invalid or unexpected; the connection is closed."""

    default_code = 1036

    def __init__(self, message: str | None = None, code: int | None = None,
                 disconnect_reason: int = 2) -> None:
        super().__init__(message, code)
        #: SSH_DISCONNECT_* reason sent to the peer before closing (2 = protocol error).
        self.disconnect_reason = disconnect_reason


class MacError(RemoteProtocolError):
    """A packet failed authentication (bad MAC / AEAD tag): fatal to the connection."""

    default_code = 1015

    def __init__(self, message: str | None = None, code: int | None = None) -> None:
        super().__init__(message or "message authentication failed", code,
                         disconnect_reason=5)


class UsageError(SSHClientError):
    """The caller asked for something impossible in the current state."""

    default_code = 211


class InvalidArgumentError(UsageError, ValueError):
    """An argument's value is out of range; also a ValueError."""


class ArgumentTypeError(UsageError, TypeError):
    """An argument of the wrong type; also a TypeError."""


class ConcurrentUseError(UsageError, RuntimeError):
    """One connection was used from two threads at once and refused, before
    any state was touched; also a RuntimeError."""


class ChannelError(SSHClientError):
    """A channel could not be opened (1020), is not known or no longer open
    (1021), was closed or ended by the server mid-use (1022), or refused a
    request (1033)."""

    default_code = 1020


class UnknownChannelError(ChannelError, UsageError, KeyError):
    """No open channel has this id (1021): a ChannelError, the caller's
    mistake (UsageError) and a KeyError, however it was reached."""

    default_code = 1021

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


# SSH_MSG_DISCONNECT reasons (RFC 4253 §11.1) the core's errors carry.
DISCONNECT_PROTOCOL_ERROR = 2
DISCONNECT_MAC_ERROR = 5
DISCONNECT_COMPRESSION_ERROR = 6


class ProtocolError(RemoteProtocolError, ValueError):
    """What the compiled core raises when the peer's bytes are invalid: 1015
    bad MAC/tag or undecryptable, 1016 bad compressed data, 1036 malformed
    framing, 1022 bad channel data; 1014 when we cannot encrypt.  Built as
    ``ProtocolError(code, detail)``; ``reason`` is the disconnect reason.
    Still a ValueError, as it was before it joined the hierarchy."""

    def __init__(self, code: int, message: str = "", reason: int | None = None) -> None:
        if reason is None:
            reason = (DISCONNECT_MAC_ERROR if code == 1015 else DISCONNECT_COMPRESSION_ERROR
                      if code == 1016 else DISCONNECT_PROTOCOL_ERROR)
        super().__init__(message or None, code, disconnect_reason=reason)
        self.detail = message

    @property
    def reason(self) -> int:
        return self.disconnect_reason

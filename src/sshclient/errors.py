"""One exception hierarchy; every error carries the spec's numeric code.

`SSHClientError.code` is the number from the spec's error tables
(1001 server disconnected … 1133 would block during key re-exchange, the
TCP client codes 100–1120, and 10000+ socket errors).  The subclass says
whose fault it was: the peer (`RemoteProtocolError`), the user
(`UsageError`), or the network (`ConnectionError_`).
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


class DisconnectedError(SSHClientError):
    """The server closed the connection or sent SSH_MSG_DISCONNECT."""

    default_code = 1001

    def __init__(self, message: str | None = None, code: int | None = None,
                 reason: int = 0) -> None:
        super().__init__(message, code)
        self.reason = reason


class AuthenticationError(SSHClientError):
    default_code = 1032


class HostKeyError(SSHClientError):
    """The server's host key was not accepted (1030) or its signature is bad (1031)."""

    default_code = 1030


class ChannelError(SSHClientError):
    default_code = 1020


class UsageError(SSHClientError):
    """The caller asked for something impossible in the current state."""

    default_code = 211


class ConnectionError_(SSHClientError):
    """TCP-level failure: refused, unreachable, DNS (socket errno mapped to 10000+)."""

    default_code = 10061


class TimeoutError_(SSHClientError):
    default_code = 301


class WouldBlockError(SSHClientError):
    default_code = 1130


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

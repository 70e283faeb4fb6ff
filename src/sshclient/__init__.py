"""sshclient: an SSH-2 client for Python with a compiled hot path.

`from sshclient import SSHClient` gives the spec's event-driven class;
`sshclient.connect(...)` gives the Pythonic blocking API.
"""
from .algorithms import Negotiated
from .blocking import Channel, ExecResult, SSHConnection, connect
from .errors import (
    ArgumentTypeError,
    AuthenticationError,
    ChannelError,
    ConcurrentUseError,
    ConnectionError_,
    DisconnectedError,
    HostKeyError,
    InvalidArgumentError,
    RemoteProtocolError,
    SSHClientError,
    SSHConnectionError,
    SSHTimeoutError,
    TimeoutError_,
    UnknownChannelError,
    UsageError,
)
from .keys import PrivateKey, load_private_key_file
from .options import HostKeyInfo
from .proxy import ProxyError, ProxySettings
from .spec import SSHClient

__version__ = "0.1.0"
__all__ = ["SSHClient", "SSHClientError", "connect", "SSHConnection", "Channel", "ExecResult",
           "ProxySettings", "ProxyError", "HostKeyInfo", "Negotiated", "PrivateKey",
           "load_private_key_file", "AuthenticationError", "ChannelError", "SSHConnectionError",
           "DisconnectedError", "HostKeyError", "RemoteProtocolError", "SSHTimeoutError",
           "UsageError", "ArgumentTypeError", "InvalidArgumentError", "ConcurrentUseError",
           "UnknownChannelError", "ConnectionError_", "TimeoutError_"]

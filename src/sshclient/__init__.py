"""sshclient: an SSH-2 client for Python with a compiled hot path.

`from sshclient import SSHClient` gives the spec's event-driven class;
`sshclient.connect(...)` gives the Pythonic blocking API.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    RequestRefusedError,
    SSHClientError,
    SSHConnectionError,
    SSHTimeoutError,
    TimeoutError_,
    UnknownChannelError,
    UsageError,
)
from .eventclient.enums import AuthMode, CertStoreType, FirewallType
from .forwarding import LocalForward, RemoteForward
from .keys import PrivateKey, load_private_key_file
from .options import HostKeyInfo
from .proxy import ProxyError, ProxySettings

if TYPE_CHECKING:
    from .eventclient import SSHClient
else:
    def __getattr__(name: str) -> Any:
        # The spec adapter (and its X.509 / PKCS#12 certificate store) loads
        # on first use of SSHClient, so that `import sshclient` for connect()
        # stays light (PEP 562).  Type checkers see the import above instead,
        # and no __getattr__ that would make every misspelt name an Any.
        if name == "SSHClient":
            from .eventclient import SSHClient

            globals()["SSHClient"] = SSHClient  # later lookups skip this function
            return SSHClient
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"
__all__ = ["SSHClient", "AuthMode", "CertStoreType", "FirewallType", "SSHClientError",
           "connect", "SSHConnection", "Channel", "ExecResult", "LocalForward",
           "RemoteForward",
           "ProxySettings", "ProxyError", "HostKeyInfo", "Negotiated", "PrivateKey",
           "load_private_key_file", "AuthenticationError", "ChannelError", "SSHConnectionError",
           "DisconnectedError", "HostKeyError", "RemoteProtocolError", "SSHTimeoutError",
           "UsageError", "ArgumentTypeError", "InvalidArgumentError", "ConcurrentUseError",
           "UnknownChannelError", "RequestRefusedError", "ConnectionError_", "TimeoutError_"]

"""sshclient: an SSH-2 client for Python with a compiled hot path.

`from sshclient import SSHClient` gives the spec's event-driven class;
`sshclient.connect(...)` gives the Pythonic blocking API.
"""
from .blocking import Channel, ExecResult, SSHConnection, connect
from .errors import SSHClientError
from .proxy import ProxyError, ProxySettings
from .spec import SSHClient

__version__ = "0.1.0"
__all__ = ["SSHClient", "SSHClientError", "connect", "SSHConnection", "Channel", "ExecResult",
           "ProxySettings", "ProxyError"]

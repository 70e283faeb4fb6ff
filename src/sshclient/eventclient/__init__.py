"""The event-driven client: `SSHClient`, with the properties, methods, on_*
events and error codes of a commercial SSH toolkit's class of that name
(its Python edition's text is what the tests hold us to).  An adapter over
the sans-IO protocol and the blocking driver; no protocol logic lives here.

Formerly `sshclient.spec`, a name that read as a test folder; that path
still imports (sshclient/spec.py).

The enumerations are light; the class (and its X.509 / PKCS#12 certificate
store) loads on first use of `SSHClient` (PEP 562), so that importing the
enums for `import sshclient` costs nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .enums import AuthMode, CertStoreType, FirewallType

if TYPE_CHECKING:
    from .client import SSHClient
else:
    def __getattr__(name: str) -> Any:
        if name == "SSHClient":
            from .client import SSHClient

            globals()["SSHClient"] = SSHClient
            return SSHClient
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["SSHClient", "AuthMode", "CertStoreType", "FirewallType"]

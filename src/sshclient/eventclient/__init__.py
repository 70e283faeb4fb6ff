"""The spec's SSHClient adapter (shared/spec/sshclient-python-edition.txt).

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

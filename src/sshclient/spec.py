"""The old import path of the event-driven client, `sshclient.eventclient`.

Kept so that code written as ``from sshclient.spec import SSHClient`` or
``import sshclient.spec.certstore`` goes on working: every submodule of
`sshclient.eventclient` is also registered under this name, so both paths
give the same module objects and the same classes.

Unlike `sshclient` and `sshclient.eventclient`, importing this module loads
the whole adapter (its X.509 / PKCS#12 certificate store too): registering
the submodules needs them loaded.  New code imports `sshclient.eventclient`.
"""
from __future__ import annotations

import sys

from .eventclient import (
    AuthMode,
    CertStoreType,
    FirewallType,
    SSHClient,
    accessors,
    certprops,
    certstore,
    channels,
    client,
    defaults,
    enums,
    params,
    properties,
    rawpacket,
    settings,
)

# Not a package: `import sshclient.spec.client` finds these entries in
# sys.modules once this module has run, which the import system looks at
# before it needs a package path.
for _module in (accessors, certprops, certstore, channels, client, defaults, enums, params,
                properties, rawpacket, settings):
    sys.modules[f"{__name__}.{_module.__name__.rpartition('.')[2]}"] = _module
del _module

__all__ = ["SSHClient", "AuthMode", "CertStoreType", "FirewallType"]

"""The part of SSHClient's surface that is made from tables, as a base class.

`TableAccessors` gets, at import, the get_x/set_x methods and x properties
of every row of the property table (properties.py), of the certificate
fields (certprops.py) and a property per on_* event (params.EVENTS).  It is
a base class of its own so that its stub, accessors.pyi (generated from the
same tables by scripts/gen_eventclient_stubs.py), can show type checkers
these names without hiding client.py's body from them.
"""
from __future__ import annotations

from typing import Any

from .certprops import install_cert_properties
from .params import EVENTS
from .properties import SIMPLE_PROPERTIES, install_simple_properties


class TableAccessors:
    """Table-made properties, get_/set_ methods and on_* events of SSHClient."""


def _install_event(cls: type, name: str, doc: str) -> None:
    attr = "_" + name  # unset until a handler is given: reads as None

    def read(self: Any) -> Any:
        return getattr(self, attr, None)

    def write(self: Any, handler: Any) -> None:
        setattr(self, attr, handler)

    setattr(cls, name, property(read, write, doc=doc))


install_simple_properties(TableAccessors, SIMPLE_PROPERTIES)
install_cert_properties(TableAccessors, "ssh_cert", "_cert")
install_cert_properties(TableAccessors, "ssh_accept_server_host_key", "_accept_key")
for _name, _params in EVENTS.items():
    _install_event(TableAccessors, _name, _params.__doc__ or "")

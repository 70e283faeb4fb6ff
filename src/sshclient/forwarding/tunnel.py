"""A channel as the transport of another connection (a jump host's hop)."""
from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from ..connect_args import at_hop
from ..errors import SSHClientError
from .splice import Splice

if TYPE_CHECKING:
    from ..operations import ChannelHandle
    from .service import Forwarding


def tunnel_socket(service: Forwarding, channel: ChannelHandle, label: str) -> socket.socket:
    """A socket whose bytes travel in `channel`: one end of a socket pair,
    the other joined to the channel by a Splice the connection's forwarding
    serves. The next connection takes it as its socket, unchanged."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    Splice(service, ours, channel, label, "tunnel").on_round()
    return theirs


def unreachable(exc: SSHClientError, host: str, port: int, through: str) -> SSHClientError:
    """A refused direct-tcpip open, saying where it was headed and through whom."""
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return at_hop(exc, f"cannot reach {shown} through {through}")

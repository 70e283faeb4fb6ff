"""A connection's forwarding: its listeners, its live splices, the round hook."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .watcher import Watcher

if TYPE_CHECKING:
    from ..protocol import ClientProtocol
    from .local import LocalForward
    from .splice import Splice

# one read from a local socket: what goes into the channel in one send()
READ_SIZE = 256 * 1024


class Forwarding:
    """Everything forwarded over one connection. The driver calls
    on_round() after each round of SSH input; listeners add splices."""

    def __init__(self, proto: ClientProtocol, watcher: Watcher) -> None:
        self.proto = proto
        self.watcher = watcher
        self.listeners: list[LocalForward] = []
        self.splices: set[Splice] = set()
        # every splice reads its local socket into this one buffer: the data
        # is copied into the channel's packets at once (one thread at a time)
        self.buffer = memoryview(bytearray(READ_SIZE))

    @property
    def idle(self) -> bool:
        """Nothing to serve: no listener, no live forwarded connection."""
        return not self.listeners and not self.splices

    def on_round(self) -> None:
        if self.proto.closed:
            self.connection_ended()
            return
        for splice in list(self.splices):
            splice.on_round()

    def connection_ended(self) -> None:
        self.close_all()

    def ended(self, splice: Splice) -> None:
        self.splices.discard(splice)

    def listener_closed(self, listener: LocalForward) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def close_all(self) -> None:
        """The connection is going: stop every listener and connection."""
        for listener in list(self.listeners):
            listener.close(close_connections=True)
        for splice in list(self.splices):
            splice.close()

"""What a driver offers the forwarding pieces: readiness of their sockets."""
from __future__ import annotations

import socket
from typing import Callable, Protocol

# called with (readable, writable) when a watched socket is ready
OnReady = Callable[[bool, bool], None]


class Watcher(Protocol):
    def watch(self, sock: socket.socket, read: bool, write: bool, on_ready: OnReady) -> None:
        """Call `on_ready` while `sock` is readable (if `read`) or writable
        (if `write`); both False stops watching it. The callback runs with
        the connection's state at hand (the blocking driver's lock held, or
        on the event loop), and what it queued for the server is sent after it."""


class RoundListener(Protocol):
    """What a driver tells the forwarding of a connection."""

    def on_round(self) -> None:
        """A round of SSH input was handled: windows, data, EOFs and closes
        of channels may have changed."""

    def connection_ended(self) -> None:
        """The connection is closed or lost: nothing more will move."""


def tell_round_listeners(listeners: list[RoundListener], ended: bool = False) -> None:
    """What a driver calls after each round of SSH input (and once at its end)."""
    for listener in list(listeners):
        if ended:
            listener.connection_ended()
        else:
            listener.on_round()

"""A connection's forwarding: its listeners, its live splices, the round hook."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sshcore.wire import WireError

from ..events import ChannelOpenRequested, Event
from .remote import FORWARDED_STREAMLOCAL, FORWARDED_TCPIP, parse_forwarded_open
from .watcher import Watcher

if TYPE_CHECKING:
    from ..protocol import ClientProtocol
    from .local import LocalForward
    from .remote import RemoteForward
    from .splice import Splice

log = logging.getLogger("sshclient.forwarding")

# one read from a local socket: what goes into the channel in one send()
READ_SIZE = 256 * 1024


class Forwarding:
    """Everything forwarded over one connection. The driver calls
    on_round() after each round of SSH input; listeners add splices."""

    def __init__(self, proto: ClientProtocol, watcher: Watcher) -> None:
        self.proto = proto
        self.watcher = watcher
        self.listeners: list[LocalForward] = []
        self.remote_forwards: list[RemoteForward] = []
        self.splices: set[Splice] = set()
        # connections being set up (a remote forward's local connect, a SOCKS
        # handshake): told of each round too, closed with everything else
        self.starting: set[Any] = set()
        # every splice reads its local socket into this one buffer: the data
        # is copied into the channel's packets at once (one thread at a time)
        self.buffer = memoryview(bytearray(READ_SIZE))

    @property
    def idle(self) -> bool:
        """Nothing to serve: no listener, no live forwarded connection."""
        return not (self.listeners or self.remote_forwards or self.splices or self.starting)

    def claim(self, event: Event) -> bool:
        """Take a channel the server opens for a remote forward (True), or
        leave the event to the front end's default (False)."""
        if not isinstance(event, ChannelOpenRequested) or event.channel_type not in (
                FORWARDED_TCPIP, FORWARDED_STREAMLOCAL):
            return False
        try:
            host, port, path, origin = parse_forwarded_open(event)
        except WireError:
            host, port, path, origin = "", -1, None, "?"
        for forward in self.remote_forwards:
            if forward.serves(host, port, path):
                forward.accept(event, origin)
                return True
        log.info("refused a %s channel for %s: no such forward", event.channel_type,
                 path or f"{host}:{port}")
        self.proto.answer_channel_open(event.channel, False)
        return True

    def on_round(self) -> None:
        if self.proto.closed:
            self.connection_ended()
            return
        for starting in list(self.starting):
            starting.on_round()
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
        for forward in list(self.remote_forwards):
            forward.close(close_connections=True)
        for starting in list(self.starting):
            starting.close()
        self.starting.clear()
        for splice in list(self.splices):
            splice.close()

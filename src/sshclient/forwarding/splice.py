"""One local socket joined to one SSH channel: a forwarded connection.

Bytes flow both ways with backpressure at each end: a local reader that is
slow leaves data in the channel's buffer, which holds the SSH window shut;
a channel without window stops us reading the local socket, which holds
the local writer back through TCP. Each side's EOF is carried to the other
(`shutdown(SHUT_WR)` locally, CHANNEL_EOF remotely) and the splice ends
once both directions have ended, or either side fails.
"""
from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Callable

from ..errors import SSHClientError
from ..operations import ChannelHandle, OpenChannel

if TYPE_CHECKING:
    from .service import Forwarding

log = logging.getLogger("sshclient.forwarding")


class Splice:
    """A local socket and its channel (see the module docstring): one we
    opened (`channel` is the OpenChannel, on_round() takes its answer) or
    one the server opened. `on_failure(message)` hears why an open was refused."""

    def __init__(self, service: Forwarding, sock: socket.socket,
                 channel: OpenChannel | ChannelHandle, label: str, owner: object,
                 on_failure: Callable[[str], None] | None = None, first: bytes = b"") -> None:
        self.sock = sock
        self.label = label
        self.owner = owner  # the listener or remote forward it belongs to
        self.done = False
        self._service = service
        # a channel we opened waits for the server's answer; one the server
        # opened (a remote forward's) is open already
        self._opening = channel if isinstance(channel, OpenChannel) else None
        self._on_failure = on_failure
        self.channel: ChannelHandle = (
            channel.channel if isinstance(channel, OpenChannel) else channel)
        service.splices.add(self)
        self._local_ended = False      # the local side sent EOF: CHANNEL_EOF sent
        self._remote_ended = False     # the server's EOF is delivered: local SHUT_WR done
        self._write_blocked = False    # the local socket took less than offered
        self._backlog = memoryview(first)  # read already (after a SOCKS request): goes first
        self._interest = (False, False)

    # ---------------------------------------------------------- the driver's calls
    def on_round(self) -> None:
        """After a round of SSH input: the open's answer, data, window, EOF, close."""
        if self.done:
            return
        try:
            if self._opening is not None and not self._opened():
                return
            self._send_backlog()
            if not self._write_blocked:
                self._to_local()
            self._settle()
        except Exception:
            self._broke()

    def on_ready(self, readable: bool, writable: bool) -> None:
        if self.done:
            return
        try:
            if writable:
                self._write_blocked = False
                self._to_local()
            if readable and not self.done:
                self._from_local()
            self._settle()
        except Exception:
            self._broke()

    def _broke(self) -> None:
        """A failure of this one connection (the channel went with the SSH
        connection, a bug): end it, not the driver's round."""
        log.debug("forwarded connection %s failed", self.label, exc_info=True)
        self._finish()

    def close(self) -> None:
        """End now, whatever is in flight (the listener closes its connections,
        or the SSH connection is gone)."""
        self._finish()

    # ---------------------------------------------------------------- opening
    def _opened(self) -> bool:
        opening = self._opening
        assert opening is not None
        if not opening.ready():
            return False
        self._opening = None
        try:
            opening.result()
        except SSHClientError as exc:
            message = f"{self.label}: {exc.message}"
            log.warning("forwarded connection refused: %s", message)
            if self._on_failure is not None:
                self._on_failure(message)
            self._finish()
            return False
        return True

    # ------------------------------------------------------------------ data
    def _to_local(self) -> None:
        """Channel -> local socket, straight from the channel's buffer."""
        channel = self.channel
        if not channel.buffered:
            return
        fd = self.sock.fileno()
        try:
            while channel.available():
                if not channel.write_to(fd):
                    self._write_blocked = True  # full: wait until writable
                    return
        except OSError as exc:
            self._local_failed(exc)
            return
        if channel.at_end() and not self._remote_ended:
            self._remote_ended = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the local side is gone already; reading will tell

    def _send_backlog(self) -> None:
        if self._backlog:
            self._backlog = self._backlog[self.channel.send(self._backlog):]

    def _from_local(self) -> None:
        """Local socket -> channel, no more than the window takes now."""
        if self._backlog:
            return
        room = self.channel.send_room()
        if room <= 0:
            return
        view = self._service.buffer
        if room < len(view):
            view = view[:room]
        try:
            n = self.sock.recv_into(view)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._local_failed(exc)
            return
        if n == 0:
            self._local_ended = True
            self.channel.send_eof()
            return
        taken = self.channel.send(view[:n])
        if taken < n:  # (n was within the room; should the channel take less, keep the rest)
            self._backlog = memoryview(bytes(view[taken:n]))

    def _local_failed(self, exc: OSError) -> None:
        log.info("forwarded connection %s: local side failed: %s", self.label, exc)
        self._finish()

    # -------------------------------------------------------------- lifecycle
    def _settle(self) -> None:
        """End when both directions have, or the server closed and all it
        sent is delivered; otherwise watch for what can move next."""
        if self.done:
            return
        record = self.channel.record
        delivered = not self.channel.buffered or not self.channel.available()
        if (record.close_received and delivered) or (self._local_ended and self._remote_ended):
            self._finish()
            return
        read = not self._local_ended and not self._backlog and self.channel.can_send()
        interest = (read, self._write_blocked)
        if interest != self._interest:
            self._interest = interest
            self._service.watcher.watch(self.sock, read, self._write_blocked, self.on_ready)

    def _finish(self) -> None:
        if self.done:
            return
        self.done = True
        if self._interest != (False, False):
            self._interest = (False, False)
            self._service.watcher.watch(self.sock, False, False, self.on_ready)
        try:
            self.sock.close()
        except OSError:
            pass
        # (one not confirmed yet is closed when the confirmation comes)
        self.channel.close(connection_usable=not self._service.proto.closed)
        self._opening = None
        self._service.ended(self)

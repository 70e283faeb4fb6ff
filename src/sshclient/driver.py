"""Blocking driver: moves bytes between a socket and a `ClientProtocol`.

One non-blocking socket, one selector, no polling loops: the thread sleeps
in `select` until the socket is readable (or writable while output is
pending) or the deadline passes.  Reads go straight into the compiled
engine's buffer with `recv_into`.
"""
from __future__ import annotations

import selectors
import socket
import time
from typing import Callable

from .deadline import Deadline
from .errors import (
    DisconnectedError,
    RemoteProtocolError,
    SSHClientError,
    SSHTimeoutError,
    socket_error_code,
)
from .events import Event
from .protocol import ClientProtocol
from .sockets import RateLimiter

READ_CHUNK = 256 * 1024
MAX_READS_PER_PUMP = 8
# Bulk receive: wake up for at least this much input (SO_RCVLOWAT) ...
STREAM_BATCH = 256 * 1024
# ... or after this long, whichever comes first.
STREAM_WAIT = 0.002
_HAVE_RCVLOWAT = hasattr(socket, "SO_RCVLOWAT")


class BlockingDriver:
    def __init__(self, proto: ClientProtocol, sock: socket.socket,
                 on_event: Callable[[Event], None]) -> None:
        self.proto = proto
        self.sock = sock
        self.on_event = on_event
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._want_read = True
        self._want_write = False
        self.eof = False
        self.closed = False
        self.last_activity = time.monotonic()
        self.last_received = self.last_activity
        # SSH keepalives (keepalive@openssh.com): 0 = off
        self.keepalive_interval = 0.0
        self.keepalive_count_max = 5
        self.keepalives_outstanding = 0
        self._last_keepalive = 0.0
        # MaxTransferRate: a token bucket that paces what we write (None = unlimited)
        self.rate_limiter: RateLimiter | None = None
        self._throttled = False
        self._streaming = False  # the last pump found data waiting

    # ---------------------------------------------------------------- output
    def flush_nowait(self) -> bool:
        """Send what the socket (and MaxTransferRate) takes now; True when all is gone."""
        proto = self.proto
        limiter = self.rate_limiter
        while proto.output_size():
            view = proto.output_view()
            if limiter is not None:
                allowed = limiter.allowance()
                if allowed <= 0:
                    view.release()
                    self._throttled = True
                    return False
                if allowed < len(view):
                    view = view[:allowed]
            try:
                sent = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError as exc:
                self._lost(exc)
            finally:
                view.release()
            if sent <= 0:
                return False
            if limiter is not None:
                limiter.consume(sent)
            proto.output_consume(sent)
            self.last_activity = time.monotonic()
        return True

    def _set_interest(self, read: bool, write: bool) -> None:
        """Wait for readable only while the protocol takes input (backpressure),
        for writable only while output is pending."""
        if (read, write) == (self._want_read, self._want_write) or self.closed:
            return
        events = (selectors.EVENT_READ if read else 0) | (selectors.EVENT_WRITE if write else 0)
        registered = self._want_read or self._want_write
        if events and registered:
            self._selector.modify(self.sock, events)
        elif events:
            self._selector.register(self.sock, events)
        else:
            self._selector.unregister(self.sock)
        self._want_read, self._want_write = read, write

    # ----------------------------------------------------------------- input
    def _set_streaming(self, on: bool) -> None:
        if on == self._streaming or not _HAVE_RCVLOWAT:
            return
        self._streaming = on
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT,
                                 STREAM_BATCH if on else 1)
        except OSError:
            pass

    def _read_available(self) -> int:
        """Read what the socket has (bounded); returns the byte count."""
        proto = self.proto
        got = 0
        for _ in range(MAX_READS_PER_PUMP):
            view = proto.recv_buffer(READ_CHUNK)
            room = len(view)
            if not room:
                # The receive buffer is full: process it before reading more
                # (the rest waits in the kernel; TCP slows the peer).
                view.release()
                break
            try:
                n = self.sock.recv_into(view)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                view.release()
                self._lost(exc)
            view.release()
            if n == 0:
                self.eof = True
                break
            proto.recv_commit(n)
            got += n
            if n < room:
                break
        if got:
            self.last_activity = self.last_received = time.monotonic()
            # Anything from the server shows it is alive: the count is of
            # probes in a row that got nothing back (ServerAliveCountMax).
            self.keepalives_outstanding = 0
        return got

    def _lost(self, exc: OSError) -> None:
        self.eof = True
        raise DisconnectedError(f"connection lost: {exc}", code=socket_error_code(exc))

    # ------------------------------------------------------------------ pump
    def pump(self, wait: float | None) -> bool:
        """One round of I/O; waits up to `wait` seconds (None = forever) for the socket."""
        if self.closed:
            raise DisconnectedError("connection is closed", code=1001)
        self._throttled = False
        flushed = self.flush_nowait()
        # a throttled writer waits on the clock, not on a writable socket (no spinning)
        reading = self.proto.wants_input()
        self._set_interest(reading, not flushed and not self._throttled)
        if self._throttled and self.rate_limiter is not None:
            pause = self.rate_limiter.delay(self.proto.output_size())
            wait = pause if wait is None else min(wait, pause)
        progressed = False
        if self.keepalive_interval > 0:
            due = self._keepalive_due_in()
            wait = due if wait is None else min(wait, due)
        if self._streaming:
            # Bulk input: let the kernel gather a bigger batch before waking us (fewer
            # rounds of Python per GB); a short cap keeps the tail of a stream prompt.
            wait = STREAM_WAIT if wait is None else min(wait, STREAM_WAIT)
        ready = self._selector.select(wait)
        got = 0
        for _key, mask in ready:
            if mask & selectors.EVENT_WRITE:
                self.flush_nowait()
            if mask & selectors.EVENT_READ:
                got = self._read_available()
                progressed = got > 0 or self.eof
        if not ready and self._streaming and reading:
            got = self._read_available()  # what arrived below the low-water mark
            progressed = got > 0 or self.eof
        self._set_streaming(got >= STREAM_BATCH // 2 and not self.eof)
        if progressed or not ready:
            self.dispatch()
        if self.keepalive_interval > 0 and not self.eof:
            self._maybe_send_keepalive()
        # replies produced while handling input go out now
        self.flush_nowait()
        if self.eof:
            self._on_eof()
        return progressed

    # ------------------------------------------------------------- keepalive
    def _keepalive_due_in(self) -> float:
        last = max(self.last_received, self._last_keepalive)
        return max(0.0, last + self.keepalive_interval - time.monotonic())

    def _maybe_send_keepalive(self) -> None:
        """After `keepalive_interval` s without input, ask the server for a reply."""
        if self._keepalive_due_in() > 0 or not self.proto.authenticated:
            return
        if self.keepalives_outstanding >= self.keepalive_count_max:
            raise SSHClientError(
                f"no answer to {self.keepalives_outstanding} keep-alive requests", code=1039)
        self.proto.connection.send_global_request("keepalive@openssh.com", True)
        self.keepalives_outstanding += 1
        self._last_keepalive = time.monotonic()

    def dispatch(self) -> None:
        try:
            events = self.proto.process()
        except SSHClientError:
            self.flush_nowait()
            raise
        for event in events:
            self.on_event(event)

    def _on_eof(self) -> None:
        transport = self.proto.transport
        if transport.disconnect_error is not None:
            raise transport.disconnect_error
        if not transport.version_received:
            first = transport.first_line.decode("utf-8", "replace")
            detail = f"; it sent {first!r}" if first else ""
            raise RemoteProtocolError(
                f"the server closed the connection before sending an SSH version line{detail}",
                code=1002)
        raise DisconnectedError("the server closed the connection", code=1001)

    def run_until(self, done: Callable[[], bool], timeout: float | None,
                  absolute: bool = False, what: str = "operation",
                  deadline: Deadline | None = None) -> None:
        """Pump until `done()`; `timeout` is an inactivity timeout unless
        `absolute`; a `deadline` bounds the whole wait as well (a login)."""
        start = time.monotonic()
        while not done():
            remaining = None
            if timeout is not None and timeout > 0:
                now = time.monotonic()
                base = start if absolute else max(start, self.last_activity)
                remaining = base + timeout - now
                if remaining <= 0:
                    raise SSHTimeoutError(f"{what} timed out after {timeout:g} s", code=301)
            if deadline is not None:
                deadline.check()
                remaining = deadline.bound(remaining)
            self.pump(remaining)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush_nowait()
        except SSHClientError:
            pass
        self.closed = True
        try:
            self._selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self._selector.close()
        try:
            self.sock.close()
        except OSError:
            pass

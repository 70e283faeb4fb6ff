"""Blocking driver: moves bytes between a socket and a `ClientProtocol`.

One non-blocking socket, one selector, no polling loops: the thread sleeps
in `select` until the socket is readable (or writable while output is
pending) or the deadline passes.  Reads go straight into the compiled
engine's buffer with `recv_into`.

Several threads may wait at once (`run_until`): one of them does the I/O
(the pumper) while the others sleep until it finishes a round, then check
their own condition; whoever finds nobody pumping becomes the pumper. The
connection lock is let go around `select`, so the other threads can read
what is buffered and write meanwhile; a thread that leaves output the
pumper does not know about wakes it through a socket pair.

Other sockets (forwarding's listeners and forwarded connections) share the
selector (`watch()`): the pumping thread calls them when they are ready,
and tells the round listeners after each round of SSH input.
"""
from __future__ import annotations

import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from .deadline import Deadline
from .errors import (
    DisconnectedError,
    SSHClientError,
    SSHTimeoutError,
    socket_error_code,
)
from .events import Event
from .forwarding.watcher import OnReady, RoundListener, tell_round_listeners
from .locking import ConnectionLock
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
        # Events wait here until handed out: a handler that raises leaves the
        # rest for the next round, and a handler that waits (which pumps)
        # queues what arrives instead of being called again inside itself.
        self._pending: deque[Event] = deque()
        self._handing_out = False
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._want_read = True
        self._want_write = False
        # Threads: the lock over all protocol state, who pumps, and the
        # rounds the others wait for (see the module docstring).
        self.lock = ConnectionLock()
        self._pumper: int | None = None
        self._round = threading.Condition()
        self._rounds = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self.eof = False
        self.closed = False
        # for the front ends' inactivity timeouts (protocol timers are the protocol's)
        self.last_activity = time.monotonic()
        # MaxTransferRate: a token bucket that paces what we write (None = unlimited)
        self.rate_limiter: RateLimiter | None = None
        self._throttled = False
        self._streaming = False  # the last pump found data waiting
        # other sockets in the selector (their callback is the key's data)
        self._watched: set[socket.socket] = set()
        self.round_listeners: list[RoundListener] = []

    # ------------------------------------------------------------ front ends
    @contextmanager
    def operating(self) -> Iterator[None]:
        """Hold the lock for one call of a front end; on the way out of the
        outermost call, send what it queued."""
        with self.lock:
            yield
            if self.lock.depth == 1 and not self.closed:
                self.send_queued()

    # ---------------------------------------------------------------- output
    def send_queued(self) -> bool:
        """Send what the protocol queued, as much as the socket (and
        MaxTransferRate) takes now, without waiting; True when all is gone.
        For a front end whose call returns without waiting (a wait sends
        first on its own)."""
        with self.lock:
            if self._flush():
                return True
            self._wake_pumper()
            return False

    def _flush(self) -> bool:
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

    def _wake_pumper(self) -> None:
        """Output is left that the pumping thread (another one) does not wait
        to write: interrupt its select so it looks again."""
        if (self._pumper not in (None, threading.get_ident()) and not self._want_write
                and self.proto.output_size()):
            try:
                self._wake_w.send(b"\0")
            except (BlockingIOError, InterruptedError):
                pass  # full: a wake-up is pending anyway

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

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

    # ---------------------------------------------------------- other sockets
    def watch(self, sock: socket.socket, read: bool, write: bool, on_ready: OnReady) -> None:
        """forwarding.Watcher: `on_ready(readable, writable)` is called by
        the pumping thread, with the lock held."""
        with self.lock:
            if self.closed:
                return
            events = (selectors.EVENT_READ if read else 0) | (
                selectors.EVENT_WRITE if write else 0)
            if not events:
                if sock in self._watched:
                    self._watched.discard(sock)
                    self._selector.unregister(sock)
            elif sock in self._watched:
                self._selector.modify(sock, events, on_ready)
            else:
                self._selector.register(sock, events, on_ready)
                self._watched.add(sock)
            self.interrupt()

    def interrupt(self) -> None:
        """Make the pumping thread (if another one) look again at once."""
        if self._pumper not in (None, threading.get_ident()):
            try:
                self._wake_w.send(b"\0")
            except (BlockingIOError, InterruptedError):
                pass  # full: a wake-up is pending anyway

    def _tell_round_listeners(self, ended: bool = False) -> None:
        tell_round_listeners(self.round_listeners, ended)

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
            proto.recv_commit(n)  # 0: EOF, which the protocol interprets
            if n == 0:
                self.eof = True
                break
            got += n
            if n < room:
                break
        if got:
            self.last_activity = time.monotonic()
        return got

    def _lost(self, exc: OSError) -> None:
        self.eof = True
        raise DisconnectedError(f"connection lost: {exc}", code=socket_error_code(exc))

    # ------------------------------------------------------------------ pump
    def pump(self, wait: float | None) -> bool:
        """One round of I/O; waits up to `wait` seconds (None = forever) for the socket."""
        with self.lock:
            return self._pump(wait)

    def _pump(self, wait: float | None) -> bool:
        if self.closed:
            raise DisconnectedError("connection is closed", code=1001)
        self._throttled = False
        flushed = self.send_queued()
        # a throttled writer waits on the clock, not on a writable socket (no spinning)
        reading = self.proto.wants_input()
        self._set_interest(reading, not flushed and not self._throttled)
        if self._throttled and self.rate_limiter is not None:
            pause = self.rate_limiter.delay(self.proto.output_size())
            wait = pause if wait is None else min(wait, pause)
        progressed = False
        deadline = self.proto.next_deadline()
        if deadline is not None:
            due = max(0.0, deadline - time.monotonic())
            wait = due if wait is None else min(wait, due)
        if self._streaming:
            # Bulk input: let the kernel gather a bigger batch before waking us (fewer
            # rounds of Python per GB); a short cap keeps the tail of a stream prompt.
            wait = STREAM_WAIT if wait is None else min(wait, STREAM_WAIT)
        with self.lock.released():
            ready = self._selector.select(wait)
        if self.closed:  # by another thread while we slept
            self._close_selector()
            raise DisconnectedError("connection is closed", code=1001)
        got = 0
        for key, mask in ready:
            if key.fileobj is self._wake_r:
                self._drain_wake()
                continue
            if key.data is not None:  # a watched socket
                if key.fileobj in self._watched:  # (still: an earlier callback may unwatch it)
                    key.data(bool(mask & selectors.EVENT_READ), bool(mask & selectors.EVENT_WRITE))
                continue
            if mask & selectors.EVENT_WRITE:
                self.send_queued()
            if mask & selectors.EVENT_READ:
                got = self._read_available()
                progressed = got > 0 or self.eof
        ready = [r for r in ready if r[0].fileobj is self.sock]
        if not ready and self._streaming and reading:
            got = self._read_available()  # what arrived below the low-water mark
            progressed = got > 0 or self.eof
        self._set_streaming(got >= STREAM_BATCH // 2 and not self.eof)
        if progressed or not ready or self._pending:
            self.dispatch()
        if self.round_listeners:
            self._tell_round_listeners()
        if not self.eof:
            try:
                self.proto.handle_timeout(time.monotonic())  # keepalive
            except SSHClientError:
                self.send_queued()  # the DISCONNECT it sent
                raise
        # replies produced while handling input go out now
        self.send_queued()
        if self.proto.closed and self.proto.error is not None:
            raise self.proto.error  # after its last events were handed out
        return progressed

    def dispatch(self) -> None:
        self._collect()
        if self._handing_out:
            return  # a handler is waiting: the loop below goes on once it returns
        self._handing_out = True
        try:
            while self._pending:
                while self._pending:
                    self.on_event(self._pending.popleft())
                # what the handlers' answers set going (a key exchange held
                # for the host key goes on with the packets it held)
                self._collect()
        finally:
            self._handing_out = False

    def _collect(self) -> None:
        try:
            self._pending.extend(self.proto.process())
        except SSHClientError:
            self.send_queued()
            raise

    def run_until(self, done: Callable[[], bool], timeout: float | None,
                  absolute: bool = False, what: str = "operation",
                  deadline: Deadline | None = None) -> None:
        """Pump until `done()`; `timeout` is an inactivity timeout unless
        `absolute`; a `deadline` bounds the whole wait as well (a login).
        `done` is called with the lock held. Safe from several threads at once."""
        with self.lock:
            start = time.monotonic()
            me = threading.get_ident()
            while not done():
                remaining: float | None = None
                if timeout is not None and timeout > 0:
                    base = start if absolute else max(start, self.last_activity)
                    remaining = base + timeout - time.monotonic()
                    if remaining <= 0:
                        raise SSHTimeoutError(f"{what} timed out after {timeout:g} s", code=301)
                if deadline is not None:
                    deadline.check()
                    remaining = deadline.bound(remaining)
                if self._pumper not in (None, me):
                    self._await_round(remaining)
                    continue
                outer = self._pumper is None  # else a handler re-entered: the round is ours
                self._pumper = me
                try:
                    self._pump(remaining)
                finally:
                    if outer:
                        self._pumper = None
                    self._end_round()

    def _await_round(self, wait: float | None) -> None:
        """Sleep (lock let go) until the pumping thread finishes a round."""
        seen = self._rounds
        self._wake_pumper()
        with self.lock.released(), self._round:
            if self._rounds == seen:
                self._round.wait(wait)

    def _end_round(self) -> None:
        with self._round:
            self._rounds += 1
            self._round.notify_all()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            try:
                self.send_queued()
            except SSHClientError:
                pass
            self.closed = True
            self._tell_round_listeners(ended=True)
            try:
                self.sock.close()
            except OSError:
                pass
            if self._pumper is None:
                self._close_selector()
            else:  # another thread sleeps in select: wake it, it closes the selector
                try:
                    self._wake_w.send(b"\0")
                except OSError:
                    pass
        self._end_round()

    def _close_selector(self) -> None:
        if self._selector.get_map() is None:
            return  # closed already
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

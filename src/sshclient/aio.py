"""The asyncio API: the blocking API's classes one to one, as coroutines
wherever they wait.

    async with sshclient.aio.connect("host", username="me", key="~/.ssh/id_ed25519",
                                     host_key_verifier=check) as conn:
        result = await conn.exec("uname -a")
        async with await conn.open_session() as ch:
            await ch.exec("tail -f /var/log/syslog")
            async for line in ch:
                print(line)

The same operations (operations.py) as the blocking API run here; only the
waiting differs: an `asyncio.BufferedProtocol` receives straight into the
compiled engine's buffer and sends straight from it (the transport gets only
what the socket did not take), and a waiting coroutine sleeps on a future
that is resolved after the round of input that makes its condition true.
Cancelling a wait (asyncio.timeout, task.cancel) loses no data: nothing is
taken from a channel's buffer until the read's condition holds.
"""
from __future__ import annotations

import asyncio
import functools
import os
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Generator, Iterable, Sequence
from typing import Any, BinaryIO, Callable, cast

from . import events as ev
from .algorithms import Negotiated
from .connect_args import (
    SAME_AS_TIMEOUT,
    ConnectRequest,
    Hop,
    SameAsTimeout,
    at_hop,
    closed_on_failure,
    host_and_port,
    jump_hops,
    prepare_connect,
)
from .deadline import Deadline
from .driver import STREAM_BATCH, STREAM_WAIT
from .errors import (
    ArgumentTypeError,
    DisconnectedError,
    SSHClientError,
    SSHTimeoutError,
    UsageError,
    socket_error_code,
    user_clock,
)
from .forwarding import Forwarding, LocalForward, RemoteForward
from .forwarding.local import (
    LISTEN_HINTS,
    Target,
    check_listen_port,
    listen_name,
    listen_tcp,
    listen_unix,
    socks_target,
    tcp_target,
    unix_target,
    unresolved,
)
from .forwarding.remote import (
    Dial,
    Listen,
    dial_addresses,
    dial_host,
    dial_path,
    tcp_listen,
    unix_listen,
    unreachable,
)
from .forwarding.tunnel import tunnel_socket
from .forwarding.tunnel import unreachable as unreachable_through
from .forwarding.watcher import OnReady, RoundListener, tell_round_listeners
from .keys import PrivateKey
from .operations import (
    ChannelHandle,
    Drain,
    ExecCommand,
    ExecResult,
    LineSplitter,
    Operation,
    Read,
    Write,
    answer_by_default,
    drain_copier,
    run_steps,
)
from .options import ClientOptions, HostKeyInfo
from .protocol import ClientProtocol
from .proxy import ProxySettings
from .proxy_command import ProxyCommand
from .sockets import open_socket_async
from .validate import check_socket_path, check_type, type_name

__all__ = ["connect", "run_many", "run", "new_event_loop", "AsyncSSHConnection",
           "AsyncChannel", "ExecResult"]

_READ_HINT = 256 * 1024
_READ_SIZE = 1 << 20
# A read at least this big means bulk input: batch the wake-ups (see _pace_input).
_STREAM_MIN = STREAM_BATCH // 8
# Lowering SO_RCVLOWAT makes Linux signal input already waiting at once; the
# batching relies on that to let a stream's tail through, so Linux only.
_BATCH_INPUT = sys.platform.startswith("linux") and hasattr(socket, "SO_RCVLOWAT")

class _Driver(asyncio.BufferedProtocol):
    """Moves bytes between an asyncio transport and a ClientProtocol, runs its
    timers on the loop's clock, and wakes the coroutines waiting on it."""

    def __init__(self, proto: ClientProtocol, on_event: Callable[[ev.Event], None]) -> None:
        self.proto = proto
        self.on_event = on_event
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        # The connection's own socket (set by _open): output goes out on it
        # straight from the engine's buffer while the transport holds none.
        self.sock: socket.socket | None = None
        # what later waits raise: ours, or what the user's own callback raised
        self.error: BaseException | None = None
        self.closed = False
        self.closed_by_user = False  # close() on a healthy connection: no error to report
        self.last_activity = self.loop.time()
        self.asking = 0  # questions with the user's async callbacks (see wait())
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[bool]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._sock: Any = None  # for SO_RCVLOWAT; None: no batching
        self._batching = False
        self._batch_until = 0.0
        self._batch_timer: asyncio.TimerHandle | None = None
        # forwarding's sockets on the loop: (reading, writing) for each
        self._watched: dict[socket.socket, tuple[bool, bool]] = {}
        self.round_listeners: list[RoundListener] = []

    # --------------------------------------------------- asyncio's callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport: no isinstance
        self.transport = cast(asyncio.Transport, transport)
        # Paused as soon as the transport holds anything, resumed once it
        # holds nothing: output meanwhile waits in the engine (bounded), and
        # goes out from there again (see _send_output).
        self.transport.set_write_buffer_limits(high=0, low=0)
        if _BATCH_INPUT:
            self._sock = transport.get_extra_info("socket")
        self.flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        view = self.proto.recv_buffer(max(sizehint, _READ_HINT))
        if not len(view):
            # Full of input not yet processed: process it, then there is room
            # (what is left is at most one partial packet).
            self._process()
            view = self.proto.recv_buffer(max(sizehint, _READ_HINT))
        return view

    def buffer_updated(self, nbytes: int) -> None:
        self.proto.recv_commit(nbytes)
        self.last_activity = self.loop.time()
        self._process()
        if self._sock is not None and not self.closed:
            self._pace_input(nbytes)

    def eof_received(self) -> bool:
        self.proto.recv_commit(0)  # EOF: the protocol says what it means
        self._process()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.error is None:
            if self.proto.error is not None:
                self.error = self.proto.error
            elif isinstance(exc, OSError):
                self.error = DisconnectedError(f"connection lost: {exc}",
                                               code=socket_error_code(exc))
            else:
                self.error = DisconnectedError("connection is closed", code=1001)
        if self._timer is not None:
            self._timer.cancel()
        self._stop_batching()
        self._tell_round_listeners(ended=True)
        self._wake()

    def pause_writing(self) -> None:
        self._writing_paused = True  # output then waits in the engine (bounded)

    def resume_writing(self) -> None:
        self._writing_paused = False
        self.flush()
        self._wake()

    # ------------------------------------------------------ input batching
    def _pace_input(self, nbytes: int) -> None:
        """As the blocking driver does: during bulk input the kernel wakes us
        once STREAM_BATCH bytes are there (SO_RCVLOWAT), not for every
        segment (a round of Python per ~32 KiB doubled the CPU per GB of a
        download); when no batch came for STREAM_WAIT, the mark is lowered
        again and what waits (a stream's tail, a CHANNEL_CLOSE) comes at once."""
        if nbytes >= _STREAM_MIN:
            self._batch_until = self.loop.time() + STREAM_WAIT
            if not self._batching and self._set_rcvlowat(STREAM_BATCH):
                self._batching = True
                self._batch_timer = self.loop.call_at(self._batch_until, self._batch_due)
        elif self._batching:
            self._stop_batching()

    def _batch_due(self) -> None:
        self._batch_timer = None
        if self._batching and self.loop.time() < self._batch_until:
            # a batch came meanwhile: look again STREAM_WAIT after it
            self._batch_timer = self.loop.call_at(self._batch_until, self._batch_due)
        else:
            self._stop_batching()

    def _stop_batching(self) -> None:
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None
        if self._batching:
            self._batching = False
            self._set_rcvlowat(1)

    def _set_rcvlowat(self, nbytes: int) -> bool:
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, nbytes)
            return True
        except (OSError, AttributeError, TypeError, ValueError):
            self._sock = None  # not this transport's socket: no batching
            return False

    # -------------------------------------------------------- other sockets
    def watch(self, sock: socket.socket, read: bool, write: bool, on_ready: OnReady) -> None:
        """forwarding.Watcher, on the loop's readers and writers."""
        was_reading, was_writing = self._watched.get(sock, (False, False))
        if self.closed and (read or write):
            return
        loop = self.loop
        if read != was_reading:
            if read:
                loop.add_reader(sock, self._watched_ready, on_ready, True, False)
            else:
                loop.remove_reader(sock)
        if write != was_writing:
            if write:
                loop.add_writer(sock, self._watched_ready, on_ready, False, True)
            else:
                loop.remove_writer(sock)
        if read or write:
            self._watched[sock] = (read, write)
        else:
            self._watched.pop(sock, None)

    def _watched_ready(self, on_ready: OnReady, readable: bool, writable: bool) -> None:
        on_ready(readable, writable)
        self.flush()  # what it queued for the server

    def _tell_round_listeners(self, ended: bool = False) -> None:
        tell_round_listeners(self.round_listeners, ended)

    # ------------------------------------------------------------- protocol
    def _process(self) -> None:
        try:
            events = self.proto.process()
            while events:  # and what the handlers' answers set going
                for event in events:
                    self.on_event(event)
                events = self.proto.process() if self.proto.has_work() else []
            self.proto.handle_timeout(self.loop.time())
        except SSHClientError as exc:
            self._fail(exc)
            return
        if self.round_listeners:
            self._tell_round_listeners()
        self._write_output()  # flush(), with the backpressure looked at once, below
        if self.proto.closed and self.proto.error is not None:
            self._fail(self.proto.error)
            return
        self._arm_timer()
        self._apply_backpressure()
        self._wake()

    def _fail(self, exc: SSHClientError) -> None:
        if self.error is None:
            self.error = exc
        self.flush()
        self._hand_over_output()  # the DISCONNECT, if the protocol queued one
        if self.transport is not None:
            self.transport.close()
        self._wake()

    def _apply_backpressure(self) -> None:
        if self.transport is None:
            return
        wants = self.proto.wants_input()
        if not wants and not self._reading_paused:
            self.transport.pause_reading()
            self._reading_paused = True
        elif wants and self._reading_paused:
            self.transport.resume_reading()
            self._reading_paused = False

    def flush(self) -> None:
        """Send what the protocol queued (unless the transport asked us to
        pause: then it waits, bounded, in the engine)."""
        if self._write_output():
            self._apply_backpressure()

    def _write_output(self) -> bool:
        """flush() but for the backpressure; False: the transport takes nothing now."""
        transport = self.transport
        if transport is None or self._writing_paused or transport.is_closing():
            return False
        if self.proto.output_size():
            self._send_output(transport)
            self.last_activity = self.loop.time()
        return True

    def _send_output(self, transport: asyncio.Transport) -> None:
        """As the blocking driver does, send straight from the engine's
        buffer, with no copy, while the transport holds nothing (so the
        bytes stay in order); what the socket does not take now goes to the
        transport as a copy: it may keep what it is given for later, and
        the engine's buffer moves on."""
        if self.sock is not None and not transport.get_write_buffer_size():
            self.proto.output_consume(self._send_now(self.sock))
        if self.proto.output_size():
            transport.write(self.proto.take_output())

    def _send_now(self, sock: socket.socket) -> int:
        view = self.proto.output_view()
        try:
            return sock.send(view)
        except OSError:
            # full (EAGAIN), or broken: then the transport meets the error
            # on the same bytes and reports it as it always does
            return 0
        finally:
            view.release()

    def _hand_over_output(self) -> None:
        """Before closing: give the transport all that is queued, paused or
        not (it sends what it holds before it closes)."""
        transport = self.transport
        if transport is not None and not transport.is_closing() and self.proto.output_size():
            transport.write(self.proto.take_output())

    def _arm_timer(self) -> None:
        deadline = self.proto.next_deadline()
        if self._timer is not None:
            if deadline is not None and self._timer.when() == deadline:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self.closed:
            self._process()

    # -------------------------------------------------------------- waiting
    def _wake(self) -> None:
        for ready, future in self._waiters:
            if future.done():
                continue
            if ready():
                future.set_result(True)
            elif self.error is not None:
                future.set_exception(self.error)

    async def wait(self, ready: Callable[[], bool], timeout: float | None, what: str,
                   deadline: Deadline | None = None) -> None:
        """Until `ready()`; `timeout` without progress (SSHTimeoutError 301),
        `deadline` for the whole wait. Cancelling leaves everything as it was."""
        if ready():
            return
        if self.error is not None:
            raise self.error
        start = self.loop.time()
        while True:
            limit: float | None = None
            if self.asking:
                pass  # the user's callback has the question: no limit runs meanwhile
            elif timeout is not None and timeout > 0:
                limit = max(start, self.last_activity) + timeout - self.loop.time()
                if limit <= 0:
                    raise SSHTimeoutError(f"{what} timed out after {timeout:g} s", code=301)
            if deadline is not None and not self.asking:
                deadline.check()
                limit = deadline.bound(limit)
            # One future per round of waiting, awaited directly: _wake() gives
            # it True, the timer False (then the limits are looked at again,
            # as progress may have moved the inactivity limit). A task wakes
            # once per round of input that makes `ready()` true, with no
            # wait_for/shield futures and callbacks in between.
            future: asyncio.Future[bool] = self.loop.create_future()
            waiter = (ready, future)
            self._waiters.append(waiter)
            timer = None if limit is None else self.loop.call_later(limit, _time_up, future)
            try:
                if await future:
                    return
            finally:
                self._waiters.remove(waiter)
                if timer is not None:
                    timer.cancel()
                if not future.done():
                    future.cancel()

    def answered(self, seconds: float) -> None:
        """An async callback answered after `seconds`: its time is the
        user's, not the server's (a login deadline leaves it out, and the
        inactivity timeout starts again); the protocol goes on with what it
        held, and the waits look at their limits again."""
        self.asking -= 1
        user_clock().seconds += seconds
        self.last_activity = self.loop.time()
        if self.closed:
            return
        self._process()
        for _ready, future in self._waiters:
            if not future.done():
                future.set_result(False)

    def close(self, error: BaseException | None = None) -> None:
        """End the connection because of `error`, or because the user asked
        (None); either way, waits from now on raise (connection_lost gives
        the user's close a DisconnectedError for them)."""
        if self.error is None and error is not None:
            self.error = error
        elif self.error is None and not self.closed:
            self.closed_by_user = True
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        self._stop_batching()
        self._tell_round_listeners(ended=True)
        if self.transport is not None and not self.transport.is_closing():
            self.flush()
            self._hand_over_output()
            self.transport.close()


def _time_up(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(False)


class AsyncChannel:
    """One SSH channel, as `sshclient.Channel` but awaited where it waits.
    `async for line in channel` gives stdout line by line (bytes, with the
    line ending) until EOF."""

    def __init__(self, conn: AsyncSSHConnection, handle: ChannelHandle) -> None:
        self._conn = conn
        self._driver = conn._driver
        self._ch = handle
        self.id = handle.id

    # ----------------------------------------------------------- requests
    async def exec(self, command: str | bytes) -> None:
        """Run a command on this session channel (refused: ChannelError 1033)."""
        await self._conn._run(self._ch.exec(command))

    async def shell(self) -> None:
        """Start the user's login shell on this session channel."""
        await self._conn._run(self._ch.shell())

    async def subsystem(self, name: str) -> None:
        """Start a subsystem (e.g. "sftp") on this session channel."""
        await self._conn._run(self._ch.subsystem(name))

    async def request_pty(self, term: str = "vt100", cols: int = 80, rows: int = 24,
                          modes: bytes = b"\x00") -> None:
        """Ask for a pseudo-terminal before exec() or shell()."""
        await self._conn._run(self._ch.request_pty(term, cols, rows, 0, 0, modes))

    def resize_pty(self, cols: int, rows: int, width_px: int = 0, height_px: int = 0) -> None:
        """Tell the server the terminal's new size (no reply comes)."""
        self._ch.change_window_size(cols, rows, width_px, height_px)
        self._driver.flush()

    # --------------------------------------------------------------- data
    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of `data`, as fast as the channel window opens."""
        await self._conn._run(Write(self._ch, data))

    def send_eof(self) -> None:
        """Tell the server no more data follows (its stdin ends)."""
        self._ch.send_eof()
        self._driver.flush()

    async def read(self, max_bytes: int = -1, stream: int = 0) -> bytes:
        """Up to `max_bytes` (all buffered if -1) of stdout (or stderr:
        stream=1) once some is there; b"" at EOF."""
        data: bytes = await self._conn._run(Read(self._ch, max_bytes, stream))
        return data

    async def read_into(self, buf: bytearray | memoryview, stream: int = 0) -> int:
        """Read into `buf`; the byte count, 0 at EOF."""
        n: int = await self._conn._run(Read(self._ch, -1, stream, into=buf))
        return n

    async def read_stderr(self, max_bytes: int = -1) -> bytes:
        """read() of stderr."""
        return await self.read(max_bytes, 1)

    async def read_all(self, stream: int = 0) -> bytes:
        """Everything until EOF."""
        parts: list[bytes] = []
        while chunk := await self.read(-1, stream):
            parts.append(chunk)
        return b"".join(parts)

    async def drain(self, sink: Callable[[memoryview], object] | BinaryIO | None = None,
                    stderr_sink: Callable[[bytes], object] | None = None) -> int:
        """Read stdout to EOF into `sink` (None discards without copying, a
        binary file, or a callable given a reused memoryview); stderr goes to
        `stderr_sink` or stays buffered. Returns the stdout byte count."""
        total: int = await self._conn._run(
            Drain(self._ch, drain_copier(self._ch, sink, _READ_SIZE), stderr_sink))
        return total

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes]:
        lines = LineSplitter()
        while chunk := await self.read():
            for line in lines.feed(chunk):
                yield line
        for line in lines.rest():
            yield line

    # ------------------------------------------------------------- closing
    @property
    def exit_status(self) -> int | None:
        """The command's exit status, once the server sent it."""
        return self._ch.record.exit_status

    @property
    def exit_signal(self) -> str | None:
        """The signal that ended the command, if one did."""
        return self._ch.record.exit_signal

    async def wait_closed(self) -> int | None:
        """Until the server closes the channel; returns the exit status."""
        state = self._ch.state
        await self._conn._wait(lambda: state.close_received, "channel close")
        return state.exit_status

    def close(self) -> None:
        """Close without waiting for the server (wait_closed() waits)."""
        self._ch.close(connection_usable=self._conn.error is None and not self._driver.closed)
        self._driver.flush()

    async def __aenter__(self) -> AsyncChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncSSHConnection:
    """A logged-in connection (from `sshclient.aio.connect()`), as
    `sshclient.SSHConnection` but awaited where it waits. `timeout`: seconds
    without progress before a wait fails (301); None waits for ever.
    Operations of one connection may run in many tasks at once."""

    def __init__(self, options: ClientOptions, timeout: float | None) -> None:
        self.options = options
        self.timeout = timeout
        self.banner = ""
        self._proto = ClientProtocol(options)
        self._driver = _Driver(self._proto, self._on_event)
        # stream bridges and async callbacks' answers, held until they end
        # (the loop keeps only weak references to tasks)
        self._tasks: set[asyncio.Task[None]] = set()
        self._answers: set[asyncio.Task[None]] = set()
        self._forwarding: Forwarding | None = None
        self._hops: list[AsyncSSHConnection] = []  # jump connections it opened (and closes)
        self._peer = "the jump host"  # who, in errors about what goes through it
        self._proxy_command: ProxyCommand | None = None  # its transport's command, if one

    @property
    def error(self) -> SSHClientError | None:
        """What ended the connection, if something did (None after close(),
        as in the blocking API; the user's own callback's exception is raised
        by the waits but not kept here, as in the blocking API)."""
        error = self._driver.error
        if self._driver.closed_by_user or not isinstance(error, SSHClientError):
            return None
        return error

    def _on_event(self, event: ev.Event) -> None:
        if self._forwarding is not None and self._forwarding.claim(event):
            return
        self.banner += answer_by_default(self._proto, event, self._answer_later)

    def _answer_later(self, answer: Awaitable[Any],
                      settle: Callable[[Any, BaseException | None], None]) -> None:
        """An `async def` callback (host key verifier, prompt handler, ...)
        answered with an awaitable: await it in a task of its own while the
        protocol holds the login, then give the protocol its answer."""
        task = self._driver.loop.create_task(self._await_answer(answer, settle))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _await_answer(self, answer: Awaitable[Any],
                            settle: Callable[[Any, BaseException | None], None]) -> None:
        driver = self._driver
        driver.asking += 1
        started = driver.loop.time()
        value: Any = None
        error: BaseException | None = None
        try:
            value = await answer
        except asyncio.CancelledError:
            driver.asking -= 1
            raise  # the connection is going: nobody waits for the answer
        except BaseException as exc:  # the callback's failure is its answer
            error = exc
        try:
            if not driver.closed:
                settle(value, error)
        except BaseException as own:  # the user's own error: it ends the connection
            driver.close(own)
        driver.answered(driver.loop.time() - started)

    async def _wait(self, ready: Callable[[], bool], what: str) -> None:
        try:
            await self._driver.wait(ready, self.timeout, what)
        except SSHClientError as exc:
            if exc.code != 301 and not isinstance(exc, UsageError):
                self._driver.close(exc)  # anything but a timeout or a misuse ends it
            raise

    async def _run(self, op: Operation) -> Any:
        """Carry an operation through (operations.run_steps), awaiting its waits."""
        steps = run_steps(op)
        try:
            waiting = next(steps)
            while True:
                try:
                    self._driver.flush()
                    await self._wait(waiting.ready, waiting.what)
                except BaseException as exc:
                    waiting = steps.throw(exc)
                else:
                    waiting = next(steps)
        except StopIteration as done:
            return done.value
        finally:
            self._driver.flush()

    async def _login(self, deadline: Deadline) -> None:
        self._proto.begin_auth()
        self._driver.flush()
        await self._driver.wait(lambda: self._proto.authenticated, self.timeout, "login",
                                deadline)

    # ------------------------------------------------------------ channels
    async def open_session(self) -> AsyncChannel:
        """A new session channel (for exec, shell, subsystem)."""
        return AsyncChannel(self, await self._run(self._proto.open_session()))

    async def open_tcpip(self, host: str, port: int, src_host: str = "127.0.0.1",
                         src_port: int = 0) -> AsyncChannel:
        """A direct-tcpip channel: the server connects to host:port for us."""
        return AsyncChannel(self, await self._run(
            self._proto.open_direct_tcpip(host, port, src_host, src_port)))

    async def open_tcpip_stream(self, host: str, port: int, src_host: str = "127.0.0.1",
                                src_port: int = 0
                                ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """open_tcpip() as an asyncio (StreamReader, StreamWriter) pair."""
        channel = await self.open_tcpip(host, port, src_host, src_port)
        reader, writer, bridge = await _channel_streams(channel)
        self._tasks.add(bridge)
        bridge.add_done_callback(self._tasks.discard)
        return reader, writer

    # -------------------------------------------------------- forwarding
    async def forward_local_port(self, listen_host: str, listen_port: int, dest_host: str,
                                 dest_port: int) -> LocalForward:
        """As SSHConnection.forward_local_port(): listen, and carry each
        connection to `dest_host`:`dest_port` through the server. The
        listener is served on the event loop until closed."""
        check_listen_port(listen_host, listen_port)
        target = tcp_target(dest_host, dest_port)
        return self._listen(await self._listen_tcp(listen_host, listen_port), target)

    async def forward_local_path(self, listen_path: str, dest_path: str) -> LocalForward:
        """As SSHConnection.forward_local_path()."""
        target = unix_target(dest_path)
        return self._listen([listen_unix(check_socket_path(listen_path, "listen_path"))], target)

    async def forward_local_port_to_path(self, listen_host: str, listen_port: int,
                                         dest_path: str) -> LocalForward:
        """As SSHConnection.forward_local_port_to_path()."""
        check_listen_port(listen_host, listen_port)
        target = unix_target(dest_path)
        return self._listen(await self._listen_tcp(listen_host, listen_port), target)

    async def forward_local_path_to_port(self, listen_path: str, dest_host: str,
                                         dest_port: int) -> LocalForward:
        """As SSHConnection.forward_local_path_to_port()."""
        target = tcp_target(dest_host, dest_port)
        return self._listen([listen_unix(check_socket_path(listen_path, "listen_path"))], target)

    async def _listen_tcp(self, host: str, port: int) -> list[socket.socket]:
        try:
            addresses = await self._driver.loop.getaddrinfo(listen_name(host), port,
                                                            **LISTEN_HINTS)
        except socket.gaierror as exc:
            raise unresolved(host, exc) from None
        return listen_tcp(addresses, port)

    async def forward_socks(self, listen_host: str, listen_port: int, *,
                            username: str | None = None,
                            password: str | None = None) -> LocalForward:
        """As SSHConnection.forward_socks(): a local SOCKS server whose
        requests become channels."""
        check_listen_port(listen_host, listen_port)
        target = socks_target(username, password)
        return self._listen(await self._listen_tcp(listen_host, listen_port), target)

    async def forward_remote_port(self, listen_host: str, listen_port: int, dest_host: str,
                                  dest_port: int) -> RemoteForward:
        """As SSHConnection.forward_remote_port(): the server listens, and
        each connection comes to `dest_host`:`dest_port` from here."""
        listen = tcp_listen(listen_host, listen_port)
        return await self._forward_remote(listen, await self._dial(dest_host, dest_port))

    async def forward_remote_path(self, listen_path: str, dest_path: str) -> RemoteForward:
        """As SSHConnection.forward_remote_path()."""
        return await self._forward_remote(unix_listen(listen_path), dial_path(dest_path))

    async def forward_remote_port_to_path(self, listen_host: str, listen_port: int,
                                          dest_path: str) -> RemoteForward:
        """As SSHConnection.forward_remote_port_to_path()."""
        return await self._forward_remote(tcp_listen(listen_host, listen_port),
                                          dial_path(dest_path))

    async def forward_remote_path_to_port(self, listen_path: str, dest_host: str,
                                          dest_port: int) -> RemoteForward:
        """As SSHConnection.forward_remote_path_to_port()."""
        return await self._forward_remote(unix_listen(listen_path),
                                          await self._dial(dest_host, dest_port))

    async def _dial(self, host: str, port: int) -> Dial:
        host, port, label = dial_host(host, port)
        try:
            infos = await self._driver.loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise unreachable(label, exc) from None
        return dial_addresses(infos, label)

    async def _forward_remote(self, listen: Listen, target: Dial) -> RemoteForward:
        forward = RemoteForward(self._service(), listen, target)
        try:
            forward.start(await self._run(forward.request))
        except BaseException:
            forward.close()
            raise
        return forward

    async def _tunnel_socket(self, host: str, port: int) -> socket.socket:
        """A socket whose bytes travel in a direct-tcpip channel to host:port
        (the transport of a connection through this one): one end of a
        socket pair, the other joined to the channel by a Splice on this
        connection's loop."""
        try:
            channel = await self._run(self._proto.open_direct_tcpip(host, port))
        except SSHClientError as exc:
            raise unreachable_through(exc, host, port, self._peer) from None
        sock = tunnel_socket(self._service(), channel, f"tunnel to {host}:{port}")
        self._driver.flush()
        return sock

    def _listen(self, socks: list[socket.socket], target: Target) -> LocalForward:
        return LocalForward(self._service(), socks, target)

    def _service(self) -> Forwarding:
        if self._forwarding is None:
            self._forwarding = Forwarding(self._proto, self._driver)
            self._driver.round_listeners.append(self._forwarding)
        return self._forwarding

    async def exec(self, command: str | bytes, stdin: bytes | None = None) -> ExecResult:
        """Run a command to its end; its output, exit status and signal.
        `stdin` is fed while the output is collected."""
        result: ExecResult = await self._run(ExecCommand(self._proto, command, stdin or b""))
        return result

    async def wait_closed(self) -> SSHClientError | None:
        """Until the connection ends (the server closes it, it breaks, or
        close() is called); returns what ended it (None for a close() of ours)."""
        try:
            await self._driver.wait(lambda: self._driver.closed or self._proto.closed, None,
                                    "connection")
        except SSHClientError:
            pass
        return self.error

    async def rekey(self) -> None:
        """Start a key re-exchange and wait until it is done."""
        await self._run(self._proto.rekey())

    @property
    def negotiated(self) -> Negotiated | None:
        """The algorithms of the last key exchange (None before the first)."""
        return self._proto.negotiated

    def close(self) -> None:
        """Say goodbye to the server and close the connection."""
        self._stop_answering()
        try:
            if not self._driver.closed:
                try:
                    self._proto.disconnect()
                finally:
                    self._driver.close()
        finally:
            if self._proxy_command is not None:
                # ended in a worker thread: waiting for it must not hold the loop
                self._driver.loop.run_in_executor(None, self._proxy_command.stop)
                self._proxy_command = None
            for hop in reversed(self._hops):
                hop.close()

    def _stop_answering(self) -> None:
        """Nobody needs the answers still being awaited (a verifier still
        asking a person): cancel them."""
        for task in list(self._answers):
            task.cancel()

    async def __aenter__(self) -> AsyncSSHConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


async def _channel_streams(channel: AsyncChannel) -> tuple[
        asyncio.StreamReader, asyncio.StreamWriter, asyncio.Task[None]]:
    """Bridge a channel to asyncio streams with a pair of connected sockets:
    the StreamReader/StreamWriter are asyncio's own, the copying is ours."""
    import socket

    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=theirs)
    loop = asyncio.get_running_loop()
    ours.setblocking(False)

    async def pump_out() -> None:   # channel -> stream
        try:
            while data := await channel.read():
                await loop.sock_sendall(ours, data)
        finally:
            try:
                ours.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    async def pump_in() -> None:    # stream -> channel
        while data := await loop.sock_recv(ours, 65536):
            await channel.write(data)
        channel.send_eof()

    async def both() -> None:
        try:
            await asyncio.gather(pump_out(), pump_in())
        finally:
            ours.close()
            channel.close()

    return reader, writer, loop.create_task(both())


class _Connecting:
    """What connect() returns: awaitable (the connection) and usable as
    `async with` (closed on the way out)."""

    def __init__(self, make: Callable[[], Awaitable[AsyncSSHConnection]]) -> None:
        self._make = make
        self._conn: AsyncSSHConnection | None = None

    def __await__(self) -> Generator[Any, None, AsyncSSHConnection]:
        return self._make().__await__()

    async def __aenter__(self) -> AsyncSSHConnection:
        self._conn = await self._make()
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()


def connect(host: str, port: int = 22, *, username: str, password: str | None = None,
            key: str | os.PathLike[str] | PrivateKey | None = None, passphrase: str | None = None,
            host_key_verifier: Callable[[HostKeyInfo], bool] | None = None,
            accept_any_host_key: bool = False, timeout: float | None = 30.0,
            login_timeout: float | None | SameAsTimeout = SAME_AS_TIMEOUT,
            proxy: ProxySettings | None = None, keepalive_interval: float = 0.0,
            keepalive_count_max: int = 5,
            jump: AsyncSSHConnection | str | Sequence[str] | None = None,
            proxy_command: str | None = None, **option_overrides: object) -> _Connecting:
    """Open, key-exchange and log in: `await connect(...)` or
    `async with connect(...) as conn`. The arguments are those of
    `sshclient.connect()` (`jump`: an AsyncSSHConnection or hop strings),
    checked the same way before anything reaches the network."""
    req = prepare_connect(host, port, username=username, password=password, key=key,
                          passphrase=passphrase, host_key_verifier=host_key_verifier,
                          accept_any_host_key=accept_any_host_key, timeout=timeout,
                          login_timeout=login_timeout, proxy=proxy,
                          keepalive_interval=keepalive_interval,
                          keepalive_count_max=keepalive_count_max,
                          proxy_command=proxy_command,
                          **cast("dict[str, Any]", option_overrides))
    if jump is None or isinstance(jump, AsyncSSHConnection):
        return _Connecting(functools.partial(_open, req, jump))
    if proxy is not None or proxy_command is not None:
        raise UsageError("pass jump or proxy, not both (a proxy reaches the first hop: "
                         "connect to it with proxy=, then pass that connection as jump)",
                         code=211)
    hops = jump_hops(jump)

    def through(hop: Hop, via: AsyncSSHConnection | None) -> _Connecting:
        return connect(hop.host, hop.port, username=hop.user or username, password=password,
                       key=key, passphrase=passphrase, host_key_verifier=host_key_verifier,
                       accept_any_host_key=accept_any_host_key, timeout=timeout,
                       login_timeout=login_timeout, keepalive_interval=keepalive_interval,
                       keepalive_count_max=keepalive_count_max, jump=via,
                       **cast("dict[str, Any]", option_overrides))
    return _Connecting(functools.partial(_open_chain, req, hops, through))


async def _open_chain(req: ConnectRequest, hops: list[Hop],
                      through: Callable[[Hop, AsyncSSHConnection | None], _Connecting]
                      ) -> AsyncSSHConnection:
    """Log in to each hop through the one before, then to the target; a
    failure names the hop and closes those already open."""
    opened: list[AsyncSSHConnection] = []
    via: AsyncSSHConnection | None = None
    with closed_on_failure(opened):
        for hop in hops:
            try:
                via = await through(hop, via)
            except SSHClientError as exc:
                raise at_hop(exc, f"jump host {hop}") from None
            opened.append(via)
        conn = await _open(req, via)
    conn._hops = opened
    return conn


async def _open(req: ConnectRequest, jump: AsyncSSHConnection | None) -> AsyncSSHConnection:
    """Connect (directly, through a proxy, or through a jump connection),
    key-exchange and log in as a checked request says."""
    loop = asyncio.get_running_loop()
    deadline = Deadline(req.login_timeout, "login")
    command: ProxyCommand | None = None
    if jump is not None:
        if req.proxy is not None or req.proxy_command is not None:
            raise UsageError("pass jump or proxy, not both", code=211)
        sock = await jump._tunnel_socket(req.host, req.port)
    elif req.proxy_command is not None:
        command = ProxyCommand(req.proxy_command, req.host, req.port, req.options.username)
        sock = command.sock
    else:
        # on the loop: its resolver and connect, the blocking API's checks,
        # limits, errors and proxy handshakes (handshake.py)
        sock = await open_socket_async(req.host, req.port, req.timeout, proxy=req.proxy,
                                       deadline=deadline)
    conn = AsyncSSHConnection(req.options, req.timeout)
    conn._peer = f"jump host {req.options.username}@{req.host}:{req.port}"
    conn._proxy_command = command
    handed_over = False  # to the loop's transport, which then closes it
    try:
        conn._driver.sock = sock
        await loop.create_connection(lambda: conn._driver, sock=sock)
        handed_over = True
        await conn._login(deadline)
    except BaseException as exc:
        conn._stop_answering()
        conn._driver.close()
        if not handed_over:
            _let_go(loop, sock)
        if command is not None:
            await loop.run_in_executor(None, command.stop)
            if isinstance(exc, SSHClientError):
                raise at_hop(exc, f"through {command.describe()}") from None
        raise
    return conn


def _let_go(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """A socket create_connection(sock=) failed with. Once the loop has it,
    the transport closes it, and closing it here as well would close a
    number the kernel may already have given to another socket. asyncio
    closes the object itself on failure; uvloop's libuv closes the number
    without telling the object (uvloop issue #738), whose own close would
    later hit whatever took the number: let go of that one instead."""
    if sock.fileno() == -1:
        return
    if type(loop).__module__.startswith("uvloop"):
        sock.detach()
    else:
        sock.close()


async def run_many(hosts: Iterable[str], command: str | bytes, *, concurrency: int = 10,
                   progress: Callable[[str, ExecResult | BaseException], object] | None = None,
                   **connect_options: Any) -> list[ExecResult | BaseException]:
    """Run `command` on every host, at most `concurrency` at once; one result
    (or the exception that stopped that host) per host, in order. `progress`
    is called with each host and its outcome as it finishes; if it raises,
    the hosts still running are cancelled (their connections closed) and
    run_many() raises that. A host may be "name", "name:port" or, for an
    IPv6 address, "[address]:port"; a malformed one is that host's error
    (UsageError 211). Other keywords go to connect()."""
    if isinstance(hosts, (str, bytes)):
        raise ArgumentTypeError("hosts must be an iterable of host strings, not one "
                                f"{type_name(hosts)}")
    check_type("concurrency", concurrency, int, "a positive int")
    if concurrency < 1:
        raise UsageError(f"concurrency must be a positive int, not {concurrency!r}", code=211)
    default_port = connect_options.pop("port", 22)
    # The arguments are checked (and a key file read) once per target, not
    # once per connection; each connection gets its own copy of the options.
    prepared: dict[str, ConnectRequest] = {}
    targets = list(hosts)
    outcomes: dict[int, ExecResult | BaseException] = {}  # by the host's index
    queue = iter(enumerate(targets))  # the workers take the next host from here

    async def run_one(target: str) -> ExecResult | BaseException:
        try:
            req = prepared.get(target)
            if req is None:
                name, port = host_and_port(target, default_port)
                req = prepared[target] = prepare_connect(name, port, **connect_options)
            async with _Connecting(functools.partial(_open, req, None)) as conn:
                return await conn.exec(command)
        except Exception as exc:  # one host's failure is that host's result
            return exc

    async def worker() -> None:
        for index, target in queue:
            outcome = outcomes[index] = await run_one(target)
            if progress is not None:
                progress(target, outcome)

    # `concurrency` workers, each taking the hosts in turn (a task per host
    # waiting on a semaphore cost every connection a task and a wake-up)
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(targets)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        # gather() lets the others run on when one raises (a progress callback
        # that failed): stop them and wait until their connections are closed.
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return [outcomes[index] for index in range(len(targets))]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when uvloop is installed (it moves bytes with less
    CPU), asyncio's own otherwise; this API works on either."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(main: Awaitable[Any]) -> Any:
    """asyncio.run() on new_event_loop(): run `main` to its end and close
    the loop (and its pending tasks)."""
    loop = new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _close_loop(loop)
        finally:
            asyncio.set_event_loop(None)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's pending tasks, let them finish, end its async
    generators and close it."""
    try:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

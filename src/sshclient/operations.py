"""Protocol operations written once, for every front end.

A front end (blocking, asyncio, the spec adapter) never reaches into the
protocol's parts: it gets a `ChannelHandle` for each channel and runs
operations, each a small state object:

    op.step()        make what progress is possible now, without waiting
    op.finished      nothing is left to do: result() gives the outcome
    op.ready()       what to wait for before the next step (checked after
                     each round of I/O)
    op.result()      the outcome, or the error

so a blocking driver waits with a selector and an asyncio one with a future,
and the logic itself lives here:

    while True:
        op.step()
        if op.finished:
            return op.result()
        wait_until(op.ready)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .connection import ChannelState
from .errors import ChannelError, InvalidArgumentError, UsageError

if TYPE_CHECKING:
    from .protocol import ClientProtocol

STDOUT, STDERR = 0, 1
_STREAM_NAMES = {STDOUT: "stdout", STDERR: "stderr"}


@dataclass
class ExecResult:
    """What a command left behind: its output, exit status and signal."""
    stdout: bytes
    stderr: bytes
    exit_status: int | None
    exit_signal: str | None = None


class ChannelHandle:
    """One channel as a front end sees it: its buffered data (in the compiled
    buffers, read without going through Python per packet), sending with
    the window's backpressure, and its state."""

    def __init__(self, proto: ClientProtocol, local_id: int) -> None:
        self.id = local_id
        self._connection = proto.connection
        self._table = proto.engine.channels
        # kept after the connection forgets the channel: exit status stays readable
        self.record: ChannelState = proto.connection.get(local_id)

    @property
    def state(self) -> ChannelState:
        """The live state; ChannelError 1021 once the channel is forgotten."""
        return self._connection.get(self.id)

    @property
    def alive(self) -> bool:
        """Still known to the connection (not forgotten after close)."""
        return self.id in self._connection.channels

    # ------------------------------------------------------------- reading
    def available(self, stream: int = STDOUT) -> int:
        return int(self._table.available(self.id, stream))

    def read(self, max_bytes: int = -1, stream: int = STDOUT) -> bytes:
        return bytes(self._table.read(self.id, max_bytes, stream))

    def read_into(self, buf: bytearray | memoryview, stream: int = STDOUT) -> int:
        return int(self._table.read_into(self.id, buf, stream))

    def skip(self, stream: int = STDOUT) -> int:
        """Discard what is buffered (the window opens as if it had been read)."""
        return int(self._table.skip(self.id, -1, stream))

    def write_to(self, fd: int, stream: int = STDOUT) -> int:
        """Write buffered data straight to a file descriptor; bytes written."""
        return int(self._table.write_to(self.id, fd, -1, stream))

    def window_stalled(self) -> bool:
        """Unread data holds the whole window: nothing more can arrive."""
        return bool(self._table.window_stalled(self.id))

    def at_end(self) -> bool:
        record = self.record
        return record.eof_received or record.close_received

    # ------------------------------------------------------------- sending
    def can_send(self) -> bool:
        return self._connection.can_send(self.id)

    def send(self, data: bytes | memoryview, ext: int = 0) -> int:
        """Queue what the window takes now; bytes taken."""
        if self.state.close_received:
            raise ChannelError("channel closed by the server while sending", code=1022)
        return self._connection.send_data(self.id, data, ext)

    def send_eof(self) -> None:
        self._connection.send_eof(self.id)

    def change_window_size(self, cols: int, rows: int, width_px: int, height_px: int) -> None:
        if self.state.close_received:
            raise ChannelError("channel closed by the server", code=1022)
        self._connection.change_window_size(self.id, cols, rows, width_px, height_px)

    # ------------------------------------------------------------ requests
    def _request(self, what: str, send: Callable[[], None]) -> ChannelRequest:
        return ChannelRequest(self, send, what)

    def exec(self, command: str | bytes) -> ChannelRequest:
        return self._request("exec request",
                             lambda: self._connection.exec_command(self.id, command))

    def shell(self) -> ChannelRequest:
        return self._request("shell request", lambda: self._connection.start_shell(self.id))

    def subsystem(self, name: str) -> ChannelRequest:
        return self._request("subsystem request",
                             lambda: self._connection.start_subsystem(self.id, name))

    def request_pty(self, term: str, cols: int, rows: int, width_px: int, height_px: int,
                    modes: bytes) -> ChannelRequest:
        return self._request("pty request", lambda: self._connection.request_pty(
            self.id, term, cols, rows, width_px, height_px, modes))

    # ------------------------------------------------------------- closing
    def abandon(self) -> None:
        """Close without waiting for the server's answer; forget the channel."""
        self._connection.abandon(self.id)

    def forget(self) -> None:
        self._connection.forget(self.id)


class Operation(ABC):
    """See the module docstring."""

    what = "operation"
    finished = False

    def step(self) -> None:
        """Progress that needs no waiting (most operations send at creation)."""
        self.finished = self.ready()

    @abstractmethod
    def ready(self) -> bool:
        """The condition a driver waits for before the next step."""

    @abstractmethod
    def result(self) -> Any:
        """The outcome once finished; raises what went wrong."""


class OpenChannel(Operation):
    """CHANNEL_OPEN sent; wait for the confirmation or the refusal."""

    what = "channel open"

    def __init__(self, proto: ClientProtocol, local_id: int) -> None:
        # usable at once: requests sent now go out with the confirmation
        self.channel = ChannelHandle(proto, local_id)

    def ready(self) -> bool:
        record = self.channel.record
        return record.opened or record.open_failed

    def result(self) -> ChannelHandle:
        record = self.channel.record
        if record.open_failed:
            self.channel.forget()
            raise ChannelError(
                f"open refused: {record.failure_description} (reason {record.failure_reason})",
                code=1020)
        return self.channel


class ChannelRequest(Operation):
    """A channel request wanting a reply (exec, shell, subsystem, pty-req)."""

    def __init__(self, channel: ChannelHandle, send: Callable[[], None], what: str) -> None:
        self.what = what
        self._state = channel.state
        self._index = len(self._state.answers)
        send()

    def ready(self) -> bool:
        return len(self._state.answers) > self._index or self._state.close_received

    def result(self) -> None:
        answers = self._state.answers
        if len(answers) <= self._index or not answers[self._index]:
            raise ChannelError(f"{self.what} was refused by the server", code=1033)


class Write(Operation):
    """Send all of the data, as fast as the window opens."""

    what = "write"

    def __init__(self, channel: ChannelHandle, data: bytes | bytearray | memoryview,
                 ext: int = 0) -> None:
        self._channel = channel
        self._rest = memoryview(data).cast("B")
        self._ext = ext

    def step(self) -> None:
        if len(self._rest):
            self._rest = self._rest[self._channel.send(self._rest, self._ext):]
        self.finished = not len(self._rest)

    def ready(self) -> bool:
        return self._channel.can_send() or self._channel.record.close_received

    def result(self) -> None:
        return None


class Readable(Operation):
    """Data on one of `streams`, or the end of the channel. A window held
    entirely by a stream nobody reads ends the wait too (the server can send
    nothing more): result() then says which stream to read."""

    what = "read"

    def __init__(self, channel: ChannelHandle, stream: int, *also: int) -> None:
        if stream not in _STREAM_NAMES:
            raise InvalidArgumentError(f"stream must be 0 (stdout) or 1 (stderr), not {stream!r}")
        self._channel = channel
        self._stream = stream
        self._streams = (stream, *also)

    def has_data(self) -> bool:
        return any(self._channel.available(s) > 0 for s in self._streams)

    def ready(self) -> bool:
        return self.has_data() or self._channel.at_end() or self._channel.window_stalled()

    def result(self) -> bool:
        """True if the stream asked for has data; False at its end."""
        channel = self._channel
        if not self.has_data() and not channel.at_end():
            other = 1 - self._stream
            raise UsageError(
                f"reading {_STREAM_NAMES[self._stream]} would wait forever: "
                f"{channel.available(other)} unread bytes of {_STREAM_NAMES[other]} hold the "
                f"whole channel window (the streams share it); read {_STREAM_NAMES[other]} "
                f"first, or use drain(stderr_sink=...) or exec(), which read both", code=211)
        return channel.available(self._stream) > 0


class RunCommand(Operation):
    """exec with stdin, like subprocess.run(input=): stdin is fed while the
    output is collected (writing it all first would deadlock once unread
    output filled our window); a command that exits without reading all of
    its input still gets its result."""

    what = "exec"

    def __init__(self, channel: ChannelHandle, stdin: bytes | bytearray | memoryview) -> None:
        self._channel = channel
        self._stdin = memoryview(stdin).cast("B")
        self._out: list[bytes] = []
        self._err: list[bytes] = []

    def _collect(self) -> None:
        for stream, parts in ((STDOUT, self._out), (STDERR, self._err)):
            if self._channel.available(stream):
                parts.append(self._channel.read(-1, stream))

    def step(self) -> None:
        channel, record = self._channel, self._channel.record
        if len(self._stdin) and not record.close_received:
            self._stdin = self._stdin[channel.send(self._stdin):]
        if not len(self._stdin) and not record.eof_sent:
            channel.send_eof()
        self._collect()
        self.finished = record.close_received

    def ready(self) -> bool:
        channel = self._channel
        return bool(channel.available(STDOUT) or channel.available(STDERR)
                    or channel.record.close_received
                    or (len(self._stdin) > 0 and channel.can_send()))

    def result(self) -> ExecResult:
        self._collect()
        record = self._channel.record
        return ExecResult(b"".join(self._out), b"".join(self._err), record.exit_status,
                          record.exit_signal)


class KeyExchange(Operation):
    """A key re-exchange started by us; finished when it completes."""

    what = "key re-exchange"

    def __init__(self, proto: ClientProtocol) -> None:
        self._transport = proto.transport
        self._count = self._transport.kex_count
        self._transport.start_kex()

    def ready(self) -> bool:
        return self._transport.kex_count > self._count

    def result(self) -> None:
        return None

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

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from . import auth
from .connection import ChannelState
from .errors import (
    ChannelError,
    DisconnectedError,
    HostKeyError,
    InvalidArgumentError,
    RequestRefusedError,
    SSHClientError,
    UsageError,
    timed_user_call,
)
from .events import (
    AuthBanner,
    ChannelOpenRequested,
    ChannelRequestReceived,
    CustomAuthStep,
    Event,
    HostKeyReceived,
    PromptsReceived,
    SignatureRequested,
)
from .options import ClientOptions

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

    def read_record(self, size: int, stream: int = STDOUT) -> bytes | None:
        """Exactly `size` bytes once that many are buffered, else None."""
        return self._table.read_record(self.id, size, stream)

    def read_line(self, eol: bytes, max_length: int,
                  stream: int = STDOUT) -> tuple[bytes, bool] | None:
        """(line without `eol`, True), or (max_length bytes, False) when no
        `eol` starts within them; None while neither is buffered."""
        return self._table.read_line(self.id, eol, max_length, stream)

    @property
    def buffered(self) -> bool:
        """The channel's buffers still exist (not yet forgotten)."""
        return self.id in self._table

    def window_stalled(self) -> bool:
        """Unread data holds the whole window: nothing more can arrive."""
        return bool(self._table.window_stalled(self.id))

    def at_end(self) -> bool:
        record = self.record
        return record.eof_received or record.close_received

    # ------------------------------------------------------------- sending
    def can_send(self) -> bool:
        return self._connection.can_send(self.id)

    def send_room(self) -> int:
        """Bytes send() would take now."""
        return self._connection.send_room(self.id)

    def send(self, data: bytes | memoryview, ext: int = 0) -> int:
        """Queue what the window takes now; bytes taken."""
        if self.state.close_received:
            raise ChannelError("channel closed by the server while sending", code=1022)
        return self._connection.send_data(self.id, data, ext)

    def send_eof(self) -> None:
        self._connection.send_eof(self.id)

    def send_close(self) -> None:
        """CHANNEL_CLOSE, keeping the channel until the server's answers it
        (its ChannelClosed event); close() is the fire-and-forget kind."""
        self._connection.close(self.id)

    @property
    def remote_id(self) -> int:
        """The server's number for this channel (for raw channel packets)."""
        return self.state.remote_id


    def change_window_size(self, cols: int, rows: int, width_px: int, height_px: int) -> None:
        """The terminal was resized (no reply comes: it cannot fail visibly)."""
        for name, value in (("cols", cols), ("rows", rows), ("width_px", width_px),
                            ("height_px", height_px)):
            if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                raise UsageError(f"resize_pty(): {name} must be an int in 0..2^32-1, "
                                 f"not {value!r}", code=211)
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

    def request(self, request_type: str, data: bytes = b"") -> ChannelRequest:
        """Any other request wanting a reply; `data` is its type-specific part."""
        return self._request(f"{request_type} request", lambda: self._connection.send_request(
            self.id, request_type, True, data))

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

    def close(self, connection_usable: bool) -> None:
        """Close without waiting for the server, and forget the channel (what
        Channel.close() does in every front end); on a broken connection
        there is nobody left to tell."""
        if not self.alive:
            return
        if connection_usable:
            try:
                self.abandon()
            except SSHClientError:
                pass  # the connection went while closing: nothing left to be polite to
        self.forget()


def run_steps(op: Operation) -> Generator[Operation, None, Any]:
    """How every front end carries an operation through, written once: step
    it; when it must wait, yield it (the driver flushes what the step
    queued and waits until `op.ready()`; a wait that fails is thrown back
    in); finally return its result. A failed wait still lets a salvaging
    operation finish with what arrived first; whatever ends it early
    cancels it."""
    try:
        while True:
            op.step()
            if op.finished:
                return op.result()
            try:
                yield op
            except SSHClientError:
                if op.salvage:  # data that came before the failure first
                    op.step()
                    if op.finished:
                        return op.result()
                raise
    except BaseException:
        op.cancel()
        raise


def carry(op: Operation, wait: Callable[[Callable[[], bool], str], None]) -> Any:
    """run_steps() for a blocking front end: `wait(ready, what)` sends what
    the step queued and blocks until ready() (the blocking driver's rounds
    begin by sending), or raises."""
    steps = run_steps(op)
    try:
        waiting = next(steps)
        while True:
            try:
                wait(waiting.ready, waiting.what)
            except BaseException as exc:
                waiting = steps.throw(exc)
            else:
                waiting = next(steps)
    except StopIteration as done:
        return done.value


class Operation(ABC):
    """See the module docstring."""

    what = "operation"
    finished = False
    # When a wait fails (the connection broke), one last step may still
    # finish a read from what arrived before: that data is handed over and
    # the error comes on the next call. Never for sending operations.
    salvage = False

    def cancel(self) -> None:  # noqa: B027 (most operations have nothing to undo)
        """The front end gave up on it (an error, a timeout, a cancelled task)."""

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
        if len(answers) <= self._index:
            raise ChannelError(f"the server closed the channel without answering the {self.what}",
                               code=1022)
        if not answers[self._index]:
            raise ChannelError(f"{self.what} was refused by the server", code=1033)


class Write(Operation):
    """Send all of the data, as fast as the window opens."""

    what = "write"

    def __init__(self, channel: ChannelHandle, data: bytes | bytearray | memoryview,
                 ext: int = 0) -> None:
        self._channel = channel
        self._rest = memoryview(data).cast("B")
        self._ext = ext
        self.sent = 0

    def step(self) -> None:
        if len(self._rest):
            taken = self._channel.send(self._rest, self._ext)
            self._rest = self._rest[taken:]
            self.sent += taken
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


class Read(Operation):
    """Some data of one stream once there is any (all buffered, or up to
    max_bytes; into a buffer if given); b"" / 0 at the stream's end."""

    what = "read"
    salvage = True

    def __init__(self, channel: ChannelHandle, max_bytes: int = -1, stream: int = STDOUT,
                 into: bytearray | memoryview | None = None) -> None:
        self._readable = Readable(channel, stream)
        self._channel, self._max, self._stream, self._into = channel, max_bytes, stream, into
        self._data: bytes | int = b"" if into is None else 0

    def step(self) -> None:
        channel = self._channel
        if channel.available(self._stream):
            self._data = (channel.read(self._max, self._stream) if self._into is None
                          else channel.read_into(self._into, self._stream))
            self.finished = True
        elif channel.at_end():
            self.finished = True
        elif self._readable.ready():
            self._readable.result()  # the other stream holds the window: says so

    def ready(self) -> bool:
        return self._readable.ready()

    def result(self) -> bytes | int:
        return self._data


class Drain(Operation):
    """stdout to its end through `take` (which consumes what is buffered and
    returns the count); stderr to `stderr_sink` as it comes, or left
    buffered (it shares the window: once it holds all of it, stdout cannot
    move and the drain says so instead of waiting)."""

    what = "read"
    salvage = True

    def __init__(self, channel: ChannelHandle, take: Callable[[], int],
                 stderr_sink: Callable[[bytes], object] | None = None) -> None:
        self._channel, self._take, self._stderr_sink = channel, take, stderr_sink
        # with a stderr sink stderr wakes the wait too, or unread stderr
        # would fill the shared window and stall stdout for good
        also = (STDERR,) if stderr_sink is not None else ()
        self._readable = Readable(channel, STDOUT, *also)
        self.total = 0

    def step(self) -> None:
        channel = self._channel
        if self._stderr_sink is not None and channel.available(STDERR):
            self._stderr_sink(channel.read(-1, STDERR))
        if channel.available(STDOUT):
            self.total += self._take()
        if channel.at_end() and not channel.available(STDOUT):
            if self._stderr_sink is not None and channel.available(STDERR):
                self._stderr_sink(channel.read(-1, STDERR))
            self.finished = True
        elif self._readable.ready() and not self._readable.has_data():
            self._readable.result()  # the window is held by unread stderr: says so

    def ready(self) -> bool:
        return self._readable.ready()

    def result(self) -> int:
        return self.total


class LineSplitter:
    """Bytes in, whole lines (b"\n" kept) out, for iterating a channel."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, chunk: bytes) -> list[bytes]:
        pending = self._pending
        pending += chunk
        end = pending.rfind(b"\n") + 1
        if not end:
            return []
        whole = bytes(pending[:end])
        del pending[:end]
        return [line + b"\n" for line in whole.split(b"\n")[:-1]]  # only \n ends a line

    def rest(self) -> list[bytes]:
        """At the end of the stream: the last line without its b"\n", if any."""
        rest, self._pending = bytes(self._pending), bytearray()
        return [rest] if rest else []


def drain_copier(channel: ChannelHandle, sink: object,
                 buffer_size: int = 1 << 20) -> Callable[[], int]:
    """drain()'s `take` for a sink given as None (discard without copying),
    a callable (handed a memoryview of one reused buffer, valid during the
    call) or an object with write() (a binary file)."""
    if sink is None:
        return channel.skip
    write = getattr(sink, "write", None)
    target = sink if callable(sink) else write
    if not callable(target):
        raise UsageError("drain(): sink must be a callable or a binary file")
    view = memoryview(bytearray(buffer_size))

    def copy() -> int:
        done = 0
        while channel.available(STDOUT):
            n = channel.read_into(view)
            target(view[:n])
            done += n
        return done
    return copy


class ExecCommand(Operation):
    """exec() of a connection: open a session, send the exec request with
    the open (no extra round trip), then run it with `stdin` (RunCommand);
    the channel is closed at the end or when the front end gives up."""

    what = "exec"

    def __init__(self, proto: ClientProtocol, command: str | bytes,
                 stdin: bytes | bytearray | memoryview = b"") -> None:
        self._proto = proto
        self._opening = proto.open_session()
        self._channel = self._opening.channel
        self._phase: Operation = self._opening
        self._request = self._channel.exec(command)
        self._stdin = stdin

    def step(self) -> None:
        while True:
            self._phase.step()
            if not self._phase.finished:
                return
            self._phase.result()  # raises a refusal
            if self._phase is self._opening:
                self._phase = self._request
            elif self._phase is self._request:
                self._phase = RunCommand(self._channel, self._stdin)
            else:
                self.finished = True
                return

    def ready(self) -> bool:
        return self._phase.ready()

    def result(self) -> ExecResult:
        result: ExecResult = self._phase.result()
        self.cancel()
        return result

    def cancel(self) -> None:
        self._channel.close(connection_usable=not self._proto.closed)


@dataclass(frozen=True)
class _Question:
    """How the options answer one kind of question: `ask` calls the user's
    callback (its answer, or an awaitable of it), `give` hands the answer
    to the protocol, `refuse` turns a failure into the protocol's refusal
    and says whether the failure is the user's own (then it goes on up)."""
    callback: str  # the option's name, for messages
    ask: Callable[[ClientOptions, Any], Any]
    give: Callable[[ClientProtocol, Any], None]
    refuse: Callable[[ClientProtocol, BaseException], bool]


def _ask_host_key(options: ClientOptions, event: HostKeyReceived) -> Any:
    verifier = options.host_key_verifier
    return False if verifier is None else timed_user_call(verifier, event.info)


def _refuse_host_key(proto: ClientProtocol, exc: BaseException) -> bool:
    """A verifier may refuse with its own HostKeyError; anything else it
    raises refuses the key and goes on up."""
    if isinstance(exc, HostKeyError):
        proto.answer_host_key(False, exc)
        return False
    proto.answer_host_key(False)
    return True


def _fail_login(proto: ClientProtocol, exc: BaseException) -> bool:
    """One of our errors fails the login with it; anything else closes the
    connection and goes on up, untouched."""
    if isinstance(exc, SSHClientError):
        proto.fail_authentication(exc)
        return False
    proto.abort()
    return True


_QUESTIONS: dict[type[Event], _Question] = {
    HostKeyReceived: _Question(
        "host_key_verifier", _ask_host_key,
        lambda proto, verdict: proto.answer_host_key(bool(verdict)), _refuse_host_key),
    SignatureRequested: _Question(
        "the private key's sign()", auth.ask_signature,
        lambda proto, signature: proto.answer_signature(bytes(signature)), _fail_login),
    PromptsReceived: _Question(
        "kbd_interactive_handler", auth.ask_prompts,
        lambda proto, answers: proto.answer_prompts(list(answers)), _fail_login),
    CustomAuthStep: _Question(
        "custom_auth_handler", auth.ask_custom_auth,
        lambda proto, packet: proto.answer_custom_auth(bytes(packet or b"")), _fail_login),
}

AnswerLater = Callable[[Awaitable[Any], Callable[[Any, "BaseException | None"], None]], None]


def answer_question(proto: ClientProtocol, event: Event,
                    later: AnswerLater | None = None) -> bool:
    """Answer the protocol's questions from what the options hold: the host
    key verifier, the private key, the prompt handler (or the password), the
    custom-auth handler. False if `event` is no question.

    A callback that answers with an awaitable (`async def`) is handed to
    `later(awaitable, settle)`, which awaits it and calls `settle(answer,
    error)` (the protocol holds the login until then); without `later` (a
    blocking front end) such an answer is a refusal that says why, since
    taking a coroutine object (which is true) for a yes would accept
    anything. A callback that raises one of our errors refuses with it;
    anything else it raises closes the connection and goes on up."""
    question = _QUESTIONS.get(type(event))
    if question is None:
        return False
    try:
        answer = question.ask(proto.options, event)
        if inspect.isawaitable(answer):
            if later is None:
                _discard(answer)
                raise _not_awaited(question, event)
            later(answer, functools.partial(settle_question, proto, event))
            return True
    except BaseException as exc:
        if question.refuse(proto, exc):
            raise
        return True
    settle_question(proto, event, answer, None)
    return True


def settle_question(proto: ClientProtocol, event: Event, answer: Any,
                    error: BaseException | None) -> None:
    """Hand the protocol the answer a callback gave for `event` (or refuse
    because of `error`); raises the user's own errors, as answer_question."""
    question = _QUESTIONS[type(event)]
    try:
        if error is not None:
            raise error
        question.give(proto, answer)
    except BaseException as exc:
        if question.refuse(proto, exc):
            raise


def _not_awaited(question: _Question, event: Event) -> SSHClientError:
    text = (f"{question.callback} returned an awaitable, not its answer: the blocking "
            "API does not await it (pass a plain function, or use sshclient.aio, "
            "which awaits it)")
    if isinstance(event, HostKeyReceived):
        return HostKeyError(f"{text}; the key was refused", code=1030)
    return UsageError(text, code=211)


def _discard(awaitable: Awaitable[Any]) -> None:
    """Close a coroutine nobody will await (no 'never awaited' warning)."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


def _refuse_request(proto: ClientProtocol, event: ChannelRequestReceived) -> str:
    if event.want_reply:
        proto.answer_channel_request(event.channel, False)
    return ""


def _refuse_open(proto: ClientProtocol, event: ChannelOpenRequested) -> str:
    proto.answer_channel_open(event.channel, False)
    return ""


# what the Pythonic front ends do with the other events that want something
_DEFAULTS: dict[type[Event], Callable[[ClientProtocol, Any], str]] = {
    ChannelRequestReceived: _refuse_request,
    ChannelOpenRequested: _refuse_open,
    AuthBanner: lambda proto, event: str(event.message),
}


def answer_by_default(proto: ClientProtocol, event: Event,
                      later: AnswerLater | None = None) -> str:
    """What the Pythonic front ends do with events nobody asked about: the
    questions are answered from the options (answer_question, `later` for
    awaitable answers); the server's requests wanting a reply and its
    channel opens are refused (no forwarding is set up); returns banner
    text to show, or ""."""
    default = _DEFAULTS.get(type(event))
    if default is not None:
        return default(proto, event)
    answer_question(proto, event, later)
    return ""


class GlobalRequest(Operation):
    """A global request wanting a reply; the result is the reply's data
    (tcpip-forward's is the port the server chose). Refused: 1098."""

    def __init__(self, proto: ClientProtocol, request_type: str, ticket: int) -> None:
        # sent by ClientProtocol.global_request(); `ticket` finds its reply
        self.what = f"{request_type} request"
        self._proto = proto
        self._ticket = ticket

    @property
    def ticket(self) -> int:
        """Where its reply goes in the connection's global_replies."""
        return self._ticket

    def ready(self) -> bool:
        return self._proto.global_reply(self._ticket) is not None or self._proto.closed

    def result(self) -> bytes:
        reply = self._proto.take_global_reply(self._ticket)
        if reply is None:
            raise DisconnectedError(f"the connection ended before the server answered the "
                                    f"{self.what}", code=1001)
        success, data = reply
        if not success:
            raise RequestRefusedError(f"the server refused the {self.what}", code=1098)
        return data

    def cancel(self) -> None:
        self._proto.take_global_reply(self._ticket)  # and no reply is kept for it


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

"""The whole client protocol, sans-IO: transport + userauth + connection.

A driver (blocking, asyncio, or the spec adapter) moves bytes between a
socket and this object and reacts to the events `process()` returns:

    proto = ClientProtocol(options)
    sock.sendall(proto.take_output())
    n = sock.recv_into(proto.recv_buffer()); proto.recv_commit(n)
    for event in proto.process(): ...
"""
from __future__ import annotations

from collections import deque
from typing import Callable

from sshcore.wire import Reader, Writer

from . import constants as c
from .algorithms import Negotiated
from .auth import Authenticator
from .connection import ConnectionLayer
from .errors import (
    DisconnectedError,
    HostKeyError,
    RemoteProtocolError,
    SSHClientError,
    UsageError,
)
from .events import (
    AuthCompleted,
    ChannelClosed,
    ChannelDataReady,
    ChannelEOF,
    ChannelRequestReceived,
    CustomAuthStep,
    Disconnected,
    Event,
    KexCompleted,
    PromptsReceived,
    SignatureRequested,
)
from .operations import ChannelHandle, GlobalRequest, KeyExchange, OpenChannel
from .options import ClientOptions
from .transport import Transport

STATE_KEX = "kex"
STATE_SERVICE = "service-request"
STATE_AUTH = "auth"
STATE_CONNECTED = "connected"
STATE_CLOSED = "closed"

# The phases of a connection above the transport, as one table: which
# upper-layer messages (>= 50) each phase takes and the method that handles
# them; anything else is a protocol error (1036). Moves between phases are
# in _MOVES; any phase may end in STATE_CLOSED.
_PHASES: dict[str, tuple[Callable[[int], bool], str]] = {
    STATE_SERVICE: (lambda m: m == c.MSG_SERVICE_ACCEPT, "_on_service_accept"),
    STATE_AUTH: (lambda m: 50 <= m <= 79, "_on_auth_message"),
    # a late USERAUTH_BANNER (RFC 4252 §5.4 allows it only before success) is harmless
    STATE_CONNECTED: (lambda m: m >= 80 or m == c.MSG_USERAUTH_BANNER,
                      "_on_connection_message"),
}
_MOVES: dict[tuple[str, str], str] = {
    (STATE_KEX, "userauth requested"): STATE_SERVICE,
    (STATE_SERVICE, "service accepted"): STATE_AUTH,
    (STATE_AUTH, "authenticated"): STATE_CONNECTED,
}

_ORDERED_CHANNEL_EVENTS = (ChannelEOF, ChannelClosed, ChannelRequestReceived)
# While this much of our output waits for the peer, we take no more of its
# input (wants_input() says no): a peer that floods requests wanting a reply
# while reading nothing is then slowed by TCP instead of growing our memory.
# Channel data alone stays under OUTPUT_HIGH_WATER (8 MiB), so bulk uploads
# never pause input.
INPUT_PAUSE_OUTPUT = 16 * 1024 * 1024
# Windows are looked at for growth once per round trip, and on a short link
# no more often than this: the rate over a period is what counts, and the
# check walks every channel.
GROWTH_PERIOD = 0.02
# A last guard, out of a protocol-following peer's reach: with input paused,
# one receive buffer of requests (8 MiB) adds at most about as much output.
OUTPUT_LIMIT = 32 * 1024 * 1024


class ClientProtocol:
    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self._events: deque[Event] = deque()
        self.transport = Transport(options, self._emit)
        self.transport.upper = self
        self.engine = self.transport.engine
        self.output_limit = OUTPUT_LIMIT  # see OUTPUT_LIMIT; tests lower it
        self.input_pause_output = INPUT_PAUSE_OUTPUT  # see INPUT_PAUSE_OUTPUT; tests lower it
        self.connection = ConnectionLayer(self.transport, self._emit, options.window_size,
                                          options.max_packet_size, options.window_limit)
        self.auth: Authenticator | None = None
        self.state = STATE_KEX
        self.kex_done = False
        self._auth_wanted = False
        self.error: SSHClientError | None = None
        self._eof = False
        # Timers (time comes in through handle_timeout): keepalive.
        self._input_seen = False
        self._last_input: float | None = None
        self._last_keepalive = 0.0
        self.keepalives_outstanding = 0
        self._growth_since: float | None = None  # start of the window growth period
        self.windows_grown = 0  # how many times a channel's window grew (diagnostics)

    # ---------------------------------------------------------------- bytes
    def recv_buffer(self, size_hint: int = 65536) -> memoryview:
        return self.transport.recv_buffer(size_hint)

    def recv_commit(self, n: int) -> None:
        """`n` bytes were received into the last recv_buffer(); 0 means EOF."""
        if n == 0:
            self._eof = True
            return
        self._input_seen = True
        self.transport.recv_commit(n)

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer; b"" means the peer closed the connection."""
        if not data:
            self._eof = True
            return
        self._input_seen = True
        self.transport.receive_data(data)

    @property
    def closed(self) -> bool:
        """The connection has ended; `error` says why."""
        return self.state == STATE_CLOSED

    def output_size(self) -> int:
        return self.transport.output_size()

    def wants_input(self) -> bool:
        """False while our output to the peer is backed up (INPUT_PAUSE_OUTPUT):
        a driver then stops reading the socket until it drains."""
        return (self.transport.output_size() < self.input_pause_output
                and not self.transport.held)

    def take_output(self) -> bytes:
        return self.transport.take_output()

    def output_view(self) -> memoryview:
        return self.transport.output_view()

    def output_consume(self, n: int) -> None:
        self.transport.output_consume(n)

    # --------------------------------------------------------------- events
    def _emit(self, event: Event) -> None:
        if isinstance(event, _ORDERED_CHANNEL_EVENTS):
            # Data routed in C before this message must be announced first.
            self._flush_dirty()
        self._events.append(event)
        if isinstance(event, KexCompleted) and event.initial:
            self.kex_done = True
            if self._auth_wanted:
                self._request_userauth()

    def _flush_dirty(self) -> None:
        dirty = self.engine.channels.take_dirty()
        if dirty:
            self._events.append(ChannelDataReady(list(dirty)))

    def process(self) -> list[Event]:
        """Handle every buffered packet; return the events, in order."""
        try:
            self.transport.process()
            if self.engine.output_size() > self.output_limit:
                raise RemoteProtocolError(
                    f"the server does not read what we send: {self.engine.output_size()} "
                    f"bytes wait for it", code=1036)
        except RemoteProtocolError as exc:
            self._fail(exc, exc.disconnect_reason)
        except SSHClientError as exc:
            self._fail(exc, c.DISCONNECT_BY_APPLICATION)
        self._flush_dirty()
        if self._eof and self.error is None:
            # The peer is gone: after what it sent before (handled above).
            self.error = self.transport.ended_by = self._eof_error()
            self.state = STATE_CLOSED
            self.transport.closed = True
            self._events.append(Disconnected(self.error.code, getattr(self.error, "reason", 0),
                                             self.error.message))
        events = list(self._events)
        self._events.clear()
        if self.error is not None and not events:
            raise self.error
        return events

    def has_work(self) -> bool:
        """process() would have something to do now: events made since (by
        answers to the last ones), packets that waited behind a question, or
        the error to raise. A driver that has handled process()'s events asks
        this before calling it again."""
        return bool(self._events) or self.transport.waiting_on_answer or self.error is not None

    def _eof_error(self) -> SSHClientError:
        """What the end of the byte stream means at this point of the protocol."""
        transport = self.transport
        if transport.disconnect_error is not None:
            return transport.disconnect_error
        if not transport.version_received:
            first = transport.first_line.decode("utf-8", "replace")
            detail = f"; it sent {first!r}" if first else ""
            return RemoteProtocolError(
                f"the server closed the connection before sending an SSH version line{detail}",
                code=1002)
        return DisconnectedError("the server closed the connection", code=1001)

    # ------------------------------------------------------------------ time
    def next_deadline(self) -> float | None:
        """When handle_timeout() next has work (monotonic seconds), or None."""
        interval = self.options.keepalive_interval
        if interval <= 0 or self.state != STATE_CONNECTED or self._last_input is None:
            return None
        return max(self._last_input, self._last_keepalive) + interval

    def handle_timeout(self, now: float) -> None:
        """Run the timers: call after each round of I/O, and when next_deadline()
        has passed. Input since the last call counts as having arrived `now`."""
        if self.connection.window_limit:
            self._grow_windows(now)
        if self._input_seen or self._last_input is None:
            self._input_seen = False
            self._last_input = now
            # Any input shows the server is alive: the count is of probes in
            # a row that got nothing back (ServerAliveCountMax).
            self.keepalives_outstanding = 0
        deadline = self.next_deadline()
        if deadline is None or now < deadline or self.closed:
            return
        if self.keepalives_outstanding >= self.options.keepalive_count_max:
            self._fail(SSHClientError(
                f"no answer to {self.keepalives_outstanding} keep-alive requests", code=1039),
                c.DISCONNECT_BY_APPLICATION)
        self.connection.send_global_request("keepalive@openssh.com", True)
        self.keepalives_outstanding += 1
        self._last_keepalive = now

    def _fail(self, exc: SSHClientError, reason: int) -> None:
        self._record_failure(exc, reason)
        raise exc

    def _record_failure(self, exc: SSHClientError, reason: int) -> None:
        """End the connection for `exc`: DISCONNECT, and process() raises it."""
        self.error = self.transport.ended_by = exc
        if not self.transport.closed:
            self.transport.send_disconnect(reason, exc.message[:200])
        self.state = STATE_CLOSED

    def abort(self, description: str = "error in the client application") -> None:
        """The application gave up (its own callback raised): DISCONNECT and
        close; the application has its exception, we add none."""
        if not self.transport.closed:
            self.transport.send_disconnect(c.DISCONNECT_BY_APPLICATION, description)
        self.state = STATE_CLOSED

    # ------------------------------------------------------------ userauth
    def begin_auth(self, credentials: ClientOptions | None = None) -> None:
        """Log in once the first key exchange is done (now or later).
        `credentials` replaces the options authentication reads, for a login
        decided after the connection was made (until authentication starts)."""
        if credentials is not None and self.auth is None:
            self.options = credentials
        self._auth_wanted = True
        if self.kex_done and self.state == STATE_KEX:
            self._request_userauth()

    def _request_userauth(self) -> None:
        if self.state != STATE_KEX:
            return
        self._move("userauth requested")
        self.transport.send(Writer().byte(c.MSG_SERVICE_REQUEST).string(b"ssh-userauth")
                            .getvalue())

    def _move(self, event: str) -> None:
        self.state = _MOVES[(self.state, event)]

    def handle_packet(self, msg_type: int, payload: bytes) -> None:
        """Upper-layer messages from the transport, routed by _PHASES."""
        phase = _PHASES.get(self.state)
        if phase is None or not phase[0](msg_type):
            name = c.MESSAGE_NAMES.get(msg_type, str(msg_type))
            raise RemoteProtocolError(f"unexpected {name} in phase {self.state}", code=1036)
        getattr(self, phase[1])(msg_type, payload)

    def _on_service_accept(self, msg_type: int, payload: bytes) -> None:
        r = Reader(payload)
        r.byte()
        if r.string() != b"ssh-userauth":
            raise RemoteProtocolError("server accepted a service we did not ask for", code=1036)
        self._move("service accepted")
        assert self.transport.session_id is not None
        self.auth = Authenticator(self.options, self.transport.session_id,
                                  self.transport.send, self._emit,
                                  lambda: self.transport.server_sig_algs)
        self.auth.start()

    def _on_auth_message(self, msg_type: int, payload: bytes) -> None:
        assert self.auth is not None
        self.auth.handle_packet(msg_type, payload)
        if self.auth.done:
            self._move("authenticated")

    def _on_connection_message(self, msg_type: int, payload: bytes) -> None:
        if msg_type != c.MSG_USERAUTH_BANNER:
            self.connection.handle_packet(msg_type, payload)

    # ---------------------------------------------------------- operations
    # What front ends start; see operations.py for how they wait on them.
    def open_session(self) -> OpenChannel:
        return OpenChannel(self, self.connection.open_session())

    def open_channel(self, channel_type: str) -> OpenChannel:
        """A channel of any type without type-specific data ("session", ...)."""
        return OpenChannel(self, self.connection.open_channel(channel_type))

    def channel(self, local_id: int) -> ChannelHandle:
        """The handle of a known channel (one the server opened and we accepted)."""
        return ChannelHandle(self, local_id)

    def open_direct_tcpip(self, host: str, port: int, src_host: str = "127.0.0.1",
                          src_port: int = 0) -> OpenChannel:
        return OpenChannel(self, self.connection.open_direct_tcpip(host, port, src_host,
                                                                   src_port))

    def open_direct_streamlocal(self, path: str) -> OpenChannel:
        """A channel to the Unix socket `path` on the server's side."""
        return OpenChannel(self, self.connection.open_direct_streamlocal(path))

    def global_request(self, request_type: str, data: bytes = b"") -> GlobalRequest:
        """A global request wanting a reply (tcpip-forward, ...)."""
        ticket = self.connection.send_global_request(request_type, True, data, keep_reply=True)
        return GlobalRequest(self, request_type, ticket)

    def send_global_request(self, request_type: str, data: bytes = b"") -> None:
        """A global request wanting no reply (cancel-tcpip-forward, ...)."""
        self.connection.send_global_request(request_type, False, data)

    def global_reply(self, ticket: int) -> tuple[bool, bytes] | None:
        """The reply to a GlobalRequest, once it came (still left for its result())."""
        return self.connection.global_replies.get(ticket)

    def take_global_reply(self, ticket: int) -> tuple[bool, bytes] | None:
        """The reply, handed over once (None if it has not come); a reply
        that comes after this is not kept."""
        reply = self.connection.global_replies.get(ticket)
        self.connection.forget_reply(ticket)
        return reply

    def rekey(self) -> KeyExchange:
        return KeyExchange(self)

    # ------------------------------------------- questions to the front end
    @property
    def awaiting_answer(self) -> bool:
        """An authentication question (signature, prompts, custom step) is open."""
        return self.auth is not None and self.auth.question is not None

    def answer_signature(self, signature: bytes | None) -> None:
        """Answer SignatureRequested (None: the key's holder refused)."""
        self._answer_auth(SignatureRequested, signature)

    def answer_prompts(self, answers: list[str]) -> None:
        """Answer PromptsReceived, one answer per prompt."""
        self._answer_auth(PromptsReceived, list(answers))

    def answer_custom_auth(self, packet: bytes) -> None:
        """Answer CustomAuthStep with the next packet (b"": give up)."""
        self._answer_auth(CustomAuthStep, bytes(packet))

    def fail_authentication(self, exc: SSHClientError) -> None:
        """The front end cannot answer (no key, a handler raised ours)."""
        self._record_failure(exc, c.DISCONNECT_BY_APPLICATION)

    def _answer_auth(self, kind: type[Event], value: object) -> None:
        if self.auth is None:
            raise UsageError(f"no {kind.__name__} is waiting for an answer", code=211)
        try:
            self.auth.answer(kind, value)
        except UsageError:
            raise
        except RemoteProtocolError as exc:
            self._record_failure(exc, exc.disconnect_reason)
        except SSHClientError as exc:
            self._record_failure(exc, c.DISCONNECT_BY_APPLICATION)

    def answer_host_key(self, accept: bool, error: HostKeyError | None = None) -> None:
        """Answer HostKeyReceived: go on, or refuse the key (the connection
        closes; process() raises `error`, or a 1030 naming the key)."""
        try:
            self.transport.answer_host_key(accept, error)
        except HostKeyError as exc:
            self.error = self.transport.ended_by = exc
            self.state = STATE_CLOSED

    def answer_channel_request(self, local_id: int, ok: bool) -> None:
        """Reply to a ChannelRequestReceived that wants one."""
        self.connection.reply_channel_request(local_id, ok)

    def answer_channel_open(self, local_id: int, ok: bool,
                            reason: int = c.OPEN_ADMINISTRATIVELY_PROHIBITED,
                            description: str = "refused by the client") -> None:
        """Accept or refuse a ChannelOpenRequested (a refusal's reason code
        and text go to the server)."""
        self.connection.answer_channel_open(local_id, ok, reason, description)

    def send_raw_packet(self, payload: bytes) -> None:
        """A packet built by the user, sent as it is; a request in it still
        gets its reply matched to it."""
        self.connection.expect_reply_to_raw(payload)
        self.transport.send(payload)

    @property
    def in_key_exchange(self) -> bool:
        return self.transport.in_kex

    @property
    def negotiated(self) -> Negotiated | None:
        """The algorithms of the last key exchange (None before the first)."""
        return self.transport.negotiated

    # ----------------------------------------------------------- the link
    def _grow_windows(self, now: float) -> None:
        """Once per growth period (a round trip, at least GROWTH_PERIOD): let
        the channels whose window held their transfer back grow it."""
        rtt = self.transport.round_trip.best
        if rtt is None:
            return
        if self._growth_since is None:
            self._growth_since = now
            return
        elapsed = now - self._growth_since
        if elapsed >= max(rtt, GROWTH_PERIOD):
            self.windows_grown += self.engine.channels.grow_windows(elapsed, rtt)
            self._growth_since = now

    # ------------------------------------------------------------- helpers
    @property
    def authenticated(self) -> bool:
        return self.state == STATE_CONNECTED

    def require_connected(self) -> None:
        if self.state != STATE_CONNECTED:
            raise UsageError("not logged in", code=1117)

    def disconnect(self, description: str = "disconnected by user") -> None:
        self.transport.send_disconnect(c.DISCONNECT_BY_APPLICATION, description)
        self.state = STATE_CLOSED


__all__ = ["ClientProtocol", "AuthCompleted"]

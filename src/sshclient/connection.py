"""Connection protocol (RFC 4254), sans-IO: channels and requests.

Bulk data never passes through here: CHANNEL_DATA and WINDOW_ADJUST are
routed by the compiled engine into `ChannelTable` buffers.  This module
tracks the rare per-channel state (open, requests, EOF, close, exit status).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from sshcore.wire import Reader, WireError, Writer

from . import constants as c
from .errors import ChannelError, RemoteProtocolError, UnknownChannelError, UsageError
from .events import (
    ChannelClosed,
    ChannelEOF,
    ChannelOpened,
    ChannelOpenFailed,
    ChannelOpenRequested,
    ChannelRequestAnswered,
    ChannelRequestReceived,
    Event,
    GlobalRequestAnswered,
)
from .lifecycle import C_FLAGS, Lifecycle, Phase
from .transport import Transport
from .validate import check_host, check_port, check_socket_path

MAX_CHANNELS = 4096
# Sealed channel data waiting for the socket is kept under this: a server
# may advertise a window of up to 4 GiB, and a write as big as that window
# would otherwise be sealed into memory at once. Well above what a 2 MiB
# window ever queues, so it costs nothing on the fast path.
OUTPUT_HIGH_WATER = 8 * 1024 * 1024


@dataclass
class ChannelState:
    local_id: int
    channel_type: str
    remote_id: int = -1
    life: Lifecycle = field(default_factory=Lifecycle)
    failure_reason: int = 0
    failure_description: str = ""
    exit_status: int | None = None
    exit_signal: str | None = None
    exit_message: str = ""
    pending_requests: deque = field(default_factory=deque)  # request types awaiting a reply
    # the replies to them, in order (True: success). Kept here, not in a map
    # by channel id, so they go when the channel is forgotten.
    answers: list = field(default_factory=list)
    server_initiated: bool = False
    # The user let go of it (closed without waiting): forgotten as soon as the
    # server is done with it, so nothing piles up for channels nobody reads.
    abandoned: bool = False
    # the server sent CLOSE before we did (our CLOSE was only the reply)
    closed_by_server: bool = False
    # messages queued before the server confirmed the channel (the remote id is
    # unknown until then): builders that take the remote id
    deferred: list = field(default_factory=list)

    # the lifecycle's answers, as the rest of the code asks them
    opened = property(lambda self: self.life.opened)
    open_failed = property(lambda self: self.life.open_failed)
    eof_sent = property(lambda self: self.life.eof_sent)
    eof_received = property(lambda self: self.life.eof_received)
    close_sent = property(lambda self: self.life.close_sent)
    close_received = property(lambda self: self.life.close_received)

    @property
    def closed(self) -> bool:
        return self.life.close_received and self.life.ours is Phase.CLOSED


class ConnectionLayer:
    def __init__(self, transport: Transport, emit: Callable[[Event], None],
                 window_size: int, max_packet: int, window_limit: int = 0) -> None:
        self.transport = transport
        self.table = transport.engine.channels
        self._emit = emit
        self.window_size = window_size
        self.max_packet = max_packet
        self.window_limit = window_limit
        self.channels: dict[int, ChannelState] = {}
        self._next_id = 0
        # requests wanting a reply, in order: (type, ticket; 0: nobody keeps the reply)
        self._global_requests: deque[tuple[str, int]] = deque()
        self._tickets = 0
        self.global_replies: dict[int, tuple[bool, bytes]] = {}  # ticket -> (success, data)
        self._awaited: set[int] = set()  # tickets whose reply somebody will take
        # server-initiated opens awaiting the user's answer: local id -> (sender, window, packet)
        self._incoming_open: dict[int, tuple[int, int, int]] = {}

    # --------------------------------------------------------------- ids
    def _allocate_id(self) -> int:
        if len(self.channels) >= MAX_CHANNELS:
            raise ChannelError("too many open channels", code=1020)
        while self._next_id in self.channels:
            self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        local_id = self._next_id
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        return local_id

    def get(self, local_id: int) -> ChannelState:
        try:
            return self.channels[local_id]
        except KeyError:
            raise UnknownChannelError(f"no channel with id {local_id}") from None

    def _add_to_table(self, local_id: int) -> None:
        self.table.add(local_id, self.window_size, self.max_packet)
        if self.window_limit > self.window_size:
            self.table.set_window_growth(local_id, self.window_limit)

    # ------------------------------------------------------------ opening
    def open_channel(self, channel_type: str, extra: bytes = b"") -> int:
        local_id = self._allocate_id()
        self.channels[local_id] = ChannelState(local_id, channel_type)
        self._add_to_table(local_id)
        self.transport.send(
            Writer().byte(c.MSG_CHANNEL_OPEN).string(channel_type.encode()).uint32(local_id)
            .uint32(self.window_size).uint32(self.max_packet).raw(extra).getvalue()
        )
        return local_id

    def open_session(self) -> int:
        return self.open_channel("session")

    def open_direct_tcpip(self, host: str, port: int, src_host: str, src_port: int) -> int:
        # The server resolves `host`: a NUL would cut it short there as it would here.
        check_host(host, "tunnel host")
        check_port(port, "tunnel port")
        check_host(src_host, "source host")
        check_port(src_port, "source port", allow_zero=True)
        extra = (Writer().string(host.encode()).uint32(port).string(src_host.encode())
                 .uint32(src_port).getvalue())
        return self.open_channel("direct-tcpip", extra)

    def open_direct_streamlocal(self, path: str) -> int:
        """A channel to a Unix socket on the server's side (OpenSSH's
        direct-streamlocal@openssh.com; PROTOCOL, section 2.4)."""
        check_socket_path(path, "tunnel socket path")
        extra = Writer().string(path.encode()).string(b"").uint32(0).getvalue()
        return self.open_channel("direct-streamlocal@openssh.com", extra)

    # ------------------------------------------------------------ requests
    def send_request(self, local_id: int, request_type: str, want_reply: bool,
                     data: bytes = b"") -> None:
        """Send a channel request; before the open is confirmed it is queued and
        goes out with the confirmation (pipelining saves a round trip)."""
        ch = self._usable_channel(local_id)
        if want_reply:
            ch.pending_requests.append(request_type)
        body = request_type.encode()

        def build(remote_id: int) -> bytes:
            return (Writer().byte(c.MSG_CHANNEL_REQUEST).uint32(remote_id).string(body)
                    .boolean(want_reply).raw(data).getvalue())

        if ch.opened:
            self.transport.send(build(ch.remote_id))
        else:
            ch.deferred.append(build)

    def exec_command(self, local_id: int, command: str | bytes) -> None:
        cmd = command.encode() if isinstance(command, str) else command
        self.send_request(local_id, "exec", True, Writer().string(cmd).getvalue())

    def start_shell(self, local_id: int) -> None:
        self.send_request(local_id, "shell", True)

    def start_subsystem(self, local_id: int, name: str) -> None:
        self.send_request(local_id, "subsystem", True, Writer().string(name.encode()).getvalue())

    def request_pty(self, local_id: int, term: str, cols: int, rows: int, width_px: int,
                    height_px: int, modes: bytes) -> None:
        data = (Writer().string(term.encode()).uint32(cols).uint32(rows).uint32(width_px)
                .uint32(height_px).string(modes).getvalue())
        self.send_request(local_id, "pty-req", True, data)

    def change_window_size(self, local_id: int, cols: int, rows: int, width_px: int,
                           height_px: int) -> None:
        """The terminal was resized (RFC 4254 §6.7); servers never reply."""
        data = Writer().uint32(cols).uint32(rows).uint32(width_px).uint32(height_px).getvalue()
        self.send_request(local_id, "window-change", False, data)

    def send_global_request(self, request_type: str, want_reply: bool, data: bytes = b"",
                            keep_reply: bool = False) -> int:
        """Send a global request; with `keep_reply`, its reply goes into
        global_replies under the ticket returned (else 0)."""
        ticket = 0
        if keep_reply:
            self._tickets += 1
            ticket = self._tickets
            self._awaited.add(ticket)
        if want_reply:
            self._global_requests.append((request_type, ticket))
        self.transport.send(Writer().byte(c.MSG_GLOBAL_REQUEST).string(request_type.encode())
                            .boolean(want_reply).raw(data).getvalue())
        return ticket

    def forget_reply(self, ticket: int) -> None:
        """Nobody will take this request's reply (its waiter gave up)."""
        self._awaited.discard(ticket)
        self.global_replies.pop(ticket, None)

    def expect_reply_to_raw(self, packet: bytes) -> None:
        """A request sent as a raw packet still gets its reply matched."""
        r = Reader(packet)
        try:
            msg = r.byte()
            if msg == c.MSG_GLOBAL_REQUEST:
                name = r.text()
                if r.boolean():
                    self._global_requests.append((name, 0))
            elif msg == c.MSG_CHANNEL_REQUEST:
                remote = r.uint32()
                name = r.text()
                if r.boolean():
                    for ch in self.channels.values():
                        if ch.remote_id == remote and ch.opened:
                            ch.pending_requests.append(name)
                            break
        except WireError:
            raise UsageError("malformed request packet", code=211) from None

    def _open_channel(self, local_id: int) -> ChannelState:
        ch = self._usable_channel(local_id)
        if not ch.opened:
            raise UsageError(f"channel {local_id} is not open yet", code=1021)
        return ch

    def _usable_channel(self, local_id: int) -> ChannelState:
        """A channel that is open or still opening (not failed, not closing)."""
        ch = self.get(local_id)
        if ch.open_failed:
            raise ChannelError(f"channel {local_id} could not be opened", code=1020)
        if ch.closed_by_server:
            raise ChannelError(f"channel {local_id} was closed by the server", code=1022)
        if ch.close_sent or ch.close_received:
            raise ChannelError(f"channel {local_id} is closed", code=1021)
        return ch

    # ------------------------------------------------------------ data
    def send_data(self, local_id: int, data: bytes | memoryview, ext: int = 0) -> int:
        """Queue as much of `data` as the window allows; returns bytes taken."""
        ch = self._open_channel(local_id)
        if ch.eof_sent:
            raise ChannelError(f"EOF already sent on channel {local_id}", code=1022)
        room = OUTPUT_HIGH_WATER - self.transport.engine.output_size()
        if room <= 0:
            return 0
        if len(data) > room:
            data = memoryview(data).cast("B")[:room]
        return int(self.table_send(local_id, data, ext))

    def table_send(self, local_id: int, data: bytes | memoryview, ext: int) -> int:
        return int(self.transport.engine.send_channel_data(local_id, data, ext))

    def can_send(self, local_id: int) -> bool:
        """send_data() would take something now (window open, no key
        re-exchange holding data back, the socket keeping up)."""
        ch = self.channels.get(local_id)
        if ch is None or not ch.opened or ch.eof_sent or ch.close_sent or ch.close_received:
            return False
        engine = self.transport.engine
        return (self.table.remote_window(local_id) > 0 and not engine.data_blocked
                and engine.output_size() < OUTPUT_HIGH_WATER)

    def send_room(self, local_id: int) -> int:
        """How many bytes send_data() would take now (0 when can_send() is false)."""
        if not self.can_send(local_id):
            return 0
        output_room = OUTPUT_HIGH_WATER - self.transport.engine.output_size()
        return min(int(self.table.remote_window(local_id)), output_room)

    def send_eof(self, local_id: int) -> None:
        ch = self.get(local_id)
        if ch.eof_sent or ch.close_received or ch.close_sent:
            return  # nothing to end: the channel is already (being) closed
        ch = self._open_channel(local_id)
        self._advance(ch, "send_eof")
        self.transport.send(Writer().byte(c.MSG_CHANNEL_EOF).uint32(ch.remote_id).getvalue())

    def close(self, local_id: int) -> None:
        ch = self.get(local_id)
        if ch.close_sent or ch.open_failed:
            return
        # not confirmed yet: CLOSE_WANTED, and it goes with the confirmation
        if self._advance(ch, "send_close") == Phase.CLOSED:
            self._send_close(ch)

    def _send_close(self, ch: ChannelState) -> None:
        self.transport.send(Writer().byte(c.MSG_CHANNEL_CLOSE).uint32(ch.remote_id).getvalue())

    def _advance(self, ch: ChannelState, event: str) -> Phase:
        """Move the channel's lifecycle (lifecycle.py), mirror it in the
        compiled table; returns the state our side is in afterwards."""
        for side, phase in ch.life.apply(event):
            flag = C_FLAGS.get((side, phase))
            if flag is not None and ch.local_id in self.table:
                getattr(self.table, flag)(ch.local_id)
        return ch.life.ours

    def abandon(self, local_id: int) -> None:
        """Close without waiting for the server's CLOSE; the channel is
        forgotten when that (or an open failure) arrives."""
        ch = self.get(local_id)
        ch.abandoned = True
        self.close(local_id)
        self.forget(local_id)

    def forget(self, local_id: int) -> None:
        """Drop a fully closed channel once the user has read its data."""
        ch = self.channels.get(local_id)
        if ch is not None and (ch.closed or ch.open_failed):
            del self.channels[local_id]
            if local_id in self.table:
                self.table.remove(local_id)

    # ------------------------------------------------------------ receive
    def handle_packet(self, msg_type: int, payload: bytes) -> None:
        r = Reader(payload)
        r.byte()
        if msg_type == c.MSG_GLOBAL_REQUEST:
            self._on_global_request(r)
            return
        if msg_type in (c.MSG_REQUEST_SUCCESS, c.MSG_REQUEST_FAILURE):
            if not self._global_requests:
                raise RemoteProtocolError("global request reply without a request", code=1036)
            name, ticket = self._global_requests.popleft()
            success = msg_type == c.MSG_REQUEST_SUCCESS
            if ticket in self._awaited:
                self._awaited.discard(ticket)
                self.global_replies[ticket] = (success, payload[1:])
            self._emit(GlobalRequestAnswered(name, success, payload))
            return
        if msg_type == c.MSG_CHANNEL_OPEN:
            self._on_channel_open(r)
            return
        if not (c.MSG_CHANNEL_OPEN_CONFIRMATION <= msg_type <= c.MSG_CHANNEL_FAILURE):
            raise RemoteProtocolError(f"unexpected message {msg_type} in the connection layer",
                                      code=1027)
        local_id = r.uint32()
        ch = self.channels.get(local_id)
        if ch is None:
            raise RemoteProtocolError(
                f"{c.MESSAGE_NAMES.get(msg_type, msg_type)} for unknown channel {local_id}",
                code=1021)
        if msg_type == c.MSG_CHANNEL_OPEN_CONFIRMATION:
            self._on_open_confirmation(ch, r)
        elif msg_type == c.MSG_CHANNEL_OPEN_FAILURE:
            self._on_open_failure(ch, r)
        elif not ch.opened:
            raise RemoteProtocolError(f"message {msg_type} on unconfirmed channel {local_id}",
                                      code=1023)
        elif msg_type in (c.MSG_CHANNEL_DATA, c.MSG_CHANNEL_EXTENDED_DATA,
                          c.MSG_CHANNEL_WINDOW_ADJUST):
            # Only reaches Python when the engine does not route (unknown ext type,
            # or routing paused during kex where the transport already rejected it).
            if msg_type == c.MSG_CHANNEL_EXTENDED_DATA:
                # A data type other than stderr: dropped, but it used window that
                # must be checked and given back, or the server stalls (RFC 4254 §5.2).
                r.uint32()
                self.table.discard(local_id, len(r.string()))  # 1022 beyond the window
                return
            raise RemoteProtocolError(f"unexpected channel data message {msg_type}", code=1022)
        elif msg_type == c.MSG_CHANNEL_EOF:
            self._advance(ch, "recv_eof")  # more data now is a protocol error (in C)
            self._emit(ChannelEOF(local_id))
        elif msg_type == c.MSG_CHANNEL_CLOSE:
            self._on_close(ch)
        elif msg_type == c.MSG_CHANNEL_REQUEST:
            self._on_channel_request(ch, r, payload)
        elif msg_type in (c.MSG_CHANNEL_SUCCESS, c.MSG_CHANNEL_FAILURE):
            if not ch.pending_requests:
                raise RemoteProtocolError("channel request reply without a request", code=1023)
            request_type = ch.pending_requests.popleft()
            ch.answers.append(msg_type == c.MSG_CHANNEL_SUCCESS)
            self._emit(ChannelRequestAnswered(local_id, request_type,
                                              msg_type == c.MSG_CHANNEL_SUCCESS))

    def _on_open_confirmation(self, ch: ChannelState, r: Reader) -> None:
        close_wanted = ch.life.ours is Phase.CLOSE_WANTED
        remote_id, window, max_packet = r.uint32(), r.uint32(), r.uint32()
        self._advance(ch, "confirm")  # a second confirmation is a 1023
        ch.remote_id = remote_id
        self.table.confirm(ch.local_id, ch.remote_id, window, max(1, min(max_packet, 1 << 20)))
        for build in ch.deferred:
            self.transport.send(build(ch.remote_id))
        ch.deferred.clear()
        if close_wanted:  # closed by the user before the server confirmed
            self.table.mark_close_sent(ch.local_id)
            self._send_close(ch)
        self._emit(ChannelOpened(ch.local_id))

    def _on_open_failure(self, ch: ChannelState, r: Reader) -> None:
        self._advance(ch, "refuse")  # after a confirmation: 1023
        ch.failure_reason = r.uint32()
        ch.failure_description = r.text()
        self._emit(ChannelOpenFailed(ch.local_id, ch.failure_reason, ch.failure_description))
        if ch.abandoned:
            self.forget(ch.local_id)

    def _on_close(self, ch: ChannelState) -> None:
        ch.closed_by_server = not ch.close_sent
        self._advance(ch, "recv_close")  # a duplicate is a 1023
        if not ch.close_sent:
            self._advance(ch, "send_close")
            self._send_close(ch)
        self._emit(ChannelClosed(ch.local_id))
        if ch.abandoned:
            self.forget(ch.local_id)

    def _on_channel_request(self, ch: ChannelState, r: Reader, payload: bytes) -> None:
        request_type = r.text()
        want_reply = r.boolean()
        if request_type == "exit-status":
            ch.exit_status = r.uint32()
        elif request_type == "exit-signal":
            ch.exit_signal = r.text()
            r.boolean()
            ch.exit_message = r.text()
        self._emit(ChannelRequestReceived(ch.local_id, request_type, want_reply, payload))

    def reply_channel_request(self, local_id: int, success: bool) -> None:
        ch = self.get(local_id)
        if ch.close_sent:
            return
        msg = c.MSG_CHANNEL_SUCCESS if success else c.MSG_CHANNEL_FAILURE
        self.transport.send(Writer().byte(msg).uint32(ch.remote_id).getvalue())

    def _on_global_request(self, r: Reader) -> None:
        request_type = r.text()
        want_reply = r.boolean()
        # keepalive@openssh.com and anything else we do not serve: refuse.
        if want_reply:
            self.transport.send(bytes([c.MSG_REQUEST_FAILURE]))
        _ = request_type

    def _on_channel_open(self, r: Reader) -> None:
        channel_type = r.text()
        sender = r.uint32()
        window = r.uint32()
        max_packet = r.uint32()
        local_id = self._allocate_id()
        ch = ChannelState(local_id, channel_type, remote_id=sender, server_initiated=True)
        self.channels[local_id] = ch
        self._incoming_open[local_id] = (sender, window, max_packet)
        # the type-specific part (e.g. forwarded-tcpip: address, port, origin, port)
        self._emit(ChannelOpenRequested(local_id, channel_type, r.rest()))

    def answer_channel_open(self, local_id: int, accept: bool,
                            reason: int = c.OPEN_ADMINISTRATIVELY_PROHIBITED,
                            description: str = "refused by the client") -> None:
        ch = self.get(local_id)
        sender, window, max_packet = self._incoming_open.pop(local_id)
        if accept:
            self._add_to_table(local_id)
            self.table.confirm(local_id, sender, window, max(1, min(max_packet, 1 << 20)))
            self._advance(ch, "confirm")
            self.transport.send(
                Writer().byte(c.MSG_CHANNEL_OPEN_CONFIRMATION).uint32(sender).uint32(local_id)
                .uint32(self.window_size).uint32(self.max_packet).getvalue())
        else:
            self._advance(ch, "refuse")
            del self.channels[local_id]
            self.transport.send(
                Writer().byte(c.MSG_CHANNEL_OPEN_FAILURE).uint32(sender).uint32(reason)
                .string(description.encode()).string(b"").getvalue())

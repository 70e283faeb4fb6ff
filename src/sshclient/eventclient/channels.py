"""Per-channel state of the spec adapter and its receive framing.

Framing (RecordLength, ChannelDataEOL + MaxChannelDataLength) decides how
the bytes buffered in the compiled channel table are cut into
on_ssh_channel_data events. The cutting happens in C
(`ChannelTable.read_record` / `read_line`), straight from the channel's
buffer; this class only holds the settings and walks the rules:

- RecordLength > 0: events of exactly record_length bytes (eol_found True).
- ChannelDataEOL non-empty and MaxChannelDataLength > 0: an event per line,
  the EOL stripped (eol_found True), or max_length bytes when no EOL starts
  within them (eol_found False).
- otherwise: everything buffered, as it comes (eol_found True).

Settings are re-read for every piece, so a handler may change them (e.g.
change_record_length) and the next piece follows the new value. stdout and
stderr are framed separately: a record or line never mixes the two.

A partial piece stays in the table's buffer and keeps holding window. A
piece bigger than the window can never complete; when the whole window is
held (`window_stalled`), what is there is handed out as it is (eol_found
False) so the peer may send again: framing never deadlocks. At close the
remainder is flushed the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..operations import ChannelHandle

# (data, eol_found) -> fire one event
Deliver = Callable[[bytes, bool], None]

_STREAMS = (0, 1)  # data (stdout), extended data type 1 (stderr)


@dataclass
class SpecChannel:
    handle: ChannelHandle
    service: str
    eol: bytes = b""
    max_length: int = 0
    record_length: int = 0
    bytes_sent: int = 0
    ready_to_send: bool = False
    eol_found: bool = False
    eof_reported: bool = False
    closed: bool = False

    @property
    def local_id(self) -> int:
        return self.handle.id

    @property
    def channel_id(self) -> str:
        return str(self.handle.id)

    def deliver(self, fire: Deliver) -> None:
        """Fire an event for every whole piece buffered."""
        handle = self.handle
        for stream in _STREAMS:
            # the handler may close the channel or change settings: re-check
            while handle.buffered:
                piece = self._next_piece(stream)
                if piece is None:
                    break
                self.eol_found = piece[1]
                fire(*piece)
        if handle.buffered and handle.window_stalled():
            self.flush(fire)  # a piece longer than the window: hand it out

    def _next_piece(self, stream: int) -> tuple[bytes, bool] | None:
        handle = self.handle
        if self.record_length > 0:
            record = handle.read_record(self.record_length, stream)
            return None if record is None else (record, True)
        if self.eol and self.max_length > 0:
            return handle.read_line(bytes(self.eol), self.max_length, stream)
        data = handle.read(-1, stream)
        return (data, True) if data else None

    def flush(self, fire: Deliver) -> None:
        """Hand over whatever framing still holds (at close, or when stalled)."""
        for stream in _STREAMS:
            if not self.handle.buffered:
                return
            data = self.handle.read(-1, stream)
            if data:
                self.eol_found = False
                fire(data, False)

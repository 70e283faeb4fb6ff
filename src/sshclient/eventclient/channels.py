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
    from sshcore.channels import ChannelTable

# (data, eol_found) -> fire one event
Deliver = Callable[[bytes, bool], None]

_STREAMS = (0, 1)  # data (stdout), extended data type 1 (stderr)


@dataclass
class SpecChannel:
    local_id: int
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
    def channel_id(self) -> str:
        return str(self.local_id)

    def deliver(self, table: ChannelTable, fire: Deliver) -> None:
        """Fire an event for every whole piece buffered in `table`."""
        lid = self.local_id
        for stream in _STREAMS:
            # the handler may close the channel or change settings: re-check
            while lid in table:
                piece = self._next_piece(table, stream)
                if piece is None:
                    break
                self.eol_found = piece[1]
                fire(*piece)
        if lid in table and table.window_stalled(lid):
            self.flush(table, fire)  # a piece longer than the window: hand it out

    def _next_piece(self, table: ChannelTable, stream: int) -> tuple[bytes, bool] | None:
        lid = self.local_id
        if self.record_length > 0:
            record = table.read_record(lid, self.record_length, stream)
            return None if record is None else (record, True)
        if self.eol and self.max_length > 0:
            return table.read_line(lid, bytes(self.eol), self.max_length, stream)
        data = table.read(lid, -1, stream)
        return (data, True) if data else None

    def flush(self, table: ChannelTable, fire: Deliver) -> None:
        """Hand over whatever framing still holds (at close, or when stalled)."""
        for stream in _STREAMS:
            if self.local_id not in table:
                return
            data = table.read(self.local_id, -1, stream)
            if data:
                self.eol_found = False
                fire(data, False)

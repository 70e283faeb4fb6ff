"""Per-channel state of the spec adapter and its receive framing.

Framing (RecordLength, ChannelDataEOL + MaxChannelDataLength) decides how
the bytes read from the compiled channel buffer are cut into
on_ssh_channel_data events.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

# (data, eol_found) -> fire one event
Deliver = Callable[[bytes, bool], None]


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
    pending: bytearray = field(default_factory=bytearray)
    eof_reported: bool = False
    closed: bool = False

    @property
    def channel_id(self) -> str:
        return str(self.local_id)

    def deliver(self, data: bytes, fire: Deliver) -> None:
        """Cut `data` into events as the channel's framing settings say."""
        if self.record_length > 0:
            self._deliver_records(data, fire)
        elif self.eol and self.max_length > 0:
            self._deliver_lines(data, fire)
        else:
            if self.pending:  # framing was switched off: flush what was held
                data = bytes(self.pending) + data
                self.pending.clear()
            self.eol_found = True
            fire(data, True)

    def _deliver_records(self, data: bytes, fire: Deliver) -> None:
        self.pending += data
        # record_length may change inside the handler: re-read it every round
        while self.record_length > 0 and len(self.pending) >= self.record_length:
            size = self.record_length
            record = bytes(self.pending[:size])
            del self.pending[:size]
            self.eol_found = True
            fire(record, True)

    def _deliver_lines(self, data: bytes, fire: Deliver) -> None:
        self.pending += data
        while self.eol and self.max_length > 0 and self.pending:
            index = self.pending.find(self.eol)
            if 0 <= index <= self.max_length:
                line = bytes(self.pending[:index])
                del self.pending[: index + len(self.eol)]
                self.eol_found = True
                fire(line, True)
            elif len(self.pending) >= self.max_length:
                chunk = bytes(self.pending[: self.max_length])
                del self.pending[: self.max_length]
                self.eol_found = False
                fire(chunk, False)
            else:
                break

    def flush(self, fire: Deliver) -> None:
        """At EOF/close, hand over whatever framing still holds."""
        if self.pending:
            data = bytes(self.pending)
            self.pending.clear()
            self.eol_found = False
            fire(data, False)

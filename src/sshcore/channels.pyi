"""Per-channel windows and receive buffers; CHANNEL_DATA is routed here in C."""
from typing import List, Optional, Tuple, Union

_WBuf = Union[bytearray, memoryview]

class WindowSink:
    """What sends WINDOW_ADJUST for a ChannelTable: the PacketEngine (C API only)."""

class ChannelTable:
    def __init__(self) -> None: ...
    def add(self, local_id: int, local_window: int, local_max_packet: int) -> None:
        """Register before sending CHANNEL_OPEN. ValueError if the id exists."""
    def confirm(self, local_id: int, remote_id: int, remote_window: int,
                remote_max_packet: int) -> None:
        """On OPEN_CONFIRMATION; data for the channel is routed from now on."""
    def remove(self, local_id: int) -> None:
        """Forget the channel and its unread data; no-op if unknown."""
    def __contains__(self, local_id: object, /) -> bool: ...
    def __len__(self) -> int: ...
    def ids(self) -> List[int]: ...
    def available(self, local_id: int, stream: int = 0) -> int:
        """Buffered bytes; stream 0 = data, 1 = extended data type 1 (stderr)."""
    def read(self, local_id: int, max_bytes: int = -1, stream: int = 0) -> bytes:
        """Take buffered bytes (all if max_bytes < 0); may queue a WINDOW_ADJUST."""
    def read_into(self, local_id: int, buf: _WBuf, stream: int = 0) -> int: ...
    def skip(self, local_id: int, max_bytes: int = -1, stream: int = 0) -> int:
        """Consume buffered bytes without copying them; returns the count."""
    def write_to(self, local_id: int, fd: int, max_bytes: int = -1, stream: int = 0) -> int:
        """One write(2) from the channel buffer to fd (GIL released); returns
        the bytes written and consumed (0 if none or EAGAIN); OSError on errors."""
    def read_record(self, local_id: int, size: int, stream: int = 0) -> Optional[bytes]:
        """Take exactly `size` (> 0) bytes, or None (nothing taken) while fewer
        are buffered. The partial record keeps holding window."""
    def read_line(self, local_id: int, eol: bytes, max_length: int,
                  stream: int = 0) -> Optional[Tuple[bytes, bool]]:
        """(bytes before the first `eol`, True) with the EOL consumed, if one
        starts within max_length bytes; else (max_length bytes, False) once
        that many are buffered; else None (nothing taken)."""
    def window_stalled(self, local_id: int) -> bool:
        """The whole window is buffered and unread: the peer can send nothing
        until something is read. A framed reader that got None must then hand
        out what is held (plain read)."""
    def remote_window(self, local_id: int) -> int: ...
    def remote_max_packet(self, local_id: int) -> int: ...
    def local_window(self, local_id: int) -> int:
        """What the peer may still send before our next WINDOW_ADJUST."""
    def max_window(self, local_id: int) -> int: ...
    def local_max_packet(self, local_id: int) -> int: ...
    def is_confirmed(self, local_id: int) -> bool: ...
    def set_window_policy(self, local_id: int, max_window: int) -> None:
        """Grow the window kept advertised; ValueError if smaller than now."""
    def set_window_growth(self, local_id: int, limit: int) -> None:
        """Let the window double, up to `limit`, when grow_windows() finds it
        limits the transfer; a limit <= the window turns it off."""
    def grow_windows(self, elapsed: float, rtt: float) -> int:
        """Once per growth period: double each window that held its transfer
        back (a third of it or more received per round trip, reader keeping
        up), up to its limit; returns how many grew."""
    def mark_eof_sent(self, local_id: int) -> None: ...
    def mark_close_sent(self, local_id: int) -> None: ...
    def discard(self, local_id: int, n: int) -> None:
        """Extended data of a type not kept: checked and re-advertised like data
        that was read; ProtocolError (1022) if it breaks the window or EOF."""
    def mark_eof_received(self, local_id: int) -> None:
        """Further data from the peer is then ProtocolError(1022)."""
    def mark_close_received(self, local_id: int) -> None: ...
    def take_dirty(self) -> List[int]:
        """Ids that received data or window since the last call."""
    def total_buffered(self) -> int: ...

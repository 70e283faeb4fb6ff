"""SSH binary packet protocol (RFC 4253 §6), sans-IO."""
from typing import Optional, Tuple, Union

from sshcore.channels import ChannelTable, WindowSink
from sshcore.errors import ProtocolError as ProtocolError

_Bytes = Union[bytes, bytearray, memoryview]

DISCONNECT_PROTOCOL_ERROR: int
DISCONNECT_MAC_ERROR: int
DISCONNECT_COMPRESSION_ERROR: int

def compression_available() -> bool:
    """True when zlib was resolved: "zlib" and "zlib@openssh.com" can run."""

class PacketEngine(WindowSink):
    def __init__(self, channels: Optional[ChannelTable] = None,
                 max_packet_length: int = 256 * 1024 + 1024,
                 recv_buffer_limit: int = 8 << 20) -> None: ...
    @property
    def channels(self) -> ChannelTable: ...
    seq_in: int
    seq_out: int
    @property
    def bytes_in(self) -> int: ...
    @property
    def bytes_out(self) -> int: ...
    @property
    def packets_in(self) -> int: ...
    @property
    def packets_out(self) -> int: ...
    @property
    def packets_fused(self) -> int:
        """Packets decrypted straight into a channel buffer (no copy)."""
    @property
    def max_packet_length(self) -> int: ...
    @property
    def recv_buffer_limit(self) -> int: ...
    @property
    def outgoing_cipher(self) -> str: ...
    @property
    def incoming_cipher(self) -> str: ...
    routing: bool
    """False: every packet, channel data included, is returned (key re-exchange)."""
    data_blocked: bool
    """True: send_channel_data() returns 0 and WINDOW_ADJUSTs are deferred
    until it is set back to False (key re-exchange)."""

    def set_outgoing(self, cipher: str, key: Optional[_Bytes], iv: Optional[_Bytes],
                     mac: Optional[str], mac_key: Optional[_Bytes]) -> None: ...
    def set_incoming(self, cipher: str, key: Optional[_Bytes], iv: Optional[_Bytes],
                     mac: Optional[str], mac_key: Optional[_Bytes]) -> None: ...
    def set_outgoing_compression(self, enabled: bool) -> None:
        """Compress every payload sent from now on with a fresh zlib stream,
        or stop compressing."""
    def set_incoming_compression(self, enabled: bool) -> None:
        """Inflate every payload received from now on with a fresh zlib
        stream, or stop."""
    @property
    def outgoing_compression(self) -> bool: ...
    @property
    def incoming_compression(self) -> bool: ...
    @property
    def compression_counters(self) -> Tuple[int, int, int, int]:
        """(bytes inflated from, bytes inflated to, bytes deflated from,
        bytes deflated to), payloads only, since the engine was made."""
    def reset_outgoing_sequence(self) -> None: ...
    def reset_incoming_sequence(self) -> None: ...
    def reset_counters(self) -> None: ...

    def recv_buffer(self, size_hint: int = 65536) -> memoryview:
        """Writable view for sock.recv_into().  Empty when recv_buffer_limit
        bytes wait unprocessed: run next_packet() first (never pass an empty
        view to recv_into: it returns 0, which reads as EOF)."""
    def recv_commit(self, n: int) -> None: ...
    def feed(self, data: _Bytes) -> None:
        """Append received bytes (copied); the limit does not apply, the
        caller already holds them."""
    def next_packet(self) -> Optional[Tuple[int, bytes]]:
        """(msg_type, payload incl. the type byte) of the next packet not routed
        in C, or None.  Stops right after a returned packet."""
    def pending_input(self) -> int: ...

    def send_packet(self, payload: _Bytes) -> None: ...
    def send_channel_data(self, local_id: int, data: _Bytes, ext: int = 0) -> int:
        """Bytes consumed (0 if no window, data_blocked, unconfirmed or EOF/CLOSE sent)."""
    def output_size(self) -> int: ...
    def output_view(self) -> memoryview:
        """Read-only view of pending output.  Valid until the next mutating
        call; the memory stays alive (and unchanged) while the view exists."""
    def output_consume(self, n: int) -> None: ...
    def take_output(self) -> bytes: ...

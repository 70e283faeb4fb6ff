# The contract between channels.pyx and packet.pyx: the engine routes
# CHANNEL_DATA / WINDOW_ADJUST into the table with these nogil calls, and the
# table asks its WindowSink (the engine) to send WINDOW_ADJUST packets.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    RT_NOT_ROUTED = 0      # unknown / unconfirmed channel: hand to Python
    RT_ROUTED = 1
    RT_VIOLATION = -1      # beyond the window, after EOF/CLOSE, overflow (1022)
    RT_NOMEM = -2
    SLOT_HEAD = 10         # CHANNEL_DATA plaintext before its data: padding
                           # length, type, recipient, data length

cdef struct Stream:
    uint8_t* buf
    size_t cap, start, end
    # read_line's memory, so a long unterminated line is searched once, not
    # once per packet: the first `scanned` live bytes start no match of eol.
    size_t scanned
    uint8_t* eol                # private copy of the last EOL searched for
    size_t eol_len

cdef struct Chan:
    uint32_t local_id, remote_id
    uint32_t local_window       # bytes the peer may still send us
    uint32_t max_window         # window policy: what we top the window up to
    uint32_t grow_limit         # max_window may double up to this (see grow_windows)
    int adjust_shift            # adjust once max_window >> this is free (see _maybe_adjust)
    uint32_t local_max_packet
    uint32_t remote_window      # bytes we may still send
    uint32_t remote_max_packet
    uint64_t buffered           # both streams
    bint confirmed, eof_sent, close_sent, eof_received, close_received, dirty
    bint waiting                # a framed read found no whole piece: what is
                                # buffered is held, not slow-read (see _maybe_adjust)
    uint64_t received           # data bytes ever admitted (the link's rate, see grow_windows)
    uint64_t received_mark      # `received` at the start of the growth period
    Stream streams[2]           # 0 = data (stdout), 1 = extended data type 1 (stderr)


cdef class WindowSink:
    # Append CHANNEL_WINDOW_ADJUST; 1 = sent, 0 = deferred (key re-exchange).
    cdef int _emit_window_adjust(self, uint32_t remote_id, uint32_t amount) except -1


cdef class ChannelTable:
    cdef Chan** _slots          # open addressing, linear probing, power of two
    cdef size_t _mask
    cdef size_t _count          # live entries
    cdef size_t _used           # live + tombstones
    cdef Chan* _last            # one-entry cache: bulk data goes to one channel
    cdef uint32_t* _dirty
    cdef size_t _ndirty, _dirty_cap
    cdef uint64_t _total
    cdef WindowSink _sink
    cdef public bint _busy      # set by the engine while it runs without the GIL
    cdef const char* err

    cdef Chan* _find(self, uint32_t local_id) noexcept nogil
    cdef Chan* _get(self, object local_id) except NULL
    cdef int _check(self) except -1
    cdef int _grow(self) except -1
    cdef int _mark_dirty(self, Chan* c) noexcept nogil
    cdef int route_data(self, uint32_t local_id, int stream, const uint8_t* data,
                        size_t n) noexcept nogil
    cdef int route_adjust(self, uint32_t local_id, uint32_t n) noexcept nogil
    cdef uint8_t* data_slot(self, uint32_t local_id, size_t n) noexcept nogil
    cdef int commit_data(self, uint32_t local_id, size_t n) noexcept nogil
    cdef Chan* _admit(self, uint32_t local_id, size_t n, int* rc) noexcept nogil
    cdef int _added(self, Chan* c, size_t n) noexcept nogil
    cdef int _consumed(self, Chan* c, Stream* s, size_t n) except -1
    cdef int _maybe_adjust(self, Chan* c) except -1
    cdef int _wait(self, Chan* c) except -1
    cdef Stream* _stream(self, Chan* c, int stream) except NULL
    cdef int flush_adjusts(self) except -1
    cdef int attach(self, WindowSink sink) except -1

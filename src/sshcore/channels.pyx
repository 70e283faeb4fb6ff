# cython: language_level=3
"""Channel flow control and per-channel receive buffers (RFC 4254 §5.1-5.2).

The packet engine routes CHANNEL_DATA, EXTENDED_DATA (type 1) and
WINDOW_ADJUST for confirmed channels straight into this table, in C, without
creating Python objects; everything else about channels (open, requests,
EOF/CLOSE messages) is Python's business.

Flow control is the memory bound: a channel never buffers more than its
window, because data beyond the window is a protocol violation (1022).
Reading consumes buffered bytes; the window is topped up again with one
WINDOW_ADJUST once at least half of max_window (an eighth, once the window
has grown on a long link) is waiting to be re-advertised, so a slow reader
throttles the peer instead of growing memory, and a fast one costs one small
packet per half window.

Framing (read_record, read_line) cuts records or EOL-terminated lines
straight out of a stream's buffer: the search and the copy are C loops over
the live bytes, and only the piece handed out becomes a Python object. Bytes
waiting for the rest of their record or line stay buffered and keep holding
window. A framed read that finds no whole piece marks the channel as
waiting: from then on the window is topped up once the gap reaches half of
the space *not* held (instead of half of max_window), so a piece of up to
max_window bytes always completes; at the next successful read the normal
batching applies again. A piece longer than max_window (or two streams each
holding part of the window) cannot complete: then the whole window is
buffered and `window_stalled()` says so, and the caller must hand out what
is held (plain read) to make room. Framing therefore never deadlocks.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy, memmove

from libc.string cimport strerror

# Misuse is refused with the library's own errors, each also the built-in
# it used to be; a window violation is the peer's protocol error.
from sshcore.errors import (ConcurrentUseError, InvalidArgumentError, ProtocolError,
                            UnknownChannelError)

cdef extern from *:
    """
    #include <errno.h>
    #ifdef _WIN32
    #include <io.h>
    static Py_ssize_t sshcore_write(int fd, const void* p, size_t n, int* err) {
        int r = _write(fd, p, (unsigned int)(n > 0x40000000u ? 0x40000000u : n));
        if (r < 0) *err = errno;
        return r;
    }
    #else
    #include <unistd.h>
    static Py_ssize_t sshcore_write(int fd, const void* p, size_t n, int* err) {
        ssize_t r;
        do { r = write(fd, p, n); } while (r < 0 && errno == EINTR);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;  /* full */
        if (r < 0) *err = errno;
        return (Py_ssize_t)r;
    }
    #endif
    """
    Py_ssize_t sshcore_write(int fd, const void* p, size_t n, int* err) noexcept nogil

cdef size_t WRITE_MAX = 1 << 30
# A window adjust goes out once half the window is free again. An eighth
# keeps the peer's credit fuller on a long link (the credit on its way back
# plus what waits to be re-advertised must fit in the window: with half,
# a window-bound transfer moves 0.5-0.75 of the window per round trip, with
# an eighth up to ~0.9) but cost the local tunnel ~10-25% (more adjusts each
# way; bench/compare.py). So an eighth only once a window has grown, which
# only happens on a long link (grow_windows).
cdef int ADJUST_SHIFT = 1
cdef int GROWN_ADJUST_SHIFT = 3
# grow_windows: a channel that received at least this share of its window per
# round trip is held back by it (a window-bound transfer moves ~0.5-0.8 of it).
cdef double GROW_FRACTION_NUM = 1.0
cdef double GROW_FRACTION_DEN = 3.0

cdef Chan _tomb_storage
cdef Chan* TOMB = &_tomb_storage      # deleted slot marker for linear probing
cdef size_t MIN_STREAM_CAP = 16384


cdef inline size_t _slot(uint32_t key, size_t mask) noexcept nogil:
    # Fibonacci hashing: sequential ids spread over the table.
    return <size_t> ((<uint64_t> key * 0x9E3779B97F4A7C15ULL) >> 32) & mask


cdef int _stream_reserve(Stream* s, size_t n, size_t head) noexcept nogil:
    """Make n free bytes after the end, with at least `head` bytes of buffer
    before it (live or not), compacting or growing; -1 on allocation failure."""
    cdef size_t live = s.end - s.start
    cdef size_t need = head + live + n
    cdef size_t newcap
    cdef uint8_t* nb
    if s.end >= head and s.cap - s.end >= n:
        return 0
    if live == 0 and s.cap >= need:
        s.start = s.end = head              # nothing to move
    elif s.cap >= 2 * need:
        # The tail filled while half the buffer was already read: moving
        # the live part costs no more than what was consumed since.
        memmove(s.buf + head, s.buf + s.start, live)
        s.start = head
        s.end = head + live
    else:
        newcap = 2 * need
        if newcap < MIN_STREAM_CAP:
            newcap = MIN_STREAM_CAP
        nb = <uint8_t*> malloc(newcap)
        if nb == NULL:
            return -1
        if live:
            memcpy(nb + head, s.buf + s.start, live)
        free(s.buf)
        s.buf = nb
        s.cap = newcap
        s.start = head
        s.end = head + live
    return 0


cdef int _stream_append(Stream* s, const uint8_t* data, size_t n) noexcept nogil:
    """Append, compacting or growing; -1 on allocation failure."""
    if _stream_reserve(s, n, 0) < 0:
        return -1
    memcpy(s.buf + s.end, data, n)
    s.end += n
    return 0


cdef void _stream_consumed(Stream* s, size_t n) noexcept nogil:
    s.start += n
    s.scanned = s.scanned - n if s.scanned > n else 0
    if s.start == s.end:
        s.start = s.end = 0


cdef void _stream_free(Stream* s) noexcept nogil:
    free(s.buf)
    free(s.eol)


cdef Py_ssize_t _find(const uint8_t* hay, size_t n, const uint8_t* needle,
                      size_t m) noexcept nogil:
    """Offset of the first needle[:m] (m >= 1) in hay[:n], or -1.

    memchr finds candidates for the first byte, memcmp checks the rest: any
    bytes, NULs included. Portable where memmem is not (Windows)."""
    cdef const uint8_t* p = hay
    cdef const uint8_t* last
    cdef uint8_t first = needle[0]
    if n < m:
        return -1
    last = hay + (n - m)                # the last place a match can start
    while p <= last:
        p = <const uint8_t*> memchr(p, first, <size_t> (last - p) + 1)
        if p == NULL:
            return -1
        if m == 1 or memcmp(p + 1, needle + 1, m - 1) == 0:
            return p - hay
        p += 1
    return -1


cdef class WindowSink:
    """Whatever can send WINDOW_ADJUST: the PacketEngine derives from this."""

    cdef int _emit_window_adjust(self, uint32_t remote_id, uint32_t amount) except -1:
        return 0


cdef class ChannelTable:
    """Channels by local id: windows, remote limits, received data."""

    def __cinit__(self):
        self._slots = <Chan**> calloc(16, sizeof(Chan*))
        if self._slots == NULL:
            raise MemoryError()
        self._mask = 15
        self._dirty_cap = 16
        self._dirty = <uint32_t*> malloc(16 * sizeof(uint32_t))
        if self._dirty == NULL:
            raise MemoryError()
        self.err = NULL

    def __dealloc__(self):
        cdef size_t i
        cdef Chan* c
        if self._slots != NULL:
            for i in range(self._mask + 1):
                c = self._slots[i]
                if c != NULL and c != TOMB:
                    _stream_free(&c.streams[0])
                    _stream_free(&c.streams[1])
                    free(c)
            free(self._slots)
        free(self._dirty)

    # ------------------------------------------------------------ internals

    cdef Chan* _find(self, uint32_t local_id) noexcept nogil:
        cdef Chan* c = self._last
        if c != NULL and c.local_id == local_id:
            return c
        cdef size_t i = _slot(local_id, self._mask)
        while True:
            c = self._slots[i]
            if c == NULL:
                return NULL
            if c != TOMB and c.local_id == local_id:
                self._last = c
                return c
            i = (i + 1) & self._mask

    cdef Chan* _get(self, object local_id) except NULL:
        cdef Chan* c
        try:
            c = self._find(<uint32_t> local_id)
        except OverflowError:
            c = NULL
        if c == NULL:
            raise UnknownChannelError("no open channel %r" % (local_id,))
        return c

    cdef int _check(self) except -1:
        if self._busy:
            raise ConcurrentUseError("one SSH connection was used from two threads at once")
        return 0

    cdef int _grow(self) except -1:
        """Rehash into a table twice the live size (drops tombstones)."""
        cdef size_t newsize = 16, i, j
        cdef Chan** ns
        cdef Chan* c
        while newsize < 4 * (self._count + 1):
            newsize *= 2
        ns = <Chan**> calloc(newsize, sizeof(Chan*))
        if ns == NULL:
            raise MemoryError()
        for i in range(self._mask + 1):
            c = self._slots[i]
            if c != NULL and c != TOMB:
                j = _slot(c.local_id, newsize - 1)
                while ns[j] != NULL:
                    j = (j + 1) & (newsize - 1)
                ns[j] = c
        free(self._slots)
        self._slots = ns
        self._mask = newsize - 1
        self._used = self._count
        return 0

    cdef int _mark_dirty(self, Chan* c) noexcept nogil:
        cdef uint32_t* nd
        if c.dirty:
            return 0
        if self._ndirty == self._dirty_cap:
            nd = <uint32_t*> realloc(self._dirty, 2 * self._dirty_cap * sizeof(uint32_t))
            if nd == NULL:
                return -1
            self._dirty = nd
            self._dirty_cap *= 2
        self._dirty[self._ndirty] = c.local_id
        self._ndirty += 1
        c.dirty = True
        return 0

    cdef int attach(self, WindowSink sink) except -1:
        if self._sink is not None and self._sink is not sink:
            raise InvalidArgumentError("this ChannelTable already belongs to another PacketEngine")
        self._sink = sink
        return 0

    # ------------------------------------------------- routing (engine, nogil)

    cdef int route_data(self, uint32_t local_id, int stream, const uint8_t* data,
                        size_t n) noexcept nogil:
        cdef int rc
        cdef Chan* c = self._admit(local_id, n, &rc)
        if c == NULL:
            return rc
        if _stream_append(&c.streams[stream], data, n) < 0:
            return RT_NOMEM
        return self._added(c, n)

    cdef uint8_t* data_slot(self, uint32_t local_id, size_t n) noexcept nogil:
        """Where the engine may decrypt a CHANNEL_DATA body of n bytes (from
        the padding-length byte on) so that its data lands at the end of the
        channel's stdout buffer: SLOT_HEAD bytes before that end. Those
        bytes may be live: the engine saves and restores them. NULL if the
        channel takes no data or memory is short (the normal path decides)."""
        cdef Chan* c = self._find(local_id)
        cdef Stream* s
        if c == NULL or not c.confirmed or c.eof_received or c.close_received:
            return NULL
        s = &c.streams[0]
        if _stream_reserve(s, n, SLOT_HEAD) < 0:
            return NULL
        return s.buf + s.end - SLOT_HEAD

    cdef int commit_data(self, uint32_t local_id, size_t n) noexcept nogil:
        """The n data bytes decrypted into the last data_slot() become
        buffered data, after the same checks as route_data()."""
        cdef int rc
        cdef Chan* c = self._admit(local_id, n, &rc)
        if c == NULL:
            return rc
        c.streams[0].end += n
        return self._added(c, n)

    cdef Chan* _admit(self, uint32_t local_id, size_t n, int* rc) noexcept nogil:
        """The channel if n > 0 bytes of data may be added to it; else NULL
        with rc = RT_NOT_ROUTED, RT_VIOLATION (self.err says why) or
        RT_ROUTED (nothing to add)."""
        cdef Chan* c = self._find(local_id)
        rc[0] = RT_ROUTED
        if c == NULL or not c.confirmed:
            rc[0] = RT_NOT_ROUTED
        elif c.eof_received or c.close_received:
            self.err = "channel data after EOF/CLOSE"
            rc[0] = RT_VIOLATION
        elif n > c.local_window:
            self.err = "channel data beyond the window"
            rc[0] = RT_VIOLATION
        elif n:
            return c
        return NULL

    cdef int _added(self, Chan* c, size_t n) noexcept nogil:
        c.local_window -= <uint32_t> n
        c.received += n
        c.buffered += n
        self._total += n
        if self._mark_dirty(c) < 0:
            return RT_NOMEM
        return RT_ROUTED

    cdef int route_adjust(self, uint32_t local_id, uint32_t n) noexcept nogil:
        cdef Chan* c = self._find(local_id)
        if c == NULL or not c.confirmed:
            return RT_NOT_ROUTED
        if <uint64_t> c.remote_window + n > 0xFFFFFFFFULL:
            self.err = "window adjust overflows 2^32-1"
            return RT_VIOLATION
        if n == 0:
            return RT_ROUTED
        c.remote_window += n
        if self._mark_dirty(c) < 0:
            return RT_NOMEM
        return RT_ROUTED

    # ------------------------------------------------------ window policy

    cdef int _maybe_adjust(self, Chan* c) except -1:
        cdef uint64_t amount
        if (not c.confirmed or c.close_sent or c.eof_received or c.close_received
                or self._sink is None):
            return 0
        # local_window + buffered <= max_window always holds; the gap is what
        # the application consumed (or the policy added) and we have not
        # re-advertised yet.
        amount = <uint64_t> c.max_window - c.local_window - c.buffered
        if amount == 0:
            return 0
        if c.waiting:
            # Framing holds what is buffered until more arrives: batch on the
            # space that is not held. Once the peer has used its window the
            # whole gap qualifies, so a piece of up to max_window completes.
            if amount < ((<uint64_t> c.max_window - c.buffered) >> 1):
                return 0
        elif amount < (c.max_window >> c.adjust_shift):
            return 0
        if self._sink._emit_window_adjust(c.remote_id, <uint32_t> amount):
            c.local_window += <uint32_t> amount
        return 0

    cdef int flush_adjusts(self) except -1:
        """Send the adjusts deferred while data was blocked (key re-exchange)."""
        cdef size_t i
        cdef Chan* c
        for i in range(self._mask + 1):
            c = self._slots[i]
            if c != NULL and c != TOMB:
                self._maybe_adjust(c)
        return 0

    # ------------------------------------------------------------- Python API

    def add(self, local_id: int, local_window: int, local_max_packet: int) -> None:
        """Register a channel before sending CHANNEL_OPEN with these values."""
        cdef uint32_t lid = local_id, lw = local_window, lmp = local_max_packet
        cdef Chan* c
        cdef size_t i
        self._check()
        if self._find(lid) != NULL:
            raise InvalidArgumentError("channel %d already exists" % lid)
        if (self._used + 1) * 4 > (self._mask + 1) * 3:
            self._grow()
        c = <Chan*> calloc(1, sizeof(Chan))
        if c == NULL:
            raise MemoryError()
        c.local_id = lid
        c.local_window = lw
        c.max_window = lw
        c.adjust_shift = ADJUST_SHIFT
        c.local_max_packet = lmp
        i = _slot(lid, self._mask)
        while self._slots[i] != NULL and self._slots[i] != TOMB:
            i = (i + 1) & self._mask
        if self._slots[i] == NULL:
            self._used += 1
        self._slots[i] = c
        self._count += 1

    def confirm(self, local_id: int, remote_id: int, remote_window: int,
                remote_max_packet: int) -> None:
        """On CHANNEL_OPEN_CONFIRMATION; from now on data for it is routed."""
        self._check()
        cdef Chan* c = self._get(local_id)
        c.remote_id = remote_id
        c.remote_window = remote_window
        c.remote_max_packet = remote_max_packet
        c.confirmed = True

    def remove(self, local_id: int) -> None:
        """Forget a channel and its unread data (no-op if unknown)."""
        self._check()
        cdef Chan* c
        cdef size_t i
        try:
            c = self._get(local_id)
        except KeyError:
            return
        i = _slot(c.local_id, self._mask)
        while self._slots[i] != c:
            i = (i + 1) & self._mask
        self._slots[i] = TOMB
        if self._last == c:
            self._last = NULL
        self._total -= c.buffered
        self._count -= 1
        _stream_free(&c.streams[0])
        _stream_free(&c.streams[1])
        free(c)

    def __contains__(self, local_id) -> bool:
        try:
            return self._find(<uint32_t> local_id) != NULL
        except (OverflowError, TypeError):
            return False

    def __len__(self) -> int:
        return self._count

    def ids(self) -> list:
        """Local ids of all registered channels."""
        cdef size_t i
        cdef Chan* c
        out = []
        for i in range(self._mask + 1):
            c = self._slots[i]
            if c != NULL and c != TOMB:
                out.append(c.local_id)
        return out

    def available(self, local_id: int, int stream=0) -> int:
        """Buffered bytes on stream 0 (data) or 1 (extended data type 1)."""
        cdef Chan* c = self._get(local_id)
        if stream != 0 and stream != 1:
            raise InvalidArgumentError("stream must be 0 or 1")
        return c.streams[stream].end - c.streams[stream].start

    def read(self, local_id: int, Py_ssize_t max_bytes=-1, int stream=0) -> bytes:
        """Take up to max_bytes (all if negative) buffered bytes; b"" if none."""
        self._check()
        cdef Chan* c = self._get(local_id)
        if stream != 0 and stream != 1:
            raise InvalidArgumentError("stream must be 0 or 1")
        cdef Stream* s = &c.streams[stream]
        cdef size_t n = s.end - s.start
        if max_bytes >= 0 and <size_t> max_bytes < n:
            n = <size_t> max_bytes
        if n == 0:
            return b""
        out = PyBytes_FromStringAndSize(<char*> s.buf + s.start, n)
        self._consumed(c, s, n)
        return out

    def read_into(self, local_id: int, buf, int stream=0) -> int:
        """Copy buffered bytes into a writable buffer; returns the count."""
        self._check()
        cdef Chan* c = self._get(local_id)
        if stream != 0 and stream != 1:
            raise InvalidArgumentError("stream must be 0 or 1")
        cdef uint8_t[::1] dst = buf
        cdef Stream* s = &c.streams[stream]
        cdef size_t n = s.end - s.start
        if <size_t> dst.shape[0] < n:
            n = dst.shape[0]
        if n == 0:
            return 0
        memcpy(&dst[0], s.buf + s.start, n)
        self._consumed(c, s, n)
        return n

    def skip(self, local_id: int, Py_ssize_t max_bytes=-1, int stream=0) -> int:
        """Consume up to max_bytes (all if negative) buffered bytes without
        copying them anywhere; returns the count. Discarding a stream this
        way costs no memory traffic at all."""
        self._check()
        cdef Chan* c = self._get(local_id)
        cdef Stream* s = self._stream(c, stream)
        cdef size_t n = s.end - s.start
        if max_bytes >= 0 and <size_t> max_bytes < n:
            n = <size_t> max_bytes
        if n:
            self._consumed(c, s, n)
        return n

    def write_to(self, local_id: int, int fd, Py_ssize_t max_bytes=-1, int stream=0) -> int:
        """One write(2) of buffered bytes straight from the channel buffer to
        `fd` (GIL released); consumes and returns what the write took. 0 if
        nothing is buffered or a non-blocking fd is full; OSError on errors."""
        self._check()
        cdef Chan* c = self._get(local_id)
        cdef Stream* s = self._stream(c, stream)
        cdef size_t n = s.end - s.start
        cdef Py_ssize_t done
        cdef int err = 0
        if max_bytes >= 0 and <size_t> max_bytes < n:
            n = <size_t> max_bytes
        if n == 0:
            return 0
        if n > WRITE_MAX:
            n = WRITE_MAX
        # While busy, the engine refuses to route (it checks this flag), so
        # the buffer cannot move under the write.
        self._busy = True
        with nogil:
            done = sshcore_write(fd, s.buf + s.start, n, &err)
        self._busy = False
        if done < 0:
            raise OSError(err, strerror(err).decode())
        if done:
            self._consumed(c, s, <size_t> done)
        return done

    cdef int _consumed(self, Chan* c, Stream* s, size_t n) except -1:
        _stream_consumed(s, n)
        c.buffered -= n
        self._total -= n
        c.waiting = False
        self._maybe_adjust(c)
        return 0

    cdef int _wait(self, Chan* c) except -1:
        """A framed read found no whole piece: the buffered bytes are held."""
        c.waiting = True
        self._maybe_adjust(c)
        return 0

    cdef Stream* _stream(self, Chan* c, int stream) except NULL:
        if stream != 0 and stream != 1:
            raise InvalidArgumentError("stream must be 0 or 1")
        return &c.streams[stream]

    # ------------------------------------------------------------- framing

    def read_record(self, local_id: int, Py_ssize_t size, int stream=0):
        """Take exactly `size` bytes, or None (nothing taken) while fewer are
        buffered; the partial record stays buffered (see window_stalled)."""
        self._check()
        cdef Chan* c = self._get(local_id)
        cdef Stream* s = self._stream(c, stream)
        if size <= 0:
            raise InvalidArgumentError("record size must be positive")
        if s.end - s.start < <size_t> size:
            self._wait(c)
            return None
        out = PyBytes_FromStringAndSize(<char*> s.buf + s.start, size)
        self._consumed(c, s, <size_t> size)
        return out

    def read_line(self, local_id: int, bytes eol not None, Py_ssize_t max_length,
                  int stream=0):
        """Take the next line: (bytes before the first `eol`, True), the EOL
        consumed and dropped, if it starts within the first max_length bytes;
        else (the first max_length bytes, False) once that many are buffered;
        else None (nothing taken: wait for more data)."""
        self._check()
        cdef Chan* c = self._get(local_id)
        cdef Stream* s = self._stream(c, stream)
        cdef size_t m = len(eol)
        cdef const uint8_t* e = <const uint8_t*> PyBytes_AS_STRING(eol)
        cdef size_t avail, limit, frm
        cdef Py_ssize_t idx = -1
        cdef uint8_t* copy
        if m == 0:
            raise InvalidArgumentError("eol must not be empty")
        if max_length <= 0:
            raise InvalidArgumentError("max_length must be positive")
        avail = s.end - s.start
        if s.eol_len != m or memcmp(s.eol, e, m) != 0:
            copy = <uint8_t*> malloc(m)     # a new EOL: forget what was scanned
            if copy == NULL:
                raise MemoryError()
            memcpy(copy, e, m)
            free(s.eol)
            s.eol = copy
            s.eol_len = m
            s.scanned = 0
        # An EOL starting at or before max_length ends within max_length + m.
        limit = <size_t> max_length + m
        if limit > avail:
            limit = avail
        frm = s.scanned
        if frm + m <= limit:
            idx = _find(s.buf + s.start + frm, limit - frm, e, m)
            if idx >= 0:
                idx += <Py_ssize_t> frm
            else:
                s.scanned = limit - m + 1
        if idx >= 0:
            line = PyBytes_FromStringAndSize(<char*> s.buf + s.start, idx)
            self._consumed(c, s, <size_t> idx + m)
            return line, True
        if avail >= <size_t> max_length:
            line = PyBytes_FromStringAndSize(<char*> s.buf + s.start, max_length)
            self._consumed(c, s, <size_t> max_length)
            return line, False
        self._wait(c)
        return None

    def window_stalled(self, local_id: int) -> bool:
        """True when the whole window is buffered and unread: the peer can send
        nothing more until something is read. A framed reader that got None
        must then hand out what is held (plain read), or wait forever."""
        cdef Chan* c = self._get(local_id)
        return c.local_window == 0 and c.buffered >= c.max_window

    def remote_window(self, local_id: int) -> int:
        return self._get(local_id).remote_window

    def remote_max_packet(self, local_id: int) -> int:
        return self._get(local_id).remote_max_packet

    def local_window(self, local_id: int) -> int:
        """Bytes the peer may still send before our next WINDOW_ADJUST."""
        return self._get(local_id).local_window

    def max_window(self, local_id: int) -> int:
        return self._get(local_id).max_window

    def local_max_packet(self, local_id: int) -> int:
        return self._get(local_id).local_max_packet

    def is_confirmed(self, local_id: int) -> bool:
        return self._get(local_id).confirmed

    def set_window_policy(self, local_id: int, max_window: int) -> None:
        """Raise the window we keep advertising (e.g. toward the bandwidth-delay
        product); it may only grow, as granted window cannot be taken back."""
        self._check()
        cdef Chan* c = self._get(local_id)
        cdef uint32_t mw = max_window
        if mw < c.max_window:
            raise InvalidArgumentError("window policy may only grow (%d < %d)" % (mw, c.max_window))
        c.max_window = mw
        self._maybe_adjust(c)

    def set_window_growth(self, local_id: int, limit: int) -> None:
        """Let the window double, up to `limit`, whenever grow_windows() finds
        that it limits the transfer (toward the bandwidth-delay product).
        A limit at or below the current window turns growth off."""
        self._check()
        cdef Chan* c = self._get(local_id)
        if limit < 0:
            raise InvalidArgumentError("window growth limit must be >= 0")
        # A window is a uint32 (RFC 4254 §5.2): any bigger limit means "the most there is".
        c.grow_limit = <uint32_t> min(limit, 0xFFFFFFFF)

    def grow_windows(self, double elapsed, double rtt) -> int:
        """Once per growth period (`elapsed` seconds, at least a round trip of
        `rtt` seconds): double the window, up to its limit, of each channel
        that the window held back. Returns how many channels grew.

        A receiver cannot see the sender wait (its view of the credit left
        counts the data still in flight), but it can see the rate: a window
        of W lets at most W through per round trip, and with adjusts at half
        the window a transfer held back by it moves about 0.5-0.8 W per round
        trip. So a channel that received GROW_FRACTION of its window per
        round trip or more is taken as held back; a link slower than that
        (its bandwidth-delay product well inside the window) never grows it.
        A slow reader (a quarter of the window or more still buffered) never
        grows it either, so memory stays bounded by what the reader keeps
        up with."""
        self._check()
        cdef size_t i
        cdef Chan* c
        cdef uint64_t got, wanted
        cdef int grown = 0
        if elapsed <= 0 or rtt <= 0:
            return 0
        for i in range(self._mask + 1):
            c = self._slots[i]
            if c == NULL or c == TOMB:
                continue
            got = c.received - c.received_mark
            c.received_mark = c.received
            if (c.grow_limit <= c.max_window or c.buffered >= (c.max_window >> 2)
                    or c.eof_received or c.close_sent):
                continue
            # bytes per round trip, against the share of the window that says "held back"
            if got * rtt * GROW_FRACTION_DEN < <double> c.max_window * elapsed * GROW_FRACTION_NUM:
                continue
            wanted = <uint64_t> c.max_window * 2
            c.max_window = <uint32_t> (wanted if wanted < c.grow_limit else c.grow_limit)
            c.adjust_shift = GROWN_ADJUST_SHIFT
            grown += 1
            self._maybe_adjust(c)
        return grown

    def mark_eof_sent(self, local_id: int) -> None:
        self._check()
        self._get(local_id).eof_sent = True

    def mark_close_sent(self, local_id: int) -> None:
        self._check()
        cdef Chan* c = self._get(local_id)
        c.eof_sent = True
        c.close_sent = True

    def discard(self, local_id: int, n: int) -> None:
        """n bytes of extended data of a type we do not keep (RFC 4254 §5.2: not
        stderr) arrived: they still use the window, so check them like routed data
        and re-advertise the space at once, else the peer stalls for want of window.
        Raises ProtocolError (1022) on a violation."""
        self._check()
        cdef int rc
        cdef Chan* c = self._admit(local_id, n, &rc)
        if rc == RT_VIOLATION:
            raise ProtocolError(1022, self.err.decode())
        if c != NULL:
            c.local_window -= <uint32_t> n
            c.received += n
            self._maybe_adjust(c)

    def mark_eof_received(self, local_id: int) -> None:
        """After the peer's CHANNEL_EOF: more data from it is a violation (1022)."""
        self._check()
        self._get(local_id).eof_received = True

    def mark_close_received(self, local_id: int) -> None:
        self._check()
        cdef Chan* c = self._get(local_id)
        c.eof_received = True
        c.close_received = True

    def take_dirty(self) -> list:
        """Local ids that received data or window since the last call."""
        self._check()
        cdef size_t i
        cdef Chan* c
        out = []
        for i in range(self._ndirty):
            c = self._find(self._dirty[i])
            if c != NULL and c.dirty:
                c.dirty = False
                out.append(c.local_id)
        self._ndirty = 0
        return out

    def total_buffered(self) -> int:
        return self._total

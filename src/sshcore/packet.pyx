# cython: language_level=3, cdivision=True
# cdivision: every divisor here is a block or packet size (never 0), so C
# division keeps the nogil loops free of ZeroDivisionError checks.
"""The SSH binary packet protocol (RFC 4253 §6), sans-IO.

Bytes from the socket go into one growable receive buffer; next_packet()
decrypts and verifies packets in place there, routes bulk channel traffic
into the ChannelTable in C, and hands only the rare other messages to Python.
The send side frames, pads, seals and appends packets to one output buffer
that the transport drains.

Why the loop looks the way it does:
* _pump() is plain C (noexcept nogil): no Python object per packet on the
  CHANNEL_DATA path, and the GIL is released around it when there is enough
  input to make that worthwhile and the cipher is pure C.
* It stops right after any packet it returns, because the caller may change
  keys next (NEWKEYS); nothing after that packet has been touched.
* Errors are sticky on the receive side (the stream position is meaningless
  after a bad packet) but the send side keeps working so the transport can
  still send SSH_MSG_DISCONNECT.
* Compression (zlib, _zlib.pxi) is a side path: a direction with it on has a
  zlib stream pointer, and the only cost to the uncompressed path is testing
  that pointer once per packet.  Compressed payloads are inflated into their
  own buffer (never fused into a channel), capped at max_packet_length.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memmove

from sshcore.buffer cimport Block, new_block
from sshcore.channels cimport (RT_NOMEM, RT_NOT_ROUTED, RT_ROUTED, RT_VIOLATION, SLOT_HEAD, Chan,
                               ChannelTable, WindowSink)
from sshcore.crypto cimport CR_BAD_MAC, CR_OK, PacketCipher, make_cipher, random_bytes

cdef enum:
    MSG_CHANNEL_WINDOW_ADJUST = 93
    MSG_CHANNEL_DATA = 94
    MSG_CHANNEL_EXTENDED_DATA = 95
    # Upper bound of framing around a payload: length 4 + padlen 1 + padding
    # (<= block + 3) + MAC (<= 64) + an extended-data header, rounded up.
    OVERHEAD = 128
    # Below this much work the GIL round trip costs more than it frees.
    NOGIL_MIN = 8192
    # Largest data chunk per CHANNEL_DATA packet whatever the peer's maximum
    # says: OpenSSH refuses packets over 256 KiB.
    MAX_SEND_DATA = 256 * 1024 - 1024
    ERR_NOMEM = -1
    # Smallest packet decrypted straight into a channel buffer: below it
    # the copy saved is too small to matter.
    FUSE_MIN = 1024
    SEAL_TO_MIN = 1024  # the same for sealing from a scratch buffer
    FUSE_NO = 0         # not tried: open in place
    FUSE_OPENED = 1     # opened, plaintext back at p + 4: carry on as usual
    FUSE_ROUTED = 2     # opened and buffered as channel data

include "_zlib.pxi"

# The core's errors are the library's: a user's `except SSHClientError`
# catches what the packet layer raises too.
from sshcore.errors import (DISCONNECT_COMPRESSION_ERROR, DISCONNECT_MAC_ERROR,
                            DISCONNECT_PROTOCOL_ERROR, ConcurrentUseError,
                            InvalidArgumentError, ProtocolError, UsageError)


cdef inline void _be32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = <uint8_t> (v >> 24)
    p[1] = <uint8_t> (v >> 16)
    p[2] = <uint8_t> (v >> 8)
    p[3] = <uint8_t> v


cdef inline uint32_t _ld32(const uint8_t* p) noexcept nogil:
    return (<uint32_t> p[0] << 24) | (<uint32_t> p[1] << 16) | (<uint32_t> p[2] << 8) | p[3]


cdef class PacketEngine(WindowSink):
    """See packet.pyi for the contract."""

    def __cinit__(self, *args, **kwargs):
        self._rblk = None
        self._rbuf = NULL
        self._oblk = None
        self._obuf = NULL
        self._err_msg = NULL
        self._rpos = sizeof(self._rpool)    # empty: refill on first use
        self._sbuf = NULL
        self._scap = 0
        self._zin = self._zout = NULL
        self._zibuf = self._zobuf = NULL

    def __dealloc__(self):
        free(self._sbuf)
        _zstream_free(<sshcore_zstream*> self._zin, False)
        _zstream_free(<sshcore_zstream*> self._zout, True)
        free(self._zibuf)
        free(self._zobuf)

    def __init__(self, ChannelTable channels=None, Py_ssize_t max_packet_length=256 * 1024 + 1024,
                 Py_ssize_t recv_buffer_limit=8 << 20):
        if max_packet_length < 1024 or max_packet_length > (64 << 20):
            raise ValueError("max_packet_length out of range")
        if recv_buffer_limit < max_packet_length + 1024:
            raise ValueError("recv_buffer_limit must hold at least one maximum packet")
        self._channels = channels if channels is not None else ChannelTable()
        self._channels.attach(self)
        self._max_packet = <uint32_t> max_packet_length
        self._recv_limit = <size_t> recv_buffer_limit
        self._routing = True
        self._enc = make_cipher("none", None, None, None, None, True)
        self._dec = make_cipher("none", None, None, None, None, False)

    # ------------------------------------------------------------ state

    @property
    def channels(self) -> ChannelTable:
        return self._channels

    @property
    def seq_in(self) -> int:
        return self._seq_in

    @seq_in.setter
    def seq_in(self, value):
        self._seq_in = <uint32_t> (value & 0xFFFFFFFF)

    @property
    def seq_out(self) -> int:
        return self._seq_out

    @seq_out.setter
    def seq_out(self, value):
        self._seq_out = <uint32_t> (value & 0xFFFFFFFF)

    @property
    def bytes_in(self) -> int:
        return self._bytes_in

    @property
    def bytes_out(self) -> int:
        return self._bytes_out

    @property
    def packets_in(self) -> int:
        return self._packets_in

    @property
    def packets_out(self) -> int:
        return self._packets_out

    @property
    def packets_fused(self) -> int:
        """Packets decrypted straight into a channel buffer (no copy)."""
        return self._packets_fused

    @property
    def max_packet_length(self) -> int:
        return self._max_packet

    @property
    def recv_buffer_limit(self) -> int:
        return self._recv_limit

    @property
    def routing(self) -> bool:
        return self._routing

    @routing.setter
    def routing(self, value):
        self._routing = bool(value)

    @property
    def data_blocked(self) -> bool:
        return self._data_blocked

    @data_blocked.setter
    def data_blocked(self, value):
        self._enter()
        cdef bint was = self._data_blocked
        self._data_blocked = bool(value)
        if was and not self._data_blocked:
            self._channels.flush_adjusts()

    @property
    def outgoing_cipher(self) -> str:
        return self._enc.name

    @property
    def incoming_cipher(self) -> str:
        return self._dec.name

    def reset_counters(self) -> None:
        self._bytes_in = self._bytes_out = self._packets_in = self._packets_out = 0

    def reset_outgoing_sequence(self) -> None:
        self._seq_out = 0

    def reset_incoming_sequence(self) -> None:
        self._seq_in = 0

    def set_outgoing(self, str cipher, key, iv, mac, mac_key) -> None:
        self._enter()
        self._enc = make_cipher(cipher, key, iv, mac, mac_key, True)

    def set_incoming(self, str cipher, key, iv, mac, mac_key) -> None:
        self._enter()
        if self._in_have_len and self._dec.hdr_len > 4:
            # The old key already decrypted the start of the next packet.
            raise RuntimeError("set_incoming() in the middle of a packet")
        self._dec = make_cipher(cipher, key, iv, mac, mac_key, False)
        self._in_have_len = False

    # ------------------------------------------------------ compression

    def set_outgoing_compression(self, bint enabled) -> None:
        """Compress every payload sent from now on with a fresh zlib stream,
        or stop compressing.  A fresh stream each time, as RFC 4253 §6.2 and
        OpenSSH do: the context is initialized after each key exchange."""
        self._enter()
        cdef sshcore_zstream* z = NULL
        # One payload: send_packet()'s (<= max_packet_length) or one channel
        # data packet's (<= MAX_SEND_DATA + header), deflated (grows a little).
        cdef size_t most = self._max_packet if self._max_packet > MAX_SEND_DATA + 13 \
            else MAX_SEND_DATA + 13
        cdef size_t cap = most + (most >> 8) + 256
        if enabled:
            if not _have_zlib:
                raise RuntimeError("zlib is not available (compression_available() is False)")
            if self._zobuf == NULL:
                self._zobuf = <uint8_t*> malloc(cap)
                if self._zobuf == NULL:
                    raise MemoryError()
                self._zocap = cap
            z = _zstream_new(True)
            if z == NULL:
                raise MemoryError("deflateInit failed")
        _zstream_free(<sshcore_zstream*> self._zout, True)
        self._zout = z

    def set_incoming_compression(self, bint enabled) -> None:
        """Inflate every payload received from now on with a fresh zlib
        stream (see set_outgoing_compression), or stop."""
        self._enter()
        cdef sshcore_zstream* z = NULL
        if enabled:
            if not _have_zlib:
                raise RuntimeError("zlib is not available (compression_available() is False)")
            if self._in_have_len and self._dec.hdr_len > 4:
                raise RuntimeError("set_incoming_compression() in the middle of a packet")
            if self._zibuf == NULL:
                self._zibuf = <uint8_t*> malloc(self._max_packet + 1)
                if self._zibuf == NULL:
                    raise MemoryError()
            z = _zstream_new(False)
            if z == NULL:
                raise MemoryError("inflateInit failed")
        _zstream_free(<sshcore_zstream*> self._zin, False)
        self._zin = z
        self._fuse = False      # compressed data is never decrypted into a channel

    @property
    def outgoing_compression(self) -> bool:
        return self._zout != NULL

    @property
    def incoming_compression(self) -> bool:
        return self._zin != NULL

    @property
    def compression_counters(self):
        """(bytes inflated from, bytes inflated to, bytes deflated from,
        bytes deflated to), payloads only, since the engine was made."""
        return (self._z_in_wire, self._z_in_plain, self._z_out_plain, self._z_out_wire)

    cdef int _enter(self) except -1:
        if self._busy or (self._channels is not None and self._channels._busy):
            raise ConcurrentUseError("one SSH connection was used from two threads at once")
        return 0

    # ---------------------------------------------------------- receive

    cdef int _recv_reserve(self, size_t want) except -1:
        """Make at least `want` bytes free after _rend (caller checked the cap)."""
        cdef size_t pending = self._rend - self._rstart
        cdef size_t need = pending + want
        cdef size_t newcap
        cdef Block blk
        if self._rcap - self._rend >= want:
            return 0
        if (self._rblk is not None and self._rblk.exports == 0 and self._rcap >= need
                and (self._rcap >= 2 * need or self._rcap >= self._recv_limit)):
            memmove(self._rbuf, self._rbuf + self._rstart, pending)
        else:
            newcap = 2 * need
            if newcap < 65536:
                newcap = 65536
            if newcap > self._recv_limit:
                newcap = need if need > self._recv_limit else self._recv_limit
            blk = new_block(newcap)
            if pending:
                memcpy(blk.data, self._rbuf + self._rstart, pending)
            # A view of the old block may still exist: it keeps it alive.
            self._rblk = blk
            self._rbuf = blk.data
            self._rcap = newcap
        self._rstart = 0
        self._rend = pending
        return 0

    def recv_buffer(self, Py_ssize_t size_hint=65536):
        """Writable memoryview at the tail of the receive buffer."""
        self._enter()
        cdef size_t pending = self._rend - self._rstart
        cdef size_t room, want
        if pending == 0 and (self._rblk is None or self._rblk.exports == 0):
            self._rstart = self._rend = 0
        room = self._recv_limit - pending if self._recv_limit > pending else 0
        if room == 0:
            # Full of input not yet processed: the caller must run
            # next_packet() before reading more. Backpressure, not an error:
            # a peer within its windows can have more than this in flight.
            return memoryview(b"")
        want = <size_t> size_hint if size_hint > 0 else 1
        if want > room:
            want = room
        self._recv_reserve(want)
        if self._rcap - self._rend < room:
            room = self._rcap - self._rend
        return self._rblk.view(self._rend, room, False)

    def recv_commit(self, Py_ssize_t n) -> None:
        """n bytes were written at the start of the last recv_buffer() view."""
        self._enter()
        if n < 0 or <size_t> n > self._rcap - self._rend or \
                self._rend - self._rstart + n > self._recv_limit:
            raise InvalidArgumentError(
                "recv_commit(%d) beyond the buffer returned by recv_buffer()" % n)
        self._rend += n

    def feed(self, data) -> None:
        """Append received bytes (copying)."""
        self._enter()
        cdef Py_buffer view
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            if view.len == 0:
                return
            self._recv_reserve(view.len)
            memcpy(self._rbuf + self._rend, view.buf, view.len)
            self._rend += view.len
        finally:
            PyBuffer_Release(&view)

    def pending_input(self) -> int:
        return self._rend - self._rstart

    cdef int _fail(self, int code, const char* msg) noexcept nogil:
        self._err_code = code
        self._err_msg = msg
        return -1

    cdef int _pump(self) noexcept nogil:
        """Process buffered packets: 1 = a payload for Python is at _res_*,
        0 = need more input, -1 = error in _err_code/_err_msg."""
        cdef uint8_t* p
        cdef size_t avail, total
        cdef uint32_t length, bs
        cdef int rc, pad
        while True:
            p = self._rbuf + self._rstart
            avail = self._rend - self._rstart
            if not self._in_have_len:
                if avail < <size_t> self._dec.hdr_len:
                    return 0
                if self._dec.peek_length(self._seq_in, p, &length) != CR_OK:
                    return self._fail(1015, "(packet length undecryptable)")
                bs = <uint32_t> self._dec.block_size
                if length < 5 or length > self._max_packet:
                    return self._fail(1036, "(bad packet length)")
                if (length if self._dec.len_in_clear else length + 4) % bs:
                    return self._fail(1036, "(packet length not a multiple of the block size)")
                self._in_len = length
                self._in_have_len = True
            length = self._in_len
            total = 4 + <size_t> length + <size_t> self._dec.mac_len
            if avail < total:
                return 0
            rc = FUSE_NO
            if self._fuse and self._routing and length >= FUSE_MIN:
                rc = self._open_fused(p, length)
                if rc < 0:
                    return -1
            if rc == FUSE_NO:
                rc = self._dec.open(self._seq_in, p, 4 + <size_t> length, p + 4 + length)
                if rc != CR_OK:
                    return self._fail(1015, "(MAC/tag mismatch)" if rc == CR_BAD_MAC
                                      else "(decryption failed)")
                rc = FUSE_OPENED
            self._in_have_len = False
            self._rstart += total
            self._seq_in += 1
            self._packets_in += 1
            self._bytes_in += total
            if rc == FUSE_ROUTED:
                self._packets_fused += 1
                continue
            pad = p[4]
            # RFC 4253 §6: at least 4 bytes of padding and a message type byte.
            if pad < 4 or <uint32_t> pad + 2 > length:
                return self._fail(1036, "(bad padding length)")
            if self._zin != NULL:
                rc = self._inflate(p + 5, length - 1 - <uint32_t> pad)
                if rc == 0:
                    continue
                return rc
            if self._routing and MSG_CHANNEL_WINDOW_ADJUST <= p[5] <= MSG_CHANNEL_EXTENDED_DATA:
                rc = self._route(p + 5, length - 1 - <uint32_t> pad)
                if rc == RT_ROUTED:
                    if p[5] == MSG_CHANNEL_DATA:
                        self._fuse = True           # bulk data: try the direct path
                        self._fuse_id = _ld32(p + 6)
                    continue
                if rc != RT_NOT_ROUTED:
                    return -1
            self._res = p + 5
            self._res_len = length - 1 - <uint32_t> pad
            return 1

    cdef int _inflate(self, const uint8_t* src, size_t n) noexcept nogil:
        """The compressed payload src[0:n] of one packet, inflated into
        _zibuf, then routed like _pump() does (never fused): 0 = routed,
        1 = a payload for Python at _res_*, -1 = error.

        The peer flushes its stream at the end of every packet (Z_PARTIAL_FLUSH
        or Z_SYNC_FLUSH), so one call with all the input yields the whole
        payload.  The output is capped at max_packet_length: a packet that
        inflates past it (a zlib bomb) or does not inflate is error 1016."""
        cdef sshcore_zstream* z = <sshcore_zstream*> self._zin
        cdef size_t cap = <size_t> self._max_packet + 1
        cdef size_t out
        cdef int rc
        z.next_in = src
        z.avail_in = <unsigned int> n
        z.next_out = self._zibuf
        z.avail_out = <unsigned int> cap
        rc = z_inflate(z, Z_SYNC_FLUSH)
        if rc != Z_OK and rc != Z_BUF_ERROR:
            return self._fail(1016, "(corrupt compressed data)" if rc != Z_STREAM_END
                              else "(compressed stream ended)")
        out = cap - z.avail_out
        if out >= cap:
            return self._fail(1016, "(payload inflates beyond the maximum packet size)")
        if z.avail_in != 0 or out == 0:
            return self._fail(1016, "(corrupt compressed data)")
        self._z_in_wire += n
        self._z_in_plain += out
        src = self._zibuf
        if self._routing and MSG_CHANNEL_WINDOW_ADJUST <= src[0] <= MSG_CHANNEL_EXTENDED_DATA:
            rc = self._route(src, out)
            if rc == RT_ROUTED:
                return 0
            if rc != RT_NOT_ROUTED:
                return -1
        self._res = src
        self._res_len = out
        return 1

    cdef int _open_fused(self, uint8_t* p, uint32_t length) noexcept nogil:
        """Decrypt the packet at p straight into the buffer of channel
        _fuse_id, betting that it is CHANNEL_DATA for that channel (bulk
        transfers are runs of them): the data then lands where a reader
        takes it, with no copy. A lost bet copies the plaintext back to p + 4
        (FUSE_OPENED). Bytes are committed only after the MAC/tag verified.
        """
        cdef uint8_t saved[SLOT_HEAD]
        cdef uint8_t* dst = self._channels.data_slot(self._fuse_id, length)
        cdef uint32_t pad, n
        cdef int rc
        if dst == NULL:
            self._fuse = False
            return FUSE_NO
        memcpy(saved, dst, SLOT_HEAD)       # live bytes the header overwrites
        rc = self._dec.open_to(self._seq_in, p, 4 + <size_t> length, p + 4 + length, dst)
        if rc != CR_OK:
            memcpy(dst, saved, SLOT_HEAD)
            return self._fail(1015, "(MAC/tag mismatch)" if rc == CR_BAD_MAC
                              else "(decryption failed)")
        pad = dst[0]
        n = length - 1 - pad if pad + 2 <= length else 0
        if (pad >= 4 and n >= 9 and dst[1] == MSG_CHANNEL_DATA
                and _ld32(dst + 2) == self._fuse_id and _ld32(dst + 6) == n - 9):
            memcpy(dst, saved, SLOT_HEAD)
            return FUSE_ROUTED if self._route_result(
                self._channels.commit_data(self._fuse_id, n - 9)) == RT_ROUTED else -1
        # Lost: the usual path takes the packet from here.
        memcpy(p + 4, dst, length)
        memcpy(dst, saved, SLOT_HEAD)
        self._fuse = False
        return FUSE_OPENED

    cdef int _route_result(self, int rc) noexcept nogil:
        if rc == RT_VIOLATION:
            self._fail(1022, self._channels.err)
        elif rc == RT_NOMEM:
            self._fail(ERR_NOMEM, NULL)
        return rc

    cdef int _route(self, const uint8_t* p, size_t n) noexcept nogil:
        """Bulk channel messages for confirmed channels go into the table."""
        cdef int rc
        cdef uint32_t dlen
        if p[0] == MSG_CHANNEL_DATA:
            # byte 94, uint32 recipient, string data
            if n < 9 or _ld32(p + 5) != n - 9:
                return self._fail(1022, "(malformed CHANNEL_DATA)")
            rc = self._channels.route_data(_ld32(p + 1), 0, p + 9, n - 9)
        elif p[0] == MSG_CHANNEL_EXTENDED_DATA:
            # byte 95, uint32 recipient, uint32 data_type_code, string data
            if n < 13 or _ld32(p + 9) != n - 13:
                return self._fail(1022, "(malformed CHANNEL_EXTENDED_DATA)")
            if _ld32(p + 5) != 1:
                return RT_NOT_ROUTED
            rc = self._channels.route_data(_ld32(p + 1), 1, p + 13, n - 13)
        else:
            # byte 93, uint32 recipient, uint32 bytes to add
            if n != 9:
                return self._fail(1022, "(malformed CHANNEL_WINDOW_ADJUST)")
            rc = self._channels.route_adjust(_ld32(p + 1), _ld32(p + 5))
        return self._route_result(rc)

    cdef object _raise_error(self):
        if self._err_code == ERR_NOMEM:
            self._err_code = 0      # not a protocol state problem; may retry
            raise MemoryError()
        msg = (<bytes> self._err_msg).decode() if self._err_msg != NULL else ""
        raise ProtocolError(self._err_code, "%s" % msg.strip("()"))

    def next_packet(self):
        """(msg_type, payload) of the next packet not routed in C, or None."""
        self._enter()
        if self._err_code:
            self._raise_error()
        cdef int rc
        cdef bint nogil_ok = self._dec.nogil_ok and self._rend - self._rstart >= NOGIL_MIN
        self._busy = True
        self._channels._busy = True
        if nogil_ok:
            with nogil:
                rc = self._pump()
        else:
            rc = self._pump()
        self._busy = False
        self._channels._busy = False
        if rc == 1:
            return (self._res[0], PyBytes_FromStringAndSize(<char*> self._res, self._res_len))
        if rc == 0:
            return None
        self._raise_error()

    # ------------------------------------------------------------- send

    cdef int _out_reserve(self, size_t n) except -1:
        """Make at least n bytes free after _oend."""
        cdef size_t pending = self._oend - self._ostart
        cdef size_t need = pending + n
        cdef size_t newcap
        cdef Block blk
        if self._ocap - self._oend >= n:
            return 0
        if self._oblk is not None and self._oblk.exports == 0 and self._ocap >= 2 * need:
            memmove(self._obuf, self._obuf + self._ostart, pending)
        else:
            # Never write over bytes a live output_view() might still show.
            newcap = 2 * need if need > 32768 else 65536
            blk = new_block(newcap)
            if pending:
                memcpy(blk.data, self._obuf + self._ostart, pending)
            self._oblk = blk
            self._obuf = blk.data
            self._ocap = newcap
        self._ostart = 0
        self._oend = pending
        return 0

    cdef int _scratch_reserve(self, size_t n) except -1:
        cdef uint8_t* nb
        if self._scap < n and self._enc.seal_to_ok:
            nb = <uint8_t*> malloc(n)
            if nb == NULL:
                raise MemoryError()
            free(self._sbuf)
            self._sbuf = nb
            self._scap = n
        return 0

    cdef int _emit(self, const uint8_t* head, size_t hlen, const uint8_t* body,
                   size_t blen) noexcept nogil:
        """Frame head||body as one packet at _oend (space reserved), seal it."""
        cdef size_t plen = hlen + blen
        cdef size_t bs = <size_t> self._enc.block_size
        cdef size_t unit = (1 + plen) if self._enc.len_in_clear else (5 + plen)
        cdef size_t pad = bs - unit % bs
        cdef size_t length, total
        cdef uint8_t* out = self._obuf + self._oend
        cdef uint8_t* p = out
        cdef int rc
        if pad < 4:
            pad += bs
        length = 1 + plen + pad
        # A big packet for an out-of-place cipher is framed in the scratch
        # buffer and sealed from there into `out`: the body is copied once
        # and the cipher never copies back (the GCM hybrid would).
        if blen >= SEAL_TO_MIN and self._enc.seal_to_ok and self._scap >= 4 + length:
            p = self._sbuf
        _be32(p, <uint32_t> length)
        p[4] = <uint8_t> pad
        memcpy(p + 5, head, hlen)
        if blen:
            memcpy(p + 5 + hlen, body, blen)
        if self._rpos + pad > sizeof(self._rpool):
            if random_bytes(self._rpool, sizeof(self._rpool)) != CR_OK:
                return -1
            self._rpos = 0
        memcpy(p + 5 + plen, self._rpool + self._rpos, pad)
        self._rpos += pad
        if p == out:
            rc = self._enc.seal(self._seq_out, p, 4 + length, p + 4 + length)
        else:
            rc = self._enc.seal_to(self._seq_out, p, 4 + length, out, out + 4 + length)
        if rc != CR_OK:
            return -1
        total = 4 + length + <size_t> self._enc.mac_len
        self._oend += total
        self._seq_out += 1
        self._packets_out += 1
        self._bytes_out += total
        return 0

    cdef size_t _z_extra(self, size_t n, size_t npk) noexcept nogil:
        """Output space beyond n + npk * OVERHEAD that npk compressed
        packets carrying n bytes may need (deflate of incompressible data
        grows it by a few bytes per 16 KiB, plus the flush markers)."""
        return (n >> 8) + npk * 64 if self._zout != NULL else 0

    cdef int _emit_z(self, const uint8_t* head, size_t hlen, const uint8_t* body,
                     size_t blen) noexcept nogil:
        """_emit() for a compressed direction: deflate head||body into
        _zobuf with a partial flush (as OpenSSH does, so the peer can inflate
        the packet on its own), then frame and seal that."""
        cdef sshcore_zstream* z = <sshcore_zstream*> self._zout
        cdef size_t n
        self._z_out_plain += hlen + blen
        z.next_out = self._zobuf
        z.avail_out = <unsigned int> self._zocap
        if blen:
            z.next_in = head
            z.avail_in = <unsigned int> hlen
            if z_deflate(z, Z_NO_FLUSH) != Z_OK or z.avail_in != 0:
                return -1
            head = body
            hlen = blen
        z.next_in = head
        z.avail_in = <unsigned int> hlen
        # avail_out == 0 could mean output left behind: never with _zocap.
        if z_deflate(z, Z_PARTIAL_FLUSH) != Z_OK or z.avail_in != 0 or z.avail_out == 0:
            return -1
        n = self._zocap - z.avail_out
        self._z_out_wire += n
        return self._emit(self._zobuf, n, NULL, 0)

    def _set_padding_pool(self, data) -> None:
        """Test hook: the next padding bytes are taken from data, in order
        (for byte-exact comparison with frozen vectors)."""
        cdef bytes b = bytes(data)
        if len(b) > sizeof(self._rpool):
            raise ValueError("at most %d bytes" % sizeof(self._rpool))
        if random_bytes(self._rpool, sizeof(self._rpool)) != CR_OK:
            raise ProtocolError(1014, "(no randomness)")
        memcpy(self._rpool, <char*> b, len(b))
        self._rpos = 0

    def send_packet(self, payload) -> None:
        """Frame, pad, encrypt and MAC one payload (msg type byte first)."""
        self._enter()
        cdef Py_buffer view
        cdef int rc
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        try:
            if view.len < 1:
                raise InvalidArgumentError("an SSH packet needs at least a message type")
            if <size_t> view.len > self._max_packet:
                raise InvalidArgumentError(
                    "a payload of %d bytes exceeds the maximum packet length %d"
                    % (view.len, self._max_packet))
            self._out_reserve(<size_t> view.len + OVERHEAD + self._z_extra(view.len, 1))
            self._busy = True
            if self._enc.nogil_ok and view.len >= NOGIL_MIN:
                with nogil:
                    rc = (self._emit_z(<uint8_t*> view.buf, view.len, NULL, 0)
                          if self._zout != NULL
                          else self._emit(<uint8_t*> view.buf, view.len, NULL, 0))
            else:
                rc = (self._emit_z(<uint8_t*> view.buf, view.len, NULL, 0) if self._zout != NULL
                      else self._emit(<uint8_t*> view.buf, view.len, NULL, 0))
            self._busy = False
            if rc != 0:
                raise ProtocolError(1014, "(encryption failed)")
        finally:
            PyBuffer_Release(&view)

    cdef int _send_data(self, Chan* c, const uint8_t* data, size_t n, size_t chunk,
                        uint32_t ext) noexcept nogil:
        cdef uint8_t head[13]
        cdef size_t hlen = 9 if ext == 0 else 13
        cdef size_t k
        head[0] = MSG_CHANNEL_DATA if ext == 0 else MSG_CHANNEL_EXTENDED_DATA
        _be32(head + 1, c.remote_id)
        if ext:
            _be32(head + 5, ext)
        while n:
            k = chunk if n > chunk else n
            _be32(head + hlen - 4, <uint32_t> k)
            if self._zout != NULL:
                if self._emit_z(head, hlen, data, k) != 0:
                    return -1
            elif self._emit(head, hlen, data, k) != 0:
                return -1
            data += k
            n -= k
        return 0

    def send_channel_data(self, local_id, data, uint32_t ext=0) -> int:
        """Send what the remote window and max packet allow; bytes consumed."""
        self._enter()
        cdef Chan* c = self._channels._get(local_id)
        cdef Py_buffer view
        cdef size_t n, chunk, npk
        cdef int rc
        if self._data_blocked or not c.confirmed or c.eof_sent or c.close_sent:
            return 0
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
        try:
            n = <size_t> view.len
            if n > c.remote_window:
                n = c.remote_window
            chunk = c.remote_max_packet if c.remote_max_packet < MAX_SEND_DATA else MAX_SEND_DATA
            if n == 0 or chunk == 0:
                return 0
            npk = (n + chunk - 1) // chunk
            self._out_reserve(n + npk * OVERHEAD + self._z_extra(n, npk))
            self._scratch_reserve((chunk if chunk < n else n) + OVERHEAD)
            self._busy = True
            self._channels._busy = True
            if self._enc.nogil_ok and n >= NOGIL_MIN:
                with nogil:
                    rc = self._send_data(c, <uint8_t*> view.buf, n, chunk, ext)
            else:
                rc = self._send_data(c, <uint8_t*> view.buf, n, chunk, ext)
            self._busy = False
            self._channels._busy = False
            if rc != 0:
                raise ProtocolError(1014, "(encryption failed)")
            c.remote_window -= <uint32_t> n
            return n
        finally:
            PyBuffer_Release(&view)

    cdef int _emit_window_adjust(self, uint32_t remote_id, uint32_t amount) except -1:
        cdef uint8_t head[9]
        if self._data_blocked:
            return 0
        head[0] = MSG_CHANNEL_WINDOW_ADJUST
        _be32(head + 1, remote_id)
        _be32(head + 5, amount)
        self._out_reserve(9 + OVERHEAD + self._z_extra(9, 1))
        if (self._emit_z(head, 9, NULL, 0) if self._zout != NULL
                else self._emit(head, 9, NULL, 0)) != 0:
            raise ProtocolError(1014, "(encryption failed)")
        return 1

    def output_size(self) -> int:
        return self._oend - self._ostart

    def output_view(self):
        """Read-only view of the pending output (see packet.pyi for lifetime)."""
        self._enter()
        if self._oblk is None:
            return memoryview(b"")
        return self._oblk.view(self._ostart, self._oend - self._ostart, True)

    def output_consume(self, Py_ssize_t n) -> None:
        self._enter()
        if n < 0 or <size_t> n > self._oend - self._ostart:
            raise InvalidArgumentError("output_consume(%d) with %d bytes pending"
                             % (n, self._oend - self._ostart))
        self._ostart += n
        if self._ostart == self._oend and self._oblk is not None and self._oblk.exports == 0:
            self._ostart = self._oend = 0

    def take_output(self) -> bytes:
        self._enter()
        if self._oend == self._ostart:
            return b""
        out = PyBytes_FromStringAndSize(<char*> self._obuf + self._ostart,
                                        self._oend - self._ostart)
        self._ostart = self._oend
        if self._oblk.exports == 0:
            self._ostart = self._oend = 0
        return out

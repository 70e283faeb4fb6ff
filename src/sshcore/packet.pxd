# The PacketEngine's C-level state.  Python sees only the methods in packet.pyi.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

from sshcore.buffer cimport Block
from sshcore.channels cimport Chan, ChannelTable, WindowSink
from sshcore.crypto cimport PacketCipher


cdef class PacketEngine(WindowSink):
    cdef ChannelTable _channels
    cdef PacketCipher _enc, _dec
    cdef uint32_t _seq_in, _seq_out
    cdef uint64_t _bytes_in, _bytes_out, _packets_in, _packets_out
    cdef bint _routing, _data_blocked, _busy
    cdef uint32_t _max_packet
    cdef size_t _recv_limit

    # Receive buffer: _rbuf[_rstart:_rend] is input not yet processed.
    cdef Block _rblk
    cdef uint8_t* _rbuf
    cdef size_t _rcap, _rstart, _rend
    cdef uint32_t _in_len            # packet_length of the packet being assembled
    cdef bint _in_have_len
    cdef const uint8_t* _res         # payload handed back by _pump()
    cdef size_t _res_len
    cdef int _err_code               # sticky receive error (0 = none)
    cdef const char* _err_msg

    # Output buffer: _obuf[_ostart:_oend] is sealed, not yet written.
    cdef Block _oblk
    cdef uint8_t* _obuf
    cdef size_t _ocap, _ostart, _oend

    # Bulk data is decrypted straight into the buffer of the channel that got
    # the last CHANNEL_DATA (see _open_fused); _fuse says whether to try.
    cdef bint _fuse
    cdef uint32_t _fuse_id
    cdef uint64_t _packets_fused

    # Big packets are framed here and sealed into the output buffer by
    # ciphers whose seal_to() is truly out of place (see _emit).
    cdef uint8_t* _sbuf
    cdef size_t _scap

    # Compression (RFC 4253 §6.2), one zlib stream per direction, NULL when
    # off: the uncompressed path only ever tests these pointers (see
    # _zlib.pxi; the streams are sshcore_zstream*).
    cdef void* _zin
    cdef void* _zout
    cdef uint8_t* _zibuf             # one inflated payload (_max_packet + 1)
    cdef uint8_t* _zobuf             # one deflated payload
    cdef size_t _zocap
    cdef uint64_t _z_in_wire, _z_in_plain, _z_out_plain, _z_out_wire

    cdef uint8_t _rpool[1024]        # random padding bytes, refilled in bulk
    cdef size_t _rpos

    cdef int _enter(self) except -1
    cdef int _fail(self, int code, const char* msg) noexcept nogil
    cdef int _pump(self) noexcept nogil
    cdef int _inflate(self, const uint8_t* src, size_t n) noexcept nogil
    cdef int _emit_z(self, const uint8_t* head, size_t hlen, const uint8_t* body,
                     size_t blen) noexcept nogil
    cdef size_t _z_extra(self, size_t n, size_t npk) noexcept nogil
    cdef int _route(self, const uint8_t* p, size_t n) noexcept nogil
    cdef int _open_fused(self, uint8_t* p, uint32_t length) noexcept nogil
    cdef int _route_result(self, int rc) noexcept nogil
    cdef object _raise_error(self)
    cdef int _recv_reserve(self, size_t want) except -1
    cdef int _out_reserve(self, size_t n) except -1
    cdef int _scratch_reserve(self, size_t n) except -1
    cdef int _emit(self, const uint8_t* head, size_t hlen, const uint8_t* body,
                   size_t blen) noexcept nogil
    cdef int _send_data(self, Chan* c, const uint8_t* data, size_t n, size_t chunk,
                        uint32_t ext) noexcept nogil

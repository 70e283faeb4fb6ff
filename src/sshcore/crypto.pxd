# The contract between crypto.pyx and packet.pyx: one PacketCipher per
# direction, whose methods run without the GIL and report failure by status
# code (never by exception), so the packet loop can stay in C.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef enum:
    CR_OK = 0
    CR_BAD_MAC = -1     # MAC / AEAD tag mismatch
    CR_FAIL = -2        # the crypto library reported an error


cdef class PacketCipher:
    cdef readonly str name       # "cipher" or "cipher+mac", for repr/debugging
    cdef int block_size          # padding alignment unit (8 for none/chacha)
    cdef int mac_len             # bytes of MAC/tag after the packet
    cdef int hdr_len             # bytes needed before peek_length() can run
    cdef bint len_in_clear       # etm/AEAD: packet_length excluded from alignment
    cdef bint nogil_ok           # pure C: the engine may release the GIL around it
    cdef bint seal_to_ok         # seal_to() is truly out of place (no extra copy)

    # pkt[0:n] is a plaintext packet (uint32 length first); encrypt in place
    # and write mac_len bytes to mac_out.
    cdef int seal(self, uint32_t seq, uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil
    # src[0:n] is a plaintext packet; dst[0:n] gets it sealed and mac_out the
    # MAC (no overlap).  Worth it where seal_to_ok: the engine then frames a
    # big packet in a scratch buffer and seals it into the output buffer.
    cdef int seal_to(self, uint32_t seq, const uint8_t* src, size_t n, uint8_t* dst,
                     uint8_t* mac_out) noexcept nogil
    # Learn packet_length from the first hdr_len bytes.  For ctr without etm
    # this decrypts the first block in place and advances the keystream, so
    # the engine calls it exactly once per packet.
    cdef int peek_length(self, uint32_t seq, uint8_t* pkt, uint32_t* length) noexcept nogil
    # Verify and decrypt pkt[0:n] (n = 4 + packet_length) in place; mac points
    # at the mac_len received MAC bytes.
    cdef int open(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil
    # Like open(), but the decrypted pkt[4:n] goes to dst[0:n-4] (no overlap)
    # and pkt is left in any state: the engine decrypts bulk data straight
    # into a channel buffer with it.
    cdef int open_to(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac,
                     uint8_t* dst) noexcept nogil


cpdef PacketCipher make_cipher(str cipher, object key, object iv, object mac, object mac_key,
                               bint encrypt, object backend=*)

# Cryptographically random bytes (OpenSSL RAND_bytes when loaded, else
# os.urandom under the GIL).  Returns 0 or CR_FAIL.
cdef int random_bytes(uint8_t* buf, size_t n) noexcept nogil

# Constant-time equality (1 equal, 0 different).
cdef int ct_equal(const uint8_t* a, const uint8_t* b, size_t n) noexcept nogil

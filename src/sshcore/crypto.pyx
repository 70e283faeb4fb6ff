# cython: language_level=3
"""Packet ciphers for the SSH binary packet protocol (RFC 4253 §6).

Two layers:

* primitives (AES-CTR stream, HMAC, AES-GCM, ChaCha20/Poly1305), each with a
  fast implementation calling OpenSSL/libsodium through C function pointers
  resolved once with dlsym, and a fallback built on the `cryptography`
  package.  Both expose the same nogil C methods, so nothing above them
  knows which one runs; the fallback simply re-acquires the GIL inside.
* PacketCipher (crypto.pxd): one object per direction and key, combining
  primitives into an SSH cipher suite (ctr or cbc + hmac[-etm],
  aes-gcm@openssh.com, chacha20-poly1305@openssh.com, none).  Contexts are
  created once per key and reused for every packet.

Modes (environment variable SSHCORE_CRYPTO_BACKEND, default "fast"):
* fast: per suite the fastest implementation measured here (bench/): C
  pointers everywhere, except that big AES-GCM packets are *sealed* through
  cryptography's AESGCM.encrypt_into (its bundled OpenSSL beats the system
  one), and chacha20-poly1305 mixes libsodium (small packets) with OpenSSL
  EVP ChaCha20 + Poly1305 (big ones, ~3x faster with AVX-512);
* nogil: the same without the cryptography detour: every bulk call is C
  and can run with the GIL released;
* cryptography: the fallback, chosen automatically when neither library is
  found or passes its known-answer self-test at import.
"""
import os
import sys

from cpython.buffer cimport PyBuffer_FillInfo
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memcpy, memset

cdef extern from "Python.h":
    object PyMemoryView_FromMemory(char* mem, Py_ssize_t size, int flags)
    int PyBUF_READ
    int PyBUF_WRITE

cdef extern from *:
    """
    #ifdef _WIN32
    #include <windows.h>
    static void* sshcore_dlopen(const char* path) { return (void*)LoadLibraryA(path); }
    static void* sshcore_dlsym(void* h, const char* name) {
        return h ? (void*)GetProcAddress((HMODULE)h, name) : NULL;
    }
    #else
    #include <dlfcn.h>
    static void* sshcore_dlopen(const char* path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }
    static void* sshcore_dlsym(void* h, const char* name) { return h ? dlsym(h, name) : NULL; }
    #endif
    /* Constant time: the volatile accumulator keeps the compiler from
       turning the loop into an early-exit memcmp. */
    static int sshcore_ct_equal(const unsigned char* a, const unsigned char* b, size_t n) {
        volatile unsigned char d = 0;
        size_t i;
        for (i = 0; i < n; i++) d |= a[i] ^ b[i];
        return d == 0;
    }
    static void sshcore_wipe(void* p, size_t n) {
        volatile unsigned char* v = (volatile unsigned char*)p;
        while (n--) *v++ = 0;
    }
    """
    void* sshcore_dlopen(const char* path) noexcept nogil
    void* sshcore_dlsym(void* h, const char* name) noexcept nogil
    int sshcore_ct_equal(const uint8_t* a, const uint8_t* b, size_t n) noexcept nogil
    void sshcore_wipe(void* p, size_t n) noexcept nogil

include "_openssl.pxi"
include "_sodium.pxi"


cdef inline void _be32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = <uint8_t> (v >> 24)
    p[1] = <uint8_t> (v >> 16)
    p[2] = <uint8_t> (v >> 8)
    p[3] = <uint8_t> v


cdef inline void _be64(uint8_t* p, uint64_t v) noexcept nogil:
    _be32(p, <uint32_t> (v >> 32))
    _be32(p + 4, <uint32_t> v)


cdef inline uint32_t _ld32(const uint8_t* p) noexcept nogil:
    return (<uint32_t> p[0] << 24) | (<uint32_t> p[1] << 16) | (<uint32_t> p[2] << 8) | p[3]


cdef int ct_equal(const uint8_t* a, const uint8_t* b, size_t n) noexcept nogil:
    return sshcore_ct_equal(a, b, n)


# ---------------------------------------------------------------- dispatch
# The core knows how to run each name below; which ones are offered, and
# which only when named, is sshclient.algorithms' business (this module
# cannot import that layer; that layer reads these tables).

#: Known names that cannot run here: name -> why (filled at import).
UNAVAILABLE = {}

# name -> (key_len, iv_len, block_size, is_aead)
_CIPHER_INFO = {
    "none": (0, 0, 8, False),
    "chacha20-poly1305@openssh.com": (64, 0, 8, True),
    "aes128-gcm@openssh.com": (16, 12, 16, True),
    "aes256-gcm@openssh.com": (32, 12, 16, True),
    "aes128-ctr": (16, 16, 16, False),
    "aes192-ctr": (24, 16, 16, False),
    "aes256-ctr": (32, 16, 16, False),
    "aes128-cbc": (16, 16, 16, False),
    "aes192-cbc": (24, 16, 16, False),
    "aes256-cbc": (32, 16, 16, False),
    "3des-cbc": (24, 8, 8, False),
}
# CBC cipher -> its block cipher, for the `cryptography` fallback.
_CBC_ALGO = {"aes128-cbc": "aes", "aes192-cbc": "aes", "aes256-cbc": "aes", "3des-cbc": "3des"}
# name -> (key_len, mac_len, encrypt_then_mac, digest)
_MAC_INFO = {
    "hmac-sha2-256-etm@openssh.com": (32, 32, True, "sha256"),
    "hmac-sha2-512-etm@openssh.com": (64, 64, True, "sha512"),
    "hmac-sha1-etm@openssh.com": (20, 20, True, "sha1"),
    "hmac-sha2-256": (32, 32, False, "sha256"),
    "hmac-sha2-512": (64, 64, False, "sha512"),
    "hmac-sha1": (20, 20, False, "sha1"),
    # mac_len < the digest size: the MAC is the digest's first mac_len bytes.
    "hmac-sha1-96": (20, 12, False, "sha1"),
    "hmac-sha2-256-96": (32, 12, False, "sha256"),
    "hmac-sha2-512-96": (64, 12, False, "sha512"),
    "hmac-md5": (16, 16, False, "md5"),
    "hmac-md5-96": (16, 12, False, "md5"),
    "hmac-ripemd160": (20, 20, False, "ripemd160"),
    "hmac-ripemd160-96": (20, 12, False, "ripemd160"),
    "hmac-sha1-96-etm@openssh.com": (20, 12, True, "sha1"),
    "hmac-sha2-256-96-etm@openssh.com": (32, 12, True, "sha256"),
    "hmac-sha2-512-96-etm@openssh.com": (64, 12, True, "sha512"),
    "hmac-md5-etm@openssh.com": (16, 16, True, "md5"),
    "hmac-md5-96-etm@openssh.com": (16, 12, True, "md5"),
}


#: Every packet cipher and MAC name make_cipher knows, in table order (those
#: in UNAVAILABLE cannot run here).
CIPHER_NAMES = tuple(name for name in _CIPHER_INFO if name != "none")
MAC_NAMES = tuple(_MAC_INFO)


def cipher_info(name: str) -> tuple:
    """(key_len, iv_len, block_size, is_aead); KeyError for unknown names."""
    return _CIPHER_INFO[name]


def mac_info(name: str) -> tuple:
    """(key_len, mac_len, encrypt_then_mac); KeyError for unknown names."""
    k, m, etm, _ = _MAC_INFO[name]
    return (k, m, etm)


cdef inline object _rview(const uint8_t* p, size_t n):
    return PyMemoryView_FromMemory(<char*> p, <Py_ssize_t> n, PyBUF_READ)


cdef class _RawBuf:
    """A buffer exporter pointed at C memory for the length of one call into
    `cryptography`: the hybrid AES-GCM hands each big packet over through
    long-lived ones of these instead of building bytes and memoryview objects
    per packet.  Unbound between calls (a view asked for then is refused, as
    the memory is the engine's to reuse)."""
    cdef char* ptr
    cdef Py_ssize_t size
    cdef bint writable

    cdef inline void bind(self, const uint8_t* p, size_t n) noexcept:
        self.ptr = <char*> p
        self.size = <Py_ssize_t> n

    cdef inline void unbind(self) noexcept:
        self.ptr = NULL
        self.size = 0

    def __getbuffer__(self, Py_buffer* view, int flags):
        if self.ptr == NULL:
            raise BufferError("raw buffer used outside its call")
        PyBuffer_FillInfo(view, self, self.ptr, self.size, not self.writable, flags)

    def __releasebuffer__(self, Py_buffer* view):
        pass


cdef _RawBuf _raw_buf(bint writable):
    cdef _RawBuf b = _RawBuf.__new__(_RawBuf)
    b.writable = writable
    return b


cdef inline const uint8_t* _ptr(bytes b):
    return <const uint8_t*> PyBytes_AS_STRING(b)


# Sizes (bytes of packet) from which the per-byte-faster implementation wins
# over the one with less fixed cost; measured with bench/test_micro_packet.py.
cdef size_t GCM_HYBRID_MIN = 16384
cdef size_t CHACHA_BIG_MIN = 512

cdef uint8_t _ZERO32[32]
memset(_ZERO32, 0, 32)


include "_primitives.pxi"
include "_fallback.pxi"


# --------------------------------------------------------- packet ciphers

cdef class PacketCipher:
    """Base: never used directly (its methods fail)."""

    cdef int seal(self, uint32_t seq, uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil:
        return CR_FAIL

    cdef int peek_length(self, uint32_t seq, uint8_t* pkt, uint32_t* length) noexcept nogil:
        return CR_FAIL

    cdef int open(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil:
        return CR_FAIL

    cdef int seal_to(self, uint32_t seq, const uint8_t* src, size_t n, uint8_t* dst,
                     uint8_t* mac_out) noexcept nogil:
        # Generic: one copy, then in place.
        memcpy(dst, src, n)
        return self.seal(seq, dst, n, mac_out)

    cdef int open_to(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac,
                     uint8_t* dst) noexcept nogil:
        # Generic: in place, then one copy.
        cdef int rc = self.open(seq, pkt, n, mac)
        if rc == CR_OK:
            memcpy(dst, pkt + 4, n - 4)
        return rc

    def open_to_bytes(self, uint32_t seq, packet) -> bytes:
        """open_to() on a copy of `packet` (4 + packet_length bytes, then the
        MAC); returns the decrypted body (padding length onward). For tests."""
        cdef bytearray pkt = bytearray(packet)
        cdef size_t n = len(pkt) - <size_t> self.mac_len
        cdef uint32_t length
        cdef uint8_t* p = <uint8_t*> <char*> pkt
        if len(pkt) < self.mac_len + 8 or self.peek_length(seq, p, &length) != CR_OK \
                or 4 + <size_t> length != n:
            raise ValueError("not one whole packet")
        cdef bytearray out = bytearray(n - 4)
        cdef int rc = self.open_to(seq, p, n, p + n, <uint8_t*> <char*> out)
        if rc != CR_OK:
            raise ValueError("MAC/tag mismatch" if rc == CR_BAD_MAC else "decryption failed")
        return bytes(out)

    @property
    def block_size(self) -> int:
        return self.block_size

    @property
    def mac_len(self) -> int:
        return self.mac_len

    @property
    def length_in_clear(self) -> bool:
        return self.len_in_clear

    @property
    def nogil(self) -> bool:
        return self.nogil_ok

    def seal_inplace(self, uint32_t seq, uint8_t[::1] buf not None) -> None:
        """Raw seal of buf[:-mac_len] (a framed packet) with the MAC into the
        tail; for benchmarks (no framing, no padding)."""
        cdef Py_ssize_t n = buf.shape[0] - self.mac_len
        if n < 16:
            raise ValueError("buffer too short")
        if self.seal(seq, &buf[0], n, &buf[n]) != CR_OK:
            raise ValueError("seal failed")

    def __repr__(self):
        return "<PacketCipher %s>" % self.name


cdef class _StreamMacPacket(PacketCipher):
    """none, aes-ctr or a CBC cipher, with an optional HMAC (encrypt-and-MAC
    or etm).  `ctr` is the running cipher context of either mode: both are
    used the same way, CBC only needs whole blocks, which packets are."""
    cdef _Ctr ctr
    cdef _Mac mac
    cdef bint has_ctr, has_mac, etm
    cdef bint truncated     # mac_len < the digest size (the -96 MACs)

    cdef inline int _mac(self, const uint8_t* seqb, const uint8_t* pkt, size_t n,
                         uint8_t* mac_out) noexcept nogil:
        cdef uint8_t full[64]
        cdef int rc
        if not self.truncated:
            return self.mac.compute(seqb, 4, pkt, n, mac_out)
        # The caller reserved only mac_len bytes: compute the digest aside.
        rc = self.mac.compute(seqb, 4, pkt, n, full)
        memcpy(mac_out, full, <size_t> self.mac_len)
        return rc

    cdef int seal(self, uint32_t seq, uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil:
        cdef uint8_t seqb[4]
        cdef int rc = CR_OK
        _be32(seqb, seq)
        if self.etm:
            # RFC-less OpenSSH etm: encrypt all but the length, MAC the ciphertext.
            if self.has_ctr:
                rc = self.ctr.xor(pkt + 4, n - 4)
            if rc == CR_OK and self.has_mac:
                rc = self._mac(seqb, pkt, n, mac_out)
        else:
            # RFC 4253 §6.4: MAC the plaintext, then encrypt everything.
            if self.has_mac:
                rc = self._mac(seqb, pkt, n, mac_out)
            if rc == CR_OK and self.has_ctr:
                rc = self.ctr.xor(pkt, n)
        return rc

    cdef int peek_length(self, uint32_t seq, uint8_t* pkt, uint32_t* length) noexcept nogil:
        if self.has_ctr and not self.etm:
            if self.ctr.xor(pkt, <size_t> self.hdr_len) != CR_OK:
                return CR_FAIL
        length[0] = _ld32(pkt)
        return CR_OK

    cdef int _verify(self, uint32_t seq, const uint8_t* pkt, size_t n,
                     const uint8_t* mac) noexcept nogil:
        cdef uint8_t seqb[4]
        cdef uint8_t calc[64]
        cdef int rc = CR_OK
        if self.has_mac:
            _be32(seqb, seq)
            rc = self.mac.compute(seqb, 4, pkt, n, calc)
            if rc == CR_OK and not sshcore_ct_equal(calc, mac, <size_t> self.mac_len):
                rc = CR_BAD_MAC
        return rc

    cdef int open(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil:
        cdef int rc = CR_OK
        if self.etm:
            # Authenticate before decrypting anything.
            rc = self._verify(seq, pkt, n, mac)
            if rc == CR_OK and self.has_ctr:
                rc = self.ctr.xor(pkt + 4, n - 4)
        else:
            # The first hdr_len bytes were decrypted by peek_length().
            if self.has_ctr and n > <size_t> self.hdr_len:
                rc = self.ctr.xor(pkt + self.hdr_len, n - <size_t> self.hdr_len)
                if rc != CR_OK:
                    return rc
            rc = self._verify(seq, pkt, n, mac)
        return rc

    cdef int open_to(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac,
                     uint8_t* dst) noexcept nogil:
        cdef int rc
        if not self.etm:
            # The MAC covers the plaintext: decrypt in place first.
            return PacketCipher.open_to(self, seq, pkt, n, mac, dst)
        rc = self._verify(seq, pkt, n, mac)
        if rc != CR_OK:
            return rc
        if self.has_ctr:
            return self.ctr.xor_to(dst, pkt + 4, n - 4)
        memcpy(dst, pkt + 4, n - 4)
        return CR_OK


cdef class _GcmPacket(PacketCipher):
    """aesNNN-gcm@openssh.com (RFC 5647): nonce = 4 fixed bytes || 64-bit
    invocation counter incremented per packet; the length is the AAD."""
    cdef _Gcm gcm
    cdef uint8_t fixed[4]
    cdef uint64_t counter

    cdef inline void _nonce(self, uint8_t* nonce) noexcept nogil:
        memcpy(nonce, self.fixed, 4)
        _be64(nonce + 4, self.counter)
        self.counter += 1

    cdef int seal(self, uint32_t seq, uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil:
        cdef uint8_t nonce[12]
        self._nonce(nonce)
        return self.gcm.crypt(nonce, pkt, 4, pkt + 4, n - 4, mac_out)

    cdef int seal_to(self, uint32_t seq, const uint8_t* src, size_t n, uint8_t* dst,
                     uint8_t* mac_out) noexcept nogil:
        cdef uint8_t nonce[12]
        self._nonce(nonce)
        memcpy(dst, src, 4)
        return self.gcm.crypt_to(nonce, src, 4, src + 4, dst + 4, n - 4, mac_out)

    cdef int peek_length(self, uint32_t seq, uint8_t* pkt, uint32_t* length) noexcept nogil:
        length[0] = _ld32(pkt)
        return CR_OK

    cdef int open(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil:
        cdef uint8_t nonce[12]
        self._nonce(nonce)
        return self.gcm.crypt(nonce, pkt, 4, pkt + 4, n - 4, <uint8_t*> mac)

    cdef int open_to(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac,
                     uint8_t* dst) noexcept nogil:
        cdef uint8_t nonce[12]
        self._nonce(nonce)
        return self.gcm.crypt_to(nonce, pkt, 4, pkt + 4, dst, n - 4, <uint8_t*> mac)


cdef class _ChachaPacket(PacketCipher):
    """chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305):
    K_2 = key[0:32] encrypts the body from block 1 and gives the Poly1305
    key (block 0); K_1 = key[32:64] encrypts the 4-byte length; the nonce is
    the 64-bit big-endian sequence number; the tag covers the whole
    ciphertext including the encrypted length.

    Two implementations may be mixed per packet (same result): `small`
    (libsodium: least fixed cost) below big_min bytes, `big` (OpenSSL:
    fastest per byte) above."""
    cdef _Chacha small, big
    cdef size_t big_min
    cdef uint8_t kmain[32]
    cdef uint8_t khdr[32]

    def __dealloc__(self):
        sshcore_wipe(self.kmain, 32)
        sshcore_wipe(self.khdr, 32)

    cdef int seal(self, uint32_t seq, uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil:
        if n >= self.big_min:
            return self.big.seal_packet(self.kmain, self.khdr, seq, pkt, n, mac_out)
        return self.small.seal_packet(self.kmain, self.khdr, seq, pkt, n, mac_out)

    cdef int peek_length(self, uint32_t seq, uint8_t* pkt, uint32_t* length) noexcept nogil:
        # Not in place: the tag covers the encrypted length.
        cdef uint8_t nonce[8]
        cdef uint8_t hdr[4]
        _be64(nonce, seq)
        if self.small.xor(hdr, pkt, 4, nonce, 0, self.khdr) != CR_OK:
            return CR_FAIL
        length[0] = _ld32(hdr)
        return CR_OK

    cdef int open(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil:
        if n >= self.big_min:
            return self.big.open_packet(self.kmain, self.khdr, seq, pkt, n, mac)
        return self.small.open_packet(self.kmain, self.khdr, seq, pkt, n, mac)

    cdef int open_to(self, uint32_t seq, uint8_t* pkt, size_t n, const uint8_t* mac,
                     uint8_t* dst) noexcept nogil:
        if n >= self.big_min:
            return self.big.open_packet_to(self.kmain, seq, pkt, n, mac, dst)
        return self.small.open_packet_to(self.kmain, seq, pkt, n, mac, dst)


# ------------------------------------------------------ backend selection

cdef bint _have_openssl = False
cdef bint _have_openssl_chacha = False
cdef bint _have_sodium = False
cdef str _mode = "fast"
_openssl_path = None
_sodium_path = None
cdef _Chacha _sodium_chacha = None
cdef _Chacha _py_chacha = None
MODES = ("fast", "nogil", "cryptography")


def _find_libcrypto():
    """Path of the libcrypto Python itself loaded (so we share one copy)."""
    try:
        import _hashlib  # noqa: F401  (loads libcrypto into the process)
    except ImportError:
        pass
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/maps") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and "libcrypto" in parts[5]:
                        path = parts[5].strip()
                        if path.startswith("/") and os.path.exists(path):
                            return path
        except OSError:
            pass
    if sys.platform == "darwin":
        # The system /usr/lib/libcrypto.dylib aborts the process when opened
        # by name; without /proc we cannot find Python's own copy safely.
        return None
    import ctypes.util
    return ctypes.util.find_library("crypto")


def _selftest_openssl():
    """Known answers (SP 800-38A-style AES, RFC 4231 #2, GCM spec #2): a
    wrong symbol or ABI shows up here instead of as corrupted packets."""
    cdef _EvpCtr c = _EvpCtr.__new__(_EvpCtr)
    c.setup(bytes(16), bytes(16))
    if c.update(bytes(16)) != bytes.fromhex("66e94bd4ef8a2c3b884cfa59ca342b2e"):
        return False
    cdef _EvpHmac m = _EvpHmac.__new__(_EvpHmac)
    m.setup("sha256", b"Jefe")
    if m.digest(b"what do ya want for nothing?") != bytes.fromhex(
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"):
        return False
    cdef _EvpGcm g = _EvpGcm.__new__(_EvpGcm)
    g.setup(bytes(16), True)
    if g.encrypt_bytes(bytes(12), b"", bytes(16)) != bytes.fromhex(
            "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"):
        return False
    cdef _EvpGcm gd = _EvpGcm.__new__(_EvpGcm)
    gd.setup(bytes(16), False)
    try:
        gd.decrypt_bytes(bytes(12), b"", bytes(32))
        return False   # a zero tag must not verify
    except ValueError:
        pass
    return True


# Known answers for the legacy primitives: SP 800-38A F.2.1/F.2.3/F.2.5
# (AES-CBC, first block), 3DES-CBC with key 0x01..0x18 and IV 0x00..0x07
# (captured from `openssl enc`, cross-checked with `cryptography`), RFC 2202
# and RFC 2286 case 2 (HMAC-MD5, HMAC-RIPEMD-160).
_AES_KAT_IV = bytes(range(16))
_AES_KAT_PLAIN = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
_CBC_KAT = {  # cipher -> (key, iv, plaintext, ciphertext)
    "aes128-cbc": (bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c"), _AES_KAT_IV,
                   _AES_KAT_PLAIN, bytes.fromhex("7649abac8119b246cee98e9b12e9197d")),
    "aes192-cbc": (bytes.fromhex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b"),
                   _AES_KAT_IV, _AES_KAT_PLAIN,
                   bytes.fromhex("4f021db243bc633d7178183a9fa071e8")),
    "aes256-cbc": (bytes.fromhex("603deb1015ca71be2b73aef0857d7781"
                                 "1f352c073b6108d72d9810a30914dff4"), _AES_KAT_IV,
                   _AES_KAT_PLAIN, bytes.fromhex("f58c4c04d6e5f1ba779eabfb5f7bfbd6")),
    "3des-cbc": (bytes(range(1, 25)), bytes(range(8)), b"SSH-3DES",
                 bytes.fromhex("96d195cf124f409b")),
}
_HMAC_KAT = {
    "md5": bytes.fromhex("750c783e6ab0b503eaa86e310a5db738"),
    "ripemd160": bytes.fromhex("dda6c0213a485a9e24f4742064a7f033b43c4069"),
}


def _selftest_cbc(str cipher, backend) -> bool:
    key, iv, plain, ct = _CBC_KAT[cipher]
    if _cbc(cipher, key, iv, True, backend).update(plain) != ct:
        return False
    # Decrypting must hand back every block at once (EVP padding off).
    return _cbc(cipher, key, iv, False, backend).update(ct) == plain


def _selftest_hmac(str digest, backend) -> bool:
    return _hmac(digest, b"Jefe", backend).digest(b"what do ya want for nothing?") \
        == _HMAC_KAT[digest]


def _passes(check, *args) -> bool:
    """A known-answer check that raises counts as failed."""
    try:
        return bool(check(*args))
    except Exception:
        return False


def _probe_legacy():
    """Drop EVP pointers whose known answer fails (so that algorithm uses the
    fallback), and list as UNAVAILABLE what neither implementation can run."""
    global o_md5, o_ripemd160
    for cipher in _CBC_ALGO:
        evp_ok = _cbc_evp(cipher) != NULL and _passes(_selftest_cbc, cipher, "nogil")
        if not evp_ok:
            _drop_cbc_evp(cipher)
            if not _passes(_selftest_cbc, cipher, "cryptography"):
                UNAVAILABLE[cipher] = "neither libcrypto nor cryptography provides it here"
    for digest in ("md5", "ripemd160"):
        evp_ok = _have_openssl and _evp_md_ok(digest) and _passes(_selftest_hmac, digest, "nogil")
        if not evp_ok:
            if digest == "md5":
                o_md5 = NULL
            else:
                o_ripemd160 = NULL
            if not _passes(_selftest_hmac, digest, "cryptography"):
                why = "this system's libcrypto does not provide %s" % digest.upper()
                if digest == "ripemd160":
                    why += " (OpenSSL 3 has it by default only from 3.0.7)"
                for mac, info in _MAC_INFO.items():
                    if info[3] == digest:
                        UNAVAILABLE[mac] = why


def _selftest_chacha(_Chacha ch):
    """RFC 8439 A.1 #1 keystream and section 2.5.2 Poly1305."""
    if ch.stream_xor(bytes(32), bytes(8), 0, bytes(16)) != bytes.fromhex(
            "76b8e0ada0f13d90405d6ae55386bd28"):
        return False
    key = bytes.fromhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b")
    tag = bytes.fromhex("a8061dc1305136c6c22b8baf0c0127a9")
    msg = b"Cryptographic Forum Research Group"
    return ch.poly1305(key, msg) == tag and ch.poly1305_verify(key, msg, tag) \
        and not ch.poly1305_verify(key, msg + b"!", tag)


cdef void* _dlopen_path(str path):
    cdef bytes p = os.fsencode(path)
    return sshcore_dlopen(p)


def _init_backends():
    global _have_openssl, _have_openssl_chacha, _have_sodium, _mode
    global _openssl_path, _sodium_path, _sodium_chacha
    cdef void* h
    cdef _EvpChacha ec
    forced = os.environ.get("SSHCORE_CRYPTO_BACKEND", "").strip().lower()
    # Even when forced, probe the libraries so tests can compare backends.
    try:
        path = _find_libcrypto()
        if path:
            h = _dlopen_path(path)
            if h != NULL and _load_openssl(h) and _selftest_openssl():
                _have_openssl, _openssl_path = True, path
                _load_openssl_legacy(h)
                if _load_openssl_chacha(h):
                    ec = _EvpChacha.__new__(_EvpChacha)
                    ec.setup()
                    _have_openssl_chacha = bool(_selftest_chacha(ec))
    except Exception:
        _have_openssl = _have_openssl_chacha = False
    try:
        import nacl.bindings  # noqa: F401  (runs sodium_init)
        import nacl._sodium
        path = nacl._sodium.__file__
        h = _dlopen_path(path)
        if h != NULL and _load_sodium(h):
            sc = _SodiumChacha()
            if _selftest_chacha(sc):
                _have_sodium, _sodium_path, _sodium_chacha = True, path, sc
    except Exception:
        _have_sodium = False
    if forced in ("cryptography", "fallback", "python"):
        _mode = "cryptography"
    elif forced == "nogil":
        _mode = "nogil"
    else:
        _mode = "fast"
    if not (_have_openssl or _have_sodium):
        _mode = "cryptography"


_init_backends()


def backend() -> str:
    """The libraries make_cipher() uses now, e.g. "openssl+libsodium+cryptography"
    (fast: big AES-GCM packets go through cryptography), "openssl+libsodium"
    (nogil) or "cryptography" (fallback)."""
    if _mode == "cryptography":
        return "cryptography"
    parts = []
    if _have_openssl:
        parts.append("openssl")
    if _have_sodium:
        parts.append("libsodium")
    if not _have_openssl or (_mode == "fast") or not (_have_sodium or _have_openssl_chacha):
        parts.append("cryptography")
    return "+".join(parts)


def available_backends() -> tuple:
    """Modes usable here: "fast" (fastest per suite), "nogil" (pure C, GIL
    released for bulk work), "cryptography" (fallback)."""
    return MODES if (_have_openssl or _have_sodium) else ("cryptography",)


def _set_backend(str name) -> str:
    """Test hook: the mode for ciphers made from now on; returns the previous."""
    global _mode
    prev = _mode
    if name not in available_backends():
        raise ValueError("backend %r not available" % (name,))
    _mode = name
    return prev


cdef str _resolve(object backend):
    if backend is None:
        return _mode
    if backend not in MODES:
        raise ValueError("unknown backend %r" % (backend,))
    return backend if backend in available_backends() else "cryptography"


def _ctr(key, iv, backend=None) -> _Ctr:
    """An AES-CTR keystream (primitive; for tests and benchmarks)."""
    cdef bytes k = bytes(key), v = bytes(iv)
    if _resolve(backend) != "cryptography" and _have_openssl:
        c = _EvpCtr.__new__(_EvpCtr)
        (<_EvpCtr> c).setup(k, v)
    else:
        if len(k) not in (16, 24, 32) or len(v) != 16:
            raise ValueError("bad AES-CTR key or IV length")
        c = _PyCtr.__new__(_PyCtr)
        (<_PyCtr> c).setup(k, v)
    return c


cdef const void* _cbc_evp(str cipher) noexcept:
    """The EVP_CIPHER of a CBC suite; NULL without a (working) libcrypto one."""
    if not _have_openssl:
        return NULL
    if cipher == "aes128-cbc":
        return o_aes128_cbc
    if cipher == "aes192-cbc":
        return o_aes192_cbc
    if cipher == "aes256-cbc":
        return o_aes256_cbc
    if cipher == "3des-cbc":
        return o_des_ede3_cbc
    return NULL


cdef void _drop_cbc_evp(str cipher) noexcept:
    """Stop using libcrypto for this CBC suite (its known answer failed)."""
    global o_aes128_cbc, o_aes192_cbc, o_aes256_cbc, o_des_ede3_cbc
    if cipher == "aes128-cbc":
        o_aes128_cbc = NULL
    elif cipher == "aes192-cbc":
        o_aes192_cbc = NULL
    elif cipher == "aes256-cbc":
        o_aes256_cbc = NULL
    elif cipher == "3des-cbc":
        o_des_ede3_cbc = NULL


cdef bint _evp_md_ok(str digest) noexcept:
    if digest == "md5":
        return o_md5 != NULL
    if digest == "ripemd160":
        return o_ripemd160 != NULL
    return True


def _cbc(str cipher, key, iv, bint encrypt, backend=None) -> _Ctr:
    """A CBC chain for aesNNN-cbc / 3des-cbc, one direction (primitive)."""
    cdef bytes k = bytes(key), v = bytes(iv)
    cdef const void* evp = _cbc_evp(cipher)
    key_len, iv_len, _, _ = _CIPHER_INFO[cipher]
    if len(k) != key_len or len(v) != iv_len:
        raise ValueError("bad %s key or IV length" % cipher)
    if _resolve(backend) != "cryptography" and evp != NULL:
        c = _EvpCbc.__new__(_EvpCbc)
        (<_EvpCbc> c).setup_cbc(evp, k, v, encrypt)
    else:
        c = _PyCbc.__new__(_PyCbc)
        (<_PyCbc> c).setup_cbc(_CBC_ALGO[cipher], k, v, encrypt)
    return c


def _hmac(str digest, key, backend=None) -> _Mac:
    """A keyed HMAC, digest in "sha1", "sha256", "sha512", "md5", "ripemd160"
    (primitive).  A digest this libcrypto lacks falls back to Python's."""
    cdef bytes k = bytes(key)
    if _resolve(backend) != "cryptography" and _have_openssl and _evp_md_ok(digest):
        m = _EvpHmac.__new__(_EvpHmac)
        (<_EvpHmac> m).setup(digest, k)
    else:
        m = _PyHmac.__new__(_PyHmac)
        (<_PyHmac> m).setup(digest, k)
    return m


def _gcm(key, bint encrypt, backend=None, Py_ssize_t hybrid_min=-1) -> _Gcm:
    """An AES-GCM context for one direction (primitive).  hybrid_min: test
    hook overriding the size from which "fast" hands packets to cryptography."""
    cdef bytes k = bytes(key)
    cdef str mode = _resolve(backend)
    if mode == "fast" and _have_openssl:
        g = _HybridGcm.__new__(_HybridGcm)
        (<_HybridGcm> g).setup(k, encrypt)
        if hybrid_min >= 0:
            (<_HybridGcm> g).threshold = hybrid_min
    elif mode == "nogil" and _have_openssl:
        g = _EvpGcm.__new__(_EvpGcm)
        (<_EvpGcm> g).setup(k, encrypt)
    else:
        g = _PyGcm.__new__(_PyGcm)
        (<_PyGcm> g).setup(k, encrypt)
    return g


def _chacha_impls() -> dict:
    """Every ChaCha20/Poly1305 implementation available, by library name."""
    global _py_chacha
    cdef _EvpChacha ec
    if _py_chacha is None:
        _py_chacha = _PyChacha()
    out = {"cryptography": _py_chacha}
    if _have_sodium:
        out["libsodium"] = _sodium_chacha
    if _have_openssl_chacha:
        ec = _EvpChacha.__new__(_EvpChacha)
        ec.setup()
        out["openssl"] = ec
    return out


def _chacha(backend=None, bint big=False) -> _Chacha:
    """The ChaCha20/Poly1305 implementation used for small (or big) packets."""
    impls = _chacha_impls()
    if _resolve(backend) == "cryptography":
        return impls["cryptography"]
    if big and "openssl" in impls:
        return impls["openssl"]
    return impls.get("libsodium") or impls.get("openssl") or impls["cryptography"]


cdef bytes _exact(object value, int n, str what):
    cdef bytes b = bytes(value) if value is not None else b""
    if len(b) != n:
        raise ValueError("%s must be %d bytes, got %d" % (what, n, len(b)))
    return b


cpdef PacketCipher make_cipher(str cipher, object key, object iv, object mac, object mac_key,
                               bint encrypt, object backend=None):
    """The PacketCipher for one direction.  Key and IV lengths must match
    cipher_info()/mac_info() exactly; the MAC is ignored for AEAD ciphers."""
    cdef int key_len, iv_len, block
    cdef bint aead
    cdef _StreamMacPacket sm
    cdef _GcmPacket gp
    cdef _ChachaPacket cp
    cdef bytes k, v
    try:
        key_len, iv_len, block, aead = _CIPHER_INFO[cipher]
    except KeyError:
        raise ValueError("unsupported cipher %r" % (cipher,)) from None
    if cipher == "chacha20-poly1305@openssh.com":
        k = _exact(key, 64, "chacha20-poly1305 key")
        cp = _ChachaPacket.__new__(_ChachaPacket)
        cp.small = _chacha(backend)
        cp.big = _chacha(backend, True)
        cp.big_min = CHACHA_BIG_MIN
        memcpy(cp.kmain, _ptr(k), 32)
        memcpy(cp.khdr, _ptr(k) + 32, 32)
        cp.block_size, cp.mac_len, cp.hdr_len, cp.len_in_clear = 8, 16, 4, True
        cp.nogil_ok = cp.small.nogil_ok and cp.big.nogil_ok
        cp.name = cipher
        return cp
    if aead:
        k = _exact(key, key_len, cipher + " key")
        v = _exact(iv, 12, cipher + " IV")
        gp = _GcmPacket.__new__(_GcmPacket)
        gp.gcm = _gcm(k, encrypt, backend)
        memcpy(gp.fixed, _ptr(v), 4)
        gp.counter = (<uint64_t> _ld32(_ptr(v) + 4) << 32) | _ld32(_ptr(v) + 8)
        gp.block_size, gp.mac_len, gp.hdr_len, gp.len_in_clear = 16, 16, 4, True
        gp.nogil_ok = gp.gcm.nogil_ok
        gp.seal_to_ok = not isinstance(gp.gcm, _PyGcm)
        if not encrypt and isinstance(gp.gcm, _HybridGcm):
            # The receive loop may run without the GIL: the hybrid takes it
            # back only around a big decrypt_into (straight into a channel
            # buffer through open_to, so no copy back).
            gp.nogil_ok = True
        gp.name = cipher
        return gp
    sm = _StreamMacPacket.__new__(_StreamMacPacket)
    sm.block_size = block
    sm.nogil_ok = True
    sm.name = cipher
    if cipher != "none":
        if cipher in UNAVAILABLE:
            raise ValueError("%s: %s" % (cipher, UNAVAILABLE[cipher]))
        k = _exact(key, key_len, cipher + " key")
        v = _exact(iv, iv_len, cipher + " IV")
        sm.ctr = _cbc(cipher, k, v, encrypt, backend) if cipher in _CBC_ALGO \
            else _ctr(k, v, backend)
        sm.has_ctr = True
        sm.nogil_ok = sm.ctr.nogil_ok
    if mac is not None and mac != "none":
        try:
            mk_len, m_len, etm, digest = _MAC_INFO[mac]
        except KeyError:
            raise ValueError("unsupported MAC %r" % (mac,)) from None
        if mac in UNAVAILABLE:
            raise ValueError("%s: %s" % (mac, UNAVAILABLE[mac]))
        sm.mac = _hmac(digest, _exact(mac_key, mk_len, mac + " key"), backend)
        sm.has_mac = True
        sm.etm = etm
        sm.mac_len = m_len
        sm.truncated = m_len < sm.mac.out_len
        sm.nogil_ok = sm.nogil_ok and sm.mac.nogil_ok
        sm.name = cipher + "+" + mac
    elif cipher != "none":
        raise ValueError("%s needs a MAC" % cipher)
    sm.len_in_clear = sm.etm
    # Without etm the length is inside the first encrypted block: decrypt one
    # whole block (ctr: 16 bytes of keystream; cbc: the first block of the
    # chain, which open() then continues from).
    sm.hdr_len = block if (sm.has_ctr and not sm.etm) else 4
    return sm


_probe_legacy()   # needs the factories above


# ------------------------------------------------------------- randomness

cdef int random_bytes(uint8_t* buf, size_t n) noexcept nogil:
    if _have_openssl and n < 0x7fffffff:
        return CR_OK if o_RAND_bytes(buf, <int> n) == 1 else CR_FAIL
    with gil:
        try:
            r = os.urandom(n)
            memcpy(buf, <char*> r, n)
            return CR_OK
        except Exception:
            return CR_FAIL

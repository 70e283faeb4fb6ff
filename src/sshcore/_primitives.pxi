# Crypto primitives backed by C libraries (OpenSSL libcrypto, libsodium),
# called through the function pointers of _openssl.pxi / _sodium.pxi, plus
# the primitive base classes whose nogil methods every implementation
# provides.  Included by crypto.pyx (one extension module: no cross-module
# vtable calls on the hot path).

# ------------------------------------------------------------- AES-CTR

cdef class _Ctr:
    """A running AES-CTR keystream; the counter continues across calls."""
    cdef bint nogil_ok

    cdef int xor(self, uint8_t* buf, size_t n) noexcept nogil:
        return CR_FAIL

    # Out of place: out[0:n] = inp[0:n] XOR keystream (no overlap).
    cdef int xor_to(self, uint8_t* out, const uint8_t* inp, size_t n) noexcept nogil:
        memcpy(out, inp, n)
        return self.xor(out, n)

    def update(self, data) -> bytes:
        """Encrypt/decrypt (same thing) and return a copy; for tests."""
        cdef bytearray out = bytearray(data)
        if self.xor(<uint8_t*> <char*> out, len(out)) != CR_OK:
            raise ValueError("AES-CTR failed")
        return bytes(out)

    def update_inplace(self, uint8_t[::1] buf not None) -> None:
        """The raw primitive, in place; for benchmarks."""
        if self.xor(&buf[0] if buf.shape[0] else NULL, buf.shape[0]) != CR_OK:
            raise ValueError("AES-CTR failed")


cdef class _EvpCtr(_Ctr):
    cdef void* ctx

    def __cinit__(self):
        self.ctx = NULL

    def __dealloc__(self):
        if self.ctx != NULL:
            o_CIPHER_CTX_free(self.ctx)

    cdef int setup(self, bytes key, bytes iv) except -1:
        cdef const void* evp = NULL
        if len(key) == 16:
            evp = o_aes128_ctr
        elif len(key) == 24:
            evp = o_aes192_ctr
        elif len(key) == 32:
            evp = o_aes256_ctr
        else:
            raise ValueError("AES key must be 16, 24 or 32 bytes")
        if len(iv) != 16:
            raise ValueError("AES-CTR IV must be 16 bytes")
        self.ctx = o_CIPHER_CTX_new()
        if self.ctx == NULL:
            raise MemoryError()
        if o_CipherInit_ex(self.ctx, evp, NULL, _ptr(key), _ptr(iv), 1) != 1:
            raise ValueError("EVP_CipherInit_ex(aes-ctr) failed")
        self.nogil_ok = True
        return 0

    cdef int xor(self, uint8_t* buf, size_t n) noexcept nogil:
        return self.xor_to(buf, buf, n)

    cdef int xor_to(self, uint8_t* out, const uint8_t* inp, size_t n) noexcept nogil:
        cdef int outl
        cdef int chunk
        while n > 0:
            chunk = <int> (n if n < 0x40000000 else 0x40000000)
            # outl < chunk would mean EVP held bytes back (a CBC tail that is
            # not a whole block): never valid for a packet.
            if o_CipherUpdate(self.ctx, out, &outl, inp, chunk) != 1 or outl != chunk:
                return CR_FAIL
            out += chunk
            inp += chunk
            n -= <size_t> chunk
        return CR_OK


cdef class _EvpCbc(_EvpCtr):
    """A CBC chain in one direction (aesNNN-cbc, 3des-cbc): the same running
    context as CTR, so the chain continues across calls and packets.  Data
    must come in whole blocks; EVP padding is off so that a decrypt update
    returns every block at once instead of holding the last one back."""

    cdef int setup_cbc(self, const void* evp, bytes key, bytes iv, bint encrypt) except -1:
        if evp == NULL:
            raise ValueError("this libcrypto has no such CBC cipher")
        self.ctx = o_CIPHER_CTX_new()
        if self.ctx == NULL:
            raise MemoryError()
        if o_CipherInit_ex(self.ctx, evp, NULL, _ptr(key), _ptr(iv), encrypt) != 1 \
                or o_CIPHER_CTX_set_padding(self.ctx, 0) != 1:
            raise ValueError("EVP_CipherInit_ex(cbc) failed")
        self.nogil_ok = True
        return 0


# ------------------------------------------------------------------ HMAC

cdef class _Mac:
    """HMAC keyed once; compute() MACs prefix || data (prefix = sequence number)."""
    cdef int out_len
    cdef bint nogil_ok

    cdef int compute(self, const uint8_t* prefix, size_t plen, const uint8_t* data, size_t n,
                     uint8_t* out) noexcept nogil:
        return CR_FAIL

    def digest(self, data, bytes prefix=b"") -> bytes:
        """HMAC(key, prefix || data); for tests."""
        cdef bytes d = bytes(data)
        cdef uint8_t out[64]
        if self.compute(_ptr(prefix), len(prefix), _ptr(d), len(d), out) != CR_OK:
            raise ValueError("HMAC failed")
        return PyBytes_FromStringAndSize(<char*> out, self.out_len)

    def digest_raw(self, const uint8_t[::1] data not None) -> None:
        """The raw primitive on a buffer, result discarded; for benchmarks."""
        cdef uint8_t out[64]
        cdef uint8_t seq[4]
        if self.compute(seq, 4, &data[0] if data.shape[0] else seq, data.shape[0], out) != CR_OK:
            raise ValueError("HMAC failed")


cdef class _EvpHmac(_Mac):
    cdef void* ctx

    def __cinit__(self):
        self.ctx = NULL

    def __dealloc__(self):
        if self.ctx != NULL:
            o_HMAC_CTX_free(self.ctx)

    cdef int setup(self, str digest, bytes key) except -1:
        cdef const void* md
        if digest == "sha256":
            md, self.out_len = o_sha256, 32
        elif digest == "sha512":
            md, self.out_len = o_sha512, 64
        elif digest == "sha1":
            md, self.out_len = o_sha1, 20
        elif digest == "md5" and o_md5 != NULL:
            md, self.out_len = o_md5, 16
        elif digest == "ripemd160" and o_ripemd160 != NULL:
            md, self.out_len = o_ripemd160, 20
        else:
            raise ValueError(digest)
        self.ctx = o_HMAC_CTX_new()
        if self.ctx == NULL:
            raise MemoryError()
        if o_HMAC_Init_ex(self.ctx, _ptr(key), len(key), md, NULL) != 1:
            raise ValueError("HMAC_Init_ex failed")
        self.nogil_ok = True
        return 0

    cdef int compute(self, const uint8_t* prefix, size_t plen, const uint8_t* data, size_t n,
                     uint8_t* out) noexcept nogil:
        cdef unsigned int outl = 0
        # NULL key/md: restart from the keyed state saved by HMAC_Init_ex.
        if o_HMAC_Init_ex(self.ctx, NULL, 0, NULL, NULL) != 1:
            return CR_FAIL
        if plen and o_HMAC_Update(self.ctx, prefix, plen) != 1:
            return CR_FAIL
        if o_HMAC_Update(self.ctx, data, n) != 1:
            return CR_FAIL
        if o_HMAC_Final(self.ctx, out, &outl) != 1 or outl != <unsigned int> self.out_len:
            return CR_FAIL
        return CR_OK


# --------------------------------------------------------------- AES-GCM

cdef class _Gcm:
    """AES-GCM with a 12-byte nonce and 16-byte tag, for one direction."""
    cdef bint encrypt
    cdef bint nogil_ok

    # In place on data[0:n].  Encrypt writes tag; decrypt verifies it
    # (CR_BAD_MAC on mismatch; data is then garbage and must be dropped).
    cdef int crypt(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                   uint8_t* data, size_t n, uint8_t* tag) noexcept nogil:
        return CR_FAIL

    # Out of place: src[0:n] -> dst[0:n] (no overlap); the tag as for crypt.
    cdef int crypt_to(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                      const uint8_t* src, uint8_t* dst, size_t n, uint8_t* tag) noexcept nogil:
        memcpy(dst, src, n)
        return self.crypt(nonce, aad, aadlen, dst, n, tag)

    def encrypt_bytes(self, bytes nonce, bytes aad, data) -> bytes:
        """ciphertext || tag; for tests."""
        if not self.encrypt or len(nonce) != 12:
            raise ValueError("encrypting context and 12-byte nonce required")
        cdef bytearray out = bytearray(len(data) + 16)
        out[:len(data)] = data
        cdef uint8_t* p = <uint8_t*> <char*> out
        if self.crypt(_ptr(nonce), _ptr(aad), len(aad), p, len(data), p + len(data)) != CR_OK:
            raise ValueError("AES-GCM failed")
        return bytes(out)

    def decrypt_bytes(self, bytes nonce, bytes aad, data) -> bytes:
        """Plaintext; ValueError if the tag does not verify; for tests."""
        if self.encrypt or len(nonce) != 12 or len(data) < 16:
            raise ValueError("decrypting context, 12-byte nonce and a tag required")
        cdef bytearray out = bytearray(data)
        cdef uint8_t* p = <uint8_t*> <char*> out
        cdef size_t n = len(out) - 16
        if self.crypt(_ptr(nonce), _ptr(aad), len(aad), p, n, p + n) != CR_OK:
            raise ValueError("AES-GCM tag mismatch")
        return bytes(out[:n])

    def seal_inplace(self, const uint8_t[::1] nonce not None, uint8_t[::1] buf not None) -> None:
        """The raw primitive: buf = 4-byte AAD || data || 16-byte tag; for benchmarks."""
        if buf.shape[0] < 20 or nonce.shape[0] != 12:
            raise ValueError("buffer too short")
        if self.crypt(&nonce[0], &buf[0], 4, &buf[4], buf.shape[0] - 20,
                      &buf[buf.shape[0] - 16]) != CR_OK:
            raise ValueError("AES-GCM failed")


cdef class _EvpGcm(_Gcm):
    cdef void* ctx

    def __cinit__(self):
        self.ctx = NULL

    def __dealloc__(self):
        if self.ctx != NULL:
            o_CIPHER_CTX_free(self.ctx)

    cdef int setup(self, bytes key, bint encrypt) except -1:
        cdef const void* evp
        if len(key) == 16:
            evp = o_aes128_gcm
        elif len(key) == 32:
            evp = o_aes256_gcm
        else:
            raise ValueError("AES-GCM key must be 16 or 32 bytes")
        self.encrypt = encrypt
        self.ctx = o_CIPHER_CTX_new()
        if self.ctx == NULL:
            raise MemoryError()
        # Key schedule once; each packet only sets the nonce.
        if o_CipherInit_ex(self.ctx, evp, NULL, _ptr(key), NULL, encrypt) != 1:
            raise ValueError("EVP_CipherInit_ex(aes-gcm) failed")
        self.nogil_ok = True
        return 0

    cdef int crypt(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                   uint8_t* data, size_t n, uint8_t* tag) noexcept nogil:
        return self.crypt_to(nonce, aad, aadlen, data, data, n, tag)

    cdef int crypt_to(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                      const uint8_t* src, uint8_t* dst, size_t n, uint8_t* tag) noexcept nogil:
        cdef int outl
        cdef uint8_t fin[32]
        if n > 0x7fffffff or aadlen > 0x7fffffff:
            return CR_FAIL
        if o_CipherInit_ex(self.ctx, NULL, NULL, NULL, nonce, -1) != 1:
            return CR_FAIL
        if not self.encrypt:
            if o_CIPHER_CTX_ctrl(self.ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1:
                return CR_FAIL
        if aadlen and o_CipherUpdate(self.ctx, NULL, &outl, aad, <int> aadlen) != 1:
            return CR_FAIL
        if n and o_CipherUpdate(self.ctx, dst, &outl, src, <int> n) != 1:
            return CR_FAIL
        if o_CipherFinal_ex(self.ctx, fin, &outl) != 1:
            return CR_FAIL if self.encrypt else CR_BAD_MAC
        if self.encrypt:
            if o_CIPHER_CTX_ctrl(self.ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1:
                return CR_FAIL
        return CR_OK


cdef class _HybridGcm(_Gcm):
    """System OpenSSL for small packets, `cryptography`'s AESGCM *_into for
    big ones.  Why: cryptography's wheel carries a newer OpenSSL whose
    AES-GCM is faster per byte than the system 3.0 (measured 1.3-2.5x at
    32 KiB here, VAES/AVX-512 code), which outweighs the Python call and the
    copy back above ~16 KiB.  The price is that big packets are sealed with
    the GIL held (nogil_ok is False).  make_cipher() uses it for sealing
    only; backend "nogil" never uses it.  Each call passes the same four
    _RawBuf objects (nonce, AAD, input, output), re-pointed per packet, so
    no Python object is built per packet on our side."""
    cdef _EvpGcm evp
    cdef object into            # bound encrypt_into or decrypt_into
    cdef object invalid_tag
    cdef _RawBuf b_nonce, b_aad, b_in, b_out
    cdef bytearray scratch
    cdef char* sbuf
    cdef size_t threshold

    cdef int setup(self, bytes key, bint encrypt) except -1:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.evp = _EvpGcm.__new__(_EvpGcm)
        self.evp.setup(key, encrypt)
        aead = AESGCM(key)
        self.into = aead.encrypt_into if encrypt else aead.decrypt_into
        self.invalid_tag = InvalidTag
        self.encrypt = encrypt
        self.threshold = GCM_HYBRID_MIN
        self.b_nonce = _raw_buf(False)
        self.b_aad = _raw_buf(False)
        self.b_in = _raw_buf(False)
        self.b_out = _raw_buf(True)
        self.scratch = bytearray(0)
        self.sbuf = NULL
        return 0

    cdef int crypt(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                   uint8_t* data, size_t n, uint8_t* tag) noexcept nogil:
        if n < self.threshold:
            return self.evp.crypt(nonce, aad, aadlen, data, n, tag)
        with gil:
            return self._big(nonce, aad, aadlen, data, n, tag)

    cdef int crypt_to(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                      const uint8_t* src, uint8_t* dst, size_t n, uint8_t* tag) noexcept nogil:
        # Out of place is where the hybrid shines: *_into writes straight to
        # dst, with no copy back. cryptography wants ciphertext || tag as one
        # buffer: the engine lays packets out that way.
        if n < self.threshold or tag != (dst + n if self.encrypt else src + n):
            return self.evp.crypt_to(nonce, aad, aadlen, src, dst, n, tag)
        with gil:
            return self._call(nonce, aad, aadlen, src, dst, n)

    cdef int _call(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                   const uint8_t* src, uint8_t* dst, size_t n) noexcept:
        """One encrypt_into/decrypt_into: src[0:n] (+ its tag when
        decrypting) -> dst[0:n] (+ the tag when encrypting)."""
        cdef size_t extra = 16 if self.encrypt else 0
        self.b_nonce.bind(nonce, 12)
        self.b_aad.bind(aad, aadlen)
        self.b_in.bind(src, n + 16 - extra)
        self.b_out.bind(dst, n + extra)
        try:
            self.into(self.b_nonce, self.b_in, self.b_aad, self.b_out)
            return CR_OK
        except BaseException as e:
            return CR_BAD_MAC if isinstance(e, self.invalid_tag) else CR_FAIL
        finally:
            self.b_nonce.unbind()
            self.b_aad.unbind()
            self.b_in.unbind()
            self.b_out.unbind()

    cdef int _big(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                  uint8_t* data, size_t n, uint8_t* tag) noexcept:
        cdef int rc
        if tag != data + n and not self.encrypt:
            return CR_FAIL          # the engine always passes them contiguous
        if <size_t> len(self.scratch) < n + 16:
            try:
                self.scratch = bytearray(n + 4096)
            except MemoryError:
                return CR_FAIL
            self.sbuf = <char*> self.scratch
        # Out of place into scratch (cryptography's input and output buffers
        # must not alias), then copied back in place.
        rc = self._call(nonce, aad, aadlen, data, <uint8_t*> self.sbuf, n)
        if rc == CR_OK:
            memcpy(data, self.sbuf, n)
            if self.encrypt:
                memcpy(tag, self.sbuf + n, 16)
        return rc


# ------------------------------------------------------- ChaCha20/Poly1305

cdef class _Chacha:
    """Stateless ChaCha20 (64-bit nonce, 64-bit block counter: the original
    variant OpenSSH uses) and Poly1305."""
    cdef bint nogil_ok

    cdef int xor(self, uint8_t* out, const uint8_t* inp, size_t n, const uint8_t* nonce8,
                 uint64_t ic, const uint8_t* key) noexcept nogil:
        return CR_FAIL

    cdef int poly(self, uint8_t* tag, const uint8_t* data, size_t n,
                  const uint8_t* key) noexcept nogil:
        return CR_FAIL

    # CR_OK or CR_BAD_MAC; constant time in both implementations.
    cdef int poly_verify(self, const uint8_t* tag, const uint8_t* data, size_t n,
                         const uint8_t* key) noexcept nogil:
        return CR_FAIL

    cdef int seal_packet(self, const uint8_t* kmain, const uint8_t* khdr, uint32_t seq,
                         uint8_t* pkt, size_t n, uint8_t* mac_out) noexcept nogil:
        cdef uint8_t nonce[8]
        cdef uint8_t pk[32]
        cdef int rc
        _be64(nonce, seq)
        rc = self.xor(pk, _ZERO32, 32, nonce, 0, kmain)
        if rc == CR_OK:
            rc = self.xor(pkt, pkt, 4, nonce, 0, khdr)
        if rc == CR_OK:
            rc = self.xor(pkt + 4, pkt + 4, n - 4, nonce, 1, kmain)
        if rc == CR_OK:
            rc = self.poly(mac_out, pkt, n, pk)
        sshcore_wipe(pk, 32)
        return rc

    cdef int open_packet(self, const uint8_t* kmain, const uint8_t* khdr, uint32_t seq,
                         uint8_t* pkt, size_t n, const uint8_t* mac) noexcept nogil:
        cdef uint8_t nonce[8]
        cdef uint8_t pk[32]
        cdef int rc
        _be64(nonce, seq)
        rc = self.xor(pk, _ZERO32, 32, nonce, 0, kmain)
        if rc == CR_OK:
            rc = self.poly_verify(mac, pkt, n, pk)
        sshcore_wipe(pk, 32)
        if rc == CR_OK:
            rc = self.xor(pkt, pkt, 4, nonce, 0, khdr)
        if rc == CR_OK:
            rc = self.xor(pkt + 4, pkt + 4, n - 4, nonce, 1, kmain)
        return rc

    # Verify, then decrypt the body pkt[4:n] into dst[0:n-4] (the length is
    # left encrypted: the engine learnt it from peek_length).
    cdef int open_packet_to(self, const uint8_t* kmain, uint32_t seq, const uint8_t* pkt,
                            size_t n, const uint8_t* mac, uint8_t* dst) noexcept nogil:
        cdef uint8_t nonce[8]
        cdef uint8_t pk[32]
        cdef int rc
        _be64(nonce, seq)
        rc = self.xor(pk, _ZERO32, 32, nonce, 0, kmain)
        if rc == CR_OK:
            rc = self.poly_verify(mac, pkt, n, pk)
        sshcore_wipe(pk, 32)
        if rc == CR_OK:
            rc = self.xor(dst, pkt + 4, n - 4, nonce, 1, kmain)
        return rc

    def stream_xor(self, bytes key, bytes nonce, uint64_t counter, data) -> bytes:
        """ChaCha20(key, 8-byte nonce, 64-bit block counter) XOR data; for tests."""
        if len(key) != 32 or len(nonce) != 8:
            raise ValueError("32-byte key and 8-byte nonce required")
        cdef bytearray out = bytearray(data)
        cdef uint8_t* p = <uint8_t*> <char*> out
        if self.xor(p, p, len(out), _ptr(nonce), counter, _ptr(key)) != CR_OK:
            raise ValueError("ChaCha20 failed")
        return bytes(out)

    def poly1305(self, bytes key, data) -> bytes:
        cdef bytes d = bytes(data)
        cdef uint8_t tag[16]
        if len(key) != 32:
            raise ValueError("32-byte key required")
        if self.poly(tag, _ptr(d), len(d), _ptr(key)) != CR_OK:
            raise ValueError("Poly1305 failed")
        return PyBytes_FromStringAndSize(<char*> tag, 16)

    def poly1305_verify(self, bytes key, data, bytes tag) -> bool:
        cdef bytes d = bytes(data)
        if len(key) != 32 or len(tag) != 16:
            raise ValueError("32-byte key and 16-byte tag required")
        return self.poly_verify(_ptr(tag), _ptr(d), len(d), _ptr(key)) == CR_OK


cdef class _SodiumChacha(_Chacha):
    def __cinit__(self):
        self.nogil_ok = True

    cdef int xor(self, uint8_t* out, const uint8_t* inp, size_t n, const uint8_t* nonce8,
                 uint64_t ic, const uint8_t* key) noexcept nogil:
        return CR_OK if s_chacha20_xor_ic(out, inp, n, nonce8, ic, key) == 0 else CR_FAIL

    cdef int poly(self, uint8_t* tag, const uint8_t* data, size_t n,
                  const uint8_t* key) noexcept nogil:
        return CR_OK if s_poly1305(tag, data, n, key) == 0 else CR_FAIL

    cdef int poly_verify(self, const uint8_t* tag, const uint8_t* data, size_t n,
                         const uint8_t* key) noexcept nogil:
        return CR_OK if s_poly1305_verify(tag, data, n, key) == 0 else CR_BAD_MAC


cdef class _EvpChacha(_Chacha):
    """OpenSSL >= 3.0 EVP_chacha20 and EVP_MAC POLY1305.  Holds contexts, so
    one instance per PacketCipher (not shared between directions)."""
    cdef void* cctx
    cdef void* mctx

    def __cinit__(self):
        self.cctx = NULL
        self.mctx = NULL

    def __dealloc__(self):
        if self.cctx != NULL:
            o_CIPHER_CTX_free(self.cctx)
        if self.mctx != NULL:
            o_MAC_CTX_free(self.mctx)

    cdef int setup(self) except -1:
        self.cctx = o_CIPHER_CTX_new()
        self.mctx = o_MAC_CTX_new(o_poly1305_mac)
        if self.cctx == NULL or self.mctx == NULL:
            raise MemoryError()
        if o_CipherInit_ex(self.cctx, o_chacha20, NULL, NULL, NULL, 1) != 1:
            raise ValueError("EVP_CipherInit_ex(chacha20) failed")
        self.nogil_ok = True
        return 0

    cdef int xor(self, uint8_t* out, const uint8_t* inp, size_t n, const uint8_t* nonce8,
                 uint64_t ic, const uint8_t* key) noexcept nogil:
        cdef uint8_t iv[16]
        cdef int outl, i
        # OpenSSL's 16-byte IV: block counter (little endian) then nonce.
        for i in range(8):
            iv[i] = <uint8_t> (ic >> (8 * i))
        memcpy(iv + 8, nonce8, 8)
        if n > 0x7fffffff or o_CipherInit_ex(self.cctx, NULL, NULL, key, iv, 1) != 1:
            return CR_FAIL
        if n and o_CipherUpdate(self.cctx, out, &outl, inp, <int> n) != 1:
            return CR_FAIL
        return CR_OK

    cdef int poly(self, uint8_t* tag, const uint8_t* data, size_t n,
                  const uint8_t* key) noexcept nogil:
        cdef size_t outl = 0
        if o_MAC_init(self.mctx, key, 32, NULL) != 1:
            return CR_FAIL
        if n and o_MAC_update(self.mctx, data, n) != 1:
            return CR_FAIL
        if o_MAC_final(self.mctx, tag, &outl, 16) != 1 or outl != 16:
            return CR_FAIL
        return CR_OK

    cdef int poly_verify(self, const uint8_t* tag, const uint8_t* data, size_t n,
                         const uint8_t* key) noexcept nogil:
        cdef uint8_t calc[16]
        cdef int rc = self.poly(calc, data, n, key)
        if rc != CR_OK:
            return rc
        return CR_OK if sshcore_ct_equal(calc, tag, 16) else CR_BAD_MAC

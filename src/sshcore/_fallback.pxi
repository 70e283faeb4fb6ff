# Fallback primitives on the `cryptography` package.  They implement the
# same nogil methods as the C ones by re-acquiring the GIL inside, so the
# packet ciphers and the engine never know which implementation runs.
# Slow per packet (Python objects per call) but always available.
# Included by crypto.pyx.


cdef class _PyCtr(_Ctr):
    cdef object enc
    cdef bytearray scratch

    cdef int setup(self, bytes key, bytes iv) except -1:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        self.enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
        self.scratch = bytearray(0)
        return 0

    cdef int xor(self, uint8_t* buf, size_t n) noexcept nogil:
        if n == 0:
            return CR_OK
        with gil:
            try:
                # update_into wants block_size - 1 spare bytes in its output.
                if <size_t> len(self.scratch) < n + 15:
                    self.scratch = bytearray(n + 15)
                if self.enc.update_into(_rview(buf, n), self.scratch) != n:
                    return CR_FAIL    # a CBC tail that is not a whole block
                memcpy(buf, <char*> self.scratch, n)
                return CR_OK
            except Exception:
                return CR_FAIL


cdef class _PyCbc(_PyCtr):
    """CBC in one direction on `cryptography` (which never pads on its own)."""

    cdef int setup_cbc(self, str algo, bytes key, bytes iv, bint encrypt) except -1:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        if algo == "3des":
            try:  # cryptography >= 43 keeps TripleDES among the "decrepit" ciphers
                from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
            except ImportError:
                TripleDES = algorithms.TripleDES
            cipher = Cipher(TripleDES(key), modes.CBC(iv))
        else:
            cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
        self.enc = cipher.encryptor() if encrypt else cipher.decryptor()
        self.scratch = bytearray(0)
        return 0


cdef class _PyHmac(_Mac):
    cdef object template
    cdef bint stdlib     # hashlib's hmac (RIPEMD-160: `cryptography` has none)

    cdef int setup(self, str digest, bytes key) except -1:
        if digest == "ripemd160":
            import hmac as stdlib_hmac
            self.template = stdlib_hmac.new(key, digestmod="ripemd160")
            self.out_len = self.template.digest_size
            self.stdlib = True
            return 0
        from cryptography.hazmat.primitives import hashes, hmac
        algo = {"sha256": hashes.SHA256, "sha512": hashes.SHA512, "sha1": hashes.SHA1,
                "md5": hashes.MD5}[digest]()
        self.out_len = algo.digest_size
        self.template = hmac.HMAC(key, algo)
        return 0

    cdef int compute(self, const uint8_t* prefix, size_t plen, const uint8_t* data, size_t n,
                     uint8_t* out) noexcept nogil:
        with gil:
            try:
                h = self.template.copy()
                if plen:
                    h.update(_rview(prefix, plen))
                h.update(_rview(data, n))
                d = h.digest() if self.stdlib else h.finalize()
                memcpy(out, <char*> d, self.out_len)
                return CR_OK
            except Exception:
                return CR_FAIL


cdef class _PyGcm(_Gcm):
    cdef object aead
    cdef object invalid_tag
    cdef bytearray scratch

    cdef int setup(self, bytes key, bint encrypt) except -1:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        if len(key) not in (16, 32):
            raise ValueError("AES-GCM key must be 16 or 32 bytes")
        self.aead = AESGCM(key)
        self.invalid_tag = InvalidTag
        self.encrypt = encrypt
        self.scratch = bytearray(0)
        return 0

    cdef int crypt(self, const uint8_t* nonce, const uint8_t* aad, size_t aadlen,
                   uint8_t* data, size_t n, uint8_t* tag) noexcept nogil:
        with gil:
            try:
                if <size_t> len(self.scratch) < n + 16:
                    self.scratch = bytearray(n + 16)
                out = memoryview(self.scratch)
                nb = PyBytes_FromStringAndSize(<char*> nonce, 12)
                ab = PyBytes_FromStringAndSize(<char*> aad, aadlen)
                if self.encrypt:
                    self.aead.encrypt_into(nb, _rview(data, n), ab, out[:n + 16])
                    memcpy(data, <char*> self.scratch, n)
                    memcpy(tag, (<char*> self.scratch) + n, 16)
                else:
                    ct = PyBytes_FromStringAndSize(<char*> data, n) + \
                        PyBytes_FromStringAndSize(<char*> tag, 16)
                    try:
                        self.aead.decrypt_into(nb, ct, ab, out[:n])
                    except self.invalid_tag:
                        return CR_BAD_MAC
                    memcpy(data, <char*> self.scratch, n)
                out.release()
                return CR_OK
            except Exception:
                return CR_FAIL


cdef class _PyChacha(_Chacha):
    cdef object Cipher, ChaCha20, Poly1305, InvalidSignature

    def __cinit__(self):
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
        from cryptography.hazmat.primitives.poly1305 import Poly1305
        self.Cipher = Cipher
        self.ChaCha20 = algorithms.ChaCha20
        self.Poly1305 = Poly1305
        self.InvalidSignature = InvalidSignature

    cdef int xor(self, uint8_t* out, const uint8_t* inp, size_t n, const uint8_t* nonce8,
                 uint64_t ic, const uint8_t* key) noexcept nogil:
        cdef uint8_t nonce16[16]
        cdef int i
        # cryptography's 16-byte nonce is OpenSSL's layout: the counter words
        # (little endian) then the nonce; with a 64-bit counter this is
        # exactly the original ChaCha20 state.
        for i in range(8):
            nonce16[i] = <uint8_t> (ic >> (8 * i))
        memcpy(nonce16 + 8, nonce8, 8)
        with gil:
            try:
                enc = self.Cipher(self.ChaCha20(PyBytes_FromStringAndSize(<char*> key, 32),
                                                PyBytes_FromStringAndSize(<char*> nonce16, 16)),
                                  None).encryptor()
                res = enc.update(_rview(inp, n))
                memcpy(out, <char*> res, n)
                return CR_OK
            except Exception:
                return CR_FAIL

    cdef int poly(self, uint8_t* tag, const uint8_t* data, size_t n,
                  const uint8_t* key) noexcept nogil:
        with gil:
            try:
                res = self.Poly1305.generate_tag(PyBytes_FromStringAndSize(<char*> key, 32),
                                                 _rview(data, n))
                memcpy(tag, <char*> res, 16)
                return CR_OK
            except Exception:
                return CR_FAIL

    cdef int poly_verify(self, const uint8_t* tag, const uint8_t* data, size_t n,
                         const uint8_t* key) noexcept nogil:
        with gil:
            try:
                self.Poly1305.verify_tag(PyBytes_FromStringAndSize(<char*> key, 32),
                                         _rview(data, n),
                                         PyBytes_FromStringAndSize(<char*> tag, 16))
                return CR_OK
            except self.InvalidSignature:
                return CR_BAD_MAC
            except Exception:
                return CR_FAIL

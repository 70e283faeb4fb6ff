# OpenSSL libcrypto entry points, resolved once with dlsym (no headers needed
# at build time).  All contexts are opaque pointers.  Included by crypto.pyx.
from libc.stdint cimport uint8_t

ctypedef void* (*fp_new)() noexcept nogil
ctypedef void (*fp_free)(void*) noexcept nogil
ctypedef const void* (*fp_getter)() noexcept nogil
ctypedef int (*fp_CipherInit_ex)(void* ctx, const void* cipher, void* impl,
                                 const uint8_t* key, const uint8_t* iv, int enc) noexcept nogil
ctypedef int (*fp_CipherUpdate)(void* ctx, uint8_t* out, int* outl,
                                const uint8_t* inp, int inl) noexcept nogil
ctypedef int (*fp_CipherFinal_ex)(void* ctx, uint8_t* out, int* outl) noexcept nogil
ctypedef int (*fp_CIPHER_CTX_ctrl)(void* ctx, int type, int arg, void* ptr) noexcept nogil
ctypedef int (*fp_HMAC_Init_ex)(void* ctx, const void* key, int keylen,
                                const void* md, void* impl) noexcept nogil
ctypedef int (*fp_HMAC_Update)(void* ctx, const uint8_t* data, size_t n) noexcept nogil
ctypedef int (*fp_HMAC_Final)(void* ctx, uint8_t* md, unsigned int* n) noexcept nogil
ctypedef int (*fp_RAND_bytes)(uint8_t* buf, int n) noexcept nogil

cdef enum:
    EVP_CTRL_AEAD_GET_TAG = 0x10
    EVP_CTRL_AEAD_SET_TAG = 0x11

cdef fp_new o_CIPHER_CTX_new = NULL
cdef fp_free o_CIPHER_CTX_free = NULL
cdef fp_CipherInit_ex o_CipherInit_ex = NULL
cdef fp_CipherUpdate o_CipherUpdate = NULL
cdef fp_CipherFinal_ex o_CipherFinal_ex = NULL
cdef fp_CIPHER_CTX_ctrl o_CIPHER_CTX_ctrl = NULL
cdef fp_new o_HMAC_CTX_new = NULL
cdef fp_free o_HMAC_CTX_free = NULL
cdef fp_HMAC_Init_ex o_HMAC_Init_ex = NULL
cdef fp_HMAC_Update o_HMAC_Update = NULL
cdef fp_HMAC_Final o_HMAC_Final = NULL
cdef fp_RAND_bytes o_RAND_bytes = NULL
# EVP_CIPHER / EVP_MD singletons, fetched once.
cdef const void* o_aes128_ctr = NULL
cdef const void* o_aes192_ctr = NULL
cdef const void* o_aes256_ctr = NULL
cdef const void* o_aes128_gcm = NULL
cdef const void* o_aes256_gcm = NULL
cdef const void* o_sha1 = NULL
cdef const void* o_sha256 = NULL
cdef const void* o_sha512 = NULL


cdef bint _load_openssl(void* h) noexcept:
    """Resolve every symbol or none (a partial set would be unusable)."""
    global o_CIPHER_CTX_new, o_CIPHER_CTX_free, o_CipherInit_ex, o_CipherUpdate
    global o_CipherFinal_ex, o_CIPHER_CTX_ctrl, o_HMAC_CTX_new, o_HMAC_CTX_free
    global o_HMAC_Init_ex, o_HMAC_Update, o_HMAC_Final, o_RAND_bytes
    global o_aes128_ctr, o_aes192_ctr, o_aes256_ctr, o_aes128_gcm, o_aes256_gcm
    global o_sha1, o_sha256, o_sha512
    cdef void* s[20]
    cdef const char* names[20]
    names[:] = [b"EVP_CIPHER_CTX_new", b"EVP_CIPHER_CTX_free", b"EVP_CipherInit_ex",
                b"EVP_CipherUpdate", b"EVP_CipherFinal_ex", b"EVP_CIPHER_CTX_ctrl",
                b"HMAC_CTX_new", b"HMAC_CTX_free", b"HMAC_Init_ex", b"HMAC_Update",
                b"HMAC_Final", b"RAND_bytes", b"EVP_aes_128_ctr", b"EVP_aes_192_ctr",
                b"EVP_aes_256_ctr", b"EVP_aes_128_gcm", b"EVP_aes_256_gcm", b"EVP_sha1",
                b"EVP_sha256", b"EVP_sha512"]
    cdef int i
    for i in range(20):
        s[i] = sshcore_dlsym(h, names[i])
        if s[i] == NULL:
            return False
    o_CIPHER_CTX_new = <fp_new> s[0]
    o_CIPHER_CTX_free = <fp_free> s[1]
    o_CipherInit_ex = <fp_CipherInit_ex> s[2]
    o_CipherUpdate = <fp_CipherUpdate> s[3]
    o_CipherFinal_ex = <fp_CipherFinal_ex> s[4]
    o_CIPHER_CTX_ctrl = <fp_CIPHER_CTX_ctrl> s[5]
    o_HMAC_CTX_new = <fp_new> s[6]
    o_HMAC_CTX_free = <fp_free> s[7]
    o_HMAC_Init_ex = <fp_HMAC_Init_ex> s[8]
    o_HMAC_Update = <fp_HMAC_Update> s[9]
    o_HMAC_Final = <fp_HMAC_Final> s[10]
    o_RAND_bytes = <fp_RAND_bytes> s[11]
    o_aes128_ctr = (<fp_getter> s[12])()
    o_aes192_ctr = (<fp_getter> s[13])()
    o_aes256_ctr = (<fp_getter> s[14])()
    o_aes128_gcm = (<fp_getter> s[15])()
    o_aes256_gcm = (<fp_getter> s[16])()
    o_sha1 = (<fp_getter> s[17])()
    o_sha256 = (<fp_getter> s[18])()
    o_sha512 = (<fp_getter> s[19])()
    return (o_aes128_ctr != NULL and o_aes192_ctr != NULL and o_aes256_ctr != NULL
            and o_aes128_gcm != NULL and o_aes256_gcm != NULL and o_sha1 != NULL
            and o_sha256 != NULL and o_sha512 != NULL)


# Optional (OpenSSL >= 3.0): ChaCha20 and Poly1305 through EVP.  On AVX-512
# machines OpenSSL's ChaCha20/Poly1305 run ~2-3x faster than the libsodium
# PyNaCl bundles, so big chacha20-poly1305 packets use these when present.
ctypedef void* (*fp_MAC_fetch)(void* libctx, const char* name, const char* props) noexcept nogil
ctypedef void* (*fp_MAC_CTX_new)(void* mac) noexcept nogil
ctypedef int (*fp_MAC_init)(void* ctx, const uint8_t* key, size_t keylen,
                            const void* params) noexcept nogil
ctypedef int (*fp_MAC_update)(void* ctx, const uint8_t* data, size_t n) noexcept nogil
ctypedef int (*fp_MAC_final)(void* ctx, uint8_t* out, size_t* outl, size_t outsize) noexcept nogil

cdef const void* o_chacha20 = NULL
cdef void* o_poly1305_mac = NULL         # EVP_MAC*, fetched once, never freed
cdef fp_MAC_CTX_new o_MAC_CTX_new = NULL
cdef fp_free o_MAC_CTX_free = NULL
cdef fp_MAC_init o_MAC_init = NULL
cdef fp_MAC_update o_MAC_update = NULL
cdef fp_MAC_final o_MAC_final = NULL


cdef bint _load_openssl_chacha(void* h) noexcept:
    global o_chacha20, o_poly1305_mac, o_MAC_CTX_new, o_MAC_CTX_free
    global o_MAC_init, o_MAC_update, o_MAC_final
    cdef void* chacha = sshcore_dlsym(h, b"EVP_chacha20")
    cdef void* fetch = sshcore_dlsym(h, b"EVP_MAC_fetch")
    cdef void* a = sshcore_dlsym(h, b"EVP_MAC_CTX_new")
    cdef void* b = sshcore_dlsym(h, b"EVP_MAC_CTX_free")
    cdef void* c = sshcore_dlsym(h, b"EVP_MAC_init")
    cdef void* d = sshcore_dlsym(h, b"EVP_MAC_update")
    cdef void* e = sshcore_dlsym(h, b"EVP_MAC_final")
    if chacha == NULL or fetch == NULL or a == NULL or b == NULL or c == NULL or d == NULL \
            or e == NULL:
        return False
    o_chacha20 = (<fp_getter> chacha)()
    o_poly1305_mac = (<fp_MAC_fetch> fetch)(NULL, b"POLY1305", NULL)
    if o_chacha20 == NULL or o_poly1305_mac == NULL:
        return False
    o_MAC_CTX_new = <fp_MAC_CTX_new> a
    o_MAC_CTX_free = <fp_free> b
    o_MAC_init = <fp_MAC_init> c
    o_MAC_update = <fp_MAC_update> d
    o_MAC_final = <fp_MAC_final> e
    return True


# Optional: the legacy suites (CBC ciphers, MD5 and RIPEMD-160 HMACs).  Loaded
# apart so that a libcrypto without one of them keeps the fast path for the
# rest; each missing one is simply NULL (see _legacy_available in crypto.pyx).
ctypedef int (*fp_CIPHER_CTX_set_padding)(void* ctx, int pad) noexcept nogil

cdef fp_CIPHER_CTX_set_padding o_CIPHER_CTX_set_padding = NULL
cdef const void* o_aes128_cbc = NULL
cdef const void* o_aes192_cbc = NULL
cdef const void* o_aes256_cbc = NULL
cdef const void* o_des_ede3_cbc = NULL
cdef const void* o_md5 = NULL
cdef const void* o_ripemd160 = NULL


cdef const void* _evp_get(void* h, const char* name) noexcept:
    cdef void* f = sshcore_dlsym(h, name)
    return (<fp_getter> f)() if f != NULL else NULL


cdef void _load_openssl_legacy(void* h) noexcept:
    global o_CIPHER_CTX_set_padding, o_aes128_cbc, o_aes192_cbc, o_aes256_cbc
    global o_des_ede3_cbc, o_md5, o_ripemd160
    o_CIPHER_CTX_set_padding = <fp_CIPHER_CTX_set_padding> sshcore_dlsym(
        h, b"EVP_CIPHER_CTX_set_padding")
    if o_CIPHER_CTX_set_padding != NULL:
        o_aes128_cbc = _evp_get(h, b"EVP_aes_128_cbc")
        o_aes192_cbc = _evp_get(h, b"EVP_aes_192_cbc")
        o_aes256_cbc = _evp_get(h, b"EVP_aes_256_cbc")
        o_des_ede3_cbc = _evp_get(h, b"EVP_des_ede3_cbc")
    o_md5 = _evp_get(h, b"EVP_md5")
    # OpenSSL 3 may return a RIPEMD-160 EVP_MD that no provider implements
    # (before 3.0.7 it lived in the legacy provider only); the known-answer
    # test in crypto.pyx decides whether it is usable.
    o_ripemd160 = _evp_get(h, b"EVP_ripemd160")

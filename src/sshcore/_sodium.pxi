# libsodium entry points (from PyNaCl's bundled _sodium extension), resolved
# once with dlsym.  This relies on a build detail of PyNaCl's wheels (they
# export libsodium's symbols), so it is checked at import and optional.
from libc.stdint cimport uint8_t, uint64_t

ctypedef int (*fp_stream_chacha20)(uint8_t* c, unsigned long long clen,
                                   const uint8_t* n, const uint8_t* k) noexcept nogil
ctypedef int (*fp_stream_chacha20_xor_ic)(uint8_t* c, const uint8_t* m, unsigned long long mlen,
                                          const uint8_t* n, uint64_t ic,
                                          const uint8_t* k) noexcept nogil
ctypedef int (*fp_onetimeauth_poly1305)(uint8_t* out, const uint8_t* inp,
                                        unsigned long long inlen, const uint8_t* k) noexcept nogil
ctypedef int (*fp_onetimeauth_poly1305_verify)(const uint8_t* h, const uint8_t* inp,
                                               unsigned long long inlen,
                                               const uint8_t* k) noexcept nogil
ctypedef int (*fp_sodium_init)() noexcept nogil

cdef fp_stream_chacha20 s_stream_chacha20 = NULL
cdef fp_stream_chacha20_xor_ic s_chacha20_xor_ic = NULL
cdef fp_onetimeauth_poly1305 s_poly1305 = NULL
cdef fp_onetimeauth_poly1305_verify s_poly1305_verify = NULL


cdef bint _load_sodium(void* h) noexcept:
    global s_stream_chacha20, s_chacha20_xor_ic, s_poly1305, s_poly1305_verify
    cdef void* init = sshcore_dlsym(h, b"sodium_init")
    cdef void* a = sshcore_dlsym(h, b"crypto_stream_chacha20")
    cdef void* b = sshcore_dlsym(h, b"crypto_stream_chacha20_xor_ic")
    cdef void* c = sshcore_dlsym(h, b"crypto_onetimeauth_poly1305")
    cdef void* d = sshcore_dlsym(h, b"crypto_onetimeauth_poly1305_verify")
    if init == NULL or a == NULL or b == NULL or c == NULL or d == NULL:
        return False
    # PyNaCl already ran it; idempotent, and -1 means unusable.
    if (<fp_sodium_init> init)() < 0:
        return False
    s_stream_chacha20 = <fp_stream_chacha20> a
    s_chacha20_xor_ic = <fp_stream_chacha20_xor_ic> b
    s_poly1305 = <fp_onetimeauth_poly1305> c
    s_poly1305_verify = <fp_onetimeauth_poly1305_verify> d
    return True

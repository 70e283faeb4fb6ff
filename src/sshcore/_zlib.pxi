# zlib entry points for SSH compression (RFC 4253 §6.2), resolved once with
# dlsym from the libz that Python's own zlib module has loaded (no zlib
# headers or link flags needed at build time).  Included by packet.pyx.
#
# The per-packet calls are C function pointers, safe without the GIL, so a
# compressed connection keeps the engine's packet loop in C.  Where libz
# cannot be resolved (e.g. a Python whose zlib module links it statically and
# does not export it), compression_available() is False and the upper layers
# do not offer zlib; nothing falls back to a per-packet Python path.
import os
import sys

cdef extern from *:
    """
    #ifdef _WIN32
    #include <windows.h>
    static void* sshcore_z_dlopen(const char* path, int noload) {
        return (void*)(noload ? GetModuleHandleA(path) : LoadLibraryA(path));
    }
    static void* sshcore_z_dlsym(void* h, const char* name) {
        return h ? (void*)GetProcAddress((HMODULE)h, name) : NULL;
    }
    #else
    #include <dlfcn.h>
    #ifndef RTLD_NOLOAD
    #define RTLD_NOLOAD 0
    #endif
    static void* sshcore_z_dlopen(const char* path, int noload) {
        return dlopen(path, RTLD_NOW | RTLD_LOCAL | (noload ? RTLD_NOLOAD : 0));
    }
    static void* sshcore_z_dlsym(void* h, const char* name) { return h ? dlsym(h, name) : NULL; }
    #endif
    /* zlib's z_stream, field for field (zlib.h; uLong is unsigned long, also
       on LLP64).  inflateInit_/deflateInit_ are given sizeof() of this and
       refuse to run (Z_VERSION_ERROR) if it does not match the library's. */
    typedef struct {
        const unsigned char* next_in;
        unsigned int avail_in;
        unsigned long total_in;
        unsigned char* next_out;
        unsigned int avail_out;
        unsigned long total_out;
        const char* msg;
        void* state;
        void* zalloc;
        void* zfree;
        void* opaque;
        int data_type;
        unsigned long adler;
        unsigned long reserved;
    } sshcore_zstream;
    """
    void* sshcore_z_dlopen(const char* path, int noload) noexcept nogil
    void* sshcore_z_dlsym(void* h, const char* name) noexcept nogil
    ctypedef struct sshcore_zstream:
        const uint8_t* next_in
        unsigned int avail_in
        uint8_t* next_out
        unsigned int avail_out
        const char* msg
        void* zalloc
        void* zfree
        void* opaque

cdef enum:
    Z_OK = 0
    Z_STREAM_END = 1
    Z_BUF_ERROR = -5
    Z_NO_FLUSH = 0
    Z_PARTIAL_FLUSH = 1
    Z_SYNC_FLUSH = 2
    # OpenSSH compresses at level 6 (packet.c, start_compression_out).
    Z_SSH_LEVEL = 6

ctypedef int (*fp_deflateInit_)(sshcore_zstream* s, int level, const char* version,
                                int stream_size) noexcept nogil
ctypedef int (*fp_inflateInit_)(sshcore_zstream* s, const char* version,
                                int stream_size) noexcept nogil
ctypedef int (*fp_zflate)(sshcore_zstream* s, int flush) noexcept nogil
ctypedef int (*fp_zend)(sshcore_zstream* s) noexcept nogil
ctypedef const char* (*fp_zlibVersion)() noexcept nogil

cdef fp_deflateInit_ z_deflateInit_ = NULL
cdef fp_inflateInit_ z_inflateInit_ = NULL
cdef fp_zflate z_deflate = NULL
cdef fp_zflate z_inflate = NULL
cdef fp_zend z_deflateEnd = NULL
cdef fp_zend z_inflateEnd = NULL
cdef const char* z_version = NULL
cdef bint _have_zlib = False


cdef bint _load_zlib(void* h) noexcept:
    """Resolve every symbol or none."""
    global z_deflateInit_, z_inflateInit_, z_deflate, z_inflate, z_deflateEnd, z_inflateEnd
    global z_version
    cdef void* s[7]
    cdef const char* names[7]
    names[:] = [b"deflateInit_", b"inflateInit_", b"deflate", b"inflate", b"deflateEnd",
                b"inflateEnd", b"zlibVersion"]
    cdef int i
    for i in range(7):
        s[i] = sshcore_z_dlsym(h, names[i])
        if s[i] == NULL:
            return False
    z_deflateInit_ = <fp_deflateInit_> s[0]
    z_inflateInit_ = <fp_inflateInit_> s[1]
    z_deflate = <fp_zflate> s[2]
    z_inflate = <fp_zflate> s[3]
    z_deflateEnd = <fp_zend> s[4]
    z_inflateEnd = <fp_zend> s[5]
    z_version = (<fp_zlibVersion> s[6])()
    return z_version != NULL


cdef sshcore_zstream* _zstream_new(bint deflating) noexcept:
    """A fresh stream (level 6 / default window), or NULL."""
    cdef sshcore_zstream* z = <sshcore_zstream*> calloc(1, sizeof(sshcore_zstream))
    cdef int rc
    if z == NULL:
        return NULL
    if deflating:
        rc = z_deflateInit_(z, Z_SSH_LEVEL, z_version, <int> sizeof(sshcore_zstream))
    else:
        rc = z_inflateInit_(z, z_version, <int> sizeof(sshcore_zstream))
    if rc != Z_OK:
        free(z)
        return NULL
    return z


cdef void _zstream_free(sshcore_zstream* z, bint deflating) noexcept:
    if z == NULL:
        return
    if deflating:
        z_deflateEnd(z)
    else:
        z_inflateEnd(z)
    free(z)


cdef bint _selftest_zlib():
    """Our deflate must be readable by Python's zlib, and the reverse."""
    import zlib
    cdef sshcore_zstream* d = _zstream_new(True)
    cdef sshcore_zstream* f = _zstream_new(False)
    cdef uint8_t out[512]
    cdef bytes msg = b"sshcore zlib self-test " * 8
    cdef bytes blob
    cdef bint ok = False
    if d == NULL or f == NULL:
        _zstream_free(d, True)
        _zstream_free(f, False)
        return False
    try:
        d.next_in = <const uint8_t*> msg
        d.avail_in = <unsigned int> len(msg)
        d.next_out = out
        d.avail_out = sizeof(out)
        if z_deflate(d, Z_PARTIAL_FLUSH) != Z_OK or d.avail_in != 0:
            return False
        blob = (<char*> out)[:sizeof(out) - d.avail_out]
        if zlib.decompressobj().decompress(blob) != msg:
            return False
        c = zlib.compressobj(6)
        blob = c.compress(msg) + c.flush(zlib.Z_SYNC_FLUSH)
        f.next_in = <const uint8_t*> blob
        f.avail_in = <unsigned int> len(blob)
        f.next_out = out
        f.avail_out = sizeof(out)
        if z_inflate(f, Z_SYNC_FLUSH) != Z_OK or f.avail_in != 0:
            return False
        ok = (<char*> out)[:sizeof(out) - f.avail_out] == msg
        return ok
    finally:
        _zstream_free(d, True)
        _zstream_free(f, False)


def _libz_candidates():
    import zlib  # loads libz (dynamically linked builds) into the process
    if sys.platform == "win32":
        return []
    if sys.platform == "darwin":
        names = ["libz.1.dylib", "libz.dylib"]
    else:
        names = ["libz.so.1", "libz.so"]
    # Already loaded (by the zlib module) first; then the module itself
    # (static builds that export the symbols), then the system library.
    return ([(n, True) for n in names] + [(getattr(zlib, "__file__", None), False)]
            + [(n, False) for n in names])


def _init_zlib():
    global _have_zlib
    cdef void* h
    cdef bytes p
    if os.environ.get("SSHCORE_NO_ZLIB"):
        return
    try:
        for path, noload in _libz_candidates():
            if not path:
                continue
            p = os.fsencode(path)
            h = sshcore_z_dlopen(p, noload)
            if h != NULL and _load_zlib(h) and _selftest_zlib():
                _have_zlib = True
                return
    except Exception:
        _have_zlib = False


_init_zlib()


def compression_available() -> bool:
    """True when zlib was resolved: "zlib" and "zlib@openssh.com" can run."""
    return _have_zlib

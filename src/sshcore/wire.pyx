# cython: language_level=3
"""RFC 4251 §5 data types: readers and writers for SSH message payloads.

Used by the Python protocol layer for every message that is not bulk
channel data.  Every length read from the wire is checked against what is
left before anything is allocated, so a hostile length cannot make us
allocate or read past the payload.
"""
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.string cimport memchr


class WireError(ValueError):
    """A payload was truncated or malformed."""


cdef class Reader:
    """Sequential reader over one message payload (copied into an owned bytes)."""

    def __cinit__(self, data):
        self._data = bytes(data)
        self._buf = <const uint8_t*> (<bytes> self._data)
        self._len = len(self._data)
        self._pos = 0

    cdef inline int _need(self, Py_ssize_t n) except -1:
        if n < 0 or self._len - self._pos < n:
            raise WireError(
                "truncated SSH payload: need %d bytes at offset %d of %d" % (n, self._pos, self._len))
        return 0

    @property
    def pos(self) -> int:
        return self._pos

    @property
    def remaining_length(self) -> int:
        return self._len - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._len

    def expect_end(self) -> None:
        if self._pos != self._len:
            raise WireError("%d unexpected trailing bytes in SSH payload" % (self._len - self._pos))

    cpdef int byte(self) except -1:
        self._need(1)
        self._pos += 1
        return self._buf[self._pos - 1]

    cpdef bint boolean(self) except -1:
        return self.byte() != 0

    cpdef uint32_t uint32(self) except? 0xFFFFFFFF:
        self._need(4)
        cdef const uint8_t* p = self._buf + self._pos
        self._pos += 4
        return (<uint32_t> p[0] << 24) | (<uint32_t> p[1] << 16) | (<uint32_t> p[2] << 8) | p[3]

    cpdef uint64_t uint64(self) except? 0xFFFFFFFFFFFFFFFF:
        cdef uint64_t hi = self.uint32()
        cdef uint64_t lo = self.uint32()
        return (hi << 32) | lo

    cpdef bytes raw(self, Py_ssize_t n):
        self._need(n)
        self._pos += n
        return PyBytes_FromStringAndSize(<const char*> self._buf + self._pos - n, n)

    cpdef bytes string(self):
        cdef uint32_t n = self.uint32()
        return self.raw(n)

    def text(self, str encoding="utf-8", str errors="strict") -> str:
        """errors="replace" for text only shown to people (banners, DEBUG,
        DISCONNECT descriptions): servers send those in legacy encodings."""
        raw = self.string()
        try:
            return raw.decode(encoding, errors)
        except UnicodeDecodeError as exc:
            raise WireError("invalid %s text in SSH payload: %s" % (encoding, exc)) from None

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def name_list(self) -> list:
        raw = self.string()
        if not raw:
            return []
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise WireError("non-ASCII name-list in SSH payload") from None
        return text.split(",")

    def rest(self) -> bytes:
        """Everything not read yet."""
        return self.raw(self._len - self._pos)


cdef class Writer:
    """Appends SSH data types to a growing payload."""

    def __cinit__(self, initial=b""):
        self._out = bytearray(initial)

    def byte(self, int value) -> Writer:
        self._out.append(value & 0xFF)
        return self

    def boolean(self, value) -> Writer:
        self._out.append(1 if value else 0)
        return self

    def uint32(self, uint32_t value) -> Writer:
        self._out += value.to_bytes(4, "big")
        return self

    def uint64(self, uint64_t value) -> Writer:
        self._out += value.to_bytes(8, "big")
        return self

    def raw(self, data) -> Writer:
        self._out += data
        return self

    def string(self, data) -> Writer:
        if isinstance(data, str):
            data = (<str> data).encode("utf-8")
        self._out += len(data).to_bytes(4, "big")
        self._out += data
        return self

    def mpint(self, value) -> Writer:
        self._out += encode_mpint(value)
        return self

    def name_list(self, names) -> Writer:
        return self.string(",".join(names).encode("ascii"))

    def getvalue(self) -> bytes:
        return bytes(self._out)

    def __len__(self):
        return len(self._out)


def encode_string(data) -> bytes:
    """uint32 length + bytes."""
    if isinstance(data, str):
        data = (<str> data).encode("utf-8")
    return len(data).to_bytes(4, "big") + bytes(data)


def encode_mpint(value) -> bytes:
    """RFC 4251 mpint: two's complement, minimal length, as an SSH string."""
    value = int(value)
    if value == 0:
        return b"\x00\x00\x00\x00"
    nbytes = (value.bit_length() + 8) // 8  # room for the sign bit
    body = value.to_bytes(nbytes, "big", signed=True)
    # strip redundant leading bytes while keeping the sign
    while len(body) > 1 and (
        (body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)
    ):
        body = body[1:]
    return len(body).to_bytes(4, "big") + body

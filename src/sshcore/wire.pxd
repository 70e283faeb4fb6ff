from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef class Reader:
    cdef object _data
    cdef const uint8_t* _buf
    cdef Py_ssize_t _len
    cdef Py_ssize_t _pos
    cdef inline int _need(self, Py_ssize_t n) except -1
    cpdef int byte(self) except -1
    cpdef bint boolean(self) except -1
    cpdef uint32_t uint32(self) except? 0xFFFFFFFF
    cpdef uint64_t uint64(self) except? 0xFFFFFFFFFFFFFFFF
    cpdef bytes raw(self, Py_ssize_t n)
    cpdef bytes string(self)

cdef class Writer:
    cdef bytearray _out

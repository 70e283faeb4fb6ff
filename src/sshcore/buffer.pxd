# The contract of buffer.pyx: a malloc'd block that can be exported as
# memoryviews safely (see buffer.pyx for why blocks are never realloc'd).

cdef class Block:
    cdef unsigned char* data
    cdef Py_ssize_t size
    cdef Py_ssize_t exports          # live buffer exports (memoryviews)
    cdef Py_ssize_t _voff, _vlen     # region handed to the next __getbuffer__
    cdef bint _vreadonly
    cdef object view(self, Py_ssize_t off, Py_ssize_t n, bint readonly)

cdef Block new_block(Py_ssize_t size)

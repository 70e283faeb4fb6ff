# cython: language_level=3
"""Fixed-size memory blocks handed out as memoryviews.

The engine's receive and send buffers live in these blocks.  Python code gets
memoryviews of them (``recv_buffer()`` for ``sock.recv_into``, ``output_view()``
for ``sock.send``), and a memoryview may outlive the call that produced it
(asyncio keeps the view it was given for a later send).  So a block is never
realloc'd or freed while a view exists: each view holds a reference to its
block, growth means "allocate a new block and copy", and the engine only
reuses (memmoves within) a block whose ``exports`` count is zero.  A stale
view can therefore only ever see stale bytes, never freed memory.
"""
from cpython.buffer cimport PyBuffer_FillInfo
from cpython.mem cimport PyMem_RawFree, PyMem_RawMalloc
from cpython.memoryview cimport PyMemoryView_FromObject


cdef class Block:
    def __cinit__(self):
        self.data = NULL
        self.size = 0
        self.exports = 0

    def __dealloc__(self):
        if self.data != NULL:
            PyMem_RawFree(self.data)
            self.data = NULL

    def __getbuffer__(self, Py_buffer* buf, int flags):
        PyBuffer_FillInfo(buf, self, self.data + self._voff, self._vlen,
                          self._vreadonly, flags)
        self.exports += 1

    def __releasebuffer__(self, Py_buffer* buf):
        self.exports -= 1

    cdef object view(self, Py_ssize_t off, Py_ssize_t n, bint readonly):
        """A memoryview of data[off:off+n] that keeps this block alive."""
        self._voff = off
        self._vlen = n
        self._vreadonly = readonly
        return PyMemoryView_FromObject(self)


cdef Block new_block(Py_ssize_t size):
    cdef Block b = Block.__new__(Block)
    # Raw allocator: the engine fills these blocks with the GIL released.
    b.data = <unsigned char*> PyMem_RawMalloc(size if size > 0 else 1)
    if b.data == NULL:
        raise MemoryError()
    b.size = size
    return b

"""The lock that lets several threads share one connection.

One thread at a time touches the protocol state (the compiled engine, the
channel table, the output buffer). The lock is re-entrant, because event
handlers and sinks run while it is held and may call back into the
connection, and it can be let go entirely around a blocking wait (`select`,
waiting for another thread's round of I/O), so a thread asleep in the
kernel never keeps the others from writing or reading what is buffered.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ConnectionLock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> ConnectionLock:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
        else:
            self._lock.acquire()
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()

    @property
    def depth(self) -> int:
        """How many times the owning thread holds it (0: free or another's)."""
        return self._depth if self.held() else 0

    def held(self) -> bool:
        """True if the calling thread holds the lock."""
        return self._owner == threading.get_ident()

    @contextmanager
    def released(self) -> Iterator[None]:
        """Let go of every level the calling thread holds, then take them all
        back; a thread that does not hold the lock just runs the body."""
        if not self.held():
            yield
            return
        depth = self._depth
        self._owner, self._depth = None, 0
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._owner, self._depth = threading.get_ident(), depth

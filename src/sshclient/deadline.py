"""A wall-clock limit on a whole job, such as a login.

An inactivity timeout restarts whenever a byte arrives, so a server that
sends one byte a second holds a login open for ever; progress does not push
a `Deadline` back.  Time the thread spends in the user's own callbacks (a host key
verifier that asks a person, a prompt handler, a security key waiting for
a touch, the spec API's event handlers) is left out: that is not the
server being slow, and such a login was never stuck.
"""
from __future__ import annotations

import time

from .errors import SSHTimeoutError, user_clock


class Deadline:
    """`seconds` (None, 0 or less: no limit) from now for `what`."""

    def __init__(self, seconds: float | None, what: str = "login") -> None:
        self.seconds = seconds if seconds is not None and seconds > 0 else None
        self.what = what
        self._start = time.monotonic()
        # this thread's clock, also when checked from another (a connect worker)
        self._clock = user_clock()
        self._user_start = self._clock.seconds

    def remaining(self) -> float | None:
        """Seconds left (0 or less once passed); None without a limit."""
        if self.seconds is None:
            return None
        spent = time.monotonic() - self._start - (self._clock.seconds - self._user_start)
        return self.seconds - spent

    def bound(self, timeout: float | None) -> float | None:
        """The shorter of `timeout` (None, 0 or less: none) and the time left."""
        left = self.remaining()
        if timeout is None or timeout <= 0:
            return left
        return timeout if left is None else min(timeout, left)

    def check(self) -> None:
        """Raise SSHTimeoutError 301 once the deadline has passed."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise SSHTimeoutError(f"{self.what} did not finish within {self.seconds:g} s",
                                  code=301)

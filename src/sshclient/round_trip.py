"""The connection's round trip, end to end, as the protocol itself sees it.

Channel windows grow toward the bandwidth-delay product (see
ChannelTable.grow_windows), which needs the round trip to the server, not to
whatever the socket is connected to: a relay, a SOCKS or HTTP proxy, a jump
host or a ProxyCommand all end TCP near us, so the kernel's figure for our
socket says nothing about the path. The protocol has round trips of its own:
requests the server answers at once (SERVICE_REQUEST, each authentication
request, CHANNEL_OPEN). Each timed pair is an upper bound of the path's
round trip (the server's work and our own scheduling add to it, never take
away), so the estimate is the least sample seen.

Pairs are matched per kind, first in first out, one timed at a time: a reply
is taken as the answer to the oldest request of its kind still timed. When
replies of one kind come back out of order (channel opens), the sample can
only come out longer than the real round trip, which the minimum absorbs.
"""
from __future__ import annotations

import time
from typing import Callable

from . import constants as c

# message we send -> the kind of answer it waits for
_ASKS: dict[int, str] = {
    c.MSG_SERVICE_REQUEST: "service",
    c.MSG_USERAUTH_REQUEST: "auth",
    c.MSG_USERAUTH_INFO_RESPONSE: "auth",
    c.MSG_CHANNEL_OPEN: "open",
}
# message we receive -> the kind of request it answers
_ANSWERS: dict[int, str] = {
    c.MSG_SERVICE_ACCEPT: "service",
    c.MSG_USERAUTH_SUCCESS: "auth",
    c.MSG_USERAUTH_FAILURE: "auth",
    c.MSG_USERAUTH_PK_OK: "auth",  # also INFO_REQUEST and PASSWD_CHANGEREQ (60)
    c.MSG_CHANNEL_OPEN_CONFIRMATION: "open",
    c.MSG_CHANNEL_OPEN_FAILURE: "open",
}


class RoundTripEstimate:
    """The least request-to-answer time seen on this connection, in seconds
    (`best`, None before the first answer)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._asked: dict[str, float] = {}  # kind -> when its timed request went out
        self.best: float | None = None

    def sent(self, msg_type: int) -> None:
        """We queued a message of this type for the server."""
        kind = _ASKS.get(msg_type)
        if kind is not None and kind not in self._asked:
            self._asked[kind] = self._clock()

    def received(self, msg_type: int) -> None:
        """A message of this type from the server is being handled."""
        kind = _ANSWERS.get(msg_type)
        if kind is None:
            return
        asked = self._asked.pop(kind, None)
        if asked is not None:
            sample = self._clock() - asked
            if self.best is None or sample < self.best:
                self.best = sample

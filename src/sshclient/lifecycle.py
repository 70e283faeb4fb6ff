"""A channel's lifecycle: two small state machines, one table each.

Each side of a channel moves on its own (RFC 4254 §5.3): what *we* have
sent (open, EOF, CLOSE) and what the *server* has sent. Both start at
OPENING and meet again at the open's answer (confirmed or refused):

    ours:    OPENING ─confirm→ OPEN ─send_eof→ EOF ─send_close→ CLOSED
             OPENING ─send_close→ CLOSE_WANTED ─confirm→ CLOSED  (closed before
                                                     the server answered the open)
    theirs:  OPENING ─confirm→ OPEN ─recv_eof→ EOF ─recv_close→ CLOSED

and `refuse` takes either side from its opening state to FAILED. A move the
table does not have is an error: the server's (a duplicate EOF or CLOSE, a
message before the confirmation) ends the connection with 1023; ours is a
bug in the caller, which checks first (closing twice is not a move).

The compiled channel table keeps its own flags for the hot path (data after
EOF is refused in C): `C_FLAGS` says which state sets which.
"""
from __future__ import annotations

from enum import Enum

from .errors import RemoteProtocolError, UsageError


class Phase(Enum):
    OPENING = "opening"
    CLOSE_WANTED = "closing before the open was answered"
    OPEN = "open"
    EOF = "EOF"
    CLOSED = "closed"
    FAILED = "refused"

    # The tables below are looked up per channel message: Enum's own
    # __hash__ is Python code; members are unique, so identity will do.
    __hash__ = object.__hash__


_O, _W, _P, _E, _C, _F = (Phase.OPENING, Phase.CLOSE_WANTED, Phase.OPEN, Phase.EOF,
                          Phase.CLOSED, Phase.FAILED)

# event -> {state before: state after}
OURS: dict[str, dict[Phase, Phase]] = {
    "confirm": {_O: _P, _W: _C},
    "refuse": {_O: _F, _W: _F},
    "send_eof": {_P: _E},
    "send_close": {_O: _W, _P: _C, _E: _C},
}
THEIRS: dict[str, dict[Phase, Phase]] = {
    "confirm": {_O: _P},
    "refuse": {_O: _F},
    "recv_eof": {_P: _E},
    "recv_close": {_P: _C, _E: _C},
}

# (side, state entered) -> the compiled table's method that mirrors it
C_FLAGS: dict[tuple[str, Phase], str] = {
    ("ours", _E): "mark_eof_sent",
    ("ours", _C): "mark_close_sent",
    ("theirs", _E): "mark_eof_received",
    ("theirs", _C): "mark_close_received",
}


class Lifecycle:
    __slots__ = ("ours", "theirs")

    def __init__(self) -> None:
        self.ours = Phase.OPENING
        self.theirs = Phase.OPENING

    def apply(self, event: str) -> list[tuple[str, Phase]]:
        """Take `event`; returns the (side, state) pairs entered."""
        entered = []
        for side, table in (("ours", OURS), ("theirs", THEIRS)):
            moves = table.get(event)
            if moves is None:
                continue
            before = getattr(self, side)
            after = moves.get(before)
            if after is None:
                if event.startswith("send_"):
                    raise UsageError(f"channel cannot {event.replace('_', ' ')} "
                                     f"when {before.value}", code=1021)
                raise RemoteProtocolError(
                    f"unexpected {event.replace('recv_', '')} from the server: the channel "
                    f"is {before.value} on its side", code=1023)
            setattr(self, side, after)
            entered.append((side, after))
        return entered

    # ---- the questions the rest of the code asks
    @property
    def opened(self) -> bool:
        """The open was confirmed (whatever happened since)."""
        return self.theirs in (_P, _E, _C)

    @property
    def open_failed(self) -> bool:
        return self.theirs is _F

    @property
    def eof_sent(self) -> bool:
        return self.ours in (_E, _C)

    @property
    def close_sent(self) -> bool:
        """CLOSE went (or goes with the confirmation: nothing more may be sent)."""
        return self.ours in (_W, _C)

    @property
    def eof_received(self) -> bool:
        """Nothing more will come from the server (its EOF, or its CLOSE)."""
        return self.theirs in (_E, _C)

    @property
    def close_received(self) -> bool:
        return self.theirs is _C

    def __repr__(self) -> str:
        return f"<Lifecycle ours={self.ours.value} theirs={self.theirs.value}>"

"""Questions asked of the algorithm table.

Every list the library offers or accepts comes from here.  Whether an
implemented algorithm can run on this machine is asked of the compiled core
at call time (its UNAVAILABLE map is filled at import, and tests simulate a
libcrypto without RIPEMD-160 by editing it).
"""
from __future__ import annotations

from sshcore import crypto
from sshcore.packet import compression_available

from .table import ALGORITHMS, Algorithm, Kind, Offer


def _kind(kind: Kind | str) -> Kind:
    # a Kind as it is: Enum's lookup by value is the slow path
    return kind if isinstance(kind, Kind) else Kind(kind)


# the table never changes: each kind's rows are cut out once (a connection
# asks a few dozen times, and a fan-out opens hundreds of connections)
_BY_KIND: dict[Kind, tuple[Algorithm, ...]] = {
    kind: tuple(row for row in ALGORITHMS if row.kind is kind) for kind in Kind}


def rows(kind: Kind | str | None = None) -> tuple[Algorithm, ...]:
    """The table's rows (all, or of one kind), in preference order."""
    if kind is None:
        return ALGORITHMS
    return _BY_KIND[_kind(kind)]


def unavailable_reason(row: Algorithm) -> str | None:
    """Why an implemented algorithm cannot run on this machine, or None."""
    if row.kind in (Kind.CIPHER, Kind.MAC):
        return crypto.UNAVAILABLE.get(row.name)
    if row.kind is Kind.COMPRESSION and row.name != "none" and not compression_available():
        return "zlib is unavailable: sshcore did not find libz"
    return None


def _machine_state() -> tuple[object, ...]:
    """What decides which implemented algorithms run here: what the core
    reports unavailable and whether zlib is there (tests change both)."""
    return tuple(sorted(crypto.UNAVAILABLE.items())), compression_available()


_RUNNABLE: dict[tuple[object, ...], tuple[Algorithm, ...]] = {}
# (kind, offer or None for all, machine state) -> names; see _names()
_NAMES: dict[tuple[object, ...], tuple[str, ...]] = {}
_ACCEPTED: dict[tuple[object, ...], frozenset[str]] = {}


def _runnable(kind: Kind, state: tuple[object, ...]) -> tuple[Algorithm, ...]:
    key = (kind, state)
    found = _RUNNABLE.get(key)
    if found is None:
        found = _RUNNABLE[key] = tuple(row for row in rows(kind) if row.implemented
                                       and unavailable_reason(row) is None)
    return found


def _names(kind: Kind | str, offer: Offer | None) -> tuple[str, ...]:
    # Asked several times per connection (a fan-out opens hundreds): each
    # answer is kept per kind, offer and machine state.
    kind = _kind(kind)
    state = _machine_state()
    key = (kind, offer, state)
    found = _NAMES.get(key)
    if found is None:
        found = _NAMES[key] = tuple(row.name for row in _runnable(kind, state)
                                    if offer is None or row.offer is offer)
    return found


def defaults(kind: Kind | str) -> tuple[str, ...]:
    """Our default offer for `kind`, most preferred first."""
    return _names(kind, Offer.DEFAULT)


def supported(kind: Kind | str) -> tuple[str, ...]:
    """Every algorithm of `kind` that runs here (default, on request or
    legacy), in preference order: what `ssh -Q` would list."""
    return _names(kind, None)


def with_offer(kind: Kind | str, offer: Offer) -> tuple[str, ...]:
    """The runnable names of `kind` offered as `offer` (for MARKER: the markers)."""
    if offer is Offer.MARKER:
        return tuple(row.name for row in rows(kind) if row.offer is Offer.MARKER)
    return _names(kind, offer)


def accepted(kind: Kind | str) -> frozenset[str]:
    """What a list of `kind` the caller chose may name: the names that run
    here and our kex markers (checked for every connection)."""
    kind = _kind(kind)
    key = (kind, _machine_state())
    found = _ACCEPTED.get(key)
    if found is None:
        found = _ACCEPTED[key] = frozenset(supported(kind) + with_offer(kind, Offer.MARKER))
    return found


def weak() -> frozenset[str]:
    """Every legacy name, of any kind."""
    return frozenset(row.name for row in ALGORITHMS if row.offer is Offer.LEGACY)


def find(name: str, kind: Kind | str | None = None) -> Algorithm | None:
    """The row for `name`: of `kind` first, then of any kind (a name put in
    the wrong list still gets its reason), else None."""
    candidates = rows(kind) + ALGORITHMS if kind is not None else ALGORITHMS
    return next((row for row in candidates if row.matches(name)), None)


def why_unsupported(name: str, kind: Kind | str | None = None) -> str:
    """Why `name` is not in a list of what we can run: not implemented,
    unavailable here, not an algorithm to choose, or unknown."""
    row = find(name, kind)
    if row is None:
        return "unknown algorithm"
    if kind is not None and row.kind is not _kind(kind) and row.implemented:
        return f"belongs in the {row.kind.label} list, not the {_kind(kind).label} list"
    if row.implemented:
        return unavailable_reason(row) or row.why or "not accepted in this list"
    return row.why

"""The algorithm registry: every algorithm name the library knows, per kind.

`table.py` holds the rows (kind, how we offer it, why not by default or why
not at all); everything else is derived from them: our default KEXINIT
lists, the legacy (weak) names, the lists each API accepts, and the reasons
in error 1005.  Read-only introspection, like ``ssh -Q``::

    from sshclient import algorithms
    algorithms.supported("cipher")   # what runs here, most preferred first
    algorithms.defaults("kex")       # what we offer when not told otherwise
    algorithms.why_unsupported("umac-64@openssh.com", "mac")
    algorithms.rows("mac")           # the rows themselves (frozen)

Kinds: "kex", "host_key", "cipher", "mac", "compression" (or `Kind`).
"""
from __future__ import annotations

from .lists import check_algorithm_list, check_requested, prefer_strong, restrict, split_list
from .negotiation import EXT_INFO_SERVER, STRICT_KEX_SERVER, Negotiated, choose
from .registry import (
    defaults,
    find,
    rows,
    supported,
    unavailable_reason,
    weak,
    why_unsupported,
    with_offer,
)
from .table import (
    CERT_SUFFIX,
    EXT_INFO_CLIENT,
    IMPLEMENTED_BY,
    STRICT_KEX_CLIENT,
    Algorithm,
    Kind,
    Offer,
)

__all__ = [
    "CERT_SUFFIX",
    "EXT_INFO_CLIENT",
    "EXT_INFO_SERVER",
    "IMPLEMENTED_BY",
    "STRICT_KEX_CLIENT",
    "STRICT_KEX_SERVER",
    "Algorithm",
    "Kind",
    "Negotiated",
    "Offer",
    "check_algorithm_list",
    "check_requested",
    "choose",
    "defaults",
    "find",
    "prefer_strong",
    "restrict",
    "rows",
    "split_list",
    "supported",
    "unavailable_reason",
    "weak",
    "why_unsupported",
    "with_offer",
]

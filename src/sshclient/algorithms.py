"""Algorithm lists and RFC 4253 §7.1 negotiation.

The spec's default lists name some algorithms (arcfour, 3des-ctr, umac,
gss-*, x509v3-*) that we do not implement; `restrict()` keeps only what is
implemented so the KEXINIT we send never offers something we cannot run, and
NOT_IMPLEMENTED says why for the error (1005) when nothing else is left.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sshcore.packet import compression_available

from .errors import SSHClientError

# Pseudo-algorithms appended to our kex list.
EXT_INFO_CLIENT = "ext-info-c"
STRICT_KEX_CLIENT = "kex-strict-c-v00@openssh.com"
STRICT_KEX_SERVER = "kex-strict-s-v00@openssh.com"

# RFC 4253 §6.2 "zlib" (from NEWKEYS) and OpenSSH's delayed
# "zlib@openssh.com" (from USERAUTH_SUCCESS), when sshcore found libz.
ZLIB_COMPRESSION = ("zlib", "zlib@openssh.com")
IMPLEMENTED_COMPRESSION: tuple[str, ...] = (
    (*ZLIB_COMPRESSION, "none") if compression_available() else ("none",))

# Name prefixes of what the spec or OpenSSH list and we do not implement, and why
# (arcfour covers arcfour128/256, zlib covers zlib@openssh.com).
NOT_IMPLEMENTED: dict[str, str] = {
    "umac-": "UMAC is not implemented (no libcrypto primitive; use an hmac-sha2 MAC)",
    "arcfour": "not implemented: RC4 is broken (RFC 8758 forbids it in SSH)",
    "blowfish-cbc": "not implemented: 64-bit block cipher with no libcrypto 3 default "
                    "provider support",
    "cast128-cbc": "not implemented: 64-bit block cipher with no libcrypto 3 default "
                   "provider support",
    "3des-ctr": "not implemented (no mainstream server offers it; 3des-cbc is available)",
    "x509v3-": "X.509 host key algorithms (RFC 6187) are not implemented",
    "gss-": "GSS-API key exchange (RFC 4462) is not implemented",
    "zlib": "compression is not implemented",
}


def why_unsupported(name: str, unavailable: dict[str, str] | None = None) -> str:
    """Why `name` cannot be used: a runtime reason, a known gap, or unknown."""
    if unavailable and name in unavailable:
        return unavailable[name]
    for prefix, why in NOT_IMPLEMENTED.items():
        if name.startswith(prefix):
            return why
    return "unknown algorithm"


def split_list(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def restrict(requested: str, implemented: tuple[str, ...] | list[str]) -> list[str]:
    """Names from `requested` (in its order) that we implement."""
    supported = set(implemented)
    return [name for name in split_list(requested) if name in supported]


def prefer_strong(names: list[str], weak: Collection[str]) -> list[str]:
    """`names` with the `weak` ones moved after all the others (each group
    keeps its order): how a default list is offered, so that adding a legacy
    algorithm never makes it win over a strong one."""
    weak_set = set(weak)
    return [n for n in names if n not in weak_set] + [n for n in names if n in weak_set]


def check_algorithm_list(kind: str, value: str, implemented: tuple[str, ...] | list[str],
                         unavailable: dict[str, str] | None = None) -> list[str]:
    """The names in `value` we can run; error 1005 (saying why each named
    one cannot) if there is none. Never fall back to our own defaults: a
    user who restricted the list meant it."""
    usable = restrict(value, implemented)
    if not usable:
        reasons = "; ".join(f"{name}: {why_unsupported(name, unavailable)}"
                            for name in split_list(value))
        raise SSHClientError(
            f"none of the {kind} algorithms {value!r} is supported ({reasons}); "
            "supported: " + ",".join(implemented),
            code=1005,
        )
    return usable


def check_requested(kind: str, names: list[str], implemented: tuple[str, ...] | list[str],
                    unavailable: dict[str, str] | None = None) -> None:
    """An explicit list (the Pythonic API) may name only what we can run:
    error 1005 naming each other entry and why."""
    supported = set(implemented)
    bad = [name for name in names if name not in supported]
    if bad:
        raise SSHClientError(
            f"unsupported {kind} algorithm(s): "
            + "; ".join(f"{name}: {why_unsupported(name, unavailable)}" for name in bad),
            code=1005,
        )


def choose(kind: str, client: list[str], server: list[str]) -> str:
    """RFC 4253 §7.1: the first client algorithm the server also supports."""
    server_set = set(server)
    for name in client:
        if name in server_set:
            return name
    raise SSHClientError(
        f"no common {kind} algorithm (client offers {','.join(client)}; "
        f"server offers {','.join(server)})",
        code=1003,
    )


@dataclass(frozen=True)
class Negotiated:
    kex: str
    host_key: str
    cipher_c2s: str
    cipher_s2c: str
    mac_c2s: str | None
    mac_s2c: str | None
    compression_c2s: str
    compression_s2c: str
    strict_kex: bool
    server_ext_info: bool

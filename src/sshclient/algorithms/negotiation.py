"""RFC 4253 §7.1 negotiation: pick one algorithm per list, and the result."""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import SSHClientError

# Server-side kex markers (ours are rows of the table).
STRICT_KEX_SERVER = "kex-strict-s-v00@openssh.com"
EXT_INFO_SERVER = "ext-info-s"


def choose(kind: str, client: list[str], server: list[str]) -> str:
    """The first client algorithm the server also supports."""
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

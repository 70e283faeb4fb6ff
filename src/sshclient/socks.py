"""SOCKS4, SOCKS4A and SOCKS5 as bytes: the numbers both sides use.

The client side (through a proxy: handshake.py) and the server side (a
local SOCKS server whose requests become SSH channels, `ssh -D`:
forwarding/socks.py) read the same tables.
"""
from __future__ import annotations

SOCKS4_VERSION = 4
SOCKS5_VERSION = 5
CMD_CONNECT = 1

# SOCKS4 reply codes (the reply's version byte is 0)
SOCKS4_GRANTED = 90
SOCKS4_REJECTED = 91
SOCKS4_REPLIES = {
    SOCKS4_REJECTED: "request rejected or failed",
    92: "request rejected: the proxy cannot reach the client's identd",
    93: "request rejected: identd reports a different user id",
}

# SOCKS5 authentication methods (RFC 1928 section 3, RFC 1929)
METHOD_NONE = 0x00
METHOD_PASSWORD = 0x02
METHOD_UNACCEPTABLE = 0xFF
PASSWORD_VERSION = 1

# SOCKS5 address types -> address length (a domain: a length byte first)
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4
ADDRESS_LENGTHS = {ATYP_IPV4: 4, ATYP_IPV6: 16}

# SOCKS5 reply codes (RFC 1928 section 6)
SOCKS5_SUCCEEDED = 0
SOCKS5_FAILURE = 1
SOCKS5_NOT_ALLOWED = 2
SOCKS5_NETWORK_UNREACHABLE = 3
SOCKS5_HOST_UNREACHABLE = 4
SOCKS5_REFUSED = 5
SOCKS5_COMMAND_UNSUPPORTED = 7
SOCKS5_ADDRESS_UNSUPPORTED = 8
SOCKS5_REPLIES = {
    SOCKS5_FAILURE: "general SOCKS server failure",
    SOCKS5_NOT_ALLOWED: "connection not allowed by ruleset",
    SOCKS5_NETWORK_UNREACHABLE: "network unreachable",
    SOCKS5_HOST_UNREACHABLE: "host unreachable",
    SOCKS5_REFUSED: "connection refused by the target",
    6: "TTL expired",
    SOCKS5_COMMAND_UNSUPPORTED: "command not supported",
    SOCKS5_ADDRESS_UNSUPPORTED: "address type not supported",
}

"""Client side of the firewall/proxy protocols: SOCKS4, SOCKS4A, SOCKS5, HTTP CONNECT.

The spec's firewall types (FirewallType / firewall_type):

====  ==========  ==============================================  ============
type  constant    protocol                                        default port
====  ==========  ==============================================  ============
0     NONE        direct connection
1     TUNNEL      HTTP ``CONNECT`` tunnel (Basic auth, FirewallData  80
                  headers)
2     SOCKS4      SOCKS 4 (user id; the client resolves names)    1080
3     SOCKS5      SOCKS 5, RFC 1928 (+ RFC 1929 username/password) 1080
10    SOCKS4A     SOCKS 4A (the proxy resolves names)             1080
====  ==========  ==============================================  ============

`ProxySettings` describes one proxy; `ProxySettings.from_environment()` is
FirewallAutoDetect (``ALL_PROXY``, ``HTTPS_PROXY``, ``HTTP_PROXY``,
``NO_PROXY``); `negotiate()` runs the handshake on a connected blocking
socket.  `sockets.open_socket(..., proxy=...)` puts it together.

Every failure raises `ProxyError`, an `SSHConnectionError`: its ``code`` is the
socket's code (10061 refused, 10060 timed out, 11001 name not found, ...)
when the proxy itself cannot be reached or stops answering, and 1036 ("SSH
connection failed") when the proxy answers but refuses (authentication
rejected, target unreachable, rule-set denial, HTTP status other than 2xx)
or answers something that is not its protocol.  The message names the proxy
and the reason; ``reason`` is a short keyword for programs.  A proxy that
does not answer in time raises `ProxyTimeoutError`, also a `TimeoutError`.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import unquote, urlsplit

from .errors import ConnectTimeoutError, SSHConnectionError, UsageError

logger = logging.getLogger("sshclient")

FIREWALL_NONE = 0
FIREWALL_TUNNEL = 1
FIREWALL_SOCKS4 = 2
FIREWALL_SOCKS5 = 3
FIREWALL_SOCKS4A = 10

DEFAULT_PORTS: dict[int, int] = {FIREWALL_NONE: 0, FIREWALL_TUNNEL: 80, FIREWALL_SOCKS4: 1080,
                                 FIREWALL_SOCKS5: 1080, FIREWALL_SOCKS4A: 1080}

TYPE_NAMES: dict[int, str] = {FIREWALL_NONE: "direct", FIREWALL_TUNNEL: "HTTP tunnel",
                              FIREWALL_SOCKS4: "SOCKS4", FIREWALL_SOCKS5: "SOCKS5",
                              FIREWALL_SOCKS4A: "SOCKS4A"}

#: Largest HTTP response header block accepted from a tunneling proxy.
MAX_HTTP_HEADER = 64 * 1024

# Reasons carried by ProxyError.reason.
REASON_CONNECT = "connect"        # the proxy cannot be reached (socket error)
REASON_TIMEOUT = "timeout"        # no (complete) answer within the timeout
REASON_CLOSED = "closed"          # the proxy closed the connection mid-handshake
REASON_AUTH = "auth"              # authentication required or rejected
REASON_REFUSED = "refused"        # the proxy refused the request (rules, policy, ...)
REASON_UNREACHABLE = "unreachable"  # the proxy could not reach the target
REASON_PROTOCOL = "protocol"      # the answer is not the expected protocol
REASON_RESOLVE = "resolve"        # the client could not resolve the target (SOCKS4)


class ProxyError(SSHConnectionError):
    """A firewall/proxy failure.

    ``code``: socket code (10061, 10060, 11001, ...) when the proxy cannot be
    reached, 1036 when the proxy refuses or garbles the request.  ``proxy``
    names the proxy ("SOCKS5 proxy 127.0.0.1:1080"), ``reason`` is one of the
    ``REASON_*`` keywords, ``reply`` the proxy's own status (SOCKS reply code
    or HTTP status) when it sent one.
    """

    default_code = 1036

    def __init__(self, message: str, code: int | None = None, *, proxy: str = "",
                 reason: str = REASON_PROTOCOL, reply: int | None = None) -> None:
        super().__init__(message, code if code is not None else self.default_code)
        self.proxy = proxy
        self.reason = reason
        self.reply = reply


class ProxyTimeoutError(ProxyError, ConnectTimeoutError):
    """The proxy could not be reached, or did not answer, in time (10060)."""

    default_code = 10060


def proxy_error(message: str, code: int, *, proxy: str, reason: str,
                reply: int | None = None) -> ProxyError:
    """A `ProxyError` with `code`; a `ProxyTimeoutError` for 10060 (timed out)."""
    cls = ProxyTimeoutError if code == ConnectTimeoutError.default_code else ProxyError
    return cls(message, code, proxy=proxy, reason=reason, reply=reply)


# ---------------------------------------------------------------- settings
def _norm_host(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and "]" in host:
        host = host[1:host.index("]")]
    return host.rstrip(".")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(_norm_host(text).split("%", 1)[0])
    except ValueError:
        return None


def host_matches(host: str, pattern: str) -> bool:
    """Whether ``host`` matches one ProxyExceptionsList / NO_PROXY entry.

    Entries: ``*`` (everything), an exact name or address (case-insensitive;
    IPv6 with or without brackets), a wildcard pattern (``10.0.0.*``,
    ``*.example.com``), a CIDR network (``10.0.0.0/8``, ``fd00::/8``) or a
    ``.example.com`` suffix (the domain and every name below it).
    """
    p = _norm_host(pattern)
    h = _norm_host(host)
    if not p or not h:
        return False
    if p == "*":
        return True
    if "/" in p:
        addr = _ip(h)
        try:
            return addr is not None and addr in ipaddress.ip_network(p, strict=False)
        except ValueError:
            return False
    if p.startswith("."):
        return h == p[1:] or h.endswith(p)
    if any(c in p for c in "*?["):
        return fnmatchcase(h, p)
    a, b = _ip(h), _ip(p)
    if a is not None and b is not None:
        return a == b
    return h == p


def parse_exceptions(text: str | Sequence[str]) -> list[str]:
    """Split a ProxyExceptionsList (``host1;host2;10.0.0.*``; commas and
    whitespace also separate entries) into a list."""
    if not isinstance(text, str):
        return [e.strip() for e in text if e and e.strip()]
    return [e for e in re.split(r"[;,\s]+", text) if e]


@dataclass
class ProxySettings:
    """One proxy: the spec's FirewallType/Host/Port/User/Password, FirewallData
    (``extra_headers``: extra HTTP header lines for tunnels, separated by CRLF
    or LF) and ProxyExceptionsList (``exceptions``: hosts that bypass it).

    ``port`` 0 means the type's default (80 for tunnels, 1080 for SOCKS).
    ``remote_dns``: SOCKS5 only -- send host names to the proxy (True, the
    default) or resolve them here and send the address (False; what
    ``socks5://`` means in ``ALL_PROXY``, where ``socks5h://`` is True).
    """

    type: int = FIREWALL_NONE
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = field(default="", repr=False)  # a printed proxy must not show it
    extra_headers: str | Sequence[str] = ""
    exceptions: list[str] = field(default_factory=list)
    remote_dns: bool = True

    def __post_init__(self) -> None:
        self.type = int(self.type)
        if self.type not in DEFAULT_PORTS:
            raise UsageError(f"firewall type {self.type} is not one of 0, 1, 2, 3, 10",
                             code=211)
        self.port = int(self.port or 0)
        if not 0 <= self.port <= 65535:
            raise UsageError(f"firewall port {self.port} is out of range", code=211)
        if isinstance(self.exceptions, str):
            self.exceptions = parse_exceptions(self.exceptions)

    @property
    def enabled(self) -> bool:
        """True unless the type is NONE (a direct connection)."""
        return self.type != FIREWALL_NONE

    @property
    def effective_port(self) -> int:
        """The port to reach the proxy on: `port`, or the usual one for its type when 0."""
        return self.port or DEFAULT_PORTS[self.type]

    @property
    def label(self) -> str:
        """"SOCKS5 proxy 127.0.0.1:1080", for messages."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        kind = "HTTP tunnel proxy" if self.type == FIREWALL_TUNNEL else \
            f"{TYPE_NAMES.get(self.type, '?')} proxy"
        return f"{kind} {host}:{self.effective_port}"

    def bypasses(self, host: str) -> bool:
        """True when ``host`` is in the exceptions list (connect directly)."""
        return any(host_matches(host, e) for e in self.exceptions)

    def applies_to(self, host: str) -> bool:
        """True when a connection to ``host`` goes through this proxy."""
        return self.enabled and not self.bypasses(host)

    def header_lines(self) -> list[str]:
        """FirewallData as validated ``Name: value`` lines."""
        raw = self.extra_headers
        lines = re.split(r"\r?\n", raw) if isinstance(raw, str) else list(raw)
        out = []
        for line in lines:
            if not line.strip():
                continue
            if "\r" in line or "\n" in line or not re.match(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:",
                                                             line):
                raise UsageError(f"FirewallData: {line!r} is not an HTTP header line "
                                 "('Name: value')", code=211)
            out.append(line)
        return out

    # ---- FirewallAutoDetect
    @classmethod
    def from_url(cls, url: str, exceptions: Sequence[str] = ()) -> ProxySettings:
        """``socks5://user:pass@host:1080``, ``socks5h://``, ``socks4://``,
        ``socks4a://``, ``socks://`` (= SOCKS5), ``http://`` (tunnel) or a bare
        ``host:port`` (tunnel).  User and password are percent-decoded."""
        text = url.strip()
        if "://" not in text:
            text = "http://" + text
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        types = {"http": FIREWALL_TUNNEL, "socks4": FIREWALL_SOCKS4,
                 "socks4a": FIREWALL_SOCKS4A, "socks5": FIREWALL_SOCKS5,
                 "socks5h": FIREWALL_SOCKS5, "socks": FIREWALL_SOCKS5}
        if scheme not in types:
            hint = " (TLS to the proxy is not supported; use http://)" \
                if scheme == "https" else ""
            raise UsageError(f"proxy URL {_redact(url)!r}: unsupported scheme "
                             f"{scheme!r}{hint}", code=211)
        try:
            port = parts.port or 0
        except ValueError:
            raise UsageError(f"proxy URL {_redact(url)!r}: bad port", code=211) from None
        if not parts.hostname:
            raise UsageError(f"proxy URL {_redact(url)!r}: no host", code=211)
        return cls(type=types[scheme], host=parts.hostname, port=port,
                   user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                   exceptions=list(exceptions), remote_dns=scheme != "socks5")

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ProxySettings | None:
        """The proxy the standard environment variables ask for, or None.

        Looked up in order (lower case before upper case): ``all_proxy``
        (any scheme), ``https_proxy``, ``http_proxy`` (tunnels; the upper-case
        ``HTTP_PROXY`` is ignored when ``REQUEST_METHOD`` is set, i.e. in a
        CGI script, where a client could set it).  ``no_proxy``/``NO_PROXY``
        become the exceptions, with curl's meaning: ``example.com`` covers the
        domain and its subdomains, ``*`` everything, ports are ignored.
        """
        env = os.environ if env is None else env
        names = ["all_proxy", "ALL_PROXY", "https_proxy", "HTTPS_PROXY", "http_proxy"]
        if "REQUEST_METHOD" not in env:
            names.append("HTTP_PROXY")
        url = next((env[n] for n in names if env.get(n, "").strip()), "")
        if not url:
            return None
        no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
        return cls.from_url(url, _no_proxy_entries(no_proxy))


def _redact(url: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", url)


def _no_proxy_entries(text: str) -> list[str]:
    out = []
    for entry in parse_exceptions(text):
        if entry.startswith("["):                    # [v6]:port
            entry = entry[1:entry.index("]")] if "]" in entry else entry[1:]
        elif entry.count(":") == 1:                  # host:port
            entry = entry.split(":", 1)[0]
        if not entry:
            continue
        if entry == "*" or "/" in entry or entry.startswith(".") or _ip(entry) is not None \
                or any(c in entry for c in "*?["):
            out.append(entry)
        else:
            out.append("." + entry.lstrip("."))      # the domain and its subdomains
    return out


def proxy_from_settings(firewall_type: int = 0, host: str = "", port: int = 0, user: str = "",
                        password: str = "", firewall_data: str = "", exceptions: str = "",
                        auto_detect: bool = False,
                        env: Mapping[str, str] | None = None) -> ProxySettings | None:
    """The proxy for the spec's settings (FirewallType/Host/Port/User/Password,
    FirewallData, ProxyExceptionsList, FirewallAutoDetect), or None.

    An explicit FirewallType wins; with type 0 and FirewallAutoDetect the
    environment decides (ProxyExceptionsList is added to NO_PROXY).
    """
    extra = parse_exceptions(exceptions or "")
    if int(firewall_type) == FIREWALL_NONE:
        if not auto_detect:
            return None
        found = ProxySettings.from_environment(env)
        if found is None:
            return None
        found.exceptions = extra + found.exceptions
        found.extra_headers = firewall_data or ""
        return found
    if not host.strip():
        raise UsageError(f"firewall type {firewall_type} "
                         f"({TYPE_NAMES.get(int(firewall_type), '?')}) needs a firewall host",
                         code=211)
    return ProxySettings(type=firewall_type, host=host.strip(), port=port, user=user,
                         password=password, extra_headers=firewall_data or "", exceptions=extra)

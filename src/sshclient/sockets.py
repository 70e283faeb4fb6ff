"""Opening the TCP connection: address families, local binding, socket options.

Kept apart from the driver so that proxies (SOCKS, HTTP CONNECT) and socket
settings have one home.
"""
from __future__ import annotations

import socket

from .errors import ConnectionError_, socket_error_code


def open_socket(host: str, port: int, timeout: float | None, *, local_host: str = "",
                local_port: int = 0, ipv6: int = 0, nodelay: bool = True,
                keepalive: bool = False) -> socket.socket:
    """TCP connect with the spec's UseIPv6 modes (0 v4 only, 1 v6 only, 2 v6 then v4)."""
    families = {0: [socket.AF_INET], 1: [socket.AF_INET6],
                2: [socket.AF_INET6, socket.AF_INET]}.get(ipv6, [socket.AF_INET])
    last_error: OSError | None = None
    for family in families:
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            last_error = exc
            continue
        for fam, kind, proto, _name, addr in infos:
            sock = socket.socket(fam, kind, proto)
            try:
                if local_host or local_port:
                    sock.bind((local_host or ("::" if fam == socket.AF_INET6 else "0.0.0.0"),
                               local_port))
                sock.settimeout(timeout)
                sock.connect(addr)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            if nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if keepalive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.setblocking(False)
            return sock
    assert last_error is not None
    code = socket_error_code(last_error)
    raise ConnectionError_(f"cannot connect to {host}:{port}: {last_error}", code=code)

"""Real firewall/proxy servers on loopback for the proxy tests.

Like ``servers.py`` (whose process handling this reuses), no pytest
dependency. Every proxy listens on 127.0.0.1 only and may only reach
loopback targets:

- ``DanteServer``: Debian's ``dante-server`` (``danted``): SOCKS4 and SOCKS5,
  ``auth="none"`` or ``auth="username"`` (RFC 1929, checked against the
  system password database: the test user ``sshclient-test`` / ``sshclient-test-pass``).
  Its rules pass only CONNECTs to 127.0.0.1 and ::1, and its outgoing
  (``external``) addresses are 127.0.0.1 and ::1.
- ``TinyProxyServer``: Debian's ``tinyproxy``: HTTP CONNECT, optional
  ``BasicAuth``; ``ConnectPort`` allows only the given target ports and a
  default-deny domain filter allows only 127.0.0.1 / localhost / ::1.
- ``SshDynamicForward``: OpenSSH's ``ssh -D`` (openssh-client) logged in to a
  test sshd: the SOCKS server for SOCKS4A. Dante does not implement SOCKS4A
  (it takes 0.0.0.x for a literal address and its rules block it), and no
  other Debian 12 SOCKS server that could run here does; OpenSSH decodes
  SOCKS4, SOCKS4A and SOCKS5 in ``channels.c``. The tunnel ends at the sshd
  (a ``direct-tcpip`` channel), so sshd's log shows the target *name* the
  client sent (``target localhost port N``).
- ``ScriptedProxy``: a scripted peer for the error paths real proxies do
  not produce on demand (garbage replies, silence, oversized headers).
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Callable, List, Optional, Sequence, Tuple

import servers
from servers import LOOPBACK, ServerUnavailable, _ServerBase, _TcpServer, _which

__all__ = ["DanteServer", "TinyProxyServer", "SshDynamicForward", "ScriptedProxy",
           "silent_listener", "wait_listening"]


def wait_listening(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class _ListeningServer(_ServerBase):
    """A server that is ready when its log says so (``ready_pattern``) and its
    port accepts connections. The log check matters: a port taken by someone
    else would accept the probe too."""

    ready_pattern = ""

    def _wait_ready(self) -> Tuple[bool, str]:
        rx = re.compile(self.ready_pattern.format(port=self.port))
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False, (f"exited with {self.process.returncode}: "
                               + self.log_text()[-2000:])
            if rx.search(self.log_text()):
                try:
                    socket.create_connection((self.host, self.port), timeout=0.5).close()
                    return True, ""
                except OSError:
                    pass
            time.sleep(0.05)
        return False, f"not ready within {self.start_timeout}s"


class DanteServer(_ListeningServer):
    """``danted`` (SOCKS4 + SOCKS5) on loopback. ``auth``: ``"none"`` or
    ``"username"`` (system users). Log: ``log_text()``; every relayed
    connection shows up as ``pass(N): tcp/connect [: <client> <proxy> ->
    <external> <target>``."""

    kind = "dante"
    ready_pattern = r"Dante/server\[\d+/\d+\] v[\d.]+ running"
    _addr_in_use = ("Address already in use", "failed to bind", "EADDRINUSE")

    def __init__(self, auth: str = "none", *, host: str = LOOPBACK, port: Optional[int] = None,
                 start_timeout: float = 15.0):
        servers._require_root("danted")
        path = _which("danted") or _which("sockd")
        if path is None:
            raise ServerUnavailable("danted not found (install dante-server)")
        if auth not in ("none", "username"):
            raise ValueError("auth is 'none' or 'username'")
        self.danted_path = path
        self.auth = auth
        super().__init__(host=host, port=port, start_timeout=start_timeout)
        self.config_path = os.path.join(self.directory, "danted.conf")
        self.pid_path = os.path.join(self.directory, "danted.pid")

    def config_text(self) -> str:
        log = "log: connect disconnect error"
        return "\n".join([
            "logoutput: stderr",
            "debug: 0",
            f"internal: {self.host} port = {self.port}",
            "external: 127.0.0.1",
            "external: ::1",
            "clientmethod: none",
            f"socksmethod: {self.auth}",
            "user.privileged: root",       # 'username' reads the shadow file
            "user.unprivileged: nobody",
            "client pass {", "  from: 127.0.0.0/8 to: 0.0.0.0/0", f"  {log}", "}",
            "client block {", "  from: 0.0.0.0/0 to: 0.0.0.0/0", "  log: connect error", "}",
            "socks pass {", "  from: 127.0.0.0/8 to: 127.0.0.1/32", "  command: connect",
            f"  {log}", "}",
            "socks pass {", "  from: 127.0.0.0/8 to: ::1/128", "  command: connect",
            f"  {log}", "}",
            "socks block {", "  from: 0.0.0.0/0 to: 0.0.0.0/0", "  log: connect error", "}",
            "",
        ])

    def _prepare(self) -> None:
        with open(self.config_path, "w") as f:
            f.write(self.config_text())

    def _argv(self) -> List[str]:
        return [self.danted_path, "-f", self.config_path, "-p", self.pid_path, "-N", "1"]


class TinyProxyServer(_ListeningServer):
    """``tinyproxy`` (HTTP CONNECT) on loopback, in the foreground, logging
    to stdout (``log_text()``: ``Request (file descriptor N): CONNECT
    host:port HTTP/1.1`` then ``Established connection to host "host"``)."""

    kind = "tinyproxy"
    ready_pattern = r"Starting main loop\. Accepting connections\."
    _addr_in_use = ("Address already in use", "Could not create listening sockets",
                    "Unable to listen")

    def __init__(self, connect_ports: Sequence[int], *, user: str = "", password: str = "",
                 host: str = LOOPBACK, port: Optional[int] = None, start_timeout: float = 15.0):
        servers._require_root("tinyproxy")
        path = _which("tinyproxy")
        if path is None:
            raise ServerUnavailable("tinyproxy not found (install tinyproxy)")
        self.tinyproxy_path = path
        self.connect_ports = list(connect_ports)
        self.user = user
        self.password = password
        super().__init__(host=host, port=port, start_timeout=start_timeout)
        # tinyproxy drops to 'nobody' before it reads the filter file.
        os.chmod(self.directory, 0o711)
        self.config_path = os.path.join(self.directory, "tinyproxy.conf")
        self.filter_path = os.path.join(self.directory, "filter")

    def _prepare(self) -> None:
        with open(self.filter_path, "w") as f:
            f.write("^127\\.0\\.0\\.1$\n^localhost$\n^::1$\n")
        os.chmod(self.filter_path, 0o644)
        lines = [
            "User nobody", "Group nogroup",
            f"Port {self.port}", f"Listen {self.host}",
            "Timeout 60", "LogLevel Info", "MaxClients 32",
            "Allow 127.0.0.1",
            "DisableViaHeader Yes",
            "FilterDefaultDeny Yes", f'Filter "{self.filter_path}"', "FilterType ere",
        ]
        lines += [f"ConnectPort {p}" for p in self.connect_ports]
        if self.user:
            lines.append(f"BasicAuth {self.user} {self.password}")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _argv(self) -> List[str]:
        return [self.tinyproxy_path, "-d", "-c", self.config_path]


class SshDynamicForward(_ListeningServer):
    """``ssh -N -D 127.0.0.1:<port>`` logged in to ``sshd`` with ``key``
    (a servers.ClientKey): a SOCKS4/4A/5 server whose tunnels end at sshd.
    Its log (LogLevel DEBUG2) has ``dynamic request: socks4 host <name> ...``."""

    kind = "ssh-D"
    ready_pattern = r"Local forwarding listening on 127\.0\.0\.1 port {port}\."
    _addr_in_use = ("Address already in use", "Could not request local forwarding",
                    "cannot listen")

    def __init__(self, sshd: servers.SshdServer, key: servers.ClientKey, *,
                 host: str = LOOPBACK, port: Optional[int] = None,
                 start_timeout: float = 20.0):
        if _which("ssh") is None:
            raise ServerUnavailable("ssh not found (install openssh-client)")
        self.sshd = sshd
        self.key = key
        super().__init__(host=host, port=port, start_timeout=start_timeout)

    def _argv(self) -> List[str]:
        return servers.ssh_command(
            self.sshd, key=self.key,
            options={"ExitOnForwardFailure": "yes", "LogLevel": "DEBUG2"},
            extra_args=["-N", "-D", f"{self.host}:{self.port}"])


class ScriptedProxy(_TcpServer):
    """Loopback peer running ``script(conn)`` for each connection; what the
    client sent is kept in ``received`` (read by the script via ``read``)."""

    def __init__(self, script: Callable[[ScriptedProxy, socket.socket], None],
                 host: str = LOOPBACK):
        self.script = script
        self.received = bytearray()
        super().__init__(host, 0)

    def read(self, conn: socket.socket, n: int, timeout: float = 10.0) -> bytes:
        conn.settimeout(timeout)
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                break
            buf += chunk
        self.received += buf
        return buf

    def read_until(self, conn: socket.socket, marker: bytes, timeout: float = 10.0) -> bytes:
        conn.settimeout(timeout)
        buf = b""
        while marker not in buf:
            chunk = conn.recv(1)
            if not chunk:
                break
            buf += chunk
        self.received += buf
        return buf

    def handle(self, conn: socket.socket, index: int) -> None:
        self.script(self, conn)


def silent_listener(host: str = LOOPBACK) -> Tuple[socket.socket, int]:
    """A listening socket that never accepts: connections complete (backlog)
    and then nothing is ever answered."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    s.listen(8)
    return s, s.getsockname()[1]


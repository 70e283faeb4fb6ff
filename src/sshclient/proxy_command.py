"""ProxyCommand: a command's stdin and stdout as the connection's transport.

The command (run by /bin/sh, as ssh runs it) gets one end of a socket pair
as its stdin and stdout; the other end is the connection's socket, used
by either driver unchanged. Tokens as ssh expands them: %h the host, %p
the port, %r the user, %n the host as given, %% a percent sign.
"""
from __future__ import annotations

import re
import signal
import socket
import subprocess

from .errors import UsageError

_TOKEN = re.compile(r"%(.)")


def expand(command: str, host: str, port: int, user: str) -> str:
    values = {"h": host, "n": host, "p": str(port), "r": user, "%": "%"}

    def one(match: re.Match[str]) -> str:
        token = match.group(1)
        if token not in values:
            raise UsageError(f"proxy_command: unknown token %{token} (known: %h %p %r %n %%)",
                             code=211)
        return values[token]
    return _TOKEN.sub(one, command)


class ProxyCommand:
    """The running command and our end of its socket pair."""

    def __init__(self, command: str, host: str, port: int, user: str) -> None:
        self.command = expand(command, host, port, user)
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", self.command], stdin=theirs.fileno(),
                stdout=theirs.fileno(), close_fds=True, start_new_session=True)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours

    def describe(self) -> str:
        """How it ended, for an error about the connection through it."""
        status = self.process.poll()
        shown = f"ProxyCommand {self.command!r}"
        return shown if status is None else f"{shown} (exited with status {status})"

    def stop(self) -> None:
        """End the command (ssh hangs it up too) without waiting long for it."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGHUP)
            except OSError:
                pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

"""The `sshclient` command: OpenSSH's `ssh` command line, for what it supports.

    sshclient [-p port] [-l user] [-i identity]... [-J jump] [-L spec]...
              [-R spec]... [-D [bind:]port]... [-W host:port] [-N] [-T|-t]
              [-o Key=Value]... [-v...] [-q] [-V] [user@]host [command...]

The remote command's exit status is ours; our own failures exit 255, as
ssh's do, with a one-line message on stderr. Anything we do not support
is refused by name, never ignored.
"""
from __future__ import annotations

import logging
import sys

from .. import __version__
from ..errors import MESSAGES, SSHClientError, UsageError
from . import session, terminal
from .args import Invocation, parse
from .settings import Settings, settle

USAGE = """\
usage: sshclient [-NnqTtVv] [-c cipher_spec] [-D [bind_address:]port] [-i identity_file]
                 [-J destination] [-L address] [-l login_name] [-m mac_spec]
                 [-o option] [-p port] [-R address] [-W host:port]
                 destination [command [argument ...]]

  destination        [user@]host or ssh://[user@]host[:port]
  -p port            port on the host (default 22)
  -l login_name      user to log in as (default: yours)
  -i identity_file   private key (default: the first of ~/.ssh/id_ed25519,
                     id_ecdsa, id_rsa that exists)
  -J destination     jump hosts, comma-separated [user@]host[:port]
  -L address         local forward: [bind:]port:host:hostport, [bind:]port:socket,
                     socket:host:hostport or socket:socket
  -R address         remote forward, the same forms on the server's side;
                     port 0 prints "Allocated port N for remote forward to ..."
  -D [bind:]port     local SOCKS4/4A/5 server (dynamic forwarding)
  -W host:port       our stdin and stdout are a connection to host:port
  -N                 no command (forwarding only)
  -n                 stdin from /dev/null
  -T / -t            no pseudo-terminal / force one
  -c, -m             ciphers, MACs (comma-separated)
  -o Key=Value       Port User IdentityFile ProxyJump ProxyCommand ConnectTimeout
                     ServerAliveInterval ServerAliveCountMax Ciphers MACs
                     KexAlgorithms HostKeyAlgorithms BatchMode StrictHostKeyChecking
                     UserKnownHostsFile GlobalKnownHostsFile ExitOnForwardFailure
                     Compression RequestTTY LocalForward RemoteForward
                     DynamicForward LogLevel
  -C                 compression
  -v                 more messages on stderr (up to -vvv)
  -q                 quiet
  -V                 print the version
  --help             this text
"""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        inv = parse(args)
        if inv.help:
            sys.stdout.write(USAGE)
            return 0
        if inv.version:
            print(f"sshclient {__version__} (Python {sys.version.split()[0]})", file=sys.stderr)
            return 0
        settings = settle(inv)
        _logging(settings.verbosity, settings.quiet)
        return _run(inv, settings)
    except UsageError as exc:
        print(f"sshclient: {_text(exc)}", file=sys.stderr)
        if _text(exc).startswith(("no destination", "unknown option")):
            sys.stderr.write(USAGE)
        return 255
    except SSHClientError as exc:
        print(f"sshclient: {_text(exc)}", file=sys.stderr)
        return 255
    except KeyboardInterrupt:
        return 255


def _run(inv: Invocation, settings: Settings) -> int:
    interactive = terminal.has_terminal()
    conn, hops = session.log_in(settings, interactive)
    try:
        if conn.banner and not settings.quiet:
            sys.stderr.write(conn.banner)
        if not session.start_forwards(conn, settings) and settings.exit_on_forward_failure:
            return 255
        if inv.stdio is not None:
            return session.stdio_forward(conn, inv.stdio)
        if inv.no_command:
            return session.serve_until_stopped(conn)
        session.exit_on_signals()
        return session.run_command(conn, inv, settings)
    finally:
        conn.close()
        for hop in reversed(hops):
            hop.close()


def _text(exc: SSHClientError) -> str:
    """The message without the generic sentence of its code in front
    ("Action impossible in control's present state." says nothing here)."""
    generic = MESSAGES.get(exc.code, "")
    if generic and exc.message.startswith(generic + " "):
        return exc.message[len(generic) + 1:]
    return exc.message


def _logging(verbosity: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[
        min(verbosity, 2)]
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="debug%(levelno)s: %(name)s: %(message)s" if verbosity
                        else "%(message)s")

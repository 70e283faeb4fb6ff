"""What the command line does once it has its settings: log in (through
any jump hosts), set up the forwards, then run the command, the shell,
the -W stdio forward, or nothing (-N) until the connection ends."""
from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, Callable

from .. import blocking
from ..blocking import Channel, SSHConnection
from ..connect_args import at_hop, jump_hops
from ..errors import SSHClientError
from ..keys import PrivateKey, load_private_key_file
from ..options import AUTH_KEYBOARD_INTERACTIVE, AUTH_PASSWORD
from . import terminal
from .args import Invocation
from .forwards import Forward, Tcp, Unix
from .settings import Settings
from .trust import host_key_checker

DEFAULT_IDENTITIES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
READ_SIZE = 256 * 1024


# ------------------------------------------------------------------ login
def _identity(settings: Settings, interactive: bool) -> PrivateKey | None:
    """The first identity file that exists (-i, IdentityFile, else ssh's
    defaults); one with a passphrase is asked for it."""
    given = settings.identities
    for path in given or DEFAULT_IDENTITIES:
        full = os.path.expanduser(path)
        if not os.path.exists(full):
            if given:
                _note(settings, f"Warning: Identity file {path} not accessible: "
                      "No such file or directory.")
            continue
        try:
            return load_private_key_file(full)
        except SSHClientError as exc:
            if "passphrase" not in str(exc).lower() or not interactive:
                raise
        passphrase = terminal.ask(f"Enter passphrase for key '{path}': ", echo=False)
        return load_private_key_file(full, passphrase)
    return None


def _connect_kwargs(settings: Settings, host: str, port: int, user: str,
                    interactive: bool) -> dict[str, Any]:
    key = _identity(settings, interactive)
    kwargs: dict[str, Any] = {
        "username": user, "key": key, "timeout": None,
        "login_timeout": settings.connect_timeout,
        "host_key_verifier": host_key_checker(settings, host, port, interactive),
        "keepalive_interval": settings.alive_interval,
        "keepalive_count_max": settings.alive_count,
        **settings.algorithms,
    }
    if settings.compression:
        kwargs["compression"] = ["zlib@openssh.com", "zlib", "none"]
    if interactive and not settings.batch_mode:
        kwargs["kbd_interactive_handler"] = _prompts
        if key is None:  # nothing else to log in with: ask for the password now
            kwargs["password"] = terminal.ask(f"{user}@{host}'s password: ", echo=False)
            kwargs["auth_mode"] = AUTH_PASSWORD
    elif key is None:
        kwargs["auth_mode"] = AUTH_KEYBOARD_INTERACTIVE
    return kwargs


def _prompts(name: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
    if instructions:
        print(instructions, file=sys.stderr)
    return [terminal.ask(text, echo) for text, echo in prompts]


def log_in(settings: Settings, interactive: bool) -> tuple[SSHConnection, list[SSHConnection]]:
    """The connection (and the hops it went through, to close after it)."""
    hops: list[SSHConnection] = []
    via: SSHConnection | None = None
    try:
        for hop in jump_hops(settings.jump) if settings.jump else []:
            user = hop.user or settings.user
            try:
                via = blocking.connect(hop.host, hop.port, jump=via, **_connect_kwargs(
                    settings, hop.host, hop.port, user, interactive))
            except SSHClientError as exc:
                raise at_hop(exc, f"jump host {hop}") from None
            hops.append(via)
        conn = blocking.connect(settings.host, settings.port, jump=via,
                                proxy_command=settings.proxy_command if via is None else None,
                                **_connect_kwargs(settings, settings.host, settings.port,
                                                  settings.user, interactive))
    except BaseException:
        for hop_conn in reversed(hops):
            hop_conn.close()
        raise
    return conn, hops


# --------------------------------------------------------------- forwards
def start_forwards(conn: SSHConnection, settings: Settings) -> bool:
    """Set up every -L/-R/-D; False if one failed (ssh warns and goes on,
    unless ExitOnForwardFailure)."""
    ok = True
    for forward in settings.forwards:
        try:
            _start(conn, forward)
        except SSHClientError as exc:
            ok = False
            _note(settings, f"Warning: {forward.option} {forward.listen}: forwarding "
                  f"failed: {exc.message}")
    return ok


def _start(conn: SSHConnection, forward: Forward) -> None:
    listen, target = forward.listen, forward.target
    if forward.option == "-D":
        assert isinstance(listen, Tcp)
        conn.forward_socks(listen.host, listen.port)
        return
    local = forward.option == "-L"
    starts: dict[tuple[type, type], Callable[..., Any]] = {
        (Tcp, Tcp): conn.forward_local_port if local else conn.forward_remote_port,
        (Unix, Unix): conn.forward_local_path if local else conn.forward_remote_path,
        (Tcp, Unix): conn.forward_local_port_to_path if local
        else conn.forward_remote_port_to_path,
        (Unix, Tcp): conn.forward_local_path_to_port if local
        else conn.forward_remote_path_to_port,
    }
    start = starts[(type(listen), type(target))]
    result = start(*_parts(listen), *_parts(target))
    if not local and isinstance(listen, Tcp) and listen.port == 0:
        # as ssh says it, so scripts written for ssh can read it
        print(f"Allocated port {result.port} for remote forward to {target}", file=sys.stderr,
              flush=True)


def _parts(endpoint: Tcp | Unix | None) -> tuple[Any, ...]:
    if isinstance(endpoint, Tcp):
        return endpoint.host, endpoint.port
    assert endpoint is not None
    return (endpoint.path,)


# ---------------------------------------------------------------- sessions
def run_command(conn: SSHConnection, inv: Invocation, settings: Settings) -> int:
    """The command (or the login shell) with our stdin, stdout and stderr;
    the remote exit status is ours (255 when there is none)."""
    command = " ".join(inv.command)
    want_tty = settings.tty in ("yes", "force") or (
        settings.tty == "auto" and not command and terminal.stdin_is_terminal())
    if want_tty and not terminal.stdin_is_terminal() and settings.tty != "force":
        _note(settings, "Pseudo-terminal will not be allocated because stdin is not a terminal.")
        want_tty = False
    with conn.open_session() as ch:
        if want_tty:
            columns, rows = terminal.size(0)
            ch.request_pty(os.environ.get("TERM", "vt100"), columns, rows)
        if command:
            ch.exec(command)
        else:
            ch.shell()
        if want_tty and terminal.stdin_is_terminal():
            with terminal.raw_mode(0):
                _resize_on_sigwinch(ch)
                return _pump(ch, inv)
        return _pump(ch, inv)


def _pump(ch: Channel, inv: Invocation) -> int:
    if not inv.stdin_null:
        threading.Thread(target=_feed, args=(ch,), name="stdin", daemon=True).start()
    else:
        ch.send_eof()
    sys.stdout.flush()
    ch.drain(sys.stdout.buffer, stderr_sink=_write_stderr)
    status = ch.wait_closed()
    return 255 if status is None else status


def _feed(ch: Channel) -> None:
    """Our stdin to the channel, then EOF (stops quietly if the channel goes)."""
    try:
        while data := os.read(0, READ_SIZE):
            ch.write(data)
        ch.send_eof()
    except (OSError, SSHClientError):
        pass


def _write_stderr(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(2, view):]


def _resize_on_sigwinch(ch: Channel) -> None:
    changed = threading.Event()
    signal.signal(signal.SIGWINCH, lambda *_: changed.set())

    def resize() -> None:
        while True:
            changed.wait()
            changed.clear()
            try:
                ch.resize_pty(*terminal.size(0))
            except SSHClientError:
                return
    threading.Thread(target=resize, name="sigwinch", daemon=True).start()


def stdio_forward(conn: SSHConnection, target: Tcp) -> int:
    """-W: our stdin and stdout are the connection to target (so sshclient
    can be another ssh's ProxyCommand)."""
    with conn.open_tcpip(target.host, target.port) as ch:
        threading.Thread(target=_feed, args=(ch,), name="stdin", daemon=True).start()
        ch.drain(sys.stdout.buffer)
    return 0


def serve_until_stopped(conn: SSHConnection) -> int:
    """-N: serve the forwards until the connection ends (0) or a signal
    (SIGTERM, SIGHUP, SIGINT) says to stop (0, as ssh). The handlers only
    set a flag: one that closed the connection itself could interrupt this
    thread inside the connection's lock and wait for it for ever."""
    stopping: list[int] = []
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(number, lambda signum, _frame: stopping.append(signum))
    ended = threading.Event()

    def watch() -> None:
        conn.wait_closed()
        ended.set()
    threading.Thread(target=watch, name="connection", daemon=True).start()
    while not stopping and not ended.wait(0.2):
        pass
    if stopping:
        return 0 if stopping[0] != signal.SIGINT else 255
    return 0 if conn.error is None else 255


def exit_on_signals() -> None:
    """While a command runs, SIGTERM and SIGHUP end us at once (the terminal
    restored first), without touching the connection from a signal handler."""
    def leave(signum: int, _frame: object) -> None:
        terminal.restore()
        os._exit(255)
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, leave)


def _note(settings: Settings, text: str) -> None:
    if not settings.quiet:
        print(text, file=sys.stderr, flush=True)

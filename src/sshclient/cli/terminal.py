"""The user's terminal: questions, passwords, raw mode and its size."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import AuthenticationError


def has_terminal() -> bool:
    """Whether questions can be asked (a controlling terminal exists)."""
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


def ask(question: str, echo: bool) -> str:
    """Ask on the terminal, or through SSH_ASKPASS as ssh does when it is
    set and SSH_ASKPASS_REQUIRE=force (or there is no terminal)."""
    askpass = os.environ.get("SSH_ASKPASS")
    forced = os.environ.get("SSH_ASKPASS_REQUIRE") == "force"
    if askpass and (forced or not has_terminal()):
        done = subprocess.run([askpass, question], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AuthenticationError("SSH_ASKPASS gave no answer", code=1032)
        return done.stdout.rstrip("\n")
    with open("/dev/tty", "r+") as tty:
        tty.write(question)
        tty.flush()
        if echo:
            return tty.readline().rstrip("\n")
        with _no_echo(tty.fileno()):
            answer = tty.readline().rstrip("\n")
        tty.write("\n")
        return answer


@contextlib.contextmanager
def _no_echo(fd: int) -> Iterator[None]:
    import termios
    old = termios.tcgetattr(fd)
    new = list(old)
    new[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, new)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)


_saved: list[tuple[int, list[Any]]] = []  # (fd, attributes) while in raw mode


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """The terminal in raw mode (keys go to the remote side as typed),
    restored however the session ends."""
    import termios
    import tty
    old = termios.tcgetattr(fd)
    _saved.append((fd, old))
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # keeps typed-ahead input (TCSAFLUSH drops it)
        yield
    finally:
        restore()


def restore() -> None:
    """Put the terminal back as it was before raw_mode() (signal-safe: no locks)."""
    import termios
    while _saved:
        fd, old = _saved.pop()
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
        except termios.error:
            pass


def size(fd: int) -> tuple[int, int]:
    """(columns, rows) of the terminal on `fd` (80x24 if it will not say)."""
    try:
        columns, rows = os.get_terminal_size(fd)
        return columns, rows
    except OSError:
        return 80, 24


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and os.isatty(0)

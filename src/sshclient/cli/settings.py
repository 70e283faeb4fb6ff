"""What a command line asks for, settled: flags, -o keywords, defaults.

Each -o keyword we honour has one entry in KEYWORDS; any other keyword is
refused by name (ssh_config files as a whole are the next step). The
first value given for a keyword wins, as in ssh.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import Callable

from .. import algorithms
from ..errors import UsageError
from ..known_hosts import DEFAULT_FILES, GLOBAL_FILES
from .args import Invocation, split_destination
from .forwards import Forward, parse_dynamic, parse_forward

YES_NO = {"yes": True, "no": False, "true": True, "false": False}
STRICT = ("yes", "no", "ask", "accept-new", "off")
TTY = {"yes": "yes", "no": "no", "force": "force", "auto": "auto"}


@dataclass
class Settings:
    host: str = ""
    port: int = 22
    user: str = ""
    identities: list[str] = field(default_factory=list)
    jump: str | None = None
    proxy_command: str | None = None
    connect_timeout: float | None = None
    alive_interval: float = 0.0
    alive_count: int = 3
    algorithms: dict[str, list[str]] = field(default_factory=dict)  # option name -> list
    batch_mode: bool = False
    strict: str = "ask"
    known_hosts: list[str] = field(default_factory=lambda: list(DEFAULT_FILES))
    global_known_hosts: list[str] = field(default_factory=lambda: list(GLOBAL_FILES))
    exit_on_forward_failure: bool = False
    compression: bool = False
    tty: str = "auto"
    verbosity: int = 0
    quiet: bool = False
    forwards: list[Forward] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


def _flag(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        if value.lower() not in YES_NO:
            raise UsageError(f"{name} must be yes or no, not {value!r}", code=211)
        setattr(settings, name, YES_NO[value.lower()])
    return apply


def _seconds(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        if not value.isdigit():
            raise UsageError(f"{name} must be a number of seconds, not {value!r}", code=211)
        setattr(settings, name, float(value))
    return apply


def _algorithms(option: str, kind: algorithms.Kind) -> Callable[[Settings, str], None]:
    """ssh's list syntax: a list replaces the defaults; +list appends,
    -list removes, ^list puts first."""
    def apply(settings: Settings, value: str) -> None:
        names = [name for name in value[1:].split(",") if name] if value[0] in "+-^" else \
            [name for name in value.split(",") if name]
        defaults = list(algorithms.defaults(kind))
        if value[0] == "+":
            chosen = defaults + [n for n in names if n not in defaults]
        elif value[0] == "-":
            chosen = [n for n in defaults if n not in names]
        elif value[0] == "^":
            chosen = names + [n for n in defaults if n not in names]
        else:
            chosen = names
        settings.algorithms[option] = chosen
    return apply


def _port(settings: Settings, value: str) -> None:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise UsageError(f"bad Port {value!r}", code=211)
    settings.port = int(value)


def _strict(settings: Settings, value: str) -> None:
    value = value.lower()
    if value not in STRICT:
        raise UsageError(f"StrictHostKeyChecking must be one of {', '.join(STRICT)}", code=211)
    settings.strict = value


def _files(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        setattr(settings, name, [] if value.lower() == "none" else value.split())
    return apply


def _request_tty(settings: Settings, value: str) -> None:
    if value.lower() not in TTY:
        raise UsageError("RequestTTY must be yes, no, force or auto", code=211)
    settings.tty = TTY[value.lower()]


def _forward(option: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        # the config form separates listen and target with a space
        spec = ":".join(value.split(None, 1)) if option != "-D" else value
        settings.forwards.append(parse_dynamic(spec) if option == "-D"
                                 else parse_forward(option, spec))
    return apply


def _alive_count(settings: Settings, value: str) -> None:
    if not value.isdigit():
        raise UsageError(f"ServerAliveCountMax must be a number, not {value!r}", code=211)
    settings.alive_count = int(value)


def _log_level(settings: Settings, value: str) -> None:
    levels = {"quiet": -1, "fatal": -1, "error": 0, "info": 0, "verbose": 1, "debug": 1,
              "debug1": 1, "debug2": 2, "debug3": 3}
    if value.lower() not in levels:
        raise UsageError(f"unknown LogLevel {value!r}", code=211)
    level = levels[value.lower()]
    settings.quiet = level < 0
    settings.verbosity = max(settings.verbosity, level)


def _set(name: str) -> Callable[[Settings, str], None]:
    def apply(settings: Settings, value: str) -> None:
        setattr(settings, name, None if value.lower() == "none" else value)
    return apply


def _identity(settings: Settings, value: str) -> None:
    settings.identities.append(value)


KEYWORDS: dict[str, Callable[[Settings, str], None]] = {
    "port": _port,
    "user": _set("user"),
    "identityfile": _identity,
    "proxyjump": _set("jump"),
    "proxycommand": _set("proxy_command"),
    "connecttimeout": _seconds("connect_timeout"),
    "serveraliveinterval": _seconds("alive_interval"),
    "serveralivecountmax": _alive_count,
    "ciphers": _algorithms("ciphers", algorithms.Kind.CIPHER),
    "macs": _algorithms("macs", algorithms.Kind.MAC),
    "kexalgorithms": _algorithms("kex_algorithms", algorithms.Kind.KEX),
    "hostkeyalgorithms": _algorithms("host_key_algorithms", algorithms.Kind.HOST_KEY),
    "batchmode": _flag("batch_mode"),
    "stricthostkeychecking": _strict,
    "userknownhostsfile": _files("known_hosts"),
    "globalknownhostsfile": _files("global_known_hosts"),
    "exitonforwardfailure": _flag("exit_on_forward_failure"),
    "compression": _flag("compression"),
    "requesttty": _request_tty,
    "localforward": _forward("-L"),
    "remoteforward": _forward("-R"),
    "dynamicforward": _forward("-D"),
    "loglevel": _log_level,
}


def settle(inv: Invocation) -> Settings:
    """Flags first (they win over -o, as in ssh), then -o keywords, then defaults."""
    settings = Settings(tty=inv.tty, verbosity=inv.verbosity, quiet=inv.quiet,
                        compression=inv.compression, forwards=list(inv.forwards),
                        identities=list(inv.identities), jump=inv.jump)
    user, host, port = split_destination(inv.destination)
    settings.host = host
    if not host:
        raise UsageError(f"no host in {inv.destination!r}", code=211)
    for key, value in inv.options:
        apply = KEYWORDS.get(key)
        if apply is None:
            raise UsageError(f"option {key!r} is not supported by sshclient", code=211)
        if key in settings.seen and key not in ("identityfile", "localforward",
                                                "remoteforward", "dynamicforward"):
            continue  # the first value given wins
        settings.seen.add(key)
        apply(settings, value)
    settings.port = inv.port or port or settings.port
    settings.user = inv.user or user or settings.user or getpass.getuser()
    return settings

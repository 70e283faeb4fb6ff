"""The command line, read as ssh reads it.

Options come before the destination and may follow it too (ssh parses
again after the destination); the first word that is not an option after
the destination starts the remote command, and `--` ends the options.
Single-letter flags may be bundled (`-NT`, `-vvv`); an option's value may
be attached (`-p2222`) or the next word.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from .forwards import Forward, Tcp, parse_dynamic, parse_forward, parse_stdio

# options taking a value -> what the value is called in messages
VALUED = {"p": "port", "l": "login_name", "i": "identity_file", "J": "destination",
          "L": "forward", "R": "forward", "D": "port", "W": "host:port", "o": "option",
          "F": "configfile", "c": "cipher_spec", "m": "mac_spec", "E": "log_file",
          "b": "bind_address", "B": "bind_interface", "e": "escape_char", "I": "pkcs11",
          "O": "ctl_cmd", "Q": "query_option", "S": "ctl_path", "w": "tunnel"}
FLAGS = set("NTtvqVCn46GfgkKsxXYyMAaP")
# what we refuse, by name: never silently ignored
UNSUPPORTED = {
    "F": "-F (ssh_config files; only -o options are read)",
    "E": "-E (a log file; -v logs to stderr)",
    "b": "-b (a bind address)", "B": "-B (a bind interface)", "e": "-e (escape characters)",
    "I": "-I (PKCS#11)", "O": "-O (control commands)", "Q": "-Q (queries)",
    "S": "-S (control sockets)", "w": "-w (tun devices)",
    "f": "-f (going to the background)", "G": "-G (printing the configuration)",
    "g": "-g (gateway ports; give a bind address in -L instead)",
    "k": "-k", "K": "-K (GSSAPI)", "s": "-s (subsystems)", "x": "-x", "X": "-X (X11)",
    "Y": "-Y (X11)", "y": "-y (syslog)", "M": "-M (master mode)",
    "A": "-A (agent forwarding)", "a": "-a", "P": "-P (tags)",
}


@dataclass
class Invocation:
    destination: str = ""
    command: list[str] = field(default_factory=list)
    port: int | None = None
    user: str | None = None
    identities: list[str] = field(default_factory=list)
    jump: str | None = None
    forwards: list[Forward] = field(default_factory=list)
    stdio: Tcp | None = None
    no_command: bool = False                 # -N
    tty: str = "auto"                        # -T: "no", -t: "yes"/"force", else "auto"
    stdin_null: bool = False                 # -n
    options: list[tuple[str, str]] = field(default_factory=list)  # -o, in order
    verbosity: int = 0
    quiet: bool = False
    version: bool = False
    help: bool = False
    compression: bool = False
    ip_version: int = 0                      # -4 / -6


def parse(argv: list[str]) -> Invocation:
    inv = Invocation()
    words = list(argv)
    while True:
        words = _options(words, inv)
        if inv.help or inv.version:
            return inv
        if not words:
            break
        if inv.destination:
            inv.command = words
            break
        inv.destination = words.pop(0)
        if words and words[0] == "--":
            inv.command = words[1:]
            break
    if not inv.destination:
        raise UsageError("no destination given (sshclient [options] [user@]host [command])",
                         code=211)
    return inv


def _options(words: list[str], inv: Invocation) -> list[str]:
    """Consume leading options; the words left."""
    while words:
        word = words[0]
        if word == "--help":
            inv.help = True
            return []
        if word == "--":
            return words[1:] if not inv.destination else words
        if not word.startswith("-") or word == "-":
            return words
        words.pop(0)
        letters = word[1:]
        while letters:
            letter, letters = letters[0], letters[1:]
            if letter in VALUED:
                value = letters or (words.pop(0) if words else None)
                if value is None:
                    raise UsageError(f"option -{letter} needs a value ({VALUED[letter]})",
                                     code=211)
                _valued(inv, letter, value)
                letters = ""
            elif letter in FLAGS:
                _flag(inv, letter)
            else:
                raise UsageError(f"unknown option -{letter}", code=211)
    return words


def _valued(inv: Invocation, letter: str, value: str) -> None:
    if letter in UNSUPPORTED:
        raise UsageError(f"{UNSUPPORTED[letter]} is not supported", code=211)
    if letter == "p":
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
            raise UsageError(f"bad port {value!r}", code=211)
        inv.port = int(value)
    elif letter == "l":
        inv.user = value
    elif letter == "i":
        inv.identities.append(value)
    elif letter == "J":
        inv.jump = value
    elif letter in "LR":
        inv.forwards.append(parse_forward(f"-{letter}", value))
    elif letter == "D":
        inv.forwards.append(parse_dynamic(value))
    elif letter == "W":
        inv.stdio = parse_stdio(value)
    elif letter == "o":
        inv.options.append(_keyword(value))
    elif letter == "c":
        inv.options.append(("ciphers", value))
    elif letter == "m":
        inv.options.append(("macs", value))


def _flag(inv: Invocation, letter: str) -> None:
    if letter in UNSUPPORTED:
        raise UsageError(f"{UNSUPPORTED[letter]} is not supported", code=211)
    if letter == "N":
        inv.no_command = True
    elif letter == "T":
        inv.tty = "no"
    elif letter == "t":
        inv.tty = "force" if inv.tty == "yes" else "yes"
    elif letter == "v":
        inv.verbosity += 1
    elif letter == "q":
        inv.quiet = True
    elif letter == "V":
        inv.version = True
    elif letter == "C":
        inv.compression = True
    elif letter == "n":
        inv.stdin_null = True
    elif letter in "46":
        inv.ip_version = int(letter)


def _keyword(text: str) -> tuple[str, str]:
    """-o Keyword=value or -o "Keyword value"."""
    key, sep, value = text.partition("=")
    if not sep:
        key, _, value = text.strip().partition(" ")
    key, value = key.strip(), value.strip()
    if not key or not value:
        raise UsageError(f"bad -o option {text!r} (Keyword=value)", code=211)
    return key.lower(), value


def split_destination(destination: str) -> tuple[str | None, str, int | None]:
    """[user@]host, or ssh://[user@]host[:port]."""
    port = None
    if destination.startswith("ssh://"):
        rest = destination[len("ssh://"):].rstrip("/")
        user, _, where = rest.rpartition("@")
        if where.startswith("["):
            host, _, tail = where[1:].partition("]")
            port_text = tail[1:] if tail.startswith(":") else None
        else:
            host, _, port_text = where.partition(":")
            port_text = port_text or None
        if port_text is not None:
            if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
                raise UsageError(f"bad port in {destination!r}", code=211)
            port = int(port_text)
        return user or None, host, port
    user, _, host = destination.rpartition("@")
    return user or None, host, None

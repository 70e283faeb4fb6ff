"""Reads the spec (shared/spec/sshclient-python-edition.txt): its item lists and
the Python signatures it gives, so tests can hold the class to the text."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_CANDIDATES = [
    Path(os.environ.get("SSHCLIENT_SPEC_DIR", "")),
    Path(__file__).resolve().parents[2] / "shared" / "spec",
    Path(__file__).resolve().parents[1] / "shared" / "spec",
]


def spec_dir() -> Path | None:
    for candidate in _CANDIDATES:
        if str(candidate) not in ("", ".") and (
                candidate / "sshclient-python-edition.txt").is_file():
            return candidate
    return None


@dataclass
class Signature:
    name: str
    params: list[str]
    returns: str


@dataclass
class SpecItems:
    properties: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    functions: dict[str, Signature] = field(default_factory=dict)  # every `def` in Syntax
    property_lines: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (get, set)
    event_fields: dict[str, list[str]] = field(default_factory=dict)  # params class -> fields
    settable_fields: dict[str, list[str]] = field(default_factory=dict)


def _list_section(lines: list[str], header: str, stop: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    items = []
    for line in lines[start + 2:]:
        if line.startswith(stop) or "|" not in line:
            break
        items.append(line.split("|")[0].strip())
    return items


_DEF = re.compile(r"def (\w+)\(([^)]*)\) -> ([^:]+):")


def load() -> SpecItems:
    directory = spec_dir()
    if directory is None:
        raise FileNotFoundError("shared/spec/sshclient-python-edition.txt not found "
                                "(set SSHCLIENT_SPEC_DIR)")
    text = (directory / "sshclient-python-edition.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    items = SpecItems()
    items.properties = _list_section(lines, "Property List", "Method List")
    items.methods = _list_section(lines, "Method List", "Event List")
    items.events = _list_section(lines, "Event List", "Config Settings")
    items.settings = [s for s in _list_section(lines, "Config Settings", "ssh_channel_count")
                      if s]
    for index, line in enumerate(lines):
        if line.strip() != "Syntax" or index + 1 >= len(lines):
            continue
        syntax = lines[index + 1]
        if syntax.startswith("class SSHClient") and "EventParams" in syntax:
            _event_params(syntax, items)
            continue
        for name, params, returns in _DEF.findall(syntax):
            names = [p.split(":")[0].strip() for p in params.split(",") if p.strip()]
            items.functions[name] = Signature(name, names, returns.strip())
        if index + 2 < len(lines):
            m = re.match(r"(\w+) = property\((\w+), (\w+)\)", lines[index + 2])
            if m:
                items.property_lines[m.group(1)] = (m.group(2), m.group(3))
    # The Python edition's error table ("1001 | Server has disconnected. |"):
    # its messages name the Python spellings (remote_port, on_ssh_server_...).
    start = lines.index("SSHClient Errors")
    for line in lines[start:]:
        if line.strip() == "TCP/IP Errors":
            break
        m = re.match(r"^(\d{3,4}) \| (.+?) \|$", line)
        if m:
            items.errors[int(m.group(1))] = m.group(2).strip()
    return items


def _event_params(syntax: str, items: SpecItems) -> None:
    cls = re.match(r"class (\w+)\(object\)", syntax)
    if not cls:
        return
    fields = re.findall(r"@property def (\w+)\(\)", syntax)
    settable = re.findall(r"@(\w+)\.setter", syntax)
    # the part after "# In class SSHClient" declares the on_* hook, not fields
    hook = syntax.split("# In class SSHClient:")[-1]
    hook_names = set(re.findall(r"def (on_\w+)\(", hook))
    items.event_fields[cls.group(1)] = [f for f in fields if f not in hook_names]
    items.settable_fields[cls.group(1)] = [s for s in settable if s not in hook_names]

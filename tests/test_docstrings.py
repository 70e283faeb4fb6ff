"""Every public name of every front end has a docstring (issue 12): the names
in sshclient.__all__, the public methods and properties of those classes
(and of the classes they inherit from this package), SSHClient's methods,
properties and on_* events, and the event parameter classes and their fields.

The docstrings are our own words: `test_no_sentence_of_the_spec` fails on
any long sentence taken over from the spec's text."""
from __future__ import annotations

import inspect
import re
from typing import Any, Iterator

import pytest

import spec_text
import sshclient
import sshclient.eventclient
import sshclient.spec
from sshclient import aio
from sshclient.eventclient import params

# Names allowed to stay undocumented for now: none. The set may only shrink
# (see test_pending_names_are_still_undocumented); add to it only with a
# reason written here.
PENDING: set[str] = set()


def _front_end_objects() -> Iterator[tuple[str, Any]]:
    """(qualified name, object) for every public name this test covers."""
    for name in sshclient.__all__:
        yield name, getattr(sshclient, name)
    for name in aio.__all__:  # the asyncio front end
        yield f"aio.{name}", getattr(aio, name)
    for cls in params.EVENTS.values():
        yield cls.__name__, cls


def _members(owner: str, cls: type) -> Iterator[tuple[str, Any]]:
    """The public functions and properties of `cls` and of its bases from this
    package (an Enum's members and plain data attributes are not code)."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith(("sshclient", "sshcore")):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if inspect.isfunction(value) or isinstance(value, property) or \
                    inspect.isroutine(value):
                yield f"{owner}.{name}", value


def public_names() -> list[tuple[str, Any]]:
    found = []
    for name, obj in _front_end_objects():
        found.append((name, obj))
        if inspect.isclass(obj):
            found.extend(_members(name, obj))
    return found


def _documented(obj: Any) -> bool:
    return bool((getattr(obj, "__doc__", None) or "").strip())


def test_every_public_name_has_a_docstring():
    missing = sorted(name for name, obj in public_names()
                     if not _documented(obj) and name not in PENDING)
    assert not missing, f"no docstring: {', '.join(missing)}"


def test_pending_names_are_still_undocumented():
    undocumented = {name for name, obj in public_names() if not _documented(obj)}
    done = PENDING - undocumented
    assert not done, f"documented now, take them out of PENDING: {sorted(done)}"


def test_the_walk_covers_the_event_client():
    names = {name for name, _obj in public_names()}
    for expected in ("SSHClient.ssh_logon", "SSHClient.ssh_user", "SSHClient.get_ssh_user",
                     "SSHClient.set_ssh_user", "SSHClient.ssh_cert_issuer",
                     "SSHClient.on_ssh_channel_data", "SSHClient.get_bytes_sent",
                     "SSHClientSSHChannelDataEventParams.channel_data", "connect",
                     "SSHConnection.exec", "HostKeyInfo.fingerprint", "aio.run_many",
                     "aio.AsyncChannel.read", "aio.AsyncSSHConnection.open_tcpip_stream"):
        assert expected in names, expected


@pytest.mark.parametrize("module", [sshclient, sshclient.eventclient, sshclient.spec, aio])
def test_packages_have_a_docstring(module):
    assert _documented(module)


def _sentences(text: str) -> set[str]:
    """Sentences of 8 words or more, lower case, spaces collapsed."""
    out = set()
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
        if len(sentence.split()) >= 8:
            out.add(sentence.lower().rstrip("."))
    return out


@pytest.mark.skipif(spec_text.spec_dir() is None, reason="shared/spec not found")
def test_no_sentence_of_the_spec():
    directory = spec_text.spec_dir()
    assert directory is not None
    spec = set()
    for path in directory.glob("*.txt"):
        spec |= _sentences(path.read_text(encoding="utf-8"))
    copied = sorted(f"{name}: {sentence}" for name, obj in public_names()
                    for sentence in _sentences(getattr(obj, "__doc__", None) or "")
                    if sentence in spec)
    assert not copied, "\n".join(copied)

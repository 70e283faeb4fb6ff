"""Host key checking for the command line, as ssh's StrictHostKeyChecking.

    yes         only keys already in known_hosts
    ask         also asks on the terminal (the default; no terminal: refused)
    accept-new  unknown hosts are added; a changed key is refused
    no / off    unknown hosts are added; a changed key is only warned about
"""
from __future__ import annotations

import sys
from typing import Callable

from .. import known_hosts
from ..errors import HostKeyError
from ..known_hosts import Verdict
from ..options import HostKeyInfo
from .settings import Settings
from .terminal import ask


def host_key_checker(settings: Settings, host: str, port: int,
                     interactive: bool) -> Callable[[HostKeyInfo], bool]:
    """A host_key_verifier for host:port under the settings' policy."""
    name = known_hosts.host_name(host, port)
    files = settings.known_hosts + settings.global_known_hosts

    def check(info: HostKeyInfo) -> bool:
        verdict, entry = known_hosts.check(info, host, port, files)
        kind = _kind(info)
        if verdict is Verdict.KNOWN:
            return True
        if verdict is Verdict.REVOKED:
            assert entry is not None
            raise HostKeyError(f"the {kind} host key of {name} is marked revoked "
                               f"in {entry.where}", code=1030)
        if verdict is Verdict.CHANGED:
            assert entry is not None
            text = (f"REMOTE HOST IDENTIFICATION HAS CHANGED for {name}: it shows the {kind} "
                    f"key {info.fingerprint}, and {entry.where} holds another. Someone could "
                    "be eavesdropping (a man-in-the-middle attack), or the host key was "
                    "replaced. Host key verification failed.")
            if settings.strict in ("no", "off"):
                _warn(settings, f"WARNING: {text[:-len(' Host key verification failed.')]}")
                return True
            raise HostKeyError(text, code=1030)
        return _unknown(info, kind)

    def _unknown(info: HostKeyInfo, kind: str) -> bool:
        strict = settings.strict
        if strict == "ask" and interactive and not settings.batch_mode:
            question = (f"The authenticity of host '{name}' can't be established.\n"
                        f"{kind} key fingerprint is {info.fingerprint}.\n"
                        "Are you sure you want to continue connecting (yes/no/[fingerprint])? ")
            answer = ask(question, echo=True).strip()
            if answer.lower() != "yes" and answer != info.fingerprint:
                raise HostKeyError(f"Host key verification failed (not accepted for {name})",
                                   code=1030)
        elif strict not in ("accept-new", "no", "off"):
            where = ", ".join(files) or "no known_hosts file"
            raise HostKeyError(f"Host key verification failed: no {kind} host key for {name} "
                               f"in {where} (StrictHostKeyChecking={strict})", code=1030)
        if settings.known_hosts and strict != "off":
            known_hosts.add(settings.known_hosts[0], info, host, port)
            _warn(settings, f"Warning: Permanently added '{name}' ({kind}) to the list of "
                  "known hosts.")
        return True

    return check


def _kind(info: HostKeyInfo) -> str:
    """ED25519, ECDSA, RSA, as ssh names key types in its messages."""
    base = info.key_type.replace("-cert-v01@openssh.com", "")
    return {"ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ssh-dss": "DSA"}.get(
        base, "ECDSA" if base.startswith("ecdsa") else base)


def _warn(settings: Settings, text: str) -> None:
    if not settings.quiet:
        print(text, file=sys.stderr, flush=True)

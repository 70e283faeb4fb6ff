"""HostilePeer: a threaded TCP listener on 127.0.0.1 that runs one Session per client."""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence, Union

from .session import ExecSpec, Session

Hook = Union[Callable[..., None], Sequence[Callable[..., None]]]


@dataclass
class PeerConfig:
    """How the peer behaves.  script maps a point to a callable (or a list of them):

    "version"(session)          replaces the version exchange (send garbage, close, ...)
    "before_kexinit"(session)   after the version lines, before the first KEXINIT
    "kex"(session)              first exchange, after both KEXINITs, before the reply
    "service"(session)          after SERVICE_REQUEST, before SERVICE_ACCEPT
    "auth"(session)             after SERVICE_ACCEPT, before the banner and any answer
    "login"(session)            right after USERAUTH_SUCCESS
    "open"(session, ch)         right after a channel open is confirmed
    "exec"(session, ch, cmd)    replaces the default answer to an exec request
    """
    version: bytes = b"SSH-2.0-HostilePeer_1.0"
    banner_lines: Sequence[bytes] = ()  # lines sent before the version line
    kex: Sequence[str] = ("curve25519-sha256",)
    host_key_algorithms: Sequence[str] = ("ssh-ed25519",)
    ciphers: Sequence[str] = ("aes128-ctr",)
    macs: Sequence[str] = ("hmac-sha2-256",)
    # "zlib" / "zlib@openssh.com" are done with Python's zlib module, on its
    # own (not sshcore's): an independent implementation to test against.
    compression: Sequence[str] = ("none",)
    strict_kex: bool = True  # offer kex-strict-s-v00@openssh.com
    reset_sequence: bool = True  # False: a broken strict-kex server
    ext_info: bool = True  # send EXT_INFO (server-sig-algs) when the client asks
    bad_signature: bool = False  # sign something else than the exchange hash
    username: str = "tester"
    password: str = "secret"
    auth: Sequence[str] = ("password",)  # all required, in order (partial success between)
    allow_none: bool = False
    password_change: bool = False  # answer passwords with USERAUTH_PASSWD_CHANGEREQ
    auth_banner: str = ""
    kbd_name: str = "peer"
    kbd_instructions: str = ""
    kbd_rounds: Sequence[Sequence[tuple[str, bool]]] = ()
    kbd_answers: Sequence[Sequence[str]] | None = None  # None: any answers pass
    window: int = 2 * 1024 * 1024  # what the peer advertises for its end of channels
    max_packet: int = 32768
    commands: dict[str, ExecSpec] = field(default_factory=dict)
    default_exec: ExecSpec = field(default_factory=ExecSpec)
    direct_tcpip: bool = True  # accept direct-tcpip opens (as an echo service)
    script: dict[str, Hook] = field(default_factory=dict)
    timeout: float = 20.0  # the peer's patience with a silent client


class HostilePeer:
    """with HostilePeer(ciphers=["aes128-gcm@openssh.com"], script={...}) as peer:
    connect to (peer.host, peer.port); peer.session() is the first Session."""

    def __init__(self, config: PeerConfig | None = None, **overrides: Any) -> None:
        self.config = replace(config or PeerConfig(), **overrides)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.host, self.port = self._listener.getsockname()[:2]
        self.sessions: list[Session] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept_loop, daemon=True,
                                          name=f"peer-{self.port}")
        self._accepter.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(self.config, sock, self._stop)
            thread = threading.Thread(target=session.run, daemon=True,
                                      name=f"peer-{self.port}-{len(self.sessions)}")
            with self._cond:
                self.sessions.append(session)
                self._threads.append(thread)
                self._cond.notify_all()
            thread.start()

    def session(self, index: int = 0, timeout: float = 10.0) -> Session:
        """The index-th accepted connection (waits for it)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.sessions) > index, timeout):
                raise TimeoutError(f"no connection #{index} within {timeout} s")
            return self.sessions[index]

    def finished(self, index: int = 0, timeout: float = 10.0) -> Session:
        """The index-th session once its thread has ended."""
        session = self.session(index, timeout)
        if not session.done.wait(timeout):
            raise TimeoutError(f"peer session #{index} still running after {timeout} s")
        return session

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accepter.join(5)
        for session in list(self.sessions):
            session.abort()
        for thread in list(self._threads):
            thread.join(5)

    def errors(self) -> list[BaseException]:
        return [s.error for s in self.sessions if s.error is not None]

    def __enter__(self) -> HostilePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

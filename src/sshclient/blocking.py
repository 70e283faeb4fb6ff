"""A Pythonic blocking API on the sans-IO core (the fastest way to move data).

    with sshclient.connect("host", username="me", key="~/.ssh/id_ed25519") as conn:
        result = conn.exec("uname -a")
        print(result.exit_status, result.stdout)
"""
from __future__ import annotations

import functools
import io
import os
import select
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, Callable, TypeVar, cast

from . import events as ev
from .algorithms import Negotiated
from .connect_args import (
    SAME_AS_TIMEOUT,
    ConnectRequest,
    Hop,
    SameAsTimeout,
    at_hop,
    closed_on_failure,
    jump_hops,
    prepare_connect,
)
from .deadline import Deadline
from .driver import BlockingDriver
from .errors import SSHClientError, UsageError
from .forwarding import Forwarding, LocalForward, RemoteForward
from .forwarding.local import (
    Target,
    check_listen_port,
    listen_tcp,
    listen_unix,
    socks_target,
    tcp_addresses,
    tcp_target,
    unix_target,
)
from .forwarding.remote import Dial, Listen, dial_path, resolve_dial, tcp_listen, unix_listen
from .forwarding.tunnel import tunnel_socket
from .forwarding.tunnel import unreachable as unreachable_through
from .keys import PrivateKey
from .operations import (
    ChannelHandle,
    Drain,
    ExecCommand,
    ExecResult,
    LineSplitter,
    Operation,
    Read,
    Write,
    answer_by_default,
    carry,
    drain_copier,
)
from .options import (
    ClientOptions,
    HostKeyInfo,
)
from .protocol import ClientProtocol
from .proxy import ProxySettings
from .proxy_command import ProxyCommand
from .sockets import open_socket
from .validate import check_socket_path

_READ_SIZE = 1 << 20
_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Run a public method holding its connection's lock (several threads may
    use one connection; each waits for I/O with the lock let go); what the
    call queued is sent on the way out."""
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._driver.operating():
            return method(self, *args, **kwargs)
    return cast(_F, wrapper)


def _fileno_of(sink: object) -> int | None:
    """The fd of a file-like sink (flushed, so its own buffer goes first)."""
    fileno = getattr(sink, "fileno", None)
    if fileno is None:
        return None
    try:
        fd = fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None  # e.g. BytesIO: not a real file
    flush = getattr(sink, "flush", None)
    if flush is not None:
        flush()
    return int(fd)


class Channel:
    """One SSH channel: a session (exec/shell/subsystem) or a TCP tunnel."""

    def __init__(self, conn: SSHConnection, handle: ChannelHandle) -> None:
        self._conn = conn
        self._driver = conn._driver
        self._ch = handle
        self.id = handle.id

    # ----------------------------------------------------------- requests
    @_locked
    def exec(self, command: str | bytes) -> None:
        """Ask the server to run `command` on this session channel and
        return once it has agreed; the output is then read with read(),
        drain() and friends, and the exit status appears in exit_status.

        Blocks until the server answers the request. Raises ChannelError
        1033 if the server says no, 1022 if it closes the channel instead
        of answering, and SSHTimeoutError 301 after `timeout` seconds
        without an answer (the channel is then still open)."""
        self._conn._run(self._ch.exec(command))

    @_locked
    def shell(self) -> None:
        """Start the user's login shell on this session channel (usually
        after request_pty()); returns once the server has started it.

        Blocks for the server's answer; a refusal is ChannelError 1033, a
        channel closed instead of an answer 1022, silence for `timeout`
        seconds SSHTimeoutError 301."""
        self._conn._run(self._ch.shell())

    @_locked
    def subsystem(self, name: str) -> None:
        """Start the server-side subsystem called `name` (for example
        "sftp") on this session channel; its protocol then runs over
        write() and read().

        Blocks for the server's answer: ChannelError 1033 when it does not
        offer that subsystem, 1022 when it closes the channel instead,
        SSHTimeoutError 301 when no answer comes within `timeout`."""
        self._conn._run(self._ch.subsystem(name))

    @_locked
    def request_pty(self, term: str = "vt100", cols: int = 80, rows: int = 24,
                    modes: bytes = b"\x00") -> None:
        """Give this session channel a pseudo-terminal of type `term`,
        `cols` x `rows` characters, before exec() or shell(). `modes` holds
        the encoded terminal modes; the default, a lone zero byte, asks for
        none. With a pty, stderr arrives mixed into stdout.

        Blocks until the server accepts; ChannelError 1033 if it refuses
        (sshd with PermitTTY no, for one), SSHTimeoutError 301 if it stays
        silent for `timeout` seconds."""
        self._conn._run(self._ch.request_pty(term, cols, rows, 0, 0, modes))

    @_locked
    def resize_pty(self, cols: int, rows: int, width_px: int = 0, height_px: int = 0) -> None:
        """Tell the server the terminal is now cols x rows characters (and
        width_px x height_px pixels, 0 if unknown); the program in the pty
        gets SIGWINCH. No reply comes: the request cannot fail visibly."""
        self._ch.change_window_size(cols, rows, width_px, height_px)

    # --------------------------------------------------------------- data
    @_locked
    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of `data`, waiting for window space as needed (up to
        `timeout` seconds without progress: SSHTimeoutError 301)."""
        self._conn._run(Write(self._ch, data))

    @_locked
    def send_eof(self) -> None:
        """Tell the server that nothing more will be written to this
        channel: the remote command sees the end of its stdin. Reading
        still works afterwards; a write() raises ChannelError 1022.

        Returns at once: the message is queued and sent without waiting
        for window space or for any reply."""
        self._ch.send_eof()

    @_locked
    def read(self, max_bytes: int = -1, stream: int = 0) -> bytes:
        """Up to `max_bytes` (all buffered if -1); b"" at EOF."""
        data: bytes = self._conn._run(Read(self._ch, max_bytes, stream))
        return data

    @_locked
    def read_into(self, buf: bytearray | memoryview, stream: int = 0) -> int:
        """Like read(), but copies into the writable buffer `buf` instead
        of making a new bytes object: returns how many bytes were stored
        (at most len(buf)), or 0 once the stream has ended. `stream` 0 is
        stdout, 1 stderr.

        Blocks until some data or the end of the stream is there; after
        `timeout` seconds without progress SSHTimeoutError 301, and the
        error that ended the connection if the connection goes."""
        n: int = self._conn._run(Read(self._ch, -1, stream, into=buf))
        return n

    @_locked
    def read_stderr(self, max_bytes: int = -1) -> bytes:
        """read() of the stderr stream: up to `max_bytes` bytes (-1: all
        that is buffered) once there are some, b"" when stderr has ended.
        Blocks and raises as read() does."""
        return self.read(max_bytes, 1)

    @_locked
    def read_all(self, stream: int = 0) -> bytes:
        """Collect one stream (0 stdout, 1 stderr) until the server ends
        it, and return all of it as one bytes object.

        Blocks until that end of file (or channel close) arrives; any
        stretch of `timeout` seconds without new data raises
        SSHTimeoutError 301. Unread data on the other stream is kept, but
        if it fills the channel window nothing more can arrive: read both,
        or use drain(stderr_sink=...) or SSHConnection.exec()."""
        parts: list[bytes] = []
        while True:
            chunk = self.read(-1, stream)
            if not chunk:
                return b"".join(parts)
            parts.append(chunk)

    def __iter__(self) -> Iterator[bytes]:
        """stdout line by line (bytes, each with its b"\n"; the last may have
        none) until EOF; each step blocks and raises as read() does."""
        lines = LineSplitter()
        while chunk := self.read():
            yield from lines.feed(chunk)
        yield from lines.rest()

    @_locked
    def drain(self, sink: Callable[[memoryview], object] | BinaryIO | None = None,
              stderr_sink: Callable[[bytes], object] | None = None) -> int:
        """Read stdout to EOF; returns the byte count.

        `sink` None discards the data without copying it; a binary file
        with a fileno() (flushed first) is written straight from the
        channel buffer, other binary files (BytesIO) through write(); any
        other callable gets a memoryview of a reused buffer, valid only
        during the call. stderr is handed to
        `stderr_sink` as it comes, or left buffered for read_stderr() (it
        shares the channel window: once unread stderr holds all of it, stdout
        cannot move and drain() raises UsageError 211 instead of waiting).
        """
        total: int = self._conn._run(Drain(self._ch, self._drain_step(sink), stderr_sink))
        return total

    def _drain_step(self, sink: object) -> Callable[[], int]:
        """What drain() does with the stdout bytes buffered now; returns the
        count. A real file is written straight from the channel buffer."""
        ch = self._ch
        fd = _fileno_of(sink)
        if fd is None:
            return drain_copier(ch, sink, _READ_SIZE)

        def write() -> int:
            done = 0
            while ch.available(0):
                n = ch.write_to(fd)
                if n == 0:  # a non-blocking fd that is full: others may go on
                    with self._driver.lock.released():
                        select.select([], [fd], [], self._conn.timeout)
                done += n
            return done
        return write

    @property
    def exit_status(self) -> int | None:
        """The remote command's exit code, or None while the server has
        not reported one (it has not exited yet, or it was ended by a
        signal: see exit_signal). Reading it never waits."""
        return self._ch.record.exit_status

    @property
    def exit_signal(self) -> str | None:
        """The name of the signal that killed the remote command, without
        the "SIG" prefix (for example "TERM"), or None if it was not
        killed by one or the server has not said so yet. Never waits."""
        return self._ch.record.exit_signal

    @_locked
    def wait_closed(self) -> int | None:
        """Wait until the server closes this channel, and return the exit
        status it reported (None if it sent none). Data that arrives
        meanwhile stays buffered for reading.

        Blocks; SSHTimeoutError 301 after `timeout` seconds without any
        progress. Once close() has been called the channel is forgotten:
        calling this then raises ChannelError 1021."""
        state = self._ch.state  # 1021 once the channel is forgotten
        self._conn._wait(lambda: state.close_received, "channel close")
        return state.exit_status

    @_locked
    def close(self) -> None:
        """Close the channel; does not wait for the server (wait_closed()
        does): sshd answers only once the command has exited."""
        self._ch.close(connection_usable=self._conn.error is None and not self._driver.closed)

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SSHConnection:
    """A logged-in connection (from `connect()`).

    `timeout`: seconds without any progress before an operation fails with
    SSHTimeoutError (301); None or 0 waits forever. It may be changed at any
    time, e.g. shorter after a slow login.

    Threads: a connection and its channels may be used from several threads
    at once (e.g. one thread per channel, or one writing a channel's stdin
    while another reads its stdout); every method holds the connection's
    lock except while it waits for the network. Two threads reading the
    same stream of one channel get the data in some interleaving, as with
    a socket. Callbacks (drain() sinks, host key verifiers) run with the
    lock held: they may use this connection from their own thread, but must
    not wait for another thread that uses it."""

    def __init__(self, options: ClientOptions, sock, timeout: float | None) -> None:
        self.options = options
        self.timeout = timeout
        self._proto = ClientProtocol(options)
        self._driver = BlockingDriver(self._proto, sock, self._on_event)
        self.banner = ""
        self.error: SSHClientError | None = None  # what ended the connection
        self._forwarding: Forwarding | None = None
        self._serving = False  # a service thread pumps for the forwarding
        self._hops: list[SSHConnection] = []  # jump connections it opened (and closes)
        self._closing = False  # close() was called: what follows is no error
        self._peer = "the jump host"  # who, in errors about what goes through it
        self._proxy_command: ProxyCommand | None = None  # its transport's command, if one

    # ------------------------------------------------------------ events
    def _on_event(self, event: ev.Event) -> None:
        if self._forwarding is not None and self._forwarding.claim(event):
            return
        self.banner += answer_by_default(self._proto, event)

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        if self.error is not None:
            if done():
                return
            raise self.error
        try:
            self._driver.run_until(done, self.timeout, what=what)
        except SSHClientError as exc:
            # A timeout or a misuse (a bad argument, two threads at once)
            # leaves the connection usable; anything else ends it.
            if exc.code != 301 and not isinstance(exc, UsageError):
                self.error = exc
                self._driver.close()
            raise

    def _run(self, op: Operation) -> Any:
        """Carry an operation through (operations.run_steps)."""
        return carry(op, self._wait)

    # ----------------------------------------------------------- login
    def _login(self, deadline: Deadline) -> None:
        # Not _wait(): nobody else holds the connection yet, and connect()
        # closes it on any failure.
        self._proto.begin_auth()
        self._driver.run_until(lambda: self._proto.authenticated, self.timeout, what="login",
                               deadline=deadline)

    # --------------------------------------------------------- channels
    @_locked
    def open_session(self) -> Channel:
        """Open a new session channel, on which exec(), shell() or
        subsystem() can then be started; returns it as a Channel (usable
        in a `with` block, which closes it).

        Blocks until the server confirms the channel. Raises ChannelError
        1020 if the server refuses it (for example sshd's MaxSessions is
        reached) and SSHTimeoutError 301 if no answer comes in `timeout`
        seconds."""
        return Channel(self, self._run(self._proto.open_session()))

    @_locked
    def open_tcpip(self, host: str, port: int, src_host: str = "127.0.0.1",
                   src_port: int = 0) -> Channel:
        """Tunnel a TCP connection through the server: the server connects
        to `host`:`port` (a name it resolves itself) and the returned
        Channel carries the bytes both ways with write() and read().
        `src_host` and `src_port` are only reported to the server as where
        the connection comes from.

        Blocks until the server has made that connection or given up:
        ChannelError 1020 when it cannot or will not (forwarding disabled,
        connection refused on its side), SSHTimeoutError 301 after
        `timeout` seconds of silence."""
        return Channel(self, self._run(self._proto.open_direct_tcpip(host, port, src_host,
                                                                     src_port)))

    # -------------------------------------------------------- forwarding
    @_locked
    def forward_local_port(self, listen_host: str, listen_port: int, dest_host: str,
                           dest_port: int) -> LocalForward:
        """Listen on `listen_host`:`listen_port` (as `ssh -L`: "localhost"
        is the loopback addresses, "" every interface; port 0 picks a free
        port, then given by the result's `port`) and carry each connection
        to `dest_host`:`dest_port`, which the server connects to.

        Returns at once; a thread of this connection serves the listener
        and its connections in the background until they are all closed.
        A connection the server refuses to forward is closed and counted
        (`failures`, `last_failure`); the listener goes on. Raises
        SSHConnectionError when the address cannot be listened on."""
        check_listen_port(listen_host, listen_port)
        target = tcp_target(dest_host, dest_port)
        return self._listen(listen_tcp(tcp_addresses(listen_host, listen_port), listen_port),
                            target)

    @_locked
    def forward_local_path(self, listen_path: str, dest_path: str) -> LocalForward:
        """forward_local_port() from a local Unix socket (created at
        `listen_path`, removed on close) to a Unix socket on the server."""
        target = unix_target(dest_path)
        return self._listen([listen_unix(check_socket_path(listen_path, "listen_path"))], target)

    @_locked
    def forward_local_port_to_path(self, listen_host: str, listen_port: int,
                                   dest_path: str) -> LocalForward:
        """forward_local_port() to a Unix socket on the server."""
        check_listen_port(listen_host, listen_port)
        target = unix_target(dest_path)
        return self._listen(listen_tcp(tcp_addresses(listen_host, listen_port), listen_port),
                            target)

    @_locked
    def forward_local_path_to_port(self, listen_path: str, dest_host: str,
                                   dest_port: int) -> LocalForward:
        """forward_local_port() from a local Unix socket."""
        target = tcp_target(dest_host, dest_port)
        return self._listen([listen_unix(check_socket_path(listen_path, "listen_path"))], target)

    @_locked
    def forward_socks(self, listen_host: str, listen_port: int, *, username: str | None = None,
                      password: str | None = None) -> LocalForward:
        """A local SOCKS server (as `ssh -D`) on `listen_host`:`listen_port`:
        each SOCKS4, SOCKS4A or SOCKS5 CONNECT it accepts becomes a
        direct-tcpip channel to the host and port the client asked for
        (names are resolved by the server: socks5h / SOCKS4A). With
        `username` and `password`, clients must log in with them (SOCKS5,
        RFC 1929). A target the server cannot reach gets the SOCKS reply
        that says so, and is counted as for forward_local_port()."""
        check_listen_port(listen_host, listen_port)
        target = socks_target(username, password)
        return self._listen(listen_tcp(tcp_addresses(listen_host, listen_port), listen_port),
                            target)

    @_locked
    def forward_remote_port(self, listen_host: str, listen_port: int, dest_host: str,
                            dest_port: int) -> RemoteForward:
        """Have the server listen on `listen_host`:`listen_port` (as `ssh
        -R`; port 0 lets it choose, then given by the result's `port`; what
        an empty or wildcard host means is the server's GatewayPorts
        setting) and carry each connection it accepts to
        `dest_host`:`dest_port`, which this side connects to.

        Blocks until the server agrees; RequestRefusedError 1098 if it
        does not (port taken, forwarding not allowed). Then returns, and a
        thread of this connection serves the forward in the background. A
        connection whose local target cannot be reached is refused to the
        server and counted (`failures`, `last_failure`)."""
        listen = tcp_listen(listen_host, listen_port)
        return self._forward_remote(listen, resolve_dial(dest_host, dest_port))

    @_locked
    def forward_remote_path(self, listen_path: str, dest_path: str) -> RemoteForward:
        """forward_remote_port() from a Unix socket the server creates at
        `listen_path` to a local Unix socket."""
        return self._forward_remote(unix_listen(listen_path), dial_path(dest_path))

    @_locked
    def forward_remote_port_to_path(self, listen_host: str, listen_port: int,
                                    dest_path: str) -> RemoteForward:
        """forward_remote_port() to a local Unix socket."""
        return self._forward_remote(tcp_listen(listen_host, listen_port), dial_path(dest_path))

    @_locked
    def forward_remote_path_to_port(self, listen_path: str, dest_host: str,
                                    dest_port: int) -> RemoteForward:
        """forward_remote_port() from a Unix socket on the server."""
        return self._forward_remote(unix_listen(listen_path), resolve_dial(dest_host, dest_port))

    def _forward_remote(self, listen: Listen, target: Dial) -> RemoteForward:
        forward = RemoteForward(self._service(), listen, target)
        try:
            forward.start(self._run(forward.request))
        except BaseException:
            forward.close()
            raise
        self._serve()
        return forward

    @_locked
    def _tunnel_socket(self, host: str, port: int) -> socket.socket:
        """A socket whose bytes travel in a direct-tcpip channel to
        host:port (the transport of a connection through this one): one
        end of a socket pair, the other joined to the channel by a Splice
        that this connection's forwarding serves."""
        try:
            channel = self._run(self._proto.open_direct_tcpip(host, port))
        except SSHClientError as exc:
            raise unreachable_through(exc, host, port, self._peer) from None
        sock = tunnel_socket(self._service(), channel, f"tunnel to {host}:{port}")
        self._serve()
        return sock

    def _listen(self, socks: list[Any], target: Target) -> LocalForward:
        forward = LocalForward(self._service(), socks, target)
        self._serve()
        return forward

    def _service(self) -> Forwarding:
        if self._forwarding is None:
            self._forwarding = Forwarding(self._proto, self._driver)
            self._driver.round_listeners.append(self._forwarding)
        return self._forwarding

    def _serve(self) -> None:
        if not self._serving:
            self._serving = True
            threading.Thread(target=self._serve_forwarding, name="sshclient-forwarding",
                             daemon=True).start()

    def _serve_forwarding(self) -> None:
        """The service thread: pump while something is forwarded (the
        other threads' calls go on meanwhile, as they do among themselves)."""
        service = self._forwarding
        assert service is not None

        def nothing_left() -> bool:  # called with the lock held
            if service.idle or self._driver.closed:
                self._serving = False
                return True
            return False

        try:
            self._driver.run_until(nothing_left, None, what="forwarding")
        except SSHClientError as exc:
            with self._driver.lock:
                self._serving = False
                if self.error is None and not self._driver.closed:
                    self.error = exc
                self._driver.close()

    @_locked
    def exec(self, command: str | bytes, stdin: bytes | None = None) -> ExecResult:
        """Run `command` on the server in a session channel of its own and
        wait for it to finish. `stdin`, if given, is sent as the command's
        input, followed by end of file. Returns an ExecResult with all of
        stdout and stderr, the exit status and the signal, if any; a
        nonzero exit status is a result, not an exception.

        Blocks until the command has exited and the channel is closed,
        reading both streams as they come. Raises ChannelError (1020
        channel refused, 1033 command refused), SSHTimeoutError 301 after
        `timeout` seconds without progress (the channel is closed), or
        what ended the connection if it breaks."""
        result: ExecResult = self._run(ExecCommand(self._proto, command, stdin or b""))
        return result

    def wait_closed(self) -> SSHClientError | None:
        """Block until the connection ends (the server closes it, it breaks,
        or another thread closes it), serving any forwards meanwhile;
        returns what ended it (None for a close() of ours)."""
        try:
            self._driver.run_until(lambda: self._driver.closed or self._proto.closed, None,
                                   what="connection")
        except SSHClientError as exc:
            # (our own close() from a signal handler or another thread ends it too)
            if self.error is None and not isinstance(exc, UsageError) and not self._closing:
                self.error = exc
        return self.error

    @_locked
    def rekey(self) -> None:
        """Start a key re-exchange and wait until it is done."""
        self._run(self._proto.rekey())

    @property
    def negotiated(self) -> Negotiated | None:
        """The algorithms of the last key exchange (None before the first)."""
        return self._proto.negotiated

    @_locked
    def close(self) -> None:
        """Send the server a polite DISCONNECT and close the socket; every
        channel of this connection goes with it. Calling it again, or
        after the connection broke, does nothing.

        Does not wait for the server's reply and raises nothing for
        network trouble on the way out."""
        self._closing = True
        try:
            if not self._driver.closed:
                try:
                    self._proto.disconnect()
                finally:
                    self._driver.close()
        finally:
            if self._proxy_command is not None:
                self._proxy_command.stop()
            for hop in reversed(self._hops):
                hop.close()

    def __enter__(self) -> SSHConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(host: str, port: int = 22, *, username: str, password: str | None = None,
            key: str | os.PathLike[str] | PrivateKey | None = None, passphrase: str | None = None,
            host_key_verifier: Callable[[HostKeyInfo], bool] | None = None,
            accept_any_host_key: bool = False, timeout: float | None = 30.0,
            login_timeout: float | None | SameAsTimeout = SAME_AS_TIMEOUT,
            proxy: ProxySettings | None = None, keepalive_interval: float = 0.0,
            keepalive_count_max: int = 5, jump: SSHConnection | str | Sequence[str] | None = None,
            proxy_command: str | None = None, **option_overrides: object) -> SSHConnection:
    """Open, key-exchange and log in; returns a ready `SSHConnection`.

    `timeout`: seconds without progress before an operation fails, during
    the login and after it (`SSHConnection.timeout`); None or 0: no limit.
    `login_timeout` (default: the value of `timeout`; None or 0: no limit):
    seconds for the whole login, from the TCP connect through any proxy's
    handshake, the key exchange and authentication, however steadily the
    server keeps sending; past it, SSHTimeoutError 301 (a TCP or proxy
    connect that runs out of time: ConnectTimeoutError 10060, also one).
    Time spent in your own callbacks (host_key_verifier, a prompt handler,
    a signer) does not count.
    `proxy`: a SOCKS4/4A/5 or HTTP CONNECT proxy (`ProxySettings.from_url(
    "socks5://user:pass@host:1080")`).  `keepalive_interval`: seconds of silence
    before a keepalive@openssh.com probe; `keepalive_count_max` unanswered probes
    end the connection (error 1039).
    `jump`: reach `host` through SSH jump hosts (as `ssh -J`): a logged-in
    SSHConnection (its direct-tcpip channel carries this connection), or
    "[user@]host[:port]" strings (several: a list, or comma-separated, first
    hop first), each logged in with this call's other arguments (its own
    user if given) and closed with this connection. A failure names the hop.
    `proxy_command`: a shell command whose stdin and stdout carry the
    connection (as ssh's ProxyCommand; %h %p %r %n %% are expanded), ended
    when the connection closes.
    Other keywords set `ClientOptions` fields
    (ciphers=[...], macs=[...], kex_algorithms=[...], window_size=..., ...).
    """
    req = prepare_connect(host, port, username=username, password=password, key=key,
                          passphrase=passphrase, host_key_verifier=host_key_verifier,
                          accept_any_host_key=accept_any_host_key, timeout=timeout,
                          login_timeout=login_timeout, proxy=proxy,
                          keepalive_interval=keepalive_interval,
                          keepalive_count_max=keepalive_count_max,
                          proxy_command=proxy_command,
                          **cast("dict[str, Any]", option_overrides))
    hops: list[SSHConnection] = []
    if jump is not None and not isinstance(jump, SSHConnection):
        if proxy is not None or proxy_command is not None:
            raise UsageError("pass jump or proxy, not both (a proxy reaches the first hop: "
                             "connect to it with proxy=, then pass that connection as jump)",
                             code=211)

        def through(hop: Hop, via: SSHConnection | None) -> SSHConnection:
            return connect(hop.host, hop.port, username=hop.user or username,
                           password=password, key=key, passphrase=passphrase,
                           host_key_verifier=host_key_verifier,
                           accept_any_host_key=accept_any_host_key, timeout=timeout,
                           login_timeout=login_timeout, keepalive_interval=keepalive_interval,
                           keepalive_count_max=keepalive_count_max, jump=via,
                           **cast("dict[str, Any]", option_overrides))
    with closed_on_failure(hops):
        if jump is not None and not isinstance(jump, SSHConnection):
            jump = _chain(jump_hops(jump), through, hops)
        conn = _open(req, jump)
    conn._hops = hops
    return conn


def _chain(hops: list[Hop], through: Callable[[Hop, SSHConnection | None], SSHConnection],
           opened: list[SSHConnection]) -> SSHConnection:
    """Log in to each hop through the one before; a failure names the hop
    and closes those already open."""
    via: SSHConnection | None = None
    for hop in hops:
        try:
            via = through(hop, via)
        except SSHClientError as exc:
            raise at_hop(exc, f"jump host {hop}") from None
        opened.append(via)
    assert via is not None
    return via


def _open(req: ConnectRequest, jump: SSHConnection | None) -> SSHConnection:
    """Connect (directly, through a proxy, or through a jump connection),
    key-exchange and log in as a checked request says."""
    deadline = Deadline(req.login_timeout, "login")
    command: ProxyCommand | None = None
    if jump is not None:
        if req.proxy is not None or req.proxy_command is not None:
            raise UsageError("pass jump or proxy, not both", code=211)
        sock = jump._tunnel_socket(req.host, req.port)
    elif req.proxy_command is not None:
        command = ProxyCommand(req.proxy_command, req.host, req.port, req.options.username)
        sock = command.sock
    else:
        sock = open_socket(req.host, req.port, req.timeout, proxy=req.proxy, deadline=deadline)
    conn = SSHConnection(req.options, sock, req.timeout)
    conn._peer = f"jump host {req.options.username}@{req.host}:{req.port}"
    conn._proxy_command = command
    try:
        conn._login(deadline)
    except SSHClientError as exc:
        conn._driver.close()
        if command is not None:
            command.stop()
            raise at_hop(exc, f"through {command.describe()}") from None
        raise
    except BaseException:
        conn._driver.close()
        if command is not None:
            command.stop()
        raise
    return conn

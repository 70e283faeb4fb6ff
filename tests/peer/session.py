"""One client connection served by a blocking state machine, plus a test's script.

States run in order: version -> kex -> service -> auth -> connected.  At named
points the session calls the test's script (see PeerConfig.script); a script
gets the Session and uses its primitives (send, send_bad_mac, send_length,
send_data, rekey, disconnect, close, hang, ...) to misbehave on purpose.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import zlib
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sshcore import crypto
from sshcore.packet import PacketEngine
from sshcore.wire import Reader, Writer

from .kex import (
    STRICT_S,
    NegotiationFailed,
    ecdh_reply,
    kexinit_payload,
    negotiate,
    session_keys,
)

if TYPE_CHECKING:
    from .server import PeerConfig

DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG = 1, 2, 3, 4
SERVICE_REQUEST, SERVICE_ACCEPT, EXT_INFO, KEXINIT, NEWKEYS = 5, 6, 7, 20, 21
USERAUTH_REQUEST, USERAUTH_FAILURE, USERAUTH_SUCCESS, USERAUTH_BANNER = 50, 51, 52, 53
USERAUTH_INFO_REQUEST, USERAUTH_INFO_RESPONSE = 60, 61  # 60 is also PASSWD_CHANGEREQ
GLOBAL_REQUEST, REQUEST_SUCCESS, REQUEST_FAILURE = 80, 81, 82
CHANNEL_OPEN, OPEN_CONFIRMATION, OPEN_FAILURE, WINDOW_ADJUST = 90, 91, 92, 93
CHANNEL_DATA, EXTENDED_DATA, CHANNEL_EOF, CHANNEL_CLOSE = 94, 95, 96, 97
CHANNEL_REQUEST, CHANNEL_SUCCESS, CHANNEL_FAILURE = 98, 99, 100


class ClientGone(Exception):
    """The client sent DISCONNECT or closed the TCP connection: the session ends."""


class PeerStopped(Exception):
    """The script ended the session itself (close, disconnect, hang)."""


class PeerError(Exception):
    """The client did something the peer did not expect (recorded in Session.error)."""


@dataclass
class ExecSpec:
    """What an exec request produces when no "exec" script is given."""
    stdout: bytes = b""
    stderr: bytes = b""
    exit_status: int | None = 0


@dataclass
class PeerChannel:
    """The peer's view of one channel (id = the peer's number, remote_id = the client's)."""
    id: int
    kind: str
    remote_id: int = -1
    remote_window: int = 0  # what the peer may still send
    remote_max_packet: int = 0
    local_window: int = 0  # what the client may still send
    confirmed: bool = False
    failure: int | None = None
    received: bytearray = field(default_factory=bytearray)
    sent: int = 0  # data bytes sent to the client (both streams)
    eof_received: bool = False
    close_received: bool = False
    close_sent: bool = False
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    answers: list[bool] = field(default_factory=list)


def _run(hooks: object, *args: object) -> None:
    for fn in hooks if isinstance(hooks, (list, tuple)) else [hooks] if hooks else []:
        fn(*args)


class Session:
    """The server side of one connection.  Attributes tests read afterwards:

    client_version, kex_count, strict, auth_log, channels, client_disconnect
    ((reason, description) of the client's DISCONNECT), client_closed (TCP EOF
    seen), unimplemented (sequence numbers the client reported), error.
    """

    def __init__(self, config: PeerConfig, sock: socket.socket, stop: threading.Event) -> None:
        self.config = config
        self.sock = sock
        self.sock.settimeout(config.timeout)
        self.engine = PacketEngine()
        self._stop = stop
        self.state = "version"
        self.client_version = b""
        self.session_id: bytes | None = None
        self.strict = False
        self.kex_count = 0
        self.auth_log: list[tuple] = []
        self.channels: dict[int, PeerChannel] = {}
        self.global_requests: list[str] = []
        self.global_answers: list[bool] = []
        self.unimplemented: list[int] = []
        self.received_types: list[int] = []
        self.client_disconnect: tuple[int, str] | None = None
        self.client_closed = False
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._out = bytearray()
        self._hold = 0
        self._deferred: deque[tuple[int, bytes]] = deque()
        self._out_keys: tuple = ("none", None, None, None, None)
        self._out_base = (0, 0)
        # Compression (RFC 4253 §6.2) with Python's zlib, one stream per
        # direction, fresh at every NEWKEYS; zlib@openssh.com after USERAUTH_SUCCESS.
        self.compression = ("none", "none")  # (client to server, server to client)
        self.authenticated = False
        self._deflate: zlib._Compress | None = None
        self._inflate: zlib._Decompress | None = None
        if any(name != "none" for name in config.compression):
            self.engine.routing = False  # payloads are compressed: nothing to route

    # ------------------------------------------------------------ main line
    def run(self) -> None:
        script = self.config.script
        try:
            if script.get("version"):
                _run(script["version"], self)
                self._drain_raw()
            self._version()
            self.state = "kex"
            self._kex()
            self.state = "service"
            self._service()
            self.state = "auth"
            self._auth()
            self.state = "connected"
            _run(script.get("login"), self)
            while True:
                self._dispatch(*self.next_message())
        except ClientGone:
            self._wait_client_eof()
        except PeerStopped:
            pass
        except Exception as exc:  # recorded for the test to see
            self.error = exc
        finally:
            self.abort()
            self.done.set()

    def _version(self) -> None:
        c = self.config
        self.send_raw(b"".join(line + b"\r\n" for line in c.banner_lines) + c.version + b"\r\n")
        buf = b""
        while b"\n" not in buf:
            if len(buf) > 8192:
                raise PeerError("client version line too long")
            buf += self._recv_raw()
        line, _, rest = buf.partition(b"\n")
        self.client_version = line.rstrip(b"\r")
        self.engine.feed(rest)

    def _service(self) -> None:
        msg, payload = self.next_message()
        if msg != SERVICE_REQUEST or Reader(payload[1:]).string() != b"ssh-userauth":
            raise PeerError(f"expected SERVICE_REQUEST ssh-userauth, got message {msg}")
        _run(self.config.script.get("service"), self)
        self.send(Writer().byte(SERVICE_ACCEPT).string(b"ssh-userauth").getvalue())

    # ----------------------------------------------------------------- sending
    def send(self, payload: bytes) -> int:
        """Send one packet with the current keys; returns its sequence number."""
        seq = self.engine.seq_out
        if self._deflate is not None:
            payload = self._deflate.compress(payload) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
        self.engine.send_packet(payload)
        self.send_raw(self.engine.take_output())
        return seq

    def send_uncompressed(self, payload: bytes) -> None:
        """A packet whose payload goes out as given, even when compressing."""
        self.engine.send_packet(payload)
        self.send_raw(self.engine.take_output())

    def _compressing(self, name: str) -> bool:
        return name == "zlib" or (name == "zlib@openssh.com" and self.authenticated)

    def _start_compression(self, outgoing: bool, incoming: bool) -> None:
        if outgoing:
            self._deflate = zlib.compressobj(6) if self._compressing(self.compression[1]) \
                else None
        if incoming:
            self._inflate = zlib.decompressobj() if self._compressing(self.compression[0]) \
                else None

    def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the socket (after what is already queued)."""
        self._out += data
        if not self._hold:
            self.flush()

    def flush(self) -> None:
        if self._out:
            data, self._out = bytes(self._out), bytearray()
            try:
                self.sock.sendall(data)
            except OSError as exc:
                raise ClientGone(f"send failed: {exc}") from None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Everything sent inside goes out in one write (one TCP burst)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1
        self.flush()

    def send_bad_mac(self, payload: bytes) -> None:
        """Send `payload` as a packet whose MAC (or AEAD tag) is wrong in its last bit."""
        self.engine.send_packet(payload)
        out = bytearray(self.engine.take_output())
        out[-1] ^= 0x01
        self.send_raw(bytes(out))

    def send_length(self, length: int, extra: bytes = b"") -> None:
        """Start a packet whose (decrypted) packet_length field says `length`."""
        cipher, key, iv, mac, _ = self._out_keys
        head = struct.pack(">IB", length & 0xFFFFFFFF, 4) + os.urandom(11)
        if cipher == "none" or "gcm" in cipher or (mac or "").endswith("-etm@openssh.com"):
            raw = head  # the length travels in clear
        elif cipher.endswith("-ctr"):
            mac_len = crypto.mac_info(mac)[1]
            done = (self.engine.bytes_out - self._out_base[0]
                    - (self.engine.packets_out - self._out_base[1]) * mac_len)
            counter = (int.from_bytes(iv, "big") + done // 16) % (1 << 128)
            raw = Cipher(algorithms.AES(key), modes.CTR(counter.to_bytes(16, "big"))) \
                .encryptor().update(head)
        elif cipher == "chacha20-poly1305@openssh.com":
            nonce = bytes(8) + self.engine.seq_out.to_bytes(8, "big")
            raw = Cipher(algorithms.ChaCha20(key[32:], nonce), None).encryptor() \
                .update(head[:4]) + head[4:]
        else:
            raise NotImplementedError(f"send_length with {cipher}")
        self.send_raw(raw + extra)

    def disconnect(self, reason: int = 11, description: str = "bye") -> None:
        """Send DISCONNECT and close the connection; ends the session."""
        self.send(Writer().byte(DISCONNECT).uint32(reason).string(description).string(b"")
                  .getvalue())
        self.close()

    def close(self) -> None:
        """Close the TCP connection (after what was sent); ends the session."""
        self.flush()
        self.abort()
        raise PeerStopped("closed by the script")

    def hang(self) -> None:
        """Stop answering (read nothing, send nothing more) until the peer is closed."""
        self.flush()
        self._stop.wait()
        raise PeerStopped("hung")

    def abort(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    # --------------------------------------------------------------- receiving
    def _recv_raw(self) -> bytes:
        try:
            data = self.sock.recv(1 << 18)
        except socket.timeout:
            raise PeerError(f"client silent for {self.config.timeout} s") from None
        except ConnectionResetError:
            self.client_closed = True
            raise ClientGone("client reset the connection") from None
        except OSError as exc:
            raise ClientGone(f"receive failed: {exc}") from None
        if not data:
            self.client_closed = True
            raise ClientGone("client closed the connection")
        return data

    def _drain_raw(self) -> None:
        while True:
            self._recv_raw()

    def _wait_client_eof(self) -> None:
        """After ClientGone: read what is left (a DISCONNECT may still be queued when
        a send failed first) until the client's FIN or RST."""
        try:
            self.sock.settimeout(5)
            while self.client_disconnect is None:
                self._generic(*self.recv_packet())
        except (ClientGone, PeerError, ValueError, OSError):
            pass
        try:
            while not self.client_closed and self.sock.recv(1 << 16):
                pass
            self.client_closed = True
        except ConnectionResetError:
            self.client_closed = True  # closed with our data unread: RST instead of FIN
        except OSError:
            pass

    def recv_packet(self) -> tuple[int, bytes]:
        """The client's next packet as it is: (msg_type, payload)."""
        while True:
            packet = self.engine.next_packet()
            if packet is not None and self._inflate is not None:
                payload = self._inflate.decompress(packet[1])
                packet = (payload[0], payload)
            if packet is not None:
                self.received_types.append(packet[0])
                return packet
            self.engine.feed(self._recv_raw())

    def _generic(self, msg: int, payload: bytes) -> bool:
        """Handle the transport's generic messages; True if `msg` was one."""
        r = Reader(payload[1:])
        if msg == DISCONNECT:
            self.client_disconnect = (r.uint32(), r.text())
            raise ClientGone(f"client sent DISCONNECT {self.client_disconnect}")
        if msg == UNIMPLEMENTED:
            self.unimplemented.append(r.uint32())
        return msg in (DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG)

    def next_message(self) -> tuple[int, bytes]:
        """The next message for the state machine (generics and client KEXINIT handled)."""
        if self._deferred:
            return self._deferred.popleft()
        while True:
            msg, payload = self.recv_packet()
            if self._generic(msg, payload):
                continue
            if msg == KEXINIT:
                self._kex(payload)
                continue
            return msg, payload

    def wait_for(self, done: Callable[[], bool]) -> None:
        """Serve client messages until done() is true."""
        while not done():
            self._dispatch(*self.next_message())

    # -------------------------------------------------------------------- kex
    def rekey(self, between: Callable[[Session], None] | None = None) -> None:
        """A key re-exchange started by the peer; `between` runs after our KEXINIT."""
        self._kex(None, between)

    def _kex(self, theirs: bytes | None = None,
             between: Callable[[Session], None] | None = None) -> None:
        c = self.config
        initial = self.session_id is None
        names = list(c.kex)
        if initial:
            names += (["ext-info-s"] if c.ext_info else []) + ([STRICT_S] if c.strict_kex else [])
        if initial:
            _run(c.script.get("before_kexinit"), self)
        ours = kexinit_payload(names, list(c.host_key_algorithms), list(c.ciphers), list(c.macs),
                               list(c.compression))
        self.send(ours)
        if between is not None:
            between(self)
        while theirs is None:
            msg, payload = self.recv_packet()
            if msg == KEXINIT:
                theirs = payload
            elif not self._generic(msg, payload):
                self._deferred.append((msg, payload))  # sent before the client saw ours
        try:
            suite = negotiate(theirs, ours)
        except NegotiationFailed:
            while True:  # the client must give up; wait for it to say so
                self._generic(*self.recv_packet())
        if initial:
            self.strict = suite.client_strict and c.strict_kex
            _run(c.script.get("kex"), self)
        out = ecdh_reply(self._kex_message(30), self.client_version, c.version, theirs, ours,
                         c.bad_signature, suite.host_key)
        self.session_id = self.session_id or out.exchange_hash
        self.send(out.reply)
        self.send(bytes([NEWKEYS]))
        self._out_keys = session_keys(out, self.session_id, suite.cipher_s2c, suite.mac_s2c,
                                      False)
        self.engine.set_outgoing(*self._out_keys)
        self.compression = (suite.compression_c2s, suite.compression_s2c)
        self._start_compression(True, False)
        self._out_base = (self.engine.bytes_out, self.engine.packets_out)
        if self.strict and c.reset_sequence:
            self.engine.reset_outgoing_sequence()
        self._kex_message(NEWKEYS)
        self.engine.set_incoming(*session_keys(out, self.session_id, suite.cipher_c2s,
                                               suite.mac_c2s, True))
        self._start_compression(False, True)
        if self.strict and c.reset_sequence:
            self.engine.reset_incoming_sequence()
        self.kex_count += 1
        if initial and c.ext_info and suite.client_ext_info:
            self.send(Writer().byte(EXT_INFO).uint32(1).string(b"server-sig-algs")
                      .string(b"ssh-ed25519,rsa-sha2-256,rsa-sha2-512").getvalue())

    def _kex_message(self, expected: int) -> bytes:
        while True:
            msg, payload = self.recv_packet()
            if not self._generic(msg, payload):
                if msg != expected:
                    raise PeerError(f"expected message {expected} in kex, got {msg}")
                return payload

    # ------------------------------------------------------------------- auth
    def _auth(self) -> None:
        c = self.config
        remaining = list(c.auth)
        _run(c.script.get("auth"), self)
        if c.auth_banner:
            self.send(Writer().byte(USERAUTH_BANNER).string(c.auth_banner).string(b"")
                      .getvalue())
        while True:
            msg, payload = self.next_message()
            if msg != USERAUTH_REQUEST:
                raise PeerError(f"expected USERAUTH_REQUEST, got message {msg}")
            r = Reader(payload[1:])
            user, _service, method = r.text(), r.text(), r.text()
            ok = self._check_method(method, r)
            if ok is None:
                continue  # answered already (password change request)
            ok = ok and user == c.username
            if ok and method == "none":
                remaining = []
            elif ok and remaining and method == remaining[0]:
                remaining.pop(0)
            else:
                ok = False  # right answer, wrong turn: no partial success
            if ok and not remaining:
                self.send(bytes([USERAUTH_SUCCESS]))
                if not self.authenticated:
                    self.authenticated = True
                    delayed = "zlib@openssh.com"
                    self._start_compression(self.compression[1] == delayed,
                                            self.compression[0] == delayed)
                return
            self.send(Writer().byte(USERAUTH_FAILURE).name_list(remaining[:1]).boolean(ok)
                      .getvalue())

    def _check_method(self, method: str, r: Reader) -> bool | None:
        c = self.config
        if method == "none":
            self.auth_log.append(("none",))
            return c.allow_none
        if method == "password":
            r.boolean()
            password = r.text()
            self.auth_log.append(("password", password))
            if c.password_change:
                self.send(Writer().byte(USERAUTH_INFO_REQUEST).string("Password expired")
                          .string(b"").getvalue())
                return None
            return password == c.password
        if method == "keyboard-interactive":
            rounds = []
            for prompts in c.kbd_rounds:
                w = Writer().byte(USERAUTH_INFO_REQUEST).string(c.kbd_name) \
                    .string(c.kbd_instructions).string(b"").uint32(len(prompts))
                for prompt, echo in prompts:
                    w.string(prompt).boolean(echo)
                self.send(w.getvalue())
                msg, payload = self.next_message()
                if msg != USERAUTH_INFO_RESPONSE:
                    raise PeerError(f"expected USERAUTH_INFO_RESPONSE, got message {msg}")
                rr = Reader(payload[1:])
                rounds.append([rr.text() for _ in range(rr.uint32())])
            self.auth_log.append(("keyboard-interactive", rounds))
            return c.kbd_answers is None or rounds == [list(a) for a in c.kbd_answers]
        self.auth_log.append((method,))
        return False

    # ------------------------------------------------------------- connection
    def _dispatch(self, msg: int, payload: bytes) -> None:
        r = Reader(payload[1:])
        if msg == CHANNEL_OPEN:
            self._on_open(r)
        elif msg == GLOBAL_REQUEST:
            self.global_requests.append(r.text())
            if r.boolean():
                self.send(bytes([REQUEST_FAILURE]))
        elif msg in (REQUEST_SUCCESS, REQUEST_FAILURE):
            self.global_answers.append(msg == REQUEST_SUCCESS)
        elif OPEN_CONFIRMATION <= msg <= CHANNEL_FAILURE:
            local_id = r.uint32()
            ch = self.channels.get(local_id)
            if ch is None:
                raise PeerError(f"client sent message {msg} for unknown channel {local_id}")
            self._on_channel_message(ch, msg, r)
        else:
            self.send(Writer().byte(UNIMPLEMENTED).uint32(self.engine.seq_in - 1).getvalue())

    def _new_channel(self, kind: str, **kw: int) -> PeerChannel:
        ch = PeerChannel(len(self.channels) + 100, kind, local_window=self.config.window, **kw)
        self.channels[ch.id] = ch
        return ch

    def _on_open(self, r: Reader) -> None:
        kind, sender, window, max_packet = r.text(), r.uint32(), r.uint32(), r.uint32()
        c = self.config
        if kind == "session" or (kind == "direct-tcpip" and c.direct_tcpip):
            ch = self._new_channel(kind, remote_id=sender, remote_window=window,
                                   remote_max_packet=max_packet)
            ch.confirmed = True
            self.send(Writer().byte(OPEN_CONFIRMATION).uint32(sender).uint32(ch.id)
                      .uint32(c.window).uint32(c.max_packet).getvalue())
            _run(c.script.get("open"), self, ch)
        else:
            reason = 1 if kind == "direct-tcpip" else 3
            self.send(Writer().byte(OPEN_FAILURE).uint32(sender).uint32(reason)
                      .string(f"{kind} refused by the peer").string(b"").getvalue())

    def _on_channel_message(self, ch: PeerChannel, msg: int, r: Reader) -> None:
        if msg == OPEN_CONFIRMATION:
            ch.remote_id, ch.remote_window, ch.remote_max_packet = r.uint32(), r.uint32(), \
                r.uint32()
            ch.confirmed = True
        elif msg == OPEN_FAILURE:
            ch.failure = r.uint32()
        elif msg == WINDOW_ADJUST:
            ch.remote_window += r.uint32()
        elif msg in (CHANNEL_DATA, EXTENDED_DATA):
            if msg == EXTENDED_DATA:
                r.uint32()
            data = r.string()
            ch.received += data
            ch.local_window -= len(data)
            if ch.local_window < self.config.window // 2 and not ch.close_sent:
                self.send(Writer().byte(WINDOW_ADJUST).uint32(ch.remote_id)
                          .uint32(self.config.window - ch.local_window).getvalue())
                ch.local_window = self.config.window
            if ch.kind == "direct-tcpip":
                self.send_data(ch, data)  # an echo service
        elif msg == CHANNEL_EOF:
            ch.eof_received = True
            if ch.kind == "direct-tcpip":
                self.send_close(ch)
        elif msg == CHANNEL_CLOSE:
            ch.close_received = True
            if not ch.close_sent:
                self.send_close(ch)
        elif msg == CHANNEL_REQUEST:
            kind, want_reply = r.text(), r.boolean()
            ch.requests.append((kind, r.rest()))
            if ch.close_sent:
                return  # closing: requests are ignored, as sshd and dropbear do
            if kind == "exec":
                self._on_exec(ch, Reader(ch.requests[-1][1]).text(), want_reply)
            elif want_reply:
                ok = kind in ("pty-req", "env", "shell")
                self.send(Writer().byte(CHANNEL_SUCCESS if ok else CHANNEL_FAILURE)
                          .uint32(ch.remote_id).getvalue())
        else:  # CHANNEL_SUCCESS / CHANNEL_FAILURE
            ch.answers.append(msg == CHANNEL_SUCCESS)

    def _on_exec(self, ch: PeerChannel, command: str, want_reply: bool) -> None:
        if want_reply:
            self.send(Writer().byte(CHANNEL_SUCCESS).uint32(ch.remote_id).getvalue())
        hooks = self.config.script.get("exec")
        if hooks:
            _run(hooks, self, ch, command)
            return
        spec = self.config.commands.get(command, self.config.default_exec)
        self.send_data(ch, spec.stdout)
        self.send_data(ch, spec.stderr, ext=1)
        if spec.exit_status is not None:
            self.send_exit_status(ch, spec.exit_status)
        self.send_eof(ch)
        self.send_close(ch)

    # ------------------------------------------------ primitives for scripts
    def send_data(self, ch: PeerChannel, data: bytes, ext: int = 0,
                  respect_window: bool = True) -> None:
        """CHANNEL_DATA (ext=0) or EXTENDED_DATA in packets of the client's max size;
        waits for WINDOW_ADJUST unless respect_window is False."""
        view = memoryview(data)
        while len(view):
            if respect_window:
                self.wait_for(lambda: ch.remote_window > 0 or ch.close_received)
                if ch.close_received:
                    return
            n = min(len(view), ch.remote_max_packet,
                    ch.remote_window if respect_window else len(view))
            w = Writer().byte(EXTENDED_DATA if ext else CHANNEL_DATA).uint32(ch.remote_id)
            if ext:
                w.uint32(ext)
            self.send(w.string(view[:n]).getvalue())
            ch.remote_window -= n
            ch.sent += n
            view = view[n:]

    def send_request(self, ch: PeerChannel, kind: str, data: bytes = b"",
                     want_reply: bool = False) -> None:
        self.send(Writer().byte(CHANNEL_REQUEST).uint32(ch.remote_id).string(kind)
                  .boolean(want_reply).raw(data).getvalue())

    def send_exit_status(self, ch: PeerChannel, status: int) -> None:
        self.send_request(ch, "exit-status", struct.pack(">I", status))

    def send_eof(self, ch: PeerChannel) -> None:
        self.send(Writer().byte(CHANNEL_EOF).uint32(ch.remote_id).getvalue())

    def send_close(self, ch: PeerChannel) -> None:
        if not ch.close_sent:
            ch.close_sent = True
            self.send(Writer().byte(CHANNEL_CLOSE).uint32(ch.remote_id).getvalue())

    def global_request(self, name: str, want_reply: bool = True, data: bytes = b"") -> bool:
        """Send GLOBAL_REQUEST; with want_reply, wait for and return the answer."""
        count = len(self.global_answers)
        self.send(Writer().byte(GLOBAL_REQUEST).string(name).boolean(want_reply).raw(data)
                  .getvalue())
        if not want_reply:
            return False
        self.wait_for(lambda: len(self.global_answers) > count)
        return self.global_answers[count]

    def open_channel(self, kind: str, extra: bytes = b"") -> PeerChannel:
        """A channel opened by the peer (e.g. forwarded-tcpip); waits for the answer."""
        ch = self._new_channel(kind)
        self.send(Writer().byte(CHANNEL_OPEN).string(kind).uint32(ch.id)
                  .uint32(self.config.window).uint32(self.config.max_packet).raw(extra)
                  .getvalue())
        self.wait_for(lambda: ch.confirmed or ch.failure is not None)
        return ch

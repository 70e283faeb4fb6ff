"""SSH transport layer (RFC 4253), sans-IO.

Owns the compiled `PacketEngine`: version exchange, algorithm negotiation,
key exchange and re-exchange (either side, any time), strict kex, ext-info,
and the generic messages (IGNORE, DEBUG, UNIMPLEMENTED, DISCONNECT).
Messages of the upper layers (>= 50) are handed to `upper` one at a time.
"""
from __future__ import annotations

import functools
import os
import re
from collections import deque
from typing import Callable, Protocol

from sshcore import crypto
from sshcore.packet import PacketEngine, ProtocolError
from sshcore.wire import Reader, WireError, Writer

from . import algorithms as algs
from . import constants as c
from .algorithms.registry import accepted as accepted_names
from .errors import (
    DisconnectedError,
    HostKeyError,
    RemoteProtocolError,
    SSHClientError,
    UsageError,
)
from .events import (
    Event,
    HostKeyReceived,
    KexCompleted,
    KexStarted,
    LogMessage,
    ServerVersionReceived,
)
from .hostkeys import (
    key_type_for_algorithm,
    parse_public_key,
)
from .kex import KexMethod, KexResult, create_kex, derive_key
from .options import ClientOptions, HostKeyInfo
from .round_trip import RoundTripEstimate

MAX_VERSION_LINE = 8192
MAX_PRE_VERSION_LINES = 1024
# What one read takes before the version line is through (see Transport._scratch).
VERSION_READ_SIZE = 4096

# Messages allowed while a key exchange is running (RFC 4253 §7.1).
_KEX_MESSAGES = frozenset(range(20, 50))
_GENERIC_MESSAGES = frozenset({c.MSG_DISCONNECT, c.MSG_IGNORE, c.MSG_UNIMPLEMENTED, c.MSG_DEBUG})
# Upper-layer messages we implement (RFC 4252/4254; 60-79 are auth-method specific).
# Any other number gets SSH_MSG_UNIMPLEMENTED (RFC 4253 §11.4).
_UPPER_MESSAGES = frozenset(range(50, 54)) | frozenset(range(60, 80)) | frozenset(
    range(80, 83)) | frozenset(range(90, 101))
# Payloads that carry passwords or keyboard-interactive answers (MaskSensitiveData).
_CREDENTIAL_MESSAGES = frozenset({c.MSG_USERAUTH_REQUEST, c.MSG_USERAUTH_INFO_RESPONSE})


class UpperLayer(Protocol):
    def handle_packet(self, msg_type: int, payload: bytes) -> None: ...

    @property
    def awaiting_answer(self) -> bool:
        """A question to the front end is open: handle no packet until answered."""


def version_matches(version: str, patterns: str) -> bool:
    """SSHVersionPattern: comma separated shell-style wildcards (* and ?)."""
    return _version_regex(patterns).fullmatch(version) is not None


@functools.lru_cache(maxsize=32)
def _version_regex(patterns: str) -> re.Pattern[str]:
    """The patterns as one regular expression (made once per pattern text)."""
    alternatives = ["".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch)
                            for ch in pattern.strip())
                    for pattern in patterns.split(",") if pattern.strip()]
    return re.compile("|".join(f"(?:{a})" for a in alternatives) or "(?!)", re.S)


# ClientOptions field -> the kind of algorithm it lists.
_OPTION_KINDS = {
    "kex_algorithms": algs.Kind.KEX,
    "host_key_algorithms": algs.Kind.HOST_KEY,
    "ciphers": algs.Kind.CIPHER,
    "macs": algs.Kind.MAC,
    "compression": algs.Kind.COMPRESSION,
}


# The lists our KEXINIT takes from the options or the defaults (compression
# is sent as the options have it).
_OFFERED_LISTS = ("kex_algorithms", "host_key_algorithms", "ciphers", "macs")


def check_algorithm_choices(options: ClientOptions) -> None:
    """Algorithm lists a caller chose must be lists of names we can run, or
    our kex markers (1005 says why the others cannot run): what we offer in
    KEXINIT we must be able to run. Empty lists mean our defaults, which
    hold no weak ones."""
    for field_name, kind in _OPTION_KINDS.items():
        chosen = getattr(options, field_name)
        if isinstance(chosen, (str, bytes)) or not all(isinstance(n, str) for n in chosen):
            raise UsageError(f"{field_name} must be a list of algorithm names, "
                             f"not {chosen!r}", code=211)
        accepted = accepted_names(kind)
        if not accepted.issuperset(chosen):
            algs.check_requested(kind, list(chosen), accepted)  # 1005 naming each


class Transport:
    """Sans-IO SSH transport. Feed bytes in, take bytes out, read events."""

    def __init__(self, options: ClientOptions, emit: Callable[[Event], None]) -> None:
        check_algorithm_choices(options)
        self.options = options
        self._emit = emit
        self.engine = PacketEngine()
        self.upper: UpperLayer | None = None

        self.client_version = options.client_version.encode("utf-8")
        self.server_version: bytes = b""
        self._version_buffer = bytearray()
        self._version_done = False
        self._pre_version_lines = 0
        self.first_line = b""  # first non-version line, for error messages
        # Reads before the version line land here: it and the packets sent
        # with it fit easily, and a bigger buffer costs every login its pages.
        self._scratch = bytearray(VERSION_READ_SIZE)

        self.session_id: bytes | None = None
        self.host_key_blob: bytes | None = None
        self.negotiated: algs.Negotiated | None = None
        self.server_sig_algs: list[str] | None = None
        self.strict_kex = False
        self.kex_count = 0
        # Compression in effect per direction (changes with the keys), and
        # whether USERAUTH_SUCCESS arrived (starts zlib@openssh.com).
        self.compression_out = "none"
        self.compression_in = "none"
        self.authenticated = False

        # key exchange state
        self._in_kex = False
        # what ended the connection (set by the protocol), for later sends
        self.ended_by: SSHClientError | None = None
        # the first exchange's result while the front end decides on the host key
        self._held_kex: tuple[KexResult, HostKeyInfo] | None = None
        self._our_kexinit: bytes | None = None
        self._offer: dict[str, list[str]] = {}  # our KEXINIT's lists (_kexinit_payload)
        self._their_kexinit: bytes | None = None
        self._kex: KexMethod | None = None
        self._ignore_next_kex_packet = False
        self._newkeys_sent = False
        self._newkeys_received = False
        self._pending_keys_in: tuple | None = None
        self._queued: deque[bytes] = deque()  # upper-layer packets held during kex

        # the path's round trip, from requests the server answers at once
        self.round_trip = RoundTripEstimate()
        self.closed = False
        self.disconnect_error: SSHClientError | None = None
        # process() stopped at a question to the front end (see `held`)
        self.waiting_on_answer = False
        self._output_version()

    # ------------------------------------------------------------------ I/O
    def _output_version(self) -> None:
        # Version line goes out raw, before any packet.
        self._raw_out = bytearray(self.client_version + b"\r\n")

    def recv_buffer(self, size_hint: int = 65536) -> memoryview:
        if not self._version_done:
            return memoryview(self._scratch)
        return self.engine.recv_buffer(size_hint)

    def recv_commit(self, n: int) -> None:
        if not self._version_done:
            self._receive_version_bytes(bytes(self._scratch[:n]))
        else:
            self.engine.recv_commit(n)

    def receive_data(self, data: bytes) -> None:
        if not self._version_done:
            self._receive_version_bytes(data)
        else:
            self.engine.feed(data)

    def output_size(self) -> int:
        return len(self._raw_out) + self.engine.output_size()

    def take_output(self) -> bytes:
        if self._raw_out:
            out = bytes(self._raw_out) + self.engine.take_output()
            self._raw_out.clear()
            return out
        return self.engine.take_output()

    def output_view(self) -> memoryview:
        if self._raw_out:
            self._raw_out += self.engine.take_output()
            return memoryview(self._raw_out)
        return self.engine.output_view()

    def output_consume(self, n: int) -> None:
        if self._raw_out:
            del self._raw_out[:n]
        else:
            self.engine.output_consume(n)

    # ------------------------------------------------------------- version
    def _receive_version_bytes(self, data: bytes) -> None:
        self._version_buffer += data
        while not self._version_done:
            end = self._version_buffer.find(b"\n")
            if end < 0 and len(self._version_buffer) <= MAX_VERSION_LINE:
                return
            # The limit holds for a line that arrived whole in one read too.
            if end < 0 or end > MAX_VERSION_LINE:
                raise RemoteProtocolError(
                    "server identification line too long", code=1002,
                    disconnect_reason=c.DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED)
            line = bytes(self._version_buffer[:end]).rstrip(b"\r")
            del self._version_buffer[: end + 1]
            if line.startswith(b"SSH-"):
                self._accept_version(line)
            else:
                if not self._pre_version_lines:
                    self.first_line = line[:200]
                self._pre_version_lines += 1
                if self._pre_version_lines > MAX_PRE_VERSION_LINES:
                    raise RemoteProtocolError(
                        "too many lines before the server's SSH version line", code=1002)
        rest = bytes(self._version_buffer)
        self._version_buffer.clear()
        if rest:
            self.engine.feed(rest)

    @property
    def version_received(self) -> bool:
        return self._version_done

    def _accept_version(self, line: bytes) -> None:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("latin-1")
        if not version_matches(text, self.options.version_pattern):
            raise RemoteProtocolError(
                f"server version {text!r} does not match {self.options.version_pattern!r}",
                code=1002, disconnect_reason=c.DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED)
        self.server_version = line
        self._version_done = True
        self._log(1, f"Server version: {text}")
        self._emit(ServerVersionReceived(text))
        self.start_kex()

    # --------------------------------------------------------------- sending
    def send(self, payload: bytes) -> None:
        """Send an upper-layer packet; held back while a key exchange runs."""
        if self.closed:
            # new work on a dead connection names what ended it
            raise self.ended_by or DisconnectedError("connection is closed", code=1001)
        if self.options.log_level >= 2:
            self._log_packet("Sending", payload)
        if payload:
            self.round_trip.sent(payload[0])
        if self._in_kex or self._queued:
            self._queued.append(payload)
        else:
            self.engine.send_packet(payload)

    def _send_transport(self, payload: bytes) -> None:
        if self.options.log_level >= 2:
            self._log_packet("Sending", payload)
        self.engine.send_packet(payload)

    def _log_packet(self, verb: str, payload: bytes) -> None:
        """LogLevel 2: message types; 3: their bytes (credentials masked)."""
        msg_type = payload[0] if payload else -1
        name = c.MESSAGE_NAMES.get(msg_type, str(msg_type))
        text = f"{verb} {name} ({len(payload)} bytes)"
        if self.options.log_level >= 3:
            secret = msg_type in _CREDENTIAL_MESSAGES and self.options.mask_sensitive_data
            text += ": " + ("[masked: may contain credentials]" if secret else payload.hex())
        self._emit(LogMessage(2 if self.options.log_level < 3 else 3, text))

    @property
    def in_kex(self) -> bool:
        return self._in_kex

    def send_disconnect(self, reason: int, description: str) -> None:
        if self.closed:
            return
        payload = (
            Writer().byte(c.MSG_DISCONNECT).uint32(reason).string(description.encode())
            .string(b"").getvalue()
        )
        try:
            self.engine.send_packet(payload)
        except ProtocolError:
            pass
        self.closed = True

    def send_ignore(self, data: bytes = b"") -> None:
        self.send(Writer().byte(c.MSG_IGNORE).string(data).getvalue())

    # ------------------------------------------------------------- receiving
    def process(self) -> None:
        """Handle every complete packet buffered so far."""
        engine = self.engine
        self.waiting_on_answer = False
        while not self.closed:
            if self.held:
                self.waiting_on_answer = True  # packets may wait behind the question
                break
            packet = engine.next_packet()  # ProtocolError is a RemoteProtocolError
            if packet is None:
                break
            msg_type, payload = packet
            if self.options.log_level >= 2:
                self._log_packet("Received", payload)
            try:
                self._dispatch(msg_type, payload)
            except SSHClientError:
                raise
            except WireError as exc:
                raise RemoteProtocolError(
                    f"malformed {c.MESSAGE_NAMES.get(msg_type, msg_type)} message: {exc}",
                    code=1036) from None
            except Exception as exc:
                # Whatever else handling the server's message raised (a bad
                # point for cryptography, text that is not UTF-8, ...) is still
                # an SSHClientError for the user; the cause stays chained.
                # The user's own callbacks never run in here: they answer
                # events (HostKeyReceived, SignatureRequested, ...) outside.
                raise RemoteProtocolError(
                    f"could not handle the server's "
                    f"{c.MESSAGE_NAMES.get(msg_type, msg_type)} message: "
                    f"{type(exc).__name__}: {exc}", code=1036) from exc
        # the byte count first: it is what is false nearly every time
        if (engine.bytes_in + engine.bytes_out >= self.options.rekey_bytes
                and not self._in_kex and self._version_done and self.session_id is not None
                and not self.closed):
            self._log(1, "Key renegotiation threshold reached")
            self.start_kex()

    def _dispatch(self, msg_type: int, payload: bytes) -> None:
        if not self._in_kex and msg_type in _UPPER_MESSAGES:
            self._to_upper(msg_type, payload)  # most packets: no other rule applies
            return
        if self._in_kex and self.session_id is None and self.strict_kex:
            # Strict kex (initial exchange): only kex messages, nothing else.
            if msg_type not in _KEX_MESSAGES and msg_type != c.MSG_DISCONNECT:
                raise RemoteProtocolError(
                    f"unexpected message {msg_type} during strict key exchange", code=1036)
        if msg_type == c.MSG_KEXINIT:
            self._on_kexinit(payload)
        elif msg_type == c.MSG_NEWKEYS:
            self._on_newkeys(payload)
        elif 30 <= msg_type <= 49:
            self._on_kex_message(msg_type, payload)
        elif msg_type in _GENERIC_MESSAGES:
            self._on_generic(msg_type, payload)
        elif self._in_kex and self._their_kexinit is not None:
            # RFC 4253 §7.1: after KEXINIT only kex messages until NEWKEYS.
            raise RemoteProtocolError(
                f"message {msg_type} received in the middle of a key exchange", code=1036)
        elif msg_type == c.MSG_EXT_INFO:
            self._on_ext_info(payload)
        elif msg_type == c.MSG_SERVICE_ACCEPT or msg_type in _UPPER_MESSAGES:
            self._to_upper(msg_type, payload)
        else:
            # Unknown transport message: answer UNIMPLEMENTED (RFC 4253 §11.4).
            self._log(2, f"Unimplemented message type {msg_type}")
            seq = (self.engine.seq_in - 1) & 0xFFFFFFFF
            self.send(Writer().byte(c.MSG_UNIMPLEMENTED).uint32(seq).getvalue())

    def _to_upper(self, msg_type: int, payload: bytes) -> None:
        if self.session_id is None:
            raise RemoteProtocolError(
                f"message {msg_type} before the first key exchange finished", code=1036)
        if self.upper is None:
            raise RemoteProtocolError(f"unexpected message {msg_type}", code=1027)
        if msg_type == c.MSG_USERAUTH_SUCCESS:
            self._on_auth_success()
        self.round_trip.received(msg_type)
        self.upper.handle_packet(msg_type, payload)

    def _on_generic(self, msg_type: int, payload: bytes) -> None:
        r = Reader(payload)
        r.byte()
        if msg_type == c.MSG_DISCONNECT:
            # The server is gone whatever its DISCONNECT looks like: report 1001 with
            # what can be read of it (a Latin-1 or cut-off description is no reason
            # to turn it into a protocol error of ours and answer with DISCONNECT).
            reason, description = 0, "(malformed DISCONNECT message)"
            try:
                reason = r.uint32()
                description = r.text(errors="replace") if not r.at_end() else ""
            except WireError:
                pass
            self.closed = True
            err = DisconnectedError(
                f"server sent disconnect (reason {reason}): {description}", code=1001,
                reason=reason)
            self.disconnect_error = err
            raise err
        if msg_type == c.MSG_DEBUG:
            r.boolean()
            message = r.text(errors="replace")  # only logged: never fatal for its bytes
            self._log(2, f"Server debug message: {message}")
        elif msg_type == c.MSG_UNIMPLEMENTED:
            seq = r.uint32()
            self._log(1, f"Server reports packet {seq} unimplemented")
        # MSG_IGNORE: nothing to do

    def _on_ext_info(self, payload: bytes) -> None:
        r = Reader(payload)
        r.byte()
        count = r.uint32()
        if count > 1024:
            raise RemoteProtocolError("EXT_INFO with too many extensions", code=1036)
        for _ in range(count):
            name = r.text()
            value = r.string()
            if name == "server-sig-algs":
                text = value.decode("ascii", "replace")
                self.server_sig_algs = text.split(",")
                self._log(2, f"server-sig-algs: {text}")

    # ------------------------------------------------------------------ kex
    def _kexinit_payload(self) -> bytes:
        o = self.options
        initial = self.session_id is None
        # what this KEXINIT offers is what _on_kexinit negotiates with
        offer = self._offer = {name: self._our_list(name) for name in _OFFERED_LISTS}
        kex = list(offer["kex_algorithms"])
        if initial:
            kex.append(algs.EXT_INFO_CLIENT)
            if o.strict_kex_mode > 0:
                kex.append(algs.STRICT_KEX_CLIENT)
        ciphers = offer["ciphers"]
        macs = offer["macs"]
        return (
            Writer().byte(c.MSG_KEXINIT).raw(os.urandom(16))
            .name_list(kex)
            .name_list(offer["host_key_algorithms"])
            .name_list(ciphers).name_list(ciphers)
            .name_list(macs).name_list(macs)
            .name_list(o.compression).name_list(o.compression)
            .name_list([]).name_list([])
            .boolean(False).uint32(0)
            .getvalue()
        )

    def _our_list(self, field_name: str) -> list[str]:
        """What we offer for one KEXINIT name-list: the caller's list, else
        the registry's default offer."""
        return list(getattr(self.options, field_name)
                    or algs.defaults(_OPTION_KINDS[field_name]))

    def start_kex(self) -> None:
        """Send our KEXINIT (first exchange, or a re-exchange we start)."""
        if self._in_kex or self.closed:
            return
        self._begin_kex()

    def _begin_kex(self) -> None:
        self._in_kex = True
        self._our_kexinit = self._kexinit_payload()
        self._their_kexinit = None
        self._kex = None
        self._newkeys_sent = self._newkeys_received = False
        self.engine.data_blocked = True
        self._send_transport(self._our_kexinit)
        initial = self.session_id is None
        self._emit(KexStarted(initial=initial))
        self._log(1, "Starting key exchange" if initial else "Starting key re-exchange")

    def _on_kexinit(self, payload: bytes) -> None:
        if self._their_kexinit is not None:
            raise RemoteProtocolError("second KEXINIT during a key exchange", code=1036)
        if not self._in_kex:
            self._begin_kex()  # server-initiated re-exchange
        self._their_kexinit = payload
        # Until NEWKEYS arrives nothing but kex messages may come: route nothing.
        self.engine.routing = False
        r = Reader(payload)
        r.byte()
        r.raw(16)
        lists = [r.name_list() for _ in range(10)]
        follows = r.boolean()
        r.uint32()
        (s_kex, s_hostkey, s_enc_cs, s_enc_sc, s_mac_cs, s_mac_sc,
         s_comp_cs, s_comp_sc, _lang_cs, _lang_sc) = lists
        initial = self.session_id is None
        if initial:
            self.strict_kex = (
                self._offered_strict() and algs.STRICT_KEX_SERVER in s_kex
            )
            if self.strict_kex and self.engine.packets_in != 1:
                raise RemoteProtocolError(
                    "strict key exchange: KEXINIT was not the server's first packet", code=1036)
        o = self.options
        offer = self._offer
        c_kex = offer["kex_algorithms"]
        c_hostkey = offer["host_key_algorithms"]
        c_ciphers = offer["ciphers"]
        c_macs = offer["macs"]
        kex_name = algs.choose("key exchange", c_kex, s_kex)
        host_key_alg = algs.choose("host key", c_hostkey, s_hostkey)
        enc_cs = algs.choose("cipher (client to server)", c_ciphers, s_enc_cs)
        enc_sc = algs.choose("cipher (server to client)", c_ciphers, s_enc_sc)
        aead_cs = crypto.cipher_info(enc_cs)[3]
        aead_sc = crypto.cipher_info(enc_sc)[3]
        mac_cs = None if aead_cs else algs.choose("MAC (client to server)", c_macs, s_mac_cs)
        mac_sc = None if aead_sc else algs.choose("MAC (server to client)", c_macs, s_mac_sc)
        comp_cs = algs.choose("compression (client to server)", o.compression, s_comp_cs)
        comp_sc = algs.choose("compression (server to client)", o.compression, s_comp_sc)
        self.negotiated = algs.Negotiated(
            kex=kex_name, host_key=host_key_alg, cipher_c2s=enc_cs, cipher_s2c=enc_sc,
            mac_c2s=mac_cs, mac_s2c=mac_sc, compression_c2s=comp_cs, compression_s2c=comp_sc,
            strict_kex=self.strict_kex, server_ext_info=algs.EXT_INFO_SERVER in s_kex,
        )
        if initial:
            self._check_strict_policy(self.negotiated)
        if self._logs(1):
            self._log(1, f"Negotiated kex={kex_name} hostkey={host_key_alg} "
                         f"cipher={enc_cs}/{enc_sc} mac={mac_cs}/{mac_sc} "
                         f"compression={comp_cs}/{comp_sc} strict={self.strict_kex}")
        if follows and (s_kex[:1] != [kex_name] or s_hostkey[:1] != [host_key_alg]):
            self._ignore_next_kex_packet = True
        assert self._our_kexinit is not None
        self._kex = create_kex(
            kex_name, self.client_version, self.server_version,
            self._our_kexinit, payload, gex_bits=o.gex_bits)
        for out in self._kex.start():
            self._send_transport(out)

    def _offered_strict(self) -> bool:
        return self.options.strict_kex_mode > 0

    def _check_strict_policy(self, n: algs.Negotiated) -> None:
        mode = self.options.strict_kex_mode
        if n.strict_kex or mode <= 1:
            return
        if mode >= 3:
            raise SSHClientError(
                "the server does not support strict key exchange (UseStrictKeyExchange=3)",
                code=1003)
        # mode 2: refuse the suites the Terrapin attack affects.
        for cipher, mac in ((n.cipher_c2s, n.mac_c2s), (n.cipher_s2c, n.mac_s2c)):
            if cipher == "chacha20-poly1305@openssh.com" or (
                    mac is not None and mac.endswith("-etm@openssh.com")
                    and cipher.endswith("-cbc")):
                raise SSHClientError(
                    f"{cipher} is vulnerable to the Terrapin attack without strict key "
                    "exchange (UseStrictKeyExchange=2)", code=1003)

    def _on_kex_message(self, msg_type: int, payload: bytes) -> None:
        if not self._in_kex or self._kex is None:
            raise RemoteProtocolError(
                f"key exchange message {msg_type} outside a key exchange", code=1036)
        if self._ignore_next_kex_packet:
            self._ignore_next_kex_packet = False
            return
        if self._newkeys_sent:
            raise RemoteProtocolError(f"key exchange message {msg_type} after NEWKEYS", code=1036)
        result = self._kex.handle(msg_type, payload)
        if isinstance(result, KexResult):
            self._finish_kex(result)
        else:
            for out in result:
                self._send_transport(out)

    def _finish_kex(self, result: KexResult) -> None:
        n = self.negotiated
        assert n is not None
        info = self._check_host_key(result, n.host_key)
        if info is not None:
            # First exchange: the front end decides; until it does, no more
            # packets are handled (the server's NEWKEYS waits in the buffer).
            self._held_kex = (result, info)
            self._emit(HostKeyReceived(info))
            return
        self._install_keys(result)

    @property
    def awaiting_host_key(self) -> bool:
        return self._held_kex is not None

    @property
    def held(self) -> bool:
        """Packets wait unhandled: the front end has a question to answer."""
        return self._held_kex is not None or (self.upper is not None
                                              and self.upper.awaiting_answer)

    def answer_host_key(self, accept: bool, error: HostKeyError | None = None) -> None:
        """Go on with the held key exchange, or refuse the key: DISCONNECT,
        and `error` (or a 1030 naming the key) is raised."""
        if self._held_kex is None:
            raise UsageError("no host key is waiting for an answer", code=211)
        result, info = self._held_kex
        self._held_kex = None
        if not accept:
            self.send_disconnect(c.DISCONNECT_HOST_KEY_NOT_VERIFIABLE, "host key not accepted")
            # Shown as ssh and ssh-keygen -lf show it, so the two can be compared.
            raise error or HostKeyError(f"The key: {info.key_type} {info.fingerprint}",
                                        code=1030)
        self.host_key_blob = result.host_key_blob
        self._install_keys(result)

    def _install_keys(self, result: KexResult) -> None:
        n = self.negotiated
        assert n is not None
        if self.session_id is None:
            self.session_id = result.exchange_hash
        sid = self.session_id

        def key(letter: bytes, size: int) -> bytes:
            if size == 0:
                return b""
            return derive_key(result.hash_name, result.shared_secret, result.exchange_hash,
                              sid, letter, size)

        key_cs, iv_cs = self._cipher_keys(n.cipher_c2s, key, b"C", b"A")
        key_sc, iv_sc = self._cipher_keys(n.cipher_s2c, key, b"D", b"B")
        mac_key_cs = key(b"E", crypto.mac_info(n.mac_c2s)[0]) if n.mac_c2s else None
        mac_key_sc = key(b"F", crypto.mac_info(n.mac_s2c)[0]) if n.mac_s2c else None

        self._send_transport(bytes([c.MSG_NEWKEYS]))
        self.engine.set_outgoing(n.cipher_c2s, key_cs, iv_cs, n.mac_c2s, mac_key_cs)
        self.compression_out = n.compression_c2s
        self.engine.set_outgoing_compression(self._compressing(n.compression_c2s))
        if self.strict_kex:
            self.engine.reset_outgoing_sequence()
        self._newkeys_sent = True
        self._pending_keys_in = (n.cipher_s2c, key_sc, iv_sc, n.mac_s2c, mac_key_sc)
        if self._newkeys_received:
            self._complete_kex()

    @staticmethod
    def _cipher_keys(name: str, key: Callable[[bytes, int], bytes], key_letter: bytes,
                     iv_letter: bytes) -> tuple[bytes, bytes]:
        key_len, iv_len, _block, _aead = crypto.cipher_info(name)
        return key(key_letter, key_len), key(iv_letter, iv_len)

    def _on_newkeys(self, payload: bytes) -> None:
        if not self._in_kex or not self._newkeys_sent or self._pending_keys_in is None:
            raise RemoteProtocolError("unexpected NEWKEYS", code=1036)
        if len(payload) != 1:
            raise RemoteProtocolError("malformed NEWKEYS", code=1036)
        self.engine.set_incoming(*self._pending_keys_in)
        assert self.negotiated is not None
        self.compression_in = self.negotiated.compression_s2c
        self.engine.set_incoming_compression(self._compressing(self.compression_in))
        if self.strict_kex:
            self.engine.reset_incoming_sequence()
        self._pending_keys_in = None
        self._newkeys_received = True
        self._complete_kex()

    # ---------------------------------------------------------- compression
    # Each NEWKEYS starts a fresh zlib stream per compressed direction
    # (RFC 4253 §6.2: "initialized after each key exchange"; OpenSSH's
    # ssh_set_newkeys() re-runs deflateInit/inflateInit the same way).
    # zlib@openssh.com (OpenSSH PROTOCOL §2.2) waits for USERAUTH_SUCCESS:
    # packets after it are compressed, in both directions; a re-exchange after
    # authentication turns it on at NEWKEYS like zlib.
    def _compressing(self, name: str) -> bool:
        return name == "zlib" or (name == "zlib@openssh.com" and self.authenticated)

    def _on_auth_success(self) -> None:
        if self.authenticated:
            return
        self.authenticated = True
        if self.compression_out == "zlib@openssh.com":
            self.engine.set_outgoing_compression(True)
        if self.compression_in == "zlib@openssh.com":
            self.engine.set_incoming_compression(True)
        if "zlib@openssh.com" in (self.compression_out, self.compression_in):
            self._log(1, "Delayed compression (zlib@openssh.com) started")

    def _complete_kex(self) -> None:
        n = self.negotiated
        assert n is not None
        initial = self.kex_count == 0
        self.kex_count += 1
        self._in_kex = False
        self._kex = None
        self._their_kexinit = None
        self.engine.routing = True
        self.engine.data_blocked = False
        self.engine.reset_counters()
        while self._queued and not self._in_kex:
            self.engine.send_packet(self._queued.popleft())
        self._emit(KexCompleted(initial=initial, kex=n.kex, host_key_algorithm=n.host_key,
                                cipher=n.cipher_c2s, mac=n.mac_c2s, strict=self.strict_kex))
        self._log(1, "Key exchange complete" if initial else "Key re-exchange complete")

    def _check_host_key(self, result: KexResult, algorithm: str) -> HostKeyInfo | None:
        """The key signed the exchange; on a re-exchange it is the same key
        (None); on the first, what the front end is asked about."""
        try:
            key = parse_public_key(result.host_key_blob)
        except SSHClientError as exc:
            raise HostKeyError(f"cannot parse server host key: {exc.message}", code=1031) from None
        if key.key_type != key_type_for_algorithm(algorithm):
            raise HostKeyError(
                f"server host key is {key.key_type} but {algorithm} was negotiated", code=1031)
        key.verify(result.signature_blob, result.exchange_hash, algorithm)
        if self.host_key_blob is not None:
            if result.host_key_blob != self.host_key_blob:
                raise HostKeyError("server host key changed during key re-exchange", code=1031)
            return None
        return HostKeyInfo(
            blob=result.host_key_blob, key_type=key.key_type, algorithm=algorithm,
            public_key=key,
        )

    # ------------------------------------------------------------------ misc
    def _logs(self, level: int) -> bool:
        """Messages of `level` are wanted (log_level 0: none, the Pythonic
        front ends' setting; each message is an event to make and hand on)."""
        return level <= self.options.log_level

    def _log(self, level: int, message: str) -> None:
        if self._logs(level):
            self._emit(LogMessage(level, message))

"""The spec's `SSHClient`: properties, methods, on_* events, config(), error codes.

An adapter only: it turns properties into `ClientOptions`, drives the
sans-IO `ClientProtocol` through the blocking driver, and turns protocol
events into the spec's events.  No protocol logic lives here.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from .. import algorithms as algs
from .. import events as ev
from ..deadline import Deadline
from ..driver import BlockingDriver
from ..errors import (
    ChannelError,
    HostKeyError,
    SSHClientError,
    UsageError,
    WouldBlockError,
    timed_user_call,
)
from ..hostkeys import (
    CERT_SUFFIX,
    HOST_KEY_CERT_ALGORITHMS,
    fingerprint,
)
from ..hostkeys import Certificate as HostCertificate
from ..operations import (
    ChannelHandle,
    ChannelRequest,
    OpenChannel,
    Operation,
    Write,
    answer_question,
    carry,
)
from ..options import (
    AUTH_KEYBOARD_INTERACTIVE,
    AUTH_MULTIFACTOR,
    AUTH_PUBLICKEY,
    ClientOptions,
    HostKeyInfo,
)
from ..protocol import ClientProtocol
from ..secret import reveal
from ..sockets import RateLimiter, open_socket
from . import params as P
from . import rawpacket
from . import settings as S
from .accessors import TableAccessors
from .certstore import (
    Certificate,
    CertificateNotFound,
    fingerprint_matches,
    load_certificate,
    parse_ca_keys,
)
from .channels import SpecChannel
from .enums import FirewallType
from .properties import PROPERTY_DEFAULTS

try:
    from sshcore import crypto as _crypto
except ImportError:  # pragma: no cover - the extension is always built
    _crypto = None  # type: ignore[assignment]

logger = logging.getLogger("sshclient")

# Spec property -> the kind of algorithm it lists, and how a 1005 from its
# setter names that kind.
_ALGORITHM_PROPERTIES = {
    "ssh_encryption_algorithms": (algs.Kind.CIPHER, "encryption"),
    "ssh_mac_algorithms": (algs.Kind.MAC, "MAC"),
    "ssh_key_exchange_algorithms": (algs.Kind.KEX, "key exchange"),
    "ssh_public_key_algorithms": (algs.Kind.HOST_KEY, "public key"),
    "ssh_compression_algorithms": (algs.Kind.COMPRESSION, "compression"),
}


def _accepted(kind: algs.Kind) -> tuple[str, ...]:
    """What a spec algorithm property may name: what runs here, less the host
    certificate algorithms (SSHAcceptServerCAKey puts those in the offer)."""
    return tuple(name for name in algs.supported(kind) if not name.endswith(CERT_SUFFIX))


class SSHClient(TableAccessors):
    """An SSH-2 client driven by properties, methods and on_* event handlers,
    with the names and error codes of a commercial SSH toolkit's SSHClient.

    Set the properties (ssh_user, ssh_auth_mode, ...), give handlers to the
    on_* events you need, call ssh_logon(), then open channels and start
    services on them.  With timeout > 0 each call blocks until done; with
    timeout == 0 calls return at once and do_events() delivers the results.
    Failures raise SSHClientError with the spec's numeric code.  Most
    properties and all events come from tables (see accessors.py).
    """

    def __init__(self, runtime_license: str = "") -> None:
        """A client with every property at its default; `runtime_license` is
        accepted for compatibility and ignored (no key is needed)."""
        self._init_state()

    # ====================================================== state & reset
    def _init_state(self) -> None:
        self._props: dict[str, Any] = dict(PROPERTY_DEFAULTS)
        self._props["firewall_type"] = 0
        self._config: dict[str, Any] = {s.name.lower(): s.default for s in S.SETTINGS
                                        if not s.indexed}
        self._cert: Certificate | None = None
        self._cert_subject = ""
        self._accept_key: Certificate | None = None
        self._accept_subject = ""
        self._proto: ClientProtocol | None = None
        self._driver: BlockingDriver | None = None
        # The name ssh_host held before it was resolved (host certificates
        # name hosts, not addresses).
        self._host_name = ""
        # by local id, in the order opened (the spec's per-channel arrays are
        # indexed by that order)
        self._channels: dict[int, SpecChannel] = {}
        self._fingerprints = {"md5": "", "sha1": "", "sha256": ""}
        self._server_version = ""

    def reset(self) -> None:
        """Restore every property and setting to its default (disconnects first)."""
        if self._driver is not None:
            self.disconnect()
        self._init_state()

    def _property_changing(self, name: str, value: Any) -> None:
        """Checks a new property value (raising leaves the old one) and drops
        what was derived from the old one."""
        if name.startswith("ssh_cert_store"):
            self._cert = None
        if name.startswith("ssh_accept_server_host_key_store"):
            self._accept_key = None
        if name in _ALGORITHM_PROPERTIES:
            kind, label = _ALGORITHM_PROPERTIES[name]
            algs.check_algorithm_list(kind, label, value, _accepted(kind))

    # ======================================================== properties
    def _is_connected(self) -> bool:
        return self._driver is not None and not self._driver.closed

    def get_connected(self) -> bool:
        """True while the TCP connection to the server is open (read-only)."""
        return self._is_connected()

    connected = property(get_connected, None)

    def get_firewall_type(self) -> FirewallType:
        """Kind of proxy the connection goes through, as a FirewallType (NONE: direct)."""
        return FirewallType(self._props.get("firewall_type", 0))

    def set_firewall_type(self, value: int) -> None:
        """Choose the proxy kind (a FirewallType or its number); also sets firewall_port to
        that kind's usual port (80 for TUNNEL, 1080 for the SOCKS ones)."""
        value = int(value)
        ports = {0: 0, 1: 80, 2: 1080, 3: 1080, 10: 1080}
        if value not in ports:
            raise UsageError(f"firewall_type {value} is not one of 0, 1, 2, 3, 10", code=211)
        self._props["firewall_type"] = FirewallType(value)
        self._props["firewall_port"] = ports[value]

    firewall_type = property(get_firewall_type, set_firewall_type)

    def get_ssh_channel_count(self) -> int:
        """How many channels are open now; the per-channel getters take 0 .. count-1."""
        return len(self._channels)

    ssh_channel_count = property(get_ssh_channel_count, None)

    # ---- per-channel arrays (index = position in the channel list)
    def _channel_at(self, index: int) -> SpecChannel:
        try:
            if index < 0:
                raise IndexError
            return list(self._channels.values())[index]
        except IndexError:
            raise ChannelError(f"channel index {index} out of range "
                               f"(ssh_channel_count is {len(self._channels)})", code=1021) from None

    def get_bytes_sent(self, ssh_channel_id: int) -> int:
        """Bytes the last send_channel_data() (or send_bytes/send_text) on the channel at
        this index handed over; less than asked when a non-blocking send stopped early."""
        return self._channel_at(ssh_channel_id).bytes_sent

    def get_channel_eol(self, ssh_channel_id: int) -> str:
        """Line end that cuts the data of the channel at this index into events (empty:
        no line framing)."""
        return self._channel_at(ssh_channel_id).eol.decode("latin-1")

    def set_channel_eol(self, ssh_channel_id: int, value: str | bytes) -> None:
        """Set the line end used to frame the data of the channel at this index (str as
        Latin-1, or bytes); takes effect with max_channel_length > 0."""
        raw = value.encode("latin-1") if isinstance(value, str) else bytes(value)
        self._channel_at(ssh_channel_id).eol = raw

    def get_channel_id(self, ssh_channel_id: int) -> str:
        """The id that methods and events use for the channel at this index."""
        return self._channel_at(ssh_channel_id).channel_id

    def get_max_channel_length(self, ssh_channel_id: int) -> int:
        """Longest piece of line-framed data one event carries for the channel at this index."""
        return self._channel_at(ssh_channel_id).max_length

    def set_max_channel_length(self, ssh_channel_id: int, value: int) -> None:
        """Set the longest piece one line-framed event may carry for the channel at this
        index (0 turns line framing off)."""
        self._channel_at(ssh_channel_id).max_length = max(0, int(value))

    def get_ready_to_send(self, ssh_channel_id: int) -> bool:
        """True when the channel at this index can take data now without blocking."""
        ch = self._channel_at(ssh_channel_id)
        return self._can_send(ch)

    def get_record_length(self, ssh_channel_id: int) -> int:
        """Fixed size of each data event of the channel at this index (0: no record framing)."""
        return self._channel_at(ssh_channel_id).record_length

    def get_service(self, ssh_channel_id: int) -> str:
        """Channel type of the channel at this index (session, direct-tcpip, ...)."""
        return self._channel_at(ssh_channel_id).service

    # ---- certificates (client key)
    def get_ssh_cert_subject(self) -> str:
        """Subject of the client key chosen from ssh_cert_store; setting it picks the entry
        ("*" or "": the first one; else an exact, then a partial, match) and reads
        back as that entry's full subject, or "" when none matched."""
        return self._cert_subject

    def set_ssh_cert_subject(self, value: str) -> None:
        """Pick the client key in ssh_cert_store by subject (see ssh_cert_subject)."""
        self._cert, self._cert_subject = self._select_from_store("ssh_cert", value)

    ssh_cert_subject = property(get_ssh_cert_subject, set_ssh_cert_subject)

    def _load_client_cert(self) -> Certificate:
        return load_certificate(self._props["ssh_cert_store_type"], self._props["ssh_cert_store"],
                                reveal(self._props["ssh_cert_store_password"]), self._cert_subject)

    def get_ssh_accept_server_host_key_subject(self) -> str:
        """Subject of the trusted host key chosen from ssh_accept_server_host_key_store;
        setting it picks the entry as ssh_cert_subject does."""
        return self._accept_subject

    def set_ssh_accept_server_host_key_subject(self, value: str) -> None:
        """Pick the trusted host key in its store by subject (see
        ssh_accept_server_host_key_subject)."""
        self._accept_key, self._accept_subject = self._select_from_store(
            "ssh_accept_server_host_key", value)

    def _select_from_store(self, prefix: str, subject: str) -> tuple[Certificate | None, str]:
        """The spec's subject search in the <prefix>_store* properties: a match gives
        the certificate and its full subject; no match gives (None, "")."""
        subject = subject or ""
        store_type = self._props[f"{prefix}_store_type"]
        if not subject or store_type == 0:
            return None, subject
        try:
            cert = load_certificate(store_type, self._props[f"{prefix}_store"],
                                    reveal(self._props[f"{prefix}_store_password"]), subject)
        except CertificateNotFound:
            return None, ""
        return cert, cert.subject or subject

    ssh_accept_server_host_key_subject = property(get_ssh_accept_server_host_key_subject,
                                                  set_ssh_accept_server_host_key_subject)

    # ============================================================ config
    def config(self, configuration_string: str) -> str:
        """config("Name=value") sets a setting; config("Name") reads it."""
        text = configuration_string
        if "=" in text:
            raw_name, _, value = text.partition("=")
            self._set_config(raw_name, value)
            return ""
        return self._get_config(text)

    def _set_config(self, raw_name: str, value: str) -> None:
        name, index = S.split_name(raw_name)
        setting = S.lookup(name)
        if setting.readonly:
            raise UsageError(f"config setting {setting.name} is read-only", code=211)
        parsed = S.parse_value(setting, value)
        key = setting.name.lower()
        if key in S.UNSUPPORTED_VALUES and parsed != setting.default:
            raise UsageError(f"{setting.name}: {S.UNSUPPORTED_VALUES[key]}", code=211)
        if setting.indexed:
            ch = self._channel_by_id(index or "")
            if key == "channeldataeol":
                ch.eol = parsed
            elif key == "maxchanneldatalength":
                ch.max_length = max(0, int(parsed))
            return
        mirrors = {
            "sshkeyexchangealgorithms": "ssh_key_exchange_algorithms",
            "sshmacalgorithms": "ssh_mac_algorithms",
            "sshpublickeyalgorithms": "ssh_public_key_algorithms",
            "localhost": "local_host", "localport": "local_port",
            "firewallhost": "firewall_host", "firewallport": "firewall_port",
            "firewalluser": "firewall_user", "firewallpassword": "firewall_password",
            "firewallautodetect": "firewall_auto_detect",
        }
        if key in mirrors:
            setattr(self, mirrors[key], parsed)
            return
        if key == "firewalltype":
            self.set_firewall_type(parsed)
            return
        if key == "maxwindowsize" and parsed < self._config[key] and self._is_connected():
            raise UsageError("MaxWindowSize can only grow while connected", code=211)
        if key == "maxlinelength":
            if self._is_connected():
                raise UsageError(code=112)
            parsed = max(256, int(parsed))
        if key == "recordlength":
            for ch in self._channels.values():
                ch.record_length = max(0, int(parsed))
        self._config[key] = parsed

    def _get_config(self, raw_name: str) -> str:
        name, index = S.split_name(raw_name)
        setting = S.lookup(name)
        key = setting.name.lower()
        if setting.indexed:
            ch = self._channel_by_id(index or "")
            value: Any = {"channeldataeol": ch.eol, "maxchanneldatalength": ch.max_length,
                          "channeldataeolfound": ch.eol_found}[key]
            return S.format_value(value)
        computed: dict[str, Callable[[], Any]] = {
            "serversshversionstring": lambda: self._server_version,
            "negotiatedstrictkex": lambda: bool(self._proto and self._proto.negotiated
                                                and self._proto.negotiated.strict_kex),
            "sshfingerprintmd5": lambda: self._fingerprints["md5"],
            "sshfingerprintsha1": lambda: self._fingerprints["sha1"],
            "sshfingerprintsha256": lambda: self._fingerprints["sha256"],
            "sshkeyexchangealgorithms": lambda: self._props["ssh_key_exchange_algorithms"],
            "sshmacalgorithms": lambda: self._props["ssh_mac_algorithms"],
            "sshpublickeyalgorithms": lambda: self._props["ssh_public_key_algorithms"],
            "localhost": self._local_host_now, "localport": self._local_port_now,
            "firewalltype": self.get_firewall_type,
            "firewallhost": lambda: self._props["firewall_host"],
            "firewallport": lambda: self._props["firewall_port"],
            "firewalluser": lambda: self._props["firewall_user"],
            "firewallpassword": lambda: reveal(self._props["firewall_password"]),
            "firewallautodetect": lambda: self._props["firewall_auto_detect"],
            "buildinfo": _build_info,
            "licenseinfo": lambda: "sshclient is open source (MIT); no license key is needed",
        }
        if key == "sshkeyrenegotiate":
            self.exchange_keys()
            return ""
        if key in computed:
            return S.format_value(computed[key]())
        return S.format_value(self._config[key])

    def _cfg(self, name: str) -> Any:
        return self._config[name.lower()]

    def _offer(self, prop: str) -> list[str]:
        """What to offer for an algorithm property: the user's order, or for
        the spec's default the ones we can run with the weak ones last."""
        kind, _label = _ALGORITHM_PROPERTIES[prop]
        value = self._props[prop]
        names = algs.check_algorithm_list(kind, prop, value, _accepted(kind))
        return algs.prefer_strong(names, algs.weak()) if value == PROPERTY_DEFAULTS[prop] else names

    def _local_host_now(self) -> str:
        if self._driver is not None and not self._driver.closed:
            return str(self._driver.sock.getsockname()[0])
        return str(self._props["local_host"])

    def _local_port_now(self) -> int:
        if self._driver is not None and not self._driver.closed:
            return int(self._driver.sock.getsockname()[1])
        return int(self._props["local_port"])

    def get_local_host(self) -> str:
        """Get local_host: the address connected from while connected, else the one set."""
        return self._local_host_now()

    def get_local_port(self) -> int:
        """Get local_port: the port connected from while connected, else the one set."""
        return self._local_port_now()

    # ========================================================= events
    def _fire(self, name: str, params: Any) -> Any:
        handler = getattr(self, name, None)
        if handler is not None:
            timed_user_call(handler, params)  # not counted against a logon's deadline
        return params

    def _log(self, level: int, message: str, log_type: str = "Info") -> None:
        if level <= int(self._cfg("LogLevel")):
            logger.log(logging.INFO if level <= 1 else logging.DEBUG, message)
            self._fire("on_log", P.SSHClientLogEventParams(
                log_level=level, message=message, log_type=log_type))

    def _status(self, message: str) -> None:
        self._fire("on_ssh_status", P.SSHClientSSHStatusEventParams(message=message))

    def _on_protocol_event(self, event: ev.Event) -> None:
        handler = _EVENT_HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _ev_log(self, event: ev.LogMessage) -> None:
        self._log(event.level, event.message)

    def _ev_question(self, event: ev.Event) -> None:
        """The host key, a signature, prompts, a custom-auth step: answered
        from the options _build_options made (our verifier and handlers)."""
        assert self._proto is not None
        answer_question(self._proto, event)

    def _ev_version(self, event: ev.ServerVersionReceived) -> None:
        self._server_version = event.version

    def _ev_kex_started(self, event: ev.KexStarted) -> None:
        self._status("Starting key exchange." if event.initial else "Starting key re-exchange.")

    def _ev_kex_done(self, event: ev.KexCompleted) -> None:
        self._status(f"Key exchange complete ({event.kex}, {event.cipher}).")
        for ch in list(self._channels.values()):  # sends held back during the exchange may go now
            self._maybe_ready_to_send(ch)
        if event.initial:
            self._fire("on_connection_status", P.SSHClientConnectionStatusEventParams(
                connection_event="SSH handshake complete.", status_code=0, description="OK"))

    def _ev_banner(self, event: ev.AuthBanner) -> None:
        self._status(f"Server banner: {event.message}")

    def _ev_auth_done(self, event: ev.AuthCompleted) -> None:
        self._status(f"Authentication successful ({event.method}).")

    def _ev_opened(self, event: ev.ChannelOpened) -> None:
        ch = self._find_channel(event.channel)
        if ch is None:
            return
        self._fire("on_ssh_channel_opened",
                   P.SSHClientSSHChannelOpenedEventParams(channel_id=ch.channel_id))
        self._maybe_ready_to_send(ch)

    def _ev_data(self, event: ev.ChannelDataReady) -> None:
        for local_id in event.channels:
            ch = self._find_channel(local_id)
            if ch is not None:
                self._deliver_channel_data(ch)
                self._maybe_ready_to_send(ch)

    def _deliver_channel_data(self, ch: SpecChannel, flush: bool = False) -> None:
        """Fire on_ssh_channel_data for the whole pieces buffered (framing is
        cut in C); with flush, also for what framing still holds."""
        if not ch.handle.buffered:
            return

        def fire(data: bytes, eol_found: bool) -> None:
            self._fire("on_ssh_channel_data", P.SSHClientSSHChannelDataEventParams(
                channel_id=ch.channel_id, channel_data=data, channel_data_eol_found=eol_found))

        ch.deliver(fire)
        if flush:
            ch.flush(fire)

    def _ev_eof(self, event: ev.ChannelEOF) -> None:
        ch = self._find_channel(event.channel)
        if ch is None:
            return
        self._deliver_channel_data(ch)
        ch.eof_reported = True
        self._fire("on_ssh_channel_eof", P.SSHClientSSHChannelEOFEventParams(
            channel_id=ch.channel_id))

    def _ev_closed(self, event: ev.ChannelClosed) -> None:
        ch = self._find_channel(event.channel)
        if ch is None:
            return
        self._deliver_channel_data(ch, flush=True)
        ch.closed = True
        del self._channels[ch.local_id]
        ch.handle.forget()
        self._fire("on_ssh_channel_closed", P.SSHClientSSHChannelClosedEventParams(
            channel_id=ch.channel_id))

    def _ev_request(self, event: ev.ChannelRequestReceived) -> None:
        ch_id = str(event.channel)
        known = event.request_type in ("exit-status", "exit-signal", "eow@openssh.com")
        params = self._fire("on_ssh_channel_request", P.SSHClientSSHChannelRequestEventParams(
            channel_id=ch_id, request_type=event.request_type, packet=event.payload,
            success=known))
        assert self._proto is not None
        if event.want_reply:
            self._proto.answer_channel_request(event.channel, bool(params.success))
        if params.success:
            self._fire("on_ssh_channel_requested", P.SSHClientSSHChannelRequestedEventParams(
                channel_id=ch_id, request_type=event.request_type, packet=event.payload))

    def _ev_open_failed(self, event: ev.ChannelOpenFailed) -> None:
        ch = self._find_channel(event.channel)
        if ch is None or not self._asynchronous():
            return  # a blocking open_channel raises instead
        del self._channels[ch.local_id]
        ch.handle.forget()
        self._fire("on_error", P.SSHClientErrorEventParams(
            error_code=1020, description=f"channel {ch.channel_id} refused: "
                                         f"{event.description} (reason {event.reason})"))

    def _ev_answered(self, event: ev.ChannelRequestAnswered) -> None:
        if not event.success and self._asynchronous():
            self._fire("on_error", P.SSHClientErrorEventParams(
                error_code=1033, description=f"{event.request_type} request failed on "
                                             f"channel {event.channel}"))

    def _ev_open_requested(self, event: ev.ChannelOpenRequested) -> None:
        params = self._fire("on_ssh_channel_open_request",
                            P.SSHClientSSHChannelOpenRequestEventParams(
                                channel_id=str(event.channel), service=event.channel_type,
                                parameters=event.payload, accept=False))
        assert self._proto is not None
        self._proto.answer_channel_open(event.channel, bool(params.accept))
        if params.accept:
            ch = SpecChannel(self._proto.channel(event.channel), event.channel_type,
                             record_length=int(self._cfg("RecordLength")))
            self._channels[ch.local_id] = ch
            self._fire("on_ssh_channel_opened",
                       P.SSHClientSSHChannelOpenedEventParams(channel_id=ch.channel_id))
            self._maybe_ready_to_send(ch)

    # ====================================================== connection
    def _build_options(self, authenticate: bool) -> ClientOptions:
        p = self._props
        if authenticate and p["ssh_auth_mode"] in (5, 6):
            raise UsageError("GSSAPI/Kerberos authentication (amGSSAPIWithMic, amGSSAPIKeyex) is "
                             "not available in this release", code=1032)
        key = None
        if authenticate and p["ssh_auth_mode"] in (AUTH_PUBLICKEY, AUTH_MULTIFACTOR) or (
                authenticate and self._cfg("TryAllAvailableAuthMethods")):
            if self._cert is None and p["ssh_cert_store_type"] != 0 and (
                    self._cert_subject or p["ssh_cert_store"] not in (b"", b"MY")):
                self._cert = self._load_client_cert()
            if self._cert is not None:
                key = self._cert.private_key
            if key is None and p["ssh_auth_mode"] == AUTH_PUBLICKEY:
                raise SSHClientError("public key authentication needs a private key: set "
                                     "ssh_cert_store_type, ssh_cert_store and ssh_cert_subject",
                                     code=1032)
        signed = self._cfg("SignedSSHCert")
        sig_algs = algs.split_list(self._cfg("SSHPubKeyAuthSigAlgorithms"))
        named = str(signed).split()[:1]
        if named and named[0] in ("rsa-sha2-256" + CERT_SUFFIX, "rsa-sha2-512" + CERT_SUFFIX):
            sig_algs = [named[0][:-len(CERT_SUFFIX)]]  # the SignedSSHCert line names it
        host_key_algorithms = self._offer("ssh_public_key_algorithms")
        if str(self._cfg("SSHAcceptServerCAKey")).strip():  # host certificates first
            host_key_algorithms = [a + CERT_SUFFIX for a in host_key_algorithms
                                   if a + CERT_SUFFIX in HOST_KEY_CERT_ALGORITHMS
                                   ] + host_key_algorithms
        return ClientOptions(
            username=p["ssh_user"], password=p["ssh_password"], private_key=key,
            signed_certificate=_parse_signed_cert(signed) if signed else None,
            auth_mode=p["ssh_auth_mode"],
            try_all_auth_methods=bool(self._cfg("TryAllAvailableAuthMethods")),
            do_not_repeat_auth_methods=bool(self._cfg("DoNotRepeatAuthMethods")),
            pubkey_signature_algorithms=sig_algs,
            password_prompt_pattern=self._cfg("PasswordPrompt"),
            kex_algorithms=self._offer("ssh_key_exchange_algorithms"),
            host_key_algorithms=host_key_algorithms,
            ciphers=self._offer("ssh_encryption_algorithms"),
            macs=self._offer("ssh_mac_algorithms"),
            compression=self._offer("ssh_compression_algorithms"),
            strict_kex_mode=int(self._cfg("UseStrictKeyExchange")),
            gex_bits=(2048, max(2048, min(8192, int(self._cfg("PreferredDHGroupBits")))), 8192),
            client_version=self._cfg("ClientSSHVersionString"),
            version_pattern=self._cfg("SSHVersionPattern"),
            rekey_bytes=max(1 << 16, int(self._cfg("KeyRenegotiationThreshold"))),
            # The spec's MaxWindowSize is the window itself: no growth.
            window_size=max(1 << 15, int(self._cfg("MaxWindowSize"))),
            window_limit=0,
            max_packet_size=max(1 << 12, min(1 << 18, int(self._cfg("MaxPacketSize")))),
            log_level=int(self._cfg("LogLevel")),
            mask_sensitive_data=bool(self._cfg("MaskSensitiveData")),
            host_key_verifier=self._verify_host_key,
            custom_auth_handler=self._custom_auth,
            kbd_interactive_handler=self._kbd_interactive if (
                self.on_ssh_keyboard_interactive is not None
                or p["ssh_auth_mode"] == AUTH_KEYBOARD_INTERACTIVE) else None,
        )

    def _verify_host_key(self, info: HostKeyInfo) -> bool:
        key = info.public_key
        # A host certificate is shown and pinned by the key it certifies (as OpenSSH does).
        plain = key.public_key.blob if isinstance(key, HostCertificate) else info.blob
        self._fingerprints = {h: fingerprint(plain, h) for h in ("md5", "sha1", "sha256")}
        hash_name = str(self._cfg("SSHFingerprintHashAlgorithm")).lower().replace("-", "")
        shown = self._fingerprints.get(hash_name, self._fingerprints["sha256"])
        accept = bool(self._cfg("SSHAcceptAnyServerHostKey"))
        if self._accept_key is None and self._accept_subject and \
                self._props["ssh_accept_server_host_key_store_type"] != 0:
            try:  # the store properties changed after the subject was set
                self._accept_key = load_certificate(
                    self._props["ssh_accept_server_host_key_store_type"],
                    self._props["ssh_accept_server_host_key_store"],
                    reveal(self._props["ssh_accept_server_host_key_store_password"]),
                    self._accept_subject)
            except CertificateNotFound:
                pass
        if self._accept_key is not None and set(self._accept_key.key_blobs) & {info.blob, plain}:
            accept = True
        if any(fingerprint_matches(f, (plain, info.blob))
               for f in str(self._cfg("SSHAcceptServerHostKeyFingerPrint")).split(",")):
            accept = True
        ca_text = str(self._cfg("SSHAcceptServerCAKey"))
        if isinstance(key, HostCertificate) and ca_text.strip():
            if key.signature_key.blob not in {ca.blob for ca in parse_ca_keys(ca_text)}:
                self._log(1, "The host certificate is signed by a CA that is not trusted "
                             f"({key.signature_key.fingerprint_openssh()})")
            else:
                try:
                    key.check_host(self._host_name or self._props["ssh_host"])
                    accept = True
                    self._log(1, f"Host certificate {key.key_id!r} signed by the trusted CA "
                                 f"{key.signature_key.fingerprint_openssh()}")
                except HostKeyError as exc:
                    self._log(1, f"Host certificate refused: {exc.message}")
        params = self._fire("on_ssh_server_authentication",
                            P.SSHClientSSHServerAuthenticationEventParams(
                                host_key=info.blob, fingerprint=shown,
                                key_algorithm=info.algorithm, cert_subject="", cert_issuer="",
                                status="", accept=accept))
        return bool(params.accept)

    def _kbd_interactive(self, name: str, instructions: str,
                         prompts: list[tuple[str, bool]]) -> list[str]:
        from ..auth import prompt_matches

        answers = []
        for prompt, echo in prompts:
            password = reveal(self._props["ssh_password"])
            pattern = self._cfg("PasswordPrompt")
            preset = password if (password and pattern and prompt_matches(pattern, prompt)) else ""
            if not preset and password and not pattern and "password" in prompt.lower():
                preset = password
            params = self._fire("on_ssh_keyboard_interactive",
                                P.SSHClientSSHKeyboardInteractiveEventParams(
                                    name=name, instructions=instructions, prompt=prompt,
                                    response=preset, echo_response=echo))
            answers.append(str(params.response or ""))
        return answers

    def _custom_auth(self, packet: bytes) -> bytes | None:
        params = self._fire("on_ssh_custom_auth", P.SSHClientSSHCustomAuthEventParams(
            packet=rawpacket.encode_packet(packet)))
        reply = str(params.packet or "")
        if not reply or reply.upper() == rawpacket.encode_packet(packet):
            return None
        return rawpacket.decode_packet(reply)

    def _open_transport(self, authenticate: bool) -> None:
        if self._is_connected():
            raise UsageError(code=104)
        host = self._props["ssh_host"]
        port = self._props["ssh_port"]
        if not host:
            raise UsageError("ssh_host is empty", code=102)
        if port == 0:
            raise UsageError(code=116)
        from ..proxy import proxy_from_settings
        options = self._build_options(authenticate)
        conn_timeout = self._logon_seconds()
        deadline = Deadline(conn_timeout, "logon" if authenticate else "connect")
        self._status(f"Connecting to {host}:{port}.")
        try:
            proxy = proxy_from_settings(
                self.get_firewall_type(), self._props["firewall_host"],
                self._props["firewall_port"], self._props["firewall_user"],
                reveal(self._props["firewall_password"]), str(self._cfg("FirewallData")),
                str(self._cfg("ProxyExceptionsList")), bool(self._props["firewall_auto_detect"]))
            sock = open_socket(host, port, conn_timeout, local_host=self._props["local_host"],
                               local_port=self._props["local_port"],
                               ipv6=int(self._cfg("UseIPv6")),
                               nodelay=bool(self._cfg("TcpNoDelay")),
                               keepalive=bool(self._cfg("TCPKeepAlive")), proxy=proxy,
                               linger=bool(self._cfg("Linger")),
                               linger_time=int(self._cfg("LingerTime")),
                               in_buffer=int(self._cfg("InBufferSize")),
                               out_buffer=int(self._cfg("OutBufferSize")),
                               keepalive_time_ms=int(self._cfg("KeepAliveTime")),
                               keepalive_interval_ms=int(self._cfg("KeepAliveInterval")),
                               deadline=deadline)
        except SSHClientError as exc:
            self._fire("on_connected", P.SSHClientConnectedEventParams(
                status_code=exc.code, description=exc.message))
            raise
        self._fire("on_connected", P.SSHClientConnectedEventParams(status_code=0,
                                                                   description="OK"))
        self._host_name = host
        if proxy is None or not proxy.applies_to(host):
            # The spec: a domain name in ssh_host is replaced by the address
            # it resolved to (a proxy resolves names itself: kept as given).
            self._props["ssh_host"] = str(sock.getpeername()[0])
        if proxy is not None and proxy.applies_to(host):
            self._fire("on_connection_status", P.SSHClientConnectionStatusEventParams(
                connection_event="Firewall connection complete.", status_code=0,
                description="OK"))
        self._fire("on_connection_status", P.SSHClientConnectionStatusEventParams(
            connection_event="Remote host connection complete.", status_code=0,
            description="OK"))
        self._channels = {}
        options.keepalive_interval = max(0, int(self._cfg("SSHKeepAliveInterval")))
        options.keepalive_count_max = max(1, int(self._cfg("SSHKeepAliveCountMax")))
        self._proto = ClientProtocol(options)
        self._driver = BlockingDriver(self._proto, sock, self._on_protocol_event)
        rate = int(self._cfg("MaxTransferRate"))
        self._driver.rate_limiter = RateLimiter(rate) if rate > 0 else None
        if self._asynchronous():
            if authenticate:
                self._proto.begin_auth()
            self._send_now()
            return  # the handshake continues in do_events()
        try:
            if authenticate:
                self._proto.begin_auth()
                self._wait(lambda: self._proto is not None and self._proto.authenticated,
                           "logon", deadline)
            else:
                self._wait(lambda: self._proto is not None and self._proto.kex_done, "connect",
                           deadline)
        except BaseException as exc:
            self._abandon_logon(exc)
            raise

    def _abandon_logon(self, exc: BaseException) -> None:
        """A logon that failed half way (also by an exception from an event
        handler) must not leave a connection that looks usable."""
        if isinstance(exc, SSHClientError):
            self._teardown(exc.code, exc.message)
        else:
            self._teardown(1036, f"logon aborted: {type(exc).__name__}: {exc}")

    def _asynchronous(self) -> bool:
        """timeout == 0: methods return at once; results come through do_events."""
        return int(self._props["timeout"]) == 0

    def _timeout_seconds(self) -> float | None:
        t = int(self._props["timeout"])
        return float(t) if t > 0 else None

    def _logon_seconds(self) -> float | None:
        """The wall-clock limit on establishing a connection (TCP, proxy, key
        exchange, authentication): ConnectionTimeout, else timeout.  Unlike
        other waits, never only an inactivity timeout: a server trickling a
        byte at a time would hold the logon for ever."""
        return float(int(self._cfg("ConnectionTimeout"))) or self._timeout_seconds()

    def _wait(self, done: Callable[[], bool], what: str,
              deadline: Deadline | None = None) -> None:
        driver = self._driver
        if driver is None:
            raise UsageError(code=1117)
        try:
            driver.run_until(done, self._timeout_seconds(), bool(self._cfg("AbsoluteTimeout")),
                             what, deadline)
        except SSHClientError as exc:
            if exc.code != 301:
                self._teardown(exc.code, exc.message)
            raise

    def _send_now(self) -> None:
        """What the protocol has queued goes to the socket without waiting
        (a method that returns at once still says what it asked for)."""
        if self._driver is not None:
            self._driver.send_queued()

    def _run(self, op: Operation) -> Any:
        """Carry an operation through (operations.run_steps); a wait that
        fails tears the connection down unless it timed out."""
        try:
            return carry(op, self._wait)
        finally:
            self._send_now()  # what the last step queued: the call returns now

    def _start(self, op: Operation) -> Any:
        """timeout == 0: the operation is sent and its outcome comes through
        do_events(); otherwise it is carried through."""
        if self._asynchronous():
            self._send_now()
            return None
        return self._run(op)

    def _teardown(self, code: int, description: str) -> None:
        """Close the socket; hand over buffered data; fire on_disconnected."""
        driver, proto = self._driver, self._proto
        if driver is None:
            return
        if proto is not None:
            for ch in list(self._channels.values()):
                self._deliver_channel_data(ch, flush=True)  # nothing held back is lost
        driver.close()
        self._driver = None
        # Channels end with the connection: say so, so that a loop waiting
        # for on_ssh_channel_closed does not wait forever.
        lost, self._channels = self._channels, {}
        for ch in lost.values():
            ch.closed = True
            self._fire("on_ssh_channel_closed", P.SSHClientSSHChannelClosedEventParams(
                channel_id=ch.channel_id))
        self._fire("on_connection_status", P.SSHClientConnectionStatusEventParams(
            connection_event="Remote host disconnected.", status_code=code,
            description=description or "OK"))
        self._fire("on_disconnected", P.SSHClientDisconnectedEventParams(
            status_code=code, description=description or "OK"))

    # ========================================================== methods
    def ssh_logon(self, ssh_host: str, ssh_port: int) -> None:
        """Connect, exchange keys and authenticate as ssh_user (after
        connect() to the same host and port: only authenticate)."""
        if self._is_connected():
            same = (ssh_host in (self._props["ssh_host"], self._host_name)
                    and int(ssh_port) == self._props["ssh_port"])
            if self._proto is None or self._proto.auth is not None or not same:
                raise UsageError(code=104)
            if self._asynchronous():
                self._proto.begin_auth(self._build_options(authenticate=True))
                self._send_now()
                return  # the logon continues in do_events()
            self._require_logon()
            return
        self.set_ssh_host(ssh_host)
        self.set_ssh_port(ssh_port)
        self._open_transport(authenticate=True)

    def connect(self) -> None:
        """Connect and exchange keys, without logging in."""
        self._open_transport(authenticate=False)

    def _require_logon(self) -> ClientProtocol:
        if not self._is_connected() or self._proto is None:
            raise UsageError(code=1117)
        proto = self._proto
        if not proto.authenticated and self._asynchronous():
            if proto.auth is None:  # connect() made the connection: log in now
                proto.begin_auth(self._build_options(authenticate=True))
                self._send_now()
            raise WouldBlockError("the logon has not completed yet: call do_events()",
                                  code=1130)
        if not proto.authenticated:
            # connect() built its options without credentials: build them now.
            try:
                deadline = Deadline(self._logon_seconds(), "logon")
                proto.begin_auth(self._build_options(authenticate=True))
                self._wait(lambda: self._proto is not None and self._proto.authenticated,
                           "logon", deadline)
            except BaseException as exc:
                self._abandon_logon(exc)
                raise
        return proto

    def ssh_logoff(self) -> None:
        """Close channels, say goodbye to the server, and close the connection."""
        if self._driver is None or self._proto is None:
            return
        proto = self._proto
        try:
            for ch in list(self._channels.values()):
                if ch.handle.alive:
                    ch.handle.send_close()
            closing = [ch.handle.record for ch in self._channels.values()]
            if self._cfg("WaitForChannelClose") and closing:
                # the protocol's state, not our events: those wait while a handler runs
                self._wait(lambda: all(r.close_received for r in closing), "channel close")
            proto.disconnect("logged off")
            self._send_now()
            if self._cfg("WaitForServerDisconnect"):
                # let the server close first (no TIME_WAIT on our side)
                driver = self._driver
                try:
                    driver.run_until(lambda: driver.eof, self._timeout_seconds(),
                                     what="server disconnect")
                except SSHClientError:
                    pass  # the server closed (expected) or did not in time
        except SSHClientError:
            pass
        self._teardown(0, "OK")

    def disconnect(self) -> None:
        """Close the connection at once, without logging off."""
        if self._driver is None:
            return
        if self._proto is not None:
            self._proto.disconnect("disconnected")
        self._teardown(0, "OK")

    def do_events(self) -> None:
        """Process pending network events; waits up to SelectWaitMillis when idle."""
        driver = self._driver
        if driver is None:
            time.sleep(max(0, int(self._cfg("SelectWaitMillis"))) / 1000.0)
            return
        try:
            driver.pump(max(0, int(self._cfg("SelectWaitMillis"))) / 1000.0)
        except SSHClientError as exc:
            self._fire("on_error", P.SSHClientErrorEventParams(error_code=exc.code,
                                                               description=exc.message))
            self._teardown(exc.code, exc.message)
        except BaseException as exc:
            # An event handler raised. Once logged on the connection is still
            # sound; during an asynchronous logon it is not.
            if self._proto is not None and not self._proto.authenticated:
                self._abandon_logon(exc)
            raise

    def exchange_keys(self) -> None:
        """Start a new key exchange on the open connection (waits for it unless timeout is 0)."""
        op = self._require_connected().rekey()
        self._send_now()
        if self._timeout_seconds() is not None:
            self._run(op)

    def _require_connected(self) -> ClientProtocol:
        if not self._is_connected() or self._proto is None:
            raise UsageError(code=1117)
        return self._proto

    # ---- channels
    def _find_channel(self, local_id: int) -> SpecChannel | None:
        return self._channels.get(local_id)

    def _channel_by_id(self, channel_id: str) -> SpecChannel:
        text = str(channel_id).strip()
        ch = self._channels.get(int(text)) if text.isdecimal() else None
        if ch is None or ch.channel_id != text:
            raise ChannelError(f"no channel with id {channel_id!r}", code=1021)
        return ch

    def _open(self, op: OpenChannel, service: str) -> str:
        ch = SpecChannel(op.channel, service, record_length=int(self._cfg("RecordLength")))
        self._channels[ch.local_id] = ch
        try:
            self._start(op)  # asynchronous: on_ssh_channel_opened (or on_error) follows
        except BaseException:
            self._channels.pop(ch.local_id, None)
            raise
        return ch.channel_id

    def open_channel(self, channel_type: str) -> str:
        """Open a channel of this type (usually "session") and return its id."""
        return self._open(self._require_logon().open_channel(channel_type), channel_type)

    def open_tcp_ip_channel(self, dest_host: str, dest_port: int, src_host: str,
                            src_port: int) -> str:
        """Open a direct-tcpip channel: the server connects to dest_host:dest_port, and
        the bytes of the channel travel over that connection. src_host/src_port
        say where the traffic comes from (127.0.0.1 when empty). Returns its id."""
        proto = self._require_logon()
        return self._open(proto.open_direct_tcpip(dest_host, int(dest_port),
                                                  src_host or "127.0.0.1", int(src_port)),
                          "direct-tcpip")

    def _channel_request(self, channel_id: str,
                         request: Callable[[ChannelHandle], ChannelRequest]) -> None:
        """Asynchronous: a refusal comes as on_error through do_events."""
        self._require_logon()
        self._start(request(self._channel_by_id(channel_id).handle))

    def start_service(self, channel_id: str, service: str, parameter: str) -> None:
        """Start "exec" (parameter: the command), "shell" or "subsystem" (parameter:
        its name) on an open channel; any other service name is sent as a channel
        request of that type with `parameter` as its string argument."""
        kind = service.strip()
        if kind == "exec":
            self._channel_request(channel_id, lambda ch: ch.exec(parameter))
        elif kind == "shell":
            self._channel_request(channel_id, lambda ch: ch.shell())
        elif kind == "subsystem":
            self._channel_request(channel_id, lambda ch: ch.subsystem(parameter))
        else:
            from sshcore.wire import encode_string

            extra = encode_string(parameter.encode()) if parameter else b""
            self._channel_request(channel_id, lambda ch: ch.request(kind, extra))

    def open_terminal(self, channel_id: str, terminal_type: str, width: int, height: int,
                      use_pixels: bool, modes: str) -> None:
        """Ask for a pseudo-terminal on the channel: its type (vt100 when empty), size in
        characters (or pixels with use_pixels) and hex-encoded terminal modes."""
        mode_bytes = _terminal_modes(modes)
        cols, rows = (0, 0) if use_pixels else (width, height)
        px_w, px_h = (width, height) if use_pixels else (0, 0)
        self._channel_request(channel_id, lambda ch: ch.request_pty(
            terminal_type or "vt100", cols, rows, px_w, px_h, mode_bytes))

    def _can_send(self, ch: SpecChannel) -> bool:
        if self._proto is None or not self._is_connected() or ch.closed:
            return False
        return ch.handle.can_send()

    def _maybe_ready_to_send(self, ch: SpecChannel) -> None:
        ready = self._can_send(ch)
        if ready and not ch.ready_to_send:
            ch.ready_to_send = True
            self._fire("on_ssh_channel_ready_to_send",
                       P.SSHClientSSHChannelReadyToSendEventParams(channel_id=ch.channel_id))
        elif not ready:
            ch.ready_to_send = False

    def send_channel_data(self, channel_id: str, data: bytes) -> None:
        """Send bytes on a channel. Blocks until all are handed over (timeout > 0); with
        timeout 0 it sends what the window allows and raises WouldBlockError for the
        rest (bytes_sent tells how much went)."""
        proto = self._require_logon()
        ch = self._channel_by_id(channel_id)
        op = Write(ch.handle, bytes(data) if not isinstance(data, (bytes, bytearray)) else data)
        try:
            if self._timeout_seconds() is not None:
                self._run(op)
                return
            op.step()
            self._send_now()
            if not op.finished:
                ch.ready_to_send = False
                raise WouldBlockError(f"{op.sent} of {len(data)} bytes sent",
                                      code=1133 if proto.in_key_exchange else 1130)
        finally:
            ch.bytes_sent = op.sent

    def send_bytes(self, channel_id: str, data: bytes) -> None:
        """Same as send_channel_data()."""
        self.send_channel_data(channel_id, data)

    def send_text(self, channel_id: str, text: str) -> None:
        """Send text on a channel, encoded with the CodePage setting (UTF-8 by default)."""
        self.send_channel_data(channel_id, _encode_text(text, int(self._cfg("CodePage"))))

    def close_channel(self, channel_id: str) -> None:
        """Close a channel (waits for the server's close unless timeout is 0)."""
        self._require_connected()
        ch = self._channel_by_id(channel_id)
        opened = ch.handle.alive and ch.handle.state.opened
        ch.handle.send_close()
        self._send_now()
        if opened and self._timeout_seconds() is not None:
            record = ch.handle.record
            self._wait(lambda: record.close_received, "channel close")

    def change_record_length(self, channel_id: str, record_length: int) -> None:
        """Set the fixed size of the channel's data events from now on (0: no records)."""
        self._channel_by_id(channel_id).record_length = max(0, int(record_length))

    # ---- raw packets
    @staticmethod
    def set_ssh_param(payload: bytes, field_type: str, field_value: str) -> bytes:
        """Append a field to `payload` (types s, sb, m, i, l, b, f)."""
        return rawpacket.set_ssh_param(payload, field_type, field_value)

    @staticmethod
    def get_ssh_param(payload: bytes, field: str) -> str:
        """Read a field of a packet an event handed over, as text: a name such as
        RequestType or ExitStatus, or a %-format of field types (see rawpacket)."""
        return rawpacket.get_ssh_param(payload, field)

    @staticmethod
    def get_ssh_param_bytes(payload: bytes, field: str) -> bytes:
        """Read a field of a packet as get_ssh_param() does, as raw bytes."""
        return rawpacket.get_ssh_param_bytes(payload, field)

    @staticmethod
    def encode_packet(packet: bytes) -> str:
        """A packet as upper-case hex, the form on_ssh_custom_auth uses."""
        return rawpacket.encode_packet(packet)

    @staticmethod
    def decode_packet(encoded_packet: str) -> bytes:
        """The bytes of a hex-encoded packet (blanks ignored)."""
        return rawpacket.decode_packet(encoded_packet)

    def send_ssh_packet(self, channel_id: str, packet_type: int, payload: bytes) -> None:
        """Send `payload` as a packet of `packet_type`; channel messages (91-100) get
        the channel's recipient id put in front of the payload."""
        proto = self._require_connected()
        packet_type = int(packet_type)
        if not 1 <= packet_type <= 255:
            raise UsageError(f"packet type {packet_type} is out of range", code=211)
        head = bytes([packet_type])
        if 91 <= packet_type <= 100:
            ch = self._channel_by_id(channel_id)
            if packet_type in (96, 97) and not payload:
                # CHANNEL_EOF / CLOSE (the spec has no EOF method): through the
                # channel, so that it knows it sent them.
                (ch.handle.send_eof if packet_type == 96 else ch.handle.send_close)()
                self._send_now()
                return
            head += ch.handle.remote_id.to_bytes(4, "big")
        if 20 <= packet_type <= 49:
            raise UsageError("key exchange messages cannot be sent as raw packets", code=211)
        proto.send_raw_packet(head + bytes(payload))
        self._send_now()


def _terminal_modes(modes: str) -> bytes:
    """open_terminal's hex `modes` as RFC 4254 §8 encoded modes, terminated
    by TTY_OP_END (added when missing: "3500000000" means ECHO 0)."""
    try:
        raw = bytes.fromhex(modes) if modes else b""
    except ValueError:
        raise UsageError("modes must be hex encoded", code=211) from None
    pos = 0
    while pos < len(raw):
        opcode = raw[pos]
        if opcode == 0:  # TTY_OP_END
            return raw[:pos + 1]
        if opcode >= 160:  # undefined: the server stops parsing here, pass it as given
            return raw
        if pos + 5 > len(raw):
            raise UsageError(f"modes: opcode {opcode} needs a 4-byte argument", code=211)
        pos += 5
    return raw + b"\x00"


def _parse_signed_cert(text: str) -> bytes:
    import base64

    parts = text.split()
    blob = parts[1] if len(parts) >= 2 else parts[0]
    try:
        return base64.b64decode(blob)
    except ValueError:
        raise UsageError("SignedSSHCert is not a valid OpenSSH certificate line",
                         code=211) from None


def _encode_text(text: str, code_page: int) -> bytes:
    try:
        return text.encode(S.code_page_codec(code_page))
    except UnicodeEncodeError as exc:
        raise SSHClientError(f"cannot encode text with code page {code_page}: {exc}",
                             code=434) from None


def _build_info() -> str:
    backend = _crypto.backend() if _crypto else "unavailable"
    return f"sshclient 0.1.0; crypto backend: {backend}"


_EVENT_HANDLERS: dict[type, Callable[[SSHClient, Any], None]] = {
    ev.LogMessage: SSHClient._ev_log,
    ev.ServerVersionReceived: SSHClient._ev_version,
    ev.HostKeyReceived: SSHClient._ev_question,
    ev.SignatureRequested: SSHClient._ev_question,
    ev.PromptsReceived: SSHClient._ev_question,
    ev.CustomAuthStep: SSHClient._ev_question,
    ev.KexStarted: SSHClient._ev_kex_started,
    ev.KexCompleted: SSHClient._ev_kex_done,
    ev.AuthBanner: SSHClient._ev_banner,
    ev.AuthCompleted: SSHClient._ev_auth_done,
    ev.ChannelOpened: SSHClient._ev_opened,
    ev.ChannelOpenFailed: SSHClient._ev_open_failed,
    ev.ChannelDataReady: SSHClient._ev_data,
    ev.ChannelEOF: SSHClient._ev_eof,
    ev.ChannelClosed: SSHClient._ev_closed,
    ev.ChannelRequestReceived: SSHClient._ev_request,
    ev.ChannelRequestAnswered: SSHClient._ev_answered,
    ev.ChannelOpenRequested: SSHClient._ev_open_requested,
}

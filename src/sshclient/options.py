"""Settings of one client connection, shared by every front end.

The spec adapter and the blocking API both fill one of these (so will an
asyncio front end); the sans-IO protocol reads nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from . import algorithms
from .hostkeys import Certificate, fingerprint

if TYPE_CHECKING:
    from .hostkeys import PublicKey
    from .keys import PrivateKey
    from .secret import Secret

DEFAULT_CLIENT_VERSION = "SSH-2.0-sshclient_0.1"
DEFAULT_VERSION_PATTERN = "*SSH-1.99-*,*SSH-2.0-*"
DEFAULT_WINDOW = 2 * 1024 * 1024  # measured best against a local sshd (DESIGN.md)
DEFAULT_MAX_PACKET = 32768
# What connect() lets a channel's window grow to, toward the bandwidth-delay
# product of a long link (ChannelTable.grow_windows; the protocol's own round
# trip decides when, see round_trip.py). A channel buffers at most its window,
# so this is also the memory a fast sender can make one slow-ish channel hold.
# 16 MiB carries ~330 MB/s at 50 ms, ~170 MB/s at 100 ms.
DEFAULT_WINDOW_LIMIT = 16 * 1024 * 1024

# Authentication modes (the spec's ssh_auth_mode values)
AUTH_NONE = 0
AUTH_MULTIFACTOR = 1
AUTH_PASSWORD = 2
AUTH_PUBLICKEY = 3
AUTH_KEYBOARD_INTERACTIVE = 4
AUTH_GSSAPI_WITH_MIC = 5
AUTH_GSSAPI_KEYEX = 6
AUTH_CUSTOM = 99


@dataclass
class HostKeyInfo:
    """What the user decides on when the server shows its host key."""
    blob: bytes
    key_type: str
    algorithm: str
    public_key: PublicKey

    # Hashed when asked for (a fan-out of many logins mostly never asks).
    @property
    def fingerprint_sha256(self) -> str:
        """SHA-256 of the key blob, hex with colons."""
        return fingerprint(self.blob, "sha256")

    @property
    def fingerprint_sha1(self) -> str:
        """SHA-1 of the key blob, hex with colons."""
        return fingerprint(self.blob, "sha1")

    @property
    def fingerprint_md5(self) -> str:
        """MD5 of the key blob, hex with colons (as older tools show it)."""
        return fingerprint(self.blob, "md5")

    @property
    def fingerprint(self) -> str:
        """OpenSSH's form, as ``ssh-keygen -lf`` and ``ssh`` print it:
        ``SHA256:<base64>`` (fingerprint_sha256 is the same hash in hex).
        A host certificate shows the fingerprint of the key it certifies, as
        they do (fingerprint_sha256 hashes the whole certificate)."""
        key = self.public_key
        return (key.public_key if isinstance(key, Certificate) else key).fingerprint_openssh()


# prompts: list of (prompt, echo); returns one response per prompt
KbdInteractiveHandler = Callable[[str, str, list[tuple[str, bool]]], list[str]]
# gets the last packet from the server (payload), returns the next payload to send or None to stop
CustomAuthHandler = Callable[[bytes], Optional[bytes]]


@dataclass
class ClientOptions:
    username: str = ""
    # A Secret: this object lives as long as the connection and is printed in
    # reprs, tracebacks and vars() of its holders; the text must not be.
    password: Secret | None = None
    private_key: PrivateKey | None = None
    signed_certificate: bytes | None = None  # an OpenSSH user certificate blob (later issue)
    auth_mode: int = AUTH_PASSWORD
    try_all_auth_methods: bool = False
    do_not_repeat_auth_methods: bool = True
    pubkey_signature_algorithms: list[str] | None = None
    password_prompt_pattern: str = ""

    kex_algorithms: list[str] = field(default_factory=list)
    host_key_algorithms: list[str] = field(default_factory=list)
    ciphers: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    # In preference order: "none", "zlib" (RFC 4253 §6.2), "zlib@openssh.com"
    # (OpenSSH's, compressing only after authentication), e.g.
    # ["zlib@openssh.com", "zlib", "none"] to compress with any server that can.
    # Unlike the lists above, an empty list does not mean "our defaults": the
    # transport offers this one as it is, so the default is spelled out.
    compression: list[str] = field(
        default_factory=lambda: list(algorithms.defaults(algorithms.Kind.COMPRESSION)))
    strict_kex_mode: int = 1  # UseStrictKeyExchange 0..3
    gex_bits: tuple[int, int, int] = (2048, 3072, 8192)

    client_version: str = DEFAULT_CLIENT_VERSION
    version_pattern: str = DEFAULT_VERSION_PATTERN
    rekey_bytes: int = 1 << 30  # KeyRenegotiationThreshold, default 1 GB
    # keepalive@openssh.com after this many seconds without input (0: never);
    # that many unanswered in a row end the connection (1039).
    keepalive_interval: float = 0.0
    keepalive_count_max: int = 5

    window_size: int = DEFAULT_WINDOW
    # > window_size: channels may grow their window up to this when it holds a
    # transfer back. 0 (fixed) here, as the spec API keeps its window size;
    # connect() starts at DEFAULT_WINDOW_LIMIT.
    window_limit: int = 0
    max_packet_size: int = DEFAULT_MAX_PACKET

    # The callbacks may answer with an awaitable: only the asyncio API awaits it.
    host_key_verifier: Callable[[HostKeyInfo], object] | None = None
    kbd_interactive_handler: KbdInteractiveHandler | None = None
    custom_auth_handler: CustomAuthHandler | None = None
    log_level: int = 1  # 0 none, 1 info, 2 packets, 3 packet bytes (the spec's LogLevel)
    mask_sensitive_data: bool = True

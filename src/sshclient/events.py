"""Events the sans-IO protocol hands to its drivers (one object per rare event).

Bulk channel data never becomes an event per packet: it sits in the compiled
channel buffers and `ChannelDataReady` says which channel has some.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .options import HostKeyInfo


@dataclass
class Event:
    pass


@dataclass
class ServerVersionReceived(Event):
    version: str


@dataclass
class KexStarted(Event):
    initial: bool


@dataclass
class KexCompleted(Event):
    initial: bool
    kex: str
    host_key_algorithm: str
    cipher: str
    mac: str | None
    strict: bool


@dataclass
class AuthBanner(Event):
    message: str


@dataclass
class AuthCompleted(Event):
    method: str


@dataclass
class ChannelOpened(Event):
    channel: int


@dataclass
class ChannelOpenFailed(Event):
    channel: int
    reason: int
    description: str


@dataclass
class ChannelDataReady(Event):
    """Data (or window) arrived for these channels since the last event."""
    channels: list[int]


@dataclass
class ChannelEOF(Event):
    channel: int


@dataclass
class ChannelClosed(Event):
    channel: int


@dataclass
class ChannelRequestReceived(Event):
    """A CHANNEL_REQUEST from the server (exit-status, exit-signal, ...)."""
    channel: int
    request_type: str
    want_reply: bool
    payload: bytes  # the whole packet payload, message byte included


@dataclass
class ChannelRequestAnswered(Event):
    """The server's reply to one of our channel requests with want_reply."""
    channel: int
    request_type: str
    success: bool


@dataclass
class GlobalRequestAnswered(Event):
    request_type: str
    success: bool
    payload: bytes = b""


@dataclass
class ChannelOpenRequested(Event):
    """The server asks to open a channel (forwarded-tcpip, x11, ...)."""
    channel: int
    channel_type: str
    payload: bytes  # the type-specific data after the fixed CHANNEL_OPEN fields


@dataclass
class HostKeyReceived(Event):
    """The server proved it holds this host key; nothing more is processed
    until the front end answers with ClientProtocol.answer_host_key() (now,
    or later: an asynchronous check, a prompt)."""
    info: HostKeyInfo


@dataclass
class SignatureRequested(Event):
    """publickey authentication needs `data` signed as `algorithm` by the
    key whose public blob is `public_blob`: answer_signature() (an agent,
    a token or the key file can answer, now or later)."""
    public_blob: bytes
    algorithm: str
    data: bytes = field(repr=False)


@dataclass
class PromptsReceived(Event):
    """keyboard-interactive prompts (text, echo?): answer_prompts()."""
    name: str
    instructions: str
    prompts: list[tuple[str, bool]]


@dataclass
class CustomAuthStep(Event):
    """Custom authentication: the server's last packet (b"" to start);
    answer_custom_auth() with the next USERAUTH packet, or b"" to give up."""
    payload: bytes


@dataclass
class Disconnected(Event):
    code: int
    reason: int
    description: str
    by_server: bool = True


@dataclass
class LogMessage(Event):
    level: int
    message: str
    extra: dict = field(default_factory=dict)

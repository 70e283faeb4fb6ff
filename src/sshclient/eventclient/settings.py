"""The spec's config("Name=value") settings, as a data table.

Each row: the spec's name, its type, its default, and whether it can be set.
`SSHClient.config()` parses and stores values here; the client reads the
typed values when it builds a connection.  Computed, read-only settings
(ServerSSHVersionString, NegotiatedStrictKex, SSHFingerprint*) are answered
by the client itself.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import UsageError

# CodePage numbers whose Python codec is not simply "cp<number>".
_CODEC_OF_CODE_PAGE = {
    65001: "utf-8", 1200: "utf-16-le", 1201: "utf-16-be", 12000: "utf-32-le",
    12001: "utf-32-be", 20127: "ascii", 28591: "latin-1", 28592: "iso8859-2",
    28595: "iso8859-5", 28597: "iso8859-7", 28605: "iso8859-15", 936: "gbk", 949: "cp949",
    950: "big5", 20866: "koi8-r", 21866: "koi8-u", 20932: "euc-jp", 51932: "euc-jp",
    51949: "euc-kr", 54936: "gb18030", 10000: "mac-roman",
}


def code_page_codec(code_page: int) -> str:
    """The Python codec for a Windows code page number; 434 if there is none."""
    name = _CODEC_OF_CODE_PAGE.get(code_page, f"cp{code_page}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UsageError(f"code page {code_page} has no text codec here", code=434) from None


def _in_range(low: int, high: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not low <= value <= high:
            raise UsageError(f"{value} is out of range {low}..{high}", code=211)
    return check


def _one_of(*names: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if str(value).upper().replace("-", "") not in names:
            raise UsageError(f"{value!r} is not one of {', '.join(names)}", code=211)
    return check


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type
    default: Any
    readonly: bool = False
    indexed: bool = False  # Name[ChannelId]
    unsupported: str = ""  # non-empty: a clear reason why it cannot be used here
    check: Callable[[Any], object] | None = None  # the spec's documented values


_WIN_ONLY = "is only available on Windows (Pageant / Windows security APIs)"
_GSSAPI = "GSSAPI/Kerberos authentication is not available in this release"

SETTINGS: tuple[Setting, ...] = (
    Setting("ChannelDataEOL", bytes, b"", indexed=True),
    Setting("ChannelDataEOLFound", bool, False, readonly=True, indexed=True),
    Setting("MaxChannelDataLength", int, 0, indexed=True),
    Setting("ClientSSHVersionString", str, "SSH-2.0-sshclient_0.1"),
    Setting("DoNotRepeatAuthMethods", bool, True),
    Setting("EnablePageantAuth", int, 0),
    Setting("KerberosDelegation", bool, True),
    Setting("KerberosRealm", str, ""),
    Setting("KerberosSPN", str, ""),
    Setting("KeyRenegotiationThreshold", int, 1 << 30),
    Setting("LogLevel", int, 1, check=_in_range(0, 3)),
    Setting("MaxPacketSize", int, 32768),
    Setting("MaxWindowSize", int, 2 * 1024 * 1024),
    Setting("NegotiatedStrictKex", bool, False, readonly=True),
    Setting("PasswordPrompt", str, ""),
    Setting("PreferredDHGroupBits", int, 3072, check=_in_range(1024, 8192)),
    Setting("RecordLength", int, 0),
    Setting("ServerSSHVersionString", str, "", readonly=True),
    Setting("SignedSSHCert", str, ""),
    Setting("SSHAcceptAnyServerHostKey", bool, False),
    Setting("SSHAcceptServerCAKey", str, ""),
    Setting("SSHAcceptServerHostKeyFingerPrint", str, ""),
    Setting("SSHFingerprintHashAlgorithm", str, "SHA256", check=_one_of("MD5", "SHA1", "SHA256")),
    Setting("SSHFingerprintMD5", str, "", readonly=True),
    Setting("SSHFingerprintSHA1", str, "", readonly=True),
    Setting("SSHFingerprintSHA256", str, "", readonly=True),
    Setting("SSHKeepAliveCountMax", int, 5),
    Setting("SSHKeepAliveInterval", int, 0),
    Setting("SSHKeyExchangeAlgorithms", str, ""),  # mirrors ssh_key_exchange_algorithms
    Setting("SSHKeyRenegotiate", str, "", readonly=True),  # querying it starts a rekey
    Setting("SSHMacAlgorithms", str, ""),  # mirrors ssh_mac_algorithms
    Setting("SSHPubKeyAuthSigAlgorithms", str,
            "ssh-rsa,rsa-sha2-256,rsa-sha2-512,ssh-dss,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
            "ecdsa-sha2-nistp521,ssh-ed25519"),
    Setting("SSHPublicKeyAlgorithms", str, ""),  # mirrors ssh_public_key_algorithms
    Setting("SSHVersionPattern", str, "*SSH-1.99-*,*SSH-2.0-*"),
    Setting("TryAllAvailableAuthMethods", bool, False),
    Setting("UseStrictKeyExchange", int, 1, check=_in_range(0, 3)),
    Setting("WaitForChannelClose", bool, True),
    Setting("WaitForServerDisconnect", bool, False),
    # TCPClient settings
    Setting("ConnectionTimeout", int, 0),
    Setting("FirewallAutoDetect", bool, False),
    Setting("FirewallHost", str, ""),
    Setting("FirewallPassword", str, ""),
    Setting("FirewallPort", int, 0),
    Setting("FirewallType", int, 0),
    Setting("FirewallUser", str, ""),
    Setting("KeepAliveInterval", int, 0),
    Setting("KeepAliveTime", int, 0),
    Setting("Linger", bool, True),
    Setting("LingerTime", int, 0),
    Setting("LocalHost", str, ""),
    Setting("LocalPort", int, 0),
    Setting("MaxLineLength", int, 2048),
    Setting("MaxTransferRate", int, 0),
    Setting("ProxyExceptionsList", str, ""),
    Setting("TCPKeepAlive", bool, False),
    Setting("TcpNoDelay", bool, True),
    Setting("UseIPv6", int, 0, check=_in_range(0, 2)),
    # Socket settings
    Setting("AbsoluteTimeout", bool, False),
    Setting("FirewallData", str, ""),
    Setting("InBufferSize", int, 0),
    Setting("OutBufferSize", int, 0),
    # Base settings
    Setting("BuildInfo", str, "", readonly=True),
    Setting("CodePage", int, 65001, check=code_page_codec),
    Setting("LicenseInfo", str, "", readonly=True),
    Setting("MaskSensitiveData", bool, True),
    Setting("ProcessIdleEvents", bool, False),
    Setting("SelectWaitMillis", int, 20),
    Setting("UseFIPSCompliantAPI", bool, False),
    Setting("UseInternalSecurityAPI", bool, True),
)

BY_NAME: dict[str, Setting] = {s.name.lower(): s for s in SETTINGS}

# Settings whose non-default values cannot be honoured on this platform yet.
UNSUPPORTED_VALUES: dict[str, str] = {
    "enablepageantauth": "Pageant " + _WIN_ONLY,
    "kerberosrealm": _GSSAPI,
    "kerberosspn": _GSSAPI,
    "usefipscompliantapi": "FIPS mode " + _WIN_ONLY,
    "processidleevents": "idle-time event processing is a Windows message-loop feature; "
                         "call do_events() instead",
}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise UsageError(f"{text!r} is not a boolean (use True/False, 1/0, Yes/No)", code=211)


def parse_value(setting: Setting, text: str) -> Any:
    value = _parse(setting, text)
    if setting.check is not None:
        try:
            setting.check(value)
        except UsageError as exc:
            raise UsageError(f"config {setting.name}: {exc.message}", code=exc.code) from None
    return value


def _parse(setting: Setting, text: str) -> Any:
    if setting.kind is bool:
        return parse_bool(text)
    if setting.kind is int:
        try:
            return int(text.strip(), 0)
        except ValueError:
            raise UsageError(f"config {setting.name}: {text!r} is not an integer",
                             code=211) from None
    if setting.kind is bytes:
        return text.encode("latin-1", "replace")
    return text


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def split_name(raw: str) -> tuple[str, str | None]:
    """'ChannelDataEOL[3]' -> ('ChannelDataEOL', '3')."""
    raw = raw.strip()
    if raw.endswith("]") and "[" in raw:
        name, _, index = raw[:-1].partition("[")
        return name.strip(), index.strip()
    return raw, None


def lookup(name: str) -> Setting:
    try:
        return BY_NAME[name.lower()]
    except KeyError:
        raise UsageError(f"unknown config setting {name!r}", code=211) from None

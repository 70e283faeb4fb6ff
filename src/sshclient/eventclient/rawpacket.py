"""Raw packet helpers of the spec: set_ssh_param, get_ssh_param, encode/decode.

Field types (set_ssh_param): s text, sb hex-encoded bytes, m mpint, i uint32,
l uint64, b byte, f boolean.  Integers may be written as 0x-hex.

get_ssh_param reads packets as the events hand them over: the message type
byte first.  Well-known names cover CHANNEL_REQUEST packets (ChannelId,
RequestType, WantsReply and the fields of each request type the spec lists,
plus exit-status / exit-signal); any other layout is read with a
"%"-format, a comma separated list of field types read in order from just
after the message type byte, whose last field is returned.
"""
from __future__ import annotations

from sshcore.wire import Reader, WireError, Writer, encode_mpint

from ..errors import SSHClientError, UsageError

_HEADER = [("ChannelId", "i"), ("RequestType", "s"), ("WantsReply", "f")]
_REQUEST_FIELDS: dict[str, list[tuple[str, str]]] = {
    "pty-req": [("TerminalType", "s"), ("TerminalWidthCharacters", "i"),
                ("TerminalHeightRows", "i"), ("TerminalWidthPixels", "i"),
                ("TerminalHeightPixels", "i"), ("TerminalModes", "sb")],
    "x11-req": [("SingleConnection", "f"), ("X11AuthProtocol", "s"), ("X11AuthCookie", "s"),
                ("X11ScreenNumber", "i")],
    "env": [("VariableName", "s"), ("VariableValue", "s")],
    "exec": [("Command", "s")],
    "subsystem": [("Subsystem", "s")],
    "xon-xoff": [("ClientCanDo", "f")],
    "signal": [("SignalName", "s")],
    "exit-status": [("ExitStatus", "i")],
    "exit-signal": [("SignalName", "s"), ("CoreDumped", "f"), ("ErrorMessage", "s"),
                    ("LanguageTag", "s")],
    "window-change": [("TerminalWidthCharacters", "i"), ("TerminalHeightRows", "i"),
                      ("TerminalWidthPixels", "i"), ("TerminalHeightPixels", "i")],
}
FIELD_TYPES = ("s", "sb", "m", "i", "l", "b", "f")


def _parse_int(text: str) -> int:
    text = text.strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise UsageError(f"{text!r} is not an integer", code=211) from None


def set_ssh_param(payload: bytes, field_type: str, field_value: str) -> bytes:
    """Append one field to `payload` and return the new payload."""
    w = Writer(payload or b"")
    kind = field_type.strip().lower()
    if kind == "s":
        w.string(field_value.encode("utf-8"))
    elif kind == "sb":
        try:
            w.string(bytes.fromhex(field_value.strip()))
        except ValueError:
            raise UsageError(f"{field_value!r} is not hex", code=211) from None
    elif kind == "m":
        w.raw(encode_mpint(_parse_int(field_value)))
    elif kind in ("i", "l", "b"):
        value = _parse_int(field_value)
        bits = {"i": 32, "l": 64, "b": 8}[kind]
        if not 0 <= value < (1 << bits):
            raise UsageError(f"{value} does not fit field type {kind}", code=211)
        {"i": w.uint32, "l": w.uint64, "b": w.byte}[kind](value)
    elif kind == "f":
        low = field_value.strip().lower()
        if low not in ("true", "false", "1", "0", "yes", "no"):
            raise UsageError(f"{field_value!r} is not a boolean", code=211)
        w.boolean(low in ("true", "1", "yes"))
    else:
        raise UsageError(f"unknown field type {field_type!r} (use one of "
                         f"{', '.join(FIELD_TYPES)})", code=211)
    return w.getvalue()


def _read(r: Reader, kind: str) -> tuple[str, bytes]:
    """One field as (string form, raw bytes form)."""
    if kind == "s":
        raw = r.string()
        return raw.decode("utf-8", "replace"), raw
    if kind == "sb":
        raw = r.string()
        return raw.hex().upper(), raw
    if kind == "m":
        value = r.mpint()
        return str(value), str(value).encode()
    if kind == "i":
        value = r.uint32()
        return str(value), value.to_bytes(4, "big")
    if kind == "l":
        value = r.uint64()
        return str(value), value.to_bytes(8, "big")
    if kind == "b":
        value = r.byte()
        return str(value), bytes([value])
    if kind == "f":
        flag = r.boolean()
        return ("True" if flag else "False"), bytes([1 if flag else 0])
    raise UsageError(f"unknown field type {kind!r}", code=211)


def _lookup(payload: bytes, field: str) -> tuple[str, bytes]:
    if not payload:
        raise UsageError("empty payload", code=211)
    r = Reader(payload)
    r.byte()  # message type
    try:
        if field.startswith("%"):
            kinds = [k.strip().lower() for k in field[1:].split(",") if k.strip()]
            if not kinds:
                raise UsageError("empty %-format", code=211)
            result = ("", b"")
            for kind in kinds:
                result = _read(r, kind)
            return result
        values: dict[str, tuple[str, bytes]] = {}
        request_type = ""
        for name, kind in _HEADER:
            values[name.lower()] = _read(r, kind)
            if name == "RequestType":
                request_type = values[name.lower()][0]
            if name.lower() == field.lower():
                return values[name.lower()]
        for name, kind in _REQUEST_FIELDS.get(request_type, []):
            value = _read(r, kind)
            if name.lower() == field.lower():
                return value
    except WireError as exc:
        raise SSHClientError(f"cannot read {field!r} from the packet: {exc}", code=1022) \
            from None
    raise UsageError(f"unknown field {field!r} for this packet "
                     f"(request type {request_type!r}); use a %-format", code=211)


def get_ssh_param(payload: bytes, field: str) -> str:
    return _lookup(payload, field)[0]


def get_ssh_param_bytes(payload: bytes, field: str) -> bytes:
    return _lookup(payload, field)[1]


def encode_packet(packet: bytes) -> str:
    return bytes(packet).hex().upper()


def decode_packet(encoded_packet: str) -> bytes:
    try:
        return bytes.fromhex("".join(encoded_packet.split()))
    except ValueError:
        raise UsageError("the encoded packet is not hex", code=211) from None

"""A small, slow, obviously-written reference of the SSH binary packet protocol.

Written straight from the specs, independently of sshcore, on the
`cryptography` package, so that hypothesis can check the Cython engine
against it in both directions:

* RFC 4253 §6 packet format, padding rules and the encrypt-and-MAC order;
* RFC 4344 aesNNN-ctr (one keystream per direction, never restarted);
* OpenSSH PROTOCOL §1.5 hmac-*-etm@openssh.com (length in clear, MAC over
  seq || length || ciphertext);
* RFC 5647 / OpenSSH PROTOCOL §1.6 aesNNN-gcm@openssh.com (4-byte fixed
  nonce field, 8-byte invocation counter, length as AAD, MAC ignored);
* OpenSSH PROTOCOL.chacha20poly1305 (K_2 = key[:32] for the body and the
  Poly1305 key, K_1 = key[32:] for the length, nonce = 64-bit seq).

Running it as a script (python tests/reference_codec.py) regenerates
tests/vectors/ssh_packets.txt; the tests read the frozen file.
"""
from __future__ import annotations

import hashlib
import hmac as std_hmac
import os
import struct

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.poly1305 import Poly1305

# name -> (key_len, iv_len, block_size, kind)
CIPHERS = {
    "none": (0, 0, 8, "none"),
    "aes128-ctr": (16, 16, 16, "ctr"),
    "aes192-ctr": (24, 16, 16, "ctr"),
    "aes256-ctr": (32, 16, 16, "ctr"),
    "aes128-gcm@openssh.com": (16, 12, 16, "gcm"),
    "aes256-gcm@openssh.com": (32, 12, 16, "gcm"),
    "chacha20-poly1305@openssh.com": (64, 0, 8, "chacha"),
}
# name -> (key_len, mac_len, etm, hashlib name)
MACS = {
    "hmac-sha1": (20, 20, False, "sha1"),
    "hmac-sha2-256": (32, 32, False, "sha256"),
    "hmac-sha2-512": (64, 64, False, "sha512"),
    "hmac-sha1-etm@openssh.com": (20, 20, True, "sha1"),
    "hmac-sha2-256-etm@openssh.com": (32, 32, True, "sha256"),
    "hmac-sha2-512-etm@openssh.com": (64, 64, True, "sha512"),
}


def suites() -> list[tuple[str, str | None]]:
    """Every (cipher, mac) combination worth testing (MAC None for AEAD)."""
    out: list[tuple[str, str | None]] = [("none", None)]
    for c, (_, _, _, kind) in CIPHERS.items():
        if kind in ("gcm", "chacha"):
            out.append((c, None))
        elif kind == "ctr":
            out.extend((c, m) for m in MACS)
    return out


def random_keys(cipher: str, mac: str | None, rnd=os.urandom) -> tuple:
    """(key, iv, mac, mac_key) of the right sizes."""
    key_len, iv_len, _, _ = CIPHERS[cipher]
    mk = rnd(MACS[mac][0]) if mac else None
    return rnd(key_len), rnd(iv_len), mac, mk


class RefError(Exception):
    """code: 1015 MAC/decryption, 1036 framing; 0 means 'need more data'."""

    def __init__(self, code: int, what: str) -> None:
        super().__init__(f"{code}: {what}")
        self.code = code


class _Direction:
    def __init__(self, cipher: str, key, iv, mac: str | None, mac_key) -> None:
        key_len, iv_len, self.block, self.kind = CIPHERS[cipher]
        key, iv = bytes(key or b""), bytes(iv or b"")
        assert len(key) == key_len and len(iv) == iv_len
        self.mac_name = mac if self.kind in ("ctr", "none") else None
        self.etm = False
        self.mac_len = 16 if self.kind in ("gcm", "chacha") else 0
        if self.mac_name:
            _, self.mac_len, self.etm, self.digest = MACS[self.mac_name]
            self.mac_key = bytes(mac_key)
        if self.kind == "ctr":
            # One keystream for the life of the key: this object is the state.
            self.stream = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
        elif self.kind == "gcm":
            self.aead = AESGCM(key)
            self.fixed = iv[:4]
            self.counter = int.from_bytes(iv[4:], "big")
        elif self.kind == "chacha":
            self.k_main, self.k_len = key[:32], key[32:]

    # The length is left out of the alignment when it travels in clear.
    @property
    def length_in_clear(self) -> bool:
        return self.kind in ("gcm", "chacha") or self.etm

    def _mac(self, seq: int, data: bytes) -> bytes:
        return std_hmac.new(self.mac_key, struct.pack(">I", seq) + data, self.digest).digest()

    def _gcm_nonce(self) -> bytes:
        nonce = self.fixed + (self.counter % 2**64).to_bytes(8, "big")
        self.counter += 1
        return nonce

    @staticmethod
    def _chacha(key: bytes, seq: int, counter: int, data: bytes) -> bytes:
        nonce = counter.to_bytes(8, "little") + seq.to_bytes(8, "big")
        return Cipher(algorithms.ChaCha20(key, nonce), None).encryptor().update(data)


class Sealer(_Direction):
    def min_padding(self, payload_len: int) -> int:
        unit = 1 + payload_len + (0 if self.length_in_clear else 4)
        pad = self.block - unit % self.block
        return pad + self.block if pad < 4 else pad

    def seal(self, seq: int, payload: bytes, padding: bytes | None = None) -> bytes:
        """One packet.  padding: explicit bytes (any valid length) or random minimal."""
        if padding is None:
            padding = os.urandom(self.min_padding(len(payload)))
        assert 4 <= len(padding) <= 255
        body = bytes([len(padding)]) + payload + padding
        assert (len(body) + (0 if self.length_in_clear else 4)) % self.block == 0
        plain = struct.pack(">I", len(body)) + body
        if self.kind == "none":
            return plain + (self._mac(seq, plain) if self.mac_name else b"")
        if self.kind == "ctr":
            if self.etm:
                enc = plain[:4] + self.stream.update(plain[4:])
                return enc + self._mac(seq, enc)
            return self.stream.update(plain) + self._mac(seq, plain)
        if self.kind == "gcm":
            return plain[:4] + self.aead.encrypt(self._gcm_nonce(), body, plain[:4])
        # chacha20-poly1305@openssh.com
        enc = self._chacha(self.k_len, seq, 0, plain[:4]) + self._chacha(self.k_main, seq, 1, body)
        poly_key = self._chacha(self.k_main, seq, 0, bytes(32))
        return enc + Poly1305.generate_tag(poly_key, enc)


class Opener(_Direction):
    def __init__(self, *args, max_packet: int = 256 * 1024 + 1024) -> None:
        super().__init__(*args)
        self.max_packet = max_packet

    def open_stream(self, data: bytes, seq: int) -> list[bytes]:
        """All complete packets of data (which must start at a packet boundary).
        RefError(0) if the data ends inside a packet."""
        out, pos = [], 0
        while pos < len(data):
            payload, used = self.open_one(data[pos:], seq)
            out.append(payload)
            pos += used
            seq = (seq + 1) % 2**32
        return out

    def open_one(self, data: bytes, seq: int) -> tuple[bytes, int]:
        first = None
        if self.kind == "ctr" and not self.etm:
            if len(data) < self.block:
                raise RefError(0, "short")
            first = self.stream.update(data[: self.block])
            length = struct.unpack(">I", first[:4])[0]
        elif self.kind == "chacha":
            if len(data) < 4:
                raise RefError(0, "short")
            length = struct.unpack(">I", self._chacha(self.k_len, seq, 0, data[:4]))[0]
        else:
            if len(data) < 4:
                raise RefError(0, "short")
            length = struct.unpack(">I", data[:4])[0]
        if length < 5 or length > self.max_packet:
            raise RefError(1036, "bad length")
        if (length + (0 if self.length_in_clear else 4)) % self.block:
            raise RefError(1036, "unaligned length")
        total = 4 + length + self.mac_len
        if len(data) < total:
            raise RefError(0, "short")
        wire, mac = data[: 4 + length], data[4 + length: total]
        if self.kind == "none":
            plain = wire
        elif self.kind == "ctr":
            if self.etm:
                if not std_hmac.compare_digest(self._mac(seq, wire), mac):
                    raise RefError(1015, "bad mac")
                plain = wire[:4] + self.stream.update(wire[4:])
            else:
                plain = first + self.stream.update(wire[self.block:])
        elif self.kind == "gcm":
            try:
                plain = wire[:4] + self.aead.decrypt(self._gcm_nonce(), wire[4:] + mac, wire[:4])
            except InvalidTag:
                raise RefError(1015, "bad tag") from None
        else:
            poly_key = self._chacha(self.k_main, seq, 0, bytes(32))
            try:
                Poly1305.verify_tag(poly_key, wire, mac)
            except InvalidSignature:
                raise RefError(1015, "bad tag") from None
            plain = wire[:4] + self._chacha(self.k_main, seq, 1, wire[4:])
        if self.mac_name and not self.etm:
            if not std_hmac.compare_digest(self._mac(seq, plain), mac):
                raise RefError(1015, "bad mac")
        pad = plain[4]
        if pad < 4 or pad + 2 > length:
            raise RefError(1036, "bad padding")
        return plain[5: 4 + length - pad], total


# ------------------------------------------------------------ frozen vectors

VECTOR_FILE = os.path.join(os.path.dirname(__file__), "vectors", "ssh_packets.txt")
_HEADER = """\
# Whole-packet vectors for the SSH binary packet protocol, one record per cipher
# suite: several packets in a row from the given starting sequence number (so the
# ctr keystream, the gcm invocation counter and the seq-keyed chacha nonce are all
# exercised, including the 2^32 sequence wrap), each with its plaintext payload,
# the padding bytes used and the resulting wire bytes (packet = length || ... || MAC).
# Generated once by tests/reference_codec.py (pure Python on `cryptography`,
# written from RFC 4253/4344/5647 and OpenSSH PROTOCOL, PROTOCOL.chacha20poly1305),
# with deterministic keys and padding, and frozen: do not regenerate casually.
"""


def _det(seed: bytes, n: int) -> bytes:
    out, i = b"", 0
    while len(out) < n:
        out += hashlib.sha256(seed + i.to_bytes(4, "big")).digest()
        i += 1
    return out[:n]


def generate_vectors() -> str:
    lines = [_HEADER.rstrip("\n")]
    payloads = [b"\x05\x00\x00\x00\x0cssh-userauth", b"\x5b" + _det(b"p1", 40),
                b"\x02" + _det(b"p2", 300), b"\x15"]
    for cipher, mac in suites():
        tag = f"{cipher} {mac}".encode()
        key_len, iv_len, _, _ = CIPHERS[cipher]
        key, iv = _det(tag + b"key", key_len), _det(tag + b"iv", iv_len)
        mac_key = _det(tag + b"mac", MACS[mac][0]) if mac else None
        seq = 0xFFFFFFFE
        s = Sealer(cipher, key, iv, mac, mac_key)
        lines += ["", f"cipher = {cipher}", f"mac = {mac or 'none'}", f"key = {key.hex()}",
                  f"iv = {iv.hex()}", f"mac_key = {(mac_key or b'').hex()}", f"seq = {seq}"]
        for i, p in enumerate(payloads):
            pad = _det(tag + b"pad%d" % i, s.min_padding(len(p)))
            pkt = s.seal((seq + i) % 2**32, p, pad)
            lines += [f"payload = {p.hex()}", f"padding = {pad.hex()}", f"packet = {pkt.hex()}"]
    return "\n".join(lines) + "\n"


def read_records(path: str) -> list[dict]:
    """The key = value blocks of a vector file; repeated keys become lists."""
    records, cur = [], {}
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("#"):
                continue
            if not line:
                if cur:
                    records.append(cur)
                cur = {}
                continue
            k, _, v = line.partition("=")
            k, v = k.strip(), v.strip()
            if k in cur:
                if not isinstance(cur[k], list):
                    cur[k] = [cur[k]]
                cur[k].append(v)
            else:
                cur[k] = v
    if cur:
        records.append(cur)
    return records


if __name__ == "__main__":
    with open(VECTOR_FILE, "w") as f:
        f.write(generate_vectors())
    print("wrote", VECTOR_FILE)

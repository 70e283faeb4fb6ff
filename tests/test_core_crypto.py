"""Known-answer tests for every primitive, on every available backend, and the
frozen whole-packet vectors for every SSH cipher suite (tests/vectors/)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from reference_codec import VECTOR_FILE, read_records
from sshcore import crypto
from sshcore.packet import PacketEngine

VECTORS = os.path.join(os.path.dirname(__file__), "vectors")
H = bytes.fromhex
BACKENDS = crypto.available_backends()


def records(name):
    return read_records(os.path.join(VECTORS, name))


@pytest.fixture(params=BACKENDS)
def backend(request):
    prev = crypto._set_backend(request.param)
    yield request.param
    crypto._set_backend(prev)


# ------------------------------------------------------------------ dispatch
# The suites the frozen vectors cover, and the legacy names the core runs as
# well (which of them are offered is sshclient.algorithms' business).
MODERN_CIPHERS = (
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr", "aes192-ctr", "aes256-ctr")
MODERN_MACS = (
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1")
LEGACY_CIPHERS = tuple(c for c in crypto.CIPHER_NAMES
                       if c not in MODERN_CIPHERS and c not in crypto.UNAVAILABLE)
LEGACY_MACS = tuple(m for m in crypto.MAC_NAMES
                    if m not in MODERN_MACS and m not in crypto.UNAVAILABLE)


def test_dispatch_knows_every_suite():
    assert crypto.CIPHER_NAMES == MODERN_CIPHERS + (
        "aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc")
    assert crypto.MAC_NAMES[:6] == MODERN_MACS and len(crypto.MAC_NAMES) == 18
    assert crypto.cipher_info("chacha20-poly1305@openssh.com") == (64, 0, 8, True)
    assert crypto.cipher_info("aes128-gcm@openssh.com") == (16, 12, 16, True)
    assert crypto.cipher_info("aes256-gcm@openssh.com") == (32, 12, 16, True)
    assert crypto.cipher_info("aes192-ctr") == (24, 16, 16, False)
    assert crypto.mac_info("hmac-sha2-512-etm@openssh.com") == (64, 64, True)
    assert crypto.mac_info("hmac-sha1") == (20, 20, False)
    with pytest.raises(KeyError):
        crypto.cipher_info("arcfour")
    with pytest.raises(KeyError):
        crypto.mac_info("umac-64@openssh.com")


def test_legacy_dispatch():
    """The legacy suites run; truncated MACs report 12 bytes."""
    if sys.platform.startswith("linux"):
        # This project's machines (OpenSSL 3.0.19) have every legacy primitive.
        assert crypto.UNAVAILABLE == {}
        assert LEGACY_CIPHERS == ("aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc")
        assert len(LEGACY_MACS) == 12
    assert crypto.cipher_info("aes192-cbc") == (24, 16, 16, False)
    assert crypto.cipher_info("3des-cbc") == (24, 8, 8, False)
    assert crypto.mac_info("hmac-md5") == (16, 16, False)
    assert crypto.mac_info("hmac-sha2-512-96-etm@openssh.com") == (64, 12, True)
    assert crypto.mac_info("hmac-ripemd160-96") == (20, 12, False)


def test_backend_names():
    name = crypto.backend()
    assert name == "cryptography" or name.startswith(("openssl", "libsodium"))
    if sys.platform.startswith("linux"):
        # This project's CI and dev machines have both libraries: losing the
        # fast path silently would be a performance regression.
        assert BACKENDS == ("fast", "nogil", "cryptography")
        assert set(CHACHA_IMPLS) == {"cryptography", "libsodium", "openssl"}


def test_nogil_mode_is_pure_c():
    if "nogil" not in BACKENDS:
        pytest.skip("no C library found")
    for cipher in MODERN_CIPHERS:
        k, iv, _, _ = crypto.cipher_info(cipher)
        mac, mk = (None, None) if crypto.cipher_info(cipher)[3] else ("hmac-sha1", bytes(20))
        assert crypto.make_cipher(cipher, bytes(k), bytes(iv), mac, mk, True, "nogil").nogil


@pytest.mark.parametrize("mode", ["cryptography", "nogil", "fast"])
def test_env_var_selects_mode(mode):
    code = ("from sshcore import crypto\n"
            "c = crypto.make_cipher('aes128-gcm@openssh.com', bytes(16), bytes(12),"
            " None, None, 1)\n"
            "print(crypto.backend(), c.nogil)")
    env = dict(os.environ, SSHCORE_CRYPTO_BACKEND=mode)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    if mode == "cryptography" or "nogil" not in BACKENDS:
        assert out == ["cryptography", "False"]
    elif mode == "nogil":
        assert "cryptography" not in out[0] and out[1] == "True"
    else:
        assert out[0].startswith("openssl") and out[1] == "False"   # hybrid GCM


def test_make_cipher_rejects_bad_lengths():
    with pytest.raises(ValueError):
        crypto.make_cipher("aes128-ctr", bytes(15), bytes(16), "hmac-sha1", bytes(20), True)
    with pytest.raises(ValueError):
        crypto.make_cipher("aes128-ctr", bytes(16), bytes(16), "hmac-sha1", bytes(19), True)
    with pytest.raises(ValueError):
        crypto.make_cipher("aes128-gcm@openssh.com", bytes(16), bytes(16), None, None, True)
    with pytest.raises(ValueError):
        crypto.make_cipher("aes128-ctr", bytes(16), bytes(16), None, None, True)  # no MAC
    with pytest.raises(ValueError):
        crypto.make_cipher("blowfish-cbc", b"", b"", None, None, True)
    with pytest.raises(ValueError):
        crypto.make_cipher("aes128-ctr", bytes(16), bytes(16), "umac-64@openssh.com", bytes(16),
                           True)
    # AEAD ignores whatever MAC it is given.
    c = crypto.make_cipher("aes256-gcm@openssh.com", bytes(32), bytes(12), "hmac-sha1", b"x", True)
    assert c.mac_len == 16


# ------------------------------------------------------------ known answers

@pytest.mark.parametrize("rec", records("aes_ctr.txt"), ids=lambda r: r["section"])
def test_aes_ctr_sp800_38a(backend, rec):
    pt, ct = H(rec["plaintext"]), H(rec["ciphertext"])
    c = crypto._ctr(H(rec["key"]), H(rec["counter"]))
    assert c.update(pt) == ct
    # The keystream continues across calls, in any split (the SSH ctr contract).
    c = crypto._ctr(H(rec["key"]), H(rec["counter"]))
    assert c.update(pt[:16]) + c.update(pt[16:37]) + c.update(pt[37:]) == ct


@pytest.mark.parametrize("rec", records("hmac.txt"),
                         ids=lambda r: "{}-{}".format(r["digest"], r["case"]))
def test_hmac_rfc2202_rfc4231(backend, rec):
    mac = H(rec["mac"])
    m = crypto._hmac(rec["digest"], H(rec["key"]))
    assert m.digest(H(rec["data"]))[: len(mac)] == mac
    # Keyed once, reused: a second message gives the same answer.
    assert m.digest(H(rec["data"]))[: len(mac)] == mac
    # The SSH form MACs seq || data: prefix must equal concatenation.
    data = H(rec["data"])
    assert m.digest(data[4:], prefix=data[:4]) == m.digest(data)


# Every AES-GCM implementation: (backend mode, hybrid threshold override).
GCM_IMPLS = {"cryptography": ("cryptography", -1)}
if "nogil" in BACKENDS:
    GCM_IMPLS["openssl"] = ("nogil", -1)
    GCM_IMPLS["hybrid-cryptography-path"] = ("fast", 0)
CHACHA_IMPLS = sorted(crypto._chacha_impls())


@pytest.mark.parametrize("impl", GCM_IMPLS)
@pytest.mark.parametrize("rec", records("aes_gcm.txt"), ids=lambda r: "case{}".format(r["case"]))
def test_aes_gcm_spec(impl, rec):
    mode, hybrid_min = GCM_IMPLS[impl]
    key, iv, aad = H(rec["key"]), H(rec["iv"]), H(rec["aad"])
    pt, ct, tag = H(rec["plaintext"]), H(rec["ciphertext"]), H(rec["tag"])
    enc = crypto._gcm(key, True, mode, hybrid_min)
    assert enc.encrypt_bytes(iv, aad, pt) == ct + tag
    assert enc.encrypt_bytes(iv, aad, pt) == ct + tag     # context reuse
    dec = crypto._gcm(key, False, mode, hybrid_min)
    assert dec.decrypt_bytes(iv, aad, ct + tag) == pt
    for i in range(len(ct + tag)):
        bad = bytearray(ct + tag)
        bad[i] ^= 0x80
        with pytest.raises(ValueError):
            dec.decrypt_bytes(iv, aad, bytes(bad))
    if aad:
        with pytest.raises(ValueError):
            dec.decrypt_bytes(iv, aad[:-1] + b"\0", ct + tag)
    assert dec.decrypt_bytes(iv, aad, ct + tag) == pt      # a failure leaves it usable


@pytest.mark.parametrize("impl", CHACHA_IMPLS)
@pytest.mark.parametrize("rec", records("chacha20.txt"), ids=lambda r: r["section"])
def test_chacha20_rfc8439(impl, rec):
    ch = crypto._chacha_impls()[impl]
    out = ch.stream_xor(H(rec["key"]), H(rec["nonce"]), int(rec["counter"]), H(rec["plaintext"]))
    assert out == H(rec["ciphertext"])


@pytest.mark.parametrize("impl", CHACHA_IMPLS)
@pytest.mark.parametrize("rec", records("poly1305.txt"), ids=lambda r: r["section"])
def test_poly1305_rfc8439(impl, rec):
    ch = crypto._chacha_impls()[impl]
    key, msg, tag = H(rec["key"]), H(rec["message"]), H(rec["tag"])
    assert ch.poly1305(key, msg) == tag
    assert ch.poly1305_verify(key, msg, tag)
    assert not ch.poly1305_verify(key, msg, bytes(b ^ 1 for b in tag))
    if any(key[:16]):   # with r = 0 every message has the same tag
        assert not ch.poly1305_verify(key, msg + b"\1", tag)


# ----------------------------------------------------- whole-packet vectors

def _vector_id(rec):
    return "{}+{}".format(rec["cipher"], rec["mac"])


PACKET_VECTORS = read_records(VECTOR_FILE)


def test_packet_vectors_cover_every_suite():
    suites = {(r["cipher"], r["mac"]) for r in PACKET_VECTORS}
    for c in MODERN_CIPHERS:
        if crypto.cipher_info(c)[3]:
            assert (c, "none") in suites
        else:
            for m in MODERN_MACS:
                assert (c, m) in suites


def _keys(rec):
    mac = None if rec["mac"] == "none" else rec["mac"]
    return rec["cipher"], H(rec["key"]), H(rec["iv"]), mac, H(rec["mac_key"])


@pytest.mark.parametrize("rec", PACKET_VECTORS, ids=_vector_id)
def test_packet_vector_open(backend, rec):
    e = PacketEngine()
    e.set_incoming(*_keys(rec))
    e.seq_in = int(rec["seq"])
    e.feed(b"".join(H(p) for p in rec["packet"]))
    for payload in rec["payload"]:
        assert e.next_packet() == (H(payload)[0], H(payload))
    assert e.next_packet() is None
    assert e.seq_in == (int(rec["seq"]) + len(rec["payload"])) % 2**32


@pytest.mark.parametrize("rec", PACKET_VECTORS, ids=_vector_id)
def test_packet_vector_seal(backend, rec):
    e = PacketEngine()
    e.set_outgoing(*_keys(rec))
    e.seq_out = int(rec["seq"])
    e._set_padding_pool(b"".join(H(p) for p in rec["padding"]))
    for payload in rec["payload"]:
        e.send_packet(H(payload))
    assert e.take_output() == b"".join(H(p) for p in rec["packet"])


# ------------------------------------------------ legacy: CBC and -96 MACs

@pytest.mark.parametrize("rec", records("cbc.txt"), ids=lambda r: r["cipher"])
def test_cbc_known_answers(backend, rec):
    """SP 800-38A (AES) / captured (3DES), in both directions; the chain must
    continue across calls exactly as the engine uses it: the first block
    alone (to learn the packet length), then the rest."""
    name, key, iv = rec["cipher"], H(rec["key"]), H(rec["iv"])
    plain, ct = H(rec["plaintext"]), H(rec["ciphertext"])
    bs = crypto.cipher_info(name)[2]
    assert crypto._cbc(name, key, iv, True).update(plain) == ct
    enc = crypto._cbc(name, key, iv, True)
    assert enc.update(plain[:bs]) + enc.update(plain[bs:]) == ct
    dec = crypto._cbc(name, key, iv, False)
    assert dec.update(ct[:bs]) + dec.update(ct[bs:]) == plain


@pytest.mark.parametrize("name", ["aes128-cbc", "3des-cbc"])
def test_cbc_refuses_a_partial_block(backend, name):
    k, iv, bs, _ = crypto.cipher_info(name)
    with pytest.raises(ValueError):
        crypto._cbc(name, bytes(k), bytes(iv), False).update(bytes(bs - 1))


@pytest.mark.parametrize("rec", records("ssh_mac_96.txt"), ids=lambda r: r["mac"])
def test_truncated_mac_vectors(backend, rec):
    """The -96 MACs send the first 12 bytes of the HMAC over seq || packet."""
    mac = rec["mac"]
    if mac in crypto.UNAVAILABLE:
        pytest.skip(crypto.UNAVAILABLE[mac])
    sealer = crypto.make_cipher("none", None, None, mac, H(rec["key"]), True)
    assert sealer.mac_len == 12
    buf = bytearray(H(rec["packet"]) + bytes(12))
    sealer.seal_inplace(int(rec["seq"]), buf)
    assert bytes(buf[-12:]) == H(rec["tag"])


LEGACY_SUITES = [(c, m) for c in LEGACY_CIPHERS
                 for m in ("hmac-sha2-256", "hmac-sha2-256-etm@openssh.com")] + [
    ("aes128-ctr", m) for m in LEGACY_MACS] + [
    ("3des-cbc", "hmac-md5-96"), ("aes256-cbc", "hmac-sha1-96-etm@openssh.com")]


def _engine(backend, outgoing, suite, keys):
    prev = crypto._set_backend(backend)
    try:
        e = PacketEngine()
        (e.set_outgoing if outgoing else e.set_incoming)(suite[0], keys[0], keys[1], suite[1],
                                                         keys[2])
        return e
    finally:
        crypto._set_backend(prev)


@pytest.mark.parametrize("suite", LEGACY_SUITES, ids="+".join)
def test_legacy_suites_across_backends(suite):
    """Packets sealed by one implementation open with every other (sizes
    around the block size, the minimum packet and a big one), and a packet
    whose truncated MAC is off by one bit is refused."""
    from sshcore.packet import ProtocolError

    k, iv, _, _ = crypto.cipher_info(suite[0])
    keys = (os.urandom(k), os.urandom(iv), os.urandom(crypto.mac_info(suite[1])[0]))
    payloads = [b"\x05" + os.urandom(n) for n in (0, 2, 7, 8, 9, 15, 16, 17, 1000, 40000)]
    for tx in BACKENDS:
        for rx in BACKENDS:
            out = _engine(tx, True, suite, keys)
            inp = _engine(rx, False, suite, keys)
            for p in payloads:
                out.send_packet(p)
            inp.feed(out.take_output())
            assert [inp.next_packet() for _ in payloads] == [(5, p) for p in payloads]
    out = _engine(BACKENDS[0], True, suite, keys)
    inp = _engine(BACKENDS[0], False, suite, keys)
    out.send_packet(b"\x05hello")
    wire = bytearray(out.take_output())
    wire[-1] ^= 1
    inp.feed(bytes(wire))
    with pytest.raises(ProtocolError):
        inp.next_packet()


def test_unavailable_mac_is_refused(monkeypatch):
    """Where libcrypto lacks RIPEMD-160 the names are not offered and asking
    for them is error 1005 saying why (simulated: this machine has it)."""
    from sshclient import SSHClient, SSHClientError
    from sshclient.options import ClientOptions
    from sshclient.transport import check_algorithm_choices

    why = "this system's libcrypto does not provide RIPEMD160"
    gone = ("hmac-ripemd160", "hmac-ripemd160-96")
    monkeypatch.setitem(crypto.UNAVAILABLE, gone[0], why)
    monkeypatch.setitem(crypto.UNAVAILABLE, gone[1], why)
    with pytest.raises(ValueError, match="RIPEMD160"):
        crypto.make_cipher("aes128-ctr", bytes(16), bytes(16), "hmac-ripemd160", bytes(20), True)
    client = SSHClient()
    with pytest.raises(SSHClientError) as info:
        client.ssh_mac_algorithms = "hmac-ripemd160,hmac-ripemd160-96"
    assert info.value.code == 1005 and why in info.value.message
    client.ssh_mac_algorithms = "hmac-ripemd160,hmac-sha2-256"  # one usable entry is enough
    with pytest.raises(SSHClientError) as info:
        check_algorithm_choices(ClientOptions(macs=["hmac-ripemd160"]))
    assert info.value.code == 1005 and why in info.value.message

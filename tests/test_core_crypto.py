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


# ------------------------------------------------------------------ registry

def test_registry_matches_spec():
    assert crypto.CIPHERS == (
        "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        "aes128-ctr", "aes192-ctr", "aes256-ctr")
    assert crypto.MACS == (
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1")
    assert crypto.cipher_info("chacha20-poly1305@openssh.com") == (64, 0, 8, True)
    assert crypto.cipher_info("aes128-gcm@openssh.com") == (16, 12, 16, True)
    assert crypto.cipher_info("aes256-gcm@openssh.com") == (32, 12, 16, True)
    assert crypto.cipher_info("aes192-ctr") == (24, 16, 16, False)
    assert crypto.mac_info("hmac-sha2-512-etm@openssh.com") == (64, 64, True)
    assert crypto.mac_info("hmac-sha1") == (20, 20, False)
    with pytest.raises(KeyError):
        crypto.cipher_info("3des-cbc")
    with pytest.raises(KeyError):
        crypto.mac_info("hmac-md5")


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
    for cipher in crypto.CIPHERS:
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
    for c in crypto.CIPHERS:
        if crypto.cipher_info(c)[3]:
            assert (c, "none") in suites
        else:
            for m in crypto.MACS:
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

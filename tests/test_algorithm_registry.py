"""The algorithm registry (sshclient.algorithms): its table agrees with the
implementations that run each name, runtime gaps come from the core, and the
public read-only view lists what runs here."""
from __future__ import annotations

import pytest

from sshclient import algorithms
from sshclient.algorithms import Kind, Offer, registry
from sshclient.errors import SSHClientError
from sshclient.hostkeys import (
    _SIGNATURE_ALGORITHMS,
    EXTRA_HOST_KEY_ALGORITHMS,
    HOST_KEY_ALGORITHMS,
    HOST_KEY_CERT_ALGORITHMS,
    key_type_for_algorithm,
)
from sshclient.kex import is_supported
from sshclient.options import ClientOptions
from sshclient.spec import defaults as spec_defaults
from sshclient.transport import check_algorithm_choices
from sshcore import crypto


def _names(kind: Kind, *offers: Offer) -> list[str]:
    return [row.name for row in algorithms.rows(kind) if row.offer in offers]


IMPLEMENTED = (Offer.DEFAULT, Offer.ON_REQUEST, Offer.LEGACY)


def test_each_name_has_one_row_per_kind():
    for kind in Kind:
        names = [row.name for row in algorithms.rows(kind)]
        assert len(names) == len(set(names)), kind


def test_every_row_not_offered_by_default_says_why():
    for row in algorithms.rows():
        if row.offer is not Offer.DEFAULT:
            assert row.why, row
        assert row.implemented_by == (algorithms.IMPLEMENTED_BY[row.kind]
                                      if row.offer in IMPLEMENTED else "")


def test_families_are_only_for_what_we_do_not_implement():
    for row in algorithms.rows():
        if row.name.endswith("*"):
            assert row.offer is Offer.NOT_IMPLEMENTED, row


def test_kex_rows_match_the_kex_dispatch():
    for row in algorithms.rows(Kind.KEX):
        assert is_supported(row.name) == row.implemented, row


def test_host_key_rows_match_the_verifiers():
    plain = [row.name for row in algorithms.rows(Kind.HOST_KEY)
             if row.implemented and not row.is_certificate]
    assert set(plain) == set(_SIGNATURE_ALGORITHMS)
    for name in _names(Kind.HOST_KEY, *IMPLEMENTED):
        key_type_for_algorithm(name)  # raises for a name no verifier runs
    # hostkeys' public lists are views of the table
    assert HOST_KEY_ALGORITHMS == algorithms.defaults(Kind.HOST_KEY)
    assert EXTRA_HOST_KEY_ALGORITHMS == ("ssh-ed448", "ssh-dss")
    assert HOST_KEY_CERT_ALGORITHMS == tuple(
        a + algorithms.CERT_SUFFIX for a in HOST_KEY_ALGORITHMS)


@pytest.mark.parametrize("kind,info,known", [
    (Kind.CIPHER, crypto.cipher_info, crypto.CIPHER_NAMES),
    (Kind.MAC, crypto.mac_info, crypto.MAC_NAMES),
])
def test_cipher_and_mac_rows_match_the_core(kind, info, known):
    """The compiled core runs exactly the implemented rows (it cannot import
    this layer: the table reads the core, never the other way round)."""
    assert set(_names(kind, *IMPLEMENTED)) == set(known)
    for row in algorithms.rows(kind):
        if row.implemented:
            info(row.name)
        elif not row.name.endswith("*"):
            with pytest.raises(KeyError):
                info(row.name)


def test_public_view():
    assert algorithms.supported("cipher") == algorithms.supported(Kind.CIPHER) == tuple(
        n for n in (
            "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
            "aes128-ctr", "aes192-ctr", "aes256-ctr",
            "aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc")
        if n not in crypto.UNAVAILABLE)
    assert algorithms.defaults("kex")[:2] == ("curve25519-sha256",
                                               "curve25519-sha256@libssh.org")
    for kind in Kind:
        supported = algorithms.supported(kind)
        assert set(algorithms.defaults(kind)) <= set(supported)
        assert not set(supported) & {"ext-info-c", "kex-strict-c-v00@openssh.com"}
        assert all(algorithms.find(n, kind).implemented for n in supported)
    assert algorithms.with_offer("kex", Offer.MARKER) == ("ext-info-c",
                                                          "kex-strict-c-v00@openssh.com")
    with pytest.raises(ValueError):
        algorithms.supported("bogus")


def test_weak_names_are_the_legacy_rows():
    assert algorithms.weak() == {row.name for row in algorithms.rows()
                                 if row.offer is Offer.LEGACY}
    assert "ssh-dss" in algorithms.weak() and "ssh-ed448" not in algorithms.weak()
    assert not algorithms.weak() & {n for k in Kind for n in algorithms.defaults(k)}


@pytest.mark.parametrize("name,kind,why", [
    ("umac-128-etm@openssh.com", "mac", "UMAC is not implemented"),
    ("arcfour256", "cipher", "RC4 is broken"),
    ("gss-curve25519-sha256-toWM5Slw5Ew8Mqkay+al2g==", "kex", "GSS-API"),
    ("x509v3-ecdsa-sha2-nistp256", "host_key", "X.509"),
    ("umac-64@openssh.com", "cipher", "UMAC"),  # wrong list: still its reason
    ("aes128-ctr", "mac", "belongs in the encryption list, not the MAC list"),
    ("ext-info-c", "kex", "added by the client itself"),
    ("sntrup761x25519-sha512@openssh.com", "kex", "unknown algorithm"),
])
def test_why_unsupported(name, kind, why):
    assert why in algorithms.why_unsupported(name, kind)


def test_runtime_gaps_come_from_the_core(monkeypatch):
    """A MAC the core marks unavailable leaves every list, with its reason."""
    why = "this system's libcrypto does not provide MD5"
    monkeypatch.setitem(crypto.UNAVAILABLE, "hmac-md5", why)
    assert "hmac-md5" not in algorithms.supported("mac")
    assert algorithms.why_unsupported("hmac-md5", "mac") == why
    with pytest.raises(SSHClientError) as info:
        check_algorithm_choices(ClientOptions(macs=["hmac-md5"]))
    assert info.value.code == 1005 and why in info.value.message


def test_without_libz_only_none_is_supported(monkeypatch):
    monkeypatch.setattr(registry, "compression_available", lambda: False)
    assert algorithms.supported("compression") == ("none",)
    assert algorithms.defaults("compression") == ("none",)
    assert "libz" in algorithms.why_unsupported("zlib@openssh.com", "compression")


def test_every_name_in_the_spec_defaults_is_known():
    """The spec's default lists may name what we do not implement, but the
    registry must know each name, so 1005 can say why."""
    lists = {
        Kind.KEX: spec_defaults.KEX_ALGORITHMS,
        Kind.HOST_KEY: spec_defaults.PUBLIC_KEY_ALGORITHMS,
        Kind.CIPHER: spec_defaults.ENCRYPTION_ALGORITHMS,
        Kind.MAC: spec_defaults.MAC_ALGORITHMS,
        Kind.COMPRESSION: spec_defaults.COMPRESSION_ALGORITHMS,
    }
    for kind, value in lists.items():
        for name in algorithms.split_list(value):
            row = algorithms.find(name, kind)
            assert row is not None and row.kind is kind, name

"""Named values for the spec's enumerated properties (issue 11): AuthMode,
CertStoreType, FirewallType. Each member equals the spec's integer, and the
properties take members or plain ints and hand back members."""
from __future__ import annotations

import re

import pytest

import spec_text
import sshclient
from sshclient import AuthMode, CertStoreType, FirewallType, SSHClient, UsageError

# The spec's value name -> our member. Written out, not derived, so a renamed
# or renumbered member fails here.
SPEC_NAMES = {
    AuthMode: {
        "amNone": AuthMode.NONE, "amMultiFactor": AuthMode.MULTI_FACTOR,
        "amPassword": AuthMode.PASSWORD, "amPublicKey": AuthMode.PUBLIC_KEY,
        "amKeyboardInteractive": AuthMode.KEYBOARD_INTERACTIVE,
        "amGSSAPIWithMic": AuthMode.GSSAPI_WITH_MIC, "amGSSAPIKeyex": AuthMode.GSSAPI_KEYEX,
        "amCustom": AuthMode.CUSTOM,
    },
    CertStoreType: {
        "cstUser": CertStoreType.USER, "cstMachine": CertStoreType.MACHINE,
        "cstPFXFile": CertStoreType.PFX_FILE, "cstPFXBlob": CertStoreType.PFX_BLOB,
        "cstJKSFile": CertStoreType.JKS_FILE, "cstJKSBlob": CertStoreType.JKS_BLOB,
        "cstPEMKeyFile": CertStoreType.PEM_KEY_FILE, "cstPEMKeyBlob": CertStoreType.PEM_KEY_BLOB,
        "cstPublicKeyFile": CertStoreType.PUBLIC_KEY_FILE,
        "cstPublicKeyBlob": CertStoreType.PUBLIC_KEY_BLOB,
        "cstSSHPublicKeyBlob": CertStoreType.SSH_PUBLIC_KEY_BLOB,
        "cstP7BFile": CertStoreType.P7B_FILE, "cstP7BBlob": CertStoreType.P7B_BLOB,
        "cstSSHPublicKeyFile": CertStoreType.SSH_PUBLIC_KEY_FILE,
        "cstPPKFile": CertStoreType.PPK_FILE, "cstPPKBlob": CertStoreType.PPK_BLOB,
        "cstXMLFile": CertStoreType.XML_FILE, "cstXMLBlob": CertStoreType.XML_BLOB,
        "cstJWKFile": CertStoreType.JWK_FILE, "cstJWKBlob": CertStoreType.JWK_BLOB,
        "cstBCFKSFile": CertStoreType.BCFKS_FILE, "cstBCFKSBlob": CertStoreType.BCFKS_BLOB,
        "cstPKCS11": CertStoreType.PKCS11, "cstAuto": CertStoreType.AUTO,
    },
    FirewallType: {
        "fwNone": FirewallType.NONE, "fwTunnel": FirewallType.TUNNEL,
        "fwSOCKS4": FirewallType.SOCKS4, "fwSOCKS5": FirewallType.SOCKS5,
        "fwSOCKS4A": FirewallType.SOCKS4A,
    },
}

# The spec's integers, as its value tables give them.
SPEC_VALUES = {
    AuthMode: {"amNone": 0, "amMultiFactor": 1, "amPassword": 2, "amPublicKey": 3,
               "amKeyboardInteractive": 4, "amGSSAPIWithMic": 5, "amGSSAPIKeyex": 6,
               "amCustom": 99},
    CertStoreType: {"cstUser": 0, "cstMachine": 1, "cstPFXFile": 2, "cstPFXBlob": 3,
                    "cstJKSFile": 4, "cstJKSBlob": 5, "cstPEMKeyFile": 6, "cstPEMKeyBlob": 7,
                    "cstPublicKeyFile": 8, "cstPublicKeyBlob": 9, "cstSSHPublicKeyBlob": 10,
                    "cstP7BFile": 11, "cstP7BBlob": 12, "cstSSHPublicKeyFile": 13,
                    "cstPPKFile": 14, "cstPPKBlob": 15, "cstXMLFile": 16, "cstXMLBlob": 17,
                    "cstJWKFile": 18, "cstJWKBlob": 19, "cstBCFKSFile": 21,
                    "cstBCFKSBlob": 22, "cstPKCS11": 23, "cstAuto": 99},
    FirewallType: {"fwNone": 0, "fwTunnel": 1, "fwSOCKS4": 2, "fwSOCKS5": 3, "fwSOCKS4A": 10},
}

ENUMS = list(SPEC_NAMES)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_each_member_equals_the_spec_integer(enum):
    names = SPEC_NAMES[enum]
    assert set(names.values()) == set(enum), "every member maps to one spec value"
    for spec_name, member in names.items():
        assert member == SPEC_VALUES[enum][spec_name], spec_name
        assert int(member) == SPEC_VALUES[enum][spec_name]
        assert enum(SPEC_VALUES[enum][spec_name]) is member


def _spec_value_table(text: str, prefix: str) -> dict[str, int]:
    """name -> value from the spec's tables: "amPublicKey (3) | ..." and
    "6 (cstPEMKeyFile) | ..." (with " - default" after the default's name)."""
    table = {}
    for m in re.finditer(rf"^({prefix}\w+) \((\d+)\) \|", text, re.M):
        table[m.group(1)] = int(m.group(2))
    for m in re.finditer(rf"^(\d+) \(({prefix}\w+)(?: - default)?\) \|", text, re.M):
        table[m.group(2)] = int(m.group(1))
    return table


@pytest.mark.skipif(spec_text.spec_dir() is None, reason="shared/spec not found")
@pytest.mark.parametrize("enum, prefix", [(AuthMode, "am"), (CertStoreType, "cst"),
                                          (FirewallType, "fw")], ids=lambda v: getattr(
                                              v, "__name__", v))
def test_the_spec_text_has_the_same_values(enum, prefix):
    """The written-out table above is the spec's: read its value tables."""
    directory = spec_text.spec_dir()
    assert directory is not None
    text = (directory / "sshclient-python-edition.txt").read_text()
    assert _spec_value_table(text, prefix) == SPEC_VALUES[enum]


def test_exported_from_the_package():
    for name in ("AuthMode", "CertStoreType", "FirewallType"):
        assert name in sshclient.__all__
        assert getattr(sshclient, name) is getattr(sshclient.eventclient, name)


ENUM_PROPERTIES = [
    ("ssh_auth_mode", AuthMode, AuthMode.PASSWORD, AuthMode.PUBLIC_KEY),
    ("ssh_cert_store_type", CertStoreType, CertStoreType.USER, CertStoreType.PEM_KEY_FILE),
    ("ssh_accept_server_host_key_store_type", CertStoreType, CertStoreType.USER,
     CertStoreType.SSH_PUBLIC_KEY_FILE),
    ("firewall_type", FirewallType, FirewallType.NONE, FirewallType.SOCKS5),
]


@pytest.mark.parametrize("prop, enum, default, other", ENUM_PROPERTIES,
                         ids=[p[0] for p in ENUM_PROPERTIES])
def test_properties_take_members_and_ints_and_return_members(prop, enum, default, other):
    client = SSHClient()
    got = getattr(client, prop)
    assert type(got) is enum and got is default
    setattr(client, prop, other)
    assert getattr(client, prop) is other
    assert getattr(client, "get_" + prop)() is other
    getattr(client, "set_" + prop)(int(default))  # a plain int, as the spec's examples
    got = getattr(client, prop)
    assert type(got) is enum and got is default
    assert got == int(default)  # old code comparing with numbers keeps working
    with pytest.raises(UsageError) as info:
        setattr(client, prop, 98)
    assert info.value.code == 211
    assert getattr(client, prop) is default


def test_members_print_as_numbers():
    """config() and messages show the spec's number on every Python version."""
    assert str(AuthMode.PUBLIC_KEY) == "3"
    assert f"{CertStoreType.AUTO}" == "99"
    client = SSHClient()
    client.firewall_type = FirewallType.SOCKS4A
    assert client.config("FirewallType") == "10"
    assert client.firewall_port == 1080

"""What we offer and refuse, pinned as literals: the default KEXINIT of the
Pythonic API and of the spec API, the lists each API accepts, and the 1005
messages for names we do not implement.  A change to the algorithm tables
that alters any of these must show up here as a deliberate edit."""
from __future__ import annotations

import pytest

from sshclient.errors import SSHClientError
from sshclient.options import ClientOptions
from sshclient.spec.client import SSHClient
from sshclient.transport import Transport, check_algorithm_choices
from sshcore import crypto
from sshcore.packet import compression_available
from sshcore.wire import Reader


def _runnable(names: list[str]) -> list[str]:
    """`names` without what this machine cannot run (RIPEMD-160 needs a
    libcrypto that has it, zlib needs libz)."""
    return [n for n in names if n not in crypto.UNAVAILABLE
            and (compression_available() or not n.startswith("zlib"))]


def _kexinit_lists(options: ClientOptions) -> list[list[str]]:
    transport = Transport(options, lambda event: None)
    r = Reader(transport._kexinit_payload())
    r.byte()
    r.raw(16)
    return [r.name_list() for _ in range(10)]


PYTHONIC_KEX = [
    "curve25519-sha256", "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
]
PYTHONIC_HOST_KEYS = [
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
]
PYTHONIC_CIPHERS = [
    "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
    "aes128-ctr", "aes192-ctr", "aes256-ctr",
]
PYTHONIC_MACS = [
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
]

SPEC_KEX = [
    "curve25519-sha256", "curve25519-sha256@libssh.org",
    "diffie-hellman-group-exchange-sha256", "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
    # weak ones last, in the spec's order
    "diffie-hellman-group-exchange-sha1", "diffie-hellman-group14-sha1",
    "diffie-hellman-group1-sha1",
]
SPEC_HOST_KEYS = [
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", "ssh-ed448", "ssh-dss",
]
SPEC_CIPHERS = [
    "aes256-ctr", "aes192-ctr", "aes128-ctr", "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com",
]
SPEC_MACS = [
    "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    # weak ones last, in the spec's order
    "hmac-md5", "hmac-ripemd160", "hmac-sha1-96", "hmac-md5-96", "hmac-sha2-256-96",
    "hmac-sha2-512-96", "hmac-ripemd160-96", "hmac-sha2-256-96-etm@openssh.com",
    "hmac-sha2-512-96-etm@openssh.com",
]
SPEC_COMPRESSION = ["none", "zlib"]

MARKERS = ["ext-info-c", "kex-strict-c-v00@openssh.com"]


def test_pythonic_default_kexinit():
    assert _kexinit_lists(ClientOptions()) == [
        PYTHONIC_KEX + MARKERS, PYTHONIC_HOST_KEYS,
        PYTHONIC_CIPHERS, PYTHONIC_CIPHERS, PYTHONIC_MACS, PYTHONIC_MACS,
        ["none"], ["none"], [], [],
    ]


def test_spec_default_offer_and_kexinit():
    options = SSHClient()._build_options(authenticate=False)
    assert options.kex_algorithms == SPEC_KEX
    assert options.host_key_algorithms == SPEC_HOST_KEYS
    assert options.ciphers == SPEC_CIPHERS
    assert options.macs == _runnable(SPEC_MACS)
    assert options.compression == _runnable(SPEC_COMPRESSION)
    macs, compression = _runnable(SPEC_MACS), _runnable(SPEC_COMPRESSION)
    assert _kexinit_lists(options) == [
        SPEC_KEX + MARKERS, SPEC_HOST_KEYS, SPEC_CIPHERS, SPEC_CIPHERS,
        macs, macs, compression, compression, [], [],
    ]


def _spec_error(prop: str, value: str) -> str:
    with pytest.raises(SSHClientError) as info:
        setattr(SSHClient(), prop, value)
    assert info.value.code == 1005
    return info.value.message


def _pythonic_error(**lists: list[str]) -> str:
    with pytest.raises(SSHClientError) as info:
        check_algorithm_choices(ClientOptions(**lists))  # type: ignore[arg-type]
    assert info.value.code == 1005
    return info.value.message


PREFIX = "Selected algorithm unsupported. "


@pytest.mark.parametrize("lists,message", [
    (dict(ciphers=["arcfour", "aes128-ctr", "bogus"]),
     "unsupported encryption algorithm(s): arcfour: not implemented: RC4 is broken "
     "(RFC 8758 forbids it in SSH); bogus: unknown algorithm"),
    (dict(macs=["umac-64@openssh.com"]),
     "unsupported MAC algorithm(s): umac-64@openssh.com: UMAC is not implemented "
     "(no libcrypto primitive; use an hmac-sha2 MAC)"),
    (dict(kex_algorithms=["gss-gex-sha1-toWM5Slw5Ew8Mqkay+al2g=="]),
     "unsupported key exchange algorithm(s): gss-gex-sha1-toWM5Slw5Ew8Mqkay+al2g==: "
     "GSS-API key exchange (RFC 4462) is not implemented"),
    (dict(host_key_algorithms=["x509v3-sign-rsa"]),
     "unsupported host key algorithm(s): x509v3-sign-rsa: X.509 host key algorithms "
     "(RFC 6187) are not implemented"),
    (dict(compression=["none", "foo"]),
     "unsupported compression algorithm(s): foo: unknown algorithm"),
])
def test_pythonic_refusals(lists, message):
    assert _pythonic_error(**lists) == PREFIX + message


def test_pythonic_accepts_every_implemented_name():
    """Legacy names, certificate algorithms and the kex markers may be named."""
    check_algorithm_choices(ClientOptions(
        kex_algorithms=PYTHONIC_KEX + ["diffie-hellman-group14-sha1",
                                       "diffie-hellman-group-exchange-sha1",
                                       "diffie-hellman-group1-sha1"] + MARKERS,
        host_key_algorithms=PYTHONIC_HOST_KEYS + ["ssh-ed448", "ssh-dss"] + [
            a + "-cert-v01@openssh.com" for a in PYTHONIC_HOST_KEYS],
        ciphers=PYTHONIC_CIPHERS + ["aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc"],
        macs=_runnable(PYTHONIC_MACS + SPEC_MACS + [
            "hmac-sha1-96-etm@openssh.com", "hmac-md5-etm@openssh.com",
            "hmac-md5-96-etm@openssh.com"]),
        compression=_runnable(["zlib", "zlib@openssh.com", "none"])))


SPEC_SUPPORTED_CIPHERS = ("chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,"
                          "aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
                          "aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc")
SPEC_SUPPORTED_MACS = ",".join(_runnable([
    "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1",
    "hmac-sha1-96", "hmac-sha2-256-96", "hmac-sha2-512-96", "hmac-md5", "hmac-md5-96",
    "hmac-ripemd160", "hmac-ripemd160-96", "hmac-sha1-96-etm@openssh.com",
    "hmac-sha2-256-96-etm@openssh.com", "hmac-sha2-512-96-etm@openssh.com",
    "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com"]))
SPEC_SUPPORTED_HOST_KEYS = ("ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
                            "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa,"
                            "ssh-ed448,ssh-dss")
SPEC_SUPPORTED_KEX = (",".join(PYTHONIC_KEX) + ",diffie-hellman-group14-sha1,"
                      "diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1")
SPEC_SUPPORTED_COMPRESSION = ",".join(_runnable(["zlib", "zlib@openssh.com", "none"]))


@pytest.mark.parametrize("prop,value,message", [
    ("ssh_encryption_algorithms", "3des-ctr,blowfish-cbc",
     "none of the encryption algorithms '3des-ctr,blowfish-cbc' is supported (3des-ctr: "
     "not implemented (no mainstream server offers it; 3des-cbc is available); "
     "blowfish-cbc: not implemented: 64-bit block cipher with no libcrypto 3 default "
     "provider support); supported: " + SPEC_SUPPORTED_CIPHERS),
    ("ssh_mac_algorithms", "umac-64@openssh.com",
     "none of the MAC algorithms 'umac-64@openssh.com' is supported (umac-64@openssh.com: "
     "UMAC is not implemented (no libcrypto primitive; use an hmac-sha2 MAC)); supported: "
     + SPEC_SUPPORTED_MACS),
    # The spec API takes plain host key algorithms only: certificates come
    # from SSHAcceptServerCAKey.  The registry knows both names below, so the
    # reason is its row's, no longer "unknown algorithm".
    ("ssh_public_key_algorithms", "x509v3-sign-dss,ssh-ed25519-cert-v01@openssh.com",
     "none of the public key algorithms 'x509v3-sign-dss,ssh-ed25519-cert-v01@openssh.com' "
     "is supported (x509v3-sign-dss: X.509 host key algorithms (RFC 6187) are not "
     "implemented; ssh-ed25519-cert-v01@openssh.com: host certificate algorithm: offered "
     "when host CA keys are configured); supported: "
     + SPEC_SUPPORTED_HOST_KEYS),
    ("ssh_key_exchange_algorithms", "ext-info-c",
     "none of the key exchange algorithms 'ext-info-c' is supported (ext-info-c: asks the "
     "server for SSH_MSG_EXT_INFO (RFC 8308); added by the client itself); supported: "
     + SPEC_SUPPORTED_KEX),
    ("ssh_compression_algorithms", "zzz",
     "none of the compression algorithms 'zzz' is supported (zzz: unknown algorithm); "
     "supported: " + SPEC_SUPPORTED_COMPRESSION),
])
def test_spec_refusals(prop, value, message):
    assert _spec_error(prop, value) == PREFIX + message

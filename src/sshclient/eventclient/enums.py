"""Names for the spec's enumerated SSHClient properties.

The spec gives these properties as plain integers (``ssh_auth_mode = 3``);
each enumeration here is an ``IntEnum`` whose members equal those integers,
so ``client.ssh_auth_mode = AuthMode.PUBLIC_KEY`` and ``= 3`` do the same,
and the properties hand back members, which still compare equal to the
numbers older code uses. ``str()`` of a member is its number on every
supported Python (as ``IntEnum`` does from 3.11 on), so config() and
messages print the same as before.
"""
from __future__ import annotations

from enum import IntEnum

__all__ = ["AuthMode", "CertStoreType", "FirewallType"]


class _SpecEnum(IntEnum):
    def __str__(self) -> str:
        return str(self.value)


class AuthMode(_SpecEnum):
    """``ssh_auth_mode``: how the client authenticates."""

    NONE = 0
    MULTI_FACTOR = 1  # whatever the server asks for next, from the properties set
    PASSWORD = 2
    PUBLIC_KEY = 3
    KEYBOARD_INTERACTIVE = 4
    GSSAPI_WITH_MIC = 5  # not available here (Kerberos): error 1005
    GSSAPI_KEYEX = 6  # not available here (Kerberos): error 1005
    CUSTOM = 99  # on_ssh_custom_auth drives the exchange


class CertStoreType(_SpecEnum):
    """``ssh_cert_store_type`` and ``ssh_accept_server_host_key_store_type``:
    what ``ssh_cert_store`` (or the host key store) holds. *_FILE members take
    a path, *_BLOB members the data itself (binary or Base64). The Windows,
    Java, .NET, PKCS#7 and hardware stores cannot be opened here (error
    1005); the docstring of sshclient.eventclient.certstore lists those that can."""

    USER = 0  # Windows user certificate store
    MACHINE = 1  # Windows machine certificate store
    PFX_FILE = 2  # PKCS#12
    PFX_BLOB = 3
    JKS_FILE = 4  # Java KeyStore
    JKS_BLOB = 5
    PEM_KEY_FILE = 6  # a private key (OpenSSH, PEM, PKCS#8), with or without a certificate
    PEM_KEY_BLOB = 7
    PUBLIC_KEY_FILE = 8  # an X.509 certificate, PEM or DER
    PUBLIC_KEY_BLOB = 9
    SSH_PUBLIC_KEY_BLOB = 10  # an OpenSSH or RFC 4716 public key
    P7B_FILE = 11  # PKCS#7
    P7B_BLOB = 12
    SSH_PUBLIC_KEY_FILE = 13
    PPK_FILE = 14  # PuTTY private key
    PPK_BLOB = 15
    XML_FILE = 16
    XML_BLOB = 17
    JWK_FILE = 18  # JSON Web Key or key set
    JWK_BLOB = 19
    BCFKS_FILE = 21  # Bouncy Castle FIPS KeyStore
    BCFKS_BLOB = 22
    PKCS11 = 23  # a hardware token
    AUTO = 99  # detected from the data


class FirewallType(_SpecEnum):
    """``firewall_type``: the proxy the connection goes through. Setting it
    also sets ``firewall_port`` to that kind of proxy's usual port."""

    NONE = 0
    TUNNEL = 1  # HTTP CONNECT
    SOCKS4 = 2
    SOCKS5 = 3
    SOCKS4A = 10

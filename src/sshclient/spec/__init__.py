"""The spec's SSHClient adapter (shared/spec/sshclient-python-edition.txt)."""
from .client import SSHClient
from .enums import AuthMode, CertStoreType, FirewallType

__all__ = ["SSHClient", "AuthMode", "CertStoreType", "FirewallType"]

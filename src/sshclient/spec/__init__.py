"""The spec's SSHClient adapter (shared/spec/sshclient-python-edition.txt)."""
from .client import SSHClient

__all__ = ["SSHClient"]

"""The spec API client most tests start from: password logon as the test
user, any host key accepted, a 30 s timeout (by default), extra config("Name=value")s."""
from __future__ import annotations

from sshclient import SSHClient


def password_client(user, *, timeout: int = 30, **config) -> SSHClient:
    c = SSHClient()
    c.ssh_user = user.name
    c.ssh_password = user.password
    c.timeout = timeout
    c.on_ssh_server_authentication = lambda e: setattr(e, "accept", True)
    for name, value in config.items():
        c.config(f"{name}={value}")
    return c

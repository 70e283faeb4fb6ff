"""Starting real peers (sshd, dropbear, proxies) from fixtures: skip where they
cannot run here, but fail under CI (SSHCLIENT_REQUIRE_SERVERS=1) so CI can never
go green by skipping every real-peer test."""
from __future__ import annotations

import os

import pytest

import servers


def require_servers() -> bool:
    default = "1" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "0"
    return os.environ.get("SSHCLIENT_REQUIRE_SERVERS", default) == "1"


def unavailable(reason: str):
    if require_servers():
        pytest.fail(f"test peer unavailable (SSHCLIENT_REQUIRE_SERVERS=1): {reason}",
                    pytrace=False)
    pytest.skip(reason)


def start(server_cls, *args, **kwargs):
    """Construct and start a server; stop it again if starting fails."""
    try:
        server = server_cls(*args, **kwargs)
    except servers.ServerUnavailable as e:
        unavailable(str(e))
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server

"""sshclient's asyncio API on uvloop: the loop ``sshclient.aio.run()`` picks
when uvloop is installed (client_sshclient_aio.py has the coroutines)."""
from __future__ import annotations

import uvloop
from client_sshclient_aio import OnLoop, version  # noqa: F401  (version: runner API)

NAME = "sshclient (asyncio API, uvloop)"

_on = OnLoop(uvloop.new_event_loop)
download, upload, tunnel, handshake = _on.download, _on.upload, _on.tunnel, _on.handshake
fanout = _on.fanout

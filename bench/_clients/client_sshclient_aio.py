"""sshclient's asyncio API (sshclient.aio) on asyncio's own event loop.

The twin of client_sshclient_fast.py: the same calls, awaited. Download
and tunnel use ``drain()`` with no sink (bytes are dropped straight from the
channel buffer, as the blocking client does); upload awaits ``write()`` per
chunk. ``fanout`` (bench/fanout.py) is ``aio.run_many()``.
client_sshclient_aio_uvloop.py runs the same coroutines on uvloop.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict

from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    check_count,
    check_status,
    download_command,
    zero_chunk,
)

import sshclient
from sshclient import aio

NAME = "sshclient (asyncio API)"


def version() -> str:
    return sshclient.__version__


def connect_options(cfg: dict) -> Dict[str, Any]:
    """Keywords of aio.connect() (and aio.run_many()) for this cfg."""
    extra: Dict[str, Any] = {}
    if cfg.get("kex"):
        extra["kex_algorithms"] = [cfg["kex"]]
    return dict(username=cfg["user"], key=cfg["key"], accept_any_host_key=True,
                ciphers=[cfg["cipher"]], macs=[cfg["mac"]], timeout=120, **extra)


def _connect(cfg: dict):  # type: ignore[no-untyped-def]
    return aio.connect(cfg["host"], cfg["port"], **connect_options(cfg))


async def _download(cfg: dict, nbytes: int) -> int:
    async with _connect(cfg) as conn:
        ch = await conn.open_session()
        await ch.exec(download_command(nbytes))
        got = await ch.drain()
        status = await ch.wait_closed()
        ch.close()
    check_status("download", status)
    return check_count("download", got, nbytes)


async def _upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    view = memoryview(chunk)
    async with _connect(cfg) as conn:
        ch = await conn.open_session()
        await ch.exec(UPLOAD_COMMAND)
        left = nbytes
        while left:
            k = min(left, len(chunk))
            await ch.write(view[:k])
            left -= k
        ch.send_eof()
        status = await ch.wait_closed()
        ch.close()
    check_status("upload", status)
    return nbytes


async def _tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    async with _connect(cfg) as conn:
        ch = await conn.open_tcpip(host, port)
        ch.send_eof()  # nothing to send: as `ssh -W` with stdin from /dev/null
        got = await ch.drain()
        ch.close()
    return check_count("tunnel", got, nbytes)


async def _handshake(cfg: dict) -> None:
    async with _connect(cfg) as conn:
        ch = await conn.open_session()
        await ch.exec(HANDSHAKE_COMMAND)
        status = await ch.wait_closed()
        ch.close()
    check_status("handshake", status)


async def _fanout(cfg: dict, count: int) -> int:
    target = f"{cfg['host']}:{cfg['port']}"
    results = await aio.run_many([target] * count, HANDSHAKE_COMMAND,
                                 concurrency=cfg["concurrency"], **connect_options(cfg))
    for result in results:
        if isinstance(result, BaseException):
            raise result
        check_status("fanout", result.exit_status)
    return len(results)


class OnLoop:
    """The four operations, each run to its end on one event loop made on
    first use and kept for the process (as a long-running program has one;
    a loop per handshake would add its set-up to every measurement)."""

    def __init__(self, new_loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self._new_loop = new_loop
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro):  # type: ignore[no-untyped-def]
        if self._loop is None:
            self._loop = self._new_loop()
            asyncio.set_event_loop(self._loop)
        return self._loop.run_until_complete(coro)

    def download(self, cfg: dict, nbytes: int) -> int:
        return self.run(_download(cfg, nbytes))

    def upload(self, cfg: dict, nbytes: int) -> int:
        return self.run(_upload(cfg, nbytes))

    def tunnel(self, cfg: dict, nbytes: int) -> int:
        return self.run(_tunnel(cfg, nbytes))

    def handshake(self, cfg: dict) -> None:
        self.run(_handshake(cfg))

    def fanout(self, cfg: dict, count: int) -> int:
        return self.run(_fanout(cfg, count))


_on = OnLoop(asyncio.new_event_loop)  # asyncio's own loop, never uvloop
download, upload, tunnel, handshake = _on.download, _on.upload, _on.tunnel, _on.handshake
fanout = _on.fanout

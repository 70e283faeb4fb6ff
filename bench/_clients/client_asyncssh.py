"""asyncssh on the default asyncio event loop."""
from __future__ import annotations

import asyncio

import asyncssh
from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    check_count,
    check_status,
    download_command,
    zero_chunk,
)

NAME = "asyncssh"


def version() -> str:
    return asyncssh.__version__


async def _connect(cfg: dict) -> asyncssh.SSHClientConnection:
    extra = {}
    if cfg.get("kex"):
        extra["kex_algs"] = [cfg["kex"]]
    return await asyncssh.connect(
        cfg["host"], cfg["port"], username=cfg["user"], client_keys=[cfg["key"]],
        known_hosts=None, config=None, agent_path=None, preferred_auth="publickey",
        encryption_algs=[cfg["cipher"]], mac_algs=[cfg["mac"]], compression_algs=["none"],
        **extra)


class _Counter(asyncssh.SSHClientSession):
    """Counts received bytes in the data_received callback (no stream copies)."""

    def __init__(self) -> None:
        self.n = 0
        self.status = None

    def data_received(self, data, datatype) -> None:  # type: ignore[no-untyped-def]
        self.n += len(data)

    def exit_status_received(self, status: int) -> None:
        self.status = status


class _TcpCounter(asyncssh.SSHTCPSession):
    def __init__(self) -> None:
        self.n = 0

    def data_received(self, data, datatype) -> None:  # type: ignore[no-untyped-def]
        self.n += len(data)


async def _download(cfg: dict, nbytes: int) -> int:
    async with await _connect(cfg) as conn:
        chan, session = await conn.create_session(_Counter, download_command(nbytes),
                                                  encoding=None)
        await chan.wait_closed()
    check_status("download", session.status)
    return check_count("download", session.n, nbytes)


async def _upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    async with await _connect(cfg) as conn:
        proc = await conn.create_process(UPLOAD_COMMAND, encoding=None)
        left = nbytes
        while left:
            k = min(left, len(chunk))
            proc.stdin.write(chunk if k == len(chunk) else chunk[:k])
            await proc.stdin.drain()
            left -= k
        proc.stdin.write_eof()
        result = await proc.wait()
    check_status("upload", result.exit_status)
    return nbytes


async def _tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    async with await _connect(cfg) as conn:
        chan, session = await conn.create_connection(_TcpCounter, host, port)
        chan.write_eof()  # nothing to send: as `ssh -W` with stdin from /dev/null
        await chan.wait_closed()
    return check_count("tunnel", session.n, nbytes)


async def _handshake(cfg: dict) -> None:
    async with await _connect(cfg) as conn:
        result = await conn.run(HANDSHAKE_COMMAND)
    check_status("handshake", result.exit_status)


async def _fanout(cfg: dict, count: int) -> int:
    """`count` connections running `true`, at most cfg["concurrency"] at once:
    what a user writes without run_many (gather + a semaphore)."""
    limit = asyncio.Semaphore(cfg["concurrency"])

    async def one() -> None:
        async with limit:
            await _handshake(cfg)

    await asyncio.gather(*(one() for _ in range(count)))
    return count


# One event loop per process, as a long-running program would have (a new
# loop per handshake would add its set-up cost to every measurement).
_loop = asyncio.new_event_loop()
_run = _loop.run_until_complete


def download(cfg: dict, nbytes: int) -> int:
    return _run(_download(cfg, nbytes))


def upload(cfg: dict, nbytes: int) -> int:
    return _run(_upload(cfg, nbytes))


def tunnel(cfg: dict, nbytes: int) -> int:
    return _run(_tunnel(cfg, nbytes))


def handshake(cfg: dict) -> None:
    _run(_handshake(cfg))


def fanout(cfg: dict, count: int) -> int:
    return _run(_fanout(cfg, count))

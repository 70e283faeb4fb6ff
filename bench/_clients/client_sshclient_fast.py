"""sshclient's fastest API: sshclient.connect() -> Channel.drain()/write()."""
from __future__ import annotations

from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    check_count,
    check_status,
    download_command,
    zero_chunk,
)

import sshclient

NAME = "sshclient (fast API)"


def version() -> str:
    return sshclient.__version__


def _connect(cfg: dict) -> sshclient.SSHConnection:
    extra = {}
    if cfg.get("kex"):
        extra["kex_algorithms"] = [cfg["kex"]]
    for name in ("window_limit", "window_size"):  # bench/longlink.py: long links
        if cfg.get(name) is not None:
            extra[name] = int(cfg[name])
    return sshclient.connect(cfg["host"], cfg["port"], username=cfg["user"], key=cfg["key"],
                             accept_any_host_key=True, ciphers=[cfg["cipher"]],
                             macs=[cfg["mac"]], timeout=120, **extra)


def download(cfg: dict, nbytes: int) -> int:
    with _connect(cfg) as conn:
        ch = conn.open_session()
        ch.exec(download_command(nbytes))
        got = ch.drain()
        status = ch.wait_closed()
        ch.close()
    check_status("download", status)
    return check_count("download", got, nbytes)


def upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    view = memoryview(chunk)
    with _connect(cfg) as conn:
        ch = conn.open_session()
        ch.exec(UPLOAD_COMMAND)
        left = nbytes
        while left:
            k = min(left, len(chunk))
            ch.write(view[:k])
            left -= k
        ch.send_eof()
        status = ch.wait_closed()
        ch.close()
    check_status("upload", status)
    return nbytes


def tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    with _connect(cfg) as conn:
        ch = conn.open_tcpip(host, port)
        ch.send_eof()  # nothing to send: as `ssh -W` with stdin from /dev/null
        got = ch.drain()
        ch.close()
    return check_count("tunnel", got, nbytes)


def handshake(cfg: dict) -> None:
    with _connect(cfg) as conn:
        ch = conn.open_session()
        ch.exec(HANDSHAKE_COMMAND)
        status = ch.wait_closed()
        ch.close()
    check_status("handshake", status)

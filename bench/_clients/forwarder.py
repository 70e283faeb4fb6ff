"""Child process holding one sshclient port forward (bench/tunnel.py,
bench/longlink.py): local (-L) or dynamic (-D, SOCKS).

    python bench/_clients/forwarder.py '<json spec>'

spec: {"api": "blocking"|"aio", "kind": "L"|"D" (default "L"),
       "cfg": {host, port, user, key, cipher, mac, kex, window_limit and
       window_size (optional)}, "target": [host, port] (for "L")}

Connects, calls ``forward_local_port("127.0.0.1", 0, *target)`` ("L") or
``forward_socks("127.0.0.1", 0)`` ("D") (the blocking API, or the asyncio
API awaited on uvloop via ``sshclient.aio.new_event_loop()``), prints
``ready PORT`` and serves the forward until its stdin closes; then closes
the connection and exits without interpreter teardown. Its CPU time and
peak RSS are read by the parent (/proc during the transfer, os.wait4 at
the end).
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any, Dict

import sshclient
from sshclient import aio

LISTEN_HOST = "127.0.0.1"


def connect_options(cfg: dict) -> Dict[str, Any]:
    """connect()'s keywords for cfg: the cipher, MAC and kex pinned as for
    ssh; window_limit and window_size only when the benchmark sets them
    (else the library's choice from the measured round trip)."""
    options: Dict[str, Any] = dict(
        username=cfg["user"], key=cfg["key"], accept_any_host_key=True,
        ciphers=[cfg["cipher"]], macs=[cfg["mac"]], timeout=120)
    if cfg.get("kex"):
        options["kex_algorithms"] = [cfg["kex"]]
    for name in ("window_limit", "window_size"):
        if cfg.get(name) is not None:
            options[name] = int(cfg[name])
    return options


def announce(port: int) -> None:
    print(f"ready {port}", flush=True)


def serve_blocking(spec: dict) -> None:
    cfg = spec["cfg"]
    with sshclient.connect(cfg["host"], cfg["port"], **connect_options(cfg)) as conn:
        if spec.get("kind", "L") == "D":
            forward = conn.forward_socks(LISTEN_HOST, 0)
        else:
            host, port = spec["target"]
            forward = conn.forward_local_port(LISTEN_HOST, 0, host, int(port))
        announce(forward.port)
        sys.stdin.buffer.read()  # the parent closes it when the runs are over
        forward.close(close_connections=True)


async def serve_aio(spec: dict) -> None:
    cfg = spec["cfg"]
    async with aio.connect(cfg["host"], cfg["port"], **connect_options(cfg)) as conn:
        if spec.get("kind", "L") == "D":
            forward = await conn.forward_socks(LISTEN_HOST, 0)
        else:
            host, port = spec["target"]
            forward = await conn.forward_local_port(LISTEN_HOST, 0, host, int(port))
        announce(forward.port)
        await stdin_closed()
        forward.close(close_connections=True)


async def stdin_closed() -> None:
    """Wait for EOF on stdin without a thread: the loop watches the pipe."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def on_readable() -> None:
        if not os.read(0, 65536) and not done.done():
            done.set_result(None)

    loop.add_reader(0, on_readable)
    try:
        await done
    finally:
        loop.remove_reader(0)


def main() -> None:
    spec = json.loads(sys.argv[1])
    code = 0
    try:
        if spec["api"] == "blocking":
            serve_blocking(spec)
        else:
            loop = aio.new_event_loop()  # uvloop when installed, as aio.run() picks
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve_aio(spec))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent on stderr
        print(f"forwarder: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no teardown: the parent's wait4 figures stay the client's own


if __name__ == "__main__":
    main()

"""paramiko, through its Transport (the only way to pin the cipher suite)."""
from __future__ import annotations

import paramiko
from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    check_count,
    check_status,
    download_command,
    zero_chunk,
)

NAME = "paramiko"
_READ = 1 << 20

# paramiko spells the curve25519 kex the pre-RFC way.
_KEX_NAMES = {"curve25519-sha256": "curve25519-sha256@libssh.org"}


def version() -> str:
    return paramiko.__version__


def _connect(cfg: dict) -> paramiko.Transport:
    t = paramiko.Transport((cfg["host"], cfg["port"]))
    try:
        so = t.get_security_options()
        try:
            so.ciphers = (cfg["cipher"],)
        except ValueError as exc:  # paramiko has no chacha20-poly1305@openssh.com
            raise ValueError(f"paramiko does not implement {cfg['cipher']} ({exc})") from None
        so.digests = (cfg["mac"],)
        if cfg.get("kex"):
            so.kex = (_KEX_NAMES.get(cfg["kex"], cfg["kex"]),)
        t.start_client(timeout=60)
        # No host key check: the benchmark's sshd has throwaway keys.
        t.auth_publickey(cfg["user"], paramiko.PKey.from_path(cfg["key"]))
    except BaseException:
        t.close()
        raise
    return t


def _recv_all(chan: paramiko.Channel) -> int:
    n = 0
    recv = chan.recv
    while True:
        data = recv(_READ)
        if not data:
            return n
        n += len(data)


def download(cfg: dict, nbytes: int) -> int:
    t = _connect(cfg)
    try:
        chan = t.open_session()
        chan.exec_command(download_command(nbytes))
        got = _recv_all(chan)
        status = chan.recv_exit_status()
        chan.close()
    finally:
        t.close()
    check_status("download", status)
    return check_count("download", got, nbytes)


def upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    t = _connect(cfg)
    try:
        chan = t.open_session()
        chan.exec_command(UPLOAD_COMMAND)
        left = nbytes
        while left:
            k = min(left, len(chunk))
            chan.sendall(chunk if k == len(chunk) else chunk[:k])
            left -= k
        chan.shutdown_write()
        status = chan.recv_exit_status()
        chan.close()
    finally:
        t.close()
    check_status("upload", status)
    return nbytes


def tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    t = _connect(cfg)
    try:
        chan = t.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0))
        chan.shutdown_write()  # nothing to send: as `ssh -W` with stdin from /dev/null
        got = _recv_all(chan)
        chan.close()
    finally:
        t.close()
    return check_count("tunnel", got, nbytes)


def handshake(cfg: dict) -> None:
    t = _connect(cfg)
    try:
        chan = t.open_session()
        chan.exec_command(HANDSHAKE_COMMAND)
        status = chan.recv_exit_status()
        chan.close()
    finally:
        t.close()
    check_status("handshake", status)

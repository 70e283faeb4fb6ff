"""ssh2-python (libssh2 bindings) through its Session API, in blocking mode."""
from __future__ import annotations

import socket

from common import (
    HANDSHAKE_COMMAND,
    UPLOAD_COMMAND,
    BenchError,
    check_count,
    check_status,
    download_command,
    zero_chunk,
)
from ssh2 import __version__ as _ssh2_version
from ssh2.session import (
    LIBSSH2_METHOD_CRYPT_CS,
    LIBSSH2_METHOD_CRYPT_SC,
    LIBSSH2_METHOD_KEX,
    LIBSSH2_METHOD_MAC_CS,
    LIBSSH2_METHOD_MAC_SC,
    Session,
)
from ssh2.utils import version as _libssh2_version

NAME = "ssh2-python"
_READ = 1 << 20  # Channel.read(size) mallocs `size` and returns a copy of what it got

LIBSSH2 = _libssh2_version().decode()


def version() -> str:
    return f"{_ssh2_version} (libssh2 {LIBSSH2})"


def _prefer(session: Session, what: str, name: str, *methods) -> None:
    # libssh2_session_method_pref silently drops names it does not know and
    # only fails when none is left: check first, for a clear cell error.
    if name not in session.supported_algs(methods[0]):
        raise ValueError(f"ssh2-python: {what} {name} not supported by libssh2 {LIBSSH2}")
    for m in methods:
        session.method_pref(m, name)


def _connect(cfg: dict) -> tuple[socket.socket, Session]:
    sock = socket.create_connection((cfg["host"], cfg["port"]), timeout=120)
    session = Session()
    try:
        session.set_blocking(True)
        _prefer(session, "cipher", cfg["cipher"], LIBSSH2_METHOD_CRYPT_CS,
                LIBSSH2_METHOD_CRYPT_SC)
        _prefer(session, "MAC", cfg["mac"], LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC)
        if cfg.get("kex"):
            # libssh2 adds ext-info-c and kex-strict-c-v00@openssh.com itself.
            _prefer(session, "kex", cfg["kex"], LIBSSH2_METHOD_KEX)
        session.handshake(sock)
        # No host key check: the benchmark's sshd has throwaway keys. The
        # public key is derived from the private one (OpenSSH format).
        session.userauth_publickey_fromfile(cfg["user"], cfg["key"])
    except BaseException:
        sock.close()
        raise
    return sock, session


def _close(sock: socket.socket, session: Session) -> None:
    try:
        session.disconnect()
    finally:
        sock.close()


def _recv_all(chan) -> int:  # type: ignore[no-untyped-def]
    n = 0
    read = chan.read
    while True:
        size, _data = read(_READ)  # blocking: 0 at EOF, errors raise
        if size <= 0:
            return n
        n += size


def _finish(chan) -> int:  # type: ignore[no-untyped-def]
    """Close the channel, wait for the server's CLOSE, return the exit status."""
    chan.close()
    chan.wait_closed()
    return chan.get_exit_status()


def download(cfg: dict, nbytes: int) -> int:
    sock, session = _connect(cfg)
    try:
        chan = session.open_session()
        chan.execute(download_command(nbytes))
        got = _recv_all(chan)
        status = _finish(chan)
        del chan
    finally:
        _close(sock, session)
    check_status("download", status)
    return check_count("download", got, nbytes)


def upload(cfg: dict, nbytes: int) -> int:
    chunk = zero_chunk(cfg["chunk"])
    sock, session = _connect(cfg)
    try:
        chan = session.open_session()
        chan.execute(UPLOAD_COMMAND)
        write = chan.write
        left = nbytes
        while left:
            k = min(left, len(chunk))
            _rc, written = write(chunk if k == len(chunk) else chunk[:k])
            if written != k:  # blocking mode writes it all or raises
                raise BenchError(f"upload: wrote {written} of {k} bytes")
            left -= k
        chan.send_eof()
        chan.wait_eof()  # cat has read everything and exited
        status = _finish(chan)
        del chan
    finally:
        _close(sock, session)
    check_status("upload", status)
    return nbytes


def tunnel(cfg: dict, nbytes: int) -> int:
    host, port = cfg["target"]
    sock, session = _connect(cfg)
    try:
        chan = session.direct_tcpip_ex(host, port, "127.0.0.1", 0)
        chan.send_eof()  # nothing to send: as `ssh -W` with stdin from /dev/null
        got = _recv_all(chan)
        chan.close()
        chan.wait_closed()
        del chan
    finally:
        _close(sock, session)
    return check_count("tunnel", got, nbytes)


def handshake(cfg: dict) -> None:
    sock, session = _connect(cfg)
    try:
        chan = session.open_session()
        chan.execute(HANDSHAKE_COMMAND)
        _recv_all(chan)
        status = _finish(chan)
        del chan
    finally:
        _close(sock, session)
    check_status("handshake", status)

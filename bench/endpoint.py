#!/usr/bin/env python
"""The two TCP ends of a port-forward benchmark, in one process of their own.

    python bench/endpoint.py          # prints "ready TARGET_PORT", then serves commands

The *target* listens on 127.0.0.1 (what the forward connects to on the
server's side); the *application* side connects to the forward's listening
port. A command on stdin (one JSON line) runs one transfer and answers one
JSON line on stdout:

    {"op": "download"|"upload", "port": FORWARD_PORT, "streams": K, "nbytes": N,
     "timeout": SECONDS, "socks": false}
    -> {"ok": true, "seconds": ..., "bytes": ..., "cpu": ..., "error": ""}

download: the target sends (the client carries target -> application);
upload: the application sends (application -> target). Each of the K
streams moves N // K bytes (the first N % K streams one more). "seconds"
runs from the first connect to the moment the receiving side holds every
byte; "cpu" is this process's user+sys time over the transfer (all threads),
so the report can show that the endpoint was not the limit.

With "socks": true, FORWARD_PORT is a SOCKS server (`ssh -D`,
forward_socks()): each application connection first asks it, in SOCKS5
(no authentication), to CONNECT to the target by its IP address
(127.0.0.1:TARGET_PORT), then moves the data as above. The handshake is
written here, independent of sshclient's own SOCKS code, and is part of
the timed span.

Both sides move data at C speed with the GIL released: senders use
os.sendfile() from a zero-filled file on tmpfs, receivers recv_into() one
reused 1 MiB buffer per stream. Pointing "port" at the target port itself
measures the endpoint alone (no forward in between).
"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

LOOPBACK = "127.0.0.1"
RECV_BUFFER = 1 << 20
ZERO_FILE_SIZE = 16 << 20  # sendfile() wraps around this many zero bytes


# --------------------------------------------------------------------------
# SOCKS5 (RFC 1928), the client's side of a CONNECT without authentication
# --------------------------------------------------------------------------

SOCKS_VERSION = 5
NO_AUTH = 0
NO_ACCEPTABLE_METHOD = 0xFF
CONNECT = 1
ATYP_IPV4, ATYP_NAME, ATYP_IPV6 = 1, 3, 4
REPLIES = {1: "general SOCKS server failure", 2: "connection not allowed by ruleset",
           3: "network unreachable", 4: "host unreachable", 5: "connection refused",
           6: "TTL expired", 7: "command not supported", 8: "address type not supported"}


class SocksError(Exception):
    """The SOCKS server refused, or said something that is not SOCKS5."""


def socks5_greeting() -> bytes:
    """Version 5, one method offered: no authentication."""
    return bytes([SOCKS_VERSION, 1, NO_AUTH])


def check_method_reply(reply: bytes) -> None:
    """The server's choice of method: it must be no authentication."""
    if reply[0] != SOCKS_VERSION:
        raise SocksError(f"SOCKS5: method reply has version {reply[0]}, expected 5")
    if reply[1] == NO_ACCEPTABLE_METHOD:
        raise SocksError("SOCKS5: the server accepts no method we offered (no authentication)")
    if reply[1] != NO_AUTH:
        raise SocksError(f"SOCKS5: the server chose method {reply[1]}, not 0 (no "
                         "authentication), which is the only one offered")


def socks5_connect_request(host: str, port: int) -> bytes:
    """CONNECT to an IPv4 address and port (by address: nothing to resolve)."""
    return (bytes([SOCKS_VERSION, CONNECT, 0, ATYP_IPV4]) + socket.inet_aton(host)
            + port.to_bytes(2, "big"))


def connect_reply_rest(head: bytes, target: str) -> int:
    """Check the first 5 bytes of the CONNECT reply (version, reply code,
    reserved, address type, the address's first byte); how many bytes of
    bound address and port follow them."""
    if head[0] != SOCKS_VERSION:
        raise SocksError(f"SOCKS5: CONNECT reply has version {head[0]}, expected 5")
    if head[1] != 0:
        reason = REPLIES.get(head[1], "unknown reply code")
        raise SocksError(f"SOCKS5: CONNECT to {target} failed: {reason} ({head[1]})")
    if head[3] == ATYP_IPV4:
        return 4 - 1 + 2
    if head[3] == ATYP_IPV6:
        return 16 - 1 + 2
    if head[3] == ATYP_NAME:
        return head[4] + 2  # that byte was the name's length
    raise SocksError(f"SOCKS5: CONNECT reply has address type {head[3]}")


def recv_exact(sock: socket.socket, count: int, what: str) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise SocksError(f"SOCKS5: the server closed the connection after {len(data)} "
                             f"of the {count} bytes of {what}")
        data += chunk
    return data


def socks5_connect(sock: socket.socket, host: str, port: int) -> None:
    """Make `sock`, connected to a SOCKS server, a connection to host:port."""
    sock.sendall(socks5_greeting())
    check_method_reply(recv_exact(sock, 2, "the method reply"))
    sock.sendall(socks5_connect_request(host, port))
    head = recv_exact(sock, 5, "the CONNECT reply")
    recv_exact(sock, connect_reply_rest(head, f"{host}:{port}"), "the CONNECT reply's address")


# --------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------

def stream_sizes(nbytes: int, streams: int) -> List[int]:
    """nbytes split over `streams` streams as evenly as bytes allow."""
    base, extra = divmod(nbytes, streams)
    return [base + (1 if i < extra else 0) for i in range(streams)]


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@dataclass
class Transfer:
    """One command's state, shared by the sending and receiving threads."""
    op: str
    sizes: List[int]
    started: float = field(default_factory=time.perf_counter)
    received: List[int] = field(default_factory=list)
    finished_at: List[float] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    target_index: int = 0  # which size the next accepted target connection gets

    def next_target_size(self) -> int:
        with self.lock:
            i = self.target_index
            self.target_index += 1
        return self.sizes[i] if i < len(self.sizes) else 0

    def record(self, got: int, when: float) -> None:
        with self.lock:
            self.received.append(got)
            self.finished_at.append(when)

    def fail(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class Endpoint:
    def __init__(self) -> None:
        fd, self.zero_path = tempfile.mkstemp(prefix="sshclient-bench-zeros-",
                                              dir="/dev/shm" if os.path.isdir("/dev/shm")
                                              else None)
        # Real pages, not a sparse file: sendfile() then hands the kernel the
        # same tmpfs pages over and over, no copy on the sending side.
        os.write(fd, bytes(ZERO_FILE_SIZE))
        self.zero_fd = fd
        self.listener = socket.create_server((LOOPBACK, 0), backlog=64)
        self.port = self.listener.getsockname()[1]
        self.transfer: Optional[Transfer] = None
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self) -> None:
        self.listener.close()
        os.close(self.zero_fd)
        with contextlib.suppress(OSError):
            os.unlink(self.zero_path)

    # -------------------------------------------------------------- moving bytes
    def send_zeros(self, sock: socket.socket, nbytes: int) -> None:
        offset = 0
        while nbytes:
            count = min(nbytes, ZERO_FILE_SIZE - offset)
            sent = os.sendfile(sock.fileno(), self.zero_fd, offset, count)
            if sent == 0:
                raise ConnectionError("peer closed while sending")
            nbytes -= sent
            offset = (offset + sent) % ZERO_FILE_SIZE

    @staticmethod
    def receive_all(sock: socket.socket, transfer: Transfer) -> None:
        """Count bytes until EOF; the time stamp is that of the last byte."""
        buf = bytearray(RECV_BUFFER)
        got, last = 0, time.perf_counter()
        while True:
            n = sock.recv_into(buf)
            if n == 0:
                break
            got += n
            last = time.perf_counter()
        transfer.record(got, last)

    def _serve_stream(self, sock: socket.socket, sending: bool, nbytes: int,
                      transfer: Transfer) -> None:
        """One stream's end: send nbytes then half-close and wait for the
        peer to close, or receive until EOF and close."""
        try:
            with sock:
                if sending:
                    self.send_zeros(sock, nbytes)
                    sock.shutdown(socket.SHUT_WR)
                    while sock.recv(65536):  # until the far side is done too
                        pass
                else:
                    self.receive_all(sock, transfer)
        except OSError as exc:
            transfer.fail(f"{'send' if sending else 'receive'}: {exc}")

    # ---------------------------------------------------------------- target side
    def _accept_loop(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return  # closed
            transfer = self.transfer
            if transfer is None:
                sock.close()  # a stray connection between commands
                continue
            sending = transfer.op == "download"
            nbytes = transfer.next_target_size() if sending else 0
            threading.Thread(target=self._serve_stream, args=(sock, sending, nbytes, transfer),
                             daemon=True).start()

    # ---------------------------------------------------------- application side
    def _application(self, port: int, nbytes: int, transfer: Transfer, socks: bool) -> None:
        try:
            sock = socket.create_connection((LOOPBACK, port))
        except OSError as exc:
            transfer.fail(f"connect to {port}: {exc}")
            transfer.record(0, time.perf_counter())
            return
        if socks:
            try:
                socks5_connect(sock, LOOPBACK, self.port)
            except (OSError, SocksError) as exc:
                sock.close()
                transfer.fail(str(exc) if isinstance(exc, SocksError)
                              else f"SOCKS5 handshake: {exc}")
                transfer.record(0, time.perf_counter())
                return
        self._serve_stream(sock, transfer.op == "upload", nbytes, transfer)

    def run(self, op: str, port: int, streams: int, nbytes: int, timeout: float,
            socks: bool = False) -> dict:
        transfer = Transfer(op, stream_sizes(nbytes, streams))
        self.transfer = transfer
        cpu_before = cpu_seconds()
        transfer.started = time.perf_counter()
        threads = [threading.Thread(target=self._application,
                                    args=(port, size, transfer, socks), daemon=True)
                   for size in transfer.sizes]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # receivers on either side record themselves
            with transfer.lock:
                if len(transfer.received) >= streams:
                    break
            time.sleep(0.005)
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        cpu = cpu_seconds() - cpu_before
        self.transfer = None
        return result_of(transfer, nbytes, streams, cpu)


def result_of(transfer: Transfer, nbytes: int, streams: int, cpu: float) -> dict:
    """The JSON answer for one finished (or timed-out) transfer."""
    got = sum(transfer.received)
    error = "; ".join(transfer.errors)
    if len(transfer.received) < streams:
        error = error or f"timeout: {len(transfer.received)} of {streams} streams ended"
    elif got != nbytes:
        error = error or f"received {got} bytes, expected {nbytes}"
    seconds = (max(transfer.finished_at) - transfer.started) if transfer.finished_at else 0.0
    return {"ok": not error, "seconds": seconds, "bytes": got, "cpu": cpu, "error": error}


def main() -> None:
    endpoint = Endpoint()
    try:
        print(f"ready {endpoint.port}", flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            answer = endpoint.run(cmd["op"], int(cmd["port"]), int(cmd["streams"]),
                                  int(cmd["nbytes"]), float(cmd.get("timeout", 600)),
                                  bool(cmd.get("socks", False)))
            print(json.dumps(answer), flush=True)
    finally:
        endpoint.close()


if __name__ == "__main__":
    main()

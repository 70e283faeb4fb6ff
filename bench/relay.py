#!/usr/bin/env python
"""A userspace TCP relay that makes a loopback link look long (no netem here).

    python bench/relay.py --target-port 2222 --rtt-ms 50 [--rate-mbps 1000] [--listen-port 0]

Listens on 127.0.0.1 (prints ``ready PORT``) and joins each connection to
127.0.0.1:TARGET. Every chunk read in either direction is held for RTT/2
(a time-stamped queue, each chunk released when due), so a round trip
through the relay takes RTT plus the loopback's own ~0.1 ms. With
--rate-mbps the released chunks are also spaced so that each direction
carries at most that many MB/s (a bottleneck link). Runs until its stdin
closes.

The kernel's own TCP between the ends and the relay sees a short link: its
RTT estimate (TCP_INFO) stays tiny. sshclient times the round trip within
the SSH protocol instead, which sees the relay's delay.
"""
from __future__ import annotations

import argparse
import collections
import socket
import sys
import threading
import time
from typing import Callable, Deque, Optional, Tuple

LOOPBACK = "127.0.0.1"
CHUNK = 256 * 1024
QUEUE_LIMIT = 256 << 20  # bytes held per direction before the relay stops reading


def release_time(due: float, link_free_at: float, nbytes: int, rate: Optional[float]
                 ) -> Tuple[float, float]:
    """When a chunk of nbytes that is due at `due` leaves, and when the
    link is free again after it: at once when due without a rate cap; with
    one (bytes/s), not before the previous chunk has had its share of time."""
    if not rate:
        return due, due
    leave = max(due, link_free_at)
    return leave, leave + nbytes / rate


class DelayLine:
    """One direction of one connection: src -> (held delay seconds) -> dst."""

    def __init__(self, src: socket.socket, dst: socket.socket, delay: float,
                 rate: Optional[float], on_done: Callable[[], None]) -> None:
        self.src, self.dst = src, dst
        self.delay, self.rate = delay, rate
        self.queue: Deque[Tuple[float, bytes]] = collections.deque()
        self.queued = 0
        self.cond = threading.Condition()
        self.on_done = on_done
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.src.recv(CHUNK)
            except OSError:
                data = b""
            due = time.monotonic() + self.delay
            with self.cond:
                while self.queued > QUEUE_LIMIT:
                    self.cond.wait()
                self.queue.append((due, data))
                self.queued += len(data)
                self.cond.notify_all()
            if not data:
                return  # EOF (or an error): the writer passes it on when due

    def _write(self) -> None:
        link_free_at = 0.0
        while True:
            with self.cond:
                while not self.queue:
                    self.cond.wait()
                due, data = self.queue.popleft()
                self.queued -= len(data)
                self.cond.notify_all()
            leave, link_free_at = release_time(due, link_free_at, len(data), self.rate)
            wait = leave - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if not data:
                self._end()
                return
            try:
                self.dst.sendall(data)
            except OSError:
                self._end()
                return

    def _end(self) -> None:
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.on_done()


def join(client: socket.socket, target_port: int, delay: float, rate: Optional[float]) -> None:
    """Relay one accepted connection both ways; close both sockets when
    both directions have ended."""
    try:
        server = socket.create_connection((LOOPBACK, target_port))
    except OSError:
        client.close()
        return
    for sock in (client, server):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ended = []
    lock = threading.Lock()

    def direction_done() -> None:
        with lock:
            ended.append(1)
            if len(ended) == 2:
                client.close()
                server.close()

    DelayLine(client, server, delay, rate, direction_done)
    DelayLine(server, client, delay, rate, direction_done)


def serve(listener: socket.socket, target_port: int, delay: float, rate: Optional[float]) -> None:
    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        join(sock, target_port, delay, rate)


def main(argv: Optional[list] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target-port", type=int, required=True, help="127.0.0.1 port to relay to")
    p.add_argument("--rtt-ms", type=float, required=True, help="round trip to add, ms")
    p.add_argument("--rate-mbps", type=float, default=0.0,
                   help="cap per direction in MB/s (10^6 bytes/s; 0: none)")
    p.add_argument("--listen-port", type=int, default=0, help="port on 127.0.0.1 (0: any)")
    args = p.parse_args(argv)
    listener = socket.create_server((LOOPBACK, args.listen_port), backlog=64)
    rate = args.rate_mbps * 1e6 if args.rate_mbps > 0 else None
    threading.Thread(target=serve, args=(listener, args.target_port, args.rtt_ms / 2000, rate),
                     daemon=True).start()
    print(f"ready {listener.getsockname()[1]}", flush=True)
    sys.stdin.buffer.read()  # the parent closes it to end the relay
    listener.close()


if __name__ == "__main__":
    main()

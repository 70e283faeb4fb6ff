"""One blocking connection used from several threads at once, the way
paramiko users work every day: a thread per channel, or one thread writing a
channel's stdin while another reads its stdout. Every byte is checked."""
from __future__ import annotations

import hashlib
import threading

import pytest

import sshclient

MiB = 1 << 20
# (threads, MiB each way per thread): sshd at full size; dropbear smaller,
# it is slower and this is about sharing the connection, not throughput.
LOAD = {"sshd": (8, 64), "dropbear": (4, 16)}


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


def connect(server, user) -> sshclient.SSHConnection:
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, accept_any_host_key=True, timeout=60)


def chunks(seed: int, mib: int):
    """`mib` distinct 1 MiB chunks (each starts with its own number)."""
    block = hashlib.shake_256(seed.to_bytes(4, "big")).digest(MiB)
    for i in range(mib):
        yield i.to_bytes(8, "big") + seed.to_bytes(4, "big") + block[12:]


def expected_digest(seed: int, mib: int) -> str:
    h = hashlib.sha256()
    for chunk in chunks(seed, mib):
        h.update(chunk)
    return h.hexdigest()


def run_threads(target, count: int) -> list:
    results: list = [None] * count
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            results[i] = target(i)
        except BaseException as exc:  # reported below, with the thread's number
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    return results


def test_a_thread_per_channel_streaming_both_ways(server, test_user):
    count, mib = LOAD[server.kind]
    with connect(server, test_user) as conn:
        def echo(i: int) -> tuple[int, str]:
            """Write through `cat` and read it back on one channel, one thread."""
            h = hashlib.sha256()
            received = 0
            with conn.open_session() as ch:
                ch.exec("cat")
                written = 0
                for chunk in chunks(i, mib):
                    for piece in range(0, MiB, MiB // 4):
                        # Never more than our 2 MiB window's worth unread in
                        # cat's path, or it stops reading stdin (any client would
                        # deadlock there).
                        while written - received > MiB:
                            data = ch.read(4 * MiB)
                            h.update(data)
                            received += len(data)
                        ch.write(chunk[piece:piece + MiB // 4])
                        written += MiB // 4
                ch.send_eof()
                while data := ch.read(4 * MiB):
                    h.update(data)
                    received += len(data)
                assert ch.wait_closed() == 0
            return received, h.hexdigest()

        results = run_threads(echo, count)
        assert results == [(mib * MiB, expected_digest(i, mib)) for i in range(count)]
        assert conn.exec("echo still-alive").stdout == b"still-alive\n"


def test_one_thread_writes_stdin_while_another_reads_stdout(server, test_user):
    mib = LOAD[server.kind][1]
    with connect(server, test_user) as conn, conn.open_session() as ch:
        ch.exec("cat")

        def work(i: int) -> object:
            if i == 0:
                for chunk in chunks(7, mib):
                    ch.write(chunk)
                ch.send_eof()
                return None
            h = hashlib.sha256()
            while data := ch.read(4 * MiB):
                h.update(data)
            return h.hexdigest()

        results = run_threads(work, 2)
        assert results[1] == expected_digest(7, mib)
        assert ch.wait_closed() == 0


def test_close_from_another_thread_wakes_a_blocked_reader(sshd, test_user):
    conn = connect(sshd, test_user)
    ch = conn.open_session()
    ch.exec("sleep 30")
    outcome: list[BaseException | bytes] = []

    def reader() -> None:
        try:
            outcome.append(ch.read())
        except sshclient.SSHClientError as exc:
            outcome.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    t.join(0.5)
    assert t.is_alive()                       # blocked in read(), lock let go
    conn.close()
    t.join(10)
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], sshclient.SSHClientError)

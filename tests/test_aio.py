"""The asyncio API against real sshd and dropbear: the blocking API's
behaviour, awaited, plus what asyncio users expect (async iteration,
cancellation that loses nothing, stream pairs, fan-out with run_many)."""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import socket
import time

import pytest

import proxies
import sshclient
from sshclient import aio
from test_login_deadline import KEX_TARPIT

MiB = 1 << 20


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["asyncio", "uvloop"], autouse=True)
def loop_kind(request, monkeypatch):
    """Every test on asyncio's own loop and on uvloop's."""
    if request.param == "uvloop":
        pytest.importorskip("uvloop", reason="uvloop is not installed (pip install uvloop)")
    else:
        import builtins
        real_import = builtins.__import__

        def no_uvloop(name, *args, **kwargs):
            if name == "uvloop":
                raise ImportError("hidden for this test")
            return real_import(name, *args, **kwargs)
        monkeypatch.setattr(builtins, "__import__", no_uvloop)
    return request.param


def connect(server, user, **kw) -> aio._Connecting:
    kw.setdefault("timeout", 30)
    return aio.connect(server.host, server.port, username=user.name, password=user.password,
                       accept_any_host_key=True, **kw)


def run(coro):
    """On the loop aio.run() picks: uvloop's, unless the fixture hid it."""
    return aio.run(asyncio.wait_for(coro, 120))


def test_the_loop_is_the_one_asked_for(loop_kind):
    async def kind():
        return type(asyncio.get_running_loop()).__module__
    assert run(kind()).startswith("uvloop" if loop_kind == "uvloop" else "asyncio")


# the async spelling of the protocols both APIs share
_ASYNC_DUNDERS = {"__iter__": "__aiter__", "__enter__": "__aenter__", "__exit__": "__aexit__"}
# asyncio-only: stream pairs have no blocking counterpart
_ASYNC_ONLY = {"open_tcpip_stream"}


def test_every_blocking_method_has_its_async_twin():
    """Both ways: each public method (and iteration, with) of one API is in
    the other, with the same parameters."""
    for sync_cls, async_cls in ((sshclient.SSHConnection, aio.AsyncSSHConnection),
                                (sshclient.Channel, aio.AsyncChannel)):
        pairs = [(name, _ASYNC_DUNDERS.get(name, name)) for name in vars(sync_cls)
                 if not name.startswith("_") or name in _ASYNC_DUNDERS]
        pairs += [(name, name) for name in vars(async_cls)
                  if not name.startswith("_") and name not in _ASYNC_ONLY]
        pairs += [(plain, dunder) for plain, dunder in _ASYNC_DUNDERS.items()
                  if dunder in vars(async_cls)]
        def has(cls, name):  # a class member, or an attribute __init__ sets
            source = inspect.getsource(cls.__init__)
            return hasattr(cls, name) or f"self.{name} =" in source or f"self.{name}:" in source
        for sync_name, async_name in pairs:
            assert has(sync_cls, sync_name), f"{sync_cls.__name__}.{sync_name} is missing"
            assert has(async_cls, async_name), f"{async_cls.__name__}.{async_name} is missing"
            member = getattr(sync_cls, sync_name, None)
            twin = getattr(async_cls, async_name, None)
            if callable(member) and callable(twin):
                assert (list(inspect.signature(member).parameters)
                        == list(inspect.signature(twin).parameters)), sync_name


def test_exec_and_context_managers(server, test_user):
    async def main():
        async with connect(server, test_user) as conn:
            result = await conn.exec("echo out; echo err >&2; exit 3")
            assert (result.stdout, result.stderr, result.exit_status) == (b"out\n", b"err\n", 3)
            big = bytes(range(256)) * 8192                    # 2 MiB through stdin
            result = await conn.exec("sha256sum", stdin=big)
            assert result.stdout.split()[0].decode() == hashlib.sha256(big).hexdigest()
            conn2 = await connect(server, test_user)           # plain await works too
            assert (await conn2.exec("echo two")).stdout == b"two\n"
            conn2.close()
    run(main())


def test_streams_both_ways_and_async_lines(server, test_user):
    async def main():
        async with connect(server, test_user) as conn:
            async with await conn.open_session() as ch:
                await ch.exec("cat")
                data = hashlib.shake_256(b"aio").digest(8 * MiB)

                async def feed():
                    for i in range(0, len(data), 256 * 1024):
                        await ch.write(data[i:i + 256 * 1024])
                    ch.send_eof()
                feeder = asyncio.ensure_future(feed())
                got = await ch.read_all()
                await feeder
                assert got == data
                assert await ch.wait_closed() == 0
            async with await conn.open_session() as ch:
                await ch.exec("printf 'a\\nbb\\nccc'")
                assert [line async for line in ch] == [b"a\n", b"bb\n", b"ccc"]
                # dropbear before 2024.85 (bug #321) closes a session opened
                # while another's child is exiting: let printf be reaped first
                assert await ch.wait_closed() == 0
            async with await conn.open_session() as ch:
                await ch.exec("head -c 100000000 /dev/zero")
                assert await ch.drain() == 100_000_000
    run(main())


def test_many_tasks_paused_reader_full_windows(server, test_user):
    """12 channels with their whole windows in flight while the loop is busy
    elsewhere: backpressure, never "receive buffer limit"."""
    async def main():
        async with connect(server, test_user, timeout=60) as conn:
            channels = []
            for _ in range(12):
                ch = await conn.open_session()
                await ch.exec("head -c 20000000 /dev/zero")
                channels.append(ch)
            time.sleep(1.5)                                   # the loop itself is blocked
            counts = await asyncio.gather(*(ch.drain() for ch in channels))
            assert counts == [20_000_000] * 12
    run(main())


def test_output_held_back_by_a_full_socket_arrives_whole_and_in_order(server, test_user,
                                                                       monkeypatch):
    """A tiny send buffer and a command that reads late: sends are partial,
    the transport holds bytes and pauses us, output waits in the engine and
    goes out from there once it is empty. The server must see every byte,
    in order."""
    pauses = []
    real = aio._Driver.pause_writing

    def spy(self):
        pauses.append(self.proto.output_size())
        real(self)

    monkeypatch.setattr(aio._Driver, "pause_writing", spy)
    data = hashlib.shake_256(b"paused").digest(6 * MiB)

    async def main():
        async with connect(server, test_user) as conn:
            # smaller than dropbear's whole window (24 KiB)
            conn._driver.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            async with await conn.open_session() as ch:
                await ch.exec("sleep 0.5; sha256sum")
                for i in range(0, len(data), 1 * MiB):
                    await ch.write(data[i:i + MiB])
                ch.send_eof()
                answer = await ch.read_all()
                assert await ch.wait_closed() == 0
        return answer
    assert run(main()).split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert pauses


def test_close_hands_over_output_waiting_in_the_engine(sshd, test_user):
    """Output that waits in the engine while the transport is paused still
    goes out on close() (the transport sends what it holds first)."""
    async def main():
        async with connect(sshd, test_user) as conn:
            ch = await conn.open_session()
            await ch.exec("cat > /dev/null")
            conn._driver.pause_writing()  # as the transport does when it holds bytes
            ch.send_eof()
            assert conn._proto.output_size() > 0
            conn.close()
            assert conn._proto.output_size() == 0
    run(main())


def test_cancelled_read_loses_nothing(sshd, test_user):
    async def main():
        async with connect(sshd, test_user) as conn:
            async with await conn.open_session() as ch:
                await ch.exec("read x; echo got-$x")
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(ch.read(), 0.3)   # nothing yet: cancelled
                await ch.write(b"it\n")
                assert await ch.read_all() == b"got-it\n"
            conn.timeout = 0.5
            async with await conn.open_session() as ch:
                await ch.exec("sleep 3; echo late")
                with pytest.raises(sshclient.SSHTimeoutError):
                    await ch.read()
                conn.timeout = 30
                assert await ch.read_all() == b"late\n"       # the connection lived on
    run(main())


def test_tcpip_stream_pair(sshd, test_user, tcp_echo):
    async def main():
        async with connect(sshd, test_user) as conn:
            reader, writer = await conn.open_tcpip_stream(*tcp_echo.address)
            writer.write(b"hello through ssh\n")
            await writer.drain()
            assert await reader.readline() == b"hello through ssh\n"
            writer.close()
    run(main())


def test_run_many(sshd, test_user):
    hosts = [f"127.0.0.1:{sshd.port}"] * 20 + ["127.0.0.1:1"]
    seen = []

    async def main():
        return await aio.run_many(hosts, "echo $((6*7))", concurrency=8,
                                  progress=lambda host, outcome: seen.append(host),
                                  username=test_user.name, password=test_user.password,
                                  accept_any_host_key=True, timeout=30)
    results = run(main())
    assert [r.stdout for r in results[:-1]] == [b"42\n"] * 20
    assert isinstance(results[-1], sshclient.SSHConnectionError)
    assert sorted(seen) == sorted(hosts)


def test_run_many_checks_arguments_and_reads_the_key_once(sshd, test_user, client_keys,
                                                          monkeypatch):
    from sshclient import connect_args

    reads = []
    real = connect_args.load_private_key_file

    def counting(path, passphrase=None):
        reads.append(path)
        return real(path, passphrase)

    monkeypatch.setattr(connect_args, "load_private_key_file", counting)
    hosts = [f"127.0.0.1:{sshd.port}"] * 6

    async def main():
        return await aio.run_many(hosts, "echo $((6*7))", concurrency=3,
                                  username=test_user.name, key=client_keys["ed25519"].path,
                                  accept_any_host_key=True, timeout=30)
    results = run(main())
    assert [r.stdout for r in results] == [b"42\n"] * 6
    assert len(reads) == 1


def test_bulk_input_is_batched_and_its_tail_not_held_back(sshd, test_user, monkeypatch):
    marks = []
    real = aio._Driver._set_rcvlowat

    def spy(self, nbytes):
        marks.append(nbytes)
        return real(self, nbytes)

    monkeypatch.setattr(aio._Driver, "_set_rcvlowat", spy)

    async def main():
        async with connect(sshd, test_user) as conn:
            ch = await conn.open_session()
            # after the bulk a pause, then 4 bytes: they must not wait for a batch
            await ch.exec(f"head -c {16 * MiB} /dev/zero; sleep 0.3; printf tail")
            return await ch.read_all()
    data = run(main())
    assert len(data) == 16 * MiB + 4 and data.endswith(b"tail")
    if aio._BATCH_INPUT:
        assert marks and marks[0] == aio.STREAM_BATCH and marks[-1] == 1, marks


def test_login_deadline_against_a_tarpit():
    async def main():
        start = time.monotonic()
        with pytest.raises(sshclient.SSHTimeoutError):
            await aio.connect("127.0.0.1", tarpit.port, username="u", password="p",
                              accept_any_host_key=True, timeout=2)
        return time.monotonic() - start
    with proxies.ScriptedProxy(KEX_TARPIT) as tarpit:
        took = run(main())
    assert 1.9 <= took <= 6, took


def test_login_deadline_counts_the_user_time_of_its_own_thread(monkeypatch):
    """The TCP connect runs in a worker thread: the deadline still leaves out
    only the user time of the thread that made it (earlier callbacks in
    this thread made it start at 0.00 s left once)."""
    from sshclient.errors import user_clock
    monkeypatch.setattr(user_clock(), "seconds", 1000.0)  # time spent in callbacks before
    test_login_deadline_against_a_tarpit()


def test_arguments_are_checked_before_the_network():
    with pytest.raises(sshclient.ArgumentTypeError):
        aio.connect("127.0.0.1", "22", username="u", accept_any_host_key=True)  # type: ignore
    with pytest.raises(sshclient.SSHConnectionError):
        aio.connect("127.0.0.1\0evil", 22, username="u", accept_any_host_key=True)


# ------------------------------------------------- async callbacks, awaited
def test_an_async_verifier_is_awaited(sshd, test_user):
    """An `async def` host_key_verifier is awaited: its True lets the login
    through, its False refuses the key (1030), what it raises comes out of
    connect() untouched. While it thinks, neither the inactivity timeout
    nor the login deadline runs (its time is the user's, not the server's)."""
    seen = []

    async def slow_yes(info):
        seen.append(info.key_type)
        await asyncio.sleep(3)                     # longer than both limits below
        return True

    async def no(info):
        await asyncio.sleep(0)
        return False

    async def broken(info):
        raise ValueError("the verifier's own bug")

    async def main():
        kw = dict(username=test_user.name, password=test_user.password)
        async with aio.connect(sshd.host, sshd.port, host_key_verifier=slow_yes, timeout=2,
                               login_timeout=2, **kw) as conn:
            assert (await conn.exec("echo ok")).stdout == b"ok\n"
        assert len(seen) == 1
        with pytest.raises(sshclient.HostKeyError) as refused:
            await aio.connect(sshd.host, sshd.port, host_key_verifier=no, **kw)
        assert refused.value.code == 1030 and "rejected" in refused.value.message
        with pytest.raises(ValueError, match="own bug"):
            await aio.connect(sshd.host, sshd.port, host_key_verifier=broken, **kw)
    run(main())


def test_an_async_prompt_handler_is_awaited(sshd, test_user):
    """keyboard-interactive answered by an `async def` handler."""
    from sshclient.options import AUTH_KEYBOARD_INTERACTIVE
    prompts = []

    async def answer(name, instructions, asked):
        prompts.extend(text for text, _echo in asked)
        await asyncio.sleep(0.05)
        return [test_user.password for _ in asked]

    async def main():
        async with aio.connect(sshd.host, sshd.port, username=test_user.name,
                               accept_any_host_key=True, timeout=20,
                               auth_mode=AUTH_KEYBOARD_INTERACTIVE, try_all_auth_methods=False,
                               kbd_interactive_handler=answer) as conn:
            return (await conn.exec("echo kbd")).stdout
    assert run(main()) == b"kbd\n"
    assert prompts and "password" in prompts[0].lower()


def test_a_verifier_still_asking_is_cancelled_with_the_connect(sshd, test_user):
    """A connect given up on (asyncio.wait_for) while an async verifier is
    still asking cancels the verifier: nothing is left running."""
    state = {}

    async def never(info):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(
                aio.connect(sshd.host, sshd.port, username=test_user.name,
                            password=test_user.password, host_key_verifier=never), 1)
        await asyncio.sleep(0.05)
    run(main())
    assert state.get("cancelled")

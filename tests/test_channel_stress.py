"""The channel layer under the load of a real application, against real sshd
and dropbear, through both APIs: many channels at once with interleaved
stdout/stderr, stdout and stderr floods read one way, large stdin and stdout
at once, exit signals, pty shells, thousands of short channels (no per-channel
state may pile up), re-keying under load, tunnels next to sessions."""
from __future__ import annotations

import os
import time

import pytest

import sshclient
from spec_client import password_client
from test_spec_sshd import Recorder, wait_closed

MiB = 1024 * 1024
LINES = 2000
INTERLEAVED = (f"for i in $(seq {LINES}); do echo out$i; echo err$i >&2; done; exit 7")
EXPECTED_OUT = "".join(f"out{i}\n" for i in range(1, LINES + 1)).encode()
EXPECTED_ERR = "".join(f"err{i}\n" for i in range(1, LINES + 1)).encode()
# 8 MiB on each stream at once: four times the 2 MiB channel window.
FLOOD = ("head -c 8388608 /dev/zero & head -c 8388608 /dev/zero | tr '\\0' e >&2; wait")
# dropbear 2022.83 closes a session channel that has no command yet whenever
# one of its children exits (fixed in 2024.86, mkj/dropbear#326), and can then
# abort on an assertion: keep its share of channels small, and hold every
# command until all are started (GATED waits for a line on stdin).
CONCURRENT = {"sshd": 40, "dropbear": 8}
GATED = "read go; " + INTERLEAVED


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


def connect(server, user, **kwargs) -> sshclient.SSHConnection:
    kwargs.setdefault("timeout", 20)
    return sshclient.connect(server.host, server.port, username=user.name,
                             password=user.password, accept_any_host_key=True, **kwargs)


def spec_logon(server, user, **config):
    client = password_client(user, timeout=20, **config)
    rec = Recorder(client)
    client.ssh_logon(server.host, server.port)
    return client, rec


def split_streams(data: bytes) -> tuple[bytes, bytes]:
    """The spec API hands stdout and stderr through one event: tell the
    interleaved command's lines apart by their prefix."""
    lines = data.splitlines(keepends=True)
    return (b"".join(ln for ln in lines if ln.startswith(b"out")),
            b"".join(ln for ln in lines if ln.startswith(b"err")))


# ----------------------------------------------------------- many channels

def test_many_channels_keep_stdout_and_stderr_apart(server, test_user):
    with connect(server, test_user) as conn:
        channels = [conn.open_session() for _ in range(CONCURRENT[server.kind])]
        for ch in channels:
            ch.exec(GATED)
        for ch in channels:
            ch.write(b"go\n")
        for ch in channels:
            assert ch.read_all() == EXPECTED_OUT
            assert ch.read_all(1) == EXPECTED_ERR
            assert ch.wait_closed() == 7


def test_many_channels_through_the_spec_api(server, test_user):
    client, rec = spec_logon(server, test_user)
    try:
        channels = [client.open_channel("session") for _ in range(CONCURRENT[server.kind])]
        for ch in channels:
            client.start_service(ch, "exec", GATED)
        for ch in channels:
            client.send_channel_data(ch, b"go\n")
        for ch in channels:
            wait_closed(client, rec, ch, limit=100000)
            assert split_streams(bytes(rec.data[ch])) == (EXPECTED_OUT, EXPECTED_ERR)
            assert rec.exit_status(ch) == 7
    finally:
        client.ssh_logoff()


# ------------------------------------------------------ stdout and stderr

def test_exec_collects_two_floods_at_once(server, test_user):
    with connect(server, test_user) as conn:
        result = conn.exec(FLOOD)
    assert (len(result.stdout), len(result.stderr), result.exit_status) == (8 * MiB, 8 * MiB, 0)
    assert set(result.stderr) == {ord("e")}


def test_drain_hands_stderr_to_its_sink_while_stdout_waits(server, test_user):
    # Both streams share the channel window: waiting for stdout alone while
    # stderr filled the window stalled both until the timeout (301).
    errors: list[bytes] = []
    with connect(server, test_user, timeout=8) as conn:
        with conn.open_session() as ch:
            ch.exec("head -c 8388608 /dev/zero | tr '\\0' e >&2; head -c 8388608 /dev/zero")
            assert ch.drain(stderr_sink=errors.append) == 8 * MiB
            assert ch.wait_closed() == 0
            assert b"".join(errors) + ch.read_all(1) == b"e" * (8 * MiB)


@pytest.mark.parametrize("wanted", [0, 1], ids=["stdout", "stderr"])
def test_a_read_that_cannot_complete_says_so_at_once(server, test_user, wanted):
    # The other stream fills the shared window and nobody reads it: the read
    # used to wait for the 301 timeout; now it says what to do, and nothing
    # is lost: reading the other stream first lets the command finish.
    other = 1 - wanted
    flood = "head -c 8388608 /dev/zero" + (" >&2" if other == 1 else "")
    tail = "echo done" + (" >&2" if wanted == 1 else "")
    with connect(server, test_user, timeout=30) as conn:
        with conn.open_session() as ch:
            ch.exec(f"{flood}; {tail}")
            started = time.monotonic()
            with pytest.raises(sshclient.UsageError) as info:
                ch.read_all(wanted)
            assert time.monotonic() - started < 10
            assert info.value.code == 211
            assert "hold the whole channel window" in str(info.value)
            assert len(ch.read_all(other)) == 8 * MiB
            assert ch.read_all(wanted) == b"done\n"
            assert ch.wait_closed() == 0


# ------------------------------------------------------- stdin and stdout

def test_cat_32_mib_both_ways(server, test_user):
    data = os.urandom(32 * MiB)
    with connect(server, test_user) as conn:
        result = conn.exec("cat", stdin=data)
    assert result.exit_status == 0 and result.stdout == data


def test_cat_32_mib_both_ways_through_the_spec_api(server, test_user):
    data = os.urandom(32 * MiB)
    client, rec = spec_logon(server, test_user)
    try:
        ch = client.open_channel("session")
        client.start_service(ch, "exec", "cat")
        client.send_channel_data(ch, data)  # output is delivered while it sends
        client.send_ssh_packet(ch, 96, b"")  # SSH_MSG_CHANNEL_EOF
        wait_closed(client, rec, ch, limit=100000)
        assert bytes(rec.data[ch]) == data
        assert rec.exit_status(ch) == 0
    finally:
        client.ssh_logoff()


# ------------------------------------------------------------ how it ends

def test_exit_signal_after_partial_output(server, test_user):
    with connect(server, test_user) as conn:
        result = conn.exec("head -c 3000000 /dev/zero; kill -TERM $$; echo never")
    assert (len(result.stdout), result.exit_status, result.exit_signal) == (3000000, None, "TERM")


def test_exit_signal_through_the_spec_api(server, test_user):
    client, rec = spec_logon(server, test_user)
    try:
        ch = client.open_channel("session")
        client.start_service(ch, "exec", "kill -KILL $$")
        wait_closed(client, rec, ch)
        signals = [packet for cid, kind, packet in rec.requests
                   if cid == ch and kind == "exit-signal"]
        assert len(signals) == 1 and b"\x00\x00\x00\x04KILL" in signals[0]
    finally:
        client.ssh_logoff()


def test_exit_status_is_still_there_after_the_channel_is_closed(server, test_user):
    with connect(server, test_user) as conn:
        with conn.open_session() as ch:
            ch.exec("echo hi; exit 4")
            assert ch.wait_closed() == 4
        assert (ch.exit_status, ch.exit_signal) == (4, None)  # was ChannelError 1021


@pytest.mark.parametrize("api", ["pythonic", "spec"])
def test_pty_shell_runs_a_command_sent_on_stdin(server, test_user, api):
    script = b"stty size; echo mark$((6*7)); exit 3\n"
    if api == "pythonic":
        with connect(server, test_user) as conn, conn.open_session() as ch:
            ch.request_pty("xterm", 100, 30)
            ch.shell()
            ch.write(script)
            output = ch.read_all()
            assert ch.wait_closed() == 3
    else:
        client, rec = spec_logon(server, test_user)
        try:
            ch = client.open_channel("session")
            client.open_terminal(ch, "xterm", 100, 30, False, "")
            client.start_service(ch, "shell", "")
            client.send_channel_data(ch, script)
            wait_closed(client, rec, ch)
            output = bytes(rec.data[ch])
            assert rec.exit_status(ch) == 3
        finally:
            client.ssh_logoff()
    assert b"30 100" in output and b"mark42" in output


def test_resize_pty_reaches_the_program(server, test_user):
    with connect(server, test_user) as conn, conn.open_session() as ch:
        ch.request_pty("xterm", 100, 30)
        ch.shell()
        ch.write(b"stty size\n")
        seen = b""
        while b"30 100" not in seen:
            seen += ch.read()
        ch.resize_pty(132, 43, 1056, 688)
        ch.write(b"stty size; exit 0\n")
        output = ch.read_all()
        assert ch.wait_closed() == 0
    assert b"43 132" in output
    with pytest.raises(sshclient.UsageError) as info:
        ch.resize_pty(-1, 24)
    assert info.value.code == 211


# --------------------------------------------------- many short channels

def _sizes(*objects: object) -> dict[str, int]:
    """The length of every container attribute of `objects`."""
    return {f"{type(o).__name__}.{name}": len(value)
            for o in objects for name, value in vars(o).items()
            if isinstance(value, (dict, list, set)) or type(value).__name__ == "deque"}


def test_short_execs_leave_no_per_channel_state(server, test_user):
    with connect(server, test_user) as conn:
        conn.exec("true")
        before = _sizes(conn, conn._proto.connection)
        for _ in range(300):
            assert conn.exec("echo x").stdout == b"x\n"
        after = _sizes(conn, conn._proto.connection)
        assert len(conn._proto.engine.channels) == 0
    assert after == before  # grew by one entry per channel before


def test_short_channels_through_the_spec_api_leave_no_state(server, test_user):
    client, rec = spec_logon(server, test_user)
    try:
        def run() -> None:
            ch = client.open_channel("session")
            client.start_service(ch, "exec", "true")
            wait_closed(client, rec, ch)

        run()
        proto = client._proto
        before = _sizes(client, proto.connection)
        for _ in range(300):
            run()
        assert _sizes(client, proto.connection) == before
        assert client.ssh_channel_count == 0 and len(proto.engine.channels) == 0
    finally:
        client.ssh_logoff()


# ------------------------------------------------ re-keying and tunnels

def test_rekeying_while_many_channels_stream(sshd_factory, test_user):
    server = sshd_factory({"RekeyLimit": "256K"})
    command = "head -c 1000000 /dev/urandom | od -An -tx1 | head -c 1000000; " + INTERLEAVED
    with connect(server, test_user, rekey_bytes=1 * MiB) as conn:
        kex_before = conn._proto.transport.kex_count
        channels = [conn.open_session() for _ in range(16)]
        for ch in channels:
            ch.exec(command)
        for ch in channels:
            out = ch.read_all()
            assert len(out) == 1000000 + len(EXPECTED_OUT) and out.endswith(EXPECTED_OUT)
            assert ch.read_all(1) == EXPECTED_ERR
            assert ch.wait_closed() == 7
        assert conn._proto.transport.kex_count - kex_before >= 5


def test_tunnel_and_session_carry_data_both_ways_at_once(server, test_user, tcp_echo):
    data = os.urandom(4 * MiB)
    with connect(server, test_user) as conn:
        tunnel = conn.open_tcpip(*tcp_echo.address)
        session = conn.open_session()
        session.exec("cat")
        received: dict[int, list[bytes]] = {tunnel.id: [], session.id: []}
        table = conn._proto.engine.channels
        sent = {tunnel.id: 0, session.id: 0}
        view = memoryview(data)
        while min(sent.values()) < len(data):
            for ch in (tunnel, session):
                if sent[ch.id] < len(data):
                    sent[ch.id] += ch._ch.send(view[sent[ch.id]:sent[ch.id] + 65536])
                if table.available(ch.id, 0):
                    received[ch.id].append(ch.read())
            conn._driver.send_queued()
            conn._driver.pump(0.01)
        for ch in (tunnel, session):
            ch.send_eof()
            received[ch.id].append(ch.read_all())
            assert b"".join(received[ch.id]) == data
        assert session.wait_closed() == 0

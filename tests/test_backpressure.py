"""Caps apply backpressure: a peer that stays inside every window we gave it
is never failed by one of our buffers, however long the application pauses.

Several channels each have their whole window (2 MiB) in flight while the
application does not read; the kernel then holds far more than the engine's
receive buffer (8 MiB) and the driver must stop reading, process, and read
again, never fail with "receive buffer limit reached".
"""
from __future__ import annotations

import struct
import time

import pytest

import sshclient
from reference_codec import random_keys
from spec_client import password_client
from sshcore.packet import PacketEngine

CHANNELS = 12                 # 12 x 2 MiB windows = 24 MiB legitimately in flight
PER_CHANNEL = 20_000_000
PAUSE = 1.5                   # the application "busy elsewhere", reading nothing
# A warm-up download lets the kernel's receive-buffer autotuning grow the socket
# buffer first, so that the pause really leaves more than 8 MiB waiting in it.
WARM_UP = "head -c 300000000 /dev/zero"
STREAM = f"head -c {PER_CHANNEL} /dev/zero"


@pytest.fixture(params=["sshd", "dropbear"])
def server(request):
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------ sans-IO

def test_full_receive_buffer_asks_for_processing_instead_of_failing():
    """The engine's contract: at the limit recv_buffer() is empty (process
    first); after processing there is room again; nothing is lost."""
    limit = 300 * 1024
    srv = PacketEngine()
    cli = PacketEngine(recv_buffer_limit=limit)
    keys = random_keys("aes128-gcm@openssh.com", None)
    srv.set_outgoing("aes128-gcm@openssh.com", *keys)
    cli.set_incoming("aes128-gcm@openssh.com", *keys)
    table = cli.channels
    for lid in range(4):
        table.add(lid, 1 << 20, 32768)
        table.confirm(lid, 100 + lid, 1 << 20, 32768)
    chunk = bytes(range(256)) * 128                     # 32 KiB
    for _ in range(32):                                 # 1 MiB per channel: the whole window
        for lid in range(4):
            srv.send_packet(struct.pack(">BII", 94, lid, len(chunk)) + chunk)
    wire = memoryview(srv.take_output())
    assert len(wire) > 10 * limit
    pos = full = 0
    while pos < len(wire):
        view = cli.recv_buffer(65536)
        if not len(view):
            full += 1
            assert cli.next_packet() is None            # everything was routed to channels
            continue
        n = min(len(view), len(wire) - pos)
        view[:n] = wire[pos:pos + n]
        del view
        cli.recv_commit(n)
        pos += n
    while cli.next_packet() is not None:
        pass
    assert full > 0                                     # the limit was reached ...
    for lid in range(4):                                # ... and nothing was lost
        assert table.available(lid) == 32 * len(chunk)
        assert table.read(lid, 32768) == chunk


# ------------------------------------------------------------- real servers

def test_paused_reader_with_full_windows_blocking_api(server, test_user):
    with sshclient.connect(server.host, server.port, username=test_user.name,
                           password=test_user.password, accept_any_host_key=True,
                           timeout=60) as conn:
        with conn.open_session() as ch:
            ch.exec(WARM_UP)
            ch.drain()
        channels = []
        for _ in range(CHANNELS):
            ch = conn.open_session()
            ch.exec(STREAM)
            channels.append(ch)
        time.sleep(PAUSE)
        received = [ch.drain() for ch in channels]
        assert received == [PER_CHANNEL] * CHANNELS
        assert [ch.wait_closed() for ch in channels] == [0] * CHANNELS
        assert conn.exec("echo still-alive").stdout == b"still-alive\n"


def test_paused_reader_with_full_windows_spec_api(server, test_user):
    client = password_client(test_user, timeout=60)
    received: dict[str, int] = {}
    closed: set[str] = set()
    client.on_ssh_channel_data = lambda e: received.__setitem__(
        e.channel_id, received.get(e.channel_id, 0) + len(e.channel_data))
    client.on_ssh_channel_closed = lambda e: closed.add(e.channel_id)
    client.ssh_logon(server.host, server.port)
    try:
        warm = client.open_channel("session")
        client.start_service(warm, "exec", WARM_UP)
        while warm not in closed:
            client.do_events()
        ids = []
        for _ in range(CHANNELS):
            ch = client.open_channel("session")
            client.start_service(ch, "exec", STREAM)
            ids.append(ch)
        time.sleep(PAUSE)
        while not closed.issuperset(ids):
            client.do_events()
        assert [received.get(ch, 0) for ch in ids] == [PER_CHANNEL] * CHANNELS
        assert client.connected
    finally:
        client.ssh_logoff()

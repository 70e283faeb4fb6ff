"""How the spec API hands out events: a handler that raises loses none of
the events after its own (they come with the next do_events()), and a
handler that waits (do_events(), a blocking send or close) is never called
again inside itself: what arrives meanwhile waits for it to return."""
from __future__ import annotations

import time

import pytest

from peer import ExecSpec
from spec_client import password_client

PEER_USER, PEER_PASSWORD = "tester", "secret"


class Failing(Exception):
    pass


def pump_until(client, done, limit: float = 20.0) -> list[BaseException]:
    """do_events() until done(); the handlers' exceptions, in order."""
    raised: list[BaseException] = []
    end = time.monotonic() + limit
    while not done():
        assert time.monotonic() < end, "timed out waiting"
        try:
            client.do_events()
        except Failing as exc:
            raised.append(exc)
    return raised


def peer_client(peer):
    from types import SimpleNamespace

    c = password_client(SimpleNamespace(name=PEER_USER, password=PEER_PASSWORD))
    c.ssh_logon(peer.host, peer.port)
    return c


def test_events_after_a_raising_handler_still_come(make_peer):
    """The peer answers the exec with its data, EOF and CLOSE at once, so
    they are handled in one batch: the EOF handler raising must not take
    the CLOSE (and the data) with it."""
    peer = make_peer(username=PEER_USER, password=PEER_PASSWORD,
                     commands={"hello": ExecSpec(stdout=b"hello\n", exit_status=0)})
    c = peer_client(peer)
    seen: list[str] = []
    data = bytearray()
    c.on_ssh_channel_data = lambda e: (seen.append("data"), data.extend(e.channel_data))

    def eof(e) -> None:
        seen.append("eof")
        raise Failing("the application's own error")
    c.on_ssh_channel_eof = eof
    c.on_ssh_channel_closed = lambda e: seen.append("closed")
    channel = c.open_channel("session")
    try:
        c.start_service(channel, "exec", "hello")
    except Failing:
        pass  # the batch with the answer may be handled inside start_service
    raised = pump_until(c, lambda: "closed" in seen)
    assert seen.count("eof") == 1 and seen.count("closed") == 1
    assert seen.index("eof") < seen.index("closed")
    assert bytes(data) == b"hello\n"
    assert len(raised) <= 1
    c.ssh_logoff()


@pytest.mark.parametrize("wait_with", ["do_events", "send", "close"])
def test_a_waiting_handler_is_not_called_inside_itself(sshd, test_user, wait_with):
    """Each data event's handler waits on the connection: data keeps
    arriving meanwhile, yet no handler runs while another is running, and
    every byte is delivered once, in order."""
    c = password_client(test_user)
    c.ssh_logon(sshd.host, sshd.port)
    depth = deepest = 0
    got = bytearray()
    other = c.open_channel("session")
    c.start_service(other, "exec", "cat > /dev/null")
    channel = c.open_channel("session")
    closed: list[str] = []

    def on_data(e) -> None:
        nonlocal depth, deepest
        depth += 1
        deepest = max(deepest, depth)
        try:
            if e.channel_id == channel:
                got.extend(e.channel_data)
                if wait_with == "do_events":
                    c.do_events()
                elif wait_with == "send":
                    c.send_channel_data(other, bytes(256 * 1024))
                elif len(got) >= 100_000 and other not in closed:
                    closed.append(other)
                    c.close_channel(other)  # waits for the server's close
        finally:
            depth -= 1
    c.on_ssh_channel_data = on_data
    c.on_ssh_channel_closed = lambda e: closed.append(e.channel_id)
    c.start_service(channel, "exec", "seq 1 200000")
    pump_until(c, lambda: channel in closed)
    assert deepest == 1
    assert bytes(got) == b"".join(b"%d\n" % i for i in range(1, 200001))
    if wait_with == "close":
        assert closed.count(other) == 2  # ours, then the event once it was handed out
    c.ssh_logoff()

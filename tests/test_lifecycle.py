"""The channel lifecycle table (sshclient/lifecycle.py) on its own: every
move it has, and that every move it lacks is refused the right way."""
from __future__ import annotations

import itertools

import pytest

from sshclient.errors import RemoteProtocolError, UsageError
from sshclient.lifecycle import C_FLAGS, OURS, THEIRS, Lifecycle, Phase


def life(ours: Phase, theirs: Phase) -> Lifecycle:
    lc = Lifecycle()
    lc.ours, lc.theirs = ours, theirs
    return lc


def test_a_whole_channel_as_a_client_sees_it():
    lc = Lifecycle()
    assert not lc.opened and not lc.close_sent
    assert lc.apply("confirm") == [("ours", Phase.OPEN), ("theirs", Phase.OPEN)]
    lc.apply("send_eof")
    assert lc.eof_sent and not lc.close_sent
    lc.apply("recv_eof")
    assert lc.eof_received and not lc.close_received
    lc.apply("recv_close")
    lc.apply("send_close")
    assert lc.close_received and lc.close_sent and lc.opened


def test_closed_before_the_open_was_answered():
    lc = Lifecycle()
    lc.apply("send_close")
    assert lc.ours is Phase.CLOSE_WANTED and lc.close_sent and not lc.opened
    lc.apply("confirm")
    assert lc.ours is Phase.CLOSED and lc.theirs is Phase.OPEN
    lc = Lifecycle()
    lc.apply("send_close")
    lc.apply("refuse")
    assert lc.open_failed and lc.ours is Phase.FAILED


def test_the_servers_close_without_eof_still_means_no_more_data():
    lc = life(Phase.OPEN, Phase.OPEN)
    lc.apply("recv_close")
    assert lc.eof_received and lc.close_received


@pytest.mark.parametrize("event,state", [
    (event, state) for event, state in itertools.product(
        ["confirm", "refuse", "recv_eof", "recv_close"], list(Phase))
    if state not in THEIRS[event]])
def test_a_server_move_the_table_lacks_is_1023(event, state):
    lc = life(Phase.OPEN, state)
    with pytest.raises(RemoteProtocolError) as excinfo:
        lc.apply(event)
    assert excinfo.value.code == 1023
    assert lc.theirs is state  # nothing moved


@pytest.mark.parametrize("event,state", [
    (event, state) for event, state in itertools.product(["send_eof", "send_close"],
                                                         list(Phase))
    if state not in OURS[event]])
def test_a_move_of_ours_the_table_lacks_is_a_usage_error(event, state):
    lc = life(state, Phase.OPEN)
    with pytest.raises(UsageError):
        lc.apply(event)
    assert lc.ours is state


def test_every_c_flag_names_a_state_the_tables_can_enter():
    entered = {("ours", s) for moves in OURS.values() for s in moves.values()} | {
        ("theirs", s) for moves in THEIRS.values() for s in moves.values()}
    assert set(C_FLAGS) <= entered
    from sshcore.channels import ChannelTable
    assert all(callable(getattr(ChannelTable, name)) for name in C_FLAGS.values())

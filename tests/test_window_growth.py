"""Channel windows grow on a long link and only there: the round trip comes
from the protocol's own request/answer pairs (round_trip.py), the decision
from the rate each channel moves per round trip (ChannelTable.grow_windows;
the core's rule itself is tested in test_core_channels.py). The long link is
bench/relay.py, which holds every chunk for half the round trip each way."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import types

import pytest

from front_ends import api_fixture, login, server_fixture  # noqa: F401  (fixtures)
from sshclient import constants as c
from sshclient.options import DEFAULT_WINDOW, DEFAULT_WINDOW_LIMIT, ClientOptions
from sshclient.round_trip import RoundTripEstimate

RELAY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "bench", "relay.py")
RTT = 0.06
MiB = 1 << 20


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_estimate_is_the_least_matched_pair():
    clock = FakeClock()
    rt = RoundTripEstimate(clock)
    assert rt.best is None
    rt.received(c.MSG_SERVICE_ACCEPT)           # an answer nobody timed: nothing
    rt.sent(c.MSG_SERVICE_REQUEST)
    clock.now += 0.050
    rt.received(c.MSG_SERVICE_ACCEPT)
    assert rt.best == pytest.approx(0.050)
    rt.sent(c.MSG_USERAUTH_REQUEST)
    clock.now += 0.300                           # the server took its time (PAM)
    rt.received(c.MSG_USERAUTH_FAILURE)
    assert rt.best == pytest.approx(0.050)      # a longer sample never raises it
    rt.sent(c.MSG_CHANNEL_OPEN)
    rt.sent(c.MSG_KEXINIT)                       # not a request that is answered
    clock.now += 0.040
    rt.received(c.MSG_CHANNEL_DATA)              # not an answer
    rt.received(c.MSG_CHANNEL_OPEN_CONFIRMATION)
    assert rt.best == pytest.approx(0.040)


def test_one_request_per_kind_is_timed_so_a_sample_is_never_short():
    """Two opens in flight: the first answer is timed from the first open,
    whichever open it answers, so the sample can only come out long."""
    clock = FakeClock()
    rt = RoundTripEstimate(clock)
    rt.sent(c.MSG_CHANNEL_OPEN)
    clock.now += 0.030
    rt.sent(c.MSG_CHANNEL_OPEN)                  # not timed: one is already
    clock.now += 0.045
    rt.received(c.MSG_CHANNEL_OPEN_FAILURE)      # (the second open's, say)
    rt.received(c.MSG_CHANNEL_OPEN_CONFIRMATION)  # untimed: no request timed now
    assert rt.best == pytest.approx(0.075)
    rt.sent(c.MSG_USERAUTH_REQUEST)
    clock.now += 0.010
    rt.received(c.MSG_CHANNEL_OPEN_CONFIRMATION)  # another kind's answer
    assert rt.best == pytest.approx(0.075)


def test_only_connect_lets_windows_grow():
    """The spec API's window is the size it is given; connect() starts at
    DEFAULT_WINDOW and may grow to DEFAULT_WINDOW_LIMIT."""
    assert ClientOptions().window_limit == 0
    assert DEFAULT_WINDOW_LIMIT > DEFAULT_WINDOW


@pytest.fixture
def long_link(server):
    """bench/relay.py in front of `server`: a link with an RTT round trip."""
    relay = subprocess.Popen([sys.executable, RELAY, "--target-port", str(server.port),
                              "--rtt-ms", str(RTT * 1000)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = relay.stdout.readline()
        assert line.startswith("ready "), line
        yield types.SimpleNamespace(host=server.host, port=int(line.split()[1]))
    finally:
        relay.stdin.close()
        relay.wait(10)


def test_window_grows_on_a_long_link(api, long_link, test_user):
    n = 48 * MiB
    with login(api, long_link, test_user) as conn:
        proto = conn._proto
        # the relay holds every request and its answer: no pair is shorter
        assert proto.transport.round_trip.best >= RTT
        assert proto.windows_grown == 0
        assert len(conn.exec(f"head -c {n} /dev/zero").stdout) == n
        # 2 MiB per 60 ms is the window's pace, far below what the relay carries
        assert proto.windows_grown >= 1


def test_a_fixed_window_stays_fixed_on_a_long_link(api, long_link, test_user):
    n = 8 * MiB
    with login(api, long_link, test_user, window_limit=0) as conn:
        assert len(conn.exec(f"head -c {n} /dev/zero").stdout) == n
        assert conn._proto.windows_grown == 0


def test_data_stays_intact_as_the_window_grows_to_its_limit(api, long_link, test_user):
    """Random data, its digest taken on the server: nothing is lost or
    doubled while the window grows; 256 KiB with a 1 MiB limit can double
    twice on the one channel, no more."""
    n = 24 * MiB
    with login(api, long_link, test_user, window_size=256 * 1024,
               window_limit=1 * MiB) as conn:
        result = conn.exec(f"f=$(mktemp); head -c {n} /dev/urandom >$f; sha256sum <$f >&2; "
                           f"cat $f; rm -f $f")
        assert len(result.stdout) == n
        assert result.stderr.split()[0].decode() == hashlib.sha256(result.stdout).hexdigest()
        assert 1 <= conn._proto.windows_grown <= 2

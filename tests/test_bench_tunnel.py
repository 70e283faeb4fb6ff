"""The pure parts of bench/tunnel.py, bench/forwards.py, bench/endpoint.py
and bench/relay.py: size parsing, stream splits, /proc parsing, the relay's
release schedule. No timing is asserted."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))

from endpoint import stream_sizes  # noqa: E402
from forwards import CLOCK_TICKS, listening_ports, proc_cpu_seconds  # noqa: E402
from relay import release_time  # noqa: E402
from tunnel import parse_size  # noqa: E402


@pytest.mark.parametrize("text, expected", [
    ("1G", 1 << 30), ("256M", 256 << 20), ("64K", 64 << 10), ("1GiB", 1 << 30),
    ("0.5G", 1 << 29), ("12345", 12345), ("2m", 2 << 20)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("nbytes, streams", [(1 << 30, 1), (1 << 30, 8), (10, 3), (7, 8)])
def test_stream_sizes_add_up_and_differ_by_at_most_one(nbytes, streams):
    sizes = stream_sizes(nbytes, streams)
    assert len(sizes) == streams
    assert sum(sizes) == nbytes
    assert max(sizes) - min(sizes) <= 1


PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 3 1
"""


def test_listening_ports_only_listeners_on_loopback():
    # 8080 listens on 127.0.0.1; 22 on 0.0.0.0 (not ours); 8081 is an
    # established connection, not a listener
    assert listening_ports(PROC_NET_TCP) == [8080]


def test_proc_cpu_seconds_counts_from_the_name_parenthesis():
    fields = ["S"] + ["0"] * 10 + [str(3 * CLOCK_TICKS), str(CLOCK_TICKS)] + ["0"] * 30
    line = "1234 (odd) name) " + " ".join(fields)
    assert proc_cpu_seconds(line) == pytest.approx(4.0)


def test_proc_cpu_seconds_of_this_process_is_a_number():
    with open(f"/proc/{os.getpid()}/stat") as f:
        assert proc_cpu_seconds(f.read()) >= 0


def test_release_time_without_a_cap_is_the_due_time():
    assert release_time(5.0, 9.0, 1 << 20, None) == (5.0, 5.0)


def test_release_time_with_a_cap_spaces_chunks_by_their_size():
    leave, free = release_time(1.0, 0.0, 1_000_000, 1e6)  # 1 MB at 1 MB/s
    assert (leave, free) == (1.0, 2.0)
    leave, free = release_time(1.5, free, 500_000, 1e6)  # due while the link is busy
    assert (leave, free) == (2.0, 2.5)

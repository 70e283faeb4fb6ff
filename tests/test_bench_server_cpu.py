"""bench/server_cpu.py: the benchmark's count of sshd's CPU time.

What it must get right is the case rusage misses: a process that outlives
its parent (as an SSH session's processes do) is still counted.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))

from server_cpu import ServerCpu  # noqa: E402

# The child waits for a line on stdin (so it is in the cgroup before it
# works), forks a grandchild that burns ~0.3 s of CPU, and exits at once.
_ORPHAN_MAKER = """
import os, sys, time
sys.stdin.readline()
if os.fork() == 0:
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    os._exit(0)
os._exit(0)
"""


@pytest.fixture
def meter_and_child():
    child = subprocess.Popen([sys.executable, "-c", _ORPHAN_MAKER], stdin=subprocess.PIPE)
    meter = ServerCpu.open(child.pid)
    if meter is None:
        child.kill()
        child.wait()
        pytest.skip("no writable cgroup here (needs root and cgroup v2 or v1 cpuacct)")
    yield meter, child
    child.wait()
    meter.close()


def test_counts_cpu_of_an_orphaned_grandchild(meter_and_child):
    meter, child = meter_and_child
    before = meter.seconds()
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    child.stdin.close()
    child.wait()
    # the grandchild is nobody's child now; settled() waits for it to leave
    used = meter.settled(timeout=30) - before
    assert used >= 0.25


def test_close_removes_the_cgroup(meter_and_child):
    meter, child = meter_and_child
    assert child.stdin is not None
    child.stdin.close()
    child.wait()
    meter.close()
    assert not os.path.exists(meter.directory)

"""CPU time of the sshd under test, counted by a cgroup it is moved into.

Why a cgroup: an SSH session's processes (privilege-separation monitor,
``sshd: user@notty``, the command it runs) end up orphaned when the monitor
exits, so their CPU time never reaches the listener's rusage; a cgroup
counts every process forked below the listener, whoever reaps it.

It needs root and a writable cgroup hierarchy (v2, or v1 with the cpuacct
controller). Where that is missing, ``ServerCpu.open`` returns None and the
benchmark reports no server figures.
"""
from __future__ import annotations

import contextlib
import os
import time
from typing import List, Optional, Tuple


def _own_cgroups() -> List[Tuple[str, str]]:
    """(controllers, path) of this process, from /proc/self/cgroup."""
    out = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _hier, controllers, path = line.rstrip("\n").split(":", 2)
            out.append((controllers, path))
    return out


def _mounts() -> List[Tuple[str, str, str, str]]:
    """(mount root, mount point, fs type, super options) of cgroup mounts."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, post = line.split(" - ", 1)
            fields, tail = pre.split(), post.split()
            if tail[0] in ("cgroup", "cgroup2"):
                out.append((fields[3], fields[4], tail[0], tail[2] if len(tail) > 2 else ""))
    return out


def _under(mount_root: str, mount_point: str, path: str) -> Optional[str]:
    """The directory of cgroup `path` inside a mount of `mount_root`."""
    if mount_root != "/" and not (path + "/").startswith(mount_root.rstrip("/") + "/"):
        return None
    rel = path[len(mount_root.rstrip("/")):] if mount_root != "/" else path
    return os.path.join(mount_point, rel.lstrip("/"))


def _candidates() -> List[Tuple[str, str, str]]:
    """(parent directory, usage file, kind) to try, cgroup v2 first."""
    own = _own_cgroups()
    v2_path = next((p for c, p in own if c == ""), None)
    v1_path = next((p for c, p in own if "cpuacct" in c.split(",")), None)
    out = []
    for root, point, fstype, opts in _mounts():
        if fstype == "cgroup2" and v2_path is not None:
            parent = _under(root, point, v2_path)
            if parent:
                out.append((parent, "cpu.stat", "v2"))
        elif fstype == "cgroup" and "cpuacct" in opts.split(",") and v1_path is not None:
            parent = _under(root, point, v1_path)
            if parent:
                out.append((parent, "cpuacct.usage", "v1"))
    return sorted(out, key=lambda c: c[2] != "v2")


class ServerCpu:
    """CPU seconds used by one process tree (the sshd listener and all it forks)."""

    def __init__(self, pid: int, parent: str, directory: str, usage_file: str,
                 kind: str) -> None:
        self.pid = pid
        self.parent = parent
        self.directory = directory
        self.usage_file = usage_file
        self.kind = kind

    @classmethod
    def open(cls, pid: int) -> Optional[ServerCpu]:
        """Move `pid` (before it forks anything) into a cgroup of its own."""
        try:
            candidates = _candidates()
        except (OSError, ValueError, IndexError):  # no /proc, or a layout we do not know
            return None
        for parent, usage, kind in candidates:
            directory = os.path.join(parent, f"sshclient-bench-{os.getpid()}")
            try:
                os.makedirs(directory, exist_ok=True)
                with open(os.path.join(directory, "cgroup.procs"), "w") as f:
                    f.write(str(pid))
                meter = cls(pid, parent, directory, os.path.join(directory, usage), kind)
                meter.seconds()
                return meter
            except OSError:
                with contextlib.suppress(OSError):
                    os.rmdir(directory)
        return None

    def seconds(self) -> float:
        """CPU seconds (user + system) of every process that was in the cgroup."""
        with open(self.usage_file) as f:
            text = f.read()
        if self.kind == "v1":
            return int(text) / 1e9
        for line in text.splitlines():
            name, value = line.split()
            if name == "usage_usec":
                return int(value) / 1e6
        raise OSError(f"no usage_usec in {self.usage_file}")

    def settled(self, timeout: float = 5.0) -> float:
        """seconds() once only the listener is left, i.e. the sessions of
        earlier connections have exited and their CPU time is counted."""
        deadline = time.monotonic() + timeout
        procs = os.path.join(self.directory, "cgroup.procs")
        while time.monotonic() < deadline:
            with open(procs) as f:
                if set(f.read().split()) <= {str(self.pid)}:
                    break
            time.sleep(0.01)
        return self.seconds()

    def close(self) -> None:
        """Put the listener back (if it still runs) and remove the cgroup."""
        with contextlib.suppress(OSError):
            with open(os.path.join(self.parent, "cgroup.procs"), "w") as f:
                f.write(str(self.pid))
        for _ in range(100):
            try:
                os.rmdir(self.directory)
                return
            except FileNotFoundError:
                return
            except OSError:  # busy: a last session is still leaving
                time.sleep(0.02)

"""Running port-forward clients and the TCP endpoint as child processes
(shared by bench/tunnel.py and bench/longlink.py).

A forward client is a child process that listens on 127.0.0.1 and carries
each connection through its SSH connection: to a fixed target (``-L``) or
to the one each connection asks for in SOCKS (``-D``). It is a command,
OpenSSH ``ssh -N -L PORT:127.0.0.1:TARGET`` / ``ssh -N -D PORT`` or our own
``sshclient`` with the same options (`CommandForward`), or
bench/_clients/forwarder.py (our blocking or asyncio API, `OurForward`).
Its CPU time over one transfer is read from
/proc/PID/stat (all its threads) just before and after; its peak RSS from
os.wait4 when it exits. The transfer itself is done by bench/endpoint.py,
another child, which is both the forward's target and its user.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import IO, List, Optional, Tuple

from harness import HERE, maxrss_mb, servers

FORWARDER = os.path.join(HERE, "_clients", "forwarder.py")
ENDPOINT = os.path.join(HERE, "endpoint.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp


# --------------------------------------------------------------------------
# /proc readings
# --------------------------------------------------------------------------

def proc_cpu_seconds(stat_line: str) -> float:
    """utime + stime of a /proc/PID/stat line, in seconds (the process's
    threads included). The command name in parentheses may hold spaces, so
    fields are counted from its closing parenthesis."""
    fields = stat_line[stat_line.rindex(")") + 2:].split()
    # after the name: state is field 3 of the man page; utime 14, stime 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        return proc_cpu_seconds(f.read())


def listening_ports(proc_net_tcp: str, address: str = "0100007F") -> List[int]:
    """Ports in LISTEN state on `address` (hex as /proc/net/tcp writes it;
    the default is 127.0.0.1) in the text of /proc/net/tcp."""
    ports = []
    for line in proc_net_tcp.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != TCP_LISTEN:
            continue
        host, _, port = fields[1].partition(":")
        if host == address:
            ports.append(int(port, 16))
    return ports


def is_listening(port: int) -> bool:
    with open("/proc/net/tcp") as f:
        return port in listening_ports(f.read())


# --------------------------------------------------------------------------
# Forward clients
# --------------------------------------------------------------------------

@dataclass
class Exit:
    """How a forward client ended: its whole-life CPU and peak RSS (wait4)."""
    cpu: float
    maxrss_mb: float
    error: str = ""


class ForwardClient:
    """One running forward client (see the module docstring): `port` is
    where it listens; `stop()` ends it and reaps it."""

    def __init__(self, argv: List[str], stdin: int | IO[bytes]) -> None:
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, close_fds=True)
        self.port = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return process_cpu(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> Exit:
        """End the client (closing its stdin: ours close their connection
        and exit; ssh gets SIGTERM) and reap it with wait4."""
        self._ask_to_stop()
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
            time.sleep(0.01)
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen quiet
        err = self.proc.stderr.read().decode("utf-8", "replace").strip() if self.proc.stderr \
            else ""
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        ok_codes = self._ok_exit_codes()
        error = "" if self.proc.returncode in ok_codes else \
            f"exit {self.proc.returncode}: {err[-300:]}"
        return Exit(ru.ru_utime + ru.ru_stime, maxrss_mb(ru), error)

    def _ask_to_stop(self) -> None:
        raise NotImplementedError

    def _ok_exit_codes(self) -> tuple:
        return (0,)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(5)


class CommandForward(ForwardClient):
    """`ssh -N -L|-D ...` or `sshclient -N -L|-D ...` listening on PORT:
    ready once PORT is in /proc/net/tcp (a test connection would open a
    channel); ended with SIGTERM."""

    def __init__(self, argv: List[str], port: int, timeout: float, name: str) -> None:
        super().__init__(argv, subprocess.DEVNULL)
        self.port = port
        deadline = time.monotonic() + timeout
        while not is_listening(port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                self.kill()
                raise RuntimeError(f"{name} did not listen on {port}: {err.strip()[-300:]}")
            time.sleep(0.005)

    def _ask_to_stop(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.terminate()

    def _ok_exit_codes(self) -> tuple:
        return (0, 255, -15)  # ssh exits 255 on SIGTERM, sshclient -N 0


class OurForward(ForwardClient):
    """bench/_clients/forwarder.py: ready when it prints `ready PORT`."""

    def __init__(self, api: str, cfg: dict, target: tuple, timeout: float,
                 kind: str = "L") -> None:
        spec = {"api": api, "kind": kind, "cfg": cfg, "target": list(target)}
        super().__init__([sys.executable, FORWARDER, json.dumps(spec)], subprocess.PIPE)
        line = read_line(self.proc.stdout, timeout)
        if not line.startswith("ready "):
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            self.kill()
            raise RuntimeError(f"forwarder did not start: {line!r} {err.strip()[-300:]}")
        self.port = int(line.split()[1])

    def _ask_to_stop(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()


def read_line(pipe: Optional[IO[bytes]], timeout: float) -> str:
    """One line from a child's stdout, or "" on timeout or EOF."""
    assert pipe is not None
    ready, _, _ = select.select([pipe], [], [], timeout)
    return pipe.readline().decode().strip() if ready else ""


def forward_args(kind: str, listen_port: int, target: Tuple[str, int]) -> List[str]:
    """The -L or -D option, ssh's syntax (our CLI takes the same), listening
    on 127.0.0.1:listen_port; a -D forward's target comes from SOCKS."""
    if kind == "D":
        return ["-D", f"127.0.0.1:{listen_port}"]
    return ["-L", f"127.0.0.1:{listen_port}:{target[0]}:{target[1]}"]


def ssh_forward_argv(server, key_path: str, forward: List[str], cipher: str, mac: str,
                     kex: str, port: Optional[int] = None) -> List[str]:
    """`ssh -N` + forward (forward_args()) with the cipher, MAC and kex
    pinned as compare.py pins them; `port` overrides the server's (to go
    through a relay)."""
    address = (server.host, port or server.port)
    return servers.ssh_command(
        address, key=key_path, options={"KexAlgorithms": kex, "ExitOnForwardFailure": "yes"},
        extra_args=["-c", cipher, "-m", mac, "-N", *forward])


# The -o options of servers.ssh_command() that our CLI honours. It has no -F
# and reads no ssh_config, uses no agent, and tries only the -i key when one
# is given: ssh's -F /dev/null, IdentitiesOnly, IdentityAgent=none and
# PreferredAuthentications=publickey would change nothing (it refuses them
# by name).
CLI_OPTIONS = {"BatchMode": "yes", "GlobalKnownHostsFile": "/dev/null",
               "UserKnownHostsFile": "/dev/null", "StrictHostKeyChecking": "no",
               "LogLevel": "ERROR", "ConnectTimeout": "10", "ServerAliveInterval": "0",
               "ExitOnForwardFailure": "yes"}


def cli_forward_argv(address: Tuple[str, int], user: str, key_path: str, forward: List[str],
                     cipher: str, mac: str, kex: str) -> List[str]:
    """Our own command, `sshclient -N` + forward, with what ssh_forward_argv()
    gives ssh. Run as `python -m sshclient` with this interpreter, so that
    it is the same sshclient as the API rows (the console script runs the
    same code, `sshclient.cli.main`)."""
    argv = [sys.executable, "-m", "sshclient", "-N", "-p", str(address[1]), "-l", user,
            "-i", key_path, "-c", cipher, "-m", mac, "-o", f"KexAlgorithms={kex}"]
    for name, value in CLI_OPTIONS.items():
        argv += ["-o", f"{name}={value}"]
    return argv + [*forward, address[0]]


# --------------------------------------------------------------------------
# Helper processes: the endpoint, the relay
# --------------------------------------------------------------------------

class HelperProcess:
    """A long-lived child that prints `ready PORT` once it listens and ends
    when its stdin closes (bench/endpoint.py, bench/relay.py)."""

    def __init__(self, argv: List[str], timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     close_fds=True)
        line = read_line(self.proc.stdout, timeout)
        if not line.startswith("ready "):
            self.close()
            raise RuntimeError(f"{os.path.basename(argv[1])} did not start: {line!r}")
        self.port = int(line.split()[1])

    def cpu(self) -> float:
        return process_cpu(self.proc.pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class EndpointProcess(HelperProcess):
    """bench/endpoint.py: `port` is its target port; `run()` one transfer."""

    def __init__(self) -> None:
        super().__init__([sys.executable, ENDPOINT])

    def run(self, op: str, port: int, streams: int, nbytes: int, timeout: float,
            socks: bool = False) -> dict:
        """One transfer; `socks`: port is a SOCKS server, asked for the target."""
        assert self.proc.stdin is not None
        command = {"op": op, "port": port, "streams": streams, "nbytes": nbytes,
                   "timeout": timeout, "socks": socks}
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        self.proc.stdin.flush()
        line = read_line(self.proc.stdout, timeout + 30)
        if not line:
            return {"ok": False, "error": "endpoint gave no answer"}
        answer: dict = json.loads(line)
        return answer

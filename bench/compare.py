#!/usr/bin/env python
"""Side-by-side benchmark: OpenSSH ``ssh``, sshclient (spec and fast APIs),
paramiko, asyncssh and ssh2-python against one throwaway local sshd, in the
same run.

    /work/venv/bin/python bench/compare.py [--quick] [--size N] [--runs 5] \
        [--out bench/results]

Needs root (tests/servers.py creates the user ``sshclient-test`` and runs sshd).
For each cipher suite it measures download (exec ``head -c N /dev/zero``),
upload (exec ``cat > /dev/null``), a direct-tcpip tunnel from a local TCP
source, the handshake (connect + kex + publickey auth + exec ``true`` +
close) and each client's own CPU seconds per GB. Every client runs in a
child process (``ssh`` itself, or ``bench/_clients/runner.py``) so that
``os.wait4`` gives that client's CPU time alone. Clients alternate within
each round, the figure is the median of the rounds, and every figure is
also given as a ratio to ``ssh`` measured in the same run. See
bench/README.md for the method and its caveats.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

# harness puts bench/_clients (common) and tests/ (servers) on sys.path: it goes first.
# isort: off
from harness import (  # bench/harness.py
    HERE,
    LocalSshd,
    cpu_of,
    environment,
    failure,
    interrupt_on_signals,
    maxrss_mb,
    require_root,
    run_runner,
    save_report,
    servers,
    spawn,
)
from server_cpu import ServerCpu  # bench/server_cpu.py
from common import UPLOAD_COMMAND, download_command  # bench/_clients
# isort: on

MiB = 1 << 20
GiB = 1 << 30

# (cipher, mac): for the AEAD ciphers the MAC is negotiated but unused.
SUITES: List[Tuple[str, str]] = [
    ("aes128-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("aes256-gcm@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("chacha20-poly1305@openssh.com", "hmac-sha2-256-etm@openssh.com"),
    ("aes128-ctr", "hmac-sha2-256-etm@openssh.com"),
]
AEAD = ("gcm@openssh.com", "chacha20-poly1305@openssh.com")


def suite_label(suite: Tuple[str, str]) -> str:
    cipher, mac = suite
    return cipher if cipher.endswith(AEAD) else f"{cipher} + {mac}"


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    module: Optional[str]  # bench/_clients/<module>.py; None for OpenSSH ssh
    dist: Optional[str]  # distribution whose version goes in the header


CLIENTS: List[Client] = [
    Client("ssh", "OpenSSH ssh", None, None),
    Client("fast", "sshclient (fast API)", "client_sshclient_fast", "sshclient"),
    Client("spec", "sshclient (spec API)", "client_sshclient_spec", "sshclient"),
    Client("aio", "sshclient (asyncio API)", "client_sshclient_aio", "sshclient"),
    Client("aiouv", "sshclient (asyncio API, uvloop)", "client_sshclient_aio_uvloop",
           "sshclient"),
    Client("paramiko", "paramiko", "client_paramiko", "paramiko"),
    Client("asyncssh", "asyncssh", "client_asyncssh", "asyncssh"),
    Client("ssh2python", "ssh2-python", "client_ssh2python", "ssh2-python"),
]
DIRECTIONS = ("download", "upload", "tunnel")


# --------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------

@dataclass
class Outcome:
    ok: bool
    seconds: float = 0.0  # wall time of the measured part
    nbytes: int = 0
    cpu: float = 0.0  # the client's user+sys CPU seconds for that part
    error: str = ""
    extra: dict = field(default_factory=dict)


class Bench:
    def __init__(self, args: argparse.Namespace, server, key_path: str, workdir: str):
        self.args = args
        self.server = server
        self.key_path = key_path
        self.workdir = workdir
        self._zero_files: Dict[int, str] = {}
        # sshd's own CPU per run (None where no cgroup can be made): whether a
        # client makes the server work harder shows on 2 shared cores.
        self.server_cpu = ServerCpu.open(server.pid)

    # -- OpenSSH ssh ----------------------------------------------------
    def _ssh_argv(self, suite: Tuple[str, str], *remote: str, extra: List[str] = ()) -> List[str]:
        cipher, mac = suite
        options = {}
        if self.args.kex != "default":
            options["KexAlgorithms"] = self.args.kex
        # ssh_command adds -F /dev/null, BatchMode=yes, StrictHostKeyChecking=no,
        # UserKnownHostsFile=/dev/null, IdentitiesOnly, no agent, -p PORT, -l sshclient-test.
        return servers.ssh_command(self.server, *remote, key=self.key_path, options=options,
                                   extra_args=["-c", cipher, "-m", mac, *extra])

    def _zero_file(self, nbytes: int) -> str:
        """A sparse file of nbytes zeros on tmpfs: ssh's stdin for uploads.
        Reading its holes costs ssh a copy from the zero page (charged to
        ssh), with no disk and no helper process competing for the cores."""
        path = self._zero_files.get(nbytes)
        if path is None:
            base = "/dev/shm" if os.path.isdir("/dev/shm") else self.workdir
            fd, path = tempfile.mkstemp(prefix="sshclient-bench-", dir=base)
            os.ftruncate(fd, nbytes)
            os.close(fd)
            self._zero_files[nbytes] = path
        return path

    def cleanup(self) -> None:
        if self.server_cpu is not None:
            self.server_cpu.close()
            self.server_cpu = None
        for path in self._zero_files.values():
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._zero_files.clear()

    def run_ssh(self, suite, op: str, nbytes: int, timeout: float, target=None) -> Outcome:
        stdin_file = None
        try:
            if op == "download":
                argv = self._ssh_argv(suite, download_command(nbytes))
                stdin = subprocess.DEVNULL
            elif op == "upload":
                argv = self._ssh_argv(suite, UPLOAD_COMMAND)
                stdin_file = open(self._zero_file(nbytes), "rb")
                stdin = stdin_file
            elif op == "tunnel":
                argv = self._ssh_argv(suite, extra=["-W", f"{target[0]}:{target[1]}"])
                stdin = subprocess.DEVNULL
            elif op == "handshake":
                argv = self._ssh_argv(suite, "true")
                stdin = subprocess.DEVNULL
            else:
                raise ValueError(op)
            code, ru, wall, tail, timed_out = spawn(argv, stdin=stdin, timeout=timeout)
        finally:
            if stdin_file is not None:
                stdin_file.close()
        if code != 0:
            return Outcome(False, error=failure(code, tail, timed_out, timeout))
        return Outcome(True, seconds=wall, nbytes=nbytes, cpu=cpu_of(ru),
                       extra={"maxrss_mb": maxrss_mb(ru)})

    # -- Python clients ---------------------------------------------------
    def _cfg(self, suite, target=None) -> dict:
        return {"host": self.server.host, "port": self.server.port, "user": servers.TEST_USER,
                "key": self.key_path, "cipher": suite[0], "mac": suite[1],
                "kex": None if self.args.kex == "default" else self.args.kex,
                "target": list(target) if target else None, "chunk": self.args.chunk}

    def run_python(self, module: str, spec: dict, timeout: float):
        return run_runner(module, spec, self.workdir, timeout)

    def run_client_transfer(self, client: Client, suite, op: str, nbytes: int,
                            timeout: float) -> Outcome:
        meter = self.server_cpu
        before = meter.settled() if meter else 0.0
        o = self._transfer(client, suite, op, nbytes, timeout)
        if meter and o.ok:
            o.extra["server_cpu"] = meter.settled() - before
        return o

    def _transfer(self, client: Client, suite, op: str, nbytes: int, timeout: float
                  ) -> Outcome:
        source = servers.TcpSource(nbytes) if op == "tunnel" else None
        try:
            target = source.address if source else None
            if client.module is None:
                o = self.run_ssh(suite, op, nbytes, timeout, target)
                # ssh's stdout goes to /dev/null: at least check that the
                # source got to its end (it half-closes only after that).
                if o.ok and source is not None and source.bytes_sent != [nbytes]:
                    return Outcome(False, error=f"tcp source sent {source.bytes_sent}, "
                                                f"expected [{nbytes}]")
                return o
            spec = {"op": op, "cfg": self._cfg(suite, target), "nbytes": nbytes}
            result, ru, error = self.run_python(client.module, spec, timeout)
            if result is None:
                return Outcome(False, error=error)
            # wait4's total minus what the child had used before connecting
            # (interpreter start-up and imports): the client's own work.
            cpu = cpu_of(ru) - result["cpu_before"]
            return Outcome(True, seconds=result["seconds"], nbytes=result["bytes"], cpu=cpu,
                           extra={"cpu_in_process": result["cpu_self"],
                                  "maxrss_mb": maxrss_mb(ru)})
        except Exception as exc:  # noqa: BLE001 - a cell error, never an aborted run
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        finally:
            if source is not None:
                source.stop()
                if source.errors and not isinstance(source.errors[0], OSError):
                    print(f"    (tcp source: {source.errors[0]!r})", flush=True)

    def run_client_handshakes(self, client: Client, suite, count: int, timeout: float
                              ) -> Tuple[List[float], List[float], str]:
        """(wall seconds list, cpu seconds list, error)."""
        try:
            if client.module is None:
                walls, cpus = [], []
                for _ in range(count):
                    o = self.run_ssh(suite, "handshake", 0, timeout)
                    if not o.ok:
                        return walls, cpus, o.error
                    walls.append(o.seconds)
                    cpus.append(o.cpu)
                return walls, cpus, ""
            spec = {"op": "handshake", "cfg": self._cfg(suite), "count": count}
            result, _ru, error = self.run_python(client.module, spec, timeout)
            if result is None:
                return [], [], error
            return result["wall"], result["cpu"], ""
        except Exception as exc:  # noqa: BLE001
            return [], [], f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------
# The measurement plan
# --------------------------------------------------------------------------

@dataclass
class Cell:
    nbytes: int = 0
    outcomes: List[Outcome] = field(default_factory=list)
    probe: Optional[Outcome] = None
    rate: float = 0.0  # streaming rate estimated by the probe, bytes/s
    discarded: List[Outcome] = field(default_factory=list)  # runs under min_seconds
    error: str = ""  # set when the cell is given up (probe failed, repeated failures)

    def good(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.ok]

    def failures(self) -> List[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def mbps(self) -> Optional[float]:
        g = self.good()
        return statistics.median(o.nbytes / o.seconds / 1e6 for o in g) if g else None

    def cpu_per_gb(self) -> Optional[float]:
        g = self.good()
        return statistics.median(o.cpu / (o.nbytes / 1e9) for o in g) if g else None

    def server_cpu_per_gb(self) -> Optional[float]:
        """Median CPU-s/GB of sshd and what it ran (None: not measured)."""
        v = [o.extra["server_cpu"] / (o.nbytes / 1e9) for o in self.good()
             if "server_cpu" in o.extra]
        return statistics.median(v) if v else None

    def paired_ratio(self, ref: Cell) -> Optional[float]:
        """Median over rounds of this MB/s / ref's MB/s in the same round:
        steadier than the ratio of medians when the machine's speed drifts."""
        r = [(o.nbytes / o.seconds) / (p.nbytes / p.seconds)
             for o, p in zip(self.outcomes, ref.outcomes) if o.ok and p.ok]
        return statistics.median(r) if r else None

    def spread(self) -> Optional[Tuple[float, float]]:
        g = self.good()
        if not g:
            return None
        r = [o.nbytes / o.seconds / 1e6 for o in g]
        return min(r), max(r)


@dataclass
class HsCell:
    walls: List[float] = field(default_factory=list)
    cpus: List[float] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    def ms(self) -> Optional[float]:
        return statistics.median(self.walls) * 1e3 if self.walls else None

    def cpu_ms(self) -> Optional[float]:
        return statistics.median(self.cpus) * 1e3 if self.cpus else None


def _size_for(rate_bps: float, args) -> int:
    """Bytes for a run of about args.seconds at the probed rate, rounded to
    MiB, between args.min_size and args.size; at least 1 GiB for a client
    faster than args.fast_rate."""
    n = rate_bps * args.seconds
    if rate_bps >= args.fast_rate:
        n = max(n, GiB)
    n = max(args.min_size, min(args.size, n))
    return max(MiB, int(n) // MiB * MiB)


def measure(bench: Bench, args, clients: List[Client], suites, directions, log):
    cells: Dict[Tuple[str, str, str], Cell] = {}
    hs: Dict[Tuple[str, str], HsCell] = {}
    for suite in suites:
        label = suite_label(suite)
        log(f"\n== {label}")
        # 1. Probe (doubles as warm-up): pick each client's N for ~args.seconds.
        #    --quick skips it and uses N = --size for everyone.
        for direction in directions:
            for client in clients:
                cell = cells.setdefault((label, direction, client.key), Cell())
                if args.quick:
                    cell.nbytes = args.size
                    continue
                # Two sizes: the small run measures the fixed cost of a
                # connection (handshake, exec, close), so that the rate used
                # for N is the streaming rate, not one diluted by set-up.
                small = bench.run_client_transfer(client, suite, direction,
                                                  args.probe_size // 8, timeout=args.timeout)
                o = bench.run_client_transfer(client, suite, direction, args.probe_size,
                                              timeout=args.timeout) if small.ok else small
                cell.probe = o
                if not o.ok:
                    cell.error = o.error
                    log(f"  probe {direction:8s} {client.label:22s} error: {o.error}")
                    continue
                rate = o.nbytes / o.seconds
                if o.seconds - small.seconds > 0.05 * o.seconds:
                    fit = (o.nbytes - small.nbytes) / (o.seconds - small.seconds)
                    rate = min(max(rate, fit), 2 * rate)
                cell.rate = rate
                cell.nbytes = _size_for(rate, args)
                log(f"  probe {direction:8s} {client.label:22s} {rate / 1e6:8.1f} MB/s "
                    f"(fixed cost {max(0.0, small.seconds - small.nbytes / rate):.2f} s)"
                    f" -> N = {cell.nbytes / MiB:.0f} MiB")
        # 2. Rounds: every client once per direction per round, order rotated.
        for r in range(args.runs):
            order = clients[r % len(clients):] + clients[:r % len(clients)]
            for direction in directions:
                for client in order:
                    cell = cells[(label, direction, client.key)]
                    if cell.error:
                        continue
                    for _attempt in range(3):
                        expect = cell.nbytes / cell.rate if cell.rate else 0.0
                        o = bench.run_client_transfer(client, suite, direction, cell.nbytes,
                                                      timeout=max(args.timeout, 20 * expect))
                        if not (o.ok and o.seconds < args.min_seconds
                                and cell.nbytes < args.size):
                            break
                        # Faster than probed (the machine got quieter): a run
                        # shorter than min_seconds is not counted; grow N for
                        # this and every later round of the cell, and redo it.
                        cell.discarded.append(o)
                        grown = _size_for(o.nbytes / o.seconds, args)
                        log(f"  run {r + 1}/{args.runs} {direction:8s} {client.label:22s} "
                            f"only {o.seconds:.2f} s: N {cell.nbytes / MiB:.0f} -> "
                            f"{grown / MiB:.0f} MiB, again")
                        cell.rate = max(cell.rate, o.nbytes / o.seconds)
                        cell.nbytes = max(cell.nbytes, grown)
                    cell.outcomes.append(o)
                    if o.ok:
                        log(f"  run {r + 1}/{args.runs} {direction:8s} {client.label:22s} "
                            f"{o.nbytes / o.seconds / 1e6:8.1f} MB/s  "
                            f"{o.cpu / (o.nbytes / 1e9):6.2f} CPU-s/GB  ({o.seconds:.2f} s)")
                    else:
                        log(f"  run {r + 1}/{args.runs} {direction:8s} {client.label:22s} "
                            f"error: {o.error}")
                        if len(cell.failures()) >= 2 and not cell.good():
                            cell.error = o.error
        # 3. Handshakes, rounds alternating clients as well.
        for r in range(args.runs):
            order = clients[r % len(clients):] + clients[:r % len(clients)]
            for client in order:
                h = hs.setdefault((label, client.key), HsCell())
                if len(h.errors) >= 2 and not h.walls:
                    continue
                walls, cpus, err = bench.run_client_handshakes(client, suite, args.handshakes,
                                                               timeout=args.timeout)
                h.walls += walls
                h.cpus += cpus
                if err:
                    h.errors.append(err)
                    log(f"  handshake {client.label:22s} error: {err}")
                elif walls:
                    log(f"  handshake {client.label:22s} "
                        + " ".join(f"{w * 1e3:.0f}" for w in walls) + " ms")
    return cells, hs


MEMORY_CLIENTS = ("ssh", "spec", "fast")


def _size_text(n: int) -> str:
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB"


def measure_memory(bench: Bench, args, clients: List[Client], suite, log
                   ) -> Dict[str, Outcome]:
    """One download of args.memory bytes per client (ssh and sshclient's two
    APIs): its peak RSS shows whether memory stays bounded however much
    moves (the spec API raises an event per packet: nothing may pile up)."""
    out: Dict[str, Outcome] = {}
    log(f"\n== memory: one {_size_text(args.memory)} download per client, "
        f"{suite_label(suite)}")
    for client in clients:
        if client.key not in MEMORY_CLIENTS:
            continue
        o = bench.run_client_transfer(client, suite, "download", args.memory,
                                      timeout=max(args.timeout, args.memory / 20e6))
        out[client.key] = o
        if o.ok:
            log(f"  {client.label:22s} {o.nbytes / o.seconds / 1e6:8.1f} MB/s  "
                f"max RSS {o.extra['maxrss_mb']:.1f} MB")
        else:
            log(f"  {client.label:22s} error: {o.error}")
    return out


def render_memory(args, clients: List[Client], suite, memory: Dict[str, Outcome]) -> List[str]:
    out = ["", "## Memory", "",
           f"One download of {_size_text(args.memory)} ({suite_label(suite)}) per client; "
           "peak resident set size of the client process (wait4's ru_maxrss).", "",
           "| client | MB/s | max RSS MB |", "|---|---:|---:|"]
    for client in clients:
        o = memory.get(client.key)
        if o is None:
            continue
        if o.ok:
            out.append(f"| {client.label} | {o.nbytes / o.seconds / 1e6:.0f} | "
                       f"{o.extra['maxrss_mb']:.1f} |")
        else:
            out.append(f"| {client.label} | error: {_esc(o.error)} | |")
    return out


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def _fmt(value: Optional[float], digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio_cell(value: Optional[float], ref: Optional[float], digits: int, error: str = ""
                ) -> str:
    if value is None:
        return f"error: {error}" if error else "-"
    text = f"{value:.{digits}f}"
    if ref:
        text += f" ({value / ref:.2f}×)"
    return text


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(args, env, clients, suites, directions, cells, hs, started, elapsed) -> str:
    out: List[str] = []
    out.append(f"# sshclient side-by-side benchmark, {started:%Y-%m-%d %H:%M}")
    out.append("")
    out.append(f"- Machine: {env['CPU']}, {env['cores']} cores, Linux {env['kernel']}; "
               "client and sshd share the cores")
    out.append(f"- Python {env['Python']}; sshclient {env['sshclient']}; paramiko "
               f"{env['paramiko']}; asyncssh {env['asyncssh']}; ssh2-python "
               f"{env['ssh2-python']}; uvloop {env['uvloop']}; cryptography "
               f"{env['cryptography']}; PyNaCl {env['PyNaCl']}")
    out.append(f"- OpenSSH client: {env['ssh']}")
    out.append(f"- Server: {env['sshd']} (throwaway sshd on 127.0.0.1, LogLevel ERROR)")
    kex = "each client's default" if args.kex == "default" else f"`{args.kex}` for every client"
    out.append(f"- Method: median of {args.runs} runs per cell, clients alternating in each "
               "round; "
               + (f"N = {args.size / MiB:.0f} MiB for every client" if args.quick else
                  f"each client's N sized from probe runs for ~{args.seconds:g} s per run "
                  f"(max {args.size / MiB:.0f} MiB)")
               + "; time = connect..close of one SSH connection; handshake = median of "
               f"{args.runs * args.handshakes} (connect + kex + publickey auth + exec `true` + "
               f"close); kex {kex}; upload written in {args.chunk // 1024} KiB chunks"
               + ("; **--quick smoke run: figures are not meaningful**" if args.quick else ""))
    out.append("- Cells: value (ratio to OpenSSH `ssh` in this run). MB/s: higher is better; "
               "ms and CPU-s/GB (the client process's user+sys CPU per GB moved): lower is "
               "better.")
    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out.append(f"- Wall time of the whole benchmark: {elapsed / 60:.1f} min; load average "
               f"(1/5/15 min) at start {env['load_start']}, at end {load_end} "
               "(anything well above 1 means other work shared the cores)")
    ref_key = "ssh"
    for suite in suites:
        label = suite_label(suite)
        out.append("")
        out.append(f"## {label}")
        out.append("")
        head = ["client"] + [f"{d} MB/s" for d in directions] + ["handshake ms"] \
            + [f"CPU-s/GB {d}" for d in directions] + ["handshake CPU ms"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for client in clients:
            row = [client.label]
            shown: set = set()

            def once(text: str, shown: set = shown) -> str:
                # An error already spelled out in this row is just "error".
                if text.startswith("error: "):
                    if text in shown:
                        return "error"
                    shown.add(text)
                return text

            for d in directions:
                c = cells.get((label, d, client.key))
                ref = cells.get((label, d, ref_key))
                row.append(once(_esc(_ratio_cell(c.mbps() if c else None,
                                                 ref.mbps() if ref else None, 0,
                                                 (c.error or _first_error(c)) if c else ""))))
            h = hs.get((label, client.key))
            href = hs.get((label, ref_key))
            row.append(once(_esc(_ratio_cell(h.ms() if h else None,
                                             href.ms() if href else None, 0,
                                             (h.errors[0] if h and h.errors else "")))))
            for d in directions:
                c = cells.get((label, d, client.key))
                ref = cells.get((label, d, ref_key))
                row.append(_ratio_cell(c.cpu_per_gb() if c else None,
                                       ref.cpu_per_gb() if ref else None, 2)
                           if c is None or c.good() else "error")
            row.append(_ratio_cell(h.cpu_ms() if h else None, href.cpu_ms() if href else None,
                                   1) if h is None or h.walls else "error")
            out.append("| " + " | ".join(row) + " |")
    # Details: sizes, spread, failures.
    out.append("")
    out.append("## Details")
    out.append("")
    out.append("N per run (the last one, if a run under "
               f"{args.min_seconds:g} s made it grow), successful/all runs, min–max MB/s "
               "over the runs, the median of the per-round ratios to `ssh` (each run "
               "against ssh's run in the same round), and how many too-short runs were "
               "redone with a bigger N (not counted).")
    out.append("")
    out.append("| suite | direction | " + " | ".join(c.label for c in clients) + " |")
    out.append("|---|---|" + "---|" * len(clients))
    for suite in suites:
        label = suite_label(suite)
        for d in directions:
            row = [label, d]
            for client in clients:
                c = cells.get((label, d, client.key))
                if c is None or (c.error and not c.good()):
                    row.append("error")
                    continue
                sp = c.spread()
                text = f"{c.nbytes / MiB:.0f} MiB, {len(c.good())}/{len(c.outcomes)}"
                if sp:
                    text += f", {sp[0]:.0f}–{sp[1]:.0f}"
                ref = cells.get((label, d, ref_key))
                paired = c.paired_ratio(ref) if ref is not None and client.key != ref_key \
                    else None
                if paired is not None:
                    text += f", paired {paired:.2f}×"
                if c.discarded:
                    text += f", {len(c.discarded)} redone"
                row.append(text)
            out.append("| " + " | ".join(row) + " |")
    out += _render_server_cpu(clients, suites, directions, cells, ref_key)
    errors = []
    for (label, d, key), c in cells.items():
        for o in ([c.probe] if c.probe and not c.probe.ok else []) + c.failures():
            errors.append(f"- {label}, {d}, {_client_label(clients, key)}: {o.error}")
    for (label, key), h in hs.items():
        for e in h.errors:
            errors.append(f"- {label}, handshake, {_client_label(clients, key)}: {e}")
    if errors:
        out.append("")
        out.append("## Errors")
        out.append("")
        out += sorted(set(errors))
    return "\n".join(out) + "\n"


def _render_server_cpu(clients, suites, directions, cells, ref_key: str) -> List[str]:
    rows, measured = [], False
    for suite in suites:
        label = suite_label(suite)
        for d in directions:
            ref = cells.get((label, d, ref_key))
            ref_value = ref.server_cpu_per_gb() if ref else None
            row = [label, d]
            for client in clients:
                c = cells.get((label, d, client.key))
                value = c.server_cpu_per_gb() if c else None
                measured = measured or value is not None
                row.append("–" if value is None else _ratio_cell(value, ref_value, 2))
            rows.append("| " + " | ".join(row) + " |")
    if not measured:
        return []  # no cgroup here (bench/server_cpu.py)
    return ["", "## Server CPU", "",
            "CPU-s/GB of sshd and everything it ran for the connection (the command, "
            "not the tunnel's TCP source), from a cgroup holding the sshd under test; "
            "median of the runs (ratio to its figure under `ssh`). It shows whether a "
            "client makes the server work harder, which on 2 shared cores slows that "
            "client down.", "",
            "| suite | direction | " + " | ".join(c.label for c in clients) + " |",
            "|---|---|" + "---:|" * len(clients)] + rows


def _first_error(c: Optional[Cell]) -> str:
    if c is None or c.good():
        return ""
    f = c.failures()
    return f[0].error if f else ""


def _client_label(clients: List[Client], key: str) -> str:
    return next((c.label for c in clients if c.key == key), key)


def render_chart(path: str, clients, suites, directions, cells) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart (pip install matplotlib)"
    labels = [suite_label(s) for s in suites]
    fig, axes = plt.subplots(len(directions), 1, figsize=(11, 3.6 * len(directions)),
                             squeeze=False)
    width = 0.8 / max(1, len(clients))
    for ax, d in zip(axes[:, 0], directions):
        for i, client in enumerate(clients):
            values = []
            for label in labels:
                c = cells.get((label, d, client.key))
                v = c.mbps() if c else None
                values.append(v if v is not None else 0.0)
            xs = [j + (i - (len(clients) - 1) / 2) * width for j in range(len(labels))]
            bars = ax.bar(xs, values, width, label=client.label)
            for b, v in zip(bars, values):
                if v == 0.0:
                    ax.annotate("error", (b.get_x() + b.get_width() / 2, 0), ha="center",
                                va="bottom", fontsize=7, rotation=90)
        ax.set_title(f"{d} (MB/s, higher is better)")
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels([lb.replace(" + ", "\n+ ") for lb in labels], fontsize=8)
        ax.set_ylabel("MB/s")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, ncol=len(clients), loc="upper center",
                      bbox_to_anchor=(0.5, 1.35))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return f"chart: {path}"


def results_json(args, env, clients, suites, directions, cells, hs, started,
                 memory: Optional[Dict[str, Outcome]] = None) -> dict:
    def o2d(o: Optional[Outcome]):
        if o is None:
            return None
        return {"ok": o.ok, "seconds": o.seconds, "bytes": o.nbytes, "cpu": o.cpu,
                "error": o.error, **o.extra}

    return {
        "started": started.isoformat(timespec="seconds"),
        "args": {k: v for k, v in vars(args).items()},
        "environment": env,
        "clients": [c.label for c in clients],
        "suites": [suite_label(s) for s in suites],
        "transfers": [
            {"suite": label, "direction": d, "client": _client_label(clients, key),
             "nbytes": c.nbytes, "error": c.error, "probe": o2d(c.probe),
             "runs": [o2d(o) for o in c.outcomes],
             "discarded_short_runs": [o2d(o) for o in c.discarded], "median_mbps": c.mbps(),
             "median_cpu_s_per_gb": c.cpu_per_gb(),
             "median_server_cpu_s_per_gb": c.server_cpu_per_gb()}
            for (label, d, key), c in cells.items()],
        "handshakes": [
            {"suite": label, "client": _client_label(clients, key), "wall_s": h.walls,
             "cpu_s": h.cpus, "errors": h.errors, "median_ms": h.ms()}
            for (label, key), h in hs.items()],
        "memory": {_client_label(clients, key): o2d(o) for key, o in (memory or {}).items()},
    }


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512M, 2G, 1048576)")
    mult = {"": 1, "k": 1 << 10, "m": MiB, "g": GiB}[m.group(2).lower()]
    return int(float(m.group(1)) * mult)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: N = 8M for everyone (no probe), 3 runs, 2 handshakes per round")
    p.add_argument("--size", type=parse_size, default=None,
                   help="largest N per run (default 4G). Each client's N is sized from "
                        "probe runs for ~--seconds per run, up to this; with --quick, N itself")
    p.add_argument("--runs", type=int, default=None, help="rounds (default 5; --quick 3)")
    p.add_argument("--seconds", type=float, default=None,
                   help="target duration of one run (default 3)")
    p.add_argument("--handshakes", type=int, default=None,
                   help="handshakes per client per round (default: enough for >= 10 in all)")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    p.add_argument("--clients", default=",".join(c.key for c in CLIENTS),
                   help="comma-separated subset of: " + ",".join(c.key for c in CLIENTS)
                        + " (ssh is always included: it is the reference)")
    p.add_argument("--suites", default=None,
                   help="comma-separated cipher names (default: all four suites)")
    p.add_argument("--directions", default=",".join(DIRECTIONS),
                   help="comma-separated subset of download,upload,tunnel")
    p.add_argument("--kex", default="curve25519-sha256",
                   help="kex for every client ('default': each client's own preference)")
    p.add_argument("--chunk", type=parse_size, default=4 * MiB,
                   help="upload write size for the Python clients (default 4M)")
    p.add_argument("--memory", type=parse_size, default=0,
                   help="also download this much once with ssh and both sshclient APIs and "
                        "report each client's peak RSS (e.g. 10G); default off")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="minimum per-child timeout in seconds")
    args = p.parse_args(argv)
    if args.quick:
        args.size = args.size or 8 * MiB  # N for every client, no probe runs
        args.runs = args.runs or 3
        args.seconds = args.seconds or 0.0
        args.probe_size = args.min_size = args.size
        args.min_seconds = 0.0
    else:
        args.size = args.size or 4 * GiB
        args.runs = args.runs or 5
        args.seconds = args.seconds or 3.0
        args.probe_size = min(128 * MiB, args.size)
        args.min_size = min(32 * MiB, args.size)
        args.min_seconds = min(2.0, 0.7 * args.seconds)  # shorter runs are redone
    args.fast_rate = 200e6  # "fast client": at least 1 GiB per run
    if args.handshakes is None:
        args.handshakes = 2 if args.quick else max(2, math.ceil(12 / args.runs))
    if args.runs < 1 or args.handshakes < 1:
        p.error("--runs and --handshakes must be >= 1")

    wanted = {k.strip() for k in args.clients.split(",") if k.strip()} | {"ssh"}
    unknown = wanted - {c.key for c in CLIENTS}
    if unknown:
        p.error(f"unknown client(s): {', '.join(sorted(unknown))}")
    clients = [c for c in CLIENTS if c.key in wanted]
    if args.suites:
        names = [s.strip() for s in args.suites.split(",") if s.strip()]
        suites = [s for s in SUITES if s[0] in names]
        if len(suites) != len(names):
            p.error(f"--suites: choose among {', '.join(s[0] for s in SUITES)}")
    else:
        suites = list(SUITES)
    directions = [d.strip() for d in args.directions.split(",") if d.strip()]
    if not directions or set(directions) - set(DIRECTIONS):
        p.error("--directions: choose among download,upload,tunnel")

    if not require_root("compare.py"):
        return 2
    interrupt_on_signals()

    def log(msg: str) -> None:
        print(msg, flush=True)

    os.makedirs(args.out, exist_ok=True)
    started = _dt.datetime.now()
    t_start = time.monotonic()
    # Every cipher/MAC this sshd implements is enabled by tests/servers.py;
    # naming the benchmark's lists makes the requirement explicit.
    algs = servers.openssh_algorithms()
    ciphers = list(dict.fromkeys([s[0] for s in suites] + algs["Ciphers"]))
    macs = list(dict.fromkeys([s[1] for s in suites] + algs["MACs"]))
    try:
        with LocalSshd({"Ciphers": ",".join(ciphers), "MACs": ",".join(macs)}, log) as sshd:
            server = sshd.server
            offer = servers.probe_kexinit(server.host, server.port)
            for cipher, mac in suites:
                if cipher not in offer.encryption_server_to_client or \
                        mac not in offer.mac_server_to_client:
                    log(f"warning: the server does not offer {cipher} / {mac}")
            env = environment(server)
            for k in ("CPU", "cores", "ssh", "sshd", "sshclient", "uvloop", "paramiko",
                      "asyncssh", "ssh2-python"):
                log(f"  {k}: {env[k]}")
            bench = Bench(args, server, sshd.key_path, sshd.workdir)
            sshd.at_exit(bench.cleanup)
            cells, hs = measure(bench, args, clients, suites, directions, log)
            memory = measure_memory(bench, args, clients, suites[0], log) if args.memory \
                else {}
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - t_start
    md = render_markdown(args, env, clients, suites, directions, cells, hs, started, elapsed)
    if memory:
        md += "\n".join(render_memory(args, clients, suites[0], memory)) + "\n"
    stamp = f"compare-{started:%Y-%m-%d-%H%M}" + ("-quick" if args.quick else "")
    png_path = os.path.join(args.out, f"{stamp}.png")
    chart_msg = render_chart(png_path, clients, suites, directions, cells)
    if chart_msg.startswith("chart:"):
        md += f"\n![MB/s per client, suite and direction]({os.path.basename(png_path)})\n"
    md_path, json_path = save_report(args.out, stamp, md, results_json(
        args, env, clients, suites, directions, cells, hs, started, memory))
    log(f"table: {md_path}\nraw runs: {json_path}\n{chart_msg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Fan-out benchmark: `true` on many connections to one local sshd, at the
same concurrency for every client; wall time and the client's CPU time.

    /work/venv/bin/python bench/fanout.py [--connections 200] [--concurrency 50] \
        [--rounds 3] [--out bench/results]

Clients: ``sshclient.aio.run_many()`` on uvloop and on asyncio's own loop,
asyncssh (``asyncio.gather`` over connect + ``run("true")`` under an
``asyncio.Semaphore``) and OpenSSH ``ssh`` processes started by
``xargs -P``. Each client runs in a child process of this script; its CPU
is the user+sys time os.wait4 reports for that child, which includes every
process it started and waited for (the ``ssh`` processes under ``xargs``).
Needs root, as compare.py. See bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from harness import (  # bench/harness.py (puts tests/ on sys.path for servers)
    HERE,
    Cell,
    LocalSshd,
    cmd_output,
    cpu_of,
    environment,
    failure,
    interrupt_on_signals,
    require_root,
    run_runner,
    save_report,
    servers,
    spawn,
    sshd_binary,
)
from server_cpu import ServerCpu  # bench/server_cpu.py

# One cipher suite for every client; the kex is pinned as in compare.py
# (ssh would otherwise pick the costlier sntrup761x25519).
CIPHER = "aes128-gcm@openssh.com"
MAC = "hmac-sha2-256-etm@openssh.com"
COMMAND = "true"


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    module: Optional[str]  # bench/_clients/<module>.py with fanout(); None: ssh via xargs


CLIENTS: List[Client] = [
    Client("aiouv", "sshclient.aio.run_many (uvloop)", "client_sshclient_aio_uvloop"),
    Client("aio", "sshclient.aio.run_many (asyncio)", "client_sshclient_aio"),
    Client("asyncssh", "asyncssh gather + Semaphore (asyncio)", "client_asyncssh"),
    Client("ssh", "OpenSSH ssh via xargs -P", None),
]
REFERENCE = "asyncssh"  # the ratios are to this client (and to ssh)


# --------------------------------------------------------------------------
# sshd configuration
# --------------------------------------------------------------------------

def openssh_version(text: str) -> Tuple[int, int]:
    """(major, minor) from `sshd -V` / `ssh -V` output ("OpenSSH_9.2p1 ...")."""
    m = re.search(r"OpenSSH_(\d+)\.(\d+)", text)
    if m is None:
        raise ValueError(f"no OpenSSH version in {text[:200]!r}")
    return int(m.group(1)), int(m.group(2))


def fanout_sshd_config(version: Tuple[int, int], concurrency: int) -> Dict[str, str]:
    """sshd settings under which `concurrency` logins at once from 127.0.0.1
    are all served: MaxStartups far above it (sshd drops connections still
    in authentication beyond its first number), and from OpenSSH 9.8 on no
    per-source penalties (every connection comes from the same address)."""
    start = max(400, 2 * concurrency)
    config = {"MaxStartups": f"{start}:30:{2 * start}"}
    if version >= (9, 8):
        config["PerSourcePenalties"] = "no"
    return config


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------

@dataclass
class Run:
    ok: bool
    wall: float = 0.0  # seconds from the first connect to the last close
    cpu: float = 0.0  # client user+sys seconds, children included
    server_cpu: Optional[float] = None  # sshd and its sessions (cgroup), None: unmeasured
    error: str = ""




class Fanout:
    """Runs one client's fan-out against the sshd of `sshd` (a LocalSshd)."""

    def __init__(self, args: argparse.Namespace, sshd: LocalSshd):
        self.args = args
        self.server = sshd.server
        self.key_path = sshd.key_path
        self.workdir = sshd.workdir
        self.meter = ServerCpu.open(self.server.pid)

    def cfg(self) -> dict:
        return {"host": self.server.host, "port": self.server.port, "user": servers.TEST_USER,
                "key": self.key_path, "cipher": CIPHER, "mac": MAC, "kex": self.args.kex,
                "concurrency": self.args.concurrency}

    def run(self, client: Client) -> Run:
        before = self.meter.settled() if self.meter else 0.0
        r = self._run(client)
        if self.meter and r.ok:
            r.server_cpu = self.meter.settled() - before
        return r

    def _run(self, client: Client) -> Run:
        n, timeout = self.args.connections, self.args.timeout
        if client.module is None:
            return self._run_xargs(n, timeout)
        spec = {"op": "fanout", "cfg": self.cfg(), "nbytes": n, "warm_up": True}
        result, ru, error = run_runner(client.module, spec, self.workdir, timeout)
        if result is None:
            return Run(False, error=error)
        if result["bytes"] != n:
            return Run(False, error=f"{result['bytes']} of {n} connections")
        # wait4's total minus start-up, imports and the warm-up connection.
        return Run(True, wall=result["seconds"], cpu=cpu_of(ru) - result["cpu_before"])

    def _run_xargs(self, n: int, timeout: float) -> Run:
        argv = servers.ssh_command(self.server, COMMAND, key=self.key_path,
                                   options={"KexAlgorithms": self.args.kex},
                                   extra_args=["-c", CIPHER, "-m", MAC])
        # One input line per connection; -I makes each line one ssh command
        # (the line itself is not used: argv has no "{}").
        with tempfile.TemporaryFile("w+") as lines:
            lines.write("x\n" * n)
            lines.seek(0)
            code, ru, wall, tail, timed_out = spawn(
                ["xargs", "-P", str(self.args.concurrency), "-I{}", *argv],
                stdin=lines, timeout=timeout)
        if code != 0:
            return Run(False, error=failure(code, tail, timed_out, timeout))
        return Run(True, wall=wall, cpu=cpu_of(ru))

    def close(self) -> None:
        if self.meter is not None:
            self.meter.close()
            self.meter = None


def measure(bench: Fanout, clients: List[Client], rounds: int, log) -> Dict[str, Cell]:
    cells = {c.key: Cell() for c in clients}
    for r in range(rounds):
        order = clients[r % len(clients):] + clients[:r % len(clients)]
        for client in order:
            run = bench.run(client)
            cells[client.key].runs.append(run)
            if run.ok:
                server = "" if run.server_cpu is None else f", sshd {run.server_cpu:6.2f} s CPU"
                log(f"  round {r + 1}/{rounds} {client.label:40s} {run.wall:6.2f} s wall, "
                    f"{run.cpu:6.2f} s CPU{server}")
            else:
                log(f"  round {r + 1}/{rounds} {client.label:40s} error: {run.error}")
    return cells


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def _value(value: Optional[float], refs: List[Tuple[str, Optional[float]]], digits: int) -> str:
    if value is None:
        return "error"
    ratios = [f"{value / ref:.2f}× {name}" for name, ref in refs if ref]
    return f"{value:.{digits}f}" + (f" ({', '.join(ratios)})" if ratios else "")


def render_markdown(args, env, clients, cells, started, elapsed) -> str:
    n = args.connections
    ref = cells.get(REFERENCE)
    ssh = cells.get("ssh")
    out = [f"# sshclient fan-out benchmark, {started:%Y-%m-%d %H:%M}", "",
           f"- Machine: {env['CPU']}, {env['cores']} cores, Linux {env['kernel']}; "
           "clients and sshd share the cores",
           f"- Python {env['Python']}; sshclient {env['sshclient']}; uvloop {env['uvloop']}; "
           f"asyncssh {env['asyncssh']}",
           f"- OpenSSH client: {env['ssh']}; server: {env['sshd']} (throwaway sshd on "
           f"127.0.0.1, {', '.join(f'{k} {v}' for k, v in args.sshd_config.items())})",
           f"- Method: `{COMMAND}` on {n} connections, {args.concurrency} at once, for each "
           f"client; median of {args.rounds} rounds, clients alternating, order rotated each "
           f"round; {CIPHER}, kex {args.kex}, publickey auth (ed25519) for everyone. Python "
           "clients: one child process each, one unmeasured warm-up connection first; CPU = "
           "the child's user+sys (wait4) minus what it used before the first measured "
           "connection. ssh: CPU = `xargs` and all the `ssh` processes it ran (wait4), wall = "
           "the whole `xargs`.",
           f"- Wall time of the benchmark: {elapsed / 60:.1f} min; load average at start "
           f"{env['load_start']}, at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
           "",
           "Cells: median (ratio to asyncssh, to ssh). Lower is better everywhere.", "",
           "| client | wall s | client CPU s | client CPU ms/connection | sshd CPU s | runs ok |",
           "|---|---:|---:|---:|---:|---:|"]
    for client in clients:
        c = cells[client.key]

        def refs(what: str, c: Cell = c) -> List[Tuple[str, Optional[float]]]:
            return [(name, other.median(what)) for name, other in
                    (("asyncssh", ref), ("ssh", ssh)) if other is not None and other is not c]

        cpu = c.median("cpu")
        out.append("| " + " | ".join([
            client.label, _value(c.median("wall"), refs("wall"), 2),
            _value(cpu, refs("cpu"), 2), "error" if cpu is None else f"{cpu / n * 1e3:.1f}",
            _value(c.median("server_cpu"), [], 2), f"{len(c.good())}/{len(c.runs)}"]) + " |")
    if ref is not None:
        out += ["", "Paired ratios to asyncssh (each run against asyncssh's run in the same "
                "round, median over rounds):", "",
                "| client | wall | client CPU |", "|---|---:|---:|"]
        for client in clients:
            if client.key == REFERENCE:
                continue
            c = cells[client.key]
            w, u = c.paired(ref, "wall"), c.paired(ref, "cpu")
            out.append(f"| {client.label} | {'-' if w is None else f'{w:.2f}×'} | "
                       f"{'-' if u is None else f'{u:.2f}×'} |")
    errors = sorted({f"- {cl.label}: {r.error}" for cl in clients
                     for r in cells[cl.key].runs if not r.ok})
    if errors:
        out += ["", "## Errors", "", *errors]
    return "\n".join(out) + "\n"


def results_json(args, env, clients, cells, started) -> dict:
    return {
        "started": started.isoformat(timespec="seconds"),
        "args": vars(args),
        "environment": env,
        "clients": [
            {"client": c.label, "runs": [vars(r) for r in cells[c.key].runs],
             "median_wall_s": cells[c.key].median("wall"),
             "median_cpu_s": cells[c.key].median("cpu"),
             "median_server_cpu_s": cells[c.key].median("server_cpu")}
            for c in clients],
    }


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", type=int, default=200, help="connections per run")
    p.add_argument("--concurrency", type=int, default=50,
                   help="connections at once, the same for every client (default 50)")
    p.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--clients", default=",".join(c.key for c in CLIENTS),
                   help="comma-separated subset of: " + ",".join(c.key for c in CLIENTS))
    p.add_argument("--kex", default="curve25519-sha256", help="kex for every client")
    p.add_argument("--timeout", type=float, default=600.0, help="per-run timeout in seconds")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    args = p.parse_args(argv)
    if min(args.connections, args.concurrency, args.rounds) < 1:
        p.error("--connections, --concurrency and --rounds must be >= 1")
    wanted = {k.strip() for k in args.clients.split(",") if k.strip()}
    if not wanted or wanted - {c.key for c in CLIENTS}:
        p.error(f"--clients: choose among {','.join(c.key for c in CLIENTS)}")
    clients = [c for c in CLIENTS if c.key in wanted]
    if not require_root("fanout.py"):
        return 2
    interrupt_on_signals()

    def log(msg: str) -> None:
        print(msg, flush=True)

    sshd_path = sshd_binary()
    args.sshd_config = fanout_sshd_config(
        openssh_version(cmd_output([sshd_path, "-V"])), args.concurrency)
    os.makedirs(args.out, exist_ok=True)
    started = _dt.datetime.now()
    t_start = time.monotonic()
    try:
        with LocalSshd(args.sshd_config, log, sshd_path=sshd_path) as sshd:
            env = environment(sshd.server)
            for k in ("CPU", "cores", "ssh", "sshd", "sshclient", "uvloop", "asyncssh"):
                log(f"  {k}: {env[k]}")
            log(f"  sshd: {args.sshd_config}")
            bench = Fanout(args, sshd)
            sshd.at_exit(bench.close)
            log(f"\n== {COMMAND!r} on {args.connections} connections, "
                f"{args.concurrency} at once, {args.rounds} rounds")
            cells = measure(bench, clients, args.rounds, log)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    md = render_markdown(args, env, clients, cells, started, time.monotonic() - t_start)
    md_path, json_path = save_report(args.out, f"fanout-{started:%Y-%m-%d-%H%M}", md,
                                     results_json(args, env, clients, cells, started))
    log(f"table: {md_path}\nraw runs: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

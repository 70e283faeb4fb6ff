#!/usr/bin/env python
"""Long-link benchmark: download MB/s over a link with 10, 50 and 100 ms
round trips (bench/relay.py between client and sshd), for OpenSSH ``ssh``
and sshclient's blocking API, and our client's peak RSS.

    sudo /work/main/.venv/bin/python bench/longlink.py [--rtts 10,50,100] [--size 256M] \
        [--runs 3] [--window 64M]

Two transfers per client and RTT: exec ``head -c N /dev/zero`` read by the
client (connect to close), and a ``-L`` forward carrying N bytes from a
target next to sshd to the client's side (bench/endpoint.py; first connect
to last byte). Clients: ``ssh`` (its channel window is fixed near 2 MiB, so
it moves at most ~window/RTT), and sshclient's blocking API three ways:
defaults (the 2 MiB window grows to 16 MiB when the round trip the protocol
measures shows it holds the transfer back), ``window_limit=W`` (it may grow
to W) and ``window_size=W`` (a fixed window of W from the start).
Needs root, as compare.py. See bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

from forwards import HelperProcess
from harness import (
    HERE,
    LocalSshd,
    cpu_of,
    failure,
    maxrss_mb,
    run_runner,
    servers,
    spawn,
)
from tunnel import (
    CIPHER,
    KEX,
    MAC,
    Cell,
    EndpointProcess,
    Run,
    TunnelBench,
    parse_size,
    run_and_report,
    with_ratio,
)

RELAY = os.path.join(HERE, "relay.py")
KINDS = ("exec", "tunnel")  # exec `head -c N /dev/zero`; -L forward, target -> client


@dataclass(frozen=True)
class Client:
    key: str
    label: str
    ours: bool
    window: Dict[str, int]  # connect()'s window_size/window_limit; {}: the library's choice


def clients_for(window: int) -> List[Client]:
    mib = f"{window >> 20} MiB"
    return [
        Client("ssh", "OpenSSH ssh", False, {}),
        Client("grow", f"ours, window_limit={mib}", True, {"window_limit": window}),
        Client("fixed", f"ours, window_size={mib}", True, {"window_size": window,
                                                           "window_limit": 0}),
        Client("default", "ours, defaults", True, {}),
    ]


class Relay(HelperProcess):
    """bench/relay.py as a child process, `port` its listening port."""

    def __init__(self, target_port: int, rtt_ms: float, rate_mbps: float) -> None:
        super().__init__([sys.executable, RELAY, "--target-port", str(target_port),
                          "--rtt-ms", str(rtt_ms), "--rate-mbps", str(rate_mbps)])


class LongLink:
    def __init__(self, args: argparse.Namespace, sshd: LocalSshd, endpoint: EndpointProcess):
        self.args = args
        self.sshd = sshd
        self.endpoint = endpoint

    def exec_download(self, client: Client, relay_port: int) -> Run:
        nbytes, timeout = self.args.size_bytes, self.args.timeout
        if not client.ours:
            argv = servers.ssh_command(
                (self.sshd.server.host, relay_port), f"head -c {nbytes} /dev/zero",
                key=self.sshd.key_path, options={"KexAlgorithms": KEX},
                extra_args=["-c", CIPHER, "-m", MAC])
            code, ru, wall, tail, timed_out = spawn(argv, stdin=subprocess.DEVNULL,
                                                    timeout=timeout)
            if code != 0:
                return Run(False, error=failure(code, tail, timed_out, timeout))
            return Run(True, mb_s=nbytes / wall / 1e6, cpu_per_gb=cpu_of(ru) / (nbytes / 1e9),
                       maxrss_mb=maxrss_mb(ru))
        cfg = {"host": self.sshd.server.host, "port": relay_port, "user": servers.TEST_USER,
               "key": self.sshd.key_path, "cipher": CIPHER, "mac": MAC, "kex": KEX,
               **client.window}
        result, ru, error = run_runner("client_sshclient_fast",
                                       {"op": "download", "cfg": cfg, "nbytes": nbytes},
                                       self.sshd.workdir, timeout)
        if result is None or ru is None:
            return Run(False, error=error)
        return Run(True, mb_s=nbytes / result["seconds"] / 1e6,
                   cpu_per_gb=(cpu_of(ru) - result["cpu_before"]) / (nbytes / 1e9),
                   maxrss_mb=maxrss_mb(ru))

    def tunnel_download(self, client: Client, relay_port: int) -> Run:
        bench = TunnelBench(self.sshd, self.endpoint, self.args.timeout, ssh_port=relay_port)
        return bench.run_with("blocking" if client.ours else "ssh", client.window,
                              "download", 1, self.args.size_bytes)


Key = Tuple[float, str, str]  # rtt ms, kind, client key


def measure(bench: LongLink, clients: List[Client], log: Callable[[str], None]
            ) -> Tuple[Dict[Key, Cell], Dict[float, float]]:
    """For each RTT, one relay; `runs` rounds of every kind and client,
    clients alternating, the order rotated each round. Also the relay's
    CPU seconds per RTT (all runs), to show it kept up."""
    args = bench.args
    cells: Dict[Key, Cell] = {}
    relay_cpu: Dict[float, float] = {}
    for rtt in args.rtt_list:
        relay = Relay(bench.sshd.server.port, rtt, args.rate_mbps)
        try:
            before = relay.cpu()
            for r in range(args.runs):
                order = clients[r % len(clients):] + clients[:r % len(clients)]
                for kind in KINDS:
                    for client in order:
                        run_one = bench.exec_download if kind == "exec" else bench.tunnel_download
                        run = run_one(client, relay.port)
                        cells.setdefault((rtt, kind, client.key), Cell()).runs.append(run)
                        log(f"  {rtt:g} ms round {r + 1}/{args.runs} {kind:6s} "
                            f"{client.label:42s} " + (
                                f"{run.mb_s:7.1f} MB/s  RSS {run.maxrss_mb:5.0f} MB  "
                                f"{run.cpu_per_gb:5.2f} CPU-s/GB" if run.ok
                                else f"error: {run.error}"))
            relay_cpu[rtt] = relay.cpu() - before
        finally:
            relay.close()
    return cells, relay_cpu


def render_markdown(args, env, clients, cells, relay_cpu, started, elapsed) -> str:
    out = [f"# sshclient long-link benchmark, {started:%Y-%m-%d %H:%M}", "",
           f"- Machine: {env['CPU']}, {env['cores']} cores, Linux {env['kernel']}",
           f"- Python {env['Python']}; sshclient {env['sshclient']}",
           f"- OpenSSH client: {env['ssh']}; server: {env['sshd']} (throwaway sshd on 127.0.0.1)",
           "- Link: bench/relay.py between client and sshd on 127.0.0.1, each chunk held "
           "RTT/2 each way" + (f", capped at {args.rate_mbps:g} MB/s" if args.rate_mbps
                                else ", no bandwidth cap") + ".",
           f"- Method: {args.size_bytes >> 20} MiB per run; exec `head -c N /dev/zero` "
           "(MB/s over connect..close, login round trips included) and a `-L` forward from "
           "a target next to sshd to bench/endpoint.py (MB/s over first connect..last byte); "
           f"{CIPHER}, kex {KEX}. Median of {args.runs} rounds, clients alternating, order "
           "rotated each round. Peak RSS: os.wait4 ru_maxrss of the client process. "
           "CPU-s/GB: exec: wait4 (start-up subtracted for ours); tunnel: /proc over the "
           "transfer.",
           f"- Our window: 'defaults' grows the 2 MiB window up to connect()'s own limit "
           "(16 MiB) once the protocol's round trip shows it holds the transfer back; "
           f"`window_limit={args.window >> 20} MiB` lets it grow further; "
           f"`window_size={args.window >> 20} MiB` (with window_limit=0) is a fixed "
           "window that size from the start.",
           f"- Wall time {elapsed / 60:.1f} min; load average at start {env['load_start']}, "
           f"at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; relay CPU per RTT: "
           + ", ".join(f"{rtt:g} ms {cpu:.1f} s" for rtt, cpu in relay_cpu.items()), "",
           "Cells: median (ratio to ssh's median); paired: each run over ssh's run in the "
           "same round, median of those.", ""]
    for kind in KINDS:
        title = "exec `head -c N /dev/zero`" if kind == "exec" else "`-L` forward, download"
        out += [f"## {title}", "",
                "| RTT | client | MB/s | paired MB/s ratio | peak RSS MB | CPU-s/GB | runs ok |",
                "|---:|---|---:|---:|---:|---:|---:|"]
        for rtt in args.rtt_list:
            ref = cells[(rtt, kind, "ssh")]
            for c in clients:
                cell = cells[(rtt, kind, c.key)]
                paired = cell.paired(ref, "mb_s") if c.key != "ssh" else None
                out.append("| " + " | ".join([
                    f"{rtt:g} ms", c.label, with_ratio(cell.median("mb_s"), ref.median("mb_s"), 1),
                    "-" if paired is None else f"{paired:.2f}×",
                    with_ratio(cell.median("maxrss_mb"), None, 0),
                    with_ratio(cell.median("cpu_per_gb"), None, 2),
                    f"{len(cell.good())}/{len(cell.runs)}"]) + " |")
        out.append("")
    errors = sorted({f"- {rtt:g} ms {kind} {key}: {r.error}"
                     for (rtt, kind, key), cell in cells.items() for r in cell.runs if not r.ok})
    if errors:
        out += ["## Errors", "", *errors, ""]
    return "\n".join(out)


def results_json(args, env, clients, cells, relay_cpu, started) -> dict:
    return {"started": started.isoformat(timespec="seconds"), "args": vars(args),
            "environment": env, "relay_cpu_s": relay_cpu,
            "cells": [{"rtt_ms": rtt, "kind": kind, "client": c.label,
                       "median_mb_s": cells[(rtt, kind, c.key)].median("mb_s"),
                       "median_maxrss_mb": cells[(rtt, kind, c.key)].median("maxrss_mb"),
                       "runs": [vars(r) for r in cells[(rtt, kind, c.key)].runs]}
                      for rtt in args.rtt_list for kind in KINDS for c in clients]}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rtts", default="10,50,100", help="round trips in ms (default 10,50,100)")
    p.add_argument("--size", default="256M", help="bytes per run (default 256M)")
    p.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--window", default="64M",
                   help="our window_limit (growth) and window_size (fixed) rows (default 64M)")
    p.add_argument("--rate-mbps", type=float, default=0.0,
                   help="relay bandwidth cap per direction, MB/s (default: none)")
    p.add_argument("--timeout", type=float, default=600.0, help="per-run timeout in seconds")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    args = p.parse_args(argv)
    args.size_bytes = parse_size(args.size)
    args.window = parse_size(args.window)
    args.rtt_list = [float(x) for x in args.rtts.split(",") if x.strip()]
    clients = clients_for(args.window)

    def measure_all(sshd: LocalSshd, endpoint: EndpointProcess, log: Callable[[str], None]):
        return measure(LongLink(args, sshd, endpoint), clients, log)

    def report(env, results, started, elapsed):  # type: ignore[no-untyped-def]
        cells, relay_cpu = results
        return (render_markdown(args, env, clients, cells, relay_cpu, started, elapsed),
                results_json(args, env, clients, cells, relay_cpu, started))

    return run_and_report(args, "longlink", measure_all, report)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Port forward benchmark, local (`ssh -L`) and dynamic (`ssh -D`, SOCKS):
bytes pushed through a forward to a TCP endpoint on 127.0.0.1, both ways, on
1 and on 8 streams at once.

    sudo /work/main/.venv/bin/python bench/tunnel.py [--size 1G] [--runs 3] \
        [--kinds L,D] [--clients ssh,cli,blocking,aio]

Clients, each a child process: OpenSSH ``ssh -N -L|-D``, our own command
``sshclient -N -L|-D`` with the same options, sshclient's blocking API
(``conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", TARGET)`` for -L,
``conn.forward_socks("127.0.0.1", 0)`` for -D) and its asyncio API on uvloop
(the same calls awaited). The bytes come from and go to bench/endpoint.py,
a third process; through a -D forward its application side first asks for
the target in SOCKS5 (CONNECT to 127.0.0.1:TARGET, no authentication). MB/s
and the client's CPU seconds per GB (/proc, over the transfer), as ratios
to ssh in the same run; the endpoint's own CPU shows it was not the limit.
Needs root, as compare.py. See bench/README.md.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from forwards import (
    CommandForward,
    EndpointProcess,
    ForwardClient,
    OurForward,
    cli_forward_argv,
    forward_args,
    ssh_forward_argv,
)
from harness import (  # bench/harness.py (puts tests/ on sys.path for servers)
    HERE,
    Cell,
    LocalSshd,
    environment,
    interrupt_on_signals,
    require_root,
    save_report,
    servers,
)

CIPHER = "aes128-gcm@openssh.com"
MAC = "hmac-sha2-256-etm@openssh.com"  # negotiated, unused by the AEAD cipher
KEX = "curve25519-sha256"
DIRECTIONS = ("upload", "download")  # upload: client -> target; download: target -> client
STREAM_COUNTS = (1, 8)
KINDS = ("L", "D")  # -L: a forward to the target; -D: SOCKS, the target asked for per stream
KIND_TITLES = {"L": "`-L` local forward", "D": "`-D` SOCKS forward"}
API_CALLS = {"L": "forward_local_port", "D": "forward_socks"}
GB = 1e9


@dataclass(frozen=True)
class Client:
    key: str  # "ssh", "cli" (our command), or forwarder.py's api: "blocking", "aio"
    label: str  # {opt}: -L or -D; {call}: the API's method for that kind

    def label_for(self, kind: str) -> str:
        return self.label.format(opt=f"-{kind}", call=API_CALLS[kind])


CLIENTS: List[Client] = [
    Client("ssh", "OpenSSH ssh -N {opt}"),
    Client("cli", "sshclient -N {opt} (our CLI)"),
    Client("blocking", "sshclient blocking {call}"),
    Client("aio", "sshclient asyncio {call} (uvloop)"),
]
COMMANDS = ("ssh", "cli")  # the clients that are commands; the others are forwarder.py
REFERENCE = "ssh"


def parse_size(text: str) -> int:
    """"1G", "256M", "64K" or a plain number of bytes (binary units)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def size_text(nbytes: int) -> str:
    """1073741824 -> "1 GiB", 67108864 -> "64 MiB"."""
    if nbytes >= 1 << 30:
        return f"{nbytes / (1 << 30):g} GiB"
    return f"{nbytes / (1 << 20):g} MiB"


def parse_choices(text: str, choices: Sequence[str], option: str) -> List[str]:
    """A comma-separated subset of `choices`, in the order of `choices`;
    ValueError naming the option for an empty list or an unknown word."""
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in choices]
    if not wanted or unknown:
        raise ValueError(f"{option}: {','.join(unknown) or 'nothing'} given; choose among "
                         + ",".join(choices))
    return [c for c in choices if c in wanted]


# --------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------

@dataclass
class Run:
    ok: bool
    mb_s: float = 0.0
    cpu_per_gb: float = 0.0  # the client process, over the transfer
    endpoint_cpu_per_gb: float = 0.0  # both TCP ends (bench/endpoint.py)
    client_life_cpu: float = 0.0  # wait4: connect .. exit, start-up included
    maxrss_mb: float = 0.0
    error: str = ""




def transfer_through(start: Callable[[], ForwardClient], endpoint: EndpointProcess,
                     op: str, streams: int, nbytes: int, timeout: float,
                     socks: bool = False) -> Run:
    """Start a forward client, move nbytes through it, stop it: one Run.
    `socks`: the client is a SOCKS server (-D), asked for the target."""
    try:
        client = start()
    except Exception as exc:  # noqa: BLE001 - a failed cell, not a failed benchmark
        return Run(False, error=f"start: {exc}")
    try:
        cpu_before = client.cpu()
        answer = endpoint.run(op, client.port, streams, nbytes, timeout, socks)
        cpu = client.cpu() - cpu_before
    except BaseException:
        client.kill()
        raise
    ended = client.stop()
    if not answer["ok"] or ended.error:
        return Run(False, error=answer.get("error") or ended.error)
    return Run(True, mb_s=nbytes / answer["seconds"] / 1e6, cpu_per_gb=cpu / (nbytes / GB),
               endpoint_cpu_per_gb=answer["cpu"] / (nbytes / GB),
               client_life_cpu=ended.cpu, maxrss_mb=ended.maxrss_mb)


def direct_transfer(endpoint: EndpointProcess, op: str, streams: int, nbytes: int,
                    timeout: float) -> Run:
    """The endpoint alone, straight to its own target: its ceiling."""
    answer = endpoint.run(op, endpoint.port, streams, nbytes, timeout)
    if not answer["ok"]:
        return Run(False, error=answer["error"])
    return Run(True, mb_s=nbytes / answer["seconds"] / 1e6,
               endpoint_cpu_per_gb=answer["cpu"] / (nbytes / GB))


class TunnelBench:
    """Starts each kind of forward client against one sshd and one endpoint."""

    def __init__(self, sshd: LocalSshd, endpoint: EndpointProcess, timeout: float,
                 ssh_port: Optional[int] = None) -> None:
        self.server = sshd.server
        self.key_path = sshd.key_path
        self.endpoint = endpoint
        self.timeout = timeout
        self.ssh_port = ssh_port or self.server.port  # a relay's port for long links

    def cfg(self, window: Optional[dict] = None) -> dict:
        return {"host": self.server.host, "port": self.ssh_port, "user": servers.TEST_USER,
                "key": self.key_path, "cipher": CIPHER, "mac": MAC, "kex": KEX, **(window or {})}

    def starter(self, client: str, window: Optional[dict] = None, kind: str = "L"
                ) -> Callable[[], ForwardClient]:
        """How to start one client (a Client key) for a -L or -D forward;
        `window`: our window_size/window_limit options (the API clients)."""
        target = ("127.0.0.1", self.endpoint.port)
        if client in COMMANDS:
            def start_command() -> ForwardClient:
                port = servers.free_port()
                forward = forward_args(kind, port, target)
                argv = (ssh_forward_argv(self.server, self.key_path, forward, CIPHER, MAC, KEX,
                                         port=self.ssh_port) if client == "ssh" else
                        cli_forward_argv((self.server.host, self.ssh_port), servers.TEST_USER,
                                         self.key_path, forward, CIPHER, MAC, KEX))
                return CommandForward(argv, port, timeout=60,
                                      name="ssh" if client == "ssh" else "sshclient")
            return start_command
        return lambda: OurForward(client, self.cfg(window), target, timeout=60, kind=kind)

    def run(self, client: Client, kind: str, op: str, streams: int, nbytes: int) -> Run:
        return self.run_with(client.key, None, op, streams, nbytes, kind)

    def run_with(self, client: str, window: Optional[dict], op: str, streams: int,
                 nbytes: int, kind: str = "L") -> Run:
        """One transfer through a new client (a Client key) and forward kind."""
        return transfer_through(self.starter(client, window, kind), self.endpoint, op,
                                streams, nbytes, self.timeout, socks=kind == "D")


# --------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------

TableKey = Tuple[str, str, int]  # kind, direction, streams
CellKey = Tuple[str, str, int, str]  # kind, direction, streams, client key


def measure(bench: TunnelBench, clients: List[Client], kinds: Sequence[str], nbytes: int,
            runs: int, log: Callable[[str], None]
            ) -> Tuple[Dict[CellKey, Cell], Dict[TableKey, Cell]]:
    """`runs` rounds; in each, every cell runs every client once, the clients
    alternating with the order rotated by one each round. The endpoint's
    direct figure is taken once per table and round."""
    cells: Dict[CellKey, Cell] = {}
    direct: Dict[TableKey, Cell] = {}
    for r in range(runs):
        order = clients[r % len(clients):] + clients[:r % len(clients)]
        for kind in kinds:
            for op in DIRECTIONS:
                for streams in STREAM_COUNTS:
                    d = direct_transfer(bench.endpoint, op, streams, nbytes, bench.timeout)
                    direct.setdefault((kind, op, streams), Cell()).runs.append(d)
                    for client in order:
                        run = bench.run(client, kind, op, streams, nbytes)
                        cells.setdefault((kind, op, streams, client.key), Cell()).runs.append(run)
                        log(f"  round {r + 1}/{runs} {op:8s} x{streams} "
                            f"{client.label_for(kind):45s} " + describe(run))
    return cells, direct


def describe(run: Run) -> str:
    if not run.ok:
        return f"error: {run.error}"
    return (f"{run.mb_s:7.0f} MB/s  client {run.cpu_per_gb:5.2f} CPU-s/GB  endpoint "
            f"{run.endpoint_cpu_per_gb:5.2f} CPU-s/GB  RSS {run.maxrss_mb:5.0f} MB")


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

def with_ratio(value: Optional[float], ref: Optional[float], digits: int) -> str:
    if value is None:
        return "error"
    text = f"{value:.{digits}f}"
    return text + (f" ({value / ref:.2f}×)" if ref else "")


def render_markdown(args, env, clients, cells, direct, started, elapsed) -> str:
    nbytes = args.size_bytes
    kinds = " and ".join(f"`-{k}`" for k in args.kind_list)
    out = [f"# sshclient {kinds} tunnel benchmark, {started:%Y-%m-%d %H:%M}", "",
           f"- Machine: {env['CPU']}, {env['cores']} cores, Linux {env['kernel']}; the "
           "client, sshd and the endpoint share the cores",
           f"- Python {env['Python']}; sshclient {env['sshclient']}; uvloop {env['uvloop']}",
           f"- OpenSSH client: {env['ssh']}; server: {env['sshd']} (throwaway sshd on 127.0.0.1)",
           f"- Method: {size_text(nbytes)} per run through a port forward to "
           "bench/endpoint.py on 127.0.0.1 (one stream, or 8 streams of 1/8 each at once); "
           "`-L`: a local forward to it; `-D`: a SOCKS forward, each stream first a SOCKS5 "
           "CONNECT to it by address (no authentication, inside the timed span); "
           f"{CIPHER}, kex {KEX}, publickey (ed25519) for every client. Median of "
           f"{args.runs} rounds, clients alternating, order rotated each round; a new client "
           "process per run. MB/s: first connect to the last byte at the receiving end. "
           "Client CPU: /proc/PID/stat utime+stime of the client process (all threads) over "
           "the transfer. Endpoint CPU: bench/endpoint.py (both TCP ends) over the transfer.",
           f"- Wall time {elapsed / 60:.1f} min; load average at start {env['load_start']}, "
           f"at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}", "",
           "Cells: median (ratio to ssh). MB/s: higher is better; CPU-s/GB: lower is better.",
           ""]
    for kind in args.kind_list:
        for op in DIRECTIONS:
            for streams in STREAM_COUNTS:
                out += cell_table((kind, op, streams), clients, cells,
                                  direct[(kind, op, streams)])
    errors = sorted({f"- {op} x{s} {c.label_for(kind)}: {r.error}"
                     for (kind, op, s, key), cell in cells.items()
                     for c in clients if c.key == key for r in cell.runs if not r.ok})
    if errors:
        out += ["## Errors", "", *errors, ""]
    return "\n".join(out)


def cell_table(table: TableKey, clients: List[Client], cells: Dict[CellKey, Cell],
               direct: Cell) -> List[str]:
    kind, op, streams = table
    ref = cells.get((*table, REFERENCE))
    ref_mb = ref.median("mb_s") if ref else None
    ref_cpu = ref.median("cpu_per_gb") if ref else None
    what = "client -> target" if op == "upload" else "target -> client"
    out = [f"## {KIND_TITLES[kind]}: {op} ({what}), {streams} stream"
           + ("s" if streams > 1 else ""), "",
           "| client | MB/s | client CPU-s/GB | paired MB/s ratio | endpoint CPU-s/GB | "
           "peak RSS MB | runs ok |", "|---|---:|---:|---:|---:|---:|---:|"]
    for client in clients:
        cell = cells[(*table, client.key)]
        paired = cell.paired(ref, "mb_s") if ref is not None and cell is not ref else None
        out.append("| " + " | ".join([
            client.label_for(kind), with_ratio(cell.median("mb_s"), ref_mb, 0),
            with_ratio(cell.median("cpu_per_gb"), ref_cpu, 2),
            "-" if paired is None else f"{paired:.2f}×",
            with_ratio(cell.median("endpoint_cpu_per_gb"), None, 2),
            with_ratio(cell.median("maxrss_mb"), None, 0),
            f"{len(cell.good())}/{len(cell.runs)}"]) + " |")
    alone = "no forward" + (", no SOCKS" if kind == "D" else "")
    out.append(f"| (endpoint alone, {alone}) | " + with_ratio(direct.median("mb_s"), None, 0)
               + " | - | - | " + with_ratio(direct.median("endpoint_cpu_per_gb"), None, 2)
               + f" | - | {len(direct.good())}/{len(direct.runs)} |")
    return out + [""]


def results_json(args, env, clients, cells, direct, started) -> dict:
    return {
        "started": started.isoformat(timespec="seconds"),
        "args": vars(args),
        "environment": env,
        "cells": [{"kind": f"-{k}", "direction": op, "streams": s, "client": c.label_for(k),
                   "median_mb_s": cells[(k, op, s, c.key)].median("mb_s"),
                   "median_cpu_s_per_gb": cells[(k, op, s, c.key)].median("cpu_per_gb"),
                   "runs": [vars(r) for r in cells[(k, op, s, c.key)].runs]}
                  for k in args.kind_list for op in DIRECTIONS for s in STREAM_COUNTS
                  for c in clients],
        "endpoint_alone": [{"kind": f"-{k}", "direction": op, "streams": s,
                            "runs": [vars(r) for r in direct[(k, op, s)].runs]}
                           for k in args.kind_list for op in DIRECTIONS
                           for s in STREAM_COUNTS],
    }


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

Measure = Callable[[LocalSshd, EndpointProcess, Callable[[str], None]], Any]
Report = Callable[[Dict[str, str], Any, _dt.datetime, float], Tuple[str, dict]]


def log(msg: str) -> None:
    print(msg, flush=True)


def run_and_report(args: argparse.Namespace, stem: str, measure_all: Measure,
                   report: Report) -> int:
    """What tunnel.py and longlink.py do around their measurements: the
    throwaway sshd and the endpoint process, then the report: report(env,
    results, started, elapsed seconds) gives the Markdown and the JSON,
    written to args.out as <stem>-<date>.md/.json."""
    if not require_root(f"{stem}.py"):
        return 2
    interrupt_on_signals()
    os.makedirs(args.out, exist_ok=True)
    started = _dt.datetime.now()
    t_start = time.monotonic()
    try:
        with LocalSshd({}, log) as sshd:
            env = environment(sshd.server)
            endpoint = EndpointProcess()
            sshd.at_exit(endpoint.close)
            results = measure_all(sshd, endpoint, log)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    md, data = report(env, results, started, time.monotonic() - t_start)
    md_path, json_path = save_report(args.out, f"{stem}-{started:%Y-%m-%d-%H%M}", md, data)
    log(f"table: {md_path}\nraw runs: {json_path}")
    return 0


def parse_args(argv: Optional[List[str]]) -> Tuple[argparse.Namespace, List[Client]]:
    """The options (exits with a message on a bad one); args.size_bytes and
    args.kind_list are added; the clients chosen, in CLIENTS' order."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="1G", help="bytes per run, e.g. 1G, 256M (default 1G)")
    p.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help="forwards to measure: L (local), D (SOCKS); default L,D")
    p.add_argument("--clients", default=",".join(c.key for c in CLIENTS),
                   help="comma-separated subset of: " + ",".join(c.key for c in CLIENTS)
                   + " (ssh: OpenSSH; cli: our sshclient command; blocking, aio: our APIs)")
    p.add_argument("--timeout", type=float, default=300.0, help="per-run timeout in seconds")
    p.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    args = p.parse_args(argv)
    args.size_bytes = parse_size(args.size)
    try:
        args.kind_list = parse_choices(args.kinds, KINDS, "--kinds")
        keys = parse_choices(args.clients, [c.key for c in CLIENTS], "--clients")
    except ValueError as exc:
        p.error(str(exc))
    if REFERENCE not in keys:
        p.error("--clients must include ssh: every figure is a ratio to it")
    return args, [c for c in CLIENTS if c.key in keys]


def main(argv: Optional[List[str]] = None) -> int:
    args, clients = parse_args(argv)

    def measure_all(sshd: LocalSshd, endpoint: EndpointProcess, log: Callable[[str], None]):
        log(f"\n== {args.size} per run through {','.join('-' + k for k in args.kind_list)}, "
            f"{args.runs} rounds")
        return measure(TunnelBench(sshd, endpoint, args.timeout), clients, args.kind_list,
                       args.size_bytes, args.runs, log)

    def report(env, results, started, elapsed):  # type: ignore[no-untyped-def]
        cells, direct = results
        return (render_markdown(args, env, clients, cells, direct, started, elapsed),
                results_json(args, env, clients, cells, direct, started))

    return run_and_report(args, "tunnel", measure_all, report)


if __name__ == "__main__":
    sys.exit(main())

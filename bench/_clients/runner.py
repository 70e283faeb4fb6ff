"""Child process for one measurement of one Python client (see compare.py).

    python bench/_clients/runner.py '<json spec>'

spec: {"module": "client_x", "op": "download|upload|tunnel|fanout|handshake|version",
       "cfg": {...}, "nbytes": N, "count": K, "warm_up": bool,
       "result": "/path/result.json"}

The result goes to spec["result"] as JSON (stdout is left to the library).
For transfers it holds the wall time of connect..close, the bytes moved and
this process's CPU time (user+sys, all threads) just before connecting, so
that the parent can subtract interpreter start-up and imports from the
total it reads with os.wait4 (and, with "warm_up", one unmeasured handshake
before that; for fanout, "nbytes" is the number of connections).
Handshakes: one unmeasured warm-up, then ``count`` measured ones, each with
its wall and CPU time.
"""
from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _run(spec: dict) -> dict:
    mod = importlib.import_module(spec["module"])
    cfg = spec.get("cfg", {})
    op = spec["op"]
    if op == "version":
        return {"ok": True, "name": mod.NAME, "version": mod.version()}
    if op == "handshake":
        mod.handshake(cfg)  # warm-up: lazy imports, first-use initialisation
        wall, cpu = [], []
        for _ in range(int(spec["count"])):
            c0, t0 = _cpu(), time.perf_counter()
            mod.handshake(cfg)
            t1, c1 = time.perf_counter(), _cpu()
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
        return {"ok": True, "wall": wall, "cpu": cpu}
    fn = getattr(mod, op)
    if spec.get("warm_up"):
        mod.handshake(cfg)  # not measured: lazy imports, first-use initialisation
    nbytes = int(spec["nbytes"])
    c0, t0 = _cpu(), time.perf_counter()
    moved = fn(cfg, nbytes)
    t1, c1 = time.perf_counter(), _cpu()
    return {"ok": True, "seconds": t1 - t0, "bytes": moved, "cpu_before": c0,
            "cpu_self": c1 - c0}


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        out = _run(spec)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        msg = str(exc).strip().splitlines()
        out = {"ok": False, "error": f"{type(exc).__name__}: {msg[0] if msg else ''}".strip(),
               "traceback": traceback.format_exc()}
    with open(spec["result"], "w") as f:
        json.dump(out, f)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: what the parent reads with wait4 after the
    # measured section should be the client's own work, not module cleanup.
    os._exit(0 if out.get("ok") else 1)


if __name__ == "__main__":
    main()

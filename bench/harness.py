"""What bench/compare.py and bench/fanout.py share: running one client in a
child process (so that os.wait4 gives its CPU time), the throwaway sshd and
client key, and the environment for a report's header.

Needs tests/servers.py (the test user, sshd, keys) on sys.path: importing
this module puts bench/_clients and tests there.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNNER = os.path.join(HERE, "_clients", "runner.py")
for _path in (os.path.join(ROOT, "tests"), os.path.join(HERE, "_clients")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import servers  # noqa: E402  (tests/servers.py: sshd, test user, keys, TCP source)

# --------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------

_LIVE: Dict[int, subprocess.Popen] = {}
_LIVE_LOCK = threading.Lock()


def kill_live_children() -> None:
    with _LIVE_LOCK:
        procs = list(_LIVE.values())
    for p in procs:
        with contextlib.suppress(OSError):
            p.kill()


def spawn(argv: List[str], *, stdin, timeout: float, cwd: Optional[str] = None
           ) -> Tuple[Optional[int], Optional[os.struct_rusage], float, str, bool]:
    """Run argv to completion; returns (exit code or None if killed by a
    signal, rusage of that child from wait4, wall seconds, stderr tail,
    timed_out). stdout goes to /dev/null."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err,
                                close_fds=True, cwd=cwd)
        with _LIVE_LOCK:
            _LIVE[proc.pid] = proc
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            with contextlib.suppress(OSError):
                proc.kill()

        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True
        timer.start()
        try:
            while True:
                try:
                    _, status, ru = os.wait4(proc.pid, 0)
                    break
                except InterruptedError:
                    continue
        except BaseException:  # Ctrl-C / SIGTERM while waiting: take the child with us
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(5)
            raise
        finally:
            timer.cancel()
            with _LIVE_LOCK:
                _LIVE.pop(proc.pid, None)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: keep Popen quiet
        err.seek(0)
        tail = err.read()[-4000:].decode("utf-8", "replace")
    code = proc.returncode if proc.returncode >= 0 else None
    return code, ru, wall, tail, timed_out.is_set()


def maxrss_mb(ru: os.struct_rusage) -> float:
    """Peak resident set of the child in MB (Linux reports KiB)."""
    return ru.ru_maxrss * 1024 / 1e6


def cpu_of(ru: os.struct_rusage) -> float:
    return ru.ru_utime + ru.ru_stime


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def failure(code: Optional[int], tail: str, timed_out: bool, timeout: float) -> str:
    if timed_out:
        return f"timeout after {timeout:g} s"
    if code is None:
        return "killed by a signal" + (f" ({last_line(tail)})" if tail.strip() else "")
    return f"exit {code}" + (f": {last_line(tail)}" if tail.strip() else "")


def run_runner(module: str, spec: dict, workdir: str, timeout: float
               ) -> Tuple[Optional[dict], Optional[os.struct_rusage], str]:
    """One measurement in bench/_clients/runner.py importing `module`:
    (its JSON result or None, the child's rusage from wait4, error text)."""
    fd, result_path = tempfile.mkstemp(prefix="result-", suffix=".json", dir=workdir)
    os.close(fd)
    spec = dict(spec, module=module, result=result_path)
    try:
        code, ru, wall, tail, timed_out = spawn(
            [sys.executable, RUNNER, json.dumps(spec)], stdin=subprocess.DEVNULL,
            timeout=timeout, cwd=workdir)
        try:
            with open(result_path) as f:
                result = json.load(f)
        except (OSError, ValueError):
            result = None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(result_path)
    if result is None:
        return None, ru, failure(code, tail, timed_out, timeout)
    if not result.get("ok"):
        return None, ru, result.get("error") or failure(code, tail, timed_out, timeout)
    return result, ru, ""


# --------------------------------------------------------------------------
# The throwaway sshd
# --------------------------------------------------------------------------

def sshd_binary() -> str:
    """Absolute path of the sshd tests/servers.py would run."""
    path = shutil.which("sshd", path=os.environ.get("PATH", "") + os.pathsep
                        + "/usr/local/sbin:/usr/sbin:/sbin")
    if path is None:
        raise servers.ServerUnavailable("sshd not found (install openssh-server)")
    return os.path.abspath(path)


class LocalSshd:
    """`with LocalSshd(config, log) as sshd:` the test user, a throwaway
    ed25519 client key authorized for it, an sshd on 127.0.0.1 (LogLevel
    ERROR: logging costs nothing; `sshd.server`) and a scratch directory
    (`sshd.workdir`). On the way out, also on Ctrl-C or SIGTERM: child
    processes still running are killed, the callbacks given to `at_exit`
    run (newest first), and sshd, the key and the directory go."""

    def __init__(self, extra_config: Mapping[str, object], log: Callable[[str], None],
                 sshd_path: Optional[str] = None) -> None:
        self.extra_config = dict(extra_config)
        self.log = log
        self.sshd_path = sshd_path
        self.keys = None
        self.server: Optional[servers.SshdServer] = None
        self.key_path = ""
        self.workdir = ""
        self._exit = contextlib.ExitStack()

    def at_exit(self, callback: Callable[[], object]) -> None:
        self._exit.callback(callback)

    def __enter__(self) -> LocalSshd:
        try:
            self.workdir = tempfile.mkdtemp(prefix="sshclient-bench-")
            self.at_exit(lambda: shutil.rmtree(self.workdir, ignore_errors=True))
            servers.ensure_test_user()
            self.log("generating a client key ...")
            keys = servers.ClientKeys.generate(variants=[])
            self.at_exit(keys.close)
            self.key_path = keys["ed25519"].path
            server = servers.SshdServer(self.extra_config, host_key_types=("ed25519",),
                                        log_level="ERROR", sshd_path=self.sshd_path)
            self.at_exit(server.stop)
            server.start()
            self.server = server
        except BaseException:
            self._exit.close()
            raise
        self.log(f"sshd on {server.host}:{server.port} ({server.banner})")
        return self

    def __exit__(self, *exc: object) -> None:
        kill_live_children()
        self._exit.close()


def save_report(out_dir: str, stem: str, markdown: str, data: dict) -> Tuple[str, str]:
    """Write <stem>.md and <stem>.json to out_dir, print the table; the two paths."""
    md_path = os.path.join(out_dir, f"{stem}.md")
    json_path = os.path.join(out_dir, f"{stem}.json")
    with open(md_path, "w") as f:
        f.write(markdown)
    with open(json_path, "w") as f:
        json.dump(data, f, indent=1)
    print()
    print(markdown)
    return md_path, json_path


# --------------------------------------------------------------------------
# A benchmark's main()
# --------------------------------------------------------------------------

def require_root(script: str) -> bool:
    if os.geteuid() == 0:
        return True
    print(f"{script} needs root: it creates the test user and runs a throwaway sshd "
          "(tests/servers.py)", file=sys.stderr)
    return False


def interrupt_on_signals() -> None:
    """SIGTERM/SIGHUP behave like Ctrl-C, so every finally runs."""
    def _interrupt(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)


# --------------------------------------------------------------------------
# Report header
# --------------------------------------------------------------------------

def cmd_output(argv: List[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc})"
    return (p.stdout + p.stderr).strip()


def environment(server) -> Dict[str, str]:
    env: Dict[str, str] = {}
    model = "unknown"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    env["CPU"] = model
    env["cores"] = str(os.cpu_count())
    env["kernel"] = platform.release()
    env["load_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    env["Python"] = platform.python_version()
    # Reported under the import name; sshclient's distribution is sshclient-cython
    # (the name "sshclient" on PyPI is another project's).
    for key, dist in (("sshclient", "sshclient-cython"), ("paramiko", "paramiko"),
                      ("asyncssh", "asyncssh"), ("ssh2-python", "ssh2-python"),
                      ("uvloop", "uvloop"), ("cryptography", "cryptography"),
                      ("PyNaCl", "PyNaCl"),
                      ("matplotlib", "matplotlib")):
        try:
            env[key] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            env[key] = "not installed"
    commit = cmd_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if re.fullmatch(r"[0-9a-f]{4,40}", commit):
        dirty = cmd_output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
        env["sshclient"] += f" (git {commit}{', uncommitted changes' if dirty else ''})"
    with contextlib.suppress(Exception):
        from sshcore import crypto

        env["sshclient"] += f", crypto backend {crypto.backend()}"
    if env["ssh2-python"] != "not installed":  # its libssh2, asked in a child process
        libssh2 = cmd_output([sys.executable, "-c", "import ssh2.utils as u; "
                               "print(u.version().decode())"])
        if re.fullmatch(r"[0-9][0-9.]*", libssh2):
            env["ssh2-python"] += f" (libssh2 {libssh2})"
    env["ssh"] = cmd_output(["ssh", "-V"]).splitlines()[0]
    sshd_v = next((ln for ln in cmd_output([server.sshd_path, "-V"]).splitlines()
                   if ln.startswith("OpenSSH")), "")
    env["sshd"] = (sshd_v or "?") + f"; banner {server.banner}"
    return env


@dataclass
class Cell:
    """The runs of one client in one cell of a benchmark table; a run is
    any object with `ok` and the figures asked for by name."""
    runs: List[Any] = field(default_factory=list)

    def good(self) -> List[Any]:
        return [r for r in self.runs if r.ok]

    def median(self, what: str) -> Optional[float]:
        values = [getattr(r, what) for r in self.good() if getattr(r, what) is not None]
        return statistics.median(values) if values else None

    def paired(self, ref: Cell, what: str) -> Optional[float]:
        """Median over rounds of this run's figure / the reference's in that round."""
        ratios = [getattr(a, what) / getattr(b, what) for a, b in zip(self.runs, ref.runs)
                  if a.ok and b.ok and getattr(b, what)]
        return statistics.median(ratios) if ratios else None

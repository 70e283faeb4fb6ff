"""Real SSH peers and tiny TCP helpers on loopback, for tests and benchmarks.

Everything here listens on loopback only (127.0.0.1 or ::1) and uses
throwaway keys and configs in temporary directories. There is no pytest
dependency: ``tests/conftest.py`` wraps these in fixtures and benchmarks
import this module directly::

    sys.path.insert(0, os.path.join(REPO, "tests"))
    import servers
    with servers.SshdServer(log_level="ERROR") as sshd:   # sshd.host, sshd.port
        keys = servers.ClientKeys.generate()               # keys["ed25519"].path
        ...
        keys.close()

What it provides
----------------
- ``ensure_test_user()``: the system user ``sshclient-test`` (shell /bin/sh,
  password ``sshclient-test-pass``, home ``/var/lib/sshclient-test/home``)
  that every test logs in as. Root's ~/.bashrc on the build machines runs
  ``pyenv init``, which costs ~250 ms per remote command and writes to
  stderr, so we never log in as root.
- ``ClientKeys``: client key pairs in every private-key format the library
  has to read (OpenSSH, PEM/PKCS#1/SEC1, PKCS#8, PuTTY PPK v2/v3, plain and
  passphrase-protected), authorized for the test user.
- ``SshdServer``: OpenSSH ``sshd`` with its own config, host keys, PID file
  and log, and every algorithm this sshd implements switched on.
- ``DropbearServer``: ``dropbear`` with throwaway host keys.
- ``TcpSource`` / ``TcpEcho`` / ``TcpSink``: loopback TCP endpoints for
  port-forwarding tests, with a deterministic data pattern.
- ``probe_kexinit()``: read a server's banner and KEXINIT name-lists.
- ``ssh_command()`` / ``askpass_env()``: argv and environment for the
  system OpenSSH client (used to check the servers themselves and as the
  reference client in benchmarks).

Creating users, writing authorized_keys and running sshd need root. When not
root, the functions raise ``ServerUnavailable``; the pytest fixtures turn
that into a skip (or a failure under CI).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import fcntl
import grp
import hashlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

__all__ = [
    "LOOPBACK",
    "TEST_USER",
    "TEST_PASSWORD",
    "TEST_HOME",
    "KEY_PASSPHRASE",
    "ServerUnavailable",
    "TestUser",
    "ensure_test_user",
    "free_port",
    "ClientKey",
    "ClientKeys",
    "HostKey",
    "SshdServer",
    "DropbearServer",
    "TcpSource",
    "TcpEcho",
    "TcpSink",
    "pattern_bytes",
    "probe_kexinit",
    "KexInit",
    "ssh_command",
    "askpass_env",
    "fingerprint_sha256",
    "running_servers",
]

LOOPBACK = "127.0.0.1"
# A user of our own, with a home of our own (issue 11). A generic name such as
# "sshtest" may already belong to someone else on a machine, made with
# `useradd -m` so that its home holds /etc/skel's .bashrc/.profile, and a
# fixture must not delete files in a home it does not own. So the name says
# whose it is, and the home lives in a directory this module creates
# (dirname(TEST_HOME), root-owned, 0755 for sshd's StrictModes): the fixture
# owns both and makes them what the tests need, whatever it finds there. No
# stored test data carries the name: user certificates are signed at run time
# for test_user.name.
TEST_USER = "sshclient-test"
TEST_PASSWORD = "sshclient-test-pass"
TEST_HOME = "/var/lib/sshclient-test/home"
TEST_SHELL = "/bin/sh"
# Files a login shell, bash or sshd would run or print from in the test user's
# home (besides whatever /etc/skel holds on this machine): ensure_test_user()
# removes them, so remote commands print nothing but their own output.
_STARTUP_FILES = (".profile", ".bashrc", ".bash_profile", ".bash_login", ".bash_logout",
                  ".pyenv", ".shrc", ".kshrc", ".zshenv", ".zprofile", ".zshrc",
                  ".zlogin", ".zlogout", ".cshrc", ".tcshrc", ".login", ".logout",
                  ".ssh/rc", ".ssh/environment")
KEY_PASSPHRASE = "key-pass"

# Marker put in the comment of every authorized_keys line we add, followed by
# "<pid>-<random>:<key name>". Lines of sessions whose pid is gone are pruned.
_AUTH_MARKER = "sshclient-test:"

_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"


class ServerUnavailable(RuntimeError):
    """This environment cannot provide the requested peer (not root, missing
    binary, ...). Fixtures skip on it, or fail when servers are required."""


def _which(name: str, extra: str = _SBIN_PATH) -> Optional[str]:
    path = os.environ.get("PATH", "") + os.pathsep + extra
    return shutil.which(name, path=path)


def _require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ServerUnavailable(
            f"{what} needs root (it creates the system user {TEST_USER!r}, writes its "
            f"authorized_keys and runs sshd); run the tests as root, as CI does"
        )


def _run(argv: Sequence[str], *, input: Optional[str] = None, timeout: float = 60.0,
         check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        list(argv),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"command failed (exit {proc.returncode}): {' '.join(argv)}\n"
            f"stdout: {proc.stdout.strip()}\nstderr: {proc.stderr.strip()}"
        )
    return proc


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (servers retry on a
    collision, so the usual bind-then-close race is harmless)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def fingerprint_sha256(blob: bytes) -> str:
    """OpenSSH-style ``SHA256:...`` fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _parse_public_line(line: str) -> Tuple[str, bytes, str]:
    parts = line.strip().split(None, 2)
    if len(parts) < 2:
        raise ValueError(f"not a public key line: {line!r}")
    return parts[0], base64.b64decode(parts[1]), parts[2] if len(parts) > 2 else ""


# --------------------------------------------------------------------------
# The test user
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TestUser:
    name: str
    password: str
    home: str
    uid: int
    gid: int
    shell: str

    __test__ = False  # not a pytest test class

    @property
    def authorized_keys_path(self) -> str:
        return os.path.join(self.home, ".ssh", "authorized_keys")


_user_lock = threading.Lock()
_user_cache: Optional[TestUser] = None


def ensure_test_user() -> TestUser:
    """Create (if missing) and normalize the system user ``TEST_USER``.

    Shell /bin/sh (no bashrc, no pyenv), home ``TEST_HOME`` (in a root-owned
    directory of ours) with ``.hushlogin`` and ``.ssh/`` and no shell startup
    files, password ``TEST_PASSWORD``, account not expired. Whatever state a
    pre-existing user of that name is in (another home, /etc/skel dotfiles, a
    login shell, a locked password), it is made so. Idempotent; raises
    ServerUnavailable when not root or when useradd/usermod/chpasswd are
    missing.
    """
    global _user_cache
    with _user_lock:
        if _user_cache is not None:
            return _user_cache
        _require_root("the test user")
        for tool in ("useradd", "usermod", "chpasswd"):
            if _which(tool) is None:
                raise ServerUnavailable(f"{tool} not found (install the 'passwd' package)")
        name, home = TEST_USER, TEST_HOME
        # The directory that holds the home is ours: root's, not writable by
        # anyone else (StrictModes checks every directory above authorized_keys).
        root_dir = os.path.dirname(home)
        os.makedirs(root_dir, mode=0o755, exist_ok=True)
        os.chown(root_dir, 0, 0)
        os.chmod(root_dir, 0o755)
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            # No --create-home: /etc/skel would bring a .bashrc/.profile. A group
            # of that name left behind by a deleted user is taken over.
            try:
                grp.getgrnam(name)
                group = ["--gid", name]
            except KeyError:
                group = ["--user-group"]
            _run([_which("useradd"), "--no-create-home", "--home-dir", home,
                  "--shell", TEST_SHELL, *group,
                  "--comment", "sshclient test user", name])
            pw = pwd.getpwnam(name)
        if pw.pw_shell != TEST_SHELL or pw.pw_dir != home:
            # Without --move-home: a home somewhere else is not ours to move or delete.
            _run([_which("usermod"), "--shell", TEST_SHELL, "--home", home, name])
            pw = pwd.getpwnam(name)
        # (Re)set the password every session: cheap, and also unlocks the
        # account; an expiry date set by whoever made the user is cleared.
        _run([_which("chpasswd")], input=f"{name}:{TEST_PASSWORD}\n")
        _run([_which("usermod"), "--expiredate", "", name], check=False)
        uid, gid = pw.pw_uid, pw.pw_gid
        # StrictModes: home and ~/.ssh owned by the user, not group/world-writable.
        os.makedirs(home, mode=0o755, exist_ok=True)
        os.chown(home, uid, gid)
        os.chmod(home, 0o755)
        ssh_dir = os.path.join(home, ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        os.chown(ssh_dir, uid, gid)
        os.chmod(ssh_dir, 0o700)
        # The home is ours (see TEST_HOME): remove what a shell would run.
        try:
            skel = [e for e in os.listdir("/etc/skel") if e.startswith(".")]
        except OSError:
            skel = []
        for entry in sorted({*_STARTUP_FILES, *skel} - {".ssh", ".hushlogin"}):
            path = os.path.join(home, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.unlink(path)
        hush = os.path.join(home, ".hushlogin")
        if not os.path.exists(hush):
            open(hush, "w").close()
        os.chown(hush, uid, gid)
        ak = os.path.join(ssh_dir, "authorized_keys")
        if not os.path.exists(ak):
            open(ak, "w").close()
        os.chown(ak, uid, gid)
        os.chmod(ak, 0o600)
        _user_cache = TestUser(name, TEST_PASSWORD, home, uid, gid, TEST_SHELL)
        return _user_cache


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _authorized_keys_locked(user: TestUser) -> Iterator[List[str]]:
    """Yield the lines of authorized_keys (stale test lines pruned) under an
    exclusive lock; the (possibly modified) list is written back atomically."""
    ssh_dir = os.path.dirname(user.authorized_keys_path)
    lock_path = os.path.join(ssh_dir, ".authorized_keys.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                with open(user.authorized_keys_path) as f:
                    lines = [ln.rstrip("\n") for ln in f if ln.strip()]
            except FileNotFoundError:
                lines = []
            kept = []
            for ln in lines:
                m = re.search(re.escape(_AUTH_MARKER) + r"(\d+)-", ln)
                if m and not _pid_alive(int(m.group(1))):
                    continue  # left behind by a session that died
                kept.append(ln)
            yield kept
            tmp = user.authorized_keys_path + f".tmp{os.getpid()}"
            with open(tmp, "w") as f:
                f.write("".join(ln + "\n" for ln in kept))
            os.chown(tmp, user.uid, user.gid)
            os.chmod(tmp, 0o600)
            os.replace(tmp, user.authorized_keys_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------
# Client keys
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientKey:
    """One client private key file and its public half.

    ``format`` is "openssh", "pem" (PKCS#1 for RSA, SEC1 for ECDSA),
    "pkcs8", "ppk2" or "ppk3". Variants made from the same key pair share
    ``base`` and the public key.
    """

    name: str
    base: str
    path: str
    public_path: str
    public_line: str
    algorithm: str  # key type: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa
    bits: int
    format: str
    passphrase: Optional[str]
    authorized: bool

    @property
    def encrypted(self) -> bool:
        return self.passphrase is not None

    @property
    def public_blob(self) -> bytes:
        return _parse_public_line(self.public_line)[1]

    @property
    def fingerprint(self) -> str:
        return fingerprint_sha256(self.public_blob)

    def read_bytes(self) -> bytes:
        with open(self.path, "rb") as f:
            return f.read()


# name: (ssh-keygen -t, bits, authorized)
_BASE_CLIENT_KEYS: Dict[str, Tuple[str, int, bool]] = {
    "ed25519": ("ed25519", 256, True),
    "ecdsa256": ("ecdsa", 256, True),
    "ecdsa384": ("ecdsa", 384, True),
    "ecdsa521": ("ecdsa", 521, True),
    "rsa": ("rsa", 3072, True),
    # Never put into authorized_keys: for "server rejects this key" tests.
    "ed25519-unauthorized": ("ed25519", 256, False),
}

# name: (base, format, encrypted)
_CLIENT_KEY_VARIANTS: Dict[str, Tuple[str, str, bool]] = {
    # OpenSSH format, passphrase-protected (bcrypt-pbkdf + aes256-ctr)
    "ed25519-enc": ("ed25519", "openssh", True),
    "ecdsa256-enc": ("ecdsa256", "openssh", True),
    "rsa-enc": ("rsa", "openssh", True),
    # PEM: PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY";
    # encrypted = Proc-Type/DEK-Info, AES-128-CBC, MD5 EVP_BytesToKey
    "rsa-pem": ("rsa", "pem", False),
    "rsa-pem-enc": ("rsa", "pem", True),
    "ecdsa256-pem": ("ecdsa256", "pem", False),
    "ecdsa384-pem": ("ecdsa384", "pem", False),
    "ecdsa521-pem": ("ecdsa521", "pem", False),
    "ecdsa256-pem-enc": ("ecdsa256", "pem", True),
    # PKCS#8 "PRIVATE KEY"; encrypted = "ENCRYPTED PRIVATE KEY" (PBES2)
    "rsa-pkcs8": ("rsa", "pkcs8", False),
    "rsa-pkcs8-enc": ("rsa", "pkcs8", True),
    "ecdsa256-pkcs8": ("ecdsa256", "pkcs8", False),
    "ecdsa384-pkcs8": ("ecdsa384", "pkcs8", False),
    "ecdsa521-pkcs8": ("ecdsa521", "pkcs8", False),
    "ecdsa256-pkcs8-enc": ("ecdsa256", "pkcs8", True),
    # ssh-keygen cannot write Ed25519 as PKCS#8; made with `cryptography`
    # when it is importable.
    "ed25519-pkcs8": ("ed25519", "pkcs8", False),
    "ed25519-pkcs8-enc": ("ed25519", "pkcs8", True),
    # PuTTY (when puttygen is installed). v3 encrypted uses Argon2id.
    "ed25519-ppk": ("ed25519", "ppk3", False),
    "ecdsa256-ppk": ("ecdsa256", "ppk3", False),
    "rsa-ppk": ("rsa", "ppk3", False),
    "rsa-ppk2": ("rsa", "ppk2", False),
    "ed25519-ppk-enc": ("ed25519", "ppk3", True),
    "rsa-ppk2-enc": ("rsa", "ppk2", True),
}

_KEYGEN_FORMAT = {"openssh": "RFC4716", "pem": "PEM", "pkcs8": "PKCS8"}


class ClientKeys(Mapping):
    """A set of client keys in a temporary directory: ``keys["rsa-pem-enc"]``.

    Names: base keys ``ed25519``, ``ecdsa256``, ``ecdsa384``, ``ecdsa521``,
    ``rsa`` (3072 bits; OpenSSH format, unencrypted) and
    ``ed25519-unauthorized``; variants ``<base>-<format>[-enc]`` (see
    ``_CLIENT_KEY_VARIANTS``). Use ``select()`` to filter.
    """

    def __init__(self, directory: str, keys: Dict[str, ClientKey], *,
                 user: Optional[TestUser], tag: str, owns_directory: bool):
        self.directory = directory
        self._keys = keys
        self.user = user
        self.tag = tag
        self._owns_directory = owns_directory
        self._closed = False

    # Mapping protocol
    def __getitem__(self, name: str) -> ClientKey:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"<ClientKeys {self.directory} {sorted(self._keys)}>"

    def select(self, *, format: Optional[str] = None, encrypted: Optional[bool] = None,
               algorithm: Optional[str] = None, authorized: Optional[bool] = True,
               base: Optional[str] = None) -> List[ClientKey]:
        """Keys matching every given criterion (``authorized=True`` by default;
        pass ``None`` to include the unauthorized key)."""
        out = []
        for k in self._keys.values():
            if format is not None and k.format != format:
                continue
            if encrypted is not None and k.encrypted != encrypted:
                continue
            if algorithm is not None and k.algorithm != algorithm:
                continue
            if authorized is not None and k.authorized != authorized:
                continue
            if base is not None and k.base != base:
                continue
            out.append(k)
        return out

    @property
    def authorized_keys_text(self) -> str:
        seen = set()
        lines = []
        for k in self._keys.values():
            if k.authorized and k.base not in seen:
                seen.add(k.base)
                algo, blob, _ = _parse_public_line(k.public_line)
                lines.append(f"{algo} {base64.b64encode(blob).decode()} "
                             f"{_AUTH_MARKER}{self.tag}:{k.base}")
        return "".join(ln + "\n" for ln in lines)

    @classmethod
    def generate(cls, directory: Optional[str] = None, *,
                 authorize: bool = True, passphrase: str = KEY_PASSPHRASE,
                 variants: Optional[Iterable[str]] = None) -> ClientKeys:
        """Generate all keys with ssh-keygen (and puttygen / cryptography for
        the formats ssh-keygen cannot write). With ``authorize`` (needs root),
        the public keys are added to the test user's authorized_keys until
        ``close()``."""
        keygen = _which("ssh-keygen")
        if keygen is None:
            raise ServerUnavailable("ssh-keygen not found (install openssh-client)")
        user = ensure_test_user() if authorize else None
        owns = directory is None
        if directory is None:
            directory = tempfile.mkdtemp(prefix="sshclient-client-keys-")
        os.makedirs(directory, exist_ok=True)
        os.chmod(directory, 0o700)
        tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        keys: Dict[str, ClientKey] = {}

        def make_base(name: str) -> ClientKey:
            ktype, bits, authorized = _BASE_CLIENT_KEYS[name]
            path = os.path.join(directory, f"id_{name}")
            for p in (path, path + ".pub"):
                if os.path.exists(p):
                    os.unlink(p)
            _run([keygen, "-q", "-t", ktype, "-b", str(bits), "-N", "", "-C",
                  f"{_AUTH_MARKER}{tag}:{name}", "-f", path])
            with open(path + ".pub") as f:
                line = f.read().strip()
            algo = line.split()[0]
            return ClientKey(name, name, path, path + ".pub", line, algo, bits,
                             "openssh", None, authorized)

        # RSA generation dominates; run the base keys in parallel.
        results: Dict[str, ClientKey] = {}
        errors: List[BaseException] = []

        def worker(n: str) -> None:
            try:
                results[n] = make_base(n)
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in _BASE_CLIENT_KEYS]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        for n in _BASE_CLIENT_KEYS:
            keys[n] = results[n]

        wanted = list(_CLIENT_KEY_VARIANTS) if variants is None else list(variants)
        puttygen = _which("puttygen")
        pass_file = os.path.join(directory, "passphrase.txt")
        with open(pass_file, "w") as f:
            f.write(passphrase + "\n")
        os.chmod(pass_file, 0o600)
        for name in wanted:
            base_name, fmt, enc = _CLIENT_KEY_VARIANTS[name]
            base = keys[base_name]
            pw = passphrase if enc else None
            path = os.path.join(directory, f"id_{name}")
            if fmt in ("ppk2", "ppk3"):
                if puttygen is None:
                    continue
                path += ".ppk"
                argv = [puttygen, base.path, "-O", "private", "-o", path,
                        "--ppk-param", "version=" + fmt[-1]]
                if enc:
                    argv += ["--new-passphrase", pass_file]
                _run(argv)
            elif fmt == "pkcs8" and base.algorithm == "ssh-ed25519":
                if not _write_ed25519_pkcs8(base.path, path, pw):
                    continue
            else:
                shutil.copyfile(base.path, path)
                os.chmod(path, 0o600)
                _run([keygen, "-q", "-p", "-f", path, "-m", _KEYGEN_FORMAT[fmt],
                      "-P", "", "-N", pw or ""])
            with open(path + ".pub", "w") as f:
                f.write(base.public_line + "\n")
            keys[name] = ClientKey(name, base_name, path, path + ".pub", base.public_line,
                                   base.algorithm, base.bits, fmt, pw, base.authorized)
        self = cls(directory, keys, user=user, tag=tag, owns_directory=owns)
        if authorize:
            self.authorize()
        return self

    def authorize(self) -> None:
        """Put this set's authorized public keys into the test user's authorized_keys."""
        user = self.user or ensure_test_user()
        self.user = user
        new = self.authorized_keys_text.splitlines()
        with _authorized_keys_locked(user) as lines:
            lines[:] = [ln for ln in lines if f"{_AUTH_MARKER}{self.tag}:" not in ln] + new

    def deauthorize(self) -> None:
        if self.user is None:
            return
        with _authorized_keys_locked(self.user) as lines:
            lines[:] = [ln for ln in lines if f"{_AUTH_MARKER}{self.tag}:" not in ln]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.deauthorize()
        finally:
            if self._owns_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> ClientKeys:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_ed25519_pkcs8(src: str, dst: str, passphrase: Optional[str]) -> bool:
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return False
    with open(src, "rb") as f:
        key = serialization.load_ssh_private_key(f.read(), password=None)
    enc = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
           else serialization.NoEncryption())
    data = key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8, enc)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


# --------------------------------------------------------------------------
# Host keys (a per-process pool: generated once, shared by servers)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class HostKey:
    name: str  # ed25519, ecdsa256, ecdsa384, ecdsa521, rsa, rsa2048 ...
    algorithm: str  # key type as sent in KEXINIT host key blobs
    bits: int
    path: str
    public_line: str

    @property
    def public_blob(self) -> bytes:
        return _parse_public_line(self.public_line)[1]

    @property
    def fingerprint(self) -> str:
        return fingerprint_sha256(self.public_blob)


def _expand_host_key_types(types: Iterable[str]) -> List[Tuple[str, str, int]]:
    """("ed25519", "ecdsa", "rsa", "dsa") -> [(name, keygen type, bits), ...]."""
    out: List[Tuple[str, str, int]] = []
    for t in types:
        t = t.lower()
        if t == "ed25519":
            out.append(("ed25519", "ed25519", 256))
        elif t == "ecdsa":
            out += [("ecdsa256", "ecdsa", 256), ("ecdsa384", "ecdsa", 384),
                    ("ecdsa521", "ecdsa", 521)]
        elif re.fullmatch(r"ecdsa(256|384|521)", t):
            out.append((t, "ecdsa", int(t[5:])))
        elif t == "rsa":
            out.append(("rsa", "rsa", 3072))
        elif t == "dsa":  # ssh-dss: only 1024 bits exist for it
            out.append(("dsa", "dsa", 1024))
        elif re.fullmatch(r"rsa\d{4}", t):
            out.append((t, "rsa", int(t[3:])))
        else:
            raise ValueError(f"unknown host key type {t!r}")
    seen = set()
    uniq = []
    for item in out:
        if item[0] not in seen:
            seen.add(item[0])
            uniq.append(item)
    return uniq


class _HostKeyPool:
    def __init__(self, flavor: str):
        self.flavor = flavor  # "openssh" or "dropbear"
        self._lock = threading.Lock()
        self._dir: Optional[str] = None
        self._keys: Dict[str, HostKey] = {}

    def get(self, name: str, ktype: str, bits: int, directory: Optional[str] = None) -> HostKey:
        if directory is not None:
            return _make_host_key(self.flavor, directory, name, ktype, bits)
        with self._lock:
            if name not in self._keys:
                if self._dir is None:
                    self._dir = tempfile.mkdtemp(prefix=f"sshclient-{self.flavor}-hostkeys-")
                    atexit.register(shutil.rmtree, self._dir, True)
                self._keys[name] = _make_host_key(self.flavor, self._dir, name, ktype, bits)
            return self._keys[name]


def _make_host_key(flavor: str, directory: str, name: str, ktype: str, bits: int) -> HostKey:
    if flavor == "openssh":
        keygen = _which("ssh-keygen")
        if keygen is None:
            raise ServerUnavailable("ssh-keygen not found (install openssh-client)")
        path = os.path.join(directory, f"ssh_host_{name}_key")
        for p in (path, path + ".pub"):
            if os.path.exists(p):
                os.unlink(p)
        _run([keygen, "-q", "-t", ktype, "-b", str(bits), "-N", "",
              "-C", f"sshclient-test-host-{name}", "-f", path])
        with open(path + ".pub") as f:
            line = f.read().strip()
    else:
        dbkey = _which("dropbearkey")
        if dbkey is None:
            raise ServerUnavailable("dropbearkey not found (install dropbear-bin)")
        path = os.path.join(directory, f"dropbear_{name}_host_key")
        if os.path.exists(path):
            os.unlink(path)
        _run([dbkey, "-t", ktype, "-s", str(bits), "-f", path])
        out = _run([dbkey, "-y", "-f", path]).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith(("ssh-", "ecdsa-")))
        with open(path + ".pub", "w") as f:
            f.write(line + "\n")
    os.chmod(path, 0o600)
    return HostKey(name, line.split()[0], bits, path, line)


_HOST_KEY_POOLS = {"openssh": _HostKeyPool("openssh"), "dropbear": _HostKeyPool("dropbear")}


# --------------------------------------------------------------------------
# Process handling shared by the servers
# --------------------------------------------------------------------------

_running: weakref.WeakSet[_ServerBase] = weakref.WeakSet()

try:
    _libc = ctypes.CDLL(None, use_errno=True)
    _prctl = _libc.prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test process is killed,
    # the server's listener goes with it instead of lingering on a port.
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _proc_start_time(pid: int) -> Optional[str]:
    """Start time of a live process (None when gone or a zombie): with the
    pid, it identifies a process without the risk of pid reuse."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):  # zombie: already dead, waiting to be reaped
        return None
    return fields[19]  # field 22 (starttime)


def _descendants(root: int) -> List[Tuple[int, Optional[str]]]:
    """(pid, starttime) of every descendant of ``root`` (Linux /proc)."""
    children: Dict[int, List[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for e in entries:
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat") as f:
                data = f.read()
        except OSError:
            continue
        ppid = int(data.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(e))
    out = []
    stack = [root]
    while stack:
        for c in children.get(stack.pop(), []):
            out.append((c, _proc_start_time(c)))
            stack.append(c)
    return out


def running_servers() -> List[_ServerBase]:
    """Servers started by this process that are still running."""
    return [s for s in list(_running) if s.running]


@atexit.register
def _stop_all() -> None:
    for s in list(_running):
        with contextlib.suppress(Exception):
            s.stop()


def read_banner(host: str, port: int, timeout: float = 2.0) -> bytes:
    """Connect and return the server's identification line (``SSH-2.0-...``)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(256)
            if not chunk:
                break
            buf += chunk
            for line in buf.split(b"\n")[:-1]:
                if line.startswith(b"SSH-"):
                    return line.rstrip(b"\r")
            if len(buf) > 16384:
                break
        raise ConnectionError(f"no SSH banner from {host}:{port} (got {buf[:200]!r})")


class _ServerBase:
    """Common lifecycle: temp dir, log file, start with port retry, stop."""

    kind = "server"
    _addr_in_use = ("Address already in use", "Bind to port", "Error listening")

    def __init__(self, *, host: str = LOOPBACK, port: Optional[int] = None,
                 start_timeout: float = 15.0, keep_directory: bool = False):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("test servers listen on loopback only")
        self.host = "127.0.0.1" if host == "localhost" else host
        self._requested_port = port
        self.port: int = 0
        self.start_timeout = start_timeout
        self.keep_directory = keep_directory or bool(os.environ.get("SSHCLIENT_KEEP_SERVER_DIRS"))
        self.directory = tempfile.mkdtemp(prefix=f"sshclient-{self.kind}-")
        os.chmod(self.directory, 0o700)
        self.log_path = os.path.join(self.directory, f"{self.kind}.log")
        self.process: Optional[subprocess.Popen] = None
        self.banner: Optional[str] = None
        self._final_log: Optional[str] = None
        self._log_file = None
        self._cleaned = False

    # to be provided by subclasses
    def _argv(self) -> List[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Write config for self.port (called before each start attempt)."""

    # lifecycle
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process else None

    @property
    def address(self) -> Tuple[str, int]:
        return (self.host, self.port)

    def start(self) -> _ServerBase:
        if self.running:
            return self
        if self._cleaned:
            raise RuntimeError(f"{self.kind} was stopped and cleaned up; make a new one")
        attempts = 1 if self._requested_port else 8
        last_err = ""
        # PR_SET_PDEATHSIG fires when the forking *thread* exits: only use it
        # from the main thread.
        in_main_thread = threading.current_thread() is threading.main_thread()
        for _ in range(attempts):
            self.port = self._requested_port or free_port(self.host)
            self._prepare()
            self._log_file = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                self._argv(),
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                close_fds=True,
                preexec_fn=_die_with_parent if in_main_thread else None,
            )
            ok, last_err = self._wait_ready()
            if ok:
                _running.add(self)
                return self
            self._kill_tree()
            if not any(s in last_err for s in self._addr_in_use):
                break
        log = self.log_text()
        raise RuntimeError(f"{self.kind} did not start on {self.host}:{self.port}: "
                           f"{last_err}\n--- log ---\n{log[-4000:]}")

    def _wait_ready(self) -> Tuple[bool, str]:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False, f"exited with {self.process.returncode}: " + self.log_text()[-2000:]
            try:
                banner = read_banner(self.host, self.port, timeout=2.0)
                self.banner = banner.decode("ascii", "replace")
                return True, ""
            except (ConnectionRefusedError, ConnectionError, socket.timeout, OSError):
                time.sleep(0.02)
        return False, f"no banner within {self.start_timeout}s"

    def _kill_tree(self, timeout: float = 5.0) -> None:
        proc = self.process
        if proc is None:
            return
        kids = _descendants(proc.pid) if proc.poll() is None else []
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        # Per-connection children (sshd's setsid() them) outlive the listener.
        for pid, start in kids:
            if start is not None and _proc_start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for pid, start in kids:
            while (start is not None and _proc_start_time(pid) == start
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            if start is not None and _proc_start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def stop(self) -> None:
        """Stop the server and every process it spawned; keep the log text
        (``log_text()`` still works) and remove the temp directory."""
        self._kill_tree()
        _running.discard(self)
        if not self._cleaned:
            self._final_log = self._read_log()
            self._cleaned = True
            if not self.keep_directory:
                shutil.rmtree(self.directory, ignore_errors=True)

    close = stop

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def _read_log(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_text(self) -> str:
        if self._final_log is not None:
            return self._final_log
        return self._read_log()

    def log_size(self) -> int:
        if self._final_log is not None:
            return len(self._final_log.encode())
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset: int) -> str:
        data = self.log_text().encode()
        return data[offset:].decode("utf-8", "replace")

    def wait_for_log(self, pattern: Union[str, re.Pattern[str]], timeout: float = 10.0,
                     since: int = 0) -> re.Match[str]:
        """Wait until the log (from byte offset ``since``) matches ``pattern``."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_since(since))
            if m:
                return m
            if time.monotonic() > deadline:
                raise TimeoutError(f"{rx.pattern!r} not in {self.kind} log after {timeout}s")
            time.sleep(0.05)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"


class _HostKeysMixin:
    host_keys: Dict[str, HostKey]
    host: str
    port: int

    @property
    def host_key_fingerprints(self) -> Dict[str, str]:
        """Key type (``ssh-ed25519``, ``ecdsa-sha2-nistp256``, ``ssh-rsa``) ->
        ``SHA256:...`` fingerprint."""
        return {k.algorithm: k.fingerprint for k in self.host_keys.values()}

    @property
    def host_public_keys(self) -> Dict[str, str]:
        """Key type -> public key line (``type base64 comment``)."""
        return {k.algorithm: k.public_line for k in self.host_keys.values()}

    @property
    def host_public_key_paths(self) -> Dict[str, str]:
        """Key type -> path of a ``.pub`` file."""
        return {k.algorithm: k.path + ".pub" for k in self.host_keys.values()}

    def known_hosts_lines(self) -> List[str]:
        host = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
        out = []
        for k in self.host_keys.values():
            algo, blob, _ = _parse_public_line(k.public_line)
            out.append(f"{host} {algo} {base64.b64encode(blob).decode()}")
        return out

    def write_known_hosts(self, path: str) -> str:
        with open(path, "w") as f:
            f.write("".join(ln + "\n" for ln in self.known_hosts_lines()))
        return path


# --------------------------------------------------------------------------
# OpenSSH sshd
# --------------------------------------------------------------------------

# OpenSSH 9.2's full lists (what `ssh -Q ...` prints). At runtime we use the
# local `ssh -Q` output when available (same source package as sshd), so a
# build without e.g. sntrup761 still gets a valid config.
_OPENSSH_92_ALGORITHMS: Dict[str, List[str]] = {
    "Ciphers": [
        "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        "aes128-cbc", "aes192-cbc", "aes256-cbc", "3des-cbc",
    ],
    "MACs": [
        "umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "hmac-sha1-96-etm@openssh.com",
        "hmac-md5-etm@openssh.com", "hmac-md5-96-etm@openssh.com",
        "umac-64@openssh.com", "umac-128@openssh.com",
        "hmac-sha2-256", "hmac-sha2-512", "hmac-sha1", "hmac-sha1-96",
        "hmac-md5", "hmac-md5-96",
    ],
    "KexAlgorithms": [
        "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
        "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384",
        "ecdh-sha2-nistp521", "diffie-hellman-group-exchange-sha256",
        "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
        "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1",
        "diffie-hellman-group-exchange-sha1", "diffie-hellman-group1-sha1",
    ],
    "HostKeyAlgorithms": [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
    ],
}
for _kw in ("PubkeyAcceptedAlgorithms", "CASignatureAlgorithms"):
    _OPENSSH_92_ALGORITHMS[_kw] = list(_OPENSSH_92_ALGORITHMS["HostKeyAlgorithms"])

_QUERY = {"Ciphers": "cipher", "MACs": "mac", "KexAlgorithms": "kex",
          "HostKeyAlgorithms": "HostKeyAlgorithms",
          "PubkeyAcceptedAlgorithms": "PubkeyAcceptedAlgorithms",
          "CASignatureAlgorithms": "sig"}

_algo_cache: Optional[Dict[str, List[str]]] = None


def openssh_algorithms() -> Dict[str, List[str]]:
    """sshd keyword -> every algorithm this OpenSSH implements."""
    global _algo_cache
    if _algo_cache is None:
        ssh = _which("ssh")
        result: Dict[str, List[str]] = {}
        for kw, fallback in _OPENSSH_92_ALGORITHMS.items():
            names: List[str] = []
            if ssh is not None:
                proc = _run([ssh, "-Q", _QUERY[kw]], check=False)
                if proc.returncode == 0:
                    names = [n for n in proc.stdout.split() if n]
            result[kw] = names or list(fallback)
        _algo_cache = result
    return {k: list(v) for k, v in _algo_cache.items()}


ConfigSpec = Union[None, Mapping[str, object], Sequence[str]]


def _config_lines(defaults: List[Tuple[str, str]], extra: ConfigSpec) -> List[str]:
    """Merge extra config into defaults. sshd takes the *first* value of a
    keyword, so an extra keyword replaces the default line(s) of the same
    keyword; a ``None`` value in a dict removes it. ``Match`` blocks go last."""
    if extra is None:
        extra_items: List[Tuple[str, str]] = []
        tail: List[str] = []
    elif isinstance(extra, Mapping):
        extra_items = []
        tail = []
        for k, v in extra.items():
            if v is None:
                extra_items.append((k, None))  # type: ignore[arg-type]
            elif isinstance(v, (list, tuple)):
                extra_items += [(k, str(x)) for x in v]
            elif isinstance(v, bool):
                extra_items.append((k, "yes" if v else "no"))
            else:
                extra_items.append((k, str(v)))
    else:
        if isinstance(extra, str):
            extra = extra.splitlines()
        extra_items = []
        tail = []
        in_match = False
        for line in extra:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            key, _, value = s.partition(" ")
            if key.lower() == "match":
                in_match = True
            if in_match:
                tail.append(s)
            else:
                extra_items.append((key, value.strip()))
    override = {k.lower() for k, _ in extra_items}
    lines = [f"{k} {v}" for k, v in defaults if k.lower() not in override]
    lines += [f"{k} {v}" for k, v in extra_items if v is not None]
    return lines + tail


class SshdServer(_HostKeysMixin, _ServerBase):
    """OpenSSH sshd on loopback with its own config, keys, PID file and log.

    ``extra_config`` (dict or list of lines) overrides/extends the defaults,
    e.g. ``{"RekeyLimit": "1M"}``, ``["AuthenticationMethods publickey,password"]``,
    ``{"Ciphers": "aes128-ctr"}``. ``host_key_types`` entries: ``ed25519``,
    ``ecdsa`` (= 256, 384 and 521), ``ecdsa256|384|521``, ``rsa`` (3072),
    ``rsaNNNN`` or ``dsa`` (1024, for ssh-dss). Host keys come from a per-process pool unless
    ``fresh_host_keys``. ``log_level`` DEBUG (= DEBUG1) by default; benchmarks
    may prefer ``"ERROR"``.
    """

    kind = "sshd"

    def __init__(self, extra_config: ConfigSpec = None,
                 host_key_types: Sequence[str] = ("ed25519", "ecdsa", "rsa"), *,
                 host: str = LOOPBACK, port: Optional[int] = None,
                 log_level: str = "DEBUG1", fresh_host_keys: bool = False,
                 sshd_path: Optional[str] = None, start_timeout: float = 15.0,
                 keep_directory: bool = False):
        _require_root("sshd")
        path = sshd_path or _which("sshd")
        if path is None:
            raise ServerUnavailable("sshd not found (install openssh-server)")
        self.sshd_path = os.path.abspath(path)  # sshd re-exec needs an absolute path
        ensure_test_user()
        super().__init__(host=host, port=port, start_timeout=start_timeout,
                         keep_directory=keep_directory)
        self.extra_config = extra_config
        self.log_level = log_level
        pool = _HOST_KEY_POOLS["openssh"]
        keydir = self.directory if fresh_host_keys else None
        self.host_keys: Dict[str, HostKey] = {
            name: pool.get(name, ktype, bits, keydir)
            for name, ktype, bits in _expand_host_key_types(host_key_types)
        }
        self.config_path = os.path.join(self.directory, "sshd_config")
        self.pid_path = os.path.join(self.directory, "sshd.pid")
        self.algorithms = openssh_algorithms()

    def default_config(self) -> List[Tuple[str, str]]:
        cfg: List[Tuple[str, str]] = [
            ("ListenAddress", self.host),
            ("Port", str(self.port)),
            ("AddressFamily", "inet6" if ":" in self.host else "inet"),
            ("PidFile", self.pid_path),
            ("LogLevel", self.log_level),
        ]
        cfg += [("HostKey", k.path) for k in self.host_keys.values()]
        cfg += [
            ("UsePAM", "yes"),
            ("PasswordAuthentication", "yes"),
            ("KbdInteractiveAuthentication", "yes"),
            ("PubkeyAuthentication", "yes"),
            ("PermitEmptyPasswords", "no"),
            ("AuthorizedKeysFile", ".ssh/authorized_keys"),
            ("StrictModes", "yes"),
            ("UseDNS", "no"),
            ("PermitRootLogin", "no"),
            ("AllowUsers", TEST_USER),
            ("MaxSessions", "64"),
            ("MaxStartups", "256"),
            ("MaxAuthTries", "32"),
            ("LoginGraceTime", "60"),
            ("PrintMotd", "no"),
            ("PrintLastLog", "no"),
            ("PermitTTY", "yes"),
            ("AcceptEnv", "LANG LC_* SSHTEST_*"),
            ("AllowTcpForwarding", "yes"),
            ("AllowStreamLocalForwarding", "yes"),
            ("AllowAgentForwarding", "yes"),
            ("GatewayPorts", "no"),
            ("X11Forwarding", "no"),
            ("PermitTunnel", "no"),
            ("Compression", "yes"),
            ("Subsystem", "sftp internal-sftp"),
        ]
        for kw in ("Ciphers", "MACs", "KexAlgorithms", "HostKeyAlgorithms",
                   "PubkeyAcceptedAlgorithms", "CASignatureAlgorithms"):
            cfg.append((kw, ",".join(self.algorithms[kw])))
        return cfg

    @property
    def config_text(self) -> str:
        return "".join(ln + "\n" for ln in _config_lines(self.default_config(), self.extra_config))

    def _prepare(self) -> None:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        with open(self.config_path, "w") as f:
            f.write("# generated by tests/servers.py\n" + self.config_text)
        proc = _run([self.sshd_path, "-t", "-f", self.config_path], check=False)
        if proc.returncode != 0:
            raise ValueError(f"sshd rejected the config: {proc.stderr.strip()}\n"
                             f"--- {self.config_path} ---\n{self.config_text}")

    def _argv(self) -> List[str]:
        return [self.sshd_path, "-D", "-e", "-f", self.config_path]

    def effective_config(self, user: str = TEST_USER) -> Dict[str, str]:
        """``sshd -T`` for a connection by ``user`` from loopback: lower-case
        keyword -> value (multi-valued keywords joined with newlines)."""
        spec = f"user={user},host=localhost,addr={self.host},laddr={self.host},lport={self.port}"
        out = _run([self.sshd_path, "-T", "-f", self.config_path, "-C", spec]).stdout
        cfg: Dict[str, str] = {}
        for line in out.splitlines():
            k, _, v = line.partition(" ")
            cfg[k] = cfg[k] + "\n" + v if k in cfg else v
        return cfg


# --------------------------------------------------------------------------
# Dropbear
# --------------------------------------------------------------------------


class DropbearServer(_HostKeysMixin, _ServerBase):
    """dropbear on loopback with throwaway host keys.

    Dropbear has no runtime algorithm config (they are compiled in; see
    ``probe_kexinit``), reads ``~/.ssh/authorized_keys`` and checks passwords
    against /etc/shadow itself (no PAM in Debian's build). Compiled-in limits
    to know about: at most 5 unauthenticated connections per source IP and
    30 in total. ``extra_args`` are passed through (e.g. ``["-W", "1048576"]``
    for the receive window, ``["-s"]`` to disable passwords).
    """

    kind = "dropbear"

    MAX_HOST_KEYS = 4  # compiled into dropbear ("Too many hostkeys")

    def __init__(self, host_key_types: Sequence[str] = ("ed25519", "ecdsa256", "ecdsa521", "rsa"),
                 extra_args: Sequence[str] = (), *, host: str = LOOPBACK,
                 port: Optional[int] = None, fresh_host_keys: bool = False,
                 dropbear_path: Optional[str] = None, start_timeout: float = 15.0,
                 keep_directory: bool = False):
        _require_root("dropbear")
        path = dropbear_path or _which("dropbear")
        if path is None:
            raise ServerUnavailable("dropbear not found (install dropbear-bin)")
        self.dropbear_path = os.path.abspath(path)
        ensure_test_user()
        super().__init__(host=host, port=port, start_timeout=start_timeout,
                         keep_directory=keep_directory)
        self.extra_args = list(extra_args)
        pool = _HOST_KEY_POOLS["dropbear"]
        keydir = self.directory if fresh_host_keys else None
        types = _expand_host_key_types(host_key_types)
        if len(types) > self.MAX_HOST_KEYS:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise ValueError(f"dropbear loads at most {self.MAX_HOST_KEYS} host keys, "
                             f"got {[t[0] for t in types]}")
        self.host_keys = {name: pool.get(name, ktype, bits, keydir) for name, ktype, bits in types}
        self.pid_path = os.path.join(self.directory, "dropbear.pid")

    def _argv(self) -> List[str]:
        listen = f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"
        argv = [self.dropbear_path, "-F", "-E", "-m", "-w", "-p", listen, "-P", self.pid_path]
        for k in self.host_keys.values():
            argv += ["-r", k.path]
        return argv + self.extra_args


# --------------------------------------------------------------------------
# KEXINIT probe
# --------------------------------------------------------------------------


@dataclass
class KexInit:
    banner: str
    kex_algorithms: List[str]
    server_host_key_algorithms: List[str]
    encryption_client_to_server: List[str]
    encryption_server_to_client: List[str]
    mac_client_to_server: List[str]
    mac_server_to_client: List[str]
    compression_client_to_server: List[str]
    compression_server_to_client: List[str]
    languages_client_to_server: List[str] = field(default_factory=list)
    languages_server_to_client: List[str] = field(default_factory=list)
    first_kex_packet_follows: bool = False


def _recv_exact(sock: socket.socket, n: int, buf: bytearray) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed during probe")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def probe_kexinit(host: str, port: int, timeout: float = 5.0) -> KexInit:
    """Connect, exchange identification strings and return the server's
    first (unencrypted) KEXINIT. A plain-stdlib probe, independent of the
    library under test."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"SSH-2.0-sshclient_probe\r\n")
        buf = bytearray()
        while True:
            i = buf.find(b"\n")
            if i < 0:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed before banner")
                buf += chunk
                continue
            line = bytes(buf[:i]).rstrip(b"\r")
            del buf[: i + 1]
            if line.startswith(b"SSH-"):
                banner = line.decode("ascii", "replace")
                break
        length, padding = struct.unpack(">IB", _recv_exact(s, 5, buf))
        if not 5 <= length <= 256 * 1024:
            raise ValueError(f"implausible packet length {length}")
        body = _recv_exact(s, length - 1, buf)
        payload = body[: len(body) - padding]
    if payload[0] != 20:
        raise ValueError(f"expected SSH_MSG_KEXINIT, got message {payload[0]}")
    off = 17
    lists = []
    for _ in range(10):
        (n,) = struct.unpack_from(">I", payload, off)
        off += 4
        raw = payload[off: off + n].decode("ascii")
        off += n
        lists.append(raw.split(",") if raw else [])
    return KexInit(banner, *lists, first_kex_packet_follows=bool(payload[off]))


# --------------------------------------------------------------------------
# The system OpenSSH client
# --------------------------------------------------------------------------


def ssh_command(server: Union[_ServerBase, Tuple[str, int]], *remote: str,
                user: str = TEST_USER, key: Union[None, str, ClientKey] = None,
                options: Optional[Mapping[str, str]] = None,
                known_hosts: Optional[str] = None, ssh: str = "ssh",
                extra_args: Sequence[str] = ()) -> List[str]:
    """argv for the system ``ssh`` with no user config, no agent and no
    known_hosts (unless ``known_hosts`` is given, then checked strictly).
    Without ``key``, only password/keyboard-interactive are tried."""
    host, port = (server.host, server.port) if isinstance(server, _ServerBase) else server
    opts: Dict[str, str] = {
        "BatchMode": "yes",
        "IdentitiesOnly": "yes",
        "IdentityAgent": "none",
        "GlobalKnownHostsFile": "/dev/null",
        "UserKnownHostsFile": known_hosts or "/dev/null",
        "StrictHostKeyChecking": "yes" if known_hosts else "no",
        "LogLevel": "ERROR",
        "ConnectTimeout": "10",
        "ServerAliveInterval": "0",
    }
    if key is not None:
        path = key.path if isinstance(key, ClientKey) else key
        opts["IdentityFile"] = path
        opts["PreferredAuthentications"] = "publickey"
    else:
        opts["PubkeyAuthentication"] = "no"
        opts["IdentityFile"] = "/dev/null"
    if options:
        opts.update(options)
    argv = [ssh, "-F", "/dev/null", "-p", str(port), "-l", user]
    for k, v in opts.items():
        argv += ["-o", f"{k}={v}"]
    argv += list(extra_args)
    argv.append(host)
    if remote:
        argv += ["--", *remote]
    return argv


def askpass_env(secret: str, directory: str, *, log_prompts: bool = True,
                base_env: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """Environment making OpenSSH's ``ssh`` answer every passphrase/password
    prompt with ``secret`` (SSH_ASKPASS_REQUIRE=force; no tty, no sshpass).
    Use with ``BatchMode=no``. Prompts are appended to
    ``<directory>/askpass-prompts.txt`` when ``log_prompts``."""
    script = os.path.join(directory, "askpass.sh")
    secret_file = os.path.join(directory, "askpass-secret.txt")
    prompts = os.path.join(directory, "askpass-prompts.txt")
    with open(secret_file, "w") as f:
        f.write(secret)
    os.chmod(secret_file, 0o600)
    body = "#!/bin/sh\n"
    if log_prompts:
        body += f"printf '%s\\n' \"$1\" >> '{prompts}'\n"
    body += f"cat '{secret_file}'\necho\n"
    with open(script, "w") as f:
        f.write(body)
    os.chmod(script, 0o700)
    env = dict(os.environ if base_env is None else base_env)
    env.update({"SSH_ASKPASS": script, "SSH_ASKPASS_REQUIRE": "force"})
    return env


# --------------------------------------------------------------------------
# Loopback TCP helpers for forwarding tests
# --------------------------------------------------------------------------

_PATTERN_PERIOD = 251  # prime, so misaligned or repeated chunks show up
_PATTERN_BLOCK = bytes(range(_PATTERN_PERIOD)) * (1 + (1 << 16) // _PATTERN_PERIOD + 1)


def pattern_bytes(n: int, offset: int = 0) -> bytes:
    """Deterministic test data: byte i is ``(offset + i) % 251``."""
    out = bytearray()
    while len(out) < n:
        start = (offset + len(out)) % _PATTERN_PERIOD
        take = min(n - len(out), len(_PATTERN_BLOCK) - start)
        out += _PATTERN_BLOCK[start: start + take]
    return bytes(out)


def pattern_sha256(n: int) -> str:
    h = hashlib.sha256()
    done = 0
    while done < n:
        chunk = pattern_bytes(min(1 << 16, n - done), done)
        h.update(chunk)
        done += len(chunk)
    return h.hexdigest()


class _TcpServer:
    """Threaded loopback TCP server: one accept thread, one thread per
    connection. ``errors`` collects exceptions from handlers."""

    def __init__(self, host: str = LOOPBACK, port: int = 0):
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("loopback only")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self._sock.listen(128)
        self.host = host
        self.port = self._sock.getsockname()[1]
        self.connections = 0
        self.errors: List[BaseException] = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._finished = 0
        self._conns: List[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"{type(self).__name__}:{self.port}")
        self._thread.start()

    @property
    def address(self) -> Tuple[str, int]:
        return (self.host, self.port)

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                if self._stopped:
                    conn.close()
                    return
                self.connections += 1
                index = self.connections - 1
                self._conns.append(conn)
            threading.Thread(target=self._run_handler, args=(conn, index), daemon=True).start()

    def _run_handler(self, conn: socket.socket, index: int) -> None:
        try:
            with conn:
                self.handle(conn, index)
        except BaseException as e:  # noqa: BLE001 - reported via .errors
            if not self._stopped:
                with self._lock:
                    self.errors.append(e)
        finally:
            with self._cond:
                self._finished += 1
                self._cond.notify_all()

    def handle(self, conn: socket.socket, index: int) -> None:
        raise NotImplementedError

    def wait_finished(self, n: int = 1, timeout: float = 30.0) -> None:
        """Wait until ``n`` connections have been fully handled."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._finished >= n, timeout):
                raise TimeoutError(f"{self._finished}/{n} connections finished after {timeout}s")

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            conns = list(self._conns)
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)

    close = stop

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port}>"


def _drain_until_eof(conn: socket.socket, timeout: float = 30.0) -> int:
    conn.settimeout(timeout)
    total = 0
    while True:
        data = conn.recv(65536)
        if not data:
            return total
        total += len(data)


class TcpSource(_TcpServer):
    """Every connection receives ``nbytes`` of ``pattern_bytes`` and then EOF
    (the server half-closes, reads until the peer closes, then closes)."""

    def __init__(self, nbytes: int, host: str = LOOPBACK, port: int = 0, chunk: int = 1 << 16):
        self.nbytes = nbytes
        self.chunk = chunk
        self.bytes_sent: List[int] = []
        super().__init__(host, port)

    @property
    def expected(self) -> bytes:
        return pattern_bytes(self.nbytes)

    @property
    def expected_sha256(self) -> str:
        return pattern_sha256(self.nbytes)

    def handle(self, conn: socket.socket, index: int) -> None:
        # Slices of one prebuilt block, no copies: the source runs beside the
        # client under test (benchmarks) and should cost as little as it can.
        block = memoryview(_PATTERN_BLOCK)
        sent = 0
        while sent < self.nbytes:
            start = sent % _PATTERN_PERIOD
            n = min(self.chunk, self.nbytes - sent, len(block) - start)
            conn.sendall(block[start:start + n])
            sent += n
        with self._lock:
            self.bytes_sent.append(sent)
        conn.shutdown(socket.SHUT_WR)
        _drain_until_eof(conn)


class TcpEcho(_TcpServer):
    """Echoes everything; on the peer's EOF, half-closes and ends."""

    def __init__(self, host: str = LOOPBACK, port: int = 0):
        self.bytes_echoed = 0
        super().__init__(host, port)

    def handle(self, conn: socket.socket, index: int) -> None:
        conn.settimeout(60)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            conn.sendall(data)
            with self._lock:
                self.bytes_echoed += len(data)
        conn.shutdown(socket.SHUT_WR)


@dataclass
class SinkResult:
    nbytes: int
    sha256: str
    data: Optional[bytes]


class TcpSink(_TcpServer):
    """Reads each connection to EOF; ``results[i]`` has its byte count and
    SHA-256 (and the data itself when ``keep_data``)."""

    def __init__(self, host: str = LOOPBACK, port: int = 0, keep_data: bool = False):
        self.keep_data = keep_data
        self.results: Dict[int, SinkResult] = {}
        super().__init__(host, port)

    def handle(self, conn: socket.socket, index: int) -> None:
        conn.settimeout(60)
        h = hashlib.sha256()
        total = 0
        kept = bytearray() if self.keep_data else None
        while True:
            data = conn.recv(65536)
            if not data:
                break
            total += len(data)
            h.update(data)
            if kept is not None:
                kept += data
        with self._lock:
            self.results[index] = SinkResult(total, h.hexdigest(),
                                             bytes(kept) if kept is not None else None)

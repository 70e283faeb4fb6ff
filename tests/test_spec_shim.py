"""`sshclient.spec`, the adapter's old import path, still works (issue 12
renamed the package to sshclient.eventclient): same modules, same classes."""
from __future__ import annotations

import os
import pkgutil
import subprocess
import sys

import sshclient.eventclient

OLD_PATH_USES = """
from sshclient.spec import SSHClient, AuthMode
import sshclient.spec.certstore
from sshclient.spec.client import SSHClient as FromClient
from sshclient.spec import params
import sshclient, sshclient.eventclient as new
assert SSHClient is FromClient is sshclient.SSHClient is new.SSHClient
assert AuthMode is sshclient.AuthMode
assert sshclient.spec.certstore is new.certstore and params is new.params
"""


def test_old_import_path_gives_the_same_objects():
    # A fresh interpreter: the first import of each path is what is tested.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    run = subprocess.run([sys.executable, "-c", OLD_PATH_USES], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_shim_covers_every_submodule():
    import sshclient.spec as shim

    for info in pkgutil.iter_modules(sshclient.eventclient.__path__):
        new = sys.modules.get(f"sshclient.eventclient.{info.name}")
        assert new is not None and sys.modules.get(f"sshclient.spec.{info.name}") is new, \
            f"sshclient.spec does not alias eventclient.{info.name}: add it to spec.py"
        assert getattr(shim, info.name) is new

"""Type checkers see the event client's table-made surface (issue 12).

SSHClient's simple properties, certificate fields and on_* events, and the
fields of the event parameter classes, are made at import from tables;
scripts/gen_eventclient_stubs.py writes .pyi stubs for them from the same
tables.  These tests keep the stubs current and true to the runtime
(mypy.stubtest), check that mypy accepts the README's example and rejects
misuse, and hold the stub types to the types the spec's text gives.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import spec_text
from sshclient.eventclient import certprops, params, properties

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["sshclient.eventclient.accessors", "sshclient.eventclient.params"]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    source = tmp_path / "example.py"
    source.write_text(code, encoding="utf-8")
    # --no-incremental: the tests run in parallel checkouts; a shared cache would mix them.
    return _run("-m", "mypy", "--strict", "--no-incremental", "--config-file", os.devnull,
                str(source), cwd=tmp_path)


def readme_spec_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### The spec API", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_stubs_are_what_the_tables_give():
    r = _run(str(ROOT / "scripts" / "gen_eventclient_stubs.py"), "--check")
    assert r.returncode == 0, r.stderr


def test_stubs_match_the_runtime():
    r = _run("-m", "mypy.stubtest", "--ignore-disjoint-bases", *MODULES, cwd=ROOT / "src")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_accepts_the_readme_example(tmp_path):
    r = _mypy(tmp_path, readme_spec_example())
    assert r.returncode == 0, r.stdout + r.stderr


MISUSE = {
    'client.ssh_usr = "me"': '"SSHClient" has no attribute "ssh_usr"',
    'client.ssh_port = "22"': "Incompatible types in assignment",
    'client.ssh_cert_issuer = "CN=me"': 'Property "ssh_cert_issuer"',
    "client.on_ssh_channel_data = lambda e: e.channel_dta":
        'has no attribute "channel_dta"',
    "client.set_timeout(None)": 'incompatible type "None"',
}


@pytest.mark.parametrize("line", sorted(MISUSE))
def test_mypy_rejects_misuse(tmp_path, line):
    r = _mypy(tmp_path, f"from sshclient import SSHClient\nclient = SSHClient()\n{line}\n")
    assert r.returncode == 1 and MISUSE[line] in r.stdout, r.stdout + r.stderr


# Ours may be narrower than the spec's: an IntEnum where it says int.
_NARROWER = {"AuthMode": "int", "CertStoreType": "int"}


def _our_getter_types() -> dict[str, str]:
    types = {p.name: p.kind.__name__ for p in properties.SIMPLE_PROPERTIES}
    for prefix in certprops.KEYS:
        for field, (default, _compute, _doc) in certprops.FIELDS.items():
            types[f"{prefix}_{field}"] = type(default).__name__
        types[f"{prefix}_encoded"] = "bytes"
    return types


@pytest.mark.skipif(spec_text.spec_dir() is None, reason="shared/spec not found")
def test_property_types_are_the_spec_types():
    spec = spec_text.load()
    ours = _our_getter_types()
    for name, kind in ours.items():
        assert _NARROWER.get(kind, kind) == spec.functions["get_" + name].returns, name


@pytest.mark.skipif(spec_text.spec_dir() is None, reason="shared/spec not found")
def test_event_field_types_are_the_spec_types():
    directory = spec_text.spec_dir()
    assert directory is not None
    text = (directory / "sshclient-python-edition.txt").read_text(encoding="utf-8")
    for cls in params.EVENTS.values():
        syntax = re.search(rf"class {cls.__name__}\(object\):(.*?)# In class", text)
        assert syntax, cls.__name__
        spec_fields = dict(re.findall(r"@property def (\w+)\(\) -> (\w+)", syntax.group(1)))
        ours = {name: kind.__name__ for name, kind in cls._fields.items()}
        assert ours == spec_fields, cls.__name__

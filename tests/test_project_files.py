"""What the project's own files promise about installing it (issue 11).

No servers: these read pyproject.toml and scripts/setup.sh, and run the one
function of setup.sh that touches system services against stub tools.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
SETUP_SH = ROOT / "scripts" / "setup.sh"


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


# ------------------------------------------------------------- the license

def test_license_is_an_spdx_expression():
    """The table form ({text = ...}) is deprecated and warns on every build."""
    assert pyproject()["project"]["license"] == "MIT"


def test_build_requires_a_setuptools_that_reads_spdx_licenses():
    requires = pyproject()["build-system"]["requires"]
    setuptools = [r for r in requires if re.match(r"setuptools\b", r)]
    assert setuptools == ["setuptools>=77"], requires
    # setup.sh installs the build requirements into the venv for in-place rebuilds.
    assert '"setuptools>=77"' in SETUP_SH.read_text()


# ------------------------------------------- the daemons setup.sh installs

def test_setup_sh_disables_the_daemons_of_the_proxy_packages():
    """dante-server and tinyproxy are there for tests/proxies.py, which runs its
    own instances; setup.sh must not leave their system-wide daemons enabled."""
    text = SETUP_SH.read_text()
    mapping = re.search(r"declare -A TEST_ONLY_DAEMONS=\((.*?)\)\n", text)
    assert mapping, "setup.sh: no TEST_ONLY_DAEMONS map"
    assert dict(re.findall(r"\[([\w-]+)\]=([\w-]+)", mapping.group(1))) == {
        "dante-server": "danted", "tinyproxy": "tinyproxy"}
    apt_packages = re.search(r"APT_PACKAGES=\((.*?)\)", text, re.S).group(1).split()
    assert {"dante-server", "tinyproxy"} <= set(apt_packages)
    install = text.index("apt-get install -y")
    call = text.index('disable_daemons "${installed_now[@]}"')
    assert install < call, "the daemons are disabled after apt installed them"


def _run_disable_daemons(tmp_path: Path, systemd_running: bool) -> list[str]:
    """Run setup.sh's disable_daemons with systemctl/update-rc.d stubs that log."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for tool in ("systemctl", "update-rc.d", "deb-systemd-helper"):
        stub = stubs / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        stub.chmod(0o755)
    run_dir = tmp_path / "run-systemd-system"
    if systemd_running:
        run_dir.mkdir()
    body = re.search(r"^disable_daemons\(\) \{\n.*?^\}\n", SETUP_SH.read_text(),
                     re.S | re.M).group(0)
    script = ("set -euo pipefail\nlog() { printf '==> %s\\n' \"$*\" >&2; }\n"
              + body + "disable_daemons danted tinyproxy\n")
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "SSHCLIENT_SYSTEMD_RUN_DIR": str(run_dir)}
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 0, r.stderr
    return calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("systemd_running", [True, False], ids=["systemd", "no-systemd"])
def test_disable_daemons_disables_and_stops_each_service(tmp_path, systemd_running):
    calls = _run_disable_daemons(tmp_path, systemd_running)
    now = " --now" if systemd_running else ""  # stopped only where systemd runs them
    expected = []
    for svc in ("danted", "tinyproxy"):
        expected.append(f"systemctl disable{now} --quiet {svc}.service")
        if os.path.exists(f"/etc/init.d/{svc}"):
            expected.append(f"update-rc.d {svc} disable")
    assert calls == expected


# ------------------------------------------------ the distribution's name

DIST = "sshclient-cython"  # "sshclient" on PyPI is an unrelated 2017 package
README = ROOT / "README.md"


def test_distribution_name_is_ours_and_the_import_name_stays():
    assert pyproject()["project"]["name"] == DIST
    assert (ROOT / "src" / "sshclient" / "__init__.py").is_file()
    # setup.sh decides whether to (re)install by the distribution's metadata.
    assert f'm.version("{DIST}")' in SETUP_SH.read_text()
    wheels = (ROOT / ".github" / "workflows" / "wheels.yml").read_text()
    assert "sshclient_cython-*.whl" in wheels  # wheel file names normalize - to _


def test_readme_installs_our_distribution_first():
    text = README.read_text()
    first_section = text.index("\n## ")
    assert text.index(f"pip install {DIST}") < text.index("\n## ", first_section + 1), \
        "the user's install comes before anything else"
    assert not re.search(r"pip install sshclient(?![-\w])", text.replace(
        "Do not `pip install sshclient`", "")), "installs the unrelated package"
    assert text.index("## Install") < text.index("## Development")
    for command in ("bash scripts/demo.sh", "bash scripts/test.sh"):
        assert command in text


def test_readme_states_pythons_platforms_and_what_is_missing():
    text = README.read_text()
    assert "3.9, 3.10, 3.11, 3.12 and 3.13" in text
    assert pyproject()["tool"]["cibuildwheel"]["build"] == \
        "cp39-* cp310-* cp311-* cp312-* cp313-*"
    for platform in ("Linux", "macOS", "Windows"):
        assert platform in text
    missing = text[text.index("### Not built yet"):text.index("\n## ", text.index(
        "### Not built yet"))]
    for feature in ("SFTP", "config", "known_hosts", "agent"):
        assert feature in missing, feature
    assert "asyncio" not in missing  # built: sshclient.aio
    assert "forwarding" not in missing  # built: forward_local_port() and the rest
    assert "### The asyncio API" in text and "### Port forwarding" in text


def test_readme_links_stay_inside_the_repository():
    text = README.read_text()
    assert "shared/spec" not in text  # not part of this repository
    assert "[docs/spec-coverage.md](docs/spec-coverage.md)" in text
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        assert not re.match(r"\w+://", target), target
        assert (ROOT / target).exists(), target


def test_readme_examples_name_the_enumerated_values():
    """No `ssh_auth_mode = 3`: the spec's integers have names (sshclient.AuthMode, ...)."""
    text = README.read_text()
    assert not re.search(r"(auth_mode|store_type|firewall_type) = \d", text.replace(
        "`client.ssh_auth_mode = 3` still works", ""))
    assert "AuthMode.PUBLIC_KEY" in text and "CertStoreType.PEM_KEY_FILE" in text

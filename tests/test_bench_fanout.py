"""bench/fanout.py's sshd settings: 200 logins at once from 127.0.0.1 must
all be served by the sshd installed here, whatever its version."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))

from fanout import fanout_sshd_config, openssh_version  # noqa: E402


@pytest.mark.parametrize("text, expected", [
    ("OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026", (9, 2)),
    ("OpenSSH_10.0p2 Debian-7, OpenSSL 3.5.1 1 Jul 2025", (10, 0)),
    ("unknown option -- V\nOpenSSH_9.8p1, LibreSSL 3.3.6", (9, 8)),
])
def test_openssh_version(text, expected):
    assert openssh_version(text) == expected


def test_openssh_version_refuses_other_text():
    with pytest.raises(ValueError):
        openssh_version("dropbear v2022.83")


@pytest.mark.parametrize("version, penalties", [
    ((9, 2), None), ((9, 7), None), ((9, 8), "no"), ((10, 0), "no")])
def test_per_source_penalties_only_where_sshd_has_them(version, penalties):
    assert fanout_sshd_config(version, 50).get("PerSourcePenalties") == penalties


@pytest.mark.parametrize("concurrency", [1, 50, 200, 500])
def test_max_startups_leaves_room_for_every_login_at_once(concurrency):
    start, rate, full = fanout_sshd_config((9, 2), concurrency)["MaxStartups"].split(":")
    assert int(start) >= 2 * concurrency
    assert int(full) > int(start) and 0 < int(rate) <= 100


def test_the_installed_sshd_runs_with_it(sshd_factory):
    probe = sshd_factory()  # only to learn the path of the sshd the tests use
    text = subprocess.run([probe.sshd_path, "-V"], capture_output=True, text=True)
    config = fanout_sshd_config(openssh_version(text.stdout + text.stderr), 200)
    server = sshd_factory(config)  # sshd -t rejects a keyword it does not know
    effective = server.effective_config()
    assert effective["maxstartups"] == config["MaxStartups"]
    if "PerSourcePenalties" in config:
        assert "persourcepenalties" in effective

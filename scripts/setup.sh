#!/usr/bin/env bash
# Set up a development/test environment on Debian 12 (idempotent):
#   1. system packages: the real SSH peers the tests run (openssh-server,
#      dropbear-bin, putty-tools for PPK keys), the proxies (dante-server,
#      tinyproxy; their system-wide daemons are disabled when this script
#      installs them) and a C toolchain;
#   2. .venv with the project installed editable (".[test]") and the Cython
#      extensions built in place.
# Run as root on a fresh machine (CI does, via .ci/run -> scripts/test.sh).
# Re-running is cheap: apt is skipped when everything is installed (unless
# CI=true), pip only reruns when pyproject.toml/setup.py change, and the
# in-place extension build is incremental.
#
# Environment: PYTHON (interpreter for the venv, default python3),
#              VENV (default .venv), SSHCLIENT_SKIP_APT=1 to never call apt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

APT_PACKAGES=(
    openssh-server openssh-client dropbear-bin putty-tools
    build-essential python3-dev python3-venv ca-certificates
    dante-server tinyproxy
)

# Packages whose system-wide daemon the tests never use (tests/proxies.py runs
# its own instances on loopback): package -> service.
declare -A TEST_ONLY_DAEMONS=([dante-server]=danted [tinyproxy]=tinyproxy)

log() { printf '==> %s\n' "$*" >&2; }

# Turn off the system-wide daemons of test-only packages: their package
# scripts enable them at boot (policy-rc.d below only keeps them from starting
# during the install), and a real host would then run a SOCKS server and an
# HTTP proxy on every interface from its next boot on. Where systemd runs they
# are also stopped; elsewhere (containers) the policy kept them from starting.
# SSHCLIENT_SYSTEMD_RUN_DIR is for tests/test_project_files.py only.
disable_daemons() {
    local svc running=0
    [[ -d ${SSHCLIENT_SYSTEMD_RUN_DIR:-/run/systemd/system} ]] && running=1  # as sd_booted()
    for svc in "$@"; do
        if command -v systemctl >/dev/null 2>&1; then
            if [[ $running == 1 ]]; then
                systemctl disable --now --quiet "$svc.service" \
                    || log "warning: could not disable and stop $svc.service"
            else
                # Without a running systemd this only removes the unit's
                # wants/ symlinks, which is what enabling made.
                systemctl disable --quiet "$svc.service" \
                    || log "warning: could not disable $svc.service"
            fi
        elif command -v deb-systemd-helper >/dev/null 2>&1; then
            deb-systemd-helper disable "$svc.service" >/dev/null \
                || log "warning: could not disable $svc.service"
        fi
        # SysV rc links, for hosts that boot another init.
        if [[ -e /etc/init.d/$svc ]] && command -v update-rc.d >/dev/null 2>&1; then
            update-rc.d "$svc" disable >/dev/null 2>&1 \
                || log "warning: could not disable /etc/init.d/$svc"
        fi
    done
}

# --- 1. system packages ------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$pkg")
    fi
done

if [[ "${SSHCLIENT_SKIP_APT:-0}" == 1 ]]; then
    log "skipping apt (SSHCLIENT_SKIP_APT=1); missing: ${missing[*]:-none}"
elif [[ ${#missing[@]} -gt 0 || "${CI:-}" == true ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup.sh: need root to install: ${missing[*]} (or set SSHCLIENT_SKIP_APT=1)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Keep package scripts from starting a system sshd/dropbear listening on
    # every interface; the tests start their own on loopback.
    policy_added=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
        trap '[[ $policy_added == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    log "apt-get install ${APT_PACKAGES[*]}"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
    if [[ $policy_added == 1 ]]; then
        rm -f /usr/sbin/policy-rc.d
        policy_added=0
    fi
    # Only what this run installed: a daemon already there may be someone's.
    installed_now=()
    for pkg in "${missing[@]}"; do
        if [[ -n ${TEST_ONLY_DAEMONS[$pkg]:-} ]]; then
            installed_now+=("${TEST_ONLY_DAEMONS[$pkg]}")
        fi
    done
    if [[ ${#installed_now[@]} -gt 0 ]]; then
        log "disabling the system-wide ${installed_now[*]} (the tests run their own)"
        disable_daemons "${installed_now[@]}"
    fi
fi

# --- 2. virtualenv and the package -------------------------------------------
if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "creating $VENV with $(command -v "$PYTHON") ($("$PYTHON" --version 2>&1))"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"

stamp="$VENV/.sshclient-install-stamp"
want=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]] \
        || ! "$PY" -c 'import importlib.metadata as m; m.version("sshclient-cython")' >/dev/null 2>&1; then
    log "pip install -e .[test] (and the build requirements, for in-place rebuilds)"
    "$PY" -m pip install -q --upgrade pip
    # This project was distributed as "sshclient" before; that name on PyPI is
    # an unrelated package. Either would claim the import name sshclient.
    if "$PY" -c 'import importlib.metadata as m; m.version("sshclient")' >/dev/null 2>&1; then
        "$PY" -m pip uninstall -q -y sshclient
    fi
    "$PY" -m pip install -q "setuptools>=77" wheel "Cython>=3.0"
    "$PY" -m pip install -q -e ".[test]"
    echo "$want" > "$stamp"
fi

# Incremental: only changed .pyx/.pxd/.pxi files are recompiled.
log "building extensions in place"
build_log="$VENV/.sshclient-build.log"
if ! "$PY" setup.py build_ext --inplace -j "$(nproc 2>/dev/null || echo 2)" >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    echo "setup.sh: extension build failed (full log: $build_log)" >&2
    exit 1
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the Debian packages a make target needs, only those missing.
# Usage: scripts/deps.sh PKG...   (apt-get as root, sudo otherwise)
set -euo pipefail
missing=()
for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "deps: missing Debian packages: ${missing[*]}" >&2
    echo "deps: run as root or with sudo: apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/rcgc-deps.log 2>&1; then
    $SUDO apt-get update >>/tmp/rcgc-deps.log 2>&1 || true
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/rcgc-deps.log 2>&1; then
        tail -20 /tmp/rcgc-deps.log >&2
        echo "deps: apt-get could not install: ${missing[*]}" >&2
        exit 1
    fi
fi

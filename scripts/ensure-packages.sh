#!/usr/bin/env bash
# Installs the named Debian packages when missing (CI machines start with little beyond the .NET SDK).
# Usage: scripts/ensure-packages.sh curl chromium ...
set -euo pipefail
missing=()
for package in "$@"; do
  dpkg -s "$package" > /dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

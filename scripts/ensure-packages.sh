#!/usr/bin/env bash
# Installs the named Debian packages when missing (CI machines start with little beyond the .NET SDK).
# Usage: scripts/ensure-packages.sh curl chromium ...
set -euo pipefail
missing=()
for package in "$@"; do
  # The installed state, not just a record: a package removed but not purged still answers `dpkg -s`.
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2> /dev/null || true)
  [ "$status" = "installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]}"
# Servers (nginx, redis-server) are for the tests, which start their own instances: keep the packages from
# starting system services as they install.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" > /dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"

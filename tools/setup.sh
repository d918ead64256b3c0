#!/usr/bin/env bash
# Installs the Debian packages that building and testing tsrun need. Idempotent; asks apt only when one is missing.
set -euo pipefail
pkgs=(busybox-static runc crun gcc libc6-dev make tmux python3 procps iproute2 libseccomp2)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

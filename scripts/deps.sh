#!/usr/bin/env bash
# deps.sh - install the Debian packages parklink builds, tests and benchmarks with.
# Idempotent and quiet when everything is already there. Needs root (or sudo) on Debian 12.
set -euo pipefail
PKGS=(gcc g++ clang make cmake pkg-config python3 ca-certificates
      libh2o-evloop-dev libjansson-dev libsimdjson-dev libsqlite3-dev libpq-dev
      libcurl4-openssl-dev libssl-dev libqrencode-dev libpng-dev uthash-dev libcmocka-dev
      postgresql sqlite3 curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

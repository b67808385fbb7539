#!/usr/bin/env bash
# run.sh - the one run command: install dependencies, build an optimised parklinkd into
# build-release/, and run it in the current directory on its defaults (SQLite ./parklink.db,
# port 8080). Arguments go to parklinkd (see parklinkd --help).
set -euo pipefail
here=$PWD
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$root/build-release" -j"$(nproc)" >/dev/null
cd "$here"
exec "$root/build-release/server/parklinkd" "$@"

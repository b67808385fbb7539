#!/usr/bin/env bash
# test.sh - the one test command: install dependencies, build with ASan+UBSan and -Werror
# into build-test/, run every test (unit, integration against the real binaries, fuzz
# corpora). Extra arguments go to ctest (e.g. -R park_check).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build-test -DPLK_SANITIZE=ON -DPLK_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-test --output-on-failure -j"$(nproc)" "$@"

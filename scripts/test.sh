#!/usr/bin/env bash
# test.sh - the one test command: install dependencies, build with ASan+UBSan and -Werror
# into build-test/, run every test (unit, integration against the real binaries, fuzz
# corpora); then build with ThreadSanitizer into build-tsan/ and run the tests again, so a
# data race between parklinkd's threads (workers, writer, admin, delivery) fails the run:
# a race report in a server's stderr fails its test (tests/integration/harness.py).
# Extra arguments go to ctest (e.g. -R park_check). PLK_TEST_TSAN=0 skips the second pass.
# Before the tests a throwaway PostgreSQL cluster starts (scripts/pg-test-cluster.sh) and
# PLK_TEST_PG names it: the store, integration and crash tests registered as ...@postgresql
# run on it (tests/README.md). It is stopped and removed on exit, pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
read -r PLK_PG_DIR PLK_TEST_PG < <(./scripts/pg-test-cluster.sh start)
[ -n "${PLK_TEST_PG:-}" ] || { echo "test.sh: the PostgreSQL test cluster did not start" >&2; exit 1; }
trap './scripts/pg-test-cluster.sh stop "$PLK_PG_DIR"' EXIT
export PLK_TEST_PG
echo "== PostgreSQL test cluster: $PLK_TEST_PG"
cmake -S . -B build-test -DPLK_SANITIZE=ON -DPLK_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-test --output-on-failure -j"$(nproc)" "$@"

if [ "${PLK_TEST_TSAN:-1}" != 0 ]; then
    echo "== the same tests under ThreadSanitizer (build-tsan/)"
    cmake -S . -B build-tsan -DPLK_TSAN=ON -DPLK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        >/dev/null
    cmake --build build-tsan -j"$(nproc)"
    TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1} \
        ctest --test-dir build-tsan --output-on-failure -j"$(nproc)" "$@"
fi

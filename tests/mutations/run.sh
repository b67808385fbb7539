#!/usr/bin/env bash
# run.sh - mutation testing, on demand (not part of CI or ctest): each NN-name.patch in this
# folder breaks the code on purpose, and the ctest tests it names must then fail.
#
# The committed tree (MUT_REV, default HEAD) is copied to a scratch folder, built once
# (Debug, no sanitizers; an ASan+UBSan build instead for a mutation that asks for it), and the
# named tests are run once unmutated: they must pass there. Then, per mutation: apply the
# patch, incremental build, run each named test, revert with git checkout. A test that still
# passes on the mutated code SURVIVED it; the script then exits 1 (so does a patch that no
# longer applies or builds). The format of a mutation file is in README.md beside this file.
#
#   tests/mutations/run.sh [NAME...]   only the mutations whose file name contains a NAME
#   MUT_REV=<rev>     the commit to mutate (default HEAD of this repository)
#   MUT_JOBS=N        build parallelism (default 2)
#   MUT_TIMEOUT=S     ctest's timeout per test in seconds (default 300)
#   KEEP_TMP=1        keep the scratch folder (it is kept anyway when something went wrong)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel)
REV=${MUT_REV:-HEAD}
JOBS=${MUT_JOBS:-2}
TIMEOUT=${MUT_TIMEOUT:-300}

say() { echo "mutations: $*" >&2; }
die() { say "$*"; exit 2; }

# --- the mutation files: header lines, then a unified diff ----------------------------------
header() { awk '/^(diff |--- )/ {exit} {print}' "$1"; }
field() { header "$1" | sed -n "s/^$2:[[:space:]]*//p"; }
describe() { # the Mutation: line and its indented continuation lines, joined
    header "$1" | awk '/^Mutation:/ {on = 1; sub(/^Mutation:[ \t]*/, ""); printf "%s", $0; next}
        on && /^[ \t]/ {sub(/^[ \t]+/, " "); printf "%s", $0; next} {on = 0} END {print ""}'
}

FILES=()
for f in "$HERE"/[0-9]*.patch; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .patch)
    if [ $# -gt 0 ]; then
        keep=0
        for want in "$@"; do [[ "$name" == *"$want"* ]] && keep=1; done
        [ $keep = 1 ] || continue
    fi
    FILES+=("$f")
done
[ ${#FILES[@]} -gt 0 ] || die "no mutation file selected in $HERE"

NEED_PLAIN=0 NEED_ASAN=0
for f in "${FILES[@]}"; do
    name=$(basename "$f" .patch)
    [ -n "$(field "$f" Mutation)" ] || die "$name: no 'Mutation:' line"
    [ -n "$(field "$f" Test)" ] || die "$name: no 'Test:' line"
    case "$(field "$f" Build)" in
    "" | plain) NEED_PLAIN=1 ;;
    asan) NEED_ASAN=1 ;;
    *) die "$name: Build: must be plain or asan, not '$(field "$f" Build)'" ;;
    esac
    grep -q '^+++ ' "$f" || die "$name: no unified diff after the header"
done

# --- the scratch tree: a git repository of its own, so a mutation is reverted by checkout ---
WORK=$(mktemp -d /tmp/plk-mutations.XXXXXX)
FAILED=0
PG_DIR=""
cleanup() {
    [ -z "$PG_DIR" ] || "$ROOT/scripts/pg-test-cluster.sh" stop "$PG_DIR"
    if [ -n "${KEEP_TMP:-}" ] || [ $FAILED != 0 ]; then say "kept $WORK (logs in $WORK/logs)"
    else rm -rf "$WORK"; fi
}
trap cleanup EXIT
# the PostgreSQL tests (.../<test>@postgresql, test_pg_engine) need a cluster: a throwaway
# one unless PLK_TEST_PG names one already (scripts/test.sh does the same)
if [ -z "${PLK_TEST_PG:-}" ]; then
    read -r PG_DIR PLK_TEST_PG < <("$ROOT/scripts/pg-test-cluster.sh" start) ||
        die "the PostgreSQL test cluster did not start"
    export PLK_TEST_PG
fi
TREE=$WORK/tree
mkdir -p "$TREE" "$WORK/logs"
git -C "$ROOT" archive "$REV" | tar -x -C "$TREE"
git -C "$TREE" init -q
git -C "$TREE" add -A
git -C "$TREE" -c user.name=mutations -c user.email=mutations@localhost commit -q -m base
say "mutating $(git -C "$ROOT" rev-parse --short "$REV") in $TREE"

flavour() { case "$(field "$1" Build)" in asan) echo asan ;; *) echo plain ;; esac; }

configure() { # FLAVOUR
    local opts=(-DCMAKE_BUILD_TYPE=Debug)
    [ "$1" = asan ] && opts+=(-DPLK_SANITIZE=ON)
    say "configuring and building the $1 build (once)"
    cmake -S "$TREE" -B "$WORK/build-$1" "${opts[@]}" >"$WORK/logs/configure-$1.log" 2>&1 ||
        { FAILED=1; die "configure failed: $WORK/logs/configure-$1.log"; }
    build "$1" "$WORK/logs/build-$1.log" || { FAILED=1; die "the unmutated tree does not build:" \
        "$WORK/logs/build-$1.log"; }
}
build() { cmake --build "$WORK/build-$1" -j"$JOBS" >"$2" 2>&1; }

# run_test FLAVOUR TEST LOG: 0 passed, 1 failed
run_test() {
    local re
    re="^$(printf '%s' "$2" | sed 's/[][\.*^$+?(){}|]/\\&/g')\$"
    if [ "$1" = asan ]; then
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
            UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            ctest --test-dir "$WORK/build-$1" -R "$re" --timeout "$TIMEOUT" --output-on-failure \
            >"$3" 2>&1
    else
        ctest --test-dir "$WORK/build-$1" -R "$re" --timeout "$TIMEOUT" --output-on-failure \
            >"$3" 2>&1
    fi
}
test_exists() { # FLAVOUR TEST
    local re
    re="^$(printf '%s' "$2" | sed 's/[][\.*^$+?(){}|]/\\&/g')\$"
    ctest --test-dir "$WORK/build-$1" -N -R "$re" | grep -q "Total Tests: 1$"
}

for f in "${FILES[@]}"; do # before any build: a stale patch stops the run at once
    git -C "$TREE" apply --check "$f" 2>"$WORK/logs/apply.log" ||
        { FAILED=1; die "$(basename "$f"): does not apply to $REV (regenerate it):" \
            "$(cat "$WORK/logs/apply.log")"; }
done
if [ $NEED_PLAIN = 1 ]; then configure plain; fi
if [ $NEED_ASAN = 1 ]; then configure asan; fi

# --- baseline: every named test passes on the unmutated tree -------------------------------
declare -A BASELINE=()
for f in "${FILES[@]}"; do
    fl=$(flavour "$f")
    while read -r t; do
        [ -n "${BASELINE[$fl $t]:-}" ] && continue
        test_exists "$fl" "$t" || { FAILED=1; die "$(basename "$f"): no ctest test named '$t'"; }
        say "baseline: $t ($fl build)"
        log="$WORK/logs/baseline-$fl-${t//\//_}.log"
        run_test "$fl" "$t" "$log" ||
            { FAILED=1; die "baseline: $t fails on the unmutated tree: $log"; }
        BASELINE[$fl $t]=1
    done < <(field "$f" Test)
done

# --- the mutations ---------------------------------------------------------------------------
ROWS=()
for f in "${FILES[@]}"; do
    name=$(basename "$f" .patch)
    fl=$(flavour "$f")
    say "$name: $(describe "$f")"
    git -C "$TREE" apply "$f"
    if ! build "$fl" "$WORK/logs/$name-build.log"; then
        ROWS+=("$name|(build)|ERROR: does not build, $WORK/logs/$name-build.log")
        FAILED=1
    else
        while read -r t; do
            log="$WORK/logs/$name-${t//\//_}.log"
            if run_test "$fl" "$t" "$log"; then
                ROWS+=("$name|$t|SURVIVED ($log)")
                FAILED=1
            else
                ROWS+=("$name|$t|KILLED")
            fi
        done < <(field "$f" Test)
    fi
    git -C "$TREE" checkout -q -- .
    git -C "$TREE" clean -fdq
done

echo
printf '%-36s %-34s %s\n' mutation test result
for row in "${ROWS[@]}"; do
    IFS='|' read -r m t r <<<"$row"
    printf '%-36s %-34s %s\n' "$m" "$t" "$r"
done
[ $FAILED = 0 ] || { say "a mutation survived or could not be tested"; exit 1; }

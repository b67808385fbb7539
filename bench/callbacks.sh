#!/usr/bin/env bash
# callbacks.sh - the outbox under load, against a local `parklink vendor-sim`, in one run.
#
# 1. throughput: N chapter-11 commands are written while the vendor is in poll mode (held),
#    then it is switched to push and the delivery thread drains them: acknowledged callbacks
#    per second (target >= 5000/s).
# 2. latency: 3.1 entries at RATE per second for LAT_SECONDS; each writes a 5.2 notice in
#    its own group-commit transaction; p50/p99/max from that write to the vendor's
#    acknowledgement, from the outbox's own timestamps (target p99 <= 50 ms at 1000/s).
# 3. interference: park_check with wrk (park_check.lua of the reference bench) on parklinkd
#    alone, then while a backlog is being delivered; the ratio of the two.
# Release build (BUILD_DIR, default build-release; configured and built if missing).
#   BENCH_DIR    the reference folder with park_check.lua; default ../shared/bench next to
#                the repository
#   N            messages drained in (1) (default 50000); PARKS they spread over (64)
#   RATE, LAT_SECONDS   entries per second and how long in (2) (1000, 10)
#   DURATION, CONNECTIONS   wrk settings in (3) (10s, 64)
#   PHASES       which of 1 2 3 to run (default "1 2 3"); KEEP_TMP=1 keeps the databases
# A wrk run with non-2xx replies or socket errors, a refused 3.1 entry or a park_check that
# does not answer for real fails the script (exit 1). Needs wrk, python3, curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-release}
N=${N:-50000}
PARKS=${PARKS:-64}
RATE=${RATE:-1000}
LAT_SECONDS=${LAT_SECONDS:-10}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
PHASES=" ${PHASES:-1 2 3} "
PLK_PORT=${PLK_PORT:-18092}
SIM_PORT=${SIM_PORT:-18093}
TOKEN=bench-admin-token
LUA=$BENCH_DIR/park_check.lua

. "$ROOT/bench/common.sh"
bench_need wrk python3 curl
bench_build parklinkd parklink-cli
bench_tmp cb-bench

# parklinkd on CPU 1; the vendor, wrk and the load generator on CPU 0 (with two cores)
SRV_CPU=() CLI_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SRV_CPU=(taskset -c 1) CLI_CPU=(taskset -c 0)
fi

"${CLI_CPU[@]}" "$BUILD_DIR/cli/parklink" vendor-sim --listen "127.0.0.1:$SIM_PORT" \
    --key EA2D90FEEF1E9F8E --quiet --keep 1000 >"$TMP/sim.log" 2>&1 &
PIDS+=($!)
start_parklinkd() { # $1: worker threads
    "${SRV_CPU[@]}" "$BUILD_DIR/server/parklinkd" --listen "127.0.0.1:$PLK_PORT" \
        --store "$TMP/$2.db" --threads "$1" --admin-token "$TOKEN" --log-level warn \
        >"$TMP/$2.log" 2>&1 &
    PLK_PID=$!
    PIDS+=($PLK_PID)
    wait_port "$PLK_PORT"
}
stop_parklinkd() {
    kill "$PLK_PID"
    wait "$PLK_PID" 2>/dev/null || true
}
wait_port "$SIM_PORT"

cat >"$TMP/load.py" <<'EOF'
"""The bench's client side: seeding, bulk commands, paced entries, reading the outbox."""
import hashlib, http.client, json, sqlite3, sys, threading, time

port, token, db = int(sys.argv[2]), sys.argv[3], sys.argv[4]
UID, KEY = 200002, "EA2D90FEEF1E9F8E"


def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def admin(c, method, path, obj=None):
    body = None if obj is None else json.dumps(obj, ensure_ascii=False).encode()
    c.request(method, "/admin/v1" + path, body, {"Authorization": "Bearer " + token,
                                                  "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit("%s %s: %d %s" % (method, path, r.status, data[:300]))
    return json.loads(data)


def parks(n):
    return ["20003"] + ["B%03d" % i for i in range(n - 1)]


def seed(sim_url, n):
    c = conn()
    admin(c, "POST", "/vendors", {"union_id": UID, "ukey": KEY, "callback_url": sim_url})
    for p in parks(n):
        admin(c, "POST", "/parks", {"park_id": p, "union_id": UID})


def mode(m):
    admin(conn(), "PUT", "/vendors/%d/delivery" % UID, {"mode": m})


def backlog(n, nparks):
    c, ps, done = conn(), parks(nparks), 0
    while done < n:
        k = min(5000, n - done)
        items = [{"park_id": ps[(done + i) % len(ps)], "total_space": 1000,
                  "free_space": (done + i) % 1000} for i in range(k)]
        admin(c, "POST", "/commands/space_notify", {"items": items})
        done += k


def count(state, service=None):
    q = "SELECT count(*), max(delivered_at) FROM outbox WHERE state = ?"
    args = [state]
    if service:
        q += " AND service_name = ?"
        args.append(service)
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30) as d:
        return d.execute(q, args).fetchone()


def drain(n):
    """Switch to push now; wait until n messages are delivered; print the rate."""
    t0 = time.time() * 1000
    mode("push")
    while True:
        got, last = count(1)
        if got >= n:
            break
        time.sleep(0.1)
    secs = (last - t0) / 1000
    dead = count(2)[0]
    print("throughput: %d callbacks acknowledged in %.2f s = %.0f/s (dead: %d)"
          % (got, secs, got / secs, dead))


def entries(rate, seconds, nthreads=8):
    """3.1 entries at `rate` per second; each writes a 5.2."""
    per = rate / nthreads
    sent = [0] * nthreads
    errors = []

    def run(k):
        c = conn()
        start = time.time()
        i = 0
        while True:
            due = start + i / per
            now = time.time()
            if due - start >= seconds:
                break
            if due > now:
                time.sleep(due - now)
            data = {"union_id": UID, "park_id": "20003", "order_id": "L%d-%d" % (k, i),
                    "car_number": "京L%05d" % ((k * 100000 + i) % 100000),
                    "in_time": int(time.time()), "empty_plot": 10}
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            sign = hashlib.md5((text + "key=" + KEY).encode()).hexdigest().upper()
            body = '{"sign":"%s","data":%s}' % (sign, text)
            c.request("POST", "/unionapi/neworder/addorder", body.encode(),
                      {"Content-Type": "application/json;charset=utf-8"})
            r = c.getresponse()
            out = json.loads(r.read())
            if out.get("state") != 1:
                errors.append(out)
            i += 1
            sent[k] = i

    ts = [threading.Thread(target=run, args=(k,)) for k in range(nthreads)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.time() - t0
    total = sum(sent)
    if errors:
        raise SystemExit("entries refused: %s" % errors[:3])
    while count(1, "notice_car_owner")[0] < total:
        time.sleep(0.1)
    with sqlite3.connect("file:%s?mode=ro" % db, uri=True) as d:
        lat = sorted(r[0] for r in d.execute(
            "SELECT delivered_at - created FROM outbox WHERE service_name = 'notice_car_owner'"))
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("latency: %d entries in %.1f s (%.0f/s); 5.2 write->ack p50 %d ms, p99 %d ms, "
          "max %d ms" % (total, took, total / took, p(0.50), p(0.99), lat[-1]))


cmd = sys.argv[1]
if cmd == "seed":
    seed(sys.argv[5], int(sys.argv[6]))
elif cmd == "hold":
    mode("poll")
    backlog(int(sys.argv[5]), int(sys.argv[6]))
elif cmd == "drain":
    drain(int(sys.argv[5]))
elif cmd == "push":
    mode("push")
elif cmd == "entries":
    entries(float(sys.argv[5]), float(sys.argv[6]))
elif cmd == "delivered":
    print(count(1)[0])
EOF
load() { "${CLI_CPU[@]}" python3 "$TMP/load.py" "$1" "$PLK_PORT" "$TOKEN" "$TMP/$DB.db" "${@:2}"; }
wrk_rps() { # N: one wrk run of park_check -> RPS and P99 (exits on errors in the run)
    "${CLI_CPU[@]}" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" \
        "http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData" >"$TMP/wrk-$1.txt"
    bench_wrk_ok "park_check ($1)" "$TMP/wrk-$1.txt"
    read -r RPS P99 < <(awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {print rps, p99}' \
        "$TMP/wrk-$1.txt")
}

echo "== parklinkd $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"

phase() { [[ "$PHASES" == *" $1 "* ]]; }

# 1. throughput of a drained backlog
if phase 1; then
DB=drain
start_parklinkd 2 drain
load seed "http://127.0.0.1:$SIM_PORT/cb" "$PARKS"
load hold "$N" "$PARKS"
load drain "$N"
stop_parklinkd
fi

# 2. latency at RATE entries per second
if phase 2; then
DB=latency
start_parklinkd 2 latency
load seed "http://127.0.0.1:$SIM_PORT/cb" 1
load entries "$RATE" "$LAT_SECONDS"
stop_parklinkd
fi

# 3. park_check alone, then while a backlog drains (one worker thread, as park_check.sh)
phase 3 || exit 0
DB=mixed
start_parklinkd 1 mixed
load seed "http://127.0.0.1:$SIM_PORT/cb" "$PARKS"
bench_check_reply "http://127.0.0.1:$PLK_PORT/unionapi/neworder/uploadData"
wrk_rps alone
ALONE=$RPS ALONE_P99=$P99
load hold 200000 "$PARKS"
before=$(load delivered)
load push
wrk_rps mixed
MIXED=$RPS MIXED_P99=$P99
after=$(load delivered)
stop_parklinkd
python3 - "$ALONE" "$ALONE_P99" "$MIXED" "$MIXED_P99" "$before" "$after" "$DURATION" <<'EOF'
import sys
alone, ap99, mixed, mp99, before, after, dur = sys.argv[1:]
secs = float(dur.rstrip("s"))
print("park_check alone: %.0f req/s (p99 %s); while delivering: %.0f req/s (p99 %s) = %.2fx, "
      "%d callbacks delivered meanwhile (%.0f/s)"
      % (float(alone), ap99, float(mixed), mp99, float(mixed) / float(alone),
         int(after) - int(before), (int(after) - int(before)) / secs))
EOF

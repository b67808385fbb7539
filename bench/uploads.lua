-- uploads.lua - wrk script of bench/uploads.sh: 3.1 entry uploads, each a new order_id.
--
-- wrk's Lua has no MD5, so uploads.sh signs the bodies beforehand, one per line in the file
-- BODIES_FILE; of WRK_THREADS threads, thread k sends lines k, k+n, k+2n ... (wrapping around
-- only if it runs out: repeats answer 订单已存在 and are counted as DUP, not as uploads).
-- done() prints the counts of acknowledged uploads and the latency percentiles.
local counter = 0
local threads = {}

function setup(thread)
    thread:set("id", counter)
    table.insert(threads, thread)
    counter = counter + 1
end

function init(args)
    local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
    local i = 0
    bodies = {}
    for line in io.lines(os.getenv("BODIES_FILE")) do
        if i % nthreads == id then
            bodies[#bodies + 1] = line
        end
        i = i + 1
    end
    idx, acked, dup, failed = 0, 0, 0, 0
    headers = {["Content-Type"] = "application/json"}
end

function request()
    idx = idx + 1
    if idx > #bodies then
        idx = 1
    end
    return wrk.format("POST", "/unionapi/neworder/addorder", headers, bodies[idx])
end

function response(status, hdrs, body)
    if string.find(body, '"state":1,"errmsg":"上传成功"', 1, true) then
        acked = acked + 1
    elseif string.find(body, '"state":1', 1, true) then
        dup = dup + 1
    else
        failed = failed + 1
    end
end

function done(summary, latency, requests)
    local a, d, f = 0, 0, 0
    for _, t in ipairs(threads) do
        a = a + t:get("acked")
        d = d + t:get("dup")
        f = f + t:get("failed")
    end
    io.write(string.format("ACKED %d DUP %d FAILED %d SECONDS %.3f\n", a, d, f,
                           summary.duration / 1e6))
    io.write(string.format("P50_MS %.3f P99_MS %.3f MAX_MS %.3f\n", latency:percentile(50) / 1e3,
                           latency:percentile(99) / 1e3, latency.max / 1e3))
end

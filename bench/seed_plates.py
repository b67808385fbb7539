"""seed_plates.py - load parklinkd for the park_check benchmarks through its admin API.

Usage: seed_plates.py PORT ADMIN_TOKEN PREFIX...
PREFIX "base" creates vendor 200002 (ukey EA2D90FEEF1E9F8E) and its open park 20003, the ids
of ../shared/bench/park_check.lua; any other prefix blacklists the 100k plates PREFIX00000 ..
PREFIX99999 (colour 0) in one bulk request.
"""
import json, sys, time, urllib.request
port, token, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
def admin(method, path, obj):
    req = urllib.request.Request("http://127.0.0.1:%s/admin/v1%s" % (port, path), method=method,
                                 data=json.dumps(obj, ensure_ascii=False).encode(),
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            return r.status
    except urllib.error.HTTPError as e:
        sys.exit("seeding %s failed: %d %s" % (path, e.code, e.read()[:300]))
for prefix in prefixes:
    if prefix == "base":
        admin("POST", "/vendors", {"union_id": 200002, "ukey": "EA2D90FEEF1E9F8E", "name": "bench"})
        admin("POST", "/parks", {"park_id": "20003", "union_id": 200002, "name": "bench park",
                                 "total_plot": 500, "empty_plot": 100, "policy": "open"})
        continue
    t = time.time()
    admin("POST", "/blacklist",
          {"entries": [{"plate": "%s%05d" % (prefix, i), "color": 0} for i in range(100000)]})
    print("  loaded %s00000..%s99999 in %.1f s" % (prefix, prefix, time.time() - t), flush=True)

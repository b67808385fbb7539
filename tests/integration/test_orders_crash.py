"""test_orders_crash.py - durability of entries and exits across kill -9 (DESIGN decision 7).

Sixteen client threads upload entries (each car re-entering, so every entry also closes the
car's previous stay) and some exits as fast as they can; parklinkd is killed with SIGKILL in
the middle. After a restart on the same database: every upload that was answered state 1 is
there, exactly as sent; nothing half-written is (each stored entry is whole, each car has at
most one open stay and it is its latest, every stay closed at zero was closed by a stored
later entry); the database is intact and the server takes uploads again.
"""
import http.client
import json
import threading
import time
import unittest

from harness import Server, envelope
from recordkit import A_KEY, A_UID, Vendor, db

CLIENTS = 16
PARK = "K1"


class CrashDuringUploads(unittest.TestCase):
    def test_acknowledged_uploads_survive_kill9(self):
        srv = Server(threads=2).start()
        self.addCleanup(srv.cleanup)
        a = Vendor(srv, A_UID, A_KEY).register("A")
        self.assertEqual(a.publish(PARK)["state"], 1)
        base = int(time.time()) - 86400 + 600
        acked_entries, acked_exits, sent = {}, {}, {}
        lock = threading.Lock()
        stop = threading.Event()

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            plate = "京K%05d" % n
            for seq in range(100000):
                if stop.is_set():
                    return
                order = "c%02d-%05d" % (n, seq)
                entry = {"car_number": plate, "in_time": base + seq * 10, "order_id": order,
                         "empty_plot": seq % 100, "park_id": PARK, "union_id": A_UID,
                         "remark": "r-" + order}
                ops = [("neworder/addorder", entry, None)]
                if seq % 3 == 0:
                    ops.append(("neworder/updateorder",
                                {"park_id": PARK, "union_id": A_UID, "car_number": plate,
                                 "out_time": base + seq * 10 + 5, "pay_type": "cash",
                                 "empty_plot": 1, "total": "%d.%02d" % (seq // 100, seq % 100),
                                 "order_id": order}, seq))
                for path, data, total in ops:
                    with lock:
                        sent[order] = entry
                    try:
                        conn.request("POST", "/unionapi/" + path,
                                     envelope(data, A_KEY).encode("utf-8"),
                                     {"Content-Type": "application/json"})
                        reply = json.loads(conn.getresponse().read())
                    except (OSError, http.client.HTTPException, ValueError):
                        return  # the server is gone
                    if reply.get("state") != 1:
                        continue
                    with lock:
                        if total is None:
                            acked_entries[order] = entry
                        else:
                            acked_exits[order] = total

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while time.time() < deadline:
            with lock:
                if len(acked_entries) >= 600:
                    break
            time.sleep(0.05)
        srv.kill9()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreaterEqual(len(acked_entries), 100, "too few uploads before the kill")

        again = Server(db_dir=srv.dir, threads=2).start()
        try:
            with db(again) as con:
                if not again.store.startswith("postgresql://"):  # the file (SQLite only)
                    self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                rows = {r["order_id"]: r for r in con.execute(
                    "SELECT * FROM orders WHERE park_id = ?", (PARK,))}
            # every acknowledged upload is there, as sent
            for order, e in acked_entries.items():
                self.assertIn(order, rows, "acknowledged entry lost")
                o = rows[order]
                self.assertEqual((o["car_number"], o["in_time"], o["in_remark"],
                                  o["in_empty_plot"]),
                                 (e["car_number"], e["in_time"], e["remark"], e["empty_plot"]))
            for order, seq in acked_exits.items():
                self.assertEqual((rows[order]["state"], rows[order]["paid_fen"]), (2, seq),
                                 order)
            # nothing half-written: every stored order was sent whole
            for order, o in rows.items():
                e = sent[order]
                self.assertEqual((o["car_number"], o["in_time"], o["in_remark"]),
                                 (e["car_number"], e["in_time"], e["remark"]), order)
            # the closures of stale stays are consistent with the entries stored
            by_car = {}
            for o in rows.values():
                by_car.setdefault(o["car_number"], []).append(o)
            for car, stays in by_car.items():
                stays.sort(key=lambda o: o["in_time"])
                open_ = [o["order_id"] for o in stays if o["state"] in (0, 1)]
                self.assertLessEqual(len(open_), 1, car)
                if open_:
                    self.assertEqual(open_[0], stays[-1]["order_id"], car)
                later = {o["in_time"] for o in stays}
                for o in stays:
                    if o["state"] == 4:
                        self.assertIn(o["out_time"], later, o["order_id"])
                        self.assertEqual(o["total_fen"], 0)
            # and the server carries on
            r = Vendor(again, A_UID, A_KEY).entry(PARK, "after-restart", "京K99999")
            self.assertEqual((r["state"], r["errmsg"]), (1, "上传成功"))
            some = next(iter(acked_entries))
            r = Vendor(again, A_UID, A_KEY).call("neworder/queryorders",
                                                 {"park_id": PARK, "order_id": some})
            self.assertEqual(r["count"], 1)
        finally:
            again.stop()


if __name__ == "__main__":
    unittest.main()

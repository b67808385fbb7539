"""test_store_errors.py - a database that is full or locked, as vendors and the admin see it.

Full: the database lives on a small tmpfs that a filler file then fills (a real ENOSPC, so
SQLite's SQLITE_FULL); entries are uploaded until one is refused. The refusal is state 0 with
服务器存储空间不足... (never state 1), an admin POST is answered 503 with a JSON error, nothing of
either is kept, and once the filler is gone both work again. Busy: another process holds the
database with BEGIN EXCLUSIVE (python's sqlite3); a vendor write is answered state 0 with
服务器繁忙... after the store's busy timeout, an admin write 503, park_check goes on answering from
its snapshot, and after the lock is released everything works. The answers are decided in
docs/server.md ("When the database is full or locked").
"""
import errno
import json
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

from harness import ADMIN_TOKEN, Server, envelope
from recordkit import A_KEY, A_UID, Vendor, db

MSG_FULL = "服务器存储空间不足，数据未保存，请稍后重试"
MSG_BUSY = "服务器繁忙，数据未保存，请稍后重试"


def fill(path):
    """Write path until the file system has no room left (ENOSPC)."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 16, 4096, 512):
            while True:
                try:
                    f.write(b"\0" * size)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break


class Base(unittest.TestCase):
    def park_row(self, park_id):
        with db(self.srv) as con:
            return con.execute("SELECT empty_plot FROM park_details WHERE park_id = ?",
                               (park_id,)).fetchone()[0]

    def order_ids(self, park_id):
        with db(self.srv) as con:
            return {r[0] for r in con.execute("SELECT order_id FROM orders WHERE park_id = ?",
                                              (park_id,))}

    def vendor_ids(self):
        with db(self.srv) as con:
            return {r[0] for r in con.execute("SELECT union_id FROM vendors")}

    def new_vendor(self, uid, timeout=10):
        body = json.dumps({"union_id": uid, "ukey": "K" * 16, "name": "vendor %d" % uid})
        return self.srv.request("POST", "/admin/v1/vendors", body,
                                {"Content-Type": "application/json",
                                 "Authorization": "Bearer " + ADMIN_TOKEN}, timeout=timeout)


class DiskFull(Base):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root (CI and the dev machines are root)")
        self.mnt = tempfile.mkdtemp(prefix="plk-full-")
        self.addCleanup(os.rmdir, self.mnt)
        rc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", self.mnt],
                            capture_output=True, text=True)
        self.assertEqual(rc.returncode, 0, "cannot mount a tmpfs: " + rc.stderr)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.srv = Server(threads=2, db_dir=self.mnt)
        # the log stays off the small disk: a sanitizer report must find room
        logdir = tempfile.mkdtemp(prefix="plk-full-log-")
        self.srv.stderr_path = os.path.join(logdir, "stderr.log")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", logdir]))
        self.srv.start()
        self.addCleanup(lambda: self.srv.proc and self.srv.stop(expect_rc=None))
        self.a = Vendor(self.srv, A_UID, A_KEY).register("A")
        self.assertEqual(self.a.publish("F1")["state"], 1)

    def test_full_disk_refuses_and_recovers(self):
        free_before = self.park_row("F1")
        filler = os.path.join(self.mnt, "filler")
        fill(filler)
        acked, refused = [], None
        for n in range(3000):
            order = "full-%04d" % n
            r = self.a.entry("F1", order, "京F%05d" % n, empty_plot=n % 100,
                             remark="备注" * 100)
            if r["state"] == 1:
                acked.append((order, n % 100))
                continue
            refused = (order, r)
            break
        self.assertIsNotNone(refused, "3000 entries fit on a full disk")
        order, r = refused
        self.assertEqual((r["state"], r["errmsg"]), (0, MSG_FULL), r)
        # nothing of the refused entry is kept: no order, the park's free spaces as the last
        # acknowledged entry left them
        self.assertNotIn(order, self.order_ids("F1"))
        self.assertEqual(self.order_ids("F1"), {o for o, _ in acked})
        self.assertEqual(self.park_row("F1"), acked[-1][1] if acked else free_before)

        # the admin API is full too: 503, JSON, the cause named; nothing kept
        r = self.new_vendor(700001)
        self.assertEqual(r.status, 503, r)
        self.assertIn("disk is full", r.json["error"])
        self.assertNotIn("700001", self.vendor_ids())
        self.assertEqual(self.srv.get("/healthz").status, 200)

        # room again: the same requests succeed
        os.unlink(filler)
        self.assertEqual(self.a.entry("F1", order, "京F99999")["errmsg"], "上传成功")
        self.assertEqual(self.new_vendor(700001).status, 201)
        self.assertIn(order, self.order_ids("F1"))
        self.assertIn("700001", self.vendor_ids())
        self.assertEqual(self.srv.stop(), 0)  # and no sanitizer report


class DatabaseLocked(Base):
    def setUp(self):
        self.srv = Server(threads=2).start()
        self.addCleanup(self.srv.cleanup)
        self.addCleanup(lambda: self.srv.proc and self.srv.stop(expect_rc=None))
        self.a = Vendor(self.srv, A_UID, A_KEY).register("A")
        self.assertEqual(self.a.publish("L1")["state"], 1)
        self.assertEqual(self.a.entry("L1", "before", "京L00001", empty_plot=7)["state"], 1)

    def test_locked_database_refuses_and_recovers(self):
        other = sqlite3.connect(self.srv.db, isolation_level=None, timeout=10)
        other.execute("BEGIN EXCLUSIVE")
        results = {}

        # generous timeouts: each waits out the store's 5 s busy timeout, on a loaded machine
        def vendor_write():
            data = {"car_number": "京L00002", "in_time": int(time.time()) - 60,
                    "order_id": "locked", "empty_plot": 3, "park_id": "L1", "union_id": A_UID}
            results["vendor"] = self.srv.post("/unionapi/neworder/addorder",
                                              envelope(data, A_KEY), timeout=60).json

        def admin_write():
            results["admin"] = self.new_vendor(700002, timeout=60)

        threads = [threading.Thread(target=vendor_write), threading.Thread(target=admin_write)]
        for t in threads:
            t.start()
        # admission does not wait for the store
        r = self.a.upload("L1", "park_check", car_number="京L00003")
        self.assertEqual((r["state"], r["data"]["status"]), (1, "1"), r)
        for t in threads:
            t.join(90)
        other.execute("ROLLBACK")
        other.close()

        r = results["vendor"]
        self.assertEqual((r["state"], r["errmsg"]), (0, MSG_BUSY), r)
        r = results["admin"]
        self.assertEqual(r.status, 503, r)
        self.assertIn("locked by another process", r.json["error"])
        self.assertEqual(self.order_ids("L1"), {"before"})
        self.assertEqual(self.park_row("L1"), 7)
        self.assertNotIn("700002", self.vendor_ids())

        # released: the same requests succeed
        self.assertEqual(self.a.entry("L1", "locked", "京L00002", empty_plot=3)["errmsg"],
                         "上传成功")
        self.assertEqual(self.new_vendor(700002).status, 201)
        self.assertEqual(self.park_row("L1"), 3)
        self.assertEqual(self.srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()

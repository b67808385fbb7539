"""test_real_clients.py - what real clients send and what attackers send (issue 11).

Real clients: union_id only at the top level is accepted on every interface whose data lists
it (spec 1.4, DESIGN decision 3); a production exit record (union_id at the top, no
empty_plot, a pay_type outside the four the reference lists) settles as a non-electronic exit
and is reported as sent. Attackers: a U+0000 inside any text of any interface is refused by
name and writes nothing (it used to cut the text: a blacklisted plate admitted, two order ids
colliding, an empty plate stored); license_color -1 is out of range, not "too long".
"""
import time
import unittest

import harness
from recordkit import A_KEY, A_UID, B_KEY, B_UID, Vendor, db, order_row
from test_bad_input import base_data, kind, services


class RealClients(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = Vendor(cls.srv, A_UID, A_KEY).register("厂商A")
        cls.b = Vendor(cls.srv, B_UID, B_KEY).register("厂商B")
        assert cls.a.publish("20003")["state"] == 1
        assert cls.b.publish("30003")["state"] == 1
        r = cls.srv.admin("POST", "/blacklist", {"plate": "京BL001", "color": -1,
                                                 "reason": "逃费"})
        assert r.status == 201, r
        # every row the pipeline serves, absolute paths (3.11, 8.7) included
        cls.rows = [row for row in services() if kind(row) == "pipeline"]
        cls.now = int(time.time())

    def post_top(self, row, data, **kw):
        """data signed by vendor A, union_id at the top level (and wherever data has it)."""
        r = self.srv.post(row["url_path"], harness.envelope(data, A_KEY, union_id=A_UID, **kw))
        self.assertEqual(r.status, 200, r)
        self.assertIsNotNone(r.json, r)
        return r.json

    def call_top(self, path, data):
        r = self.srv.call(path, data, A_KEY, union_id=A_UID)
        self.assertEqual(r.status, 200, r)
        return r.json

    def plots(self, park_id):
        with db(self.srv) as con:
            return con.execute("SELECT empty_plot FROM park_details WHERE park_id = ?",
                               (park_id,)).fetchone()[0]

    # --- union_id at the top level, every interface -------------------------------------
    def test_union_id_only_at_the_top_on_every_interface(self):
        checked = 0
        for row in self.rows:
            if not any(f["name"] == "union_id" for f in row["fields"]):
                continue
            with self.subTest(service=row["id"]):
                data = {k: v for k, v in base_data(row).items() if k != "union_id"}
                r = self.post_top(row, data)
                self.assertNotIn("union_id", r.get("errmsg", ""), r)
                # in both places, agreeing: the same answer; disagreeing: refused
                r2 = self.post_top(row, dict(data, union_id=A_UID))
                self.assertNotIn("union_id", r2.get("errmsg", ""), r2)
                r3 = self.post_top(row, dict(data, union_id=B_UID))
                self.assertEqual((r3["state"], r3["errmsg"]),
                                 (0, "union_id不一致: top-level union_id %d, data.union_id %d"
                                  % (A_UID, B_UID)))
                checked += 1
        self.assertGreaterEqual(checked, 20)

    def test_entry_and_park_check_with_union_id_at_the_top(self):
        r = self.call_top("neworder/addorder", {
            "car_number": "京T00001", "in_time": self.now - 600, "order_id": "T-top",
            "empty_plot": 30, "park_id": "20003"})
        self.assertEqual((r["state"], r["errmsg"]), (1, "上传成功"))
        self.assertEqual(order_row(self.srv, "20003", "T-top")["union_id"], str(A_UID))
        r = self.call_top("neworder/uploadData", {"park_id": "20003",
                                                  "service_name": "park_check",
                                                  "car_number": "京BL001"})
        self.assertEqual((r["state"], r["data"]["status"]), (1, "0"))

    # --- the production exit record -------------------------------------------------------
    def test_real_exit_record_settles_as_non_electronic(self):
        self.a.entry("20003", "REAL-1", "京R00001", in_time=self.now - 3600, empty_plot=40)
        self.assertEqual(self.plots("20003"), 40)
        # as the production client sent it: union_id only at the top, no empty_plot, and a
        # pay_type the reference does not list
        exit_data = {"park_id": "20003", "car_number": "京R00001", "order_id": "REAL-1",
                     "in_time": self.now - 3600, "out_time": self.now - 60,
                     "pay_type": "monthcard", "total": "5.00"}
        r = self.call_top("neworder/updateorder", exit_data)
        self.assertEqual((r["state"], r["errmsg"], r["order_id"]), (1, "上传成功", "REAL-1"))
        o = order_row(self.srv, "20003", "REAL-1")
        self.assertEqual((o["state"], o["pay_type"], o["total_fen"], o["paid_fen"]),
                         (2, "monthcard", 500, 500))
        self.assertIsNone(o["out_empty_plot"])
        self.assertEqual(self.plots("20003"), 40)  # no count sent: the park's stays
        # the same record again is a repeat, not a conflict
        r = self.call_top("neworder/updateorder", exit_data)
        self.assertEqual((r["state"], r["errmsg"]), (1, "订单已结算"))
        # reported as what it was: 4.1 shows the pay_type as sent; 4.3 not paid electronically
        r = self.call_top("neworder/queryorders", {"park_id": "20003", "order_id": "REAL-1"})
        self.assertEqual(r["state"], 1, r)
        self.assertEqual([(x["order_id"], x["pay_type"], x["money"]) for x in r["data"]],
                         [("REAL-1", "monthcard", "5.00")])
        r = self.call_top("neworder/queryOrderState", {"park_id": "20003", "order_id": "REAL-1",
                                                       "car_number": "京R00001"})
        self.assertEqual(r["state"], 1, r)
        self.assertEqual(r["data"][0]["pay_state"], 0)
        self.assertNotIn("pay_type", r["data"][0])

    def test_unknown_pay_types_kept_as_sent(self):
        # a number, and 32 characters of CJK (96 bytes): stored whole, re-sends still repeats
        for order_id, pay_type, stored in (("REAL-2", 7, "7"), ("REAL-3", "现金" * 16, "现金" * 16)):
            with self.subTest(pay_type=pay_type):
                self.a.entry("20003", order_id, "京R00002", in_time=self.now - 600)
                r = self.a.exit("20003", order_id, "京R00002", pay_type=pay_type, total=3,
                                out_time=self.now - 30)
                self.assertEqual((r["state"], r["errmsg"]), (1, "上传成功"))
                o = order_row(self.srv, "20003", order_id)
                self.assertEqual((o["state"], o["pay_type"], o["paid_fen"]), (2, stored, 300))
                r = self.a.exit("20003", order_id, "京R00002", pay_type=pay_type, total=3,
                                out_time=self.now - 30)
                self.assertEqual((r["state"], r["errmsg"]), (1, "订单已结算"))
        # still strict: money, and a pay_type longer than the row allows
        self.a.entry("20003", "REAL-4", "京R00004", in_time=self.now - 600)
        r = self.a.exit("20003", "REAL-4", "京R00004", pay_type="x" * 33)
        self.assertEqual(r["errmsg"], "字段 pay_type 超长(最多32个字符)")
        r = self.a.exit("20003", "REAL-4", "京R00004", pay_type="card", total="5.001")
        self.assertEqual(r["state"], 0)
        self.assertIn("total", r["errmsg"])
        self.assertEqual(order_row(self.srv, "20003", "REAL-4")["state"], 0)

    # --- U+0000 ----------------------------------------------------------------------------
    def test_nul_refused_in_every_text_of_every_interface(self):
        with self.unchanged_db(what="NUL-bearing texts"):
            checked = 0
            for row in self.rows:
                base = base_data(row)
                for field in row["fields"]:
                    if field["type"] not in ("string", "any", "object", "array"):
                        continue
                    name = field["name"]
                    with self.subTest(service=row["id"], field=name):
                        value = {"k": "a\x00"} if field["type"] == "object" else (
                            ["a\x00"] if field["type"] == "array" else "\x00" + "x1")
                        r = self.post_top(row, dict(base, **{name: value}))
                        self.assertEqual(r["state"], 0, r)
                        self.assertEqual(r["errmsg"], "字段含有NUL字符(\\u0000): data." + name)
                        checked += 1
            self.assertGreater(checked, 100)
            # outside data too: a member of the envelope
            r = self.srv.post("/unionapi/neworder/addorder",
                              '{"union_id":%d,"token":"t\\u0000","sign":"%s","data":{}}'
                              % (A_UID, "0" * 32))
            self.assertEqual(r.json["errmsg"], "字段含有NUL字符(\\u0000): token")

    def test_nul_holes_closed(self):
        with self.unchanged_db(what="the NUL holes"):
            pc = {"union_id": A_UID, "park_id": "20003", "service_name": "park_check"}
            # a NUL before a blacklisted plate no longer hides it (fast path: flat view)
            r = self.a.call("neworder/uploadData", dict(pc, car_number="\x00京BL001"))
            self.assertEqual((r["state"], r["errmsg"]),
                             (0, "字段含有NUL字符(\\u0000): data.car_number"))
            self.assertNotIn("data", r)
            # the same with a nested member that makes the server build a tree (jansson path)
            r = self.a.call("neworder/uploadData", dict(pc, car_number="\x00京BL001", x={"y": [1]}))
            self.assertEqual(r["errmsg"], "字段含有NUL字符(\\u0000): data.car_number")
            # "\u0000" alone is not an empty plate stored
            r = self.a.entry("20003", "N-1", "\x00")
            self.assertEqual(r["errmsg"], "字段含有NUL字符(\\u0000): data.car_number")
            # U6\0X is not U6: nothing stored, so U6 is a new order and U6\0Y is refused
            r = self.a.entry("20003", "U6\x00X", "京N00001")
            self.assertEqual(r["errmsg"], "字段含有NUL字符(\\u0000): data.order_id")
        self.assertIsNone(order_row(self.srv, "20003", "U6"))
        self.assertEqual(self.a.entry("20003", "U6", "京N00001")["errmsg"], "上传成功")
        r = self.a.entry("20003", "U6\x00Y", "京N00002")
        self.assertEqual(r["errmsg"], "字段含有NUL字符(\\u0000): data.order_id")
        self.assertEqual(order_row(self.srv, "20003", "U6")["car_number"], "京N00001")
        # a double-encoded body carries the escape one level down: refused the same
        inner = harness.envelope(dict(pc, car_number="\x00京BL001"), A_KEY, union_id=A_UID)
        import json
        r = self.srv.post("/unionapi/neworder/uploadData", json.dumps(inner))
        self.assertEqual(r.json["errmsg"], "字段含有NUL字符(\\u0000): data.car_number")

    # --- integer ranges ----------------------------------------------------------------
    def test_negative_licence_colour_out_of_range(self):
        pc = {"park_id": "20003", "service_name": "park_check", "car_number": "京A12345"}
        for colour in (-1, "-1"):
            r = self.a.call("neworder/uploadData", dict(pc, license_color=colour))
            self.assertEqual((r["state"], r["errmsg"]),
                             (0, "字段 license_color 超出范围(可选 0|1|2|3|4|5|6|7)"))
        r = self.a.entry("20003", "C-1", "京C00001", in_time=123456789012345)
        self.assertEqual(r["errmsg"], "字段 in_time 超出范围(最多13位数字)")


if __name__ == "__main__":
    unittest.main()

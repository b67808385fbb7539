"""test_orders.py - spec 3.1 addorder, 3.2 updateorder, 3.8 queryescape end to end.

Every field of an entry and an exit is stored; (park_id, order_id) is the idempotency key: a
repeated entry answers 订单已存在 (state 1) and writes nothing, even when many copies arrive at
once; an exit may be re-sent until settled and a settled order never changes, so money is
counted once; a new entry of a car closes its stale open order at zero; escaped orders of a
plate come back from every park, in the 3.1 reply and from 3.8. Foreign and unknown parks,
wrong keys and bad fields are refused by name; refusals and repeats write nothing anywhere
in the database (harness.unchanged_db), not only in `orders`.
"""
import json
import threading
import time
import unittest

from harness import ServerTestCase
from recordkit import A_KEY, A_UID, B_KEY, B_UID, Vendor, db, members, order_row


class Orders(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = Vendor(cls.srv, A_UID, A_KEY).register("厂商A")
        cls.b = Vendor(cls.srv, B_UID, B_KEY).register("厂商B")
        for park in ("PA", "PA2"):
            assert cls.a.publish(park)["state"] == 1
        assert cls.b.publish("PB")["state"] == 1
        cls.now = int(time.time())

    def count_rows(self, where, args=()):
        with db(self.srv) as con:
            return con.execute("SELECT count(*) FROM orders WHERE " + where, args).fetchone()[0]

    # --- 3.1 ----------------------------------------------------------------------------
    def test_entry_stores_every_field(self):
        r = self.srv.call("neworder/addorder", {
            "car_number": "京GH0093", "in_time": self.now - 300, "order_id": "E-all",
            "empty_plot": 17, "park_id": "PA", "union_id": A_UID, "remark": "入场信息备注",
            "inpark_img": "https://s.bolink.club/image/ab.png", "car_cost_type": 2,
            "license_color": 4, "uid": "800191", "uname": "小王", "in_channel_id": "东门入口A1",
            "is_report": 1}, A_KEY)
        self.assertEqual(r.json, {"state": 1, "errmsg": "上传成功", "order_id": "E-all",
                                  "escapeOrder": []})
        self.assertEqual(members(r.text), ["state", "errmsg", "order_id", "escapeOrder"])
        o = order_row(self.srv, "PA", "E-all")
        self.assertEqual(
            (o["car_number"], o["in_time"], o["in_empty_plot"], o["in_remark"], o["inpark_img"],
             o["car_cost_type"], o["color"], o["uid"], o["uname"], o["in_channel_id"],
             o["in_is_report"], o["state"], o["union_id"], o["out_time"]),
            ("京GH0093", self.now - 300, 17, "入场信息备注", "https://s.bolink.club/image/ab.png",
             2, 4, "800191", "小王", "东门入口A1", 1, 0, str(A_UID), 0))
        with db(self.srv) as con:
            self.assertEqual(con.execute("SELECT empty_plot FROM park_details "
                                         "WHERE park_id = 'PA'").fetchone()[0], 17)

    def test_reference_example_entry(self):
        # 3.1's example (its vendor and park replaced by ours); plate normalised, ids as sent
        r = self.a.call("neworder/addorder", {"car_number": "京onlyou", "in_time": 1484369702,
                                              "order_id": 109010, "empty_plot": 20,
                                              "park_id": "PA", "remark": "入场信息备注"})
        self.assertEqual((r["state"], r["order_id"]), (1, "109010"))
        self.assertEqual(order_row(self.srv, "PA", "109010")["car_number"], "京ONLYOU")

    def test_repeated_entry_writes_nothing(self):
        self.assertEqual(self.a.entry("PA", "E-dup", "京D00001")["errmsg"], "上传成功")
        # other fields, the park's free spaces among them: nothing anywhere may change
        with self.unchanged_db(what="a repeated 3.1 entry"):
            r = self.a.entry("PA", "E-dup", "京D99999", in_time=self.now - 5, remark="changed",
                             empty_plot=3)
            self.assertEqual((r["state"], r["errmsg"], r["order_id"]),
                             (1, "订单已存在", "E-dup"))
            r = self.a.entry("PA", "E-dup", "京D00001", empty_plot=20)  # the same copy again
            self.assertEqual(r["errmsg"], "订单已存在")
        # the same order_id in another park is another order
        self.assertEqual(self.a.entry("PA2", "E-dup", "京D00001")["errmsg"], "上传成功")

    def test_concurrent_copies_store_one_order(self):
        results = []

        def send():
            results.append(self.a.entry("PA", "E-race", "京R00001", in_time=self.now - 30))

        threads = [threading.Thread(target=send) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        msgs = sorted(r["errmsg"] for r in results)
        self.assertEqual(msgs, ["上传成功"] + ["订单已存在"] * 15)
        self.assertTrue(all(r["state"] == 1 for r in results))
        self.assertEqual(self.count_rows("park_id = 'PA' AND order_id = 'E-race'"), 1)
        # and copies arriving after the first one is stored write nothing at all
        with self.unchanged_db(what="late copies of a 3.1 entry"):
            threads = [threading.Thread(target=send) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(sorted(r["errmsg"] for r in results)[1:], ["订单已存在"] * 23)

    def test_new_entry_closes_stale_order_at_zero(self):
        t0 = self.now - 3600
        self.a.entry("PA", "S-1", "京S00001", in_time=t0)
        self.a.entry("PA", "S-c", "京S00001", in_time=t0, license_color=1)  # another car
        self.a.entry("PA2", "S-p", "京S00001", in_time=t0)  # another park
        self.assertEqual(self.a.entry("PA", "S-2", "京S00001", in_time=t0 + 600)["state"], 1)
        old, new = order_row(self.srv, "PA", "S-1"), order_row(self.srv, "PA", "S-2")
        self.assertEqual((old["state"], old["out_time"], old["total_fen"], old["paid_fen"]),
                         (4, t0 + 600, 0, 0))
        self.assertEqual(new["state"], 0)
        self.assertEqual(order_row(self.srv, "PA", "S-c")["state"], 0)
        self.assertEqual(order_row(self.srv, "PA2", "S-p")["state"], 0)
        # an older entry arriving late is itself stale: stored closed, the newer stays open
        self.assertEqual(self.a.entry("PA", "S-0", "京S00001", in_time=t0 - 600)["state"], 1)
        late = order_row(self.srv, "PA", "S-0")
        self.assertEqual((late["state"], late["out_time"]), (4, t0 + 600))
        self.assertEqual(order_row(self.srv, "PA", "S-2")["state"], 0)
        # a late exit of the zero-closed stay still records its money
        r = self.a.exit("PA", "S-1", "京S00001", out_time=t0 + 300, total="2.00")
        self.assertEqual(r["state"], 1)
        self.assertEqual(order_row(self.srv, "PA", "S-1")["paid_fen"], 200)

    # --- 3.2 ----------------------------------------------------------------------------
    def test_exit_stores_every_field_and_settles_once(self):
        self.a.entry("PA", "X-1", "京X00001", in_time=self.now - 7200)
        data = {"park_id": "PA", "car_number": "京X00001", "in_time": self.now - 7200,
                "out_time": self.now - 60, "pay_type": "cash", "empty_plot": 30, "total": "12.5",
                "order_id": "X-1", "remark": {"is_prepay": "1", "pay_channel": "1"},
                "outpark_img": "https://s.bolink.club/image/out.png", "out_channel_id": "A1",
                "license_color": 0, "reduce_amount": "1", "derate_duration": 15,
                "freereasons": "军警车免费", "work_station_uuid": "qwrrw23534", "out_uid": "800191",
                "out_uname": "小王", "is_report": 0}
        r = self.a.call("neworder/updateorder", data)
        self.assertEqual(r, {"state": 1, "errmsg": "上传成功", "order_id": "X-1"})
        o = order_row(self.srv, "PA", "X-1")
        self.assertEqual(
            (o["state"], o["out_time"], o["pay_type"], o["total_fen"], o["paid_fen"],
             o["out_empty_plot"], o["outpark_img"], o["out_channel_id"], o["reduce_fen"],
             o["derate_duration"], o["freereasons"], o["work_station_uuid"], o["out_uid"],
             o["out_uname"], o["out_is_report"], o["pay_channel"], o["exit_in_time"]),
            (2, self.now - 60, "cash", 1250, 1250, 30, "https://s.bolink.club/image/out.png",
             "A1", 100, 15, "军警车免费", "qwrrw23534", "800191", "小王", 0, 1, self.now - 7200))
        self.assertEqual(json.loads(o["out_remark"]), {"is_prepay": "1", "pay_channel": "1"})
        # the same exit again: nothing changes, the money is counted once; a different
        # settlement of a settled order is refused
        with self.unchanged_db(what="a repeated 3.2 exit of a settled order"):
            again = self.a.call("neworder/updateorder", dict(data, empty_plot=2))
            self.assertEqual((again["state"], again["errmsg"]), (1, "订单已结算"))
            other = self.a.call("neworder/updateorder", dict(data, total="99.00"))
            self.assertEqual(other["state"], 0)
            self.assertTrue(other["errmsg"].startswith("订单已结算"), other)
        with db(self.srv) as con:
            paid = con.execute("SELECT sum(paid_fen) FROM orders WHERE park_id = 'PA' "
                               "AND order_id = 'X-1'").fetchone()[0]
        self.assertEqual(paid, 1250)
        self.assertEqual(dict(order_row(self.srv, "PA", "X-1"))["total_fen"], 1250)

    def test_exit_resent_until_settled(self):
        self.a.entry("PA", "X-w", "京W00001", in_time=self.now - 600)
        r = self.a.exit("PA", "X-w", "京W00001", pay_type="wallet", total="3.00")
        self.assertEqual((r["state"], r["errmsg"]), (2, "支付中"))
        self.assertEqual(order_row(self.srv, "PA", "X-w")["state"], 1)
        r = self.a.exit("PA", "X-w", "京W00001", pay_type="wallet", total="3.00")
        self.assertEqual(r["state"], 2)
        out = int(time.time())
        r = self.a.exit("PA", "X-w", "京W00001", out_time=out, pay_type="cash", total="3.00")
        self.assertEqual((r["state"], r["errmsg"]), (1, "上传成功"))
        o = order_row(self.srv, "PA", "X-w")
        self.assertEqual((o["state"], o["pay_type"], o["paid_fen"]), (2, "cash", 300))
        with self.unchanged_db(what="another settlement of a settled order"):
            r = self.a.exit("PA", "X-w", "京W00001", out_time=out, pay_type="wallet",
                            total="3.00")
            self.assertEqual(r["state"], 0)
        self.assertEqual(order_row(self.srv, "PA", "X-w")["paid_fen"], 300)

    def test_exit_rules(self):
        self.a.entry("PA", "X-r", "京Y00001", in_time=self.now - 600)
        with self.unchanged_db(what="refused 3.2 exits"):
            r = self.a.exit("PA", "X-r", "京Y00001", pay_type="sweepcode")
            self.assertEqual((r["state"], r["errmsg"]),
                             (0, "字段 auth_code 缺失(pay_type 为 sweepcode 时必填)"))
            r = self.a.exit("PA", "X-r", "京Y00001", out_time=self.now - 700)
            self.assertEqual((r["state"], r["errmsg"]), (0, "出场时间早于入场时间"))
            r = self.a.exit("PA", "X-r", "京Y00001", in_time=self.now - 10,
                            out_time=self.now - 20)
            self.assertTrue(r["errmsg"].startswith("出场时间早于入场时间"), r)
            # pay_type is an open enum (an unknown one settles, test_real_clients), but bounded
            self.assertEqual(self.a.exit("PA", "X-r", "京Y00001", pay_type="c" * 33)["errmsg"],
                             "字段 pay_type 超长(最多32个字符)")
        self.assertEqual(order_row(self.srv, "PA", "X-r")["state"], 0)
        # nothing due settles whatever the way of paying
        r = self.a.exit("PA", "X-r", "京Y00001", pay_type="wallet", total=0)
        self.assertEqual(r["state"], 1)
        self.assertEqual(order_row(self.srv, "PA", "X-r")["state"], 2)
        r = self.a.exit("PA", "X-s", "京Y00002", pay_type="sweepcode", auth_code="1347895751")
        self.assertEqual(r["state"], 2)

    def test_exit_without_entry_creates_the_order(self):
        r = self.a.exit("PA", "X-none", "京Z00001", in_time=self.now - 900, total="4")
        self.assertEqual((r["state"], r["errmsg"]), (1, "上传成功"))
        o = order_row(self.srv, "PA", "X-none")
        self.assertEqual((o["entry_missing"], o["in_time"], o["state"], o["paid_fen"]),
                         (1, self.now - 900, 2, 400))
        # the entry arriving afterwards is a repeat
        with self.unchanged_db(what="an entry after its exit"):
            self.assertEqual(self.a.entry("PA", "X-none", "京Z00001", empty_plot=1)["errmsg"],
                             "订单已存在")

    # --- escapes: 3.1 reply and 3.8 ----------------------------------------------------
    def test_escapes_follow_the_plate_across_parks(self):
        plate = "贵A88888"
        self.a.entry("PA", "ESC-1", plate, in_time=self.now - 3 * 3600 - 300)
        r = self.a.exit("PA", "ESC-1", plate, out_time=self.now - 3 * 3600 + 60,
                        pay_type="escape", total="12.0", outpark_img="https://img/out.png")
        self.assertEqual(r["state"], 1)
        # vendor B's park sees A's escaped order at the entry of the same plate
        r = self.b.entry("PB", "B-1", plate)
        self.assertEqual(r["state"], 1)
        self.assertEqual(len(r["escapeOrder"]), 1)
        e = r["escapeOrder"][0]
        self.assertEqual(list(e), ["parkName", "unionId", "orderId", "inParkPic", "outParkPic",
                                   "parkId", "carNumber", "inTime", "outTime", "money",
                                   "duration"])
        self.assertEqual(e, {"parkName": "停车场PA", "unionId": A_UID, "orderId": "ESC-1",
                             "inParkPic": "", "outParkPic": "https://img/out.png",
                             "parkId": "PA", "carNumber": plate,
                             "inTime": self.now - 3 * 3600 - 300,
                             "outTime": self.now - 3 * 3600 + 60, "money": "12.00",
                             "duration": "0天0小时6分钟"})
        # and 3.8 answers from the same data (envelope B)
        q = self.b.call_b("neworder/queryescape", {"park_id": "PB", "car_number": plate,
                                                   "time_temp": str(self.now)})
        self.assertEqual((q["state"], q["errmsg"]), (1, "查询成功"))
        self.assertEqual(q["escapeOrder"], [e])
        q = self.b.call_b("neworder/queryescape", {"park_id": "PB", "car_number": "京N00000",
                                                   "time_temp": self.now})
        self.assertEqual(q, {"state": 1, "errmsg": "查询成功", "escapeOrder": []})
        # a repeated entry carries the list too, and writes nothing
        with self.unchanged_db(what="a repeated entry with escapes"):
            self.assertEqual(self.b.entry("PB", "B-1", plate, empty_plot=2)["escapeOrder"], [e])

    # --- refusals ---------------------------------------------------------------------
    def test_refusals_write_nothing(self):
        good = {"car_number": "京F00001", "in_time": self.now - 60, "order_id": "F-1",
                "empty_plot": 20, "park_id": "PA"}
        with self.unchanged_db(what="refused 3.1 and 3.2 uploads"):
            cases = [
                (self.b, dict(good), "无权操作该车场"),
                (self.a, dict(good, park_id="P-unknown"), "云平台车场不存在"),
                (self.a, {k: v for k, v in good.items() if k != "car_number"},
                 "字段 car_number 缺失"),
                (self.a, dict(good, order_id="o" * 65), "字段 order_id 超长(最多64个字符)"),
                (self.a, dict(good, in_time="yesterday"), "字段 in_time 类型错误"),
                (self.a, dict(good, in_time=(self.now - 60) * 1000), "字段 in_time 时间无效"),
                (self.a, dict(good, in_time=self.now + 3 * 86400), "字段 in_time 时间无效"),
                (self.a, dict(good, license_color=9), "字段 license_color 取值无效"),
                (self.a, dict(good, car_number="  "), "字段 car_number 取值无效"),
                (self.a, dict(good, car_number="京" * 17), "字段 car_number 超长"),
                (self.a, dict(good, empty_plot=-1), "字段 empty_plot 取值无效"),
            ]
            for vendor, data, msg in cases:
                r = vendor.call("neworder/addorder", data)
                self.assertEqual(r["state"], 0, (data, r))
                self.assertTrue(r["errmsg"].startswith(msg), (msg, r))
            r = self.a.call("neworder/addorder", good, key="F" * 16)
            self.assertEqual((r["state"], r["errmsg"]), (0, "签名错误"))
            exit_good = {"park_id": "PA", "car_number": "京F00001", "out_time": self.now,
                         "pay_type": "cash", "empty_plot": 1, "total": "1.00",
                         "order_id": "F-1"}
            for bad, msg in ((dict(exit_good, total="1.234"), "字段 total 金额无效"),
                             (dict(exit_good, total="-1"), "字段 total 金额无效"),
                             (dict(exit_good, total=None), "字段 total 缺失"),
                             (dict(exit_good, reduce_amount="x"), "字段 reduce_amount 类型错误")):
                bad = {k: v for k, v in bad.items() if v is not None}
                r = self.a.call("neworder/updateorder", bad)
                self.assertTrue(r["state"] == 0 and r["errmsg"].startswith(msg), (bad, r))
            r = self.b.call("neworder/updateorder", exit_good)
            self.assertEqual(r["errmsg"], "无权操作该车场")
        self.assertEqual(self.count_rows("order_id = 'F-1'"), 0)

    def test_every_interface_checks_key_and_owner(self):
        now = self.now
        calls = [  # (path, data without park_id, envelope B)
            ("newpark/updatepark", {"type": 1, "empty_plot": 1, "rand": "1.5"}, False),
            ("getqrcodecloud", {"type": 2, "channel_id": "A1"}, False),
            ("newpark/setUp", {"nolience_config": {"is_verify": 1}}, False),
            ("neworder/addorder", {"car_number": "京K00001", "in_time": now - 9,
                                   "order_id": "K-1", "empty_plot": 1}, False),
            ("neworder/updateorder", {"car_number": "京K00001", "out_time": now,
                                      "pay_type": "cash", "empty_plot": 1, "total": "1",
                                      "order_id": "K-1"}, False),
            ("neworder/queryescape", {"car_number": "京K00001", "time_temp": now}, True),
            ("neworder/queryorders", {"order_id": "K-1"}, False),
            ("neworder/queryOrderState", {"order_id": "K-1", "car_number": "京K00001"}, False),
        ] + [("neworder/uploadData", dict({"service_name": name}, **extra), False)
             for name, extra in (
                 ("correct_business", {"car_number": "京K1", "order_id": "K-1", "type": "1"}),
                 ("parking_business_count", {}), ("parking_business_list", {}),
                 ("get_screen_str", {}),
                 ("get_vip_vehicle_list", {"vip_type": "1", "pageNum": "1", "pageSize": "1"}))]
        with self.unchanged_db(what="calls with a wrong key, a foreign or an unknown park"):
            for path, data, top in calls:
                for park, vendor, key, msg in (("PA", self.a, "0" * 16, "签名错误"),
                                               ("PA", self.b, None, "无权操作该车场"),
                                               ("P-none", self.a, None, "云平台车场不存在")):
                    body = dict(data, park_id=park)
                    if top:
                        r = self.srv.call(path, body, key or vendor.key,
                                          union_id=vendor.uid).json
                    else:
                        r = vendor.call(path, body, key=key)
                    self.assertEqual((r["state"], r["errmsg"]), (0, msg), (path, park, r))
        self.assertEqual(self.count_rows("order_id = 'K-1'"), 0)

    def test_oversized_body(self):
        data = {"car_number": "京F00002", "in_time": self.now - 60, "order_id": "F-big",
                "empty_plot": 20, "park_id": "PA", "union_id": A_UID, "remark": "x" * 70000}
        with self.unchanged_db(what="an oversized body and an oversized field"):
            r = self.srv.call("neworder/addorder", data, A_KEY)
            self.assertEqual((r.status, r.json["state"]), (413, 0))
            r = self.a.call("neworder/addorder", dict(data, remark="备" * 256))
            self.assertEqual(r["errmsg"], "字段 remark 超长(最多255个字符)")
        self.assertEqual(self.count_rows("order_id = 'F-big'"), 0)


if __name__ == "__main__":
    unittest.main()

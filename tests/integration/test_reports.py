"""test_reports.py - spec 10.1, 10.2, 10.3, 10.5, 10.6 (neworder/uploadData) end to end, and
the admin routes behind them (/admin/v1/cards, /admin/v1/screen-texts).

10.1 corrects plates, times and fees (times and fees only once the car has left) and keeps
the old values; 10.2/10.3 count and list the stays the platform believes open; 10.5 builds
the lane text from the order and the operator's text; 10.6 pages through the park's monthly
cards of one kind.
"""
import time
import unittest
from urllib.parse import quote

from harness import ServerTestCase
from recordkit import A_KEY, A_UID, B_KEY, B_UID, Vendor, db, order_row


class Reports(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = Vendor(cls.srv, A_UID, A_KEY).register("厂商A")
        cls.b = Vendor(cls.srv, B_UID, B_KEY).register("厂商B")
        for park in ("RA", "RC", "RS", "RV"):
            assert cls.a.publish(park)["state"] == 1
        assert cls.b.publish("RB")["state"] == 1
        cls.now = int(time.time())

    # --- 10.1 ---------------------------------------------------------------------------
    def correct(self, **fields):
        base = {"car_number": "京C00001", "order_id": "C-1", "type": "1"}
        base.update(fields)
        return self.a.upload("RC", "correct_business", **base)

    def test_correct_business(self):
        t0 = self.now - 7200
        self.a.entry("RC", "C-1", "京C0000I", in_time=t0)
        r = self.correct(car_number="京C00001", license_color=1)
        self.assertEqual(r, {"state": 1, "errmsg": "上传成功"})
        o = order_row(self.srv, "RC", "C-1")
        self.assertEqual((o["car_number"], o["color"]), ("京C00001", 1))
        r = self.correct(type="2", out_time=t0 + 100, total="3.00")
        self.assertEqual((r["state"], r["errmsg"]), (0, "车辆在场，不能更正时间和金额"))
        self.assertEqual(self.a.exit("RC", "C-1", "京C00001", out_time=t0 + 3600,
                                     total="5.00")["state"], 1)
        r = self.correct(type="3", car_number="京C00002", in_time=t0 + 60,
                         out_time=t0 + 1800, total=2.5, park_business_type="12",
                         leave_business_type="24")
        self.assertEqual(r["state"], 1)
        o = order_row(self.srv, "RC", "C-1")
        self.assertEqual((o["car_number"], o["in_time"], o["out_time"], o["total_fen"],
                          o["paid_fen"], o["park_business_type"], o["leave_business_type"]),
                         ("京C00002", t0 + 60, t0 + 1800, 250, 250, "12", "24"))
        with db(self.srv) as con:
            audit = con.execute("SELECT * FROM order_corrections WHERE order_id = 'C-1' "
                                "ORDER BY id").fetchall()
        self.assertEqual([(x["type"], x["old_car_number"], x["new_car_number"]) for x in audit],
                         [(1, "京C0000I", "京C00001"), (3, "京C00001", "京C00002")])
        self.assertEqual((audit[1]["old_total_fen"], audit[1]["new_total_fen"]), (500, 250))

    def test_correct_business_rules(self):
        self.assertEqual(self.correct(order_id="C-none")["errmsg"], "订单不存在")
        self.a.entry("RC", "C-2", "京C00003", in_time=self.now - 600)
        self.a.exit("RC", "C-2", "京C00003", out_time=self.now - 10)
        r = self.correct(order_id="C-2", type="2", in_time=self.now - 5)
        self.assertEqual((r["state"], r["errmsg"]), (0, "出场时间早于入场时间"))
        r = self.correct(order_id="C-2", type="2")
        self.assertEqual(r["state"], 0)
        self.assertEqual(self.correct(type="4")["errmsg"], "字段 type 取值无效(可选 1|2|3)")
        self.assertEqual(self.correct(leave_business_type="29")["state"], 0)
        r = self.b.upload("RC", "correct_business", car_number="京C1", order_id="C-2", type="1")
        self.assertEqual(r["errmsg"], "无权操作该车场")
        self.assertEqual(order_row(self.srv, "RC", "C-2")["in_time"], self.now - 600)

    # --- 10.2 / 10.3 --------------------------------------------------------------------
    def test_open_stays(self):
        t = self.now - 3000
        self.a.entry("RA", "A-1", "京A00001", in_time=t, car_cost_type=2, license_color=1)
        self.a.entry("RA", "A-2", "京A00002", in_time=t + 10)
        self.a.entry("RA", "A-3", "京A00003", in_time=t + 20, car_cost_type=6)
        self.a.entry("RA", "A-4", "京A00004", in_time=t + 30)
        self.a.exit("RA", "A-4", "京A00004")                          # left
        self.a.exit("RA", "A-3", "京A00003", pay_type="wallet")       # paying: still inside
        self.a.entry("RA", "A-5", "京A00002", in_time=t + 40)         # closes A-2 at zero
        r = self.a.upload("RA", "parking_business_count")
        self.assertEqual(r, {"state": 1, "errmsg": "查询成功",
                             "data": {"parking_business_count": 3}})
        r = self.a.upload("RA", "parking_business_list")
        self.assertEqual(r["data"], {"ext_order_id_list": ["A-1", "A-3", "A-5"]})
        r = self.a.upload("RA", "parking_business_list", detail_type="2")
        rows = r["data"]["order_detail_list"]
        self.assertEqual([x["order_id"] for x in rows], ["A-1", "A-3", "A-5"])
        first = rows[0]
        self.assertEqual(first, {"order_id": "A-1",
                                 "in_time": time.strftime("%Y-%m-%d %H:%M:%S",
                                                          time.gmtime(t + 8 * 3600)),
                                 "car_number": "京A00001", "license_color": "1",
                                 "park_order_type": "12"})
        self.assertEqual([x["park_order_type"] for x in rows], ["12", "15", "11"])
        self.assertEqual(self.a.upload("RA", "parking_business_list", detail_type="3")["state"], 0)
        self.assertEqual(self.b.upload("RA", "parking_business_count")["errmsg"], "无权操作该车场")
        self.assertEqual(self.b.upload("RB", "parking_business_count")["data"],
                         {"parking_business_count": 0})

    # --- 10.5 ---------------------------------------------------------------------------
    def screen(self, **fields):
        r = self.a.upload("RS", "get_screen_str", **fields)
        self.assertEqual((r["state"], r["errmsg"]), (1, "成功"), r)
        return r["screen_str"]

    def test_screen_text(self):
        self.assertEqual(self.screen(), "欢迎光临")
        self.assertEqual(self.screen(type="3"), "一路顺风")
        t = self.now - 3 * 3600 - 300
        self.a.entry("RS", "S-1", "京S12345", in_time=t)
        self.assertEqual(self.screen(type="1", order_id="S-1"), "京S12345 欢迎光临")
        self.a.exit("RS", "S-1", "京S12345", out_time=t + 3900, total="8.00")
        self.assertEqual(self.screen(type="3", order_id="S-1", device_no="2313",
                                     message_uuid="u-1"),
                         "京S12345 停车0天1小时5分钟 缴费8.00元 一路顺风")
        self.assertEqual(self.screen(type="3", order_id="unknown"), "一路顺风")
        # the operator's text replaces the greeting
        r = self.srv.admin("PUT", "/screen-texts/RS", {"entry": "新年快乐", "exit": "欢迎再来"})
        self.assertEqual((r.status, r.json["entry"], r.json["leaving"], r.json["exit"]),
                         (200, "新年快乐", "", "欢迎再来"))
        self.assertEqual(self.screen(), "新年快乐")
        self.assertEqual(self.screen(type="2"), "请准备出场")
        self.assertEqual(self.screen(type="3", order_id="S-1"),
                         "京S12345 停车0天1小时5分钟 缴费8.00元 欢迎再来")
        self.assertEqual(self.srv.admin("GET", "/screen-texts/RS").json["entry"], "新年快乐")
        self.assertEqual(self.srv.admin("DELETE", "/screen-texts/RS").status, 200)
        self.assertEqual(self.srv.admin("DELETE", "/screen-texts/RS").status, 404)
        self.assertEqual(self.screen(), "欢迎光临")
        self.assertEqual(self.srv.admin("PUT", "/screen-texts/nope", {"entry": "x"}).status, 404)
        self.assertEqual(self.srv.admin("PUT", "/screen-texts/RS", {"entyr": "x"}).status, 400)
        self.assertEqual(self.srv.admin("PUT", "/screen-texts/RS", {"entry": 5}).status, 400)

    # --- 10.6 and /admin/v1/cards -------------------------------------------------------
    def card(self, **fields):
        body = {"park_id": "RV", "plate": "京V00001", "valid_from": "2024-01-01",
                "valid_until": "2024-12-31"}
        body.update(fields)
        return self.srv.admin("POST", "/cards", body)

    def test_vip_list(self):
        for i in range(5):
            r = self.card(plate="京V%05d" % i, color=i % 2, region_id="R1" if i == 0 else None,
                          rule_id_sub="T9" if i == 1 else None)
            self.assertEqual(r.status, 201, r)
        self.assertEqual(self.card(plate="京V90000", type=2, company_id="C1",
                                   company_name="某公司").status, 201)
        r = self.a.upload("RV", "get_vip_vehicle_list", vip_type="1", pageNum="1", pageSize="2")
        self.assertEqual((r["state"], r["totalCount"], r["totalPages"], r["pageNum"]),
                         (1, 5, 3, 1))
        self.assertEqual(r["list"][0], {"vipId": r["list"][0]["vipId"], "parkpotId": "RV",
                                        "plateNo": "京V00000", "plateType": "0",
                                        "vipStartDateStr": "2024-01-01",
                                        "vipEndDateStr": "2024-12-31", "isRegion": "1",
                                        "regionId": "R1", "isDayparking": "0"})
        self.assertEqual((r["list"][1]["isDayparking"], r["list"][1]["ruleIdSub"],
                          r["list"][1]["plateType"]), ("1", "T9", "1"))
        r = self.a.upload("RV", "get_vip_vehicle_list", vip_type="1", pageNum="3", pageSize="2")
        self.assertEqual([x["plateNo"] for x in r["list"]], ["京V00004"])
        r = self.a.upload("RV", "get_vip_vehicle_list", vip_type="2", pageNum="1", pageSize="10")
        self.assertEqual(r["totalCount"], 1)
        self.assertEqual((r["list"][0]["comanyId"], r["list"][0]["comanyName"]), ("C1", "某公司"))
        r = self.a.upload("RA", "get_vip_vehicle_list", vip_type="1", pageNum="1", pageSize="10")
        self.assertEqual((r["totalCount"], r["list"]), (0, []))
        r = self.a.upload("RV", "get_vip_vehicle_list", vip_type="5", pageNum="1", pageSize="1")
        self.assertEqual(r["state"], 0)
        r = self.a.upload("RV", "get_vip_vehicle_list", vip_type="1", pageNum="0", pageSize="1")
        self.assertEqual(r["errmsg"], "字段 pageNum 取值无效(应为 1 到 10000000)")
        self.assertEqual(self.b.upload("RV", "get_vip_vehicle_list", vip_type="1", pageNum="1",
                                       pageSize="1")["errmsg"], "无权操作该车场")

    def test_cards_admin(self):
        r = self.card(plate=" 京w00001 ", color=4, type=3)
        self.assertEqual(r.status, 201, r)
        c = r.json
        self.assertEqual((c["plate"], c["color"], c["type"], c["valid_from"]),
                         ("京W00001", 4, 3, "2024-01-01"))
        self.assertEqual(self.srv.admin("GET", "/cards/%d" % c["id"]).json["plate"], "京W00001")
        r = self.srv.admin("PATCH", "/cards/%d" % c["id"], {"valid_until": "2025-06-30"})
        self.assertEqual((r.status, r.json["valid_until"], r.json["type"]), (200, "2025-06-30", 3))
        lst = self.srv.admin("GET", "/cards?park_id=RV&plate=" + quote("京W00001")).json
        self.assertEqual((lst["total"], lst["items"][0]["id"]), (1, c["id"]))
        self.assertEqual(self.card(plate="京W00001", color=4).status, 409)
        for bad in ({"valid_from": "2024-02-30"}, {"valid_until": "2023-12-31"},
                    {"type": 5}, {"color": 8}, {"plate": ""}, {"park_id": "nope"},
                    {"valid_from": None}, {"brand": "x"}):
            body = {"park_id": "RV", "plate": "京W00002", "valid_from": "2024-01-01",
                    "valid_until": "2024-12-31"}
            body.update(bad)
            body = {k: v for k, v in body.items() if v is not None}
            r = self.srv.admin("POST", "/cards", body)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertIn("error", r.json)
        self.assertEqual(self.srv.admin("DELETE", "/cards/%d" % c["id"]).status, 200)
        self.assertEqual(self.srv.admin("GET", "/cards/%d" % c["id"]).status, 404)
        self.assertEqual(self.srv.admin("GET", "/cards", token="wrong").status, 401)


if __name__ == "__main__":
    unittest.main()

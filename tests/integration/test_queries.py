"""test_queries.py - spec 4.1 queryorders and 4.3 queryOrderState end to end.

4.1: selection by park + order (any day), by plate, by park; only the caller's parks; the
default period (today, China Standard Time, until now); at most one natural month, refused
beyond; end before start refused; paging (20 by default, 100 at most, count over all pages);
the reply's fields. 4.3: the e-payment state of an order, unknown orders, the trade_no form.

"Today" is the server's: it runs with --clock-start at noon CST two days ago, so what it
answers never depends on the time of day the test runs at (right after midnight CST "today"
would hold no time at all).
"""
import time
import unittest

from harness import ServerTestCase
from recordkit import (A_KEY, A_UID, B_KEY, B_UID, Vendor, cst_day_start, cst_month_after,
                       members)


def clock_start():
    """Noon CST two days before today's (which is within 12 h of now): a fixed time of day,
    on a day that is certainly not today, 36 to 60 hours before the system clock."""
    return cst_day_start(int(time.time())) + 12 * 3600 - 2 * 86400


class Queries(ServerTestCase):
    server_args = ("--clock-start", str(clock_start()))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = Vendor(cls.srv, A_UID, A_KEY).register("厂商A")
        cls.b = Vendor(cls.srv, B_UID, B_KEY).register("厂商B")
        assert cls.a.publish("QA")["state"] == 1
        assert cls.a.publish("QA2")["state"] == 1
        assert cls.b.publish("QB")["state"] == 1
        # the server's clock reads at least this now, and less than 12 h more: same CST day
        cls.now = now = int(cls.server_args[1])
        cls.today = cst_day_start(now)
        # 45 stays today at QA, one of them paid, one yesterday, one 40 days ago
        for i in range(45):
            assert cls.a.entry("QA", "T%02d" % i, "京Q%05d" % i, in_time=cls.today + i)["state"] == 1
        assert cls.a.exit("QA", "T00", "京Q00000", out_time=now, total="1.50")["state"] == 1
        cls.yesterday = cst_day_start(now) - 3 * 3600
        assert cls.a.entry("QA", "Y1", "京Q00001", in_time=cls.yesterday)["state"] == 1
        cls.old = now - 40 * 86400
        assert cls.a.entry("QA", "OLD", "京Q00001", in_time=cls.old)["state"] == 1
        assert cls.a.entry("QA2", "T2", "京Q00001", in_time=cls.today + 100)["state"] == 1
        assert cls.b.entry("QB", "TB", "京Q00001", in_time=cls.today + 200)["state"] == 1

    def q(self, vendor=None, **data):
        return (vendor or self.a).call("neworder/queryorders", data)

    # --- 4.1 ----------------------------------------------------------------------------
    def test_one_order_any_day(self):
        r = self.q(park_id="QA", order_id="Y1")
        self.assertEqual((r["state"], r["errmsg"], r["count"], r["page"]), (1, "查询成功", 1, 1))
        self.assertEqual(r["data"][0]["in_time"], self.yesterday)
        r = self.q(park_id="QA", order_id="T00")
        row = r["data"][0]
        for key in ("car_number", "in_time", "out_time", "money", "union_name", "park_name",
                    "trade_no"):
            self.assertIn(key, row)
        self.assertEqual((row["car_number"], row["money"], row["union_name"], row["park_name"],
                          row["trade_no"], row["out_time"] > 0),
                         ("京Q00000", "1.50", "厂商A", "停车场QA", "", True))
        # an explicit period applies even to one order
        r = self.q(park_id="QA", order_id="Y1", start_time=self.today)
        self.assertEqual(r["count"], 0)

    def test_reply_shape(self):
        reply = self.srv.call("neworder/queryorders",
                              {"union_id": A_UID, "park_id": "QA", "order_id": "T01"}, A_KEY)
        self.assertEqual(members(reply.text), ["state", "errmsg", "count", "page", "data"])

    def test_by_plate_default_period_is_today(self):
        r = self.q(car_number="京Q00001")
        self.assertEqual(r["count"], 2)  # T01 at QA and T2 at QA2; not yesterday's, not B's
        self.assertEqual({(d["park_name"], d["in_time"]) for d in r["data"]},
                         {("停车场QA", self.today + 1), ("停车场QA2", self.today + 100)})
        r = self.q(car_number="京Q00001", start_time=self.yesterday - 1)
        self.assertEqual(r["count"], 3)
        r = self.q(order_id="T2")  # an order id alone looks through all of the vendor's parks
        self.assertEqual(r["count"], 1)

    def test_only_own_parks(self):
        r = self.q(vendor=self.b, car_number="京Q00001")
        self.assertEqual(r["count"], 1)
        self.assertEqual(r["data"][0]["park_name"], "停车场QB")
        r = self.q(vendor=self.b, park_id="QA")
        self.assertEqual((r["state"], r["errmsg"]), (0, "无权操作该车场"))

    def test_period_rules(self):
        r = self.q(park_id="QA", start_time=self.old - 10, end_time=self.now)
        self.assertEqual(r["state"], 0)
        self.assertTrue(r["errmsg"].startswith("查询时间段不能超过一个自然月"), r)
        start = self.old - 10
        r = self.q(park_id="QA", start_time=start, end_time=cst_month_after(start))
        self.assertEqual((r["state"], r["count"]), (1, 1))  # exactly one month: fine
        r = self.q(park_id="QA", start_time=start, end_time=cst_month_after(start) + 1)
        self.assertEqual(r["state"], 0)
        r = self.q(park_id="QA", start_time=self.now, end_time=self.now - 10)
        self.assertEqual((r["state"], r["errmsg"]), (0, "end_time 不能早于 start_time"))
        r = self.q(park_id="QA", start_time="soon")
        self.assertEqual(r["errmsg"], "字段 start_time 类型错误")
        r = self.q()
        self.assertEqual((r["state"], r["errmsg"]), (0, "park_id、order_id、car_number 至少填写一项"))

    def test_the_servers_clock_is_the_one_injected(self):
        # now on the system clock is more than a day after the server's: out of bounds there
        r = self.a.entry("QA", "LATE", "京Q09999", in_time=int(time.time()))
        self.assertEqual(r["state"], 0, r)
        self.assertTrue(r["errmsg"].startswith("字段 in_time 时间无效"), r)
        # and the default period is the server's today, though the system's is another day
        self.assertNotEqual(cst_day_start(int(time.time())), self.today)
        self.assertEqual(self.q(park_id="QA")["count"], 45)

    def test_paging(self):
        r = self.q(park_id="QA")
        self.assertEqual((r["count"], r["page"], len(r["data"])), (45, 1, 20))
        self.assertEqual([d["car_number"] for d in r["data"][:2]], ["京Q00000", "京Q00001"])
        r = self.q(park_id="QA", page=3)
        self.assertEqual((r["count"], r["page"], len(r["data"])), (45, 3, 5))
        self.assertEqual(r["data"][-1]["car_number"], "京Q00044")
        r = self.q(park_id="QA", page="2", size="40")
        self.assertEqual(len(r["data"]), 5)
        self.assertEqual(len(self.q(park_id="QA", size=100)["data"]), 45)
        self.assertEqual(self.q(park_id="QA", page=9)["data"], [])
        r = self.q(park_id="QA", size=101)
        self.assertEqual((r["state"], r["errmsg"]), (0, "字段 size 取值无效(应为 1 到 100)"))
        r = self.q(park_id="QA", page=0)
        self.assertEqual(r["state"], 0)

    # --- 4.3 ----------------------------------------------------------------------------
    def state(self, **data):
        return self.a.call("neworder/queryOrderState", dict({"park_id": "QA"}, **data))

    def test_order_state(self):
        r = self.state(order_id="T00", car_number="京Q00000")
        self.assertEqual((r["state"], r["errmsg"]), (1, "查询成功"))
        row = r["data"][0]
        self.assertEqual((row["pay_state"], row["order_id"], row["car_number"]),
                         (0, "T00", "京Q00000"))  # paid in cash, not electronically
        for key in ("pay_channel", "in_time", "out_time"):
            self.assertIn(key, row)
        self.assertEqual(self.a.exit("QA", "T05", "京Q00005", pay_type="wallet", total="2",
                                     out_time=self.now, remark={"pay_channel": 1})["state"], 2)
        row = self.state(order_id="T05", car_number="京Q00005")["data"][0]
        self.assertEqual((row["pay_state"], row["pay_type"], row["pay_scene"],
                          row["pay_channel"]), (2, "wallet", "outpay", 1))

    def test_order_state_rules(self):
        r = self.state(order_id="nope", car_number="京Q00000")
        self.assertEqual((r["state"], r["errmsg"]), (0, "订单不存在"))
        self.assertEqual(self.state(order_id="T00")["errmsg"],
                         "字段 car_number 缺失(未指定 query_type 时必填)")
        self.assertEqual(self.state(car_number="京Q00000")["errmsg"],
                         "字段 order_id 缺失(未指定 query_type 时必填)")
        self.assertEqual(self.state(query_type=1)["errmsg"],
                         "字段 trade_no 缺失(指定 query_type 时必填)")
        r = self.state(query_type=2, trade_no="20170921336435142")
        self.assertEqual((r["state"], r["errmsg"]), (0, "支付记录不存在"))
        r = self.b.call("neworder/queryOrderState", {"park_id": "QA", "order_id": "T00",
                                                      "car_number": "京Q00000"})
        self.assertEqual(r["errmsg"], "无权操作该车场")


if __name__ == "__main__":
    unittest.main()

"""test_replay.py - the opt-in per-vendor replay window (issue 11, hole 9).

The reference has no nonce or time window, so an old signed 2.2 "disable the park" re-sent
later suspends the park again. With the vendor's replay_window_s set, the copy is refused
with a clear errmsg and nothing is written; a new rand passes; with the window off (the
default) the copy is accepted as before. A time field outside the window (3.3 time_temp)
is refused too; interfaces without such fields (park_check) are not affected.
Env: PARKLINKD, PARKLINK.
"""
import json
import random
import time

from harness import ServerTestCase, envelope

UID, KEY, PARK = 400004, "REPLAYKEY0123456", "40004"
REPLAYED = "重复的请求(疑似重放): 请更换rand或时间戳后重新签名"
STALE = "请求时间戳超出允许范围(疑似重放)"


class Replay(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        r = cls.srv.admin("POST", "/vendors", {"union_id": UID, "ukey": KEY, "name": "v"})
        assert r.status == 201, r
        r = cls.srv.admin("POST", "/parks", {"park_id": PARK, "union_id": UID, "name": "p"})
        assert r.status == 201, r

    def window(self, seconds):
        r = self.srv.admin("PATCH", "/vendors/%d" % UID, {"replay_window_s": seconds})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["replay_window_s"], seconds)

    def suspended(self):
        return self.srv.admin("GET", "/parks/" + PARK).json["suspended"]

    def resume(self):
        r = self.srv.admin("PATCH", "/parks/" + PARK, {"suspended": False})
        self.assertEqual(r.status, 200, r)

    def send(self, path, body):
        r = self.srv.post("/unionapi/" + path, body)
        self.assertEqual(r.status, 200, r)
        return r.json

    def disable_body(self):
        data = {"park_id": PARK, "type": 2, "union_id": UID, "rand": str(random.random())}
        return envelope(data, KEY)

    def test_replayed_suspension_refused_when_on_accepted_when_off(self):
        self.window(600)
        body = self.disable_body()
        self.assertEqual(self.send("newpark/updatepark", body)["state"], 1)
        self.assertTrue(self.suspended())
        self.resume()
        # the same bytes again: refused, and the park stays in service
        r = self.send("newpark/updatepark", body)
        self.assertEqual((r["state"], r["errmsg"]), (0, REPLAYED))
        self.assertFalse(self.suspended())
        # a fresh request (new rand) is a new request
        self.assertEqual(self.send("newpark/updatepark", self.disable_body())["state"], 1)
        self.assertTrue(self.suspended())
        self.resume()
        # window off (the default): the reference's behaviour, the copy suspends again
        self.window(0)
        self.assertEqual(self.send("newpark/updatepark", body)["state"], 1)
        self.assertTrue(self.suspended())
        self.resume()

    def test_time_field_outside_the_window(self):
        self.window(60)
        data = {"park_id": PARK, "amount": 1, "trade_no": "1234567890123456",
                "notify_url": "http://127.0.0.1:1/n", "time_temp": str(int(time.time() - 3600) * 1000)}
        r = self.send("paymonthcard", envelope(data, KEY, union_id=UID))
        self.assertEqual((r["state"], r["errmsg"]), (0, STALE))
        data["time_temp"] = str(int(time.time() + 3600) * 1000)
        r = self.send("paymonthcard", envelope(data, KEY, union_id=UID))
        self.assertEqual((r["state"], r["errmsg"]), (0, STALE))
        # park_check carries no such field: the same request twice is answered twice
        pc = {"union_id": UID, "park_id": PARK, "service_name": "park_check",
              "car_number": "京A12345"}
        body = envelope(pc, KEY)
        for _ in range(2):
            self.assertEqual(self.send("neworder/uploadData", body)["state"], 1)
        self.window(0)
        data["time_temp"] = str(int(time.time() - 3600) * 1000)
        r = self.send("paymonthcard", envelope(data, KEY, union_id=UID))
        self.assertNotEqual(r["errmsg"], STALE)

    def test_admin_field(self):
        r = self.srv.admin("GET", "/vendors/%d" % UID)
        self.assertIn("replay_window_s", r.json)
        for bad in (-1, 86401, "60", 1.5):
            r = self.srv.admin("PATCH", "/vendors/%d" % UID, {"replay_window_s": bad})
            self.assertEqual(r.status, 400, (bad, r))
            self.assertIn("replay_window_s", r.json["error"] if isinstance(r.json, dict) else "")

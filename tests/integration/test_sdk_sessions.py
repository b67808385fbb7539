"""test_sdk_sessions.py - SDK HTTP-mode sessions under hostile use (issue 11, holes 4 and 5).

One vendor logging in past its quota ends only its own oldest sessions: another vendor still
logs in and receives its messages, and the evicted token is refused saying why. Rotating a
vendor's key, or deleting a park, ends the sessions opened under it: the old token is
refused, a poll held with it is answered "revoked" instead of receiving the next message,
and a new login with the new key works.
Env: PARKLINKD, PARKLINK.
"""
import json
import time
import unittest

from callbackkit import KEY, PARK, UID, Background, Terminal, command, seed, wait_until
from harness import Server

QUOTA = 4
UID_B, KEY_B, PARK_B = 300003, "B0B0B0B0B0B0B0B0", "30003"
EVICTED = "error:token无效(会话数超过本厂商或车场的配额, 已被更新的登录替换)"
REVOKED = "error:token无效(厂商密钥已更换或厂商/车场已删除)"


class SdkSessions(unittest.TestCase):

    def setUp(self):
        # a long hold: a poll answered early was ended by the server, not by its timer
        self.srv = Server(extra_args=["--retry-scale", "0.01", "--longpoll-hold", "20000",
                                      "--threads", "2",
                                      "--sdk-sessions-per-vendor", str(QUOTA)]).start()
        seed(self.srv, "", parks=(PARK, "20004"))
        seed(self.srv, "", uid=UID_B, key=KEY_B, parks=(PARK_B,))
        for uid in (UID, UID_B):
            r = self.srv.admin("PUT", "/vendors/%d/delivery" % uid, {"mode": "poll"})
            self.assertEqual(r.status, 200, r)

    def tearDown(self):
        try:
            self.srv.stop()
        finally:
            self.srv.cleanup()

    def download(self, token, timeout=30):
        return self.srv.post("/bpd/download.do", json.dumps({"token": token}), timeout=timeout)

    def lift(self, park, liftrod):
        return command(self.srv, "operate_liftrod", {"park_id": park, "channel_id": "A1",
                                                     "operate": 0, "liftrod_id": liftrod})["id"]

    def test_one_vendor_cannot_lock_out_another(self):
        flood = []
        for i in range(QUOTA * 3):  # distinct local_ids: no login replaces another
            t = Terminal(self.srv, local_id="flood-%d" % i)
            t.login()
            flood.append(t)
        b = Terminal(self.srv, park=PARK_B, uid=UID_B, key=KEY_B, local_id="b-lane")
        self.assertEqual(b.login()["state"], 1)
        mid = self.lift(PARK_B, "LB")
        r = b.download()
        self.assertEqual((r.json["state"], r.json.get("message_id")), (1, mid), r.json)
        self.assertEqual(r.json["data"]["liftrod_id"], "LB")
        # A's oldest ones ended, with the reason; its newest QUOTA still serve
        for t in flood[:-QUOTA]:
            self.assertEqual(self.download(t.token).json, {"state": 0, "errmsg": EVICTED})
            r = self.srv.post("/bpd/upload.do", t.envelope("outpark", {"state": 1}))
            self.assertEqual(r.json["errmsg"], EVICTED)
        mid = self.lift(PARK, "LA")
        r = flood[-1].download()
        self.assertEqual((r.json["state"], r.json.get("message_id")), (1, mid), r.json)

    def test_rotated_key_revokes(self):
        old = Terminal(self.srv, local_id="lane-old")
        old.login()
        held = Terminal(self.srv, local_id="lane-held")
        held.login()
        poll = Background(held.download)
        time.sleep(0.5)  # the poll is held now
        r = self.srv.admin("PATCH", "/vendors/%d" % UID, {"ukey": "NEWKEY0123456789"})
        self.assertEqual(r.status, 200, r)
        # the held poll is answered "revoked" (it would otherwise wait 20 s or get the message)
        r = poll.result(timeout=15)
        self.assertEqual(r.json, {"state": 0, "errmsg": REVOKED})
        self.lift(PARK, "L1")
        self.assertEqual(self.download(old.token).json, {"state": 0, "errmsg": REVOKED})
        r = self.srv.post("/bpd/upload.do", old.envelope("outpark", {"state": 1}))
        self.assertEqual(r.json["errmsg"], REVOKED)
        # the old key no longer logs in; the new one does and receives the message
        r = self.srv.post("/bpd/upload.do", old.envelope(
            "login", {"union_id": str(UID), "park_id": PARK}, token=False))
        self.assertEqual(r.json["errmsg"], "error:签名错误")
        new = Terminal(self.srv, key="NEWKEY0123456789", local_id="lane-new")
        self.assertEqual(new.login()["state"], 1)
        r = new.download()
        self.assertEqual(r.json.get("service_name"), "operate_liftrod", r.json)
        self.assertEqual(r.json["data"]["liftrod_id"], "L1")

    def test_deleted_park_ends_its_sessions(self):
        gone = Terminal(self.srv, park="20004", local_id="lane-gone")
        gone.login()
        stays = Terminal(self.srv, park=PARK, local_id="lane-stays")
        stays.login()
        poll = Background(gone.download)
        time.sleep(0.5)
        r = self.srv.admin("DELETE", "/parks/20004")
        self.assertIn(r.status, (200, 204), r)
        self.assertEqual(poll.result(timeout=15).json, {"state": 0, "errmsg": REVOKED})
        self.assertEqual(self.download(gone.token).json, {"state": 0, "errmsg": REVOKED})
        # the vendor's session at its other park is untouched
        mid = self.lift(PARK, "L2")
        r = stays.download()
        self.assertEqual(r.json.get("message_id"), mid, r.json)

    def test_unchanged_key_keeps_sessions(self):
        t = Terminal(self.srv, local_id="lane-keep")
        t.login()
        r = self.srv.admin("PATCH", "/vendors/%d" % UID, {"name": "renamed", "ukey": KEY})
        self.assertEqual(r.status, 200, r)
        mid = self.lift(PARK, "L3")
        r = t.download()
        self.assertEqual(r.json.get("message_id"), mid, r.json)


if __name__ == "__main__":
    unittest.main()

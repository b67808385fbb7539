"""test_park_check.py - 10.4 park_check end to end: admin API seeds, vendor API asks.

Every admission rule of DESIGN decision 6 through the real server: open park, city
blacklist (validity window, colour-specific and any-colour entries), members-only parks
(city-wide and per-park members), shared reservations (active, not started, expired,
cancelled) and share_status, suspended parks (99), reason_msg overrides, the ownership
check (foreign and unknown parks answer state 0), an admin change visible to the very next
check, and data surviving a restart. Checks, refusals and refused admin changes write
nothing (harness.unchanged_db).
"""
import json
import signal
import time
import unittest

from harness import Server, unchanged_db

A_UID, A_KEY = 200002, "EA2D90FEEF1E9F8E"
B_UID, B_KEY = 200003, "0123456789ABCDEF"
OPEN, MEMBERS, SUSPENDED, CUSTOM, FOREIGN = "20003", "20004", "20005", "20006", "30001"


def created(r):
    assert r.status in (200, 201), r
    return r.json


class ParkCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(threads=2).start()
        cls.now = int(time.time())
        srv = cls.srv
        created(srv.admin("POST", "/vendors", {"union_id": A_UID, "ukey": A_KEY, "name": "A"}))
        created(srv.admin("POST", "/vendors", {"union_id": B_UID, "ukey": B_KEY, "name": "B"}))
        for park_id, uid, extra in (
                (OPEN, A_UID, {"policy": "open"}),
                (MEMBERS, A_UID, {"policy": "members_only"}),
                (SUSPENDED, A_UID, {"policy": "open", "suspended": True}),
                (CUSTOM, A_UID, {"policy": "members_only",
                                 "reason_msg": {"1": "本场仅限月卡车", "2": "黑名单车辆\"禁入\"",
                                                "99": "暂停"}}),
                (FOREIGN, B_UID, {"policy": "open"})):
            body = {"park_id": park_id, "union_id": uid, "name": "park " + park_id,
                    "total_plot": 100, "empty_plot": 10}
            body.update(extra)
            created(srv.admin("POST", "/parks", body))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.srv.stop()
        finally:
            cls.srv.cleanup()

    # --- helpers ---------------------------------------------------------------------
    def check(self, plate, park=OPEN, color=None, uid=A_UID, key=A_KEY, srv=None):
        data = {"union_id": uid, "park_id": park, "service_name": "park_check",
                "car_number": plate}
        if color is not None:
            data["license_color"] = color
        r = (srv or self.srv).call("neworder/uploadData", data, key)
        self.assertEqual(r.status, 200, r)
        return r

    def decision(self, plate, park=OPEN, color=None, srv=None):
        r = self.check(plate, park, color, srv=srv)
        self.assertEqual(r.json["state"], 1, r)
        self.assertEqual(r.json["errmsg"], "ok", r)
        d = json.loads(r.text, object_pairs_hook=list)[2][1]
        self.assertEqual([k for k, _ in d], ["status", "reason", "reason_msg", "share_status"])
        for _, v in d:
            self.assertIsInstance(v, str)
        return dict(d)

    def assert_pass(self, plate, park=OPEN, color=None, share="0", srv=None):
        d = self.decision(plate, park, color, srv=srv)
        self.assertEqual(d, {"status": "1", "reason": "0", "reason_msg": "",
                             "share_status": share}, (plate, park, color))

    def assert_refused(self, plate, reason, park=OPEN, color=None, share="0", srv=None):
        d = self.decision(plate, park, color, srv=srv)
        self.assertEqual((d["status"], d["reason"], d["share_status"]), ("0", reason, share),
                         (plate, park, color, d))
        self.assertTrue(d["reason_msg"], d)
        return d

    def admin(self, method, path, body=None):
        r = self.srv.admin(method, path, body)
        self.assertIn(r.status, (200, 201), r)
        return r.json

    # --- rules -----------------------------------------------------------------------
    def test_open_park_passes(self):
        with unchanged_db(self.srv, what="park_check (a read)"):
            self.assert_pass("京HP00G6")
            self.assert_pass("京HP00G6", color=0)
            self.assert_pass("京HP00G6", color="3")  # digit strings are accepted for integers

    def test_blacklist(self):
        self.admin("POST", "/blacklist", {"plate": "京A10001", "color": 0, "reason": "逃费"})
        d = self.assert_refused("京A10001", "2")
        self.assertNotEqual(d["reason_msg"], "")
        self.assert_refused("京A10001", "2", color=0)
        # the default colour is blue (0): omitting license_color is the same car
        self.assert_refused("京A10001", "2", park=MEMBERS)
        # plate comparison ignores ASCII case and surrounding spaces
        self.assert_refused("京a10001", "2")

    def test_blacklist_validity_window(self):
        self.admin("POST", "/blacklist", {"plate": "京A10002", "valid_from": self.now - 7200,
                                          "valid_until": self.now - 3600})
        self.assert_pass("京A10002")  # expired
        self.admin("POST", "/blacklist", {"plate": "京A10003", "valid_from": self.now + 3600})
        self.assert_pass("京A10003")  # not yet valid
        self.admin("POST", "/blacklist", {"plate": "京A10004", "valid_from": self.now - 60,
                                          "valid_until": self.now + 3600})
        self.assert_refused("京A10004", "2")

    def test_blacklist_colours(self):
        self.admin("POST", "/blacklist", {"plate": "京A10005", "color": 1})
        self.assert_pass("京A10005", color=0)
        self.assert_pass("京A10005")
        self.assert_refused("京A10005", "2", color=1)
        self.admin("POST", "/blacklist", {"plate": "京A10006", "color": -1})
        for color in (None, 0, 1, 2, 7):
            self.assert_refused("京A10006", "2", color=color)

    def test_members_only(self):
        self.assert_refused("京M00001", "1", park=MEMBERS)
        # city-wide member passes everywhere
        self.admin("POST", "/members", {"plate": "京M00002", "color": 0, "park_id": None})
        self.assert_pass("京M00002", park=MEMBERS)
        # per-park member passes at that park only
        self.admin("POST", "/members", {"plate": "京M00003", "color": 0, "park_id": MEMBERS})
        self.assert_pass("京M00003", park=MEMBERS)
        self.assert_refused("京M00003", "1", park=CUSTOM)
        # a member of another park is not a member here
        self.admin("POST", "/members", {"plate": "京M00004", "color": 0, "park_id": OPEN})
        self.assert_refused("京M00004", "1", park=MEMBERS)
        # membership is per colour
        self.assert_refused("京M00002", "1", park=MEMBERS, color=1)
        # an expired membership does not count
        self.admin("POST", "/members", {"plate": "京M00005", "color": 0, "park_id": None,
                                        "valid_until": self.now - 10})
        self.assert_refused("京M00005", "1", park=MEMBERS)
        # members-only parks do not affect open parks
        self.assert_pass("京M00001", park=OPEN)

    def test_blacklist_beats_membership(self):
        self.admin("POST", "/members", {"plate": "京M00006", "color": 0, "park_id": None})
        self.admin("POST", "/blacklist", {"plate": "京M00006", "color": 0})
        self.assert_refused("京M00006", "2", park=MEMBERS)

    def test_reservations(self):
        res = {"color": 0, "park_id": MEMBERS, "start": self.now - 60, "end": self.now + 3600}
        self.admin("POST", "/reservations", dict(res, plate="京R00001"))
        self.assert_pass("京R00001", park=MEMBERS, share="1")
        # share_status is about that park only
        self.assert_refused("京R00001", "1", park=CUSTOM)
        # reservation at an open park: passes, and share_status says so
        self.admin("POST", "/reservations", dict(res, plate="京R00002", park_id=OPEN))
        self.assert_pass("京R00002", park=OPEN, share="1")
        # not yet started, expired, cancelled: no entry at a members-only park
        self.admin("POST", "/reservations", dict(res, plate="京R00003", start=self.now + 600,
                                                 end=self.now + 3600))
        self.assert_refused("京R00003", "1", park=MEMBERS)
        self.admin("POST", "/reservations", dict(res, plate="京R00004", start=self.now - 7200,
                                                 end=self.now - 1))
        self.assert_refused("京R00004", "1", park=MEMBERS)
        self.admin("POST", "/reservations", dict(res, plate="京R00005", state="cancelled"))
        self.assert_refused("京R00005", "1", park=MEMBERS)

    def test_suspended_park(self):
        with unchanged_db(self.srv, what="park_check at a suspended park"):
            self.assert_refused("京S00001", "99", park=SUSPENDED)

    def test_reason_msg_override(self):
        d = self.assert_refused("京C00001", "1", park=CUSTOM)
        self.assertEqual(d["reason_msg"], "本场仅限月卡车")
        self.admin("POST", "/blacklist", {"plate": "京C00002", "color": 0})
        d = self.assert_refused("京C00002", "2", park=CUSTOM)
        self.assertEqual(d["reason_msg"], '黑名单车辆"禁入"')  # escaped on the wire, intact
        # default texts elsewhere
        d = self.assert_refused("京C00002", "2", park=OPEN)
        self.assertNotEqual(d["reason_msg"], '黑名单车辆"禁入"')

    def test_foreign_park(self):
        with unchanged_db(self.srv, what="park_check at foreign parks"):
            self.foreign_park()

    def foreign_park(self):
        r = self.check("京HP00G6", park=FOREIGN)
        self.assertEqual(r.json["state"], 0, r)
        self.assertNotIn("data", r.json)
        self.assertEqual(r.json["errmsg"], "无权操作该车场")
        # the owner may ask
        r = self.check("京HP00G6", park=FOREIGN, uid=B_UID, key=B_KEY)
        self.assertEqual(r.json["state"], 1, r)
        # and vendor B may not ask about A's parks
        r = self.check("京HP00G6", park=OPEN, uid=B_UID, key=B_KEY)
        self.assertEqual(r.json["state"], 0, r)

    def test_unknown_park(self):
        with unchanged_db(self.srv, what="park_check at an unknown park"):
            r = self.check("京HP00G6", park="99999")
            self.assertEqual(r.json, {"state": 0, "errmsg": "云平台车场不存在"})
            r = self.check("京HP00G6", key=B_KEY)
            self.assertEqual(r.json, {"state": 0, "errmsg": "签名错误"})

    def test_refused_admin_changes_write_nothing(self):
        refused = [
            ("POST", "/blacklist", {"plate": "", "color": 0}, 400, "plate"),
            ("POST", "/blacklist", {"plate": "京A20001", "color": 9}, 400, "color"),
            ("POST", "/blacklist", {"entries": [{"plate": "京A20002"}, {"plate": ""}]}, 400,
             "entries[1].plate"),
            ("POST", "/members", {"plate": "京A20003", "park_id": "nope"}, 400, "nope"),
            ("POST", "/reservations", {"plate": "京A20004", "color": 0, "park_id": OPEN,
                                       "start": self.now, "end": self.now - 1}, 400, "end"),
            ("POST", "/vendors", {"union_id": A_UID, "ukey": "FFFFFFFFFFFFFFFF"}, 409,
             "exists"),
            ("POST", "/parks", {"park_id": OPEN, "union_id": B_UID}, 409, "exists"),
            ("PATCH", "/parks/" + OPEN, {"total_plot": "many"}, 400, "total_plot"),
            ("PATCH", "/parks/nope", {"suspended": True}, 404, "nope"),
            ("DELETE", "/blacklist/999999", None, 404, "999999"),
        ]
        with unchanged_db(self.srv, what="refused admin changes"):
            for method, path, body, status, needle in refused:
                r = self.srv.admin(method, path, body)
                self.assertEqual(r.status, status, (method, path, r))
                self.assertIn(needle, r.json["error"], (method, path, r))
            r = self.srv.admin("POST", "/blacklist", {"plate": "京A20005"}, token="wrong")
            self.assertEqual(r.status, 401, r)
        self.assert_pass("京A20002")  # the good entry of the refused bulk load is not kept

    def test_admin_change_visible_to_next_check(self):
        self.assert_pass("京N00001")
        entry = self.admin("POST", "/blacklist", {"plate": "京N00001", "color": 0})
        self.assert_refused("京N00001", "2")
        self.admin("DELETE", "/blacklist/%d" % entry["id"])
        self.assert_pass("京N00001")
        # park policy changes apply at once too
        self.admin("PATCH", "/parks/" + OPEN, {"suspended": True})
        try:
            self.assert_refused("京N00001", "99", park=OPEN)
        finally:
            self.admin("PATCH", "/parks/" + OPEN, {"suspended": False})
        self.assert_pass("京N00001")


class Restart(unittest.TestCase):
    def survives(self, stop):
        """Seed through the admin API, stop the server with stop(srv), start it again on the
        same database: it decides exactly as before."""
        srv = Server()
        try:
            srv.start()
            created(srv.admin("POST", "/vendors", {"union_id": A_UID, "ukey": A_KEY}))
            created(srv.admin("POST", "/parks", {"park_id": MEMBERS, "union_id": A_UID,
                                                 "policy": "members_only"}))
            gone = created(srv.admin("POST", "/blacklist", {"plate": "京K00004", "color": 0}))
            created(srv.admin("POST", "/blacklist", {"plate": "京K00001", "color": 0}))
            created(srv.admin("POST", "/members", {"plate": "京K00002", "park_id": MEMBERS}))
            self.assertEqual(srv.admin("DELETE", "/blacklist/%d" % gone["id"]).status, 200)
            stop(srv)
            again = Server(db_dir=srv.dir)
            again.start()
            try:
                t = ParkCheck("test_open_park_passes")
                t.srv = again
                t.assert_refused("京K00001", "2", park=MEMBERS)
                t.assert_pass("京K00002", park=MEMBERS)
                t.assert_refused("京K00003", "1", park=MEMBERS)
                t.assert_refused("京K00004", "1", park=MEMBERS)  # unlisted: only not a member
            finally:
                self.assertEqual(again.stop(), 0)
        finally:
            srv.cleanup()

    def test_restart_keeps_data(self):
        self.survives(lambda srv: self.assertEqual(srv.stop(signal.SIGTERM), 0))

    def test_admin_changes_answered_survive_kill9(self):
        """An admin change is answered only once committed: killed without a chance to
        flush anything, the server comes back deciding exactly as before."""
        self.survives(lambda srv: srv.kill9())


if __name__ == "__main__":
    unittest.main()

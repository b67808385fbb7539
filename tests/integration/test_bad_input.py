"""test_bad_input.py - every interface parklinkd serves, driven by the service table, refuses
bad input the same way and writes nothing.

Every row of `parklink services --json` is accounted for (a new row is covered, or fails
here, without touching this file). Rows the vendor pipeline serves -- under /unionapi/ or
on an absolute path (3.11 /zld/openservice/uploaddurationinfo, 8.7
/yitong/facekey/personRecord) -- get a wrong key, each required field missing, a wrong type,
an oversized value and (park-scoped rows) another vendor's park; each must answer HTTP 200,
state 0 and an errmsg that names the problem (the field, where there is one). The SDK's HTTP
mode (/bpd/upload.do, /bpd/download.do) gets the same kinds of bad input in its own envelope.
The absolute-path rows are also called well-formed. The browser links (2.4, 7) are not served,
rows the platform sends (P->V) and rows without an address cannot be called. Around all of it
every row of every table of the database stays as it was.
"""
import json
import subprocess
import unittest

import harness
from callbackkit import Terminal

KEY_A, KEY_B = "EA2D90FEEF1E9F8E", "0123456789ABCDEF"
UID_A = 200002
PARK_A, PARK_B = "20003", "30003"
ABSOLUTE_ROWS = {"uploaddurationinfo": "/zld/openservice/uploaddurationinfo",
                 "person_record": "/yitong/facekey/personRecord"}


def services():
    out = subprocess.run([harness.PARKLINK, "services", "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def kind(row):
    """How parklinkd serves a row: pipeline, sdk-upload, sdk-download, link (a browser GET
    the reference's web pages answer, not served here), platform (P->V: parklinkd sends it),
    none (the reference gives no address); None for a row this file does not know how to
    treat (the test fails on it)."""
    if row["id"] == "bpd_upload":
        return "sdk-upload"
    if row["id"] == "bpd_download":
        return "sdk-download"
    if row["direction"] == "P->V":
        return "platform"
    if row["direction"] == "GET":
        return "link"
    if row["url_path"] == "":
        return "none"
    if row["direction"] == "V->P" and "SIGNED" in row["flags"] and row["envelope"] in ("A", "B", "C"):
        return "pipeline"
    return None


def base_value(row, field):
    name, ftype = field["name"], field["type"]
    if name == "union_id":
        return UID_A
    if name == "park_id":
        return PARK_A
    if name == "service_name":
        return row["service_name"]
    if field["allowed"]:
        first = field["allowed"][0]
        return int(first) if ftype == "integer" and first.lstrip("-").isdigit() else first
    return {"string": "x1", "integer": 1, "number": 1, "object": {}, "array": []}.get(ftype, "x1")


def base_data(row):
    return {f["name"]: base_value(row, f) for f in row["fields"] if f["required"]}


class BadInputEverywhere(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        for uid, key in (("200002", KEY_A), ("200003", KEY_B)):
            r = srv.admin("POST", "/vendors", {"union_id": uid, "ukey": key, "name": "v" + uid})
            assert r.status == 201, r
        for pid, uid in ((PARK_A, "200002"), (PARK_B, "200003")):
            r = srv.admin("POST", "/parks", {"park_id": pid, "union_id": uid, "name": "p" + pid})
            assert r.status == 201, r
        cls.rows = services()

    def rows_of(self, k):
        return [row for row in self.rows if kind(row) == k]

    def post(self, row, data, key=KEY_A):
        return self.srv.post(row["url_path"], harness.envelope(data, key, union_id=UID_A))

    def refused(self, row, reply, *needles, status=200):
        what = "%s (%s): %r" % (row["id"], row["section"], reply)
        self.assertEqual(reply.status, status, what)
        self.assertIsNotNone(reply.json, what)
        self.assertEqual(reply.json.get("state"), 0, what)
        for needle in needles:
            self.assertIn(needle, reply.json.get("errmsg", ""), what)

    def test_every_row_is_accounted_for(self):
        self.assertEqual(len(self.rows), 66)
        unknown = [row["id"] for row in self.rows if kind(row) is None]
        self.assertEqual(unknown, [])
        pipeline = {row["id"]: row["url_path"] for row in self.rows_of("pipeline")}
        for sid, path in ABSOLUTE_ROWS.items():
            self.assertEqual(pipeline.get(sid), path)
        # every row with an address and no other treatment goes through the pipeline sweep
        for row in self.rows:
            if row["url_path"] and kind(row) not in ("sdk-upload", "sdk-download", "link"):
                self.assertIn(row["id"], pipeline)

    def test_pipeline_rows_refuse_bad_input_and_write_nothing(self):
        rows = self.rows_of("pipeline")
        self.assertGreater(len(rows), 25)
        self.assertTrue(any(not row["url_path"].startswith("/unionapi/") for row in rows))
        checked = 0
        with self.unchanged_db(what="the bad-input sweep"):
            for row in rows:
                with self.subTest(service=row["id"]):
                    data = base_data(row)
                    self.refused(row, self.post(row, data, key=KEY_B), "签名错误")
                    for field in row["fields"]:
                        name = field["name"]
                        if name in ("union_id", "service_name"):
                            continue  # they choose the vendor and the route, tested elsewhere
                        if field["required"] and not field.get("absent_ok"):
                            missing = {k: v for k, v in data.items() if k != name}
                            self.refused(row, self.post(row, missing), name)
                        if field["type"] in ("string", "integer", "number"):
                            bad = dict(data, **{name: {"not": "a scalar"}})
                            self.refused(row, self.post(row, bad), name)
                        if (field["max_len"] and field["type"] == "string"
                                and not field["allowed"]):
                            long = dict(data, **{name: "9" * (field["max_len"] + 1)})
                            self.refused(row, self.post(row, long), name)
                        checked += 1
                    if "PARK_SCOPED" in row["flags"] and "park_id" in data:
                        foreign = dict(data, park_id=PARK_B)
                        self.refused(row, self.post(row, foreign), "无权操作该车场")
        self.assertGreater(checked, 100)

    def test_absolute_path_rows_answer_well_formed_calls(self):
        """A signed, valid call on each absolute path passes route, envelope, signature,
        schema and park ownership; parklinkd has no handler for them yet and says so."""
        with self.unchanged_db(what="calls without a handler"):
            for sid, path in ABSOLUTE_ROWS.items():
                row = next(r for r in self.rows if r["id"] == sid)
                r = self.post(row, base_data(row))
                self.assertEqual((r.status, r.json), (200, {"state": 0,
                                                            "errmsg": "接口暂未开放: " + sid}))
                # the path is absolute: under /unionapi/ it is no interface
                r = self.srv.post("/unionapi" + path,
                                  harness.envelope(base_data(row), KEY_A, union_id=UID_A))
                self.assertEqual(r.status, 404, r)
                self.assertEqual(self.srv.get(path).status, 405)

    def test_links_are_not_served(self):
        rows = self.rows_of("link")
        self.assertEqual(sorted(r["id"] for r in rows), ["getlicence", "gettoken"])
        for row in rows:
            for method in ("GET", "POST"):
                r = self.srv.request(method, row["url_path"])
                self.assertEqual((r.status, r.json["state"]), (404, 0), (row["id"], r))

    def test_sdk_upload_refuses_bad_input_and_writes_nothing(self):
        row = self.rows_of("sdk-upload")[0]
        term = Terminal(self.srv, park=PARK_A, uid=UID_A, key=KEY_A)
        login = {"union_id": str(UID_A), "park_id": PARK_A, "local_id": "lane-1"}

        def up(body):
            return self.srv.post(row["url_path"], body)

        with self.unchanged_db(what="bad /bpd/upload.do bodies"):
            wrong = Terminal(self.srv, park=PARK_A, uid=UID_A, key=KEY_B)
            self.refused(row, up(wrong.envelope("login", login, token=False)), "签名错误")
            self.refused(row, up(term.envelope("login", dict(login, park_id=PARK_B),
                                               token=False)), "车场不存在")
            self.refused(row, up(term.envelope("login", dict(login, union_id="999999"),
                                               token=False)), "厂商不存在")
            self.refused(row, up(term.envelope("login", {"union_id": str(UID_A)},
                                               token=False)), "park_id")
            self.refused(row, up(term.envelope("login", dict(login, local_id="9" * 197),
                                               token=False)), "local_id")
            self.refused(row, up('{"service_name":"login","sign":"00"}'), "data")
            self.refused(row, up('{"service_name":"login","data":"x","sign":"00"}'))
            self.refused(row, up('{"service_name":"login","data":[1],"sign":"00"}'))
            self.refused(row, up("not json"), "数据格式错误")
            text = json.dumps(login, separators=(",", ":"))
            body = '{"sign":"%s","data":%s}' % (harness.sign(text, KEY_A), text)
            self.refused(row, up(body), "service_name")
            term.login()  # a session lives in memory: nothing is written
            name = "outpark"
            ack = {"state": 1, "message_id": 1}
            self.refused(row, up(term.envelope(name, ack, token=False)), "token")
            for bad in ({}, 7, "9" * 33, ""):
                term.token, good = bad, term.token
                self.refused(row, up(term.envelope(name, ack)), "token")
                term.token = good
            wrong.token = term.token
            self.refused(row, up(wrong.envelope(name, {"state": 1, "message_id": 1})),
                         "签名错误")
            self.refused(row, up(term.envelope("in_park", {"order_id": "1"})), "in_park")
            r = up("{" + '"data":"%s"' % ("9" * 70000) + "}")
            self.assertEqual((r.status, r.json["state"]), (413, 0), r)

    def test_sdk_download_refuses_bad_input_and_writes_nothing(self):
        row = self.rows_of("sdk-download")[0]
        token = next(f for f in row["fields"] if f["name"] == "token")
        self.assertTrue(token["required"])
        with self.unchanged_db(what="bad /bpd/download.do bodies"):
            for body, needle in (("{}", "token"), ('{"token":{}}', "token"),
                                 ('{"token":7}', "token"),
                                 (json.dumps({"token": "9" * (token["max_len"] + 1)}), "token"),
                                 (json.dumps({"token": "9" * token["max_len"]}), "token无效"),
                                 ("[", "")):
                self.refused(row, self.srv.post(row["url_path"], body), needle)


if __name__ == "__main__":
    unittest.main()

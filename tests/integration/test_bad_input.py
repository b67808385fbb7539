"""test_bad_input.py - every signed vendor interface, driven by the service table, refuses
bad input the same way and writes nothing.

For each V->P row that parklinkd serves under /unionapi/ (from `parklink services --json`,
so a new row is covered without touching this file): a wrong key, each required field
missing, a wrong type, an oversized value, and (park-scoped rows) another vendor's park.
Each must answer HTTP 200, state 0 and an errmsg that names the problem (the field, where
there is one). Afterwards every table of the SQLite file holds exactly the rows it held
before the barrage.
"""
import json
import os
import sqlite3
import subprocess
import unittest

import harness

KEY_A, KEY_B = "EA2D90FEEF1E9F8E", "0123456789ABCDEF"


def services():
    out = subprocess.run([harness.PARKLINK, "services", "--json"], check=True,
                         capture_output=True, text=True).stdout
    rows = []
    for row in json.loads(out):
        if (row["direction"] == "V->P" and "SIGNED" in row["flags"]
                and row["url_path"].startswith("/unionapi/")):
            rows.append(row)
    return rows


def base_value(row, field):
    name, ftype = field["name"], field["type"]
    if name == "union_id":
        return 200002
    if name == "park_id":
        return "20003"
    if name == "service_name":
        return row["service_name"]
    if field["allowed"]:
        first = field["allowed"][0]
        return int(first) if ftype == "integer" and first.lstrip("-").isdigit() else first
    return {"string": "x1", "integer": 1, "number": 1, "object": {}, "array": []}.get(ftype, "x1")


def base_data(row):
    return {f["name"]: base_value(row, f) for f in row["fields"] if f["required"]}


def table_counts(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: con.execute('SELECT count(*) FROM "%s"' % n).fetchone()[0] for n in names}
    finally:
        con.close()


class BadInputEverywhere(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        for uid, key in (("200002", KEY_A), ("200003", KEY_B)):
            r = srv.admin("POST", "/vendors", {"union_id": uid, "ukey": key, "name": "v" + uid})
            assert r.status == 201, r
        for pid, uid in (("20003", "200002"), ("30003", "200003")):
            r = srv.admin("POST", "/parks", {"park_id": pid, "union_id": uid, "name": "p" + pid})
            assert r.status == 201, r
        cls.rows = services()

    def post(self, row, data, key=KEY_A):
        path = row["url_path"][len("/unionapi/"):]
        return self.srv.call(path, data, key, union_id=200002)

    def refused(self, row, reply, *needles):
        what = "%s (%s): %r" % (row["id"], row["section"], reply)
        self.assertEqual(reply.status, 200, what)
        self.assertIsNotNone(reply.json, what)
        self.assertEqual(reply.json.get("state"), 0, what)
        for needle in needles:
            self.assertIn(needle, reply.json.get("errmsg", ""), what)

    def test_all_bad_inputs_refused_and_nothing_written(self):
        self.assertGreater(len(self.rows), 25)
        before = table_counts(self.srv.db)
        checked = 0
        for row in self.rows:
            with self.subTest(service=row["id"]):
                data = base_data(row)
                # wrong key
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
                    if field["max_len"] and field["type"] == "string" and not field["allowed"]:
                        long = dict(data, **{name: "9" * (field["max_len"] + 1)})
                        self.refused(row, self.post(row, long), name)
                    checked += 1
                if "PARK_SCOPED" in row["flags"] and "park_id" in data:
                    foreign = dict(data, park_id="30003")
                    self.refused(row, self.post(row, foreign), "车场")
        self.assertGreater(checked, 100)
        self.assertEqual(table_counts(self.srv.db), before)


if __name__ == "__main__":
    unittest.main()

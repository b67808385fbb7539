"""recordkit.py - what the record tests (parks, orders, queries, reports, crash) share.

Vendors as a signed client would be: publish parks with 2.1, upload entries and exits, call
the chapter-10 services; plus a read-only look into the server's SQLite file to check what
was stored, and China Standard Time helpers for the 4.1 windows.
"""
import calendar
import itertools
import json
import sqlite3
import time

import harness

A_UID, A_KEY = 200002, "EA2D90FEEF1E9F8E"
B_UID, B_KEY = 200003, "0123456789ABCDEF"
CST = 8 * 3600

_rand = itertools.count(1)


def fresh_rand():
    """A new anti-replay value (spec 1.9): a decimal text that differs on every call."""
    return "0.%d%06d" % (int(time.time() * 1000), next(_rand))


def park_body(park_id, uid, **over):
    body = {"park_id": park_id, "name": "停车场" + park_id, "address": "北京上地三街9号",
            "city_id": 110000, "phone": "13900944433", "lng": "116.307852",
            "lat": "40.057031", "total_plot": 120, "empty_plot": 83, "union_id": uid,
            "price_desc": "2元每小时", "rand": fresh_rand()}
    body.update(over)
    return body


class Vendor:
    """A vendor's signed client against a harness.Server."""

    def __init__(self, srv, uid, key):
        self.srv, self.uid, self.key = srv, uid, key

    def register(self, name="vendor"):
        r = self.srv.admin("POST", "/vendors", {"union_id": self.uid, "ukey": self.key,
                                                "name": name})
        assert r.status in (201, 409), r
        return self

    def call(self, path, data, key=None, **kw):
        data = dict(data)
        data.setdefault("union_id", self.uid)
        r = self.srv.call(path, data, key or self.key, **kw)
        assert r.status == 200, r
        assert r.json is not None, r
        return r.json

    def call_b(self, path, data):
        """Envelope B: union_id at the top level only (3.8 and its siblings)."""
        r = self.srv.call(path, data, self.key, union_id=self.uid)
        assert r.status == 200, r
        return r.json

    def publish(self, park_id, **over):
        return self.call("newpark/addpark", park_body(park_id, self.uid, **over))

    def entry(self, park_id, order_id, plate, in_time=None, **kw):
        data = {"car_number": plate, "in_time": in_time or int(time.time()) - 60,
                "order_id": order_id, "empty_plot": 20, "park_id": park_id}
        data.update(kw)
        return self.call("neworder/addorder", data)

    def exit(self, park_id, order_id, plate, out_time=None, pay_type="cash", total="5.00",
             **kw):
        data = {"park_id": park_id, "car_number": plate,
                "out_time": out_time or int(time.time()), "pay_type": pay_type,
                "empty_plot": 21, "total": total, "order_id": order_id}
        data.update(kw)
        return self.call("neworder/updateorder", data)

    def upload(self, park_id, service_name, **fields):
        data = {"park_id": park_id, "service_name": service_name}
        data.update(fields)
        return self.call("neworder/uploadData", data)


class PgRow(dict):
    """A row read through psql: by column name or by position, like sqlite3.Row."""
    def __getitem__(self, k):
        return list(self.values())[k] if isinstance(k, int) else dict.__getitem__(self, k)


class PgCursor:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows

    def __iter__(self):
        return iter(self.rows)


class PgReader:
    """What db() answers on PostgreSQL: execute(sql, params) for SELECTs, with ? parameters
    (ints or text), read through harness.psql."""
    def __init__(self, uri):
        self.uri = uri

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=()):
        parts = sql.split("?")
        if len(parts) - 1 != len(params):
            raise AssertionError("PgReader: %d ? for %d parameters" % (len(parts) - 1, len(params)))
        lit = [str(int(p)) if isinstance(p, int) else "'%s'" % str(p).replace("'", "''")
               for p in params]
        text = parts[0] + "".join(l + rest for l, rest in zip(lit, parts[1:]))
        out = harness.psql(self.uri, "SELECT coalesce(json_agg(row_to_json(t)), '[]') FROM (%s) t"
                           % text)
        return PgCursor([PgRow(r) for r in json.loads(out)])


def db(srv):
    """A connection to the server's database (WAL: reads beside the running server); on
    PostgreSQL (PLK_TEST_ENGINE) a reader for SELECTs through psql."""
    if srv.store.startswith("postgresql://"):
        return PgReader(srv.store)
    con = sqlite3.connect(srv.db, timeout=10)
    con.row_factory = sqlite3.Row
    return con


def order_row(srv, park_id, order_id):
    with db(srv) as con:
        return con.execute("SELECT * FROM orders WHERE park_id = ? AND order_id = ?",
                           (park_id, order_id)).fetchone()


def cst_day_start(t):
    return (t + CST) // 86400 * 86400 - CST


def cst_month_after(t):
    tm = time.gmtime(t + CST)
    y, m = tm.tm_year + (tm.tm_mon == 12), tm.tm_mon % 12 + 1
    d = min(tm.tm_mday, calendar.monthrange(y, m)[1])
    return calendar.timegm((y, m, d, tm.tm_hour, tm.tm_min, tm.tm_sec)) - CST


def members(reply_text):
    """The reply's top-level member names, in order."""
    return [k for k, _ in json.loads(reply_text, object_pairs_hook=list)]

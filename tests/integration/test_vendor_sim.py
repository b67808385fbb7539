"""test_vendor_sim.py - `parklink vendor-sim`, the vendor-side callback receiver, end to end.

A real vendor-sim on a free loopback port receives signed callbacks built by the CLI itself
(`parklink call SERVICE --url BASE`) and by hand (harness.envelope, the reference's own
bytes), and the tests check what it records (log file and /_sim/messages), sign failures,
every script action (fail:N then ok, httpNNN, delay, timeout held without blocking a second
request, drop, bad-json), the shape of each question's answer (5.1, 5.4 as a PNG, 5.7,
5.13, 11.2, 11.6), run-time script changes, and a clean exit 0 without sanitizer output.
Env: PARKLINK (CLI binary).
"""
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import zlib

from harness import PARKLINK, SANITIZER_MARKS, Reply, envelope, free_port, sign

KEY = "EA2D90FEEF1E9F8E"
VENDOR_ID, VENDOR_KEY = "200265", "7B315B512350500E"
# 5.9 example of the reference; verifies with the car-owner document's key (vector V2)
V2_KEY = "C160955B1479621F"
V2_BODY = ('{"data":{"account_type":1,"arrive_money":0.01,"service_name":"repair","fee":0.0,'
           '"errmsg":"支付成功","remark":"收到停车费-苏DDDYY2","pay_time":1561373813,'
           '"total":0.01,"car_number":"苏DDDYY2","trade_no":"2019062418561630605288347",'
           '"pay_channel":1,"pay_type":"repair","state":1,"order_id":'
           '"liu2019062401_hul-abcapi-2","park_id":"20180427"},'
           '"sign":"27C41CE3F21C0D9B6A17496D7DE76F81"}')
OUTPARK = ["park_id=20003", "order_id=A100", "car_number=京A12345", "state:=1",
           "trade_no=T100", "pay_type=wallet", "errmsg=支付成功", "pay_time:=1490876000",
           "arrive_money:=0.01", "fee:=0", "account_type:=1", "remark=收到停车费"]


def clean_env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("PARKLINK_")}
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    return e


def cli(args, timeout=30):
    """Run the CLI; returns (rc, stdout, stderr); fails on sanitizer output."""
    p = subprocess.run([PARKLINK] + list(args), capture_output=True, env=clean_env(),
                       timeout=timeout)
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            raise AssertionError("sanitizer report from parklink %s:\n%s" % (args, err))
    return p.returncode, out, err


class VendorSim:
    """A running `parklink vendor-sim`; its stderr is scanned for sanitizer reports."""

    def __init__(self, args=(), key=KEY):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="plk-sim-")
        self.log_path = os.path.join(self.dir, "messages.jsonl")
        self.err_path = os.path.join(self.dir, "stderr.log")
        self.args = [PARKLINK, "vendor-sim", "--listen", "127.0.0.1:%d" % self.port,
                     "--key", key, "--vendor", "%s:%s" % (VENDOR_ID, VENDOR_KEY),
                     "--log", self.log_path] + list(args)
        self.proc = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env=clean_env())
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("vendor-sim exited early: " + self.stderr())
            try:
                if self.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("vendor-sim did not answer /healthz: " + self.stderr())

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vendor-sim did not stop on signal %d" % sig)
        self.err.close()
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("sanitizer report in vendor-sim stderr:\n" + text[-6000:])
        return self.proc.returncode

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, timeout=10, headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        req = urllib.request.Request(self.base + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Reply(r.status, r.read(), r.headers)
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), e.headers)

    def post(self, body, path="/notify", timeout=10):
        return self.request("POST", path, body, timeout,
                            {"Content-Type": "application/json;charset=utf-8"})

    def messages(self, since=0, service=None):
        q = "/_sim/messages?since=%d" % since
        if service:
            q += "&service=" + service
        r = self.request("GET", q)
        assert r.status == 200, r
        return r.json

    def script(self, text):
        r = self.request("POST", "/_sim/script", text)
        assert r.status == 200, r
        return r.json

    def log_lines(self):
        with open(self.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


def signed(data, key=KEY, union_id=None):
    return envelope(data, key, union_id=union_id, top_union_id=union_id is not None)


class VendorSimTest(unittest.TestCase):
    """One simulator for the class; every test starts from POST /_sim/reset and *=ok."""

    @classmethod
    def setUpClass(cls):
        cls.sim = VendorSim(["--hold-ms", "2500", "--tariff", "0:2:20"]).start()

    @classmethod
    def tearDownClass(cls):
        try:
            rc = cls.sim.stop()
            if rc != 0:
                raise AssertionError("vendor-sim exit code %r" % rc)
        finally:
            cls.sim.cleanup()

    def setUp(self):
        self.assertEqual(self.sim.request("POST", "/_sim/reset").status, 200)
        self.sim.script("*=ok")

    def call(self, service, *fields, key=KEY, union_id=None):
        args = ["call", service, "--url", self.sim.base, "--key", key] + list(fields)
        if union_id:
            args += ["--union-id", union_id]
        return cli(args)

    def last(self):
        msgs = self.sim.messages()
        self.assertTrue(msgs, "nothing recorded")
        return msgs[-1]

    # ---- recording and signatures ------------------------------------------------------

    def test_reference_body_is_verified_and_recorded_byte_exact(self):
        sim = VendorSim(["-q"], key=V2_KEY).start()
        try:
            r = sim.post(V2_BODY, path="/callbacks/bolink")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["state"], 1)
            self.assertEqual(r.json["service_name"], "repair")
            self.assertEqual(r.json["trade_no"], "2019062418561630605288347")
            self.assertEqual(r.json["order_id"], "liu2019062401_hul-abcapi-2")
            self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
            m = sim.messages()[-1]
            self.assertEqual(m["seq"], 1)
            self.assertTrue(m["sign_ok"])
            self.assertTrue(m["schema_ok"])
            self.assertEqual(m["body"], V2_BODY)
            self.assertEqual(m["path"], "/callbacks/bolink")
            self.assertEqual(m["service_name"], "repair")
            self.assertEqual(m["section"], "5.9")
            self.assertIsNone(m["union_id"])
            self.assertEqual(m["data"]["fee"], 0.0)
            self.assertEqual(m["answer"], r.json)
            self.assertEqual(m["http_status"], 200)
            self.assertEqual(m["action"], "ok")
            self.assertIsInstance(m["time_ms"], int)
            self.assertEqual(sim.log_lines(), [m])  # the log line is flushed at once
        finally:
            self.assertEqual(sim.stop(), 0)
            sim.cleanup()

    def test_cli_built_callback_is_recorded(self):
        rc, out, err = self.call("outpark", *OUTPARK)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["trade_no"], "T100")
        m = self.last()
        self.assertTrue(m["sign_ok"])
        self.assertEqual(m["service_name"], "outpark")
        self.assertEqual(m["data"]["car_number"], "京A12345")
        self.assertEqual(m["path"], "/")
        self.assertFalse(m["duplicate"])
        self.assertIn(m, self.sim.log_lines())
        # the same payment again: answered ok, marked as a repeat of a processed event
        rc, _, err = self.call("outpark", *OUTPARK)
        self.assertEqual(rc, 0, err)
        self.assertTrue(self.last()["duplicate"])

    def test_sign_failure(self):
        rc, out, _ = self.call("outpark", *OUTPARK, key="0000000000000000")
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out), {"state": 0, "errmsg": "签名错误"})
        m = self.last()
        self.assertFalse(m["sign_ok"])
        self.assertEqual(m["action"], "sign-error")
        self.assertEqual(m["answer"], {"state": 0, "errmsg": "签名错误"})
        # a tampered body: the sign no longer covers the data text
        body = signed({"service_name": "space_notify", "park_id": "1", "union_id": 9,
                       "total_space": 10, "free_space": 2}).replace('"free_space":2',
                                                                  '"free_space":3')
        r = self.sim.post(body)
        self.assertEqual(r.json, {"state": 0, "errmsg": "签名错误"})

    def test_vendor_key_chosen_by_union_id(self):
        data = ["park_id=21787", "total_space:=122", "free_space:=22"]
        rc, out, err = self.call("space_notify", *data, key=VENDOR_KEY, union_id=VENDOR_ID)
        self.assertEqual(rc, 0, out + err)
        m = self.last()
        self.assertTrue(m["sign_ok"])
        self.assertEqual(m["union_id"], VENDOR_ID)
        # that vendor's message signed with the default key does not verify
        rc, out, _ = self.call("space_notify", *data, key=KEY, union_id=VENDOR_ID)
        self.assertEqual(rc, 1)
        self.assertFalse(self.last()["sign_ok"])
        # another vendor falls back to --key
        rc, out, err = self.call("space_notify", *data, key=KEY, union_id="200002")
        self.assertEqual(rc, 0, out + err)

    def test_bodies_that_do_not_parse(self):
        for body, why in (("not json", "JSON"), ('{"sign":"%s"}' % ("A" * 32), "data"),
                          ("", "空")):
            r = self.sim.post(body)
            self.assertEqual(r.status, 400, body)
            self.assertEqual(r.json["state"], 0)
            self.assertIn(why, r.json["errmsg"])
        # a signed row without a sign
        r = self.sim.post('{"data":{"service_name":"outpark","park_id":"1"}}')
        self.assertEqual(r.status, 400)
        self.assertIn("sign", r.json["errmsg"])
        msgs = self.sim.messages()
        self.assertEqual([m["action"] for m in msgs], ["parse-error"] * 4)
        self.assertEqual(msgs[0]["body"], "not json")
        self.assertEqual(msgs[3]["service_name"], "outpark")
        self.assertEqual(self.sim.request("GET", "/anything").status, 405)

    def test_unsigned_bare_invoice_status(self):
        body = json.dumps({"notify_time": "2020-03-01 10:00:00", "invoice_order_no": "INV1",
                           "message": "开票成功", "open_invoiceTime": "2020-03-01 09:59:00",
                           "status": "5"}, ensure_ascii=False)
        r = self.sim.post(body)
        self.assertEqual((r.status, r.json["state"]), (200, 1), r)
        m = self.last()
        self.assertEqual((m["section"], m["service_name"]), ("6.4", "invoice_status"))
        self.assertTrue(m["sign_ok"])
        self.assertEqual(m["data"]["invoice_order_no"], "INV1")

    def test_service_found_without_service_name(self):
        # the 5.4 example omits service_name: the path names it, or its fields do
        data = {"comid": "3251", "type": "in", "orderid": "AC_1345454"}
        for path in ("/get_inpark_image", "/"):
            r = self.sim.post(signed(data), path=path)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "image/png")
            self.assertEqual(self.last()["section"], "5.4")
        r = self.sim.post(signed({"service_name": "no_such_thing", "park_id": "1"}))
        self.assertEqual(r.json["state"], 0)
        self.assertIn("no_such_thing", r.json["errmsg"])

    # ---- script actions ------------------------------------------------------------------

    def test_fail_n_then_ok(self):
        self.sim.script("outpark=fail:2,*=ok")
        codes = [self.call("outpark", *OUTPARK)[0] for _ in range(3)]
        self.assertEqual(codes, [1, 1, 0])
        msgs = self.sim.messages()
        self.assertEqual([m["action"] for m in msgs], ["fail", "fail", "ok"])
        self.assertEqual(msgs[0]["answer"]["state"], 0)
        self.assertEqual(msgs[0]["answer"]["trade_no"], "T100")
        self.assertFalse(msgs[2]["duplicate"])  # failed sends were not processed
        # other services follow the * rule
        rc, _, _ = self.call("space_notify", "park_id=1", "total_space:=5", "free_space:=1",
                             union_id="9")
        self.assertEqual(rc, 0)

    def test_http_status(self):
        self.sim.script("*=http500:1")
        body = signed({"service_name": "space_notify", "park_id": "1", "union_id": 9,
                       "total_space": 10, "free_space": 2})
        r = self.sim.post(body)
        self.assertEqual((r.status, r.json["state"]), (500, 0))
        self.assertEqual(self.sim.post(body).status, 200)
        self.assertEqual([m["http_status"] for m in self.sim.messages()], [500, 200])
        self.sim.script("*=http503")
        self.assertEqual(self.sim.post(body).status, 503)
        self.assertEqual(self.last()["action"], "http503")

    def test_delay(self):
        self.sim.script("*=delay:300")
        t0 = time.time()
        r = self.sim.post(signed({"service_name": "space_notify", "park_id": "1",
                                  "union_id": 9, "total_space": 10, "free_space": 2}))
        self.assertGreaterEqual(time.time() - t0, 0.28)
        self.assertEqual(r.json["state"], 1)
        m = self.last()
        self.assertEqual(m["action"], "delay")
        self.assertGreaterEqual(m["latency_ms"], 290)

    def test_timeout_holds_without_blocking_others(self):
        self.sim.script("space_notify=timeout:1,*=ok")
        body = signed({"service_name": "space_notify", "park_id": "1", "union_id": 9,
                       "total_space": 10, "free_space": 2})
        held = {}

        def post_held():
            t0 = time.time()
            held["reply"] = self.sim.post(body, timeout=10)
            held["secs"] = time.time() - t0

        t = threading.Thread(target=post_held)
        t.start()
        time.sleep(0.2)
        stats = self.sim.request("GET", "/_sim/stats").json
        self.assertEqual(stats["pending"], 1)
        # a second request (another connection) is answered while the first is held
        t0 = time.time()
        rc, _, err = self.call("outpark", *OUTPARK)
        self.assertEqual(rc, 0, err)
        r2 = self.sim.post(body)  # the rule's count is used up: answered at once
        self.assertLess(time.time() - t0, 1.5)
        self.assertEqual(r2.json["state"], 1)
        self.assertNotIn("reply", held)
        t.join(10)
        self.assertEqual(held["reply"].json["state"], 1)
        self.assertGreaterEqual(held["secs"], 2.4)
        actions = [(m["service_name"], m["action"]) for m in self.sim.messages()]
        self.assertEqual(actions, [("outpark", "ok"), ("space_notify", "ok"),
                                   ("space_notify", "timeout")])

    def test_timeout_client_gives_up(self):
        self.sim.script("space_notify=timeout")
        body = signed({"service_name": "space_notify", "park_id": "1", "union_id": 9,
                       "total_space": 10, "free_space": 2})
        with self.assertRaises(OSError):  # socket.timeout / TimeoutError
            self.sim.post(body, timeout=0.3)
        deadline = time.time() + 5
        while time.time() < deadline and not self.sim.messages():
            time.sleep(0.1)
        m = self.last()
        self.assertEqual((m["action"], m["http_status"]), ("timeout", 200))
        self.assertEqual(self.sim.request("GET", "/healthz").status, 200)

    def test_drop(self):
        self.sim.script("car_info=drop:1")
        fields = ["park_id=21787", "type=add", "car_number=京A47829", "card_id=15"]
        body = signed({"service_name": "car_info", "union_id": 9, "park_id": "21787",
                       "type": "add", "car_number": "京A47829"})
        conn = http.client.HTTPConnection("127.0.0.1", self.sim.port, timeout=5)
        conn.request("POST", "/", body.encode("utf-8"),
                     {"Content-Type": "application/json;charset=utf-8"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        m = self.last()
        self.assertEqual(m["action"], "drop")
        self.assertIsNone(m["http_status"])
        self.assertIsNone(m["answer"])
        rc, out, err = self.call("car_info", *fields, union_id="9")
        self.assertEqual(rc, 0, out + err)

    def test_bad_json(self):
        self.sim.script("*=bad-json:1")
        rc, out, err = self.call("outpark", *OUTPARK)
        self.assertEqual(rc, 3, out + err)  # the client sees a reply that is not JSON
        self.assertEqual(self.last()["action"], "bad-json")
        rc, _, _ = self.call("outpark", *OUTPARK)
        self.assertEqual(rc, 0)

    def test_runtime_script_change_and_errors(self):
        self.sim.script("*=fail")
        self.assertEqual(self.call("outpark", *OUTPARK)[0], 1)
        self.assertEqual(self.call("outpark", *OUTPARK)[0], 1)
        got = self.sim.script("*=ok")
        self.assertEqual(got["script"], "*=ok")
        self.assertEqual(self.call("outpark", *OUTPARK)[0], 0)
        for bad in ("nope=ok", "*=explode", "*=delay", "*=fail:0", "*=http200",
                    "outpark=ok,outpark=fail"):
            r = self.sim.request("POST", "/_sim/script", bad)
            self.assertEqual(r.status, 400, bad)
            self.assertEqual(r.json["state"], 0)
        r = self.sim.request("GET", "/_sim/script")
        self.assertEqual(r.json["rules"][0]["service"], "*")
        self.assertEqual(r.json["rules"][0]["matched"], 1)

    # ---- answers to the questions ---------------------------------------------------------

    def test_query_price(self):
        rc, out, err = self.call("query_price", "park_id=20003", "order_id=A7",
                                 "car_number=京HP00G6", "pay_scene=0", "query_order_no=Q7")
        self.assertEqual(rc, 0, err)
        a = json.loads(out)
        self.assertEqual((a["state"], a["errmsg"]), (1, "成功"))
        self.assertEqual((a["park_id"], a["order_id"], a["query_order_no"]),
                         ("20003", "A7", "Q7"))
        self.assertEqual(a["car_number"], "京HP00G6")
        self.assertTrue(20 <= a["duration"] <= 300, a)
        # tariff 0:2:20: 2 yuan per started hour
        self.assertEqual(a["total"], "%.2f" % min(20, 2 * -(-a["duration"] // 60)))
        self.assertEqual(a["price"], a["total"])
        for k in ("free_out_time", "query_time", "derate_money", "derate_duration"):
            self.assertIsInstance(a[k], int, k)

    def test_price_follows_entry_and_prepayment(self):
        self.call("notice_car_owner", "park_id=20003", "order_id=B1", "car_number=京B00001",
                  "is_union_user=1", "rand=0.5", union_id="9")
        q = ["park_id=20003", "order_id=B1", "car_number=京B00001", "pay_scene=0",
             "query_order_no=Q1"]
        a = json.loads(self.call("query_price", *q)[1])
        self.assertEqual((a["duration"], a["total"], a["price"]), (1, "2.00", "2.00"))
        prepay = ["park_id=20003", "order_id=B1", "car_number=京B00001", "prepay=1.5",
                  "trade_no=P1", "pay_time=1490876000", "arrive_money=1.5", "fee=0",
                  "account_type=1", "remark=预付"]
        for _ in range(2):  # the repeat is a duplicate and is booked once
            rc, out, err = self.call("prepay_order", *prepay)
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out)["prepay"], 1.5)
        self.assertEqual([m["duplicate"] for m in self.sim.messages(service="prepay_order")],
                         [False, True])
        a = json.loads(self.call("query_price", *q)[1])
        self.assertEqual((a["total"], a["price"]), ("2.00", "0.50"))

    def test_inpark_image_is_a_valid_png(self):
        data = {"comid": "3251", "orderid": "AC_1345454", "service_name": "get_inpark_image",
                "type": "in"}
        r = self.sim.post(signed(data))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "image/png")
        png = self.sim_raw(signed(data))
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        pos, chunks = 8, {}
        while pos < len(png):
            n, kind = struct.unpack(">I4s", png[pos:pos + 8])
            body = png[pos + 8:pos + 8 + n]
            crc, = struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])
            self.assertEqual(zlib.crc32(kind + body), crc, kind)
            chunks[kind] = body
            pos += 12 + n
        w, h, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
        self.assertEqual((w, h, depth, color), (64, 48, 8, 0))
        self.assertEqual(len(zlib.decompress(chunks[b"IDAT"])), h * (w + 1))
        self.assertIn(b"IEND", chunks)
        m = self.last()
        self.assertEqual(m["answer"]["content_type"], "image/png")
        self.assertEqual(m["answer"]["bytes"], len(png))
        # each order and direction has its own picture
        other = self.sim_raw(signed(dict(data, type="out")))
        self.assertNotEqual(other, png)

    def sim_raw(self, body):
        req = urllib.request.Request(self.sim.base + "/", data=body.encode("utf-8"),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def test_nolicence_in_park(self):
        t0 = int(time.time())
        rc, out, err = self.call("nolicence_in_park", "car_number=EA47829", "park_id=21798",
                                 "timetemp:=1523215123", "channel_id=A1", union_id="20002")
        self.assertEqual(rc, 0, err)
        a = json.loads(out)
        self.assertEqual((a["state"], a["errmsg"], a["car_number"]), (1, "入场成功", "EA47829"))
        self.assertGreaterEqual(a["timetemp"], t0)
        self.sim.script("nolicence_in_park=fail")
        a = json.loads(self.call("nolicence_in_park", "car_number=EA47829", "park_id=21798",
                                 "timetemp:=1523215123", "channel_id=A1",
                                 union_id="20002")[1])
        self.assertEqual((a["state"], a["errmsg"]), (0, "入场失败"))

    def test_verify_code(self):
        f = ["park_id=28888", "car_number=154B78B", "mobile_number=17600383000",
             "pay_user_id=oRHga6OKASifLJdnqHawGxnJepOc"]
        a = json.loads(self.call("verify_code", *f, union_id=VENDOR_ID, key=VENDOR_KEY)[1])
        self.assertEqual((a["state"], a["errmsg"]), (1, "发送成功"))
        self.assertRegex(a["verify_code"], r"^[0-9]{6}$")
        again = json.loads(self.call("verify_code", *f, union_id=VENDOR_ID,
                                     key=VENDOR_KEY)[1])
        self.assertEqual(again["verify_code"], a["verify_code"])

    def test_check_vip(self):
        f = ["park_id=21787", "car_number=京A47829", "start_time=2024-01-01",
             "end_time=2024-01-31"]
        rc, out, err = self.call("check_vip", *f, "amount:=300.00", union_id="200002")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"state": 1, "errmsg": "成功",
                                           "service_name": "check_vip"})
        rc, out, _ = self.call("check_vip", "park_id=21787", "car_number=京A47829",
                               "start_time=2024-02-01", "end_time=2024-01-01",
                               "amount:=300", union_id="200002")
        self.assertEqual((rc, json.loads(out)["state"]), (1, 0))

    def test_query_car_info_answers_from_pushed_vehicles(self):
        q = ["park_id=21787", "car_number=京A47829", "type=0"]
        a = json.loads(self.call("query_car_info", *q, union_id="200002")[1])
        self.assertEqual((a["state"], a["service_name"]), (1, "query_car_info"))
        self.assertEqual(a["data"], {"car_number": "京A47829"})
        self.assertEqual(a["errmsg"], "未查询到该车辆")
        rc, out, err = self.call("car_info", "park_id=21787", "type=add", "car_number=京A47829",
                                 "user_name=张三", "tel=1532424234", "car_type=1",
                                 "card_id=15", "start_time=2024-01-01 00:00:00",
                                 "end_time=2024-12-31 23:59:59", "message_uuid=u1",
                                 union_id="200002")
        self.assertEqual(rc, 0, err)
        a = json.loads(self.call("query_car_info", *q, union_id="200002")[1])
        d = a["data"]
        self.assertEqual((a["state"], a["errmsg"]), (1, "成功"))
        self.assertEqual((d["car_number"], d["user_name"], d["card_id"], d["car_type"]),
                         ("京A47829", "张三", "15", "1"))
        self.assertEqual(d["end_time"], "2024-12-31 23:59:59")
        self.assertRegex(d["update_time"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
        self.call("special_plate", "park_id=21787", "type=add", "car_number=京A47829",
                  "car_type=black", "message_uuid=u2", union_id="200002")
        a = json.loads(self.call("query_car_info", "park_id=21787", "car_number=京A47829",
                                 "type=1", union_id="200002")[1])
        self.assertEqual(a["data"]["car_type"], "black")

    def test_invoice_notify_answers_state_as_string(self):
        rc, out, err = self.call("invoice_notify", "park_id=td1", "payid=200102",
                                 "out_trade_no=O1", "invoice_type=1", union_id="200116")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["state"], "1")

    # ---- control endpoints ------------------------------------------------------------

    def test_messages_stats_and_reset(self):
        for _ in range(2):
            self.call("outpark", *OUTPARK)
        self.call("space_notify", "park_id=1", "total_space:=5", "free_space:=1",
                  union_id="9")
        self.call("outpark", *OUTPARK, key="0000000000000000")
        msgs = self.sim.messages()
        seqs = [m["seq"] for m in msgs]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(msgs), 4)
        self.assertEqual(self.sim.messages(since=seqs[1]), msgs[2:])
        self.assertEqual(len(self.sim.messages(service="outpark")), 3)
        self.assertEqual(self.sim.request("GET", "/_sim/messages?since=x").status, 400)
        s = self.sim.request("GET", "/_sim/stats").json
        self.assertEqual(s["messages"], 4)
        self.assertEqual(s["by_service"], {"outpark": 3, "space_notify": 1})
        self.assertEqual(s["by_answer"], {"ok": 3, "sign-error": 1})
        self.assertEqual(s["pending"], 0)
        self.assertEqual(self.sim.request("POST", "/_sim/reset").json["state"], 1)
        self.assertEqual(self.sim.messages(), [])
        self.assertEqual(self.sim.request("GET", "/_sim/stats").json["messages"], 0)
        self.call("outpark", *OUTPARK)  # seq keeps counting; the event is new again
        m = self.last()
        self.assertGreater(m["seq"], seqs[-1])
        self.assertFalse(m["duplicate"])
        self.assertEqual(self.sim.request("GET", "/_sim/nothing").status, 404)


class VendorSimProcessTest(unittest.TestCase):
    def test_help_lists_every_option(self):
        rc, out, _ = cli(["vendor-sim", "--help"])
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("usage: parklink vendor-sim"))
        for opt in ("--listen", "--key", "--vendor", "--script", "--hold-ms", "--log",
                    "--quiet", "--tariff", "--keep", "--max-body", "--help"):
            self.assertIn(opt, out)
        rc, out, _ = cli(["--help"])
        self.assertIn("vendor-sim", out)

    def test_usage_errors(self):
        port = "127.0.0.1:%d" % free_port()
        for args in (["--listen", port], ["--listen", port, "-k", KEY, "--script", "*=zap"],
                     ["--listen", port, "-k", KEY, "--vendor", "abc:K"],
                     ["--listen", port, "-k", KEY, "--tariff", "x"],
                     ["--listen", "nonsense", "-k", KEY]):
            rc, _, err = cli(["vendor-sim"] + args, timeout=10)
            self.assertIn(rc, (1, 2), args)
            self.assertIn("parklink vendor-sim", err)

    def test_port_in_use_fails(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            rc, _, err = cli(["vendor-sim", "-k", KEY, "--listen",
                              "127.0.0.1:%d" % s.getsockname()[1]], timeout=10)
        self.assertEqual(rc, 1, err)

    def test_sigint_with_a_held_request_exits_0(self):
        sim = VendorSim(["--script", "*=timeout", "--hold-ms", "60000"]).start()
        try:
            body = signed({"service_name": "space_notify", "park_id": "1", "union_id": 9,
                           "total_space": 10, "free_space": 2})
            got = {}
            t = threading.Thread(target=lambda: got.update(r=sim.post(body, timeout=30)))
            t.start()
            deadline = time.time() + 5
            while sim.request("GET", "/_sim/stats").json["pending"] != 1:
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            t0 = time.time()
            self.assertEqual(sim.stop(signal.SIGINT), 0)
            self.assertLess(time.time() - t0, 5)
            t.join(10)
            self.assertEqual(got["r"].json["state"], 1)  # answered on the way out
            self.assertEqual(sim.log_lines()[-1]["action"], "timeout")
        finally:
            if sim.proc.poll() is None:
                sim.stop()
            sim.cleanup()


if __name__ == "__main__":
    unittest.main()

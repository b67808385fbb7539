"""test_cli.py - the `parklink` CLI binary, end to end, without parklinkd.

`sign` against every vector of tests/data/sign-vectors.json, `verify` on good and tampered
bodies, `call --dry-run` piped into `verify`, `call` and `admin` against a tiny recording
HTTP server on loopback (the exact signed bytes arrive; replies decide the exit code),
--help everywhere, usage errors exit 2, and docs/api.md equal to `services --markdown`.
Every run's stderr is scanned for sanitizer reports. Env: PARKLINK (CLI binary),
PLK_TEST_DATA (tests/data), PLK_SOURCE_DIR (checkout root).
"""
import hashlib
import http.server
import json
import os
import socket
import subprocess
import threading
import unittest

from harness import PARKLINK, SANITIZER_MARKS

TEST_DATA = os.environ.get("PLK_TEST_DATA", os.path.join(os.path.dirname(__file__), "..", "data"))
SOURCE_DIR = os.environ.get("PLK_SOURCE_DIR",
                            os.path.join(os.path.dirname(__file__), "..", ".."))
KEY = "EA2D90FEEF1E9F8E"
COMMANDS = ("sign", "verify", "call", "services", "admin", "vendor-sim")


def md5_sign(text, key):
    return hashlib.md5((text + "key=" + key).encode("utf-8")).hexdigest().upper()


def run(args, stdin=None, env=None, timeout=30):
    """Run the CLI with a clean PARKLINK_* environment; returns (rc, stdout, stderr) as text."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("PARKLINK_")}
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    e.update(env or {})
    p = subprocess.run([PARKLINK] + list(args), input=None if stdin is None else
                       stdin.encode("utf-8"), capture_output=True, env=e, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            raise AssertionError("sanitizer report from parklink %s:\n%s" % (args, err))
    return p.returncode, out, err


def load_vectors():
    with open(os.path.join(TEST_DATA, "sign-vectors.json"), encoding="utf-8") as f:
        return json.load(f)


class Recorder(http.server.ThreadingHTTPServer):
    """Loopback HTTP server: records each request, answers with self.reply."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests = []
        self.reply = (200, "application/json;charset=utf-8", b'{"state":1,"errmsg":"ok"}')
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # a client that drops an oversized reply resets the connection: expected

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        status, ctype, payload = self.server.reply
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def log_message(self, *args):
        pass


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SignTest(unittest.TestCase):
    def test_current_vectors_argument_and_stdin(self):
        vectors = load_vectors()["vectors"]
        self.assertGreaterEqual(len(vectors), 6)
        for v in vectors:
            with self.subTest(v["what"]):
                rc, out, err = run(["sign", "--key", v["key"], v["data_text"]])
                self.assertEqual((rc, out), (0, v["sign"] + "\n"), err)
                rc, out, err = run(["sign", "-k", v["key"]], stdin=v["data_text"] + "\n")
                self.assertEqual((rc, out), (0, v["sign"] + "\n"), err)
                rc, out, err = run(["sign", "-"], stdin=v["data_text"],
                                   env={"PARKLINK_KEY": v["key"]})
                self.assertEqual((rc, out), (0, v["sign"] + "\n"), err)
                rc, out, err = run(["sign", "--show-text", "-k", v["key"], v["data_text"]])
                self.assertEqual(err, v["data_text"] + "key=" + v["key"] + "\n")

    def test_legacy_vectors(self):
        for v in load_vectors()["legacy"]:
            with self.subTest(v["what"]):
                flat = dict(pair.split("=", 1) for pair in v["signed_text"].split("&"))
                flat["remark"] = ""          # empty values are dropped from the link string
                text = json.dumps(flat, ensure_ascii=False)
                rc, out, err = run(["sign", "--legacy", "--show-text", "-k", v["key"], text])
                self.assertEqual((rc, out), (0, v["sign"] + "\n"), err)
                self.assertEqual(err, v["signed_text"] + "key=" + v["key"] + "\n")
                rc, out, err = run(["sign", "--legacy-amp", "-k", v["key"], text])
                self.assertEqual(out, md5_sign(v["signed_text"] + "&", v["key"]) + "\n")

    def test_stdin_strips_exactly_one_newline(self):
        rc, out, _ = run(["sign", "-k", KEY], stdin="{}\n\n")
        self.assertEqual(out, md5_sign("{}\n", KEY) + "\n")
        rc, out, _ = run(["sign", "-k", KEY], stdin="{} ")
        self.assertEqual(out, md5_sign("{} ", KEY) + "\n")

    def test_sign_usage(self):
        self.assertEqual(run(["sign", "{}"])[0], 2)                       # no key
        self.assertEqual(run(["sign", "-k", KEY, "--legacy", "--legacy-amp", "{}"])[0], 2)
        rc, _, err = run(["sign", "-k", KEY, "--legacy", "[1]"])
        self.assertEqual(rc, 2)
        self.assertIn("object", err)
        self.assertEqual(run(["sign", "-k", KEY, "a", "b"])[0], 2)


class VerifyTest(unittest.TestCase):
    V1 = load_vectors()["vectors"][0]

    def body(self, data_text, sign):
        return '{"data":%s,"sign":"%s"}' % (data_text, sign)

    def test_good_body(self):
        v = self.V1
        rc, out, err = run(["verify", "-k", v["key"], self.body(v["data_text"], v["sign"])])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("data_text:    " + v["data_text"] + "\n", out)
        self.assertIn("union_id:     10001\n", out)
        self.assertIn("service_name: -\n", out)
        self.assertIn("verified:     yes\n", out)

    def test_tampered_body(self):
        v = self.V1
        tampered = v["data_text"].replace('"empty_plot":56', '"empty_plot":57')
        self.assertNotEqual(tampered, v["data_text"])
        rc, out, _ = run(["verify", "-k", v["key"]], stdin=self.body(tampered, v["sign"]))
        self.assertEqual(rc, 1)
        self.assertIn("verified:     no", out)
        self.assertIn(md5_sign(tampered, v["key"]), out)          # the expected sign
        # re-spaced data (same JSON value) does not verify either: the raw span is signed
        spaced = v["data_text"].replace(",", ", ")
        self.assertEqual(run(["verify", "-q", "-k", v["key"],
                              self.body(spaced, v["sign"])])[0], 1)
        self.assertEqual(run(["verify", "-k", "WRONG", self.body(v["data_text"], v["sign"])])[0],
                         1)

    def test_parse_errors_exit_2(self):
        for body in ("not json", '{"sign":"%s"}' % ("A" * 32), '{"data":{"union_id":1}}', "",
                     '{"data":{"union_id":1},"sign":"xyz"}'):
            with self.subTest(body):
                rc, out, err = run(["verify", "-k", KEY, body])
                self.assertEqual(rc, 2, out + err)
                self.assertTrue(err.startswith("parklink verify: "), err)
        self.assertEqual(run(["verify", "{}"])[0], 2)                       # no key


class CallTest(unittest.TestCase):
    CHECK = ["call", "park_check", "-u", "200002", "-k", KEY,
             "park_id=20003", "car_number=京HP00G6", "license_color=0"]

    def setUp(self):
        self.srv = Recorder()

    def tearDown(self):
        self.srv.close()

    def dry_run(self, args):
        rc, out, err = run(args + ["--dry-run"])
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith("\n"))
        return out[:-1], err

    def test_dry_run_verifies(self):
        body, err = self.dry_run(self.CHECK + ["--url", "http://example.invalid/unionapi/"])
        self.assertIn("POST http://example.invalid/unionapi/neworder/uploadData", err)
        rc, out, err = run(["verify", "-k", KEY], stdin=body + "\n")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("union_id:     200002\n", out)
        self.assertIn("service_name: park_check\n", out)
        data = json.loads(body)["data"]
        self.assertEqual(data, {"union_id": 200002, "service_name": "park_check",
                                "park_id": "20003", "car_number": "京HP00G6",
                                "license_color": 0})

    def test_vector_v9_from_data(self):
        data = ('{"union_id":200002,"park_id":"20003","service_name":"park_check",'
                '"car_number":"京HP00G6","license_color":0}')
        body, _ = self.dry_run(["call", "park_check", "-k", KEY, "--data", data])
        self.assertEqual(body, '{"sign":"A72EA179B90F93A03B5C26C2D013E606","data":%s}' % data)

    def test_call_sends_exact_signed_body(self):
        expected, _ = self.dry_run(self.CHECK)
        self.srv.reply = (200, "application/json;charset=utf-8",
                          '{"state":1,"errmsg":"成功","data":{"status":"1","reason":"0"}}'
                          .encode("utf-8"))
        rc, out, err = run(self.CHECK, env={"PARKLINK_URL": self.srv.base})
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.srv.requests), 1)
        req = self.srv.requests[0]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"], "/unionapi/neworder/uploadData")
        self.assertEqual(req["headers"].get("Content-Type"), "application/json;charset=utf-8")
        self.assertEqual(req["body"].decode("utf-8"), expected)
        text = req["body"].decode("utf-8")
        data_text = text[text.index('"data":') + 7:-1]
        self.assertEqual(json.loads(text)["sign"], md5_sign(data_text, KEY))
        self.assertEqual(json.loads(out), {"state": 1, "errmsg": "成功",
                                           "data": {"status": "1", "reason": "0"}})
        self.assertIn("成功", out)                                     # UTF-8, not \\u escapes

    def test_env_twins_and_path_lookup(self):
        env = {"PARKLINK_URL": self.srv.base + "/unionapi/", "PARKLINK_KEY": KEY,
               "PARKLINK_UNION_ID": "200002"}
        rc, out, err = run(["call", "neworder/queryescape", "park_id=20003",
                            "car_number=京A12345", "time_temp=1533035031"], env=env)
        self.assertEqual(rc, 0, err)
        req = self.srv.requests[-1]
        self.assertEqual(req["path"], "/unionapi/neworder/queryescape")
        body = json.loads(req["body"])
        self.assertEqual(body["union_id"], 200002)                   # envelope B: top level
        self.assertNotIn("union_id", body["data"])
        self.assertEqual(body["data"]["time_temp"], "1533035031")   # typed string by the row

    def test_reply_states_and_transport(self):
        cases = [((200, b'{"state":0,"errmsg":"\xe7\xad\xbe\xe5\x90\x8d\xe9\x94\x99\xe8\xaf\xaf"}'), 1),
                 ((200, b'{"state":2,"errmsg":"pending"}'), 0),
                 ((400, b'{"state":0,"errmsg":"bad"}'), 1),
                 ((502, b'<html>bad gateway</html>'), 3),
                 ((200, b'{"errmsg":"no state"}'), 3)]
        for (status, payload), want in cases:
            with self.subTest(payload=payload):
                self.srv.reply = (status, "application/json", payload)
                rc, out, err = run(self.CHECK + ["--url", self.srv.base])
                self.assertEqual(rc, want, out + err)
        self.srv.reply = (200, "application/json", b'{"state":1,"pad":"' + b"x" * (5 << 20) + b'"}')
        rc, out, err = run(self.CHECK + ["--url", self.srv.base])
        self.assertEqual(rc, 3)
        self.assertIn("larger than", err)
        rc, out, err = run(self.CHECK + ["--url", "http://127.0.0.1:%d" % closed_port()])
        self.assertEqual(rc, 3)
        self.assertIn("HTTP transfer failed", err)

    def test_validation_names_field(self):
        rc, out, err = run(["call", "park_check", "-u", "1", "-k", KEY, "park_id=1",
                            "--url", self.srv.base])
        self.assertEqual(rc, 2)
        self.assertIn('"car_number"', err)
        rc, out, err = run(self.CHECK[:-1] + ["license_color=9", "--url", self.srv.base])
        self.assertEqual(rc, 2)
        self.assertIn("license_color", err)
        rc, out, err = run(self.CHECK + ["union_id:=7", "--url", self.srv.base])
        self.assertEqual(rc, 2)                                      # conflicts with -u
        self.assertEqual(self.srv.requests, [])                      # nothing was sent

    def test_bad_data(self):
        base = ["call", "park_check", "-u", "1", "-k", KEY, "--url", self.srv.base]
        self.assertEqual(run(base + ["-d", "{bad"])[0], 2)
        self.assertEqual(run(base + ["-d", "-"], stdin="")[0], 2)
        self.assertEqual(run(base + ["-d", "@/nonexistent/file.json"])[0], 2)
        self.assertEqual(run(base + ["novalue"])[0], 2)
        self.assertEqual(run(base + ["x:={bad"])[0], 2)
        self.assertEqual(run(["call", "no_such_service", "-k", KEY])[0], 2)
        self.assertEqual(run(["call", "park_check", "-u", "1", "park_id=1"])[0], 2)  # no key
        self.assertEqual(run(["call", "gettoken", "-u", "1", "-k", KEY, "--dry-run"])[0], 2)
        self.assertEqual(run(base + ["--timeout", "soon"])[0], 2)
        self.assertEqual(self.srv.requests, [])


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.srv = Recorder()

    def tearDown(self):
        self.srv.close()

    def test_get_and_post(self):
        self.srv.reply = (200, "application/json", b'[{"union_id":200002}]')
        rc, out, err = run(["admin", "--url", self.srv.base, "--token", "T0k", "get",
                            "/vendors?limit=5"])
        self.assertEqual(rc, 0, err)
        req = self.srv.requests[-1]
        self.assertEqual((req["method"], req["path"]), ("GET", "/admin/v1/vendors?limit=5"))
        self.assertEqual(req["headers"].get("Authorization"), "Bearer T0k")
        self.assertEqual(json.loads(out), [{"union_id": 200002}])

        self.srv.reply = (201, "application/json", b'{"ok":true}')
        body = '{"union_id":200002,"key":"%s","name":"厂商"}' % KEY
        rc, out, err = run(["admin", "POST", "vendors", "-"], stdin=body + "\n",
                           env={"PARKLINK_ADMIN_URL": self.srv.base + "/admin/v1/",
                                "PARKLINK_ADMIN_TOKEN": "envtok"})
        self.assertEqual(rc, 0, err)
        req = self.srv.requests[-1]
        self.assertEqual((req["method"], req["path"]), ("POST", "/admin/v1/vendors"))
        self.assertEqual(req["headers"].get("Authorization"), "Bearer envtok")
        self.assertEqual(req["body"].decode("utf-8"), body)

    def test_status_codes(self):
        self.srv.reply = (404, "application/json", b'{"error":"no such vendor"}')
        rc, out, err = run(["admin", "--url", self.srv.base, "DELETE", "/vendors/9"])
        self.assertEqual(rc, 1)
        self.assertIn("no such vendor", out)
        self.assertNotIn("Authorization", self.srv.requests[-1]["headers"])
        rc, out, err = run(["admin", "--url", "http://127.0.0.1:%d" % closed_port(), "GET", "/x"])
        self.assertEqual(rc, 3)

    def test_usage(self):
        n = len(self.srv.requests)
        for args in (["FETCH", "/x"], ["GET"], ["POST", "/x", "{bad"], ["GET", "/x", "{}", "x"]):
            with self.subTest(args):
                self.assertEqual(run(["admin", "--url", self.srv.base] + args)[0], 2)
        self.assertEqual(len(self.srv.requests), n)


class ServicesTest(unittest.TestCase):
    def test_list_and_one(self):
        rc, out, _ = run(["services"])
        self.assertEqual(rc, 0)
        self.assertIn("park_check", out)
        rc, out, _ = run(["services", "park_check"])
        self.assertEqual(rc, 0)
        for word in ("/unionapi/neworder/uploadData", "car_number", "license_color",
                     "0|1|2|3|4|5|6|7"):
            self.assertIn(word, out)
        self.assertEqual(run(["services", "neworder/addorder"])[0], 0)
        self.assertEqual(run(["services", "nope"])[0], 2)
        self.assertEqual(run(["services", "--json", "--markdown"])[0], 2)

    def test_json(self):
        rc, out, _ = run(["services", "--json"])
        rows = json.loads(out)
        ids = [r["id"] for r in rows]
        self.assertIn("park_check", ids)
        self.assertEqual(len(ids), len(set(ids)))
        rc, out, _ = run(["services", "--json", "park_check"])
        row = json.loads(out)
        self.assertEqual(row["url_path"], "/unionapi/neworder/uploadData")
        self.assertIn("UPLOAD_DATA", row["flags"])
        names = [f["name"] for f in row["fields"]]
        self.assertIn("car_number", names)

    def test_api_md_in_sync(self):
        rc, out, err = run(["services", "--markdown"])
        self.assertEqual(rc, 0, err)
        path = os.path.join(SOURCE_DIR, "docs", "api.md")
        with open(path, encoding="utf-8") as f:
            doc = f.read()
        self.assertTrue(doc == out, "docs/api.md differs from the service table; regenerate: "
                        "parklink services --markdown > docs/api.md")


class HelpAndUsageTest(unittest.TestCase):
    def test_help_everywhere(self):
        for args in (["--help"], ["-h"], ["help"], ["--version"]):
            rc, out, _ = run(args)
            self.assertEqual(rc, 0, args)
            self.assertTrue(out.startswith("usage: parklink") or out.startswith("parklink "))
        for cmd in COMMANDS:
            with self.subTest(cmd):
                for args in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
                    rc, out, err = run(args)
                    self.assertEqual(rc, 0, err)
                    self.assertTrue(out.startswith("usage: parklink " + cmd), out)
                    self.assertIn("--help", out)

    def test_bad_usage_exits_2(self):
        rc, out, err = run([])
        self.assertEqual(rc, 2)
        self.assertIn("usage:", err)
        for args in (["frobnicate"], ["--frobnicate"], ["help", "frobnicate"]):
            rc, _, err = run(args)
            self.assertEqual(rc, 2, args)
            self.assertIn("unknown", err)
        for cmd in COMMANDS:
            with self.subTest(cmd):
                rc, out, err = run([cmd, "--no-such-option"])
                self.assertEqual(rc, 2)
                self.assertIn("unknown option '--no-such-option'", err)
                self.assertIn("usage: parklink " + cmd, err)
        rc, _, err = run(["sign", "--key"])
        self.assertEqual(rc, 2)
        self.assertIn("needs a value", err)
        rc, _, err = run(["services", "--json=1"])
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()

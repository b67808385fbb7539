"""callbackkit.py - what the outbox tests (callbacks, long-poll) share.

A `parklink vendor-sim` as the vendor's receiver (fixed port, so it can be stopped and
started again as "the vendor's server went down"), a seeded vendor and park on a
harness.Server, polling helpers, the outbox admin API, and an SDK HTTP-mode terminal
(login, download.do, upload.do acknowledgements) signing like a vendor's client would.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from harness import PARKLINK, SANITIZER_MARKS, Reply, free_port, sign

UID, KEY = 200002, "EA2D90FEEF1E9F8E"
PARK = "20003"


def clean_env():
    e = {k: v for k, v in os.environ.items() if not k.startswith("PARKLINK_")}
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    return e


def wait_until(pred, timeout=10.0, step=0.02, what="condition"):
    """Poll pred() until it returns something truthy; return it, or fail after timeout."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(step)


def data_text(body):
    """The raw text of the top-level `data` member of an envelope body (what the sign covers)."""
    dec = json.JSONDecoder()
    i = body.index('"data"')
    i = body.index(":", i) + 1
    while body[i] in " \t\r\n":
        i += 1
    _, end = dec.raw_decode(body, i)
    return body[i:end]


def sign_ok(body, key=KEY):
    return json.loads(body)["sign"] == sign(data_text(body), key)


class VendorSim:
    """A running `parklink vendor-sim` on a port that survives stop()/start()."""

    def __init__(self, args=(), key=KEY, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="plk-cb-sim-")
        self.extra = list(args)
        self.key = key
        self.proc = None
        self.n = 0

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        self.n += 1
        self.err_path = os.path.join(self.dir, "stderr-%d.log" % self.n)
        self.err = open(self.err_path, "ab")
        args = [PARKLINK, "vendor-sim", "--listen", "127.0.0.1:%d" % self.port, "--key",
                self.key, "--quiet", "--log", os.path.join(self.dir, "messages.jsonl")]
        self.proc = subprocess.Popen(args + self.extra, stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=clean_env())
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

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vendor-sim did not stop")
        self.err.close()
        rc, self.proc = self.proc.returncode, None
        text = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in text:
                raise AssertionError("sanitizer report in vendor-sim stderr:\n" + text[-6000:])
        return rc

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def request(self, method, path, body=None, timeout=10):
        if isinstance(body, str):
            body = body.encode("utf-8")
        req = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Reply(r.status, r.read(), r.headers)
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), e.headers)

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

    def reset(self):
        assert self.request("POST", "/_sim/reset").status == 200


def seed(srv, callback_url="", uid=UID, key=KEY, parks=(PARK,)):
    r = srv.admin("POST", "/vendors", {"union_id": uid, "ukey": key, "name": "vendor",
                                       "callback_url": callback_url})
    assert r.status in (200, 201), r
    for p in parks:
        r = srv.admin("POST", "/parks", {"park_id": p, "union_id": uid, "name": "park " + p})
        assert r.status in (200, 201), r


def command(srv, name, fields, status=202):
    r = srv.admin("POST", "/commands/" + name, fields)
    assert r.status == status, r
    return r.json


def space(srv, free, park=PARK, **extra):
    body = {"park_id": park, "total_space": 100, "free_space": free}
    body.update(extra)
    return command(srv, "space_notify", body)["id"]


def message(srv, mid):
    r = srv.admin("GET", "/outbox/%d" % mid)
    assert r.status == 200, r
    return r.json


def wait_state(srv, mid, state, timeout=15.0):
    return wait_until(lambda: (lambda m: m if m["state"] == state else None)(message(srv, mid)),
                      timeout, what="message %d %s" % (mid, state))


class Terminal:
    """An SDK HTTP-mode terminal (spec 12.4) of vendor uid at one park."""

    def __init__(self, srv, park=PARK, uid=UID, key=KEY, local_id="lane-pc-1"):
        self.srv, self.park, self.uid, self.key, self.local_id = srv, park, uid, key, local_id
        self.token = None

    def envelope(self, name, data, token=True):
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        body = {"service_name": name}
        if token:
            body["token"] = self.token
        head = json.dumps(body, ensure_ascii=False)[:-1]
        return '%s,"sign":"%s","data":%s}' % (head, sign(text, self.key), text)

    def login(self):
        r = self.srv.post("/bpd/upload.do", self.envelope(
            "login", {"union_id": str(self.uid), "park_id": self.park,
                      "local_id": self.local_id}, token=False))
        assert r.status == 200 and r.json["state"] == 1, r
        self.token = r.json["token"]
        return r.json

    def download(self, timeout=30):
        return self.srv.post("/bpd/download.do", json.dumps({"token": self.token}),
                             timeout=timeout)

    def ack(self, name, state=1, message_id=None, **fields):
        data = {"service_name": name, "state": state}
        if message_id is not None:
            data["message_id"] = message_id
        data.update(fields)
        r = self.srv.post("/bpd/upload.do", self.envelope(name, data))
        assert r.status == 200, r
        return r.json


class Background:
    """Run fn() on a thread; .result() joins and returns its value (or raises its error)."""

    def __init__(self, fn):
        self.value, self.error, self.started = None, None, time.time()
        self.t = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self.t.start()

    def _run(self, fn):
        try:
            self.value = fn()
        except BaseException as e:  # reported by result()
            self.error = e
        self.ended = time.time()

    def result(self, timeout=60):
        self.t.join(timeout)
        if self.t.is_alive():
            raise AssertionError("background call did not finish")
        if self.error is not None:
            raise self.error
        return self.value

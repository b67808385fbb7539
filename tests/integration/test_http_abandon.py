"""test_http_abandon.py - clients that hang up right after sending a 3.1 entry (issue 17, #5).

Hundreds of clients on parallel threads send a signed entry upload and go: some close (FIN),
some reset (RST), some send two entries pipelined and close, some stop in the middle of the
body; a few shut down only their sending side and wait for the answer. h2o 2.2's HTTP/1 stops
reading a connection while its request is processed, so the server notices the hangup only
when it writes the reply to a dead socket, after the write was committed (the pipeline's
abandon path proper, a request freed while its job is queued, is driven by
tests/unit/server/test_pipeline_abandon.c). Afterwards the server must be healthy (nothing in
flight, connections closed, new uploads answered), exit 0 on SIGTERM with no sanitizer
report, and what it stored must be consistent: every request that arrived whole before the
hangup is stored exactly once and as sent, one the server may not have read before a reset
at most once and then whole, one cut off in its body not at all, and nothing else is.
"""
import json
import re
import socket
import struct
import threading
import time
import unittest

from harness import Server, envelope
from recordkit import A_KEY, A_UID, Vendor, db

PARK = "H1"
THREADS = 8
PER_THREAD = 40  # 320 clients
IN_TIME = 1700000000


def entry(order_id, n, plate=None):
    """One car's entry; each car enters once (a second entry would close its first)."""
    return {"car_number": "京H%05d" % (n if plate is None else plate), "in_time": IN_TIME + n, "order_id": order_id,
            "empty_plot": n % 90, "park_id": PARK, "union_id": A_UID, "remark": "r-" + order_id}


def http_request(port, data):
    body = envelope(data, A_KEY).encode("utf-8")
    head = ("POST /unionapi/neworder/addorder HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json;charset=utf-8\r\nContent-Length: %d\r\n\r\n"
            % (port, len(body))).encode("ascii")
    return head + body


def wait_for(what, pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class AbandonedUploads(unittest.TestCase):
    def setUp(self):
        self.srv = Server(threads=2).start()
        self.addCleanup(self.srv.cleanup)
        self.a = Vendor(self.srv, A_UID, A_KEY).register("A")
        self.assertEqual(self.a.publish(PARK)["state"], 1)

    def metric(self, name):
        m = re.search(r"^%s (\d+)$" % name, self.srv.get("/metrics").text, re.M)
        self.assertIsNotNone(m, name)
        return int(m.group(1))

    def test_clients_that_hang_up_after_sending(self):
        # must: arrived whole before the hangup; maybe: the server may see the hangup
        # first (a reset can discard what it had not read yet; a second pipelined request
        # is read only if the first reply's write did not already fail)
        must, maybe, cut, answers, errors = {}, {}, set(), [], []
        lock = threading.Lock()

        def client(t):
            for k in range(PER_THREAD):
                n = t * PER_THREAD + k
                order = "ab-%03d" % n
                kind = n % 5
                data = entry(order, n)
                raw = http_request(self.srv.port, data)
                try:
                    s = socket.create_connection(("127.0.0.1", self.srv.port), timeout=10)
                    if kind == 0:  # send, close: FIN
                        s.sendall(raw)
                    elif kind == 1:  # send, reset: RST
                        s.sendall(raw)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                    elif kind == 2:  # two uploads pipelined, close after the second
                        second = entry(order + "-b", n, plate=50000 + n)
                        s.sendall(raw + http_request(self.srv.port, second))
                        with lock:
                            maybe[order + "-b"] = second
                    elif kind == 3:  # cut off in the middle of the body, then close
                        s.sendall(raw[:len(raw) - 20])
                    else:  # half-close: the client still waits for its answer
                        s.sendall(raw)
                        s.shutdown(socket.SHUT_WR)
                        reply = b""
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            reply += chunk
                        with lock:
                            answers.append((order, reply))
                    s.close()
                except OSError as e:
                    with lock:
                        errors.append((order, repr(e)))
                    continue
                with lock:
                    if kind == 3:
                        cut.add(order)
                    elif kind == 1:
                        maybe[order] = data
                    else:
                        must[order] = data

        threads = [threading.Thread(target=client, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(len(must) + len(maybe) + len(cut), THREADS * PER_THREAD * 6 // 5)

        # every connection is closed and no request is left in flight
        wait_for("no request in flight", lambda: self.metric("parklink_requests_in_flight") == 0)
        wait_for("connections closed", lambda: self.metric("parklink_connections_open") <= 1)

        # a client that only half-closed was answered; HTTP/1 closes after a half-close
        self.assertEqual(len(answers), THREADS * PER_THREAD // 5)
        for order, reply in answers:
            head, _, body = reply.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), (order, reply[:200]))
            self.assertEqual(json.loads(body), {"state": 1, "errmsg": "上传成功",
                                                "order_id": order, "escapeOrder": []})

        # what arrived whole is stored exactly once and as sent; what was cut off, or
        # never sent, is not
        with db(self.srv) as con:
            rows = con.execute("SELECT order_id, car_number, in_time, in_empty_plot, in_remark, "
                               "union_id, state, out_time FROM orders WHERE park_id = ?",
                               (PARK,)).fetchall()
        stored = {}
        for r in rows:
            self.assertNotIn(r["order_id"], stored, "stored twice")
            stored[r["order_id"]] = r
        missing = set(must) - set(stored)
        self.assertEqual(missing, set(), "uploads that arrived whole are not stored")
        self.assertLessEqual(set(stored), set(must) | set(maybe))
        sent = dict(maybe, **must)
        for order, r in stored.items():
            data = sent[order]
            self.assertEqual(
                (r["car_number"], r["in_time"], r["in_empty_plot"], r["in_remark"],
                 r["union_id"], r["state"], r["out_time"]),
                (data["car_number"], data["in_time"], data["empty_plot"], data["remark"],
                 str(A_UID), 0, 0), order)
        self.assertFalse(cut & set(stored))

        # the server goes on: a new upload is answered and stored
        self.assertEqual(self.a.entry(PARK, "after", "京H99999")["errmsg"], "上传成功")
        self.assertIsNotNone(wait_for("healthz", lambda: self.srv.get("/healthz").status == 200))
        self.assertEqual(self.srv.stop(), 0)  # also fails on a sanitizer report


if __name__ == "__main__":
    unittest.main()

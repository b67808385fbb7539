"""test_callback_resend.py - `attempts` counts every send (issue 11, item 10).

libcurl silently sends a request again on a fresh connection when a reused keep-alive
connection closes without a byte of answer. A raw-socket receiver that answers the first
callback (keeping the connection open), then reads the second one and drops the connection,
sees that second callback twice; the outbox must say so: attempts == requests received.
Env: PARKLINKD, PARKLINK.
"""
import socket
import threading
import unittest

from callbackkit import PARK, UID, command, message, seed, wait_state
from harness import Server, free_port

OK = b'{"state":1,"errmsg":"ok"}'


class DroppingReceiver:
    """HTTP/1.1 receiver on a raw socket. drop: how many requests to read and then close the
    connection without answering, after the first one answered (keep-alive)."""

    def __init__(self, drop=1):
        self.port = free_port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.lock = threading.Lock()
        self.requests = []  # (connection number, body) per request read
        self.answered, self.drop, self.conns = 0, drop, 0
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def url(self):
        return "http://127.0.0.1:%d/cb" % self.port

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self.conn, args=(c, self.conns), daemon=True).start()

    def read_request(self, c, buf):
        while b"\r\n\r\n" not in buf:
            chunk = c.recv(65536)
            if not chunk:
                return None, b""
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(rest) < length:
            chunk = c.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return rest[:length], rest[length:]

    def conn(self, c, n):
        buf = b""
        with c:
            while True:
                body, buf = self.read_request(c, buf)
                if body is None:
                    return
                with self.lock:
                    self.requests.append((n, body))
                    drop = self.answered >= 1 and self.drop > 0
                    if drop:
                        self.drop -= 1
                    else:
                        self.answered += 1
                if drop:
                    c.shutdown(socket.SHUT_RDWR)  # read it, then go away without a word
                    return
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(OK), OK))

    def seen(self, needle):
        with self.lock:
            return [n for n, b in self.requests if needle in b]

    def close(self):
        self.sock.close()


class Resend(unittest.TestCase):

    def test_attempts_count_every_send(self):
        rx = DroppingReceiver(drop=1)
        srv = Server(extra_args=["--retry-scale", "0.01", "--delivery-concurrency", "1"]).start()
        try:
            seed(srv, rx.url())
            first = command(srv, "operate_liftrod", {"park_id": PARK, "channel_id": "A1",
                                                     "operate": 0, "liftrod_id": "FIRST"})["id"]
            wait_state(srv, first, "delivered")
            second = command(srv, "operate_liftrod", {"park_id": PARK, "channel_id": "A1",
                                                      "operate": 0, "liftrod_id": "SECOND"})["id"]
            row = wait_state(srv, second, "delivered")
            sends = rx.seen(b"SECOND")
            # the receiver read it on the kept-alive connection, dropped it, and read it again
            self.assertEqual(len(sends), 2, rx.requests)
            self.assertEqual(row["attempts"], len(sends), row)
            self.assertEqual(message(srv, first)["attempts"], len(rx.seen(b"FIRST")))
            srv.stop()
        finally:
            srv.cleanup()
            rx.close()


if __name__ == "__main__":
    unittest.main()

"""test_http_hostile.py - what an attacker sends at the HTTP level, over raw sockets.

Request smuggling through ambiguous framing (two Content-Lengths, Content-Length with
Transfer-Encoding): one 400, then the connection closes and the rest is never served. Body
caps in the default configuration (admin API on the vendors' address): a vendor path, and an
admin path without the token, refuse a body over --body-max from its headers alone, and a
chunked body as it grows; a connection whose first request carries the admin token keeps the
admin cap for bulk imports. Heads over parklinkd's limits get 431 in the JSON shape, and
status lines carry the reason phrase of their status.
"""
import json
import select
import socket
import unittest
import urllib.parse

from harness import ADMIN_TOKEN, ServerTestCase

from test_http import PARK, UKEY, UNION_ID, seed  # the same vendor and park

TOKEN = ADMIN_TOKEN.encode()


def replies(data):
    """The (status, head, body) of every HTTP/1.1 reply in data, in order (Content-Length
    framed, as parklinkd always sends)."""
    out = []
    while data.startswith(b"HTTP/1.1 "):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        text = head.decode("latin-1")
        n = 0
        for line in text.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                n = int(value.strip())
        out.append((int(text.split(" ", 2)[1]), text, rest[:n]))
        data = rest[n:]
    return out


class Raw:
    """One client connection: send bytes, read replies; eof tells whether the server closed."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.data = b""
        self.eof = False

    def send(self, raw):
        try:
            self.sock.sendall(raw)
            return True
        except OSError:  # the server refused and closed while we were still sending
            return False

    def read_reply(self):
        """Read until one whole reply is in; returns it (or None at EOF/timeout)."""
        while True:
            got = replies(self.data)
            if got:
                status, head, body = got[0]
                whole = self.data.index(b"\r\n\r\n") + 4 + len(body)
                self.data = self.data[whole:]
                return status, head, body
            if not self._recv():
                return None

    def read_to_eof(self):
        """Everything until the server closes; self.eof False if it kept the connection open
        for the whole timeout."""
        while self._recv():
            pass
        return self.data

    def _recv(self):
        try:
            part = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.eof = True
            return False
        if not part:
            self.eof = True
            return False
        self.data += part
        return True

    def close(self):
        self.sock.close()


def post_head(path, *headers):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers)
            + b"\r\n")


def blacklist_add(plate):
    """A whole admin request adding plate to the blacklist: what a smuggler hides."""
    body = json.dumps({"plate": plate, "color": -1, "reason": "smuggled"},
                      ensure_ascii=False).encode()
    return (b"POST /admin/v1/blacklist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN +
            b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


class Smuggling(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed(cls.srv)

    def on_the_list(self, plate):
        r = self.srv.admin("GET", "/blacklist?plate=" + urllib.parse.quote(plate))
        self.assertEqual(r.status, 200, r)
        return r.json["items"] if "items" in r.json else r.json

    def assert_one_400_then_eof(self, c, what):
        data = c.read_to_eof()
        got = replies(data)
        self.assertEqual([s for s, _, _ in got], [400], (what, data[:600]))
        status, head, body = got[0]
        self.assertIn("Connection: close", head, what)
        self.assertIn("application/json", head, what)
        reply = json.loads(body)
        self.assertEqual(reply["state"], 0, reply)
        self.assertIn("HTTP请求格式错误", reply["errmsg"], reply)
        self.assertTrue(c.eof, "%s: the connection stayed open after the 400" % what)

    def smuggle(self, what, framing, body, plate, prefix=b""):
        c = Raw(self.srv.port)
        try:
            c.send(prefix + post_head(b"/unionapi/neworder/uploadData", *framing) + body +
                   blacklist_add(plate))
            if prefix:
                self.assertEqual(c.read_reply()[0], 200, what)  # the honest request before
            self.assert_one_400_then_eof(c, what)
        finally:
            c.close()
        # the request hidden behind the body was never run
        self.assertEqual(self.on_the_list(plate), [], what)

    def test_two_content_lengths_short_first(self):
        self.smuggle("CL 5, CL 40", (b"Content-Length: 5", b"Content-Length: 40"), b"{}{}{",
                     "京S00001")

    def test_two_content_lengths_long_first(self):
        # h2o takes the first (5): the 40 bytes it would not read are the smuggled request
        self.smuggle("CL 5, CL 200", (b"Content-Length: 5", b"content-length:  200 "),
                     b"abcde", "京S00002")

    def test_content_length_with_transfer_encoding(self):
        for i, framing in enumerate(((b"Content-Length: 3", b"Transfer-Encoding: chunked"),
                                     (b"Transfer-Encoding: chunked", b"Content-Length: 3"))):
            self.smuggle("CL with TE %d" % i, framing, b"3\r\nabc\r\n0\r\n\r\n", "京S0001%d" % i)

    def test_transfer_encoding_twice(self):
        self.smuggle("TE twice", (b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"),
                     b"3\r\nabc\r\n0\r\n\r\n", "京S00020")

    def test_smuggling_behind_a_pipelined_request(self):
        # the check reads each request's own head, not only a connection's first
        honest = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        self.smuggle("after a pipelined GET", (b"Content-Length: 5", b"Content-Length: 40"),
                     b"{}{}{", "京S00030", prefix=honest)

    def test_smuggling_on_a_kept_alive_connection(self):
        c = Raw(self.srv.port)
        try:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_reply()[0], 200)
            c.send(post_head(b"/admin/v1/vendors", b"Content-Length: 2",
                             b"Content-Length: 3") + b"{}" + blacklist_add("京S00040"))
            self.assert_one_400_then_eof(c, "second request")
        finally:
            c.close()
        self.assertEqual(self.on_the_list("京S00040"), [])

    def test_identical_content_lengths_frame_the_same(self):
        # RFC 9112 6.3: repeated identical values agree on the framing; they are served
        c = Raw(self.srv.port)
        try:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                   b"Content-Length: 0\r\nConnection: close\r\n\r\n")
            self.assertEqual([s for s, _, _ in replies(c.read_to_eof())], [200])
        finally:
            c.close()


class BodyCaps(ServerTestCase):
    """The default configuration: the admin API on the vendors' address."""
    server_args = ("--body-max", "2k", "--admin-body-max", "100k")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed(cls.srv)

    def refused_from_headers(self, head, cap, prefix=b""):
        """Send prefix and a head announcing a body that is never sent: the reply must come
        anyway, 413 naming cap."""
        c = Raw(self.srv.port)
        try:
            if prefix:
                c.send(prefix)
                self.assertEqual(c.read_reply()[0], 200)
            c.send(head)
            got = c.read_reply()
        finally:
            c.close()
        self.assertIsNotNone(got, "no reply: the server waits for a body it will not get")
        status, text, body = got
        self.assertEqual(status, 413, text)
        self.assertIn("413 Payload Too Large", text)
        reply = json.loads(body)
        self.assertEqual(reply["state"], 0)
        self.assertIn("请求体过大", reply["errmsg"])
        self.assertIn("上限 %d 字节" % cap, reply["errmsg"])
        return reply

    def test_vendor_content_length_over_the_cap(self):
        self.refused_from_headers(post_head(b"/unionapi/neworder/uploadData",
                                            b"Content-Length: 10000000"), 2048)

    def test_vendor_content_length_over_the_cap_on_a_kept_alive_connection(self):
        self.refused_from_headers(post_head(b"/unionapi/neworder/uploadData",
                                            b"Content-Length: 10000000"), 2048,
                                  prefix=b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")

    def test_admin_path_without_the_token_gets_the_vendor_cap(self):
        for auth in ((), (b"Authorization: Bearer not-the-token",)):
            reply = self.refused_from_headers(
                post_head(b"/admin/v1/blacklist", b"Content-Length: 90000", *auth), 2048)
            self.assertIn("管理令牌", reply["errmsg"])  # says how to get the admin cap

    def test_the_admin_cap_is_quoted_when_it_applied(self):
        self.refused_from_headers(post_head(b"/admin/v1/blacklist", b"Authorization: Bearer " +
                                            TOKEN, b"Content-Length: 200000"), 102400)

    def test_chunked_vendor_body_growing_past_the_cap(self):
        c = Raw(self.srv.port)
        sent = 0
        try:
            c.send(post_head(b"/unionapi/neworder/uploadData", b"Transfer-Encoding: chunked"))
            chunk = b"%x\r\n%s\r\n" % (500, b" " * 500)
            for _ in range(200):  # 100 KB at most: far past the 2 KiB cap, within the admin's
                if select.select([c.sock], [], [], 0)[0] or not c.send(chunk):
                    break
                sent += 500
            got = c.read_reply()
        finally:
            c.close()
        self.assertIsNotNone(got, "no reply to a chunked body past the cap (%d bytes)" % sent)
        self.assertEqual(got[0], 413, got)
        self.assertIn("上限 2048 字节", json.loads(got[2])["errmsg"])

    def test_admin_bulk_import_over_the_vendor_cap(self):
        entries = [{"plate": "京Q%05d" % i, "color": 0} for i in range(500)]  # ~15 KiB
        r = self.srv.admin("POST", "/blacklist", {"entries": entries})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["inserted"], 500)
        # and on a kept-alive admin connection, for its later requests too
        body = json.dumps({"entries": [{"plate": "京R%05d" % i} for i in range(300)]},
                          ensure_ascii=False).encode()
        self.assertGreater(len(body), 2048)
        c = Raw(self.srv.port)
        try:
            c.send(b"GET /admin/v1/vendors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   TOKEN + b"\r\n\r\n")
            self.assertEqual(c.read_reply()[0], 200)
            c.send(b"POST /admin/v1/blacklist HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                   TOKEN + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            status, head, reply = c.read_reply()
        finally:
            c.close()
        self.assertEqual(status, 201, reply)
        self.assertEqual(json.loads(reply)["inserted"], 300)


class HeadLimits(ServerTestCase):
    def assert_431(self, got):
        self.assertIsNotNone(got)
        status, head, body = got
        self.assertEqual(status, 431, head)
        self.assertIn("431 Request Header Fields Too Large", head)
        self.assertIn("application/json", head)
        reply = json.loads(body)
        self.assertEqual(reply["state"], 0)
        self.assertIn("请求头过大", reply["errmsg"])

    def first_request(self, raw):
        c = Raw(self.srv.port)
        try:
            c.send(raw)
            return c.read_reply()
        finally:
            c.close()

    def test_long_header_on_a_first_request(self):
        got = self.first_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40000 +
                                 b"\r\n\r\n")
        self.assert_431(got)
        self.assertIn("32768", json.loads(got[2])["errmsg"])

    def test_too_many_headers_on_a_first_request(self):
        for n in (70, 120):  # under and over h2o's own 100
            lines = b"".join(b"X-H%d: 1\r\n" % i for i in range(n))
            self.assert_431(self.first_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + lines +
                                               b"\r\n"))

    def test_long_header_on_a_later_request(self):
        c = Raw(self.srv.port)
        try:
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(c.read_reply()[0], 200)
            c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40000 + b"\r\n\r\n")
            self.assert_431(c.read_reply())
            c.read_to_eof()
            self.assertTrue(c.eof)
        finally:
            c.close()

    def test_a_head_within_the_limits_is_served(self):
        lines = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 400) for i in range(60))  # ~25 KB
        got = self.first_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + lines + b"\r\n")
        self.assertEqual(got[0], 200, got)


class ReasonPhrases(ServerTestCase):
    def status_line(self, raw):
        c = Raw(self.srv.port)
        try:
            c.send(raw)
            return c.read_reply()[1].split("\r\n", 1)[0]
        finally:
            c.close()

    def test_status_lines(self):
        vendor = json.dumps({"union_id": 300003, "ukey": UKEY, "name": "v"}).encode()
        auth = b"Authorization: Bearer " + TOKEN
        cases = [
            (post_head(b"/admin/v1/vendors", auth, b"Content-Length: %d" % len(vendor)) + vendor,
             "HTTP/1.1 201 Created"),
            (b"GET /admin/v1/vendors HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n\r\n",
             "HTTP/1.1 200 OK"),
            (b"GET /admin/v1/vendors HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 401 Unauthorized"),
            (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found"),
            (b"GET /unionapi/neworder/uploadData HTTP/1.1\r\nHost: x\r\n\r\n",
             "HTTP/1.1 405 Method Not Allowed"),
        ]
        for raw, line in cases:
            self.assertEqual(self.status_line(raw), line)


if __name__ == "__main__":
    unittest.main()

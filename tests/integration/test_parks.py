"""test_parks.py - spec 2.1 addpark, 2.2 updatepark, 2.3 getqrcodecloud, 2.5 setUp end to end.

Publishing binds the park to the calling vendor and makes it usable at once (park_check,
entries); re-publishing by the owner updates it, by another vendor is refused; rand must
change between requests; every bad field is refused by name and writes nothing anywhere in
the database (harness.unchanged_db). 2.3 hands
out absolute addresses (--public-url) of real PNG images of QR codes, stable unless create /
change ask otherwise. 2.5 stores the no-plate SMS setting.
"""
import struct
import time
import unittest
import urllib.request
import zlib

from harness import Server, ServerTestCase
from recordkit import A_KEY, A_UID, B_KEY, B_UID, Vendor, db, fresh_rand, park_body

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png(blob):
    """Check a PNG the hard way: signature, chunk CRCs, IHDR, the inflated image data, every
    row's filter; returns (width, height, rows of unfiltered bytes, bit depth)."""
    assert blob[:8] == PNG_SIGNATURE, blob[:8]
    pos, chunks = 8, []
    while pos < len(blob):
        length, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        data = blob[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", blob[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + data) & 0xffffffff == crc, kind
        chunks.append((kind, data))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND", [c[0] for c in chunks]
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert ctype == 0 and interlace == 0 and depth in (1, 8), (ctype, depth)
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    stride = (width * depth + 7) // 8
    assert len(raw) == height * (1 + stride), (len(raw), width, height)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (1 + stride)], bytearray(raw[y * (1 + stride) + 1:(y + 1) * (1 + stride)])
        assert f <= 4, f
        for i in range(stride):
            a = line[i - 1] if i else 0
            b, c = prev[i], prev[i - 1] if i else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xff
            elif f == 2:
                line[i] = (line[i] + b) & 0xff
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xff
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xff
        rows.append(bytes(line))
        prev = line
    return width, height, rows, depth


def dark(rows, depth, x, y):
    if depth == 1:
        return not (rows[y][x // 8] >> (7 - x % 8)) & 1
    return rows[y][x] < 128


class Parks(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = Vendor(cls.srv, A_UID, A_KEY).register("A")
        cls.b = Vendor(cls.srv, B_UID, B_KEY).register("B")

    def park_check(self, park_id, vendor=None):
        return (vendor or self.a).upload(park_id, "park_check", car_number="京A12345")

    def admin_park(self, park_id):
        return self.srv.admin("GET", "/parks/" + park_id)

    # --- 2.1 ----------------------------------------------------------------------------
    def test_publish_binds_and_is_usable_at_once(self):
        r = self.a.publish("P-pub")
        self.assertEqual((r["state"], r["errmsg"], r["park_id"]),
                         (1, "添加车场成功", "P-pub"))
        self.assertIsInstance(r["username"], int)
        self.assertGreaterEqual(r["username"], 1000000)
        # visible to the very next park-scoped calls: park_check and an entry
        self.assertEqual(self.park_check("P-pub")["state"], 1)
        self.assertEqual(self.a.entry("P-pub", "o1", "京A00001")["state"], 1)
        p = self.admin_park("P-pub").json
        self.assertEqual((p["union_id"], p["name"], p["total_plot"], p["empty_plot"]),
                         (str(A_UID), "停车场P-pub", 120, 83))
        with db(self.srv) as con:
            d = con.execute("SELECT * FROM park_details WHERE park_id = 'P-pub'").fetchone()
        self.assertEqual((d["address"], d["city_id"], d["phone"], d["mobile"], d["lng"],
                          d["lat"], d["price_desc"], d["published"]),
                         ("北京上地三街9号", 110000, "13900944433", "13900944433",
                          "116.307852", "40.057031", "2元每小时", 1))

    def test_reference_example_publishes(self):
        # spec 2.1's example body (ids as it prints them), with this test's vendor
        body = {"park_id": "10001", "name": "北京上地三街9号院停车场",
                "address": "北京上地三街9号",
                "phone": "139000334443", "lng": "123.999999", "city_id": 110000,
                "lat": "332.466666", "total_plot": 122, "empty_plot": 34, "union_id": A_UID,
                "price_desc": "2元每小时", "remark": "简要说明",
                "rand": "0.0689257123595276"}
        r = self.a.call("newpark/addpark", body)
        self.assertEqual(r["state"], 1, r)

    def test_republish_by_owner_updates_and_rand_must_change(self):
        self.assertEqual(self.a.publish("P-re")["state"], 1)
        rand = fresh_rand()
        r = self.a.publish("P-re", name="新名字", total_plot=200, empty_plot=150, rand=rand)
        self.assertEqual((r["state"], r["errmsg"]), (1, "添加车场成功"))
        self.assertEqual(self.admin_park("P-re").json["name"], "新名字")
        with self.unchanged_db(what="a replayed 2.1"):
            again = self.a.publish("P-re", name="重放", rand=rand, empty_plot=1)
            self.assertEqual((again["state"], again["errmsg"]),
                             (0, "rand与上次请求相同，请求无效"))
        self.assertEqual(self.admin_park("P-re").json["name"], "新名字")

    def test_other_vendor_cannot_take_a_park(self):
        self.assertEqual(self.a.publish("P-owned")["state"], 1)
        with self.unchanged_db(what="another vendor's 2.1 of a taken park"):
            r = self.b.publish("P-owned", name="hijack")
            self.assertEqual((r["state"], r["errmsg"]), (0, "车场已由其他厂商发布"))
        p = self.admin_park("P-owned").json
        self.assertEqual((p["union_id"], p["name"]), (str(A_UID), "停车场P-owned"))
        # and B cannot use it either
        self.assertEqual(self.park_check("P-owned", self.b)["errmsg"], "无权操作该车场")

    def test_bad_publishes_are_refused_and_write_nothing(self):
        cases = [
            ({"name": None}, "字段 name 缺失"),
            ({"total_plot": "many"}, "字段 total_plot 类型错误"),
            ({"name": "长" * 256}, "字段 name 超长(最多255个字符)"),
            ({"phone": "call me"}, "字段 phone 取值无效"),
            ({"lng": "east"}, "字段 lng 取值无效"),
            ({"city_id": 12}, "字段 city_id 取值无效"),
            ({"rand": "abc"}, "字段 rand 取值无效"),
            ({"docking_type": 1}, "字段 docking_type 取值无效"),
            ({"empty_plot": 500}, "空车位数不能大于总车位数"),
            ({"park_id": "a/b"}, "字段 park_id 取值无效"),
            ({"name": "   "}, "字段 name 取值无效"),
        ]
        with self.unchanged_db(what="refused 2.1 publishes"):
            for over, msg in cases:
                body = park_body("P-bad", A_UID)
                body.update(over)
                body = {k: v for k, v in body.items() if v is not None}
                r = self.a.call("newpark/addpark", body)
                self.assertEqual(r["state"], 0, (over, r))
                self.assertTrue(r["errmsg"].startswith(msg), (over, r))
            r = self.a.call("newpark/addpark", park_body("P-bad", A_UID), key="0" * 16)
            self.assertEqual((r["state"], r["errmsg"]), (0, "签名错误"))
            r = self.srv.call("newpark/addpark", park_body("P-bad", 999999), A_KEY)
            self.assertEqual((r.json["state"], r.json["errmsg"][:5]), (0, "厂商不存在"))
        self.assertEqual(self.admin_park("P-bad").status, 404)
        with db(self.srv) as con:
            self.assertIsNone(con.execute(
                "SELECT 1 FROM park_details WHERE park_id = 'P-bad'").fetchone())

    # --- 2.2 ----------------------------------------------------------------------------
    def update(self, park_id, vendor=None, **fields):
        data = {"park_id": park_id, "type": 1, "rand": fresh_rand()}
        data.update(fields)
        return (vendor or self.a).call("newpark/updatepark", data)

    def test_update_plots_tariff_phones(self):
        self.a.publish("P-up")
        r = self.update("P-up", empty_plot=7, total_plot=100, price_desc="3元每小时",
                        phone="010-22345625", mobile="13900944432")
        self.assertEqual((r["state"], r["errmsg"], r["park_id"]), (1, "修改车场成功", "P-up"))
        p = self.admin_park("P-up").json
        self.assertEqual((p["empty_plot"], p["total_plot"]), (7, 100))
        with db(self.srv) as con:
            d = con.execute("SELECT * FROM park_details WHERE park_id = 'P-up'").fetchone()
        self.assertEqual((d["price_desc"], d["phone"], d["mobile"], d["empty_plot"]),
                         ("3元每小时", "010-22345625", "13900944432", 7))
        # the reference's example omits total_plot: the stored total stands
        self.assertEqual(self.update("P-up", empty_plot=9)["state"], 1)
        self.assertEqual(self.admin_park("P-up").json["total_plot"], 100)

    def test_update_rules(self):
        self.a.publish("P-up2")
        with self.unchanged_db(what="refused 2.2 updates"):
            r = self.update("P-up2")
            self.assertEqual((r["state"], r["errmsg"]),
                             (0, "字段 empty_plot 缺失(type 为 1 时必填)"))
            r = self.update("P-up2", empty_plot=500)
            self.assertEqual((r["state"], r["errmsg"][:12]), (0, "空车位数不能大于总车位数"))
        rand = fresh_rand()
        self.assertEqual(self.update("P-up2", empty_plot=5, rand=rand)["state"], 1)
        with self.unchanged_db(what="refused 2.2 updates"):
            r = self.update("P-up2", empty_plot=6, rand=rand)
            self.assertEqual((r["state"], r["errmsg"]), (0, "rand与上次请求相同，请求无效"))
            self.assertEqual(self.update("P-up2", type=3)["errmsg"],
                             "字段 type 取值无效(可选 1|2)")
            r = self.update("P-up2", vendor=self.b, empty_plot=1)
            self.assertEqual((r["state"], r["errmsg"]), (0, "无权操作该车场"))
            r = self.update("P-nowhere", empty_plot=1)
            self.assertEqual((r["state"], r["errmsg"]), (0, "云平台车场不存在"))
        self.assertEqual(self.admin_park("P-up2").json["empty_plot"], 5)

    def test_disable_then_republish(self):
        self.a.publish("P-off")
        self.assertEqual(self.park_check("P-off")["data"]["status"], "1")
        r = self.a.call("newpark/updatepark", {"park_id": "P-off", "type": 2,
                                               "rand": fresh_rand()})
        self.assertEqual((r["state"], r["errmsg"]), (1, "修改车场成功"))
        d = self.park_check("P-off")["data"]
        self.assertEqual((d["status"], d["reason"]), ("0", "99"))
        self.assertTrue(self.admin_park("P-off").json["suspended"])
        self.assertEqual(self.a.publish("P-off")["state"], 1)
        self.assertEqual(self.park_check("P-off")["data"]["status"], "1")

    # --- 2.3 ----------------------------------------------------------------------------
    def qr(self, park_id, type_, channel=None, vendor=None, **kw):
        data = {"park_id": park_id, "type": type_}
        if channel is not None:
            data["channel_id"] = channel
        data.update(kw)
        return (vendor or self.a).call("getqrcodecloud", data)

    def fetch(self, url):
        self.assertTrue(url.startswith(self.srv.base + "/qr/"), url)
        return self.srv.get(url[len(self.srv.base):])

    def test_qr_code_is_a_real_png(self):
        self.a.publish("P-qr")
        r = self.qr("P-qr", 2, "通道一")
        self.assertEqual((r["state"], r["errmsg"], r["type"], r["channel_id"]),
                         (1, "getCodeUrl success", 2, "通道一"))
        img = self.fetch(r["code_url"])
        self.assertEqual(img.status, 200)
        self.assertEqual(img.headers["Content-Type"], "image/png")
        blob = urllib.request.urlopen(r["code_url"], timeout=10).read()
        width, height, rows, depth = decode_png(blob)
        self.assertEqual(width, height)
        self.assertEqual(width % 8, 0)
        modules = width // 8 - 8  # 8 px per module, 4-module quiet zone each side
        self.assertGreaterEqual(modules, 21)
        self.assertEqual((modules - 17) % 4, 0)  # a QR version's width
        q = 4 * 8
        self.assertFalse(dark(rows, depth, 4, 4))              # quiet zone
        self.assertTrue(dark(rows, depth, q + 4, q + 4))       # finder: outer ring
        self.assertFalse(dark(rows, depth, q + 12, q + 12))    # finder: white ring
        self.assertTrue(dark(rows, depth, q + 28, q + 28))     # finder: centre
        self.assertTrue(dark(rows, depth, width - q - 4, q + 4))  # top-right finder

    def test_qr_codes_stable_create_change(self):
        self.a.publish("P-qr2")
        first = self.qr("P-qr2", 3, "A1")["code_url"]
        with self.unchanged_db(what="asking 2.3 for an existing code"):
            self.assertEqual(self.qr("P-qr2", 3, "A1")["code_url"], first)  # existing one
            self.assertEqual(self.qr("P-qr2", 3, "A1", change=1)["code_url"], first)  # no create
        second = self.qr("P-qr2", 3, "A1", create=1)["code_url"]
        self.assertNotEqual(second, first)
        self.assertEqual(self.fetch(first).status, 200)                     # both valid
        third = self.qr("P-qr2", 3, "A1", create=1, change=1)["code_url"]
        self.assertEqual(self.fetch(third).status, 200)
        for gone in (first, second):
            g = self.fetch(gone)
            self.assertEqual((g.status, g.json["state"]), (404, 0))
        self.assertEqual(self.qr("P-qr2", 3, "A1")["code_url"], third)
        # other lanes and kinds have codes of their own; the prepay code has no lane
        self.assertNotEqual(self.qr("P-qr2", 3, "A2")["code_url"], third)
        pre = self.qr("P-qr2", 1)
        self.assertEqual((pre["state"], pre["type"]), (1, 1))
        self.assertNotIn("channel_id", pre)
        self.assertEqual(self.qr("P-qr2", 1, "A9")["code_url"], pre["code_url"])

    def test_qr_rules(self):
        self.a.publish("P-qr3")
        with self.unchanged_db(what="refused 2.3 calls"):
            self.qr_refusals()

    def qr_refusals(self):
        r = self.qr("P-qr3", 2)
        self.assertEqual((r["state"], r["errmsg"]),
                         (0, "字段 channel_id 缺失(type 为 2 或 3 时必填车道编号)"))
        self.assertEqual(self.qr("P-qr3", 4, "A1")["errmsg"], "字段 type 取值无效(可选 1|2|3)")
        self.assertEqual(self.qr("P-qr3", 2, "A1", vendor=self.b)["errmsg"], "无权操作该车场")
        self.assertEqual(self.qr("P-none", 2, "A1")["errmsg"], "云平台车场不存在")
        for path in ("/qr/999999.png", "/qr/abc.png", "/qr/1.gif"):
            self.assertEqual(self.srv.get(path).status, 404, path)
        self.assertEqual(self.srv.post("/qr/1.png", "{}").status, 405)

    # --- 2.5 ----------------------------------------------------------------------------
    def sms(self, park_id, config, vendor=None):
        return (vendor or self.a).call("newpark/setUp", {"park_id": park_id,
                                                         "nolience_config": config})

    def test_sms_setting(self):
        self.a.publish("P-sms")
        r = self.sms("P-sms", {"is_verify": 1})
        self.assertEqual(r, {"state": 1, "errmsg": "设置成功"})
        with db(self.srv) as con:
            self.assertEqual(con.execute("SELECT sms_verify FROM park_details "
                                         "WHERE park_id = 'P-sms'").fetchone()[0], 1)
        self.assertEqual(self.sms("P-sms", {"is_verify": "0"})["state"], 1)
        with db(self.srv) as con:
            self.assertEqual(con.execute("SELECT sms_verify FROM park_details "
                                         "WHERE park_id = 'P-sms'").fetchone()[0], 0)
        with self.unchanged_db(what="refused 2.5 settings"):
            self.assertEqual(self.sms("P-sms", {})["errmsg"],
                             "字段 nolience_config.is_verify 缺失")
            self.assertEqual(self.sms("P-sms", {"is_verify": 2})["errmsg"],
                             "字段 nolience_config.is_verify 取值无效(可选 0|1)")
            self.assertEqual(self.sms("P-sms", "on")["errmsg"], "字段 nolience_config 类型错误")
            self.assertEqual(self.sms("P-sms", {"is_verify": 1}, self.b)["errmsg"],
                             "无权操作该车场")


class PublicUrl(unittest.TestCase):
    def test_code_url_uses_public_url(self):
        with Server(extra_args=["--public-url", "https://parking.example.com/"]) as srv:
            a = Vendor(srv, A_UID, A_KEY).register()
            a.publish("P-url")
            r = a.call("getqrcodecloud", {"park_id": "P-url", "type": 2, "channel_id": "A1"})
            self.assertRegex(r["code_url"], r"^https://parking\.example\.com/qr/\d+\.png$")
            path = r["code_url"][len("https://parking.example.com"):]
            self.assertEqual(srv.get(path).status, 200)

    def test_bad_public_url_refused_at_start(self):
        srv = Server(extra_args=["--public-url", "ftp://x"])
        try:
            with self.assertRaises(AssertionError):
                srv.start(timeout=5)
            self.assertIn("must start with http:// or https://", srv.log())
        finally:
            self.assertEqual(srv.stop(expect_rc=None), 1)  # refused: exit status 1
            srv.cleanup()


if __name__ == "__main__":
    unittest.main()

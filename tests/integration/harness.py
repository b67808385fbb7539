"""harness.py - start the real parklinkd for integration tests, talk to it, stop it.

Every integration test goes through this module: a server on a free loopback port with a
temporary SQLite database and a known admin token, /healthz polled until it answers, and on
stop its stderr scanned for sanitizer reports (a report fails the test). With
PLK_TEST_ENGINE=postgresql (the tests ctest registers as ...@postgresql) the store is a fresh
database on the cluster PLK_TEST_PG names instead (created with psql, dropped at cleanup), and
db_contents reads it through psql; PLK_TEST_PG unset then fails the test. unchanged_db()
checks that a block of refused or repeated requests left every row of every table as it
was. Signing here uses hashlib only to build requests the way a vendor's client would; the
product's own signing is tested through libparklink and the CLI.
"""
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

PARKLINKD = os.environ.get("PARKLINKD", "../../build/server/parklinkd")
PARKLINK = os.environ.get("PARKLINK", "../../build/cli/parklink")
ADMIN_TOKEN = "test-admin-token-0123456789"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                   "WARNING: ThreadSanitizer")
# what a C assertion, an abort or h2o's fatal path print: any of them fails the test too
ABORT_MARKS = ("Assertion `", "Assertion failed", "fatal:", "Aborted", "core dumped")


ENGINE = os.environ.get("PLK_TEST_ENGINE", "sqlite") or "sqlite"
if ENGINE not in ("sqlite", "postgresql"):
    raise RuntimeError("PLK_TEST_ENGINE=%r: expected sqlite or postgresql" % ENGINE)
PG_URI_FILE = "pg-store.uri"  # in a server's dir: the database a restarted server reuses


def pg_base():
    base = os.environ.get("PLK_TEST_PG", "")
    if not base:
        raise AssertionError("PLK_TEST_ENGINE=postgresql but PLK_TEST_PG is unset: run the "
                             "tests with scripts/test.sh (it starts a PostgreSQL cluster)")
    return base


def pg_uri(base, dbname):
    """base (a postgresql:// URI) with its database replaced by dbname."""
    scheme, rest = base.split("://", 1)
    rest, sep, query = rest.partition("?")
    authority = rest.split("/", 1)[0]
    return "%s://%s/%s%s%s" % (scheme, authority, dbname, sep, query)


def psql(uri, sql):
    """Run sql with psql on uri; its unaligned, tuples-only output."""
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", uri, "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("psql %s: %s" % (sql[:80], r.stderr.strip()))
    return r.stdout


def pg_create_db():
    name = "plk_it_" + os.urandom(8).hex()
    psql(pg_base(), "CREATE DATABASE %s" % name)
    return pg_uri(pg_base(), name)


def pg_drop_db(uri):
    name = uri.split("://", 1)[1].split("?", 1)[0].split("/", 1)[1]
    psql(pg_base(), "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(data_text, key):
    """Current scheme: upper(hex(md5(data_text + 'key=' + key)))."""
    return hashlib.md5((data_text + "key=" + key).encode("utf-8")).hexdigest().upper()


def envelope(data, key, union_id=None, top_union_id=True):
    """Body text with `data` serialised once and signed over exactly those bytes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    parts = []
    uid = union_id if union_id is not None else data.get("union_id")
    if top_union_id and uid is not None:
        parts.append('"union_id":' + json.dumps(uid))
    parts.append('"sign":"' + sign(text, key) + '"')
    parts.append('"data":' + text)
    return "{" + ",".join(parts) + "}"


def pg_contents(uri, ignore):
    """db_contents for a PostgreSQL store: one REPEATABLE READ snapshot through psql, each
    table as one JSON array (values in column order)."""
    cols = {}
    for line in psql(uri, "SELECT table_name, column_name FROM information_schema.columns "
                          "WHERE table_schema = 'public' ORDER BY table_name, "
                          "ordinal_position").splitlines():
        table, col = line.split("|", 1)
        cols.setdefault(table, []).append(col)
    for table in ignore:
        if table not in cols:
            raise AssertionError("unchanged_db: ignore names no table %r" % table)
    tables = sorted(cols)
    queries = []
    for table in tables:
        skip = set(ignore.get(table, ()))
        if not skip <= set(cols[table]):
            raise AssertionError("unchanged_db: %s has no column %s"
                                 % (table, sorted(skip - set(cols[table]))))
        keep = ", ".join('"%s"' % c for c in cols[table] if c not in skip)
        queries.append("SELECT coalesce(json_agg(json_build_array(%s)), '[]') FROM \"%s\";"
                       % (keep or "1", table))
    out = psql(uri, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; %s COMMIT;"
               % " ".join(queries)).splitlines()
    if len(out) != len(tables):
        raise AssertionError("db_contents: %d tables, %d results" % (len(tables), len(out)))
    return {t: sorted((tuple(r) for r in json.loads(o)), key=repr) for t, o in zip(tables, out)}


def db_contents(path, ignore=None):
    """Every row of every table of the SQLite file at path (sqlite_sequence included), as
    {table: sorted list of rows}. Read through a read-only connection, so beside the running
    server (WAL) it sees exactly what is committed. ignore maps a table to the columns left
    out: values that change by themselves, which the caller must name. A postgresql:// path
    is read with pg_contents."""
    ignore = ignore or {}
    if path.startswith("postgresql://"):
        return pg_contents(path, ignore)
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        out = {}
        con.execute("BEGIN")  # one read transaction: one committed state for all tables
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for table in ignore:
            if table not in tables:
                raise AssertionError("unchanged_db: ignore names no table %r" % table)
        for table in tables:
            cols = [r[1] for r in con.execute('PRAGMA table_info("%s")' % table)]
            skip = set(ignore.get(table, ()))
            if not skip <= set(cols):
                raise AssertionError("unchanged_db: %s has no column %s"
                                     % (table, sorted(skip - set(cols))))
            keep = ", ".join('"%s"' % c for c in cols if c not in skip)
            rows = con.execute('SELECT %s FROM "%s"' % (keep, table)).fetchall()
            out[table] = sorted(rows, key=repr)
        con.execute("COMMIT")
        return out
    finally:
        con.close()


def db_difference(before, after, limit=5):
    """A readable account of what changed between two db_contents(), "" if nothing."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table), after.get(table)
        if old is None or new is None:
            lines.append("table %s %s" % (table, "appeared" if old is None else "vanished"))
            continue
        gone = [r for r in old if r not in new]
        came = [r for r in new if r not in old]
        if gone or came:
            lines.append("table %s: %d row(s) gone, %d new" % (table, len(gone), len(came)))
            lines += ["  - %r" % (r,) for r in gone[:limit]]
            lines += ["  + %r" % (r,) for r in came[:limit]]
    return "\n".join(lines)


@contextlib.contextmanager
def unchanged_db(srv, ignore=None, what="the block"):
    """Fail (AssertionError) when the body of the with-block changed any row of any table of
    srv's database. For refused and repeated requests: they must write nothing, not only
    nothing in the table the test happens to look at."""
    before = db_contents(srv.store, ignore)
    yield
    diff = db_difference(before, db_contents(srv.store, ignore))
    if diff:
        raise AssertionError("%s changed the database:\n%s" % (what, diff))


class Reply:
    def __init__(self, status, body, headers):
        self.status = status
        self.text = body.decode("utf-8", "replace")
        self.headers = headers
        try:
            self.json = json.loads(self.text)
        except ValueError:
            self.json = None

    def __repr__(self):
        return "Reply(%d, %s)" % (self.status, self.text[:300])


class Server:
    """A running parklinkd. Use as a context manager or call start()/stop()."""

    def __init__(self, extra_args=(), db_dir=None, env=None, threads=1, admin_listen=False):
        self.port = free_port()
        # admin_listen: the admin API on an address of its own (--admin-listen); admin()
        # goes there
        self.admin_port = free_port() if admin_listen else None
        self.own_dir = db_dir is None
        self.dir = db_dir or tempfile.mkdtemp(prefix="plk-it-")
        self.db = os.path.join(self.dir, "parklink.db")
        # what --store gets: the SQLite file, or on PostgreSQL a database of its own (kept in
        # the dir, so a server started again on db_dir reuses it)
        self.store = self.db
        self.own_pg = False
        if ENGINE == "postgresql":
            uri_file = os.path.join(self.dir, PG_URI_FILE)
            if os.path.exists(uri_file):
                with open(uri_file) as f:
                    self.store = f.read().strip()
            else:
                self.store = pg_create_db()
                self.own_pg = True
                with open(uri_file, "w") as f:
                    f.write(self.store + "\n")
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.threads = threads
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "stderr-%d.log" % self.port)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        args = [PARKLINKD, "--listen", "127.0.0.1:%d" % self.port, "--store", self.store,
                "--threads", str(self.threads), "--admin-token", ADMIN_TOKEN] + self.extra_args
        if self.admin_port:
            args += ["--admin-listen", "127.0.0.1:%d" % self.admin_port]
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     env=self.env, cwd=self.dir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("parklinkd exited early (%d): %s"
                                     % (self.proc.returncode, self.log()))
            try:
                if self.get("/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("parklinkd did not become healthy: " + self.log())

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20, expect_rc=0):
        """Stop the server; returns its exit code. Fails when it does not exit with
        expect_rc (0: a graceful SIGTERM/SIGINT stop; None: any code), and on sanitizer,
        assertion or abort output in its stderr."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("parklinkd did not stop on signal %d" % sig)
        self.stderr.close()
        rc = self.proc.returncode
        self.proc = None
        self.check_log()
        if expect_rc is not None and rc != expect_rc:
            raise AssertionError("parklinkd exited %d on signal %d (expected %d):\n%s"
                                 % (rc, sig, expect_rc, self.log()[-6000:]))
        return rc

    def check_log(self):
        """Fail on sanitizer reports, assertion failures and aborts in the stderr so far (and
        when the stderr file cannot be read: a log not looked at is no clean log)."""
        with open(self.stderr_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        for mark in SANITIZER_MARKS + ABORT_MARKS:
            if mark in text:
                raise AssertionError("%r in parklinkd stderr:\n%s" % (mark, text[-6000:]))

    def kill9(self):
        """SIGKILL (a crash as the OS sees it); the stderr up to then must still be clean,
        and a server that died by itself before the kill fails the test."""
        if self.proc.poll() is not None:
            raise AssertionError("parklinkd had already exited (%d) before kill -9:\n%s"
                                 % (self.proc.returncode, self.log()[-6000:]))
        self.proc.kill()
        self.proc.wait()
        self.stderr.close()
        self.proc = None
        self.check_log()

    def cleanup(self):
        if self.own_pg and self.own_dir:
            pg_drop_db(self.store)
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.cleanup()

    # --- HTTP -------------------------------------------------------------------------
    @property
    def admin_base(self):
        return "http://127.0.0.1:%d" % self.admin_port if self.admin_port else self.base

    def request(self, method, path, body=None, headers=None, timeout=10, base=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        req = urllib.request.Request((base or self.base) + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Reply(r.status, r.read(), r.headers)
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), e.headers)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        headers = {"Content-Type": "application/json;charset=utf-8"}
        return self.request("POST", path, body, headers, **kw)

    def call(self, path, data, key, **kw):
        """Signed vendor call: POST /unionapi/<path> with data signed by key."""
        return self.post("/unionapi/" + path, envelope(data, key, **kw))

    def admin(self, method, path, obj=None, token=ADMIN_TOKEN):
        body = None if obj is None else json.dumps(obj, ensure_ascii=False)
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        return self.request(method, "/admin/v1" + path, body, headers, base=self.admin_base)


class ServerTestCase(unittest.TestCase):
    """One fresh server per test class; self.srv is it. A class whose tests only read or
    send what must be refused sets writes_nothing = True: each of its tests then fails when
    it changed the database (the class's setUpClass may seed it)."""
    server_args = ()
    server_kwargs = {}  # more Server() arguments: threads, admin_listen ...
    writes_nothing = False

    def setUp(self):
        super().setUp()
        if self.writes_nothing:
            check = self.unchanged_db(what=self.id())
            check.__enter__()
            self.addCleanup(check.__exit__, None, None, None)

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=cls.server_args, **cls.server_kwargs).start()

    @classmethod
    def tearDownClass(cls):
        srv = cls.srv
        try:
            srv.stop()
        finally:
            srv.cleanup()

    def unchanged_db(self, srv=None, ignore=None, what="the block"):
        """with self.unchanged_db(): ... -- nothing in the database may change (harness
        unchanged_db on self.srv, or on srv)."""
        return unchanged_db(srv or self.srv, ignore, what)

    def ok(self, reply, status=200):
        self.assertEqual(reply.status, status, reply)
        return reply.json

"""test_store_file.py - the SQLite file as the real binary leaves it (issue 11 holes 6 and 7).

One parklinkd per database: a second one on the same file exits 1 naming the lock file and
the first one's pid, and a start that is refused (lock taken) or cannot bind its port writes
nothing to the database (bytes and mtime unchanged) and, on a fresh path, creates nothing.
The database, -wal and -shm are 0600 whatever the umask.
"""
import fcntl
import hashlib
import os
import socket
import subprocess
import tempfile
import unittest

from harness import ADMIN_TOKEN, PARKLINKD, Server, free_port


def snapshot(path):
    """(sha256, mtime_ns) of every file of the database: main, -wal, -shm."""
    out = {}
    for suffix in ("", "-wal", "-shm"):
        p = path + suffix
        if os.path.exists(p):
            with open(p, "rb") as f:
                out[suffix] = (hashlib.sha256(f.read()).hexdigest(), os.stat(p).st_mtime_ns)
    return out


def run_server(db, port, timeout=20):
    """Start parklinkd expecting it to refuse to start; returns (exit code, stderr)."""
    p = subprocess.run([PARKLINKD, "--listen", "127.0.0.1:%d" % port, "--store", db,
                        "--admin-token", ADMIN_TOKEN], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


class StoreFile(unittest.TestCase):
    def test_second_server_refused(self):
        srv = Server().start()
        try:
            created = srv.admin("POST", "/blacklist", {"plate": "京BL0001", "color": 0})
            self.assertEqual(created.status, 201)
            before = snapshot(srv.db)
            rc, err = run_server(srv.db, free_port())
            self.assertEqual(rc, 1, err)
            self.assertIn("parklink.db.lock", err)
            self.assertIn("pid %d" % srv.proc.pid, err)
            self.assertEqual(snapshot(srv.db), before)
            self.assertEqual(srv.get("/healthz").status, 200)  # the first one is untouched
        finally:
            srv.stop()
        # the lock dies with its process: the database starts again
        again = Server(db_dir=srv.dir).start()
        again.stop()

    def test_lock_held_by_another_process(self):
        d = tempfile.mkdtemp(prefix="plk-lock-")
        srv = Server(db_dir=d).start()
        srv.stop()
        db = os.path.join(d, "parklink.db")
        before = snapshot(db)
        with open(db + ".lock", "r+") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            f.seek(0)
            f.truncate()
            f.write("4242\n")
            f.flush()
            rc, err = run_server(db, free_port())
        self.assertEqual(rc, 1, err)
        self.assertIn("pid 4242", err)
        self.assertEqual(snapshot(db), before)

    def test_bind_failure_writes_nothing(self):
        d = tempfile.mkdtemp(prefix="plk-bind-")
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            fresh = os.path.join(d, "fresh.db")
            rc, err = run_server(fresh, port)
            self.assertEqual(rc, 1, err)
            self.assertIn("cannot bind", err)
            self.assertEqual(sorted(os.listdir(d)), [])  # no database, no -wal, no lock

            srv = Server(db_dir=d).start()
            srv.stop()
            before = snapshot(srv.db)
            self.assertTrue(before)
            rc, err = run_server(srv.db, port)
            self.assertEqual(rc, 1, err)
            self.assertEqual(snapshot(srv.db), before)
        finally:
            taken.close()

    def test_files_private(self):
        old = os.umask(0o022)
        try:
            srv = Server().start()
        finally:
            os.umask(old)
        try:
            self.assertEqual(srv.admin("POST", "/vendors", {"union_id": 200002,
                                                            "ukey": "EA2D90FEEF1E9F8E"}).status,
                             201)
            for suffix in ("", "-wal", "-shm", ".lock"):
                mode = os.stat(srv.db + suffix).st_mode & 0o777
                self.assertEqual(mode, 0o600, "parklink.db%s is %o" % (suffix, mode))
        finally:
            srv.stop()


if __name__ == "__main__":
    unittest.main()

"""Identity and ownership across uids (PROTOCOL.md, "Identity and
ownership"). Needs root: the daemon runs as root and a forked child drops
to nobody to be the other user."""

import grp
import os
import pwd
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, Case, Client, Daemon,  # noqa: E402
                       assert_alive, main, run_as)

try:
    _pw = pwd.getpwnam("nobody")
    NOBODY_UID, NOBODY_GID = _pw.pw_uid, _pw.pw_gid
except KeyError:
    NOBODY_UID = NOBODY_GID = 65534
try:
    NOGROUP = grp.getgrgid(NOBODY_GID).gr_name
except KeyError:
    NOGROUP = None

# A uid and gid with no passwd or group entry: a plain stranger.
STRANGER = 54321


def calls(sock, requests):
    """In the child: the raw responses to REQUESTS, one connection."""
    with Client(sock) as c:
        return [c.call(method, params) for method, params in requests]


def as_nobody(sock, requests, groups=(), gid=None):
    return run_as(NOBODY_UID, NOBODY_GID if gid is None else gid, calls,
                  sock, requests, groups=groups)


def start(threads, config=None):
    # Under /tmp: $TMPDIR may be private to root.
    d = Daemon(threads=threads, config=config, parent="/tmp").start()
    os.chmod(d.sock, 0o666)
    return d


class RootsFutures(Case):
    """Root's futures, seen by nobody: done, running and pending."""

    @classmethod
    def setUpClass(cls):
        cls.d = start(1, "shutdown_timeout = 0.05\n")
        cls.c = cls.d.client()
        cls.done = cls.c.submit("echo", ["root"])
        cls.c.ok("result", {"future": cls.done})
        cls.running = cls.c.occupy(30)
        cls.pending = cls.c.submit("echo", ["pending"])
        cls.roots = [cls.done, cls.running, cls.pending]

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.d.close()

    def check_unknown(self, responses, fid):
        for r in responses:
            e = self.assertError(r, -32000, any_id=True)
            self.assertEqual(e["data"]["future"], fid)

    def test_hello_and_stats_answer(self):
        hello, stats = as_nobody(self.d.sock, [("hello", None),
                                               ("stats", None)])
        self.assertEqual(hello["result"]["name"], "poold")
        self.assertIn("uptime", stats["result"])

    def test_status_result_exception_cancel_are_unknown(self):
        for fid in self.roots:
            with self.subTest(future=fid):
                self.check_unknown(as_nobody(self.d.sock, [
                    ("status", {"future": fid}),
                    ("result", {"future": fid, "timeout": 0}),
                    ("result", {"future": fid}),
                    ("exception", {"future": fid}),
                    ("cancel", {"future": fid}),
                    ("cancel", {"future": fid, "force": True}),
                ]), fid)
        # Nothing changed.
        self.assertEqual(self.c.status(self.pending)["state"], "pending")
        self.assertEqual(self.c.status(self.running)["state"], "running")
        self.assertEqual(self.c.status(self.done)["state"], "finished")

    def test_list_methods_are_unknown(self):
        for fid in self.roots:
            with self.subTest(future=fid):
                self.check_unknown(as_nobody(self.d.sock, [
                    ("wait", {"futures": [fid]}),
                    ("wait", {"futures": [fid], "timeout": 0}),
                    ("as_completed", {"futures": [fid]}),
                    ("forget", {"futures": [fid]}),
                ]), fid)
        self.assertEqual(self.c.status(self.done)["state"], "finished")

    def test_list_hides_roots_futures(self):
        listed, = as_nobody(self.d.sock, [("list", {"state": None})])
        self.assertEqual(listed["result"], [])

    def test_same_answer_as_a_future_that_never_existed(self):
        never = "f-00000000000000cc"
        mine, ghost = as_nobody(self.d.sock, [
            ("status", {"future": self.done}),
            ("status", {"future": never})])
        self.assertEqual(mine["error"]["code"], ghost["error"]["code"])
        self.assertEqual(mine["error"]["message"], ghost["error"]["message"])

    def test_nobody_owns_what_nobody_submits(self):
        def child(sock, roots):
            with Client(sock) as c:
                fid = c.submit("echo", ["mine"])
                out = {"fid": fid,
                       "status": c.call("status", {"future": fid}),
                       "list": c.call("list"),
                       "wait": c.call("wait", {"futures": [fid] + roots[:1],
                                               "timeout": 0}),
                       "cancel": c.call("cancel", {"future": fid}),
                       "result": c.call("result", {"future": fid})}
                return out

        out = run_as(NOBODY_UID, NOBODY_GID, child, self.d.sock, self.roots)
        fid = out["fid"]
        self.assertEqual(out["status"]["result"]["state"], "pending")
        self.assertEqual([f["future"] for f in out["list"]["result"]], [fid])
        e = self.assertError(out["wait"], -32000, any_id=True)
        self.assertEqual(e["data"]["future"], self.roots[0])
        self.assertEqual(out["cancel"]["result"],
                         {"cancelled": True, "state": "cancelled"})
        self.assertError(out["result"], -32002, any_id=True)
        # Root is an admin: it sees nobody's future.
        self.assertEqual(self.c.status(fid)["state"], "cancelled")
        self.assertIn(fid, [f["future"] for f in self.c.ok("list")])


class NobodysOwn(Case):
    def test_every_method_on_own_futures(self):
        def child(sock):
            with Client(sock) as c:
                fid = c.submit("sleep", [0.1], notify=True)
                rid = c.request("as_completed", {"futures": [fid]})
                out = {"result": c.ok("result", {"future": fid}),
                       "as_completed": c.response(rid),
                       "notes": sorted(n["method"]
                                       for n in c.notifications)}
                c.wait_notification("future.done")
                out["exception"] = c.ok("exception", {"future": fid})
                out["wait"] = c.ok("wait", {"futures": [fid]})
                out["list"] = [f["future"] for f in c.ok("list")]
                out["forget"] = c.ok("forget", {"futures": [fid]})
                out["fid"] = fid
                return out

        with start(2) as d:
            mine = d.client()
            self.addCleanup(mine.close)
            root_fid = mine.submit("echo", [1])
            out = run_as(NOBODY_UID, NOBODY_GID, child, d.sock)
            fid = out["fid"]
            self.assertEqual(out["result"], 0.1)
            self.assertEqual(out["as_completed"]["result"], {"done": 1})
            self.assertIsNone(out["exception"])
            self.assertEqual(out["wait"], {"done": [fid], "not_done": []})
            self.assertEqual(out["list"], [fid])
            self.assertEqual(out["forget"], {"forgotten": 1})
            self.assertNotIn(root_fid, out["list"])


class NotAdmin(Case):
    def test_32007_shutdown_by_non_admin(self):
        with start(1) as d:
            r, = as_nobody(d.sock, [("shutdown", {})])
            e = self.assertError(r, -32007, any_id=True)
            self.assertTrue(e["message"])
            r, = run_as(STRANGER, STRANGER, calls, d.sock,
                        [("shutdown", {"wait": False})])
            self.assertError(r, -32007, any_id=True)
            assert_alive(d.sock)
            with d.client() as c:
                fid = c.submit("echo", [1])
                self.assertEqual(c.ok("result", {"future": fid}), 1)

    def test_32007_resize_by_non_admin(self):
        with start(1) as d:
            with d.client() as c:
                before = c.ok("hello")["executors"]
            r, = as_nobody(d.sock, [("resize", {"process": 3, "thread": 3})])
            self.assertError(r, -32007, any_id=True)
            # workers is not an admin method: anyone may look.
            r, = as_nobody(d.sock, [("workers", {})])
            self.assertIsInstance(r["result"], list)
            with d.client() as c:
                self.assertEqual(c.ok("hello")["executors"], before)

    def test_params_before_permission(self):
        with start(1) as d:
            r, = as_nobody(d.sock, [("shutdown", {"wait": "x"})])
            e = self.assertError(r, -32602, any_id=True)
            self.assertEqual(e["data"]["param"], "wait")
            r, = as_nobody(d.sock, [("shutdown", [1])])
            self.assertError(r, -32602, any_id=True)
            assert_alive(d.sock)

    def test_permission_before_shutting_down(self):
        with start(1) as d, d.client() as c:
            occ = c.occupy(0.5)
            rid = c.request("result", {"future": occ})
            self.assertEqual(c.ok("shutdown", {}), {"ok": True})
            denied, refused = as_nobody(d.sock, [
                ("shutdown", {}), ("submit", {"fn": "echo", "args": [1]})])
            self.assertError(denied, -32007, any_id=True)
            self.assertError(refused, -32006, any_id=True)
            self.assertEqual(c.response(rid)["result"], 0.5)
            self.assertEqual(d.wait_exit(), 0)


@unittest.skipIf(NOGROUP is None, "nobody's group has no name")
class AdminGroup(Case):
    def setUp(self):
        super().setUp()
        self.d = start(1, "admin_group = %s\nshutdown_timeout = 0.05\n"
                       % NOGROUP)
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)
        self.fid = self.c.submit("echo", ["root"])
        self.c.ok("result", {"future": self.fid})

    def test_group_member_sees_every_future(self):
        status, result, listed = as_nobody(self.d.sock, [
            ("status", {"future": self.fid}),
            ("result", {"future": self.fid}),
            ("list", None)])
        self.assertEqual(status["result"]["state"], "finished")
        self.assertEqual(result["result"], "root")
        self.assertIn(self.fid, [f["future"] for f in listed["result"]])

    def test_supplementary_group_member_is_admin(self):
        status, = as_nobody(self.d.sock, [("status", {"future": self.fid})],
                            gid=STRANGER, groups=[NOBODY_GID])
        self.assertEqual(status["result"]["state"], "finished")

    def test_others_are_still_not_admin(self):
        status, shutdown = run_as(STRANGER, STRANGER, calls, self.d.sock, [
            ("status", {"future": self.fid}), ("shutdown", {})])
        self.assertError(status, -32000, any_id=True)
        self.assertError(shutdown, -32007, any_id=True)

    def test_group_member_may_shut_down(self):
        r, = as_nobody(self.d.sock, [("shutdown", {})])
        self.assertEqual(r["result"], {"ok": True})
        self.assertEqual(self.d.wait_exit(), 0)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_uid.py needs root to act as a second uid: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

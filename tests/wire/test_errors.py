"""One test per error code of PROTOCOL.md ("Errors") that the daemon can
produce now, and the order in which they apply. -32007 is in test_uid.py;
-32603 is a bug by definition and has no way to be asked for."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (  # noqa: E402
    SharedDaemon, Case, Client, ConnectionClosed, Daemon, assert_alive,
    error_of, main, request)

ONE_THREAD_CONFIG = "shutdown_timeout = 0.2\n"
UNKNOWN = "f-00000000000000aa"


class Codes(SharedDaemon):
    DAEMON = dict(threads=4, config=ONE_THREAD_CONFIG)

    def test_32700_parse_error(self):
        self.c.send_raw(b'{"jsonrpc":"2.0","method":"hello","id":1\n')
        e = error_of(self.c.recv(), -32700, None, any_id=False)
        self.assertTrue(e["message"])
        assert_alive(self.d.sock)

    def test_32600_invalid_request(self):
        self.c.send_raw(b'{"jsonrpc":"2.0","params":{},"id":null}\n')
        e = error_of(self.c.recv(), -32600, None, any_id=False)
        self.assertTrue(e["message"])
        assert_alive(self.d.sock)

    def test_32601_method_not_found(self):
        for method in ("nope", "Hello", "HELLO", "hello ", "", "rpc.hello",
                       "Map", "hel\u0000lo"):
            with self.subTest(method=method):
                self.c.send(request(method, {}, id=method or 0))
                e = error_of(self.c.recv(), -32601, method or 0,
                             any_id=False)
                self.assertTrue(e["message"])
        assert_alive(self.d.sock)

    def test_32602_invalid_params(self):
        e = self.c.err("submit", {"args": [1]}, -32602)
        self.assertEqual(e["data"]["param"], "fn")
        e = self.c.err("status", {"future": 7}, -32602)
        self.assertEqual(e["data"]["param"], "future")
        e = self.c.err("hello", {"extra": True}, -32602)
        self.assertEqual(e["data"]["param"], "extra")

    def test_32000_unknown_future(self):
        for method in ("status", "result", "exception", "cancel"):
            with self.subTest(method=method):
                e = self.c.err(method, {"future": UNKNOWN}, -32000)
                self.assertEqual(e["data"]["future"], UNKNOWN)
        for method in ("wait", "as_completed", "forget"):
            with self.subTest(method=method):
                e = self.c.err(method, {"futures": [UNKNOWN]}, -32000)
                self.assertEqual(e["data"]["future"], UNKNOWN)

    def test_32001_timeout(self):
        fid = self.c.submit("sleep", [2])
        e = self.c.err("result", {"future": fid, "timeout": 0.1}, -32001)
        self.assertIn(e["data"]["state"], ("pending", "running"))
        e = self.c.err("as_completed", {"futures": [fid], "timeout": 0.1},
                       -32001)
        self.assertEqual(e["data"]["not_done"], [fid])

    def test_32002_cancelled(self):
        with Daemon(threads=1, config=ONE_THREAD_CONFIG) as d, \
                d.client() as c:
            c.occupy()
            fid = c.submit("echo", [1])
            c.ok("cancel", {"future": fid})
            e = c.err("result", {"future": fid}, -32002)
            self.assertTrue(e["message"])
            c.err("exception", {"future": fid}, -32002)

    def test_32003_task_failed(self):
        fid = self.c.submit("sleep", [5], timeout=0.1)
        e = self.c.err("result", {"future": fid}, -32003)
        self.assertEqual(e["data"]["type"], "TimeoutError")
        self.assertIsInstance(e["data"]["message"], str)

    def test_32004_unknown_function(self):
        before = self.c.ok("stats")["submitted"]
        newest = self.c.ok("list", {"limit": 1})
        for fn in ("nope", "Echo", "echo ", "", "py:math:factorial"):
            with self.subTest(fn=fn):
                e = self.c.err("submit", {"fn": fn, "args": [1]}, -32004)
                self.assertEqual(e["data"]["fn"], fn)
        # Nothing was queued.
        self.assertEqual(self.c.ok("stats")["submitted"], before)
        self.assertEqual(self.c.ok("list", {"limit": 1}), newest)

    # -- order --

    def test_method_before_params(self):
        self.c.send(request("nope", [1], id=1))
        error_of(self.c.recv(), -32601, 1, any_id=False)

    def test_params_before_lookup(self):
        e = self.c.err("status", {"future": UNKNOWN, "bogus": 1}, -32602)
        self.assertEqual(e["data"]["param"], "bogus")
        e = self.c.err("result", {"future": UNKNOWN, "timeout": -1}, -32602)
        self.assertEqual(e["data"]["param"], "timeout")
        e = self.c.err("wait", {"futures": [UNKNOWN],
                                "return_when": "NEVER"}, -32602)
        self.assertEqual(e["data"]["param"], "return_when")
        e = self.c.err("submit", {"fn": "nope", "args": "x"}, -32602)
        self.assertEqual(e["data"]["param"], "args")
        e = self.c.err("submit", {"fn": "nope", "priority": "high"}, -32602)
        self.assertEqual(e["data"]["param"], "priority")


class QueueFull(Case):
    """max_pending = 2 on one thread held by a sleep."""

    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=1, config=ONE_THREAD_CONFIG +
                        "max_pending = 2\n").start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)
        self.occ = self.c.occupy()
        self.queued = [self.c.submit("echo", [i]) for i in range(2)]

    def test_32005_queue_full(self):
        e = self.c.err("submit", {"fn": "echo", "args": [3]}, -32005)
        self.assertTrue(e["message"])
        st = self.c.ok("stats")
        self.assertEqual((st["pending"], st["running"], st["submitted"]),
                         (2, 1, 3))
        listed = [f["future"] for f in self.c.ok("list")]
        self.assertEqual(listed, self.queued[::-1] + [self.occ])

    def test_priority_does_not_bypass_the_limit(self):
        self.c.err("submit", {"fn": "echo", "args": [3], "priority": 100},
                   -32005)

    def test_room_again_after_cancel(self):
        self.c.err("submit", {"fn": "echo", "args": [3]}, -32005)
        self.c.ok("cancel", {"future": self.queued[0]})
        fid = self.c.submit("echo", [4])
        self.assertEqual(self.c.status(fid)["state"], "pending")
        self.c.err("submit", {"fn": "echo", "args": [5]}, -32005)

    def test_notification_submit_is_dropped_when_full(self):
        self.c.notify("submit", {"fn": "echo", "args": [3]})
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.ok("stats")["pending"], 2)

    def test_lookup_and_params_before_limit(self):
        e = self.c.err("submit", {"fn": "nope"}, -32004)
        self.assertEqual(e["data"]["fn"], "nope")
        e = self.c.err("submit", {"fn": "echo", "args": [1, 2]}, -32602)
        self.assertEqual(e["data"]["param"], "args")

    def test_shutting_down_before_limit(self):
        self.assertEqual(self.c.ok("shutdown", {}), {"ok": True})
        self.c.err("submit", {"fn": "echo", "args": [3]}, -32006)


class MaxConnections(Case):
    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=1, config="max_connections = 2\n").start()
        self.addCleanup(self.d.close)

    def connect_until_served(self, timeout=10):
        """A served connection, once the daemon has noticed closed ones."""
        deadline = time.monotonic() + timeout
        while True:
            c = Client(self.d.sock)
            try:
                c.ok("hello")
                return c
            except ConnectionClosed:
                c.close()
                self.assertLess(time.monotonic(), deadline,
                                "no connection slot came free")
                time.sleep(0.01)

    def test_32005_too_many_connections(self):
        c1 = self.connect_until_served()
        self.addCleanup(c1.close)
        c2 = self.connect_until_served()
        self.addCleanup(c2.close)
        with Client(self.d.sock) as c3:
            msg = c3.recv()
            e = error_of(msg, -32005, None, any_id=False)
            self.assertEqual(e["message"], "too many connections")
            c3.expect_eof()
        # The admitted connections are untouched.
        c1.ok("hello")
        c2.ok("hello")
        c2.close()
        c3 = self.connect_until_served()
        c3.close()
        c1.close()
        assert_alive(self.d.sock)


class ShuttingDown(Case):
    def setUp(self):
        super().setUp()
        # No shutdown_timeout: the running sleep must be let finish.
        self.d = Daemon(threads=1).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_32006_after_shutdown(self):
        occ = self.c.occupy(1.0)
        rid = self.c.request("result", {"future": occ})
        self.assertEqual(self.c.ok("shutdown", {"wait": True}), {"ok": True})
        e = self.c.err("submit", {"fn": "echo", "args": [1]}, -32006)
        self.assertTrue(e["message"])
        # Shutting down comes before lookups, after params.
        self.c.err("submit", {"fn": "nope"}, -32006)
        e = self.c.err("submit", {"fn": "echo", "args": "x"}, -32602)
        self.assertEqual(e["data"]["param"], "args")
        # Queries still work.
        self.assertEqual(self.c.status(occ)["state"], "running")
        self.c.ok("stats")
        self.assertEqual(self.c.response(rid)["result"], 1.0)
        self.assertEqual(self.d.wait_exit(), 0)

    def test_32006_after_sigterm(self):
        occ = self.c.occupy(1.5)
        rid = self.c.request("result", {"future": occ})
        self.d.send_signal(signal.SIGTERM)
        # The signal is handled asynchronously: submissions are accepted
        # until it is.
        deadline = time.monotonic() + 5
        while True:
            r = self.c.call("submit", {"fn": "echo", "args": [1]})
            if "error" in r:
                break
            self.assertLess(time.monotonic(), deadline,
                            "submit still accepted 5 s after SIGTERM")
        self.assertError(r, -32006, any_id=True)
        self.assertEqual(self.c.status(occ)["state"], "running")
        self.assertEqual(self.c.response(rid)["result"], 1.5)
        self.assertEqual(self.d.wait_exit(), 0)


if __name__ == "__main__":
    main()

"""Every method of PROTOCOL.md ("Methods") as this issue implements it."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (  # noqa: E402
    SharedDaemon, FUTURE_ID, Case, Daemon, check_future, check_response,
    error_of, main, poold_argv, result_of)

# Per-test daemons with one thread leave a long sleep running; a short
# graceful-stop bound keeps their teardown quick.
ONE_THREAD_CONFIG = "shutdown_timeout = 0.05\n"


class Info(SharedDaemon):
    DAEMON = dict(threads=3)

    def test_hello(self):
        r = self.c.ok("hello")
        self.assertEqual(r["name"], "poold")
        self.assertIsInstance(r["version"], str)
        self.assertTrue(r["version"])
        self.assertIs(type(r["protocol"]), int)
        self.assertEqual(r["protocol"], 1)
        self.assertIs(type(r["pid"]), int)
        if len(poold_argv()) == 1:
            self.assertEqual(r["pid"], self.d.pid)
        self.assertEqual(r["executors"], {"process": {"workers": 1},
                                          "thread": {"workers": 3}})
        self.assertEqual(sorted(r["functions"]), ["echo", "exec", "sleep"])

    def test_functions(self):
        r = self.c.ok("functions")
        self.assertIsInstance(r, list)
        self.assertEqual(sorted(f["name"] for f in r),
                         ["echo", "exec", "sleep"])
        defaults = {"echo": "thread", "sleep": "thread", "exec": "process"}
        for f in r:
            with self.subTest(fn=f["name"]):
                d = defaults[f["name"]]
                self.assertEqual(f["default_executor"], d)
                self.assertEqual(f["executors"],
                                 [d] + [e for e in ("thread", "process")
                                        if e != d])
                self.assertIsInstance(f["doc"], str)


class Basics(SharedDaemon):
    # Enough threads that sleeps left running by earlier tests never
    # queue a later test's tasks.
    THREADS = 16

    DAEMON = dict(threads=THREADS, config=ONE_THREAD_CONFIG)

    def timed_out(self, **params):
        """A future that fails with TimeoutError, once it has."""
        fid = self.c.submit("sleep", [5], timeout=0.1, **params)
        self.c.err("result", {"future": fid}, -32003)
        return fid

    # -- submit --

    def test_submit_answers_before_the_task_runs(self):
        t0 = time.monotonic()
        fid = self.c.submit("sleep", [1.0])
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertIn(self.c.status(fid)["state"], ("pending", "running"))

    def test_future_ids_are_unique(self):
        ids = [self.c.submit("echo", [i]) for i in range(50)]
        self.assertEqual(len(set(ids)), 50)
        for fid in ids:
            self.assertRegex(fid, FUTURE_ID)

    def test_echo_round_trips_json_values(self):
        values = [0, -5, 2 ** 62, -2 ** 62, 1.5, -0.25, 1e300, "", "text",
                  "\u2603\U0001f600", None, True, False, [], {},
                  {"a": [1, {"b": None}], "c": "d"}]
        fids = [self.c.submit("echo", [v]) for v in values]
        for v, fid in zip(values, fids):
            with self.subTest(value=v):
                r = self.c.ok("result", {"future": fid})
                self.assertEqual(r, v)
                self.assertIs(type(r), type(v))

    def test_sleep_returns_its_seconds(self):
        for s in (0, 0.2, 0.5):
            with self.subTest(seconds=s):
                fid = self.c.submit("sleep", [s])
                r = self.c.ok("result", {"future": fid})
                self.assertEqual(r, s)

    def test_explicit_defaults_are_accepted(self):
        fid = self.c.submit("echo", ["d"], kwargs={}, executor=None,
                            timeout=None, priority=0, retries=0,
                            notify=False)
        self.assertEqual(self.c.ok("result", {"future": fid}), "d")
        fid = self.c.submit("echo", ["t"], executor="thread")
        self.assertEqual(self.c.ok("result", {"future": fid}), "t")

    # -- status --

    def test_status_of_finished_future(self):
        t0 = time.time()
        fid = self.c.submit("echo", ["x"])
        self.c.ok("result", {"future": fid})
        t1 = time.time()
        s = self.c.status(fid)
        self.assertEqual(s["state"], "finished")
        self.assertEqual(s["fn"], "echo")
        self.assertEqual(s["executor"], "thread")
        self.assertEqual(s["attempts"], 1)
        self.assertEqual(s["result"], "x")
        self.assertNotIn("error", s)
        self.assertNotIn("worker", s)
        self.assertGreaterEqual(s["submitted"], t0 - 5)
        self.assertLessEqual(s["finished"], t1 + 5)

    def test_status_of_running_future(self):
        fid = self.c.submit("sleep", [1.5])
        s = self.c.wait_state(fid, "running")
        self.assertEqual(s["fn"], "sleep")
        self.assertIn("started", s)
        self.assertNotIn("finished", s)
        self.assertNotIn("result", s)

    def test_status_of_failed_future(self):
        fid = self.timed_out()
        s = self.c.status(fid)
        self.assertEqual(s["state"], "failed")
        self.assertEqual(s["error"]["type"], "TimeoutError")
        self.assertNotIn("result", s)

    def test_status_of_unknown_future(self):
        for fid in ("f-0000000000000000", "f-ffffffffffffffff", "nonsense"):
            e = self.c.err("status", {"future": fid}, -32000)
            self.assertEqual(e["data"]["future"], fid)

    # -- result --

    def test_result_waits_without_timeout(self):
        fid = self.c.submit("sleep", [0.5])
        t0 = time.monotonic()
        self.assertEqual(self.c.ok("result", {"future": fid,
                                              "timeout": None}), 0.5)
        self.assertTiming(time.monotonic() - t0, 0.4, 8)

    def test_result_timeout_zero_on_running(self):
        fid = self.c.submit("sleep", [2])
        self.c.wait_state(fid, "running")
        e = self.c.err("result", {"future": fid, "timeout": 0}, -32001)
        self.assertEqual(e["data"]["state"], "running")

    def test_result_timeout_runs_out(self):
        fid = self.c.submit("sleep", [3])
        t0 = time.monotonic()
        e = self.c.err("result", {"future": fid, "timeout": 0.3}, -32001)
        self.assertTiming(time.monotonic() - t0, 0.25, 2.5)
        self.assertIn(e["data"]["state"], ("pending", "running"))

    def test_result_timeout_zero_on_done(self):
        fid = self.c.submit("echo", [3])
        self.c.ok("result", {"future": fid})
        self.assertEqual(self.c.ok("result", {"future": fid,
                                              "timeout": 0}), 3)

    def test_result_can_be_fetched_again(self):
        fid = self.c.submit("echo", ["again"])
        self.assertEqual(self.c.ok("result", {"future": fid}), "again")
        self.assertEqual(self.c.ok("result", {"future": fid}), "again")

    def test_result_of_failed_future(self):
        fid = self.timed_out()
        e = self.c.err("result", {"future": fid}, -32003)
        self.assertEqual(e["data"]["type"], "TimeoutError")
        self.assertIsInstance(e["data"]["message"], str)

    def test_result_of_unknown_future(self):
        e = self.c.err("result", {"future": "f-0000000000000000"}, -32000)
        self.assertEqual(e["data"]["future"], "f-0000000000000000")

    # -- exception --

    def test_exception_of_finished_is_null(self):
        fid = self.c.submit("echo", [1])
        self.c.ok("result", {"future": fid})
        self.assertIsNone(self.c.ok("exception", {"future": fid}))

    def test_exception_waits(self):
        fid = self.c.submit("sleep", [0.3])
        t0 = time.monotonic()
        self.assertIsNone(self.c.ok("exception", {"future": fid}))
        self.assertTiming(time.monotonic() - t0, 0.25, 8)

    def test_exception_of_failed_is_the_error(self):
        fid = self.timed_out()
        e = self.c.ok("exception", {"future": fid})
        self.assertEqual(e["type"], "TimeoutError")
        self.assertIsInstance(e["message"], str)
        self.assertEqual(e, self.c.status(fid)["error"])

    def test_exception_timeout(self):
        fid = self.c.submit("sleep", [2])
        self.c.wait_state(fid, "running")
        e = self.c.err("exception", {"future": fid, "timeout": 0}, -32001)
        self.assertEqual(e["data"]["state"], "running")
        t0 = time.monotonic()
        self.c.err("exception", {"future": fid, "timeout": 0.3}, -32001)
        self.assertTiming(time.monotonic() - t0, 0.25, 1.9)

    def test_exception_of_unknown_future(self):
        e = self.c.err("exception", {"future": "f-0000000000000001"},
                       -32000)
        self.assertEqual(e["data"]["future"], "f-0000000000000001")

    # -- cancel --

    def test_cancel_running_on_a_thread_is_refused(self):
        fid = self.c.submit("sleep", [0.5])
        self.c.wait_state(fid, "running")
        for force in (False, True):
            with self.subTest(force=force):
                r = self.c.ok("cancel", {"future": fid, "force": force})
                self.assertEqual(r, {"cancelled": False, "state": "running"})
        self.assertEqual(self.c.ok("result", {"future": fid}), 0.5)

    def test_cancel_finished_changes_nothing(self):
        fid = self.c.submit("echo", [1])
        self.c.ok("result", {"future": fid})
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": False, "state": "finished"})
        self.assertEqual(self.c.status(fid)["state"], "finished")

    def test_cancel_failed_changes_nothing(self):
        fid = self.timed_out()
        self.assertEqual(self.c.ok("cancel", {"future": fid, "force": True}),
                         {"cancelled": False, "state": "failed"})

    def test_cancel_unknown(self):
        e = self.c.err("cancel", {"future": "f-0000000000000002"}, -32000)
        self.assertEqual(e["data"]["future"], "f-0000000000000002")

    # -- wait --

    def test_wait_all_completed(self):
        s = self.c.submit("sleep", [0.3])
        e = self.c.submit("echo", [1])
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [s, e]})
        self.assertTiming(time.monotonic() - t0, 0.2, 8)
        self.assertEqual(r, {"done": [s, e], "not_done": []})
        r = self.c.ok("wait", {"futures": [e, s],
                               "return_when": "ALL_COMPLETED"})
        self.assertEqual(r, {"done": [e, s], "not_done": []})

    def test_wait_first_completed_with_one_done(self):
        s = self.c.submit("sleep", [3])
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [s, e],
                               "return_when": "FIRST_COMPLETED"})
        self.assertLess(time.monotonic() - t0, 2.5)
        self.assertEqual(r, {"done": [e], "not_done": [s]})

    def test_wait_first_completed_waits_for_the_first(self):
        slow = self.c.submit("sleep", [3])
        fast = self.c.submit("sleep", [0.3])
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [slow, fast],
                               "return_when": "FIRST_COMPLETED"})
        self.assertTiming(time.monotonic() - t0, 0.2, 2.5)
        self.assertEqual(r, {"done": [fast], "not_done": [slow]})

    def test_wait_first_exception_returns_on_failure(self):
        slow = self.c.submit("sleep", [3])
        bad = self.c.submit("sleep", [5], timeout=0.3)
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [slow, bad],
                               "return_when": "FIRST_EXCEPTION"})
        self.assertTiming(time.monotonic() - t0, 0.2, 2.5)
        self.assertEqual(r, {"done": [bad], "not_done": [slow]})

    def test_wait_first_exception_without_failure_waits_for_all(self):
        e = self.c.submit("echo", [1])
        s = self.c.submit("sleep", [0.4])
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [e, s],
                               "return_when": "FIRST_EXCEPTION"})
        self.assertTiming(time.monotonic() - t0, 0.3, 8)
        self.assertEqual(r, {"done": [e, s], "not_done": []})

    def test_wait_timeout_returns_what_is_done(self):
        s = self.c.submit("sleep", [3])
        e = self.c.submit("echo", [1])
        t0 = time.monotonic()
        r = self.c.ok("wait", {"futures": [s, e], "timeout": 0.3})
        self.assertTiming(time.monotonic() - t0, 0.25, 2.5)
        self.assertEqual(r, {"done": [e], "not_done": [s]})

    def test_wait_timeout_zero(self):
        s = self.c.submit("sleep", [3])
        r = self.c.ok("wait", {"futures": [s], "timeout": 0})
        self.assertEqual(r, {"done": [], "not_done": [s]})

    def test_wait_repeated_ids_count_once(self):
        e = self.c.submit("echo", [1])
        s = self.c.submit("sleep", [0.1])
        r = self.c.ok("wait", {"futures": [e, e, s, e, s]})
        self.assertEqual(r, {"done": [e, s], "not_done": []})

    def test_wait_empty_list(self):
        self.assertEqual(self.c.ok("wait", {"futures": []}),
                         {"done": [], "not_done": []})
        self.assertEqual(self.c.ok("wait", {"futures": [],
                                            "return_when":
                                            "FIRST_COMPLETED"}),
                         {"done": [], "not_done": []})

    def test_wait_unknown_future(self):
        e = self.c.submit("echo", [1])
        bad = "f-0000000000000003"
        err = self.c.err("wait", {"futures": [e, bad]}, -32000)
        self.assertEqual(err["data"]["future"], bad)

    # -- as_completed --

    def read_until_response(self, rid):
        """Messages in arrival order up to and including response RID."""
        msgs = []
        while True:
            m = self.c.recv()
            msgs.append(m)
            if isinstance(m, dict) and "id" in m and m["id"] == rid:
                return msgs

    def check_ac_note(self, note, rid, fid, state):
        self.assertEqual(note.get("jsonrpc"), "2.0")
        self.assertEqual(note.get("method"), "as_completed")
        self.assertNotIn("id", note)
        self.assertEqual(set(note["params"]), {"request", "future"})
        self.assertEqual(note["params"]["request"], rid)
        check_future(note["params"]["future"], fid)
        self.assertEqual(note["params"]["future"]["state"], state)

    def test_as_completed_reports_done_first_then_the_rest(self):
        s = self.c.submit("sleep", [0.5])
        e = self.c.submit("echo", ["e"])
        self.c.ok("result", {"future": e})
        rid = self.c.request("as_completed", {"futures": [s, e]})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 3, msgs)
        self.check_ac_note(msgs[0], rid, e, "finished")
        self.assertEqual(msgs[0]["params"]["future"]["result"], "e")
        self.check_ac_note(msgs[1], rid, s, "finished")
        self.assertEqual(msgs[1]["params"]["future"]["result"], 0.5)
        check_response(msgs[2], rid)
        self.assertEqual(result_of(msgs[2]), {"done": 2})

    def test_as_completed_in_completion_order(self):
        slow = self.c.submit("sleep", [0.6])
        fast = self.c.submit("sleep", [0.2])
        rid = self.c.request("as_completed", {"futures": [slow, fast]},
                             id="ac-order")
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 3, msgs)
        self.check_ac_note(msgs[0], "ac-order", fast, "finished")
        self.check_ac_note(msgs[1], "ac-order", slow, "finished")
        self.assertEqual(result_of(msgs[2]), {"done": 2})

    def test_as_completed_reports_failures(self):
        bad = self.c.submit("sleep", [5], timeout=0.2)
        rid = self.c.request("as_completed", {"futures": [bad]})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 2, msgs)
        self.check_ac_note(msgs[0], rid, bad, "failed")
        self.assertEqual(msgs[0]["params"]["future"]["error"]["type"],
                         "TimeoutError")
        self.assertEqual(result_of(msgs[1]), {"done": 1})

    def test_as_completed_timeout(self):
        s = self.c.submit("sleep", [3])
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        t0 = time.monotonic()
        rid = self.c.request("as_completed", {"futures": [s, e],
                                              "timeout": 0.3})
        msgs = self.read_until_response(rid)
        self.assertTiming(time.monotonic() - t0, 0.25, 2.5)
        self.assertEqual(len(msgs), 2, msgs)
        self.check_ac_note(msgs[0], rid, e, "finished")
        err = error_of(msgs[1], -32001)
        self.assertEqual(err["data"]["not_done"], [s])

    def test_as_completed_timeout_zero_all_done(self):
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        rid = self.c.request("as_completed", {"futures": [e], "timeout": 0})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 2, msgs)
        self.check_ac_note(msgs[0], rid, e, "finished")
        self.assertEqual(result_of(msgs[1]), {"done": 1})

    def test_as_completed_repeated_ids_count_once(self):
        e = self.c.submit("echo", [1])
        rid = self.c.request("as_completed", {"futures": [e, e, e]})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 2, msgs)
        self.check_ac_note(msgs[0], rid, e, "finished")
        self.assertEqual(result_of(msgs[1]), {"done": 1})

    def test_as_completed_empty_list(self):
        rid = self.c.request("as_completed", {"futures": []})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 1, msgs)
        self.assertEqual(result_of(msgs[0]), {"done": 0})

    def test_as_completed_unknown_future(self):
        e = self.c.submit("echo", [1])
        bad = "f-0000000000000004"
        rid = self.c.request("as_completed", {"futures": [e, bad]})
        msgs = self.read_until_response(rid)
        self.assertEqual(len(msgs), 1, msgs)
        err = error_of(msgs[0], -32000)
        self.assertEqual(err["data"]["future"], bad)

    def test_as_completed_sends_nothing_after_its_timeout(self):
        s = self.c.submit("sleep", [0.3])
        err = self.c.err("as_completed", {"futures": [s], "timeout": 0.05},
                         -32001)
        self.assertEqual(err["data"]["not_done"], [s])
        self.assertEqual(self.c.ok("result", {"future": s}), 0.3)
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])

    def test_two_as_completed_on_one_future(self):
        s = self.c.submit("sleep", [0.2])
        r1 = self.c.request("as_completed", {"futures": [s]})
        r2 = self.c.request("as_completed", {"futures": [s]})
        self.assertEqual(result_of(self.c.response(r1)), {"done": 1})
        self.assertEqual(result_of(self.c.response(r2)), {"done": 1})
        reqs = sorted(n["params"]["request"] for n in self.c.notifications)
        self.assertEqual(reqs, sorted([r1, r2]))

    def test_many_waiters_on_one_future(self):
        s = self.c.submit("sleep", [0.3])
        clients = [self.d.client() for _ in range(10)]
        try:
            rids = [c.request("result", {"future": s}) for c in clients]
            for c, rid in zip(clients, rids):
                self.assertEqual(result_of(c.response(rid)), 0.3)
        finally:
            for c in clients:
                c.close()

    # -- forget --

    def test_forget_drops_done_and_keeps_running(self):
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        s = self.c.submit("sleep", [0.5])
        self.assertEqual(self.c.ok("forget", {"futures": [e, s]}),
                         {"forgotten": 1})
        err = self.c.err("status", {"future": e}, -32000)
        self.assertEqual(err["data"]["future"], e)
        self.assertNotIn(e, [f["future"] for f in self.c.ok("list")])
        self.assertEqual(self.c.ok("result", {"future": s}), 0.5)
        err = self.c.err("forget", {"futures": [e]}, -32000)
        self.assertEqual(err["data"]["future"], e)

    def test_forget_repeated_ids_count_once(self):
        e = self.c.submit("echo", [1])
        self.c.ok("result", {"future": e})
        self.assertEqual(self.c.ok("forget", {"futures": [e, e]}),
                         {"forgotten": 1})

    def test_forget_empty_list(self):
        self.assertEqual(self.c.ok("forget", {"futures": []}),
                         {"forgotten": 0})

    def test_forget_unknown(self):
        err = self.c.err("forget", {"futures": ["f-0000000000000005"]},
                         -32000)
        self.assertEqual(err["data"]["future"], "f-0000000000000005")

    # -- notify --

    def check_done_note(self, note, fid, state):
        self.assertEqual(note.get("jsonrpc"), "2.0")
        self.assertEqual(note.get("method"), "future.done")
        self.assertNotIn("id", note)
        self.assertEqual(set(note["params"]), {"future"})
        check_future(note["params"]["future"], fid)
        self.assertEqual(note["params"]["future"]["state"], state)

    def test_notify_sends_future_done(self):
        fid = self.c.submit("echo", ["n"], notify=True)
        note = self.c.wait_notification(
            "future.done", lambda p: p["future"]["future"] == fid)
        self.check_done_note(note, fid, "finished")
        self.assertEqual(note["params"]["future"]["result"], "n")
        self.assertEqual(note["params"]["future"], self.c.status(fid))
        # Exactly one.
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])

    def test_notify_on_failure(self):
        fid = self.c.submit("sleep", [5], timeout=0.2, notify=True)
        note = self.c.wait_notification(
            "future.done", lambda p: p["future"]["future"] == fid)
        self.check_done_note(note, fid, "failed")
        self.assertEqual(note["params"]["future"]["error"]["type"],
                         "TimeoutError")

    def test_notify_goes_only_to_the_submitting_connection(self):
        with self.d.client() as other:
            fid = self.c.submit("sleep", [0.2], notify=True)
            self.assertEqual(other.ok("result", {"future": fid}), 0.2)
            self.c.wait_notification(
                "future.done", lambda p: p["future"]["future"] == fid)
            self.assertEqual(other.quiet(), [])

    def test_no_notification_without_notify(self):
        fid = self.c.submit("echo", [1])
        self.c.ok("result", {"future": fid})
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])

    # -- stats --

    def test_stats_shape(self):
        st = self.c.ok("stats")
        for k in ("uptime", "pending", "running", "submitted", "finished",
                  "failed", "cancelled", "connections"):
            with self.subTest(key=k):
                self.assertIn(type(st[k]), (int, float) if k == "uptime"
                              else (int,))
                self.assertGreaterEqual(st[k], 0)
        self.assertEqual(st["process"]["workers"], 1)
        self.assertEqual(st["process"]["busy"], 0)
        self.assertEqual(st["process"]["restarts"], 0)
        self.assertEqual(st["thread"]["workers"], self.THREADS)
        self.assertIs(type(st["thread"]["busy"]), int)


class OneThread(Case):
    """Tests that need a queue: one thread, held by a long sleep."""

    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=1, config=ONE_THREAD_CONFIG).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_status_of_pending_future(self):
        self.c.occupy()
        fid = self.c.submit("echo", [1])
        s = self.c.status(fid)
        self.assertEqual(s["state"], "pending")
        self.assertEqual(s["fn"], "echo")
        self.assertEqual(s["executor"], "thread")
        for k in ("started", "finished", "result", "error"):
            self.assertNotIn(k, s)

    def test_result_timeout_zero_on_pending(self):
        self.c.occupy()
        fid = self.c.submit("echo", [1])
        e = self.c.err("result", {"future": fid, "timeout": 0}, -32001)
        self.assertEqual(e["data"]["state"], "pending")
        e = self.c.err("exception", {"future": fid, "timeout": 0}, -32001)
        self.assertEqual(e["data"]["state"], "pending")

    def test_cancel_pending(self):
        self.c.occupy()
        fid = self.c.submit("echo", [1])
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": True, "state": "cancelled"})
        self.assertEqual(self.c.status(fid)["state"], "cancelled")
        self.c.err("result", {"future": fid}, -32002)
        self.c.err("exception", {"future": fid}, -32002)
        self.c.err("result", {"future": fid, "timeout": 0}, -32002)
        # Cancelling again reports it was cancelled.
        self.assertEqual(self.c.ok("cancel", {"future": fid, "force": True}),
                         {"cancelled": True, "state": "cancelled"})

    def test_cancelled_future_never_runs(self):
        occ = self.c.occupy(0.5)
        fid = self.c.submit("echo", [1])
        self.c.ok("cancel", {"future": fid})
        after = self.c.submit("echo", [2])
        self.assertEqual(self.c.ok("result", {"future": after}), 2)
        self.assertEqual(self.c.ok("result", {"future": occ}), 0.5)
        s = self.c.status(fid)
        self.assertEqual(s["state"], "cancelled")
        self.assertNotIn("started", s)

    def test_cancel_wakes_a_waiting_result(self):
        self.c.occupy()
        fid = self.c.submit("echo", [1])
        rid = self.c.request("result", {"future": fid})
        with self.d.client() as other:
            other.ok("cancel", {"future": fid})
        self.assertError(self.c.response(rid), -32002, rid)

    def test_wait_first_exception_returns_on_cancel(self):
        occ = self.c.occupy()
        fid = self.c.submit("echo", [1])
        rid = self.c.request("wait", {"futures": [occ, fid],
                                      "return_when": "FIRST_EXCEPTION"})
        with self.d.client() as other:
            other.ok("cancel", {"future": fid})
        r = result_of(self.c.response(rid))
        self.assertEqual(r, {"done": [fid], "not_done": [occ]})

    def test_wait_first_completed_returns_on_cancel(self):
        occ = self.c.occupy()
        fid = self.c.submit("echo", [1])
        rid = self.c.request("wait", {"futures": [occ, fid],
                                      "return_when": "FIRST_COMPLETED"})
        with self.d.client() as other:
            other.ok("cancel", {"future": fid})
        r = result_of(self.c.response(rid))
        self.assertEqual(r, {"done": [fid], "not_done": [occ]})

    def test_as_completed_reports_cancelled(self):
        self.c.occupy()
        fid = self.c.submit("echo", [1])
        rid = self.c.request("as_completed", {"futures": [fid]})
        with self.d.client() as other:
            other.ok("cancel", {"future": fid})
        note = self.c.wait_notification("as_completed")
        self.assertEqual(note["params"]["request"], rid)
        self.assertEqual(note["params"]["future"]["state"], "cancelled")
        self.assertEqual(result_of(self.c.response(rid)), {"done": 1})

    def test_list_by_state(self):
        occ = self.c.occupy()
        a = self.c.submit("echo", [1])
        b = self.c.submit("echo", [2])
        pending = self.c.ok("list", {"state": "pending"})
        self.assertEqual([f["future"] for f in pending], [b, a])
        running = self.c.ok("list", {"state": "running"})
        self.assertEqual([f["future"] for f in running], [occ])
        self.assertEqual(self.c.ok("list", {"state": "finished"}), [])
        self.c.ok("cancel", {"future": a})
        cancelled = self.c.ok("list", {"state": "cancelled"})
        self.assertEqual([f["future"] for f in cancelled], [a])
        every = self.c.ok("list", {"state": None})
        self.assertEqual([f["future"] for f in every], [b, a, occ])

    def test_timeout_counts_from_the_start_not_submission(self):
        occ = self.c.occupy(0.6)
        fid = self.c.submit("sleep", [0.2], timeout=0.4)
        self.assertEqual(self.c.ok("result", {"future": occ}), 0.6)
        self.assertEqual(self.c.ok("result", {"future": fid}), 0.2)

    def test_retried_task_counts_once(self):
        fid = self.c.submit("sleep", [5], timeout=0.1, retries=2)
        self.c.err("result", {"future": fid}, -32003)
        st = self.c.ok("stats")
        self.assertEqual((st["submitted"], st["failed"], st["finished"]),
                         (1, 1, 0))

    def test_priority_order(self):
        occ = self.c.occupy(0.5)
        order = [("a", 0), ("b", 5), ("c", -1), ("d", 5), ("e", 10),
                 ("f", 0)]
        fids = {}
        for name, prio in order:
            fids[name] = self.c.submit("sleep", [0.05], priority=prio)
        self.assertEqual(self.c.status(occ)["state"], "running",
                         "the submissions took longer than the occupying "
                         "sleep; the order is not tested")
        r = self.c.ok("wait", {"futures": list(fids.values())})
        self.assertEqual(r["not_done"], [])
        started = sorted(fids, key=lambda n: self.c.status(fids[n])
                         ["started"])
        self.assertEqual(started, ["e", "b", "d", "a", "f", "c"])
        finished = sorted(fids, key=lambda n: self.c.status(fids[n])
                          ["finished"])
        self.assertEqual(finished, started)

    def test_stats_counters(self):
        st = self.c.ok("stats")
        for k in ("pending", "running", "submitted", "finished", "failed",
                  "cancelled"):
            self.assertEqual(st[k], 0, k)
        for v in (1, 2):
            self.c.ok("result", {"future": self.c.submit("echo", [v])})
        bad = self.c.submit("sleep", [5], timeout=0.2)
        self.c.err("result", {"future": bad}, -32003)
        occ = self.c.occupy(0.5)
        p = self.c.submit("echo", [3])
        st = self.c.ok("stats")
        self.assertEqual((st["submitted"], st["pending"], st["running"],
                          st["finished"], st["failed"], st["cancelled"]),
                         (5, 1, 1, 2, 1, 0))
        self.assertEqual(st["thread"]["workers"], 1)
        self.assertEqual(st["thread"]["busy"], 1)
        self.c.ok("cancel", {"future": p})
        self.c.ok("result", {"future": occ})
        st = self.c.ok("stats")
        self.assertEqual((st["submitted"], st["pending"], st["running"],
                          st["finished"], st["failed"], st["cancelled"]),
                         (5, 0, 0, 3, 1, 1))
        self.assertEqual(st["thread"]["busy"], 0)
        self.assertEqual(st["process"],
                         {"workers": 1, "busy": 0, "restarts": 0})

    def test_stats_uptime_grows(self):
        u1 = self.c.ok("stats")["uptime"]
        fid = self.c.submit("sleep", [0.3])
        self.c.ok("result", {"future": fid})
        u2 = self.c.ok("stats")["uptime"]
        self.assertGreaterEqual(u2 - u1, 0.25)

    def test_stats_connections(self):
        with self.d.client() as c2:
            c2.ok("hello")
            # A closed connection may be noticed a moment later.
            deadline = time.monotonic() + 10
            while self.c.ok("stats")["connections"] != 2:
                self.assertLess(time.monotonic(), deadline,
                                "stats.connections never reached 2")
                time.sleep(0.01)
        deadline = time.monotonic() + 10
        while self.c.ok("stats")["connections"] != 1:
            self.assertLess(time.monotonic(), deadline,
                            "stats.connections never came back to 1")
            time.sleep(0.01)



class Shutdown(Case):
    """The shutdown method; no shutdown_timeout, so waiting is unbounded."""

    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=1).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_shutdown_wait_runs_pending_and_running(self):
        occ = self.c.occupy(0.5)
        p = self.c.submit("echo", ["p"])
        r_occ = self.c.request("result", {"future": occ})
        r_p = self.c.request("result", {"future": p})
        with self.d.client() as admin:
            self.assertEqual(admin.ok("shutdown", {}), {"ok": True})
            e = admin.err("submit", {"fn": "echo", "args": [1]}, -32006)
            self.assertIsInstance(e["message"], str)
            # Queries are still answered.
            self.assertIn(admin.status(p)["state"], ("pending", "running",
                                                     "finished"))
        self.assertEqual(result_of(self.c.response(r_occ)), 0.5)
        self.assertEqual(result_of(self.c.response(r_p)), "p")
        self.assertEqual(self.d.wait_exit(), 0)
        self.assertFalse(os.path.exists(self.d.sock))

    def test_shutdown_cancel_futures(self):
        occ = self.c.occupy(0.5)
        p = self.c.submit("echo", ["p"])
        r_occ = self.c.request("result", {"future": occ})
        r_p = self.c.request("result", {"future": p})
        with self.d.client() as admin:
            self.assertEqual(admin.ok("shutdown", {"wait": True,
                                                   "cancel_futures": True}),
                             {"ok": True})
        self.assertError(self.c.response(r_p), -32002, r_p)
        self.assertEqual(result_of(self.c.response(r_occ)), 0.5)
        self.assertEqual(self.d.wait_exit(), 0)

    def test_shutdown_without_wait_interrupts(self):
        occ = self.c.occupy(30)
        p = self.c.submit("echo", ["p"])
        r_occ = self.c.request("result", {"future": occ})
        r_p = self.c.request("result", {"future": p})
        t0 = time.monotonic()
        with self.d.client() as admin:
            self.assertEqual(admin.ok("shutdown", {"wait": False}),
                             {"ok": True})
        e = self.assertError(self.c.response(r_occ), -32003, r_occ)
        self.assertEqual(e["data"]["type"], "Interrupted")
        self.assertError(self.c.response(r_p), -32002, r_p)
        self.assertEqual(self.d.wait_exit(), 0)
        self.assertLess(time.monotonic() - t0, 10)


class Timeouts(SharedDaemon):
    DAEMON = dict(threads=1, config=ONE_THREAD_CONFIG)

    def test_timeout_fails_with_timeout_error(self):
        t0 = time.monotonic()
        fid = self.c.submit("sleep", [5], timeout=0.3)
        e = self.c.err("result", {"future": fid}, -32003)
        self.assertTiming(time.monotonic() - t0, 0.25, 4)
        self.assertEqual(e["data"]["type"], "TimeoutError")
        self.assertIsInstance(e["data"]["message"], str)
        s = self.c.status(fid)
        self.assertEqual(s["state"], "failed")
        self.assertEqual(s["attempts"], 1)
        self.assertEqual(s["error"], e["data"])
        self.assertTiming(s["finished"] - s["started"], 0.25, 4)

    def test_timed_out_sleep_frees_its_thread(self):
        fid = self.c.submit("sleep", [5], timeout=0.2)
        self.c.err("result", {"future": fid}, -32003)
        t0 = time.monotonic()
        e = self.c.submit("echo", [1])
        self.assertEqual(self.c.ok("result", {"future": e}), 1)
        self.assertLess(time.monotonic() - t0, 3)

    def test_timeout_not_reached(self):
        fid = self.c.submit("sleep", [0.1], timeout=5)
        self.assertEqual(self.c.ok("result", {"future": fid}), 0.1)
        self.assertEqual(self.c.status(fid)["attempts"], 1)

    def test_retries_after_timeout(self):
        t0 = time.monotonic()
        fid = self.c.submit("sleep", [5], timeout=0.2, retries=2)
        e = self.c.err("result", {"future": fid}, -32003)
        self.assertTiming(time.monotonic() - t0, 0.55, 6)
        self.assertEqual(e["data"]["type"], "TimeoutError")
        s = self.c.status(fid)
        self.assertEqual(s["attempts"], 3)
        # started is the last attempt's.
        self.assertGreaterEqual(s["started"] - s["submitted"], 0.35)

    def test_retries_unused_on_success(self):
        fid = self.c.submit("echo", [1], retries=3)
        self.c.ok("result", {"future": fid})
        self.assertEqual(self.c.status(fid)["attempts"], 1)


class List(Case):
    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=4).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def done(self, n):
        fids = [self.c.submit("echo", [i]) for i in range(n)]
        for fid in fids:
            self.c.ok("result", {"future": fid})
        return fids

    def test_empty(self):
        self.assertEqual(self.c.ok("list"), [])

    def test_newest_first_without_results(self):
        fids = self.done(3)
        got = self.c.ok("list")
        self.assertEqual([f["future"] for f in got], fids[::-1])
        for f in got:
            check_future(f)
            self.assertEqual(f["state"], "finished")
            self.assertNotIn("result", f)

    def test_limit(self):
        fids = self.done(3)
        self.assertEqual([f["future"] for f in
                          self.c.ok("list", {"limit": 2})], fids[:0:-1])
        self.assertEqual(self.c.ok("list", {"limit": 0}), [])
        self.assertEqual(len(self.c.ok("list", {"limit": 1000})), 3)

    def test_default_limit_is_100(self):
        fids = self.done(105)
        got = self.c.ok("list")
        self.assertEqual(len(got), 100)
        self.assertEqual([f["future"] for f in got], fids[:4:-1])

    def test_state_filter(self):
        ok = self.done(2)
        bad = self.c.submit("sleep", [5], timeout=0.2)
        self.c.err("result", {"future": bad}, -32003)
        self.assertEqual([f["future"] for f in
                          self.c.ok("list", {"state": "finished"})],
                         ok[::-1])
        failed = self.c.ok("list", {"state": "failed"})
        self.assertEqual([f["future"] for f in failed], [bad])
        self.assertNotIn("result", failed[0])
        self.assertEqual(failed[0]["error"]["type"], "TimeoutError")
        self.assertEqual(self.c.ok("list", {"state": "cancelled"}), [])
        self.assertEqual(self.c.ok("list", {"state": "pending"}), [])
        self.assertEqual(len(self.c.ok("list", {"state": None})), 3)


class ResultTTL(SharedDaemon):
    DAEMON = dict(threads=2, config="result_ttl = 0.5\n")

    def test_done_future_expires(self):
        fid = self.c.submit("echo", ["ttl"])
        self.assertEqual(self.c.ok("result", {"future": fid}), "ttl")
        finished = self.c.status(fid)["finished"]
        deadline = time.monotonic() + 10
        while True:
            r = self.c.call("status", {"future": fid})
            if "error" in r:
                break
            self.assertLess(time.monotonic(), deadline,
                            "future never expired")
            time.sleep(0.02)
        gone = time.time()
        e = self.assertError(r, -32000, any_id=True)
        self.assertEqual(e["data"]["future"], fid)
        self.assertGreaterEqual(gone - finished, 0.45)
        self.assertNotIn(fid, [f["future"] for f in self.c.ok("list")])
        self.c.err("result", {"future": fid}, -32000)

    def test_running_future_does_not_expire(self):
        fid = self.c.submit("sleep", [1.0])
        e = self.c.err("result", {"future": fid, "timeout": 0.7}, -32001)
        self.assertEqual(e["data"]["state"], "running")
        self.assertEqual(self.c.ok("result", {"future": fid}), 1.0)
        # The ttl runs from the end, not from submission.
        self.assertEqual(self.c.status(fid)["state"], "finished")


if __name__ == "__main__":
    main()

"""map: results in order, starmap, chunks, the map future, streams in and
out of order, faults inside a chunk, cancelling, backpressure, a client
that vanishes, fairness between connections, priorities, the pending limit
and bad requests.

Chunks are seen from outside through the pid that runs each item: the
items of one chunk all share getpid's answer. Every test ends by showing
the daemon still serves: the pool is idle and whole, and a fresh
connection gets hello.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, FUTURE_ID, FUTURE_KEYS,  # noqa: E402
                       STATES, Case, Daemon, assert_alive, error_of, main,
                       plugin_args, plugin_path, request, result_of,
                       wait_until)

PROCESSES = 2
THREADS = 4

# Bounds, not expectations: a sanitizer build on a loaded machine is slow,
# and these only tell "happens" from "never happens".
POOL_TIMEOUT = 30.0
TASK_TIMEOUT = 30.0

# kill_timeout keeps a killed worker's replacement quick; shutdown_timeout
# keeps teardown quick should a test leave work behind.
FAST_KILL = "kill_timeout = 0.5\nshutdown_timeout = 2\n"

COUNTS = ("submitted", "pending", "running", "finished", "failed",
          "cancelled")
DONE = ("finished", "failed", "cancelled")
MAP_KEYS = FUTURE_KEYS | {"items", "done"}

SIGKILL = 9

# Kills the worker that spawned it, in the middle of whatever it runs.
KILL_WORKER = ["sh", "-c", "kill -KILL $PPID"]

VALUES = [0, -5, 2 ** 62, 1.5, "", "text", "\u2603\U0001f600", None, True,
          False, [], {}, [1, [2]], {"a": [1, {"b": None}]}]


def is_prime(n):
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


def auto_chunksize(n, workers):
    """multiprocessing.Pool's choice for N items on WORKERS."""
    size, extra = divmod(n, workers * 4)
    if extra:
        size += 1
    return max(size, 1)


def idle_pool(workers, n):
    if len(workers) == n and all(w["state"] == "idle" and
                                 w["future"] is None for w in workers):
        return workers
    return None


class MapCase(Case):
    """Helpers over self.d (the daemon) and self.c (a client of it)."""

    def check_map_future(self, obj, fid=None, counts=False):
        """OBJ is a map future; with COUNTS it must carry items and done."""
        self.assertIsInstance(obj, dict)
        self.assertEqual(set(obj) - MAP_KEYS, set(), obj)
        for k in ("future", "fn", "executor", "state"):
            self.assertIn(k, obj)
        if fid is not None:
            self.assertEqual(obj["future"], fid)
        self.assertIn(obj["state"], STATES, obj)
        self.assertIn(obj["executor"], ("process", "thread"), obj)
        if obj["state"] != "finished":
            self.assertNotIn("result", obj)
        self.assertEqual("error" in obj, obj["state"] == "failed", obj)
        for k in ("submitted", "started", "finished"):
            if k in obj:
                self.assertIn(type(obj[k]), (int, float), obj)
        if counts:
            self.assertIs(type(obj.get("items")), int, obj)
            self.assertIs(type(obj.get("done")), int, obj)
        if "items" in obj and "done" in obj:
            self.assertTrue(0 <= obj["done"] <= obj["items"], obj)
            if obj["state"] in ("finished", "failed"):
                self.assertEqual(obj["done"], obj["items"], obj)
        if obj["state"] == "failed":
            e = obj["error"]
            self.assertIsInstance(e.get("type"), str, obj)
            self.assertIsInstance(e.get("message"), str, obj)
            self.assertIs(type(e.get("index")), int, obj)
        return obj

    def map(self, fn, iterable, c=None, **params):
        """Start a stream-false map and return its future id."""
        p = {"fn": fn, "iterable": iterable}
        p.update(params)
        r = (c or self.c).ok("map", p)
        self.assertEqual(set(r), {"future"}, r)
        self.assertRegex(r["future"], FUTURE_ID)
        return r["future"]

    def status(self, fid, c=None):
        obj = (c or self.c).ok("status", {"future": fid})
        return self.check_map_future(obj, fid, counts=True)

    def result(self, fid, timeout=TASK_TIMEOUT, c=None):
        msg = (c or self.c).call("result", {"future": fid,
                                            "timeout": timeout},
                                 timeout=timeout + 10)
        return result_of(msg)

    def failure(self, fid, timeout=TASK_TIMEOUT, c=None):
        """The task error a failed map future reports."""
        msg = (c or self.c).call("result", {"future": fid,
                                            "timeout": timeout},
                                 timeout=timeout + 10)
        e = error_of(msg, -32003)
        self.assertIsInstance(e.get("data"), dict, msg)
        self.assertIsInstance(e["data"].get("type"), str, msg)
        self.assertIsInstance(e["data"].get("message"), str, msg)
        return e["data"]

    def map_result(self, fn, iterable, **params):
        return self.result(self.map(fn, iterable, **params))

    def stream(self, fn, iterable, c=None, wait=TASK_TIMEOUT, **params):
        """Run a stream-true map to its response, waiting at most WAIT;
        (response result, the map.item params in arrival order)."""
        c = c or self.c
        p = {"fn": fn, "iterable": iterable, "stream": True}
        p.update(params)
        rid = c.request("map", p)
        r = result_of(c.response(rid, wait))
        self.assertEqual(set(r), {"items", "failed"}, r)
        return r, self.take_items(c, rid, len(iterable))

    def take_items(self, c, rid, n):
        """Remove and return the map.item params for request RID."""
        mine, rest = [], []
        for note in c.notifications:
            if note.get("method") == "map.item" and \
                    note.get("params", {}).get("request") == rid:
                mine.append(note)
            else:
                rest.append(note)
        c.notifications[:] = rest
        for note in mine:
            self.check_item(note, rid, n)
        return [note["params"] for note in mine]

    def check_item(self, note, rid, n):
        self.assertEqual(note.get("jsonrpc"), "2.0", note)
        self.assertNotIn("id", note)
        p = note["params"]
        self.assertIn(set(p), ({"request", "index", "result"},
                               {"request", "index", "error"}), note)
        self.assertEqual(p["request"], rid)
        self.assertIs(type(p["index"]), int, note)
        self.assertTrue(0 <= p["index"] < n, note)
        if "error" in p:
            self.assertIsInstance(p["error"].get("type"), str, note)
            self.assertIsInstance(p["error"].get("message"), str, note)

    def counts(self):
        st = self.c.ok("stats")
        return {k: st[k] for k in COUNTS}

    def delta(self, before):
        now = self.counts()
        return {k: now[k] - before[k] for k in COUNTS}

    def settle(self):
        """Wait until nothing is pending or running."""
        def quiet():
            st = self.counts()
            return st if st["pending"] == 0 and st["running"] == 0 else None
        return wait_until(quiet, POOL_TIMEOUT, "nothing pending or running")

    def restarts(self):
        return self.c.ok("stats")["process"]["restarts"]

    def assert_pool_whole(self, n=PROCESSES):
        """Nothing queued, N idle workers, an echo on each executor
        answers and a fresh connection gets hello."""
        self.settle()
        ws = wait_until(lambda: idle_pool(self.c.ok("workers"), n),
                        POOL_TIMEOUT, "workers lists %d idle workers" % n)
        for executor in ("process", "thread"):
            fid = self.c.submit("echo", [executor], executor=executor)
            r = self.c.ok("result", {"future": fid,
                                     "timeout": TASK_TIMEOUT},
                          timeout=TASK_TIMEOUT + 10)
            self.assertEqual(r, executor)
        assert_alive(self.d.sock)
        return ws

    def worker_pids(self):
        return {w["pid"] for w in self.c.ok("workers")}

    def pids(self, n, **params):
        """Which worker ran each of N getpid items."""
        workers = self.worker_pids()
        pids = self.map_result("getpid", [None] * n, executor="process",
                               **params)
        self.assertTrue(set(pids) <= workers, (pids, workers))
        return pids

    def assert_chunks(self, pids, size):
        """Items went in chunks of SIZE: each aligned run of SIZE items ran
        on one worker, and the first two chunks, handed out together to
        an idle pool, ran on two different workers."""
        runs = [pids[i:i + size] for i in range(0, len(pids), size)]
        for i, run in enumerate(runs):
            self.assertEqual(len(set(run)), 1,
                             "chunk %d of size %d split: %r"
                             % (i, size, pids))
        if len(runs) > 1:
            self.assertNotEqual(runs[0][0], runs[1][0],
                                "chunks 0 and 1 ran on one worker, so a "
                                "chunk is larger than %d: %r" % (size, pids))


class Shared(MapCase):
    """One daemon with two workers, four threads and the testing and
    examples plugins; each test leaves the pool idle and whole."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(threads=THREADS, processes=PROCESSES,
                       config=FAST_KILL, extra_args=plugin_args()).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client(timeout=TASK_TIMEOUT)
        self.addCleanup(self.c.close)
        self.assert_pool_whole()


class Results(Shared):
    def test_results_in_input_order_on_both_executors(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                fid = self.map("echo", VALUES * 3, executor=executor)
                r = self.result(fid)
                self.assertEqual(r, VALUES * 3)
                for got, want in zip(r, VALUES * 3):
                    self.assertIs(type(got), type(want))
                s = self.status(fid)
                self.assertEqual((s["state"], s["fn"], s["executor"],
                                  s["items"], s["done"]),
                                 ("finished", "echo", executor,
                                  len(VALUES) * 3, len(VALUES) * 3))
                self.assertEqual(s["result"], VALUES * 3)
                nums = list(range(60))
                self.assertEqual(self.map_result("is_prime", nums,
                                                 executor=executor),
                                 [is_prime(n) for n in nums])
        # The longest first on four threads: they end in reverse, the
        # result is still in input order.
        secs = [0.4, 0.3, 0.2, 0.1, 0]
        fid = self.map("sleep", secs, chunksize=1)
        self.assertEqual(self.result(fid), secs)
        self.assertEqual(self.status(fid)["executor"], "thread")
        self.assertEqual(self.map_result("getpid", [None] * 5,
                                         executor="thread"),
                         [self.c.ok("hello")["pid"]] * 5)
        self.assert_pool_whole()

    def test_items_pass_on_as_sent(self):
        """Items reach workers as the text they arrived in: spacing,
        escapes, look-alike keys and brackets inside strings change
        nothing; nor does a map inside a batch, whose items have no text
        of their own."""
        items = ["]", "[", ",", "\"", "\\", "a\nb", "\u0000x", "\u00e9",
                 {"iterable": [9]}, [" ] ", {"k": ","}], 1e300, -7, {},
                 [], None, "}"]
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                rid = self.c.next_id()
                params = {"fn": "echo", "chunksize": 3, "iterable": items,
                          "executor": executor}
                text = json.dumps(request("map", params, rid), indent=2)
                text = text.replace('"iterable"', '"iter\\u0061ble"', 1)
                self.c.send_raw(text.replace("\n", " ").encode() + b"\n")
                fid = self.c.response(rid)["result"]["future"]
                self.assertEqual(self.result(fid), items)

                batch = [request("map", params, self.c.next_id()),
                         request("hello", None, self.c.next_id())]
                self.c.send(batch)
                answers = self.c.recv()
                fid = [a for a in answers if a["id"] == batch[0]["id"]][0]
                self.assertEqual(self.result(fid["result"]["future"]),
                                 items)
        self.assert_pool_whole()

    def send_map_raw(self, iterable, fn="echo", **params):
        """Send a map whose iterable is the raw bytes given; its answer."""
        rid = self.c.next_id()
        head = json.dumps(dict({"fn": fn, "chunksize": 2}, **params))
        self.c.send_raw(b'{"jsonrpc":"2.0","id":%d,"method":"map",'
                        b'"params":%s,"iterable":%s}}\n'
                        % (rid, head[:-1].encode(), iterable))
        return self.c.response(rid)

    def test_iterable_text_however_checked(self):
        """An iterable the daemon can vouch for without parsing and one
        it leaves to the parser behave alike: valid text maps to its
        values, invalid text is a parse error with nothing queued."""
        seventeen = b"{%s}" % b",".join(b'"k%d":%d' % (i, i)
                                        for i in range(17))
        valid = [b"[1, 2 ,\t3]", b'["a\\"b", "caf\\u00e9", "\xc3\xa9"]',
                 b'["\\ud83d\\ude00"]', b'[{"a":1,"\\u0062":2}, {}]',
                 b"[1e-400, 1e300, -0, 999999999999999999]",
                 b"[%s]" % seventeen, b"[" * 70 + b"]" * 70,
                 b"[true, false, null, [], [[1]]]"]
        invalid = [b"[1,]", b"[01]", b"[1 2]", b'[{"a":1,"a":2}]',
                   b'[{"a":1,"\\u0061":2}]', b"[18446744073709551616]",
                   b"[1e400]", b'["\\ud800"]', b'["a\x01"]',
                   b'["\xc0\x80"]', b"[NaN]", b"[1]]"]
        before = self.counts()
        for raw in invalid:
            with self.subTest(raw=raw):
                self.c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"map",'
                                b'"params":{"fn":"echo","iterable":'
                                + raw + b"}}\n")
                error_of(self.c.recv(), -32700, None, any_id=False)
        self.assertEqual(self.delta(before)["submitted"], 0)
        for raw in valid:
            for executor in ("process", "thread"):
                with self.subTest(raw=raw, executor=executor):
                    fid = result_of(self.send_map_raw(
                        raw, executor=executor))["future"]
                    self.assertEqual(self.result(fid),
                                     json.loads(raw.decode()))
        # With star, each item must be an array, however the function
        # checks its arguments (is_prime does not; echo counts them).
        for fn in ("is_prime", "echo"):
            with self.subTest(fn=fn):
                e = error_of(self.send_map_raw(b"[[7], [3], 5]", fn=fn,
                                               star=True), -32602)
                self.assertEqual((e["data"]["param"], e["data"]["index"]),
                                 ("iterable", 2))
        self.assertEqual(self.map_result("is_prime", [[7], [8]], star=True),
                         [True, False])
        self.assert_pool_whole()

    def test_default_executor_is_the_functions(self):
        for fn, items, executor in (("echo", [1], "thread"),
                                    ("is_prime", [7], "process"),
                                    ("exec", ["true"], "process")):
            with self.subTest(fn=fn):
                fid = self.map(fn, items)
                self.result(fid)
                s = self.status(fid)
                self.assertEqual((s["fn"], s["executor"]), (fn, executor))
        self.assert_pool_whole()

    def test_explicit_defaults_are_accepted(self):
        fid = self.map("echo", [1, 2], star=False, chunksize=None,
                       executor=None, timeout=None, stream=False,
                       ordered=True, priority=0)
        self.assertEqual(self.result(fid), [1, 2])
        self.assert_pool_whole()

    def test_star(self):
        self.assertEqual(self.map_result("echo", [[1], ["s"], [[1, 2]],
                                                  [None]], star=True),
                         [1, "s", [1, 2], None])
        # Without star an array item is the one argument itself.
        self.assertEqual(self.map_result("echo", [[1, 2], []]),
                         [[1, 2], []])
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                r = self.map_result("exec", [["echo", "a", "b"],
                                             ["printf", "%s-%s", "x", "y"],
                                             ["true"]],
                                    star=True, executor=executor)
                self.assertEqual([x["stdout"] for x in r],
                                 ["a b\n", "x-y", ""])
                self.assertEqual([x["exit_code"] for x in r], [0, 0, 0])
        # Each item is one call's whole argument list: echo takes one.
        before = self.counts()
        e = self.c.err("map", {"fn": "echo", "iterable": [[1], [2, 3], [4]],
                               "star": True}, -32602)
        self.assertEqual(e["data"]["param"], "iterable")
        self.assertEqual(e["data"]["index"], 1)
        e = self.c.err("map", {"fn": "echo", "iterable": [[1], []],
                               "star": True}, -32602)
        self.assertEqual((e["data"]["param"], e["data"]["index"]),
                         ("iterable", 1))
        for bad in ([[1], 2], [[1], {"a": 1}], [[1], "x"], [None]):
            with self.subTest(iterable=bad):
                e = self.c.err("map", {"fn": "echo", "iterable": bad,
                                       "star": True}, -32602)
                self.assertEqual(e["data"]["param"], "iterable")
        self.assertEqual(self.delta(before)["submitted"], 0)
        self.assert_pool_whole()


class Chunks(Shared):
    def test_auto_chunksize(self):
        for n in (42, 40, 9, 3):
            size = auto_chunksize(n, PROCESSES)
            with self.subTest(items=n, chunksize=size):
                self.assert_chunks(self.pids(n), size)
                self.assert_pool_whole()

    def test_explicit_chunksize(self):
        for n, size in ((12, 4), (9, 3), (4, 1), (40, 1)):
            with self.subTest(items=n, chunksize=size):
                self.assert_chunks(self.pids(n, chunksize=size), size)
                self.assert_pool_whole()
        # A chunk larger than the iterable is the whole of it.
        pids = self.pids(5, chunksize=100)
        self.assertEqual(len(set(pids)), 1, pids)
        self.assert_pool_whole()

    def test_chunks_on_the_thread_executor(self):
        items = list(range(1000))
        for size in (None, 1, 7, 1000, 5000):
            with self.subTest(chunksize=size):
                self.assertEqual(self.map_result("echo", items,
                                                 chunksize=size), items)
        self.assert_pool_whole()

    def test_hundred_thousand_items(self):
        n = 100000
        items = [i if i % 3 else "s%d" % i for i in range(n)]
        before = self.counts()
        t0 = time.monotonic()
        fid = self.map("echo", items, executor="process")
        self.assertLess(time.monotonic() - t0, 10.0,
                        "the future id must come at once")
        self.assertEqual(self.result(fid, timeout=45), items)
        s = self.status(fid)
        self.assertEqual((s["state"], s["items"], s["done"]),
                         ("finished", n, n))
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["finished"], d["failed"],
                          d["cancelled"]), (n, n, 0, 0))
        self.c.ok("forget", {"futures": [fid]})
        self.assert_pool_whole()


class MapFuture(Shared):
    def test_done_map_future_like_any_future(self):
        fid = self.map("echo", [1, 2, 3], executor="process")
        self.assertEqual(self.result(fid), [1, 2, 3])
        # Fetched again, the same.
        self.assertEqual(self.result(fid), [1, 2, 3])
        s = self.status(fid)
        self.assertEqual((s["state"], s["fn"], s["executor"], s["items"],
                          s["done"], s["result"]),
                         ("finished", "echo", "process", 3, 3, [1, 2, 3]))
        self.assertIsNone(self.c.ok("exception", {"future": fid}))
        self.assertEqual(self.c.ok("wait", {"futures": [fid]}),
                         {"done": [fid], "not_done": []})
        rid = self.c.request("as_completed", {"futures": [fid]})
        self.assertEqual(result_of(self.c.response(rid)), {"done": 1})
        note = self.c.wait_notification("as_completed")
        self.assertEqual(note["params"]["request"], rid)
        self.check_map_future(note["params"]["future"], fid)
        self.assertEqual(note["params"]["future"]["state"], "finished")
        self.assertEqual(note["params"]["future"]["result"], [1, 2, 3])
        # The results are spliced into answers as text, except in a batch.
        batch = [request("result", {"future": fid}, self.c.next_id()),
                 request("status", {"future": fid}, self.c.next_id())]
        self.c.send(batch)
        answers = {a["id"]: a for a in self.c.recv()}
        self.assertEqual(result_of(answers[batch[0]["id"]]), [1, 2, 3])
        self.assertEqual(result_of(answers[batch[1]["id"]])["result"],
                         [1, 2, 3])
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": False, "state": "finished"})
        listed = [f for f in self.c.ok("list") if f["future"] == fid]
        self.assertEqual(len(listed), 1)
        self.check_map_future(listed[0], fid)
        self.assertEqual(listed[0]["state"], "finished")
        self.assertNotIn("result", listed[0])
        self.assertEqual(self.c.ok("forget", {"futures": [fid]}),
                         {"forgotten": 1})
        for method in ("status", "result", "exception", "cancel"):
            with self.subTest(method=method):
                e = self.c.err(method, {"future": fid}, -32000)
                self.assertEqual(e["data"]["future"], fid)
        self.assert_pool_whole()

    def test_running_map_future(self):
        n = 4
        fid = self.map("sleep", [0.4] * n, executor="process",
                       chunksize=1)
        s = self.status(fid)
        self.assertIn(s["state"], ("pending", "running"))
        self.assertEqual(s["items"], n)
        self.assertLess(s["done"], n)
        e = self.c.err("result", {"future": fid, "timeout": 0}, -32001)
        self.assertIn(e["data"]["state"], ("pending", "running"))
        e = self.c.err("exception", {"future": fid, "timeout": 0}, -32001)
        self.assertIn(e["data"]["state"], ("pending", "running"))
        r = self.c.ok("wait", {"futures": [fid], "timeout": 0})
        self.assertEqual(r, {"done": [], "not_done": [fid]})
        # Not done: forget leaves it alone.
        self.assertEqual(self.c.ok("forget", {"futures": [fid]}),
                         {"forgotten": 0})
        rid = self.c.request("as_completed", {"futures": [fid],
                                              "timeout": TASK_TIMEOUT})
        wid = self.c.request("wait", {"futures": [fid],
                                      "return_when": "FIRST_COMPLETED"})
        self.assertEqual(result_of(self.c.response(wid, TASK_TIMEOUT)),
                         {"done": [fid], "not_done": []})
        self.assertEqual(result_of(self.c.response(rid, TASK_TIMEOUT)),
                         {"done": 1})
        note = self.c.wait_notification("as_completed")
        self.check_map_future(note["params"]["future"], fid)
        self.assertEqual(note["params"]["future"]["state"], "finished")
        self.assertEqual(self.result(fid), [0.4] * n)
        s = self.status(fid)
        self.assertEqual((s["state"], s["done"]), ("finished", n))
        self.assert_pool_whole()

    def test_notify(self):
        fid = self.map("sleep", [0.1, 0.2], notify=True)
        note = self.c.wait_notification(
            "future.done", lambda p: p["future"]["future"] == fid,
            timeout=TASK_TIMEOUT)
        self.assertEqual(set(note["params"]), {"future"})
        obj = self.check_map_future(note["params"]["future"], fid)
        self.assertEqual(obj["state"], "finished")
        self.assertEqual(obj.get("result", [0.1, 0.2]), [0.1, 0.2])
        # Exactly one, and only for the one asked.
        fid2 = self.map("echo", [1])
        self.assertEqual(self.result(fid2), [1])
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])
        self.assert_pool_whole()

    def test_empty_iterable(self):
        before = self.counts()
        for executor in (None, "process", "thread"):
            with self.subTest(executor=executor):
                fid = self.map("echo", [], executor=executor)
                self.assertEqual(self.result(fid), [])
                s = self.status(fid)
                self.assertEqual((s["state"], s["items"], s["done"]),
                                 ("finished", 0, 0))
                t0 = time.monotonic()
                rid = self.c.request("map", {"fn": "echo", "iterable": [],
                                             "stream": True,
                                             "executor": executor})
                self.assertEqual(result_of(self.c.response(rid)),
                                 {"items": 0, "failed": 0})
                self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(self.map_result("exec", [], star=True), [])
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["pending"], d["finished"]),
                         (0, 0, 0))
        self.assert_pool_whole()


class Failures(Shared):
    def test_failed_item_fails_the_map_with_its_index(self):
        items = [2, 4, "seven", 7, None, 11]
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                before = self.counts()
                fid = self.map("is_prime", items, executor=executor)
                e = self.failure(fid)
                self.assertEqual((e["type"], e["index"]), ("TaskError", 2))
                self.assertEqual(self.c.ok("exception", {"future": fid}), e)
                s = self.status(fid)
                self.assertEqual((s["state"], s["items"], s["done"]),
                                 ("failed", 6, 6))
                self.assertEqual(s["error"], e)
                self.assertNotIn("result", s)
                d = self.delta(before)
                self.assertEqual((d["submitted"], d["finished"],
                                  d["failed"]), (6, 4, 2))
        fid = self.map("spin", [0, -1, 0])
        e = self.failure(fid)
        self.assertEqual((e["type"], e["index"]), ("TaskError", 1))
        self.assertIn("spin", e["message"])
        self.assert_pool_whole()

    def test_lowest_index_wins_once_every_item_ended(self):
        # Item 3 fails at once, item 1 only when its timeout runs out: the
        # map waits for item 1 and reports it.
        restarts = self.restarts()
        t0 = time.monotonic()
        fid = self.map("spin", [0, 30, 0, -1, 0], timeout=1.5, chunksize=1)
        def four_done():
            s = self.status(fid)
            return s if s["done"] >= 4 else None
        s = wait_until(four_done, TASK_TIMEOUT, "four items done")
        if s["done"] == 4:
            self.assertNotIn(s["state"], DONE, s)
        e = self.failure(fid)
        self.assertGreaterEqual(time.monotonic() - t0, 1.4)
        self.assertEqual((e["type"], e["index"]), ("TimeoutError", 1))
        s = self.status(fid)
        self.assertEqual((s["state"], s["done"]), ("failed", 5))
        r = self.c.ok("wait", {"futures": [fid],
                               "return_when": "FIRST_EXCEPTION"})
        self.assertEqual(r, {"done": [fid], "not_done": []})
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), restarts + 1)

    def test_failed_items_do_not_stop_a_stream(self):
        items = [0, -1, 0, -2, 0]
        for executor in ("process", "thread"):
            for ordered in (True, False):
                with self.subTest(executor=executor, ordered=ordered):
                    r, got = self.stream("spin", items, executor=executor,
                                         ordered=ordered)
                    self.assertEqual(r, {"items": 5, "failed": 2})
                    self.assertEqual(sorted(p["index"] for p in got),
                                     list(range(5)))
                    if ordered:
                        self.assertEqual([p["index"] for p in got],
                                         list(range(5)))
                    for p in got:
                        if items[p["index"]] < 0:
                            self.assertEqual(p["error"]["type"],
                                             "TaskError", p)
                        else:
                            self.assertEqual(p["result"], 0, p)
        self.assertEqual(self.c.quiet(), [])
        self.assert_pool_whole()

    def test_crash_inside_a_chunk(self):
        # A map runs one function, so the fault comes from a program one
        # item runs: one chunk of eight on one worker, and item 3 kills
        # that worker.
        items = [["echo", str(i)] for i in range(8)]
        items[3] = KILL_WORKER
        restarts = self.restarts()
        r, got = self.stream("exec", items, star=True, chunksize=8)
        self.assertEqual(r, {"items": 8, "failed": 1})
        self.assertEqual([p["index"] for p in got], list(range(8)))
        for p in got:
            with self.subTest(index=p["index"]):
                if p["index"] == 3:
                    self.assertEqual(p["error"]["type"], "WorkerCrashed",
                                     p)
                    self.assertEqual(p["error"].get("signal"), SIGKILL, p)
                else:
                    self.assertEqual(p["result"]["exit_code"], 0, p)
                    self.assertEqual(p["result"]["stdout"],
                                     "%d\n" % p["index"], p)
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), restarts + 1)
        # Not streamed: the map fails with that item, after all the rest.
        before = self.counts()
        fid = self.map("exec", items, star=True, chunksize=8)
        e = self.failure(fid)
        self.assertEqual((e["type"], e["index"], e.get("signal")),
                         ("WorkerCrashed", 3, SIGKILL))
        self.assertEqual(self.status(fid)["done"], 8)
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["finished"], d["failed"]),
                         (8, 7, 1))
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), restarts + 2)

    def test_worker_exit_inside_a_chunk(self):
        # exit() with a code ends the worker; with anything else it is a
        # plain task error that leaves the worker be.
        items = ["a", "b", 3, "c", "d"]
        restarts = self.restarts()
        r, got = self.stream("exit", items, chunksize=5)
        self.assertEqual(r, {"items": 5, "failed": 5})
        self.assertEqual([p["index"] for p in got], list(range(5)))
        for p in got:
            with self.subTest(index=p["index"]):
                if p["index"] == 2:
                    self.assertEqual((p["error"]["type"],
                                      p["error"].get("exit_code")),
                                     ("WorkerCrashed", 3), p)
                else:
                    self.assertEqual(p["error"]["type"], "TaskError", p)
                    self.assertIn("exit takes a code", p["error"]["message"])
        fid = self.map("exit", items, chunksize=5)
        e = self.failure(fid)
        self.assertEqual((e["type"], e["index"]), ("TaskError", 0))
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), restarts + 2)

    def test_timeout_inside_a_chunk(self):
        # The long item's own timeout ends it; the chunk's other items do
        # not wait out its 20 seconds.
        items = [0.05] * 6
        items[2] = 20
        for executor, replaced in (("process", 1), ("thread", 0)):
            with self.subTest(executor=executor):
                restarts = self.restarts()
                t0 = time.monotonic()
                r, got = self.stream("sleep", items, executor=executor,
                                     chunksize=6, timeout=1.0)
                self.assertLess(time.monotonic() - t0, 12.0)
                self.assertEqual(r, {"items": 6, "failed": 1})
                self.assertEqual([p["index"] for p in got], list(range(6)))
                for p in got:
                    if p["index"] == 2:
                        self.assertEqual(p["error"]["type"], "TimeoutError",
                                         p)
                    else:
                        self.assertEqual(p["result"], 0.05, p)
                self.assert_pool_whole()
                self.assertEqual(self.restarts(), restarts + replaced)


class Streams(Shared):
    # On two workers one at a time, the first item outlasts the rest, which
    # the other worker runs one after another: they end 1, 2, 3, 4, 0.
    SECS = [1.0, 0.3, 0.05, 0.05, 0.05]

    def test_ordered_stream_is_in_input_order(self):
        r, got = self.stream("sleep", self.SECS, executor="process",
                             chunksize=1)
        self.assertEqual(r, {"items": 5, "failed": 0})
        self.assertEqual([p["index"] for p in got], [0, 1, 2, 3, 4])
        self.assertEqual([p["result"] for p in got], self.SECS)
        self.assertEqual(self.c.quiet(), [])
        # ordered is the default.
        r, got = self.stream("echo", VALUES)
        self.assertEqual([p["index"] for p in got],
                         list(range(len(VALUES))))
        self.assertEqual([p["result"] for p in got], VALUES)
        self.assert_pool_whole()

    def test_unordered_stream_is_in_completion_order(self):
        r, got = self.stream("sleep", self.SECS, executor="process",
                             chunksize=1, ordered=False)
        self.assertEqual(r, {"items": 5, "failed": 0})
        self.assertEqual([p["index"] for p in got], [1, 2, 3, 4, 0])
        for p in got:
            self.assertEqual(p["result"], self.SECS[p["index"]])
        self.assertEqual(self.c.quiet(), [])
        self.assert_pool_whole()

    def test_streams_pipelined_on_one_connection(self):
        rids = [self.c.request("map", {"fn": "echo", "iterable": [k] * 50,
                                       "stream": True, "ordered": k % 2 == 0})
                for k in range(4)]
        for k, rid in enumerate(rids):
            self.assertEqual(result_of(self.c.response(rid)),
                             {"items": 50, "failed": 0})
        for k, rid in enumerate(rids):
            got = self.take_items(self.c, rid, 50)
            self.assertEqual(sorted(p["index"] for p in got),
                             list(range(50)))
            self.assertEqual({p["result"] for p in got}, {k})
        self.assertEqual(self.c.notifications, [])
        self.assert_pool_whole()


class Cancelling(Shared):
    def test_cancel_running_map(self):
        n = 60
        restarts = self.restarts()
        before = self.counts()
        fid = self.map("sleep", [0.2] * n, executor="process", chunksize=1)
        wait_until(lambda: self.status(fid)["done"] >= 1, TASK_TIMEOUT,
                   "an item done")
        rid = self.c.request("result", {"future": fid})
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": True, "state": "cancelled"})
        self.assertEqual(self.status(fid)["state"], "cancelled")
        error_of(self.c.response(rid), -32002)
        self.c.err("result", {"future": fid}, -32002)
        self.c.err("exception", {"future": fid}, -32002)
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": True, "state": "cancelled"})
        self.settle()
        d = self.delta(before)
        self.assertEqual(d["submitted"], n)
        self.assertGreater(d["cancelled"], 0, d)
        self.assertLess(d["finished"], n - 10, d)
        self.assertEqual(d["finished"] + d["failed"] + d["cancelled"], n, d)
        self.assertEqual(self.status(fid)["state"], "cancelled")
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), restarts)

    def test_force_cancel_kills_running_chunks(self):
        n = 10
        restarts = self.restarts()
        before = self.counts()
        t0 = time.monotonic()
        fid = self.map("sleep", [60] * n, executor="process", chunksize=1)
        wait_until(lambda: self.c.ok("stats")["process"]["busy"] ==
                   PROCESSES, TASK_TIMEOUT, "both workers busy")
        self.assertEqual(self.c.ok("cancel", {"future": fid,
                                              "force": True}),
                         {"cancelled": True, "state": "cancelled"})
        self.assertEqual(self.status(fid)["state"], "cancelled")
        self.settle()
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["finished"]), (n, 0))
        self.assertEqual(d["failed"] + d["cancelled"], n, d)
        self.assert_pool_whole()
        self.assertLess(time.monotonic() - t0, 40.0)
        self.assertEqual(self.restarts(), restarts + PROCESSES)

    def test_cancel_pending_map_counts_cancelled_items(self):
        occ = [self.c.submit("sleep", [60], executor="process")
               for _ in range(PROCESSES)]
        wait_until(lambda: self.c.ok("stats")["process"]["busy"] ==
                   PROCESSES, TASK_TIMEOUT, "both workers busy")
        before = self.counts()
        fid = self.map("echo", list(range(7)), executor="process")
        s = self.status(fid)
        self.assertEqual((s["state"], s["items"], s["done"]),
                         ("pending", 7, 0))
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["pending"]), (7, 7))
        self.assertEqual(self.c.ok("cancel", {"future": fid}),
                         {"cancelled": True, "state": "cancelled"})
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["pending"], d["cancelled"]),
                         (7, 0, 7))
        for f in occ:
            self.c.ok("cancel", {"future": f, "force": True})
        self.assert_pool_whole()

    def test_client_vanishing_mid_stream(self):
        n = 200
        before = self.counts()
        with self.d.client() as a:
            a.request("map", {"fn": "sleep", "iterable": [0.05] * n,
                              "executor": "process", "chunksize": 1,
                              "stream": True})
            for _ in range(3):
                a.wait_notification("map.item", timeout=TASK_TIMEOUT)
        wait_until(lambda: self.c.ok("stats")["connections"] == 1,
                   POOL_TIMEOUT, "the closed connection is gone")
        self.settle()
        d = self.delta(before)
        self.assertEqual(d["submitted"], n)
        self.assertLess(d["finished"], n // 2, d)
        self.assertEqual(d["finished"] + d["failed"] + d["cancelled"], n, d)
        self.assert_pool_whole()

    def test_client_vanishing_before_any_item_starts(self):
        """The stream ends while every chunk still waits behind other
        work: all its items end cancelled, and the daemon lives on."""
        before = self.counts()
        blockers = [self.c.submit("sleep", [2], executor="process")
                    for _ in range(PROCESSES)]
        for fid in blockers:
            self.c.wait_state(fid, "running")
        with self.d.client() as a:
            rid = a.request("map", {"fn": "echo", "iterable": [1] * 50,
                                    "executor": "process", "chunksize": 5,
                                    "stream": True})
            a.send(request("hello", None, rid + 1))
            a.response(rid + 1)
        wait_until(lambda: self.c.ok("stats")["connections"] == 1,
                   POOL_TIMEOUT, "the closed connection is gone")
        self.settle()
        d = self.delta(before)
        self.assertEqual((d["submitted"], d["finished"], d["cancelled"]),
                         (50 + PROCESSES, PROCESSES, 50), d)
        self.assert_pool_whole()


class Sharing(Shared):
    def test_other_connection_is_not_held_back(self):
        # A's map alone would take 20 s or more; B's one task must not
        # wait behind it.
        n = 2000
        fid = self.map("sleep", [0.01] * n, executor="process", chunksize=1)
        wait_until(lambda: self.status(fid)["done"] >= 4, TASK_TIMEOUT,
                   "A's map under way")
        with self.d.client(timeout=TASK_TIMEOUT) as b:
            g = b.submit("getpid", [], executor="process")
            self.assertIn(self.result(g, c=b), self.worker_pids())
        s = self.status(fid)
        self.assertNotIn(s["state"], DONE, s)
        self.assertLess(s["done"], n // 2, s)
        self.c.ok("cancel", {"future": fid})
        self.assert_pool_whole()

    def test_priority_still_wins(self):
        n = 40
        fid = self.map("sleep", [0.05] * n, executor="process", chunksize=1,
                       priority=1)
        with self.d.client(timeout=TASK_TIMEOUT) as b:
            g = b.submit("getpid", [], executor="process")
            self.result(g, c=b)
        # B started only once every item of A had, and a worker runs one
        # chunk at a time.
        self.assertGreaterEqual(self.status(fid)["done"], n - PROCESSES)
        self.assertEqual(self.result(fid), [0.05] * n)
        # And a higher priority from the other side passes A's map.
        fid = self.map("sleep", [0.1] * n, executor="process", chunksize=1)
        with self.d.client(timeout=TASK_TIMEOUT) as b:
            g = b.submit("getpid", [], executor="process", priority=1)
            self.result(g, c=b)
        self.assertLess(self.status(fid)["done"], n // 2)
        self.c.ok("cancel", {"future": fid})
        self.assert_pool_whole()

    def test_one_connection_runs_in_submission_order(self):
        n = 20
        fid = self.map("sleep", [0.05] * n, executor="process", chunksize=1)
        g = self.c.submit("getpid", [], executor="process")
        self.result(g)
        self.assertGreaterEqual(self.status(fid)["done"], n - PROCESSES)
        self.assertEqual(self.result(fid), [0.05] * n)
        self.assert_pool_whole()

    def test_stats_count_items(self):
        before = self.counts()
        fid = self.map("is_prime", [2, 3, "x", 4, None, 5, 6, [], 7, 8])
        self.failure(fid)
        fid = self.map("echo", list(range(20)), executor="thread",
                       chunksize=3)
        self.result(fid)
        r, _ = self.stream("spin", [0, -1, 0])
        self.assertEqual(r, {"items": 3, "failed": 1})
        d = self.delta(before)
        self.assertEqual(d, {"submitted": 33, "pending": 0, "running": 0,
                             "finished": 29, "failed": 4, "cancelled": 0})
        self.assert_pool_whole()


class BadInput(Shared):
    def bad(self, params, param, code=-32602):
        e = self.c.err("map", params, code)
        if code == -32602:
            self.assertEqual(e["data"]["param"], param, e)
        return e

    def test_invalid_params(self):
        before = self.counts()
        ok = {"fn": "echo", "iterable": [1]}
        cases = [({"iterable": [1]}, "fn"),
                 (dict(ok, fn=5), "fn"),
                 ({"fn": "echo"}, "iterable")]
        for v in (5, "abc", {}, None, True):
            cases.append((dict(ok, iterable=v), "iterable"))
        for v in (0, -1, 1.5, "2", True, [1]):
            cases.append((dict(ok, chunksize=v), "chunksize"))
        for v in (-1, -0.5, "1", True, [1]):
            cases.append((dict(ok, timeout=v), "timeout"))
        for k in ("stream", "ordered", "star"):
            for v in (1, 0, "true", [True]):
                cases.append((dict(ok, **{k: v}), k))
        for v in ("1", 1.5, True):
            cases.append((dict(ok, priority=v), "priority"))
        for v in ("bogus", 5, True):
            cases.append((dict(ok, executor=v), "executor"))
        cases.append(({"fn": "crash", "iterable": [None],
                       "executor": "thread"}, "executor"))
        for k in ("bogus", "args", "kwargs", "retries"):
            cases.append((dict(ok, **{k: 1}), k))
        for params, param in cases:
            with self.subTest(params=params):
                self.bad(params, param)
        self.assertEqual(self.delta(before)["submitted"], 0)
        self.assert_pool_whole()

    def test_bad_item_names_its_index(self):
        before = self.counts()
        cases = [("sleep", [0, 0.1, -1, "x"], False, 2),
                 ("sleep", [0, [1]], False, 1),
                 ("exec", ["true", 5], False, 1),
                 ("exec", [["true"], ["true"], []], True, 2),
                 ("exec", [["true"], ["true", 5]], True, 1),
                 ("echo", [[1], [1], [1], [1, 2], [3, 4]], True, 3)]
        for fn, items, star, index in cases:
            for stream in (False, True):
                with self.subTest(fn=fn, items=items, stream=stream):
                    e = self.bad({"fn": fn, "iterable": items, "star": star,
                                  "stream": stream}, "iterable")
                    self.assertEqual(e["data"]["index"], index, e)
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.c.notifications, [])
        self.assertEqual(self.delta(before)["submitted"], 0)
        self.assert_pool_whole()

    def test_unknown_function(self):
        before = self.counts()
        for stream in (False, True):
            e = self.bad({"fn": "nope", "iterable": [1], "stream": stream},
                         None, -32004)
            self.assertEqual(e["data"]["fn"], "nope")
        self.assertEqual(self.delta(before)["submitted"], 0)
        self.assert_pool_whole()

    def test_positional_params(self):
        self.c.err("map", ["echo", [1]], -32602)
        self.assert_pool_whole()

    def test_bad_notification_is_not_answered(self):
        before = self.counts()
        self.c.notify("map", {"fn": "echo", "iterable": 5})
        self.c.notify("map", {"fn": "nope", "iterable": [1]})
        self.assertEqual(self.c.quiet(), [])
        self.assertEqual(self.delta(before)["submitted"], 0)
        self.assert_pool_whole()


class SlowReader(MapCase):
    """A small output watermark, so a client that stops reading backs up
    quickly."""

    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=THREADS, processes=1,
                        config=FAST_KILL + "output_watermark = 64K\n",
                        extra_args=plugin_args()).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client(timeout=TASK_TIMEOUT)
        self.addCleanup(self.c.close)

    def test_slow_reader_beside_a_fast_client(self):
        n = 4000
        # About 4 MB of map.item lines, far past any socket buffer.
        items = ["%06d" % i + "x" * 994 for i in range(n)]
        a = self.d.client(timeout=TASK_TIMEOUT)
        self.addCleanup(a.close)
        rid = a.request("map", {"fn": "echo", "iterable": items,
                                "stream": True})
        # The work goes on while A reads nothing.
        wait_until(lambda: self.c.ok("stats")["finished"] >= n,
                   TASK_TIMEOUT, "A's items all run")
        for i in range(20):
            for executor in ("thread", "process"):
                fid = self.c.submit("echo", [i], executor=executor)
                self.assertEqual(self.result(fid), i)
        self.assertEqual(self.map_result("echo", [1, 2, 3]), [1, 2, 3])
        r, got = self.stream("echo", [4, 5])
        self.assertEqual([p["result"] for p in got], [4, 5])
        assert_alive(self.d.sock)
        # Now A reads, and gets every item in order.
        self.assertEqual(result_of(a.response(rid, timeout=60)),
                         {"items": n, "failed": 0})
        got = self.take_items(a, rid, n)
        self.assertEqual([p["index"] for p in got], list(range(n)))
        self.assertEqual([p["result"] for p in got], items)
        self.assertEqual(a.quiet(), [])
        self.assert_pool_whole(1)


class MaxPending(MapCase):
    """max_pending = 100 with one worker and one thread."""

    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=1, processes=1,
                        config=FAST_KILL + "max_pending = 100\n",
                        extra_args=plugin_args()).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client(timeout=TASK_TIMEOUT)
        self.addCleanup(self.c.close)

    def test_items_count_against_max_pending(self):
        # Even on an idle pool, 101 items cannot all be queued.
        for executor in ("thread", "process"):
            for stream in (False, True):
                with self.subTest(executor=executor, stream=stream):
                    e = self.c.err("map", {"fn": "echo",
                                           "iterable": list(range(101)),
                                           "executor": executor,
                                           "stream": stream}, -32005)
                    self.assertTrue(e["message"])
        self.assertEqual(self.counts()["submitted"], 0)
        self.assertEqual(self.c.ok("list"), [])
        self.assertEqual(self.c.quiet(), [])
        # Parameters and lookups answer before the limit.
        e = self.c.err("map", {"fn": "echo", "iterable": list(range(101)),
                               "chunksize": 0}, -32602)
        self.assertEqual(e["data"]["param"], "chunksize")
        e = self.c.err("map", {"fn": "nope", "iterable": list(range(101))},
                       -32004)
        self.assertEqual(e["data"]["fn"], "nope")
        occ = self.c.submit("sleep", [60], executor="process")
        wait_until(lambda: self.c.status(occ)["state"] == "running",
                   TASK_TIMEOUT, "the worker is busy")
        fid = self.map("echo", list(range(100)), executor="process")
        st = self.counts()
        self.assertEqual((st["submitted"], st["pending"]), (101, 100))
        # Full: one more item, by map or by submit, does not fit.
        self.c.err("map", {"fn": "echo", "iterable": [1],
                           "executor": "thread"}, -32005)
        self.c.err("submit", {"fn": "echo", "args": [1]}, -32005)
        # Nothing always fits.
        self.assertEqual(self.map_result("echo", []), [])
        self.assertEqual(self.counts()["submitted"], 101)
        self.c.ok("cancel", {"future": occ, "force": True})
        self.assertEqual(self.result(fid), list(range(100)))
        self.settle()
        self.assertEqual(self.map_result("echo", list(range(100)),
                                         executor="process"),
                         list(range(100)))
        self.assert_pool_whole(1)

    def test_partial_room(self):
        occ = self.c.submit("sleep", [60], executor="process")
        wait_until(lambda: self.c.status(occ)["state"] == "running",
                   TASK_TIMEOUT, "the worker is busy")
        first = self.map("echo", list(range(60)), executor="process")
        self.c.err("map", {"fn": "echo", "iterable": list(range(41)),
                           "executor": "process"}, -32005)
        self.assertEqual(self.counts()["pending"], 60)
        second = self.map("echo", list(range(40)), executor="process")
        self.assertEqual(self.counts()["pending"], 100)
        self.c.ok("cancel", {"future": occ, "force": True})
        self.assertEqual(self.result(first), list(range(60)))
        self.assertEqual(self.result(second), list(range(40)))
        self.assert_pool_whole(1)


class ShuttingDown(MapCase):
    def test_map_after_shutdown(self):
        self.d = Daemon(threads=2, processes=1, config=FAST_KILL,
                        extra_args=plugin_args()).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client(timeout=TASK_TIMEOUT)
        self.addCleanup(self.c.close)
        fid = self.map("sleep", [0.2] * 4, executor="process", chunksize=1)
        rid = self.c.request("result", {"future": fid})
        self.assertEqual(self.c.ok("shutdown", {}), {"ok": True})
        for stream in (False, True):
            self.c.err("map", {"fn": "echo", "iterable": [1],
                               "stream": stream}, -32006)
        e = self.c.err("map", {"fn": "echo", "iterable": 5}, -32602)
        self.assertEqual(e["data"]["param"], "iterable")
        # What was queued before still runs to the end.
        self.assertEqual(result_of(self.c.response(rid)), [0.2] * 4)
        self.c.close()
        self.assertEqual(self.d.wait_exit(), 0)


if __name__ == "__main__":
    if not os.path.exists(plugin_path("testing") or "/nonexistent"):
        print("test_map.py needs $POOLD_PLUGIN_DIR with testing.so: "
              "skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

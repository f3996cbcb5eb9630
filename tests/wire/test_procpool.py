"""The process executor: worker faults, timeouts, cancelling, retries,
recycling, resizing and the functions of the shipped plugins.

Every test that hurts a worker ends by checking that the pool is whole
again: `workers` lists the configured number of idle workers and an echo
on the process executor answers.
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, Case, Daemon, check_future,  # noqa: E402
                       main, plugin_args, plugin_path, result_of, run_poold,
                       wait_until)

PROCESSES = 2
THREADS = 4

# A worker has to be forked and its plugins loaded before it is idle, and
# a sanitizer build is slow at both: these bounds only tell "happens" from
# "never happens".
POOL_TIMEOUT = 30.0
TASK_TIMEOUT = 30.0

# hang() ignores SIGTERM, so only the SIGKILL after kill_timeout ends it;
# a short one keeps those tests quick. The shutdown bound keeps teardown
# quick should a test leave a task behind.
FAST_KILL = "kill_timeout = 0.5\nshutdown_timeout = 2\n"

WORKER_KEYS = {"pid", "state", "future", "tasks", "started", "rss"}
WORKER_STATES = ("starting", "idle", "busy", "stopping")

TESTING_FNS = {"fail": ["process", "thread"], "spin": ["process", "thread"],
               "getpid": ["process", "thread"],
               "alloc": ["process", "thread"], "crash": ["process"],
               "abort": ["process"], "exit": ["process"],
               "hang": ["process"]}
EXAMPLES_FNS = {"is_prime": ["process", "thread"],
                "factorial_digits": ["process", "thread"],
                "sha256": ["process", "thread"],
                "word_count": ["process", "thread"]}
PROCESS_ONLY = ("crash", "abort", "exit", "hang")

SIGABRT = 6
SIGSEGV = 11


def pid_alive(pid):
    """Whether PID exists (a zombie counts: its parent has not reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def idle_pool(workers, n):
    """WORKERS if it is N idle workers, else None."""
    if len(workers) == n and all(w["state"] == "idle" and
                                 w["future"] is None for w in workers):
        return workers
    return None


class PoolCase(Case):
    """Helpers over self.c, a client of the daemon under test."""

    def result(self, fid, timeout=TASK_TIMEOUT):
        """The task's value, waiting at most TIMEOUT."""
        msg = self.c.call("result", {"future": fid, "timeout": timeout},
                          timeout=timeout + 10)
        return result_of(msg)

    def failure(self, fid, timeout=TASK_TIMEOUT):
        """The task error of a future that fails, waiting at most TIMEOUT."""
        msg = self.c.call("result", {"future": fid, "timeout": timeout},
                          timeout=timeout + 10)
        e = self.assertError(msg, -32003, any_id=True)
        self.assertIsInstance(e.get("data"), dict, msg)
        self.assertIsInstance(e["data"].get("type"), str, msg)
        self.assertIsInstance(e["data"].get("message"), str, msg)
        return e["data"]

    def run_fn(self, fn, args=None, **params):
        return self.result(self.c.submit(fn, args, **params))

    def workers(self):
        ws = self.c.ok("workers")
        self.assertIsInstance(ws, list)
        for w in ws:
            self.check_worker(w)
        return ws

    def check_worker(self, w):
        self.assertIsInstance(w, dict)
        self.assertTrue(WORKER_KEYS <= set(w), w)
        self.assertIs(type(w["pid"]), int, w)
        self.assertGreater(w["pid"], 0, w)
        self.assertIn(w["state"], WORKER_STATES, w)
        if w["state"] == "idle":
            self.assertIsNone(w["future"], w)
        if w["state"] == "busy":
            self.assertIsInstance(w["future"], str, w)
        self.assertIs(type(w["tasks"]), int, w)
        self.assertGreaterEqual(w["tasks"], 0, w)
        self.assertIn(type(w["started"]), (int, float), w)
        self.assertIs(type(w["rss"]), int, w)
        self.assertGreaterEqual(w["rss"], 0, w)

    def pids(self, n=PROCESSES):
        """The pids of the whole pool (waiting until it is)."""
        return {w["pid"] for w in self.assert_pool_whole(n)}

    def restarts(self):
        return self.c.ok("stats")["process"]["restarts"]

    def assert_pool_whole(self, n=PROCESSES):
        """Wait until `workers` lists N idle workers, then run an echo on
        the process executor; returns the workers."""
        ws = wait_until(lambda: idle_pool(self.workers(), n), POOL_TIMEOUT,
                        "workers lists %d idle workers" % n)
        self.assertEqual(len({w["pid"] for w in ws}), n, ws)
        fid = self.c.submit("echo", ["whole"], executor="process")
        self.assertEqual(self.result(fid), "whole")
        return ws

    def assert_replaced(self, pid, n=PROCESSES):
        """Worker PID is gone, reaped, and the pool is whole without it."""
        ws = self.assert_pool_whole(n)
        self.assertNotIn(pid, [w["pid"] for w in ws])
        wait_until(lambda: not pid_alive(pid), POOL_TIMEOUT,
                   "old worker %d is gone and reaped" % pid)

    def assert_one_replaced(self, old, fid, n=PROCESSES):
        """Of the pool's pids OLD, exactly one (FID's worker) is replaced;
        returns it."""
        ws = self.assert_pool_whole(n)
        gone = old - {w["pid"] for w in ws}
        self.assertEqual(len(gone), 1, (old, ws))
        pid = gone.pop()
        s = self.c.status(fid)
        if "worker" in s:
            self.assertEqual(s["worker"], pid, s)
        wait_until(lambda: not pid_alive(pid), POOL_TIMEOUT,
                   "old worker %d is gone and reaped" % pid)
        return pid

    def running_on(self, fid):
        """Wait until FID runs and return the pid of its worker."""
        s = self.c.wait_state(fid, "running", timeout=POOL_TIMEOUT)
        self.assertIs(type(s.get("worker")), int, s)
        return s["worker"]


class SharedPool(PoolCase):
    """One daemon with two workers and both plugins, shared by tests that
    each leave the pool as they found it."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(threads=THREADS, config=FAST_KILL,
                       extra_args=["-p", str(PROCESSES)] +
                       plugin_args()).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client()
        self.addCleanup(self.c.close)


class Faults(SharedPool):
    def crashes(self, fn, args, **expect):
        old = self.pids()
        before = self.restarts()
        fid = self.c.submit(fn, args)
        e = self.failure(fid)
        self.assertEqual(e["type"], "WorkerCrashed", e)
        for k, v in expect.items():
            self.assertEqual(e.get(k), v, e)
        for k in {"signal", "exit_code"} - set(expect):
            self.assertIsNone(e.get(k), e)
        s = self.c.status(fid)
        self.assertEqual(s["state"], "failed")
        self.assertEqual(s["error"], e)
        self.assertEqual(s["attempts"], 1)
        self.assertEqual(s["executor"], "process")
        self.assert_one_replaced(old, fid)
        self.assertEqual(self.restarts(), before + 1)

    def test_crash_is_sigsegv(self):
        self.crashes("crash", [], signal=SIGSEGV)

    def test_abort_is_sigabrt(self):
        self.crashes("abort", [], signal=SIGABRT)

    def test_exit_reports_its_code(self):
        for code in (3, 0):
            with self.subTest(code=code):
                self.crashes("exit", [code], exit_code=code)

    def test_hang_past_timeout_is_killed(self):
        # hang() ignores SIGTERM: a replaced worker proves the SIGKILL.
        old = self.pids()
        t0 = time.monotonic()
        fid = self.c.submit("hang", [], timeout=0.3)
        e = self.failure(fid)
        self.assertEqual(e["type"], "TimeoutError", e)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        s = self.c.status(fid)
        self.assertEqual(s["state"], "failed")
        self.assertEqual(s["attempts"], 1)
        self.assert_one_replaced(old, fid)

    def test_spin_past_timeout_is_killed(self):
        old = self.pids()
        t0 = time.monotonic()
        fid = self.c.submit("spin", [120], timeout=0.3)
        e = self.failure(fid)
        self.assertEqual(e["type"], "TimeoutError", e)
        self.assertTiming(time.monotonic() - t0, 0.25, TASK_TIMEOUT)
        self.assert_one_replaced(old, fid)

    def test_force_cancel_kills_the_worker(self):
        for fn, args in (("sleep", [120]), ("hang", [])):
            with self.subTest(fn=fn):
                fid = self.c.submit(fn, args, executor="process")
                pid = self.running_on(fid)
                r = self.c.ok("cancel", {"future": fid, "force": True})
                self.assertEqual(r, {"cancelled": True, "state": "cancelled"})
                self.assertEqual(self.c.status(fid)["state"], "cancelled")
                self.c.err("result", {"future": fid}, -32002)
                self.assert_replaced(pid)
                # A done future is never changed.
                r = self.c.ok("cancel", {"future": fid, "force": True})
                self.assertEqual(r, {"cancelled": True, "state": "cancelled"})

    def test_plain_cancel_leaves_a_running_task(self):
        before = self.pids()
        fid = self.c.submit("sleep", [0.5], executor="process")
        pid = self.running_on(fid)
        self.assertIn(pid, before)
        r = self.c.ok("cancel", {"future": fid})
        self.assertEqual(r, {"cancelled": False, "state": "running"})
        r = self.c.ok("cancel", {"future": fid, "force": False})
        self.assertEqual(r, {"cancelled": False, "state": "running"})
        self.assertEqual(self.result(fid), 0.5)
        s = self.c.status(fid)
        self.assertEqual(s["state"], "finished")
        self.assertEqual(s["worker"], pid)
        ws = self.assert_pool_whole()
        self.assertEqual({w["pid"] for w in ws}, before)

    def test_cancel_pending_process_task(self):
        blockers = [self.c.submit("sleep", [1.0], executor="process")
                    for _ in range(PROCESSES)]
        for fid in blockers:
            self.running_on(fid)
        fid = self.c.submit("echo", ["never"], executor="process")
        self.assertEqual(self.c.status(fid)["state"], "pending")
        r = self.c.ok("cancel", {"future": fid})
        self.assertEqual(r, {"cancelled": True, "state": "cancelled"})
        for b in blockers:
            self.assertEqual(self.result(b), 1.0)
        self.assertEqual(self.c.status(fid)["state"], "cancelled")
        self.assert_pool_whole()

    # -- retries --

    def test_crash_retried_counts_attempts(self):
        before = self.restarts()
        fid = self.c.submit("crash", [], retries=2)
        e = self.failure(fid)
        self.assertEqual(e["type"], "WorkerCrashed", e)
        self.assertEqual(e.get("signal"), SIGSEGV, e)
        self.assertEqual(self.c.status(fid)["attempts"], 3)
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), before + 3)

    def test_timeout_retried_counts_attempts(self):
        fid = self.c.submit("spin", [120], timeout=0.2, retries=1)
        e = self.failure(fid)
        self.assertEqual(e["type"], "TimeoutError", e)
        s = self.c.status(fid)
        self.assertEqual(s["attempts"], 2)
        # "started" is the last attempt's, after the first timed out.
        self.assertGreaterEqual(s["started"] - s["submitted"], 0.15, s)
        self.assert_pool_whole()

    def test_task_error_is_not_retried(self):
        before_pids = self.pids()
        before = self.restarts()
        fid = self.c.submit("fail", ["no good"], retries=3)
        e = self.failure(fid)
        self.assertEqual(e["type"], "TaskError", e)
        self.assertEqual(e["message"], "no good")
        s = self.c.status(fid)
        self.assertEqual(s["attempts"], 1)
        self.assertEqual(s["executor"], "process")
        ws = self.assert_pool_whole()
        self.assertEqual({w["pid"] for w in ws}, before_pids)
        self.assertEqual(self.restarts(), before)

    def test_fail_on_a_thread(self):
        fid = self.c.submit("fail", ["thread says no"], executor="thread")
        e = self.failure(fid)
        self.assertEqual(e["type"], "TaskError", e)
        self.assertEqual(e["message"], "thread says no")

    def test_process_only_functions_refuse_thread(self):
        before = self.c.ok("stats")["submitted"]
        for fn in PROCESS_ONLY:
            with self.subTest(fn=fn):
                args = [1] if fn == "exit" else []
                e = self.c.err("submit", {"fn": fn, "args": args,
                                          "executor": "thread"}, -32602)
                self.assertEqual(e["data"]["param"], "executor")
        self.assertEqual(self.c.ok("stats")["submitted"], before)
        self.assert_pool_whole()


class Pool(SharedPool):
    def test_workers_fields(self):
        hello_pid = self.c.ok("hello")["pid"]
        ws = self.assert_pool_whole()
        now = time.time()
        for w in ws:
            self.assertNotEqual(w["pid"], hello_pid)
            self.assertLessEqual(w["started"], now + 5)
            self.assertGreater(w["rss"], 0, w)
        # Taken before assert_pool_whole's own echo ran.
        tasks = {w["pid"]: w["tasks"] for w in ws}
        fid = self.c.submit("sleep", [1.0], executor="process")
        pid = self.running_on(fid)
        self.assertIn(pid, tasks)
        busy = [w for w in self.workers() if w["pid"] == pid]
        self.assertEqual(len(busy), 1)
        self.assertEqual(busy[0]["state"], "busy")
        self.assertEqual(busy[0]["future"], fid)
        self.assertEqual(self.result(fid), 1.0)
        self.assertEqual(self.c.status(fid)["worker"], pid)
        # Three tasks ran since: two echoes (on either worker) and the
        # sleep.
        self.assert_pool_whole()
        want = sum(tasks.values()) + 3

        def counted():
            ws = self.workers()
            return ws if sum(w["tasks"] for w in ws) == want else None
        ws = wait_until(counted, POOL_TIMEOUT,
                        "workers count the %d tasks they ran" % want)
        after = {w["pid"]: w["tasks"] for w in ws}
        self.assertEqual(set(after), set(tasks))
        self.assertGreaterEqual(after[pid], tasks[pid] + 1)

    def test_sizes_in_hello_and_stats(self):
        self.assert_pool_whole()
        h = self.c.ok("hello")
        self.assertEqual(h["executors"], {"process": {"workers": PROCESSES},
                                          "thread": {"workers": THREADS}})
        s = self.c.ok("stats")
        self.assertEqual(s["process"]["workers"], PROCESSES)
        self.assertEqual(s["process"]["busy"], 0)
        self.assertIs(type(s["process"]["restarts"]), int)
        self.assertEqual(s["thread"]["workers"], THREADS)

    def test_functions_list_the_plugins(self):
        fns = {f["name"]: f for f in self.c.ok("functions")}
        want = dict(TESTING_FNS, **EXAMPLES_FNS)
        want["echo"] = want["sleep"] = ["thread", "process"]
        for name, executors in want.items():
            with self.subTest(fn=name):
                self.assertIn(name, fns)
                self.assertEqual(fns[name]["executors"], executors)
                self.assertEqual(fns[name]["default_executor"], executors[0])
        self.assertTrue(set(want) <= set(self.c.ok("hello")["functions"]))

    def test_echo_and_sleep_on_process(self):
        pids = self.pids()
        values = [0, -7, 2 ** 53, 1.5, "", "\u2603\U0001f600", None, True,
                  [], {}, {"a": [1, {"b": None}], "c": "d"}]
        fids = [self.c.submit("echo", [v], executor="process")
                for v in values]
        for v, fid in zip(values, fids):
            with self.subTest(value=v):
                r = self.result(fid)
                self.assertEqual(r, v)
                self.assertIs(type(r), type(v))
                s = self.c.status(fid)
                self.assertEqual(s["executor"], "process")
                self.assertIn(s["worker"], pids)
        fid = self.c.submit("sleep", [0.2], executor="process")
        self.assertEqual(self.result(fid), 0.2)
        self.assertEqual(self.c.status(fid)["executor"], "process")
        # echo's default stays the thread pool.
        fid = self.c.submit("echo", [1])
        self.assertEqual(self.result(fid), 1)
        self.assertEqual(self.c.status(fid)["executor"], "thread")
        self.assertNotIn("worker", self.c.status(fid))
        self.assert_pool_whole()

    def test_getpid_names_the_worker(self):
        pids = self.pids()
        fid = self.c.submit("getpid", [])
        pid = self.result(fid)
        s = self.c.status(fid)
        self.assertEqual(s["executor"], "process")
        self.assertEqual(s["worker"], pid)
        self.assertIn(pid, pids)
        fid = self.c.submit("getpid", [], executor="thread")
        self.assertEqual(self.result(fid), self.c.ok("hello")["pid"])

    def test_alloc_returns_its_bytes(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                fid = self.c.submit("alloc", [1 << 20], executor=executor)
                self.assertEqual(self.result(fid), 1 << 20)
        self.assert_pool_whole()

    def test_examples_known_answers(self):
        tmp = tempfile.mkdtemp(prefix="poold-words-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "words.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("  one two\tthree\n\nfour  five\r\nsix\u00e9 seven\n")
        cases = [("is_prime", [1000000007], True),
                 ("is_prime", [1000000008], False),
                 ("is_prime", [2], True),
                 ("is_prime", [1], False),
                 ("factorial_digits", [100], 158),
                 ("factorial_digits", [0], 1),
                 ("sha256", ["abc"], "ba7816bf8f01cfea414140de5dae2223"
                                     "b00361a396177a9cb410ff61f20015ad"),
                 ("sha256", [""], "e3b0c44298fc1c149afbf4c8996fb924"
                                  "27ae41e4649b934ca495991b7852b855"),
                 ("word_count", [path], 7)]
        for executor in (None, "process", "thread"):
            for fn, args, want in cases:
                with self.subTest(fn=fn, args=args, executor=executor):
                    fid = self.c.submit(fn, args, executor=executor)
                    r = self.result(fid)
                    self.assertEqual(r, want)
                    self.assertIs(type(r), type(want))
                    self.assertEqual(self.c.status(fid)["executor"],
                                     executor or "process")
        self.assert_pool_whole()


class OneWorker(PoolCase):
    """One worker, so "the same worker" is "the same getpid"; results are
    capped at 1 KiB."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(threads=2, config=FAST_KILL + "max_result_bytes = 1K\n",
                       extra_args=["-p", "1"] + plugin_args()).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_wrong_argument_types_are_task_errors(self):
        pid = self.run_fn("getpid", [])
        before = self.restarts()
        bad = [("is_prime", ["seven"]), ("is_prime", [None]),
               ("factorial_digits", ["100"]), ("factorial_digits", [[1]]),
               ("sha256", [5]), ("sha256", [{"s": "abc"}]),
               ("word_count", [5]), ("word_count", [None])]
        for fn, args in bad:
            with self.subTest(fn=fn, args=args):
                fid = self.c.submit(fn, args)
                e = self.failure(fid)
                self.assertEqual(e["type"], "TaskError", e)
                s = self.c.status(fid)
                self.assertEqual(s["attempts"], 1)
                self.assertEqual(s["worker"], pid)
                self.assertEqual(self.run_fn("getpid", []), pid)
        self.assertEqual(self.restarts(), before)
        ws = self.assert_pool_whole(1)
        self.assertEqual(ws[0]["pid"], pid)

    def test_result_too_large(self):
        pid = self.run_fn("getpid", [])
        before = self.restarts()
        fid = self.c.submit("echo", ["x" * 4000], executor="process")
        e = self.failure(fid)
        self.assertEqual(e["type"], "TaskError", e)
        self.assertIn("too large", e["message"].lower())
        self.assertTrue(any(t in e["message"] for t in
                            ("max_result_bytes", "1024", "1K", "1 K")), e)
        self.assertEqual(self.c.status(fid)["attempts"], 1)
        self.assertEqual(self.run_fn("getpid", []), pid)
        # Under the cap is fine.
        fid = self.c.submit("echo", ["y" * 500], executor="process")
        self.assertEqual(self.result(fid), "y" * 500)
        self.assertEqual(self.restarts(), before)
        ws = self.assert_pool_whole(1)
        self.assertEqual(ws[0]["pid"], pid)

    def test_result_size_limit_is_the_results_own(self):
        # max_result_bytes bounds the result, so a result of exactly
        # 1 KiB of JSON (a 1022-character string and its quotes) is in.
        pid = self.run_fn("getpid", [])
        for n, fits in ((1000, True), (1022, True), (1023, False)):
            with self.subTest(json_bytes=n + 2):
                fid = self.c.submit("echo", ["z" * n], executor="process")
                if fits:
                    self.assertEqual(self.result(fid), "z" * n)
                else:
                    e = self.failure(fid)
                    self.assertEqual(e["type"], "TaskError", e)
                    self.assertIn("too large", e["message"].lower())
        self.assertEqual(self.run_fn("getpid", []), pid)
        self.assert_pool_whole(1)

    def test_worker_is_kept_without_limits(self):
        pids = [self.run_fn("getpid", []) for _ in range(4)]
        self.assertEqual(len(set(pids)), 1, pids)


class Recycling(PoolCase):
    def start(self, args=(), config=FAST_KILL):
        self.d = Daemon(threads=2, config=config,
                        extra_args=["-p", "1"] + list(args) + plugin_args())
        self.d.start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_by_task_count(self):
        self.start(["--max-tasks-per-child", "2"])
        pids = [self.run_fn("getpid", []) for _ in range(5)]
        a, b, c = pids[0], pids[2], pids[4]
        self.assertEqual(pids, [a, a, b, b, c])
        self.assertEqual(len({a, b, c}), 3, pids)
        self.assert_pool_whole(1)

    def test_by_task_count_in_config(self):
        self.start(config=FAST_KILL + "max_tasks_per_child = 1\n")
        pids = [self.run_fn("getpid", []) for _ in range(3)]
        self.assertEqual(len(set(pids)), 3, pids)
        self.assert_pool_whole(1)

    def test_by_memory(self):
        self.start(config=FAST_KILL + "max_rss_per_child = 64M\n")
        a = self.run_fn("getpid", [])
        fid = self.c.submit("alloc", [200000000])
        self.assertEqual(self.result(fid), 200000000)
        self.assertEqual(self.c.status(fid)["worker"], a)
        b = self.run_fn("getpid", [])
        self.assertNotEqual(b, a)
        self.assertEqual(self.run_fn("getpid", []), b)
        self.assert_pool_whole(1)


class Storm(PoolCase):
    def test_crash_storm_with_good_work(self):
        # The plugins come from the config file here, to cover "plugin".
        config = FAST_KILL + "".join("plugin = %s\n" % plugin_path(n)
                                     for n in ("testing", "examples"))
        self.d = Daemon(threads=2, config=config,
                        extra_args=["-p", str(PROCESSES)]).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)
        plan = []
        for i in range(100):
            if i % 5 == 2:
                plan.append(("crash", [], {"signal": SIGSEGV}))
            elif i % 5 == 4 and i % 2:
                code = 1 + i % 50
                plan.append(("exit", [code], {"exit_code": code}))
            elif i % 2:
                plan.append(("getpid", [], None))
            else:
                plan.append(("echo", [i], None))
        bad = sum(1 for p in plan if p[2] is not None)
        rids = [self.c.request("submit", {"fn": fn, "args": args,
                                          "executor": "process"})
                for fn, args, _ in plan]
        fids = [result_of(self.c.response(r))["future"] for r in rids]
        r = self.c.ok("wait", {"futures": fids, "timeout": 90}, timeout=100)
        self.assertEqual(r["not_done"], [])
        for i, ((fn, args, crash), fid) in enumerate(zip(plan, fids)):
            s = check_future(self.c.status(fid), fid)
            with self.subTest(i=i, fn=fn):
                if crash is None:
                    self.assertEqual(s["state"], "finished", s)
                    if fn == "echo":
                        self.assertEqual(s["result"], i)
                    else:
                        self.assertIs(type(s["result"]), int)
                else:
                    self.assertEqual(s["state"], "failed", s)
                    self.assertEqual(s["error"]["type"], "WorkerCrashed", s)
                    for k, v in crash.items():
                        self.assertEqual(s["error"].get(k), v, s)
        stats = self.c.ok("stats")
        self.assertEqual(stats["pending"], 0)
        self.assertEqual(stats["running"], 0)
        self.assertEqual(stats["failed"], bad)
        self.assertEqual(stats["finished"], 100 - bad)
        self.assert_pool_whole()
        self.assertEqual(self.restarts(), bad)


class Resize(PoolCase):
    def setUp(self):
        super().setUp()
        self.d = Daemon(threads=2, config=FAST_KILL,
                        extra_args=["-p", "2"] + plugin_args()).start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def sizes(self, process, thread):
        h = self.c.ok("hello")["executors"]
        self.assertEqual(h, {"process": {"workers": process},
                             "thread": {"workers": thread}})
        s = self.c.ok("stats")
        self.assertEqual(s["process"]["workers"], process)
        self.assertEqual(s["thread"]["workers"], thread)

    def test_grow(self):
        old = {w["pid"] for w in self.assert_pool_whole(2)}
        self.assertEqual(self.c.ok("resize", {"process": 4}),
                         {"process": 4, "thread": 2})
        self.sizes(4, 2)
        ws = self.assert_pool_whole(4)
        self.assertTrue(old <= {w["pid"] for w in ws})
        self.assertEqual(self.c.ok("resize", {"thread": 3}),
                         {"process": 4, "thread": 3})
        self.sizes(4, 3)
        self.assertEqual(self.c.ok("resize", {"process": 5, "thread": 4}),
                         {"process": 5, "thread": 4})
        self.sizes(5, 4)
        # Five sleeps at once run on five workers.
        fids = [self.c.submit("sleep", [1.0], executor="process")
                for _ in range(5)]
        pids = {self.running_on(f) for f in fids}
        self.assertEqual(len(pids), 5)
        for f in fids:
            self.assertEqual(self.result(f), 1.0)
        self.assert_pool_whole(5)

    def test_grow_runs_waiting_work(self):
        self.c.ok("resize", {"process": 1})
        self.assert_pool_whole(1)
        fids = [self.c.submit("sleep", [1.0], executor="process")
                for _ in range(3)]
        self.running_on(fids[0])
        for f in fids[1:]:
            self.assertEqual(self.c.status(f)["state"], "pending")
        self.assertEqual(self.c.ok("resize", {"process": 3}),
                         {"process": 3, "thread": 2})
        pids = {self.running_on(f) for f in fids}
        self.assertEqual(len(pids), 3)
        for f in fids:
            self.assertEqual(self.result(f), 1.0)
        self.assert_pool_whole(3)

    def test_shrink_lets_busy_workers_finish(self):
        self.c.ok("resize", {"process": 4})
        self.assert_pool_whole(4)
        fids = [self.c.submit("sleep", [1.5], executor="process")
                for _ in range(2)]
        busy = {self.running_on(f) for f in fids}
        self.assertEqual(len(busy), 2)
        self.assertEqual(self.c.ok("resize", {"process": 1}),
                         {"process": 1, "thread": 2})
        self.sizes(1, 2)
        for f in fids:
            self.assertEqual(self.result(f), 1.5)
            self.assertEqual(self.c.status(f)["state"], "finished")
        # Idle workers go first, so the survivor is one that was busy.
        ws = self.assert_pool_whole(1)
        self.assertIn(ws[0]["pid"], busy)

    def test_shrink_idle(self):
        old = {w["pid"] for w in self.assert_pool_whole(2)}
        self.assertEqual(self.c.ok("resize", {"process": 1}),
                         {"process": 1, "thread": 2})
        ws = self.assert_pool_whole(1)
        self.assertIn(ws[0]["pid"], old)
        gone = (old - {ws[0]["pid"]}).pop()
        wait_until(lambda: not pid_alive(gone), POOL_TIMEOUT,
                   "retired worker %d is gone and reaped" % gone)
        self.assertEqual(self.restarts(), 0)

    def test_bad_sizes(self):
        for key in ("process", "thread"):
            for bad in (0, -1, 1025, "2", 1.5, True, [2]):
                with self.subTest(key=key, value=bad):
                    e = self.c.err("resize", {key: bad}, -32602)
                    self.assertEqual(e["data"]["param"], key)
        self.sizes(2, 2)
        self.assertEqual(self.c.ok("resize", {"process": 1}),
                         {"process": 1, "thread": 2})
        self.assert_pool_whole(1)


class Startup(Case):
    def test_plugin_that_fails_to_load(self):
        tmp = tempfile.mkdtemp(prefix="poold-noplugin-")
        self.addCleanup(shutil.rmtree, tmp, True)
        missing = os.path.join(tmp, "no", "such-plugin.so")
        garbage = os.path.join(tmp, "garbage.so")
        with open(garbage, "w") as f:
            f.write("not a shared object\n")
        for path in (missing, garbage):
            with self.subTest(path=path):
                r = run_poold(["-s", os.path.join(tmp, "poold.sock"),
                               "-p", "1", "--plugin", path])
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(path, r.stderr)
                if path == missing:
                    # dlerror()'s words for it.
                    self.assertIn("No such file", r.stderr)

    def test_plugin_name_is_looked_up_in_plugin_dir(self):
        tmp = tempfile.mkdtemp(prefix="poold-noplugin-")
        self.addCleanup(shutil.rmtree, tmp, True)
        conf = os.path.join(tmp, "poold.conf")
        with open(conf, "w") as f:
            f.write("plugin_dir = %s\n" % tmp)
        r = run_poold(["-s", os.path.join(tmp, "poold.sock"), "-c", conf,
                       "-p", "1", "--plugin", "nosuchplugin"])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(os.path.join(tmp, "nosuchplugin.so"), r.stderr)


if __name__ == "__main__":
    if not os.path.exists(plugin_path("testing") or "/nonexistent"):
        print("test_procpool.py needs $POOLD_PLUGIN_DIR with testing.so: "
              "skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

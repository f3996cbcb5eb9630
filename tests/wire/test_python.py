"""The python plugin: Python functions as tasks, py:MODULE:QUALNAME.

The functions are in pytasks.py beside this file, which the daemon gets
as python_path. Covered: a value round trip for each JSON type, kwargs,
exceptions with their type and traceback, missing modules and
attributes, results JSON cannot hold, a module that raises on import,
bad arguments, a crash, a hang past its timeout, recycling by count and
by memory, the initializer (in workers and in the daemon), printing, the
thread executor running several functions at once, and workers forked
after the daemon's own interpreter started.
"""

import os
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pooldtest import (EXIT_SKIP, Case, Daemon, SharedDaemon,  # noqa: E402
                       assert_alive, main, plugin_path, result_of,
                       wait_until)

# Bounds on what should happen, never expected durations: a sanitizer
# build on a loaded machine is slow to fork and to start Python.
TIMEOUT = 30.0

SIGSEGV = 11


def python_args():
    return ["--plugin", plugin_path("python")]


def config(extra=""):
    return ("python_path = %s\nkill_timeout = 0.5\nshutdown_timeout = 5\n"
            % HERE) + extra


class PyCase(Case):
    """Helpers over self.c."""

    def run_fn(self, name, args=None, kwargs=None, **params):
        """Submit and wait; the whole result response."""
        p = {"fn": name, "args": args or [], "kwargs": kwargs or {}}
        p.update(params)
        fid = self.c.ok("submit", p)
        return self.c.call("result", {"future": fid["future"],
                                      "timeout": TIMEOUT},
                           timeout=TIMEOUT + 10)

    def value(self, name, *args, **kwargs):
        executor = kwargs.pop("_executor", None)
        params = {"executor": executor} if executor else {}
        return result_of(self.run_fn(name, list(args), kwargs, **params))

    def task_error(self, name, *args, **kwargs):
        """The task error object of a call that must fail."""
        executor = kwargs.pop("_executor", None)
        params = {"executor": executor} if executor else {}
        msg = self.run_fn(name, list(args), kwargs, **params)
        self.assertIn("error", msg, msg)
        self.assertEqual(msg["error"]["code"], -32003, msg)
        return msg["error"]["data"]

    def worker_pids(self):
        return sorted(w["pid"] for w in self.c.ok("workers"))


class Values(PyCase, SharedDaemon):
    DAEMON = dict(threads=4, processes=1, config=config(),
                  extra_args=python_args())

    VALUES = [None, True, False, 0, -1, 2 ** 63 - 1, -2 ** 63, 1.5, -0.25,
              1e300, "", "text", "\u00e9\u4e2d\U0001f600", "nul\u0000in",
              [], [1, "two", [3.0, None]], {}, {"a": {"b": [True, {}]}},
              {"\u00e9": "key"}]

    def test_each_json_type_round_trips_on_both_executors(self):
        for executor in ("process", "thread"):
            for v in self.VALUES:
                with self.subTest(executor=executor, value=v):
                    got = self.value("py:pytasks:identity", v,
                                     _executor=executor)
                    self.assertEqual(got, v)
                    self.assertEqual(type(got), type(v))

    def test_json_becomes_the_python_types(self):
        got = self.value("py:pytasks:types_of", None, True, 3, 2.5, "s",
                         [1], {"k": 1}, x=1.0)
        self.assertEqual(got, {"args": ["NoneType", "bool", "int", "float",
                                        "str", "list", "dict"],
                               "kwargs": {"x": "float"}})

    def test_kwargs_reach_the_function(self):
        self.assertEqual(self.value("py:pytasks:add", 1, b=2, c=3), 6)
        self.assertEqual(self.value("py:pytasks:echo_call", 1, z=[1], a=None),
                         {"args": [1], "kwargs": {"z": [1], "a": None}})

    def test_tuples_become_arrays_and_keys_strings(self):
        self.assertEqual(self.value("py:pytasks:as_tuple", 1, "a"), [1, "a"])
        self.assertEqual(self.value("py:pytasks:dict_keys"),
                         {"2": "int", "2.5": "float", "false": "bool",
                          "null": "none"})

    def test_builtins_and_functions_in_classes(self):
        self.assertEqual(self.value("py:builtins:pow", 3, 4), 81)
        self.assertEqual(self.value("py:math:factorial", 20),
                         2432902008176640000)
        self.assertEqual(self.value("py:os.path:join", "a", "b"), "a/b")
        self.assertEqual(self.value("py:pytasks:Tools.double", 21), 42)
        self.assertEqual(self.value("py:pytasks:Tools.name"), "Tools")

    def test_extension_modules_load(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                self.assertEqual(self.value("py:pytasks:extension_modules",
                                            _executor=executor),
                                 ['{"a": 1}', "3.30", "e3b0c442", 4,
                                  "_json"])

    def test_the_future_keeps_the_whole_name(self):
        fid = self.c.ok("submit", {"fn": "py:pytasks:identity",
                                   "args": [1]})["future"]
        self.c.ok("result", {"future": fid, "timeout": TIMEOUT})
        self.assertEqual(self.c.status(fid)["fn"], "py:pytasks:identity")

    def test_functions_lists_one_entry(self):
        entries = [f for f in self.c.ok("functions")
                   if f["name"].startswith("py:")]
        self.assertEqual(len(entries), 1, entries)
        self.assertEqual(entries[0]["name"], "py:*")
        self.assertEqual(entries[0]["executors"], ["process", "thread"])
        self.assertIn("py:*", self.c.ok("hello")["functions"])

    def test_names_that_are_not_module_and_qualname_are_unknown(self):
        for name in ("py:", "py:pytasks", "py:pytasks:", "py::identity",
                     "py:*", "py:pytasks:a:b", "py:pytasks:<lambda>",
                     "py:pytasks:identity.", "py:pyt asks:identity",
                     "py:1pytasks:identity", "py:pytasks..x:identity"):
            with self.subTest(name=name):
                e = self.c.err("submit", {"fn": name}, -32004)
                self.assertEqual(e["data"], {"fn": name})
        assert_alive(self.d.sock)

    def test_map_with_chunks_on_both_executors(self):
        for executor in ("process", "thread"):
            fid = self.c.ok("map", {"fn": "py:pytasks:square",
                                    "iterable": list(range(25)),
                                    "chunksize": 4,
                                    "executor": executor})["future"]
            got = self.c.ok("result", {"future": fid, "timeout": TIMEOUT},
                            timeout=TIMEOUT + 10)
            self.assertEqual(got, [i * i for i in range(25)])
        fid = self.c.ok("map", {"fn": "py:pytasks:add", "star": True,
                                "iterable": [[1, 2], [3, 4]]})["future"]
        self.assertEqual(self.c.ok("result", {"future": fid,
                                              "timeout": TIMEOUT}), [3, 7])


class Errors(PyCase, SharedDaemon):
    DAEMON = dict(threads=4, processes=1, config=config(),
                  extra_args=python_args())

    def test_an_exception_has_its_type_and_traceback(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                e = self.task_error("py:pytasks:fail", "it broke",
                                    _executor=executor)
                self.assertEqual(e["type"], "TaskError")
                self.assertEqual(e["message"], "it broke")
                self.assertEqual(e["exc_type"], "pytasks.Oops")
                tb = e["traceback"]
                self.assertTrue(tb.startswith("Traceback (most recent call "
                                              "last):"), tb)
                self.assertIn("pytasks.py", tb)
                self.assertIn("in fail", tb)
                self.assertIn("in _raise_oops", tb)
                self.assertTrue(tb.rstrip().endswith(
                    "pytasks.Oops: it broke"), tb)
        e = self.task_error("py:pytasks:raise_value_error")
        self.assertEqual((e["exc_type"], e["message"]),
                         ("ValueError", "bad value"))

    def test_missing_module_and_attribute(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                e = self.task_error("py:no_such_module_here:f",
                                    _executor=executor)
                self.assertEqual(e["exc_type"], "ModuleNotFoundError")
                self.assertIn("no_such_module_here", e["message"])
                self.assertIn("traceback", e)
                e = self.task_error("py:pytasks:no_such_function",
                                    _executor=executor)
                self.assertEqual(e["exc_type"], "AttributeError")
                self.assertIn("no_such_function", e["message"])
                e = self.task_error("py:pytasks:Tools.nothing",
                                    _executor=executor)
                self.assertEqual(e["exc_type"], "AttributeError")
                e = self.task_error("py:pytasks:STATE", _executor=executor)
                self.assertEqual(e["exc_type"], "TypeError")
                self.assertIn("not callable", e["message"])

    def test_results_json_cannot_hold_are_type_errors(self):
        pid = self.value("py:pytasks:getpid")
        for kind in ("object", "set", "nan", "big", "bytes", "key",
                     "surrogate", "cycle"):
            for executor in ("process", "thread"):
                with self.subTest(kind=kind, executor=executor):
                    e = self.task_error("py:pytasks:not_json", kind,
                                        _executor=executor)
                    self.assertEqual(e["type"], "TaskError")
                    self.assertEqual(e["exc_type"], "TypeError", e)
        self.assertEqual(self.value("py:pytasks:getpid"), pid)

    def test_arguments_of_the_wrong_shape_are_the_functions_type_error(self):
        pid = self.value("py:pytasks:getpid")
        e = self.task_error("py:pytasks:add")
        self.assertEqual(e["exc_type"], "TypeError")
        self.assertIn("add()", e["message"])
        e = self.task_error("py:pytasks:add", 1, nope=2)
        self.assertEqual(e["exc_type"], "TypeError")
        self.assertIn("nope", e["message"])
        e = self.task_error("py:pytasks:add", "a", 1)
        self.assertEqual(e["exc_type"], "TypeError")
        self.assertEqual(self.value("py:pytasks:getpid"), pid)

    def test_a_module_that_raises_on_import_fails_each_task(self):
        pid = self.value("py:pytasks:getpid")
        for executor in ("process", "process", "thread", "thread"):
            e = self.task_error("py:pytasks_broken:anything",
                                _executor=executor)
            self.assertEqual(e["exc_type"], "RuntimeError")
            self.assertEqual(e["message"], "pytasks_broken does not import")
            self.assertIn("pytasks_broken.py", e["traceback"])
        self.assertEqual(self.value("py:pytasks:getpid"), pid)
        self.assertEqual(self.value("py:pytasks:identity", 5), 5)


class Printing(PyCase, SharedDaemon):
    DAEMON = dict(threads=4, processes=1, config=config(),
                  extra_args=python_args())

    def test_prints_go_to_the_log_not_the_channel(self):
        for executor in ("process", "thread"):
            with self.subTest(executor=executor):
                pid = self.value("py:pytasks:getpid")
                marker = "mark-%s" % uuid.uuid4().hex
                self.assertEqual(self.value("py:pytasks:chatter", marker,
                                            _executor=executor), marker)
                # The worker survived: its channel carried only answers.
                self.assertEqual(self.value("py:pytasks:getpid"), pid)
                for text in ("%s stdout line\n" % marker,
                             "%s stderr line\n" % marker,
                             "%s partial" % marker):
                    wait_until(lambda: text in self.d.log_text(),
                               timeout=TIMEOUT,
                               what="%r in the log" % text)


class Faults(PyCase):
    """Each test has a daemon of its own: they break workers."""

    def start(self, extra="", processes=1):
        self.d = Daemon(threads=4, processes=processes,
                        config=config(extra), extra_args=python_args())
        self.d.start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_a_crash_fails_only_its_task(self):
        self.start()
        pid = self.value("py:pytasks:getpid")
        msg = self.run_fn("py:pytasks:crash")
        e = msg["error"]["data"]
        self.assertEqual(e["type"], "WorkerCrashed", msg)
        self.assertEqual(e.get("signal"), SIGSEGV, msg)
        new = self.value("py:pytasks:getpid")
        self.assertNotEqual(new, pid)
        e = self.task_error("py:pytasks:exit_now", 3)
        self.assertEqual((e["type"], e.get("exit_code")), ("WorkerCrashed", 3))
        self.assertEqual(self.value("py:pytasks:identity", [1]), [1])

    def test_a_hang_past_its_timeout_replaces_the_worker(self):
        self.start()
        pid = self.value("py:pytasks:getpid")
        msg = self.run_fn("py:pytasks:hang", timeout=0.5)
        self.assertEqual(msg["error"]["data"]["type"], "TimeoutError", msg)
        self.assertNotEqual(self.value("py:pytasks:getpid"), pid)

    def test_recycling_by_count(self):
        self.start("max_tasks_per_child = 2\n")
        pids = [self.value("py:pytasks:getpid") for _ in range(6)]
        self.assertEqual(pids[0], pids[1])
        self.assertEqual(pids[2], pids[3])
        self.assertEqual(pids[4], pids[5])
        self.assertEqual(len(set(pids)), 3, pids)

    def test_recycling_by_memory(self):
        self.start("max_rss_per_child = 256M\n")
        pid = self.value("py:pytasks:getpid")
        rss = [w["rss"] for w in self.c.ok("workers") if w["pid"] == pid]
        if not rss or rss[0] > 128 << 20:
            self.skipTest("a worker already holds %s bytes" % rss)
        self.assertEqual(self.value("py:pytasks:getpid"), pid)
        self.assertEqual(self.value("py:pytasks:hold", 320), 320)
        wait_until(lambda: pid not in self.worker_pids(), timeout=TIMEOUT,
                   what="the worker past max_rss_per_child is replaced")
        self.assertNotEqual(self.value("py:pytasks:getpid"), pid)

    def test_the_initializer_runs_once_in_each_worker(self):
        self.start("python_initializer = pytasks:initialize\n"
                   "max_tasks_per_child = 3\n", processes=2)
        seen = {}
        for _ in range(8):
            s = self.value("py:pytasks:state")
            self.assertEqual(s["initialized"], 1, s)
            seen[s["pid"]] = s
        self.assertGreater(len(seen), 1)
        # In the daemon too, before its first thread task.
        s = self.value("py:pytasks:state", _executor="thread")
        self.assertEqual((s["initialized"], s["pid"]), (1, self.d.pid))
        s = self.value("py:pytasks:state", _executor="thread")
        self.assertEqual(s["initialized"], 1)

    def test_an_initializer_that_raises_breaks_the_pool(self):
        self.start("python_initializer = pytasks:failing_initializer\n")
        msg = self.run_fn("py:pytasks:getpid")
        e = msg["error"]["data"]
        self.assertEqual(e["type"], "WorkerCrashed", msg)
        self.assertIn("init failed", e["message"])
        self.assertIn("the initializer fails", self.d.log_text())
        # The daemon runs it before its first thread task: that task
        # fails with the exception, and so does the next.
        for _ in range(2):
            e = self.task_error("py:pytasks:getpid", _executor="thread")
            self.assertEqual(e["exc_type"], "pytasks.Oops", e)
        assert_alive(self.d.sock)

    def test_a_bad_initializer_name_stops_start_up(self):
        d = Daemon(threads=1, processes=1, ready=False,
                   config=config("python_initializer = not a name\n"),
                   extra_args=python_args())
        d.start()
        self.addCleanup(d.close)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn("python_initializer", d.log_text())

    def test_workers_forked_after_the_daemon_started_python(self):
        self.start()
        self.assertEqual(self.value("py:pytasks:getpid", _executor="thread"),
                         self.d.pid)
        # Each crash forks a worker from a daemon whose interpreter runs,
        # with thread tasks running in it meanwhile.
        sleeps = [self.c.ok("submit", {"fn": "py:pytasks:sleep",
                                       "args": [0.2],
                                       "executor": "thread"})["future"]
                  for _ in range(3)]
        for _ in range(3):
            pid = self.value("py:pytasks:getpid")
            self.assertEqual(self.run_fn("py:pytasks:crash")["error"]
                             ["data"]["type"], "WorkerCrashed")
            self.assertNotEqual(self.value("py:pytasks:getpid"), pid)
            self.assertEqual(self.value("py:pytasks:identity", {"a": [1]}),
                             {"a": [1]})
        for fid in sleeps:
            self.assertEqual(self.c.ok("result", {"future": fid,
                                                  "timeout": TIMEOUT}), 0.2)


class Threads(PyCase, SharedDaemon):
    DAEMON = dict(threads=4, processes=1, config=config(),
                  extra_args=python_args())

    def test_no_task_thread_is_pythons_main_thread(self):
        # The daemon's signals are poold's: on none of the four threads
        # may a task take one.
        token = uuid.uuid4().hex
        fids = [self.c.ok("submit", {"fn": "py:pytasks:set_signal_handler",
                                     "args": [token, 4, TIMEOUT],
                                     "executor": "thread"})["future"]
                for _ in range(4)]
        for fid in fids:
            got = self.c.ok("result", {"future": fid, "timeout": TIMEOUT * 2},
                            timeout=TIMEOUT * 2 + 10)
            self.assertTrue(got.startswith("ValueError"), got)
            self.assertIn("main thread", got)
        # A worker's are its own.
        self.assertEqual(self.value("py:pytasks:set_signal_handler"), "set")
        # Still poold's: a worker that dies is reaped and replaced.
        pid = self.value("py:pytasks:getpid")
        self.run_fn("py:pytasks:crash")
        self.assertNotEqual(self.value("py:pytasks:getpid"), pid)

    def test_several_run_at_once(self):
        # Each returns only once all four wait together: they must overlap.
        token = uuid.uuid4().hex
        fids = [self.c.ok("submit", {"fn": "py:pytasks:rendezvous",
                                     "args": [token, 4, TIMEOUT],
                                     "executor": "thread"})["future"]
                for _ in range(4)]
        for fid in fids:
            self.assertTrue(self.c.ok("result", {"future": fid,
                                                 "timeout": TIMEOUT * 2},
                                      timeout=TIMEOUT * 2 + 10))

    def test_sleeps_overlap(self):
        fids = [self.c.ok("submit", {"fn": "py:pytasks:sleep",
                                     "args": [1.0],
                                     "executor": "thread"})["future"]
                for _ in range(4)]
        for f in fids:
            self.c.ok("result", {"future": f, "timeout": TIMEOUT})
        done = [self.c.status(f) for f in fids]
        first = min(s["started"] for s in done)
        last = max(s["finished"] for s in done)
        # One after another they would take 4 s.
        self.assertLess(last - first, 3.0, done)


if __name__ == "__main__":
    if not os.path.exists(plugin_path("python") or "/nonexistent"):
        print("test_python.py needs $POOLD_PLUGIN_DIR with python.so: "
              "skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

"""poold.Executor with Python callables, run by the python plugin: submit
and map take a module-level function and send it by name; what a worker
could not import by name is a TypeError at the call. The same code runs
under ProcessPoolExecutor and poold.Executor; poold.examples runs.

The functions are in pytasks.py beside this file (on the daemon's
python_path, and imported here) and in the client's poold.examples.
"""

import concurrent.futures as cf
import functools
import math
import os
import sys
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.normpath(os.path.join(HERE, "..", "..", "clients",
                                       "python"))
sys.path.insert(0, HERE)
sys.path.insert(0, CLIENT)

import poold  # noqa: E402
import pytasks  # noqa: E402
from poold import examples  # noqa: E402
from pooldtest import (EXIT_SKIP, SharedDaemon, main,  # noqa: E402
                       plugin_path)

TIMEOUT = 30.0

CONFIG = ("python_path = %s:%s\nkill_timeout = 0.5\nshutdown_timeout = 5\n"
          % (HERE, CLIENT))


def defined_in_main(x):
    """Run as a script, this file is __main__: no worker can import it."""
    return x


def outer():
    def inner(x):
        return x
    return inner


def same_work(ex):
    """What a ProcessPoolExecutor script does, for any executor."""
    one = ex.submit(pytasks.add, 1, 2, c=3)
    squares = list(ex.map(pytasks.square, range(20), chunksize=6))
    sums = list(ex.map(pytasks.add, [1, 2, 3], [10, 20, 30]))
    return one.result(timeout=TIMEOUT), squares, sums


class FunctionName(unittest.TestCase):
    """function_name alone: no daemon needed."""

    def test_names(self):
        self.assertEqual(poold.function_name("echo"), "echo")
        self.assertEqual(poold.function_name(pytasks.add), "py:pytasks:add")
        self.assertEqual(poold.function_name(pow), "py:builtins:pow")
        self.assertEqual(poold.function_name(math.factorial),
                         "py:math:factorial")
        self.assertEqual(poold.function_name(pytasks.Tools.double),
                         "py:pytasks:Tools.double")
        self.assertEqual(poold.function_name(pytasks.Tools.name),
                         "py:pytasks:Tools.name")
        self.assertEqual(poold.function_name(examples.cpu_bound),
                         "py:poold.examples:cpu_bound")

    def assertRefused(self, fn, *words):
        with self.assertRaises(TypeError) as cm:
            poold.function_name(fn)
        for w in words:
            self.assertIn(w, str(cm.exception))

    def test_what_no_worker_could_import_is_refused(self):
        self.assertRefused(lambda x: x, "<lambda>", "top level of a module")
        self.assertRefused(outer(), "outer.<locals>.inner",
                           "top level of a module")
        self.assertRefused(defined_in_main, "defined_in_main", "__main__",
                           "python_path")
        self.assertRefused(pytasks.Tools().method, "Tools.method",
                           "bound to an instance")
        self.assertRefused(functools.partial(pytasks.add, 1),
                           "module-level function")
        self.assertRefused(42, "not 42")


class Callables(SharedDaemon):
    DAEMON = dict(threads=4, processes=2, config=CONFIG,
                  extra_args=["--plugin", plugin_path("python")])

    def setUp(self):
        super().setUp()
        self.ex = self.executor()

    def executor(self, **kw):
        ex = poold.Executor(self.d.sock, connect_timeout=TIMEOUT, **kw)
        self.addCleanup(ex.shutdown)
        return ex

    def test_submit_a_module_level_function(self):
        f = self.ex.submit(pytasks.add, 1, b=2, c=3)
        self.assertIsInstance(f, cf.Future)
        self.assertEqual(f.result(timeout=TIMEOUT), 6)
        self.assertEqual(self.ex.submit(pow, 3, 4).result(timeout=TIMEOUT),
                         81)
        self.assertEqual(self.ex.submit(pytasks.Tools.double, 4)
                         .result(timeout=TIMEOUT), 8)
        f = self.ex.submit_with(pytasks.getpid, executor="thread")
        self.assertEqual(f.result(timeout=TIMEOUT), self.d.pid)

    def test_map_with_chunksize(self):
        got = list(self.ex.map(pytasks.square, range(50), chunksize=7,
                               timeout=TIMEOUT))
        self.assertEqual(got, [i * i for i in range(50)])
        got = list(self.ex.map(pytasks.add, [1, 2], [3, 4], timeout=TIMEOUT))
        self.assertEqual(got, [4, 6])

    def test_a_lambda_is_a_type_error_at_submit(self):
        with self.assertRaises(TypeError) as cm:
            self.ex.submit(lambda x: x, 1)
        self.assertIn("<lambda>", str(cm.exception))
        self.assertIn("define it at the top level of a module",
                      str(cm.exception))
        with self.assertRaises(TypeError):
            self.ex.map(outer(), [1, 2])
        with self.assertRaises(TypeError):
            self.ex.submit(defined_in_main, 1)
        # Nothing reached the daemon: the executor goes on.
        self.assertEqual(self.ex.submit(pytasks.identity, "ok")
                         .result(timeout=TIMEOUT), "ok")

    def test_exceptions_raise_task_error_with_the_python_fields(self):
        f = self.ex.submit(pytasks.fail, "no")
        with self.assertRaises(poold.TaskError) as cm:
            f.result(timeout=TIMEOUT)
        e = cm.exception
        self.assertEqual((e.type, e.message), ("TaskError", "no"))
        self.assertEqual(e.data["exc_type"], "pytasks.Oops")
        self.assertIn("in _raise_oops", e.data["traceback"])

    def test_the_thread_executor_runs_them_at_once(self):
        ex = self.executor(executor="thread")
        token = uuid.uuid4().hex
        fs = [ex.submit(pytasks.rendezvous, token, 4, TIMEOUT)
              for _ in range(4)]
        self.assertEqual([f.result(timeout=TIMEOUT * 2) for f in fs],
                         [True] * 4)

    def test_same_code_as_with_process_pool_executor(self):
        with cf.ProcessPoolExecutor(2) as ppe:
            expected = same_work(ppe)
        self.assertEqual(same_work(self.ex), expected)

    def test_the_examples_module(self):
        n = 20000
        self.assertAlmostEqual(
            self.ex.submit(examples.cpu_bound, n).result(timeout=TIMEOUT),
            sum(math.sqrt(i) * math.sin(i) for i in range(n)))
        numbers = [2, 9, 97, 1000003, 1000004]
        self.assertEqual(list(self.ex.map(examples.is_prime, numbers,
                                          timeout=TIMEOUT)),
                         [True, False, True, True, False])
        self.assertEqual(list(self.ex.map(examples.square, range(10),
                                          chunksize=4, timeout=TIMEOUT)),
                         [i * i for i in range(10)])
        self.assertEqual(self.ex.submit(examples.power, 2, 10)
                         .result(timeout=TIMEOUT), 1024)
        self.assertEqual(self.ex.submit(examples.power, 323, 1235, 10007)
                         .result(timeout=TIMEOUT), pow(323, 1235, 10007))

    def test_the_io_bound_examples_on_threads(self):
        ex = self.executor(executor="thread")
        t0 = time.monotonic()
        self.assertEqual(list(ex.map(examples.io_bound, [1, 1, 1, 1],
                                     timeout=TIMEOUT)), [1, 1, 1, 1])
        # One after another they would take 4 s.
        self.assertLess(time.monotonic() - t0, 3.0)
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"x" * 1234)
            f.flush()
            got = ex.submit(examples.load_url, "file://" + f.name, 10)
            self.assertEqual(got.result(timeout=TIMEOUT), 1234)


if __name__ == "__main__":
    if not os.path.exists(plugin_path("python") or "/nonexistent"):
        print("test_pyexecutor.py needs $POOLD_PLUGIN_DIR with python.so: "
              "skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

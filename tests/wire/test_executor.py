"""poold.Executor against a real poold: its futures under the standard
library's own wait, as_completed, callbacks, result(timeout) and cancel;
map in order, lazily and with a deadline; shutdown; many threads at once;
and a daemon that dies under it.

Work that must stay running until the test says so is a gate: an exec of
a shell that waits for a file, opened (created) by the test. With one
process worker, a gate on the process executor keeps every later process
task pending.
"""

import atexit
import concurrent.futures as cf
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

import poold  # noqa: E402
from pooldtest import (FUTURE_ID, Case, Daemon, SharedDaemon,  # noqa: E402
                       error_of, main, plugin_args, plugin_path, wait_until)

# A bound on anything that should happen, never an expected duration.
TIMEOUT = 30.0

CONFIG = "kill_timeout = 0.5\nshutdown_timeout = 5\n"


def have_testing_plugin():
    return os.path.exists(plugin_path("testing") or "/nonexistent")


def columns(*argvs):
    """Executor.map's iterables for running exec on each ARGV: one
    iterable per argument position, as the builtin map zips them."""
    return list(zip(*argvs))


class Gate:
    """A program that runs until open() is called (or, should the test
    die first, for about a minute). Its file stays until the test process
    ends, so the program sees it however late it looks."""

    dir = None
    count = itertools.count()

    def __init__(self, case):
        if Gate.dir is None:
            Gate.dir = tempfile.mkdtemp(prefix="poold-gate-")
            atexit.register(shutil.rmtree, Gate.dir, True)
        self.path = os.path.join(Gate.dir, str(next(Gate.count)))
        self.argv = ["sh", "-c", 'i=0; while [ ! -e "$0" ] && '
                     '[ $i -lt 6000 ]; do sleep 0.01; i=$((i+1)); done',
                     self.path]
        case.addCleanup(self.open)

    def open(self):
        with open(self.path, "w"):
            pass


class ExecutorCase(SharedDaemon):
    DAEMON = dict(threads=4, processes=1, config=CONFIG,
                  extra_args=plugin_args() if have_testing_plugin() else ())

    def setUp(self):
        super().setUp()
        self.ex = self.executor()

    def executor(self, **kw):
        ex = poold.Executor(self.d.sock, connect_timeout=TIMEOUT, **kw)
        self.addCleanup(ex.shutdown)
        return ex

    def state(self, future):
        return self.c.status(future.poold_id)["state"]

    def occupy(self, ex=None):
        """A gate running on the only process worker, and the gate."""
        gate = Gate(self)
        busy = (ex or self.ex).submit_with("exec", gate.argv,
                                           executor="process")
        wait_until(lambda: self.state(busy) == "running", TIMEOUT,
                   "the gate runs")
        return busy, gate

    def cancelled_count(self):
        return self.c.ok("stats")["cancelled"]


class Submit(ExecutorCase):

    def test_submit_returns_a_real_future_with_the_result(self):
        value = {"k": [1, "\u00e9", None, 2.5]}
        f = self.ex.submit("echo", value)
        self.assertIsInstance(f, cf.Future)
        self.assertRegex(f.poold_id, FUTURE_ID)
        self.assertEqual(f.result(TIMEOUT), value)
        self.assertTrue(f.done())
        self.assertFalse(f.cancelled())
        self.assertIsNone(f.exception())

    def test_keyword_arguments_reach_the_function(self):
        f = self.ex.submit("exec", "sh", "-c", 'cat; echo "$X"',
                           stdin="in:", env={"X": "y"})
        r = f.result(TIMEOUT)
        self.assertEqual(r["stdout"], "in:y\n")
        self.assertEqual(r["exit_code"], 0)

    def test_options_of_the_executor_and_of_one_call(self):
        # A program's parent is a worker on the process executor and the
        # daemon itself on the thread executor.
        daemon = str(self.c.ok("hello")["pid"])
        ex = self.executor(executor="process")
        ppid = ["sh", "-c", 'echo "$PPID"']
        f = ex.submit("exec", *ppid)
        g = ex.submit_with("exec", ppid, executor="thread")
        self.assertNotEqual(f.result(TIMEOUT)["stdout"].strip(), daemon)
        self.assertEqual(g.result(TIMEOUT)["stdout"].strip(), daemon)
        # A task timeout is the task's failure, not a wait that ran out.
        t = ex.submit_with("sleep", [TIMEOUT], executor="thread",
                           task_timeout=0.05)
        e = t.exception(TIMEOUT)
        self.assertIsInstance(e, poold.TaskError)
        self.assertEqual(e.type, "TimeoutError")
        self.assertNotIsInstance(e, cf.TimeoutError)

    def test_bad_calls_raise_at_submit(self):
        with self.assertRaises(poold.UnknownFunction) as cm:
            self.ex.submit("no_such_function", 1)
        self.assertEqual(cm.exception.code, -32004)
        self.assertEqual(cm.exception.data, {"fn": "no_such_function"})
        with self.assertRaises(poold.InvalidParams) as cm:
            self.ex.submit("echo", 1, 2)
        self.assertEqual(cm.exception.data["param"], "args")
        self.assertEqual(self.ex.submit("echo", 3).result(TIMEOUT), 3)

    def test_result_timeout_raises_the_stdlib_timeout(self):
        busy, gate = self.occupy()
        with self.assertRaises(cf.TimeoutError):
            busy.result(timeout=0.05)
        with self.assertRaises(cf.TimeoutError):
            busy.exception(timeout=0)
        self.assertFalse(busy.done())
        gate.open()
        self.assertEqual(busy.result(TIMEOUT)["exit_code"], 0)

    def test_task_errors_are_task_error_with_their_fields(self):
        f = self.ex.submit("exec", "sh", "-c", "exit 3", check=True)
        e = f.exception(TIMEOUT)
        self.assertIsInstance(e, poold.TaskError)
        self.assertIsInstance(e, poold.RemoteError)
        self.assertEqual(e.code, -32003)
        self.assertEqual(e.type, "ProcessError")
        self.assertEqual(e.data["type"], "ProcessError")
        self.assertEqual(e.data["exit_code"], 3)
        self.assertEqual(e.message, e.data["message"])
        with self.assertRaises(poold.TaskError) as cm:
            f.result()
        self.assertIs(cm.exception, e)

    def test_task_error_message(self):
        if not have_testing_plugin():
            self.skipTest("needs the testing plugin")
        e = self.ex.submit("fail", "boom").exception(TIMEOUT)
        self.assertEqual((e.type, e.message), ("TaskError", "boom"))
        self.assertEqual(str(e), "TaskError: boom")

    def test_settled_futures_are_forgotten_by_the_daemon(self):
        f = self.ex.submit("echo", 1)
        f.result(TIMEOUT)

        def forgotten():
            msg = self.c.call("status", {"future": f.poold_id})
            return "error" in msg and error_of(msg, -32000)

        wait_until(forgotten, TIMEOUT, "the daemon forgets the future")


class Cancel(ExecutorCase):

    def test_cancel_a_pending_future_not_a_running_one(self):
        busy, gate = self.occupy()
        before = self.cancelled_count()
        pending = self.ex.submit_with("echo", ["x"], executor="process")
        self.assertEqual(self.state(pending), "pending")
        self.assertTrue(pending.cancel())
        self.assertTrue(pending.cancelled())
        self.assertTrue(pending.done())
        self.assertTrue(pending.cancel())
        with self.assertRaises(cf.CancelledError):
            pending.result(0)
        self.assertEqual(self.cancelled_count(), before + 1)
        self.assertFalse(busy.cancel())
        self.assertFalse(busy.cancelled())
        self.assertEqual(self.state(busy), "running")
        gate.open()
        self.assertEqual(busy.result(TIMEOUT)["exit_code"], 0)
        self.assertFalse(busy.cancel())

    def test_cancelled_elsewhere_is_cancelled_here(self):
        busy, gate = self.occupy()
        r = self.c.ok("cancel", {"future": busy.poold_id, "force": True})
        self.assertTrue(r["cancelled"])
        done, _ = cf.wait([busy], timeout=TIMEOUT)
        self.assertEqual(done, {busy})
        self.assertTrue(busy.cancelled())


class StdlibWaiting(ExecutorCase):

    def test_wait(self):
        busy, gate = self.occupy()
        quick = self.ex.submit("echo", 1)
        done, not_done = cf.wait([busy, quick], timeout=TIMEOUT,
                                 return_when=cf.FIRST_COMPLETED)
        self.assertEqual((done, not_done), ({quick}, {busy}))
        done, not_done = cf.wait([busy], timeout=0.05)
        self.assertEqual((done, not_done), (set(), {busy}))
        bad = self.ex.submit_with("exec", ["false"], {"check": True},
                                  executor="thread")
        done, not_done = cf.wait([busy, bad], timeout=TIMEOUT,
                                 return_when=cf.FIRST_EXCEPTION)
        self.assertEqual((done, not_done), ({bad}, {busy}))
        gate.open()
        done, not_done = cf.wait([busy, quick, bad], timeout=TIMEOUT,
                                 return_when=cf.ALL_COMPLETED)
        self.assertEqual((done, not_done), ({busy, quick, bad}, set()))

    def test_as_completed(self):
        busy, gate = self.occupy()
        quick = [self.ex.submit("echo", i) for i in range(3)]
        with self.assertRaises(cf.TimeoutError):
            list(cf.as_completed([busy], timeout=0.05))
        seen = []
        for f in cf.as_completed([busy] + quick, timeout=TIMEOUT):
            seen.append(f)
            if len(seen) == len(quick):
                self.assertEqual(set(seen), set(quick))
                gate.open()
        self.assertEqual(seen[-1], busy)

    def test_as_completed_sees_a_cancelled_future(self):
        busy, gate = self.occupy()
        pending = self.ex.submit_with("echo", [1], executor="process")
        it = cf.as_completed([pending], timeout=TIMEOUT)
        self.assertTrue(pending.cancel())
        self.assertIs(next(it), pending)

    def test_add_done_callback_is_called_once(self):
        busy, gate = self.occupy()
        calls, chained, threads = [], [], []

        def callback(f):
            calls.append(f)
            threads.append(threading.current_thread())
            # A callback may submit: it runs on the executor's resolver
            # thread, never on the one that reads the answers.
            chained.append(self.ex.submit("echo", f.result()["exit_code"]))

        busy.add_done_callback(callback)
        gate.open()
        wait_until(lambda: chained, TIMEOUT, "the callback ran")
        self.assertEqual(chained[0].result(TIMEOUT), 0)
        self.assertIsNot(threads[0], threading.current_thread())
        late = []
        busy.add_done_callback(late.append)
        self.assertEqual(late, [busy])
        # Once shut down with wait, nothing of the executor runs any more.
        self.ex.shutdown(wait=True)
        self.assertEqual(calls, [busy])
        self.assertEqual(late, [busy])


class Map(ExecutorCase):

    def test_results_in_order_with_chunksize(self):
        self.assertEqual(list(self.ex.map("echo", range(50), chunksize=7)),
                         list(range(50)))
        self.assertEqual(list(self.ex.map("echo", range(5), chunksize=None)),
                         list(range(5)))
        # Items end out of order on four threads; results come in order.
        ex = self.executor(executor="thread")
        delays = [0.3, 0, 0.1, 0]
        self.assertEqual(list(ex.map("sleep", delays)), delays)
        self.assertEqual(list(self.ex.map("echo", [])), [])

    def test_several_iterables_are_zipped(self):
        out = self.ex.map("exec", ["sh", "sh", "sh"], ["-c", "-c"],
                          ["echo a", "echo b", "echo c"])
        self.assertEqual([r["stdout"] for r in out], ["a\n", "b\n"])

    def test_bad_maps_raise_at_the_call(self):
        with self.assertRaises(poold.InvalidParams) as cm:
            self.ex.map("echo", [1], chunksize=0)
        self.assertEqual(cm.exception.data["param"], "chunksize")
        with self.assertRaises(poold.InvalidParams) as cm:
            self.ex.map("echo", [1, 2], [3, 4])
        self.assertEqual(cm.exception.data["param"], "iterable")
        with self.assertRaises(poold.UnknownFunction):
            self.ex.map("no_such_function", [1])

    def test_map_is_lazy(self):
        gate = Gate(self)
        it = self.ex.map("exec", *columns(["sh", "-c", "echo first", "x"],
                                          gate.argv))
        # The second item cannot end before the gate opens.
        self.assertEqual(next(it)["stdout"], "first\n")
        gate.open()
        self.assertEqual(next(it)["exit_code"], 0)
        with self.assertRaises(StopIteration):
            next(it)

    def test_timeout_is_measured_from_the_call(self):
        gate = Gate(self)
        start = time.monotonic()
        it = self.ex.map("exec", *columns(gate.argv), timeout=0.3)
        # Past the deadline before the first next(): it raises at once.
        time.sleep(max(0.0, start + 0.3 - time.monotonic()))
        t = time.monotonic()
        with self.assertRaises(cf.TimeoutError):
            next(it)
        self.assertLess(time.monotonic() - t, TIMEOUT / 2)
        with self.assertRaises(StopIteration):
            next(it)
        self.assertEqual(list(self.ex.map("echo", [1, 2], timeout=TIMEOUT)),
                         [1, 2])

    def test_the_first_failed_item_raises(self):
        it = self.ex.map("exec", ["true", "/nonexistent/program", "true"])
        self.assertEqual(next(it)["exit_code"], 0)
        with self.assertRaises(poold.TaskError) as cm:
            next(it)
        self.assertEqual(cm.exception.type, "ExecError")
        self.assertEqual(cm.exception.data["index"], 1)
        with self.assertRaises(StopIteration):
            next(it)



class MapCancel(ExecutorCase):
    """A map cancelled before any of its items started."""

    def test_closing_the_iterator_cancels_what_has_not_run(self):
        busy, gate = self.occupy()
        ex = self.executor(executor="process")
        before = self.cancelled_count()
        it = ex.map("echo", range(3))
        it.close()
        wait_until(lambda: self.cancelled_count() == before + 3, TIMEOUT,
                   "the map's items are cancelled")
        gate.open()
        self.assertEqual(busy.result(TIMEOUT)["exit_code"], 0)

    def test_shutdown_cancel_futures_cancels_maps(self):
        ex = self.executor(executor="process")
        busy, gate = self.occupy(ex)
        it = ex.map("echo", [1, 2])
        ex.shutdown(wait=False, cancel_futures=True)
        with self.assertRaises(cf.CancelledError):
            next(it)
        wait_until(lambda: self.c.ok("stats")["pending"] == 0, TIMEOUT,
                   "nothing pending on the daemon")
        gate.open()
        self.assertEqual(busy.result(TIMEOUT)["exit_code"], 0)


class Shutdown(ExecutorCase):

    def test_submit_after_shutdown_raises_runtime_error(self):
        f = self.ex.submit("echo", 1)
        self.ex.shutdown()
        self.assertTrue(f.done())
        with self.assertRaises(RuntimeError):
            self.ex.submit("echo", 1)
        with self.assertRaises(RuntimeError):
            self.ex.submit_with("echo", [1])
        with self.assertRaises(RuntimeError):
            self.ex.map("echo", [1])
        self.ex.shutdown()

    def test_context_manager_waits(self):
        with poold.Executor(self.d.sock) as ex:
            f = ex.submit("sleep", 0.2)
        self.assertTrue(f.done())
        self.assertEqual(f.result(0), 0.2)
        with self.assertRaises(RuntimeError):
            ex.submit("echo", 1)

    def test_shutdown_cancel_futures(self):
        ex = self.executor(executor="process")
        busy, gate = self.occupy(ex)
        pending = [ex.submit("echo", i) for i in range(3)]
        ex.shutdown(wait=False, cancel_futures=True)
        self.assertTrue(all(f.cancelled() for f in pending))
        self.assertFalse(busy.done())
        wait_until(lambda: self.c.ok("stats")["pending"] == 0, TIMEOUT,
                   "nothing pending on the daemon")
        gate.open()
        ex.shutdown(wait=True)
        self.assertEqual(busy.result(0)["exit_code"], 0)


class Threads(ExecutorCase):

    def test_many_threads_submitting_at_once(self):
        nthreads, each = 8, 40
        barrier = threading.Barrier(nthreads)
        futures = [None] * nthreads
        errors = []

        def submitter(t):
            try:
                barrier.wait(TIMEOUT)
                futures[t] = [self.ex.submit("echo", [t, i])
                              for i in range(each)]
            except BaseException as e:
                errors.append(e)

        workers = [threading.Thread(target=submitter, args=(t,))
                   for t in range(nthreads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(TIMEOUT)
        self.assertEqual(errors, [])
        for t in range(nthreads):
            self.assertEqual([f.result(TIMEOUT) for f in futures[t]],
                             [[t, i] for i in range(each)])
        ids = {f.poold_id for fs in futures for f in fs}
        self.assertEqual(len(ids), nthreads * each)


class DaemonDies(Case):

    def test_futures_fail_instead_of_hanging(self):
        d = Daemon(threads=1, processes=1).start()
        self.addCleanup(d.close)
        ex = poold.Executor(d.sock)
        self.addCleanup(ex.shutdown)
        running = ex.submit("sleep", 60)
        pending = ex.submit("sleep", 60)
        it = ex.map("sleep", [60])
        with d.client() as c:
            wait_until(lambda: c.status(running.poold_id)["state"]
                       == "running", TIMEOUT, "the sleep runs")
        d.kill()
        for f in (running, pending):
            e = f.exception(TIMEOUT)
            self.assertIsInstance(e, poold.BrokenExecutor)
            self.assertIsInstance(e, cf.BrokenExecutor)
            self.assertIn(d.sock, str(e))
        with self.assertRaises(poold.BrokenExecutor):
            next(it)
        with self.assertRaises(poold.BrokenExecutor):
            ex.submit("echo", 1)
        with self.assertRaises(poold.BrokenExecutor):
            ex.map("echo", [1])
        ex.shutdown(wait=True)

    def test_a_stopped_daemon_breaks_the_executor(self):
        d = Daemon(threads=1, processes=1).start()
        self.addCleanup(d.close)
        ex = poold.Executor(d.sock)
        self.addCleanup(ex.shutdown)
        f = ex.submit("sleep", 0.1)
        self.assertEqual(d.stop(), 0)
        # A graceful stop finishes what runs and says so first.
        self.assertEqual(f.result(TIMEOUT), 0.1)
        # Its end of the socket is closed: a write fails at once if the
        # reader has not seen the end yet.
        with self.assertRaises(poold.BrokenExecutor):
            ex.submit("echo", 1)


if __name__ == "__main__":
    main()

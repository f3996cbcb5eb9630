"""The Python client (clients/python) against a real poold: Connection,
Client (one method per protocol method) and the package's installation
with pip. The Executor has test_executor.py.
"""

import concurrent.futures as cf
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

import poold  # noqa: E402
import pooldtest  # noqa: E402
from pooldtest import (FUTURE_ID, Case, Daemon, SharedDaemon,  # noqa: E402
                       check_future)

PACKAGE = os.path.join(HERE, "..", "..", "clients", "python")

# A bound on anything that should happen, never an expected duration.
TIMEOUT = 30.0


class PythonClient(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.daemon = pooldtest.Daemon(threads=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()

    def connect(self, **kw):
        return poold.Connection(self.daemon.sock, timeout=10, **kw)

    def test_submit_and_result(self):
        with self.connect() as c:
            fid = c.call("submit", {"fn": "echo", "args": [{"k": [1, "é"]}]})
            self.assertEqual(c.call("result", {"future": fid["future"]}),
                             {"k": [1, "é"]})

    def test_error_is_raised_with_code_and_data(self):
        with self.connect() as c:
            with self.assertRaises(poold.RemoteError) as cm:
                c.call("submit", {"fn": "no_such_fn"})
            self.assertEqual(cm.exception.code, -32004)
            self.assertEqual(cm.exception.data, {"fn": "no_such_fn"})
            self.assertEqual(c.call("hello")["name"], "poold")

    def test_answers_out_of_order_are_kept(self):
        with self.connect() as c:
            slow = c.call("submit", {"fn": "sleep", "args": [0.2]})["future"]
            waiting = c.send("result", {"future": slow})
            status = c.send("status", {"future": slow})
            self.assertIn(c.answer(status)["state"], ("pending", "running"))
            self.assertEqual(c.answer(waiting), 0.2)

    def test_notifications_reach_the_callback(self):
        got = []
        with self.connect(on_notification=lambda m, p: got.append((m, p))) \
                as c:
            fid = c.call("submit", {"fn": "echo", "args": [5],
                                    "notify": True})["future"]
            c.call("result", {"future": fid})
            # future.done is written before any later answer: a hello
            # round trip guarantees it has been read.
            c.call("hello")
            self.assertEqual(got[0][0], "future.done")
            self.assertEqual(got[0][1]["future"]["result"], 5)

    def test_default_socket_path_rules(self):
        saved = dict(os.environ)
        try:
            os.environ["POOLD_SOCKET"] = "/x/y.sock"
            self.assertEqual(poold.default_socket_path(), "/x/y.sock")
            del os.environ["POOLD_SOCKET"]
            if os.getuid() == 0:
                self.assertEqual(poold.default_socket_path(),
                                 "/run/poold/poold.sock")
            else:
                os.environ["XDG_RUNTIME_DIR"] = "/run/user/7"
                self.assertEqual(poold.default_socket_path(),
                                 "/run/user/7/poold/poold.sock")
        finally:
            os.environ.clear()
            os.environ.update(saved)



class ClientCase(SharedDaemon):
    DAEMON = dict(threads=2, processes=1,
                  config="kill_timeout = 0.5\nshutdown_timeout = 5\n")

    def setUp(self):
        super().setUp()
        self.client = poold.Client(self.d.sock, timeout=TIMEOUT)
        self.addCleanup(self.client.close)

    def occupy(self):
        """A sleep running on the only process worker; cancelled (by
        force) at the end of the test."""
        fid = self.client.submit("sleep", [TIMEOUT], executor="process")
        self.addCleanup(self.c.ok, "cancel", {"future": fid, "force": True})
        self.c.wait_state(fid, "running")
        return fid


class ClientFutures(ClientCase):

    def test_hello_and_functions(self):
        r = self.client.hello()
        self.assertEqual((r["name"], r["protocol"]), ("poold", 1))
        names = {f["name"] for f in self.client.functions()}
        self.assertLessEqual({"echo", "exec", "sleep"}, names)

    def test_submit_status_result(self):
        fid = self.client.submit("echo", [{"a": [1, None]}])
        self.assertRegex(fid, FUTURE_ID)
        self.assertEqual(self.client.result(fid), {"a": [1, None]})
        obj = check_future(self.client.status(fid), fid)
        self.assertEqual((obj["state"], obj["result"]),
                         ("finished", {"a": [1, None]}))
        fid = self.client.submit("exec", ["sh", "-c", 'echo "$X"'],
                                 {"env": {"X": "kw"}})
        self.assertEqual(self.client.result(fid)["stdout"], "kw\n")

    def test_options_reach_the_daemon(self):
        c = self.client
        fid = c.submit("echo", [1], executor="process", priority=2)
        c.result(fid)
        self.assertEqual(c.status(fid)["executor"], "process")
        fid = c.submit("sleep", [TIMEOUT], executor="thread", timeout=0.05,
                       retries=1)
        e = c.exception(fid)
        self.assertEqual(e.type, "TimeoutError")
        self.assertEqual(c.status(fid)["attempts"], 2)
        fid = c.submit("echo", [7], notify=True)
        method, params = c.next_notification(TIMEOUT)
        self.assertEqual(method, "future.done")
        self.assertEqual((params["future"]["future"],
                          params["future"]["result"]), (fid, 7))

    def test_failures_raise_task_error(self):
        c = self.client
        fid = c.submit("exec", ["sh", "-c", "exit 4"], {"check": True})
        with self.assertRaises(poold.TaskError) as cm:
            c.result(fid)
        e = cm.exception
        self.assertIsInstance(e, poold.RemoteError)
        self.assertEqual((e.code, e.type, e.data["exit_code"]),
                         (-32003, "ProcessError", 4))
        self.assertEqual(e.message, e.data["message"])
        self.assertEqual(str(e), "ProcessError: " + e.message)
        got = c.exception(fid)
        self.assertIsInstance(got, poold.TaskError)
        self.assertEqual(got.data, e.data)
        self.assertIsNone(c.exception(c.submit("echo", [1])))

    def test_waits_that_run_out_and_cancelled_futures(self):
        c = self.client
        busy = self.occupy()
        with self.assertRaises(poold.WaitTimeout) as cm:
            c.result(busy, timeout=0)
        self.assertIsInstance(cm.exception, cf.TimeoutError)
        self.assertEqual(cm.exception.data["state"], "running")
        with self.assertRaises(poold.WaitTimeout):
            c.exception(busy, timeout=0.05)
        pending = c.submit("echo", [1], executor="process")
        self.assertEqual(c.cancel(pending),
                         {"cancelled": True, "state": "cancelled"})
        with self.assertRaises(poold.FutureCancelled) as cm:
            c.result(pending)
        self.assertIsInstance(cm.exception, cf.CancelledError)
        self.assertEqual(cm.exception.code, -32002)
        self.assertEqual(c.cancel(busy),
                         {"cancelled": False, "state": "running"})
        self.assertEqual(c.cancel(busy, force=True),
                         {"cancelled": True, "state": "cancelled"})

    def test_wait(self):
        c = self.client
        busy = self.occupy()
        quick = c.submit("echo", [1])
        r = c.wait([busy, quick], return_when=cf.FIRST_COMPLETED)
        self.assertEqual(r, {"done": [quick], "not_done": [busy]})
        r = c.wait([busy], timeout=0.05)
        self.assertEqual(r, {"done": [], "not_done": [busy]})
        r = c.wait(quick)
        self.assertEqual(r, {"done": [quick], "not_done": []})

    def test_as_completed(self):
        c = self.client
        slow = c.submit("sleep", [0.2])
        quick = [c.submit("echo", [i]) for i in range(3)]
        it = c.as_completed([slow] + quick)
        seen = []
        for obj in it:
            check_future(obj)
            seen.append(obj["future"])
            # Other calls between items: the stream keeps its own.
            self.assertEqual(c.hello()["name"], "poold")
        self.assertEqual(set(seen[:3]), set(quick))
        self.assertEqual(seen[3], slow)
        self.assertEqual(c.notifications, [])

    def test_as_completed_timeout(self):
        c = self.client
        busy = self.occupy()
        quick = c.submit("echo", [1])
        it = c.as_completed([busy, quick], timeout=0.2)
        self.assertEqual(next(it)["future"], quick)
        with self.assertRaises(poold.WaitTimeout) as cm:
            next(it)
        self.assertEqual(cm.exception.data["not_done"], [busy])
        self.assertEqual(c.hello()["name"], "poold")

    def test_as_completed_closed_early_drops_the_rest(self):
        c = self.client
        slow = c.submit("sleep", [0.2])
        quick = c.submit("echo", [1])
        it = c.as_completed([slow, quick])
        self.assertEqual(next(it)["future"], quick)
        it.close()
        self.assertEqual(c.result(slow), 0.2)
        # A future's notifications are sent before later answers.
        c.hello()
        self.assertEqual(c.notifications, [])
        self.assertEqual(c._answers, {})

    def test_map(self):
        c = self.client
        fid = c.map("echo", range(5), chunksize=2)
        self.assertRegex(fid, FUTURE_ID)
        self.assertEqual(c.result(fid), list(range(5)))
        fid = c.map("exec", [["sh", "-c", "echo a"], ["true"]], star=True)
        self.assertEqual([r["stdout"] for r in c.result(fid)], ["a\n", ""])
        with self.assertRaises(poold.InvalidParams) as cm:
            c.map("echo", [1], chunksize=0)
        self.assertEqual(cm.exception.data["param"], "chunksize")

    def test_streaming_map(self):
        c = self.client
        it = c.map("exec", ["true", "/nonexistent/program", "true"],
                   stream=True)
        items = list(it)
        self.assertEqual([i["index"] for i in items], [0, 1, 2])
        self.assertEqual(items[0]["result"]["exit_code"], 0)
        self.assertEqual(items[1]["error"]["type"], "ExecError")
        self.assertEqual(it.result, {"items": 3, "failed": 1})
        it = c.map("sleep", [0.2, 0], executor="thread", ordered=False,
                   stream=True)
        self.assertEqual([i["index"] for i in it], [1, 0])


class ClientPool(ClientCase):

    def test_list_forget(self):
        c = self.client
        fid = c.submit("echo", ["listed"])
        c.result(fid)
        objs = c.list()
        self.assertIn(fid, [o["future"] for o in objs])
        self.assertTrue(all("result" not in o for o in objs))
        self.assertEqual(len(c.list_futures(state="finished", limit=1)), 1)
        self.assertEqual(c.forget([fid]), 1)
        with self.assertRaises(poold.UnknownFuture) as cm:
            c.status(fid)
        self.assertEqual(cm.exception.data, {"future": fid})

    def test_stats_workers_resize(self):
        c = self.client
        s = c.stats()
        self.assertEqual(s["process"]["workers"], 1)
        self.assertEqual([w["state"] for w in c.workers()], ["idle"])
        self.assertEqual(c.resize(thread=3), {"process": 1, "thread": 3})
        self.assertEqual(c.stats()["thread"]["workers"], 3)
        self.assertEqual(c.resize(thread=2), {"process": 1, "thread": 2})

    def test_errors_by_code(self):
        c = self.client
        cases = [
            (lambda: c.call("no_such_method"), poold.MethodNotFound,
             -32601, {"method": "no_such_method"}),
            (lambda: c.submit("no_such_fn"), poold.UnknownFunction,
             -32004, {"fn": "no_such_fn"}),
            (lambda: c.status("f-0000000000000000"), poold.UnknownFuture,
             -32000, {"future": "f-0000000000000000"}),
            (lambda: c.call("status", {"future": 1}), poold.InvalidParams,
             -32602, None),
        ]
        for call, cls, code, data in cases:
            with self.assertRaises(cls) as cm:
                call()
            e = cm.exception
            self.assertIsInstance(e, poold.RemoteError)
            self.assertEqual(e.code, code)
            self.assertIsInstance(e.message, str)
            if data is not None:
                self.assertEqual(e.data, data)
            self.assertIn(str(code), str(e))

    def test_timeout_bounds_each_answer(self):
        busy = self.occupy()
        with poold.Client(self.d.sock, timeout=0.1) as c:
            rid = c.send("result", {"future": busy})
            with self.assertRaises(socket.timeout):
                c.answer(rid)
            self.assertEqual(c.hello()["name"], "poold")

    def test_no_daemon(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(OSError):
                poold.Client(os.path.join(tmp, "none.sock"))
            with self.assertRaises(OSError):
                poold.Executor(os.path.join(tmp, "none.sock"))


class ClientShutdown(Case):

    def test_shutdown_stops_the_daemon(self):
        d = Daemon(threads=1, processes=1).start()
        self.addCleanup(d.close)
        with poold.Client(d.sock, timeout=TIMEOUT) as c:
            fid = c.submit("sleep", [0.1])
            self.assertEqual(c.shutdown(), {"ok": True})
            with self.assertRaises(poold.ShuttingDown):
                c.submit("echo", [1])
            self.assertEqual(c.result(fid), 0.1)
        self.assertEqual(d.wait_exit(TIMEOUT), 0)


def pip_missing(python):
    """Why PYTHON cannot build and install the package offline, or None.
    setuptools reads pyproject.toml from 61 on and builds wheels itself
    from 70.1; before that, the wheel package does."""
    # setuptools first: looking pip up turns setuptools' distutils shim off.
    probe = (
        "import importlib.util as u, re, sys\n"
        "try:\n"
        "    import setuptools\n"
        "except ImportError:\n"
        "    sys.exit('no setuptools')\n"
        "if u.find_spec('pip') is None: sys.exit('no pip')\n"
        "v = tuple(int(x) for x in "
        "re.findall(r'\\d+', setuptools.__version__)[:2])\n"
        "if v < (61, 0): sys.exit('setuptools %s is older than 61' "
        "% setuptools.__version__)\n"
        "if v < (70, 1) and u.find_spec('wheel') is None:\n"
        "    sys.exit('setuptools %s needs the wheel package' "
        "% setuptools.__version__)\n")
    try:
        r = subprocess.run([python, "-c", probe], capture_output=True,
                           text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    if r.returncode == 0:
        return None
    lines = r.stderr.strip().splitlines()
    return lines[-1] if lines else "cannot probe"


class Install(Case):

    def test_pip_install(self):
        why = pip_missing(sys.executable)
        if why is not None:
            self.skipTest("cannot build the package here: %s" % why)
        tmp = tempfile.mkdtemp(prefix="poold-pip-")
        self.addCleanup(shutil.rmtree, tmp, True)
        # A writable copy of what the tarball ships, since a build writes
        # into its source tree (read-only under distcheck).
        src = os.path.join(tmp, "src")
        os.makedirs(os.path.join(src, "poold"))
        shutil.copyfile(os.path.join(PACKAGE, "pyproject.toml"),
                        os.path.join(src, "pyproject.toml"))
        for name in os.listdir(os.path.join(PACKAGE, "poold")):
            if name.endswith(".py"):
                shutil.copyfile(os.path.join(PACKAGE, "poold", name),
                                os.path.join(src, "poold", name))
        target = os.path.join(tmp, "target")
        env = dict(os.environ, PIP_ROOT_USER_ACTION="ignore",
                   PIP_NO_INPUT="1")
        r = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-build-isolation",
             "--no-deps", "--no-index", "--no-cache-dir",
             "--disable-pip-version-check", "--target", target, src],
            capture_output=True, text=True, timeout=120, env=env, cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        env["PYTHONPATH"] = target
        with Daemon(threads=1, processes=1) as d:
            r = subprocess.run(
                [sys.executable, "-c",
                 "import poold, sys\n"
                 "with poold.Executor(sys.argv[1]) as ex:\n"
                 "    r = ex.submit('echo', 'installed').result(30)\n"
                 "print(poold.__file__, poold.__version__, r)\n",
                 d.sock],
                capture_output=True, text=True, timeout=TIMEOUT, env=env,
                cwd=tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        path, version, result = r.stdout.split()
        self.assertTrue(path.startswith(target + os.sep), path)
        self.assertEqual((version, result), (poold.__version__, "installed"))
        info = [n for n in os.listdir(target) if n.endswith(".dist-info")]
        self.assertEqual(info, ["poold-%s.dist-info" % poold.__version__])
        with open(os.path.join(target, info[0], "METADATA")) as f:
            metadata = f.read()
        self.assertIn("Name: poold\n", metadata)
        self.assertIn("Requires-Python: >=3.9\n", metadata)
        self.assertNotRegex(metadata, re.compile("^Requires-Dist:", re.M))


if __name__ == "__main__":
    pooldtest.main()

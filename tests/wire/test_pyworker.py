"""poold-worker: with the python plugin loaded, each process worker execs
the worker program, which has the static libpython in it, and Python
tasks run on that interpreter; thread tasks stay in the daemon, on
libpython3.X.so. Where the build has the python host module, which poold
prefers to the program (test_pyhost.py), the daemons here run from a
copy of poold and poold-worker without it.

Covered: where each executor's Python code runs (the program, and the
file holding the machine code of len()), that the program keeps only
fds 0 to 3, that every plugin loads there with the settings it read in
the daemon, that a worker program that cannot run breaks the pool with
the reason, and that a poold with no worker program beside it (nor
installed) forks its Python workers from itself as before.

The functions are in pyprobe.py and pytasks.py beside this file.
"""

import atexit
import os
import shutil
import signal
import stat
import sys
import tempfile
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pooldtest import (EXIT_SKIP, Case, Daemon, SharedDaemon,  # noqa: E402
                       daemon_as_nobody, main, plugin_args, plugin_path,
                       poold_argv, result_of, wait_until)

TIMEOUT = 30.0


def poold_program():
    """The daemon's executable (the last word of $POOLD)."""
    return os.path.realpath(poold_argv()[-1])


def worker_program():
    return os.path.join(os.path.dirname(poold_program()), "poold-worker")


def config(extra=""):
    return ("python_path = %s\nkill_timeout = 0.5\nshutdown_timeout = 5\n"
            % HERE) + extra


def without_host():
    """Make $POOLD a copy of poold and poold-worker in a directory of their
    own when the build has the python host module beside poold."""
    argv = poold_argv()
    if not os.path.exists(os.path.join(os.path.dirname(poold_program()),
                                       "_poold_worker.so")):
        return
    d = tempfile.mkdtemp(prefix="poold-pyworker-")
    atexit.register(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    for name in ("poold", "poold-worker"):
        shutil.copy2(os.path.join(os.path.dirname(poold_program()), name),
                     os.path.join(d, name))
    os.environ["POOLD"] = " ".join(argv[:-1] + [os.path.join(d, "poold")])


class PyCase(Case):
    def value(self, name, *args, executor="process"):
        if "_poold_worker.so in " in self.d.log_text():
            self.skipTest("a python host module is installed: %s"
                          % self.d.log_text())
        fid = self.c.submit(name, list(args), executor=executor)
        return result_of(self.c.call("result", {"future": fid,
                                                "timeout": TIMEOUT},
                                     timeout=TIMEOUT + 10))


class Program(PyCase, SharedDaemon):
    DAEMON = dict(threads=2, processes=2,
                  config=config("python_initializer = pytasks:initialize\n"),
                  extra_args=plugin_args("testing", "python", "examples"))

    def test_process_tasks_run_in_the_program(self):
        program = worker_program()
        r = self.value("py:pyprobe:interpreter")
        self.assertEqual(r["exe"], program, r)
        self.assertEqual(r["len_code_in"], program, r)
        pids = {w["pid"] for w in self.c.ok("workers")}
        self.assertIn(r["pid"], pids)
        for pid in pids:
            self.assertEqual(os.readlink("/proc/%d/exe" % pid), program)

    def test_thread_tasks_run_in_the_daemon_on_the_shared_libpython(self):
        r = self.value("py:pyprobe:interpreter", executor="thread")
        self.assertEqual((r["exe"], r["pid"]), (poold_program(), self.d.pid))
        self.assertRegex(os.path.basename(r["len_code_in"] or ""),
                         r"^libpython3\.\d+\.so", r)

    def test_only_the_channel_and_the_standard_fds_reach_it(self):
        self.assertEqual(self.value("py:pyprobe:open_fds"), [0, 1, 2, 3])

    def test_every_plugin_loads_there_with_its_settings(self):
        # testing and examples beside python, in the program too.
        pid = self.value("getpid")
        self.assertEqual(os.readlink("/proc/%d/exe" % pid), worker_program())
        self.assertIs(self.value("is_prime", 97), True)
        # python_path found pytasks, and python_initializer ran.
        s = self.value("py:pytasks:state")
        self.assertEqual(s["initialized"], 1, s)
        self.assertIn(s["pid"], {w["pid"] for w in self.c.ok("workers")})

    def test_extension_modules_find_the_programs_python(self):
        # lib-dynload's _json (and _ctypes, for pyprobe) link to nothing.
        self.assertEqual(self.value("py:_json:encode_basestring_ascii",
                                    "\u00e9"), '"\\u00e9"')


class NotRoot(PyCase):
    """A poold run as an ordinary user makes its workers bound from the
    start: they exec the program too, and run as that user."""

    def test_workers_of_a_daemon_run_as_nobody(self):
        self.d, nobody = daemon_as_nobody(self, "poold-pyworker-",
                                          threads=2, processes=1,
                                          config=config(),
                                          extra_args=plugin_args("python"))
        with self.d, self.d.client() as self.c:
            r = self.value("py:pyprobe:interpreter")
            self.assertEqual((r["exe"], r["len_code_in"]),
                             (worker_program(), worker_program()), r)
            self.assertEqual(os.stat("/proc/%d" % r["pid"]).st_uid,
                             nobody.pw_uid)
            self.assertEqual([w["uid"] for w in self.c.ok("workers")],
                             [nobody.pw_uid])


class Breakage(PyCase):
    """Daemons of their own, run from a copy of the build's programs."""

    def copy_programs(self, with_worker):
        d = tempfile.mkdtemp(prefix="poold-pyworker-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        shutil.copy2(poold_program(), os.path.join(d, "poold"))
        if with_worker:
            shutil.copy2(worker_program(), os.path.join(d, "poold-worker"))
        argv = poold_argv()[:-1] + [os.path.join(d, "poold")]
        return d, " ".join(argv)

    def start(self, command):
        with mock.patch.dict(os.environ, {"POOLD": command}):
            self.d = Daemon(threads=2, processes=1, config=config(),
                            extra_args=plugin_args("python"))
            self.d.start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def test_a_program_that_cannot_run_breaks_the_pool(self):
        d, command = self.copy_programs(with_worker=True)
        self.start(command)
        pid = self.value("py:pyprobe:interpreter")["pid"]
        self.assertEqual(os.readlink("/proc/%d/exe" % pid),
                         os.path.join(d, "poold-worker"))
        os.chmod(os.path.join(d, "poold-worker"), stat.S_IRUSR)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: pid not in {w["pid"] for w in
                                       self.c.ok("workers")},
                   timeout=TIMEOUT, what="the killed worker is reaped")
        msg = self.c.call("result", {
            "future": self.c.submit("py:pyprobe:interpreter", []),
            "timeout": TIMEOUT}, timeout=TIMEOUT + 10)
        e = msg["error"]["data"]
        self.assertEqual(e["type"], "WorkerCrashed", msg)
        self.assertIn("cannot run %s/poold-worker" % d, e["message"])
        # The thread executor still serves.
        self.assertEqual(self.value("py:pyprobe:interpreter",
                                    executor="thread")["pid"], self.d.pid)

    def test_without_the_program_workers_are_forked_as_before(self):
        d, command = self.copy_programs(with_worker=False)
        self.start(command)
        if "workers run " in self.d.log_text():
            self.skipTest("a worker program is installed: %s"
                          % self.d.log_text())
        wait_until(lambda: "python workers use the shared libpython" in
                   self.d.log_text(),
                   timeout=TIMEOUT, what="the fallback in the log")
        r = self.value("py:pyprobe:interpreter")
        self.assertEqual(r["exe"], os.path.join(d, "poold"), r)
        self.assertRegex(os.path.basename(r["len_code_in"] or ""),
                         r"^libpython3\.\d+\.so", r)
        self.assertEqual(self.value("py:pytasks:identity", [1]), [1])


if __name__ == "__main__":
    if plugin_path("python") is None or poold_argv() is None or \
            not os.access(worker_program(), os.X_OK):
        print("no python plugin or no poold-worker built: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    without_host()
    main()

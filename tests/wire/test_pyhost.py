"""Hosted workers: with the python plugin loaded, and the python host
module (_poold_worker.so) beside poold, each process worker execs the
python3.X program itself, which loads the module and becomes the worker;
Python tasks run on that program's own interpreter. Thread tasks stay in
the daemon, on libpython3.X.so.

Covered: where each executor's Python code runs (the program, the file
holding the machine code of len(), the module mapped there), how the
interpreter started (-S, site run at the plugin's init, no working
directory on sys.path, nothing left in __main__: sys.path and sys.argv
as the daemon's embedded interpreter has them), the fds and signal
dispositions a worker has, every plugin loading there with its
settings, the environment, home and site of a worker bound to another
user, a daemon run as nobody, a module that goes missing while poold
runs, and the order poold falls back in: a module missing or broken, an
interpreter missing or broken (poold-worker), and neither (poold
forked). test_python.py and test_pyexecutor.py run on hosted workers
where the build has the module, so crashes, timeouts, recycling, the
initializer and printing are covered there.

The functions are in pyprobe.py and pytasks.py beside this file.
"""

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pooldtest import (EXIT_SKIP, Case, Client, Daemon,  # noqa: E402
                       SharedDaemon, daemon_as_nobody, main, plugin_args,
                       plugin_path, poold_argv, result_of, run_as,
                       wait_until)

TIMEOUT = 30.0


def poold_program():
    """The daemon's executable (the last word of $POOLD)."""
    return os.path.realpath(poold_argv()[-1])


def build_dir():
    return os.path.dirname(poold_program())


def module():
    return os.path.join(build_dir(), "_poold_worker.so")


def python():
    """The interpreter workers run: the Python the plugin was built
    against, as configure found it."""
    return os.environ.get("POOLD_WORKER_PYTHON") or \
        "%s/bin/python%d.%d" % (sys.base_exec_prefix, *sys.version_info[:2])


def config(extra=""):
    return ("python_path = %s\nkill_timeout = 0.5\nshutdown_timeout = 5\n"
            % HERE) + extra


def hosted_line():
    return "workers run %s in %s" % (module(), python())


class PyCase(Case):
    def logged(self, text):
        """Wait for TEXT in the log: poold answers before its workers
        start, and says how they run as it starts them."""
        wait_until(lambda: text in self.d.log_text(), timeout=TIMEOUT,
                   what="%r in the log" % text)

    def value(self, name, *args, executor="process"):
        fid = self.c.submit(name, list(args), executor=executor)
        return result_of(self.c.call("result", {"future": fid,
                                                "timeout": TIMEOUT},
                                     timeout=TIMEOUT + 10))

    def worker_pids(self):
        return {w["pid"] for w in self.c.ok("workers")}


class Hosted(PyCase, SharedDaemon):
    DAEMON = dict(threads=2, processes=2,
                  config=config("python_initializer = pytasks:initialize\n"),
                  extra_args=plugin_args("testing", "python", "examples"))

    def test_the_log_says_workers_run_hosted(self):
        self.logged(hosted_line())

    def test_process_tasks_run_in_python3(self):
        r = self.value("py:pyprobe:interpreter")
        self.assertEqual(r["exe"], python(), r)
        self.assertEqual(r["len_code_in"], python(), r)
        self.assertIn(r["pid"], self.worker_pids())
        for pid in self.worker_pids():
            self.assertEqual(os.readlink("/proc/%d/exe" % pid), python())
        # Only a hosted worker has the module in it.
        self.assertEqual(self.value("py:pyprobe:mapped", "_poold_worker"),
                         [os.path.realpath(module())])

    def test_thread_tasks_run_in_the_daemon_on_the_shared_libpython(self):
        r = self.value("py:pyprobe:interpreter", executor="thread")
        self.assertEqual((r["exe"], r["pid"]), (poold_program(), self.d.pid))
        self.assertRegex(os.path.basename(r["len_code_in"] or ""),
                         r"^libpython3\.\d+\.so", r)
        self.assertEqual(self.value("py:pyprobe:mapped", "_poold_worker",
                                    executor="thread"), [])

    def test_the_interpreter_starts_as_the_embedded_one_does(self):
        hosted = self.value("py:pyprobe:startup")
        embedded = self.value("py:pyprobe:startup", executor="thread")
        self.assertEqual(hosted["orig_argv"][:4],
                         [python(), "-S", "-c", hosted["orig_argv"][3]])
        self.assertEqual(hosted["orig_argv"][4], module())
        # site ran all the same, at the plugin's init.
        self.assertEqual((hosted["no_site"], hosted["site"]), (1, True))
        self.assertNotIn("", hosted["path"])
        self.assertEqual(hosted["path"][0], HERE)
        for key in ("path", "argv", "main"):
            self.assertEqual(hosted[key], embedded[key], key)
        self.assertEqual(hosted["main"], [])

    def test_only_the_channel_and_the_standard_fds_reach_it(self):
        self.assertEqual(self.value("py:pyprobe:open_fds"), [0, 1, 2, 3])

    def test_every_plugin_loads_there_with_its_settings(self):
        pid = self.value("getpid")
        self.assertEqual(os.readlink("/proc/%d/exe" % pid), python())
        self.assertIs(self.value("is_prime", 97), True)
        s = self.value("py:pytasks:state")
        self.assertEqual(s["initialized"], 1, s)
        self.assertIn(s["pid"], self.worker_pids())

    def test_extension_modules_find_the_programs_python(self):
        self.assertEqual(self.value("py:_json:encode_basestring_ascii",
                                    "\u00e9"), '"\\u00e9"')
        self.assertEqual(self.value("py:pytasks:extension_modules")[-1],
                         "_json")

    def test_a_crash_is_the_workers_alone(self):
        pid = self.value("py:pytasks:getpid")
        msg = self.c.call("result", {
            "future": self.c.submit("py:pytasks:crash", []),
            "timeout": TIMEOUT}, timeout=TIMEOUT + 10)
        e = msg["error"]["data"]
        self.assertEqual((e["type"], e.get("signal")),
                         ("WorkerCrashed", signal.SIGSEGV), msg)
        self.assertNotIn(pid, self.worker_pids())
        # Each worker is poold's for the moment between clone and exec.
        wait_until(lambda: [self.exe(p) for p in self.worker_pids()] ==
                   [python(), python()], timeout=TIMEOUT,
                   what="two workers in python3 again")

    def exe(self, pid):
        try:
            return os.readlink("/proc/%d/exe" % pid)
        except FileNotFoundError:
            return None


class Signals(PyCase, SharedDaemon):
    DAEMON = dict(threads=2, processes=1, config=config(),
                  extra_args=plugin_args("python"))

    def test_signals_are_a_workers_not_pythons(self):
        # python3 ignores SIGPIPE and SIGXFSZ and catches SIGINT; a
        # worker ignores SIGPIPE (a program's early close must not kill
        # it) and catches SIGTERM, and nothing else, none blocked. Of the
        # signals past the 31 standard ones, glibc keeps 32 and 33 for
        # itself, and no program may set them: every worker has them as
        # poold was started with them (make ignores them, for one).
        pid = self.value("py:pytasks:getpid")
        got = {k: [n for n in v if n < 32]
               for k, v in self.value("py:pyprobe:signals").items()}
        self.assertEqual(got, {"SigBlk": [], "SigIgn": [signal.SIGPIPE],
                               "SigCgt": [signal.SIGTERM]})
        # A task may take one (Python lets only its main thread do it).
        self.assertEqual(self.value("py:pytasks:set_signal_handler"), "set")
        self.assertEqual(self.value("py:pytasks:getpid"), pid)
        self.assertIn(signal.SIGUSR2,
                      self.value("py:pyprobe:signals")["SigIgn"])


def nobody():
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


def submit_as_nobody(sock, fn):
    """A task of nobody's, by a client run as nobody: its result."""
    with Client(sock, timeout=TIMEOUT) as c:
        fid = c.submit(fn, [])
        return result_of(c.call("result", {"future": fid,
                                           "timeout": TIMEOUT},
                                timeout=TIMEOUT + 10))


class Users(PyCase):
    """Whose a hosted worker is, and what Python sees of it."""

    def test_a_worker_bound_to_another_user_sees_its_owner(self):
        pw = nobody()
        if pw is None:
            self.skipTest("needs root and a user nobody")
        self.d = Daemon(threads=2, processes=1, config=config(),
                        extra_args=plugin_args("python"))
        with self.d, self.d.client() as self.c:
            os.chmod(self.d.sock, 0o666)
            r = run_as(pw.pw_uid, pw.pw_gid, submit_as_nobody, self.d.sock,
                       "py:pyprobe:environment")
            self.assertEqual(os.readlink("/proc/%d/exe" % r["pid"]),
                             python())
            self.assertEqual(r["uid"], pw.pw_uid)
            # The interpreter started as root, in poold's environment;
            # the plugin's init gave it the owner's clean one.
            self.assertEqual(set(r["environ"]),
                             {"HOME", "USER", "LOGNAME", "SHELL", "PATH"})
            self.assertEqual((r["environ"]["HOME"], r["environ"]["USER"],
                              r["c_home"], r["expanduser"]),
                             (pw.pw_dir, "nobody", pw.pw_dir, pw.pw_dir))
            home = pw.pw_dir if os.path.isdir(pw.pw_dir) else "/"
            self.assertEqual(r["cwd"], home)
            self.assertTrue(r["user_site"].startswith(pw.pw_dir + "/"), r)
            for p in r["site_packages"]:
                self.assertIn(p, r["path"])

    def test_workers_of_a_daemon_run_as_nobody(self):
        self.d, pw = daemon_as_nobody(self, "poold-pyhost-", threads=2,
                                      processes=1, config=config(),
                                      extra_args=plugin_args("python"))
        with self.d, self.d.client() as self.c:
            r = self.value("py:pyprobe:interpreter")
            self.assertEqual((r["exe"], r["len_code_in"]),
                             (python(), python()), r)
            self.assertEqual(os.stat("/proc/%d" % r["pid"]).st_uid,
                             pw.pw_uid)
            self.assertEqual([w["uid"] for w in self.c.ok("workers")],
                             [pw.pw_uid])


class Fallback(PyCase):
    """Daemons of their own, run from a copy of the build's programs, some
    under a mount namespace that hides or replaces the interpreter."""

    def copy_programs(self, host="module", worker=True):
        """A directory with poold, and beside it the module (HOST is
        "module"), a file that is no module ("broken") or none (None), and
        poold-worker if WORKER."""
        d = tempfile.mkdtemp(prefix="poold-pyhost-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        shutil.copy2(poold_program(), os.path.join(d, "poold"))
        if host == "module":
            shutil.copy2(module(), os.path.join(d, "_poold_worker.so"))
        elif host == "broken":
            with open(os.path.join(d, "_poold_worker.so"), "w") as f:
                f.write("not a shared object\n")
        if worker:
            if not os.access(os.path.join(build_dir(), "poold-worker"),
                             os.X_OK):
                self.skipTest("no poold-worker built")
            shutil.copy2(os.path.join(build_dir(), "poold-worker"),
                         os.path.join(d, "poold-worker"))
        return d

    def start(self, d, mount=None):
        """A daemon run from D; MOUNT, shell commands run as root in a
        mount namespace of the daemon's own before it starts."""
        argv = poold_argv()[:-1] + [os.path.join(d, "poold")]
        if mount is not None:
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    "sh", "-c", mount + ' && exec "$0" "$@"'] + argv
        command = " ".join("'%s'" % a.replace("'", "'\\''") for a in argv)
        with mock.patch.dict(os.environ, {"POOLD": command}):
            self.d = Daemon(threads=2, processes=1, config=config(),
                            extra_args=plugin_args("python"))
            self.d.start()
        self.addCleanup(self.d.close)
        self.c = self.d.client()
        self.addCleanup(self.c.close)

    def need_namespaces(self):
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            self.skipTest("needs root and unshare")
        r = subprocess.run(["unshare", "--mount", "--propagation", "private",
                            "--", "mount", "-t", "tmpfs", "none", "/mnt"],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("no mount namespace here: %s" % r.stderr)

    def installed(self):
        """Skip when an installed module stands in for the missing one."""
        if "_poold_worker.so in " in self.d.log_text():
            self.skipTest("a python host module is installed: %s"
                          % self.d.log_text())

    def runs_in(self, path):
        r = self.value("py:pyprobe:interpreter")
        self.assertEqual(r["exe"], path, r)
        return r

    def test_a_copy_with_the_module_runs_hosted(self):
        d = self.copy_programs()
        self.start(d)
        self.logged("workers run %s/_poold_worker.so in %s" % (d, python()))
        self.runs_in(python())

    def test_without_the_module_workers_run_poold_worker(self):
        d = self.copy_programs(host=None)
        self.start(d)
        self.logged("workers run ")
        self.installed()
        self.logged("_poold_worker.so: No such file or directory; python "
                    "workers do not run in " + python())
        self.runs_in(os.path.join(d, "poold-worker"))

    def test_a_module_python_cannot_load_falls_back(self):
        d = self.copy_programs(host="broken")
        self.start(d)
        self.logged("%s does not load %s/_poold_worker.so: ImportError: "
                    % (python(), d))
        self.runs_in(os.path.join(d, "poold-worker"))

    def test_without_module_or_program_workers_are_forked(self):
        d = self.copy_programs(host="broken", worker=False)
        self.start(d)
        self.logged("does not load")
        wait_until(lambda: "python workers use the shared libpython" in
                   self.d.log_text() or "workers run " in self.d.log_text(),
                   timeout=TIMEOUT, what="the fallback in the log")
        if "workers run " in self.d.log_text():
            self.skipTest("a worker program is installed: %s"
                          % self.d.log_text())
        r = self.runs_in(os.path.join(d, "poold"))
        self.assertRegex(os.path.basename(r["len_code_in"] or ""),
                         r"^libpython3\.\d+\.so", r)

    def test_without_the_interpreter_workers_run_poold_worker(self):
        self.need_namespaces()
        d = self.copy_programs()
        # An empty directory where python3.X's is.
        self.start(d, mount="mount -t tmpfs none '%s'"
                   % os.path.dirname(python()))
        self.logged("%s: No such file or directory; python workers do not "
                    "run in it" % python())
        self.runs_in(os.path.join(d, "poold-worker"))

    def test_an_interpreter_that_fails_falls_back(self):
        self.need_namespaces()
        d = self.copy_programs()
        false = shutil.which("false")
        self.start(d, mount="mount --bind '%s' '%s'" % (false, python()))
        self.logged("%s does not load %s/_poold_worker.so: exit status 1"
                    % (python(), d))
        self.runs_in(os.path.join(d, "poold-worker"))

    def test_a_module_gone_while_poold_runs_breaks_the_pool(self):
        d = self.copy_programs()
        self.start(d)
        pid = self.runs_in(python())["pid"]
        os.rename(os.path.join(d, "_poold_worker.so"),
                  os.path.join(d, "gone.so"))
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: pid not in self.worker_pids(),
                   timeout=TIMEOUT, what="the killed worker is reaped")
        msg = self.c.call("result", {
            "future": self.c.submit("py:pyprobe:interpreter", []),
            "timeout": TIMEOUT}, timeout=TIMEOUT + 10)
        e = msg["error"]["data"]
        self.assertEqual(e["type"], "WorkerCrashed", msg)
        self.assertIn("cannot load %s/_poold_worker.so" % d, e["message"])
        # The thread executor still serves.
        self.assertEqual(self.value("py:pyprobe:interpreter",
                                    executor="thread")["pid"], self.d.pid)


if __name__ == "__main__":
    if plugin_path("python") is None or poold_argv() is None:
        print("no python plugin built: skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if not os.path.exists(module()):
        print("this build has no python host module (%s; configure says "
              "why): skipped" % module(), file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

"""poold as a system service: readiness and status through a notify socket
the test binds in systemd's place, the watchdog, socket activation through
systemd-socket-activate, reloading the settings on SIGHUP, and stops
(shutdown both ways, SIGTERM) that leave nothing running."""

import grp
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (DEFAULT_TIMEOUT, SANITIZER_REPORT, Case,  # noqa: E402
                       Client, Daemon, assert_alive, main, plugin_args,
                       plugin_path, poold_argv, result_of, run_as,
                       wait_until)

# Generous: a sanitizer build on a loaded machine is slow to start.
START_TIMEOUT = 30.0

STATUS = re.compile(r"^(stopping: )?(\d+) worker processes \((\d+) busy\), "
                    r"(\d+) threads \((\d+) busy\), (\d+) pending")

ACTIVATE = shutil.which("systemd-socket-activate")

# Tasks left running when a test ends are stopped quickly.
QUICK_STOP = "kill_timeout = 0.5\nshutdown_timeout = 0.2\n"


# ---------------------------------------------------------------------------
# systemd's side


def parse_notification(data):
    """A notify datagram as a dict of its KEY=VALUE lines."""
    msg = {}
    for line in data.decode("utf-8").split("\n"):
        if line:
            key, sep, value = line.partition("=")
            if not sep:
                raise AssertionError("notify line without '=': %r" % data)
            msg[key] = value
    return msg


def status_counts(msg):
    """STATUS= as (stopping, processes, busy, threads, busy, pending)."""
    m = STATUS.match(msg.get("STATUS", ""))
    if m is None:
        return None
    return (bool(m.group(1)),) + tuple(int(g) for g in m.groups()[1:])


class Notify:
    """A datagram socket in systemd's place: NOTIFY_SOCKET for a daemon.

    Every message is kept in order; wait() returns the first one after
    the last it returned that satisfies a predicate."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="poold-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []      # (monotonic time, dict)
        self.cursor = 0

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, **more):
        env = {"NOTIFY_SOCKET": self.path}
        env.update(more)
        return env

    def _receive(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if ready:
            data = self.sock.recv(65536)
            self.messages.append((time.monotonic(),
                                  parse_notification(data)))

    def collect(self, seconds):
        """Take in what arrives for SECONDS."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._receive(deadline - time.monotonic())

    def wait(self, pred, timeout=DEFAULT_TIMEOUT, what="a notification"):
        deadline = time.monotonic() + timeout
        while True:
            while self.cursor < len(self.messages):
                msg = self.messages[self.cursor][1]
                self.cursor += 1
                if pred(msg):
                    return msg
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    "no %s within %s s; got %r" % (
                        what, timeout, [m for _, m in self.messages]))
            self._receive(remaining)

    def wait_key(self, key, value=None, timeout=DEFAULT_TIMEOUT):
        return self.wait(lambda m: key in m and (value is None or
                                                 m[key] == value),
                         timeout, "%s=%s" % (key, value or "..."))

    def wait_status(self, pred, timeout=DEFAULT_TIMEOUT, what="STATUS="):
        def ok(m):
            counts = status_counts(m)
            return counts is not None and pred(*counts)
        return self.wait(ok, timeout, what)

    def keys(self):
        return [m for _, m in self.messages]


def notified(test, **daemon_args):
    """A Daemon that reports to a fresh Notify; both cleaned up."""
    n = Notify()
    test.addCleanup(n.close)
    env = n.env()
    env.update(daemon_args.pop("env", {}))
    d = Daemon(env=env, ready=False, **daemon_args).start()
    test.addCleanup(d.close)
    return d, n


# ---------------------------------------------------------------------------
# The daemon under a launcher


class Launched:
    """poold started through PREFIX (a launcher that ends by exec'ing the
    daemon command), logging to a file in a fresh directory."""

    def __init__(self, prefix, args, env=None):
        self.dir = tempfile.mkdtemp(prefix="poold-wire-")
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "poold.sock")
        self.log_path = os.path.join(self.dir, "poold.log")
        argv = [a.replace("@DIR@", self.dir) for a in prefix]
        argv += poold_argv() + [a.replace("@DIR@", self.dir) for a in args]
        self._log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=full_env)

    @property
    def pid(self):
        return self.proc.pid

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_exit(self, timeout=DEFAULT_TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("poold did not exit within %s s\n%s"
                                 % (timeout, self.log_text())) from None

    def close(self):
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                if self.proc.wait(timeout=10) != 0:
                    problems.append("exit status %s after SIGTERM"
                                    % self.proc.returncode)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("ignored SIGTERM; killed")
        self._log.close()
        log = self.log_text()
        if SANITIZER_REPORT.search(log):
            problems.append("a sanitizer reported a problem")
        shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems) + "\n" + log[-6000:])


def launched(test, prefix, args, env=None):
    run = Launched(prefix, args, env)
    test.addCleanup(run.close)
    return run


# ---------------------------------------------------------------------------
# Processes


def session_members(sid):
    """Live (not zombie) processes in session SID."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # After "(comm) ": state, ppid, pgrp, session.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(name))
    return found


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def exec_env(c, executor):
    """The environment an exec task's program sees, as a dict."""
    fid = c.submit("exec", ["env"], executor=executor)
    out = c.ok("result", {"future": fid, "timeout": DEFAULT_TIMEOUT})
    return dict(line.split("=", 1) for line in out["stdout"].splitlines()
                if "=" in line)


# ---------------------------------------------------------------------------
# Readiness and status


class Readiness(Case):
    def test_ready_once_the_listener_and_every_worker_are_up(self):
        d, n = notified(self, processes=3, threads=2)
        ready = n.wait_key("READY", "1", START_TIMEOUT)
        # No retry: the listener exists when READY=1 is sent.
        with Client(d.sock) as c:
            workers = c.ok("workers")
            self.assertEqual([w["state"] for w in workers], ["idle"] * 3)
            for w in workers:
                self.assertTrue(pid_alive(w["pid"]), w)
            self.assertEqual(c.ok("hello")["pid"], d.pid)
        self.assertEqual(status_counts(ready), (False, 3, 0, 2, 0, 0),
                         ready)
        # Only the watchdog, were it on, may speak before READY=1.
        before = n.keys()[:n.keys().index(ready)]
        self.assertEqual(before, [])
        self.assertIn("ready: 3 worker processes", d.log_text())

    def test_status_is_kept_current(self):
        d, n = notified(self, processes=1, threads=1, config=QUICK_STOP)
        n.wait_key("READY", "1", START_TIMEOUT)
        with d.client() as c:
            running = c.submit("sleep", [60], executor="process")
            c.wait_state(running, "running")
            pending = c.submit("sleep", [60], executor="process")
            thread = c.occupy(60)
            n.wait_status(lambda s, p, pb, t, tb, q: (pb, tb, q) == (1, 1, 1),
                          what="STATUS= with a busy worker and thread, one "
                               "pending")
            c.ok("cancel", {"future": pending})
            c.ok("cancel", {"future": running, "force": True})
            n.wait_status(lambda s, p, pb, t, tb, q: (pb, q) == (0, 0),
                          what="STATUS= with nothing on the workers")
            self.assertEqual(c.status(thread)["state"], "running")

    def test_stopping_on_sigterm(self):
        d, n = notified(self, threads=1, processes=1,
                        config="shutdown_timeout = 7\nkill_timeout = 1\n")
        n.wait_key("READY", "1", START_TIMEOUT)
        with d.client() as c:
            fid = c.occupy(0.5)
            rid = c.request("result", {"future": fid})
            d.send_signal(signal.SIGTERM)
            stopping = n.wait_key("STOPPING", "1")
            # systemd's stop timeout is stretched past shutdown_timeout
            # and kill_timeout.
            self.assertGreaterEqual(int(stopping["EXTEND_TIMEOUT_USEC"]),
                                    8000000, stopping)
            self.assertEqual(result_of(c.response(rid)), 0.5)
        self.assertEqual(d.wait_exit(), 0)
        self.assertNotIn("READY", [k for m in n.keys()[n.cursor:]
                                   for k in m])

    def test_stopping_on_shutdown(self):
        d, n = notified(self, threads=1, processes=1)
        n.wait_key("READY", "1", START_TIMEOUT)
        with d.client() as c:
            self.assertEqual(c.ok("shutdown", {"wait": False}), {"ok": True})
        n.wait_key("STOPPING", "1")
        self.assertEqual(d.wait_exit(), 0)


# ---------------------------------------------------------------------------
# Watchdog


class Watchdog(Case):
    def pings(self, n, count, timeout=DEFAULT_TIMEOUT):
        times = []
        for _ in range(count):
            n.wait_key("WATCHDOG", "1", timeout)
            times.append(n.messages[n.cursor - 1][0])
        return times

    def test_pings_at_half_the_interval(self):
        d, n = notified(self, threads=1, processes=1, config=QUICK_STOP,
                        env={"WATCHDOG_USEC": "400000"})
        n.wait_key("READY", "1", START_TIMEOUT)
        times = self.pings(n, 6)
        # Five intervals of 0.2 s; a late ping only makes it longer.
        self.assertGreaterEqual(times[-1] - times[0], 0.9)
        self.assertLess(times[-1] - times[0], 5)
        # They go on while tasks run.
        with d.client() as c:
            c.occupy(30)
            fid = c.submit("sleep", [30], executor="process")
            c.wait_state(fid, "running")
            self.pings(n, 3)
        self.assertIn("watchdog", d.log_text())

    def test_pings_for_its_own_pid(self):
        # WATCHDOG_PID names the daemon: the shell's pid, which exec keeps.
        n = Notify()
        self.addCleanup(n.close)
        run = launched(self, ["sh", "-c", 'WATCHDOG_PID=$$ exec "$@"', "sh"],
                       ["-s", "@DIR@/poold.sock", "-t", "1", "-p", "1"],
                       env=n.env(WATCHDOG_USEC="300000"))
        n.wait_key("READY", "1", START_TIMEOUT)
        self.pings(n, 3)
        self.assertTrue(pid_alive(run.pid))

    def test_no_pings_for_another_pid(self):
        d, n = notified(self, threads=1, processes=1,
                        env={"WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"})
        n.wait_key("READY", "1", START_TIMEOUT)
        # At 0.05 s a ping, a second would bring twenty: none may come.
        n.collect(1.0)
        self.assertFalse([m for m in n.keys() if "WATCHDOG" in m])
        self.assertNotIn("watchdog", d.log_text())

    def test_tasks_do_not_inherit_the_watchdog(self):
        d, n = notified(self, threads=1, processes=1,
                        env={"WATCHDOG_USEC": "5000000"})
        n.wait_key("READY", "1", START_TIMEOUT)
        with d.client() as c:
            for executor in ("process", "thread"):
                env = exec_env(c, executor)
                self.assertIn("PATH", env)
                for name in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
                             "LISTEN_PID", "NOTIFY_SOCKET"):
                    self.assertNotIn(name, env, executor)


# ---------------------------------------------------------------------------
# Socket activation


@unittest.skipIf(ACTIVATE is None, "needs systemd-socket-activate")
class SocketActivation(Case):
    def activate(self, listen, args=("-t", "1", "-p", "1", "-v"), env=None,
                 datagram=False):
        prefix = [ACTIVATE] + (["--datagram"] if datagram else [])
        for addr in listen:
            prefix += ["-l", addr]
        # It passes on only the variables it is told to.
        for name, value in (env or {}).items():
            prefix += ["-E", "%s=%s" % (name, value)]
        return launched(self, prefix + ["--"], list(args))

    def wait_listening(self, path):
        wait_until(lambda: os.path.exists(path), START_TIMEOUT,
                   "systemd-socket-activate made %s" % path)

    def test_uses_the_passed_socket(self):
        n = Notify()
        self.addCleanup(n.close)
        run = self.activate(["@DIR@/poold.sock"], env=n.env())
        self.wait_listening(run.sock)
        # The first connection starts poold on the socket it was given.
        with Client(run.sock, timeout=START_TIMEOUT) as c:
            hello = c.ok("hello", timeout=START_TIMEOUT)
            self.assertEqual(hello["pid"], run.pid)
            fid = c.submit("echo", ["activated"], executor="process")
            self.assertEqual(c.ok("result", {"future": fid}), "activated")
            for executor in ("process", "thread"):
                env = exec_env(c, executor)
                self.assertNotIn("LISTEN_FDS", env)
                self.assertNotIn("LISTEN_PID", env)
        n.wait_key("READY", "1")
        self.assertIn("using the socket systemd passed", run.log_text())
        with Client(run.sock) as c:
            self.assertEqual(c.ok("hello")["pid"], run.pid)
        run.proc.send_signal(signal.SIGTERM)
        self.assertEqual(run.wait_exit(), 0)
        # The socket is systemd's: poold leaves it in place.
        self.assertTrue(os.path.exists(run.sock))

    def check_refused(self, run, trigger, why):
        trigger()
        status = run.wait_exit(START_TIMEOUT)
        log = run.log_text()
        self.assertEqual(status, 1, log)
        self.assertIn(why, log)

    def test_refuses_a_datagram_socket(self):
        run = self.activate(["@DIR@/poold.sock"], datagram=True)
        self.wait_listening(run.sock)

        def send():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(b"x", run.sock)
            s.close()
        self.check_refused(run, send, "not a listening Unix stream socket")

    def test_refuses_two_sockets(self):
        run = self.activate(["@DIR@/a.sock", "@DIR@/b.sock"])
        path = os.path.join(run.dir, "a.sock")
        self.wait_listening(path)

        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.close()
        self.check_refused(run, connect, "passed 2 sockets")


# ---------------------------------------------------------------------------
# Reload


class ReloadHelpers:
    def daemon(self, config, flags=(), **kw):
        """A daemon on CONFIG whose sizes come from the file unless FLAGS
        (or a whole command line, ARGS) say otherwise."""
        d, n = notified(self, threads=None, processes=None, config=config,
                        extra_args=list(flags), **kw)
        n.wait_key("READY", "1", START_TIMEOUT)
        return d, n

    def reload(self, d, n, text):
        """Write TEXT as the config (None: remove it), send SIGHUP and wait
        for the reload to end; the log written meanwhile."""
        if text is None:
            os.unlink(d.config_path)
        else:
            with open(d.config_path + ".new", "w") as f:
                f.write(text)
            os.rename(d.config_path + ".new", d.config_path)
        mark = d.log_size()
        d.send_signal(signal.SIGHUP)
        n.wait_key("RELOADING", "1")
        n.wait_key("READY", "1")
        return d.log_text(mark)

    def sizes(self, c):
        e = c.ok("hello")["executors"]
        return e["process"]["workers"], e["thread"]["workers"]


class Reload(ReloadHelpers, Case):
    def test_good_file_takes_effect_and_disturbs_nothing(self):
        d, n = self.daemon("processes = 1\nthreads = 2\nmax_pending = 100\n")
        c = d.client()
        self.addCleanup(c.close)
        self.assertEqual(self.sizes(c), (1, 2))
        running = c.submit("sleep", [1.5], executor="process")
        before = c.wait_state(running, "running")
        rid = c.request("result", {"future": running})
        log = self.reload(d, n, "processes = 3\nthreads = 4\n"
                                "max_pending = 0\n")
        self.assertIn("reloaded", log)
        self.assertEqual(self.sizes(c), (3, 4))
        wait_until(lambda: len(c.ok("workers")) == 3, what="3 workers")
        e = c.err("submit", {"fn": "echo", "args": [1]}, -32005)
        self.assertEqual(e["data"]["max_pending"], 0)
        # The task and the connection that were there carry on.
        now = c.status(running)
        self.assertEqual((now["state"], now["worker"]),
                         ("running", before["worker"]))
        self.assertEqual(result_of(c.response(rid)), 1.5)

    def test_shrinking_keeps_the_busy_worker(self):
        d, n = self.daemon("processes = 2\nthreads = 1\n")
        c = d.client()
        self.addCleanup(c.close)
        fid = c.submit("sleep", [1.0], executor="process")
        pid = c.wait_state(fid, "running")["worker"]
        self.reload(d, n, "processes = 1\nthreads = 1\n")
        self.assertEqual(self.sizes(c), (1, 1))
        self.assertEqual(c.ok("result", {"future": fid}), 1.0)
        workers = wait_until(lambda: [w for w in c.ok("workers")
                                      if w["state"] != "stopping"] or None,
                             what="the pool at its new size")
        self.assertEqual([w["pid"] for w in workers], [pid])

    def test_flags_still_win(self):
        d, n = self.daemon("threads = 2\nmax_pending = 100\n",
                           flags=["-t", "5"])
        with d.client() as c:
            self.assertEqual(self.sizes(c)[1], 5)
            self.reload(d, n, "threads = 3\nmax_pending = 0\n")
            self.assertEqual(self.sizes(c)[1], 5)
            self.assertEqual(c.err("submit", {"fn": "echo", "args": [2]},
                                   -32005)["data"]["max_pending"], 0)

    def test_bad_file_is_logged_and_changes_nothing(self):
        d, n = self.daemon("threads = 2\nprocesses = 1\nmax_pending = 0\n")
        c = d.client()
        self.addCleanup(c.close)
        for text, where in (
                ("threads = 3\nmax_pending = 50\nbogus_key = 1\n", ":3"),
                ("threads = 3\nmax_pending = x\n", ":2"),
                ("threads = 3\nadmin_group = no-such-group-poold\n", ":2"),
                (None, "No such file")):
            with self.subTest(text=text):
                log = self.reload(d, n, text)
                self.assertIn("not reloaded", log)
                self.assertIn(d.config_path, log)
                self.assertIn(where, log)
                self.assertEqual(self.sizes(c), (1, 2))
                c.err("submit", {"fn": "echo", "args": [1]}, -32005)
        # Mended, it is read.
        self.reload(d, n, "threads = 3\nprocesses = 1\n")
        self.assertEqual(self.sizes(c), (1, 3))
        self.assertEqual(c.ok("result", {"future": c.submit("echo", [1])}),
                         1)

    def test_restart_only_settings_wait(self):
        d, n = self.daemon("socket = @DIR@/a.sock\nthreads = 1\n",
                           socket="@DIR@/a.sock",
                           args=["-c", "@DIR@/poold.conf", "-p", "1"])
        other = os.path.join(d.dir, "b.sock")
        log = self.reload(d, n, "socket = %s\nthreads = 2\n"
                                "max_result_bytes = 1M\nkill_timeout = 7\n"
                          % other)
        self.assertIn("socket, max_result_bytes, kill_timeout: changed in",
                      log)
        self.assertFalse(os.path.exists(other))
        with d.client() as c:
            # What can change did.
            self.assertEqual(self.sizes(c), (1, 2))

    def test_a_flag_is_not_a_change(self):
        d, n = self.daemon("threads = 1\n", flags=["-p", "1"])
        log = self.reload(d, n, "socket = @DIR@/b.sock\nthreads = 1\n")
        self.assertNotIn("changed in", log)
        assert_alive(d.sock)

    def test_verbose_follows_the_file(self):
        d, n = self.daemon("threads = 1\nprocesses = 1\n", verbose=False)
        with d.client() as c:
            mark = d.log_size()
            c.ok("result", {"future": c.submit("echo", [1],
                                               executor="process")})
            self.assertNotIn("debug", d.log_text(mark))
            self.reload(d, n, "threads = 1\nprocesses = 1\nverbose = true\n")
            mark = d.log_size()
            c.ok("resize", {"process": 2})
            wait_until(lambda: "debug" in d.log_text(mark),
                       what="a debug line after verbose = true")

    def test_without_a_config_file(self):
        d, n = notified(self, threads=1, processes=1)
        n.wait_key("READY", "1", START_TIMEOUT)
        mark = d.log_size()
        d.send_signal(signal.SIGHUP)
        wait_until(lambda: "no config file" in d.log_text(mark),
                   what="the SIGHUP is logged")
        assert_alive(d.sock)


# ---------------------------------------------------------------------------
# Stopping leaves nothing behind


# A program that ignores SIGTERM, with a background child that does too.
STUBBORN = ["sh", "-c", "trap '' TERM; sleep 300 & sleep 300"]
HAVE_TESTING = plugin_path("testing") is not None and \
    os.path.exists(plugin_path("testing"))


class Stop(Case):
    def daemon(self, config="kill_timeout = 0.5\n", processes=2):
        args = plugin_args("testing") if HAVE_TESTING else []
        # Its own session, so that what it leaves behind can be found.
        d = Daemon(threads=2, processes=processes, config=config,
                   extra_args=args, preexec_fn=os.setsid).start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        return d, c

    def start_work(self, c, seconds):
        """Running: a sleep and a program with a background child on the
        two workers, a program on the thread executor; one sleep pending.
        Returns (running, pending)."""
        script = ["sh", "-c", "sleep %s & sleep %s" % (seconds, seconds)]
        running = [c.submit("sleep", [seconds], executor="process"),
                   c.submit("exec", script, executor="process"),
                   c.submit("exec", script, executor="thread")]
        for fid in running:
            c.wait_state(fid, "running")
        pending = c.submit("sleep", [seconds], executor="process")
        return running, pending

    def check_nothing_left(self, d):
        self.assertEqual(d.wait_exit(), 0)
        wait_until(lambda: not session_members(d.pid),
                   what="no process of the daemon's session is left")

    def test_shutdown_wait_delivers_results(self):
        d, c = self.daemon()
        running, pending = self.start_work(c, 3.0)
        # poold, its workers, and two processes for each program: what
        # is checked at the end is there to be seen.
        wait_until(lambda: len(session_members(d.pid)) >= 7,
                   what="the programs have started")
        rids = [c.request("result", {"future": f})
                for f in running + [pending]]
        self.assertEqual(c.ok("shutdown", {"wait": True}), {"ok": True})
        c.err("submit", {"fn": "echo", "args": [1]}, -32006)
        results = [result_of(c.response(r, timeout=30)) for r in rids]
        self.assertEqual(results[0], 3.0)
        self.assertEqual([r["exit_code"] for r in results[1:3]], [0, 0])
        self.assertEqual(results[3], 3.0)
        self.check_nothing_left(d)

    def test_shutdown_cancel_futures_runs_only_what_runs(self):
        d, c = self.daemon()
        running, pending = self.start_work(c, 0.5)
        rid = c.request("result", {"future": running[0]})
        self.assertEqual(c.ok("shutdown", {"wait": True,
                                           "cancel_futures": True}),
                         {"ok": True})
        self.assertEqual(c.status(pending)["state"], "cancelled")
        self.assertEqual(result_of(c.response(rid)), 0.5)
        self.check_nothing_left(d)

    def test_shutdown_without_wait_interrupts(self):
        d, c = self.daemon()
        running, pending = self.start_work(c, 300)
        stubborn = c.submit("exec", STUBBORN, executor="thread")
        c.wait_state(stubborn, "running")
        rids = [c.request("result", {"future": f})
                for f in running + [stubborn]]
        prid = c.request("result", {"future": pending})
        self.assertEqual(c.ok("shutdown", {"wait": False}), {"ok": True})
        for r in rids:
            e = self.assertError(c.response(r, timeout=30), -32003, r)
            self.assertEqual(e["data"]["type"], "Interrupted")
        self.assertError(c.response(prid), -32002, prid)
        self.check_nothing_left(d)

    def test_sigterm_delivers_a_running_result(self):
        d, c = self.daemon()
        running, pending = self.start_work(c, 1.0)
        rids = [c.request("result", {"future": f})
                for f in running + [pending]]
        d.send_signal(signal.SIGTERM)
        results = [result_of(c.response(r, timeout=30)) for r in rids]
        self.assertEqual((results[0], results[3]), (1.0, 1.0))
        self.check_nothing_left(d)

    def test_sigterm_interrupts_after_the_grace_period(self):
        d, c = self.daemon("kill_timeout = 0.5\nshutdown_timeout = 0.5\n",
                           processes=4)
        script = ["sh", "-c", "sleep 300 & sleep 300"]
        running = [c.submit("sleep", [300], executor="process"),
                   c.submit("exec", script, executor="process"),
                   c.submit("exec", STUBBORN, executor="process"),
                   c.submit("exec", STUBBORN, executor="thread")]
        if HAVE_TESTING:
            # It ignores SIGTERM: its worker needs SIGKILL.
            running.append(c.submit("hang", [], executor="process"))
        for fid in running:
            c.wait_state(fid, "running")
        rids = [c.request("result", {"future": f}) for f in running]
        t0 = time.monotonic()
        d.send_signal(signal.SIGTERM)
        for r in rids:
            e = self.assertError(c.response(r, timeout=30), -32003, r)
            self.assertEqual(e["data"]["type"], "Interrupted")
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.check_nothing_left(d)


# ---------------------------------------------------------------------------
# The admin group, read again on reload (needs root for a second uid)


try:
    _pw = pwd.getpwnam("nobody")
    NOBODY_UID, NOBODY_GID = _pw.pw_uid, _pw.pw_gid
    NOGROUP = grp.getgrgid(NOBODY_GID).gr_name
except KeyError:
    NOBODY_UID = NOBODY_GID = NOGROUP = None


def calls(sock, requests):
    with Client(sock) as c:
        return [c.call(method, params) for method, params in requests]


@unittest.skipUnless(os.geteuid() == 0 and NOGROUP is not None,
                     "needs root and a named group for nobody")
class AdminGroupReload(ReloadHelpers, Case):
    def test_admin_group_follows_the_file(self):
        d, n = self.daemon("threads = 1\nprocesses = 1\n", parent="/tmp")
        os.chmod(d.sock, 0o666)
        with d.client() as c:
            fid = c.submit("echo", ["root's"])
            c.ok("result", {"future": fid})
        asks = [("resize", {"thread": 2}), ("status", {"future": fid})]

        def as_nobody():
            return run_as(NOBODY_UID, NOBODY_GID, calls, d.sock, asks)

        resize, status = as_nobody()
        self.assertError(resize, -32007, any_id=True)
        self.assertError(status, -32000, any_id=True)
        self.reload(d, n, "threads = 1\nprocesses = 1\nadmin_group = %s\n"
                    % NOGROUP)
        resize, status = as_nobody()
        self.assertEqual(result_of(resize)["thread"], 2)
        self.assertEqual(result_of(status)["result"], "root's")
        self.reload(d, n, "threads = 1\nprocesses = 1\n")
        resize, status = as_nobody()
        self.assertError(resize, -32007, any_id=True)
        self.assertError(status, -32000, any_id=True)


if __name__ == "__main__":
    main()

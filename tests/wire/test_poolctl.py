"""poolctl, the command-line client, run as a program against a real poold:
every command, its human and --json output, and every exit status (0 ok,
1 task failed, 2 usage, 3 cannot connect or protocol broken, 4 timeout,
5 cancelled; exec --wait exits with the program's own status).

What poolctl prints is checked against what the daemon says over a
connection of the test's own, so output that merely looks right fails.
"""

import base64
import json
import os
import pty
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, FUTURE_ID,  # noqa: E402
                       SANITIZER_REPORT, Case, Daemon, SharedDaemon,
                       check_future, main, plugin_args, wait_until)

OK, FAILED, USAGE, BROKEN, TIMEOUT, CANCELLED = 0, 1, 2, 3, 4, 5

COMMANDS = ("hello", "functions", "submit", "run", "exec", "map", "status",
            "result", "exception", "cancel", "wait", "list", "forget",
            "stats", "workers", "top", "resize", "shutdown", "help")

# A bound on one poolctl run, not its expected time: a sanitizer build on
# a loaded machine is slow.
RUN_TIMEOUT = 60.0
# Long enough to still be running whenever the test looks, and cut short
# by every test that starts one.
LONG = 300

BASE_CONFIG = "kill_timeout = 0.5\nshutdown_timeout = 2\n"


def poolctl_argv():
    cmd = os.environ.get("POOLCTL")
    if cmd:
        return shlex.split(cmd)
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.normpath(os.path.join(here, "..", "..", "build",
                                          "clients", "poolctl", "poolctl"))
    return [guess] if os.access(guess, os.X_OK) else None


POOLCTL = poolctl_argv()


def run(args, input=b"", env=None, timeout=RUN_TIMEOUT, **kw):
    """Run poolctl with ARGS; a CompletedProcess with bytes output. Fails
    on a sanitizer's report, whatever the exit status."""
    try:
        p = subprocess.run(POOLCTL + list(args), input=input,
                           capture_output=True, env=env, timeout=timeout,
                           **kw)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("poolctl %s did not exit within %s s; "
                             "stderr: %r" % (" ".join(args), timeout,
                                             e.stderr)) from None
    if SANITIZER_REPORT.search(p.stderr.decode("utf-8", "replace")):
        raise AssertionError("poolctl %s: a sanitizer reported a problem:"
                             "\n%s" % (" ".join(args),
                                       p.stderr.decode("utf-8", "replace")))
    return p


def lines(data):
    return data.decode("utf-8").splitlines()


def read_pty(fd, proc):
    """Everything a pty's master gets until PROC, the one process holding
    its slave, exits."""
    out = bytearray()
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                # EIO: the slave's last holder closed it.
                break
            if not data:
                break
            out += data
        elif proc.poll() is not None:
            break
    return bytes(out)


class Ctl(Case):
    """Helpers for tests that run poolctl against self.sock."""

    def spawn(self, *args, **kw):
        """Start `poolctl -s SOCK ARGS` with pipes (as KW does not say
        otherwise); killed, if need be, and closed after the test."""
        for stream in ("stdin", "stdout", "stderr"):
            kw.setdefault(stream, subprocess.PIPE)
        proc = subprocess.Popen(POOLCTL + ["-s", self.sock] + list(args),
                                **kw)

        def reap():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for f in (proc.stdin, proc.stdout, proc.stderr):
                if f is not None:
                    f.close()
        self.addCleanup(reap)
        return proc

    def ctl(self, *args, input=b"", json_out=False, status=OK, env=None,
            sock=None):
        """Run `poolctl -s SOCK [--json] ARGS`, assert its exit STATUS
        (None: any) and return the CompletedProcess."""
        argv = ["-s", sock or self.sock] + (["--json"] if json_out else [])
        p = run(argv + list(args), input=input, env=env)
        if status is not None and p.returncode != status:
            self.fail("poolctl %s: exit %d, wanted %d\nstdout: %r\n"
                      "stderr: %r" % (" ".join(args), p.returncode, status,
                                      p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def json_of(self, *args, **kw):
        """The one JSON value poolctl --json ARGS prints."""
        p = self.ctl(*args, json_out=True, **kw)
        out = lines(p.stdout)
        self.assertEqual(len(out), 1, p.stdout)
        return json.loads(out[0])

    def submit_id(self, *args):
        fid = self.ctl("submit", *args).stdout.decode().strip()
        self.assertRegex(fid, FUTURE_ID)
        return fid


class Shared(SharedDaemon, Ctl):
    DAEMON = {"processes": 2, "threads": 4, "config": BASE_CONFIG,
              "extra_args": plugin_args()}

    def setUp(self):
        super().setUp()
        self.sock = self.d.sock

    def running(self, *args):
        """Submit to the process executor (where a forced cancel stops a
        running task), wait until it runs, and cancel it at the end."""
        fid = self.submit_id("-e", "process", *args)
        self.c.wait_state(fid, "running")
        self.addCleanup(self.stop, fid)
        return fid

    def stop(self, fid):
        with self.d.client() as c:
            c.ok("cancel", {"future": fid, "force": True})

    def fill_processes(self):
        """Occupy every process worker; their ids."""
        return [self.running("sleep", str(LONG)) for _ in range(2)]


class Help(Case):
    def test_global_help_lists_every_command(self):
        p = run(["--help"])
        self.assertEqual(p.returncode, OK, p.stderr)
        text = p.stdout.decode()
        self.assertIn("usage: poolctl", text)
        listed = [ln.split()[0] for ln in text.split("Commands:\n")[1]
                  .split("\n\n")[0].splitlines()]
        self.assertEqual(sorted(listed), sorted(COMMANDS))

    def test_every_command_has_help(self):
        for name in COMMANDS:
            with self.subTest(command=name):
                p = run([name, "--help"])
                self.assertEqual(p.returncode, OK, p.stderr)
                first = p.stdout.decode().splitlines()[0]
                self.assertTrue(first.startswith(
                    "usage: poolctl [-s PATH] [--json] %s" % name), first)
                self.assertEqual(p.stderr, b"")
                self.assertEqual(run(["help", name]).stdout, p.stdout)

    def test_version(self):
        p = run(["--version"])
        self.assertEqual(p.returncode, OK)
        self.assertRegex(p.stdout.decode(), r"^poolctl \d+\.\d+")

    def test_usage_errors_exit_2(self):
        # None of these gets as far as connecting: no socket is needed.
        for args in ([], ["nosuchcommand"], ["--nosuchoption", "hello"],
                     ["hello", "extra"], ["hello", "--bogus"],
                     ["submit"], ["submit", "--timeout", "soon", "echo",
                                  "1"],
                     ["submit", "--priority", "1.5", "echo", "1"],
                     ["submit", "--kwarg", "novalue", "echo", "1"],
                     ["result"], ["result", "f-1", "f-2"],
                     ["result", "--timeout", "-1", "f-1"],
                     ["wait"], ["wait", "--return-when", "SOMETIMES", "f"],
                     ["cancel"], ["forget"], ["status"],
                     ["list", "--limit", "x"], ["exec"], ["exec", "-w"],
                     ["map"], ["map", "echo", "extra"],
                     ["map", "--chunksize", "0", "echo"],
                     ["top", "--interval", "0"], ["top", "-n", "0"],
                     ["resize"], ["resize", "--process", "many"],
                     ["shutdown", "now"], ["help", "nosuchcommand"],
                     ["-s", "", "hello"]):
            with self.subTest(args=args):
                p = run(["-s", "/nonexistent/poold.sock"] + args
                        if args[:1] != ["-s"] else args)
                self.assertEqual(p.returncode, USAGE, (p.stdout, p.stderr))
                self.assertEqual(p.stdout, b"")
                self.assertNotEqual(p.stderr, b"")
                self.assertNotIn(b"cannot connect", p.stderr)


class Connect(Ctl):
    def test_missing_socket_exits_3(self):
        with tempfile.TemporaryDirectory() as d:
            self.sock = os.path.join(d, "nothing.sock")
            for args in (["hello"], ["run", "echo", "1"], ["stats"],
                         ["exec", "-w", "true"], ["top", "-n", "1"]):
                p = self.ctl(*args, status=BROKEN)
                self.assertIn(b"cannot connect to %s" % self.sock.encode(),
                              p.stderr)
                self.assertEqual(p.stdout, b"")
            p = self.ctl("map", "echo", input=b"1\n", status=BROKEN)
            self.assertIn(b"cannot connect", p.stderr)

    def test_default_socket_follows_POOLD_SOCKET(self):
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, POOLD_SOCKET=os.path.join(d, "x.sock"))
            p = run(["hello"], env=env)
            self.assertEqual(p.returncode, BROKEN)
            self.assertIn(os.path.join(d, "x.sock").encode(), p.stderr)
        with Daemon(threads=2, processes=1) as d:
            env = dict(os.environ, POOLD_SOCKET=d.sock)
            p = run(["--json", "hello"], env=env)
            self.assertEqual(p.returncode, OK, p.stderr)
            self.assertEqual(json.loads(p.stdout)["pid"], d.pid)

    def fake_daemon(self, answer):
        """A socket whose server reads one line and answers ANSWER (bytes,
        or None to close without a word)."""
        d = tempfile.mkdtemp(prefix="poolctl-fake-")
        self.addCleanup(os.rmdir, d)
        path = os.path.join(d, "fake.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        self.addCleanup(os.unlink, path)
        self.addCleanup(srv.close)

        def serve():
            conn, _ = srv.accept()
            with conn:
                f = conn.makefile("rb")
                f.readline()
                if answer is not None:
                    conn.sendall(answer)
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(t.join, RUN_TIMEOUT)
        return path

    def test_broken_protocol_exits_3(self):
        for answer in (b"this is not json\n", None,
                       b'{"jsonrpc":"2.0","id":999,"result":1}\n'):
            with self.subTest(answer=answer):
                self.sock = self.fake_daemon(answer)
                p = self.ctl("hello", status=BROKEN)
                self.assertEqual(p.stdout, b"")
                self.assertNotEqual(p.stderr, b"")


class Info(Shared):
    def test_hello(self):
        hello = self.c.ok("hello")
        out = self.ctl("hello").stdout.decode()
        self.assertIn("poold %s" % hello["version"], out)
        self.assertIn("pid %d" % hello["pid"], out)
        self.assertIn("process 2 workers, thread 4 workers", out)
        self.assertIn("is_prime", out)
        self.assertEqual(self.json_of("hello"), hello)

    def test_functions(self):
        fns = self.c.ok("functions")
        self.assertEqual(self.json_of("functions"), fns)
        out = lines(self.ctl("functions").stdout)
        self.assertEqual(out[0].split(), ["NAME", "EXECUTORS",
                                          "DESCRIPTION"])
        rows = {ln.split()[0]: ln.split()[1] for ln in out[1:]}
        self.assertEqual(set(rows), {f["name"] for f in fns})
        for f in fns:
            ex = rows[f["name"]].split(",")
            self.assertEqual(ex[0], f["default_executor"])
            self.assertEqual(sorted(ex), sorted(f["executors"]))

    def test_stats(self):
        fid = self.submit_id("echo", "1")
        self.c.wait_state(fid, "finished")
        before = self.c.ok("stats")
        got = self.json_of("stats")
        self.assertGreaterEqual(got["finished"], before["finished"])
        self.assertEqual(got["process"]["workers"], 2)
        out = self.ctl("stats").stdout.decode()
        self.assertRegex(out, r"process +2 workers, \d+ busy, \d+ restarts")
        self.assertRegex(out, r"thread +4 workers")
        shown = int(re.search(r"finished +(\d+)", out).group(1))
        self.assertGreaterEqual(shown, got["finished"])

    def test_workers(self):
        fid = self.running("sleep", str(LONG))
        got = self.json_of("workers")
        self.assertEqual(sorted(w["pid"] for w in got),
                         sorted(w["pid"] for w in self.c.ok("workers")))
        busy = [w for w in got if w["future"] == fid]
        self.assertEqual(len(busy), 1)
        out = lines(self.ctl("workers").stdout)
        self.assertEqual(out[0].split()[:3], ["PID", "STATE", "TASKS"])
        row = [ln for ln in out if fid in ln]
        self.assertEqual(len(row), 1)
        self.assertEqual(row[0].split()[:2], [str(busy[0]["pid"]), "busy"])


class Tasks(Shared):
    def test_submit_arguments_are_json_or_strings(self):
        for arg, value in (("42", 42), ("-5", -5), ("1.5", 1.5),
                           ("hello", "hello"), ('"42"', "42"),
                           ("true", True), ("null", None),
                           ('{"a": [1, {"b": null}]}',
                            {"a": [1, {"b": None}]}),
                           ("[1,", "[1,"), ("", ""),
                           ("\u2603", "\u2603")):
            with self.subTest(arg=arg):
                fid = self.submit_id("echo", arg)
                self.assertEqual(self.c.ok("result", {"future": fid}),
                                 value)

    def test_submit_options(self):
        got = self.json_of("submit", "--executor", "process", "--priority",
                           "3", "--retries", "1", "--timeout", "30",
                           "echo", "x")
        self.assertEqual(set(got), {"future"})
        st = self.c.wait_state(got["future"], "finished")
        self.assertEqual(st["executor"], "process")
        fid = self.submit_id("--kwarg", "cwd=/", "--kwarg", "check=true",
                             "exec", "pwd")
        r = self.c.ok("result", {"future": fid})
        self.assertEqual(r["stdout"], "/\n")
        # The daemon refuses a value poolctl passed on: a usage error.
        p = self.ctl("submit", "--executor", "nowhere", "echo", "1",
                     status=USAGE)
        self.assertIn(b"executor", p.stderr)
        self.ctl("submit", "echo", "1", "2", status=USAGE)
        p = self.ctl("submit", "no_such_function", status=FAILED)
        self.assertIn(b"no_such_function", p.stderr)

    def test_run(self):
        self.assertEqual(self.ctl("run", "echo", "hello").stdout,
                         b"hello\n")
        self.assertEqual(self.ctl("run", "echo", '{"a":[1,2.5]}').stdout,
                         b'{"a":[1,2.5]}\n')
        self.assertEqual(self.ctl("run", "sleep", "0.3").stdout, b"0.3\n")
        self.assertEqual(self.json_of("run", "echo", "hello"), "hello")
        self.assertEqual(self.json_of("run", "is_prime", "97"), True)

    def test_run_failures(self):
        p = self.ctl("run", "fail", "it broke", status=FAILED)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"TaskError: it broke", p.stderr)
        p = self.ctl("run", "-e", "process", "crash", status=FAILED)
        self.assertIn(b"WorkerCrashed", p.stderr)
        p = self.ctl("run", "--timeout", "0.2", "sleep", str(LONG),
                     status=TIMEOUT)
        self.assertIn(b"TimeoutError", p.stderr)

    def test_status(self):
        fid = self.submit_id("fail", "why")
        obj = self.c.wait_state(fid, "failed")
        got = self.json_of("status", fid)
        check_future(got, fid)
        self.assertEqual(got, obj)
        out = lines(self.ctl("status", fid).stdout)
        fields = {ln.split()[0]: ln.split(None, 1)[1] for ln in out}
        self.assertEqual(fields["future"], fid)
        self.assertEqual(fields["state"], "failed")
        self.assertEqual(fields["error"], "TaskError: why")
        self.assertRegex(fields["submitted"],
                         r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$")
        p = self.ctl("status", "f-0000000000000000", status=FAILED)
        self.assertIn(b"unknown future", p.stderr)

    def test_result(self):
        fid = self.submit_id("echo", "[1,2]")
        self.assertEqual(self.ctl("result", fid).stdout, b"[1,2]\n")
        self.assertEqual(self.json_of("result", fid), [1, 2])
        slow = self.running("sleep", str(LONG))
        t0 = time.monotonic()
        p = self.ctl("result", "--timeout", "0.2", slow, status=TIMEOUT)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.assertIn(b"running", p.stderr)
        p = self.ctl("result", "f-0000000000000000", status=FAILED)
        self.assertIn(b"unknown future", p.stderr)
        bad = self.submit_id("fail", "no")
        p = self.ctl("result", bad, status=FAILED)
        self.assertIn(b"TaskError: no", p.stderr)

    def test_cancelled_future_exits_5(self):
        self.fill_processes()
        fid = self.submit_id("-e", "process", "echo", "1")
        self.assertEqual(self.c.status(fid)["state"], "pending")
        out = self.ctl("cancel", fid).stdout.decode()
        self.assertEqual(out, "%s cancelled\n" % fid)
        for cmd in ("result", "exception"):
            p = self.ctl(cmd, fid, status=CANCELLED)
            self.assertIn(b"cancelled", p.stderr)
        self.assertEqual(self.json_of("status", fid)["state"], "cancelled")

    def test_cancel_running(self):
        fid = self.running("sleep", str(LONG))
        got = self.ctl("cancel", fid, json_out=True, status=FAILED)
        self.assertEqual(json.loads(got.stdout),
                         {"cancelled": False, "state": "running"})
        p = self.ctl("cancel", fid, status=FAILED)
        self.assertIn(b"not cancelled: it is running", p.stdout)
        self.ctl("cancel", "--force", fid)
        self.assertEqual(self.c.status(fid)["state"], "cancelled")
        self.ctl("result", fid, status=CANCELLED)
        done = self.submit_id("echo", "1")
        self.c.wait_state(done, "finished")
        self.ctl("cancel", done, status=FAILED)

    def test_exception(self):
        ok = self.submit_id("echo", "1")
        bad = self.submit_id("fail", "oops")
        self.assertEqual(self.ctl("exception", ok).stdout, b"none\n")
        self.assertIsNone(self.json_of("exception", ok))
        self.assertEqual(self.ctl("exception", bad).stdout,
                         b"TaskError: oops\n")
        self.assertEqual(self.json_of("exception", bad),
                         self.c.ok("exception", {"future": bad}))
        slow = self.running("sleep", str(LONG))
        self.ctl("exception", "--timeout", "0.1", slow, status=TIMEOUT)

    def test_wait(self):
        a = self.submit_id("echo", "1")
        b = self.submit_id("fail", "x")
        self.c.wait_state(b, "failed")
        got = self.json_of("wait", a, b)
        self.assertEqual(sorted(got["done"]), sorted([a, b]))
        self.assertEqual(got["not_done"], [])
        slow = self.running("sleep", str(LONG))
        p = self.ctl("wait", "--timeout", "0.2", a, slow, status=TIMEOUT)
        out = lines(p.stdout)
        self.assertEqual(out, ["done: %s" % a, "not done: %s" % slow])
        self.ctl("wait", "--timeout", "5", "--return-when",
                 "FIRST_COMPLETED", slow, a)
        self.ctl("wait", "--timeout", "0.2", "-w", "first_exception", slow,
                 a, status=TIMEOUT)
        self.ctl("wait", "--timeout", "5", "-w", "FIRST_EXCEPTION", slow, b)
        self.ctl("wait", "f-0000000000000000", status=FAILED)

    def test_list_and_forget(self):
        ids = [self.submit_id("fail", "L%d" % i) for i in range(3)]
        for fid in ids:
            self.c.wait_state(fid, "failed")
        got = self.json_of("list", "--state", "failed", "--limit", "2")
        self.assertEqual([f["future"] for f in got], ids[:0:-1])
        out = lines(self.ctl("list", "-s", "failed", "-n", "3").stdout)
        self.assertEqual(out[0].split(), ["FUTURE", "FN", "EXECUTOR",
                                          "STATE", "SUBMITTED", "ERROR"])
        self.assertEqual([ln.split()[0] for ln in out[1:]], ids[::-1])
        self.assertTrue(out[1].endswith("TaskError: L2"), out[1])
        self.ctl("list", "--state", "sideways", status=USAGE)
        out = self.ctl("forget", *ids[:2]).stdout
        self.assertEqual(out, b"2 forgotten\n")
        self.assertEqual(self.json_of("forget", ids[2]), {"forgotten": 1})
        self.ctl("status", ids[0], status=FAILED)


class Exec(Shared):
    SCRIPT = ("printf 'out\\377\\376\\n'; printf 'err\\200\\n' >&2; "
              "exit 3")

    def test_wait_passes_output_and_status_through(self):
        for ex in ("process", "thread"):
            with self.subTest(executor=ex):
                p = self.ctl("exec", "--wait", "-e", ex, "--", "sh", "-c",
                             self.SCRIPT, status=3)
                self.assertEqual(p.stdout, b"out\xff\xfe\n")
                self.assertEqual(p.stderr, b"err\x80\n")
                p = self.ctl("exec", "-w", "-e", ex, "sh", "-c",
                             "echo hi; kill -KILL $$", status=128 + 9)
                self.assertEqual(p.stdout, b"hi\n")
                self.ctl("exec", "-w", "-e", ex, "sh", "-c",
                         "kill -TERM $$", status=128 + 15)
                self.ctl("exec", "-w", "-e", ex, "true")

    def test_without_wait_prints_the_future(self):
        fid = self.ctl("exec", "sh", "-c", "echo x; exit 4").stdout
        fid = fid.decode().strip()
        self.assertRegex(fid, FUTURE_ID)
        r = self.c.ok("result", {"future": fid})
        self.assertEqual((r["stdout"], r["exit_code"]), ("x\n", 4))
        got = self.json_of("exec", "true")
        self.assertRegex(got["future"], FUTURE_ID)

    def test_json_wait_prints_the_result(self):
        p = self.ctl("exec", "-w", "sh", "-c", self.SCRIPT, json_out=True,
                     status=3)
        r = json.loads(p.stdout)
        self.assertEqual(base64.b64decode(r["stdout"]["base64"]),
                         b"out\xff\xfe\n")
        self.assertEqual(r["exit_code"], 3)

    def test_options(self):
        with tempfile.TemporaryDirectory() as d:
            data = bytes(range(256)) * 4
            path = os.path.join(d, "in.bin")
            with open(path, "wb") as f:
                f.write(data)
            self.assertEqual(self.ctl("exec", "-w", "--stdin-file", path,
                                      "cat").stdout, data)
            self.assertEqual(self.ctl("exec", "-w", "--stdin-file", "-",
                                      "cat", input=data).stdout, data)
            self.assertEqual(self.ctl("exec", "-w", "--stdin", "typed",
                                      "cat").stdout, b"typed")
            self.assertEqual(self.ctl("exec", "-w", "cat").stdout, b"")
            self.assertEqual(self.ctl("exec", "-w", "--cwd", d,
                                      "pwd").stdout,
                             os.path.realpath(d).encode() + b"\n")
            p = self.ctl("exec", "-w", "--env", "A=1=2", "--env", "B=",
                         "--unset", "HOME", "sh", "-c",
                         'echo "$A|$B|${HOME-unset}"')
            self.assertEqual(p.stdout, b"1=2||unset\n")
            p = self.ctl("exec", "-w", "--stdin-file",
                         os.path.join(d, "missing"), "cat", status=USAGE)
            self.assertIn(b"missing", p.stderr)

    def test_check_still_passes_through(self):
        p = self.ctl("exec", "-w", "--check", "sh", "-c",
                     "echo partial; exit 6", status=6)
        self.assertEqual(p.stdout, b"partial\n")

    def test_task_failures(self):
        p = self.ctl("exec", "-w", "no-such-program-here", status=FAILED)
        self.assertIn(b"ExecError", p.stderr)
        self.assertEqual(p.stdout, b"")
        p = self.ctl("exec", "-w", "--timeout", "0.3", "sleep", str(LONG),
                     status=TIMEOUT)
        self.assertIn(b"TimeoutError", p.stderr)

    def test_cancelled_exits_5(self):
        proc = self.spawn("exec", "-w", "sleep", str(LONG))

        def the_running_exec():
            for f in self.c.ok("list", {"state": "running"}):
                if f["fn"] == "exec":
                    return f["future"]
            return None
        fid = wait_until(the_running_exec, what="the exec task running")
        self.ctl("cancel", "--force", fid)
        out, err = proc.communicate(timeout=RUN_TIMEOUT)
        self.assertEqual(proc.returncode, CANCELLED, err)
        self.assertIn(b"cancelled", err)


class Map(Shared):
    def test_ordered_with_a_failing_item(self):
        items = b'7\n8\n"x"\nhello\n11\n[1]\n'
        p = self.ctl("map", "is_prime", input=items, status=FAILED)
        # is_prime takes a number: the string items fail, the rest print
        # in input order.
        self.assertEqual(lines(p.stdout), ["true", "false", "true"])
        err = lines(p.stderr)
        self.assertEqual(len(err), 3, err)
        self.assertTrue(err[0].startswith("poolctl: map: line 3: "
                                          "TaskError"), err)
        self.assertTrue(err[1].startswith("poolctl: map: line 4: "), err)
        self.assertTrue(err[2].startswith("poolctl: map: line 6: "), err)

    def test_values_and_json(self):
        items = [1, "text", [1, [2]], {"a": None}, "", 2.5, True]
        src = b"1\ntext\n[1, [2]]\n{\"a\": null}\n\n2.5\ntrue\n"
        p = self.ctl("map", "echo", input=src)
        self.assertEqual(lines(p.stdout), ["1", "text", "[1,[2]]",
                                           '{"a":null}', "", "2.5",
                                           "true"])
        p = self.ctl("map", "echo", input=src, json_out=True)
        got = [json.loads(ln) for ln in lines(p.stdout)]
        self.assertEqual(got, [{"index": i, "result": v}
                               for i, v in enumerate(items)])

    def test_unordered_with_a_failing_item(self):
        p = self.ctl("map", "--unordered", "--chunksize", "1",
                     "is_prime", json_out=True,
                     input=b"2\n4\nnope\n5\n", status=FAILED)
        got = sorted((json.loads(ln) for ln in lines(p.stdout)),
                     key=lambda o: o["index"])
        self.assertEqual([o["index"] for o in got], [0, 1, 2, 3])
        self.assertEqual([o.get("result") for o in got],
                         [True, False, None, True])
        self.assertEqual(got[2]["error"]["type"], "TaskError")
        self.assertIn(b"line 3: TaskError", p.stderr)

    def test_unordered_prints_in_completion_order(self):
        # The first item runs a second and the second none: in input order
        # the quick one waits; unordered it comes out first.
        src = b"1\n0\n"
        self.assertEqual(self.ctl("map", "-e", "thread", "-c", "1", "sleep",
                                  input=src).stdout, b"1\n0\n")
        self.assertEqual(self.ctl("map", "-u", "-e", "thread", "-c", "1",
                                  "sleep", input=src).stdout, b"0\n1\n")

    def test_star_and_empty_input(self):
        self.assertEqual(self.ctl("map", "--star", "echo",
                                  input=b"[1]\n[\"a\"]\n").stdout,
                         b"1\na\n")
        self.ctl("map", "--star", "echo", input=b"[1, 2]\n", status=USAGE)
        p = self.ctl("map", "echo", input=b"")
        self.assertEqual((p.stdout, p.stderr), (b"", b""))
        p = self.ctl("map", "echo", input=b"ok\n\xff\n", status=USAGE)
        self.assertIn(b"line 2", p.stderr)

    def test_items_stream_out_before_the_map_ends(self):
        # The last item is still running when the first result is read.
        # Its timeout stops it soon after the test.
        proc = self.spawn("map", "-e", "thread", "-c", "1", "-t", "2",
                          "sleep")
        proc.stdin.write(b"0\n%d\n" % LONG)
        proc.stdin.close()
        ready, _, _ = select.select([proc.stdout], [], [], RUN_TIMEOUT)
        self.assertTrue(ready, "no result streamed out")
        self.assertEqual(proc.stdout.readline(), b"0\n")
        self.assertIsNone(proc.poll())
        proc.send_signal(signal.SIGTERM)
        proc.wait(RUN_TIMEOUT)
        wait_until(lambda: self.c.ok("stats")["thread"]["busy"] == 0,
                   what="the map's sleep stopped")

    def test_progress_bar_only_on_a_terminal(self):
        src = b"".join(b"%d\n" % i for i in range(50))
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = self.spawn("map", "echo", stderr=slave)
        os.close(slave)
        proc.stdin.write(src)
        proc.stdin.close()
        tty = read_pty(master, proc)
        out = proc.stdout.read()
        self.assertEqual(proc.wait(RUN_TIMEOUT), OK)
        self.assertEqual(out, src)
        self.assertIn(b"\r", tty)
        self.assertIn(b"50/50", tty)
        self.assertIn(b"[" + b"#" * 30 + b"]", tty)
        self.assertNotIn(b"50/50", out)
        # Not a terminal: nothing on stderr at all.
        p = self.ctl("map", "echo", input=src)
        self.assertEqual((p.stdout, p.stderr), (src, b""))


class Top(Shared):
    def test_two_refreshes(self):
        fid = self.running("sleep", str(LONG))
        p = self.ctl("top", "-n", "2", "--interval", "0.1")
        out = p.stdout.decode()
        self.assertNotIn("\x1b", out)
        self.assertEqual(out.count("PID"), 2)
        self.assertEqual(out.count(fid), 2)
        self.assertRegex(out, r"process +2 workers, \d+ busy")
        # A rate needs two samples: the second refresh has one.
        frames = out.split("poold ")[1:]
        self.assertIn("(-/s)", frames[0])
        self.assertRegex(frames[1], r"finished \(\d+\.\d/s\)")

    def test_json_rates_come_from_successive_stats(self):
        p = self.ctl("top", "-n", "3", "-i", "0.3", json_out=True)
        frames = [json.loads(ln) for ln in lines(p.stdout)]
        self.assertEqual(len(frames), 3)
        self.assertIsNone(frames[0]["rates"])
        for f in frames[1:]:
            self.assertEqual(set(f["rates"]),
                             {"finished", "failed", "cancelled"})
            self.assertEqual(set(f["stats"]) >= {"pending", "running"},
                             True)
            self.assertGreaterEqual(len(f["workers"]), 2)

    def test_rates_count_finished_tasks(self):
        proc = self.spawn("--json", "top", "-i", "0.5")
        first = json.loads(proc.stdout.readline())
        for _ in range(20):
            self.c.ok("result", {"future": self.c.submit("echo", [1])})
        frames = [first]
        while True:
            frames.append(json.loads(proc.stdout.readline()))
            done = frames[-1]["stats"]["finished"] - first["stats"]["finished"]
            if done >= 20:
                break
        rates = sum(f["rates"]["finished"] for f in frames[1:])
        self.assertGreater(rates, 0)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(RUN_TIMEOUT), OK)

    def test_sigint_exits_0(self):
        proc = self.spawn("top", "-i", str(LONG))
        self.assertTrue(proc.stdout.readline().startswith(b"poold "))
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(RUN_TIMEOUT), OK)

    def test_terminal_gets_screen_clearing(self):
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = self.spawn("top", "-n", "1", stdout=slave)
        os.close(slave)
        tty = read_pty(master, proc)
        self.assertEqual(proc.wait(RUN_TIMEOUT), OK)
        self.assertTrue(tty.startswith(b"\x1b[H\x1b[2J"), tty[:40])


class Admin(Ctl):
    def test_resize(self):
        with Daemon(processes=1, threads=2) as d:
            self.sock = d.sock
            self.assertEqual(self.json_of("resize", "--process", "3"),
                             {"process": 3, "thread": 2})
            with d.client() as c:
                wait_until(lambda: len(c.ok("workers")) == 3,
                           what="three workers")
            out = self.ctl("resize", "-p", "2", "--thread", "5").stdout
            self.assertEqual(out, b"process 2 workers, thread 5 workers\n")
            self.ctl("resize", "--thread", "0", status=USAGE)
            self.ctl("resize", "--process", "5000", status=USAGE)

    def test_shutdown_waits_for_running_tasks(self):
        with Daemon(processes=1, threads=2, config=BASE_CONFIG) as d:
            self.sock = d.sock
            go = os.path.join(d.dir, "go")
            # Runs until the test creates the file: poold cannot finish
            # stopping before the test has looked.
            fid = self.ctl("exec", "sh", "-c", 'while [ ! -e "$1" ]; do '
                           'sleep 0.01; done; echo done', "sh",
                           go).stdout.decode().strip()
            with d.client() as c:
                c.wait_state(fid, "running")
                rid = c.request("result", {"future": fid})
                self.assertEqual(self.ctl("shutdown").stdout,
                                 b"poold is stopping\n")
                p = self.ctl("submit", "echo", "1", status=FAILED)
                self.assertIn(b"shutting down", p.stderr)
                self.assertEqual(self.json_of("status", fid)["state"],
                                 "running")
                open(go, "w").close()
                self.assertEqual(c.response(rid)["result"]["stdout"],
                                 "done\n")
            self.assertEqual(d.wait_exit(), 0)
            self.ctl("hello", status=BROKEN)

    def test_shutdown_no_wait(self):
        with Daemon(processes=1, threads=2, config=BASE_CONFIG) as d:
            self.sock = d.sock
            fid = self.ctl("submit", "-e", "process", "sleep",
                           str(LONG)).stdout.decode().strip()
            with d.client() as c:
                c.wait_state(fid, "running")
                rid = c.request("result", {"future": fid})
                self.assertEqual(self.json_of("shutdown", "--no-wait",
                                              "--cancel-futures"),
                                 {"ok": True})
                err = c.response(rid)["error"]
            self.assertEqual(err["data"]["type"], "Interrupted")
            self.assertEqual(d.wait_exit(), 0)


if __name__ == "__main__":
    if POOLCTL is None:
        print("POOLCTL is not set and build/clients/poolctl/poolctl does "
              "not exist: skipped", file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

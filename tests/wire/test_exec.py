"""The exec built-in: running programs, their output, input, environment,
failures, limits and the clean-up of their process groups.

Every behaviour runs on both executors: on "process" a worker runs the
program, on "thread" the daemon's event loop does, so what one executor
gets right proves nothing about the other.
"""

import base64
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (Case, Daemon, assert_alive, main,  # noqa: E402
                       result_of, wait_until)

PROCESSES = 2
THREADS = 4

# A task's bound, not its expected run time: a sanitizer build on a loaded
# machine is slow, and these only tell "answers" from "never answers".
TASK_TIMEOUT = 30.0
# How long a killed process may take to be gone.
DEATH_TIMEOUT = 10.0

# kill_timeout is short so a grandchild that ignores SIGTERM is not kept
# alive long by the SIGKILL it is waiting for; shutdown_timeout keeps
# teardown quick should a test leave a task behind.
BASE_CONFIG = "kill_timeout = 0.5\nshutdown_timeout = 2\n"
# Big enough that 1 MiB through cat comes back whole.
WIDE = BASE_CONFIG + "max_output_bytes = 4M\n"
CAP = 1024
CAPPED = BASE_CONFIG + "max_output_bytes = 1K\n"

# In the daemon's environment, so a task can remove it.
MARK = "POOLD_EXEC_MARK"

RESULT_KEYS = {"exit_code", "signal", "stdout", "stderr", "stdout_truncated",
               "stderr_truncated", "stdout_bytes", "stderr_bytes"}

SIGKILL = 9
SIGTERM = 15

# Starts two grandchildren, one of them deaf to SIGTERM so only a SIGKILL
# ends it, and publishes their pids and its own in $1 once all are known.
SPAWN = r'''
sleep 300 &
echo $! > "$1.tmp"
(trap '' TERM; exec sleep 300) &
echo $! >> "$1.tmp"
echo $$ >> "$1.tmp"
mv "$1.tmp" "$1"
wait
'''


def pid_gone(pid):
    """Whether PID has ended. A zombie counts: a grandchild reparented to
    a reaper that has not got round to it is dead all the same."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def kill_strays(pids):
    """Kill what a failed test left running (a passing one leaves none)."""
    for pid in pids:
        if not pid_gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def output_bytes(v):
    """The bytes a result's stdout or stderr stands for."""
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and set(v) == {"base64"} and \
            isinstance(v["base64"], str):
        return base64.b64decode(v["base64"], validate=True)
    raise AssertionError("not an output value: %r" % (v,))


def b64(data):
    return {"base64": base64.b64encode(data).decode("ascii")}


class ExecBehaviour:
    """Every test, run on self.EXECUTOR against self.d (output capped at
    4 MiB a stream) or self.capped (1 KiB)."""

    EXECUTOR = None

    @classmethod
    def setUpClass(cls):
        # The daemon runs in its own directory so relative and default
        # working directories are known.
        cls.d = Daemon(threads=THREADS, processes=PROCESSES, config=WIDE,
                       env={MARK: "present"}, cwd="@DIR@").start()
        cls.capped = Daemon(threads=THREADS, processes=PROCESSES,
                            config=CAPPED).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.capped.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client()
        self.addCleanup(self.c.close)
        self.tmp = tempfile.mkdtemp(prefix="poold-exec-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.strays = []
        self.addCleanup(self._kill_strays)

    def _kill_strays(self):
        kill_strays(self.strays)

    # -- helpers --

    def path(self, name):
        return os.path.join(self.tmp, name)

    def submit(self, args, c=None, **kwargs):
        c = c or self.c
        return c.submit("exec", args, kwargs=kwargs, executor=self.EXECUTOR)

    def result(self, fid, c=None, timeout=TASK_TIMEOUT):
        c = c or self.c
        msg = c.call("result", {"future": fid, "timeout": timeout},
                     timeout=timeout + 10)
        return result_of(msg)

    def failure(self, fid, c=None, timeout=TASK_TIMEOUT):
        c = c or self.c
        msg = c.call("result", {"future": fid, "timeout": timeout},
                     timeout=timeout + 10)
        e = self.assertError(msg, -32003, any_id=True)
        self.assertIsInstance(e.get("data"), dict, msg)
        self.assertIsInstance(e["data"].get("type"), str, msg)
        self.assertIsInstance(e["data"].get("message"), str, msg)
        s = c.status(fid)
        self.assertEqual(s["state"], "failed", s)
        self.assertEqual(s["error"], e["data"])
        return e["data"]

    def run_exec(self, args, c=None, **kwargs):
        """Run to the end and return the checked result."""
        fid = self.submit(args, c, **kwargs)
        r = self.result(fid, c)
        self.check_result(r)
        s = (c or self.c).status(fid)
        self.assertEqual(s["fn"], "exec")
        self.assertEqual(s["executor"], self.EXECUTOR)
        return r

    def check_result(self, r):
        self.assertIsInstance(r, dict)
        self.assertTrue(RESULT_KEYS <= set(r), r)
        for k in ("exit_code", "signal"):
            self.assertIn(type(r[k]), (int, type(None)), r)
        # It either exited or was killed.
        self.assertEqual((r["exit_code"] is None) + (r["signal"] is None), 1,
                         r)
        for stream in ("stdout", "stderr"):
            kept = output_bytes(r[stream])
            if isinstance(r[stream], dict):
                # A stream comes back as base64 only when it has to.
                with self.assertRaises(UnicodeDecodeError, msg=r):
                    kept.decode("utf-8")
            self.assertIs(type(r[stream + "_truncated"]), bool, r)
            self.assertIs(type(r[stream + "_bytes"]), int, r)
            if r[stream + "_truncated"]:
                self.assertGreater(r[stream + "_bytes"], len(kept))
            else:
                self.assertEqual(r[stream + "_bytes"], len(kept))

    def sh(self, script, *args, **kwargs):
        return self.run_exec(["sh", "-c", script, "sh"] + list(args),
                             **kwargs)

    def exec_error(self, args, errno, **kwargs):
        fid = self.submit(args, **kwargs)
        e = self.failure(fid)
        self.assertEqual(e["type"], "ExecError", e)
        self.assertEqual(e.get("errno"), errno, e)
        self.assertIs(type(e["errno"]), int, e)
        self.assertTrue(e["message"], e)
        return e

    def read_pids(self, pidfile, fid, c=None):
        """Wait until the script running as FID has published its pids."""
        c = c or self.c

        def published():
            if os.path.exists(pidfile):
                return True
            st = c.status(fid)["state"]
            if st != "running" and st != "pending":
                raise AssertionError("the script ended before it wrote %s: "
                                     "%r" % (pidfile, c.status(fid)))
            return False
        wait_until(published, TASK_TIMEOUT, "the script wrote its pids")
        with open(pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.assertEqual(len(pids), 3, pids)
        self.strays += pids
        return pids

    def assert_all_gone(self, pids):
        for pid in pids:
            wait_until(lambda: pid_gone(pid), DEATH_TIMEOUT,
                       "process %d is gone" % pid)

    def refused(self, params, param):
        """Submit PARAMS and assert -32602 naming PARAM. The answer is read
        as the next message, not matched by id, so an answer that lost its
        id fails here at once."""
        rid = self.c.request("submit", params)
        msg = self.c.recv()
        e = self.assertError(msg, -32602, rid)
        self.assertEqual(e.get("data", {}).get("param"), param, msg)

    def alive(self, d=None):
        """The daemon answers, and runs exec on this executor."""
        d = d or self.d
        assert_alive(d.sock)
        with d.client() as c:
            r = self.run_exec(["echo", "still here"], c)
            self.assertEqual(r["stdout"], "still here\n")

    # -- the function --

    def test_listed_with_both_executors(self):
        fns = {f["name"]: f for f in self.c.ok("functions")}
        self.assertIn("exec", fns)
        self.assertEqual(fns["exec"]["executors"], ["process", "thread"])
        self.assertEqual(fns["exec"]["default_executor"], "process")
        self.assertIn("exec", self.c.ok("hello")["functions"])
        fid = self.c.submit("exec", ["true"])
        self.assertEqual(self.result(fid)["exit_code"], 0)
        self.assertEqual(self.c.status(fid)["executor"], "process")
        self.alive()

    def test_nul_in_strings_round_trips(self):
        for v in ("a\u0000b", "\u0000", ["\u0000x", {"k": "\u0000"}]):
            with self.subTest(value=v):
                fid = self.c.submit("echo", [v], executor=self.EXECUTOR)
                self.assertEqual(self.result(fid), v)
        self.alive()

    # -- output and exit status --

    def test_stdout_and_stderr(self):
        r = self.sh("echo out; echo err >&2; echo more")
        self.assertEqual(r["stdout"], "out\nmore\n")
        self.assertEqual(r["stderr"], "err\n")
        self.assertEqual(r["exit_code"], 0)
        self.assertIsNone(r["signal"])
        self.assertFalse(r["stdout_truncated"])
        self.assertFalse(r["stderr_truncated"])
        self.assertEqual(r["stdout_bytes"], 9)
        self.assertEqual(r["stderr_bytes"], 4)
        r = self.run_exec(["true"])
        self.assertEqual((r["stdout"], r["stderr"]), ("", ""))
        self.assertEqual((r["stdout_bytes"], r["stderr_bytes"]), (0, 0))
        # Arguments arrive as given: no shell in between.
        r = self.run_exec(["printf", "%s|", "a b", "$HOME", "*", "", "\u2603"])
        self.assertEqual(r["stdout"], "a b|$HOME|*||\u2603|")
        self.alive()

    def test_utf8_output_is_a_string(self):
        r = self.run_exec(["printf", "\\342\\230\\203 \\303\\251\\360\\237"
                           "\\230\\200\\000end"])
        self.assertEqual(r["stdout"], "\u2603 \u00e9\U0001f600\u0000end")
        self.assertEqual(r["stdout_bytes"], 14)
        self.alive()

    def test_exit_codes(self):
        for code in (0, 1, 7, 127, 143, 255):
            with self.subTest(code=code):
                r = self.sh("exit %d" % code)
                self.assertEqual(r["exit_code"], code)
                self.assertIsNone(r["signal"])
        r = self.run_exec(["false"])
        self.assertEqual(r["exit_code"], 1)
        self.alive()

    def test_death_by_signal(self):
        for name, sig in (("TERM", SIGTERM), ("KILL", SIGKILL)):
            with self.subTest(signal=name):
                r = self.sh("echo before; kill -%s $$; echo after" % name)
                self.assertIsNone(r["exit_code"])
                self.assertEqual(r["signal"], sig)
                self.assertEqual(r["stdout"], "before\n")
        self.alive()

    def test_binary_output_is_base64(self):
        r = self.run_exec(["printf", "\\377\\000\\001"])
        self.assertEqual(r["stdout"], {"base64": "/wAB"})
        self.assertEqual(r["stdout_bytes"], 3)
        self.assertEqual(r["stderr"], "")
        # Random bytes, made certainly not UTF-8.
        data = b"\xff" + os.urandom(4095)
        with open(self.path("random"), "wb") as f:
            f.write(data)
        r = self.run_exec(["cat", self.path("random")])
        self.assertIsInstance(r["stdout"], dict)
        self.assertEqual(output_bytes(r["stdout"]), data)
        self.assertEqual(r["stdout_bytes"], 4096)
        # Each stream is judged on its own.
        r = self.sh('cat "$1" >&2; echo text', self.path("random"))
        self.assertEqual(r["stdout"], "text\n")
        self.assertEqual(output_bytes(r["stderr"]), data)
        self.assertEqual(r["stderr_bytes"], 4096)
        # Valid UTF-8 with one bad byte in the middle.
        r = self.run_exec(["printf", "caf\\303\\251 \\200 ok"])
        self.assertEqual(output_bytes(r["stdout"]),
                         b"caf\xc3\xa9 \x80 ok")
        self.assertIsInstance(r["stdout"], dict)
        self.alive()

    def test_both_streams_at_once(self):
        # A reader that drains one stream before the other deadlocks here:
        # stderr fills its pipe before anything goes to stdout.
        r = self.sh("yes e | head -c 1000000 >&2; yes o | head -c 1000000;"
                    "yes e | head -c 1000000 >&2")
        self.assertEqual(r["stdout"], "o\n" * 500000)
        self.assertEqual(r["stderr"], "e\n" * 1000000)
        self.assertEqual((r["stdout_bytes"], r["stderr_bytes"]),
                         (1000000, 2000000))
        self.alive()

    def test_program_closing_stdout_early(self):
        r = self.sh("exec >&-; echo err >&2; exit 3")
        self.assertEqual(r["exit_code"], 3)
        self.assertEqual(r["stdout"], "")
        self.assertEqual(r["stderr"], "err\n")
        r = self.sh("echo out; exec >&-; echo err >&2; exit 4")
        self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]),
                         ("out\n", "err\n", 4))
        r = self.sh("echo out; exec 2>&-; echo more; exit 5")
        self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]),
                         ("out\nmore\n", "", 5))
        self.alive()

    def test_many_at_once(self):
        fids = [self.submit(["sh", "-c", "echo $1; echo e$1 >&2; exit $1",
                             "sh", str(i)]) for i in range(24)]
        for i, fid in enumerate(fids):
            r = self.result(fid)
            self.check_result(r)
            self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]),
                             ("%d\n" % i, "e%d\n" % i, i))
        self.alive()

    # -- stdin --

    def test_stdin_is_dev_null_unless_given(self):
        r = self.run_exec(["cat"])
        self.assertEqual((r["stdout"], r["exit_code"]), ("", 0))
        r = self.run_exec(["readlink", "/proc/self/fd/0"])
        self.assertEqual(r["stdout"], "/dev/null\n")
        r = self.run_exec(["readlink", "/proc/self/fd/0"], stdin="x")
        self.assertTrue(r["stdout"].startswith("pipe:"), r)
        self.alive()

    def test_stdin_string(self):
        for text in ("hello\n", "", "h\u00e9llo \u2603\U0001f600",
                     "nul\u0000inside\u0000", "no newline"):
            with self.subTest(stdin=text):
                r = self.run_exec(["cat"], stdin=text)
                self.assertEqual(r["stdout"], text)
                self.assertEqual(r["stdout_bytes"], len(text.encode()))
        r = self.run_exec(["wc", "-c"], stdin="\u0000" * 10)
        self.assertEqual(r["stdout"].strip(), "10")
        self.alive()

    def test_stdin_base64(self):
        data = bytes(range(256)) * 4
        r = self.run_exec(["cat"], stdin=b64(data))
        self.assertIsInstance(r["stdout"], dict)
        self.assertEqual(output_bytes(r["stdout"]), data)
        self.assertEqual(r["stdout_bytes"], 1024)
        r = self.run_exec(["sha256sum"], stdin=b64(data))
        self.assertEqual(r["stdout"].split()[0],
                         hashlib.sha256(data).hexdigest())
        # base64 of text is text again on the way out.
        r = self.run_exec(["cat"], stdin=b64("\u2603\n".encode()))
        self.assertEqual(r["stdout"], "\u2603\n")
        r = self.run_exec(["cat"], stdin={"base64": ""})
        self.assertEqual(r["stdout"], "")
        self.alive()

    def test_stdin_larger_than_a_pipe(self):
        # Written while the output is read: cat blocks on a full stdout
        # until the daemon reads it, so writing stdin first deadlocks.
        data = os.urandom(1 << 20)
        t0 = time.monotonic()
        r = self.run_exec(["cat"], stdin=b64(data))
        self.assertEqual(r["exit_code"], 0)
        self.assertFalse(r["stdout_truncated"])
        self.assertEqual(r["stdout_bytes"], 1 << 20)
        self.assertEqual(output_bytes(r["stdout"]), data)
        text = "0123456789abcde\n" * (1 << 16)
        r = self.run_exec(["cat"], stdin=text)
        self.assertEqual(r["stdout"], text)
        big = os.urandom(4 << 20)
        r = self.run_exec(["sha256sum"], stdin=b64(big))
        self.assertEqual(r["stdout"].split()[0],
                         hashlib.sha256(big).hexdigest())
        self.assertLess(time.monotonic() - t0, TASK_TIMEOUT)
        self.alive()

    def test_stdin_not_read(self):
        # The program leaves most of its input unread: the rest is
        # dropped, not an error and not a hang.
        data = "x" * (1 << 20)
        r = self.run_exec(["true"], stdin=data)
        self.assertEqual((r["exit_code"], r["signal"]), (0, None))
        r = self.run_exec(["head", "-c", "10"], stdin=data)
        self.assertEqual((r["exit_code"], r["stdout"]), (0, "x" * 10))
        self.alive()

    # -- cwd --

    def test_cwd(self):
        r = self.run_exec(["pwd", "-P"], cwd=self.tmp)
        self.assertEqual(r["stdout"], os.path.realpath(self.tmp) + "\n")
        with open(self.path("here.txt"), "w") as f:
            f.write("found")
        r = self.run_exec(["cat", "here.txt"], cwd=self.tmp)
        self.assertEqual(r["stdout"], "found")
        r = self.run_exec(["pwd", "-P"], cwd="/")
        self.assertEqual(r["stdout"], "/\n")
        self.alive()

    def test_default_and_relative_cwd(self):
        # The daemon's working directory is its own temporary directory.
        home = os.path.realpath(self.d.dir)
        r = self.run_exec(["pwd", "-P"])
        self.assertEqual(r["stdout"], home + "\n")
        sub = os.path.join(self.d.dir, "sub-" + self.EXECUTOR)
        os.makedirs(os.path.join(sub, "deeper"), exist_ok=True)
        self.addCleanup(shutil.rmtree, sub, True)
        name = os.path.basename(sub)
        r = self.run_exec(["pwd", "-P"], cwd=name)
        self.assertEqual(r["stdout"], os.path.join(home, name) + "\n")
        r = self.run_exec(["pwd", "-P"], cwd=name + "/deeper/..")
        self.assertEqual(r["stdout"], os.path.join(home, name) + "\n")
        self.exec_error(["pwd"], 2, cwd="no-such-relative-dir")
        self.alive()

    # -- env and PATH --

    def test_env(self):
        show = 'printf "%s|" "${POOLD_EXEC_A-unset}" "${POOLD_EXEC_B-unset}"' \
               ' "${POOLD_EXEC_MARK-unset}" "${HOME-unset}"'
        home = os.environ.get("HOME", "unset")
        r = self.sh(show)
        self.assertEqual(r["stdout"], "unset|unset|present|%s|" % home)
        r = self.sh(show, env={"POOLD_EXEC_A": "x y=z \u2603",
                               "POOLD_EXEC_B": ""})
        self.assertEqual(r["stdout"],
                         "x y=z \u2603||present|%s|" % home)
        r = self.sh(show, env={MARK: None})
        self.assertEqual(r["stdout"], "unset|unset|unset|%s|" % home)
        r = self.sh(show, env={MARK: "over", "POOLD_EXEC_NEVER_SET": None})
        self.assertEqual(r["stdout"], "unset|unset|over|%s|" % home)
        r = self.sh(show, env={})
        self.assertEqual(r["stdout"], "unset|unset|present|%s|" % home)
        # A task's env is its own: the next task sees the daemon's again.
        r = self.sh(show)
        self.assertEqual(r["stdout"], "unset|unset|present|%s|" % home)
        self.alive()

    def test_path_from_env_is_used_for_lookup(self):
        bindir = self.path("bin")
        empty = self.path("empty")
        os.mkdir(bindir)
        os.mkdir(empty)
        prog = os.path.join(bindir, "poold-exec-probe")
        with open(prog, "w") as f:
            f.write('#!/bin/sh\necho "probe $*"\n')
        os.chmod(prog, 0o755)
        r = self.run_exec(["poold-exec-probe", "a", "b"],
                          env={"PATH": bindir})
        self.assertEqual(r["stdout"], "probe a b\n")
        r = self.run_exec(["poold-exec-probe"],
                          env={"PATH": empty + ":" + bindir})
        self.assertEqual(r["stdout"], "probe \n")
        # Not on the daemon's PATH.
        self.exec_error(["poold-exec-probe"], 2)
        # The task's PATH replaces the daemon's for the lookup.
        self.exec_error(["true"], 2, env={"PATH": empty})
        # A name with a slash is a path, not looked up.
        r = self.run_exec([prog, "x"], env={"PATH": empty})
        self.assertEqual(r["stdout"], "probe x\n")
        self.alive()

    # -- check --

    def test_check(self):
        r = self.sh("echo fine", check=True)
        self.assertEqual((r["exit_code"], r["stdout"]), (0, "fine\n"))
        r = self.sh("exit 3", check=False)
        self.assertEqual(r["exit_code"], 3)
        fid = self.submit(["sh", "-c", "echo o; echo e >&2; exit 3"],
                          check=True)
        e = self.failure(fid)
        self.assertEqual(e["type"], "ProcessError", e)
        self.check_result(e)
        self.assertEqual(e["exit_code"], 3)
        self.assertIsNone(e["signal"])
        self.assertEqual((e["stdout"], e["stderr"]), ("o\n", "e\n"))
        self.assertEqual((e["stdout_bytes"], e["stderr_bytes"]), (2, 2))
        self.assertFalse(e["stdout_truncated"])
        self.assertFalse(e["stderr_truncated"])
        fid = self.submit(["sh", "-c", "printf '\\377'; kill -TERM $$"],
                          check=True)
        e = self.failure(fid)
        self.assertEqual(e["type"], "ProcessError", e)
        self.check_result(e)
        self.assertIsNone(e["exit_code"])
        self.assertEqual(e["signal"], SIGTERM)
        self.assertEqual(e["stdout"], {"base64": "/w=="})
        # check does not turn a failure to start into a ProcessError.
        self.exec_error(["/nonexistent/poold-prog"], 2, check=True)
        self.alive()

    # -- failures to start --

    def test_exec_errors(self):
        noexec = self.path("noexec.sh")
        with open(noexec, "w") as f:
            f.write("#!/bin/sh\necho ran\n")
        os.chmod(noexec, 0o644)
        afile = self.path("afile")
        with open(afile, "w") as f:
            f.write("x")
        cases = [
            ("missing path", ["/nonexistent/poold-prog"], {}, 2),
            ("missing name", ["poold-no-such-program"], {}, 2),
            ("not executable", [noexec], {}, 13),
            ("a directory", [self.tmp], {}, 13),
            ("not executable on PATH", ["noexec.sh"], {"env": {"PATH":
                                                               self.tmp}},
             13),
            ("missing cwd", ["true"], {"cwd": self.path("gone")}, 2),
            ("cwd is a file", ["true"], {"cwd": afile}, 20),
            ("missing relative cwd", ["true"],
             {"cwd": "poold-no-such-dir/x"}, 2),
        ]
        for what, args, kwargs, errno in cases:
            with self.subTest(what=what):
                self.exec_error(args, errno, **kwargs)
        self.alive()

    def test_bad_input_is_refused_at_submit(self):
        before = self.c.ok("stats")["submitted"]
        bad_args = [[5], ["echo", 5], ["echo", None], ["echo", ["x"]],
                    ["echo", {"a": 1}], ["echo", True], [None], [],
                    ["ec\u0000ho"], ["echo", "a\u0000b"], ["echo", "\u0000"]]
        for args in bad_args:
            with self.subTest(args=args):
                self.refused({"fn": "exec", "args": args,
                              "executor": self.EXECUTOR}, "args")
        with self.subTest(args="absent"):
            self.refused({"fn": "exec", "executor": self.EXECUTOR}, "args")
        bad_kwargs = [
            {"env": ["A=b"]}, {"env": "A=b"}, {"env": 5},
            {"env": {"A": 5}}, {"env": {"A": True}}, {"env": {"A": ["x"]}},
            {"env": {"A": {"b": "c"}}}, {"env": {"A=B": "c"}},
            {"env": {"=": "c"}}, {"env": {"A=": None}},
            {"env": {"A": "b\u0000c"}},
            {"cwd": 5}, {"cwd": ["/"]}, {"cwd": True}, {"cwd": "/tm\u0000p"},
            {"stdin": 5}, {"stdin": ["x"]}, {"stdin": True},
            {"stdin": {"base64": "!!!"}}, {"stdin": {"base64": "QUJD*A=="}},
            {"stdin": {"base64": 5}}, {"stdin": {}}, {"stdin": {"text": "x"}},
            {"nosuch": 1}, {"timeout": 1}, {"Check": True}, {"args": []},
            {"check": "yes"}, {"check": 1}, {"check": 0}, {"check": "true"},
            [], "x", 5,
        ]
        for kwargs in bad_kwargs:
            with self.subTest(kwargs=kwargs):
                self.refused({"fn": "exec", "args": ["true"],
                              "kwargs": kwargs, "executor": self.EXECUTOR},
                             "kwargs")
        # jansson cannot hold a NUL in an object key, so such a line is
        # refused as it is read: -32700, and nothing is queued.
        self.c.send_raw(b'{"jsonrpc":"2.0","id":"nulkey","method":"submit",'
                        b'"params":{"fn":"exec","args":["true"],"kwargs":'
                        b'{"env":{"A\\u0000":"c"}}}}\n')
        msg = self.c.recv()
        self.assertEqual(msg["error"]["code"], -32700, msg)
        self.assertEqual(self.c.ok("stats")["submitted"], before)
        # Good ones of each kind pass.
        r = self.run_exec(["true"], stdin="", cwd="/", env={"A": "b=c",
                                                            "B": None},
                          check=False)
        self.assertEqual(r["exit_code"], 0)
        self.alive()

    # -- the process itself --

    def test_only_fds_0_1_2(self):
        r = self.sh("ls /proc/$$/fd")
        self.assertEqual(r["stdout"].split(), ["0", "1", "2"])
        r = self.sh("ls /proc/$$/fd", stdin="with a pipe")
        self.assertEqual(r["stdout"].split(), ["0", "1", "2"])
        self.alive()

    def test_signal_mask_and_dispositions(self):
        # grep itself is the program, so /proc/self is the program.
        r = self.run_exec(["grep", "-E", "^Sig(Blk|Ign):",
                           "/proc/self/status"])
        masks = dict(line.split(":\t") for line in r["stdout"].split("\n")
                     if line)
        self.assertEqual(set(masks), {"SigBlk", "SigIgn"}, r)
        # glibc's posix_spawn leaves its two internal signals (32 and 33,
        # below SIGRTMIN) ignored in what it starts; every signal a program
        # can name is at its default.
        glibc_internal = (1 << 31) | (1 << 32)
        for name, mask in masks.items():
            bits = int(mask, 16) & ~glibc_internal
            self.assertEqual(bits, 0, "%s %s: signals %s" % (
                name, mask, [n + 1 for n in range(64) if bits >> n & 1]))
        self.alive()

    def test_own_process_group(self):
        r = self.sh("echo $$; cut -d' ' -f5 /proc/$$/stat")
        pid, pgid = (int(x) for x in r["stdout"].split())
        self.assertEqual(pgid, pid)
        daemon_pgid = os.getpgid(self.d.pid)
        self.assertNotEqual(pgid, daemon_pgid)
        self.alive()

    # -- capacity --

    def test_each_program_takes_a_slot(self):
        size = PROCESSES if self.EXECUTOR == "process" else THREADS
        fids = [self.submit(["sleep", "300"]) for _ in range(size + 1)]
        for fid in fids[:size]:
            self.c.wait_state(fid, "running", TASK_TIMEOUT)
        self.assertEqual(self.c.ok("stats")[self.EXECUTOR]["busy"], size)
        self.assertEqual(self.c.status(fids[size])["state"], "pending")
        r = self.c.ok("cancel", {"future": fids[0], "force": True})
        self.assertEqual(r, {"cancelled": True, "state": "cancelled"})
        self.c.wait_state(fids[size], "running", TASK_TIMEOUT)
        for fid in fids[1:]:
            r = self.c.ok("cancel", {"future": fid, "force": True})
            self.assertEqual(r, {"cancelled": True, "state": "cancelled"})
        wait_until(lambda: self.c.ok("stats")[self.EXECUTOR]["busy"] == 0,
                   TASK_TIMEOUT, "the %s executor is idle" % self.EXECUTOR)
        self.alive()

    # -- process groups cleaned up --

    def test_background_grandchild_at_exit(self):
        for how in ("(sleep 300 & echo $! > \"$1\")",
                    "(sleep 300 >/dev/null 2>&1 & echo $! > \"$1\")"):
            with self.subTest(script=how):
                pidfile = self.path("bg")
                t0 = time.monotonic()
                r = self.sh(how + "; echo done", pidfile)
                elapsed = time.monotonic() - t0
                self.assertEqual((r["stdout"], r["exit_code"]),
                                 ("done\n", 0))
                self.assertLess(elapsed, 20)
                with open(pidfile) as f:
                    pid = int(f.read())
                self.strays.append(pid)
                self.assert_all_gone([pid])
        self.alive()

    def test_timeout_kills_the_group(self):
        pidfile = self.path("pids")
        t0 = time.monotonic()
        fid = self.c.submit("exec", ["sh", "-c", SPAWN, "sh", pidfile],
                            executor=self.EXECUTOR, timeout=1.0)
        pids = self.read_pids(pidfile, fid)
        e = self.failure(fid)
        self.assertEqual(e["type"], "TimeoutError", e)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9)
        self.assert_all_gone(pids)
        self.alive()

    def test_force_cancel_kills_the_group(self):
        pidfile = self.path("pids")
        fid = self.submit(["sh", "-c", SPAWN, "sh", pidfile])
        pids = self.read_pids(pidfile, fid)
        self.assertEqual(self.c.status(fid)["state"], "running")
        r = self.c.ok("cancel", {"future": fid, "force": True})
        self.assertEqual(r, {"cancelled": True, "state": "cancelled"})
        self.assertEqual(self.c.status(fid)["state"], "cancelled")
        self.c.err("result", {"future": fid}, -32002)
        self.assert_all_gone(pids)
        self.alive()

    def test_plain_cancel_leaves_it_running(self):
        pidfile = self.path("pids")
        fid = self.submit(["sh", "-c", SPAWN, "sh", pidfile])
        pids = self.read_pids(pidfile, fid)
        r = self.c.ok("cancel", {"future": fid})
        self.assertEqual(r, {"cancelled": False, "state": "running"})
        self.assertFalse(any(pid_gone(p) for p in pids))
        self.c.ok("cancel", {"future": fid, "force": True})
        self.assert_all_gone(pids)
        self.alive()

    # -- the output cap --

    def test_output_over_the_cap(self):
        with self.capped.client() as c:
            data = "".join(chr(33 + i % 90) for i in range(5000))
            r = self.run_exec(["cat"], c, stdin=data)
            self.assertTrue(r["stdout_truncated"])
            self.assertEqual(r["stdout_bytes"], 5000)
            self.assertEqual(r["stdout"], data[:CAP])
            self.assertFalse(r["stderr_truncated"])
            r = self.run_exec(["sh", "-c", "cat >&2; echo out"], c,
                              stdin=data)
            self.assertTrue(r["stderr_truncated"])
            self.assertEqual(r["stderr_bytes"], 5000)
            self.assertEqual(r["stderr"], data[:CAP])
            self.assertEqual(r["stdout"], "out\n")
            self.assertFalse(r["stdout_truncated"])
            # The cap is the kept size: exactly 1 KiB is whole.
            for n, cut in ((CAP - 1, False), (CAP, False), (CAP + 1, True)):
                with self.subTest(bytes=n):
                    r = self.run_exec(["cat"], c, stdin=data[:n])
                    self.assertEqual(r["stdout_truncated"], cut)
                    self.assertEqual(r["stdout_bytes"], n)
                    self.assertEqual(r["stdout"], data[:min(n, CAP)])
            # The kept part is bytes: a character cut in two is not UTF-8.
            text = "a" * (CAP - 1) + "\u00e9" * 10
            r = self.run_exec(["cat"], c, stdin=text)
            self.assertTrue(r["stdout_truncated"])
            self.assertEqual(r["stdout_bytes"], CAP + 19)
            self.assertEqual(output_bytes(r["stdout"]),
                             text.encode()[:CAP])
            binary = b"\xff" + os.urandom(9999)
            r = self.run_exec(["cat"], c, stdin=b64(binary))
            self.assertEqual(output_bytes(r["stdout"]), binary[:CAP])
            self.assertEqual(r["stdout_bytes"], 10000)
            # ProcessError carries the same fields.
            fid = self.submit(["sh", "-c", "cat; exit 9"], c, stdin=data,
                              check=True)
            e = self.failure(fid, c)
            self.assertEqual(e["type"], "ProcessError", e)
            self.check_result(e)
            self.assertEqual(e["exit_code"], 9)
            self.assertTrue(e["stdout_truncated"])
            self.assertEqual(e["stdout_bytes"], 5000)
            self.assertEqual(e["stdout"], data[:CAP])
        self.alive(self.capped)
        self.alive()

    def test_hundreds_of_megabytes(self):
        n = 300000000
        with self.capped.client() as c:
            t0 = time.monotonic()
            r = self.run_exec(["sh", "-c",
                               "head -c %d /dev/zero; echo tail >&2" % n], c)
            self.assertLess(time.monotonic() - t0, TASK_TIMEOUT)
            self.assertEqual(r["exit_code"], 0)
            self.assertEqual(r["stdout_bytes"], n)
            self.assertTrue(r["stdout_truncated"])
            self.assertEqual(output_bytes(r["stdout"]), b"\0" * CAP)
            self.assertEqual(r["stderr"], "tail\n")
            self.assertFalse(r["stderr_truncated"])
        self.alive(self.capped)
        self.alive()


class OnProcess(ExecBehaviour, Case):
    EXECUTOR = "process"


class OnThread(ExecBehaviour, Case):
    EXECUTOR = "thread"


class StopBehaviour:
    """A SIGTERM to the daemon while a program runs: what is left of its
    group past shutdown_timeout is killed."""

    EXECUTOR = None

    def test_sigterm_leaves_no_survivor(self):
        tmp = tempfile.mkdtemp(prefix="poold-exec-")
        self.addCleanup(shutil.rmtree, tmp, True)
        d = Daemon(threads=THREADS, processes=PROCESSES,
                   config="kill_timeout = 0.5\nshutdown_timeout = 0.5\n"
                          "max_output_bytes = 1K\n").start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        pidfile = os.path.join(tmp, "pids")
        fid = c.submit("exec", ["sh", "-c", SPAWN, "sh", pidfile],
                       executor=self.EXECUTOR)
        wait_until(lambda: os.path.exists(pidfile), TASK_TIMEOUT,
                   "the script wrote its pids")
        with open(pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.assertEqual(len(pids), 3, pids)
        self.addCleanup(kill_strays, pids)
        rid = c.request("result", {"future": fid})
        t0 = time.monotonic()
        d.send_signal(signal.SIGTERM)
        e = self.assertError(c.response(rid, timeout=TASK_TIMEOUT), -32003,
                             rid)
        self.assertEqual(e["data"]["type"], "Interrupted", e)
        self.assertEqual(d.wait_exit(TASK_TIMEOUT), 0)
        self.assertLess(time.monotonic() - t0, TASK_TIMEOUT)
        for pid in pids:
            wait_until(lambda: pid_gone(pid), DEATH_TIMEOUT,
                       "process %d is gone after the daemon stopped" % pid)


    def test_stop_before_a_stubborn_program_is_reaped(self):
        # The program ignores SIGTERM, so the daemon's stop comes before
        # its kill_timeout: it must still end the program, let go of the
        # task, and exit 0 (the sanitizer builds prove nothing leaks).
        d = Daemon(threads=THREADS, processes=PROCESSES,
                   config="kill_timeout = 5\nshutdown_timeout = 0.3\n")
        d.start()
        self.addCleanup(d.close)
        c = d.client()
        self.addCleanup(c.close)
        fid = c.submit("exec", ["sh", "-c", "trap '' TERM; echo $$; "
                                "exec sleep 300"], executor=self.EXECUTOR)
        wait_until(lambda: c.ok("status", {"future": fid})["state"] ==
                   "running", TASK_TIMEOUT, "the program runs")
        rid = c.request("result", {"future": fid})
        d.send_signal(signal.SIGTERM)
        e = self.assertError(c.response(rid, timeout=TASK_TIMEOUT), -32003,
                             rid)
        self.assertEqual(e["data"]["type"], "Interrupted", e)
        self.assertEqual(d.wait_exit(TASK_TIMEOUT), 0)


class StopOnProcess(StopBehaviour, Case):
    EXECUTOR = "process"


class StopOnThread(StopBehaviour, Case):
    EXECUTOR = "thread"


if __name__ == "__main__":
    main()

"""Harness for poold's over-the-wire tests.

A test starts a private poold on a socket in a fresh temporary directory,
talks JSON-RPC 2.0 to it over that socket and stops it. Readiness and every
expectation about the daemon's behaviour wait on the daemon's own answers
against a deadline; nothing here sleeps and hopes.

The daemon command comes from $POOLD (it may carry a wrapper, e.g.
"valgrind --error-exitcode=1 build/src/poold").
"""

import itertools
import json
import os
import pwd
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import unittest

# Exit statuses of the automake test protocol.
EXIT_SKIP = 77
EXIT_HARD_ERROR = 99

SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")
FUTURE_ID = re.compile(r"^f-[0-9a-f]{16}$")
STATES = ("pending", "running", "finished", "failed", "cancelled")
FUTURE_KEYS = {"future", "fn", "executor", "state", "submitted", "started",
               "finished", "worker", "attempts", "result", "error"}

# Generous: a loaded CI machine or a sanitizer build is slow, and a bound
# only has to tell "answered" from "never answers".
DEFAULT_TIMEOUT = 10.0


def poold_argv():
    """The daemon command as a list, or None when it is not known."""
    cmd = os.environ.get("POOLD")
    if cmd:
        return shlex.split(cmd)
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.normpath(os.path.join(here, "..", "..", "build", "src",
                                          "poold"))
    if os.access(guess, os.X_OK):
        return [guess]
    return None


def main():
    """Run the calling file's tests: exit 0 on pass, 1 on failure, 77 when
    there is no daemon to test and 99 when $POOLD names nothing runnable."""
    argv = poold_argv()
    if argv is None:
        print("POOLD is not set and build/src/poold does not exist: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if shutil.which(argv[0]) is None:
        print("POOLD=%r: not an executable" % os.environ.get("POOLD"),
              file=sys.stderr)
        sys.exit(EXIT_HARD_ERROR)
    unittest.main()


def run_poold(args, timeout=DEFAULT_TIMEOUT, env=None):
    """Run poold with ARGS to completion (for flags that make it exit).
    Returns a CompletedProcess with text stdout and stderr."""
    try:
        return subprocess.run(poold_argv() + list(args),
                              stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout,
                              env=env, text=True, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise AssertionError("poold %s did not exit within %s s; stderr: %s"
                             % (" ".join(args), timeout, e.stderr)) from None


# ---------------------------------------------------------------------------
# Daemon


class Daemon:
    """A private poold: a context manager, or start()/close() by hand.

    THREADS goes to -t (None: no -t). CONFIG, when given, is written to
    DIR/poold.conf and passed with -c; "@DIR@" in it, in SOCKET and in ARGS
    stands for the temporary directory (made under PARENT, default
    $TMPDIR). ARGS replaces the whole command line after the program name
    (readiness is still checked on SOCKET). ENV adds to (None: removes
    from) the environment. CWD (None: the caller's) is the daemon's working
    directory.
    """

    # Daemons started and not yet closed, and every daemon started: a
    # failing test prints the logs of those it used.
    live = []
    started = []

    def __init__(self, threads=4, config=None, extra_args=(), socket=None,
                 processes=1,
                 args=None, verbose=True, ready=True, env=None, parent=None,
                 preexec_fn=None, cwd=None):
        self.threads = threads
        self.processes = processes
        self.config = config
        self.extra_args = list(extra_args)
        self.socket_template = socket
        self.args = args
        self.verbose = verbose
        self.ready = ready
        self.env = env
        self.parent = parent
        self.preexec_fn = preexec_fn
        self.cwd = cwd
        self.dir = None
        self.proc = None
        self._log = None
        self._final_log = None
        self.log_printed = False
        self.returncode = None

    # -- life cycle --

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="poold-wire-", dir=self.parent)
        # Another uid (test_uid) must reach the socket inside.
        os.chmod(self.dir, 0o755)
        self.sock = self._subst(self.socket_template or "@DIR@/poold.sock")
        self.log_path = os.path.join(self.dir, "poold.log")
        self.config_path = os.path.join(self.dir, "poold.conf")
        argv = poold_argv()
        if self.config is not None:
            with open(self.config_path, "w") as f:
                f.write(self._subst(self.config))
        if self.args is not None:
            argv += [self._subst(a) for a in self.args]
        else:
            argv += ["-s", self.sock]
            if self.threads is not None:
                argv += ["-t", str(self.threads)]
            if self.processes is not None:
                argv += ["-p", str(self.processes)]
            if self.verbose:
                argv += ["-v"]
            if self.config is not None:
                argv += ["-c", self.config_path]
            argv += [self._subst(a) for a in self.extra_args]
        self.argv = argv
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     close_fds=True, env=self._env(),
                                     preexec_fn=self.preexec_fn,
                                     cwd=(None if self.cwd is None
                                          else self._subst(self.cwd)))
        Daemon.live.append(self)
        Daemon.started.append(self)
        if self.ready:
            try:
                self.wait_ready()
            except BaseException:
                self.close()
                raise
        return self

    def _env(self):
        if self.env is None:
            return None
        env = dict(os.environ)
        for k, v in self.env.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = self._subst(v)
        return env

    def _subst(self, text):
        return text.replace("@DIR@", self.dir)

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        """Retry connecting until the daemon accepts, it exits, or TIMEOUT."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    "poold exited with status %s before accepting on %s\n%s"
                    % (self.proc.returncode, self.sock, self.log_excerpt()))
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect(self.sock)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise AssertionError(
                        "poold did not accept on %s within %s s\n%s"
                        % (self.sock, timeout, self.log_excerpt()))
                # Spacing between connection attempts, not a readiness guess.
                time.sleep(0.01)
            finally:
                s.close()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=DEFAULT_TIMEOUT):
        """Wait for the daemon to exit on its own; its status, or fail after
        killing it."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
            return self.returncode
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("poold did not exit within %s s\n%s"
                                 % (timeout, self.log_excerpt())) from None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Send SIG (SIGTERM) and return the exit status; kill -9 and fail
        if it does not exit within TIMEOUT."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self, grace=10.0):
        """Stop the daemon if it runs (SIGTERM, then SIGKILL after GRACE) and
        remove its directory. Fails if a daemon stopped here did not exit 0,
        or if any sanitizer report is in its log: this is how the sanitizer
        builds prove there is no leak or undefined behaviour."""
        problems = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=grace)
                if status != 0:
                    problems.append("poold exited with status %s after "
                                    "SIGTERM" % status)
            except subprocess.TimeoutExpired:
                self.kill()
                problems.append("poold pid %d ignored SIGTERM for %s s; "
                                "killed" % (self.proc.pid, grace))
        if self._log is not None:
            self._log.close()
            self._log = None
        if self in Daemon.live:
            Daemon.live.remove(self)
        if self.dir is not None:
            self._final_log = self.log_text()
            if SANITIZER_REPORT.search(self._final_log):
                problems.append("a sanitizer reported a problem")
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if problems:
            raise AssertionError("; ".join(problems) + "\n" +
                                 (self._final_log or "")[-6000:])

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.dir is not None:
            sys.stderr.write("\n--- poold log (%s) ---\n%s\n--- end ---\n"
                             % (self.log_path, self.log_excerpt()))
            self.log_printed = True
        self.close()
        return False

    # -- log --

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_text(self, since=0):
        if self._final_log is not None:
            return self._final_log[since:]
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_excerpt(self, since=0, limit=6000):
        text = self.log_text(since)
        if len(text) > limit:
            text = "[...]\n" + text[-limit:]
        return text

    def client(self, **kw):
        return Client(self.sock, **kw)


# ---------------------------------------------------------------------------
# Client


class NoAnswer(AssertionError):
    """The daemon sent nothing before the deadline."""


class ConnectionClosed(AssertionError):
    """The daemon closed the connection."""


def _key(rid):
    # 1, 1.0, true and "1" are different ids on the wire.
    return json.dumps(rid, sort_keys=True)


def _reject_constant(name):
    # Python accepts NaN and Infinity; JSON does not.
    raise ValueError("not JSON: %s" % name)


def is_notification(msg):
    return isinstance(msg, dict) and "method" in msg and "id" not in msg


def encode(obj):
    return json.dumps(obj, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8") + b"\n"


def request(method, params=None, id=None, notification=False):
    """A request object (a dict) for encode() or a batch."""
    msg = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    if not notification:
        msg["id"] = id
    return msg


class Client:
    """A blocking JSON-RPC client on one connection.

    recv() returns the next message off the wire. call()/response() match
    responses by id and keep what else arrives: server notifications in
    .notifications, other responses for later response() calls.
    """

    def __init__(self, path, timeout=DEFAULT_TIMEOUT):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = bytearray()
        self.eof = False
        self._ids = itertools.count(1)
        self.pending = {}
        self.notifications = []

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def fileno(self):
        return self.sock.fileno()

    # -- raw --

    def send_raw(self, data):
        self.sock.settimeout(DEFAULT_TIMEOUT)
        self.sock.sendall(data)

    def send(self, obj):
        self.send_raw(encode(obj))

    def recv_line(self, timeout=DEFAULT_TIMEOUT):
        """The next line from the daemon, without its newline."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return line
            if self.eof:
                if self.buf:
                    raise ConnectionClosed(
                        "connection closed after a partial line: %r"
                        % bytes(self.buf[:200]))
                raise ConnectionClosed("connection closed by the daemon")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoAnswer("no message from the daemon within %s s"
                               % timeout)
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                raise NoAnswer("no message from the daemon within %s s"
                               % timeout) from None
            except ConnectionResetError:
                # Linux reports a peer that closed with our unread bytes
                # queued as a reset, after the data it did send.
                data = b""
            if not data:
                self.eof = True
            self.buf += data

    def recv(self, timeout=DEFAULT_TIMEOUT):
        """The next message (decoded JSON) from the daemon."""
        line = self.recv_line(timeout)
        try:
            return json.loads(line.decode("utf-8"),
                              parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError("daemon sent a line that is not JSON (%s): "
                                 "%r" % (e, line[:300])) from None

    def expect_eof(self, timeout=DEFAULT_TIMEOUT):
        """Assert the daemon closes the connection without sending more."""
        try:
            msg = self.recv(timeout)
        except ConnectionClosed:
            return
        raise AssertionError("expected the connection to close; got %r"
                             % (msg,))

    # -- matched --

    def next_id(self):
        return next(self._ids)

    def request(self, method, params=None, id=None):
        """Send a request without waiting; returns its id."""
        if id is None:
            id = self.next_id()
        self.send(request(method, params, id))
        return id

    def notify(self, method, params=None):
        self.send(request(method, params, notification=True))

    def _stash(self, msg):
        if is_notification(msg):
            self.notifications.append(msg)
        elif isinstance(msg, dict):
            self.pending.setdefault(_key(msg.get("id")), []).append(msg)
        else:
            self.pending.setdefault("batch", []).append(msg)

    def response(self, id, timeout=DEFAULT_TIMEOUT):
        """The response to request ID (checked for shape)."""
        k = _key(id)
        deadline = time.monotonic() + timeout
        while True:
            if self.pending.get(k):
                msg = self.pending[k].pop(0)
                check_response(msg, id)
                return msg
            msg = self.recv(max(0.0, deadline - time.monotonic()))
            self._stash(msg)

    def call(self, method, params=None, timeout=DEFAULT_TIMEOUT, id=None):
        """Send a request and return its (shape-checked) response."""
        return self.response(self.request(method, params, id), timeout)

    def ok(self, method, params=None, timeout=DEFAULT_TIMEOUT):
        """Call and return the result; fail on an error response."""
        return result_of(self.call(method, params, timeout))

    def err(self, method, params, code, timeout=DEFAULT_TIMEOUT):
        """Call, assert error CODE and return the error object."""
        return error_of(self.call(method, params, timeout), code)

    def wait_notification(self, method, pred=None, timeout=DEFAULT_TIMEOUT):
        """The first (oldest) server notification METHOD whose params
        satisfy PRED; it is removed from .notifications."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for i in range(seen, len(self.notifications)):
                n = self.notifications[i]
                if n.get("method") == method and (
                        pred is None or pred(n.get("params"))):
                    del self.notifications[i]
                    return n
            seen = len(self.notifications)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoAnswer("no %s notification within %s s; have %r"
                               % (method, timeout, self.notifications))
            try:
                self._stash(self.recv(remaining))
            except NoAnswer:
                raise NoAnswer("no %s notification within %s s; have %r"
                               % (method, timeout, self.notifications)) \
                    from None

    def quiet(self, rounds=2, timeout=DEFAULT_TIMEOUT):
        """Round-trip ROUNDS hello requests and return every other message
        that arrived before their answers (nothing else is stashed).

        The daemon reads a connection's lines in order, so an answer it
        owed to anything sent earlier would come before these."""
        extra = []
        for _ in range(rounds):
            rid = "quiet-%d" % self.next_id()
            self.send(request("hello", None, rid))
            deadline = time.monotonic() + timeout
            while True:
                msg = self.recv(max(0.0, deadline - time.monotonic()))
                if isinstance(msg, dict) and msg.get("id") == rid:
                    result_of(msg)
                    break
                extra.append(msg)
        return extra

    # -- futures --

    def submit(self, fn, args=None, **params):
        """Submit and return the future id."""
        p = {"fn": fn}
        if args is not None:
            p["args"] = args
        p.update(params)
        r = self.ok("submit", p)
        if set(r) != {"future"} or not FUTURE_ID.match(str(r["future"])):
            raise AssertionError("submit answered %r" % (r,))
        return r["future"]

    def status(self, fid):
        obj = self.ok("status", {"future": fid})
        check_future(obj, fid)
        return obj

    def wait_state(self, fid, states, timeout=DEFAULT_TIMEOUT):
        """Poll status until the future is in one of STATES."""
        if isinstance(states, str):
            states = (states,)
        deadline = time.monotonic() + timeout
        while True:
            obj = self.status(fid)
            if obj["state"] in states:
                return obj
            if time.monotonic() > deadline:
                raise AssertionError("future %s still %s after %s s, wanted "
                                     "%s" % (fid, obj["state"], timeout,
                                             states))
            time.sleep(0.01)

    def occupy(self, seconds=30, **params):
        """Submit a sleep and return its id once a thread runs it."""
        fid = self.submit("sleep", [seconds], **params)
        self.wait_state(fid, "running")
        return fid


# ---------------------------------------------------------------------------
# Checks


def check_response(msg, id=None, any_id=False):
    """Assert MSG is one well-formed JSON-RPC 2.0 response (to ID)."""
    if not isinstance(msg, dict):
        raise AssertionError("response is not an object: %r" % (msg,))
    if msg.get("jsonrpc") != "2.0":
        raise AssertionError("response without jsonrpc 2.0: %r" % (msg,))
    if "id" not in msg:
        raise AssertionError("response without id: %r" % (msg,))
    if not any_id and _key(msg["id"]) != _key(id):
        raise AssertionError("response id %r, expected %r: %r"
                             % (msg["id"], id, msg))
    if ("result" in msg) == ("error" in msg):
        raise AssertionError("response needs exactly one of result/error: "
                             "%r" % (msg,))
    extra = set(msg) - {"jsonrpc", "id", "result", "error"}
    if extra:
        raise AssertionError("response has extra members %s: %r"
                             % (sorted(extra), msg))
    if "error" in msg:
        e = msg["error"]
        if not isinstance(e, dict) or type(e.get("code")) is not int \
                or not isinstance(e.get("message"), str) \
                or set(e) - {"code", "message", "data"}:
            raise AssertionError("malformed error object: %r" % (msg,))
    return msg


def result_of(msg):
    check_response(msg, any_id=True)
    if "error" in msg:
        raise AssertionError("expected a result, got error %r" % (msg,))
    return msg["result"]


def error_of(msg, code, id=None, any_id=True):
    """Assert MSG is error CODE (and, unless any_id, carries ID); return
    the error object."""
    check_response(msg, id, any_id=any_id)
    if "error" not in msg:
        raise AssertionError("expected error %d, got result %r"
                             % (code, msg))
    if msg["error"]["code"] != code:
        raise AssertionError("expected error %d, got %r" % (code, msg))
    return msg["error"]


def check_future(obj, fid=None):
    """Assert OBJ is a future object as PROTOCOL.md describes it."""
    if not isinstance(obj, dict):
        raise AssertionError("future object is not an object: %r" % (obj,))
    extra = set(obj) - FUTURE_KEYS
    if extra:
        raise AssertionError("future object has unknown keys %s: %r"
                             % (sorted(extra), obj))
    for k in ("future", "fn", "executor", "state", "submitted"):
        if k not in obj:
            raise AssertionError("future object lacks %r: %r" % (k, obj))
    if fid is not None and obj["future"] != fid:
        raise AssertionError("future object for %r, expected %r"
                             % (obj["future"], fid))
    st = obj["state"]
    if st not in STATES:
        raise AssertionError("unknown state %r" % (st,))
    for k in ("submitted", "started", "finished"):
        if k in obj and not _is_number(obj[k]):
            raise AssertionError("%s is not a number: %r" % (k, obj))
    if ("result" in obj) and st != "finished":
        raise AssertionError("result present in state %s: %r" % (st, obj))
    if ("error" in obj) != (st == "failed"):
        raise AssertionError("error present iff failed: %r" % (obj,))
    if st == "pending" and ({"started", "finished"} & set(obj)):
        raise AssertionError("pending future with times: %r" % (obj,))
    if st == "running" and ("started" not in obj or "finished" in obj):
        raise AssertionError("running future times wrong: %r" % (obj,))
    if st in ("finished", "failed"):
        if "started" not in obj or "finished" not in obj:
            raise AssertionError("%s future lacks started/finished: %r"
                                 % (st, obj))
        if not obj["submitted"] <= obj["started"] <= obj["finished"]:
            raise AssertionError("times out of order: %r" % (obj,))
    if st == "failed":
        e = obj["error"]
        if not isinstance(e, dict) or not isinstance(e.get("type"), str) \
                or not isinstance(e.get("message"), str):
            raise AssertionError("malformed task error: %r" % (obj,))
    if "attempts" in obj and type(obj["attempts"]) is not int:
        raise AssertionError("attempts is not an integer: %r" % (obj,))
    return obj


def _is_number(v):
    return type(v) in (int, float)


def wait_until(pred, timeout=DEFAULT_TIMEOUT, what=None, interval=0.02):
    """Call PRED (typically a question to the daemon) until it returns a
    true value and return that value; fail after TIMEOUT seconds, naming
    WHAT and showing PRED's last answer."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("%s: not so after %s s; last: %r"
                                 % (what or "condition", timeout, value))
        # Spacing between questions, not a guess at when it will be so.
        time.sleep(interval)


def plugin_path(name):
    """The built plugin NAME.so in $POOLD_PLUGIN_DIR (None when unset)."""
    d = os.environ.get("POOLD_PLUGIN_DIR")
    if not d:
        return None
    return os.path.join(d, name + ".so")


def daemon_as_nobody(case, prefix, **kwargs):
    """(a Daemon, nobody's passwd entry): the daemon to run as nobody, in
    a home of its own (a fresh directory nobody owns, where its socket
    is). Skips CASE without root or a user nobody."""
    if os.geteuid() != 0:
        case.skipTest("needs root to become nobody")
    try:
        pw = pwd.getpwnam("nobody")
    except KeyError:
        case.skipTest("no user nobody")
    home = tempfile.mkdtemp(prefix=prefix)
    case.addCleanup(shutil.rmtree, home, True)
    os.chown(home, pw.pw_uid, pw.pw_gid)

    def drop():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    return Daemon(socket=home + "/poold.sock", preexec_fn=drop, cwd=home,
                  **kwargs), pw


def plugin_args(*names):
    """Command-line flags loading NAMES (default: testing and examples)
    from $POOLD_PLUGIN_DIR."""
    args = []
    for name in names or ("testing", "examples"):
        args += ["--plugin", plugin_path(name)]
    return args


def assert_alive(path, timeout=DEFAULT_TIMEOUT):
    """Open a fresh connection and check hello answers."""
    with Client(path, timeout=timeout) as c:
        r = c.ok("hello", timeout=timeout)
        if not isinstance(r, dict) or r.get("name") != "poold":
            raise AssertionError("hello answered %r" % (r,))


# ---------------------------------------------------------------------------
# Test case base


class Case(unittest.TestCase):
    """Prints the log of every live daemon when a test fails."""

    def _failures(self):
        # The result records a failure as it happens, before tearDown.
        result = getattr(getattr(self, "_outcome", None), "result", None)
        try:
            return len(result.failures) + len(result.errors)
        except AttributeError:
            return 0

    def setUp(self):
        self._log_marks = {id(d): d.log_size() for d in Daemon.live}
        self._started_before = len(Daemon.started)
        self._failures_before = self._failures()
        # Cleanups run after tearDown and may close per-test daemons, so
        # the logs are printed from the first cleanup registered.
        self.addCleanup(self._print_logs_on_failure)

    def _print_logs_on_failure(self):
        if self._failures() == self._failures_before:
            return
        used = [d for d in Daemon.live if id(d) in self._log_marks]
        used += Daemon.started[self._started_before:]
        for d in used:
            if d.log_printed:
                continue
            since = self._log_marks.get(id(d), 0)
            sys.stderr.write("\n--- poold log for %s (%s) ---\n%s\n"
                             "--- end ---\n"
                             % (self.id(), d.log_path, d.log_excerpt(since)))

    def assertError(self, msg, code, id=None, any_id=False):
        return error_of(msg, code, id, any_id)

    def assertTiming(self, elapsed, low, high):
        self.assertGreaterEqual(elapsed, low)
        self.assertLess(elapsed, high)


# ---------------------------------------------------------------------------
# Another uid


class SharedDaemon(Case):
    """One daemon for the whole class, made with the keyword arguments in
    DAEMON, and a fresh client per test as self.c."""

    DAEMON = {}

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(**cls.DAEMON).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.close()

    def setUp(self):
        super().setUp()
        self.c = self.d.client()
        self.addCleanup(self.c.close)


def run_as(uid, gid, fn, *args, groups=(), timeout=30.0):
    """Run FN(*ARGS) in a forked child under UID/GID with supplementary
    GROUPS and return its JSON-able return value. An exception in the
    child fails the caller with the child's traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups(list(groups))
            os.setgid(gid)
            os.setuid(uid)
            out = {"value": fn(*args)}
        except BaseException:
            out = {"exception": traceback.format_exc()}
        try:
            data = json.dumps(out).encode()
            while data:
                data = data[os.write(w, data):]
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("child under uid %d did not finish "
                                     "within %s s" % (uid, timeout))
            ready, _, _ = select.select([r], [], [], remaining)
            if not ready:
                continue
            data = os.read(r, 1 << 16)
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    try:
        out = json.loads(b"".join(chunks))
    except ValueError:
        raise AssertionError("child under uid %d died without an answer"
                             % uid) from None
    if "exception" in out:
        raise AssertionError("in the child under uid %d:\n%s"
                             % (uid, out["exception"]))
    return out["value"]

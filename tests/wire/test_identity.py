"""Every task runs as the user who submitted it (DESIGN.md, "Who a task
runs as"), on both executors.

Needs root: the daemon runs as root, and two users made for the test
(with useradd; removed at the end) submit tasks from forked children
that took their uids. nobody stands in for a user whose home does not
exist, and a uid with no passwd entry for a stranger.
"""

import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (EXIT_SKIP, Case, Client, Daemon,  # noqa: E402
                       assert_alive, main, plugin_args, plugin_path,
                       run_as, wait_until)

EXECUTORS = ("process", "thread")
STRANGER = 54321          # no passwd entry
MARK = "POOLD_IDENTITY_MARK"
TIMEOUT = 30


class User:
    """A user made for the test: its name, ids, groups and home."""

    def __init__(self, name, home=None, made=True):
        pw = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, pw.pw_uid, pw.pw_gid
        self.home = home or pw.pw_dir
        self.shell = pw.pw_shell
        self.groups = sorted(set(os.getgrouplist(name, pw.pw_gid)))
        self.made = made

    def run(self, fn, *args):
        """FN(*ARGS) in a child that took this user's uid and gid."""
        return run_as(self.uid, self.gid, fn, *args, timeout=60)

    def call(self, sock, method, params):
        return self.run(_call, sock, method, params)


def _call(sock, method, params):
    with Client(sock, timeout=TIMEOUT) as c:
        return c.call(method, params, timeout=TIMEOUT)


def _results(sock, submits):
    """In a child: submit each (fn, args, params), then every result."""
    with Client(sock, timeout=TIMEOUT) as c:
        fids = [c.submit(fn, args, **params) for fn, args, params in submits]
        return [c.call("result", {"future": f, "timeout": TIMEOUT},
                       timeout=TIMEOUT + 5) for f in fids]


BASE = None
GROUP = None
A = B = NOBODY = None


def _run(*argv):
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def setUpModule():
    global BASE, GROUP, A, B, NOBODY
    BASE = tempfile.mkdtemp(prefix="poold-identity-", dir="/tmp")
    os.chmod(BASE, 0o755)
    tag = "pdt%d" % (os.getpid() % 100000)
    GROUP = tag + "g"
    _run("groupadd", GROUP)
    users = []
    try:
        for suffix in ("a", "b"):
            name = tag + suffix
            home = os.path.join(BASE, "home-" + suffix)
            _run("useradd", "--create-home", "--home-dir", home,
                 "--shell", "/bin/sh", "--groups", GROUP, name)
            users.append(User(name))
    except BaseException:
        for u in users:
            subprocess.run(["userdel", u.name], stderr=subprocess.DEVNULL)
        subprocess.run(["groupdel", GROUP], stderr=subprocess.DEVNULL)
        raise
    A, B = users
    NOBODY = User("nobody", made=False)


def tearDownModule():
    for u in (A, B):
        if u is not None:
            subprocess.run(["userdel", u.name], stderr=subprocess.DEVNULL)
    if GROUP is not None:
        subprocess.run(["groupdel", GROUP], stderr=subprocess.DEVNULL)
    if BASE is not None:
        shutil.rmtree(BASE, ignore_errors=True)


def start(threads=4, processes=2, config=None, env=None):
    """A root daemon every user may reach, once its workers are up."""
    config = "kill_timeout = 0.5\nshutdown_timeout = 2\n" + (config or "")
    d = Daemon(threads=threads, processes=processes, config=config,
               extra_args=plugin_args(), env=env, parent="/tmp").start()
    try:
        os.chmod(d.sock, 0o666)
        with d.client() as c:
            wait_until(lambda: [w["state"] for w in c.ok("workers")] ==
                       ["idle"] * processes, what="the workers start")
    except BaseException:
        d.close()
        raise
    return d


def result(msg):
    if "error" in msg:
        raise AssertionError("expected a result, got %r" % (msg,))
    return msg["result"]


def proc_ids(pid):
    """(uids, gids, groups) of a live process, from /proc/PID/status."""
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()
    return ([int(x) for x in fields["Uid"]], [int(x) for x in fields["Gid"]],
            sorted(int(x) for x in fields["Groups"]))


class Identity(Case):
    """What a task is, and what it may touch, is its owner's."""

    @classmethod
    def setUpClass(cls):
        cls.d = start(env={MARK: "daemon"})
        cls.c = cls.d.client()
        cls.shared = tempfile.mkdtemp(prefix="shared-", dir=BASE)
        os.chmod(cls.shared, 0o1777)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.d.close()

    def exec_results(self, user, args, executor, **kwargs):
        return [result(r) for r in user.run(_results, self.d.sock, [
            ("exec", args, dict(executor=executor, kwargs=kwargs))])][0]

    def test_exec_runs_with_the_owners_ids(self):
        for user in (A, B, NOBODY):
            for ex in EXECUTORS:
                with self.subTest(user=user.name, executor=ex):
                    out = [result(r)["stdout"] for r in user.run(
                        _results, self.d.sock,
                        [("exec", [prog, opt], {"executor": ex})
                         for prog, opt in (("id", "-u"), ("id", "-g"),
                                           ("id", "-G"))])]
                    self.assertEqual(out[0], "%d\n" % user.uid)
                    self.assertEqual(out[1], "%d\n" % user.gid)
                    self.assertEqual(sorted(int(g) for g in out[2].split()),
                                     user.groups)
        # Root's own tasks stay root's.
        fid = self.c.submit("exec", ["id", "-u"], executor="thread")
        self.assertEqual(self.c.ok("result", {"future": fid})["stdout"],
                         "0\n")

    def test_a_map_runs_as_its_owner(self):
        for ex in EXECUTORS:
            with self.subTest(executor=ex):
                fid = A.run(_submit_map, self.d.sock, ex)
                self.assertEqual(
                    [r["stdout"] for r in self.c.ok(
                        "result", {"future": fid, "timeout": TIMEOUT},
                        timeout=TIMEOUT + 5)],
                    ["%d\n" % A.uid] * 5)

    def test_files_a_task_writes_are_the_owners(self):
        for ex in EXECUTORS:
            with self.subTest(executor=ex):
                path = os.path.join(self.shared, "written-" + ex)
                r = self.exec_results(A, ["sh", "-c", "echo hi > " + path],
                                      ex)
                self.assertEqual(r["exit_code"], 0, r)
                st = os.stat(path)
                self.assertEqual((st.st_uid, st.st_gid), (A.uid, A.gid))

    def test_clean_environment_and_home(self):
        for ex in EXECUTORS:
            with self.subTest(executor=ex):
                out = self.exec_results(A, ["env"], ex)["stdout"]
                env = dict(line.split("=", 1) for line in out.splitlines())
                self.assertEqual(set(env), {"HOME", "USER", "LOGNAME",
                                            "SHELL", "PATH"})
                self.assertEqual((env["HOME"], env["USER"], env["LOGNAME"],
                                  env["SHELL"]),
                                 (A.home, A.name, A.name, "/bin/sh"))
                self.assertTrue(env["PATH"].startswith("/"), env)
                out = self.exec_results(A, ["env"], ex,
                                        env={"X": "1", "PATH": "/bin",
                                             "HOME": None})["stdout"]
                env = dict(line.split("=", 1) for line in out.splitlines())
                self.assertEqual((env.get("X"), env.get("PATH"),
                                  "HOME" in env, MARK in env),
                                 ("1", "/bin", False, False))
                # Its home is where it starts, and what a relative cwd
                # starts from.
                os.makedirs(os.path.join(A.home, "sub"), exist_ok=True)
                self.assertEqual(self.exec_results(A, ["pwd", "-P"], ex)
                                 ["stdout"], os.path.realpath(A.home) + "\n")
                self.assertEqual(
                    self.exec_results(A, ["pwd", "-P"], ex, cwd="sub")
                    ["stdout"], os.path.realpath(A.home) + "/sub\n")
                # A home that does not exist: / instead, as login does.
                self.assertEqual(self.exec_results(NOBODY, ["pwd"], ex)
                                 ["stdout"], "/\n")
        # Root's tasks keep the daemon's environment, as poold's own user.
        fid = self.c.submit("exec", ["env"], executor="thread")
        self.assertIn(MARK + "=daemon",
                      self.c.ok("result", {"future": fid})["stdout"])

    def test_what_only_root_may_use_fails_with_the_owners_errno(self):
        private = tempfile.mkdtemp(prefix="root-only-", dir=BASE)
        os.chmod(private, 0o700)
        script = os.path.join(BASE, "root-only.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho ran\n")
        os.chmod(script, 0o700)
        bindir = tempfile.mkdtemp(prefix="bin-", dir=BASE)
        os.chmod(bindir, 0o755)
        shutil.copy(script, os.path.join(bindir, "poold-root-only"))
        for ex in EXECUTORS:
            for what, args, kwargs in (
                    ("cwd", ["true"], {"cwd": private}),
                    ("program", [script], {}),
                    ("program on PATH", ["poold-root-only"],
                     {"env": {"PATH": bindir}})):
                with self.subTest(executor=ex, what=what):
                    r = A.run(_results, self.d.sock, [
                        ("exec", args, {"executor": ex, "kwargs": kwargs})])
                    err = r[0]["error"]
                    self.assertEqual(err["code"], -32003, r)
                    self.assertEqual(err["data"]["type"], "ExecError")
                    self.assertEqual(err["data"]["errno"], 13)
                    # Root may: the check was the owner's, not poold's.
                    fid = self.c.submit("exec", args, executor=ex,
                                        kwargs=kwargs)
                    self.assertEqual(self.c.ok("result", {"future": fid})
                                     ["exit_code"], 0)

    def test_initializers_run_as_the_owner(self):
        for user in (A, B):
            r = user.run(_results, self.d.sock,
                         [("init_uid", [], {"executor": "process"})])
            self.assertEqual(result(r[0]), user.uid)

    def test_workers_serve_one_uid(self):
        pids = {A.uid: set(), B.uid: set()}
        for _ in range(6):
            for user in (A, B):
                out = user.run(_pids_of, self.d.sock, 2)
                pids[user.uid] |= set(out)
        self.assertFalse(pids[A.uid] & pids[B.uid], pids)
        # The workers list says so, and so does the kernel.
        fid = A.run(_submit, self.d.sock, "sleep", [30],
                    {"executor": "process"})
        pid = self.c.wait_state(fid, "running")["worker"]
        workers = {w["pid"]: w for w in self.c.ok("workers")}
        self.assertEqual(workers[pid]["uid"], A.uid)
        # "running" is the daemon's word once the task is sent; the
        # worker takes the owner's ids as it reads it, before running it.
        wait_until(lambda: proc_ids(pid)[0] != [0] * 4, 30,
                   "worker %d leaves root's ids" % pid)
        uids, gids, groups = proc_ids(pid)
        self.assertEqual(uids, [A.uid] * 4)
        self.assertEqual(gids, [A.gid] * 4)
        self.assertEqual(groups, A.groups)
        self.assertTrue(self.c.ok("cancel", {"future": fid,
                                             "force": True})["cancelled"])

    def test_cannot_signal_or_read_another_users_worker(self):
        fid = A.run(_submit, self.d.sock, "sleep", [30],
                    {"executor": "process"})
        pid = self.c.wait_state(fid, "running")["worker"]
        probe = ("kill -0 %d 2>/dev/null; echo $?; "
                 "cat /proc/%d/environ >/dev/null 2>&1; echo $?" % (pid, pid))
        for ex in EXECUTORS:
            with self.subTest(executor=ex):
                r = self.exec_results(B, ["sh", "-c", probe], ex)
                self.assertEqual(r["stdout"], "1\n1\n", r)
        self.assertEqual(self.c.status(fid)["state"], "running")
        self.c.ok("cancel", {"future": fid, "force": True})

    def test_thread_plugin_functions_only_for_root(self):
        for call in (("submit", {"fn": "is_prime", "args": [7],
                                 "executor": "thread"}),
                     ("map", {"fn": "is_prime", "iterable": [7],
                              "executor": "thread"})):
            with self.subTest(method=call[0]):
                r = A.call(self.d.sock, *call)
                e = self.assertError(r, -32007, any_id=True)
                self.assertEqual(e["data"], {"fn": "is_prime",
                                             "executor": "thread"})
                # Root may.
                self.assertNotIn("error", self.c.call(*call))
        # What runs in a worker, or is poold's own, anyone may.
        out = A.run(_results, self.d.sock, [
            ("is_prime", [7], {}), ("echo", ["x"], {"executor": "thread"}),
            ("sleep", [0], {"executor": "thread"})])
        self.assertEqual([result(r) for r in out], [True, "x", 0])

    def test_unknown_uid_is_refused_at_submit(self):
        before = self.c.ok("stats")["submitted"]

        def child(sock):
            with Client(sock) as c:
                return [c.call("submit", {"fn": "echo", "args": [1]}),
                        c.call("map", {"fn": "echo", "iterable": [1]}),
                        c.call("hello")]

        sub, mp, hello = run_as(STRANGER, STRANGER, child, self.d.sock)
        for r in (sub, mp):
            e = self.assertError(r, -32007, any_id=True)
            self.assertEqual(e["data"], {"uid": STRANGER})
            self.assertIn("user database", e["message"])
        self.assertEqual(hello["result"]["name"], "poold")
        self.assertEqual(self.c.ok("stats")["submitted"], before)
        assert_alive(self.d.sock)


def _submit(sock, fn, args, params):
    with Client(sock) as c:
        return c.submit(fn, args, **params)


def _submit_map(sock, executor):
    with Client(sock) as c:
        r = c.ok("map", {"fn": "exec", "iterable": [["id", "-u"]] * 5,
                         "star": True, "chunksize": 2,
                         "executor": executor})
        return r["future"]


def _pids_of(sock, n):
    """The workers that ran N tasks of this uid, run side by side."""
    with Client(sock, timeout=TIMEOUT) as c:
        fids = [c.submit("sleep", [0.05], executor="process")
                for _ in range(n)]
        for f in fids:
            c.ok("result", {"future": f, "timeout": TIMEOUT},
                 timeout=TIMEOUT + 5)
        return [c.status(f)["worker"] for f in fids]


def memory_holds(pid, needle, chunk=1 << 20):
    """Whether a readable mapping of PID holds NEEDLE (root reads it).
    Mappings of a GiB or more (a sanitizer's shadow) are passed over."""
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(x, 16) for x in span.split("-"))
            if perms[0] != "r" or end - start >= 1 << 30 or \
                    line.rstrip().endswith("[vvar]"):
                continue
            tail = b""
            for at in range(start, end, chunk):
                try:
                    mem.seek(at)
                    data = tail + mem.read(min(chunk, end - at))
                except OSError:
                    break
                if needle in data:
                    return True
                tail = data[-len(needle):]
    return False


class CleanWorkers(Case):
    def test_a_users_worker_holds_nothing_of_others(self):
        """A worker made after poold has other users' data in memory does
        not carry a copy of it to its owner."""
        secret = os.urandom(16).hex()
        with start(processes=1) as d, d.client() as c:
            fid = c.submit("echo", [secret], executor="thread")
            self.assertEqual(c.ok("result", {"future": fid}), secret)
            # The test can see it where it is: in poold.
            self.assertTrue(memory_holds(d.pid, secret.encode()))
            # A's worker dies, and its replacement is made now.
            r, = A.run(_results, d.sock, [("exit", [3], {})])
            self.assertEqual(r["error"]["data"]["type"], "WorkerCrashed")
            fid = A.run(_submit, d.sock, "sleep", [30],
                        {"executor": "process"})
            pid = c.wait_state(fid, "running")["worker"]
            self.assertEqual(proc_ids(pid)[0], [A.uid] * 4)
            self.assertFalse(memory_holds(pid, secret.encode()))
            c.ok("cancel", {"future": fid, "force": True})


class AdminGroup(Case):
    def test_admins_are_not_root(self):
        with start(config="admin_group = %s\n" % GROUP) as d, \
                d.client() as c:
            roots = c.submit("echo", [1])

            def child(sock):
                with Client(sock) as ac:
                    return [ac.call("status", {"future": roots}),
                            ac.call("submit", {"fn": "is_prime",
                                               "args": [7],
                                               "executor": "thread"})]

            status, submit = run_as(A.uid, A.gid, child, d.sock,
                                    groups=[grp.getgrnam(GROUP).gr_gid])
            # A is an admin through the group: it sees root's future...
            self.assertEqual(result(status)["future"], roots)
            # ...and still may not run plugin code inside poold.
            self.assertError(submit, -32007, any_id=True)


def _submit_many(sock, submits, conns):
    """Submit SUBMITS (fn, args, params) spread over CONNS connections,
    and maps (fn "map:", params) as they come; the future ids."""
    clients = [Client(sock, timeout=TIMEOUT) for _ in range(conns)]
    try:
        fids = []
        for i, (fn, args, params) in enumerate(submits):
            c = clients[i % conns]
            if fn == "map":
                fids.append(c.ok("map", params)["future"])
            else:
                fids.append(c.submit(fn, args, **params))
        return fids
    finally:
        for c in clients:
            c.close()


class FairShare(Case):
    """Equal-priority work interleaves between uids, however many
    connections each uses; a uid can be capped; no uid keeps the pool."""

    def release_and_wait(self, d, c, occupier, fids):
        c.ok("cancel", {"future": occupier, "force": True})
        c.ok("wait", {"futures": fids, "timeout": 60}, timeout=70)
        for f in fids:
            self.assertEqual(c.ok("status", {"future": f})["state"],
                             "finished")

    def test_uids_take_turns_on_the_thread_executor(self):
        with start(threads=1) as d, d.client() as c:
            log = os.path.join(BASE, "order-%d" % os.getpid())
            with open(log, "w"):
                pass
            os.chmod(log, 0o666)
            self.addCleanup(os.unlink, log)
            occupier = c.submit("exec", ["sleep", "30"], executor="thread")
            c.wait_state(occupier, "running")

            def line(who):
                return ["sh", "-c", "echo %s >> %s" % (who, log)]

            thread = {"executor": "thread"}
            # A: two connections of single tasks and one of a map.
            mine = [("exec", line("A"), thread)] * 12 + [
                ("map", None, {"fn": "exec", "iterable": [line("A")] * 6,
                               "star": True, "chunksize": 1,
                               "executor": "thread"})]
            fids = A.run(_submit_many, d.sock, mine, 3)
            fids += B.run(_submit_many, d.sock,
                          [("exec", line("B"), thread)] * 6, 1)
            self.release_and_wait(d, c, occupier, fids)
            with open(log) as f:
                order = "".join(f.read().split())
            self.assertEqual(sorted(order), ["A"] * 18 + ["B"] * 6)
            # Turns alternate: B's six are within the first twelve, where
            # per-connection turns would have spread them over all 24.
            self.assertEqual(order[:12].count("B"), 6, order)

    def test_one_uids_backlog_does_not_hold_the_pool(self):
        with start(processes=2) as d, d.client() as c:
            backlog = A.run(_submit_many, d.sock,
                            [("sleep", [0.1], {"executor": "process"})] * 12,
                            1)
            wait_until(lambda: c.ok("stats")["process"]["busy"] == 2,
                       what="A's tasks hold both workers")
            late, = B.run(_submit_many, d.sock,
                          [("sleep", [0.1], {"executor": "process"})], 1)
            c.ok("wait", {"futures": backlog + [late], "timeout": 60},
                 timeout=70)
            started = c.status(late)["started"]
            before = [f for f in backlog
                      if c.status(f)["started"] < started]
            # Two were running, and B's turn comes within a task or two.
            self.assertLessEqual(len(before), 5, before)

    def test_idle_workers_of_one_uid_make_room_for_another(self):
        with start(processes=2) as d, d.client() as c:
            a_pids = set(A.run(_pids_of, d.sock, 2))
            self.assertEqual(len(a_pids), 2)
            self.assertEqual(sorted(w["uid"] for w in c.ok("workers")
                                    if w["state"] == "idle"),
                             [A.uid, A.uid])
            r, = B.run(_results, d.sock, [("exec", ["id", "-u"], {})])
            self.assertEqual(result(r)["stdout"], "%d\n" % B.uid)
            wait_until(lambda: sorted(w["uid"] for w in c.ok("workers")
                                      if w["state"] == "idle") ==
                       sorted([A.uid, B.uid]),
                       what="one worker each")
            b_pids = set(B.run(_pids_of, d.sock, 1))
            self.assertFalse(a_pids & b_pids)

    def test_cap_per_uid(self):
        for ex in EXECUTORS:
            with self.subTest(executor=ex), \
                    start(threads=3, processes=3,
                          config="max_workers_per_uid = 1\n") as d, \
                    d.client() as c:
                fn, args = (("exec", ["sleep", "30"]) if ex == "thread"
                            else ("sleep", [30]))
                fids = A.run(_submit_many, d.sock,
                             [(fn, args, {"executor": ex})] * 3, 1)
                states = [c.status(f)["state"] for f in fids]
                self.assertEqual(states, ["running", "pending", "pending"])
                uids = {u["uid"]: u for u in c.ok("stats")["uids"]}
                self.assertEqual(uids[A.uid], {"uid": A.uid, "pending": 2,
                                               "running": 1})
                # B is not held back by A's cap.
                other, = B.run(_submit_many, d.sock,
                               [(fn, args, {"executor": ex})], 1)
                self.assertEqual(c.status(other)["state"], "running")
                # A's next starts only as its first ends.
                c.ok("cancel", {"future": fids[0], "force": True})
                c.wait_state(fids[1], "running")
                self.assertEqual(c.status(fids[2])["state"], "pending")
                for f in fids[1:] + [other]:
                    c.ok("cancel", {"future": f, "force": True})


def _drop_to_nobody():
    os.setgroups([])
    os.setgid(NOBODY.gid)
    os.setuid(NOBODY.uid)


class NotRoot(Case):
    """Run as an ordinary user, poold serves that user alone: its socket
    directory is 0700, and nothing changes identity."""

    def test_nothing_changes_identity(self):
        home = tempfile.mkdtemp(prefix="nobody-", dir=BASE)
        os.chown(home, NOBODY.uid, NOBODY.gid)
        d = Daemon(threads=2, processes=1, extra_args=plugin_args(),
                   socket=home + "/run/poold.sock", parent="/tmp",
                   preexec_fn=_drop_to_nobody, cwd=home,
                   env={MARK: "daemon"})
        with d, d.client() as c:
            mode = stat.S_IMODE(os.stat(home + "/run").st_mode)
            self.assertEqual(mode, 0o700)
            for ex in EXECUTORS:
                with self.subTest(executor=ex):
                    # Root's task runs as poold's user, with its
                    # environment, as does poold's user's own.
                    fid = c.submit("exec", ["sh", "-c",
                                            "id -u; echo $" + MARK],
                                   executor=ex)
                    self.assertEqual(c.ok("result", {"future": fid})
                                     ["stdout"],
                                     "%d\ndaemon\n" % NOBODY.uid)
                    r, = NOBODY.run(_results, d.sock,
                                    [("exec", ["id", "-u"],
                                      {"executor": ex})])
                    self.assertEqual(result(r)["stdout"],
                                     "%d\n" % NOBODY.uid)
                    # Plugins on the thread executor: poold's own user's.
                    r, = NOBODY.run(_results, d.sock,
                                    [("is_prime", [7], {"executor": ex})])
                    self.assertIs(result(r), True)
            self.assertEqual({w["uid"] for w in c.ok("workers")},
                             {NOBODY.uid})


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_identity.py needs root to act as other users: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    if plugin_path("testing") is None or shutil.which("useradd") is None:
        print("needs $POOLD_PLUGIN_DIR and useradd: skipped",
              file=sys.stderr)
        sys.exit(EXIT_SKIP)
    main()

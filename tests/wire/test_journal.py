"""The state directory: futures outlive the daemon.

A mixed load (done, running, pending futures of two owners, maps) is cut
by kill -9 and taken up by a daemon started on the same directory; a
journal whose tail is torn or corrupt still starts; a full filesystem
refuses new work with -32008 and everything else goes on, until space
comes back; and compaction keeps the journal bounded over many cycles.

The journal is read here by its documented format (a header, then records
of length, CRC-32, type and id), independently of the daemon's reader.
"""

import os
import pwd
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pooldtest import (Case, Client, Daemon, assert_alive,  # noqa: E402
                       encode, error_of, main, plugin_args, request,
                       result_of, run_as, wait_until)

TASK_TIMEOUT = 30.0
STATE_UNAVAILABLE = -32008
UNKNOWN_FUTURE = -32000

ACCEPT, START, END, DROP, NEXT_ID = 1, 2, 3, 4, 5

try:
    _pw = pwd.getpwnam("nobody")
    NOBODY_UID, NOBODY_GID = _pw.pw_uid, _pw.pw_gid
except KeyError:
    NOBODY_UID = NOBODY_GID = 65534


def journal_records(path):
    """The file's bytes and its good records as (offset, size, type, id),
    read by the format the README documents."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"POOLDJNL" or len(data) < 16:
        raise AssertionError("%s has no journal header" % path)
    version, crc = struct.unpack_from("<II", data, 8)
    if version != 1 or zlib.crc32(data[:12]) != crc:
        raise AssertionError("%s: bad header" % path)
    off, out = 16, []
    while off + 17 <= len(data):
        n, crc = struct.unpack_from("<II", data, off)
        if off + 8 + n > len(data):
            break
        if zlib.crc32(data[off + 8:off + 8 + n],
                      zlib.crc32(data[off:off + 4])) != crc:
            break
        out.append((off, 8 + n, data[off + 8],
                    "f-%016x" % struct.unpack_from("<Q", data, off + 9)[0]))
        off += 8 + n
    return data, out


def pipelined(c, calls):
    """Send every (method, params) at once; their responses in order."""
    c.send_raw(b"".join(encode(request(m, p, "pl-%d" % i))
                        for i, (m, p) in enumerate(calls)))
    return [c.response("pl-%d" % i, TASK_TIMEOUT) for i in range(len(calls))]


def barrier(c):
    """Return once every record made so far is written: a submission is
    answered only after its own record, and records are written in order.
    The barrier's future itself is left as it may be."""
    return c.submit("echo", ["barrier"])


def submit_as(sock, fn, args):
    with Client(sock) as c:
        fid = c.submit(fn, args)
        return fid, c.ok("result", {"future": fid})


def submit_pending_as(sock, fn, args):
    with Client(sock) as c:
        return c.submit(fn, args)


def statuses_as(sock, ids):
    with Client(sock) as c:
        return [c.call("status", {"future": f}) for f in ids]


class StateCase(Case):
    """A state directory per test, removed after it."""

    def setUp(self):
        super().setUp()
        # Under /tmp: another uid must reach the daemon's socket.
        self.state = tempfile.mkdtemp(prefix="poold-state-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.state, True)
        self.journal = os.path.join(self.state, "journal")

    def daemon(self, config="", threads=2, processes=1, ready=True,
               state=None, plugins=("testing",)):
        d = Daemon(threads=threads, processes=processes, parent="/tmp",
                   config="shutdown_timeout = 0.5\nkill_timeout = 0.5\n" +
                   config, ready=ready,
                   extra_args=["--state-dir", state or self.state] +
                   plugin_args(*plugins))
        d.start()
        self.addCleanup(d.close)
        if ready:
            os.chmod(d.sock, 0o666)
        return d

    def killed(self, d):
        """kill -9, as the OOM killer would."""
        d.kill()
        self.assertEqual(d.proc.returncode, -signal.SIGKILL)


class KillRestart(StateCase):
    """Every accepted future ends right after a kill -9 and a restart."""

    CONFIG = ""

    def test_mixed_load_survives_kill(self):
        root = os.getuid() == 0
        d = self.daemon(self.CONFIG)
        c = d.client()
        self.addCleanup(c.close)
        done_ok = c.submit("echo", [{"k": [1, "two", None, 2.5]}])
        c.ok("result", {"future": done_ok})
        done_fail = c.submit("fail", ["boom"])
        error_of(c.call("result", {"future": done_fail}), -32003)
        gone = c.submit("echo", ["gone"])
        c.ok("result", {"future": gone})
        self.assertEqual(c.ok("forget", {"futures": [gone]}),
                         {"forgotten": 1})
        # On the process executor: its result is kept as the answers'
        # text, and so recorded.
        map_done = c.ok("map", {"fn": "echo", "executor": "process",
                                "iterable": [1, [2], "3"]})["future"]
        self.assertEqual(c.ok("result", {"future": map_done}),
                         [1, [2], "3"])
        if root:
            nobody_done, _ = run_as(NOBODY_UID, NOBODY_GID, submit_as,
                                    d.sock, "echo", ["mine"])

        # Both threads and the one worker busy: what follows waits.
        rerun = c.submit("sleep", [4], retries=1)
        stuck = c.submit("sleep", [600], retries=0)
        proc = c.submit("sleep", [600], executor="process")
        for f in (rerun, stuck, proc):
            c.wait_state(f, "running", TASK_TIMEOUT)
        prios = [0, 2, 1, 2, 0, 1]
        pending = [c.submit("echo", [i], priority=p)
                   for i, p in enumerate(prios)]
        map_pending = c.ok("map", {"fn": "echo", "iterable": [7, 8, 9],
                                   "chunksize": 2})["future"]
        cancelled = c.submit("echo", ["never"])
        self.assertTrue(c.ok("cancel", {"future": cancelled})["cancelled"])
        if root:
            nobody_pending = run_as(NOBODY_UID, NOBODY_GID,
                                    submit_pending_as, d.sock, "echo",
                                    ["theirs"])

        before = {f: c.ok("status", {"future": f})
                  for f in [done_ok, done_fail, map_done, cancelled,
                            rerun, stuck, proc, map_pending] + pending}
        if root:
            before[nobody_done] = c.status(nobody_done)
        for f in pending + [map_pending]:
            self.assertEqual(before[f]["state"], "pending", before[f])
        for f in (rerun, stuck, proc):
            self.assertEqual(before[f]["state"], "running", before[f])
        old_ids = [int(f[2:], 16) for f in before]
        barrier(c)
        self.killed(d)

        d2 = self.daemon(self.CONFIG)
        c2 = d2.client()
        self.addCleanup(c2.close)
        for f in (done_ok, done_fail, map_done, cancelled):
            self.assertEqual(c2.ok("status", {"future": f}), before[f])
        self.assertEqual(c2.ok("result", {"future": done_ok}),
                         {"k": [1, "two", None, 2.5]})
        self.assertEqual(c2.ok("result", {"future": map_done}),
                         [1, [2], "3"])
        self.assertEqual(error_of(c2.call("result", {"future": done_fail}),
                                  -32003)["data"]["message"], "boom")
        error_of(c2.call("status", {"future": gone}), UNKNOWN_FUTURE)

        for f in (stuck, proc):
            st = c2.status(f)
            self.assertEqual(st["state"], "failed", st)
            self.assertEqual(st["error"]["type"], "Interrupted")
            self.assertEqual(st["attempts"], 1)
            self.assertEqual(st["started"], before[f]["started"])

        self.assertEqual(c2.ok("result", {"future": rerun,
                                          "timeout": TASK_TIMEOUT}), 4)
        self.assertEqual(c2.status(rerun)["attempts"], 2)
        for i, f in enumerate(pending):
            self.assertEqual(c2.ok("result", {"future": f,
                                              "timeout": TASK_TIMEOUT}), i)
        self.assertEqual(c2.ok("result", {"future": map_pending,
                                          "timeout": TASK_TIMEOUT}),
                         [7, 8, 9])
        # Higher priority first, equal ones in submission order.
        order = sorted(range(len(prios)), key=lambda i: (-prios[i], i))
        started = [c2.status(pending[i])["started"] for i in order]
        self.assertEqual(started, sorted(started), order)

        if root:
            self.assertEqual(c2.ok("result", {"future": nobody_pending,
                                              "timeout": TASK_TIMEOUT}),
                             "theirs")
            mine, theirs, roots = run_as(
                NOBODY_UID, NOBODY_GID, statuses_as, d2.sock,
                [nobody_done, nobody_pending, done_ok])
            self.assertEqual(result_of(mine), before[nobody_done])
            self.assertEqual(result_of(theirs)["result"], "theirs")
            error_of(roots, UNKNOWN_FUTURE)

        # Ids go on from where they were; none is used twice.
        new = int(c2.submit("echo", [0])[2:], 16)
        self.assertGreater(new, max(old_ids))

        # A clean stop keeps it all too.
        self.assertEqual(d2.stop(), 0)
        d3 = self.daemon(self.CONFIG)
        with d3.client() as c3:
            self.assertEqual(c3.ok("status", {"future": done_ok}),
                             before[done_ok])
            self.assertEqual(c3.status(rerun)["state"], "finished")
            self.assertEqual(c3.ok("result", {"future": pending[0]}), 0)


    def test_answered_ids_survive_kill_under_load(self):
        """Cycles of pipelined submits, results and forgets keep the
        journal compacting; kill -9 lands somewhere in them. Every id that
        was answered is still there, ending as it should; one whose forget
        was answered may be gone or not (a forget does not wait)."""
        d = self.daemon(self.CONFIG, threads=4)
        c = d.client()
        args, forgot = {}, set()
        killer = threading.Timer(1.0 + random.random() * 2, d.proc.kill)
        killer.start()
        self.addCleanup(killer.cancel)
        n = 0
        try:
            while True:
                calls = [("submit", {"fn": "echo", "args": [n + i]})
                         for i in range(500)]
                ids = []
                for i, r in enumerate(pipelined(c, calls)):
                    ids.append(result_of(r)["future"])
                    args[ids[-1]] = n + i
                n += len(calls)
                for r in pipelined(c, [("result", {"future": f})
                                       for f in ids]):
                    result_of(r)
                result_of(c.call("forget", {"futures": ids}))
                forgot.update(ids)
        except (AssertionError, OSError):
            pass
        c.close()
        d.proc.wait()
        self.assertGreater(len(args), 0)
        self.assertGreater(n, 1000, "the daemon died too early to tell")

        d2 = self.daemon(self.CONFIG, threads=4)
        with d2.client() as c2:
            # In rounds, as above: a client that sends tens of thousands
            # of requests before reading any answer stops the daemon
            # reading it once the answers pass output_watermark.
            futures = list(args)
            answers = []
            for i in range(0, len(futures), 500):
                answers += pipelined(c2, [
                    ("result", {"future": f, "timeout": TASK_TIMEOUT})
                    for f in futures[i:i + 500]])
            for r, (f, arg) in zip(answers, args.items()):
                if f in forgot and "error" in r and \
                        r["error"]["code"] == UNKNOWN_FUTURE:
                    continue
                if "error" in r:
                    # Running when killed, with no retries: interrupted.
                    e = error_of(r, -32003)
                    self.assertEqual(e["data"]["type"], "Interrupted", r)
                else:
                    self.assertEqual(result_of(r), arg)


class PrefixNames(StateCase):
    """A function named under a plugin's prefix is recorded by its whole
    name, and runs by it after a restart."""

    def test_python_name_survives_kill(self):
        plugins = ("testing", "python")
        d = self.daemon(plugins=plugins)
        c = d.client()
        self.addCleanup(c.close)
        busy = c.submit("sleep", [600], executor="process")
        c.wait_state(busy, "running", TASK_TIMEOUT)
        fid = c.submit("py:math:factorial", [5], executor="process")
        self.assertEqual(c.status(fid)["state"], "pending")
        c.close()
        self.killed(d)

        d = self.daemon(plugins=plugins)
        c = d.client()
        self.addCleanup(c.close)
        self.assertEqual(c.ok("result", {"future": fid,
                                         "timeout": TASK_TIMEOUT},
                              timeout=TASK_TIMEOUT + 10), 120)
        self.assertEqual(c.status(fid)["fn"], "py:math:factorial")


class KillRestartFsync(KillRestart):
    CONFIG = "durability = fsync\n"


class Durability(StateCase):

    def test_off_keeps_state_over_a_clean_stop(self):
        d = self.daemon("durability = off\n")
        with d.client() as c:
            ids = [c.submit("echo", [i]) for i in range(20)]
            for i, f in enumerate(ids):
                self.assertEqual(c.ok("result", {"future": f}), i)
        self.assertEqual(d.stop(), 0)
        d2 = self.daemon("durability = off\n")
        with d2.client() as c:
            for i, f in enumerate(ids):
                self.assertEqual(c.ok("result", {"future": f}), i)

    def test_bad_setting_stops_start(self):
        d = self.daemon("durability = sometimes\n", ready=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn("durability: not fsync, batch or off", d.log_text())

    def test_one_daemon_per_directory(self):
        d = self.daemon()
        d2 = self.daemon(ready=False)
        self.assertEqual(d2.wait_exit(), 1)
        self.assertIn("is in use by another poold (pid %d)" % d.pid,
                      d2.log_text())
        assert_alive(d.sock)

    def test_directory_made_private(self):
        state = os.path.join(self.state, "sub")
        d = self.daemon(state=state)
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(state, "journal")).st_mode
                         & 0o777, 0o600)
        assert_alive(d.sock)

    def test_not_a_journal_is_left_alone(self):
        with open(self.journal, "wb") as f:
            f.write(b"something else entirely\n")
        d = self.daemon(ready=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn("not a poold journal", d.log_text())
        with open(self.journal, "rb") as f:
            self.assertEqual(f.read(), b"something else entirely\n")


class DamagedTail(StateCase):
    """A tail cut short or corrupted loses that record alone."""

    def three_done(self):
        d = self.daemon()
        with d.client() as c:
            ids = []
            for name in "abc":
                ids.append(c.submit("echo", [name]))
                self.assertEqual(c.ok("result", {"future": ids[-1]}), name)
            before = [c.status(f) for f in ids]
        self.assertEqual(d.stop(), 0)
        data, recs = journal_records(self.journal)
        self.assertEqual(len(data), recs[-1][0] + recs[-1][1])
        self.assertEqual(recs[-1][2:], (END, ids[2]))
        return ids, before, recs[-1]

    def check_after(self, ids, before, last, last_kept, log_says):
        d = self.daemon()
        self.assertIn(log_says, d.log_text())
        with d.client() as c:
            self.assertEqual(c.status(ids[0]), before[0])
            self.assertEqual(c.status(ids[1]), before[1])
            st = c.status(ids[2])
            if last_kept:
                self.assertEqual(st, before[2])
            else:
                # Its end was the record lost: it was running, so it was
                # interrupted.
                self.assertEqual(st["state"], "failed", st)
                self.assertEqual(st["error"]["type"], "Interrupted")
                self.assertEqual(st["started"], before[2]["started"])
            self.assertEqual(c.ok("result", {"future": c.submit(
                "echo", ["after"])}), "after")
        self.assertEqual(d.stop(), 0)
        # The journal reads clean to its end again.
        data, recs = journal_records(self.journal)
        self.assertEqual(len(data), recs[-1][0] + recs[-1][1])

    def test_truncated_tail(self):
        ids, before, (off, size, _, _) = self.three_done()
        with open(self.journal, "r+b") as f:
            f.truncate(off + size - 3)
        self.check_after(ids, before, off, False, "a record was cut short")

    def test_corrupted_tail(self):
        ids, before, (off, size, _, _) = self.three_done()
        with open(self.journal, "r+b") as f:
            f.seek(off + size - 2)
            b = f.read(1)
            f.seek(off + size - 2)
            f.write(bytes([b[0] ^ 0x20]))
        self.check_after(ids, before, off, False,
                         "a record's checksum does not match")

    def test_garbage_after_the_last_record(self):
        ids, before, (off, size, _, _) = self.three_done()
        with open(self.journal, "ab") as f:
            f.write(b"\x40\x00\x00\x00torn")
        self.check_after(ids, before, off, True, "the 8 bytes from there "
                         "are dropped")


class FullDisk(StateCase):
    """A full filesystem refuses new work, serves the rest, and mends."""

    def setUp(self):
        super().setUp()
        if os.getuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        self.mnt = tempfile.mkdtemp(prefix="poold-full-", dir="/tmp")
        self.addCleanup(os.rmdir, self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=256k,mode=0700", "tmpfs", self.mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs: %s" % r.stderr.strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.mstate = os.path.join(self.mnt, "state")

    def fill(self):
        path = os.path.join(self.mnt, "filler")
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"x" * 4096)
            except OSError:
                pass
        return path

    def test_full_disk(self):
        d = self.daemon(state=self.mstate)
        c = d.client()
        self.addCleanup(c.close)
        accepted = [c.submit("echo", ["before"])]
        c.ok("result", {"future": accepted[0]})
        slow = c.submit("sleep", [1.5])
        accepted.append(slow)
        filler = self.fill()

        # The journal's last page may hold a few more records.
        refused = None
        for i in range(2000):
            msg = c.call("submit", {"fn": "echo", "args": [i]})
            if "error" in msg:
                refused = error_of(msg, STATE_UNAVAILABLE)
                break
            accepted.append(msg["result"]["future"])
        self.assertIsNotNone(refused, "submissions never failed")
        self.assertIn("No space left", refused["data"]["reason"])
        error_of(c.call("map", {"fn": "echo", "iterable": [1]}),
                 STATE_UNAVAILABLE)
        # Everything else is served, and work under way ends.
        assert_alive(d.sock)
        self.assertEqual(c.ok("result", {"future": accepted[0]}), "before")
        self.assertEqual(c.ok("result", {"future": slow,
                                         "timeout": TASK_TIMEOUT}), 1.5)
        self.assertGreaterEqual(len(c.ok("list", {"limit": 10000})),
                                len(accepted))
        self.assertIn("cannot be written", d.log_text())

        os.unlink(filler)

        def submitted():
            msg = c.call("submit", {"fn": "echo", "args": ["after"]})
            return "result" in msg and msg["result"]["future"]
        accepted.append(wait_until(submitted, TASK_TIMEOUT,
                                   "a submission after space came back"))
        self.assertIn("is written again", d.log_text())
        for f in accepted:
            c.ok("result", {"future": f, "timeout": TASK_TIMEOUT})
        before = {f: c.status(f) for f in accepted}
        barrier(c)
        self.killed(d)

        d2 = self.daemon(state=self.mstate)
        with d2.client() as c2:
            for f in accepted:
                self.assertEqual(c2.status(f), before[f])
            self.assertEqual(len(c2.ok("list", {"limit": 10000})),
                             len(accepted) + 1)


class Compaction(StateCase):
    """The journal stays near the size of what it holds."""

    CYCLES = 20
    TASKS = 1000
    BOUND = 3 << 20

    def test_bounded_over_many_cycles(self):
        d = self.daemon(threads=4)
        c = d.client()
        self.addCleanup(c.close)
        keep = [c.submit("echo", [{"keep": i}]) for i in range(50)]
        for i, f in enumerate(keep):
            c.ok("result", {"future": f})
        stuck = c.submit("sleep", [600], executor="process")
        c.wait_state(stuck, "running", TASK_TIMEOUT)
        sizes, forgotten = [], []
        for cycle in range(self.CYCLES):
            ids = [result_of(r)["future"] for r in pipelined(
                c, [("submit", {"fn": "echo", "args": ["x" * 100]})] *
                self.TASKS)]
            for r in pipelined(c, [("result", {"future": f})
                                   for f in ids]):
                self.assertEqual(result_of(r), "x" * 100)
            self.assertEqual(c.ok("forget", {"futures": ids}),
                             {"forgotten": self.TASKS})
            forgotten.append(ids[0])
            sizes.append(os.path.getsize(self.journal))
        # What was written in all: the size at each compaction, and now.
        written = sum(int(n) for n in re.findall(
            r"compacting \S+: (\d+) bytes", d.log_text())) + sizes[-1]
        self.assertGreater(written, 3 * self.BOUND)
        self.assertLess(max(sizes), self.BOUND, sizes)
        before = {f: c.status(f) for f in keep}
        started = c.status(stuck)["started"]
        barrier(c)
        self.killed(d)

        d2 = self.daemon()
        with d2.client() as c2:
            for f in keep:
                self.assertEqual(c2.status(f), before[f])
            for f in forgotten:
                error_of(c2.call("status", {"future": f}), UNKNOWN_FUTURE)
            st = c2.status(stuck)
            self.assertEqual((st["state"], st["error"]["type"],
                              st["started"]),
                             ("failed", "Interrupted", started))
            self.assertEqual(len(c2.ok("list", {"limit": 10000})),
                             len(keep) + 2)


if __name__ == "__main__":
    main()

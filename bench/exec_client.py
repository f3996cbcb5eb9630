#!/usr/bin/env python3
"""Run a program N times through poold's exec, K at a time, and time it.

Every task is submitted with notify: true, and each future.done that comes
back lets one more be submitted, so exactly K tasks are in flight until
fewer than K remain, and the client never waits on a reply it does not
need (a result call per task would double the requests and the lines to
parse).

The timed span runs from the first submit to the last future.done; the
connection is opened, and a hello answered, before it starts, so only the
tasks are measured. Every future must be finished with exit_code 0, or the
client exits non-zero. The futures are forgotten afterwards, outside the
timed span, so rounds do not pile results up in the daemon.

Output: "NAME SECONDS" on stdout, and "NAME_failed COUNT" when tasks
failed (then the exit status is 1: the time is not a valid figure).

With --wait SECONDS it only waits for the daemon instead: it retries a
connection until one is accepted, the daemon (--pid) is gone, or the
deadline passes.
"""

import argparse
import json
import os
import socket
import sys
import time


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.lines = []
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method,
               "params": params}
        self.sock.sendall(json.dumps(msg, separators=(",", ":")).encode()
                          + b"\n")
        return self.next_id

    def sender(self, method, params):
        """send(method, params) as a function of no arguments, encoded
        once: the client's CPU is taken from the programs it runs."""
        head = json.dumps({"jsonrpc": "2.0", "method": method,
                           "params": params},
                          separators=(",", ":")).encode()[:-1] + b',"id":'
        sendall = self.sock.sendall

        def send():
            self.next_id += 1
            sendall(head + b"%d}\n" % self.next_id)
            return self.next_id
        return send

    def recv(self):
        """The next message from the daemon, parsed."""
        while not self.lines:
            data = self.sock.recv(1 << 16)
            if not data:
                sys.exit("exec_client: poold closed the connection")
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            self.lines = done[::-1]
        return json.loads(self.lines.pop())

    def call(self, method, params):
        """A request answered before anything else is sent (setup only)."""
        rid = self.send(method, params)
        while True:
            msg = self.recv()
            if msg.get("id") == rid:
                if "error" in msg:
                    sys.exit("exec_client: %s: %s" % (method, msg["error"]))
                return msg["result"]


def run(conn, n, k, executor, argv):
    submit = conn.sender("submit", {"fn": "exec", "args": argv,
                                    "executor": executor, "notify": True})
    submitted = set()   # request ids of submits not yet answered
    futures = set()     # future ids the submits returned
    done = {}           # future id -> future object from future.done
    bad = []
    sent = 0

    t0 = time.monotonic()
    while sent < min(k, n):
        submitted.add(submit())
        sent += 1
    while len(done) < n or submitted:
        msg = conn.recv()
        if msg.get("method") == "future.done":
            f = msg["params"]["future"]
            done[f["future"]] = f
            res = f.get("result")
            if (f.get("state") != "finished" or not isinstance(res, dict)
                    or res.get("exit_code") != 0):
                bad.append(f)
            if sent < n:
                submitted.add(submit())
                sent += 1
        elif "id" in msg:
            if msg["id"] not in submitted:
                sys.exit("exec_client: unexpected reply %r" % msg)
            submitted.discard(msg["id"])
            if "error" in msg:
                sys.exit("exec_client: submit failed: %s" % msg["error"])
            futures.add(msg["result"]["future"])
    t1 = time.monotonic()

    if set(done) != futures or len(futures) != n:
        sys.exit("exec_client: %d submitted, %d futures, %d done"
                 % (n, len(futures), len(done)))
    conn.call("forget", {"futures": sorted(futures)})
    return t1 - t0, bad


def run_map(conn, n, argv):
    """One map of exec over n copies of argv, chunksize 1: the daemon
    keeps as many in flight as it has workers, as xargs -P does."""
    t0 = time.monotonic()
    fid = conn.call("map", {"fn": "exec", "iterable": [argv] * n,
                            "star": True, "chunksize": 1,
                            "executor": "process"})["future"]
    results = conn.call("result", {"future": fid})
    t1 = time.monotonic()
    bad = [r for r in results if r.get("exit_code") != 0]
    if len(results) != n:
        sys.exit("exec_client: map gave %d results of %d" % (len(results), n))
    conn.call("forget", {"futures": [fid]})
    return t1 - t0, bad


def wait_ready(path, pid, secs):
    deadline = time.monotonic() + secs
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return
        except OSError:
            pass
        finally:
            s.close()
        if pid is not None:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                sys.exit("exec_client: poold (pid %d) exited" % pid)
        if time.monotonic() > deadline:
            sys.exit("exec_client: no connection to %s within %g s"
                     % (path, secs))
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-s", "--socket", required=True)
    ap.add_argument("-n", type=int, default=2000, help="tasks (2000)")
    ap.add_argument("-k", type=int, default=2, help="tasks in flight (2)")
    ap.add_argument("-e", "--executor", choices=("process", "thread"),
                    default="process")
    ap.add_argument("--name", help="figure name (poold_EXECUTOR_s)")
    ap.add_argument("--map", action="store_true",
                    help="one map of exec instead (as many in flight as "
                    "the daemon has workers; figure poold_map_s)")
    ap.add_argument("--wait", type=float, metavar="SECONDS",
                    help="only wait until the daemon accepts connections")
    ap.add_argument("--pid", type=int, help="the daemon's pid, for --wait")
    ap.add_argument("argv", nargs="*", default=["/bin/true"])
    a = ap.parse_args()
    if a.n < 1 or a.k < 1:
        ap.error("-n and -k must be positive")

    if a.wait is not None:
        wait_ready(a.socket, a.pid, a.wait)
        return

    name = a.name or ("poold_map_s" if a.map else
                      "poold_%s_s" % a.executor)
    conn = Conn(a.socket)
    conn.call("hello", {})
    if a.map:
        secs, bad = run_map(conn, a.n, a.argv)
    else:
        secs, bad = run(conn, a.n, a.k, a.executor, a.argv)
    print("%s %.6f" % (name, secs))
    if bad:
        print("%s_failed %d" % (name, len(bad)))
        sys.stdout.flush()
        sys.exit("exec_client: %s: %d of %d tasks did not exit 0; first: %s"
                 % (name, len(bad), a.n, json.dumps(bad[0])))


if __name__ == "__main__":
    main()

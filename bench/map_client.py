#!/usr/bin/env python3
"""Time one map of echo through poold, or measure a daemon's memory with a
large map pending.

Throughput (the default): map {"fn": "echo", "iterable": [0..N),
"chunksize": C, "executor": "process"}, then result on its future. The
span runs from sending the map (already encoded) to holding the parsed
result, which must equal the input. The future is forgotten afterwards,
outside the span, so rounds do not pile results up in the daemon.
Output: "NAME ITEMS_PER_S".

--memory: for a daemon started with -p 1. A sleep of --hold seconds takes
the one process worker, so nothing of the map can start; then one map of
echo over N items (stream false) is sent, stats is polled until pending
equals N, and the daemon's VmRSS is read from /proc/PID/status (PID from
hello). The map and the sleep are cancelled before it exits. Output:
"NAME KIB", then a comment with it in MB, the VmRSS before the map and
the peak (VmHWM).

--wait SECONDS only waits for the daemon: it retries a connection until
one is accepted, the daemon (--pid) is gone, or the deadline passes.
"""

import argparse
import json
import os
import socket
import sys
import time

CHUNK = 1 << 20  # results of 10^5..10^6 items are several MB: few, big reads


def die(msg):
    sys.exit("map_client: %s" % msg)


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.rest = b""
        self.next_id = 0

    def encode(self, method, params):
        """(request id, the request's line), to send later."""
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method,
               "params": params}
        return self.next_id, (json.dumps(msg, separators=(",", ":"))
                              .encode() + b"\n")

    def send(self, method, params):
        rid, line = self.encode(method, params)
        self.sock.sendall(line)
        return rid

    def recv_line(self):
        """The next line, without its newline. Chunks are kept in a list
        and only the newest is searched, so a line of many megabytes costs
        one join, not a copy per read."""
        parts = [self.rest]
        nl = self.rest.find(b"\n")
        while nl < 0:
            data = self.sock.recv(CHUNK)
            if not data:
                die("poold closed the connection")
            parts.append(data)
            nl = data.find(b"\n")
        last = parts.pop()
        self.rest = last[nl + 1:]
        parts.append(last[:nl])
        return b"".join(parts)

    def reply(self, rid, method):
        """The answer to request rid; notifications before it are skipped."""
        while True:
            msg = json.loads(self.recv_line())
            if msg.get("id") == rid:
                if "error" in msg:
                    die("%s: %s" % (method, json.dumps(msg["error"])))
                return msg["result"]

    def call(self, method, params):
        return self.reply(self.send(method, params), method)


def throughput(conn, n, chunksize, name):
    items = list(range(n))
    params = {"fn": "echo", "iterable": items, "chunksize": chunksize,
              "executor": "process"}
    # Encoded before the span: it starts when the request is sent.
    rid, line = conn.encode("map", params)
    clock = time.perf_counter
    t0 = clock()
    conn.sock.sendall(line)
    fut = conn.reply(rid, "map")["future"]
    res = conn.call("result", {"future": fut})
    t1 = clock()
    if res != items:
        bad = next((i for i, (a, b) in enumerate(zip(res, items)) if a != b),
                   min(len(res), n))
        die("result differs from the input: %d items, first difference at "
            "index %d" % (len(res), bad))
    conn.call("forget", {"futures": [fut]})
    print("%s %.1f" % (name, n / (t1 - t0)))


def status_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    die("no %s in /proc/%d/status" % (field, pid))


def memory(conn, n, chunksize, hold, name, timeout):
    hello = conn.call("hello", {})
    pid = hello["pid"]
    workers = hello["executors"]["process"]["workers"]
    if workers != 1:
        die("--memory wants a daemon with one process worker, not %d"
            % workers)
    deadline = time.monotonic() + timeout

    sleeper = conn.call("submit", {"fn": "sleep", "args": [hold],
                                   "executor": "process"})["future"]
    while conn.call("stats", {})["process"]["busy"] < 1:
        if time.monotonic() > deadline:
            die("the sleep never took the process worker")
        time.sleep(0.01)

    before = status_kib(pid)
    fut = conn.call("map", {"fn": "echo", "iterable": list(range(n)),
                            "chunksize": chunksize, "executor": "process",
                            "stream": False})["future"]
    while True:
        st = conn.call("stats", {})
        if st["pending"] == n:
            break
        if st["pending"] > n or time.monotonic() > deadline:
            die("stats pending is %d, not %d" % (st["pending"], n))
        time.sleep(0.05)
    rss = status_kib(pid)
    # The peak includes the request being parsed, which is gone by now.
    hwm = status_kib(pid, "VmHWM")

    c = conn.call("cancel", {"future": fut})
    if not c.get("cancelled"):
        die("the map was not cancelled: %s" % json.dumps(c))
    conn.call("cancel", {"future": sleeper, "force": True})
    print("%s %d" % (name, rss))
    print("# %s: %.1f MB with %d items pending (%.1f MB before the map, "
          "%.0f bytes an item over that; peak VmHWM %.1f MB)"
          % (name, rss / 1024, n, before / 1024,
             (rss - before) * 1024 / n, hwm / 1024))
    return rss


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
                die("poold (pid %d) exited" % pid)
        if time.monotonic() > deadline:
            die("no connection to %s within %g s" % (path, secs))
        time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-s", "--socket", required=True)
    ap.add_argument("-n", type=int, default=100000, help="items (100000)")
    ap.add_argument("-c", "--chunksize", type=int, default=1000,
                    help="items a chunk (1000)")
    ap.add_argument("--name", help="figure name (poold_map_items_s, or "
                    "poold_pending_rss_kib with --memory)")
    ap.add_argument("--memory", action="store_true",
                    help="measure VmRSS with N items pending instead")
    ap.add_argument("--hold", type=float, default=60,
                    help="seconds the sleep holds the worker (60)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="give up --memory after this many seconds (120)")
    ap.add_argument("--wait", type=float, metavar="SECONDS",
                    help="only wait until the daemon accepts connections")
    ap.add_argument("--pid", type=int, help="the daemon's pid, for --wait")
    a = ap.parse_args()
    if a.n < 1 or a.chunksize < 1:
        ap.error("-n and --chunksize must be positive")

    if a.wait is not None:
        wait_ready(a.socket, a.pid, a.wait)
        return

    conn = Conn(a.socket)
    if a.memory:
        memory(conn, a.n, a.chunksize, a.hold,
               a.name or "poold_pending_rss_kib", a.timeout)
    else:
        conn.call("hello", {})
        throughput(conn, a.n, a.chunksize, a.name or "poold_map_items_s")


if __name__ == "__main__":
    main()

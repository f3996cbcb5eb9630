#!/usr/bin/env python3
"""The figures bench-echo measures for poold, measured in-process for
Python's own executors: ThreadPoolExecutor() (default workers) and
ProcessPoolExecutor(2), running a module-level echo.

seq:  one task at a time, submit(echo, x).result(); the latency of each
      from submit to result, printed as p50 and p99 in microseconds.
pipe: a window of W futures in flight until N are done; tasks per second.

Output is one "name value" line a figure, as bench-echo prints them:
tpe_seq_p50_us, tpe_seq_p99_us, tpe_pipe_tasks_per_s, and ppe_... alike.
"""

import argparse
import collections
import concurrent.futures
import math
import sys
import time

WARMUP = 200  # tasks run before measuring, as bench-echo does


def echo(x):
    return x


def percentile(values, p):
    """Nearest-rank percentile of sorted values, as bench-echo computes it."""
    rank = max(1, math.ceil(p * len(values)))
    return values[rank - 1]


def run_seq(ex, first, n, lat):
    """One task at a time; lat (if not None) gets each task's seconds."""
    clock = time.perf_counter
    for task in range(first, first + n):
        t0 = clock()
        r = ex.submit(echo, task).result()
        t1 = clock()
        if r != task:
            sys.exit("baseline: task %d: echo returned %r" % (task, r))
        if lat is not None:
            lat.append(t1 - t0)


def run_pipe(ex, first, n, w):
    """Keep w futures in flight until n are done; returns the seconds.

    The window is a FIFO: wait for the oldest, then submit one more. It is
    Executor.map's own technique and costs O(1) a task. wait(FIRST_COMPLETED)
    rescans the whole window on every call and measured slower; a
    done-callback releasing a semaphore measured no faster for processes and
    slower for threads.
    """
    clock = time.perf_counter
    submit = ex.submit
    window = collections.deque()
    end = first + n
    nxt = first
    t0 = clock()
    while nxt < end and len(window) < w:
        window.append((nxt, submit(echo, nxt)))
        nxt += 1
    while window:
        task, fut = window.popleft()
        r = fut.result()
        if r != task:
            sys.exit("baseline: task %d: echo returned %r" % (task, r))
        if nxt < end:
            window.append((nxt, submit(echo, nxt)))
            nxt += 1
    return clock() - t0


def make_executor(name):
    if name == "tpe":
        return concurrent.futures.ThreadPoolExecutor()
    return concurrent.futures.ProcessPoolExecutor(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-e", "--executor", choices=("tpe", "ppe"),
                    action="append",
                    help="executor to measure (repeatable; default both)")
    ap.add_argument("-n", type=int, default=10000, help="tasks (10000)")
    ap.add_argument("-w", type=int, default=1000,
                    help="pipelined window (1000)")
    ap.add_argument("-m", choices=("seq", "pipe"),
                    help="only this measurement (default both)")
    args = ap.parse_args()
    if args.n < 1 or args.w < 1:
        ap.error("-n and -w must be positive")

    for name in args.executor or ("tpe", "ppe"):
        with make_executor(name) as ex:
            # Workers start on demand: start them before measuring, as a
            # running poold has started its own.
            run_seq(ex, 0, WARMUP, None)
            run_pipe(ex, 0, args.w, args.w)
            if args.m in (None, "seq"):
                lat = []
                run_seq(ex, WARMUP, args.n, lat)
                lat.sort()
                for p in (50, 99):
                    print("%s_seq_p%d_us %.1f"
                          % (name, p, percentile(lat, p / 100) * 1e6))
            if args.m in (None, "pipe"):
                secs = run_pipe(ex, args.w, args.n, args.w)
                print("%s_pipe_tasks_per_s %.0f" % (name, args.n / secs))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

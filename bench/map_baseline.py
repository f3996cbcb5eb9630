#!/usr/bin/env python3
"""What bench/map measures for poold, measured for Python's own pools:
multiprocessing.Pool(W).map(echo, range(N), chunksize=C) and
list(ProcessPoolExecutor(W).map(echo, range(N), chunksize=C)), with a
module-level echo.

Both pools are started, and every worker made to run a task, before any
timing: poold's workers are forked when it starts, and a pool's start-up
is no part of a map. Only the map itself, to a full list of results, is
timed; the list must equal the input.

Output: "pool_map_items_s ITEMS_PER_S" and "ppe_map_items_s ITEMS_PER_S".
"""

import argparse
import concurrent.futures
import multiprocessing
import sys
import time


def echo(x):
    return x


def check(name, res, items):
    if res != items:
        sys.exit("map_baseline: %s: result differs from the input" % name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100000, help="items (100000)")
    ap.add_argument("-c", "--chunksize", type=int, default=1000,
                    help="items a chunk (1000)")
    ap.add_argument("-w", "--workers", type=int, default=2,
                    help="processes in each pool (2)")
    a = ap.parse_args()
    if a.n < 1 or a.chunksize < 1 or a.workers < 1:
        ap.error("-n, --chunksize and --workers must be positive")

    items = list(range(a.n))
    clock = time.perf_counter
    warm = list(range(a.workers * 4))

    with multiprocessing.Pool(a.workers) as pool, \
            concurrent.futures.ProcessPoolExecutor(a.workers) as ppe:
        # ProcessPoolExecutor forks its workers on first use.
        check("pool warm-up", pool.map(echo, warm, chunksize=1), warm)
        check("ppe warm-up", list(ppe.map(echo, warm, chunksize=1)), warm)

        t0 = clock()
        res = pool.map(echo, range(a.n), chunksize=a.chunksize)
        t1 = clock()
        check("Pool.map", res, items)
        print("pool_map_items_s %.1f" % (a.n / (t1 - t0)))

        t0 = clock()
        res = list(ppe.map(echo, range(a.n), chunksize=a.chunksize))
        t1 = clock()
        check("ProcessPoolExecutor.map", res, items)
        print("ppe_map_items_s %.1f" % (a.n / (t1 - t0)))


if __name__ == "__main__":
    main()

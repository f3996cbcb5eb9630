#!/usr/bin/env python3
"""The client of bench/python: the CPU-bound example of the process pool
tutorials, poold.examples.cpu_bound (the sum of sqrt(i) * sin(i) below
n), over TASKS numbers, on a running poold's workers through
poold.Executor and on ProcessPoolExecutor(W) in this interpreter, each
used both ways a script uses a pool: one map, and one submit per number
then every result.

Every pool is started, and has run the function once in each worker,
before its clock starts. Prints one "name value" line a figure:
NAME_map_secs, NAME_submit_secs and NAME_total (the sum of the results,
the same for every pool) for each pool measured; a line starting with
"#" when poold's workers run another Python than this one.
"""

import argparse
import concurrent.futures
import math
import platform
import sys
import time

import poold
from poold import examples


def run_map(ex, numbers):
    t0 = time.perf_counter()
    results = list(ex.map(examples.cpu_bound, numbers))
    return time.perf_counter() - t0, results


def run_submit(ex, numbers):
    t0 = time.perf_counter()
    futures = [ex.submit(examples.cpu_bound, n) for n in numbers]
    results = [f.result() for f in futures]
    return time.perf_counter() - t0, results


def measure(name, ex, workers, numbers):
    """Print the pool's figures; its results must agree between runs."""
    list(ex.map(examples.cpu_bound, [1000] * (4 * workers)))
    map_secs, by_map = run_map(ex, numbers)
    submit_secs, by_submit = run_submit(ex, numbers)
    if len(by_map) != len(numbers) or by_map != by_submit:
        sys.exit("python_client: %s: map and submit disagree" % name)
    print("%s_map_secs %.3f" % (name, map_secs))
    print("%s_submit_secs %.3f" % (name, submit_secs))
    print("%s_total %.6f" % (name, math.fsum(by_map)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-s", "--socket", help="poold's socket")
    ap.add_argument("-n", type=int, default=1000000,
                    help="the first number (1000000)")
    ap.add_argument("-t", type=int, default=20, help="tasks (20)")
    ap.add_argument("-w", type=int, default=2,
                    help="ProcessPoolExecutor's workers (2)")
    ap.add_argument("--pool", action="append", choices=("poold", "ppe"),
                    help="pools to measure, in order (poold, ppe)")
    ap.add_argument("--ppe-name", default="ppe",
                    help="what to call ProcessPoolExecutor's figures")
    a = ap.parse_args()
    pools = a.pool or ["poold", "ppe"]
    if a.n < 1 or a.t < 1 or a.w < 1:
        ap.error("-n, -t and -w must be positive")
    if "poold" in pools and not a.socket:
        ap.error("measuring poold needs -s")
    numbers = [a.n + i for i in range(a.t)]
    for pool in pools:
        if pool == "poold":
            with poold.Executor(a.socket) as ex:
                theirs = ex.submit(platform.python_version).result()
                if theirs != platform.python_version():
                    print("# poold's workers run Python %s, this client %s"
                          % (theirs, platform.python_version()))
                measure("poold", ex, a.w, numbers)
        else:
            with concurrent.futures.ProcessPoolExecutor(a.w) as ex:
                measure(a.ppe_name, ex, a.w, numbers)
        sys.stdout.flush()


if __name__ == "__main__":
    main()

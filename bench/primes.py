#!/usr/bin/env python3
"""The Python side of bench/primes: ProcessPoolExecutor(W).map of is_prime
over first, first + 2, ... (count numbers), the trial division of
src/plugins/examples.c written in Python.

Prints ppe_secs (wall time of the map, the pool already started),
ppe_found (primes found) and ppe_numbers (numbers tested), one
"name value" line a figure, as bench-echo prints them.

chunksize defaults to 1: around 10^16 a number costs this code some 0.2 s
on average and a prime several seconds, against well under a millisecond
of executor overhead a chunk, so the overhead is lost in the noise and
what matters is that no worker is left idle while the other finishes a
long chunk; one number at a time balances best.
"""

import argparse
import concurrent.futures
import sys
import time


def is_prime(n):
    """Trial division by 6k +/- 1, statement for statement as in C."""
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0 or n % 3 == 0:
        return False
    i = 5
    while i <= n // i:
        if n % i == 0 or n % (i + 2) == 0:
            return False
        i += 6
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-b", type=int, required=True, help="first number")
    ap.add_argument("-n", type=int, required=True, help="numbers to test")
    ap.add_argument("-w", type=int, default=2, help="worker processes (2)")
    ap.add_argument("-c", type=int, default=1, help="map chunksize (1)")
    args = ap.parse_args()
    if args.b < 1 or args.n < 1 or args.w < 1 or args.c < 1:
        ap.error("-b, -n, -w and -c must be positive")

    numbers = range(args.b, args.b + 2 * args.n, 2)
    with concurrent.futures.ProcessPoolExecutor(args.w) as ex:
        # Start the workers before the clock, as a running poold has.
        list(ex.map(is_prime, [7] * (2 * args.w)))
        t0 = time.perf_counter()
        found = sum(ex.map(is_prime, numbers, chunksize=args.c))
        secs = time.perf_counter() - t0
    print("ppe_secs %.3f" % secs)
    print("ppe_found %d" % found)
    print("ppe_numbers %d" % args.n)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

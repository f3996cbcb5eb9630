"""The classic pool examples, as functions poold's python plugin runs.

Each is a module-level function, so poold.Executor sends it by name
("py:poold.examples:cpu_bound") and a worker imports this module to run
it: the workers need this package on their python_path. For example,
with poold started as `poold --plugin python -c poold.conf` and
`python_path = /path/to/poold/clients/python` in poold.conf::

    import poold
    from poold import examples

    with poold.Executor() as ex:
        print(ex.submit(examples.cpu_bound, 1_000_000).result())
        print(list(ex.map(examples.is_prime, examples.PRIMES)))
        print(list(ex.map(examples.square, range(10), chunksize=4)))
        print(ex.submit(examples.power, 2, 10).result())

    # I/O-bound work on the daemon's threads: they wait at once.
    with poold.Executor(executor="thread") as ex:
        print(list(ex.map(examples.io_bound, [1, 1, 1, 1])))
        print(ex.submit(examples.load_url, "https://www.python.org/",
                        60).result())

Each runs unchanged under concurrent.futures.ProcessPoolExecutor, which
is the point: switching pools is one line.
"""

import math
import time
import urllib.request

__all__ = ["PRIMES", "cpu_bound", "io_bound", "is_prime", "load_url",
           "power", "square"]

# The numbers of the concurrent.futures documentation's example.
PRIMES = [
    112272535095293,
    112582705942171,
    112272535095293,
    115280095190773,
    115797848077099,
    1099726899285419,
]


def cpu_bound(n):
    """The sum of sqrt(i) * sin(i) for i below N: pure CPU."""
    return sum(math.sqrt(i) * math.sin(i) for i in range(n))


def is_prime(n):
    """Whether N is prime, by trial division over odd numbers."""
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    root = math.isqrt(n)
    for i in range(3, root + 1, 2):
        if n % i == 0:
            return False
    return True


def power(base, exponent, modulus=None):
    """pow(BASE, EXPONENT[, MODULUS]). The result must fit in 64 bits to
    travel as JSON: give a modulus for large powers."""
    return pow(base, exponent, modulus)


def square(x):
    """X * X: the smallest task, for map and its chunksize."""
    return x * x


def io_bound(seconds):
    """Wait SECONDS, as a download or a query would, and return them."""
    time.sleep(seconds)
    return seconds


def load_url(url, timeout=60):
    """The number of bytes at URL (the ThreadPoolExecutor example)."""
    with urllib.request.urlopen(url, timeout=timeout) as conn:
        return len(conn.read())

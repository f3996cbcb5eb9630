#!/usr/bin/env python3
"""is_prime over a range of odd numbers as one poold map, in chunks.

Prints "poold_map_primes_secs S" (from sending the map to holding its
whole result) and "poold_map_primes_found N". The daemon splits the work
across its pool itself; the client only waits.
"""

import argparse
import json
import socket
import sys
import time


def call(sock, buf, rid, method, params):
    msg = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
    sock.sendall(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
    while b"\n" not in buf:
        chunk = sock.recv(1 << 18)
        if not chunk:
            sys.exit("primes_map: poold closed the connection")
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    reply = json.loads(line)
    if "error" in reply:
        sys.exit("primes_map: %s failed: %s" % (method, reply["error"]))
    return reply["result"], rest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-s", "--socket", required=True)
    ap.add_argument("-b", "--first", type=int, required=True)
    ap.add_argument("-n", "--count", type=int, required=True)
    ap.add_argument("-c", "--chunksize", type=int, default=10)
    a = ap.parse_args()
    numbers = [a.first + 2 * i for i in range(a.count)]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(a.socket)
    buf = b""
    t0 = time.monotonic()
    r, buf = call(sock, buf, 1, "map", {"fn": "is_prime", "iterable": numbers,
                                        "chunksize": a.chunksize,
                                        "executor": "process"})
    found, buf = call(sock, buf, 2, "result", {"future": r["future"]})
    t1 = time.monotonic()
    if len(found) != a.count or not all(isinstance(x, bool) for x in found):
        sys.exit("primes_map: a result is missing or not a boolean")
    call(sock, buf, 3, "forget", {"futures": [r["future"]]})
    print("poold_map_primes_secs %.6f" % (t1 - t0))
    print("poold_map_primes_found %d" % sum(found))


if __name__ == "__main__":
    main()

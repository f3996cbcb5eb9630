"""Functions the python plugin's tests run in poold, as py:pytasks:NAME.

The tests put this directory on the daemon's python_path; the client
tests import this module too, and send its functions by name.
"""

import os
import sys
import threading
import time

# Set by initialize(), in each process that ran it.
STATE = {"initialized": 0}

_barriers = {}
_barriers_lock = threading.Lock()
_held = []


class Oops(Exception):
    """An exception class of this module's own."""


class Tools:
    """Functions reached through a class: QUALNAME with a dot."""

    @staticmethod
    def double(x):
        return 2 * x

    @classmethod
    def name(cls):
        return cls.__qualname__

    def method(self):
        return "bound"


def identity(value):
    return value


def add(a, b=0, *, c=0):
    return a + b + c


def echo_call(*args, **kwargs):
    """What the call brought, as JSON holds it."""
    return {"args": list(args), "kwargs": kwargs}


def types_of(*args, **kwargs):
    """The Python type of each argument, to see what JSON became."""
    return {"args": [type(a).__name__ for a in args],
            "kwargs": {k: type(v).__name__ for k, v in kwargs.items()}}


def as_tuple(*items):
    return tuple(items)


def _raise_oops(message):
    raise Oops(message)


def fail(message):
    _raise_oops(message)


def raise_value_error():
    raise ValueError("bad value")


def not_json(kind):
    """A value JSON cannot hold, chosen by KIND."""
    if kind == "object":
        return object()
    if kind == "set":
        return {1, 2}
    if kind == "nan":
        return float("nan")
    if kind == "big":
        return 2 ** 64
    if kind == "bytes":
        return b"bytes"
    if kind == "key":
        return {(1, 2): "tuple key"}
    if kind == "surrogate":
        return "\udc80"
    if kind == "cycle":
        cycle = []
        cycle.append(cycle)
        return cycle
    raise ValueError("no such kind: %r" % (kind,))


def dict_keys():
    """Keys json.dumps would turn into strings."""
    return {2: "int", 2.5: "float", False: "bool", None: "none"}


def crash():
    os.kill(os.getpid(), 11)
    time.sleep(60)


def exit_now(code):
    os._exit(code)


def hang():
    while True:
        time.sleep(60)


def getpid():
    return os.getpid()


def initialize():
    STATE["initialized"] += 1
    STATE["pid"] = os.getpid()


def failing_initializer():
    raise Oops("the initializer fails")


def state():
    return dict(STATE)


def chatter(marker):
    """Print to both streams, a line without its newline last."""
    print("%s stdout line" % marker)
    print("%s stderr line" % marker, file=sys.stderr)
    sys.stdout.write("{\"id\": 1, \"result\": \"not from poold\"}\n")
    sys.stdout.write("%s partial" % marker)
    return marker


def rendezvous(token, parties, timeout):
    """Return once PARTIES calls with TOKEN wait here at the same time;
    BrokenBarrierError if they do not within TIMEOUT seconds."""
    with _barriers_lock:
        barrier = _barriers.setdefault(token, threading.Barrier(parties))
    barrier.wait(timeout)
    return True


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def hold(megabytes):
    """Keep MEGABYTES of touched memory for the process's life."""
    block = bytearray(megabytes << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    _held.append(block)
    return megabytes


def square(x):
    return x * x


def extension_modules():
    """Use modules built as shared objects of their own (lib-dynload),
    which need libpython's symbols in the global scope."""
    import ctypes
    import decimal
    import hashlib
    import json
    import _json
    return [json.dumps({"a": 1}), str(decimal.Decimal("1.10") * 3),
            hashlib.sha256(b"").hexdigest()[:8],
            ctypes.sizeof(ctypes.c_int32), _json.__name__]


def set_signal_handler(token=None, parties=1, timeout=30):
    """Take SIGUSR2 (Python allows it only on its main thread) once
    PARTIES calls with TOKEN are here together, so each is on a thread of
    its own; "set", or the exception's class name."""
    import signal
    if token is not None:
        rendezvous(token, parties, timeout)
    try:
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    except ValueError as e:
        return "ValueError: %s" % e
    return "set"

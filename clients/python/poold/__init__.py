"""poold from Python, with the standard library only (3.9 and later).

Executor is poold as a concurrent.futures.Executor: the work runs on the
daemon's pool, named by poold function, and what comes back are real
concurrent.futures.Future objects, so wait, as_completed, callbacks,
result(timeout) and cancel behave as with the standard executors::

    import concurrent.futures
    import poold

    with poold.Executor() as ex:
        futures = [ex.submit("is_prime", n) for n in (97, 98, 1000000007)]
        for f in concurrent.futures.as_completed(futures):
            print(f.result())
        print(list(ex.map("echo", ["a", "b"], chunksize=10)))

submit and map also take a module-level Python function, which the
python plugin (poold --plugin python) runs in a worker by its module and
name: ex.submit(math.factorial, 20), ex.map(mymodule.work, items).

A task that fails raises TaskError (.type, .message, .data) from
result(). Client is one connection with a method per protocol method
(hello, submit, result, wait, as_completed, map, list, stats, ...);
Connection speaks JSON-RPC on the socket, for anything else. The socket
is found by the protocol's rules (default_socket_path) unless a path is
given.
"""

from .client import Client
from .connection import Connection, default_socket_path
from .errors import (BrokenExecutor, FutureCancelled, InternalError,
                     InvalidParams, InvalidRequest, MethodNotFound,
                     ParseError, PermissionDenied, ProtocolError,
                     QueueFull, RemoteError, ShuttingDown, TaskError,
                     UnknownFunction, UnknownFuture, WaitTimeout)
from .executor import Executor, Future, function_name

__version__ = "0.1.0"

__all__ = [
    "BrokenExecutor", "Client", "Connection", "Executor", "Future",
    "FutureCancelled", "InternalError", "InvalidParams", "InvalidRequest",
    "MethodNotFound", "ParseError", "PermissionDenied", "ProtocolError",
    "QueueFull", "RemoteError", "ShuttingDown", "TaskError",
    "UnknownFunction", "UnknownFuture", "WaitTimeout",
    "default_socket_path", "function_name",
]

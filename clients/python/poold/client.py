"""Client: one method per method of the protocol."""

import concurrent.futures

from .connection import Connection, params_without_defaults as _params
from .errors import TaskError

__all__ = ["Client"]


def _ids(futures):
    """A list of future ids from one id or an iterable of them."""
    if isinstance(futures, str):
        return [futures]
    return [getattr(f, "poold_id", None) or f for f in futures]


class Client(Connection):
    """A connection to poold with a method for each protocol method.

    PATH defaults to the protocol's socket rules. TIMEOUT (seconds, None:
    no limit) bounds the connect and each answer, beyond the wait a call
    asks the daemon for (the `timeout` of result, exception, wait and
    as_completed), and raises socket.timeout. Keyword arguments are the
    protocol's parameters, with its defaults. Results are the protocol's
    as decoded JSON; JSON-RPC errors raise the RemoteError subclass of
    their code (a failed task: TaskError). Not for several threads at
    once: give each thread its own Client.
    """

    def __init__(self, path=None, timeout=None, on_notification=None):
        super().__init__(path, timeout, on_notification)

    # -- information --

    def hello(self):
        """Name, version, protocol, pid, executors and functions."""
        return self.call("hello")

    def functions(self):
        """Every function, with its executors and default executor."""
        return self.call("functions")

    # -- futures --

    def submit(self, fn, args=None, kwargs=None, executor=None,
               timeout=None, priority=0, retries=0, notify=False):
        """Submit FN(*ARGS, **KWARGS); its future id, at once. With
        notify, the notification future.done comes on this connection
        when it is done (see next_notification)."""
        params = {"fn": fn}
        if args is not None:
            params["args"] = list(args)
        if kwargs:
            params["kwargs"] = dict(kwargs)
        params.update(_params(("executor", executor, None),
                              ("timeout", timeout, None),
                              ("priority", priority, 0),
                              ("retries", retries, 0),
                              ("notify", notify, False)))
        return self.call("submit", params)["future"]

    def status(self, future):
        """The future object; never waits."""
        return self.call("status", {"future": future})

    def result(self, future, timeout=None):
        """The task's return value, waiting up to TIMEOUT seconds (None:
        without limit). Raises TaskError if it failed, FutureCancelled if
        cancelled, WaitTimeout if still not done."""
        params = {"future": future}
        params.update(_params(("timeout", timeout, None)))
        return self.call("result", params, wait=timeout)

    def exception(self, future, timeout=None):
        """None if the task finished, else its error as a TaskError
        (not raised). Raises FutureCancelled or WaitTimeout as result()
        does."""
        params = {"future": future}
        params.update(_params(("timeout", timeout, None)))
        error = self.call("exception", params, wait=timeout)
        return None if error is None else TaskError.from_object(error)

    def cancel(self, future, force=False):
        """{"cancelled": bool, "state": state}. A pending future is
        cancelled; a running one only with FORCE on the process
        executor."""
        params = {"future": future}
        params.update(_params(("force", force, False)))
        return self.call("cancel", params)

    def wait(self, futures, timeout=None,
             return_when=concurrent.futures.ALL_COMPLETED):
        """{"done": [ids], "not_done": [ids]} once RETURN_WHEN
        (ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION, the
        concurrent.futures constants or their names) holds, or TIMEOUT
        runs out."""
        params = {"futures": _ids(futures)}
        params.update(_params(("timeout", timeout, None),
                              ("return_when", return_when,
                               "ALL_COMPLETED")))
        return self.call("wait", params, wait=timeout)

    def as_completed(self, futures, timeout=None):
        """An iterator of future objects, each as soon as that future is
        done (those already done first). When TIMEOUT runs out first,
        it raises WaitTimeout, with the ids not done in .data["not_done"].
        The request is sent at once; the iterator may be closed early."""
        params = {"futures": _ids(futures)}
        params.update(_params(("timeout", timeout, None)))
        rid = self.send("as_completed", params)
        return _Futures(self._open_stream(rid, timeout))

    def map(self, fn, iterable, star=False, chunksize=None, executor=None,
            timeout=None, priority=0, stream=False, ordered=True,
            notify=False):
        """Run FN on every item of ITERABLE (with STAR, each item is a
        list of arguments). Without STREAM: the map future's id, whose
        result is the list of results. With STREAM: an iterator of the
        items as they end, in input order unless not ORDERED, each
        {"index": i, "result": v} or {"index": i, "error": {...}}; once
        it is exhausted, its .result is {"items": n, "failed": k}. A
        stream closed early leaves the map running: close the connection
        to cancel it."""
        params = {"fn": fn, "iterable": list(iterable)}
        params.update(_params(("star", star, False),
                              ("chunksize", chunksize, None),
                              ("executor", executor, None),
                              ("timeout", timeout, None),
                              ("priority", priority, 0),
                              ("stream", stream, False),
                              ("ordered", ordered, True),
                              ("notify", notify, False)))
        if not stream:
            return self.call("map", params)["future"]
        rid = self.send("map", params)
        return _Items(self._open_stream(rid, None))

    def list_futures(self, state=None, limit=100):
        """This uid's future objects (an admin's: all), newest first,
        without results."""
        return self.call("list", _params(("state", state, None),
                                         ("limit", limit, 100)))

    # The protocol's name; a method, so the builtin is not shadowed.
    list = list_futures

    def forget(self, futures):
        """Drop done futures and their results; the number dropped."""
        return self.call("forget", {"futures": _ids(futures)})["forgotten"]

    # -- the pool --

    def stats(self):
        """Counts of workers, busy ones, tasks in each state..."""
        return self.call("stats")

    def workers(self):
        """The process executor's workers."""
        return self.call("workers")

    def resize(self, process=None, thread=None):
        """Set either pool's size (admin); the sizes now."""
        return self.call("resize", _params(("process", process, None),
                                           ("thread", thread, None)))

    def shutdown(self, wait=True, cancel_futures=False):
        """Stop the daemon (admin), as Executor.shutdown stops a local
        pool: with WAIT, after the work it has, without it at once."""
        return self.call("shutdown", _params(
            ("wait", wait, True), ("cancel_futures", cancel_futures, False)))


class _Futures:
    """as_completed's iterator: the future objects."""

    def __init__(self, stream):
        self._stream = stream

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._stream)["future"]

    def close(self):
        self._stream.close()


class _Items:
    """A streaming map's iterator: its items, then .result."""

    def __init__(self, stream):
        self._stream = stream

    def __iter__(self):
        return self

    def __next__(self):
        params = next(self._stream)
        return {k: v for k, v in params.items() if k != "request"}

    @property
    def result(self):
        return self._stream.result

    def close(self):
        self._stream.close()

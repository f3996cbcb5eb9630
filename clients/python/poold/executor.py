"""Executor: poold as a concurrent.futures.Executor.

One connection per Executor carries every submit with `notify: true`. A
reader thread owns the reading side: it hands each answer to the thread
that waits for it and turns each future.done notification into a job for
the resolver thread, which settles the Future. Every change of a
Future's state happens on the resolver thread, so user callbacks run
there (never on the reader, which must keep reading), and a callback may
submit or cancel. The resolver also tells the daemon to forget what it
settled: the Future holds the outcome now. A map has a connection of its
own, so that closing it cancels what the map has not run.
"""

import concurrent.futures
import inspect
import itertools
import queue
import socket
import sys
import threading
import time
import weakref

from .connection import (LineBuffer, decode, default_socket_path, encode,
                         params_without_defaults)
from .errors import (BrokenExecutor, ProtocolError, TaskError, error_from)

__all__ = ["Executor", "Future"]

# Not given: the Executor's own setting applies.
_UNSET = object()


class Future(concurrent.futures.Future):
    """A concurrent.futures.Future for a task on poold. cancel() asks the
    daemon: a pending task is cancelled, a running one is not. .poold_id
    is the daemon's id for the future; once it is done the daemon forgets
    it, so the id is for use while it runs."""

    def __init__(self, link=None):
        super().__init__()
        self.poold_id = None
        self._link = link

    def cancel(self):
        if self._link is None or self.done():
            return super().cancel()
        return self._link.cancel(self)


class _Reply:
    """The answer to one request, handed over by the reader thread. HOOK,
    when given, sees a successful result on the reader thread first."""

    __slots__ = ("event", "msg", "hook")

    def __init__(self, hook=None):
        self.event = threading.Event()
        self.msg = None
        self.hook = hook

    def deliver(self, msg):
        if self.hook is not None and isinstance(msg, dict) and \
                "result" in msg:
            try:
                self.hook(msg["result"])
            except (KeyError, TypeError, AttributeError):
                msg = ProtocolError("unexpected answer from poold: %r"
                                    % (msg,))
        self.msg = msg
        self.event.set()

    def get(self):
        self.event.wait()
        msg = self.msg
        if isinstance(msg, BaseException):
            raise msg
        if "error" in msg:
            raise error_from(msg["error"])
        return msg.get("result")


class _Link:
    """The Executor's connection and its two threads."""

    def __init__(self, path, connect_timeout):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.settimeout(connect_timeout)
            self.sock.connect(path)
            self.sock.settimeout(None)
        except OSError:
            self.sock.close()
            raise
        self.lock = threading.Lock()        # guards the fields below
        self.send_lock = threading.Lock()   # one writer at a time
        self.ids = itertools.count(1)
        self.requests = {}          # request id -> _Reply
        self.futures = {}           # poold id -> Future not done there
        self.broken = None          # why the connection was lost
        self.closing = False        # no new work: shutdown was called
        self.reading = True         # the reader still takes answers
        self.jobs = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read_loop, daemon=True,
                                       name="poold-reader")
        self.resolver = threading.Thread(target=self._resolve_loop,
                                         daemon=True, name="poold-resolver")
        self.reader.start()
        self.resolver.start()

    # -- requests, from any thread but the reader --

    def _broken_error(self):
        return BrokenExecutor("lost the connection to poold at %s: %s"
                              % (self.path, self.broken))

    def request(self, method, params, hook=None, new_work=False):
        """Send a request; the _Reply to wait on. NEW_WORK is refused
        after shutdown, as the standard executors refuse it."""
        reply = _Reply(hook)
        with self.lock:
            if self.broken is not None:
                raise self._broken_error()
            if new_work and self.closing:
                raise RuntimeError("cannot schedule new futures after "
                                   "shutdown")
            if not self.reading:
                raise RuntimeError("the executor has shut down")
            rid = next(self.ids)
            self.requests[rid] = reply
        self.send(encode(method, params, rid))
        return reply

    def send(self, line):
        try:
            with self.send_lock:
                self.sock.sendall(line, socket.MSG_NOSIGNAL)
        except OSError as e:
            self.lose("cannot write to poold: %s" % e)

    def submit(self, params):
        future = Future(self)

        def register(result):
            # On the reader thread, before it reads what follows: the
            # future.done notification cannot come before this.
            future.poold_id = result["future"]
            with self.lock:
                if self.broken is None:
                    self.futures[future.poold_id] = future
                    return
            self.jobs.put((future, None, self._broken_error()))

        self.request("submit", params, register, new_work=True).get()
        return future

    def cancel(self, future):
        with self.lock:
            known = future.poold_id in self.futures and \
                self.broken is None and self.reading
        if not known:
            # Done on the daemon: the resolver has its outcome to set.
            return future.cancelled()
        try:
            answer = self.request("cancel", {"future": future.poold_id}).get()
        except (BrokenExecutor, RuntimeError):
            return future.cancelled()
        if not answer.get("cancelled"):
            return False
        self.await_cancelled([future])
        return future.cancelled()

    def await_cancelled(self, futures):
        """Return once FUTURES, cancelled on the daemon, are so here too.
        Their future.done notifications are due and the resolver marks
        them; the resolver itself, waiting for nobody, marks them now."""
        if threading.current_thread() is self.resolver:
            for future in futures:
                error = _settle(future, {"state": "cancelled"})
                if error is not None:
                    _settle_error(future, error)
        else:
            concurrent.futures.wait(futures)

    def pending_futures(self):
        with self.lock:
            return list(self.futures.values())

    def shutdown(self):
        """Refuse new work; the threads end once nothing is left."""
        with self.lock:
            self.closing = True
            idle = self.reading and not self.futures and not self.requests
            if idle:
                self.reading = False
        if idle:
            self._stop_reading()

    def _stop_reading(self):
        # Wakes the reader with end-of-file; the resolver may still write.
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    def lose(self, why):
        """The connection is gone: fail every request and future."""
        with self.lock:
            if self.broken is not None:
                return
            self.broken = why
            self.reading = False
            requests, self.requests = self.requests, {}
            futures, self.futures = self.futures, {}
        for reply in requests.values():
            reply.deliver(self._broken_error())
        for future in futures.values():
            self.jobs.put((future, None, self._broken_error()))
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the reader thread --

    def _read_loop(self):
        lines = LineBuffer()
        why = "poold closed the connection"
        try:
            while why is not None:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    break
                lines.feed(chunk)
                line = lines.line()
                while line is not None:
                    if not self._handle(decode(line)):
                        why = None
                        break
                    line = lines.line()
        except OSError as e:
            why = "cannot read from poold: %s" % e
        except ProtocolError as e:
            why = str(e)
        except (KeyError, TypeError, AttributeError) as e:
            # Malformed but JSON: the connection cannot be trusted now.
            why = "unexpected message from poold (%r)" % (e,)
        with self.lock:
            clean = why is None or not self.reading
        if not clean:
            self.lose(why)
        self.jobs.put(None)

    def _handle(self, msg):
        """Take one message; False once nothing is left to read for."""
        if "id" in msg:
            with self.lock:
                reply = self.requests.pop(msg["id"], None)
            if reply is not None:
                reply.deliver(msg)
        elif msg.get("method") == "future.done":
            obj = (msg.get("params") or {}).get("future") or {}
            with self.lock:
                future = self.futures.pop(obj.get("future"), None)
            if future is not None:
                self.jobs.put((future, obj, None))
        with self.lock:
            if self.closing and not self.futures and not self.requests:
                self.reading = False
            return self.reading

    # -- the resolver thread --

    def _resolve_loop(self):
        stop = False
        while not stop:
            job = self.jobs.get()
            settled = []
            while True:
                if job is None:
                    stop = True
                    break
                future, obj, error = job
                if error is None:
                    settled.append(obj["future"])
                    error = _settle(future, obj)
                if error is not None:
                    _settle_error(future, error)
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
            if settled and self.broken is None:
                # A notification: no answer to wait for. Best effort: a
                # daemon that missed it drops them after result_ttl.
                try:
                    with self.send_lock:
                        self.sock.sendall(encode("forget",
                                                 {"futures": settled}),
                                          socket.MSG_NOSIGNAL)
                except OSError:
                    pass
        self.sock.close()


def function_name(fn):
    """The poold function name for FN: a str is one already; a callable
    becomes "py:MODULE:QUALNAME", which the python plugin runs by
    importing MODULE in a worker and looking QUALNAME up in it. A callable
    a worker could not find that way (a lambda, a nested function, one
    defined in __main__, a method bound to an instance) is a TypeError."""
    if isinstance(fn, str):
        return fn
    if not callable(fn):
        raise TypeError("poold runs a function name or a callable, not %r"
                        % (fn,))
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    shown = qualname or repr(fn)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError("%s has no __module__ and __qualname__ to be found "
                        "by in a worker; pass a module-level function"
                        % (shown,))
    if "<" in qualname:
        raise TypeError("%s.%s cannot be imported by name in a poold worker "
                        "(a lambda or a function defined inside another "
                        "one); define it at the top level of a module"
                        % (module, qualname))
    if module == "__main__":
        raise TypeError("%s is defined in __main__, which a poold worker "
                        "cannot import; move it to a module on the "
                        "workers' python_path and import it from there"
                        % (qualname,))
    self_ = getattr(fn, "__self__", None)
    if inspect.ismethod(fn) and not isinstance(self_, type):
        raise TypeError("%s.%s is bound to an instance, which a poold "
                        "worker cannot have; pass a module-level function "
                        "or a staticmethod" % (module, qualname))
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is None or (found is not fn and found != fn):
        raise TypeError("%s.%s is not what a poold worker would find under "
                        "that name; pass a function defined at the top "
                        "level of a module" % (module, qualname))
    return "py:%s:%s" % (module, qualname)


def _settle(future, obj):
    """Give FUTURE the outcome in future object OBJ (on the resolver);
    the exception it should fail with instead, if any."""
    state = obj.get("state")
    if state == "cancelled":
        if future.cancelled():
            return None
        if not concurrent.futures.Future.cancel(future):
            return concurrent.futures.CancelledError()
        # Tells concurrent.futures.wait and as_completed, as an executor
        # does when it reaches a cancelled work item.
        future.set_running_or_notify_cancel()
    elif state == "finished":
        if not future.done():
            future.set_result(obj.get("result"))
    elif state == "failed":
        return TaskError.from_object(obj.get("error"))
    else:
        return ProtocolError("future.done for a future in state %r"
                             % (state,))
    return None


def _settle_error(future, error):
    if not future.done():
        future.set_exception(error)


class Executor(concurrent.futures.Executor):
    """A concurrent.futures.Executor whose work runs on poold.

    submit(fn, *args, **kwargs) runs FN with JSON-able arguments and
    returns a Future; map runs it over iterables. FN is a poold function's
    name (echo, exec, a plugin's function, py:module:name...) or a
    module-level Python function, which the python plugin runs by its
    module and name (see function_name). PATH
    defaults to the protocol's socket rules. EXECUTOR ("process",
    "thread" or None: the function's default), TASK_TIMEOUT (seconds a
    task may run, None: no limit), PRIORITY and RETRIES apply to every
    task (submit_with overrides them for one). A task that fails raises
    TaskError from result(); if the connection to poold is lost, the
    futures not done fail with BrokenExecutor.
    """

    def __init__(self, path=None, *, executor=None, task_timeout=None,
                 priority=0, retries=0, connect_timeout=None):
        self.path = path or default_socket_path()
        self.executor = executor
        self.task_timeout = task_timeout
        self.priority = priority
        self.retries = retries
        self.connect_timeout = connect_timeout
        self._link = _Link(self.path, connect_timeout)
        # An Executor dropped without shutdown lets its threads end once
        # its futures are done, as the standard executors do.
        weakref.finalize(self, _Link.shutdown, self._link)
        self._maps = weakref.WeakSet()
        self._maps_lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        """Run FN(*ARGS, **KWARGS) on poold (FN: a name or a module-level
        function); a Future, once the daemon has queued the task. An
        unknown function or bad arguments raise here (UnknownFunction,
        InvalidParams), and so does a callable no worker could import by
        name (TypeError)."""
        return self.submit_with(fn, args, kwargs)

    def submit_with(self, fn, args=(), kwargs=None, executor=_UNSET,
                    task_timeout=_UNSET, priority=_UNSET, retries=_UNSET):
        """submit with this call's own executor, task_timeout, priority
        or retries instead of the Executor's."""
        params = {"fn": function_name(fn), "notify": True}
        if args:
            params["args"] = list(args)
        if kwargs:
            params["kwargs"] = dict(kwargs)
        params.update(self._options(executor, task_timeout, priority))
        params.update(params_without_defaults(
            ("retries", self.retries if retries is _UNSET else retries, 0)))
        return self._link.submit(params)

    def _options(self, executor, task_timeout, priority):
        """The params for these options, the Executor's where _UNSET."""
        return params_without_defaults(
            ("executor", self.executor if executor is _UNSET else executor,
             None),
            ("timeout", self.task_timeout if task_timeout is _UNSET
             else task_timeout, None),
            ("priority", self.priority if priority is _UNSET else priority,
             0))

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """Results of FN (a name or a module-level function, as for
        submit) over the iterables, zipped as the builtin
        map does (one argument per iterable), in order. Everything is sent
        to poold's map at once; the iterator yields each result as it
        comes, raises the TaskError of the first failed item when it
        reaches it, and concurrent.futures.TimeoutError when a result is
        not there TIMEOUT seconds after this call. CHUNKSIZE items go to a
        worker together; None lets the daemon choose. Closing the
        iterator, or dropping it, cancels what has not run."""
        end = None if timeout is None else time.monotonic() + timeout
        fn_name = function_name(fn)
        if len(iterables) == 1:
            items, star = list(iterables[0]), False
        else:
            items, star = [list(t) for t in zip(*iterables)], True
        with self._link.lock:
            if self._link.broken is not None:
                raise self._link._broken_error()
            if self._link.closing:
                raise RuntimeError("cannot schedule new futures after "
                                   "shutdown")
        if not items:
            return iter(())
        params = {"fn": fn_name, "iterable": items, "stream": True}
        if star:
            params["star"] = True
        if chunksize is not None:
            params["chunksize"] = chunksize
        params.update(self._options(_UNSET, _UNSET, _UNSET))
        results = _MapResults(self.path, self.connect_timeout, params,
                              len(items), end)
        with self._maps_lock:
            self._maps.add(results)
        return results

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Accept no more work; with CANCEL_FUTURES, cancel every task
        still pending on the daemon (and the unfinished maps); with WAIT,
        return once every future is done. Later submits raise
        RuntimeError. The daemon itself goes on."""
        link = self._link
        link.shutdown()
        if cancel_futures:
            self._cancel_all()
        if wait and threading.current_thread() is not link.resolver:
            link.reader.join()
            link.resolver.join()

    def _cancel_all(self):
        link = self._link
        replies = []
        for future in link.pending_futures():
            try:
                replies.append((future, link.request(
                    "cancel", {"future": future.poold_id})))
            except (BrokenExecutor, RuntimeError):
                break
        cancelled = []
        for future, reply in replies:
            try:
                if reply.get().get("cancelled"):
                    cancelled.append(future)
            except (BrokenExecutor, RuntimeError):
                pass
        link.await_cancelled(cancelled)
        with self._maps_lock:
            maps = list(self._maps)
        for results in maps:
            results.cancel()


class _MapResults:
    """Executor.map's iterator, on a connection of its own."""

    def __init__(self, path, connect_timeout, params, n, end):
        self._n = n
        self._end = end
        self._next = 0
        self._lines = LineBuffer()
        self._items = []
        self._error = None
        self._cancelled = False
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(connect_timeout)
            self._sock.connect(path)
            # The hello's answer comes after the map's own answer, if the
            # map is refused, since the daemon reads a connection's lines
            # in order: a bad call raises here, not at the first item.
            self._sock.sendall(encode("map", params, 1) +
                               encode("hello", None, 2))
            while True:
                msg = self._read(None)
                if msg.get("id") == 2:
                    break
                if msg.get("id") == 1 and "error" in msg:
                    raise error_from(msg["error"])
                self._take(msg)
        except BaseException:
            self._sock.close()
            raise

    def __iter__(self):
        return self

    def __next__(self):
        if self._next >= self._n or self._sock is None:
            self.close()
            raise StopIteration
        try:
            while not self._items:
                self._take(self._read(self._end))
        except BaseException:
            self.close()
            raise
        index, item = self._items.pop(0)
        if index != self._next:
            self.close()
            raise ProtocolError("map item %r out of order, expected %d"
                                % (index, self._next))
        self._next += 1
        if "error" in item:
            self.close()
            error = item["error"]
            if isinstance(error, dict) and "index" not in error:
                # As the map future's error says which item it was.
                error = dict(error, index=index)
            raise TaskError.from_object(error)
        return item.get("result")

    def _take(self, msg):
        if msg.get("method") == "map.item":
            params = msg.get("params") or {}
            self._items.append((params.get("index"), params))
        elif msg.get("id") == 1 and "error" in msg:
            raise error_from(msg["error"])

    def _read(self, end):
        """The next message, by END (monotonic time; None: no limit)."""
        while True:
            line = self._lines.line()
            if line is not None:
                return decode(line)
            if end is None:
                self._sock.settimeout(None)
            else:
                left = end - time.monotonic()
                if left <= 0:
                    raise concurrent.futures.TimeoutError()
                self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(1 << 16)
            except socket.timeout:
                raise concurrent.futures.TimeoutError() from None
            except OSError as e:
                chunk = b""
                self._error = str(e)
            if not chunk:
                if self._cancelled:
                    raise concurrent.futures.CancelledError()
                raise BrokenExecutor("lost the connection to poold: %s"
                                     % (self._error or "poold closed the "
                                        "connection"))
            self._lines.feed(chunk)

    def cancel(self):
        """From another thread (shutdown): end the map; the iterator
        raises CancelledError at the first result it does not have."""
        with self._lock:
            self._cancelled = True
            if self._sock is not None:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        """Stop: closing the connection cancels what has not run."""
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

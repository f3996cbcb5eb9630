"""A blocking connection to poold: requests, answers and notifications."""

import collections
import itertools
import json
import os
import socket
import time

from .errors import ProtocolError, RemoteError, error_from

__all__ = ["Connection", "ProtocolError", "RemoteError",
           "default_socket_path"]


def default_socket_path():
    """The socket path, by the protocol's rules for daemon and clients."""
    path = os.environ.get("POOLD_SOCKET")
    if path:
        return path
    if os.getuid() == 0:
        return "/run/poold/poold.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "poold", "poold.sock")
    return "/tmp/poold-%d/poold.sock" % os.getuid()


def encode(method, params=None, rid=None):
    """One request line; without RID, a notification."""
    msg = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    if rid is not None:
        msg["id"] = rid
    line = json.dumps(msg, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return line.encode("utf-8") + b"\n"


def params_without_defaults(*triples):
    """The params object from (name, value, protocol default) triples,
    leaving out what equals its default so requests stay short."""
    params = {}
    for name, value, default in triples:
        if value is default or (default is not None and
                                type(value) is type(default) and
                                value == default):
            continue
        params[name] = value
    return params


class LineBuffer:
    """Splits a byte stream into lines, looking at each byte once however
    the stream is cut, so a long line costs no more than a short one."""

    def __init__(self):
        self._buf = bytearray()
        self._start = 0         # where the next line begins
        self._scan = 0          # no newline before this

    def feed(self, data):
        if self._start:
            del self._buf[:self._start]
            self._scan -= self._start
            self._start = 0
        self._buf += data

    def line(self):
        """The next whole line without its newline, or None."""
        nl = self._buf.find(b"\n", self._scan)
        if nl < 0:
            self._scan = len(self._buf)
            return None
        line = bytes(self._buf[self._start:nl])
        self._start = self._scan = nl + 1
        return line


def decode(line):
    """A message from one line, or ProtocolError."""
    try:
        msg = json.loads(line)
    except ValueError as e:
        raise ProtocolError("not JSON from poold: %s" % e) from None
    if not isinstance(msg, dict):
        raise ProtocolError("not a JSON-RPC message: %r" % (msg,))
    return msg


class Connection:
    """One connection, for one thread at a time.

    call() sends a request and returns its result, keeping the answers and
    notifications that arrive meanwhile: answers for later calls,
    notifications in .notifications (or handed to on_notification(method,
    params), when given). TIMEOUT (seconds, None: no limit) bounds the
    connect and the wait for each answer beyond the wait the call itself
    asks the daemon for; when it runs out, socket.timeout is raised and
    the connection stays usable.
    """

    def __init__(self, path=None, timeout=None, on_notification=None):
        self.path = path or default_socket_path()
        self.timeout = timeout
        # Python makes its sockets close-on-exec (PEP 446).
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError:
            self.sock.close()
            raise
        self._lines = LineBuffer()
        self._ids = itertools.count(1)
        self._answers = {}
        # Requests whose notifications a generator collects (request id
        # -> deque), and those given up on, whose remains are dropped.
        self._streams = {}
        self._dropped = set()
        self.notifications = []
        self.on_notification = on_notification

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, method, params=None, notification=False):
        """Send a request without waiting; its id, or None for a
        notification."""
        rid = None if notification else next(self._ids)
        self.sock.settimeout(self.timeout)
        self.sock.sendall(encode(method, params, rid))
        return rid

    def answer(self, rid, wait=0):
        """Wait for the answer to request RID: its result, or the
        RemoteError subclass of its error. WAIT is how long the daemon
        itself may take (None: without limit), on top of the connection's
        timeout."""
        deadline = self._deadline(wait)
        while rid not in self._answers:
            self._dispatch(self._read_message(deadline))
        msg = self._answers.pop(rid)
        if "error" in msg:
            raise error_from(msg["error"])
        return msg.get("result")

    def call(self, method, params=None, wait=0):
        """Send a request and wait for its result."""
        return self.answer(self.send(method, params), wait)

    def next_notification(self, timeout=None):
        """The oldest notification not yet taken, as (method, params),
        waiting up to TIMEOUT seconds (None: without limit) for one. Only
        for a connection without on_notification."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.notifications:
            self._dispatch(self._read_message(deadline))
        msg = self.notifications.pop(0)
        return msg.get("method"), msg.get("params")

    # -- reading --

    def _deadline(self, wait):
        if self.timeout is None or wait is None:
            return None
        return time.monotonic() + self.timeout + wait

    def _read_line(self, deadline):
        while True:
            line = self._lines.line()
            if line is not None:
                return line
            if deadline is None:
                self.sock.settimeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("no answer from poold in time")
                self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("poold closed the connection")
            self._lines.feed(chunk)

    def _read_message(self, deadline):
        return decode(self._read_line(deadline))

    def _dispatch(self, msg):
        if "id" in msg:
            rid = msg["id"]
            if rid in self._dropped:
                self._dropped.discard(rid)
            else:
                self._answers[rid] = msg
            return
        params = msg.get("params")
        request = params.get("request") if isinstance(params, dict) \
            else None
        if request is not None and not isinstance(request, (dict, list)):
            if request in self._streams:
                self._streams[request].append(params)
                return
            if request in self._dropped:
                return
        if self.on_notification is not None:
            self.on_notification(msg.get("method"), params)
        else:
            self.notifications.append(msg)

    def _open_stream(self, rid, wait):
        """The iterator over what request RID (an as_completed or a
        streaming map) is sent, registered before anything else is read
        so none of it goes astray."""
        self._streams[rid] = collections.deque()
        return Stream(self, rid, self._deadline(wait))


class Stream:
    """The params of the notifications tied to one request, as they come;
    then .result holds the request's result (its error is raised). Closed
    early, what is still to come for the request is dropped."""

    def __init__(self, conn, rid, deadline):
        self._conn = conn
        self._rid = rid
        self._deadline = deadline
        self._open = True
        self.result = None

    def __iter__(self):
        return self

    def __next__(self):
        conn, rid = self._conn, self._rid
        if not self._open:
            raise StopIteration
        while True:
            queue = conn._streams[rid]
            if queue:
                return queue.popleft()
            if rid in conn._answers:
                self._open = False
                del conn._streams[rid]
                self.result = conn.answer(rid)
                raise StopIteration
            conn._dispatch(conn._read_message(self._deadline))

    def close(self):
        """Stop collecting; the rest of the request's output is dropped."""
        if not self._open:
            return
        self._open = False
        conn, rid = self._conn, self._rid
        del conn._streams[rid]
        if conn._answers.pop(rid, None) is None:
            conn._dropped.add(rid)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

"""A blocking connection to poold: requests, answers and notifications."""

import itertools
import json
import os
import socket


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


class ProtocolError(Exception):
    """The daemon closed the connection or sent something that is not
    JSON-RPC."""


class RemoteError(Exception):
    """A JSON-RPC error answer: .code, .message and .data as sent."""

    def __init__(self, code, message, data=None):
        super().__init__("%s (%d)" % (message, code))
        self.code = code
        self.message = message
        self.data = data


class Connection:
    """One connection. call() sends a request and returns its result,
    keeping the answers and notifications that arrive meanwhile: answers
    for later calls, notifications in .notifications (or handed to
    on_notification, when given)."""

    def __init__(self, path=None, timeout=None, on_notification=None):
        self.path = path or default_socket_path()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError:
            self.sock.close()
            raise
        self._buf = bytearray()
        self._ids = itertools.count(1)
        self._answers = {}
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
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        rid = None
        if not notification:
            rid = msg["id"] = next(self._ids)
        line = json.dumps(msg, separators=(",", ":"), ensure_ascii=False)
        self.sock.sendall(line.encode("utf-8") + b"\n")
        return rid

    def answer(self, rid):
        """Wait for the answer to request RID: its result, or RemoteError."""
        while rid not in self._answers:
            self._read_one()
        msg = self._answers.pop(rid)
        if "error" in msg:
            err = msg["error"]
            raise RemoteError(err.get("code"), err.get("message"),
                              err.get("data"))
        return msg.get("result")

    def call(self, method, params=None):
        """Send a request and wait for its result."""
        return self.answer(self.send(method, params))

    def _read_line(self):
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                return line
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("poold closed the connection")
            self._buf += chunk

    def _read_one(self):
        try:
            msg = json.loads(self._read_line())
        except ValueError as e:
            raise ProtocolError("not JSON from poold: %s" % e) from None
        if not isinstance(msg, dict):
            raise ProtocolError("not a JSON-RPC message: %r" % (msg,))
        if "id" not in msg:
            if self.on_notification is not None:
                self.on_notification(msg.get("method"), msg.get("params"))
            else:
                self.notifications.append(msg)
            return
        self._answers[msg["id"]] = msg

"""The exceptions of the poold client.

RemoteError is any JSON-RPC error answer; each code of PROTOCOL.md has a
subclass, so a caller can catch exactly what it expects. The two that
have a standard-library meaning also derive from it: a wait that ran out
is a concurrent.futures.TimeoutError, a cancelled future a
concurrent.futures.CancelledError.
"""

import concurrent.futures


class ProtocolError(Exception):
    """The daemon closed the connection or sent something that is not
    JSON-RPC."""


class BrokenExecutor(concurrent.futures.BrokenExecutor):
    """An Executor lost its connection to poold: every future of it that
    was not done fails with this, and so does every later submit. What
    became of those tasks on the daemon is not known."""


class RemoteError(Exception):
    """A JSON-RPC error answer: .code, .message and .data as sent."""

    def __init__(self, code, message, data=None):
        # All three in args, so the exception pickles and copies whole.
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    def __str__(self):
        return "%s (%s)" % (self.message, self.code)


class ParseError(RemoteError):
    """-32700: the daemon could not parse the line as JSON."""


class InvalidRequest(RemoteError):
    """-32600: not a JSON-RPC 2.0 request object, or too large."""


class MethodNotFound(RemoteError):
    """-32601: no such method; data.method names it."""


class InvalidParams(RemoteError):
    """-32602: a missing, unknown or wrongly typed parameter; data.param
    names it."""


class InternalError(RemoteError):
    """-32603: a bug in the daemon."""


class UnknownFuture(RemoteError):
    """-32000: no such future for this uid; data.future names it."""


class WaitTimeout(RemoteError, concurrent.futures.TimeoutError):
    """-32001: a wait ran out before the future was done (data.state, or
    data.not_done for as_completed)."""


class FutureCancelled(RemoteError, concurrent.futures.CancelledError):
    """-32002: the future was cancelled."""


class TaskError(RemoteError):
    """A task failed. .type is the task error's type (TaskError,
    TimeoutError, WorkerCrashed, ExecError, ProcessError, Interrupted),
    .message its message and .data the whole task error object, with the
    fields its type adds (signal, exit_code, errno, exc_type, traceback,
    a map item's index...). .code is -32003, the error a result call
    answers for it."""

    def __init__(self, code=-32003, message="task failed", data=None):
        super().__init__(code, message, data)
        if not isinstance(data, dict):
            data = {}
        self.type = data.get("type")
        if isinstance(data.get("message"), str):
            self.message = data["message"]

    @classmethod
    def from_object(cls, error):
        """The TaskError for a task error object as the daemon sends it."""
        return cls(-32003, "task failed", error)

    def __str__(self):
        if self.type:
            return "%s: %s" % (self.type, self.message)
        return str(self.message)


class UnknownFunction(RemoteError):
    """-32004: no such function; data.fn names it."""


class QueueFull(RemoteError):
    """-32005: a limit was reached; nothing was queued."""


class ShuttingDown(RemoteError):
    """-32006: the daemon is stopping and accepts no new work."""


class PermissionDenied(RemoteError):
    """-32007: an admin method, and the caller is not an admin."""


_BY_CODE = {
    -32700: ParseError,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32000: UnknownFuture,
    -32001: WaitTimeout,
    -32002: FutureCancelled,
    -32003: TaskError,
    -32004: UnknownFunction,
    -32005: QueueFull,
    -32006: ShuttingDown,
    -32007: PermissionDenied,
}


def error_from(error):
    """The exception for a JSON-RPC error object: the class of its code,
    or RemoteError for a code PROTOCOL.md does not list."""
    if not isinstance(error, dict):
        return ProtocolError("malformed JSON-RPC error: %r" % (error,))
    code = error.get("code")
    cls = _BY_CODE.get(code, RemoteError) if isinstance(code, int) \
        else RemoteError
    return cls(code, error.get("message"), error.get("data"))

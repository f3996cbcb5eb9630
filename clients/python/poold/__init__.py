"""Talk to poold from Python, with the standard library only.

    import poold
    with poold.Connection() as c:
        fid = c.call("submit", {"fn": "echo", "args": ["hi"]})["future"]
        print(c.call("result", {"future": fid}))

Connection speaks the wire protocol as it is: newline-framed JSON-RPC 2.0
over poold's Unix socket, found by the same rules the daemon uses.
"""

from .connection import (Connection, RemoteError, ProtocolError,
                         default_socket_path)

__all__ = ["Connection", "RemoteError", "ProtocolError",
           "default_socket_path"]

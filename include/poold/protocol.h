/*
 * poold wire protocol, version 1: the numbers a client needs. The protocol
 * itself (newline-framed JSON-RPC 2.0 over a Unix socket) is described in
 * poold's PROTOCOL.md; this header names its constants for C programs.
 */
#ifndef POOLD_PROTOCOL_H
#define POOLD_PROTOCOL_H

/** The protocol version that hello reports. */
#define POOLD_PROTOCOL_VERSION	1

/** The environment variable that names the socket, for daemon and clients. */
#define POOLD_SOCKET_ENV	"POOLD_SOCKET"

/** The system instance's socket, used by uid 0. */
#define POOLD_SYSTEM_SOCKET	"/run/poold/poold.sock"

/** JSON-RPC error codes (error.code). */
enum poold_error {
	POOLD_E_PARSE = -32700,		/**< the line is not JSON */
	POOLD_E_INVALID_REQUEST = -32600, /**< not a request, or too large */
	POOLD_E_METHOD_NOT_FOUND = -32601,
	POOLD_E_INVALID_PARAMS = -32602, /**< data.param names the parameter */
	POOLD_E_INTERNAL = -32603,	/**< a bug in poold */
	POOLD_E_UNKNOWN_FUTURE = -32000, /**< not visible to this uid */
	POOLD_E_TIMEOUT = -32001,	/**< the wait ran out; not done */
	POOLD_E_CANCELLED = -32002,
	POOLD_E_TASK_FAILED = -32003,	/**< data is the task error object */
	POOLD_E_UNKNOWN_FUNCTION = -32004,
	POOLD_E_QUEUE_FULL = -32005,	/**< a limit is reached; nothing queued */
	POOLD_E_SHUTTING_DOWN = -32006,
	POOLD_E_PERMISSION_DENIED = -32007,
	/** poold's own: the state directory cannot be written, so no new
	 * work is taken (data.reason says why); everything else is served */
	POOLD_E_STATE_UNAVAILABLE = -32008,
};

#endif

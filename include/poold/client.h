/*
 * libpoold-client: talk to poold from C.
 *
 * A poold_client is one connection to the daemon. It speaks the wire
 * protocol (newline-framed JSON-RPC 2.0 over a Unix socket, see poold's
 * PROTOCOL.md) and hands JSON values to the program as jansson json_t.
 *
 * Three ways to use it:
 *   - blocking: poold_call() sends a request and waits for its result;
 *   - pipelined: poold_send() several requests, then poold_response() for
 *     each, in any order;
 *   - from the program's own event loop: poll poold_fd() for reading (and
 *     for writing while poold_want_write() is true), call poold_dispatch()
 *     when it is ready, then poold_take_response().
 * Notifications from the daemon (map.item, as_completed, notify) go to the
 * handler set with poold_set_notify_handler(), from inside whichever call
 * read them; without a handler they are dropped.
 *
 * Requests go one at a time: the library sends no batches, and a batch
 * (a JSON array) from the daemon is POOLD_ERR_PROTOCOL. Messages are lines
 * of at most poold_set_max_line() bytes (POOLD_DEFAULT_MAX_LINE unless
 * changed); a longer one from the daemon is POOLD_ERR_PROTOCOL.
 *
 * Nothing in the library prints or exits. Every function that can fail
 * returns a poold_status; the details of the last failure on a client are
 * kept on it (poold_error_message(), poold_error_code(), poold_error_data()).
 * Once the connection breaks (POOLD_ERR_CLOSED, POOLD_ERR_PROTOCOL, or
 * POOLD_ERR_SYSTEM from the socket), every call that needs it returns that
 * same failure again; answers that arrived before can still be taken.
 * A client is not thread-safe: use one per thread, or lock around it.
 *
 * Ownership: params passed in are borrowed (the caller still owns them);
 * results handed out are new references the caller must json_decref().
 */
#ifndef POOLD_CLIENT_H
#define POOLD_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <poold/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The default longest line accepted from the daemon, without its '\n':
 *  16 MiB, like the daemon's own max_request_bytes. */
#define POOLD_DEFAULT_MAX_LINE	(16u * 1024 * 1024)

/** One connection to poold. */
typedef struct poold_client poold_client;

/** What a call came to. Zero is success; every failure is negative. */
typedef enum poold_status {
	POOLD_OK = 0,
	/** A system call failed or memory ran out; poold_error_errno() has
	 *  the errno (ENOMEM for memory). */
	POOLD_ERR_SYSTEM = -1,
	/** The client-side time limit ran out; the request is still
	 *  outstanding and its answer can be waited for again. */
	POOLD_ERR_TIMEOUT = -2,
	/** The daemon closed the connection. */
	POOLD_ERR_CLOSED = -3,
	/** The daemon sent something that is not protocol (not JSON, not a
	 *  JSON-RPC message, an answer to no request). The connection is
	 *  no longer usable. */
	POOLD_ERR_PROTOCOL = -4,
	/** The daemon answered with a JSON-RPC error: poold_error_code(),
	 *  poold_error_message() and poold_error_data() have it. */
	POOLD_ERR_RPC = -5,
	/** The caller passed something unusable (a NULL method, params that
	 *  are not an object, an unknown request id). */
	POOLD_ERR_USAGE = -6,
	/** Nothing yet: the answer has not arrived (non-blocking calls). */
	POOLD_ERR_AGAIN = -7,
} poold_status;

/** Handler for a notification from the daemon. params is borrowed: valid
 *  only during the call (json_incref() it to keep it); NULL when the
 *  notification had none. The handler may call poold_send(),
 *  poold_send_notification() and poold_take_response(); the calls that
 *  wait or read (poold_call(), poold_response(), poold_dispatch(),
 *  poold_poll() and the convenience calls) return POOLD_ERR_USAGE there,
 *  and it must not close the client. */
typedef void poold_notify_fn(poold_client *c, const char *method,
			     json_t *params, void *arg);

/**
 * The default socket path, by the protocol's rules: $POOLD_SOCKET if set
 * (and not empty); else /run/poold/poold.sock for uid 0; else
 * $XDG_RUNTIME_DIR/poold/poold.sock (if set and not empty); else
 * /tmp/poold-$UID/poold.sock. The same rules as the daemon's.
 * Writes it into buf (of size len) and returns buf, or NULL (errno
 * ENAMETOOLONG) when it does not fit.
 */
char *poold_default_socket(char *buf, size_t len);

/**
 * Connect to the daemon at path (NULL: the default socket). On success
 * *out is the new client and the result is POOLD_OK. On failure *out is
 * NULL, the result is POOLD_ERR_SYSTEM (errno is set: ENOENT or
 * ECONNREFUSED when no daemon listens there, ENAMETOOLONG for a path that
 * does not fit a socket address) or POOLD_ERR_USAGE for a NULL out.
 * The socket is close-on-exec.
 */
poold_status poold_connect(const char *path, poold_client **out);

/** Close the connection and free everything the client holds. NULL is
 *  ignored. Answers not yet taken are dropped. */
void poold_close(poold_client *c);

/** The connection's file descriptor, for the program's own poll loop.
 *  It is non-blocking; read and write it only through the library. */
int poold_fd(const poold_client *c);

/** The socket path this client connected to. */
const char *poold_path(const poold_client *c);

/** Set (or, with fn NULL, clear) the notification handler. */
void poold_set_notify_handler(poold_client *c, poold_notify_fn *fn,
			      void *arg);

/** Set the longest line (without its '\n') accepted from the daemon;
 *  0 restores POOLD_DEFAULT_MAX_LINE. A longer line is POOLD_ERR_PROTOCOL. */
void poold_set_max_line(poold_client *c, size_t bytes);

/**
 * Queue a request for method with params (an object, or NULL for none)
 * and write as much as the socket takes without blocking. *id (when id is
 * not NULL) receives the request's id, for poold_response() or
 * poold_take_response(). Returns POOLD_OK, POOLD_ERR_USAGE, or the error
 * that broke the connection.
 */
poold_status poold_send(poold_client *c, const char *method,
			json_t *params, uint64_t *id);

/**
 * Queue a JSON-RPC notification (a request without id: never answered),
 * and write as poold_send() does. Returns as poold_send() does.
 */
poold_status poold_send_notification(poold_client *c, const char *method,
				     json_t *params);

/**
 * Wait up to timeout_ms milliseconds (-1, or any negative: no limit) for
 * the answer to request id, writing queued requests and handing
 * notifications to the handler meanwhile. On POOLD_OK, *result (when not
 * NULL) is the result, a new reference. A JSON-RPC error answer is
 * POOLD_ERR_RPC with the error kept on the client. Either way the answer
 * is taken: the id is no longer outstanding. POOLD_ERR_TIMEOUT leaves the
 * request outstanding. An id that is not outstanding is POOLD_ERR_USAGE.
 * An answer that arrived before the connection broke is still given.
 */
poold_status poold_response(poold_client *c, uint64_t id, int timeout_ms,
			    json_t **result);

/** poold_send() then poold_response(): one blocking call. When it fails
 *  other than with POOLD_OK or POOLD_ERR_RPC (POOLD_ERR_TIMEOUT above all),
 *  the request is abandoned: its answer is dropped when it comes. */
poold_status poold_call(poold_client *c, const char *method, json_t *params,
			int timeout_ms, json_t **result);

/**
 * Event-loop use: do whatever I/O the socket allows now, without
 * blocking: write queued requests, read and file what arrived (answers
 * are kept for poold_take_response(); notifications go to the handler).
 * Returns POOLD_OK, or the error that broke the connection.
 */
poold_status poold_dispatch(poold_client *c);

/** Whether queued output is waiting for the socket to become writable. */
int poold_want_write(const poold_client *c);

/**
 * Take the answer to request id if it has arrived (as poold_response()
 * would return it), or POOLD_ERR_AGAIN if it has not. Never blocks and
 * does no I/O. Once the connection is broken, an answer that never came
 * is the error that broke it.
 */
poold_status poold_take_response(poold_client *c, uint64_t id,
				 json_t **result);

/**
 * Wait up to timeout_ms (-1: no limit) for anything from the daemon (an
 * answer or a notification) and handle what came, as poold_dispatch()
 * does. POOLD_ERR_TIMEOUT when nothing came. For programs that wait on
 * notifications.
 */
poold_status poold_poll(poold_client *c, int timeout_ms);

/**
 * Submit fn with positional args (an array, or NULL for none) and
 * options (an object with any of submit's other parameters: kwargs,
 * executor, timeout, priority, retries, notify; or NULL; fn or args in
 * it are POOLD_ERR_USAGE). On success *future is the new future id, a
 * malloc'd string the caller frees. Blocks until the daemon answers,
 * which it does at once.
 */
poold_status poold_submit(poold_client *c, const char *fn, json_t *args,
			  json_t *options, char **future);

/**
 * The result of future, waiting up to timeout seconds on the daemon's
 * side (a negative timeout: no limit); the client waits for that answer
 * however long it takes. A failed task is POOLD_ERR_RPC with code
 * POOLD_E_TASK_FAILED and the task error as the error data; a timeout is
 * POOLD_ERR_RPC with code POOLD_E_TIMEOUT.
 */
poold_status poold_result(poold_client *c, const char *future,
			  double timeout, json_t **result);

/** The JSON-RPC error code of the last POOLD_ERR_RPC, else 0. (An error
 *  the daemon sends with a null id, such as "too many connections", is
 *  POOLD_ERR_PROTOCOL and also keeps its code, message and data.) */
int poold_error_code(const poold_client *c);

/** A message describing the last failure on the client ("" if none). */
const char *poold_error_message(const poold_client *c);

/** The data of the last JSON-RPC error (borrowed; NULL if it had none). */
json_t *poold_error_data(const poold_client *c);

/** The errno of the last POOLD_ERR_SYSTEM, else 0. */
int poold_error_errno(const poold_client *c);

/** A fixed description of a status, for messages. */
const char *poold_strstatus(poold_status status);

#ifdef __cplusplus
}
#endif

#endif

/*
 * JSON-RPC 2.0: one line in, its request or batch checked and dispatched
 * to a method, and the answers out. A method either answers before it
 * returns or holds the request and answers it later (a waiting result);
 * a held request that loses its connection is released unanswered.
 */
#ifndef POOLD_RPC_H
#define POOLD_RPC_H

#include <sys/queue.h>

#include <stddef.h>

#include <jansson.h>

#include <poold/protocol.h>

#include "future.h"
#include "json-check.h"

struct conn;
struct fn;
struct map_params;
struct rpc_batch;

/* The error codes, in the names the daemon's code uses. */
enum rpc_code {
	RPC_PARSE_ERROR = POOLD_E_PARSE,
	RPC_INVALID_REQUEST = POOLD_E_INVALID_REQUEST,
	RPC_METHOD_NOT_FOUND = POOLD_E_METHOD_NOT_FOUND,
	RPC_INVALID_PARAMS = POOLD_E_INVALID_PARAMS,
	RPC_INTERNAL_ERROR = POOLD_E_INTERNAL,
	RPC_UNKNOWN_FUTURE = POOLD_E_UNKNOWN_FUTURE,
	RPC_TIMEOUT = POOLD_E_TIMEOUT,
	RPC_CANCELLED = POOLD_E_CANCELLED,
	RPC_TASK_FAILED = POOLD_E_TASK_FAILED,
	RPC_UNKNOWN_FUNCTION = POOLD_E_UNKNOWN_FUNCTION,
	RPC_QUEUE_FULL = POOLD_E_QUEUE_FULL,
	RPC_SHUTTING_DOWN = POOLD_E_SHUTTING_DOWN,
	RPC_PERMISSION_DENIED = POOLD_E_PERMISSION_DENIED,
	RPC_STATE_UNAVAILABLE = POOLD_E_STATE_UNAVAILABLE,
};

struct rpc_req {
	struct conn		*conn;
	json_t			*id;		/* NULL: a notification */
	struct rpc_batch	*batch;		/* NULL: answered alone */
	/* The request's own text, while its handler runs; NULL in a batch. */
	const char		*text;
	size_t			 text_len;
	/* A map's iterable, when left as text (params hold []): like text. */
	struct json_hollow	 items;
	int			 in_handler;
	int			 answered;
	int			 held;
	void			(*release)(struct rpc_req *);
	/* Its connection's output drained: a paused stream may go on. */
	void			(*drained)(struct rpc_req *);
	void			*data;		/* the method's */
	TAILQ_ENTRY(rpc_req)	 entry;		/* in its connection */
};

struct rpc_method {
	const char	*name;
	void		(*handler)(struct rpc_req *, json_t *);
};

void	rpc_handle_line(struct conn *, const char *, size_t);
json_t	*rpc_error_message(json_t *, int, const char *, json_t *);
void	rpc_result(struct rpc_req *, json_t *);
void	rpc_result_text(struct rpc_req *, const char *, size_t);
void	rpc_error(struct rpc_req *, int, const char *, json_t *);
void	rpc_hold(struct rpc_req *, void (*)(struct rpc_req *), void *);
void	rpc_abort(struct rpc_req *);

/* Parameter checks: each answers -32602 itself and returns -1 on error. */
int	rpc_params_known(struct rpc_req *, json_t *, const char *const *);
int	rpc_param_invalid(struct rpc_req *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	rpc_param_timeout(struct rpc_req *, json_t *, const char *, double *);
int	rpc_param_bool(struct rpc_req *, json_t *, const char *, int, int *);
int	rpc_param_int(struct rpc_req *, json_t *, const char *, long long,
	    long long, long long, long long *);
int	rpc_param_string(struct rpc_req *, json_t *, const char *, int,
	    const char **);
int	rpc_param_futures(struct rpc_req *, json_t *, const char *, json_t **);
int	rpc_require_admin(struct rpc_req *);
int	rpc_require_running(struct rpc_req *);
int	rpc_require_runnable(struct rpc_req *, const char *, const char *);
void	rpc_unknown_future(struct rpc_req *, const char *);
const struct fn *rpc_find_fn(struct rpc_req *, const char *, const char *,
	    enum executor *);

/* A new future's acceptance, once its record is durable (rpc-accept.c). */
int	rpc_require_journal(struct rpc_req *);
void	rpc_accept_submit(struct rpc_req *, struct future *, long long, int);
void	rpc_accept_map(struct rpc_req *, struct future *,
	    const struct map_params *, int);
void	rpc_accept_stream(struct rpc_req *, struct future *,
	    const struct map_params *, int, int);

extern const struct rpc_method rpc_hello, rpc_functions, rpc_stats,
    rpc_workers;
extern const struct rpc_method rpc_submit;
extern const struct rpc_method rpc_status, rpc_result_method, rpc_exception,
    rpc_cancel;
extern const struct rpc_method rpc_wait, rpc_as_completed;
extern const struct rpc_method rpc_list, rpc_forget;
extern const struct rpc_method rpc_map;
extern const struct rpc_method rpc_shutdown, rpc_resize;

#endif

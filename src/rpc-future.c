/*
 * status, result, exception and cancel: one future each. result and
 * exception may wait; a waiting request holds a watch on the future and,
 * for a finite timeout, a timer, and never blocks anything else.
 */
#include "autoconf.h"

#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "conn.h"
#include "future.h"
#include "log.h"
#include "poold.h"
#include "rpc.h"
#include "sched.h"
#include "xmalloc.h"

struct future_wait {
	struct rpc_req		*req;
	struct future_watch	 watch;
	struct event		*timer;
	int			 exception;	/* exception, not result */
};

static const char *const status_params[] = { "future", NULL };
static const char *const result_params[] = { "future", "timeout", NULL };
static const char *const cancel_params[] = { "future", "force", NULL };

/* Look up the "future" parameter; answers the error itself. */
static struct future *
future_param(struct rpc_req *req, json_t *params)
{
	struct future	*f;
	const char	*id;

	if (rpc_param_string(req, params, "future", 1, &id) == -1)
		return NULL;
	if ((f = future_lookup(id, conn_uid(req->conn),
	    conn_is_admin(req->conn))) == NULL)
		rpc_unknown_future(req, id);
	return f;
}

static void
rpc_status_handler(struct rpc_req *req, json_t *params)
{
	struct future	*f;

	if (rpc_params_known(req, params, status_params) == -1 ||
	    (f = future_param(req, params)) == NULL)
		return;
	rpc_result(req, future_to_json(f, 1));
}

/* Answer result or exception for a done future. */
static void
future_answer(struct rpc_req *req, struct future *f, int exception)
{
	switch (f->state) {
	case FUTURE_FINISHED:
		if (exception)
			rpc_result(req, json_null());
		else if (f->result == NULL && f->result_text != NULL)
			rpc_result_text(req, f->result_text, f->result_len);
		else
			rpc_result(req, json_incref(f->result));
		break;
	case FUTURE_FAILED:
		if (exception)
			rpc_result(req, json_incref(f->error));
		else
			rpc_error(req, RPC_TASK_FAILED, "task failed",
			    json_incref(f->error));
		break;
	case FUTURE_CANCELLED:
		rpc_error(req, RPC_CANCELLED, "cancelled",
		    json_pack("{s:s}", "future", f->name));
		break;
	default:
		rpc_error(req, RPC_TIMEOUT, "timeout: the future is not done",
		    json_pack("{s:s}", "state", future_state_name(f->state)));
		break;
	}
}

static void
future_wait_release(struct rpc_req *req)
{
	struct future_wait	*w = req->data;

	future_unwatch(&w->watch);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
}

static void
future_wait_done(struct future_watch *watch, struct future *f)
{
	struct future_wait	*w = watch->arg;

	future_answer(w->req, f, w->exception);
}

static void
future_wait_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct future_wait	*w = arg;

	future_answer(w->req, w->watch.future, w->exception);
}

static void
future_wait_start(struct rpc_req *req, struct future *f, double timeout,
    int exception)
{
	struct future_wait	*w = xcalloc(1, sizeof *w);
	struct timeval		 tv;

	w->req = req;
	w->exception = exception;
	future_watch(f, &w->watch, future_wait_done, w);
	if (timeout > 0) {
		if ((w->timer = evtimer_new(poold.base, future_wait_timeout,
		    w)) == NULL)
			fatalx("evtimer_new failed");
		tv = clock_timeval(timeout);
		evtimer_add(w->timer, &tv);
	}
	rpc_hold(req, future_wait_release, w);
}

static void
result_or_exception(struct rpc_req *req, json_t *params, int exception)
{
	struct future	*f;
	double		 timeout;

	if (rpc_params_known(req, params, result_params) == -1 ||
	    rpc_param_timeout(req, params, "timeout", &timeout) == -1 ||
	    (f = future_param(req, params)) == NULL)
		return;
	if (future_is_done(f) || timeout == 0)
		future_answer(req, f, exception);
	else
		future_wait_start(req, f, timeout, exception);
}

static void
rpc_result_handler(struct rpc_req *req, json_t *params)
{
	result_or_exception(req, params, 0);
}

static void
rpc_exception_handler(struct rpc_req *req, json_t *params)
{
	result_or_exception(req, params, 1);
}

static void
rpc_cancel_handler(struct rpc_req *req, json_t *params)
{
	struct future	*f;
	int		 force, cancelled;

	if (rpc_params_known(req, params, cancel_params) == -1 ||
	    rpc_param_bool(req, params, "force", 0, &force) == -1 ||
	    (f = future_param(req, params)) == NULL)
		return;
	cancelled = sched_cancel(f, force);
	rpc_result(req, json_pack("{s:b, s:s}", "cancelled", cancelled,
	    "state", future_state_name(f->state)));
}

const struct rpc_method rpc_status = { "status", rpc_status_handler };
const struct rpc_method rpc_result_method = { "result", rpc_result_handler };
const struct rpc_method rpc_exception = { "exception",
    rpc_exception_handler };
const struct rpc_method rpc_cancel = { "cancel", rpc_cancel_handler };

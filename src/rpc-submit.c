/*
 * submit: check everything about the call first, so that a task that is
 * queued can fail only for reasons of its own.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "conn.h"
#include "fn.h"
#include "future.h"
#include "poold.h"
#include "rpc.h"

static const char *const submit_params[] = {
	"fn", "args", "kwargs", "executor", "timeout", "priority", "retries",
	"notify", NULL
};

struct submit {
	const char	*fn_name;
	json_t		*args;		/* borrowed */
	json_t		*kwargs;
	const char	*executor_name;
	double		 timeout;
	long long	 priority;
	long long	 retries;
	int		 notify;
};

static int
submit_parse(struct rpc_req *req, json_t *params, struct submit *s)
{
	enum executor	e;

	if (rpc_params_known(req, params, submit_params) == -1 ||
	    rpc_param_string(req, params, "fn", 1, &s->fn_name) == -1)
		return -1;
	s->args = json_object_get(params, "args");
	if (s->args != NULL && !json_is_array(s->args))
		return rpc_param_invalid(req, "args", "args must be an array");
	s->kwargs = json_object_get(params, "kwargs");
	if (s->kwargs != NULL && !json_is_object(s->kwargs))
		return rpc_param_invalid(req, "kwargs",
		    "kwargs must be an object");
	if (rpc_param_string(req, params, "executor", 0,
	    &s->executor_name) == -1)
		return -1;
	if (s->executor_name != NULL &&
	    executor_parse(s->executor_name, &e) == -1)
		return rpc_param_invalid(req, "executor",
		    "executor must be \"process\", \"thread\" or null");
	if (rpc_param_timeout(req, params, "timeout", &s->timeout) == -1 ||
	    rpc_param_int(req, params, "priority", 0, INT32_MIN, INT32_MAX,
	    &s->priority) == -1 ||
	    rpc_param_int(req, params, "retries", 0, 0, 1000,
	    &s->retries) == -1 ||
	    rpc_param_bool(req, params, "notify", 0, &s->notify) == -1)
		return -1;
	return 0;
}

/* Find the function and check the call against it. */
static const struct fn *
submit_check_fn(struct rpc_req *req, struct submit *s, json_t *args,
    json_t *kwargs, enum executor *e)
{
	const struct fn	*fn;
	const char	*param;
	char		*why;

	if ((fn = rpc_find_fn(req, s->fn_name, s->executor_name, e)) == NULL)
		return NULL;
	if (fn->check != NULL && fn->check(args, kwargs, &param, &why) == -1) {
		rpc_param_invalid(req, param, "%s", why);
		free(why);
		return NULL;
	}
	return fn;
}

static void
rpc_submit_handler(struct rpc_req *req, json_t *params)
{
	struct submit	 s = { 0 };
	const struct fn	*fn;
	struct future	*f;
	enum executor	 e;
	json_t		*args, *kwargs;

	if (submit_parse(req, params, &s) == -1 ||
	    rpc_require_runnable(req, s.fn_name, s.executor_name) == -1 ||
	    rpc_require_running(req) == -1)
		return;
	args = s.args != NULL ? json_incref(s.args) : json_array();
	kwargs = s.kwargs != NULL ? json_incref(s.kwargs) : json_object();
	if ((fn = submit_check_fn(req, &s, args, kwargs, &e)) == NULL)
		goto fail;
	if (future_store_counts()->pending >=
	    (unsigned long)poold.cfg->max_pending) {
		rpc_error(req, RPC_QUEUE_FULL, "queue full: too many pending "
		    "tasks", json_pack("{s:I}", "max_pending",
		    (json_int_t)poold.cfg->max_pending));
		goto fail;
	}
	if (rpc_require_journal(req) == -1)
		goto fail;
	f = future_alloc(conn_uid(req->conn), fn, args, kwargs, e);
	future_set_fn_name(f, s.fn_name);
	f->timeout = s.timeout;
	f->retries = (long)s.retries;
	rpc_accept_submit(req, f, s.priority, s.notify);
	return;
fail:
	json_decref(args);
	json_decref(kwargs);
}

const struct rpc_method rpc_submit = { "submit", rpc_submit_handler };

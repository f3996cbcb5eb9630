/*
 * libpoold-client: the blocking calls, poold_call() and the methods most
 * programs need, built on poold_send() and poold_response().
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "client-int.h"

/* Drop a request no caller can ask for again: poold_call() gave up on
 * it, so its answer, if it ever comes, is not an error. */
static void
calls_abandon(poold_client *c, uint64_t id)
{
	struct pending	*p = pending_find(&c->pending, id);

	if (p == NULL)
		return;
	if (p->answer != NULL || c->fatal.status != POOLD_OK)
		pending_remove(&c->pending, id);
	else
		p->abandoned = 1;
}

poold_status
poold_call(poold_client *c, const char *method, json_t *params,
    int timeout_ms, json_t **result)
{
	poold_status	st;
	uint64_t	id;

	if (result != NULL)
		*result = NULL;
	/* Refused before sending: the request must not run unanswered. */
	if (c->in_handler)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "a blocking call inside the notification handler");
	if ((st = poold_send(c, method, params, &id)) != POOLD_OK)
		return st;
	st = poold_response(c, id, timeout_ms, result);
	if (st != POOLD_OK && st != POOLD_ERR_RPC)
		calls_abandon(c, id);
	return st;
}

/* submit's params: options, plus fn and args. */
static poold_status
calls_submit_params(poold_client *c, const char *fn, json_t *args,
    json_t *options, json_t **params)
{
	json_t	*p, *name;

	*params = NULL;
	if (fn == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0, "no function");
	if (args != NULL && !json_is_array(args))
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "args must be an array");
	if (options != NULL && !json_is_object(options))
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "options must be an object");
	if (json_object_get(options, "fn") != NULL ||
	    json_object_get(options, "args") != NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "fn and args are arguments, not options");
	if ((name = json_string(fn)) == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "the function name is not UTF-8");
	p = options != NULL ? json_copy(options) : json_object();
	if (p == NULL || json_object_set_new(p, "fn", name) == -1 ||
	    (args != NULL && json_object_set(p, "args", args) == -1)) {
		if (p == NULL)
			json_decref(name);
		json_decref(p);
		return client_fail(c, POOLD_ERR_SYSTEM, ENOMEM,
		    "out of memory making a request");
	}
	*params = p;
	return POOLD_OK;
}

poold_status
poold_submit(poold_client *c, const char *fn, json_t *args, json_t *options,
    char **future)
{
	json_t		*params, *res;
	const char	*id;
	poold_status	 st;

	if (future != NULL)
		*future = NULL;
	if ((st = calls_submit_params(c, fn, args, options, &params)) !=
	    POOLD_OK)
		return st;
	st = poold_call(c, "submit", params, -1, &res);
	json_decref(params);
	if (st != POOLD_OK)
		return st;
	if ((id = json_string_value(json_object_get(res, "future"))) == NULL) {
		json_decref(res);
		return client_break(c, POOLD_ERR_PROTOCOL, 0,
		    "submit answered without a future id");
	}
	if (future != NULL && (*future = strdup(id)) == NULL) {
		json_decref(res);
		return client_fail(c, POOLD_ERR_SYSTEM, ENOMEM,
		    "out of memory keeping a future id");
	}
	json_decref(res);
	return POOLD_OK;
}

poold_status
poold_result(poold_client *c, const char *future, double timeout,
    json_t **result)
{
	json_t		*params;
	poold_status	 st;

	if (result != NULL)
		*result = NULL;
	if (future == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0, "no future id");
	if (isnan(timeout))
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "the timeout is not a number");
	params = json_pack("{s:s, s:o}", "future", future, "timeout",
	    timeout < 0 || isinf(timeout) ? json_null() : json_real(timeout));
	if (params == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "the future id is not UTF-8, or memory ran out");
	st = poold_call(c, "result", params, -1, result);
	json_decref(params);
	return st;
}

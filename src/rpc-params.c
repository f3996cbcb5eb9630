/*
 * Checks of method parameters. Parameters are strict: a name the method
 * does not know is an error, so a misspelt option is caught rather than
 * silently ignored. Each failure answers -32602 with data.param.
 */
#include "autoconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "fn.h"
#include "ident.h"
#include "poold.h"
#include "rpc.h"

/* A string without NUL characters, usable where C strings are. */
static int
rpc_cstring(json_t *v)
{
	return json_is_string(v) &&
	    strlen(json_string_value(v)) == json_string_length(v);
}

int
rpc_param_invalid(struct rpc_req *req, const char *param, const char *fmt,
    ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rpc_error(req, RPC_INVALID_PARAMS, msg,
	    json_pack("{s:s}", "param", param));
	return -1;
}

int
rpc_params_known(struct rpc_req *req, json_t *params,
    const char *const *known)
{
	const char	*key;
	json_t		*value;
	size_t		 i;

	json_object_foreach(params, key, value) {
		for (i = 0; known[i] != NULL; i++) {
			if (strcmp(known[i], key) == 0)
				break;
		}
		if (known[i] == NULL) {
			rpc_error(req, RPC_INVALID_PARAMS, "unknown parameter",
			    json_pack("{s:s}", "param", key));
			return -1;
		}
	}
	return 0;
}

/* A timeout: null or absent gives -1 (no limit), else seconds >= 0. */
int
rpc_param_timeout(struct rpc_req *req, json_t *params, const char *name,
    double *out)
{
	json_t	*v = json_object_get(params, name);

	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
	    !isfinite(json_number_value(v)))
		return rpc_param_invalid(req, name,
		    "%s must be null or a number of seconds >= 0", name);
	*out = json_number_value(v);
	return 0;
}

int
rpc_param_bool(struct rpc_req *req, json_t *params, const char *name,
    int def, int *out)
{
	json_t	*v = json_object_get(params, name);

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return rpc_param_invalid(req, name, "%s must be true or false",
		    name);
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; a real with no fraction counts as one. */
int
rpc_param_int(struct rpc_req *req, json_t *params, const char *name,
    long long def, long long min, long long max, long long *out)
{
	json_t	*v = json_object_get(params, name);
	double	 d;

	*out = def;
	if (v == NULL)
		return 0;
	d = json_is_real(v) ? json_real_value(v) : 0.5;
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (d == floor(d) && d >= (double)min && d <= (double)max)
		*out = (long long)d;
	else
		return rpc_param_invalid(req, name,
		    "%s must be a whole number", name);
	if (*out < min || *out > max)
		return rpc_param_invalid(req, name,
		    "%s must be from %lld to %lld", name, min, max);
	return 0;
}

/* A string; an optional one may be absent or null (*out = NULL). */
int
rpc_param_string(struct rpc_req *req, json_t *params, const char *name,
    int required, const char **out)
{
	json_t	*v = json_object_get(params, name);

	*out = NULL;
	if (!required && (v == NULL || json_is_null(v)))
		return 0;
	if (!json_is_string(v))
		return rpc_param_invalid(req, name, "%s must be a string%s",
		    name, required ? "" : " or null");
	if (!rpc_cstring(v))
		return rpc_param_invalid(req, name,
		    "%s may not contain a NUL character", name);
	*out = json_string_value(v);
	return 0;
}

/* A required array of future id strings (borrowed). */
int
rpc_param_futures(struct rpc_req *req, json_t *params, const char *name,
    json_t **out)
{
	json_t	*v = json_object_get(params, name), *id;
	size_t	 i;

	*out = NULL;
	if (!json_is_array(v))
		return rpc_param_invalid(req, name,
		    "%s must be an array of future ids", name);
	json_array_foreach(v, i, id) {
		if (!json_is_string(id))
			return rpc_param_invalid(req, name,
			    "%s must be an array of future ids", name);
		if (!rpc_cstring(id))
			return rpc_param_invalid(req, name,
			    "%s: a future id may not contain a NUL character",
			    name);
	}
	*out = v;
	return 0;
}

int
rpc_require_admin(struct rpc_req *req)
{
	if (conn_is_admin(req->conn))
		return 0;
	rpc_error(req, RPC_PERMISSION_DENIED,
	    "permission denied: only an admin may do this", NULL);
	return -1;
}

/*
 * Whether poold may run the caller's call of fn (by name, on the executor
 * asked for, else its default): -32007 if poold, as root, finds no user
 * to run the caller's tasks as, or if fn is a plugin's that would run on
 * the thread executor, inside poold itself, for anyone but root and
 * poold's own user. An unknown function or executor is left to
 * rpc_find_fn.
 */
int
rpc_require_runnable(struct rpc_req *req, const char *name,
    const char *executor)
{
	uid_t		 uid = conn_uid(req->conn);
	const struct fn	*fn;
	struct ident	*id;
	enum executor	 e;
	char		*why = NULL, msg[512];

	if (ident_switches(uid)) {
		if ((id = ident_get(uid, &why)) == NULL) {
			snprintf(msg, sizeof msg, "permission denied: %s", why);
			rpc_error(req, RPC_PERMISSION_DENIED, msg,
			    json_pack("{s:I}", "uid", (json_int_t)uid));
			free(why);
			return -1;
		}
		ident_unref(id);
	}
	if ((fn = fn_find(name)) == NULL || fn_is_builtin(fn) || uid == 0 ||
	    uid == poold.uid)
		return 0;
	e = fn->default_executor;
	if ((executor != NULL && executor_parse(executor, &e) == -1) ||
	    e != EXECUTOR_THREAD || !fn_allows(fn, e))
		return 0;
	rpc_error(req, RPC_PERMISSION_DENIED, "permission denied: a plugin's "
	    "functions run on the thread executor, inside poold, only for root "
	    "and poold's own user", json_pack("{s:s, s:s}", "fn", name,
	    "executor", "thread"));
	return -1;
}

int
rpc_require_running(struct rpc_req *req)
{
	if (!poold.stopping)
		return 0;
	rpc_error(req, RPC_SHUTTING_DOWN, "the daemon is shutting down", NULL);
	return -1;
}

/*
 * The function a call names and the executor it runs on (its default, or
 * the one asked for, which the function must allow); NULL, answered, if
 * either is wrong.
 */
const struct fn *
rpc_find_fn(struct rpc_req *req, const char *name, const char *executor,
    enum executor *e)
{
	const struct fn	*fn;

	if ((fn = fn_find(name)) == NULL) {
		rpc_error(req, RPC_UNKNOWN_FUNCTION, "unknown function",
		    json_pack("{s:s}", "fn", name));
		return NULL;
	}
	*e = fn->default_executor;
	if (executor != NULL) {
		executor_parse(executor, e);
		if (!fn_allows(fn, *e)) {
			rpc_param_invalid(req, "executor",
			    "%s does not run on the %s executor", fn->name,
			    executor);
			return NULL;
		}
	}
	return fn;
}

void
rpc_unknown_future(struct rpc_req *req, const char *id)
{
	rpc_error(req, RPC_UNKNOWN_FUTURE, "unknown future",
	    json_pack("{s:s}", "future", id));
}

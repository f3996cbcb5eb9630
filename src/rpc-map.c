/*
 * map: one call over many items, answered with a map future or streamed
 * back as map.item notifications. Every item is checked before anything
 * is queued, so a map is accepted whole or not at all.
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "conn.h"
#include "fn.h"
#include "future.h"
#include "json-span.h"
#include "log.h"
#include "map.h"
#include "poold.h"
#include "rpc.h"
#include "sched.h"
#include "xmalloc.h"

static const char *const map_param_names[] = {
	"fn", "iterable", "star", "chunksize", "executor", "timeout", "stream",
	"ordered", "priority", "notify", NULL
};

struct map_request {
	const char	*fn_name;
	const char	*executor_name;
	json_t		*items;		/* empty when req->items has them */
	json_t		*parsed;	/* req->items', if they had to be */
	int		 star;
	int		 stream;
	int		 ordered;
	int		 notify;
	long long	 chunksize;	/* 0: the daemon picks */
	long long	 priority;
	double		 timeout;
};

static int
map_parse(struct rpc_req *req, json_t *params, struct map_request *r)
{
	json_t		*chunksize = json_object_get(params, "chunksize");
	enum executor	 e;

	if (rpc_params_known(req, params, map_param_names) == -1 ||
	    rpc_param_string(req, params, "fn", 1, &r->fn_name) == -1)
		return -1;
	r->items = json_object_get(params, "iterable");
	if (!json_is_array(r->items))
		return rpc_param_invalid(req, "iterable",
		    "iterable must be an array");
	if (rpc_param_bool(req, params, "star", 0, &r->star) == -1 ||
	    rpc_param_bool(req, params, "stream", 0, &r->stream) == -1 ||
	    rpc_param_bool(req, params, "ordered", 1, &r->ordered) == -1 ||
	    rpc_param_bool(req, params, "notify", 0, &r->notify) == -1 ||
	    rpc_param_string(req, params, "executor", 0,
	    &r->executor_name) == -1 ||
	    rpc_param_timeout(req, params, "timeout", &r->timeout) == -1 ||
	    rpc_param_int(req, params, "priority", 0, INT32_MIN, INT32_MAX,
	    &r->priority) == -1)
		return -1;
	r->chunksize = 0;
	if (chunksize != NULL && !json_is_null(chunksize) &&
	    rpc_param_int(req, params, "chunksize", 1, 1, INT32_MAX,
	    &r->chunksize) == -1)
		return -1;
	if (r->executor_name != NULL &&
	    executor_parse(r->executor_name, &e) == -1)
		return rpc_param_invalid(req, "executor",
		    "executor must be \"process\", \"thread\" or null");
	return 0;
}

static int
map_item_invalid(struct rpc_req *req, const char *why, size_t i)
{
	rpc_error(req, RPC_INVALID_PARAMS, why, json_pack("{s:s, s:I}",
	    "param", "iterable", "index", (json_int_t)i));
	return -1;
}

static int
map_not_star(struct rpc_req *req, size_t i)
{
	return map_item_invalid(req, "with star, each item must be an array "
	    "of arguments", i);
}

/* Each item must be a call the function takes; -1 (answered) if not. */
static int
map_check_values(struct rpc_req *req, const struct fn *fn,
    const struct map_request *r)
{
	json_t		*item, *one = json_pack("[n]"), *kwargs = json_object();
	const char	*param;
	char		*why;
	size_t		 i;
	int		 rc = 0;

	json_array_foreach(r->items, i, item) {
		if (r->star && !json_is_array(item)) {
			rc = map_not_star(req, i);
			break;
		}
		if (fn->check == NULL)
			continue;
		/* One array serves every item: a check keeps nothing. */
		if (!r->star)
			json_array_set(one, 0, item);
		if (fn->check(r->star ? item : one, kwargs, &param, &why) ==
		    -1) {
			rc = map_item_invalid(req, why, i);
			free(why);
			break;
		}
	}
	json_decref(one);
	json_decref(kwargs);
	return rc;
}

/* With star, each item must be an array: its text starts with '['. */
static int
map_check_star_text(struct rpc_req *req, const struct json_hollow *items)
{
	size_t	*off = xreallocarray(NULL, items->n + 1, sizeof *off), i;
	int	 rc = 0;

	if (span_elements(items->text, items->len, items->n, off) == -1) {
		log_warnx("a map's checked items could not be followed");
		rpc_error(req, RPC_INTERNAL_ERROR, "internal error", NULL);
		rc = -1;
	}
	for (i = 0; i < items->n && rc == 0; i++)
		if (items->text[off[i]] != '[')
			rc = map_not_star(req, i);
	free(off);
	return rc;
}

/*
 * Check the items, as values or, when they were left as text, without
 * parsing them where the function allows: a function checked by its
 * argument count alone takes every item of a map without star as its one
 * argument. Otherwise the text is parsed, once, to check the values.
 */
static int
map_check_items(struct rpc_req *req, const struct fn *fn,
    struct map_request *r)
{
	const struct json_hollow	*items = &req->items;

	if (items->text == NULL)
		return map_check_values(req, fn, r);
	if (!r->star && (fn->check == NULL || fn->check_nargs == 1))
		return 0;
	if (r->star && fn->check == NULL)
		return map_check_star_text(req, items);
	r->parsed = json_loadb(items->text, items->len, JSON_ALLOW_NUL, NULL);
	if (r->parsed == NULL) {
		log_warnx("a map's checked items do not parse");
		rpc_error(req, RPC_INTERNAL_ERROR, "internal error", NULL);
		return -1;
	}
	r->items = r->parsed;
	return map_check_values(req, fn, r);
}

/* Where the iterable's text is in the request's, when it has its own. */
static void
map_find_text(const struct rpc_req *req, struct map_params *mp)
{
	size_t	ps, pe, is, ie;

	mp->text = req->items.text;
	mp->text_len = req->items.len;
	if (mp->text != NULL)
		return;
	if (req->text == NULL ||
	    span_member(req->text, req->text_len, "params", &ps, &pe) == -1 ||
	    span_member(req->text + ps, pe - ps, "iterable", &is, &ie) == -1)
		return;
	mp->text = req->text + ps + is;
	mp->text_len = ie - is;
}

/* multiprocessing.Pool's choice: about four chunks per worker. */
static size_t
map_chunksize(size_t n, enum executor e)
{
	size_t	workers = (size_t)sched_size(e), size, extra;

	size = n / (workers * 4);
	extra = n % (workers * 4);
	if (extra > 0)
		size++;
	return size > 0 ? size : 1;
}

static const struct fn *
map_check_fn(struct rpc_req *req, const struct map_request *r,
    enum executor *e)
{
	const struct fn	*fn;

	if ((fn = rpc_find_fn(req, r->fn_name, r->executor_name, e)) == NULL)
		return NULL;
	return fn;
}

static void
map_accept(struct rpc_req *req, struct map_request *r)
{
	struct map_params	 mp;
	const struct fn		*fn;
	struct future		*f;
	enum executor		 e;
	size_t			 n, left;

	if (rpc_require_runnable(req, r->fn_name, r->executor_name) == -1 ||
	    rpc_require_running(req) == -1 ||
	    (fn = map_check_fn(req, r, &e)) == NULL ||
	    map_check_items(req, fn, r) == -1)
		return;
	n = req->items.text != NULL ? req->items.n : json_array_size(r->items);
	left = future_store_counts()->pending >=
	    (unsigned long)poold.cfg->max_pending ? 0 :
	    (size_t)poold.cfg->max_pending - future_store_counts()->pending;
	if (n > left) {
		rpc_error(req, RPC_QUEUE_FULL, "queue full: the map's items do "
		    "not fit under max_pending", json_pack("{s:I, s:I}",
		    "max_pending", (json_int_t)poold.cfg->max_pending,
		    "items", (json_int_t)n));
		return;
	}
	if (rpc_require_journal(req) == -1)
		return;
	f = future_alloc(conn_uid(req->conn), fn, json_array(), json_object(),
	    e);
	future_set_fn_name(f, r->fn_name);
	f->timeout = r->timeout;
	mp.n = n;
	mp.items = req->items.text != NULL ? r->parsed : r->items;
	map_find_text(req, &mp);
	mp.star = r->star;
	mp.timeout = r->timeout;
	mp.chunksize = r->chunksize > 0 ? (size_t)r->chunksize :
	    map_chunksize(n, e);
	mp.priority = r->priority;
	mp.owner = conn_owner(req->conn);
	if (r->stream)
		rpc_accept_stream(req, f, &mp, r->notify, r->ordered);
	else
		rpc_accept_map(req, f, &mp, r->notify);
}

static void
rpc_map_handler(struct rpc_req *req, json_t *params)
{
	struct map_request	 r;

	r.parsed = NULL;
	if (map_parse(req, params, &r) == 0)
		map_accept(req, &r);
	json_decref(r.parsed);
}

const struct rpc_method rpc_map = { "map", rpc_map_handler };

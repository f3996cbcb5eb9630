/*
 * wait and as_completed: many futures at once. Each holds a watch per
 * future not yet done, and keeps ids rather than pointers for the done
 * ones, which may be forgotten or expire while the request still waits.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "conn.h"
#include "future.h"
#include "log.h"
#include "poold.h"
#include "rpc.h"
#include "xmalloc.h"

enum return_when {
	ALL_COMPLETED,
	FIRST_COMPLETED,
	FIRST_EXCEPTION,
};

struct multi_entry {
	char			 name[20];
	struct future_watch	 watch;
	int			 done;
	struct multi_wait	*mw;
};

struct multi_wait {
	struct rpc_req		*req;
	struct multi_entry	*entries;
	size_t			 n;
	size_t			 ndone;
	int			 failed;	/* one failed or was cancelled */
	enum return_when	 when;		/* wait only */
	struct event		*timer;
};

static const char *const wait_params[] = {
	"futures", "timeout", "return_when", NULL
};
static const char *const as_completed_params[] = {
	"futures", "timeout", NULL
};

static void
multi_release(struct rpc_req *req)
{
	struct multi_wait	*mw = req->data;
	size_t			 i;

	for (i = 0; i < mw->n; i++)
		future_unwatch(&mw->entries[i].watch);
	if (mw->timer != NULL)
		event_free(mw->timer);
	free(mw->entries);
	free(mw);
}

/*
 * Resolve the ids, each once, in the order given; NULL (answered) if one is
 * unknown to this caller.
 */
static struct multi_wait *
multi_resolve(struct rpc_req *req, json_t *ids, struct future ***futures)
{
	struct multi_wait	*mw = xcalloc(1, sizeof *mw);
	json_t			*seen = json_object(), *id;
	struct future		*f;
	size_t			 i;

	mw->req = req;
	mw->entries = xcalloc(json_array_size(ids), sizeof *mw->entries);
	*futures = xcalloc(json_array_size(ids), sizeof **futures);
	json_array_foreach(ids, i, id) {
		const char	*name = json_string_value(id);

		if (json_object_get(seen, name) != NULL)
			continue;
		f = future_lookup(name, conn_uid(req->conn),
		    conn_is_admin(req->conn));
		if (f == NULL) {
			rpc_unknown_future(req, name);
			json_decref(seen);
			free(*futures);
			free(mw->entries);
			free(mw);
			return NULL;
		}
		json_object_set_new(seen, name, json_true());
		memcpy(mw->entries[mw->n].name, f->name, sizeof f->name);
		mw->entries[mw->n].mw = mw;
		(*futures)[mw->n++] = f;
	}
	json_decref(seen);
	return mw;
}

static void
multi_arm_timer(struct multi_wait *mw, double timeout,
    event_callback_fn cb)
{
	struct timeval	tv;

	if (timeout < 0)
		return;
	if ((mw->timer = evtimer_new(poold.base, cb, mw)) == NULL)
		fatalx("evtimer_new failed");
	tv = clock_timeval(timeout);
	evtimer_add(mw->timer, &tv);
}

static void
multi_mark_done(struct multi_entry *e, const struct future *f)
{
	e->done = 1;
	e->mw->ndone++;
	if (f->state != FUTURE_FINISHED)
		e->mw->failed = 1;
}

/* wait */

static int
wait_satisfied(const struct multi_wait *mw)
{
	switch (mw->when) {
	case FIRST_COMPLETED:
		return mw->ndone > 0 || mw->n == 0;
	case FIRST_EXCEPTION:
		return mw->failed || mw->ndone == mw->n;
	default:
		return mw->ndone == mw->n;
	}
}

static void
wait_answer(struct multi_wait *mw)
{
	json_t	*done = json_array(), *not_done = json_array();
	size_t	 i;

	for (i = 0; i < mw->n; i++)
		json_array_append_new(mw->entries[i].done ? done : not_done,
		    json_string(mw->entries[i].name));
	rpc_result(mw->req, json_pack("{s:o, s:o}", "done", done,
	    "not_done", not_done));
}

static void
wait_fired(struct future_watch *w, struct future *f)
{
	struct multi_entry	*e = w->arg;
	struct multi_wait	*mw = e->mw;

	multi_mark_done(e, f);
	if (wait_satisfied(mw))
		wait_answer(mw);
}

static void
wait_timeout(evutil_socket_t fd, short events, void *arg)
{
	wait_answer(arg);
}

static int
wait_parse_when(struct rpc_req *req, json_t *params, enum return_when *when)
{
	static const char *const names[] = {
		[ALL_COMPLETED] = "ALL_COMPLETED",
		[FIRST_COMPLETED] = "FIRST_COMPLETED",
		[FIRST_EXCEPTION] = "FIRST_EXCEPTION",
	};
	const char	*s;
	int		 i;

	*when = ALL_COMPLETED;
	if (json_object_get(params, "return_when") == NULL)
		return 0;
	if (rpc_param_string(req, params, "return_when", 1, &s) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		if (strcmp(names[i], s) == 0) {
			*when = (enum return_when)i;
			return 0;
		}
	}
	return rpc_param_invalid(req, "return_when", "return_when must be "
	    "ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION");
}

static void
rpc_wait_handler(struct rpc_req *req, json_t *params)
{
	struct multi_wait	 *mw;
	struct future		**futures;
	json_t			 *ids;
	double			  timeout;
	enum return_when	  when;
	size_t			  i;

	if (rpc_params_known(req, params, wait_params) == -1 ||
	    rpc_param_futures(req, params, "futures", &ids) == -1 ||
	    rpc_param_timeout(req, params, "timeout", &timeout) == -1 ||
	    wait_parse_when(req, params, &when) == -1 ||
	    (mw = multi_resolve(req, ids, &futures)) == NULL)
		return;
	mw->when = when;
	for (i = 0; i < mw->n; i++) {
		if (future_is_done(futures[i]))
			multi_mark_done(&mw->entries[i], futures[i]);
	}
	rpc_hold(req, multi_release, mw);
	if (wait_satisfied(mw) || timeout == 0)
		wait_answer(mw);
	else {
		for (i = 0; i < mw->n; i++) {
			if (!mw->entries[i].done)
				future_watch(futures[i],
				    &mw->entries[i].watch, wait_fired,
				    &mw->entries[i]);
		}
		multi_arm_timer(mw, timeout, wait_timeout);
	}
	free(futures);
}

/* as_completed */

static void
as_completed_report(struct multi_wait *mw, const struct future *f)
{
	json_t	*request = mw->req->id != NULL ? mw->req->id : json_null();

	conn_notify(mw->req->conn, "as_completed", json_pack("{s:O, s:o}",
	    "request", request, "future", future_to_json(f, 1)));
}

static void
as_completed_fired(struct future_watch *w, struct future *f)
{
	struct multi_entry	*e = w->arg;
	struct multi_wait	*mw = e->mw;

	multi_mark_done(e, f);
	as_completed_report(mw, f);
	if (mw->ndone == mw->n)
		rpc_result(mw->req, json_pack("{s:I}", "done",
		    (json_int_t)mw->n));
}

static void
as_completed_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct multi_wait	*mw = arg;
	json_t			*not_done = json_array();
	size_t			 i;

	for (i = 0; i < mw->n; i++) {
		if (!mw->entries[i].done)
			json_array_append_new(not_done,
			    json_string(mw->entries[i].name));
	}
	rpc_error(mw->req, RPC_TIMEOUT, "timeout: not every future is done",
	    json_pack("{s:o}", "not_done", not_done));
}

static void
rpc_as_completed_handler(struct rpc_req *req, json_t *params)
{
	struct multi_wait	 *mw;
	struct future		**futures;
	json_t			 *ids;
	double			  timeout;
	size_t			  i;

	if (rpc_params_known(req, params, as_completed_params) == -1 ||
	    rpc_param_futures(req, params, "futures", &ids) == -1 ||
	    rpc_param_timeout(req, params, "timeout", &timeout) == -1 ||
	    (mw = multi_resolve(req, ids, &futures)) == NULL)
		return;
	rpc_hold(req, multi_release, mw);
	for (i = 0; i < mw->n; i++) {
		if (future_is_done(futures[i])) {
			multi_mark_done(&mw->entries[i], futures[i]);
			as_completed_report(mw, futures[i]);
		}
	}
	if (mw->ndone == mw->n)
		rpc_result(req, json_pack("{s:I}", "done", (json_int_t)mw->n));
	else if (timeout == 0)
		as_completed_timeout(-1, 0, mw);
	else {
		for (i = 0; i < mw->n; i++) {
			if (!mw->entries[i].done)
				future_watch(futures[i],
				    &mw->entries[i].watch, as_completed_fired,
				    &mw->entries[i]);
		}
		multi_arm_timer(mw, timeout, as_completed_timeout);
	}
	free(futures);
}

const struct rpc_method rpc_wait = { "wait", rpc_wait_handler };
const struct rpc_method rpc_as_completed = { "as_completed",
    rpc_as_completed_handler };

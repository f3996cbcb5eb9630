/* hello, functions and stats: what the daemon is and how busy it is. */
#include "autoconf.h"

#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "conn.h"
#include "fn.h"
#include "future.h"
#include "poold.h"
#include "procpool.h"
#include "rpc.h"
#include "sched.h"

static const char *const no_params[] = { NULL };

static json_t *
info_executors(void)
{
	return json_pack("{s:{s:i}, s:{s:i}}",
	    "process", "workers", procpool_size(),
	    "thread", "workers", sched_threads());
}

static void
rpc_hello_handler(struct rpc_req *req, json_t *params)
{
	json_t	*names = json_array();
	size_t	 i;

	if (rpc_params_known(req, params, no_params) == -1) {
		json_decref(names);
		return;
	}
	for (i = 0; i < fn_count(); i++)
		json_array_append_new(names, json_string(fn_at(i)->name));
	rpc_result(req, json_pack("{s:s, s:s, s:i, s:i, s:o, s:o}",
	    "name", PACKAGE_NAME, "version", PACKAGE_VERSION,
	    "protocol", POOLD_PROTOCOL_VERSION, "pid", (int)getpid(),
	    "executors", info_executors(), "functions", names));
}

static void
rpc_functions_handler(struct rpc_req *req, json_t *params)
{
	json_t	*list;
	size_t	 i;

	if (rpc_params_known(req, params, no_params) == -1)
		return;
	list = json_array();
	for (i = 0; i < fn_count(); i++)
		json_array_append_new(list, fn_describe(fn_at(i)));
	rpc_result(req, list);
}

static void
rpc_stats_handler(struct rpc_req *req, json_t *params)
{
	const struct future_counts	*c = future_store_counts();

	if (rpc_params_known(req, params, no_params) == -1)
		return;
	rpc_result(req, json_pack("{s:f, s:{s:i, s:i, s:I}, s:{s:i, s:i},"
	    " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:o}",
	    "uptime", clock_real() - poold.started,
	    "process", "workers", procpool_size(), "busy", procpool_busy(),
	    "restarts", (json_int_t)procpool_restarts(),
	    "thread", "workers", sched_threads(), "busy", sched_threads_busy(),
	    "pending", (json_int_t)c->pending,
	    "running", (json_int_t)c->running,
	    "submitted", (json_int_t)c->submitted,
	    "finished", (json_int_t)c->finished,
	    "failed", (json_int_t)c->failed,
	    "cancelled", (json_int_t)c->cancelled,
	    "stored", (json_int_t)c->stored,
	    "connections", (int)conn_count(),
	    "uids", future_uid_counts()));
}

static void
rpc_workers_handler(struct rpc_req *req, json_t *params)
{
	if (rpc_params_known(req, params, no_params) == -1)
		return;
	rpc_result(req, procpool_workers());
}

const struct rpc_method rpc_hello = { "hello", rpc_hello_handler };
const struct rpc_method rpc_workers = { "workers", rpc_workers_handler };
const struct rpc_method rpc_functions = { "functions", rpc_functions_handler };
const struct rpc_method rpc_stats = { "stats", rpc_stats_handler };

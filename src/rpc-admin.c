/* shutdown: the admin's way to stop the daemon. */
#include "autoconf.h"

#include "poold.h"
#include "procpool.h"
#include "rpc.h"
#include "sched.h"

static const char *const shutdown_params[] = {
	"wait", "cancel_futures", NULL
};

static void
rpc_shutdown_handler(struct rpc_req *req, json_t *params)
{
	int	wait, cancel_futures;

	if (rpc_params_known(req, params, shutdown_params) == -1 ||
	    rpc_param_bool(req, params, "wait", 1, &wait) == -1 ||
	    rpc_param_bool(req, params, "cancel_futures", 0,
	    &cancel_futures) == -1 ||
	    rpc_require_admin(req) == -1)
		return;
	rpc_result(req, json_pack("{s:b}", "ok", 1));
	poold_stop(wait, cancel_futures);
}

static const char *const resize_params[] = { "process", "thread", NULL };

static void
rpc_resize_handler(struct rpc_req *req, json_t *params)
{
	long long	process, thread;

	if (rpc_params_known(req, params, resize_params) == -1 ||
	    rpc_param_int(req, params, "process", 0, 1, 1024, &process) == -1 ||
	    rpc_param_int(req, params, "thread", 0, 1, 1024, &thread) == -1 ||
	    rpc_require_admin(req) == -1)
		return;
	if (process > 0)
		sched_resize_processes((int)process);
	if (thread > 0)
		sched_resize_threads((int)thread);
	rpc_result(req, json_pack("{s:i, s:i}", "process", procpool_size(),
	    "thread", sched_threads()));
}

const struct rpc_method rpc_shutdown = { "shutdown", rpc_shutdown_handler };
const struct rpc_method rpc_resize = { "resize", rpc_resize_handler };

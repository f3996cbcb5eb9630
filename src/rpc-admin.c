/* shutdown: the admin's way to stop the daemon. */
#include "autoconf.h"

#include "poold.h"
#include "rpc.h"

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

const struct rpc_method rpc_shutdown = { "shutdown", rpc_shutdown_handler };

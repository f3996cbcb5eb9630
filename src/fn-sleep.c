/* sleep: waits the seconds given and returns them; ends early when its
 * task is interrupted (a timeout, a stop of the daemon). */
#include "autoconf.h"

#include <math.h>

#include "fn.h"
#include "xmalloc.h"

static int
fn_sleep_check(json_t *args, json_t *kwargs, const char **param, char **why)
{
	json_t	*seconds = json_array_get(args, 0);

	if (json_array_size(args) != 1 || !json_is_number(seconds) ||
	    !(json_number_value(seconds) >= 0) ||
	    !isfinite(json_number_value(seconds))) {
		*param = "args";
		xasprintf(why, "sleep takes one number of seconds >= 0");
		return -1;
	}
	if (json_object_size(kwargs) != 0) {
		*param = "kwargs";
		xasprintf(why, "sleep takes no keyword arguments");
		return -1;
	}
	return 0;
}

static void
fn_sleep_run(struct fn_call *call)
{
	json_t	*seconds = json_array_get(call->args, 0);

	if (call->pause(call, json_number_value(seconds)) == -1) {
		fn_call_fail(call, "Interrupted", "sleep was interrupted");
		return;
	}
	call->result = json_incref(seconds);
}

const struct fn fn_sleep = {
	.name = "sleep",
	.doc = "wait the given seconds and return them",
	.executors = FN_EXECUTOR(EXECUTOR_THREAD) |
	    FN_EXECUTOR(EXECUTOR_PROCESS),
	.default_executor = EXECUTOR_THREAD,
	.check = fn_sleep_check,
	.run = fn_sleep_run,
};

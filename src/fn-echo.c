/* echo: returns its one argument. */
#include "autoconf.h"

#include "fn.h"
#include "xmalloc.h"

static int
fn_echo_check(json_t *args, json_t *kwargs, const char **param, char **why)
{
	if (json_array_size(args) != 1) {
		*param = "args";
		xasprintf(why, "echo takes exactly one argument");
		return -1;
	}
	if (json_object_size(kwargs) != 0) {
		*param = "kwargs";
		xasprintf(why, "echo takes no keyword arguments");
		return -1;
	}
	return 0;
}

static void
fn_echo_run(struct fn_call *call)
{
	call->result = json_incref(json_array_get(call->args, 0));
}

const struct fn fn_echo = {
	.name = "echo",
	.doc = "return the argument",
	.executors = FN_EXECUTOR(EXECUTOR_THREAD) |
	    FN_EXECUTOR(EXECUTOR_PROCESS),
	.default_executor = EXECUTOR_THREAD,
	.check = fn_echo_check,
	.check_nargs = 1,
	.run = fn_echo_run,
};

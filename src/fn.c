/* The table of functions a task may name. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fn.h"

static const struct fn *const fn_table[] = {
	&fn_echo,
	&fn_sleep,
};

#define FN_TABLE_LEN (sizeof fn_table / sizeof fn_table[0])

const struct fn *
fn_find(const char *name)
{
	size_t	i;

	for (i = 0; i < FN_TABLE_LEN; i++) {
		if (strcmp(fn_table[i]->name, name) == 0)
			return fn_table[i];
	}
	return NULL;
}

size_t
fn_count(void)
{
	return FN_TABLE_LEN;
}

const struct fn *
fn_at(size_t i)
{
	return i < FN_TABLE_LEN ? fn_table[i] : NULL;
}

int
fn_allows(const struct fn *fn, enum executor e)
{
	return (fn->executors & FN_EXECUTOR(e)) != 0;
}

/* The function's entry in the functions method: default executor first. */
json_t *
fn_describe(const struct fn *fn)
{
	json_t		*executors = json_array();
	enum executor	 e;

	json_array_append_new(executors,
	    json_string(executor_name(fn->default_executor)));
	for (e = 0; e < EXECUTOR_COUNT; e++) {
		if (e != fn->default_executor && fn_allows(fn, e))
			json_array_append_new(executors,
			    json_string(executor_name(e)));
	}
	return json_pack("{s:s, s:o, s:s, s:s}", "name", fn->name,
	    "executors", executors,
	    "default_executor", executor_name(fn->default_executor),
	    "doc", fn->doc);
}

/* Fail the call with a task error of the given type. */
void
fn_call_fail(struct fn_call *call, const char *type, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_decref(call->error);
	call->error = future_error(type, "%s", msg);
}

/* The table of functions a task may name. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn.h"
#include "xmalloc.h"

static const struct fn *const fn_builtins[] = {
	&fn_echo,
	&fn_exec,
	&fn_sleep,
};

#define FN_BUILTINS (sizeof fn_builtins / sizeof fn_builtins[0])

/* Plugins' functions, after the built-ins, in the order loaded. */
static const struct fn	**fn_plugins;
static size_t		  fn_nplugins;

/* Add a function; -1 if one of that name (or prefix) exists. */
int
fn_register(const struct fn *fn)
{
	size_t	i;

	for (i = 0; i < fn_count(); i++) {
		if (strcmp(fn_at(i)->name, fn->name) == 0)
			return -1;
	}
	fn_plugins = xreallocarray(fn_plugins, fn_nplugins + 1,
	    sizeof *fn_plugins);
	fn_plugins[fn_nplugins++] = fn;
	return 0;
}

void
fn_unregister_all(void)
{
	free(fn_plugins);
	fn_plugins = NULL;
	fn_nplugins = 0;
}

/*
 * The function a task names: one of that very name, else the prefix
 * function with the longest prefix of it that claims it. A prefix
 * function's own name ("py:*") is not a name under it.
 */
const struct fn *
fn_find(const char *name)
{
	const struct fn	*fn, *best = NULL;
	size_t		 i, len;

	if (name == NULL)
		return NULL;
	len = strlen(name);
	for (i = 0; i < fn_count(); i++) {
		fn = fn_at(i);
		if (fn->prefix == 0 && strcmp(fn->name, name) == 0)
			return fn;
	}
	for (i = 0; i < fn_count(); i++) {
		fn = fn_at(i);
		if (fn->prefix == 0 || len <= fn->prefix ||
		    strncmp(fn->name, name, fn->prefix) != 0 ||
		    (best != NULL && best->prefix >= fn->prefix))
			continue;
		if (fn->claims == NULL || fn->claims(fn, name))
			best = fn;
	}
	return best;
}

/* The name a call was made by. */
const char *
fn_call_name(const struct fn_call *call)
{
	return call->name != NULL ? call->name : call->fn->name;
}

size_t
fn_count(void)
{
	return FN_BUILTINS + fn_nplugins;
}

const struct fn *
fn_at(size_t i)
{
	if (i < FN_BUILTINS)
		return fn_builtins[i];
	i -= FN_BUILTINS;
	return i < fn_nplugins ? fn_plugins[i] : NULL;
}

int
fn_allows(const struct fn *fn, enum executor e)
{
	return (fn->executors & FN_EXECUTOR(e)) != 0;
}

/* Whether fn is poold's own code, not a plugin's. */
int
fn_is_builtin(const struct fn *fn)
{
	size_t	i;

	for (i = 0; i < FN_BUILTINS; i++) {
		if (fn_builtins[i] == fn)
			return 1;
	}
	return 0;
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

/* What the shipped plugins share: the check of a one-argument call. */
#ifndef POOLD_PLUGIN_ARGS_H
#define POOLD_PLUGIN_ARGS_H

#include <poold/plugin.h>

/* 0 if the call has exactly one argument and no keywords; else fails it. */
static inline int
one_arg(struct poold_task *task, json_t *args, json_t *kwargs,
    const char *name)
{
	if (json_array_size(args) != 1 || json_object_size(kwargs) != 0) {
		poold_task_fail(task, "%s takes one argument", name);
		return -1;
	}
	return 0;
}

#endif

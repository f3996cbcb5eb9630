/*
 * Functions that tasks name: the built-ins and the plugins'. A function
 * checks its arguments at submit (so a bad call is an invalid-params error,
 * not a failed task) and runs on an executor with a struct fn_call. A
 * prefix function ("py:*") runs every name under its prefix that it
 * claims; the call carries the name it was called by.
 */
#ifndef POOLD_FN_H
#define POOLD_FN_H

#include <sys/types.h>

#include <stddef.h>

#include <jansson.h>

#include "future.h"

struct fn;
struct ident;

struct fn_call {
	const struct fn	*fn;
	const char	*name;		/* called by; NULL: fn->name */
	json_t		*args;		/* owned references */
	json_t		*kwargs;
	json_t		*result;	/* set by run on success */
	json_t		*error;		/* or this: a task error object */
	/* Pause up to the seconds given; -1 if the task was interrupted. */
	int		(*pause)(struct fn_call *, double);
	/* Non-zero once the task should stop. */
	int		(*stopped)(struct fn_call *);
	/*
	 * A program was started in process group pgid, or (pgid 0) the one
	 * started has been reaped; NULL: no one asks. SIGTERM is blocked
	 * from before the spawn until the call, so a process that forwards
	 * it to the program cannot miss one.
	 */
	void		(*spawned)(struct fn_call *, pid_t);
	size_t		 max_output;	/* kept of each output stream */
	/* Whom to spawn programs as (NULL: as this process is); a reference
	 * the executor holds. */
	struct ident	*ident;
	void		*ctx;		/* the executor's */
};

struct fn {
	const char	*name;
	const char	*doc;
	unsigned	 executors;	/* FN_EXECUTOR() bits */
	enum executor	 default_executor;
	/* 0 if args and kwargs suit; else -1, the parameter and why. NULL:
	 * the function checks them itself, as it runs. */
	int		(*check)(json_t *, json_t *, const char **, char **);
	/* Non-zero: check accepts exactly the calls with this many args and
	 * no kwargs, whatever the args are, so counting them is enough. */
	size_t		 check_nargs;
	void		(*run)(struct fn_call *);
	/*
	 * On the thread executor, a function with start runs on the loop
	 * instead of a thread: start begins it and calls done(arg) once, later,
	 * with the call's result or error set; abort asks it to end at once
	 * (done still follows).
	 */
	void		*(*start)(struct fn_call *, void (*)(void *), void *);
	void		(*abort)(void *);
	/* It spawns programs: on the thread executor, where it runs inside
	 * poold, it needs its owner's credentials looked up. */
	int		 needs_ident;
	const void	*impl;		/* the plugin's function */
	const void	*plugin;	/* and its plugin */
	/* Non-zero: a prefix function, whose name is this long plus '*'. */
	size_t		 prefix;
	/* For a prefix function: whether it runs this name under it. */
	int		(*claims)(const struct fn *, const char *);
};

#define FN_EXECUTOR(e)	(1u << (e))

int		 fn_register(const struct fn *);
void		 fn_unregister_all(void);
const struct fn	*fn_find(const char *);
const char	*fn_call_name(const struct fn_call *);
size_t		 fn_count(void);
const struct fn	*fn_at(size_t);
int		 fn_allows(const struct fn *, enum executor);
int		 fn_is_builtin(const struct fn *);
json_t		*fn_describe(const struct fn *);
void		 fn_call_fail(struct fn_call *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

extern const struct fn fn_echo;
extern const struct fn fn_sleep;
extern const struct fn fn_exec;

#endif

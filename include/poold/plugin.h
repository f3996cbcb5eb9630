/*
 * poold plugin ABI, version 2 (poold also loads plugins of version 1).
 *
 * A plugin is a shared object that poold loads with --plugin NAME (found
 * in poold's plugin directory as NAME.so) or --plugin PATH. It defines one
 * symbol, poold_plugin, naming its functions. poold loads it into the
 * daemon, where its functions may run on the thread pool, and into every
 * worker process, where they run one task at a time.
 *
 * A function takes its arguments and keyword arguments as jansson values
 * (borrowed: do not keep or decref them) and returns a new reference to
 * its result. To fail, it calls poold_task_fail() and returns NULL; the
 * task then fails with a TaskError carrying that message. A function that
 * runs long on the thread pool should look at poold_task_stopped() now and
 * then, or wait with poold_task_pause(): a thread cannot be killed, so a
 * timed-out or stopping task on the thread pool is only asked to stop.
 *
 * Functions that run on the thread pool run concurrently with each other
 * and with the daemon: they must be thread-safe. Functions that may crash
 * or hang must be declared process-only.
 *
 * Version 2 adds, without changing what version 1 plugins see:
 *  - prefix functions: a function whose name ends in '*' ("py:*") runs
 *    every name that begins with what comes before the '*' ("py:os:getcwd")
 *    and that the plugin's claims hook accepts; the task's name tells the
 *    function which one was called. A name of its own, or a longer prefix,
 *    is looked up first: a prefix function gets only the rest.
 *  - settings: the setup hook reads the plugin's settings from poold's
 *    configuration, once, in the daemon, before any worker exists.
 *  - task errors with fields of their own beside type and message.
 * A version 1 plugin keeps working unchanged; one built against this header
 * declares version 2 and needs a poold that speaks it.
 */
#ifndef POOLD_PLUGIN_H
#define POOLD_PLUGIN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

/** The ABI version this header describes; a plugin sets it in .abi. */
#define POOLD_PLUGIN_ABI	2

/** Executors, as bits for poold_function.executors. */
#define POOLD_EXECUTOR_THREAD	0x1u
#define POOLD_EXECUTOR_PROCESS	0x2u

/**
 * What a running function may ask of poold. poold owns it; it is valid
 * only during the call.
 */
struct poold_task {
	/** Fail the task with a TaskError whose message is MESSAGE. */
	void	(*fail)(struct poold_task *, const char *message);
	/** Non-zero once the task should stop (timeout, cancel, shutdown). */
	int	(*stopped)(struct poold_task *);
	/** Wait up to SECONDS; 0 when they passed, -1 if told to stop. */
	int	(*pause)(struct poold_task *, double seconds);
	void	*poold_private;

	/* ABI 2: poold always sets these; version 1 plugins ignore them. */

	/** The function name the task called: under a prefix, the whole. */
	const char	*name;
	/**
	 * Fail the task with a TaskError whose message is MESSAGE and which
	 * also carries the members of FIELDS (an object; the reference is
	 * stolen, NULL is none; "type" and "message" in it are ignored).
	 */
	void	(*fail_with)(struct poold_task *, const char *message,
		    json_t *fields);
};

/**
 * A function: returns a new reference, or NULL after poold_task_fail().
 * Returning NULL without failing the task is reported as a TaskError.
 */
typedef json_t *(*poold_fn)(struct poold_task *, json_t *args,
    json_t *kwargs);

struct poold_function {
	const char	*name;		/**< unique among loaded functions */
	const char	*doc;		/**< one line for the functions method */
	unsigned	 executors;	/**< POOLD_EXECUTOR_* bits */
	unsigned	 default_executor; /**< one POOLD_EXECUTOR_* bit */
	poold_fn	 fn;
};

/**
 * ABI 2: what poold offers a plugin's setup hook. It lives as long as the
 * process, so init may keep and use it; the strings setting returns are
 * valid only during setup.
 */
struct poold_host {
	unsigned	 abi;		/**< the ABI poold speaks */
	/**
	 * The value of setting KEY as the configuration file or the flags
	 * give it, or NULL when it is not set (or poold knows no such key).
	 * Only during setup.
	 */
	const char	*(*setting)(const char *key);
	/** Non-zero in a worker process, zero in the daemon itself. */
	int		 (*in_worker)(void);
};

struct poold_plugin {
	unsigned	 abi;		/**< POOLD_PLUGIN_ABI */
	const char	*name;
	/**
	 * Called once in each process that will run the plugin's functions
	 * (each worker, before its first task; the daemon, at start-up), the
	 * pool's initializer. Returns 0, or -1 after writing why to stderr;
	 * a worker whose init fails exits and is replaced with a back-off.
	 * May be NULL.
	 */
	int				 (*init)(void);
	/** The functions, ended by an entry whose name is NULL. */
	const struct poold_function	*functions;

	/* ABI 2: read only when abi is 2 or more. */

	/**
	 * Called once, in the daemon, when the plugin is loaded: before any
	 * init and before any worker is forked, so what it keeps in statics
	 * every worker has too. Returns 0, or -1 after writing why to stderr
	 * (poold does not start). May be NULL.
	 */
	int				 (*setup)(const struct poold_host *);
	/**
	 * For a prefix function: whether NAME (which begins with the prefix)
	 * is one the plugin can run; poold answers "unknown function" to a
	 * submit of any other. Asked on the daemon's event loop, so it must
	 * be quick and must not block. NULL: every such name.
	 */
	int				 (*claims)(const char *name);
};

/** The symbol poold looks up in a plugin. */
#define POOLD_PLUGIN_SYMBOL	"poold_plugin"

/** Fail TASK with a message made as printf makes it; returns NULL. */
static inline json_t *
poold_task_fail(struct poold_task *task, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline json_t *
poold_task_fail(struct poold_task *task, const char *fmt, ...)
{
	char	message[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	task->fail(task, message);
	return NULL;
}

/** The name TASK was called by: under a prefix function, the whole. */
static inline const char *
poold_task_name(struct poold_task *task)
{
	return task->name;
}

/**
 * Fail TASK with a TaskError carrying FIELDS (stolen) beside a message
 * made as printf makes it; returns NULL.
 */
static inline json_t *
poold_task_fail_with(struct poold_task *task, json_t *fields,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline json_t *
poold_task_fail_with(struct poold_task *task, json_t *fields,
    const char *fmt, ...)
{
	char	*message;
	va_list	 ap, again;
	int	 n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	message = n < 0 ? NULL : (char *)malloc((size_t)n + 1);
	if (message != NULL)
		vsnprintf(message, (size_t)n + 1, fmt, again);
	va_end(again);
	task->fail_with(task, message != NULL ? message :
	    "no memory for the message", fields);
	free(message);
	return NULL;
}

/** Non-zero once TASK should stop. */
static inline int
poold_task_stopped(struct poold_task *task)
{
	return task->stopped(task);
}

/** Wait up to SECONDS; 0 when they passed, -1 if TASK was told to stop. */
static inline int
poold_task_pause(struct poold_task *task, double seconds)
{
	return task->pause(task, seconds);
}

#endif

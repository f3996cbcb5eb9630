/*
 * poold plugin ABI, version 1.
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
 */
#ifndef POOLD_PLUGIN_H
#define POOLD_PLUGIN_H

#include <stdarg.h>
#include <stdio.h>

#include <jansson.h>

/** The ABI version this header describes; a plugin sets it in .abi. */
#define POOLD_PLUGIN_ABI	1

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

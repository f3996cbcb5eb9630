/*
 * The testing plugin: functions that fail in each way a task can, for
 * test suites. Never loaded unless asked for.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poold/plugin.h>

#include "args.h"

/* Memory alloc() keeps, reachable so leak checkers do not count it. */
static void	*kept;

/* Who the initializer ran as in this process; -1: it has not run. */
static long	 init_uid = -1;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_t *
testing_fail(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t	*message = json_array_get(args, 0);

	if (one_arg(task, args, kwargs, "fail") == -1)
		return NULL;
	if (!json_is_string(message))
		return poold_task_fail(task, "fail takes a message string");
	return poold_task_fail(task, "%s", json_string_value(message));
}

/* Die of sig with its default action, whatever handler was installed. */
static json_t *
die_of(struct poold_task *task, int sig)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	return poold_task_fail(task, "signal %d did not kill the process", sig);
}

static json_t *
testing_crash(struct poold_task *task, json_t *args, json_t *kwargs)
{
	return die_of(task, SIGSEGV);
}

static json_t *
testing_abort(struct poold_task *task, json_t *args, json_t *kwargs)
{
	return die_of(task, SIGABRT);
}

static json_t *
testing_exit(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t	*code = json_array_get(args, 0);

	if (one_arg(task, args, kwargs, "exit") == -1)
		return NULL;
	if (!json_is_integer(code) || json_integer_value(code) < 0 ||
	    json_integer_value(code) > 255)
		return poold_task_fail(task, "exit takes a code from 0 to 255");
	_exit((int)json_integer_value(code));
}

static json_t * __attribute__((noreturn))
testing_hang(struct poold_task *task, json_t *args, json_t *kwargs)
{
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
}

static json_t *
testing_spin(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t		*seconds = json_array_get(args, 0);
	double		 end;
	volatile unsigned long	 n = 0;

	if (one_arg(task, args, kwargs, "spin") == -1)
		return NULL;
	if (!json_is_number(seconds) || json_number_value(seconds) < 0)
		return poold_task_fail(task, "spin takes seconds >= 0");
	end = now() + json_number_value(seconds);
	while (now() < end) {
		if (++n % 4096 == 0 && poold_task_stopped(task))
			return poold_task_fail(task, "spin was stopped");
	}
	return json_incref(seconds);
}

static json_t *
testing_getpid(struct poold_task *task, json_t *args, json_t *kwargs)
{
	return json_integer(getpid());
}

static json_t *
testing_init_uid(struct poold_task *task, json_t *args, json_t *kwargs)
{
	return init_uid >= 0 ? json_integer(init_uid) : json_null();
}

static json_t *
testing_alloc(struct poold_task *task, json_t *args, json_t *kwargs)
{
	json_t		*bytes = json_array_get(args, 0);
	json_int_t	 n;
	void		**block;

	if (one_arg(task, args, kwargs, "alloc") == -1)
		return NULL;
	if (!json_is_integer(bytes) || (n = json_integer_value(bytes)) <
	    (json_int_t)sizeof *block || n > ((json_int_t)1 << 40))
		return poold_task_fail(task, "alloc takes a byte count");
	if ((block = malloc((size_t)n)) == NULL)
		return poold_task_fail(task, "alloc: %s", strerror(errno));
	memset(block, 0xa5, (size_t)n);
	*block = kept;
	kept = block;
	return json_integer(n);
}

/*
 * The initializer fails while the file named by POOLD_TESTING_INIT_FAIL
 * exists, so a test can make workers die at start-up and recover. It
 * notes who it ran as, so a test can see it run as a task's owner.
 */
static int
testing_init(void)
{
	const char	*path = getenv("POOLD_TESTING_INIT_FAIL");

	if (path != NULL && access(path, F_OK) == 0) {
		fprintf(stderr, "testing: init fails while %s exists\n", path);
		return -1;
	}
	init_uid = (long)geteuid();
	return 0;
}

#define BOTH	(POOLD_EXECUTOR_PROCESS | POOLD_EXECUTOR_THREAD)
#define PROC	POOLD_EXECUTOR_PROCESS

static const struct poold_function testing_functions[] = {
	{ "fail", "fail with the message given", BOTH, PROC, testing_fail },
	{ "crash", "die of SIGSEGV", PROC, PROC, testing_crash },
	{ "abort", "die of SIGABRT", PROC, PROC, testing_abort },
	{ "exit", "exit with the code given", PROC, PROC, testing_exit },
	{ "hang", "never return, ignoring SIGTERM", PROC, PROC, testing_hang },
	{ "spin", "burn CPU for the seconds given", BOTH, PROC, testing_spin },
	{ "getpid", "the pid of the process running it", BOTH, PROC,
	    testing_getpid },
	{ "alloc", "allocate and touch the bytes given; returns them", BOTH,
	    PROC, testing_alloc },
	{ "init_uid", "the uid this process's initializer ran as, or null",
	    BOTH, PROC, testing_init_uid },
	{ NULL, NULL, 0, 0, NULL }
};

const struct poold_plugin poold_plugin = {
	.abi = POOLD_PLUGIN_ABI,
	.name = "testing",
	.init = testing_init,
	.functions = testing_functions,
};

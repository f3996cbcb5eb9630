/*
 * The process pool's bookkeeping: tasks in and answers out, deaths and
 * replacements, aborts, recycling and resizing, against real workers.
 */
#include "autoconf.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "child.h"
#include "config.h"
#include "fn.h"
#include "json-check.h"
#include "procpool.h"
#include "suites.h"

static struct event_base	*base;
static struct config		 cfg;
static int			 readies, dones, crashes;
static json_t			*last_result, *last_error;
static char			*last_text;	/* a chunk's results' */
static size_t			 last_n;
static void			*last_task;

static void
raise_segv(struct fn_call *call)
{
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
}

static void
report_pid(struct fn_call *call)
{
	call->result = json_integer(getpid());
}

static const struct fn fn_segv = {
	.name = "test_segv", .doc = "", .run = raise_segv,
	.executors = FN_EXECUTOR(EXECUTOR_PROCESS),
	.default_executor = EXECUTOR_PROCESS,
};
static const struct fn fn_pid = {
	.name = "test_pid", .doc = "", .run = report_pid,
	.executors = FN_EXECUTOR(EXECUTOR_PROCESS),
	.default_executor = EXECUTOR_PROCESS,
};

static void
hook_done(void *task, json_t *result, json_t *error,
    const struct json_hollow *results)
{
	dones++;
	last_task = task;
	json_decref(last_result);
	json_decref(last_error);
	free(last_text);
	last_result = result;
	last_error = error;
	last_text = NULL;
	if (results != NULL && results->text != NULL) {
		last_text = strndup(results->text, results->len);
		last_n = results->n;
	}
}

static long	last_progress;

static void
hook_crashed(void *task, json_t *error, long progress)
{
	crashes++;
	last_progress = progress;
	last_task = task;
	json_decref(last_error);
	last_error = error;
}

static void
hook_ready(void)
{
	readies++;
}

static void
hook_broken(const char *why)
{
	ck_abort_msg("the pool broke: %s", why);
}

static const struct procpool_hooks hooks = {
	hook_done, hook_crashed, hook_ready, hook_broken
};

static void
setup_size(long processes)
{
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	child_init(base);
	fn_register(&fn_segv);
	fn_register(&fn_pid);
	config_defaults(&cfg);
	cfg.processes = processes;
	readies = dones = crashes = 0;
	last_result = last_error = NULL;
	last_text = NULL;
	last_task = NULL;
}

static void
setup(void)
{
	setup_size(2);
}

static void
teardown(void)
{
	procpool_free();
	child_free();
	fn_unregister_all();
	json_decref(last_result);
	json_decref(last_error);
	free(last_text);
	config_free(&cfg);
	event_base_free(base);
}

static size_t
worker_count(void)
{
	json_t	*list = procpool_workers();
	size_t	 n = json_array_size(list);

	json_decref(list);
	return n;
}

/* Run the loop until the pool has n idle workers. */
static void
until_idle(int n)
{
	while (procpool_idle() != n)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}

static json_t *
no_args(void)
{
	static json_t	*empty;

	if (empty == NULL)
		empty = json_array();
	return empty;
}

static int
run_pid(void *task)
{
	json_t	*kw = json_object();
	pid_t	 pid;
	int	 before = dones;

	pid = procpool_run(task, geteuid(), NULL, "f-test", "test_pid",
	    no_args(), kw);
	json_decref(kw);
	ck_assert_int_gt(pid, 0);
	while (dones == before)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_ptr_eq(last_task, task);
	ck_assert_int_eq(json_integer_value(last_result), pid);
	return (int)pid;
}

START_TEST(test_procpool_runs_tasks)
{
	int	task;

	procpool_init(base, &cfg, &hooks);
	until_idle(2);
	ck_assert_int_eq(readies, 2);
	run_pid(&task);
	ck_assert_int_eq(procpool_busy(), 0);
	ck_assert_uint_eq(procpool_restarts(), 0);
	ck_assert_uint_eq(worker_count(), 2);
}
END_TEST

START_TEST(test_procpool_crash_fails_task_and_replaces)
{
	json_t	*kw = json_object();
	int	 task;

	procpool_init(base, &cfg, &hooks);
	until_idle(2);
	ck_assert_int_gt(procpool_run(&task, geteuid(), NULL, "f-test",
	    "test_segv", no_args(), kw), 0);
	json_decref(kw);
	while (crashes == 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_ptr_eq(last_task, &task);
	ck_assert_str_eq(json_string_value(json_object_get(last_error,
	    "type")), "WorkerCrashed");
	ck_assert_int_eq(json_integer_value(json_object_get(last_error,
	    "signal")), SIGSEGV);
	ck_assert_uint_eq(procpool_restarts(), 1);
	until_idle(2);
	run_pid(&task);
}
END_TEST

START_TEST(test_procpool_abort_kills_without_report)
{
	json_t	*args = json_pack("[i]", 3600), *kw = json_object();
	int	 task, other;

	procpool_init(base, &cfg, &hooks);
	until_idle(2);
	ck_assert_int_gt(procpool_run(&task, geteuid(), NULL, "f-test", "sleep",
	    args, kw), 0);
	json_decref(args);
	json_decref(kw);
	ck_assert_int_eq(procpool_busy(), 1);
	procpool_abort(&task);
	ck_assert_int_eq(procpool_busy(), 0);
	/* The killed worker is reaped and replaced; nothing is reported. */
	while (procpool_restarts() == 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	until_idle(2);
	ck_assert_int_eq(dones + crashes, 0);
	run_pid(&other);
}
END_TEST

/* A chunk's death names the item that was running. */
START_TEST(test_procpool_chunk_crash_names_item)
{
	const char	*items = "[], [ ],[]";
	json_t		*loaded;
	int		 task;

	procpool_init(base, &cfg, &hooks);
	until_idle(2);
	ck_assert_int_gt(procpool_run_chunk(&task, geteuid(), NULL,
	    "f-test", "test_segv", 1, items, strlen(items), 3), 0);
	while (crashes == 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_int_eq(last_progress, 0);

	until_idle(2);
	ck_assert_int_gt(procpool_run_chunk(&task, geteuid(), NULL,
	    "f-test", "test_pid", 1, items, strlen(items), 3), 0);
	while (dones == 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_uint_eq(json_object_size(json_object_get(last_result,
	    "errors")), 0);
	/* The results come as text, checked: [] stands in the answer. */
	ck_assert(json_is_array(json_object_get(last_result, "results")));
	ck_assert_uint_eq(json_array_size(json_object_get(last_result,
	    "results")), 0);
	ck_assert_ptr_nonnull(last_text);
	ck_assert_uint_eq(last_n, 3);
	loaded = json_loads(last_text, 0, NULL);
	ck_assert_uint_eq(json_array_size(loaded), 3);
	ck_assert(json_is_integer(json_array_get(loaded, 2)));
	json_decref(loaded);
}
END_TEST

START_TEST(test_procpool_recycles_by_count)
{
	int	task, a, b, c;

	cfg.max_tasks_per_child = 2;
	procpool_init(base, &cfg, &hooks);
	until_idle(1);
	a = run_pid(&task);
	b = run_pid(&task);
	until_idle(1);
	c = run_pid(&task);
	ck_assert_int_eq(a, b);
	ck_assert_int_ne(b, c);
	ck_assert_uint_eq(procpool_restarts(), 0);
}
END_TEST

START_TEST(test_procpool_resizes)
{
	procpool_init(base, &cfg, &hooks);
	until_idle(2);
	procpool_resize(4);
	ck_assert_int_eq(procpool_size(), 4);
	until_idle(4);
	procpool_resize(1);
	until_idle(1);
	while (worker_count() != 1)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	ck_assert_uint_eq(procpool_restarts(), 0);
}
END_TEST

static void
setup_one(void)
{
	setup_size(1);
}

Suite *
procpool_suite(void)
{
	Suite	*s = suite_create("procpool");
	TCase	*tc = tcase_create("Workers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_procpool_runs_tasks);
	tcase_add_test(tc, test_procpool_crash_fails_task_and_replaces);
	tcase_add_test(tc, test_procpool_abort_kills_without_report);
	tcase_add_test(tc, test_procpool_resizes);
	tcase_add_test(tc, test_procpool_chunk_crash_names_item);
	suite_add_tcase(s, tc);
	tc = tcase_create("Recycling");
	tcase_add_checked_fixture(tc, setup_one, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_procpool_recycles_by_count);
	suite_add_tcase(s, tc);
	return s;
}

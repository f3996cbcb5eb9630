/* The scheduler: priority order, timeouts and retries, cancel, interrupt. */
#include "autoconf.h"

#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "child.h"
#include "config.h"
#include "fn.h"
#include "future.h"
#include "sched.h"
#include "suites.h"

static struct event_base	*base;
static struct config		 cfg;
static struct future		*order[8];
static int			 norder;
static struct future_watch	 watches[8];
static int			 nwatches;

static void
setup(void)
{
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	future_store_init(base, 3600);
	child_init(base);
	config_defaults(&cfg);
	cfg.threads = 1;
	cfg.processes = 1;
	sched_init(base, &cfg);
	norder = nwatches = 0;
}

static void
teardown(void)
{
	sched_free();
	child_free();
	future_store_free();
	config_free(&cfg);
	event_base_free(base);
}

static void
record_done(struct future_watch *w, struct future *f)
{
	order[norder++] = f;
}

static struct future *
submit(const struct fn *fn, json_t *args, long long priority, double timeout,
    long retries)
{
	struct future	*f;

	f = future_new(0, fn, args, json_object(), EXECUTOR_THREAD);
	f->timeout = timeout;
	f->retries = retries;
	future_watch(f, &watches[nwatches++], record_done, NULL);
	sched_submit(f, priority, NULL);
	return f;
}

static void
run_until_done(struct future *f)
{
	while (!future_is_done(f))
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}

START_TEST(test_sched_priority_order)
{
	struct future	*blocker, *low, *high, *mid, *high2;

	blocker = submit(&fn_sleep, json_pack("[f]", 0.2), 0, -1, 0);
	ck_assert_int_eq(blocker->state, FUTURE_RUNNING);
	low = submit(&fn_echo, json_pack("[i]", 1), -5, -1, 0);
	high = submit(&fn_echo, json_pack("[i]", 2), 10, -1, 0);
	mid = submit(&fn_echo, json_pack("[i]", 3), 0, -1, 0);
	high2 = submit(&fn_echo, json_pack("[i]", 4), 10, -1, 0);
	ck_assert_uint_eq(future_store_counts()->pending, 4);
	run_until_done(low);
	ck_assert_int_eq(norder, 5);
	ck_assert_ptr_eq(order[0], blocker);
	ck_assert_ptr_eq(order[1], high);
	ck_assert_ptr_eq(order[2], high2);
	ck_assert_ptr_eq(order[3], mid);
	ck_assert_ptr_eq(order[4], low);
	ck_assert_int_eq(json_integer_value(low->result), 1);
}
END_TEST

START_TEST(test_sched_timeout_fails)
{
	struct future	*f = submit(&fn_sleep, json_pack("[i]", 3600), 0, 0.05,
	    0);

	run_until_done(f);
	ck_assert_int_eq(f->state, FUTURE_FAILED);
	ck_assert_str_eq(json_string_value(json_object_get(f->error, "type")),
	    "TimeoutError");
	ck_assert_uint_eq(f->attempts, 1);
}
END_TEST

START_TEST(test_sched_timeout_retries)
{
	struct future	*f = submit(&fn_sleep, json_pack("[i]", 3600), 0, 0.05,
	    2);

	run_until_done(f);
	ck_assert_int_eq(f->state, FUTURE_FAILED);
	ck_assert_uint_eq(f->attempts, 3);
}
END_TEST

START_TEST(test_sched_cancel_pending_only)
{
	struct future	*running, *pending;

	running = submit(&fn_sleep, json_pack("[f]", 0.1), 0, -1, 0);
	pending = submit(&fn_echo, json_pack("[i]", 1), 0, -1, 0);
	ck_assert_int_eq(sched_cancel(running, 1), 0);
	ck_assert_int_eq(running->state, FUTURE_RUNNING);
	ck_assert_int_eq(sched_cancel(pending, 0), 1);
	ck_assert_int_eq(pending->state, FUTURE_CANCELLED);
	ck_assert_int_eq(sched_cancel(pending, 0), 1);	/* stays cancelled */
	run_until_done(running);
	ck_assert_int_eq(running->state, FUTURE_FINISHED);
	ck_assert_int_eq(sched_cancel(running, 0), 0);
}
END_TEST

START_TEST(test_sched_interrupt_running)
{
	struct future	*f = submit(&fn_sleep, json_pack("[i]", 3600), 0, -1,
	    0);
	struct future	*p = submit(&fn_echo, json_pack("[i]", 1), 0, -1, 0);

	sched_cancel_pending();
	ck_assert_int_eq(p->state, FUTURE_CANCELLED);
	sched_interrupt_running();
	ck_assert_int_eq(f->state, FUTURE_FAILED);
	ck_assert_str_eq(json_string_value(json_object_get(f->error, "type")),
	    "Interrupted");
	/* The thread comes back at once: sleep takes notice of the stop. */
	while (sched_threads_busy() > 0)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}
END_TEST

Suite *
sched_suite(void)
{
	Suite	*s = suite_create("sched");
	TCase	*tc = tcase_create("Dispatch");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sched_priority_order);
	tcase_add_test(tc, test_sched_cancel_pending_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("Ending early");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sched_timeout_fails);
	tcase_add_test(tc, test_sched_timeout_retries);
	tcase_add_test(tc, test_sched_interrupt_running);
	suite_add_tcase(s, tc);
	return s;
}

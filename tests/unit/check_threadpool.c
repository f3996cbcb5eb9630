/* The thread pool: jobs run off the loop and come back on it. */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "threadpool.h"
#include "suites.h"

struct job {
	struct threadpool_job	 job;
	pthread_t		 ran_on;
	int			 done;
	int			 paused;	/* threadpool_pause's answer */
	double			 pause;
};

static struct event_base	*base;
static int			 ndone;

static void
setup(void)
{
	ck_assert_int_eq(evthread_use_pthreads(), 0);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ndone = 0;
}

static void
teardown(void)
{
	event_base_free(base);
}

static void
job_run(struct threadpool_job *j)
{
	struct job	*job = (struct job *)j;

	job->ran_on = pthread_self();
	if (job->pause > 0)
		job->paused = threadpool_pause(j, job->pause);
}

static void
job_done(struct threadpool_job *j)
{
	struct job	*job = (struct job *)j;

	job->done = 1;
	ndone++;
}

static void
run_until(int n)
{
	while (ndone < n)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
}

START_TEST(test_threadpool_runs_off_loop)
{
	struct threadpool	*tp = threadpool_new(base, 3);
	struct job		 jobs[3] = { 0 };
	int			 i;

	ck_assert_int_eq(threadpool_idle(tp), 3);
	for (i = 0; i < 3; i++) {
		jobs[i].job.run = job_run;
		jobs[i].job.done = job_done;
		threadpool_run(tp, &jobs[i].job);
	}
	ck_assert_int_eq(threadpool_busy(tp), 3);
	run_until(3);
	for (i = 0; i < 3; i++) {
		ck_assert(jobs[i].done);
		ck_assert(!pthread_equal(jobs[i].ran_on, pthread_self()));
	}
	ck_assert_int_eq(threadpool_idle(tp), 3);
	threadpool_free(tp);
}
END_TEST

START_TEST(test_threadpool_interrupt_pause)
{
	struct threadpool	*tp = threadpool_new(base, 2);
	struct job		 slow = { 0 }, quick = { 0 };

	slow.job.run = quick.job.run = job_run;
	slow.job.done = quick.job.done = job_done;
	slow.pause = 3600;
	quick.pause = 0.01;
	threadpool_run(tp, &slow.job);
	threadpool_run(tp, &quick.job);
	run_until(1);
	ck_assert(quick.done);
	ck_assert_int_eq(quick.paused, 0);
	threadpool_interrupt(&slow.job);
	run_until(2);
	ck_assert_int_eq(slow.paused, -1);
	threadpool_free(tp);
}
END_TEST

Suite *
threadpool_suite(void)
{
	Suite	*s = suite_create("threadpool");
	TCase	*tc = tcase_create("Jobs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_threadpool_runs_off_loop);
	tcase_add_test(tc, test_threadpool_interrupt_pause);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * The thread pool. Finished jobs go on a done list; the thread that makes
 * the list non-empty writes the eventfd, so a burst of completions costs
 * the loop one wake-up and one lock to take them all.
 */
#include "autoconf.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "threadpool.h"
#include "xmalloc.h"

TAILQ_HEAD(threadpool_jobs, threadpool_job);

struct threadpool {
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* jobs became non-empty */
	pthread_cond_t		 wake;		/* a stop flag was set */
	pthread_cond_t		 gone;		/* a thread exited */
	struct threadpool_jobs	 jobs;
	struct threadpool_jobs	 done;
	int			 exiting;
	int			 alive;		/* threads running */
	int			 wanted;	/* threads to keep */

	int			 size;		/* loop thread's view */
	int			 busy;		/* loop thread only */
	int			 efd;
	struct event		*ev;
};

static void	*threadpool_main(void *);
static void	 threadpool_done_cb(evutil_socket_t, short, void *);

static void
threadpool_init_locks(struct threadpool *tp)
{
	pthread_condattr_t	attr;

	if ((errno = pthread_mutex_init(&tp->lock, NULL)) != 0)
		fatal("pthread_mutex_init");
	if ((errno = pthread_condattr_init(&attr)) != 0)
		fatal("pthread_condattr_init");
	if ((errno = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0)
		fatal("pthread_condattr_setclock");
	if ((errno = pthread_cond_init(&tp->work, &attr)) != 0 ||
	    (errno = pthread_cond_init(&tp->wake, &attr)) != 0 ||
	    (errno = pthread_cond_init(&tp->gone, &attr)) != 0)
		fatal("pthread_cond_init");
	pthread_condattr_destroy(&attr);
}

/*
 * Start n more threads, detached, with every signal blocked: only the loop
 * takes signals. Called with the lock held.
 */
static void
threadpool_start_threads(struct threadpool *tp, int n)
{
	pthread_attr_t	attr;
	pthread_t	thread;
	sigset_t	all, old;
	int		i;

	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatal("pthread_sigmask");
	if ((errno = pthread_attr_init(&attr)) != 0 ||
	    (errno = pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED)) != 0)
		fatal("pthread_attr");
	for (i = 0; i < n; i++) {
		if ((errno = pthread_create(&thread, &attr, threadpool_main,
		    tp)) != 0)
			fatal("pthread_create thread %d", tp->alive);
		tp->alive++;
	}
	pthread_attr_destroy(&attr);
	if ((errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatal("pthread_sigmask");
}

struct threadpool *
threadpool_new(struct event_base *base, int size)
{
	struct threadpool	*tp = xcalloc(1, sizeof *tp);

	threadpool_init_locks(tp);
	TAILQ_INIT(&tp->jobs);
	TAILQ_INIT(&tp->done);
	tp->size = tp->wanted = size;
	if ((tp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	tp->ev = event_new(base, tp->efd, EV_READ | EV_PERSIST,
	    threadpool_done_cb, tp);
	if (tp->ev == NULL || event_add(tp->ev, NULL) == -1)
		fatalx("cannot watch eventfd %d", tp->efd);
	pthread_mutex_lock(&tp->lock);
	threadpool_start_threads(tp, size);
	pthread_mutex_unlock(&tp->lock);
	return tp;
}

/*
 * Stop and join every thread, then hand back the jobs that finished on the
 * way. Running jobs must have been interrupted, or the join waits for them.
 */
void
threadpool_free(struct threadpool *tp)
{
	pthread_mutex_lock(&tp->lock);
	tp->exiting = 1;
	pthread_cond_broadcast(&tp->work);
	while (tp->alive > 0)
		pthread_cond_wait(&tp->gone, &tp->lock);
	pthread_mutex_unlock(&tp->lock);
	threadpool_done_cb(tp->efd, EV_READ, tp);
	event_free(tp->ev);
	close(tp->efd);
	pthread_cond_destroy(&tp->work);
	pthread_cond_destroy(&tp->wake);
	pthread_cond_destroy(&tp->gone);
	pthread_mutex_destroy(&tp->lock);
	free(tp);
}

int
threadpool_size(const struct threadpool *tp)
{
	return tp->size;
}

int
threadpool_busy(const struct threadpool *tp)
{
	return tp->busy;
}

int
threadpool_idle(const struct threadpool *tp)
{
	return tp->size - tp->busy;
}

/* Hand a job to an idle thread; the caller has checked there is one. */
void
threadpool_run(struct threadpool *tp, struct threadpool_job *job)
{
	job->pool = tp;
	job->stop = 0;
	tp->busy++;
	pthread_mutex_lock(&tp->lock);
	TAILQ_INSERT_TAIL(&tp->jobs, job, entry);
	pthread_cond_signal(&tp->work);
	pthread_mutex_unlock(&tp->lock);
}

/* Ask a running job to stop; only jobs that pause take notice. */
void
threadpool_interrupt(struct threadpool_job *job)
{
	struct threadpool	*tp = job->pool;

	pthread_mutex_lock(&tp->lock);
	job->stop = 1;
	pthread_cond_broadcast(&tp->wake);
	pthread_mutex_unlock(&tp->lock);
}

static struct timespec
threadpool_deadline(double seconds)
{
	struct timespec	ts;
	double		whole;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (seconds > 365 * 86400.0)
		seconds = 365 * 86400.0;
	whole = (double)(time_t)seconds;
	ts.tv_sec += (time_t)whole;
	ts.tv_nsec += (long)((seconds - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Called on a pool thread: wait up to seconds; -1 if interrupted. */
int
threadpool_pause(struct threadpool_job *job, double seconds)
{
	struct threadpool	*tp = job->pool;
	struct timespec		 deadline = threadpool_deadline(seconds);
	int			 stopped, rc = 0;

	pthread_mutex_lock(&tp->lock);
	while (!job->stop && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&tp->wake, &tp->lock, &deadline);
	stopped = job->stop;
	pthread_mutex_unlock(&tp->lock);
	return stopped ? -1 : 0;
}

static void
threadpool_post_done(struct threadpool *tp, struct threadpool_job *job)
{
	uint64_t	one = 1;
	int		was_empty;

	pthread_mutex_lock(&tp->lock);
	was_empty = TAILQ_EMPTY(&tp->done);
	TAILQ_INSERT_TAIL(&tp->done, job, entry);
	pthread_mutex_unlock(&tp->lock);
	/* EAGAIN means the counter is already non-zero: the loop will wake. */
	if (was_empty && write(tp->efd, &one, sizeof one) == -1 &&
	    errno != EAGAIN)
		log_warn("write eventfd %d", tp->efd);
}

/* Grow at once; shrink as threads become idle. */
void
threadpool_resize(struct threadpool *tp, int size)
{
	pthread_mutex_lock(&tp->lock);
	tp->size = tp->wanted = size;
	if (tp->alive < size)
		threadpool_start_threads(tp, size - tp->alive);
	else
		pthread_cond_broadcast(&tp->work);
	pthread_mutex_unlock(&tp->lock);
}

int
threadpool_stopped(struct threadpool_job *job)
{
	int	stop;

	pthread_mutex_lock(&job->pool->lock);
	stop = job->stop;
	pthread_mutex_unlock(&job->pool->lock);
	return stop;
}

static void *
threadpool_main(void *arg)
{
	struct threadpool	*tp = arg;
	struct threadpool_job	*job;

	for (;;) {
		pthread_mutex_lock(&tp->lock);
		while (TAILQ_EMPTY(&tp->jobs) && !tp->exiting &&
		    tp->alive <= tp->wanted)
			pthread_cond_wait(&tp->work, &tp->lock);
		if ((job = TAILQ_FIRST(&tp->jobs)) == NULL) {
			tp->alive--;
			pthread_cond_broadcast(&tp->gone);
			pthread_mutex_unlock(&tp->lock);
			return NULL;
		}
		TAILQ_REMOVE(&tp->jobs, job, entry);
		pthread_mutex_unlock(&tp->lock);
		job->run(job);
		threadpool_post_done(tp, job);
	}
}

/* On the loop thread: take every finished job and call its done. */
static void
threadpool_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct threadpool	*tp = arg;
	struct threadpool_jobs	 done;
	struct threadpool_job	*job;
	uint64_t		 n;

	if (read(fd, &n, sizeof n) == -1 && errno != EAGAIN)
		log_warn("read eventfd %d", fd);
	TAILQ_INIT(&done);
	pthread_mutex_lock(&tp->lock);
	TAILQ_CONCAT(&done, &tp->done, entry);
	pthread_mutex_unlock(&tp->lock);
	while ((job = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, job, entry);
		tp->busy--;
		job->done(job);
	}
}

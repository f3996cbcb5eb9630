/*
 * The thread pool: pthreads that run jobs handed over by the loop thread
 * and hand them back through an eventfd that the loop watches. The loop
 * hands out a job only when a thread is idle, so the order of pending work
 * is decided by the loop's own queue, never by the pool.
 *
 * Locking: one mutex guards the job and done lists and every job's stop
 * flag; it is never held while a job runs or while the loop calls back.
 */
#ifndef POOLD_THREADPOOL_H
#define POOLD_THREADPOOL_H

#include <sys/queue.h>

struct event_base;
struct threadpool;
struct threadpool_job;

typedef void (*threadpool_fn)(struct threadpool_job *);

struct threadpool_job {
	threadpool_fn			 run;	/* on a pool thread */
	threadpool_fn			 done;	/* back on the loop thread */
	struct threadpool		*pool;
	int				 stop;	/* under the pool's lock */
	TAILQ_ENTRY(threadpool_job)	 entry;
};

struct threadpool *threadpool_new(struct event_base *, int);
void	threadpool_free(struct threadpool *);
int	threadpool_size(const struct threadpool *);
int	threadpool_busy(const struct threadpool *);
int	threadpool_idle(const struct threadpool *);
void	threadpool_run(struct threadpool *, struct threadpool_job *);
void	threadpool_resize(struct threadpool *, int);
void	threadpool_interrupt(struct threadpool_job *);
int	threadpool_stopped(struct threadpool_job *);
int	threadpool_pause(struct threadpool_job *, double);

#endif

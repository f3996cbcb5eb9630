/*
 * The scheduler. A task is one attempt at running a future. When the
 * future ends before its task does (a timeout, a cancel, a stop of the
 * daemon), the task is orphaned. On the process pool its worker is killed
 * and replaced. A thread cannot be killed: an orphaned thread task is told
 * to stop, keeps its thread busy until its function returns (sleep returns
 * at once), and what it returns is dropped.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "exec-loop.h"
#include "fn.h"
#include "future.h"
#include "log.h"
#include "queue.h"
#include "procpool.h"
#include "sched.h"
#include "threadpool.h"
#include "xmalloc.h"

struct task {
	struct threadpool_job	 job;
	enum executor		 executor;
	struct fn_call		 call;
	const struct fn		*fn;
	void			*handle;	/* a run on the loop */
	struct future		*future;	/* NULL: orphaned */
	struct event		*deadline;
	TAILQ_ENTRY(task)	 entry;
};

static struct {
	struct event_base	*base;
	struct queue		 pending[EXECUTOR_COUNT];
	struct threadpool	*threads;
	TAILQ_HEAD(, task)	 running;	/* not orphaned */
	int			 loop_busy;	/* thread tasks on the loop */
	const struct config	*cfg;
	void			(*idle_cb)(void);
} sched;

static void	sched_dispatch(void);
static void	task_proc_done(void *, json_t *, json_t *);
static void	task_proc_crashed(void *, json_t *);
static void	sched_proc_broken(const char *);

static const struct procpool_hooks sched_proc_hooks = {
	.done = task_proc_done,
	.crashed = task_proc_crashed,
	.ready = sched_dispatch,
	.broken = sched_proc_broken,
};

#define FUTURE_OF(item) \
	((struct future *)((char *)(item) - offsetof(struct future, qitem)))

void
sched_init(struct event_base *base, const struct config *cfg)
{
	int	i;

	sched.base = base;
	sched.cfg = cfg;
	for (i = 0; i < EXECUTOR_COUNT; i++)
		queue_init(&sched.pending[i]);
	TAILQ_INIT(&sched.running);
	sched.threads = threadpool_new(base, (int)cfg->threads);
	exec_loop_init(base, cfg->kill_timeout);
	procpool_init(base, cfg, &sched_proc_hooks);
}

/* Orphan what runs, join the threads, and drop the queues. */
void
sched_free(void)
{
	int	i;

	sched_interrupt_running();
	procpool_free();
	exec_loop_free();
	threadpool_free(sched.threads);
	for (i = 0; i < EXECUTOR_COUNT; i++)
		queue_free(&sched.pending[i]);
}

void
sched_set_idle_cb(void (*cb)(void))
{
	sched.idle_cb = cb;
}

static void
sched_check_idle(void)
{
	const struct future_counts	*c = future_store_counts();

	if (sched.idle_cb != NULL && c->pending == 0 && c->running == 0)
		sched.idle_cb();
}

/* Queue a new pending future. */
void
sched_submit(struct future *f, long long priority)
{
	f->qitem.priority = priority;
	queue_push(&sched.pending[f->executor], &f->qitem);
	sched_dispatch();
}

static void
task_free(struct task *t)
{
	if (t->deadline != NULL)
		event_free(t->deadline);
	json_decref(t->call.args);
	json_decref(t->call.kwargs);
	json_decref(t->call.result);
	json_decref(t->call.error);
	free(t);
}

/* Detach a task from its future, which ends some other way. */
static void
task_orphan(struct task *t)
{
	if (t->future == NULL)
		return;
	TAILQ_REMOVE(&sched.running, t, entry);
	t->future->task = NULL;
	t->future = NULL;
	if (t->deadline != NULL)
		evtimer_del(t->deadline);
	if (t->executor == EXECUTOR_PROCESS) {
		procpool_abort(t);
		task_free(t);
	} else if (t->handle != NULL)
		t->fn->abort(t->handle);
	else
		threadpool_interrupt(&t->job);
}

static void
task_run(struct threadpool_job *job)
{
	struct task	*t = (struct task *)job;

	t->fn->run(&t->call);
}

static int
task_pause(struct fn_call *call, double seconds)
{
	struct task	*t = call->ctx;

	return threadpool_pause(&t->job, seconds);
}

static int
task_stopped(struct fn_call *call)
{
	struct task	*t = call->ctx;

	return threadpool_stopped(&t->job);
}

/* The task's function returned: its future ends with what it gave. */
static void
task_complete(struct task *t, json_t *result, json_t *error)
{
	struct future	*f = t->future;

	if (f != NULL) {
		TAILQ_REMOVE(&sched.running, t, entry);
		if (error != NULL)
			future_fail(f, error);
		else if (result != NULL)
			future_finish(f, result);
		else
			future_fail(f, future_error("TaskError",
			    "%s returned nothing", t->fn->name));
	} else {
		json_decref(result);
		json_decref(error);
	}
	task_free(t);
	sched_dispatch();
	sched_check_idle();
}

static void
task_done(struct threadpool_job *job)
{
	struct task	*t = (struct task *)job;
	json_t		*result = t->call.result, *error = t->call.error;

	t->call.result = t->call.error = NULL;
	task_complete(t, result, error);
}

static void
task_proc_done(void *arg, json_t *result, json_t *error)
{
	task_complete(arg, result, error);
}

/* A task run on the loop (exec on the thread executor) has ended. */
static void
task_loop_done(void *arg)
{
	struct task	*t = arg;
	json_t		*result = t->call.result, *error = t->call.error;

	sched.loop_busy--;
	t->call.result = t->call.error = NULL;
	t->handle = NULL;
	task_complete(t, result, error);
}

/* Room on the thread executor: threads and loop runs share its size. */
static int
sched_thread_room(void)
{
	return threadpool_idle(sched.threads) - sched.loop_busy;
}

/* Retry a future that may be, else fail it with error (taken). */
static void
task_retry_or_fail(struct future *f, json_t *error)
{
	if (f->retries > 0) {
		f->retries--;
		json_decref(error);
		future_requeue(f);
		queue_push(&sched.pending[f->executor], &f->qitem);
	} else
		future_fail(f, error);
}

/* The worker died under the task. */
static void
task_proc_crashed(void *arg, json_t *error)
{
	struct task	*t = arg;
	struct future	*f = t->future;

	TAILQ_REMOVE(&sched.running, t, entry);
	f->task = NULL;
	if (t->deadline != NULL)
		evtimer_del(t->deadline);
	log_debug("%s: worker crashed", f->name);
	task_free(t);
	task_retry_or_fail(f, error);
	sched_dispatch();
	sched_check_idle();
}

/* Workers cannot start: what waits for them fails rather than waiting on. */
static void
sched_proc_broken(const char *why)
{
	struct queue_item	*item;

	while ((item = queue_pop(&sched.pending[EXECUTOR_PROCESS])) != NULL)
		future_fail(FUTURE_OF(item), future_error("WorkerCrashed",
		    "worker processes cannot start: %s", why));
	sched_check_idle();
}

/* A task ran past its timeout: retry it if it may, else fail it. */
static void
task_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct task	*t = arg;
	struct future	*f = t->future;

	if (f == NULL)
		return;
	task_orphan(t);
	log_debug("%s timed out after %gs", f->name, f->timeout);
	task_retry_or_fail(f, future_error("TimeoutError",
	    "the task ran past its timeout of %g seconds", f->timeout));
	sched_dispatch();
	sched_check_idle();
}

static void
sched_start(struct future *f)
{
	struct task	*t = xcalloc(1, sizeof *t);
	struct timeval	 tv;

	t->fn = f->fn;
	t->future = f;
	t->executor = f->executor;
	t->call.fn = f->fn;
	t->call.args = json_incref(f->args);
	t->call.kwargs = json_incref(f->kwargs);
	t->call.pause = task_pause;
	t->call.stopped = task_stopped;
	t->call.max_output = (size_t)sched.cfg->max_output_bytes;
	t->call.ctx = t;
	t->job.run = task_run;
	t->job.done = task_done;
	f->task = t;
	future_start(f);
	TAILQ_INSERT_TAIL(&sched.running, t, entry);
	if (f->timeout >= 0) {
		if ((t->deadline = evtimer_new(sched.base, task_deadline_cb,
		    t)) == NULL)
			fatalx("evtimer_new failed");
		tv = clock_timeval(f->timeout);
		evtimer_add(t->deadline, &tv);
	}
	if (t->executor == EXECUTOR_PROCESS)
		f->worker = procpool_run(t, f->name, f->fn->name, f->args,
		    f->kwargs);
	else if (t->fn->start != NULL) {
		sched.loop_busy++;
		t->handle = t->fn->start(&t->call, task_loop_done, t);
	} else
		threadpool_run(sched.threads, &t->job);
}

static void
sched_dispatch(void)
{
	struct queue		*q = &sched.pending[EXECUTOR_THREAD];
	struct queue_item	*item;

	while (sched_thread_room() > 0 && (item = queue_pop(q)) != NULL)
		sched_start(FUTURE_OF(item));
	q = &sched.pending[EXECUTOR_PROCESS];
	if (procpool_broken() != NULL && queue_len(q) > 0) {
		sched_proc_broken(procpool_broken());
		return;
	}
	while (procpool_idle() > 0 && (item = queue_pop(q)) != NULL)
		sched_start(FUTURE_OF(item));
}

/*
 * Cancel a future: a pending one always; a running one never on the
 * thread executor (a thread cannot be stopped from outside). Returns
 * whether the future is now cancelled.
 */
int
sched_cancel(struct future *f, int force)
{
	if (f->state == FUTURE_PENDING) {
		queue_remove(&sched.pending[f->executor], &f->qitem);
		future_cancel(f);
		sched_check_idle();
		return 1;
	}
	/* Only what can be killed can be force-cancelled: not a thread. */
	if (f->state == FUTURE_RUNNING && force && f->task != NULL &&
	    (f->executor == EXECUTOR_PROCESS ||
	    ((struct task *)f->task)->handle != NULL)) {
		task_orphan(f->task);
		future_cancel(f);
		sched_dispatch();
		sched_check_idle();
		return 1;
	}
	return f->state == FUTURE_CANCELLED;
}

void
sched_cancel_pending(void)
{
	struct queue_item	*item;
	int			 i;

	for (i = 0; i < EXECUTOR_COUNT; i++) {
		while ((item = queue_pop(&sched.pending[i])) != NULL)
			future_cancel(FUTURE_OF(item));
	}
	sched_check_idle();
}

/* End every running future as Interrupted and tell its task to stop. */
void
sched_interrupt_running(void)
{
	struct task	*t;
	struct future	*f;

	while ((t = TAILQ_FIRST(&sched.running)) != NULL) {
		f = t->future;
		task_orphan(t);
		future_fail(f, future_error("Interrupted",
		    "the daemon stopped while the task ran"));
	}
	sched_check_idle();
}

int
sched_threads(void)
{
	return threadpool_size(sched.threads);
}

int
sched_threads_busy(void)
{
	return threadpool_busy(sched.threads) + sched.loop_busy;
}

void
sched_resize_threads(int n)
{
	threadpool_resize(sched.threads, n);
	sched_dispatch();
}

void
sched_resize_processes(int n)
{
	procpool_resize(n);
	sched_dispatch();
}

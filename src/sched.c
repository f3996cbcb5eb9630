/*
 * The scheduler. A task is one attempt at running a future, or one chunk
 * of a map's items. When the future ends before its task does (a timeout,
 * a cancel, a stop of the daemon), the task is orphaned. On the process
 * pool its worker is killed and replaced. A thread cannot be killed: an
 * orphaned thread task is told to stop, keeps its thread busy until its
 * function returns (sleep returns at once), and what it returns is dropped.
 *
 * Order: higher priority first; among equal priorities, the uids take
 * turns (fair.c), and within a uid its connections do: each owner's work
 * is tagged one after another from the later of its own last tag and the
 * tag of its uid's work that started last, so a connection that queues
 * much does not hold back one of the same uid that queues a little, and
 * one connection's work keeps its order.
 *
 * A uid may be capped (max_workers_per_uid): past the cap its work waits
 * and others' goes by. On the process pool a worker is bound to one uid
 * (procpool.c); a uid whose turn it is but that has no idle worker of its
 * own gets one made for it, by retiring an idle worker of another uid,
 * while it holds less than its share of the pool (the pool's size over
 * the uids with work), so no uid can keep the pool by leaving workers idle,
 * and uids that keep their share do not swap workers back and forth.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "exec-loop.h"
#include "fair.h"
#include "fn.h"
#include "future.h"
#include "ident.h"
#include "log.h"
#include "map.h"
#include "queue.h"
#include "procpool.h"
#include "sched.h"
#include "threadpool.h"
#include "xmalloc.h"

enum {
	QUEUE_FUTURE,
	QUEUE_CHUNK,
};

struct sched_owner {
	uint64_t		 last;	/* the tag of its last queued work */
	int			 refs;
	struct fair_user	*user;	/* its uid's */
};

struct task {
	struct threadpool_job	 job;
	enum executor		 executor;
	struct fn_call		 call;
	const struct fn		*fn;
	char			*name;		/* called by, kept: the future
						   may end before the thread */
	void			*handle;	/* a run on the loop */
	struct future		*future;	/* NULL: orphaned */
	struct map_chunk	*chunk;		/* a map's chunk, or NULL */
	struct fair_flow	*flow;		/* its uid's, while it counts */
	/* What a thread running a chunk needs, fixed as it starts. */
	int			 is_chunk;
	int			 star;
	char			*items;		/* "[...]", not terminated */
	size_t			 items_len;
	double			 item_timeout;
	double			 item_deadline;	/* the thread's own item */
	struct event		*deadline;
	TAILQ_ENTRY(task)	 entry;
};

static struct {
	struct event_base	*base;
	struct fair		 pending[EXECUTOR_COUNT];
	struct threadpool	*threads;
	TAILQ_HEAD(, task)	 running;	/* not orphaned */
	int			 loop_busy;	/* thread tasks on the loop */
	const struct config	*cfg;
	void			(*idle_cb)(void);
} sched;

static void	sched_dispatch(void);
static void	task_proc_done(void *, json_t *, json_t *,
		    const struct json_hollow *);
static void	task_proc_crashed(void *, json_t *, long);
static void	sched_proc_broken(const char *);

static const struct procpool_hooks sched_proc_hooks = {
	.done = task_proc_done,
	.crashed = task_proc_crashed,
	.ready = sched_dispatch,
	.broken = sched_proc_broken,
};

#define FUTURE_OF(item) \
	((struct future *)((char *)(item) - offsetof(struct future, qitem)))
#define CHUNK_OF(item) \
	((struct map_chunk *)((char *)(item) - offsetof(struct map_chunk, \
	qitem)))

void
sched_init(struct event_base *base, const struct config *cfg)
{
	int	i;

	sched.base = base;
	sched.cfg = cfg;
	for (i = 0; i < EXECUTOR_COUNT; i++)
		fair_init(&sched.pending[i], (enum executor)i);
	TAILQ_INIT(&sched.running);
	/* Workers first: a fork while no other thread runs is a clean one. */
	exec_loop_init(base, cfg->kill_timeout);
	procpool_init(base, cfg, &sched_proc_hooks);
	sched.threads = threadpool_new(base, (int)cfg->threads);
}

/* Orphan what runs, join the threads, and drop the queues. */
void
sched_free(void)
{
	int	i;

	sched_cancel_pending();
	sched_interrupt_running();
	procpool_free();
	exec_loop_free();
	threadpool_free(sched.threads);
	for (i = 0; i < EXECUTOR_COUNT; i++)
		fair_free(&sched.pending[i]);
	ident_cache_free();
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

/* A connection's place in its uid's order. */
struct sched_owner *
sched_owner_new(uid_t uid)
{
	struct sched_owner	*o = xcalloc(1, sizeof *o);

	o->refs = 1;
	o->user = fair_user_get(uid);
	return o;
}

struct sched_owner *
sched_owner_ref(struct sched_owner *o)
{
	if (o != NULL)
		o->refs++;
	return o;
}

void
sched_owner_unref(struct sched_owner *o)
{
	if (o != NULL && --o->refs == 0) {
		fair_user_put(o->user);
		free(o);
	}
}

/* The next fair tag of an owner's work, within its uid's. */
static uint64_t
sched_tag(struct sched_owner *o)
{
	uint64_t	tag;

	tag = (o->last > o->user->vtime ? o->last : o->user->vtime) + 1;
	o->last = tag;
	return tag;
}

/* Queue a pending future without starting anything yet; without an
 * owner, after its uid's last. */
void
sched_queue(struct future *f, long long priority, struct sched_owner *o)
{
	f->qitem.priority = priority;
	f->qitem.seq = o != NULL ? sched_tag(o) : fair_user_vtime(f->owner) + 1;
	f->qitem.kind = QUEUE_FUTURE;
	fair_push(&sched.pending[f->executor], f->owner, &f->qitem);
}

/* Queue a new pending future. */
void
sched_submit(struct future *f, long long priority, struct sched_owner *o)
{
	sched_queue(f, priority, o);
	sched_dispatch();
}

/*
 * Reserve n tags in a row for an owner's work queued later (a map's
 * chunks, made as earlier ones start): the map keeps its place in its
 * connection's order, yet other connections are served between its chunks.
 */
uint64_t
sched_reserve(struct sched_owner *o, size_t n)
{
	uint64_t	first = sched_tag(o);

	if (n > 1)
		o->last += n - 1;
	return first;
}

/* Queue a map's chunk with its tag; it starts from the next dispatch. */
void
sched_enqueue_chunk(struct map_chunk *c, enum executor e, long long priority,
    uint64_t tag)
{
	c->qitem.priority = priority;
	c->qitem.seq = tag;
	c->qitem.kind = QUEUE_CHUNK;
	fair_push(&sched.pending[e], map_chunk_future(c)->owner, &c->qitem);
}

void
sched_dequeue_chunk(struct map_chunk *c, enum executor e)
{
	fair_remove(&sched.pending[e], &c->qitem);
}

/* Start what can start; for a map just made, or work that ended. */
void
sched_kick(void)
{
	sched_dispatch();
	sched_check_idle();
}

static void
task_free(struct task *t)
{
	if (t->flow != NULL)
		fair_done(t->flow);
	ident_unref(t->call.ident);
	if (t->deadline != NULL)
		event_free(t->deadline);
	json_decref(t->call.args);
	json_decref(t->call.kwargs);
	json_decref(t->call.result);
	json_decref(t->call.error);
	free(t->name);
	free(t->items);
	free(t);
}

/* Stop the task's run: kill its worker or program, or ask its thread. */
static void
task_stop_run(struct task *t)
{
	if (t->executor == EXECUTOR_PROCESS) {
		procpool_abort(t);
		task_free(t);
	} else if (t->handle != NULL)
		t->fn->abort(t->handle);
	else
		threadpool_interrupt(&t->job);
}

/* Detach a task from its future, which ends some other way. */
static void
task_orphan(struct task *t)
{
	if (t->future == NULL)
		return;
	TAILQ_REMOVE(&sched.running, t, entry);
	if (t->chunk == NULL)
		t->future->task = NULL;
	t->future = NULL;
	if (t->deadline != NULL)
		evtimer_del(t->deadline);
	task_stop_run(t);
}

/* Run one item of a thread chunk: its result, or NULL with *error. */
static json_t *
task_run_item(struct task *t, json_t *item, json_t **error)
{
	struct fn_call	call = t->call;
	double		started = clock_mono(), timeout;

	t->item_deadline = t->item_timeout >= 0 ? started + t->item_timeout :
	    -1;
	call.args = t->star ? json_incref(item) : json_pack("[O]", item);
	call.kwargs = json_object();
	call.result = call.error = NULL;
	t->fn->run(&call);
	timeout = t->item_timeout;
	/* A thread cannot be stopped: an item that overran is failed after. */
	if (timeout >= 0 && clock_mono() - started > timeout) {
		json_decref(call.result);
		json_decref(call.error);
		call.result = NULL;
		call.error = future_error("TimeoutError", "the item ran past "
		    "its timeout of %g seconds", timeout);
	}
	if (call.error == NULL && call.result == NULL)
		call.error = future_error("TaskError", "%s returned nothing",
		    t->name);
	if (call.error != NULL) {
		json_decref(call.result);
		call.result = NULL;
	}
	*error = call.error;
	json_decref(call.args);
	json_decref(call.kwargs);
	return call.result;
}

static void
task_run(struct threadpool_job *job)
{
	struct task	*t = (struct task *)job;
	json_t		*item, *results, *errors, *result, *error;
	char		 key[32];
	size_t		 i;

	if (!t->is_chunk) {
		t->fn->run(&t->call);
		return;
	}
	/* A chunk: its items, each run in turn. */
	t->call.args = json_loadb(t->items, t->items_len, JSON_ALLOW_NUL, NULL);
	if (!json_is_array(t->call.args)) {
		t->call.error = future_error("TaskError", "the chunk's items "
		    "could not be read");
		return;
	}
	results = json_array();
	errors = json_object();
	json_array_foreach(t->call.args, i, item) {
		result = task_run_item(t, item, &error);
		json_array_append_new(results, result != NULL ? result :
		    json_null());
		if (error != NULL) {
			snprintf(key, sizeof key, "%zu", i);
			json_object_set_new(errors, key, error);
		}
	}
	t->call.result = json_pack("{s:o, s:o}", "results", results, "errors",
	    errors);
}

static int
task_pause(struct fn_call *call, double seconds)
{
	struct task	*t = call->ctx;
	double		 left;

	if (!t->is_chunk || t->item_deadline < 0)
		return threadpool_pause(&t->job, seconds);
	if ((left = t->item_deadline - clock_mono()) <= 0)
		return -1;
	if (seconds < left)
		return threadpool_pause(&t->job, seconds);
	threadpool_pause(&t->job, left);
	return -1;
}

static int
task_stopped(struct fn_call *call)
{
	struct task	*t = call->ctx;

	if (t->is_chunk && t->item_deadline >= 0 &&
	    clock_mono() >= t->item_deadline)
		return 1;
	return threadpool_stopped(&t->job);
}

/*
 * The task's run ended: its future, or its chunk's items, take the end.
 * A chunk's answer may come with its text (see procpool_hooks).
 */
static void
task_complete(struct task *t, json_t *result, json_t *error,
    const struct json_hollow *results)
{
	struct future	*f = t->future;

	if (f != NULL) {
		TAILQ_REMOVE(&sched.running, t, entry);
		if (t->chunk != NULL) {
			if (error != NULL)
				map_chunk_fail_all(t->chunk, error);
			else
				map_chunk_done(t->chunk, result, results);
		} else if (error != NULL)
			future_fail(f, error);
		else if (result != NULL)
			future_finish(f, result);
		else
			future_fail(f, future_error("TaskError",
			    "%s returned nothing", t->name));
	} else {
		json_decref(result);
		json_decref(error);
	}
	task_free(t);
	sched_kick();
}

static void
task_done(struct threadpool_job *job)
{
	struct task	*t = (struct task *)job;
	json_t		*result = t->call.result, *error = t->call.error;

	t->call.result = t->call.error = NULL;
	task_complete(t, result, error, NULL);
}

static void
task_proc_done(void *arg, json_t *result, json_t *error,
    const struct json_hollow *results)
{
	task_complete(arg, result, error, results);
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
	task_complete(t, result, error, NULL);
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
		fair_push(&sched.pending[f->executor], f->owner, &f->qitem);
	} else
		future_fail(f, error);
}

/* The worker died under the task; progress: the chunk item it ran. */
static void
task_proc_crashed(void *arg, json_t *error, long progress)
{
	struct task	*t = arg;
	struct future	*f = t->future;

	TAILQ_REMOVE(&sched.running, t, entry);
	if (t->deadline != NULL)
		evtimer_del(t->deadline);
	log_debug("%s: worker crashed", f->name);
	if (t->chunk != NULL)
		map_chunk_failed(t->chunk, progress < 0 ? 0 : (size_t)progress,
		    error);
	else {
		f->task = NULL;
		task_retry_or_fail(f, error);
	}
	task_free(t);
	sched_kick();
}

/* Workers cannot start: what waits for them fails rather than waiting on. */
static void
sched_proc_broken(const char *why)
{
	struct queue_item	*item;
	struct map_chunk	*c;

	while ((item = fair_pop(&sched.pending[EXECUTOR_PROCESS])) != NULL) {
		if (item->kind == QUEUE_FUTURE) {
			future_fail(FUTURE_OF(item), future_error(
			    "WorkerCrashed", "worker processes cannot start: %s",
			    why));
			continue;
		}
		c = CHUNK_OF(item);
		map_chunk_started(c);
		map_chunk_fail_all(c, future_error("WorkerCrashed",
		    "worker processes cannot start: %s", why));
	}
	sched_check_idle();
}

/*
 * A chunk's deadline: the item it runs now may still have time (the items
 * before it took some), else that item timed out.
 */
static void
task_chunk_deadline(struct task *t)
{
	double		 timeout = map_chunk_timeout(t->chunk), started, left;
	long		 k = procpool_progress(t, &started);
	struct timeval	 tv;
	struct map_chunk *c = t->chunk;

	left = started + timeout - clock_mono();
	if (k >= 0 && left > 0) {
		tv = clock_timeval(left);
		evtimer_add(t->deadline, &tv);
		return;
	}
	t->chunk = NULL;
	task_orphan(t);
	map_chunk_failed(c, k < 0 ? 0 : (size_t)k, future_error(
	    "TimeoutError", "the item ran past its timeout of %g seconds",
	    timeout));
	sched_kick();
}

/* A task ran past its timeout: retry it if it may, else fail it. */
static void
task_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct task	*t = arg;
	struct future	*f = t->future;

	if (f == NULL)
		return;
	if (t->chunk != NULL) {
		task_chunk_deadline(t);
		return;
	}
	task_orphan(t);
	log_debug("%s timed out after %gs", f->name, f->timeout);
	task_retry_or_fail(f, future_error("TimeoutError",
	    "the task ran past its timeout of %g seconds", f->timeout));
	sched_kick();
}

static struct task *
task_new(struct future *f, const struct fn *fn, enum executor e)
{
	struct task	*t = xcalloc(1, sizeof *t);

	t->fn = fn;
	t->future = f;
	t->executor = e;
	t->name = xstrdup(future_fn_name(f));
	t->call.fn = fn;
	t->call.name = t->name;
	t->call.pause = task_pause;
	t->call.stopped = task_stopped;
	t->call.max_output = (size_t)sched.cfg->max_output_bytes;
	t->call.ctx = t;
	t->job.run = task_run;
	t->job.done = task_done;
	return t;
}

static void
task_arm_deadline(struct task *t, double timeout)
{
	struct timeval	tv;

	if (timeout < 0)
		return;
	if ((t->deadline = evtimer_new(sched.base, task_deadline_cb,
	    t)) == NULL)
		fatalx("evtimer_new failed");
	tv = clock_timeval(timeout);
	evtimer_add(t->deadline, &tv);
}

static void
sched_start(struct future *f, struct fair_flow *fl, struct ident *id)
{
	struct task	*t = task_new(f, f->fn, f->executor);

	t->flow = fl;
	t->call.args = json_incref(f->args);
	t->call.kwargs = json_incref(f->kwargs);
	f->task = t;
	future_start(f);
	TAILQ_INSERT_TAIL(&sched.running, t, entry);
	task_arm_deadline(t, f->timeout);
	if (t->executor == EXECUTOR_PROCESS)
		f->worker = procpool_run(t, ident_runs_as(f->owner), id, f->name,
		    t->name, f->args, f->kwargs);
	else if (t->fn->start != NULL) {
		t->call.ident = ident_ref(id);
		sched.loop_busy++;
		t->handle = t->fn->start(&t->call, task_loop_done, t);
	} else {
		t->call.ident = ident_ref(id);
		threadpool_run(sched.threads, &t->job);
	}
}

static void
sched_start_chunk(struct map_chunk *c, enum executor e, struct fair_flow *fl,
    struct ident *id)
{
	struct future	*f = map_chunk_future(c);
	struct task	*t = task_new(f, f->fn, e);
	const char	*items;
	size_t		 len;

	t->flow = fl;
	t->chunk = c;
	t->is_chunk = 1;
	t->star = map_chunk_star(c);
	t->item_timeout = map_chunk_timeout(c);
	items = map_chunk_text(c, &len);
	TAILQ_INSERT_TAIL(&sched.running, t, entry);
	if (e == EXECUTOR_PROCESS) {
		task_arm_deadline(t, t->item_timeout);
		f->worker = procpool_run_chunk(t, ident_runs_as(f->owner), id,
		    f->name, t->name, t->star, items, len, c->end - c->start);
	} else {
		/* The thread parses its own copy: the map may end first. */
		t->call.ident = ident_ref(id);
		t->items_len = len + 2;
		t->items = xmalloc(t->items_len);
		t->items[0] = '[';
		memcpy(t->items + 1, items, len);
		t->items[len + 1] = ']';
		threadpool_run(sched.threads, &t->job);
	}
	map_chunk_started(c);
}

static struct future *
sched_item_future(struct queue_item *item)
{
	return item->kind == QUEUE_CHUNK ? map_chunk_future(CHUNK_OF(item)) :
	    FUTURE_OF(item);
}

/* Start the first item of a flow, with the identity it runs as. */
static void
sched_start_item(struct fair *fq, struct fair_flow *fl, struct ident *id)
{
	struct queue_item	*item = fair_take(fq, fl, 1);

	if (item->kind == QUEUE_CHUNK)
		sched_start_chunk(CHUNK_OF(item), fq->executor, fl, id);
	else
		sched_start(FUTURE_OF(item), fl, id);
}

/* An item that can never start: it fails, and its chunk's items with it. */
static void
sched_fail_item(struct queue_item *item, json_t *error)
{
	struct map_chunk	*c;
	struct future		*f;

	if (item->kind == QUEUE_FUTURE) {
		f = FUTURE_OF(item);
		future_start(f);
		future_fail(f, error);
		return;
	}
	c = CHUNK_OF(item);
	map_chunk_started(c);
	map_chunk_fail_all(c, error);
}

/* The owner of a flow's first item. */
static uid_t
sched_flow_owner(struct fair_flow *fl)
{
	return sched_item_future(queue_peek(&fl->items))->owner;
}

/*
 * The credentials the first item of a flow runs with, looked up now:
 * *id is NULL for poold's own. -1 if its owner has no entry in the user
 * database any more (it had one at submit): the item fails instead.
 */
static int
sched_flow_ident(struct fair *fq, struct fair_flow *fl, struct ident **id)
{
	uid_t			 uid = sched_flow_owner(fl);
	struct queue_item	*item;
	char			*why = NULL;

	*id = NULL;
	if (!ident_switches(uid) || (*id = ident_get(uid, &why)) != NULL)
		return 0;
	log_warnx("a task of uid %u cannot start: %s", (unsigned)uid, why);
	item = fair_take(fq, fl, 0);
	sched_fail_item(item, future_error("TaskError", "the task cannot run: "
	    "%s", why));
	free(why);
	return -1;
}

/* Whether the flow's uid runs as many tasks on its executor as it may. */
static int
sched_capped(const struct fair_flow *fl)
{
	long	cap = sched.cfg->max_workers_per_uid;

	return cap > 0 && fl->running >= (unsigned long)cap;
}

/* The workers a uid may take from others: its share of the pool. */
static unsigned
sched_share(const struct fair *fq)
{
	unsigned	active = fair_active(fq) > 0 ? fair_active(fq) : 1;

	return ((unsigned)procpool_size() + active - 1) / active;
}

static void
sched_dispatch_threads(void)
{
	struct fair		*fq = &sched.pending[EXECUTOR_THREAD];
	struct fair_flow	*fl;
	struct ident		*id;

	while (sched_thread_room() > 0 && (fl = fair_first(fq)) != NULL) {
		if (sched_capped(fl)) {
			fair_skip(fq, fl);
			continue;
		}
		/* Only what spawns programs needs the owner's credentials. */
		id = NULL;
		if (sched_item_future(queue_peek(&fl->items))->fn->needs_ident &&
		    sched_flow_ident(fq, fl, &id) == -1)
			continue;
		sched_start_item(fq, fl, id);
		ident_unref(id);
	}
	fair_end_pass(fq);
}

/*
 * The process pool: a flow starts on an idle worker bound to its uid, or
 * on an unbound one (which takes its credentials). A flow with neither
 * waits for a worker already starting, or has one made by retiring an
 * idle worker of another uid, if it holds less than its share.
 */
static void
sched_dispatch_processes(void)
{
	struct fair		*fq = &sched.pending[EXECUTOR_PROCESS];
	struct fair_flow	*fl;
	struct ident		*id;
	const char		*broken;
	int			 coming;
	uid_t			 as;

	if ((broken = procpool_broken()) != NULL && fair_len(fq) > 0) {
		sched_proc_broken(broken);
		return;
	}
	coming = procpool_starting();
	while (procpool_idle() > 0 && (fl = fair_first(fq)) != NULL) {
		as = ident_runs_as(sched_flow_owner(fl));
		if (sched_capped(fl)) {
			fair_skip(fq, fl);
			continue;
		}
		switch (procpool_room(as)) {
		case PROCPOOL_ROOM_BOUND:
			sched_start_item(fq, fl, NULL);
			break;
		case PROCPOOL_ROOM_FREE:
			if (sched_flow_ident(fq, fl, &id) == 0) {
				sched_start_item(fq, fl, id);
				ident_unref(id);
			}
			break;
		case PROCPOOL_ROOM_NONE:
			if (coming > 0)
				coming--;
			else if (fl->running < sched_share(fq))
				procpool_retire_for(as);
			fair_skip(fq, fl);
			break;
		}
	}
	fair_end_pass(fq);
}

static void
sched_dispatch(void)
{
	sched_dispatch_threads();
	sched_dispatch_processes();
}

/*
 * Cancel a future: a pending one always; a running one only with force and
 * where its run can be killed (a worker, a program), never a thread. A map
 * drops what has not started. Returns whether the future is now cancelled.
 */
int
sched_cancel(struct future *f, int force)
{
	int	cancelled;

	if (f->map != NULL) {
		cancelled = map_cancel(f->map, force);
		sched_kick();
		return cancelled;
	}
	if (f->state == FUTURE_PENDING) {
		fair_remove(&sched.pending[f->executor], &f->qitem);
		future_cancel(f);
		sched_check_idle();
		return 1;
	}
	if (f->state == FUTURE_RUNNING && force && f->task != NULL &&
	    (f->executor == EXECUTOR_PROCESS ||
	    ((struct task *)f->task)->handle != NULL)) {
		task_orphan(f->task);
		future_cancel(f);
		sched_kick();
		return 1;
	}
	return f->state == FUTURE_CANCELLED;
}

/* Kill the runs of a cancelled map's chunks (force). */
void
sched_abort_map(struct map *m)
{
	struct task	*t, *next;
	struct map_chunk *c;

	for (t = TAILQ_FIRST(&sched.running); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (t->chunk == NULL || t->future == NULL ||
		    t->future->map != m || t->executor == EXECUTOR_THREAD)
			continue;
		c = t->chunk;
		t->chunk = NULL;
		task_orphan(t);
		map_chunk_dropped(c);
	}
}

void
sched_cancel_pending(void)
{
	struct queue_item	*item;
	struct map_chunk	*c;
	int			 i;

	for (i = 0; i < EXECUTOR_COUNT; i++) {
		while ((item = fair_pop(&sched.pending[i])) != NULL) {
			if (item->kind == QUEUE_FUTURE) {
				future_cancel(FUTURE_OF(item));
				continue;
			}
			c = CHUNK_OF(item);
			map_cancel(map_chunk_map(c), 0);
		}
	}
	sched_check_idle();
}

/* End every running future as Interrupted and tell its task to stop. */
void
sched_interrupt_running(void)
{
	struct task		*t;
	struct future		*f;
	struct map_chunk	*c;

	while ((t = TAILQ_FIRST(&sched.running)) != NULL) {
		f = t->future;
		c = t->chunk;
		t->chunk = NULL;
		task_orphan(t);
		if (c != NULL)
			map_chunk_dropped(c);
		else
			future_fail(f, future_error("Interrupted",
			    "the daemon stopped while the task ran"));
	}
	sched_check_idle();
}

int
sched_size(enum executor e)
{
	return e == EXECUTOR_THREAD ? threadpool_size(sched.threads) :
	    procpool_size();
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

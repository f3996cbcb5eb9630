/*
 * The future store. Futures are found by id through a hash table keyed on
 * the 64-bit id, kept in submission order for list, and, once done, in done
 * order: the TTL is one value for all, so done order is expiry order and
 * one timer for the oldest suffices.
 *
 * Counts are kept for all, and pending and running ones for each uid that
 * has any (a uid's entry goes when both are zero).
 */
#include "autoconf.h"

#include <sys/random.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "fn.h"
#include "future.h"
#include "journal.h"
#include "log.h"
#include "xmalloc.h"

/* A uid's pending and running tasks. */
struct uid_count {
	uid_t		uid;
	unsigned long	pending;
	unsigned long	running;
};

static struct {
	struct future		**buckets;
	size_t			  nbuckets;	/* a power of two */
	uint64_t		  next_id;
	double			  ttl;
	struct event		 *ttl_timer;
	struct future_counts	  counts;
	TAILQ_HEAD(future_list, future) all;
	struct future_list	  done;
	struct uid_count	 *uids;
	size_t			  nuids;
	size_t			  uids_cap;
} store;

static const char *const future_state_names[] = {
	[FUTURE_PENDING] = "pending",
	[FUTURE_RUNNING] = "running",
	[FUTURE_FINISHED] = "finished",
	[FUTURE_FAILED] = "failed",
	[FUTURE_CANCELLED] = "cancelled",
};

static const char *const executor_names[] = {
	[EXECUTOR_THREAD] = "thread",
	[EXECUTOR_PROCESS] = "process",
};

static void	future_ttl_cb(evutil_socket_t, short, void *);
static void	future_free(struct future *);
static void	future_arm_ttl(void);
static unsigned long *future_count_of(enum future_state);

/*
 * Ids start at a random point in a 64-bit space so that an id a client kept
 * from an earlier run of a daemon without a state store does not name a new,
 * unrelated future.
 */
static uint64_t
future_first_id(void)
{
	uint32_t	r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)clock_real();
	return (uint64_t)r << 31;
}

void
future_store_init(struct event_base *base, double ttl)
{
	memset(&store, 0, sizeof store);
	store.nbuckets = 1024;
	store.buckets = xcalloc(store.nbuckets, sizeof *store.buckets);
	store.next_id = future_first_id();
	store.ttl = ttl;
	TAILQ_INIT(&store.all);
	TAILQ_INIT(&store.done);
	if ((store.ttl_timer = evtimer_new(base, future_ttl_cb, NULL)) == NULL)
		fatalx("evtimer_new failed");
}

void
future_store_free(void)
{
	struct future	*f;

	while ((f = TAILQ_FIRST(&store.all)) != NULL) {
		if (future_is_done(f))
			TAILQ_REMOVE(&store.done, f, done_entry);
		TAILQ_REMOVE(&store.all, f, all_entry);
		future_free(f);
	}
	if (store.ttl_timer != NULL)
		event_free(store.ttl_timer);
	free(store.buckets);
	free(store.uids);
	memset(&store, 0, sizeof store);
}

const struct future_counts *
future_store_counts(void)
{
	return &store.counts;
}

static size_t
future_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= UINT64_C(0xff51afd7ed558ccd);
	id ^= id >> 33;
	return (size_t)id & (store.nbuckets - 1);
}

static void
future_hash_grow(void)
{
	struct future	**old = store.buckets, *f, *next;
	size_t		  oldn = store.nbuckets, i, h;

	store.nbuckets *= 2;
	store.buckets = xcalloc(store.nbuckets, sizeof *store.buckets);
	for (i = 0; i < oldn; i++) {
		for (f = old[i]; f != NULL; f = next) {
			next = f->hash_next;
			h = future_hash(f->id);
			f->hash_next = store.buckets[h];
			store.buckets[h] = f;
		}
	}
	free(old);
}

static void
future_hash_remove(struct future *f)
{
	struct future	**pp = &store.buckets[future_hash(f->id)];

	while (*pp != NULL && *pp != f)
		pp = &(*pp)->hash_next;
	if (*pp == f)
		*pp = f->hash_next;
}

/*
 * A new pending future, not yet in the store: its id is taken and it
 * counts as pending, so limits and a graceful stop see it while its record
 * goes to the journal. Takes the references to args and kwargs.
 */
struct future *
future_alloc(uid_t owner, const struct fn *fn, json_t *args, json_t *kwargs,
    enum executor executor)
{
	struct future	*f = xcalloc(1, sizeof *f);

	f->id = store.next_id++;
	snprintf(f->name, sizeof f->name, "f-%016" PRIx64, f->id);
	f->owner = owner;
	f->fn = fn;
	f->args = args;
	f->kwargs = kwargs;
	f->executor = executor;
	f->state = FUTURE_PENDING;
	f->submitted = clock_real();
	f->timeout = -1;
	f->qitem.seq = f->id;
	TAILQ_INIT(&f->watches);
	store.counts.submitted++;
	future_count_move(f, FUTURE_STATE_COUNT, FUTURE_PENDING, 1);
	return f;
}

/* Put an allocated future in the store, where everyone can find it. */
void
future_insert(struct future *f)
{
	size_t	h;

	if (store.counts.stored >= store.nbuckets)
		future_hash_grow();
	h = future_hash(f->id);
	f->hash_next = store.buckets[h];
	store.buckets[h] = f;
	TAILQ_INSERT_TAIL(&store.all, f, all_entry);
	store.counts.stored++;
}

/* An allocated future that will never be: its counts go, then it. */
void
future_discard(struct future *f)
{
	size_t	n = f->is_map ? f->items : 1;

	store.counts.submitted -= n;
	future_count_move(f, FUTURE_PENDING, FUTURE_STATE_COUNT, n);
	future_free(f);
}

/* A new pending future in the store; takes the references. */
struct future *
future_new(uid_t owner, const struct fn *fn, json_t *args, json_t *kwargs,
    enum executor executor)
{
	struct future	*f = future_alloc(owner, fn, args, kwargs, executor);

	future_insert(f);
	return f;
}

/*
 * A future from the journal, in its state, put in the store without a
 * record of its own; a done one expires at the monotonic time given. Call
 * in id order: the store keeps submission order.
 */
void
future_restore(struct future *f, double expires)
{
	struct future	*g;
	size_t		 n = f->is_map ? f->items : 1;

	snprintf(f->name, sizeof f->name, "f-%016" PRIx64, f->id);
	f->qitem.seq = f->id;
	TAILQ_INIT(&f->watches);
	future_insert(f);
	store.counts.submitted += n;
	future_count_move(f, FUTURE_STATE_COUNT, f->state, n);
	if (!future_is_done(f))
		return;
	/* Done order is expiry order; restored ones come mostly in it. */
	f->expires = expires;
	g = TAILQ_LAST(&store.done, future_list);
	while (g != NULL && g->expires > expires)
		g = TAILQ_PREV(g, future_list, done_entry);
	if (g == NULL)
		TAILQ_INSERT_HEAD(&store.done, f, done_entry);
	else
		TAILQ_INSERT_AFTER(&store.done, g, f, done_entry);
	if (TAILQ_FIRST(&store.done) == f)
		future_arm_ttl();
}

/* Any future by its id, whoever owns it. */
struct future *
future_find(uint64_t id)
{
	struct future	*f;

	for (f = store.buckets[future_hash(id)]; f != NULL; f = f->hash_next) {
		if (f->id == id)
			return f;
	}
	return NULL;
}

uint64_t
future_next_id(void)
{
	return store.next_id;
}

/* Continue a sequence of ids the journal kept. */
void
future_set_next_id(uint64_t id)
{
	store.next_id = id;
}

static int
future_parse_id(const char *name, uint64_t *id)
{
	size_t	i;

	if (strncmp(name, "f-", 2) != 0 || strlen(name) != 18)
		return -1;
	*id = 0;
	for (i = 2; i < 18; i++) {
		char	c = name[i];

		if (c >= '0' && c <= '9')
			*id = *id << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*id = *id << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/*
 * Find a future as the given uid sees it: another uid's future is as absent
 * as one that never existed, unless the caller is an admin.
 */
struct future *
future_lookup(const char *name, uid_t uid, int admin)
{
	struct future	*f;
	uint64_t	 id;

	if (future_parse_id(name, &id) == -1)
		return NULL;
	for (f = store.buckets[future_hash(id)]; f != NULL; f = f->hash_next) {
		if (f->id == id)
			return admin || f->owner == uid ? f : NULL;
	}
	return NULL;
}

struct future *
future_newest(void)
{
	return TAILQ_LAST(&store.all, future_list);
}

struct future *
future_older(struct future *f)
{
	return TAILQ_PREV(f, future_list, all_entry);
}

/* The name the future was submitted with, where its function's differs. */
void
future_set_fn_name(struct future *f, const char *name)
{
	free(f->fn_name);
	f->fn_name = strcmp(name, f->fn->name) != 0 ? xstrdup(name) : NULL;
}

/* The name it runs by: its function's, or one under a prefix function. */
const char *
future_fn_name(const struct future *f)
{
	return f->fn_name != NULL ? f->fn_name : f->fn->name;
}

/* The future object of the protocol; with_result adds result or error. */
json_t *
future_to_json(const struct future *f, int with_result)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:s, s:f}", "future", f->name,
	    "fn", future_fn_name(f), "executor", executor_name(f->executor),
	    "state", future_state_name(f->state), "submitted", f->submitted);
	if (o == NULL)
		fatalx("json_pack failed");
	if (f->started > 0)
		json_object_set_new(o, "started", json_real(f->started));
	if (f->finished > 0)
		json_object_set_new(o, "finished", json_real(f->finished));
	if (f->worker > 0)
		json_object_set_new(o, "worker", json_integer(f->worker));
	if (f->is_map) {
		json_object_set_new(o, "items", json_integer((json_int_t)
		    f->items));
		json_object_set_new(o, "done", json_integer((json_int_t)
		    f->items_done));
	}
	json_object_set_new(o, "attempts", json_integer(f->attempts));
	if (with_result && f->state == FUTURE_FINISHED)
		json_object_set_new(o, "result", future_result(f));
	if (f->state == FUTURE_FAILED)
		json_object_set(o, "error", f->error);
	return o;
}

void
future_start(struct future *f)
{
	if (f->state == FUTURE_PENDING && !f->is_map)
		future_count_move(f, FUTURE_PENDING, FUTURE_RUNNING, 1);
	f->state = FUTURE_RUNNING;
	f->started = clock_real();
	f->attempts++;
	journal_started(f);
}

/* A running future goes back to pending for another attempt. */
void
future_requeue(struct future *f)
{
	if (f->state == FUTURE_RUNNING)
		future_count_move(f, FUTURE_RUNNING, FUTURE_PENDING, 1);
	f->state = FUTURE_PENDING;
	f->worker = 0;
	f->task = NULL;
}

static void
future_arm_ttl(void)
{
	struct future	*oldest = TAILQ_FIRST(&store.done);
	struct timeval	 tv;

	if (oldest == NULL) {
		evtimer_del(store.ttl_timer);
		return;
	}
	tv = clock_timeval(oldest->expires - clock_mono());
	evtimer_add(store.ttl_timer, &tv);
}

/* Move a future to a done state and tell everyone who waits on it. */
static void
future_done(struct future *f, enum future_state state)
{
	struct future_watch	*w;

	/* A map's items are counted one by one, by the map. */
	if (!f->is_map)
		future_count_move(f, f->state, state, 1);
	f->state = state;
	f->finished = clock_real();
	f->expires = clock_mono() + store.ttl;
	f->task = NULL;
	TAILQ_INSERT_TAIL(&store.done, f, done_entry);
	if (TAILQ_FIRST(&store.done) == f)
		future_arm_ttl();
	journal_ended(f);

	/* A callback may detach other watches; take each off first. */
	while ((w = TAILQ_FIRST(&f->watches)) != NULL) {
		TAILQ_REMOVE(&f->watches, w, entry);
		w->future = NULL;
		w->cb(w, f);
	}
}

void
future_finish(struct future *f, json_t *result)
{
	f->result = result;
	future_done(f, FUTURE_FINISHED);
}

/*
 * Finish with a result that is already JSON text (taken): a map's
 * results, spliced from its workers' answers, are never built as values
 * only to be encoded again.
 */
void
future_finish_text(struct future *f, char *text, size_t len)
{
	f->result_text = text;
	f->result_len = len;
	future_done(f, FUTURE_FINISHED);
}

/* A finished future's result as a value (a new reference). */
json_t *
future_result(const struct future *f)
{
	json_t		*v;
	json_error_t	 err;

	if (f->result != NULL || f->result_text == NULL)
		return json_incref(f->result);
	v = json_loadb(f->result_text, f->result_len, JSON_DECODE_ANY |
	    JSON_ALLOW_NUL, &err);
	if (v == NULL)
		fatalx("future %s: its result text does not parse: %s",
		    f->name, err.text);
	return v;
}

void
future_fail(struct future *f, json_t *error)
{
	f->error = error;
	future_done(f, FUTURE_FAILED);
}

void
future_cancel(struct future *f)
{
	future_done(f, FUTURE_CANCELLED);
}

static void
future_free(struct future *f)
{
	struct future_watch	*w;

	while ((w = TAILQ_FIRST(&f->watches)) != NULL)
		future_unwatch(w);
	json_decref(f->args);
	json_decref(f->kwargs);
	json_decref(f->result);
	free(f->result_text);
	json_decref(f->error);
	free(f->fn_name);
	free(f);
}

/* A uid's counts, made if need be. */
static struct uid_count *
future_uid_count(uid_t uid)
{
	size_t	i;

	for (i = 0; i < store.nuids; i++) {
		if (store.uids[i].uid == uid)
			return &store.uids[i];
	}
	if (store.nuids == store.uids_cap) {
		store.uids_cap = store.uids_cap == 0 ? 16 : store.uids_cap * 2;
		store.uids = xreallocarray(store.uids, store.uids_cap,
		    sizeof *store.uids);
	}
	store.uids[store.nuids] = (struct uid_count){ uid, 0, 0 };
	return &store.uids[store.nuids++];
}

/* Move n of f's owner's tasks from one state to another. */
static void
future_uid_move(uid_t uid, enum future_state from, enum future_state to,
    size_t n)
{
	struct uid_count	*u;

	if (from != FUTURE_PENDING && from != FUTURE_RUNNING &&
	    to != FUTURE_PENDING && to != FUTURE_RUNNING)
		return;
	u = future_uid_count(uid);
	if (from == FUTURE_PENDING)
		u->pending -= n;
	else if (from == FUTURE_RUNNING)
		u->running -= n;
	if (to == FUTURE_PENDING)
		u->pending += n;
	else if (to == FUTURE_RUNNING)
		u->running += n;
	if (u->pending == 0 && u->running == 0)
		*u = store.uids[--store.nuids];
}

static int
future_uid_cmp(const void *a, const void *b)
{
	uid_t	x = ((const struct uid_count *)a)->uid;
	uid_t	y = ((const struct uid_count *)b)->uid;

	return x < y ? -1 : x > y;
}

/* [{"uid": u, "pending": n, "running": n}, ...] by uid, for stats. */
json_t *
future_uid_counts(void)
{
	json_t	*list = json_array();
	size_t	 i;

	if (store.nuids > 1)
		qsort(store.uids, store.nuids, sizeof *store.uids,
		    future_uid_cmp);
	for (i = 0; i < store.nuids; i++)
		json_array_append_new(list, json_pack("{s:I, s:I, s:I}",
		    "uid", (json_int_t)store.uids[i].uid,
		    "pending", (json_int_t)store.uids[i].pending,
		    "running", (json_int_t)store.uids[i].running));
	return list;
}

/* The count of a state; FUTURE_STATE_COUNT stands for none (a new one). */
static unsigned long *
future_count_of(enum future_state state)
{
	static unsigned long	none;

	switch (state) {
	case FUTURE_PENDING:
		return &store.counts.pending;
	case FUTURE_RUNNING:
		return &store.counts.running;
	case FUTURE_FINISHED:
		return &store.counts.finished;
	case FUTURE_FAILED:
		return &store.counts.failed;
	case FUTURE_CANCELLED:
		return &store.counts.cancelled;
	default:
		none = 0;
		return &none;
	}
}

/* Move n of f's tasks (a map's: its items) from one state to another. */
void
future_count_move(struct future *f, enum future_state from,
    enum future_state to, size_t n)
{
	*future_count_of(from) -= n;
	*future_count_of(to) += n;
	future_uid_move(f->owner, from, to, n);
}

/* A map future counts its items, not itself. */
void
future_count_items(struct future *f, size_t n)
{
	store.counts.submitted += n;
	store.counts.submitted--;
	future_count_move(f, FUTURE_PENDING, FUTURE_STATE_COUNT, 1);
	future_count_move(f, FUTURE_STATE_COUNT, FUTURE_PENDING, n);
	f->items = n;
	f->is_map = 1;
}

/* Drop a done future and its result. */
void
future_forget(struct future *f)
{
	int	was_oldest = TAILQ_FIRST(&store.done) == f;

	/* A map's running chunks still point at it: it goes when they end. */
	if (!future_is_done(f) || f->map != NULL)
		return;
	journal_dropped(f);
	TAILQ_REMOVE(&store.done, f, done_entry);
	TAILQ_REMOVE(&store.all, f, all_entry);
	future_hash_remove(f);
	store.counts.stored--;
	future_free(f);
	if (was_oldest)
		future_arm_ttl();
}

void
future_store_set_ttl(double ttl)
{
	store.ttl = ttl;
}

static void
future_ttl_cb(evutil_socket_t fd, short events, void *arg)
{
	struct future	*f;
	double		 now = clock_mono();

	while ((f = TAILQ_FIRST(&store.done)) != NULL && f->expires <= now) {
		if (f->map != NULL) {
			/* Chunks of it still run: look again in a second. */
			TAILQ_REMOVE(&store.done, f, done_entry);
			f->expires = now + 1;
			TAILQ_INSERT_TAIL(&store.done, f, done_entry);
			if (TAILQ_FIRST(&store.done) == f)
				break;
			continue;
		}
		log_debug("%s expired", f->name);
		journal_dropped(f);
		TAILQ_REMOVE(&store.done, f, done_entry);
		TAILQ_REMOVE(&store.all, f, all_entry);
		future_hash_remove(f);
		store.counts.stored--;
		future_free(f);
	}
	future_arm_ttl();
}

/* Call cb once, when f is done. f must not be done yet. */
void
future_watch(struct future *f, struct future_watch *w, future_watch_cb cb,
    void *arg)
{
	w->cb = cb;
	w->arg = arg;
	w->future = f;
	TAILQ_INSERT_TAIL(&f->watches, w, entry);
}

void
future_unwatch(struct future_watch *w)
{
	if (w->future == NULL)
		return;
	TAILQ_REMOVE(&w->future->watches, w, entry);
	w->future = NULL;
}

/* A task error object: {"type": ..., "message": ...}. */
json_t *
future_error(const char *type, const char *fmt, ...)
{
	char	msg[1024];
	va_list	ap;
	json_t	*e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* A message cut inside a UTF-8 sequence is not a JSON string. */
	if ((e = json_pack("{s:s, s:s}", "type", type, "message", msg)) == NULL)
		e = json_pack("{s:s, s:s}", "type", type, "message",
		    "(the message was not valid UTF-8)");
	if (e == NULL)
		fatalx("json_pack failed");
	return e;
}

const char *
future_state_name(enum future_state s)
{
	return future_state_names[s];
}

int
future_state_parse(const char *name, enum future_state *out)
{
	int	i;

	for (i = 0; i < FUTURE_STATE_COUNT; i++) {
		if (strcmp(future_state_names[i], name) == 0) {
			*out = (enum future_state)i;
			return 0;
		}
	}
	return -1;
}

const char *
executor_name(enum executor e)
{
	return executor_names[e];
}

int
executor_parse(const char *name, enum executor *out)
{
	int	i;

	for (i = 0; i < EXECUTOR_COUNT; i++) {
		if (strcmp(executor_names[i], name) == 0) {
			*out = (enum executor)i;
			return 0;
		}
	}
	return -1;
}

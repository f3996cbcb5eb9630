/*
 * Flows: each uid's pending work on an executor, and the order in which
 * the uids take turns. A uid's record lives while a connection of it is
 * open or any work of it is queued or running; then it goes, so uids
 * that come and go leave nothing behind.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdlib.h>

#include "fair.h"
#include "xmalloc.h"

static LIST_HEAD(, fair_user)	users = LIST_HEAD_INITIALIZER(users);

#define FLOW_OF(q) \
	((struct fair_flow *)((char *)(q) - offsetof(struct fair_flow, items)))

void
fair_init(struct fair *fq, enum executor e)
{
	fq->executor = e;
	queue_init(&fq->order);
	fq->vtime = 0;
	fq->len = 0;
	fq->active = 0;
	TAILQ_INIT(&fq->skipped);
}

/* The flows' work belongs to the scheduler, which has dropped it. */
void
fair_free(struct fair *fq)
{
	queue_free(&fq->order);
}

static struct fair_user *
fair_user_find(uid_t uid)
{
	struct fair_user	*u;

	LIST_FOREACH(u, &users, entry) {
		if (u->uid == uid)
			return u;
	}
	return NULL;
}

static struct fair_user *
fair_user_make(uid_t uid)
{
	struct fair_user	*u;
	int			 e;

	if ((u = fair_user_find(uid)) != NULL)
		return u;
	u = xcalloc(1, sizeof *u);
	u->uid = uid;
	for (e = 0; e < EXECUTOR_COUNT; e++) {
		u->flows[e].user = u;
		queue_init(&u->flows[e].items);
	}
	LIST_INSERT_HEAD(&users, u, entry);
	return u;
}

/* Free a uid's record once nothing holds it. */
static void
fair_user_maybe_free(struct fair_user *u)
{
	int	e;

	if (u->refs > 0)
		return;
	for (e = 0; e < EXECUTOR_COUNT; e++) {
		if (queue_len(&u->flows[e].items) > 0 ||
		    u->flows[e].running > 0 || u->flows[e].skipped)
			return;
	}
	LIST_REMOVE(u, entry);
	for (e = 0; e < EXECUTOR_COUNT; e++)
		queue_free(&u->flows[e].items);
	free(u);
}

/* A connection of uid holds its record. */
struct fair_user *
fair_user_get(uid_t uid)
{
	struct fair_user	*u = fair_user_make(uid);

	u->refs++;
	return u;
}

void
fair_user_put(struct fair_user *u)
{
	if (u == NULL)
		return;
	u->refs--;
	fair_user_maybe_free(u);
}

/* The tag of uid's work that started last (0: none known). */
uint64_t
fair_user_vtime(uid_t uid)
{
	struct fair_user	*u = fair_user_find(uid);

	return u != NULL ? u->vtime : 0;
}

/* Put a flow in its place among the others, after a change at its head. */
static void
fair_place(struct fair *fq, struct fair_flow *fl)
{
	if (fl->skipped)
		return;
	queue_remove(&fq->order, &fl->qitem);
	if (queue_len(&fl->items) == 0)
		return;
	fl->qitem.priority = queue_peek(&fl->items)->priority;
	queue_push(&fq->order, &fl->qitem);
}

/* The next start tag of a flow that has work again, or that just started. */
static void
fair_retag(struct fair *fq, struct fair_flow *fl)
{
	fl->qitem.seq = (fl->last > fq->vtime ? fl->last : fq->vtime) + 1;
}

/* Queue uid's item in its flow. */
void
fair_push(struct fair *fq, uid_t uid, struct queue_item *item)
{
	struct fair_user	*u = fair_user_make(uid);
	struct fair_flow	*fl = &u->flows[fq->executor];

	fl->fair = fq;
	if (queue_len(&fl->items) == 0) {
		if (fl->running == 0)
			fq->active++;
		fair_retag(fq, fl);
	}
	queue_push(&fl->items, item);
	fq->len++;
	fair_place(fq, fl);
}

/* A flow has no work queued now: it leaves the order. */
static void
fair_drained(struct fair *fq, struct fair_flow *fl)
{
	if (!fl->skipped)
		queue_remove(&fq->order, &fl->qitem);
	if (fl->running == 0)
		fq->active--;
	fair_user_maybe_free(fl->user);
}

/* Take a queued item out (a cancel); one not queued is left alone. */
void
fair_remove(struct fair *fq, struct queue_item *item)
{
	struct fair_flow	*fl;

	if (item->queue == NULL)
		return;
	fl = FLOW_OF(item->queue);
	queue_remove(&fl->items, item);
	fq->len--;
	if (queue_len(&fl->items) == 0)
		fair_drained(fq, fl);
	else
		fair_place(fq, fl);
}

/* Take out the first item in the order, to drop it (every flow's, in turn). */
struct queue_item *
fair_pop(struct fair *fq)
{
	struct queue_item	*qi = queue_peek(&fq->order), *item;

	if (qi == NULL)
		return NULL;
	item = queue_peek(&((struct fair_flow *)((char *)qi -
	    offsetof(struct fair_flow, qitem)))->items);
	fair_remove(fq, item);
	return item;
}

/* The flow whose turn it is, among those not set aside in this pass. */
struct fair_flow *
fair_first(struct fair *fq)
{
	struct queue_item	*qi = queue_peek(&fq->order);

	if (qi == NULL)
		return NULL;
	return (struct fair_flow *)((char *)qi - offsetof(struct fair_flow,
	    qitem));
}

/* The flow cannot start now: set it aside for the rest of the pass. */
void
fair_skip(struct fair *fq, struct fair_flow *fl)
{
	queue_remove(&fq->order, &fl->qitem);
	fl->skipped = 1;
	TAILQ_INSERT_TAIL(&fq->skipped, fl, skip_entry);
}

/* The pass is over: what was set aside takes its place again, tag kept. */
void
fair_end_pass(struct fair *fq)
{
	struct fair_flow	*fl;

	while ((fl = TAILQ_FIRST(&fq->skipped)) != NULL) {
		TAILQ_REMOVE(&fq->skipped, fl, skip_entry);
		fl->skipped = 0;
		fair_place(fq, fl);
		fair_user_maybe_free(fl->user);
	}
}

/*
 * Take the flow's first item. With start, it starts now: the flow's turn
 * is used, its work counts as running until fair_done, and its next turn
 * is tagged after this one. Without, it is only dropped (it cannot run).
 */
struct queue_item *
fair_take(struct fair *fq, struct fair_flow *fl, int start)
{
	struct queue_item	*item = queue_pop(&fl->items);

	fq->len--;
	if (start) {
		fl->last = fl->qitem.seq;
		if (fl->last > fq->vtime)
			fq->vtime = fl->last;
		if (item->seq > fl->user->vtime)
			fl->user->vtime = item->seq;
		fl->running++;
		if (queue_len(&fl->items) > 0)
			fair_retag(fq, fl);
	}
	if (queue_len(&fl->items) == 0)
		fair_drained(fq, fl);
	else
		fair_place(fq, fl);
	return item;
}

/* Work that fair_take started has ended. */
void
fair_done(struct fair_flow *fl)
{
	struct fair	*fq = fl->fair;

	fl->running--;
	if (fl->running == 0 && queue_len(&fl->items) == 0) {
		fq->active--;
		fair_user_maybe_free(fl->user);
	}
}

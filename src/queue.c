/* A binary heap; index 0 is unused so that a parent is i / 2. */
#include "autoconf.h"

#include <stdlib.h>

#include "queue.h"
#include "xmalloc.h"

void
queue_init(struct queue *q)
{
	q->heap = NULL;
	q->len = q->cap = 0;
	q->pushes = 0;
}

void
queue_free(struct queue *q)
{
	free(q->heap);
	queue_init(q);
}

/* Whether a runs before b. */
static int
queue_before(const struct queue_item *a, const struct queue_item *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	return a->order < b->order;
}

static void
queue_place(struct queue *q, size_t i, struct queue_item *item)
{
	q->heap[i] = item;
	item->index = i;
}

static void
queue_sift_up(struct queue *q, size_t i)
{
	struct queue_item	*item = q->heap[i];

	while (i > 1 && queue_before(item, q->heap[i / 2])) {
		queue_place(q, i, q->heap[i / 2]);
		i /= 2;
	}
	queue_place(q, i, item);
}

static void
queue_sift_down(struct queue *q, size_t i)
{
	struct queue_item	*item = q->heap[i];
	size_t			 child;

	while ((child = 2 * i) <= q->len) {
		if (child < q->len &&
		    queue_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!queue_before(q->heap[child], item))
			break;
		queue_place(q, i, q->heap[child]);
		i = child;
	}
	queue_place(q, i, item);
}

void
queue_push(struct queue *q, struct queue_item *item)
{
	if (q->len + 1 >= q->cap) {
		q->cap = q->cap == 0 ? 64 : q->cap * 2;
		q->heap = xreallocarray(q->heap, q->cap, sizeof *q->heap);
	}
	q->len++;
	item->order = q->pushes++;
	item->queue = q;
	queue_place(q, q->len, item);
	queue_sift_up(q, q->len);
}

struct queue_item *
queue_peek(const struct queue *q)
{
	return q->len == 0 ? NULL : q->heap[1];
}

struct queue_item *
queue_pop(struct queue *q)
{
	struct queue_item	*top;

	if (q->len == 0)
		return NULL;
	top = q->heap[1];
	queue_remove(q, top);
	return top;
}

void
queue_remove(struct queue *q, struct queue_item *item)
{
	size_t			 i = item->index;
	struct queue_item	*last;

	if (i == 0 || i > q->len || q->heap[i] != item)
		return;
	last = q->heap[q->len--];
	item->index = 0;
	item->queue = NULL;
	if (last == item)
		return;
	queue_place(q, i, last);
	if (i > 1 && queue_before(last, q->heap[i / 2]))
		queue_sift_up(q, i);
	else
		queue_sift_down(q, i);
}

int
queue_contains(const struct queue_item *item)
{
	return item->index != 0;
}

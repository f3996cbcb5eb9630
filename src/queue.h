/*
 * A priority queue of pending work: higher priority first, equal
 * priorities in submission order. Items are embedded in their owners and
 * know their own place, so removing one (a cancel) is O(log n).
 */
#ifndef POOLD_QUEUE_H
#define POOLD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

struct queue_item {
	int64_t		 priority;
	uint64_t	 seq;		/* order among equal priorities */
	uint64_t	 order;		/* order among equal seqs: set by push */
	size_t		 index;		/* place in the heap; 0: not queued */
	int		 kind;		/* the owner's: what the item is */
	struct queue	*queue;		/* the queue it is in, or NULL */
};

struct queue {
	struct queue_item	**heap;	/* heap[1..len] */
	size_t			  len;
	size_t			  cap;
	uint64_t		  pushes;
};

void			 queue_init(struct queue *);
void			 queue_free(struct queue *);
void			 queue_push(struct queue *, struct queue_item *);
struct queue_item	*queue_peek(const struct queue *);
struct queue_item	*queue_pop(struct queue *);
void			 queue_remove(struct queue *, struct queue_item *);
int			 queue_contains(const struct queue_item *);

static inline size_t
queue_len(const struct queue *q)
{
	return q->len;
}

#endif

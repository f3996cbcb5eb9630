/*
 * Fair shares between uids. An executor's pending work is one queue per
 * uid (a flow), and the flows take turns by start-time fair queueing:
 * each flow's next start is tagged from the later of its own last start
 * and the tag of the flow that started last, and the flow with the
 * lowest tag goes first (higher priority still goes before any tag). So
 * a uid with much queued takes one turn in the time a uid with a little
 * takes one, however many connections either uses.
 *
 * Within a flow, items keep the order the scheduler gave them (priority,
 * then the connections' own fair tags). The scheduler walks the flows in
 * a pass: a flow that cannot start now (its uid is at its cap, or has no
 * worker) is set aside, keeping its tag, and comes back at the pass's end.
 */
#ifndef POOLD_FAIR_H
#define POOLD_FAIR_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include "future.h"
#include "queue.h"

struct fair;
struct fair_user;

struct fair_flow {
	struct fair		*fair;
	struct fair_user	*user;
	struct queue		 items;		/* the uid's pending work */
	struct queue_item	 qitem;		/* its place among the flows */
	uint64_t		 last;		/* the tag of its last start */
	unsigned		 running;	/* started, not ended */
	int			 skipped;	/* set aside in this pass */
	TAILQ_ENTRY(fair_flow)	 skip_entry;
};

/* One uid: a flow per executor, and its connections' virtual time. */
struct fair_user {
	uid_t			 uid;
	unsigned		 refs;		/* connections */
	uint64_t		 vtime;		/* its last start's tag */
	struct fair_flow	 flows[EXECUTOR_COUNT];
	LIST_ENTRY(fair_user)	 entry;
};

struct fair {
	enum executor		 executor;
	struct queue		 order;		/* flows with work */
	uint64_t		 vtime;		/* the last start's tag */
	size_t			 len;		/* items queued */
	unsigned		 active;	/* flows queued or running */
	TAILQ_HEAD(, fair_flow)	 skipped;
};

void			 fair_init(struct fair *, enum executor);
void			 fair_free(struct fair *);
struct fair_user	*fair_user_get(uid_t);
void			 fair_user_put(struct fair_user *);
uint64_t		 fair_user_vtime(uid_t);
void			 fair_push(struct fair *, uid_t, struct queue_item *);
void			 fair_remove(struct fair *, struct queue_item *);
struct queue_item	*fair_pop(struct fair *);
struct fair_flow	*fair_first(struct fair *);
void			 fair_skip(struct fair *, struct fair_flow *);
void			 fair_end_pass(struct fair *);
struct queue_item	*fair_take(struct fair *, struct fair_flow *, int);
void			 fair_done(struct fair_flow *);

static inline size_t
fair_len(const struct fair *fq)
{
	return fq->len;
}

static inline unsigned
fair_active(const struct fair *fq)
{
	return fq->active;
}

#endif

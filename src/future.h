/*
 * The future store: every future the daemon knows, by id, with its owner,
 * its state and its result. Waiters attach a future_watch and are called
 * once when the future is done. Done futures are dropped after the result
 * TTL or when forgotten. All of it lives on the loop thread.
 */
#ifndef POOLD_FUTURE_H
#define POOLD_FUTURE_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>

#include <jansson.h>

#include "queue.h"

struct event_base;
struct fn;
struct map;

enum executor {
	EXECUTOR_THREAD,
	EXECUTOR_PROCESS,
};
#define EXECUTOR_COUNT 2

enum future_state {
	FUTURE_PENDING,
	FUTURE_RUNNING,
	FUTURE_FINISHED,
	FUTURE_FAILED,
	FUTURE_CANCELLED,
};
#define FUTURE_STATE_COUNT 5

struct future;
struct future_watch;
typedef void (*future_watch_cb)(struct future_watch *, struct future *);

struct future_watch {
	future_watch_cb			 cb;
	void				*arg;
	struct future			*future;	/* NULL: not attached */
	TAILQ_ENTRY(future_watch)	 entry;
};

struct future {
	uint64_t			 id;
	char				 name[20];	/* "f-" and 16 hex */
	uid_t				 owner;
	const struct fn			*fn;
	char				*fn_name;	/* NULL: fn->name */
	json_t				*args;
	json_t				*kwargs;
	enum executor			 executor;
	enum future_state		 state;
	double				 submitted;
	double				 started;	/* 0: not yet */
	double				 finished;	/* 0: not yet */
	double				 timeout;	/* < 0: none */
	long				 retries;	/* attempts left to add */
	unsigned			 attempts;
	pid_t				 worker;	/* 0: none */
	json_t				*result;	/* NULL: in result_text */
	char				*result_text;	/* the result's JSON */
	size_t				 result_len;
	json_t				*error;
	struct queue_item		 qitem;
	void				*task;		/* the running attempt */
	int				 is_map;
	struct map			*map;		/* a map's, while it runs */
	size_t				 items;		/* a map's */
	size_t				 items_done;
	double				 expires;	/* monotonic, when done */
	size_t				 jbytes;	/* its journal records' */

	TAILQ_HEAD(, future_watch)	 watches;
	TAILQ_ENTRY(future)		 all_entry;	/* submission order */
	TAILQ_ENTRY(future)		 done_entry;	/* done order */
	struct future			*hash_next;
};

struct future_counts {
	unsigned long	submitted;
	unsigned long	finished;
	unsigned long	failed;
	unsigned long	cancelled;
	unsigned long	pending;	/* now */
	unsigned long	running;	/* now */
	unsigned long	stored;		/* now */
};

void		 future_store_init(struct event_base *, double);
void		 future_store_free(void);
void		 future_store_set_ttl(double);
const struct future_counts *future_store_counts(void);

struct future	*future_new(uid_t, const struct fn *, json_t *, json_t *,
		     enum executor);
struct future	*future_alloc(uid_t, const struct fn *, json_t *, json_t *,
		     enum executor);
void		 future_insert(struct future *);
void		 future_discard(struct future *);
void		 future_restore(struct future *, double);
struct future	*future_find(uint64_t);
uint64_t	 future_next_id(void);
void		 future_set_next_id(uint64_t);
struct future	*future_lookup(const char *, uid_t, int);
struct future	*future_newest(void);
struct future	*future_older(struct future *);
json_t		*future_to_json(const struct future *, int);
void		 future_set_fn_name(struct future *, const char *);
const char	*future_fn_name(const struct future *);

void		 future_start(struct future *);
void		 future_requeue(struct future *);
void		 future_finish(struct future *, json_t *);
void		 future_finish_text(struct future *, char *, size_t);
json_t		*future_result(const struct future *);
void		 future_fail(struct future *, json_t *);
void		 future_cancel(struct future *);
void		 future_forget(struct future *);
void		 future_count_items(struct future *, size_t);
void		 future_count_move(struct future *, enum future_state,
		     enum future_state, size_t);
json_t		*future_uid_counts(void);

void		 future_watch(struct future *, struct future_watch *,
		     future_watch_cb, void *);
void		 future_unwatch(struct future_watch *);

json_t		*future_error(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
const char	*future_state_name(enum future_state);
int		 future_state_parse(const char *, enum future_state *);
const char	*executor_name(enum executor);
int		 executor_parse(const char *, enum executor *);

static inline int
future_is_done(const struct future *f)
{
	return f->state >= FUTURE_FINISHED;
}

#endif

/*
 * The state directory's journal: every future accepted, and every change
 * of its state, recorded so that a daemon started on the same directory
 * takes up where the last one was. It sits under the future store: the
 * store calls it as futures start, end and go, and a new future becomes
 * visible (its id answered) only once its record is as durable as the
 * setting promises:
 *
 *   fsync   written and synced to the disk (fdatasync); the records that
 *           arrive while one sync runs share the next
 *   batch   written to the file (it survives the daemon's death); a sync
 *           follows within 5 ms
 *   off     nothing waits; records are written as the writer gets to
 *           them and synced only on a clean stop and by compaction
 *
 * Without a state directory every call here costs a test and nothing else.
 * All of it runs on the loop thread; the file I/O is journal-writer.c's.
 */
#ifndef POOLD_JOURNAL_H
#define POOLD_JOURNAL_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;
struct event_base;
struct future;

enum journal_status {
	JOURNAL_OK,		/* the record is durable as promised */
	JOURNAL_FAILED,		/* it could not be written: no future */
	JOURNAL_CLOSED,		/* the daemon is exiting: free, answer nothing */
};

typedef void (*journal_cb)(void *, enum journal_status);

/* A new future's wait for its record; the waiter owns it. */
struct journal_wait {
	uint64_t			 lsn;
	uint64_t			 id;
	journal_cb			 cb;
	void				*arg;
	char				*rec;	/* its record, for a snapshot */
	size_t				 rec_len;
	TAILQ_ENTRY(journal_wait)	 entry;
};

/* What a map's record holds besides the future's own fields. */
struct journal_map {
	size_t		 nitems;
	int		 star;
	size_t		 chunksize;
	int		 stream;	/* its items are not recorded */
	const char	*text;		/* the items' JSON array, or NULL */
	size_t		 text_len;
	json_t		*items;		/* used when text is NULL */
};

int	journal_open(const struct config *, char **);
void	journal_start(struct event_base *);
void	journal_close(void);
int	journal_waits(void);
int	journal_failing(void);
void	journal_accept(struct future *, const struct journal_map *,
	    struct journal_wait *, journal_cb, void *);
void	journal_started(const struct future *);
void	journal_ended(struct future *);
void	journal_dropped(const struct future *);

#endif

/*
 * Replay: the journal's records folded into one entry per future, with
 * what the last of them says. The rules make records idempotent, so a
 * compacted journal (a snapshot taken while the daemon ran, then the
 * records of that time) reads right: a second ACCEPT of an id is ignored,
 * a START counts only if it is not older than what is known and the
 * future is not done, an END only if the future is not done yet, and a
 * DROP removes the future for good.
 */
#ifndef POOLD_JOURNAL_REPLAY_H
#define POOLD_JOURNAL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct journal_rec;

struct journal_entry {
	uint64_t	 id;
	json_t		*accept;	/* the ACCEPT body */
	json_t		*end;		/* the END body; NULL: not done */
	size_t		 bytes;		/* of its ACCEPT and END records */
	double		 started;	/* of the START that counts */
	unsigned	 attempts;
	long		 retries;	/* left */
	int		 running;	/* a START and no END after it */
	int		 dropped;
};

struct journal_replay {
	struct journal_entry	*entries;
	size_t			 n;
	size_t			 cap;
	size_t			*slots;		/* entry index + 1; 0: free */
	size_t			 nslots;	/* a power of two */
	uint64_t		 next_id;	/* no id below it is free */
	size_t			 records;	/* applied */
	size_t			 skipped;	/* good CRC, unusable content */
};

void	journal_replay_init(struct journal_replay *);
void	journal_replay_free(struct journal_replay *);
int	journal_replay_apply(struct journal_replay *, const struct journal_rec *,
	    const char **);
size_t	journal_replay_scan(struct journal_replay *, const char *, size_t,
	    const char **);
void	journal_replay_sort(struct journal_replay *);
struct journal_entry *journal_replay_find(struct journal_replay *, uint64_t);

#endif

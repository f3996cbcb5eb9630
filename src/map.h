/*
 * map: one future over many items. Items travel in chunks, a chunk being
 * a range of items that one worker or thread runs in turn. Chunks are
 * made as earlier ones start, a few per worker ahead, so a large map
 * costs a queue entry per chunk in flight, not per item, and its chunks
 * take their place in the fair order as they are made.
 */
#ifndef POOLD_MAP_H
#define POOLD_MAP_H

#include <sys/queue.h>

#include <stddef.h>

#include <jansson.h>

#include "queue.h"

struct future;
struct json_hollow;
struct map;
struct rpc_req;
struct sched_owner;

struct map_chunk {
	struct queue_item	 qitem;
	struct map		*map;
	size_t			 start;		/* items [start, end) */
	size_t			 end;
	TAILQ_ENTRY(map_chunk)	 entry;		/* in the map, while queued */
};

struct map_params {
	size_t			 n;		/* items */
	/* The iterable's text as it came (NULL: encode items instead). */
	const char		*text;
	size_t			 text_len;
	json_t			*items;		/* borrowed; NULL with text */
	int			 star;
	double			 timeout;	/* each item's; < 0: none */
	size_t			 chunksize;
	long long		 priority;
	struct sched_owner	*owner;
};

struct map	*map_new(struct future *, const struct map_params *);
void		 map_start(struct map *);
void		 map_stream(struct map *, struct rpc_req *, int);
void		 map_resume(struct map *);
void		 map_detach(struct map *);
int		 map_cancel(struct map *, int);
const char	*map_journal_text(const struct map *, size_t *, int *, size_t *,
		    int *);

/* For the scheduler. */
const char	*map_chunk_text(const struct map_chunk *, size_t *);
int		 map_chunk_star(const struct map_chunk *);
double		 map_chunk_timeout(const struct map_chunk *);
struct future	*map_chunk_future(const struct map_chunk *);
void		 map_chunk_started(struct map_chunk *);
void		 map_chunk_done(struct map_chunk *, json_t *,
		     const struct json_hollow *);
void		 map_chunk_failed(struct map_chunk *, size_t, json_t *);
void		 map_chunk_fail_all(struct map_chunk *, json_t *);
void		 map_chunk_dropped(struct map_chunk *);
struct map	*map_chunk_map(const struct map_chunk *);

#endif

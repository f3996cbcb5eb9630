/*
 * A map's items, chunks and results. Each item is pending, running or
 * ended; results are kept per item until the map ends (or, streaming,
 * until sent). The map ends when every item has ended, or at once when
 * cancelled; it is freed once no chunk of it is queued or running.
 *
 * Counts: the future store counts a map's items one by one, so each move
 * of an item between states moves its count here.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "future.h"
#include "jbuf.h"
#include "json-check.h"
#include "json-span.h"
#include "log.h"
#include "map.h"
#include "rpc.h"
#include "sched.h"
#include "xmalloc.h"

enum item_state {
	ITEM_PENDING,
	ITEM_RUNNING,
	ITEM_OK,
	ITEM_FAILED,
};

/*
 * A result kept as the text a worker's answer gave it, in a copy of that
 * answer's results array the map holds until it is freed.
 */
struct item_text {
	const char	*p;		/* NULL: the result is in out[] */
	size_t		 len;
};

struct map_text {
	struct map_text	*next;
	char		 text[];
};

struct map {
	struct future			*f;
	char				*text;		/* the items' JSON */
	size_t				*off;		/* item i's start */
	json_t				**out;		/* result or error */
	struct item_text		*rtext;		/* NULL: none as text */
	struct map_text			*texts;		/* rtext points here */
	unsigned char			*state;
	size_t				 n;
	size_t				 ndone;
	size_t				 nfailed;
	size_t				 lowest_failed;
	size_t				 next;		/* not yet in a chunk */
	size_t				 chunksize;
	int				 star;
	double				 timeout;
	long long			 priority;
	struct sched_owner		*owner;
	uint64_t			 first_tag;	/* chunk k's: first + k */
	TAILQ_HEAD(, map_chunk)		 queued;
	unsigned			 nqueued;
	unsigned			 nrunning;
	int				 ended;
	int				 holds;		/* not freed while > 0 */

	/* A stream: its request, and what has been sent. */
	struct rpc_req			*req;
	int				 ordered;
	size_t				 next_emit;	/* ordered */
	size_t				*completed;	/* unordered */
	size_t				 ncompleted;
	size_t				 emitted;
};

static void	map_fill(struct map *);
static void	map_emit(struct map *);
static void	map_check_end(struct map *);

/*
 * Keep the items as the text they came in, with where each starts, so a
 * chunk is a slice of it: items are parsed once, by whoever runs them,
 * and never encoded again. A map in a batch has no text of its own; its
 * items are encoded once here.
 */
static void
map_keep_text(struct map *m, const struct map_params *p)
{
	json_t	*items = NULL;
	size_t	 len;

	m->off = xreallocarray(NULL, m->n + 1, sizeof *m->off);
	if (p->text != NULL) {
		m->text = xmalloc(p->text_len + 1);
		memcpy(m->text, p->text, p->text_len);
		m->text[p->text_len] = '\0';
		if (span_elements(m->text, p->text_len, m->n, m->off) == 0)
			return;
		log_warnx("a map's items could not be followed in its "
		    "request; encoding them");
		if (p->items == NULL && (items = json_loadb(m->text,
		    p->text_len, JSON_ALLOW_NUL, NULL)) == NULL)
			fatalx("a map's checked items do not parse");
		free(m->text);
	}
	m->text = json_dumps(items != NULL ? items : p->items, JSON_COMPACT);
	json_decref(items);
	if (m->text == NULL)
		fatalx("cannot encode a map's items");
	len = strlen(m->text);
	if (span_elements(m->text, len, m->n, m->off) == -1)
		fatalx("cannot follow a map's items in their own encoding");
}

struct map *
map_new(struct future *f, const struct map_params *p)
{
	struct map	*m = xcalloc(1, sizeof *m);

	m->f = f;
	m->n = p->n;
	map_keep_text(m, p);
	m->out = xcalloc(m->n, sizeof *m->out);
	m->state = xcalloc(m->n, 1);
	m->lowest_failed = m->n;
	m->chunksize = p->chunksize;
	m->star = p->star;
	m->timeout = p->timeout;
	m->priority = p->priority;
	m->owner = sched_owner_ref(p->owner);
	m->first_tag = sched_reserve(m->owner, (m->n + m->chunksize - 1) /
	    m->chunksize);
	TAILQ_INIT(&m->queued);
	f->map = m;
	/* A map that waited for its journal record was counted then. */
	if (!f->is_map)
		future_count_items(f, m->n);
	return m;
}

/*
 * What the journal keeps of a map that has not ended: its items' text
 * (NULL once a chunk has started: it is not run again from the start),
 * and whether it streams.
 */
const char *
map_journal_text(const struct map *m, size_t *len, int *star,
    size_t *chunksize, int *stream)
{
	*star = m->star;
	*chunksize = m->chunksize;
	*stream = m->req != NULL;
	*len = 0;
	if (m->f->state != FUTURE_PENDING)
		return NULL;
	*len = strlen(m->text);
	return m->text;
}

static void
map_free(struct map *m)
{
	struct map_text	*t;
	size_t		 i;

	if (m->f != NULL)
		m->f->map = NULL;
	for (i = 0; i < m->n && m->out != NULL; i++)
		json_decref(m->out[i]);
	free(m->out);
	free(m->rtext);
	while ((t = m->texts) != NULL) {
		m->texts = t->next;
		free(t);
	}
	free(m->state);
	free(m->completed);
	free(m->text);
	free(m->off);
	sched_owner_unref(m->owner);
	free(m);
}

/* Free the map once it has ended and nothing of it is queued or running. */
static void
map_maybe_free(struct map *m)
{
	if (m->ended && m->nqueued == 0 && m->nrunning == 0 &&
	    m->req == NULL && m->holds == 0)
		map_free(m);
}

/* Queue chunks until a few per worker of the executor wait ahead. */
static void
map_fill(struct map *m)
{
	struct map_chunk	*c;
	unsigned		 window = 2 * (unsigned)sched_size(m->f->executor);

	while (!m->ended && m->nqueued < window && m->next < m->n) {
		c = xcalloc(1, sizeof *c);
		c->map = m;
		c->start = m->next;
		c->end = m->next + m->chunksize < m->n ? m->next + m->chunksize :
		    m->n;
		m->next = c->end;
		TAILQ_INSERT_TAIL(&m->queued, c, entry);
		m->nqueued++;
		sched_enqueue_chunk(c, m->f->executor, m->priority,
		    m->first_tag + c->start / m->chunksize);
	}
}

/* Put a range of items back in the queue as a chunk of their own. */
static void
map_requeue(struct map *m, size_t start, size_t end)
{
	struct map_chunk	*c;

	if (start >= end)
		return;
	future_count_move(m->f, FUTURE_RUNNING, FUTURE_PENDING, end - start);
	c = xcalloc(1, sizeof *c);
	c->map = m;
	c->start = start;
	c->end = end;
	memset(m->state + start, ITEM_PENDING, end - start);
	TAILQ_INSERT_TAIL(&m->queued, c, entry);
	m->nqueued++;
	/* Items run again keep their place in the order. */
	sched_enqueue_chunk(c, m->f->executor, m->priority,
	    m->first_tag + start / m->chunksize);
}

/* A chunk was handed to a worker or thread. */
void
map_chunk_started(struct map_chunk *c)
{
	struct map	*m = c->map;

	TAILQ_REMOVE(&m->queued, c, entry);
	m->nqueued--;
	m->nrunning++;
	memset(m->state + c->start, ITEM_RUNNING, c->end - c->start);
	future_count_move(m->f, FUTURE_PENDING, FUTURE_RUNNING, c->end - c->start);
	if (m->f->state == FUTURE_PENDING)
		future_start(m->f);
	map_fill(m);
}

/* Count one item's end; 0 if the map has ended and keeps nothing more. */
static int
map_item_count(struct map *m, size_t i, int failed)
{
	future_count_move(m->f, FUTURE_RUNNING, m->ended ? FUTURE_CANCELLED :
	    failed ? FUTURE_FAILED : FUTURE_FINISHED, 1);
	if (m->ended)
		return 0;
	m->state[i] = failed ? ITEM_FAILED : ITEM_OK;
	m->ndone++;
	m->f->items_done = m->ndone;
	if (failed) {
		m->nfailed++;
		if (i < m->lowest_failed)
			m->lowest_failed = i;
	}
	if (m->completed != NULL)
		m->completed[m->ncompleted++] = i;
	return 1;
}

/* Record one item's end; takes the reference to value. */
static void
map_item_end(struct map *m, size_t i, json_t *value, int failed)
{
	if (map_item_count(m, i, failed))
		m->out[i] = value;
	else
		json_decref(value);
}

/* Record one item's result as text the map keeps (in m->texts). */
static void
map_item_end_text(struct map *m, size_t i, const char *p, size_t len)
{
	if (!map_item_count(m, i, 0))
		return;
	if (m->rtext == NULL)
		m->rtext = xcalloc(m->n, sizeof *m->rtext);
	m->rtext[i].p = p;
	m->rtext[i].len = len;
}

/*
 * Keep a copy of a chunk's results text, with where each of its elements
 * starts in *off: NULL if it cannot be followed.
 */
static const char *
map_keep_results(struct map *m, const struct json_hollow *results,
    size_t **off)
{
	struct map_text	*t;

	t = xmalloc(sizeof *t + results->len + 1);
	memcpy(t->text, results->text, results->len);
	t->text[results->len] = '\0';
	*off = xreallocarray(NULL, results->n + 1, sizeof **off);
	if (span_elements(t->text, results->len, results->n, *off) == -1) {
		log_warnx("a chunk's results could not be followed in its "
		    "answer; keeping them as values");
		free(*off);
		*off = NULL;
		free(t);
		return NULL;
	}
	t->next = m->texts;
	m->texts = t;
	return t->text;
}

static void
map_chunk_end(struct map_chunk *c)
{
	struct map	*m = c->map;

	m->nrunning--;
	free(c);
	map_emit(m);
	map_check_end(m);
	map_maybe_free(m);
}

/*
 * A chunk's answer (taken): {"results": [v, ...], "errors": {"k": e}},
 * results in order, null where item k failed with errors["k"].
 */
struct item_error {
	size_t	 k;		/* the item's place in its chunk */
	json_t	*error;
};

static int
map_error_cmp(const void *a, const void *b)
{
	size_t	x = ((const struct item_error *)a)->k;
	size_t	y = ((const struct item_error *)b)->k;

	return x < y ? -1 : x > y;
}

/* The errors an answer names for items of its chunk, in item order. */
static size_t
map_answer_errors(json_t *errors, size_t nitems, struct item_error **out)
{
	const char	*key;
	json_t		*e;
	char		*end;
	unsigned long	 k;
	size_t		 n = 0;

	*out = NULL;
	if (json_object_size(errors) == 0)
		return 0;
	*out = xreallocarray(NULL, json_object_size(errors), sizeof **out);
	json_object_foreach(errors, key, e) {
		k = strtoul(key, &end, 10);
		if (*end == '\0' && end != key && k < nitems &&
		    json_is_object(e)) {
			(*out)[n].k = k;
			(*out)[n++].error = e;
		}
	}
	qsort(*out, n, sizeof **out, map_error_cmp);
	return n;
}

/*
 * A chunk's run ended with its answer: "results" holds each item's
 * value in order, "errors" the failed ones' errors by position. With
 * the results' text (json-check.h), results are kept as the text they
 * came in; the answer's "results" may then be [], the text unparsed.
 */
void
map_chunk_done(struct map_chunk *c, json_t *answer,
    const struct json_hollow *results)
{
	struct map		*m = c->map;
	json_t			*values = json_object_get(answer, "results");
	json_t			*parsed = NULL;
	struct item_error	*failed;
	size_t			 k, nerr, next = 0, nitems = c->end - c->start;
	size_t			 nres = json_array_size(values), *off = NULL;
	const char		*kept = NULL;

	if (results != NULL && results->text != NULL) {
		nres = results->n;
		if (!m->ended &&
		    (kept = map_keep_results(m, results, &off)) == NULL)
			values = parsed = json_loadb(results->text,
			    results->len, JSON_ALLOW_NUL, NULL);
	}
	nerr = map_answer_errors(json_object_get(answer, "errors"), nitems,
	    &failed);
	for (k = 0; k < nitems; k++) {
		if (next < nerr && failed[next].k == k) {
			map_item_end(m, c->start + k,
			    json_incref(failed[next].error), 1);
			/* "1" and "01" name one item: one error is enough. */
			while (next < nerr && failed[next].k == k)
				next++;
		} else if (k < nres && kept != NULL)
			map_item_end_text(m, c->start + k, kept + off[k],
			    span_element_end(kept, off, k) - off[k]);
		else if (k < nres && k < json_array_size(values))
			map_item_end(m, c->start + k,
			    json_incref(json_array_get(values, k)), 0);
		else
			map_item_end(m, c->start + k, future_error("TaskError",
			    "no answer for this item"), 1);
	}
	free(failed);
	free(off);
	json_decref(parsed);
	json_decref(answer);
	map_chunk_end(c);
}

/*
 * The k-th item of a chunk failed so that the chunk's run ended (its
 * worker died, or it ran past the timeout): it fails, the rest run again.
 */
void
map_chunk_failed(struct map_chunk *c, size_t k, json_t *error)
{
	struct map	*m = c->map;
	size_t		 i = c->start + k < c->end ? c->start + k : c->start;

	map_item_end(m, i, error, 1);
	if (!m->ended) {
		map_requeue(m, c->start, i);
		map_requeue(m, i + 1, c->end);
	} else
		future_count_move(m->f, FUTURE_RUNNING, FUTURE_CANCELLED,
		    c->end - c->start - 1);
	map_chunk_end(c);
}

/* Every item of a running chunk fails with error (taken). */
void
map_chunk_fail_all(struct map_chunk *c, json_t *error)
{
	struct map	*m = c->map;
	size_t		 i;

	for (i = c->start; i < c->end; i++)
		map_item_end(m, i, json_deep_copy(error), 1);
	json_decref(error);
	map_chunk_end(c);
}

/* A chunk's run was stopped from outside (a stop, a force cancel). */
void
map_chunk_dropped(struct map_chunk *c)
{
	map_chunk_fail_all(c, future_error("Interrupted",
	    "the item's run was stopped"));
}

struct map *
map_chunk_map(const struct map_chunk *c)
{
	return c->map;
}

/*
 * Queue the first chunks, or end at once if there is nothing to do (then
 * the map may be freed: the caller does not use it after).
 */
void
map_start(struct map *m)
{
	map_fill(m);
	map_check_end(m);
	map_maybe_free(m);
}

/* The error of the map future: its lowest failed item's, with its index. */
static json_t *
map_error(struct map *m)
{
	json_t	*e = json_deep_copy(m->out[m->lowest_failed]);

	json_object_set_new(e, "index", json_integer((json_int_t)
	    m->lowest_failed));
	return e;
}

/* Finish with the results as one array's text, from the kept texts. */
static void
map_finish_text(struct map *m)
{
	struct jbuf	b = { NULL, 0, 0 };
	size_t		i, len = 2 + m->n;

	for (i = 0; i < m->n; i++)
		len += m->rtext[i].len;
	jbuf_reserve(&b, len);
	jbuf_add(&b, "[", 1);
	for (i = 0; i < m->n; i++) {
		if (i > 0)
			jbuf_add(&b, ",", 1);
		if (m->rtext[i].p != NULL)
			jbuf_add(&b, m->rtext[i].p, m->rtext[i].len);
		else
			jbuf_json(&b, m->out[i]);
	}
	jbuf_add(&b, "]", 1);
	future_finish_text(m->f, b.data, b.len);
}

static void
map_check_end(struct map *m)
{
	json_t	*results;
	size_t	 i;

	if (m->ended || m->ndone < m->n)
		return;
	if (m->req != NULL) {
		struct rpc_req	*req = m->req;

		if (m->emitted < m->n)
			return;
		/* Answered here: its release must not come back to the map. */
		m->req = NULL;
		req->release = NULL;
		m->ended = 1;
		future_finish(m->f, json_pack("{s:I, s:I}", "items",
		    (json_int_t)m->n, "failed", (json_int_t)m->nfailed));
		rpc_result(req, json_pack("{s:I, s:I}", "items",
		    (json_int_t)m->n, "failed", (json_int_t)m->nfailed));
		return;
	}
	m->ended = 1;
	if (m->nfailed > 0) {
		future_fail(m->f, map_error(m));
		return;
	}
	if (m->rtext != NULL) {
		map_finish_text(m);
		return;
	}
	results = json_array();
	for (i = 0; i < m->n; i++) {
		json_array_append_new(results, m->out[i]);
		m->out[i] = NULL;
	}
	future_finish(m->f, results);
}

/* Send item i's result, kept as text, with the stream's id (encoded). */
static void
map_emit_text(struct map *m, size_t i, const char *id)
{
	struct conn	*c = m->req->conn;
	char		 index[32];

	snprintf(index, sizeof index, "%zu", i);
	conn_write_str(c, "{\"jsonrpc\":\"2.0\",\"method\":\"map.item\","
	    "\"params\":{\"request\":");
	conn_write_str(c, id);
	conn_write_str(c, ",\"index\":");
	conn_write_str(c, index);
	conn_write_str(c, ",\"result\":");
	conn_write(c, m->rtext[i].p, m->rtext[i].len);
	conn_write_str(c, "}}\n");
}

/* Send the stream what it may have: in order, or as items ended. */
static void
map_emit(struct map *m)
{
	json_t	*params, *v;
	char	*id = NULL;
	size_t	 i;

	if (m->req == NULL)
		return;
	while (!conn_output_full(m->req->conn)) {
		if (m->ordered) {
			if (m->next_emit >= m->n ||
			    m->state[m->next_emit] < ITEM_OK)
				break;
			i = m->next_emit++;
		} else {
			if (m->emitted >= m->ncompleted)
				break;
			i = m->completed[m->emitted];
		}
		m->emitted++;
		if (m->rtext != NULL && m->rtext[i].p != NULL) {
			if (id == NULL && (id = json_dumps(m->req->id != NULL ?
			    m->req->id : json_null(), JSON_COMPACT |
			    JSON_ENCODE_ANY)) == NULL)
				fatalx("cannot encode a request id");
			map_emit_text(m, i, id);
			continue;
		}
		v = m->out[i];
		m->out[i] = NULL;
		params = json_pack("{s:O, s:I, s:o}", "request", m->req->id ?
		    m->req->id : json_null(), "index", (json_int_t)i,
		    m->state[i] == ITEM_OK ? "result" : "error", v);
		conn_notify(m->req->conn, "map.item", params);
	}
	free(id);
}

static void
map_stream_release(struct rpc_req *req)
{
	map_detach(req->data);
}

static void
map_stream_drained(struct rpc_req *req)
{
	map_resume(req->data);
}

/* Answer req as a stream of map.item notifications, then a summary. */
void
map_stream(struct map *m, struct rpc_req *req, int ordered)
{
	m->req = req;
	m->ordered = ordered;
	if (!ordered)
		m->completed = xcalloc(m->n > 0 ? m->n : 1,
		    sizeof *m->completed);
	rpc_hold(req, map_stream_release, m);
	req->drained = map_stream_drained;
	map_start(m);
}

/* The stream's connection has room again. */
void
map_resume(struct map *m)
{
	map_emit(m);
	map_check_end(m);
	map_maybe_free(m);
}

/* The stream's request is gone (its client left): drop what is left. */
void
map_detach(struct map *m)
{
	m->req = NULL;
	if (!m->ended)
		map_cancel(m, 0);	/* which may free the map */
	else
		map_maybe_free(m);
}

/*
 * Cancel: queued chunks and items not yet chunked are dropped and the
 * future ends cancelled at once; running chunks end on their own (with
 * force, sched kills their workers) and what they return is dropped.
 */
int
map_cancel(struct map *m, int force)
{
	struct map_chunk	*c;

	if (m->ended)
		return m->f->state == FUTURE_CANCELLED;
	m->ended = 1;
	m->holds++;
	while ((c = TAILQ_FIRST(&m->queued)) != NULL) {
		TAILQ_REMOVE(&m->queued, c, entry);
		m->nqueued--;
		sched_dequeue_chunk(c, m->f->executor);
		future_count_move(m->f, FUTURE_PENDING, FUTURE_CANCELLED,
		    c->end - c->start);
		free(c);
	}
	future_count_move(m->f, FUTURE_PENDING, FUTURE_CANCELLED, m->n - m->next);
	m->next = m->n;
	if (m->req != NULL) {
		struct rpc_req	*req = m->req;

		m->req = NULL;
		req->release = NULL;
		rpc_error(req, RPC_CANCELLED, "cancelled", NULL);
	}
	future_cancel(m->f);
	/* Killing the chunks' workers ends them, which could free the map. */
	if (force)
		sched_abort_map(m);
	m->holds--;
	map_maybe_free(m);
	return 1;
}

/* The text of the chunk's items, "item,item,...", and its length. */
const char *
map_chunk_text(const struct map_chunk *c, size_t *len)
{
	const struct map	*m = c->map;

	*len = span_element_end(m->text, m->off, c->end - 1) - m->off[c->start];
	return m->text + m->off[c->start];
}

int
map_chunk_star(const struct map_chunk *c)
{
	return c->map->star;
}

double
map_chunk_timeout(const struct map_chunk *c)
{
	return c->map->timeout;
}

struct future *
map_chunk_future(const struct map_chunk *c)
{
	return c->map->f;
}

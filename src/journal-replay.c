/* Folding journal records into the state they describe. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "journal-record.h"
#include "journal-replay.h"
#include "log.h"
#include "xmalloc.h"

void
journal_replay_init(struct journal_replay *r)
{
	memset(r, 0, sizeof *r);
	r->nslots = 1024;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
}

static void
journal_entry_clear(struct journal_entry *e)
{
	json_decref(e->accept);
	json_decref(e->end);
	e->accept = e->end = NULL;
}

void
journal_replay_free(struct journal_replay *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		journal_entry_clear(&r->entries[i]);
	free(r->entries);
	free(r->slots);
	memset(r, 0, sizeof *r);
}

static size_t
journal_replay_hash(uint64_t id, size_t nslots)
{
	id ^= id >> 33;
	id *= UINT64_C(0xff51afd7ed558ccd);
	id ^= id >> 33;
	return (size_t)id & (nslots - 1);
}

/* The slot that holds id, or the free one where it would go. */
static size_t *
journal_replay_slot(struct journal_replay *r, uint64_t id)
{
	size_t	h = journal_replay_hash(id, r->nslots);

	while (r->slots[h] != 0 && r->entries[r->slots[h] - 1].id != id)
		h = (h + 1) & (r->nslots - 1);
	return &r->slots[h];
}

struct journal_entry *
journal_replay_find(struct journal_replay *r, uint64_t id)
{
	size_t	*slot;

	if (r->slots == NULL)
		return NULL;
	slot = journal_replay_slot(r, id);
	return *slot == 0 ? NULL : &r->entries[*slot - 1];
}

static void
journal_replay_grow(struct journal_replay *r)
{
	size_t	i;

	free(r->slots);
	r->nslots *= 2;
	r->slots = xcalloc(r->nslots, sizeof *r->slots);
	for (i = 0; i < r->n; i++)
		*journal_replay_slot(r, r->entries[i].id) = i + 1;
}

static struct journal_entry *
journal_replay_add(struct journal_replay *r, uint64_t id)
{
	struct journal_entry	*e;

	/* At most half full, so probes stay short. */
	if (2 * (r->n + 1) > r->nslots)
		journal_replay_grow(r);
	if (r->n == r->cap) {
		r->cap = r->cap > 0 ? 2 * r->cap : 256;
		r->entries = xreallocarray(r->entries, r->cap,
		    sizeof *r->entries);
	}
	e = &r->entries[r->n++];
	memset(e, 0, sizeof *e);
	e->id = id;
	*journal_replay_slot(r, id) = r->n;
	return e;
}

static json_t *
journal_replay_body(const struct journal_rec *rec)
{
	json_t	*body;

	body = json_loadb(rec->body, rec->body_len, JSON_ALLOW_NUL, NULL);
	if (body != NULL && !json_is_object(body)) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* An ACCEPT body must name everything a future is made of. */
static int
journal_replay_accept_ok(json_t *b)
{
	return json_is_integer(json_object_get(b, "owner")) &&
	    json_is_string(json_object_get(b, "fn")) &&
	    json_is_string(json_object_get(b, "executor")) &&
	    json_is_array(json_object_get(b, "args")) &&
	    json_is_object(json_object_get(b, "kwargs")) &&
	    json_is_number(json_object_get(b, "submitted")) &&
	    json_is_integer(json_object_get(b, "retries"));
}

static int
journal_replay_end_ok(json_t *b)
{
	const char	*state = json_string_value(json_object_get(b, "state"));

	return state != NULL && json_is_number(json_object_get(b,
	    "finished")) && (strcmp(state, "finished") == 0 ||
	    strcmp(state, "failed") == 0 || strcmp(state, "cancelled") == 0);
}

static int
journal_replay_accept(struct journal_replay *r, const struct journal_rec *rec,
    json_t *body)
{
	struct journal_entry	*e;

	if (r->next_id <= rec->id)
		r->next_id = rec->id + 1;
	if (journal_replay_find(r, rec->id) != NULL) {
		json_decref(body);
		return 0;
	}
	if (!journal_replay_accept_ok(body)) {
		json_decref(body);
		return -1;
	}
	e = journal_replay_add(r, rec->id);
	e->accept = body;
	e->bytes = rec->size;
	e->attempts = (unsigned)json_integer_value(json_object_get(body,
	    "attempts"));
	e->retries = (long)json_integer_value(json_object_get(body, "retries"));
	return 0;
}

static void
journal_replay_start(struct journal_entry *e, json_t *body)
{
	unsigned	attempts;

	attempts = (unsigned)json_integer_value(json_object_get(body,
	    "attempts"));
	if (attempts >= e->attempts) {
		e->attempts = attempts;
		e->retries = (long)json_integer_value(json_object_get(body,
		    "retries"));
		e->started = json_number_value(json_object_get(body,
		    "started"));
		e->running = 1;
	}
	json_decref(body);
}

/*
 * Apply one good record: 0, or -1 with why for one whose content cannot
 * be used (it is skipped; the records after it still count).
 */
int
journal_replay_apply(struct journal_replay *r, const struct journal_rec *rec,
    const char **why)
{
	struct journal_entry	*e;
	json_t			*body = NULL;

	if (rec->type == JOURNAL_ACCEPT || rec->type == JOURNAL_START ||
	    rec->type == JOURNAL_END) {
		if ((body = journal_replay_body(rec)) == NULL) {
			*why = "a record's body is not a JSON object";
			return -1;
		}
	}
	r->records++;
	if (rec->type == JOURNAL_ACCEPT) {
		*why = "an accepted future lacks a field";
		return journal_replay_accept(r, rec, body);
	}
	if (rec->type == JOURNAL_NEXT_ID) {
		if (r->next_id < rec->id)
			r->next_id = rec->id;
		return 0;
	}
	if (rec->type != JOURNAL_START && rec->type != JOURNAL_END &&
	    rec->type != JOURNAL_DROP) {
		*why = "a record of an unknown type";
		return -1;
	}
	e = journal_replay_find(r, rec->id);
	if (e == NULL || e->dropped || (e->end != NULL &&
	    rec->type != JOURNAL_DROP)) {
		json_decref(body);
		return 0;
	}
	switch (rec->type) {
	case JOURNAL_START:
		journal_replay_start(e, body);
		break;
	case JOURNAL_END:
		if (!journal_replay_end_ok(body)) {
			json_decref(body);
			*why = "a done future's record lacks a field";
			return -1;
		}
		e->end = body;
		e->running = 0;
		e->bytes += rec->size;
		break;
	default:
		e->dropped = 1;
		journal_entry_clear(e);
		break;
	}
	return 0;
}

/*
 * Apply every record of a journal image that follows its header. Returns
 * the end of the last good record; *why says what stopped the scan there
 * (NULL: the image's end).
 */
size_t
journal_replay_scan(struct journal_replay *r, const char *p, size_t len,
    const char **why)
{
	struct journal_rec	rec;
	size_t			off = JOURNAL_HEADER_SIZE;
	const char		*skip_why;

	for (;;) {
		switch (journal_record_next(p, len, off, &rec)) {
		case JOURNAL_SCAN_END:
			*why = NULL;
			return off;
		case JOURNAL_SCAN_TORN:
			*why = "a record was cut short";
			return off;
		case JOURNAL_SCAN_CORRUPT:
			*why = "a record's checksum does not match";
			return off;
		case JOURNAL_SCAN_OK:
			break;
		}
		if (journal_replay_apply(r, &rec, &skip_why) == -1) {
			r->skipped++;
			log_warnx("journal record at offset %zu skipped: %s",
			    off, skip_why);
		}
		off += rec.size;
	}
}

static int
journal_entry_cmp(const void *a, const void *b)
{
	uint64_t	x = ((const struct journal_entry *)a)->id;
	uint64_t	y = ((const struct journal_entry *)b)->id;

	return x < y ? -1 : x > y;
}

/* Put the entries in id order, which is submission order; find no more. */
void
journal_replay_sort(struct journal_replay *r)
{
	if (r->n > 0)
		qsort(r->entries, r->n, sizeof *r->entries, journal_entry_cmp);
	free(r->slots);
	r->slots = NULL;
	r->nslots = 0;
}

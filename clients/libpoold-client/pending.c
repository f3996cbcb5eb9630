/*
 * libpoold-client: the requests sent and not yet taken, by id. Thousands
 * may be in flight and their answers come in any order, so they live in
 * a hash table (open addressing with linear probing; removal shifts the
 * probe chain back, so no tombstones pile up).
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client-int.h"

#define PENDING_MIN_CAP	16

/* Ids are consecutive: a multiplicative hash spreads them over the table. */
static size_t
pending_slot(const struct pending_table *t, uint64_t id)
{
	uint64_t	h = id * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h ^ (h >> 29)) & (t->cap - 1);
}

struct pending *
pending_find(struct pending_table *t, uint64_t id)
{
	size_t	i;

	if (t->cap == 0 || id == 0)
		return NULL;
	for (i = pending_slot(t, id); t->slots[i].id != 0;
	    i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].id == id)
			return &t->slots[i];
	}
	return NULL;
}

/* Put p in its place in a table known to have room. */
static void
pending_place(struct pending_table *t, const struct pending *p)
{
	size_t	i;

	for (i = pending_slot(t, p->id); t->slots[i].id != 0;
	    i = (i + 1) & (t->cap - 1))
		;
	t->slots[i] = *p;
}

/* Grow to keep the load under three quarters. */
static int
pending_grow(struct pending_table *t)
{
	struct pending_table	 old = *t;
	size_t			 i, cap;

	cap = old.cap == 0 ? PENDING_MIN_CAP : old.cap * 2;
	if (cap > SIZE_MAX / sizeof *t->slots) {
		errno = ENOMEM;
		return -1;
	}
	if ((t->slots = calloc(cap, sizeof *t->slots)) == NULL) {
		t->slots = old.slots;
		return -1;
	}
	t->cap = cap;
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].id != 0)
			pending_place(t, &old.slots[i]);
	}
	free(old.slots);
	return 0;
}

/* Add an outstanding request; -1 (errno ENOMEM) if there is no room. */
int
pending_add(struct pending_table *t, uint64_t id)
{
	struct pending	p = { .id = id };

	if ((t->count + 1) * 4 > t->cap * 3 && pending_grow(t) == -1)
		return -1;
	pending_place(t, &p);
	t->count++;
	return 0;
}

/* Whether slot i lies cyclically in (from, to]. */
static int
pending_between(size_t from, size_t i, size_t to)
{
	if (from <= to)
		return from < i && i <= to;
	return from < i || i <= to;
}

/* Drop id and its answer, if any. */
void
pending_remove(struct pending_table *t, uint64_t id)
{
	struct pending	*p = pending_find(t, id);
	size_t		 hole, i, home;

	if (p == NULL)
		return;
	json_decref(p->answer);
	hole = (size_t)(p - t->slots);
	/* Move back every entry whose probe passed the hole. */
	for (i = (hole + 1) & (t->cap - 1); t->slots[i].id != 0;
	    i = (i + 1) & (t->cap - 1)) {
		home = pending_slot(t, t->slots[i].id);
		if (pending_between(hole, home, i))
			continue;
		t->slots[hole] = t->slots[i];
		hole = i;
	}
	memset(&t->slots[hole], 0, sizeof t->slots[hole]);
	t->count--;
}

/* Drop every entry and the table. */
void
pending_clear(struct pending_table *t)
{
	size_t	i;

	for (i = 0; i < t->cap; i++)
		json_decref(t->slots[i].answer);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/*
 * A growable byte buffer, and the few ways the journal (and a map joining
 * its results' text) writes JSON into one without building a jansson value
 * first. Allocation failure is fatal, as for all of the daemon's own
 * bookkeeping.
 */
#ifndef POOLD_JBUF_H
#define POOLD_JBUF_H

#include <stddef.h>

#include <jansson.h>

struct jbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	jbuf_reserve(struct jbuf *, size_t);
void	jbuf_add(struct jbuf *, const void *, size_t);
void	jbuf_str(struct jbuf *, const char *);
void	jbuf_printf(struct jbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	jbuf_json(struct jbuf *, const json_t *);
void	jbuf_json_string(struct jbuf *, const char *);
void	jbuf_real(struct jbuf *, double);
void	jbuf_swap(struct jbuf *, struct jbuf *);
void	jbuf_free(struct jbuf *);

#endif

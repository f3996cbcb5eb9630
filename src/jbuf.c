/* A growable byte buffer with JSON writers, for the journal and maps. */
#include "autoconf.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "log.h"
#include "xmalloc.h"

/* Make room for n more bytes. */
void
jbuf_reserve(struct jbuf *b, size_t n)
{
	size_t	cap = b->cap > 0 ? b->cap : 256;

	if (b->cap - b->len >= n)
		return;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2)
			fatalx("buffer of %zu bytes cannot grow by %zu", b->len,
			    n);
		cap *= 2;
	}
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
jbuf_add(struct jbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	jbuf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
jbuf_str(struct jbuf *b, const char *s)
{
	jbuf_add(b, s, strlen(s));
}

void
jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	jbuf_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("vsnprintf failed");
	if ((size_t)n >= b->cap - b->len) {
		jbuf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Any JSON value, compact, as jansson encodes it. */
void
jbuf_json(struct jbuf *b, const json_t *v)
{
	size_t	n;

	jbuf_reserve(b, 64);
	n = json_dumpb(v, b->data + b->len, b->cap - b->len,
	    JSON_COMPACT | JSON_ENCODE_ANY);
	if (n == 0)
		fatalx("cannot encode a JSON value");
	if (n > b->cap - b->len) {
		jbuf_reserve(b, n);
		if (json_dumpb(v, b->data + b->len, n, JSON_COMPACT |
		    JSON_ENCODE_ANY) != n)
			fatalx("a JSON value encoded to two sizes");
	}
	b->len += n;
}

void
jbuf_json_string(struct jbuf *b, const char *s)
{
	json_t		*v;
	const char	*p;

	/* Most names need no escapes: write those as they are. */
	for (p = s; *p > 0x1f && *p != '"' && *p != '\\' && *p < 0x7f; p++)
		;
	if (*p == '\0') {
		jbuf_reserve(b, (size_t)(p - s) + 2);
		b->data[b->len++] = '"';
		memcpy(b->data + b->len, s, (size_t)(p - s));
		b->len += (size_t)(p - s);
		b->data[b->len++] = '"';
		return;
	}
	if ((v = json_string(s)) == NULL)
		fatalx("not a UTF-8 string: %s", s);
	jbuf_json(b, v);
	json_decref(v);
}

/* A number that reads back as the same double. */
void
jbuf_real(struct jbuf *b, double d)
{
	if (!isfinite(d))
		d = 0;
	jbuf_printf(b, "%.17g", d);
}

void
jbuf_swap(struct jbuf *a, struct jbuf *b)
{
	struct jbuf	t = *a;

	*a = *b;
	*b = t;
}

void
jbuf_free(struct jbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

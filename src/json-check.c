/*
 * A checker that builds nothing. It follows RFC 8259 and, where jansson
 * is stricter or reads a value its own way, declines rather than guess:
 * integers that might not fit in a json_int_t, reals that might
 * overflow, escaped surrogates, keys that might repeat only once
 * decoded. UTF-8 is checked as jansson checks it (no overlong forms, no
 * surrogates, nothing past U+10FFFF).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "json-check.h"
#include "json-span.h"
#include "xmalloc.h"

#define CHECK_MAX_DEPTH		64
#define CHECK_MAX_KEYS		16	/* compared pairwise */
#define CHECK_MAX_INT_DIGITS	18	/* below 2^63 */
#define CHECK_MAX_REAL_CHARS	24	/* with a two-digit exponent, */
#define CHECK_MAX_EXP_DIGITS	2	/* far from overflow */

struct check {
	const unsigned char	*s;
	size_t			 len;
	size_t			 i;
	int			 depth;
};

static int	check_value(struct check *);

static void
check_space(struct check *c)
{
	while (c->i < c->len && (c->s[c->i] == ' ' || c->s[c->i] == '\n' ||
	    c->s[c->i] == '\r' || c->s[c->i] == '\t'))
		c->i++;
}

static int
check_peek(const struct check *c)
{
	return c->i < c->len ? c->s[c->i] : -1;
}

static int
check_digit(const struct check *c)
{
	return c->i < c->len && c->s[c->i] >= '0' && c->s[c->i] <= '9';
}

static size_t
check_digits(struct check *c)
{
	size_t	start = c->i;

	while (check_digit(c))
		c->i++;
	return c->i - start;
}

static int
check_number(struct check *c)
{
	size_t	start = c->i, digits, exp_digits = 0;
	int	real = 0;

	if (check_peek(c) == '-')
		c->i++;
	if (check_peek(c) == '0') {
		c->i++;
		digits = 1;
	} else if ((digits = check_digits(c)) == 0)
		return 0;
	if (check_peek(c) == '.') {
		real = 1;
		c->i++;
		if (check_digits(c) == 0)
			return 0;
	}
	if (check_peek(c) == 'e' || check_peek(c) == 'E') {
		real = 1;
		c->i++;
		if (check_peek(c) == '+' || check_peek(c) == '-')
			c->i++;
		if ((exp_digits = check_digits(c)) == 0)
			return 0;
	}
	if (real)
		return c->i - start <= CHECK_MAX_REAL_CHARS &&
		    exp_digits <= CHECK_MAX_EXP_DIGITS;
	return digits <= CHECK_MAX_INT_DIGITS;
}

static int
check_hex(unsigned char b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	if (b >= 'a' && b <= 'f')
		return b - 'a' + 10;
	if (b >= 'A' && b <= 'F')
		return b - 'A' + 10;
	return -1;
}

/* The escape at s[*i] (a backslash); *i moves past it. */
static int
check_escape(const struct check *c, size_t *i)
{
	const unsigned char	*s = c->s;
	long			 v = 0;
	int			 k, h;

	if (*i + 1 >= c->len)
		return 0;
	if (strchr("\"\\/bfnrt", s[*i + 1]) != NULL && s[*i + 1] != '\0') {
		*i += 2;
		return 1;
	}
	if (s[*i + 1] != 'u' || c->len - *i < 6)
		return 0;
	for (k = 2; k < 6; k++) {
		if ((h = check_hex(s[*i + k])) == -1)
			return 0;
		v = v * 16 + h;
	}
	/* A pair's halves must agree: jansson's to judge. */
	if (v >= 0xd800 && v <= 0xdfff)
		return 0;
	*i += 6;
	return 1;
}

/* The length of the UTF-8 sequence at s[i], or 0 if it is not one. */
static size_t
check_utf8(const struct check *c, size_t i)
{
	const unsigned char	*s = c->s + i;
	unsigned char		 lo = 0x80, hi = 0xbf;
	size_t			 n, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (c->len - i < n || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < n; k++)
		if (s[k] < 0x80 || s[k] > 0xbf)
			return 0;
	return n;
}

static int
check_string(struct check *c)
{
	size_t		i = c->i + 1, n;
	unsigned char	b;

	while (i < c->len) {
		b = c->s[i];
		if (b == '"') {
			c->i = i + 1;
			return 1;
		}
		if (b < 0x20)
			return 0;
		if (b == '\\') {
			if (!check_escape(c, &i))
				return 0;
		} else if (b >= 0x80) {
			if ((n = check_utf8(c, i)) == 0)
				return 0;
			i += n;
		} else
			i++;
	}
	return 0;
}

static int
check_literal(struct check *c, const char *word)
{
	size_t	n = strlen(word);

	if (c->len - c->i < n || memcmp(c->s + c->i, word, n) != 0)
		return 0;
	c->i += n;
	return 1;
}

/*
 * The key just read, s[start, c->i), if no earlier key of the object
 * is the same: with no escapes, keys are the same exactly when their
 * text is.
 */
static int
check_new_key(const struct check *c, size_t start, size_t *keys,
    size_t *nkeys)
{
	size_t	k, len = c->i - start;

	if (*nkeys == CHECK_MAX_KEYS ||
	    memchr(c->s + start, '\\', len) != NULL)
		return 0;
	for (k = 0; k < *nkeys; k++)
		if (c->i - start == keys[2 * k + 1] &&
		    memcmp(c->s + start, c->s + keys[2 * k], len) == 0)
			return 0;
	keys[2 * *nkeys] = start;
	keys[2 * *nkeys + 1] = len;
	(*nkeys)++;
	return 1;
}

/* Past an opening bracket: 0 if its close follows at once. */
static int
check_open(struct check *c, int close)
{
	c->i++;
	check_space(c);
	if (check_peek(c) != close)
		return 1;
	c->i++;
	return 0;
}

/* After a member or an element: 1 past a comma, 0 past close, -1. */
static int
check_next(struct check *c, int close)
{
	check_space(c);
	if (check_peek(c) == close) {
		c->i++;
		return 0;
	}
	if (check_peek(c) != ',')
		return -1;
	c->i++;
	check_space(c);
	return 1;
}

static int
check_object(struct check *c)
{
	size_t	keys[2 * CHECK_MAX_KEYS], nkeys = 0, start;
	int	more = check_open(c, '}');

	while (more == 1) {
		start = c->i;
		if (check_peek(c) != '"' || !check_string(c) ||
		    !check_new_key(c, start, keys, &nkeys))
			return 0;
		check_space(c);
		if (check_peek(c) != ':')
			return 0;
		c->i++;
		check_space(c);
		if (!check_value(c))
			return 0;
		more = check_next(c, '}');
	}
	return more == 0;
}

static int
check_array(struct check *c, size_t *n)
{
	int	more = check_open(c, ']');

	for (*n = 0; more == 1; (*n)++) {
		if (!check_value(c))
			return 0;
		more = check_next(c, ']');
	}
	return more == 0;
}

static int
check_nested(struct check *c)
{
	size_t	n;
	int	ok;

	if (++c->depth > CHECK_MAX_DEPTH)
		return 0;
	ok = check_peek(c) == '[' ? check_array(c, &n) : check_object(c);
	c->depth--;
	return ok;
}

static int
check_value(struct check *c)
{
	switch (check_peek(c)) {
	case '"':
		return check_string(c);
	case '[':
	case '{':
		return check_nested(c);
	case 't':
		return check_literal(c, "true");
	case 'f':
		return check_literal(c, "false");
	case 'n':
		return check_literal(c, "null");
	default:
		return check_number(c);
	}
}

int
json_check_array(const char *s, size_t len, size_t *n)
{
	struct check	c = { (const unsigned char *)s, len, 0, 1 };

	check_space(&c);
	if (check_peek(&c) != '[' || !check_array(&c, n))
		return 0;
	check_space(&c);
	return c.i == len;
}

/* Whether the member key (of outer) of v is an empty array. */
static int
check_hollow_is_empty(json_t *v, const char *outer, const char *key)
{
	json_t	*a;

	if (outer != NULL)
		v = json_object_get(v, outer);
	a = json_object_get(v, key);
	return json_is_array(a) && json_array_size(a) == 0;
}

/*
 * Replacing one value in valid text by another valid value leaves valid
 * text, and jansson reads the rest of it alike: so s is valid exactly
 * when the text around the array, with [] in its place, is.
 */
json_t *
json_load_hollow(const char *s, size_t len, const char *outer,
    const char *key, size_t flags, struct json_hollow *h)
{
	size_t	 os = 0, oe = len, ks, ke, hlen;
	char	*rest;
	json_t	*v;

	if ((outer != NULL && span_member(s, len, outer, &os, &oe) == -1) ||
	    span_member(s + os, oe - os, key, &ks, &ke) == -1 ||
	    !json_check_array(s + os + ks, ke - ks, &h->n))
		return NULL;
	ks += os;
	ke += os;
	hlen = len - (ke - ks) + 2;
	rest = xmalloc(hlen);
	memcpy(rest, s, ks);
	memcpy(rest + ks, "[]", 2);
	memcpy(rest + ks + 2, s + ke, len - ke);
	v = json_loadb(rest, hlen, flags, NULL);
	free(rest);
	/* It is the same member that jansson read. */
	if (!check_hollow_is_empty(v, outer, key)) {
		json_decref(v);
		return NULL;
	}
	h->text = s + ks;
	h->len = ke - ks;
	return v;
}

/*
 * Spans of values in JSON text already accepted by jansson. Knowing the
 * text is valid, finding where a value ends needs only strings (with
 * their escapes) and bracket depth, not a parser.
 */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "json-span.h"

#define SPAN_FAIL	SIZE_MAX

static int
span_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
span_skip_space(const char *s, size_t len, size_t i)
{
	while (i < len && span_space(s[i]))
		i++;
	return i;
}

/* Just past the string whose opening quote is at i. */
static size_t
span_string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return SPAN_FAIL;
}

/* Just past the value that starts at i. */
static size_t
span_value_end(const char *s, size_t len, size_t i)
{
	size_t	depth = 0;

	while (i < len) {
		switch (s[i]) {
		case '"':
			if ((i = span_string_end(s, len, i)) == SPAN_FAIL ||
			    depth == 0)
				return i;
			continue;
		case '[':
		case '{':
			depth++;
			break;
		case ']':
		case '}':
			if (depth == 0)
				return i;	/* a scalar's end */
			if (--depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return i;
			break;
		}
		i++;
	}
	return depth == 0 ? len : SPAN_FAIL;
}

/* Whether the key string at s[i..end) is key; escapes are decoded. */
static int
span_key_is(const char *s, size_t i, size_t end, const char *key)
{
	size_t	 n = end - i - 2;
	json_t	*decoded;
	int	 same;

	if (memchr(s + i + 1, '\\', n) == NULL)
		return n == strlen(key) && memcmp(s + i + 1, key, n) == 0;
	decoded = json_loadb(s + i, end - i, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    NULL);
	same = json_is_string(decoded) &&
	    json_string_length(decoded) == strlen(key) &&
	    memcmp(json_string_value(decoded), key, strlen(key)) == 0;
	json_decref(decoded);
	return same;
}

int
span_member(const char *s, size_t len, const char *key, size_t *start,
    size_t *end)
{
	size_t	i = span_skip_space(s, len, 0), kend, vend;

	if (i >= len || s[i] != '{')
		return -1;
	i = span_skip_space(s, len, i + 1);
	while (i < len && s[i] == '"') {
		if ((kend = span_string_end(s, len, i)) == SPAN_FAIL)
			return -1;
		vend = span_skip_space(s, len, kend);
		if (vend >= len || s[vend] != ':')
			return -1;
		*start = span_skip_space(s, len, vend + 1);
		if ((vend = span_value_end(s, len, *start)) == SPAN_FAIL)
			return -1;
		if (span_key_is(s, i, kend, key)) {
			*end = vend;
			return 0;
		}
		i = span_skip_space(s, len, vend);
		if (i >= len || s[i] != ',')
			return -1;
		i = span_skip_space(s, len, i + 1);
	}
	return -1;
}

int
span_elements(const char *s, size_t len, size_t n, size_t *off)
{
	size_t	i = span_skip_space(s, len, 0), count = 0;

	if (i >= len || s[i] != '[')
		return -1;
	i = span_skip_space(s, len, i + 1);
	while (i < len && s[i] != ']') {
		if (count == n)
			return -1;
		off[count++] = i;
		if ((i = span_value_end(s, len, i)) == SPAN_FAIL)
			return -1;
		i = span_skip_space(s, len, i);
		if (i < len && s[i] == ',')
			i = span_skip_space(s, len, i + 1);
		else if (i >= len || s[i] != ']')
			return -1;
	}
	if (i >= len || count != n)
		return -1;
	off[n] = i;
	return 0;
}

size_t
span_element_end(const char *s, const size_t *off, size_t i)
{
	size_t	end = off[i + 1];

	/* Back over the space and the comma between it and the next. */
	while (end > off[i] && span_space(s[end - 1]))
		end--;
	if (end > off[i] && s[end - 1] == ',')
		end--;
	while (end > off[i] && span_space(s[end - 1]))
		end--;
	return end;
}

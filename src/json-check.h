/*
 * Checking JSON text without building values. A map's iterable is most
 * of a large request, and what the daemon does with its items is pass
 * them on as text; building a jansson value for each item only to check
 * it costs most of the time before the first item runs.
 *
 * The check is sound, not complete: it says yes only for text that
 * json_loadb() accepts with JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL and
 * reads as the same values. Text it cannot vouch for (invalid text, but
 * also escaped surrogates, huge numbers, deep nesting, objects with many
 * or escaped keys) gets no, and its caller lets jansson decide.
 */
#ifndef POOLD_JSON_CHECK_H
#define POOLD_JSON_CHECK_H

#include <stddef.h>

#include <jansson.h>

/* An array left as text inside a value that jansson parsed around it. */
struct json_hollow {
	const char	*text;		/* NULL: none was left */
	size_t		 len;
	size_t		 n;		/* its elements */
};

/*
 * Whether s[0, len) is one array, with nothing around it, that jansson
 * would accept; *n is its element count. 1: yes; 0: not vouched for.
 */
int	json_check_array(const char *s, size_t len, size_t *n);

/*
 * json_loadb(s, len, flags) for an object whose member key (of its
 * member outer, if not NULL) is an array json_check_array() vouches
 * for: that array is not parsed but reads as [] in the value returned,
 * and *h says where its text is in s. NULL if s is not such an object;
 * then nothing is known of s, which the caller parses as usual.
 */
json_t	*json_load_hollow(const char *s, size_t len, const char *outer,
	    const char *key, size_t flags, struct json_hollow *h);

#endif

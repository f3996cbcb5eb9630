/*
 * Where values lie in JSON text that jansson has already accepted.
 * jansson builds values but cannot say where in its input each one was;
 * a map uses these spans to pass its items on as the text they arrived
 * in, rather than encoding every item again.
 *
 * The text must be one that json_loadb() accepted: nothing here
 * validates. Every function stays within the bounds it is given even so,
 * and fails (-1) on text it cannot follow.
 */
#ifndef POOLD_JSON_SPAN_H
#define POOLD_JSON_SPAN_H

#include <stddef.h>

/* The span [*start, *end) of member key's value in the object at s. */
int	span_member(const char *s, size_t len, const char *key, size_t *start,
	    size_t *end);

/*
 * The elements of the array at s: off[i] is where element i starts, for
 * each of the n elements, and off[n] is where the closing bracket is.
 * off has room for n + 1; -1 if the array does not have exactly n.
 */
int	span_elements(const char *s, size_t len, size_t n, size_t *off);

/* The end of element i's text, given span_elements()'s offsets. */
size_t	span_element_end(const char *s, const size_t *off, size_t i);

#endif

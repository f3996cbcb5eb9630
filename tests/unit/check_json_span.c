/*
 * Spans of values in JSON text: each span found must parse back to the
 * value it stands for, whatever the spacing and whatever the strings
 * hold.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json-span.h"
#include "suites.h"

/* Strings that look like structure, or hide it behind escapes. */
static const char *const awkward[] = {
	"", "]", "[", "}", "{", ",", "\"", "\\", "\\\"", "a, b", " ]",
	"line\nbreak", "tab\t", "caf\xc3\xa9", "\xf0\x9f\x98\x80", "\"]}",
};

static json_t *
random_value(unsigned *seed, int depth)
{
	json_t	*v;
	int	 i, n;

	switch (rand_r(seed) % (depth > 0 ? 8 : 6)) {
	case 0:
		return json_integer(rand_r(seed) - RAND_MAX / 2);
	case 1:
		return json_real((double)rand_r(seed) / 7.0);
	case 2:
		return json_string(awkward[rand_r(seed) % (sizeof awkward /
		    sizeof *awkward)]);
	case 3:
		return json_stringn("nul\0inside", 10);
	case 4:
		return rand_r(seed) % 2 ? json_true() : json_null();
	case 5:
		return json_false();
	case 6:
		v = json_array();
		n = rand_r(seed) % 4;
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(seed, depth - 1));
		return v;
	default:
		v = json_object();
		n = rand_r(seed) % 4;
		for (i = 0; i < n; i++)
			json_object_set_new(v, awkward[rand_r(seed) %
			    (sizeof awkward / sizeof *awkward)],
			    random_value(seed, depth - 1));
		return v;
	}
}

static void
check_elements(json_t *array, size_t flags)
{
	char	*text = json_dumps(array, flags);
	size_t	 n = json_array_size(array), i, end;
	size_t	*off = calloc(n + 1, sizeof *off);
	json_t	*back;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(span_elements(text, strlen(text), n, off), 0);
	for (i = 0; i < n; i++) {
		end = span_element_end(text, off, i);
		back = json_loadb(text + off[i], end - off[i],
		    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		ck_assert_msg(json_equal(back, json_array_get(array, i)),
		    "element %zu of %s", i, text);
		json_decref(back);
	}
	/* Any other count is refused. */
	ck_assert_int_eq(span_elements(text, strlen(text), n + 1, off), -1);
	if (n > 0)
		ck_assert_int_eq(span_elements(text, strlen(text), n - 1, off),
		    -1);
	free(off);
	free(text);
}

START_TEST(test_span_elements_of_random_arrays)
{
	unsigned	 seed = 12345;
	json_t		*a;
	int		 round, i, n;

	for (round = 0; round < 300; round++) {
		a = json_array();
		n = rand_r(&seed) % 12;
		for (i = 0; i < n; i++)
			json_array_append_new(a, random_value(&seed, 3));
		check_elements(a, JSON_COMPACT);
		check_elements(a, 0);
		check_elements(a, JSON_INDENT(3));
		json_decref(a);
	}
}
END_TEST

START_TEST(test_span_elements_with_odd_spacing)
{
	const char	*text = " [ 1 ,\n\t\"a,]\" ,[ 2, [] ] , {\"k\" : [3]}\r\n] ";
	const char	*want[] = { "1", "\"a,]\"", "[ 2, [] ]",
			    "{\"k\" : [3]}" };
	size_t		 off[5], i, end;

	ck_assert_int_eq(span_elements(text, strlen(text), 4, off), 0);
	for (i = 0; i < 4; i++) {
		end = span_element_end(text, off, i);
		ck_assert_uint_eq(end - off[i], strlen(want[i]));
		ck_assert(memcmp(text + off[i], want[i], strlen(want[i])) == 0);
	}
	ck_assert_int_eq(span_elements(" [ ] ", 5, 0, off), 0);
	ck_assert_int_eq(span_elements("{}", 2, 0, off), -1);
	ck_assert_int_eq(span_elements("[1, 2", 5, 2, off), -1);
}
END_TEST

START_TEST(test_span_member)
{
	const char	*text = "{\"params\": {\"x\": {\"iterable\": 0}, "
			    "\"iter\\u0061ble\" : [1, \"]\"] }, \"id\": 1}";
	size_t		 start, end, ps, pe;

	ck_assert_int_eq(span_member(text, strlen(text), "params", &ps, &pe),
	    0);
	/* The member of params, not the one nested deeper; escapes count. */
	ck_assert_int_eq(span_member(text + ps, pe - ps, "iterable", &start,
	    &end), 0);
	ck_assert_uint_eq(end - start, strlen("[1, \"]\"]"));
	ck_assert(memcmp(text + ps + start, "[1, \"]\"]", end - start) == 0);
	ck_assert_int_eq(span_member(text, strlen(text), "id", &start, &end),
	    0);
	ck_assert_uint_eq(end - start, 1);
	ck_assert_int_eq(span_member(text, strlen(text), "iterable", &start,
	    &end), -1);
	ck_assert_int_eq(span_member("[1]", 3, "a", &start, &end), -1);
	ck_assert_int_eq(span_member("{\"a\": 1", 7, "b", &start, &end), -1);
}
END_TEST

Suite *
json_span_suite(void)
{
	Suite	*s = suite_create("json-span");
	TCase	*tc = tcase_create("spans");

	tcase_add_test(tc, test_span_elements_of_random_arrays);
	tcase_add_test(tc, test_span_elements_with_odd_spacing);
	tcase_add_test(tc, test_span_member);
	suite_add_tcase(s, tc);
	return s;
}

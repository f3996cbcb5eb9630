/*
 * The checker must never vouch for text jansson refuses, nor count its
 * elements wrong: it is tried on mutations of valid text, many of them
 * invalid, and every yes is held against jansson. It must also vouch for
 * the text clients commonly send, or maps lose their fast path.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json-check.h"
#include "suites.h"

#define JANSSON_FLAGS	(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/* Whether jansson reads text as an array of n elements. */
static int
jansson_array_of(const char *text, size_t len, size_t n)
{
	json_t	*v = json_loadb(text, len, JANSSON_FLAGS, NULL);
	int	 ok = json_is_array(v) && json_array_size(v) == n;

	json_decref(v);
	return ok;
}

static int
checks(const char *text, size_t *n)
{
	return json_check_array(text, strlen(text), n);
}

START_TEST(test_vouches_for_common_text)
{
	static const struct {
		const char	*text;
		size_t		 n;
	} cases[] = {
		{ "[]", 0 },
		{ " [ 1 ,\n\t2 ]\r\n", 2 },
		{ "[0,-0,7,-12,999999999999999999,-999999999999999999]", 6 },
		{ "[0.5,-1.25e-10,1E+2,3e99,123456789.123456789012]", 5 },
		{ "[true,false,null]", 3 },
		{ "[\"\",\"a b\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u0000\"]", 4 },
		{ "[\"\\u00e9\\uFFFF\",\"caf\xc3\xa9\",\"\xf0\x9f\x98\x80\"]", 3 },
		{ "[\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"]",
		    1 },
		{ "[[1,[2,[]]],{},{\"a\":1,\"b\":[{\"a\":2}]},[\"]\",\"{\"]]", 4 },
		{ "[{\"k\":1, \"K\":2, \"k2\":3}]", 1 },
	};
	size_t	i, n;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_msg(checks(cases[i].text, &n), "%s", cases[i].text);
		ck_assert_uint_eq(n, cases[i].n);
		ck_assert(jansson_array_of(cases[i].text,
		    strlen(cases[i].text), n));
	}
}
END_TEST

START_TEST(test_declines_invalid_text)
{
	static const char *const cases[] = {
		"", " ", "[", "]", "[1", "[1,]", "[,1]", "[1 2]", "[1] x",
		"[1]]", "{}", "1", "\"a\"", "[01]", "[1.]", "[.5]", "[-]",
		"[1e]", "[1e+]", "[+1]", "[0x10]", "[NaN]", "[Infinity]",
		"[truex]", "[tru]", "[nul]", "[True]", "['a']", "[\"a]",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"tab\there\"]",
		"[\"\x01\"]", "[\"\xc0\x80\"]", "[\"\xc1\xbf\"]", "[\"\x80\"]",
		"[\"\xe0\x80\x80\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
		"[\"\xf5\x80\x80\x80\"]", "[\"\xe2\x82\"]", "[\"\xff\"]",
		"[{\"a\":1,\"a\":2}]", "[{\"a\" 1}]", "[{1:2}]", "[{\"a\":1,}]",
		"[\xef\xbb\xbf]", "[1]\n[2]",
	};
	size_t	i, n;

	for (i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_msg(!checks(cases[i], &n), "%s", cases[i]);
	/* A NUL byte is text, not an end. */
	ck_assert(!json_check_array("[\"a\0\"]", 6, &n));
	ck_assert(!json_check_array("[1]\0", 4, &n));
}
END_TEST

/* Valid, but for jansson to judge: its limits, its way with keys. */
START_TEST(test_declines_what_jansson_must_judge)
{
	static const char *const cases[] = {
		"[1234567890123456789]", "[-9223372036854775809]",
		"[18446744073709551616]", "[1e400]", "[1e308]", "[1e-400]",
		"[1234567890123456789012345.0]", "[\"\\ud83d\\ude00\"]",
		"[\"\\ud800\"]", "[\"\\udc00\"]", "[{\"a\":1,\"\\u0061\":2}]",
		"[{\"\\u0061\":1}]",
		"[{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,"
		"\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,"
		"\"o\":15,\"p\":16,\"q\":17}]",
	};
	char	deep[300];
	size_t	i, n;

	for (i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_msg(!checks(cases[i], &n), "%s", cases[i]);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ck_assert(!json_check_array(deep, 200, &n));
	ck_assert(json_check_array(deep + 40, 120, &n));
	ck_assert_uint_eq(n, 1);
}
END_TEST

static const char alphabet[] = "[]{},:\" \\u0123456789abcdeEf+-.tnrl"
    "\x01\x1f\x7f\x80\xbf\xc2\xe0\xed\xf0\xf4\xff";

static void
random_text(unsigned *seed, char *buf, size_t *len, int depth)
{
	static const char *const atoms[] = {
		"1", "-0", "12.5e-3", "true", "false", "null", "\"\"",
		"\"a\\\"b\"", "\"\\u00e9\"", "\"caf\xc3\xa9\"", "{}", "[]",
		"{\"a\":1,\"b\":[2]}", "999999999999999999", "\"\\\\\"",
	};
	int	i, n = rand_r(seed) % 5;

	buf[(*len)++] = '[';
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf[(*len)++] = ',';
		if (depth > 0 && rand_r(seed) % 4 == 0)
			random_text(seed, buf, len, depth - 1);
		else {
			const char *a = atoms[rand_r(seed) %
			    (sizeof atoms / sizeof *atoms)];

			memcpy(buf + *len, a, strlen(a));
			*len += strlen(a);
		}
	}
	buf[(*len)++] = ']';
}

/* Insert, delete or replace a byte: mostly breaking the text. */
static void
mutate(unsigned *seed, char *buf, size_t *len)
{
	size_t	at = *len > 0 ? (size_t)rand_r(seed) % *len : 0;
	char	c = alphabet[rand_r(seed) % (sizeof alphabet - 1)];

	switch (rand_r(seed) % 3) {
	case 0:
		memmove(buf + at + 1, buf + at, *len - at);
		buf[at] = c;
		(*len)++;
		break;
	case 1:
		if (*len > 0) {
			memmove(buf + at, buf + at + 1, *len - at - 1);
			(*len)--;
		}
		break;
	default:
		if (*len > 0)
			buf[at] = c;
	}
}

START_TEST(test_every_yes_is_janssons)
{
	unsigned	seed = 4242;
	char		buf[4096];
	size_t		len, n;
	int		round, k, yes = 0, no = 0;

	for (round = 0; round < 200000; round++) {
		len = 0;
		random_text(&seed, buf, &len, 3);
		for (k = rand_r(&seed) % 3; k > 0 && len < 4000; k--)
			mutate(&seed, buf, &len);
		if (json_check_array(buf, len, &n)) {
			yes++;
			ck_assert_msg(jansson_array_of(buf, len, n),
			    "vouched for %.*s", (int)len, buf);
		} else
			no++;
	}
	/* Both answers came up often, or the test proved little. */
	ck_assert_int_gt(yes, 50000);
	ck_assert_int_gt(no, 50000);
}
END_TEST

Suite *
json_check_suite(void)
{
	Suite	*s = suite_create("json-check");
	TCase	*tc = tcase_create("check");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_vouches_for_common_text);
	tcase_add_test(tc, test_declines_invalid_text);
	tcase_add_test(tc, test_declines_what_jansson_must_judge);
	tcase_add_test(tc, test_every_yes_is_janssons);
	suite_add_tcase(s, tc);
	return s;
}

/* The built-in functions: what they accept and what they return. */
#include "autoconf.h"

#include <stdlib.h>

#include "fn.h"
#include "suites.h"

static int
no_pause(struct fn_call *call, double seconds)
{
	return 0;
}

static int
interrupted(struct fn_call *call, double seconds)
{
	return -1;
}

static int
check(const struct fn *fn, const char *args, const char *kwargs,
    const char **param)
{
	json_t	*a = json_loads(args, 0, NULL), *k = json_loads(kwargs, 0, NULL);
	char	*why = NULL;
	int	 rc;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(k);
	*param = NULL;
	rc = fn->check(a, k, param, &why);
	if (rc == -1)
		ck_assert_ptr_nonnull(why);
	free(why);
	json_decref(a);
	json_decref(k);
	return rc;
}

START_TEST(test_fn_table)
{
	ck_assert_ptr_eq(fn_find("echo"), &fn_echo);
	ck_assert_ptr_eq(fn_find("sleep"), &fn_sleep);
	ck_assert_ptr_null(fn_find("nope"));
	ck_assert_ptr_eq(fn_find("exec"), &fn_exec);
	ck_assert_uint_eq(fn_count(), 3);
	ck_assert(fn_allows(&fn_echo, EXECUTOR_THREAD));
	ck_assert(fn_allows(&fn_echo, EXECUTOR_PROCESS));
	ck_assert_int_eq(fn_echo.default_executor, EXECUTOR_THREAD);
}
END_TEST

START_TEST(test_fn_checks)
{
	const char	*param;

	ck_assert_int_eq(check(&fn_echo, "[{\"a\": 1}]", "{}", &param), 0);
	ck_assert_int_eq(check(&fn_echo, "[]", "{}", &param), -1);
	ck_assert_str_eq(param, "args");
	ck_assert_int_eq(check(&fn_echo, "[1, 2]", "{}", &param), -1);
	ck_assert_int_eq(check(&fn_echo, "[1]", "{\"x\": 1}", &param), -1);
	ck_assert_str_eq(param, "kwargs");
	ck_assert_int_eq(check(&fn_sleep, "[0.5]", "{}", &param), 0);
	ck_assert_int_eq(check(&fn_sleep, "[0]", "{}", &param), 0);
	ck_assert_int_eq(check(&fn_sleep, "[-1]", "{}", &param), -1);
	ck_assert_int_eq(check(&fn_sleep, "[\"1\"]", "{}", &param), -1);
	ck_assert_int_eq(check(&fn_sleep, "[]", "{}", &param), -1);
	ck_assert_str_eq(param, "args");
}
END_TEST

START_TEST(test_fn_run)
{
	struct fn_call	call = { 0 };

	call.args = json_pack("[{s:[i,i]}]", "a", 1, 2);
	call.kwargs = json_object();
	call.pause = no_pause;
	fn_echo.run(&call);
	ck_assert(json_equal(call.result, json_array_get(call.args, 0)));
	json_decref(call.result);
	json_decref(call.args);

	call.result = NULL;
	call.args = json_pack("[f]", 0.25);
	fn_sleep.run(&call);
	ck_assert(json_real_value(call.result) == 0.25);
	json_decref(call.result);

	call.result = NULL;
	call.pause = interrupted;
	fn_sleep.run(&call);
	ck_assert_ptr_null(call.result);
	ck_assert_str_eq(json_string_value(json_object_get(call.error,
	    "type")), "Interrupted");
	json_decref(call.error);
	json_decref(call.args);
	json_decref(call.kwargs);
}
END_TEST

/* Claims names under "p:" made of lower-case letters only. */
static int
claims_letters(const struct fn *fn, const char *name)
{
	const char	*c;

	for (c = name + fn->prefix; *c != '\0'; c++) {
		if (*c < 'a' || *c > 'z')
			return 0;
	}
	return 1;
}

START_TEST(test_fn_prefixes)
{
	struct fn	 p = { .name = "p:*", .prefix = 2,
	    .claims = claims_letters };
	struct fn	 pq = { .name = "p:q*", .prefix = 3 };
	struct fn	 exact = { .name = "p:exact" };
	struct fn	 dup = { .name = "p:*" };
	struct fn_call	 call = { .fn = &p };

	ck_assert_int_eq(fn_register(&p), 0);
	ck_assert_int_eq(fn_register(&exact), 0);
	ck_assert_int_eq(fn_register(&dup), -1);
	ck_assert_ptr_eq(fn_find("p:abc"), &p);
	ck_assert_ptr_eq(fn_find("p:exact"), &exact);
	ck_assert_ptr_null(fn_find("p:"));
	ck_assert_ptr_null(fn_find("p:*"));
	ck_assert_ptr_null(fn_find("p:ABC"));
	ck_assert_ptr_null(fn_find("q:abc"));
	ck_assert_ptr_eq(fn_find("p:qz"), &p);
	/* A longer prefix wins; where it does not claim, the shorter may. */
	ck_assert_int_eq(fn_register(&pq), 0);
	ck_assert_ptr_eq(fn_find("p:qz"), &pq);
	ck_assert_ptr_eq(fn_find("p:qZ"), &pq);
	ck_assert_ptr_eq(fn_find("p:abc"), &p);
	ck_assert_str_eq(fn_call_name(&call), "p:*");
	call.name = "p:abc";
	ck_assert_str_eq(fn_call_name(&call), "p:abc");
	fn_unregister_all();
	ck_assert_ptr_null(fn_find("p:abc"));
	ck_assert_uint_eq(fn_count(), 3);
}
END_TEST

Suite *
fn_suite(void)
{
	Suite	*s = suite_create("fn");
	TCase	*tc = tcase_create("Built-ins");

	tcase_add_test(tc, test_fn_table);
	tcase_add_test(tc, test_fn_checks);
	tcase_add_test(tc, test_fn_run);
	suite_add_tcase(s, tc);
	tc = tcase_create("Prefix functions");
	tcase_add_test(tc, test_fn_prefixes);
	suite_add_tcase(s, tc);
	return s;
}

/* The future store: ids, ownership, states, watches, forget and TTL. */
#include "autoconf.h"

#include <string.h>

#include <event2/event.h>

#include "fn.h"
#include "future.h"
#include "suites.h"

static struct event_base	*base;

static void
setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	future_store_init(base, 3600);
}

static void
teardown(void)
{
	future_store_free();
	event_base_free(base);
}

static struct future *
new_future(uid_t owner)
{
	return future_new(owner, &fn_echo, json_pack("[i]", 7), json_object(),
	    EXECUTOR_THREAD);
}

START_TEST(test_future_ids_and_lookup)
{
	struct future	*a = new_future(1000), *b = new_future(1000);

	ck_assert_str_ne(a->name, b->name);
	ck_assert_int_eq(strlen(a->name), 18);
	ck_assert_ptr_eq(future_lookup(a->name, 1000, 0), a);
	ck_assert_ptr_eq(future_lookup(b->name, 1000, 0), b);
	ck_assert_ptr_null(future_lookup("f-0000000000000000", 1000, 0));
	ck_assert_ptr_null(future_lookup("nonsense", 1000, 0));
	ck_assert_ptr_null(future_lookup("f-ZZZZZZZZZZZZZZZZ", 1000, 0));
	ck_assert_uint_eq(future_store_counts()->pending, 2);
}
END_TEST

START_TEST(test_future_owner_only)
{
	struct future	*f = new_future(1000);

	ck_assert_ptr_null(future_lookup(f->name, 1001, 0));
	ck_assert_ptr_eq(future_lookup(f->name, 1001, 1), f);
}
END_TEST

START_TEST(test_future_many_survive_growth)
{
	struct future	*f[5000];
	int		 i;

	for (i = 0; i < 5000; i++)
		f[i] = new_future(0);
	for (i = 0; i < 5000; i++)
		ck_assert_ptr_eq(future_lookup(f[i]->name, 0, 0), f[i]);
	ck_assert_ptr_eq(future_newest(), f[4999]);
	ck_assert_ptr_eq(future_older(f[1]), f[0]);
}
END_TEST

START_TEST(test_future_json)
{
	struct future	*f = new_future(0);
	json_t		*o;

	o = future_to_json(f, 1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")),
	    "pending");
	ck_assert_ptr_null(json_object_get(o, "started"));
	ck_assert_ptr_null(json_object_get(o, "result"));
	json_decref(o);

	future_start(f);
	future_finish(f, json_integer(42));
	o = future_to_json(f, 1);
	ck_assert_str_eq(json_string_value(json_object_get(o, "state")),
	    "finished");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "result")), 42);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "attempts")), 1);
	ck_assert_ptr_nonnull(json_object_get(o, "finished"));
	json_decref(o);
	o = future_to_json(f, 0);
	ck_assert_ptr_null(json_object_get(o, "result"));
	json_decref(o);
}
END_TEST

static int	fired;

static void
count_fired(struct future_watch *w, struct future *f)
{
	fired++;
	ck_assert(future_is_done(f));
}

START_TEST(test_future_watch_fires_once)
{
	struct future		*f = new_future(0), *g = new_future(0);
	struct future_watch	 w1, w2, w3;

	fired = 0;
	future_watch(f, &w1, count_fired, NULL);
	future_watch(f, &w2, count_fired, NULL);
	future_watch(g, &w3, count_fired, NULL);
	future_unwatch(&w2);
	future_fail(f, future_error("TaskError", "boom"));
	ck_assert_int_eq(fired, 1);
	ck_assert_ptr_null(w1.future);
	future_unwatch(&w1);		/* after firing: harmless */
	future_cancel(g);
	ck_assert_int_eq(fired, 2);
	ck_assert_uint_eq(future_store_counts()->failed, 1);
	ck_assert_uint_eq(future_store_counts()->cancelled, 1);
}
END_TEST

START_TEST(test_future_forget_done_only)
{
	struct future	*f = new_future(0), *g = new_future(0);
	char		 name[20];

	memcpy(name, f->name, sizeof name);
	future_forget(g);			/* pending: left alone */
	ck_assert_ptr_eq(future_lookup(g->name, 0, 0), g);
	future_finish(f, json_true());
	future_forget(f);
	ck_assert_ptr_null(future_lookup(name, 0, 0));
	ck_assert_uint_eq(future_store_counts()->stored, 1);
}
END_TEST

START_TEST(test_future_ttl_expires)
{
	struct future	*f, *g;
	char		 name[20];

	future_store_set_ttl(0.05);
	f = new_future(0);
	g = new_future(0);
	memcpy(name, f->name, sizeof name);
	future_finish(f, json_true());
	/* The TTL timer is the only event: the loop returns once it ran. */
	ck_assert_int_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_ptr_null(future_lookup(name, 0, 0));
	ck_assert_ptr_eq(future_lookup(g->name, 0, 0), g);
}
END_TEST

Suite *
future_suite(void)
{
	Suite	*s = suite_create("future");
	TCase	*tc = tcase_create("Store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_future_ids_and_lookup);
	tcase_add_test(tc, test_future_owner_only);
	tcase_add_test(tc, test_future_many_survive_growth);
	tcase_add_test(tc, test_future_json);
	suite_add_tcase(s, tc);
	tc = tcase_create("Completion");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_future_watch_fires_once);
	tcase_add_test(tc, test_future_forget_done_only);
	tcase_add_test(tc, test_future_ttl_expires);
	suite_add_tcase(s, tc);
	return s;
}

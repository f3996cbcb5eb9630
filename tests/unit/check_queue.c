/* The priority queue: order, ties, removal. */
#include "autoconf.h"

#include <stdlib.h>

#include "queue.h"
#include "suites.h"

static struct queue_item *
item(int64_t priority, uint64_t seq)
{
	struct queue_item	*it = calloc(1, sizeof *it);

	ck_assert_ptr_nonnull(it);
	it->priority = priority;
	it->seq = seq;
	return it;
}

START_TEST(test_queue_priority_order)
{
	struct queue		 q;
	struct queue_item	*a = item(0, 1), *b = item(5, 2), *c = item(-3, 3);
	struct queue_item	*d = item(5, 4);

	queue_init(&q);
	queue_push(&q, a);
	queue_push(&q, b);
	queue_push(&q, c);
	queue_push(&q, d);
	ck_assert_uint_eq(queue_len(&q), 4);
	ck_assert_ptr_eq(queue_peek(&q), b);
	ck_assert_ptr_eq(queue_pop(&q), b);
	ck_assert_ptr_eq(queue_pop(&q), d);	/* equal priority: older first */
	ck_assert_ptr_eq(queue_pop(&q), a);
	ck_assert_ptr_eq(queue_pop(&q), c);
	ck_assert_ptr_null(queue_pop(&q));
	ck_assert(!queue_contains(a));
	queue_free(&q);
	free(a); free(b); free(c); free(d);
}
END_TEST

START_TEST(test_queue_remove_keeps_order)
{
	struct queue		 q;
	struct queue_item	*items[200];
	int			 i;
	int64_t			 last = INT64_MAX;
	uint64_t		 last_seq = 0;

	queue_init(&q);
	for (i = 0; i < 200; i++) {
		items[i] = item((i * 7919) % 13, (uint64_t)i);
		queue_push(&q, items[i]);
	}
	for (i = 0; i < 200; i += 3) {
		queue_remove(&q, items[i]);
		ck_assert(!queue_contains(items[i]));
		queue_remove(&q, items[i]);	/* twice is harmless */
	}
	ck_assert_uint_eq(queue_len(&q), 200 - 67);
	while (queue_len(&q) > 0) {
		struct queue_item	*it = queue_pop(&q);

		ck_assert(it->seq % 3 != 0);
		ck_assert(it->priority <= last);
		if (it->priority == last)
			ck_assert(it->seq > last_seq);
		last = it->priority;
		last_seq = it->seq;
	}
	queue_free(&q);
	for (i = 0; i < 200; i++)
		free(items[i]);
}
END_TEST

Suite *
queue_suite(void)
{
	Suite	*s = suite_create("queue");
	TCase	*tc = tcase_create("Priority order");

	tcase_add_test(tc, test_queue_priority_order);
	tcase_add_test(tc, test_queue_remove_keeps_order);
	suite_add_tcase(s, tc);
	return s;
}

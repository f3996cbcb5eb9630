/* The journal's format: CRC, header, records, torn and corrupt tails, replay. */
#include "autoconf.h"

#include <string.h>

#include "crc32.h"
#include "jbuf.h"
#include "journal-record.h"
#include "journal-replay.h"
#include "suites.h"

static size_t
add_rec(struct jbuf *b, enum journal_type type, uint64_t id, const char *body)
{
	size_t	start = journal_record_begin(b, type, id);

	if (body != NULL)
		jbuf_str(b, body);
	return journal_record_end(b, start);
}

static void
add_header(struct jbuf *b)
{
	char	hdr[JOURNAL_HEADER_SIZE];

	journal_header(hdr);
	jbuf_add(b, hdr, sizeof hdr);
}

#define ACCEPT(retries, attempts) "{\"owner\":1000,\"fn\":\"echo\"," \
	"\"executor\":\"thread\",\"priority\":0,\"retries\":" #retries "," \
	"\"attempts\":" #attempts ",\"timeout\":null,\"submitted\":1.5," \
	"\"args\":[1],\"kwargs\":{}}"
#define START(attempts, retries) "{\"attempts\":" #attempts ",\"retries\":" \
	#retries ",\"started\":2.5}"
#define END(state) "{\"state\":\"" state "\",\"attempts\":1,\"worker\":0," \
	"\"finished\":3.5,\"result\":7}"

START_TEST(test_crc32_known)
{
	const char	*s = "123456789";
	uint32_t	 crc;

	/* The check value of CRC-32/ISO-HDLC. */
	ck_assert_uint_eq(crc32_update(0, s, 9), 0xcbf43926U);
	crc = crc32_update(0, s, 4);
	ck_assert_uint_eq(crc32_update(crc, s + 4, 5), 0xcbf43926U);
	ck_assert_uint_eq(crc32_update(0, "", 0), 0);
}
END_TEST

START_TEST(test_header_checks)
{
	char		 hdr[JOURNAL_HEADER_SIZE], bad[JOURNAL_HEADER_SIZE];
	const char	*why = NULL;

	journal_header(hdr);
	ck_assert_int_eq(journal_header_check(hdr, sizeof hdr, &why), 0);
	ck_assert_int_eq(journal_header_check(hdr, sizeof hdr - 1, &why), -1);
	ck_assert_str_eq(why, "not a poold journal");

	memcpy(bad, hdr, sizeof bad);
	bad[0] = 'X';
	ck_assert_int_eq(journal_header_check(bad, sizeof bad, &why), -1);
	ck_assert_str_eq(why, "not a poold journal");

	memcpy(bad, hdr, sizeof bad);
	bad[13] ^= 1;
	ck_assert_int_eq(journal_header_check(bad, sizeof bad, &why), -1);
	ck_assert_str_eq(why, "its header is corrupt");

	/* A later version, with a header that is whole. */
	memcpy(bad, hdr, sizeof bad);
	bad[8] = JOURNAL_VERSION + 1;
	{
		uint32_t	crc = crc32_update(0, bad, 12);
		int		i;

		for (i = 0; i < 4; i++)
			bad[12 + i] = (char)(crc >> (8 * i));
	}
	ck_assert_int_eq(journal_header_check(bad, sizeof bad, &why), -1);
	ck_assert_str_eq(why, "it is of another format version");
}
END_TEST

START_TEST(test_records_read_back)
{
	struct jbuf		b = { 0 };
	struct journal_rec	rec;
	size_t			off = JOURNAL_HEADER_SIZE, n1, n2;

	add_header(&b);
	n1 = add_rec(&b, JOURNAL_ACCEPT, UINT64_C(0x5c46ec7080000001),
	    ACCEPT(0, 0));
	n2 = add_rec(&b, JOURNAL_DROP, 42, NULL);
	ck_assert_uint_eq(n1, JOURNAL_RECORD_HEAD + strlen(ACCEPT(0, 0)));
	ck_assert_uint_eq(n2, JOURNAL_RECORD_HEAD);

	ck_assert_int_eq(journal_record_next(b.data, b.len, off, &rec),
	    JOURNAL_SCAN_OK);
	ck_assert_int_eq(rec.type, JOURNAL_ACCEPT);
	ck_assert(rec.id == UINT64_C(0x5c46ec7080000001));
	ck_assert_uint_eq(rec.size, n1);
	ck_assert_uint_eq(rec.body_len, strlen(ACCEPT(0, 0)));
	ck_assert(memcmp(rec.body, ACCEPT(0, 0), rec.body_len) == 0);
	off += rec.size;
	ck_assert_int_eq(journal_record_next(b.data, b.len, off, &rec),
	    JOURNAL_SCAN_OK);
	ck_assert_int_eq(rec.type, JOURNAL_DROP);
	ck_assert(rec.id == 42);
	ck_assert_uint_eq(rec.body_len, 0);
	off += rec.size;
	ck_assert_int_eq(journal_record_next(b.data, b.len, off, &rec),
	    JOURNAL_SCAN_END);
	jbuf_free(&b);
}
END_TEST

/* Cut anywhere in the last record: it alone is lost, never read wrong. */
START_TEST(test_torn_tail_every_cut)
{
	struct jbuf		 b = { 0 };
	struct journal_replay	 r;
	const char		*why;
	size_t			 good, cut;

	add_header(&b);
	add_rec(&b, JOURNAL_ACCEPT, 1, ACCEPT(0, 0));
	good = b.len;
	add_rec(&b, JOURNAL_END, 1, END("finished"));
	for (cut = good + 1; cut < b.len; cut++) {
		struct journal_rec	rec;

		ck_assert_int_eq(journal_record_next(b.data, cut, good, &rec),
		    JOURNAL_SCAN_TORN);
		journal_replay_init(&r);
		ck_assert_uint_eq(journal_replay_scan(&r, b.data, cut, &why),
		    good);
		ck_assert_ptr_nonnull(why);
		ck_assert_uint_eq(r.n, 1);
		ck_assert_ptr_null(r.entries[0].end);
		journal_replay_free(&r);
	}
	journal_replay_init(&r);
	ck_assert_uint_eq(journal_replay_scan(&r, b.data, b.len, &why), b.len);
	ck_assert_ptr_null(why);
	ck_assert_ptr_nonnull(r.entries[0].end);
	journal_replay_free(&r);
	jbuf_free(&b);
}
END_TEST

/* Any byte of a record changed: the record is never taken as good. */
START_TEST(test_corrupt_record_every_byte)
{
	struct jbuf		 b = { 0 };
	struct journal_rec	 rec;
	size_t			 start, i;
	int			 bit;

	add_header(&b);
	start = b.len;
	add_rec(&b, JOURNAL_START, 9, START(1, 0));
	for (i = start; i < b.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			b.data[i] ^= (char)(1 << bit);
			ck_assert_int_ne(journal_record_next(b.data, b.len,
			    start, &rec), JOURNAL_SCAN_OK);
			b.data[i] ^= (char)(1 << bit);
		}
	}
	ck_assert_int_eq(journal_record_next(b.data, b.len, start, &rec),
	    JOURNAL_SCAN_OK);
	jbuf_free(&b);
}
END_TEST

static void
replay_one(struct journal_replay *r, enum journal_type type, uint64_t id,
    const char *body, int expect)
{
	struct jbuf		 b = { 0 };
	struct journal_rec	 rec;
	const char		*why = NULL;

	add_rec(&b, type, id, body);
	ck_assert_int_eq(journal_record_next(b.data, b.len, 0, &rec),
	    JOURNAL_SCAN_OK);
	ck_assert_int_eq(journal_replay_apply(r, &rec, &why), expect);
	if (expect == -1)
		ck_assert_ptr_nonnull(why);
	jbuf_free(&b);
}

START_TEST(test_replay_life)
{
	struct journal_replay	 r;
	struct journal_entry	*e;

	journal_replay_init(&r);
	replay_one(&r, JOURNAL_ACCEPT, 10, ACCEPT(2, 0), 0);
	e = journal_replay_find(&r, 10);
	ck_assert_ptr_nonnull(e);
	ck_assert(!e->running && e->attempts == 0 && e->retries == 2);

	replay_one(&r, JOURNAL_START, 10, START(1, 2), 0);
	e = journal_replay_find(&r, 10);
	ck_assert(e->running && e->attempts == 1 && e->retries == 2);
	ck_assert(e->started == 2.5);

	/* A retry: the second attempt with one retry left. */
	replay_one(&r, JOURNAL_START, 10, START(2, 1), 0);
	e = journal_replay_find(&r, 10);
	ck_assert(e->attempts == 2 && e->retries == 1);

	replay_one(&r, JOURNAL_END, 10, END("finished"), 0);
	e = journal_replay_find(&r, 10);
	ck_assert(!e->running);
	ck_assert_ptr_nonnull(e->end);
	ck_assert_str_eq(json_string_value(json_object_get(e->end, "state")),
	    "finished");

	/* Done is final: a later start or end changes nothing. */
	replay_one(&r, JOURNAL_START, 10, START(3, 0), 0);
	replay_one(&r, JOURNAL_END, 10, END("cancelled"), 0);
	e = journal_replay_find(&r, 10);
	ck_assert(!e->running && e->attempts == 2);
	ck_assert_str_eq(json_string_value(json_object_get(e->end, "state")),
	    "finished");

	replay_one(&r, JOURNAL_DROP, 10, NULL, 0);
	ck_assert(journal_replay_find(&r, 10)->dropped);
	ck_assert_ptr_null(journal_replay_find(&r, 10)->accept);
	/* Dropped for good, even if its acceptance comes again. */
	replay_one(&r, JOURNAL_ACCEPT, 10, ACCEPT(0, 0), 0);
	ck_assert(journal_replay_find(&r, 10)->dropped);
	ck_assert_uint_eq(r.next_id, 11);
	journal_replay_free(&r);
}
END_TEST

/* What a snapshot taken while futures changed leaves: each rule holds. */
START_TEST(test_replay_fuzzy_snapshot)
{
	struct journal_replay	 r;
	struct journal_entry	*e;

	journal_replay_init(&r);
	/* Snapshot: 5 pending after one attempt; 6 running. */
	replay_one(&r, JOURNAL_NEXT_ID, 100, NULL, 0);
	replay_one(&r, JOURNAL_ACCEPT, 5, ACCEPT(1, 1), 0);
	replay_one(&r, JOURNAL_ACCEPT, 6, ACCEPT(0, 1), 0);
	replay_one(&r, JOURNAL_START, 6, START(1, 0), 0);
	/* Delta: an older start of 5, a second acceptance of 6, its end. */
	replay_one(&r, JOURNAL_START, 5, START(0, 2), 0);
	replay_one(&r, JOURNAL_ACCEPT, 6, ACCEPT(7, 0), 0);
	replay_one(&r, JOURNAL_END, 6, "{\"state\":\"bogus\",\"finished\":4}",
	    -1);
	replay_one(&r, JOURNAL_END, 6, "{\"state\":\"failed\",\"finished\":4,"
	    "\"error\":{\"type\":\"TaskError\",\"message\":\"x\"}}", 0);
	/* A drop of a future the snapshot did not hold. */
	replay_one(&r, JOURNAL_DROP, 3, NULL, 0);

	e = journal_replay_find(&r, 5);
	ck_assert(!e->running && e->attempts == 1 && e->retries == 1);
	e = journal_replay_find(&r, 6);
	ck_assert_ptr_nonnull(e->end);
	ck_assert_int_eq(json_integer_value(json_object_get(e->accept,
	    "retries")), 0);
	ck_assert_ptr_null(journal_replay_find(&r, 3));
	ck_assert_uint_eq(r.next_id, 100);
	ck_assert_uint_eq(r.n, 2);
	journal_replay_free(&r);
}
END_TEST

START_TEST(test_replay_skips_bad_content)
{
	struct journal_replay	r;

	journal_replay_init(&r);
	replay_one(&r, JOURNAL_ACCEPT, 1, "not json", -1);
	replay_one(&r, JOURNAL_ACCEPT, 1, "[1]", -1);
	replay_one(&r, JOURNAL_ACCEPT, 1, "{\"owner\":1}", -1);
	replay_one(&r, 99, 1, NULL, -1);
	ck_assert_uint_eq(r.n, 0);
	replay_one(&r, JOURNAL_ACCEPT, 1, ACCEPT(0, 0), 0);
	ck_assert_uint_eq(r.n, 1);
	journal_replay_free(&r);
}
END_TEST

/* Many futures, out of order: all found, and sorted into id order. */
START_TEST(test_replay_many_sorted)
{
	struct journal_replay	r;
	size_t			i;
	uint64_t		id;

	journal_replay_init(&r);
	for (i = 0; i < 5000; i++) {
		id = (i * 7919) % 5000 + 1;
		replay_one(&r, JOURNAL_ACCEPT, id, ACCEPT(0, 0), 0);
	}
	for (id = 1; id <= 5000; id++)
		ck_assert_ptr_nonnull(journal_replay_find(&r, id));
	ck_assert_uint_eq(r.next_id, 5001);
	journal_replay_sort(&r);
	ck_assert_uint_eq(r.n, 5000);
	for (i = 0; i < r.n; i++)
		ck_assert(r.entries[i].id == i + 1);
	journal_replay_free(&r);
}
END_TEST

START_TEST(test_jbuf_real_round_trip)
{
	struct jbuf	 b = { 0 };
	json_t		*v;
	double		 d = 1764000000.1234567;

	jbuf_real(&b, d);
	jbuf_add(&b, "", 1);
	v = json_loads(b.data, JSON_DECODE_ANY, NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert(json_number_value(v) == d);
	json_decref(v);
	jbuf_free(&b);
}
END_TEST

Suite *
journal_suite(void)
{
	Suite	*s = suite_create("journal");
	TCase	*tc;

	tc = tcase_create("Record format");
	tcase_add_test(tc, test_crc32_known);
	tcase_add_test(tc, test_header_checks);
	tcase_add_test(tc, test_records_read_back);
	tcase_add_test(tc, test_jbuf_real_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("Torn and corrupt tails");
	tcase_add_test(tc, test_torn_tail_every_cut);
	tcase_add_test(tc, test_corrupt_record_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("Replay");
	tcase_add_test(tc, test_replay_life);
	tcase_add_test(tc, test_replay_fuzzy_snapshot);
	tcase_add_test(tc, test_replay_skips_bad_content);
	tcase_add_test(tc, test_replay_many_sorted);
	suite_add_tcase(s, tc);
	return s;
}

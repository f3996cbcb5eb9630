/*
 * The JSON-RPC layer over a socketpair: what each kind of line is answered
 * with. A line that must not be answered is followed by a hello, whose
 * answer must then be the next thing read.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "child.h"
#include "config.h"
#include "conn.h"
#include "future.h"
#include "poold.h"
#include "rpc.h"
#include "sched.h"
#include "suites.h"

static struct config	 cfg;
static struct conn	*conn;
static int		 peer;
static char		 inbuf[65536];
static size_t		 inlen;

static void
setup(void)
{
	int	fds[2];

	ck_assert_int_eq(evthread_use_pthreads(), 0);
	config_defaults(&cfg);
	memset(&poold, 0, sizeof poold);
	poold.cfg = &cfg;
	poold.uid = getuid();
	poold.base = event_base_new();
	ck_assert_ptr_nonnull(poold.base);
	future_store_init(poold.base, 3600);
	child_init(poold.base);
	cfg.threads = 2;
	cfg.processes = 1;
	sched_init(poold.base, &cfg);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, fds), 0);
	conn = conn_new(fds[0]);
	ck_assert_ptr_nonnull(conn);
	peer = fds[1];
	inlen = 0;
}

static void
teardown(void)
{
	conn_free_all();
	sched_free();
	child_free();
	future_store_free();
	config_free(&cfg);
	event_base_free(poold.base);
	close(peer);
}

/* The next line the daemon wrote, run through the loop until it comes. */
static json_t *
next_answer(void)
{
	char		*nl;
	ssize_t		 n;
	json_t		*msg;
	json_error_t	 err;

	while ((nl = memchr(inbuf, '\n', inlen)) == NULL) {
		ck_assert_int_ne(event_base_loop(poold.base, EVLOOP_NONBLOCK),
		    -1);
		n = recv(peer, inbuf + inlen, sizeof inbuf - inlen, 0);
		if (n == -1) {
			struct pollfd	pfd = { .fd = peer, .events = POLLIN };

			ck_assert_int_eq(errno, EAGAIN);
			poll(&pfd, 1, 10);
			continue;
		}
		ck_assert_int_gt(n, 0);
		inlen += (size_t)n;
	}
	msg = json_loadb(inbuf, (size_t)(nl - inbuf), 0, &err);
	ck_assert_msg(msg != NULL, "bad JSON from the daemon: %s", err.text);
	inlen -= (size_t)(nl + 1 - inbuf);
	memmove(inbuf, nl + 1, inlen);
	return msg;
}

static json_t *
exchange(const char *line)
{
	rpc_handle_line(conn, line, strlen(line));
	return next_answer();
}

static int
error_code(json_t *msg)
{
	return (int)json_integer_value(json_object_get(json_object_get(msg,
	    "error"), "code"));
}

static void
assert_unanswered(const char *line)
{
	json_t	*msg;

	rpc_handle_line(conn, line, strlen(line));
	msg = exchange("{\"jsonrpc\":\"2.0\",\"id\":\"probe\",\"method\":"
	    "\"hello\"}");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "id")),
	    "probe");
	json_decref(msg);
}

static const struct {
	const char	*line;
	int		 code;
	int		 id_null;
} answered[] = {
	{ "not json", -32700, 1 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"} x", -32700, 1 },
	{ "\"a string\"", -32600, 1 },
	{ "[]", -32600, 1 },
	{ "{\"id\":1,\"method\":\"hello\"}", -32600, 0 },
	{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"hello\"}", -32600, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"hello\"}", -32600, 1 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"method\":7}", -32600, 1 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":3}",
	    -32600, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", -32601, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":[]}",
	    -32602, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\","
	    "\"params\":{\"x\":1}}", -32602, 0 },
	{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"hello\"}",
	    -32700, 1 },
};

START_TEST(test_rpc_error_answers)
{
	json_t	*msg = exchange(answered[_i].line);

	ck_assert_int_eq(error_code(msg), answered[_i].code);
	if (answered[_i].id_null)
		ck_assert(json_is_null(json_object_get(msg, "id")));
	else
		ck_assert_int_eq(json_integer_value(json_object_get(msg, "id")),
		    1);
	json_decref(msg);
}
END_TEST

START_TEST(test_rpc_notifications_unanswered)
{
	assert_unanswered("{\"jsonrpc\":\"2.0\",\"method\":\"hello\"}");
	assert_unanswered("{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}");
	assert_unanswered("{\"jsonrpc\":\"2.0\",\"method\":\"hello\","
	    "\"params\":[1]}");
	assert_unanswered("[{\"jsonrpc\":\"2.0\",\"method\":\"stats\"}]");
}
END_TEST

START_TEST(test_rpc_request_answered)
{
	json_t	*msg = exchange("{\"jsonrpc\":\"2.0\",\"id\":\"x\","
	    "\"method\":\"hello\"}");
	json_t	*result = json_object_get(msg, "result");

	ck_assert_str_eq(json_string_value(json_object_get(msg, "jsonrpc")),
	    "2.0");
	ck_assert_str_eq(json_string_value(json_object_get(result, "name")),
	    "poold");
	ck_assert_int_eq(json_integer_value(json_object_get(result,
	    "protocol")), 1);
	json_decref(msg);
}
END_TEST

START_TEST(test_rpc_batch)
{
	json_t	*msg = exchange("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	    "\"hello\"},{\"jsonrpc\":\"2.0\",\"method\":\"hello\"},5,"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}]");
	json_t	*a;
	size_t	 i;
	int	 seen = 0;

	ck_assert(json_is_array(msg));
	ck_assert_uint_eq(json_array_size(msg), 3);
	json_array_foreach(msg, i, a) {
		json_t	*id = json_object_get(a, "id");

		if (json_is_null(id)) {
			ck_assert_int_eq(error_code(a), -32600);
			seen |= 1;
		} else if (json_integer_value(id) == 1) {
			ck_assert_ptr_nonnull(json_object_get(a, "result"));
			seen |= 2;
		} else {
			ck_assert_int_eq(error_code(a), -32601);
			seen |= 4;
		}
	}
	ck_assert_int_eq(seen, 7);
	json_decref(msg);
}
END_TEST

Suite *
rpc_suite(void)
{
	Suite	*s = suite_create("rpc");
	TCase	*tc = tcase_create("Request shape");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_rpc_error_answers, 0,
	    sizeof answered / sizeof answered[0]);
	tcase_add_test(tc, test_rpc_notifications_unanswered);
	tcase_add_test(tc, test_rpc_request_answered);
	tcase_add_test(tc, test_rpc_batch);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * bench-echo: how fast poold runs the echo function for one client.
 *
 * seq: one task at a time (submit, then result), the latency of each from
 * the submit being sent to the result being read; prints p50 and p99.
 * pipe: W tasks kept in flight on one connection; prints tasks per second.
 * primes: is_prime (the examples plugin) on N consecutive odd numbers from
 * -b, one task a number, W in flight; prints the seconds and the primes
 * found, for bench/primes.
 *
 * -e picks the executor; figures for the process executor are named
 * poold_proc_..., those for the thread executor poold_... as they always
 * were. Output is one "name value" line a figure, for scripts to collect.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <poold/protocol.h>

#include "util.h"

#define DEFAULT_N	10000
#define DEFAULT_W	1000
#define DEFAULT_FIRST	1000000000000001LL	/* primes: 10^15 + 1 */
#define WARMUP		200		/* tasks run before measuring */
#define READ_CHUNK	(256 * 1024)
#define REQ_MAX		512		/* one request, encoded */

/* Input framed by '\n': bytes [start, len) of data are not consumed yet. */
struct inbuf {
	char	*data;
	size_t	 size;
	size_t	 start;
	size_t	 len;
};

/* Output waiting to be sent: bytes [start, len) of data. */
struct outbuf {
	char	*data;
	size_t	 size;
	size_t	 start;
	size_t	 len;
};

struct client {
	int		fd;
	struct inbuf	in;
	struct outbuf	out;
};

/*
 * What a run submits: task t is fn(arg0 + step * t) on executor. One
 * connection runs one work at a time, so the ids stay unambiguous.
 */
enum work_fn { WORK_ECHO, WORK_IS_PRIME };

struct work {
	enum work_fn	 fn;
	const char	*executor;
	long long	 arg0;
	long long	 step;
	long		 primes;	/* is_prime answers that were true */
};

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench-echo [-s socket] [-e thread|process] [-n tasks] "
	    "[-w window]\n"
	    "                  [-m seq|pipe|primes] [-b first-number]\n");
	exit(2);
}

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n)) == NULL)
		die("malloc %zu", n);
	return p;
}

/* The protocol's default socket path, as every client picks it. */
static const char *
default_socket(void)
{
	static char	 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char	*env;
	int		 n;

	if ((env = getenv(POOLD_SOCKET_ENV)) != NULL && *env != '\0')
		return env;
	if (getuid() == 0)
		return POOLD_SYSTEM_SOCKET;
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
		n = snprintf(path, sizeof path, "%s/poold/poold.sock", env);
	else
		n = snprintf(path, sizeof path, "/tmp/poold-%u/poold.sock",
		    (unsigned)getuid());
	if (n < 0 || (size_t)n >= sizeof path)
		diex("default socket path too long");
	return path;
}

static void
client_open(struct client *cl, const char *path)
{
	cl->fd = bench_connect(path);
	cl->in.size = READ_CHUNK * 2;
	cl->in.data = xmalloc(cl->in.size);
	cl->in.start = cl->in.len = 0;
	cl->out.size = READ_CHUNK;
	cl->out.data = xmalloc(cl->out.size);
	cl->out.start = cl->out.len = 0;
}

static void
client_close(struct client *cl)
{
	if (close(cl->fd) == -1)
		die("close");
	free(cl->in.data);
	free(cl->out.data);
}

/* Make room for n more bytes of output, keeping what is unsent. */
static char *
out_reserve(struct outbuf *o, size_t n)
{
	if (o->start == o->len)
		o->start = o->len = 0;
	if (o->size - o->len < n && o->start > 0) {
		memmove(o->data, o->data + o->start, o->len - o->start);
		o->len -= o->start;
		o->start = 0;
	}
	while (o->size - o->len < n) {
		o->size *= 2;
		if ((o->data = realloc(o->data, o->size)) == NULL)
			die("realloc %zu", o->size);
	}
	return o->data + o->len;
}

static long long
work_arg(const struct work *wk, long task)
{
	return wk->arg0 + wk->step * task;
}

/* Queue a submit of task; its id is 2 * task so results never clash. */
static void
queue_submit(struct client *cl, const struct work *wk, long task)
{
	char	*p = out_reserve(&cl->out, REQ_MAX);
	int	 n;

	n = snprintf(p, REQ_MAX, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"submit\",\"params\":{\"fn\":\"%s\","
	    "\"executor\":\"%s\",\"args\":[%lld]}}\n", 2 * task,
	    wk->fn == WORK_ECHO ? "echo" : "is_prime", wk->executor,
	    work_arg(wk, task));
	if (n < 0 || n >= REQ_MAX)
		diex("submit request too long");
	cl->out.len += (size_t)n;
}

/* Queue a waiting result for a future; its id is 2 * task + 1. */
static void
queue_result(struct client *cl, long task, json_t *future)
{
	json_t	*req;
	size_t	 n;

	req = json_pack("{s:s, s:I, s:s, s:{s:O, s:n}}", "jsonrpc", "2.0",
	    "id", (json_int_t)(2 * task + 1), "method", "result", "params",
	    "future", future, "timeout");
	if (req == NULL)
		diex("json_pack failed");
	n = json_dumpb(req, NULL, 0, JSON_COMPACT);
	if (n == 0)
		diex("cannot encode a result request");
	n = json_dumpb(req, out_reserve(&cl->out, n + 1), n, JSON_COMPACT);
	cl->out.data[cl->out.len + n] = '\n';
	cl->out.len += n + 1;
	json_decref(req);
}

/* Send what fits without blocking; returns the bytes still queued. */
static size_t
flush_some(struct client *cl)
{
	struct outbuf	*o = &cl->out;
	ssize_t		 n;

	while (o->start < o->len) {
		n = send(cl->fd, o->data + o->start, o->len - o->start,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			die("send");
		}
		o->start += (size_t)n;
	}
	return o->len - o->start;
}

/* Send everything queued, blocking as needed (the seq path). */
static void
flush_all(struct client *cl)
{
	struct outbuf	*o = &cl->out;
	ssize_t		 n;

	while (o->start < o->len) {
		n = send(cl->fd, o->data + o->start, o->len - o->start,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		o->start += (size_t)n;
	}
	o->start = o->len = 0;
}

/* One read of whatever has arrived, in a large chunk; 0 at EOF is fatal. */
static void
fill(struct client *cl)
{
	struct inbuf	*b = &cl->in;
	ssize_t		 n;

	if (b->start > 0) {
		memmove(b->data, b->data + b->start, b->len - b->start);
		b->len -= b->start;
		b->start = 0;
	}
	if (b->size - b->len < READ_CHUNK) {
		b->size *= 2;
		if ((b->data = realloc(b->data, b->size)) == NULL)
			die("realloc %zu", b->size);
	}
	for (;;) {
		n = read(cl->fd, b->data + b->len, b->size - b->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die("read");
		if (n == 0)
			diex("poold closed the connection");
		break;
	}
	b->len += (size_t)n;
}

/* The next complete line already read, or NULL; consumes it. */
static char *
next_line(struct client *cl, size_t *len)
{
	struct inbuf	*b = &cl->in;
	char		*line, *nl;

	if (b->start == b->len)
		return NULL;
	line = b->data + b->start;
	if ((nl = memchr(line, '\n', b->len - b->start)) == NULL)
		return NULL;
	*len = (size_t)(nl - line);
	b->start += *len + 1;
	return line;
}

/*
 * Parse one response: returns its id and sets *result (borrowed from the
 * returned message, which the caller frees); any error response is fatal
 * because neither echo nor is_prime of a positive integer ever fails.
 */
static json_t *
parse_response(const char *line, size_t len, long *id, json_t **result)
{
	json_error_t	 err;
	json_t		*msg, *jid, *error;

	if ((msg = json_loadb(line, len, 0, &err)) == NULL)
		diex("bad response (%s): %.*s", err.text, (int)len, line);
	jid = json_object_get(msg, "id");
	if (!json_is_integer(jid))
		diex("response without an integer id: %.*s", (int)len, line);
	if ((error = json_object_get(msg, "error")) != NULL)
		diex("error response: %.*s", (int)len, line);
	if ((*result = json_object_get(msg, "result")) == NULL)
		diex("response without result: %.*s", (int)len, line);
	*id = (long)json_integer_value(jid);
	return msg;
}

/* Read until one whole response is there, and parse it. */
static json_t *
read_response(struct client *cl, long *id, json_t **result)
{
	char	*line;
	size_t	 len;

	while ((line = next_line(cl, &len)) == NULL)
		fill(cl);
	return parse_response(line, len, id, result);
}

/* The future id from a submit's result, checked. */
static json_t *
submit_future(json_t *result)
{
	json_t	*future;

	future = json_object_get(result, "future");
	if (!json_is_string(future))
		diex("submit answered without a future");
	return future;
}

static void
check_result(struct work *wk, long task, json_t *result)
{
	switch (wk->fn) {
	case WORK_ECHO:
		if (!json_is_integer(result) ||
		    json_integer_value(result) != work_arg(wk, task))
			diex("task %ld: echo returned something else", task);
		break;
	case WORK_IS_PRIME:
		if (!json_is_boolean(result))
			diex("task %ld: is_prime(%lld) returned no boolean",
			    task, work_arg(wk, task));
		if (json_is_true(result))
			wk->primes++;
		break;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values, as baseline.py computes it. */
static double
percentile(const double *v, long n, double p)
{
	long	rank = (long)ceil(p * (double)n);

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/* One task at a time; lat (if not NULL) gets each task's seconds. */
static void
run_seq(struct client *cl, struct work *wk, long first, long n, double *lat)
{
	json_t	*msg, *result;
	double	 t0;
	long	 task, id;

	for (task = first; task < first + n; task++) {
		queue_submit(cl, wk, task);
		t0 = now();
		flush_all(cl);
		msg = read_response(cl, &id, &result);
		if (id != 2 * task)
			diex("submit %ld answered with id %ld", task, id);
		queue_result(cl, task, submit_future(result));
		json_decref(msg);
		flush_all(cl);
		msg = read_response(cl, &id, &result);
		if (id != 2 * task + 1)
			diex("result %ld answered with id %ld", task, id);
		check_result(wk, task, result);
		json_decref(msg);
		if (lat != NULL)
			lat[task - first] = now() - t0;
	}
}

/* Answer every complete line read so far; returns the tasks it finished. */
static long
pipe_consume(struct client *cl, struct work *wk, long first, long *next,
    long end)
{
	json_t	*msg, *result;
	char	*line;
	size_t	 len;
	long	 id, task, done = 0;

	while ((line = next_line(cl, &len)) != NULL) {
		msg = parse_response(line, len, &id, &result);
		task = id / 2;
		if (id < 2 * first || task >= end)
			diex("unexpected response id %ld", id);
		if (id % 2 == 0)
			queue_result(cl, task, submit_future(result));
		else {
			check_result(wk, task, result);
			done++;
			/* Keep the window full: a finished task makes room. */
			if (*next < end)
				queue_submit(cl, wk, (*next)++);
		}
		json_decref(msg);
	}
	return done;
}

/* Keep w tasks in flight until n are done; returns the seconds it took. */
static double
run_pipe(struct client *cl, struct work *wk, long first, long n, long w)
{
	struct pollfd	pfd;
	double		t0;
	long		next = first, end = first + n, done = 0;

	t0 = now();
	while (next < end && next - first < w)
		queue_submit(cl, wk, next++);
	while (done < n) {
		if (flush_some(cl) > 0) {
			/* Never block in send while answers wait to be read. */
			pfd.fd = cl->fd;
			pfd.events = POLLIN | POLLOUT;
			if (poll(&pfd, 1, -1) == -1) {
				if (errno == EINTR)
					continue;
				die("poll");
			}
			if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
		}
		fill(cl);
		done += pipe_consume(cl, wk, first, &next, end);
	}
	return now() - t0;
}

/* The prefix of figure names: the thread executor's are unprefixed. */
static const char *
figure_prefix(const char *executor)
{
	return strcmp(executor, "process") == 0 ? "poold_proc" : "poold";
}

static void
bench_seq(const char *path, const char *executor, long n)
{
	struct work	 echo = { WORK_ECHO, executor, 0, 1, 0 };
	struct client	 cl;
	double		*lat;

	lat = xmalloc((size_t)n * sizeof *lat);
	client_open(&cl, path);
	run_seq(&cl, &echo, 0, WARMUP, NULL);
	run_seq(&cl, &echo, WARMUP, n, lat);
	client_close(&cl);
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	printf("%s_seq_p50_us %.1f\n", figure_prefix(executor),
	    percentile(lat, n, 0.50) * 1e6);
	printf("%s_seq_p99_us %.1f\n", figure_prefix(executor),
	    percentile(lat, n, 0.99) * 1e6);
	free(lat);
}

static void
bench_pipe(const char *path, const char *executor, long n, long w)
{
	struct work	echo = { WORK_ECHO, executor, 0, 1, 0 };
	struct client	cl;
	double		secs;

	client_open(&cl, path);
	run_pipe(&cl, &echo, 0, w, w);
	secs = run_pipe(&cl, &echo, w, n, w);
	client_close(&cl);
	printf("%s_pipe_tasks_per_s %.0f\n", figure_prefix(executor),
	    (double)n / secs);
}

/*
 * is_prime(first), is_prime(first + 2), ...: n tasks, w in flight. The
 * window need only cover the workers and the round trips; a larger one
 * only queues more in the daemon. An echo run first warms the connection
 * and the workers, as bench_pipe does.
 */
static void
bench_primes(const char *path, const char *executor, long long first,
    long n, long w)
{
	struct work	echo = { WORK_ECHO, executor, 0, 1, 0 };
	struct work	primes = { WORK_IS_PRIME, executor, first, 2, 0 };
	struct client	cl;
	double		secs;

	client_open(&cl, path);
	run_pipe(&cl, &echo, 0, w, w);
	secs = run_pipe(&cl, &primes, 0, n, w);
	client_close(&cl);
	printf("%s_primes_secs %.3f\n", figure_prefix(executor), secs);
	printf("%s_primes_found %ld\n", figure_prefix(executor),
	    primes.primes);
}

static long long
parse_first(const char *s)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 1)
		diex("bad first number: %s", s);
	return v;
}

int
main(int argc, char **argv)
{
	const char	*path = NULL, *mode = NULL, *executor = "thread";
	long		 n = DEFAULT_N, w = DEFAULT_W;
	long long	 first = DEFAULT_FIRST;
	int		 ch;

	while ((ch = getopt(argc, argv, "s:n:w:m:e:b:")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'n':
			n = parse_count(optarg, "task count");
			break;
		case 'w':
			w = parse_count(optarg, "window");
			break;
		case 'm':
			mode = optarg;
			break;
		case 'e':
			executor = optarg;
			break;
		case 'b':
			first = parse_first(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (mode != NULL && strcmp(mode, "seq") != 0 &&
	    strcmp(mode, "pipe") != 0 && strcmp(mode, "primes") != 0)
		usage();
	if (strcmp(executor, "thread") != 0 &&
	    strcmp(executor, "process") != 0)
		usage();
	/* The last number must fit in a JSON integer as jansson reads it. */
	if (first > LLONG_MAX - 2 * (long long)n)
		diex("first number too large for %ld tasks", n);
	if (path == NULL)
		path = default_socket();
	/* Figures must reach a pipe even if a later mode dies. */
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		diex("setvbuf failed");

	if (mode == NULL || strcmp(mode, "seq") == 0)
		bench_seq(path, executor, n);
	if (mode == NULL || strcmp(mode, "pipe") == 0)
		bench_pipe(path, executor, n, w);
	if (mode != NULL && strcmp(mode, "primes") == 0)
		bench_primes(path, executor, first, n, w);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout");
	return 0;
}

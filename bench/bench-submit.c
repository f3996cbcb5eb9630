/*
 * bench-submit: how many submissions a second poold answers on one
 * connection that keeps W of them in flight. Each submits echo(i) on the
 * thread executor; an answer counts once it carries a future id, which
 * with a state directory means its record is as durable as the setting
 * promises. The tasks run meanwhile, as they would in use.
 *
 * Prints "submit_per_s N" for scripts to collect (bench/journal).
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

#define READ_CHUNK	(256 * 1024)

struct client {
	int	 fd;
	char	*in;		/* bytes [in_start, in_len) not yet taken */
	size_t	 in_size;
	size_t	 in_start;
	size_t	 in_len;
	char	*out;		/* bytes [out_start, out_len) not yet sent */
	size_t	 out_size;
	size_t	 out_start;
	size_t	 out_len;
};


static void *
grow(void *p, size_t *size, size_t need)
{
	while (*size < need)
		*size *= 2;
	if ((p = realloc(p, *size)) == NULL)
		die("realloc %zu", *size);
	return p;
}

static void
client_open(struct client *cl, const char *path)
{
	memset(cl, 0, sizeof *cl);
	cl->fd = bench_connect(path);
	cl->in_size = cl->out_size = READ_CHUNK;
	if ((cl->in = malloc(cl->in_size)) == NULL ||
	    (cl->out = malloc(cl->out_size)) == NULL)
		die("malloc");
}

/* Queue submit number i: echo(i) on the thread executor. */
static void
queue_submit(struct client *cl, long i)
{
	char	req[256];
	int	n;

	n = snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"submit\",\"params\":{\"fn\":\"echo\",\"args\":[%ld],"
	    "\"executor\":\"thread\"}}\n", i, i);
	if (n < 0 || (size_t)n >= sizeof req)
		diex("request too long");
	if (cl->out_start == cl->out_len)
		cl->out_start = cl->out_len = 0;
	cl->out = grow(cl->out, &cl->out_size, cl->out_len + (size_t)n);
	memcpy(cl->out + cl->out_len, req, (size_t)n);
	cl->out_len += (size_t)n;
}

/* Send what goes without blocking; whether some is left. */
static int
flush_some(struct client *cl)
{
	ssize_t	n;

	while (cl->out_start < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_start,
		    cl->out_len - cl->out_start, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n == -1)
			die("send");
		cl->out_start += (size_t)n;
	}
	return 0;
}

static void
fill(struct client *cl)
{
	ssize_t	n;

	if (cl->in_start > 0) {
		memmove(cl->in, cl->in + cl->in_start,
		    cl->in_len - cl->in_start);
		cl->in_len -= cl->in_start;
		cl->in_start = 0;
	}
	cl->in = grow(cl->in, &cl->in_size, cl->in_len + READ_CHUNK);
	do
		n = read(cl->fd, cl->in + cl->in_len, cl->in_size - cl->in_len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		die("read");
	if (n == 0)
		diex("poold closed the connection");
	cl->in_len += (size_t)n;
}

/* Check one answer: a future id for submission id, or give up. */
static void
check_answer(const char *line, size_t len, long first, long end)
{
	json_error_t	 err;
	json_t		*msg, *id, *future;

	if ((msg = json_loadb(line, len, 0, &err)) == NULL)
		diex("bad answer (%s): %.*s", err.text, (int)len, line);
	id = json_object_get(msg, "id");
	future = json_object_get(json_object_get(msg, "result"), "future");
	if (!json_is_integer(id) || json_integer_value(id) < first ||
	    json_integer_value(id) >= end || !json_is_string(future))
		diex("unexpected answer: %.*s", (int)len, line);
	json_decref(msg);
}

/* Take every whole answer read; returns how many there were. */
static long
consume(struct client *cl, long first, long end)
{
	char	*line, *nl;
	long	 done = 0;

	while (cl->in_start < cl->in_len) {
		line = cl->in + cl->in_start;
		if ((nl = memchr(line, '\n', cl->in_len - cl->in_start)) ==
		    NULL)
			break;
		check_answer(line, (size_t)(nl - line), first, end);
		cl->in_start += (size_t)(nl - line) + 1;
		done++;
	}
	return done;
}

/* Submissions [first, first + n), w in flight; the seconds they took. */
static double
run(struct client *cl, long first, long n, long w)
{
	struct pollfd	pfd;
	double		t0 = now();
	long		next = first, end = first + n, done = 0, k;

	while (next < end && next - first < w)
		queue_submit(cl, next++);
	while (done < n) {
		if (flush_some(cl)) {
			/* Never block in send while answers wait. */
			pfd.fd = cl->fd;
			pfd.events = POLLIN | POLLOUT;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				die("poll");
			if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
				continue;
		}
		fill(cl);
		k = consume(cl, first, end);
		done += k;
		while (k-- > 0 && next < end)
			queue_submit(cl, next++);
	}
	return now() - t0;
}

int
main(int argc, char **argv)
{
	struct client	 cl;
	const char	*path = NULL;
	long		 n = 20000, w = 1000;
	double		 secs;
	int		 ch;

	while ((ch = getopt(argc, argv, "s:n:w:")) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'n':
			n = parse_count(optarg, "count");
			break;
		case 'w':
			w = parse_count(optarg, "window");
			break;
		default:
			fprintf(stderr, "usage: bench-submit -s socket "
			    "[-n submissions] [-w in flight]\n");
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fprintf(stderr, "usage: bench-submit -s socket "
		    "[-n submissions] [-w in flight]\n");
		return 2;
	}
	client_open(&cl, path);
	run(&cl, 0, w, w);
	secs = run(&cl, w, n, w);
	printf("submit_per_s %.0f\n", (double)n / secs);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("stdout");
	close(cl.fd);
	free(cl.in);
	free(cl.out);
	return 0;
}

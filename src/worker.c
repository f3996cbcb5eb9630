/*
 * A worker process. It blocks on its channel: there is nothing else for it
 * to do, and a task that hangs is the supervisor's to kill. It exits when
 * the channel closes; it dies with the supervisor through PDEATHSIG.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fn.h"
#include "plugin.h"
#include "worker.h"
#include "xmalloc.h"

struct worker_input {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static int
worker_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Send one message; a worker that cannot reach its supervisor ends. */
static void
worker_send(int fd, json_t *msg)
{
	char	*line;

	if ((line = json_dumps(msg, JSON_COMPACT)) == NULL ||
	    worker_write(fd, line, strlen(line)) == -1 ||
	    worker_write(fd, "\n", 1) == -1)
		_exit(1);
	free(line);
}

/* The next line from the supervisor, or NULL at the end of the channel. */
static char *
worker_read_line(int fd, struct worker_input *in, size_t *consumed)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		if (in->len > 0 &&
		    (nl = memchr(in->buf, '\n', in->len)) != NULL) {
			*nl = '\0';
			*consumed = (size_t)(nl - in->buf) + 1;
			return in->buf;
		}
		if (in->cap - in->len < 65536) {
			in->cap = in->cap == 0 ? 65536 : in->cap * 2;
			in->buf = xreallocarray(in->buf, in->cap, 1);
		}
		n = read(fd, in->buf + in->len, in->cap - in->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		in->len += (size_t)n;
	}
}

/* A worker's pause is a plain sleep: stopping it means killing it. */
static int
worker_pause(struct fn_call *call, double seconds)
{
	struct timespec	ts;

	if (seconds > 365 * 86400.0)
		seconds = 365 * 86400.0;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return 0;
}

static int
worker_stopped(struct fn_call *call)
{
	return 0;
}

/* Run one task message and make its answer. */
static json_t *
worker_run(json_t *task)
{
	struct fn_call	 call = { 0 };
	const struct fn	*fn;
	json_t		*id = json_object_get(task, "id"), *answer;

	fn = fn_find(json_string_value(json_object_get(task, "fn")));
	if (fn == NULL)
		return json_pack("{s:O, s:{s:s, s:s}}", "id", id, "error",
		    "type", "TaskError", "message", "no such function here");
	call.fn = fn;
	call.args = json_incref(json_object_get(task, "args"));
	call.kwargs = json_incref(json_object_get(task, "kwargs"));
	call.pause = worker_pause;
	call.stopped = worker_stopped;
	fn->run(&call);
	if (call.error != NULL)
		answer = json_pack("{s:O, s:o}", "id", id, "error", call.error);
	else if (call.result != NULL)
		answer = json_pack("{s:O, s:o}", "id", id, "result",
		    call.result);
	else
		answer = json_pack("{s:O, s:{s:s, s:s}}", "id", id, "error",
		    "type", "TaskError", "message", "the function returned "
		    "nothing");
	json_decref(call.args);
	json_decref(call.kwargs);
	return answer;
}

/* A result too large for the channel fails its task instead. */
static json_t *
worker_bound(json_t *answer, long max)
{
	size_t	size = json_dumpb(answer, NULL, 0, JSON_COMPACT);
	json_t	*id;

	if (size <= (size_t)max)
		return answer;
	id = json_incref(json_object_get(answer, "id"));
	json_decref(answer);
	answer = json_pack("{s:o, s:{s:s, s:s}}", "id", id, "error",
	    "type", "TaskError", "message", "result too large: over "
	    "max_result_bytes");
	json_object_set_new(json_object_get(answer, "error"), "limit",
	    json_integer(max));
	return answer;
}

void
worker_main(int fd, void *arg)
{
	const struct worker_config	*cfg = arg;
	struct worker_input		 in = { 0 };
	json_t				*task, *answer;
	char				*line, *why = NULL;
	size_t				 consumed;

	if (plugin_init_all(&why) == -1) {
		answer = json_pack("{s:s}", "fatal", why);
		worker_send(fd, answer);
		_exit(1);
	}
	answer = json_pack("{s:b}", "ready", 1);
	worker_send(fd, answer);
	json_decref(answer);

	while ((line = worker_read_line(fd, &in, &consumed)) != NULL) {
		if ((task = json_loads(line, 0, NULL)) == NULL)
			_exit(1);
		answer = worker_bound(worker_run(task), cfg->max_result_bytes);
		worker_send(fd, answer);
		json_decref(answer);
		json_decref(task);
		memmove(in.buf, in.buf + consumed, in.len - consumed);
		in.len -= consumed;
	}
	_exit(0);
}

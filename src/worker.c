/*
 * A worker process. It blocks on its channel: there is nothing else for it
 * to do, and a task that hangs is the supervisor's to kill. It exits when
 * the channel closes; it dies with the supervisor through PDEATHSIG.
 *
 * A worker that starts unbound (poold runs as root) runs no plugin code
 * until its bind: it takes its owner's credentials first, so that
 * initializers, and everything after them, run as the owner.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/uio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fn.h"
#include "ident.h"
#include "plugin.h"
#include "worker.h"
#include "xmalloc.h"

struct worker_input {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/*
 * Write the pieces of one message in one call where the pipe takes it, so
 * the supervisor wakes once per message, not once per piece.
 */
static int
worker_writev(int fd, struct iovec *iov, int n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Send one message; a worker that cannot reach its supervisor ends. */
static void
worker_send(int fd, json_t *msg)
{
	struct iovec	 iov[2];
	char		*line;

	if ((line = json_dumps(msg, JSON_COMPACT)) == NULL)
		_exit(1);
	iov[0] = (struct iovec){ line, strlen(line) };
	iov[1] = (struct iovec){ "\n", 1 };
	if (worker_writev(fd, iov, 2) == -1)
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

static void
worker_send_error(int fd, json_int_t id, json_t *error)
{
	json_t	*answer = json_pack("{s:I, s:o}", "id", id, "error", error);

	worker_send(fd, answer);
	json_decref(answer);
}

/*
 * Send a result: encoded once, checked against max_result_bytes (which
 * bounds the result's own JSON) and framed here, since the frame is fixed.
 */
static void
worker_send_result(int fd, json_int_t id, json_t *result, long max)
{
	struct iovec	 iov[3];
	char		*text, head[64];
	size_t		 len;
	json_t		*error;
	int		 n;

	text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL)
		_exit(1);
	if ((len = strlen(text)) > (size_t)max) {
		free(text);
		error = json_pack("{s:s, s:s, s:I}", "type", "TaskError",
		    "message", "result too large: over max_result_bytes",
		    "limit", (json_int_t)max);
		worker_send_error(fd, id, error);
		return;
	}
	n = snprintf(head, sizeof head, "{\"id\":%" JSON_INTEGER_FORMAT
	    ",\"result\":", id);
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ text, len };
	iov[2] = (struct iovec){ "}\n", 2 };
	if (worker_writev(fd, iov, 3) == -1)
		_exit(1);
	free(text);
}

/* The task being run, for worker_spawned. */
static struct {
	int		fd;
	json_int_t	id;
} worker_current;

/* The process group of the program the task runs now; 0: none. */
static volatile sig_atomic_t	worker_program;

/*
 * SIGTERM while a program runs goes to the program's group, and the
 * worker stays to see it end: the supervisor may not have heard which
 * group that is yet, and SIGKILLs what is left, children first, after
 * kill_timeout. With no program, SIGTERM ends the worker, as it always
 * did.
 */
static void
worker_term(int sig)
{
	int	saved_errno = errno;
	pid_t	pgid = (pid_t)worker_program;

	if (pgid > 0) {
		kill(-pgid, SIGTERM);
		errno = saved_errno;
		return;
	}
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
}

/*
 * Tell the supervisor which process group to kill with this task, and
 * remember it for SIGTERM; pgid 0: the program has been reaped.
 */
static void
worker_spawned(struct fn_call *call, pid_t pgid)
{
	json_t	*msg;

	worker_program = pgid;
	if (pgid == 0)
		return;
	msg = json_pack("{s:I, s:i}", "id", worker_current.id, "pgid",
	    (int)pgid);

	worker_send(worker_current.fd, msg);
	json_decref(msg);
}

/* Whether v's JSON is surely within max bytes, without encoding it. */
static int
worker_small(json_t *v, long max)
{
	if (json_is_string(v))
		return json_string_length(v) <= (size_t)(max - 2) / 6;
	return !json_is_array(v) && !json_is_object(v) && max >= 32;
}

/*
 * One item of a chunk, with the chunk's args (reused: functions do not
 * keep them) and kwargs: its result, or NULL with *error set.
 */
static json_t *
worker_run_item(const struct fn *fn, const char *name, json_t *args,
    json_t *kwargs, const struct worker_config *cfg, json_t **error)
{
	struct fn_call	 call = { 0 };
	long		 max = cfg->max_result_bytes;

	call.fn = fn;
	call.name = name;
	call.args = args;
	call.kwargs = kwargs;
	call.pause = worker_pause;
	call.stopped = worker_stopped;
	call.spawned = worker_spawned;
	call.max_output = (size_t)cfg->max_output_bytes;
	fn->run(&call);
	*error = NULL;
	if (call.error != NULL) {
		json_decref(call.result);
		*error = call.error;
		return NULL;
	}
	if (call.result == NULL)
		*error = json_pack("{s:s, s:s}", "type", "TaskError", "message",
		    "the function returned nothing");
	else if (!worker_small(call.result, max) && json_dumpb(call.result,
	    NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY) > (size_t)max) {
		json_decref(call.result);
		call.result = NULL;
		*error = json_pack("{s:s, s:s, s:I}", "type", "TaskError",
		    "message", "result too large: over max_result_bytes",
		    "limit", (json_int_t)max);
	}
	return call.result;
}

/*
 * Run a map's chunk: each item in turn, telling the supervisor through the
 * shared page which runs, then one answer for all: the results in order
 * (null where an item failed) and the errors by the item's place.
 */
static void
worker_run_chunk(int fd, json_t *task, const struct fn *fn,
    const struct worker_start *start)
{
	json_t		*items = json_object_get(task, "items"), *item;
	json_t		*results = json_array(), *errors = json_object();
	json_t		*one = json_array(), *kwargs = json_object();
	json_t		*answer, *result, *error;
	const char	*name = json_string_value(json_object_get(task, "fn"));
	int		 star = json_is_true(json_object_get(task, "star"));
	char		 key[32];
	size_t		 i;
	struct timespec	 ts;

	json_array_append_new(one, json_null());
	json_array_foreach(items, i, item) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		start->progress->started = ts.tv_sec + ts.tv_nsec / 1e9;
		__atomic_store_n(&start->progress->index, (long)i,
		    __ATOMIC_RELEASE);
		if (!star)
			json_array_set(one, 0, item);
		result = worker_run_item(fn, name, star ? item : one, kwargs,
		    start->cfg, &error);
		json_array_append_new(results, result != NULL ? result :
		    json_null());
		if (error != NULL) {
			snprintf(key, sizeof key, "%zu", i);
			json_object_set_new(errors, key, error);
		}
	}
	__atomic_store_n(&start->progress->index, -1L, __ATOMIC_RELEASE);
	answer = json_pack("{s:O, s:o, s:o}", "id", json_object_get(task,
	    "id"), "results", results, "errors", errors);
	worker_send(fd, answer);
	json_decref(answer);
	json_decref(one);
	json_decref(kwargs);
}

/* Run one task message and send its answer. */
static void
worker_run(int fd, json_t *task, const struct worker_start *start)
{
	const struct worker_config *cfg = start->cfg;
	long		 max = cfg->max_result_bytes;
	struct fn_call	 call = { 0 };
	const struct fn	*fn;
	json_int_t	 id = json_integer_value(json_object_get(task, "id"));

	fn = fn_find(json_string_value(json_object_get(task, "fn")));
	if (fn == NULL) {
		worker_send_error(fd, id, json_pack("{s:s, s:s}", "type",
		    "TaskError", "message", "no such function here"));
		return;
	}
	if (json_object_get(task, "items") != NULL) {
		worker_current.fd = fd;
		worker_current.id = id;
		worker_run_chunk(fd, task, fn, start);
		return;
	}
	call.fn = fn;
	call.name = json_string_value(json_object_get(task, "fn"));
	call.args = json_incref(json_object_get(task, "args"));
	call.kwargs = json_incref(json_object_get(task, "kwargs"));
	call.pause = worker_pause;
	call.stopped = worker_stopped;
	call.spawned = worker_spawned;
	call.max_output = (size_t)cfg->max_output_bytes;
	worker_current.fd = fd;
	worker_current.id = id;
	fn->run(&call);
	if (call.error != NULL)
		worker_send_error(fd, id, call.error);
	else if (call.result != NULL) {
		worker_send_result(fd, id, call.result, max);
		json_decref(call.result);
	} else
		worker_send_error(fd, id, json_pack("{s:s, s:s}", "type",
		    "TaskError", "message", "the function returned nothing"));
	json_decref(call.args);
	json_decref(call.kwargs);
}

/* Say why the worker cannot go on (why is taken), and end. */
void
worker_fatal(int fd, char *why)
{
	json_t	*answer = json_pack("{s:s}", "fatal", why);

	if (answer != NULL)
		worker_send(fd, answer);
	_exit(1);
}

/*
 * Take the owner's credentials for good (none: stay as poold is), become
 * the owner as a login would (its home, its clean environment), then run
 * the plugins' initializers as the owner.
 */
static void
worker_bind(int fd, json_t *who, const struct worker_start *start)
{
	struct ident	*id;
	const char	*what;
	char		*why = NULL;

	if (!json_is_null(who)) {
		if ((id = ident_from_json(who)) == NULL)
			worker_fatal(fd, xstrdup("a bind that does not fit"));
		if (ident_become(id, &what) == -1) {
			xasprintf(&why, "%s: %s", what, strerror(errno));
			worker_fatal(fd, why);
		}
		/* A change of credentials clears the parent-death signal. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != start->parent)
			_exit(1);
		if (ident_setenv(id) == -1 || ident_enter_home(id) == -1) {
			xasprintf(&why, "cannot enter %s's home or environment: "
			    "%s", id->name, strerror(errno));
			worker_fatal(fd, why);
		}
		ident_unref(id);
	}
	if (plugin_init_all(&why) == -1)
		worker_fatal(fd, why);
}

void
worker_main(int fd, void *arg)
{
	const struct worker_start	*start = arg;
	struct worker_input		 in = { 0 };
	struct sigaction		 sa;
	json_t				*task, *answer, *who;
	char				*line, *why = NULL;
	int				 bound = start->bound;
	size_t				 consumed;

	/* A program that closes its stdin early must not kill the worker. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = worker_term;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		_exit(1);
	if (bound && plugin_init_all(&why) == -1)
		worker_fatal(fd, why);
	answer = json_pack("{s:b}", "ready", 1);
	worker_send(fd, answer);
	json_decref(answer);

	while ((line = worker_read_line(fd, &in, &consumed)) != NULL) {
		if ((task = json_loads(line, JSON_ALLOW_NUL, NULL)) == NULL)
			_exit(1);
		if ((who = json_object_get(task, "bind")) != NULL) {
			/* Once only: a worker never changes owner. */
			if (bound)
				_exit(1);
			worker_bind(fd, who, start);
			bound = 1;
		} else if (!bound)
			_exit(1);
		else
			worker_run(fd, task, start);
		json_decref(task);
		memmove(in.buf, in.buf + consumed, in.len - consumed);
		in.len -= consumed;
	}
	_exit(0);
}

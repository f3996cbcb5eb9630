/*
 * libpoold-client: the wire. Requests are queued as lines and written as
 * far as the non-blocking socket takes them; what comes back is framed by
 * '\n', parsed, and filed: answers under their request's id, to be taken
 * in any order; notifications straight to the handler.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client-int.h"

/* Read at least this much at a time, so a large answer takes few calls. */
#define WIRE_READ_MIN	4096
#define WIRE_READ_CHUNK	65536

static int64_t
wire_now_ms(void)
{
	struct timespec	ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline for timeout_ms from now; -1 (no deadline) for negative. */
static int64_t
wire_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : wire_now_ms() + timeout_ms;
}

/* Milliseconds left until deadline, for poll(): -1 for no deadline. */
static int
wire_remaining(int64_t deadline)
{
	int64_t	left;

	if (deadline < 0)
		return -1;
	left = deadline - wire_now_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Room for n more bytes at the end of o's queue. */
static int
wire_out_reserve(struct outbuf *o, size_t n)
{
	size_t	 cap;
	char	*buf;

	if (o->cap - o->len >= n)
		return 0;
	if (o->off > 0) {
		memmove(o->buf, o->buf + o->off, o->len - o->off);
		o->len -= o->off;
		o->off = 0;
		if (o->cap - o->len >= n)
			return 0;
	}
	for (cap = o->cap == 0 ? 4096 : o->cap; cap - o->len < n; cap *= 2) {
		if (cap > SIZE_MAX / 2) {
			errno = ENOMEM;
			return -1;
		}
	}
	if ((buf = realloc(o->buf, cap)) == NULL)
		return -1;
	o->buf = buf;
	o->cap = cap;
	return 0;
}

/* Where json_dump_callback() writes; nomem tells a full memory from a
 * value jansson cannot encode. */
struct wire_dump {
	struct outbuf	*out;
	int		 nomem;
};

static int
wire_dump_cb(const char *buf, size_t size, void *arg)
{
	struct wire_dump	*d = arg;

	if (wire_out_reserve(d->out, size) == -1) {
		d->nomem = 1;
		return -1;
	}
	memcpy(d->out->buf + d->out->len, buf, size);
	d->out->len += size;
	return 0;
}

/* Queue msg as one line; on failure nothing is queued and errno says
 * ENOMEM, or EINVAL for a value that cannot be encoded. */
static int
wire_queue(poold_client *c, json_t *msg)
{
	struct wire_dump	 d = { &c->out, 0 };
	size_t			 unsent = c->out.len - c->out.off;

	/* Compact output never holds a raw newline, so the line is the
	 * frame. */
	if (json_dump_callback(msg, wire_dump_cb, &d, JSON_COMPACT) == -1 ||
	    wire_dump_cb("\n", 1, &d) == -1) {
		c->out.len = c->out.off + unsent;
		errno = d.nomem ? ENOMEM : EINVAL;
		return -1;
	}
	return 0;
}

/*
 * Write what the socket takes now. MSG_NOSIGNAL: a daemon that went away
 * must cost the caller an error, not a SIGPIPE. A peer that takes no
 * more is noted in write_dead for wire_io() to read its last words.
 */
static poold_status
wire_flush(poold_client *c)
{
	struct outbuf	*o = &c->out;
	ssize_t		 n;

	while (o->off < o->len && !c->write_dead) {
		n = send(c->fd, o->buf + o->off, o->len - o->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			o->off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return POOLD_OK;
		if (errno != EPIPE && errno != ECONNRESET)
			return client_break(c, POOLD_ERR_SYSTEM, errno,
			    "send to %s: %s", c->path, strerror(errno));
		c->write_dead = 1;
	}
	o->off = o->len = 0;
	return POOLD_OK;
}

/* Whether error is a JSON-RPC error object this library can report. */
static int
wire_error_valid(json_t *error)
{
	json_t	*code = json_object_get(error, "code");

	return json_is_object(error) && json_is_integer(code) &&
	    json_integer_value(code) >= INT_MIN &&
	    json_integer_value(code) <= INT_MAX &&
	    json_is_string(json_object_get(error, "message"));
}

/* File an answer under its request, or break on one that answers none. */
static poold_status
wire_answer(poold_client *c, json_t *msg)
{
	json_t		*id = json_object_get(msg, "id");
	json_t		*result = json_object_get(msg, "result");
	json_t		*error = json_object_get(msg, "error");
	struct pending	*p;
	json_int_t	 n;

	if (id == NULL)
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "message that is neither an answer nor a notification");
	if ((result == NULL) == (error == NULL))
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent an "
		    "answer without exactly one of result and error");
	if (error != NULL && !wire_error_valid(error))
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent an "
		    "error without an integer code and a string message");
	if (json_is_null(id) && error != NULL)
		return client_rpc_error(c, POOLD_ERR_PROTOCOL, error);
	if (!json_is_integer(id) || (n = json_integer_value(id)) <= 0)
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold answered "
		    "with an id that no request of this client has");
	p = pending_find(&c->pending, (uint64_t)n);
	if (p == NULL || p->answer != NULL)
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold answered "
		    "request %" JSON_INTEGER_FORMAT ", which is not outstanding",
		    n);
	if (p->abandoned)
		pending_remove(&c->pending, (uint64_t)n);
	else
		p->answer = json_incref(msg);
	return POOLD_OK;
}

/* Hand a notification to the handler. */
static poold_status
wire_notification(poold_client *c, json_t *msg)
{
	json_t	*method = json_object_get(msg, "method");
	json_t	*params = json_object_get(msg, "params");

	if (!json_is_string(method))
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "message whose method is not a string");
	if (json_object_get(msg, "id") != NULL)
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "request, and clients serve none");
	if (params != NULL && !json_is_object(params) &&
	    !json_is_array(params))
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "notification whose params are neither object nor array");
	if (c->notify != NULL) {
		c->in_handler = 1;
		c->notify(c, json_string_value(method), params,
		    c->notify_arg);
		c->in_handler = 0;
	}
	return c->fatal.status;
}

/* One line from the daemon. */
static poold_status
wire_message(poold_client *c, const char *line, size_t len)
{
	json_error_t	 jerr;
	json_t		*msg, *version;
	poold_status	 st;

	/* The daemon lets \u0000 through in strings (echo returns it). */
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr);
	if (msg == NULL && json_error_code(&jerr) == json_error_out_of_memory)
		return client_break(c, POOLD_ERR_SYSTEM, ENOMEM,
		    "out of memory parsing an answer from poold");
	if (msg == NULL)
		return client_break(c, POOLD_ERR_PROTOCOL, 0,
		    "poold sent a line that is not JSON: %s", jerr.text);
	c->handled++;
	version = json_object_get(msg, "jsonrpc");
	if (json_is_array(msg))
		st = client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "batch, and this client sends none");
	else if (!json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0") != 0)
		st = client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent "
		    "a message without \"jsonrpc\": \"2.0\"");
	else if (json_object_get(msg, "method") != NULL)
		st = wire_notification(c, msg);
	else
		st = wire_answer(c, msg);
	json_decref(msg);
	return st;
}

/* Handle every whole line read so far. */
static poold_status
wire_frame(poold_client *c)
{
	struct inbuf	*b = &c->in;
	char		*nl;
	size_t		 start, len;
	poold_status	 st;

	while ((nl = memchr(b->buf + b->scan, '\n', b->end - b->scan)) !=
	    NULL) {
		start = b->start;
		len = (size_t)(nl - (b->buf + start));
		/* Consumed before it is handled: the handler may send. */
		b->start = b->scan = start + len + 1;
		if (len > c->max_line)
			return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent "
			    "a line over %zu bytes", c->max_line);
		if ((st = wire_message(c, b->buf + start, len)) != POOLD_OK)
			return st;
	}
	b->scan = b->end;
	if (b->end - b->start > c->max_line)
		return client_break(c, POOLD_ERR_PROTOCOL, 0, "poold sent a "
		    "line over %zu bytes", c->max_line);
	return POOLD_OK;
}

/* Room to read into, keeping only what is not framed yet. */
static int
wire_in_reserve(struct inbuf *b)
{
	size_t	 cap;
	char	*buf;

	if (b->start == b->end)
		b->start = b->scan = b->end = 0;
	if (b->cap - b->end >= WIRE_READ_MIN)
		return 0;
	if (b->start > 0) {
		memmove(b->buf, b->buf + b->start, b->end - b->start);
		b->end -= b->start;
		b->scan -= b->start;
		b->start = 0;
		if (b->cap - b->end >= WIRE_READ_MIN)
			return 0;
	}
	if (b->cap > SIZE_MAX / 2) {
		errno = ENOMEM;
		return -1;
	}
	cap = b->cap == 0 ? WIRE_READ_CHUNK : b->cap * 2;
	if ((buf = realloc(b->buf, cap)) == NULL)
		return -1;
	b->buf = buf;
	b->cap = cap;
	return 0;
}

/* Read and handle everything the socket has now. */
static poold_status
wire_read(poold_client *c)
{
	struct inbuf	*b = &c->in;
	ssize_t		 n;
	poold_status	 st;

	for (;;) {
		if (wire_in_reserve(b) == -1)
			return client_break(c, POOLD_ERR_SYSTEM, errno,
			    "out of memory reading from poold");
		n = recv(c->fd, b->buf + b->end, b->cap - b->end, MSG_DONTWAIT);
		if (n > 0) {
			b->end += (size_t)n;
			if ((st = wire_frame(c)) != POOLD_OK)
				return st;
			continue;
		}
		if (n == 0 && b->start < b->end)
			return client_break(c, POOLD_ERR_CLOSED, 0, "poold "
			    "closed the connection in the middle of a message");
		if (n == 0)
			return client_break(c, POOLD_ERR_CLOSED, 0,
			    "poold closed the connection");
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return POOLD_OK;
		if (errno == ECONNRESET)
			return client_break(c, POOLD_ERR_CLOSED, 0,
			    "poold reset the connection");
		return client_break(c, POOLD_ERR_SYSTEM, errno,
		    "recv from %s: %s", c->path, strerror(errno));
	}
}

/* All the I/O possible now: write what is queued, read what came. */
static poold_status
wire_io(poold_client *c)
{
	poold_status	st;

	if (c->fatal.status != POOLD_OK)
		return client_broken(c);
	if ((st = wire_flush(c)) != POOLD_OK)
		return st;
	if ((st = wire_read(c)) != POOLD_OK)
		return st;
	/* Nothing more can be asked: whatever it said last was read. */
	if (c->write_dead)
		return client_break(c, POOLD_ERR_CLOSED, 0,
		    "poold closed the connection");
	return POOLD_OK;
}

/* Wait up to ms for the socket to be ready; POOLD_OK when it may be
 * (a signal counts: the caller looks again), POOLD_ERR_TIMEOUT if not. */
static poold_status
wire_wait(poold_client *c, int ms)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLIN };
	int		n;

	if (poold_want_write(c))
		pfd.events |= POLLOUT;
	n = poll(&pfd, 1, ms);
	if (n == -1 && errno != EINTR)
		return client_fail(c, POOLD_ERR_SYSTEM, errno, "poll: %s",
		    strerror(errno));
	if (n == 0)
		return POOLD_ERR_TIMEOUT;
	if (n == 1 && (pfd.revents & POLLNVAL))
		return client_break(c, POOLD_ERR_SYSTEM, EBADF,
		    "the client's socket was closed behind its back");
	return POOLD_OK;
}

/* Hand over the answer to id, which has come, and forget the id. */
static poold_status
wire_take(poold_client *c, uint64_t id, json_t **result)
{
	struct pending	*p = pending_find(&c->pending, id);
	json_t		*error = json_object_get(p->answer, "error");
	poold_status	 st = POOLD_OK;

	if (error != NULL)
		st = client_rpc_error(c, POOLD_ERR_RPC, error);
	else if (result != NULL)
		*result = json_incref(json_object_get(p->answer, "result"));
	pending_remove(&c->pending, id);
	return st;
}

/* Queue a request (with an id when id is not NULL) and write. */
static poold_status
wire_send(poold_client *c, const char *method, json_t *params, uint64_t *id)
{
	json_t		*req, *m;
	uint64_t	 n = c->next_id;
	poold_status	 st;

	if (c->fatal.status != POOLD_OK)
		return client_broken(c);
	if (method == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0, "no method");
	if (params != NULL && !json_is_object(params))
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "params must be an object");
	if ((m = json_string(method)) == NULL)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "the method is not UTF-8");
	if ((req = json_pack("{s:s, s:o}", "jsonrpc", "2.0", "method",
	    m)) == NULL ||
	    (id != NULL && json_object_set_new(req, "id",
	    json_integer((json_int_t)n)) == -1) ||
	    (params != NULL && json_object_set(req, "params", params) == -1)) {
		json_decref(req);
		return client_fail(c, POOLD_ERR_SYSTEM, ENOMEM,
		    "out of memory making a request");
	}
	if (id != NULL && pending_add(&c->pending, n) == -1) {
		json_decref(req);
		return client_fail(c, POOLD_ERR_SYSTEM, ENOMEM,
		    "out of memory filing a request");
	}
	if (wire_queue(c, req) == -1) {
		json_decref(req);
		if (id != NULL)
			pending_remove(&c->pending, n);
		if (errno == ENOMEM)
			return client_fail(c, POOLD_ERR_SYSTEM, ENOMEM,
			    "out of memory queueing a request");
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "the params cannot be encoded as JSON");
	}
	json_decref(req);
	if (id != NULL)
		c->next_id++;
	st = wire_flush(c);
	/* From a handler, the daemon's last words are left unread. */
	if (st == POOLD_OK && c->write_dead)
		st = c->in_handler ? client_break(c, POOLD_ERR_CLOSED, 0,
		    "poold closed the connection") : wire_io(c);
	if (st != POOLD_OK) {
		if (id != NULL)
			pending_remove(&c->pending, n);
		return st;
	}
	if (id != NULL)
		*id = n;
	return POOLD_OK;
}

poold_status
poold_send(poold_client *c, const char *method, json_t *params,
    uint64_t *id)
{
	uint64_t	ignored;

	return wire_send(c, method, params, id != NULL ? id : &ignored);
}

poold_status
poold_send_notification(poold_client *c, const char *method, json_t *params)
{
	return wire_send(c, method, params, NULL);
}

poold_status
poold_dispatch(poold_client *c)
{
	if (c->in_handler)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "poold_dispatch() inside the notification handler");
	return wire_io(c);
}

int
poold_want_write(const poold_client *c)
{
	return c->fatal.status == POOLD_OK && !c->write_dead &&
	    c->out.off < c->out.len;
}

/* The outstanding request id, or NULL after recording a usage error. */
static struct pending *
wire_outstanding(poold_client *c, uint64_t id)
{
	struct pending	*p = pending_find(&c->pending, id);

	if (p == NULL || p->abandoned) {
		client_fail(c, POOLD_ERR_USAGE, 0,
		    "request %" PRIu64 " is not outstanding", id);
		return NULL;
	}
	return p;
}

poold_status
poold_take_response(poold_client *c, uint64_t id, json_t **result)
{
	struct pending	*p;

	if (result != NULL)
		*result = NULL;
	if ((p = wire_outstanding(c, id)) == NULL)
		return POOLD_ERR_USAGE;
	if (p->answer != NULL)
		return wire_take(c, id, result);
	if (c->fatal.status != POOLD_OK)
		return client_broken(c);
	return client_fail(c, POOLD_ERR_AGAIN, 0,
	    "no answer to request %" PRIu64 " yet", id);
}

poold_status
poold_response(poold_client *c, uint64_t id, int timeout_ms, json_t **result)
{
	int64_t		 deadline = wire_deadline(timeout_ms);
	struct pending	*p;
	poold_status	 st;
	int		 left;

	if (result != NULL)
		*result = NULL;
	if (c->in_handler)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "poold_response() inside the notification handler");
	if (wire_outstanding(c, id) == NULL)
		return POOLD_ERR_USAGE;
	for (;;) {
		st = wire_io(c);
		/* Looked up again: I/O may have grown the table, and the
		 * handler may have taken the answer. */
		if ((p = pending_find(&c->pending, id)) == NULL)
			return client_fail(c, POOLD_ERR_USAGE, 0, "request %"
			    PRIu64 " was taken by the notification handler", id);
		if (p->answer != NULL)
			return wire_take(c, id, result);
		if (st != POOLD_OK)
			return st;
		if ((left = wire_remaining(deadline)) == 0)
			return client_fail(c, POOLD_ERR_TIMEOUT, 0,
			    "no answer to request %" PRIu64 " within %d ms",
			    id, timeout_ms);
		st = wire_wait(c, left);
		if (st != POOLD_OK && st != POOLD_ERR_TIMEOUT)
			return st;
	}
}

poold_status
poold_poll(poold_client *c, int timeout_ms)
{
	int64_t		deadline = wire_deadline(timeout_ms);
	uint64_t	before = c->handled;
	poold_status	st;
	int		left;

	if (c->in_handler)
		return client_fail(c, POOLD_ERR_USAGE, 0,
		    "poold_poll() inside the notification handler");
	for (;;) {
		if ((st = wire_io(c)) != POOLD_OK)
			return st;
		if (c->handled != before)
			return POOLD_OK;
		if ((left = wire_remaining(deadline)) == 0)
			return client_fail(c, POOLD_ERR_TIMEOUT, 0,
			    "nothing from poold within %d ms", timeout_ms);
		st = wire_wait(c, left);
		if (st != POOLD_OK && st != POOLD_ERR_TIMEOUT)
			return st;
	}
}

void
wire_free(poold_client *c)
{
	free(c->out.buf);
	free(c->in.buf);
}

/*
 * Client connections. Input is framed by '\n'; a line longer than
 * max_request_bytes is answered once with -32600 and the connection closes.
 * A connection is freed only from its own bufferevent callbacks, never
 * while a request of it is being handled, so handlers may use it freely.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config.h"
#include "conn.h"
#include "future.h"
#include "log.h"
#include "poold.h"
#include "rpc.h"
#include "sched.h"
#include "xmalloc.h"

#define CONN_IO_MAX	(256 * 1024)	/* bytes a read or write */
#define CONN_READ_BURST	(4 * 1024 * 1024) /* bytes a line may take at once */

struct conn_watch {
	struct future_watch	 watch;
	struct conn		*conn;
	TAILQ_ENTRY(conn_watch)	 entry;
};

struct conn {
	struct bufferevent		*bev;
	int				 fd;
	uid_t				 uid;
	gid_t				 gid;
	pid_t				 pid;
	int				 admin;
	int				 closing;	/* flush, then free */
	int				 paused;	/* output backlog */
	int				 eof;		/* the peer sends no more */
	size_t				 scanned;	/* input without '\n' */
	struct sched_owner		*owner;		/* its place in the fair order */
	TAILQ_HEAD(, rpc_req)		 held;
	TAILQ_HEAD(, conn_watch)	 watches;
	TAILQ_ENTRY(conn)		 entry;
};

static TAILQ_HEAD(, conn) conns = TAILQ_HEAD_INITIALIZER(conns);
static unsigned nconns;

static void	conn_read_cb(struct bufferevent *, void *);
static void	conn_write_cb(struct bufferevent *, void *);
static void	conn_event_cb(struct bufferevent *, short, void *);
static void	conn_free(struct conn *);

/* Read the peer's uid, gid and groups, and decide whether it is an admin. */
static int
conn_credentials(struct conn *c)
{
	struct ucred	 cred;
	gid_t		 groups[256];
	socklen_t	 len = sizeof cred;
	int		 ngroups = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("SO_PEERCRED on fd %d", c->fd);
		return -1;
	}
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->pid = cred.pid;
	if (poold.have_admin_gid) {
		len = sizeof groups;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups,
		    &len) == 0)
			ngroups = (int)(len / sizeof groups[0]);
		else if (errno != ERANGE)
			log_warn("SO_PEERGROUPS on fd %d", c->fd);
	}
	c->admin = poold_is_admin(c->uid, c->gid, groups, ngroups);
	return 0;
}

/* Take an accepted socket; closes it on failure. */
struct conn *
conn_new(int fd)
{
	struct conn	*c = xcalloc(1, sizeof *c);

	c->fd = fd;
	TAILQ_INIT(&c->held);
	TAILQ_INIT(&c->watches);
	if (conn_credentials(c) == -1) {
		close(fd);
		free(c);
		return NULL;
	}
	c->owner = sched_owner_new(c->uid);
	c->bev = bufferevent_socket_new(poold.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warnx("bufferevent_socket_new failed for fd %d", fd);
		close(fd);
		sched_owner_unref(c->owner);
		free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb,
	    c);
	/* libevent moves 4 KiB a call by default: a loop turn each. */
	if (bufferevent_set_max_single_read(c->bev, CONN_IO_MAX) == -1 ||
	    bufferevent_set_max_single_write(c->bev, CONN_IO_MAX) == -1 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) == -1) {
		log_warnx("cannot set up the buffers of fd %d", fd);
		bufferevent_free(c->bev);
		sched_owner_unref(c->owner);
		free(c);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	log_debug("fd %d: uid %u gid %u pid %d%s", fd, (unsigned)c->uid,
	    (unsigned)c->gid, (int)c->pid, c->admin ? " (admin)" : "");
	return c;
}

static void
conn_free(struct conn *c)
{
	struct rpc_req		*req;
	struct conn_watch	*cw;

	log_debug("fd %d closed", c->fd);
	while ((req = TAILQ_FIRST(&c->held)) != NULL) {
		TAILQ_REMOVE(&c->held, req, entry);
		rpc_abort(req);
	}
	while ((cw = TAILQ_FIRST(&c->watches)) != NULL) {
		TAILQ_REMOVE(&c->watches, cw, entry);
		future_unwatch(&cw->watch);
		free(cw);
	}
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	bufferevent_free(c->bev);
	sched_owner_unref(c->owner);
	free(c);
	poold_conn_closed();
}

/*
 * Append one message and its newline; jansson's compact form has none.
 * The message is encoded once, into a scratch buffer kept between calls
 * (a message larger than it is encoded a second time, once it has grown).
 */
void
conn_send(struct conn *c, json_t *msg)
{
	static char	*scratch;
	static size_t	 cap;
	size_t		 n;

	for (;;) {
		n = json_dumpb(msg, scratch, cap, JSON_COMPACT |
		    JSON_ENCODE_ANY);
		if (n == 0) {
			log_warnx("fd %d: cannot encode a message", c->fd);
			return;
		}
		if (n < cap)
			break;
		cap = n + 1 > 65536 ? n + 1 : 65536;
		scratch = xreallocarray(scratch, cap, 1);
	}
	scratch[n++] = '\n';
	if (evbuffer_add(bufferevent_get_output(c->bev), scratch, n) == -1)
		fatalx("fd %d: evbuffer_add %zu bytes", c->fd, n);
	/* A huge message's buffer is not kept for good. */
	if (cap > (1 << 20)) {
		free(scratch);
		scratch = NULL;
		cap = 0;
	}
}

/* Queue bytes already encoded: part of a message, or a whole one. */
void
conn_write(struct conn *c, const void *data, size_t len)
{
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) == -1)
		fatalx("fd %d: evbuffer_add %zu bytes", c->fd, len);
}

void
conn_write_str(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

/* Send a server-to-client notification; takes the reference to params. */
void
conn_notify(struct conn *c, const char *method, json_t *params)
{
	json_t	*msg;

	msg = json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method,
	    "params", params);
	if (msg == NULL)
		fatalx("json_pack failed");
	conn_send(c, msg);
	json_decref(msg);
}

/* Stop reading and close once everything queued is written. */
void
conn_close_after_flush(struct conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS |
		    BEV_TRIG_DEFER_CALLBACKS);
}

void
conn_close_all(void)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry)
		conn_close_after_flush(c);
}

void
conn_free_all(void)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&conns)) != NULL)
		conn_free(c);
}

unsigned
conn_count(void)
{
	return nconns;
}

uid_t
conn_uid(const struct conn *c)
{
	return c->uid;
}

int
conn_is_admin(const struct conn *c)
{
	return c->admin;
}

void
conn_hold(struct conn *c, struct rpc_req *req)
{
	TAILQ_INSERT_TAIL(&c->held, req, entry);
}

void
conn_unhold(struct conn *c, struct rpc_req *req)
{
	TAILQ_REMOVE(&c->held, req, entry);
	if (c->eof && TAILQ_EMPTY(&c->held))
		conn_close_after_flush(c);
}

static void
conn_watch_fired(struct future_watch *w, struct future *f)
{
	struct conn_watch	*cw = w->arg;
	struct conn		*c = cw->conn;

	TAILQ_REMOVE(&c->watches, cw, entry);
	free(cw);
	conn_notify(c, "future.done", json_pack("{s:o}", "future",
	    future_to_json(f, 1)));
}

/* Send future.done on this connection when f is done (notify: true). */
void
conn_notify_done(struct conn *c, struct future *f)
{
	struct conn_watch	*cw = xcalloc(1, sizeof *cw);

	cw->conn = c;
	TAILQ_INSERT_TAIL(&c->watches, cw, entry);
	future_watch(f, &cw->watch, conn_watch_fired, cw);
}

static void
conn_too_long(struct conn *c)
{
	struct evbuffer	*in = bufferevent_get_input(c->bev);
	json_t		*msg;

	log_info("fd %d: request over %ld bytes, closing", c->fd,
	    poold.cfg->max_request_bytes);
	msg = rpc_error_message(NULL, RPC_INVALID_REQUEST, "request too large",
	    json_pack("{s:I}", "limit",
	    (json_int_t)poold.cfg->max_request_bytes));
	conn_send(c, msg);
	json_decref(msg);
	evbuffer_drain(in, evbuffer_get_length(in));
	conn_close_after_flush(c);
}

/*
 * Stop reading a peer whose answers pile up unread; it is read again once
 * its output drains (conn_write_cb).
 */
/* Whether the peer has output_watermark or more unread: stop sending. */
int
conn_output_full(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) >=
	    (size_t)poold.cfg->output_watermark;
}

struct sched_owner *
conn_owner(struct conn *c)
{
	return c->owner;
}

static int
conn_backlogged(struct conn *c)
{
	if (!conn_output_full(c))
		return 0;
	c->paused = 1;
	bufferevent_disable(c->bev, EV_READ);
	return 1;
}

/*
 * libevent 2.1 reads at most 4 KiB each time the socket is readable, so a
 * request of megabytes would take hundreds of turns of the loop. While a
 * line is incomplete, take what the socket holds now (once a wakeup, a
 * bounded burst); whether more came. An end or an error is left for the
 * bufferevent's next read to find.
 */
static int
conn_read_more(struct conn *c, struct evbuffer *in, size_t max)
{
	size_t	before = evbuffer_get_length(in), len = before;

	while (len <= max && len - before < CONN_READ_BURST &&
	    evbuffer_read(in, c->fd, CONN_IO_MAX) > 0)
		len = evbuffer_get_length(in);
	return len > before;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 start, eol;
	size_t			 max = (size_t)poold.cfg->max_request_bytes;
	unsigned char		*line;
	int			 burst = 1;

	while (!c->closing && !conn_backlogged(c)) {
		/* Search only what was not searched before. */
		if (evbuffer_ptr_set(in, &start, c->scanned,
		    EVBUFFER_PTR_SET) == -1)
			fatalx("fd %d: evbuffer_ptr_set %zu", c->fd, c->scanned);
		eol = evbuffer_search(in, "\n", 1, &start);
		if (eol.pos == -1) {
			c->scanned = evbuffer_get_length(in);
			if (c->scanned > max)
				conn_too_long(c);
			else if (burst && conn_read_more(c, in, max)) {
				burst = 0;
				continue;
			}
			return;
		}
		c->scanned = 0;
		if ((size_t)eol.pos > max) {
			conn_too_long(c);
			return;
		}
		if ((line = evbuffer_pullup(in, eol.pos + 1)) == NULL)
			fatalx("fd %d: evbuffer_pullup %zd", c->fd, eol.pos);
		rpc_handle_line(c, (const char *)line, (size_t)eol.pos);
		evbuffer_drain(in, (size_t)eol.pos + 1);
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;
	struct rpc_req	*req, *next;

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	if (c->closing) {
		conn_free(c);
		return;
	}
	/* A drained hook may answer (and free) its own request only. */
	for (req = TAILQ_FIRST(&c->held); req != NULL; req = next) {
		next = TAILQ_NEXT(req, entry);
		if (req->drained != NULL)
			req->drained(req);
	}
	if (c->paused) {
		c->paused = 0;
		bufferevent_enable(bev, EV_READ);
		conn_read_cb(bev, c);
	}
}

/*
 * Whether the peer closed both ways. A peer that only shut down its
 * sending side (socat at the end of its input) still waits for answers;
 * for a Unix socket, POLLHUP says the peer is gone altogether.
 */
static int
conn_peer_gone(struct conn *c)
{
	struct pollfd	pfd = { .fd = c->fd, .events = POLLOUT };

	if (poll(&pfd, 1, 0) == -1) {
		log_warn("poll fd %d", c->fd);
		return 1;
	}
	return (pfd.revents & (POLLHUP | POLLERR)) != 0;
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if (what & BEV_EVENT_ERROR) {
		log_debug("fd %d: %s", c->fd,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) == 0)
		return;
	if (c->closing || conn_peer_gone(c)) {
		conn_free(c);
		return;
	}
	c->eof = 1;
	bufferevent_disable(bev, EV_READ);
	if (TAILQ_EMPTY(&c->held))
		conn_close_after_flush(c);
}

/*
 * The daemon as a whole: start-up, the signals, and the graceful stop.
 *
 * A stop (SIGTERM, SIGINT or the shutdown method) first refuses new work
 * and lets what is pending and running end, answering requests meanwhile.
 * shutdown_timeout bounds that; past it, pending futures are cancelled and
 * running ones end Interrupted. Once nothing is pending or running, every
 * waiting request has had its answer: the listener closes, each connection
 * is closed once its output is flushed, and the loop ends.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include <jansson.h>

#include "child.h"
#include "clock.h"
#include "config.h"
#include "conn.h"
#include "future.h"
#include "journal.h"
#include "log.h"
#include "plugin.h"
#include "poold.h"
#include "sched.h"
#include "server.h"
#include "systemd.h"
#include "xmalloc.h"

/* How long the final flush of answers may take before the loop ends. */
#define POOLD_FLUSH_SECONDS	5

struct poold poold;

static struct {
	struct event	*sigterm;
	struct event	*sigint;
	struct event	*sighup;
	struct event	*grace;		/* shutdown_timeout ran out */
	struct event	*drained;	/* check whether the stop can end */
	struct event	*flush;		/* bound on the final flush */
} ev;

static void	poold_signal_cb(evutil_socket_t, short, void *);
static void	poold_grace_cb(evutil_socket_t, short, void *);
static void	poold_drained_cb(evutil_socket_t, short, void *);
static void	poold_flush_cb(evutil_socket_t, short, void *);
static void	poold_sched_idle(void);

static struct event *
poold_event(evutil_socket_t fd, short what, event_callback_fn cb)
{
	struct event	*e;

	if ((e = event_new(poold.base, fd, what, cb, NULL)) == NULL)
		fatalx("event_new failed");
	return e;
}

static void
poold_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction SIGPIPE");
	ev.sigterm = poold_event(SIGTERM, EV_SIGNAL | EV_PERSIST,
	    poold_signal_cb);
	ev.sigint = poold_event(SIGINT, EV_SIGNAL | EV_PERSIST,
	    poold_signal_cb);
	ev.sighup = poold_event(SIGHUP, EV_SIGNAL | EV_PERSIST,
	    poold_signal_cb);
	if (event_add(ev.sigterm, NULL) == -1 ||
	    event_add(ev.sigint, NULL) == -1 ||
	    event_add(ev.sighup, NULL) == -1)
		fatalx("cannot watch signals");
}

/* Everything up to the first accept; on error *cause says why. */
int
poold_init(struct config *cfg, char **cause)
{
	sigset_t stops;
	char	*path;
	size_t	 i;
	int	 fd;

	/*
	 * The socket accepts before the loop runs: hold the signals that stop
	 * poold until the loop takes them, so an early SIGTERM is a graceful
	 * stop rather than death.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stops, NULL) == -1)
		fatal("sigprocmask");

	memset(&poold, 0, sizeof poold);
	poold.cfg = cfg;
	poold.uid = getuid();
	poold.started = clock_real();
	poold.admin_gid = cfg->admin_gid;
	poold.have_admin_gid = cfg->admin_group != NULL;

	/* Plugins before the socket: a bad one stops start-up at once. */
	for (i = 0; i < cfg->nplugins; i++) {
		if (plugin_load(cfg->plugins[i], cfg->plugin_dir, cause) == -1)
			return -1;
	}
	if (plugin_init_all(cause) == -1)
		return -1;
	if (journal_open(cfg, cause) == -1)
		return -1;

	/* The socket first: a daemon that cannot serve has nothing to undo. */
	if ((fd = systemd_listen_fd(cause)) == -2)
		return -1;
	if (fd >= 0)
		path = NULL;
	else {
		path = cfg->socket != NULL ? xstrdup(cfg->socket) :
		    server_default_path();
		if ((fd = server_open(path, cause)) == -1) {
			free(path);
			return -1;
		}
	}

	/* Before any thread exists: the seed is jansson's one global. */
	json_object_seed(0);
	if (evthread_use_pthreads() == -1)
		fatalx("evthread_use_pthreads failed");
	if ((poold.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	poold_signals();
	if (sigprocmask(SIG_UNBLOCK, &stops, NULL) == -1)
		fatal("sigprocmask");
	ev.grace = poold_event(-1, 0, poold_grace_cb);
	ev.drained = poold_event(-1, 0, poold_drained_cb);
	ev.flush = poold_event(-1, 0, poold_flush_cb);
	if (server_start(poold.base, fd, path) == -1)
		fatalx("cannot listen on fd %d", fd);
	future_store_init(poold.base, cfg->result_ttl);
	child_init(poold.base);
	sched_init(poold.base, cfg);
	sched_set_idle_cb(poold_sched_idle);
	journal_start(poold.base);
	log_info("listening on %s with %ld processes and %ld threads",
	    path != NULL ? path : "the socket systemd passed", cfg->processes,
	    cfg->threads);
	free(path);
	systemd_ready((int)cfg->processes, (int)cfg->threads);
	return 0;
}

int
poold_run(void)
{
	if (event_base_dispatch(poold.base) == -1) {
		log_warnx("event_base_dispatch failed");
		return 1;
	}
	return 0;
}

void
poold_free(void)
{
	server_stop();
	conn_free_all();
	sched_free();
	child_free();
	journal_close();
	future_store_free();
	plugin_unload_all();
	event_free(ev.sigterm);
	event_free(ev.sigint);
	event_free(ev.sighup);
	event_free(ev.grace);
	event_free(ev.drained);
	event_free(ev.flush);
	event_base_free(poold.base);
	libevent_global_shutdown();
	memset(&poold, 0, sizeof poold);
}

/* Whether a peer with these credentials is an admin. */
int
poold_is_admin(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	int	i;

	if (uid == 0 || uid == poold.uid)
		return 1;
	if (!poold.have_admin_gid)
		return 0;
	if (gid == poold.admin_gid)
		return 1;
	for (i = 0; i < ngroups; i++) {
		if (groups[i] == poold.admin_gid)
			return 1;
	}
	return 0;
}

/*
 * Begin or hasten a stop. wait: let pending and running tasks end (else
 * cancel and interrupt them now); cancel_pending: cancel what has not
 * started.
 */
void
poold_stop(int wait, int cancel_pending)
{
	struct timeval	tv;

	if (!poold.stopping) {
		poold.stopping = 1;
		systemd_stopping();
		log_info("stopping: no new work%s", wait ?
		    ", waiting for tasks to end" : "");
		tv = clock_timeval(poold.cfg->shutdown_timeout);
		evtimer_add(ev.grace, &tv);
	}
	if (cancel_pending || !wait)
		sched_cancel_pending();
	if (!wait)
		sched_interrupt_running();
	event_active(ev.drained, 0, 0);
}

static void
poold_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	if (sig == SIGHUP) {
		log_info("SIGHUP: nothing to reload yet");
		return;
	}
	log_info("signal %d", (int)sig);
	poold_stop(1, 0);
}

static void
poold_grace_cb(evutil_socket_t fd, short events, void *arg)
{
	log_warnx("shutdown_timeout (%gs) ran out: cancelling and "
	    "interrupting what is left", poold.cfg->shutdown_timeout);
	sched_cancel_pending();
	sched_interrupt_running();
}

/* Called by the scheduler whenever nothing is pending or running. */
static void
poold_sched_idle(void)
{
	if (poold.stopping)
		event_active(ev.drained, 0, 0);
}

static void
poold_drained_cb(evutil_socket_t fd, short events, void *arg)
{
	const struct future_counts	*c = future_store_counts();
	struct timeval			 tv = { POOLD_FLUSH_SECONDS, 0 };

	if (poold.exiting || c->pending != 0 || c->running != 0)
		return;
	poold.exiting = 1;
	log_info("all tasks ended; closing connections");
	server_stop();
	conn_close_all();
	evtimer_add(ev.flush, &tv);
	poold_conn_closed();
}

/* Called as each connection closes: the last one ends an exit. */
void
poold_conn_closed(void)
{
	if (poold.exiting && conn_count() == 0)
		event_base_loopexit(poold.base, NULL);
}

static void
poold_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	log_warnx("%u connections did not take their answers in %ds",
	    conn_count(), POOLD_FLUSH_SECONDS);
	event_base_loopexit(poold.base, NULL);
}

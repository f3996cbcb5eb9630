/*
 * The daemon as a whole: start-up, the signals, and the graceful stop.
 *
 * A stop (SIGTERM, SIGINT or the shutdown method) first refuses new work
 * and lets what is pending and running end, answering requests meanwhile.
 * shutdown_timeout bounds that; past it, pending futures are cancelled and
 * running ones end Interrupted. Once nothing is pending or running, every
 * waiting request has had its answer: the listener closes, each connection
 * is closed once its output is flushed, and the loop ends.
 *
 * Under systemd: READY=1 once the listener is open and every pre-forked
 * worker has started (or the pool is known to be broken), STATUS= kept
 * current once a second, RELOADING=1 and READY=1 around a reload
 * (SIGHUP), STOPPING=1 when a stop begins, and WATCHDOG=1 from the loop
 * at half the watchdog's interval, so a stuck loop gets poold restarted.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
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
#include "procpool.h"
#include "sched.h"
#include "server.h"
#include "systemd.h"
#include "xmalloc.h"

/* How long the final flush of answers may take before the loop ends. */
#define POOLD_FLUSH_SECONDS	5
/* How often STATUS= is brought up to date, and start-up is checked. */
#define POOLD_STATUS_SECONDS	1
#define POOLD_START_POLL_USEC	10000

struct poold poold;

static struct {
	struct event	*sigterm;
	struct event	*sigint;
	struct event	*sighup;
	struct event	*grace;		/* shutdown_timeout ran out */
	struct event	*drained;	/* check whether the stop can end */
	struct event	*flush;		/* bound on the final flush */
	struct event	*startup;	/* are the workers up yet? */
	struct event	*status;	/* STATUS= for systemd */
	struct event	*watchdog;	/* WATCHDOG=1 */
} ev;

static void	poold_signal_cb(evutil_socket_t, short, void *);
static void	poold_grace_cb(evutil_socket_t, short, void *);
static void	poold_drained_cb(evutil_socket_t, short, void *);
static void	poold_flush_cb(evutil_socket_t, short, void *);
static void	poold_sched_idle(void);
static void	poold_startup_cb(evutil_socket_t, short, void *);
static void	poold_status_cb(evutil_socket_t, short, void *);
static void	poold_watchdog_cb(evutil_socket_t, short, void *);

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

/*
 * The timers that speak to systemd. The watchdog pings from the start: a
 * worker initializer that takes long must not look like a stuck loop.
 */
static void
poold_systemd_timers(void)
{
	struct timeval	tv = { POOLD_STATUS_SECONDS, 0 };
	uint64_t	half = systemd_watchdog_usec() / 2;

	ev.startup = poold_event(-1, 0, poold_startup_cb);
	event_active(ev.startup, EV_TIMEOUT, 0);
	ev.status = poold_event(-1, EV_PERSIST, poold_status_cb);
	if (systemd_notifying())
		evtimer_add(ev.status, &tv);
	ev.watchdog = poold_event(-1, EV_PERSIST, poold_watchdog_cb);
	if (half > 0) {
		tv.tv_sec = (time_t)(half / 1000000);
		tv.tv_usec = (suseconds_t)(half % 1000000);
		evtimer_add(ev.watchdog, &tv);
	}
}

/* Everything up to the first accept; on error *cause says why. */
int
poold_init(struct config *cfg, const struct config_source *source,
    char **cause)
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
	poold.source = source;
	systemd_init();
	poold.uid = getuid();
	poold.started = clock_real();
	poold.admin_gid = cfg->admin_gid;
	poold.have_admin_gid = cfg->admin_group != NULL;

	/* Plugins before the socket: a bad one stops start-up at once. */
	for (i = 0; i < cfg->nplugins; i++) {
		if (plugin_load(cfg->plugins[i], cfg, cause) == -1)
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
	poold_systemd_timers();
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
	event_free(ev.startup);
	event_free(ev.status);
	event_free(ev.watchdog);
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
		systemd_stopping(poold.cfg->shutdown_timeout +
		    poold.cfg->kill_timeout + POOLD_FLUSH_SECONDS);
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

/* One line for systemctl status: the pools, then the work. */
static void
poold_status(char *buf, size_t len)
{
	const struct future_counts	*c = future_store_counts();
	const char			*broken = procpool_broken();

	snprintf(buf, len, "%s%d worker processes (%d busy), %d threads (%d "
	    "busy), %lu pending%s%s", poold.stopping ? "stopping: " : "",
	    procpool_size(), procpool_busy(), sched_threads(),
	    sched_threads_busy(), c->pending,
	    broken != NULL ? "; worker processes cannot start: " : "",
	    broken != NULL ? broken : "");
}

static void
poold_ready(void)
{
	char	status[256];

	poold_status(status, sizeof status);
	systemd_ready(status);
}

/*
 * The pool tells the scheduler, not this file, as each worker comes up;
 * start-up is short, so asking every few milliseconds until then is
 * cheap. A pool that cannot start is logged and shown in STATUS=: poold
 * still serves the thread executor.
 */
static void
poold_startup_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timeval	tv = { 0, POOLD_START_POLL_USEC };

	if (poold.stopping)
		return;
	if (procpool_idle() + procpool_busy() < procpool_size() &&
	    procpool_broken() == NULL) {
		evtimer_add(ev.startup, &tv);
		return;
	}
	poold.ready = 1;
	log_info("ready: %d worker processes, %d threads", procpool_size(),
	    sched_threads());
	poold_ready();
}

static void
poold_status_cb(evutil_socket_t fd, short events, void *arg)
{
	char	status[256];

	if (!poold.ready && !poold.stopping)
		return;
	poold_status(status, sizeof status);
	systemd_status(status);
}

static void
poold_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	systemd_watchdog();
}

/* Make what runs match the settings that a reload changed. */
static void
poold_apply(long processes, long threads)
{
	struct config	*cfg = poold.cfg;

	log_init(cfg->verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	poold.admin_gid = cfg->admin_gid;
	poold.have_admin_gid = cfg->admin_group != NULL;
	future_store_set_ttl(cfg->result_ttl);
	if (cfg->processes != processes)
		sched_resize_processes((int)cfg->processes);
	if (cfg->threads != threads)
		sched_resize_threads((int)cfg->threads);
	/* A higher max_workers_per_uid may let waiting work start. */
	sched_kick();
}

/*
 * SIGHUP: read the file again under the same flags. Settings that changed
 * take effect as resize and the limits' own checks allow, without
 * touching a task or a connection; a bad file changes nothing.
 */
static void
poold_reload(void)
{
	struct config	 next;
	const char	*path = poold.source != NULL ? poold.source->path :
			    NULL;
	char		*cause = NULL, *kept;
	long		 processes = poold.cfg->processes;
	long		 threads = poold.cfg->threads;

	if (poold.stopping) {
		log_info("SIGHUP while stopping: nothing to reload");
		return;
	}
	if (poold.ready)
		systemd_reloading();
	if (path == NULL)
		log_info("SIGHUP: no config file (-c) to read again");
	else if (config_read(&next, poold.source, &cause) != 0) {
		log_warnx("not reloaded: %s; the settings in use are kept",
		    cause);
		free(cause);
	} else {
		if ((kept = config_update(poold.cfg, &next)) != NULL) {
			log_warnx("%s: changed in %s; in use once poold "
			    "restarts", kept, path);
			free(kept);
		}
		config_free(&next);
		poold_apply(processes, threads);
		log_info("reloaded %s: %d worker processes, %d threads", path,
		    procpool_size(), sched_threads());
	}
	if (poold.ready)
		poold_ready();
}

static void
poold_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	if (sig == SIGHUP) {
		poold_reload();
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

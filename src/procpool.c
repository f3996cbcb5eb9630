/*
 * The process pool's supervisor. Each worker has a socketpair channel
 * watched by a bufferevent; the reaper (child.c) reports its death. The
 * channel and the death are handled apart: a worker that is stopped on
 * purpose (a timeout, a force cancel, a bad message) loses its channel at
 * once so nothing more it says is heard, and is accounted for when reaped.
 *
 * A worker that dies before it is ready counts as a start-up failure.
 * Start-up failures in a row delay the next fork (0.1 s, doubling, up to
 * 10 s) so a broken initializer cannot become a fork loop; after a few,
 * the scheduler is told the pool is broken and fails what waits for it.
 *
 * Binding: a root supervisor forks workers unbound, as root, with no
 * plugin initialized. A task for a uid goes to an idle worker bound to it,
 * else to an unbound one, which is first sent the uid's credentials and
 * takes them for good before it initializes its plugins and runs the
 * task. A worker that cannot bind (a failed drop, a failed initializer)
 * says why and exits: the task fails with WorkerCrashed and that reason.
 * That is not a start-up failure: it may be one user's doing, and must not
 * break the pool for the others.
 *
 * With the python plugin loaded, every worker execs a program as soon as
 * it exists: python3 hosting the worker (worker-host.h) where that works,
 * else the worker program (worker-program.h) where it is there. Such
 * workers all come from the spawner, root or not: a copy of poold is of
 * no use to them, and the spawner gives them their channel and page as
 * fds 3 and 4.
 */
#include "autoconf.h"

#include <sys/queue.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "child.h"
#include "clock.h"
#include "config.h"
#include "future.h"
#include "ident.h"
#include "json-check.h"
#include "json-span.h"
#include "log.h"
#include "procpool.h"
#include "spawner.h"
#include "worker.h"
#include "worker-host.h"
#include "worker-program.h"
#include "xmalloc.h"

#define PROCPOOL_BACKOFF_MIN	0.1
#define PROCPOOL_BACKOFF_MAX	10.0
#define PROCPOOL_BROKEN_AFTER	3	/* start-up failures in a row */
#define PROCPOOL_IO_MAX		(256 * 1024)	/* bytes a read or write */

enum worker_state {
	WORKER_STARTING,
	WORKER_IDLE,
	WORKER_BUSY,
	WORKER_STOPPING,
};

static const char *const worker_state_names[] = {
	[WORKER_STARTING] = "starting",
	[WORKER_IDLE] = "idle",
	[WORKER_BUSY] = "busy",
	[WORKER_STOPPING] = "stopping",
};

struct worker {
	pid_t			 pid;
	struct bufferevent	*bev;		/* NULL once stopping */
	enum worker_state	 state;
	void			*task;		/* NULL: none, or aborted */
	char			 future[20];
	uint64_t		 msg_id;
	unsigned long		 tasks;
	double			 started;
	const char		*fault;		/* why it was killed */
	pid_t			 pgid;		/* its task's program, or 0 */
	int			 chunk;		/* the task is a map's chunk */
	size_t			 max_line;	/* of its answer */
	struct worker_progress	*progress;	/* shared with it */
	struct event		*kill_timer;
	int			 bound;		/* to uid, for good */
	uid_t			 uid;
	int			 binding;	/* its first task's bind is on */
	char			 why[256];	/* why it could not bind */
	TAILQ_ENTRY(worker)	 entry;
};

static struct {
	struct event_base		*base;
	const struct config		*cfg;
	struct procpool_hooks		 hooks;
	struct worker_config		 wcfg;
	TAILQ_HEAD(, worker)		 workers;
	int				 size;		/* wanted */
	unsigned long			 restarts;
	int				 start_failures;
	int				 broken;
	struct event			*respawn;
	int				 respawn_armed;
	int				 bind_late;	/* workers start unbound */
	int				 spawned;	/* by the spawner */
	char				**program;	/* the command line a
							   worker execs */
	struct worker_start		 start;		/* a worker's, but its page */
	char				 fatal[256];	/* a worker's last word */
} pool;

static void	procpool_fill(void);
static void	procpool_write(struct worker *, const char *, size_t);
static void	procpool_read_cb(struct bufferevent *, void *);
static void	procpool_event_cb(struct bufferevent *, short, void *);
static void	procpool_exit_cb(pid_t, int, void *);
static void	procpool_kill_cb(evutil_socket_t, short, void *);
static void	procpool_respawn_cb(evutil_socket_t, short, void *);
static void	procpool_worker_entry(int, int, void *);
static void	procpool_sweep(struct worker *, int);

void
procpool_init(struct event_base *base, const struct config *cfg,
    const struct procpool_hooks *hooks)
{
	char	*cause = NULL, *path;

	memset(&pool, 0, sizeof pool);
	pool.base = base;
	pool.cfg = cfg;
	pool.hooks = *hooks;
	pool.wcfg.max_result_bytes = cfg->max_result_bytes;
	pool.wcfg.max_output_bytes = cfg->max_output_bytes;
	pool.size = (int)cfg->processes;
	/* Only root can become the owners; anyone else's workers are its. */
	pool.bind_late = geteuid() == 0;
	pool.start.cfg = &pool.wcfg;
	pool.start.bound = !pool.bind_late;
	pool.start.parent = getpid();
	TAILQ_INIT(&pool.workers);
	if ((pool.respawn = evtimer_new(base, procpool_respawn_cb,
	    NULL)) == NULL)
		fatalx("evtimer_new failed");
	/* Python's best first: python3, then poold-worker, then poold. */
	if ((pool.program = worker_host_argv(&pool.start)) == NULL &&
	    (path = worker_program_find()) != NULL) {
		log_info("workers run %s", path);
		pool.program = worker_program_argv((const char *[]){ path,
		    NULL }, &pool.start);
		free(path);
	}
	/* Workers that will belong to users come from a clean copy. */
	pool.spawned = pool.bind_late || pool.program != NULL;
	if (pool.spawned && spawner_start(procpool_worker_entry, &pool.start,
	    &cause) == -1)
		fatalx("cannot start the worker spawner: %s", cause);
	procpool_fill();
}

static void
worker_free(struct worker *w)
{
	TAILQ_REMOVE(&pool.workers, w, entry);
	if (w->progress != NULL)
		munmap(w->progress, sizeof *w->progress);
	if (w->bev != NULL)
		bufferevent_free(w->bev);
	if (w->kill_timer != NULL)
		event_free(w->kill_timer);
	free(w);
}

/* Kill the process group of a program the worker started, if any. */
static void
procpool_kill_group(struct worker *w, int sig)
{
	if (w->pgid > 1 && kill(-w->pgid, sig) == -1 && errno != ESRCH)
		log_warn("kill -%d", (int)w->pgid);
}

/* Kill every worker and wait for each: nothing poold forked outlives it. */
void
procpool_free(void)
{
	struct worker	*w;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state == WORKER_BUSY || w->state == WORKER_STOPPING)
			procpool_sweep(w, 1);
		procpool_kill_group(w, SIGKILL);
		child_forget(w->pid);
		if (kill(w->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %d", (int)w->pid);
	}
	while ((w = TAILQ_FIRST(&pool.workers)) != NULL) {
		while (waitpid(w->pid, NULL, 0) == -1 && errno == EINTR)
			;
		worker_free(w);
	}
	child_reap();
	spawner_stop();
	worker_program_free(pool.program);
	if (pool.respawn != NULL)
		event_free(pool.respawn);
	memset(&pool, 0, sizeof pool);
}

/* Workers that count towards the pool's size. */
static int
procpool_live(void)
{
	struct worker	*w;
	int		 n = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state != WORKER_STOPPING)
			n++;
	}
	return n;
}

/*
 * In a worker the spawner made: the worker program, or its page, then its
 * work. start is the spawner's copy of the template made before the
 * spawner was forked.
 */
static void
procpool_worker_entry(int fd, int page, void *arg)
{
	struct worker_start	start = *(const struct worker_start *)arg;
	void			*p;

	if (pool.program != NULL)
		worker_program_exec(pool.program, getppid());
	p = mmap(NULL, sizeof *start.progress, PROT_READ | PROT_WRITE,
	    MAP_SHARED, page, 0);
	if (p == MAP_FAILED)
		_exit(127);
	close(page);
	start.progress = p;
	start.parent = getppid();
	worker_main(fd, &start);
}

/* The page a worker shares with the supervisor; -1 on error. */
static int
procpool_page(struct worker_progress **progress)
{
	void	*page;
	int	 fd;

	if ((fd = memfd_create("poold-worker", MFD_CLOEXEC)) == -1)
		return -1;
	if (ftruncate(fd, sizeof **progress) == -1 ||
	    (page = mmap(NULL, sizeof **progress, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		close(fd);
		return -1;
	}
	*progress = page;
	return fd;
}

static int
procpool_spawn(void)
{
	struct worker		*w;
	struct worker_start	 start;
	struct worker_progress	*progress;
	int			 sv[2], page;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("socketpair");
		return -1;
	}
	if ((page = procpool_page(&progress)) == -1) {
		log_warn("a worker's page");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->state = WORKER_STARTING;
	w->started = clock_real();
	w->max_line = (size_t)pool.cfg->max_result_bytes + 4096;
	w->progress = progress;
	w->progress->index = -1;
	w->bound = !pool.bind_late;
	w->uid = geteuid();
	if (pool.spawned) {
		if ((w->pid = spawner_spawn(sv[1], page)) != -1)
			child_watch(w->pid, procpool_exit_cb, w);
	} else {
		start = pool.start;
		start.progress = w->progress;
		w->pid = child_fork(sv[1], worker_main, &start,
		    procpool_exit_cb, w);
	}
	close(sv[1]);
	close(page);
	if (w->pid == -1) {
		log_warn("fork");
		close(sv[0]);
		munmap(progress, sizeof *w->progress);
		free(w);
		return -1;
	}
	if (evutil_make_socket_nonblocking(sv[0]) == -1 ||
	    (w->bev = bufferevent_socket_new(pool.base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("cannot watch worker %d's channel fd %d", (int)w->pid,
		    sv[0]);
	bufferevent_setcb(w->bev, procpool_read_cb, NULL, procpool_event_cb, w);
	if (bufferevent_set_max_single_read(w->bev, PROCPOOL_IO_MAX) == -1 ||
	    bufferevent_set_max_single_write(w->bev, PROCPOOL_IO_MAX) == -1 ||
	    bufferevent_enable(w->bev, EV_READ) == -1)
		fatalx("cannot watch worker %d's channel fd %d", (int)w->pid,
		    sv[0]);
	TAILQ_INSERT_TAIL(&pool.workers, w, entry);
	log_debug("worker %d started", (int)w->pid);
	return 0;
}

static double
procpool_backoff(void)
{
	double	delay = PROCPOOL_BACKOFF_MIN;
	int	i;

	for (i = 1; i < pool.start_failures && delay < PROCPOOL_BACKOFF_MAX;
	    i++)
		delay *= 2;
	return delay < PROCPOOL_BACKOFF_MAX ? delay : PROCPOOL_BACKOFF_MAX;
}

/* Start workers until the pool has its size, after a back-off if needed. */
static void
procpool_fill(void)
{
	struct timeval	tv;

	if (pool.respawn_armed)
		return;
	if (pool.start_failures > 0 && procpool_live() < pool.size) {
		tv = clock_timeval(procpool_backoff());
		evtimer_add(pool.respawn, &tv);
		pool.respawn_armed = 1;
		return;
	}
	while (procpool_live() < pool.size) {
		if (procpool_spawn() == -1) {
			pool.start_failures++;
			procpool_fill();
			return;
		}
	}
}

static void
procpool_respawn_cb(evutil_socket_t fd, short events, void *arg)
{
	pool.respawn_armed = 0;
	while (procpool_live() < pool.size) {
		if (procpool_spawn() == -1) {
			pool.start_failures++;
			break;
		}
		/* One at a time while workers fail to start. */
		if (pool.start_failures > 0)
			break;
	}
	if (procpool_live() < pool.size)
		procpool_fill();
}

/*
 * Stop a worker: close its channel (a healthy worker exits at the end of
 * it) and, if it was told to die, SIGTERM now and SIGKILL after
 * kill_timeout.
 */
static void
procpool_stop_worker(struct worker *w, int signal_it, const char *fault)
{
	struct timeval	tv;

	if (w->state == WORKER_STOPPING)
		return;
	w->state = WORKER_STOPPING;
	w->fault = fault;
	if (w->bev != NULL) {
		bufferevent_free(w->bev);
		w->bev = NULL;
	}
	if (signal_it) {
		if (kill(w->pid, SIGTERM) == -1 && errno != ESRCH)
			log_warn("kill %d", (int)w->pid);
		procpool_kill_group(w, SIGTERM);
	}
	if ((w->kill_timer = evtimer_new(pool.base, procpool_kill_cb,
	    w)) == NULL)
		fatalx("evtimer_new failed");
	tv = clock_timeval(pool.cfg->kill_timeout);
	evtimer_add(w->kill_timer, &tv);
}

static void
procpool_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker	*w = arg;

	log_info("worker %d did not exit in %gs; SIGKILL", (int)w->pid,
	    pool.cfg->kill_timeout);
	procpool_sweep(w, 0);
	if (kill(w->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill %d", (int)w->pid);
	procpool_kill_group(w, SIGKILL);
}

/* A worker misbehaved: it is killed, and its task fails when it is reaped. */
static void
procpool_fault(struct worker *w, const char *fault)
{
	log_warnx("worker %d %s; killing it", (int)w->pid, fault);
	procpool_stop_worker(w, 1, fault);
	kill(w->pid, SIGKILL);
	procpool_kill_group(w, SIGKILL);
}

/*
 * Check a process group a worker names: 1 if its leader is the worker's
 * child, 0 if no such process exists any more (it ended and was reaped:
 * nothing is left to kill), -1 if it is someone else's. A worker is not
 * trusted to name any group but its own.
 */
static int
procpool_own_group(struct worker *w, pid_t pgid)
{
	char	path[64], buf[512], *p, state;
	FILE	*fp;
	int	ppid, pgrp, rc = -1;

	if (pgid <= 1)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pgid);
	if ((fp = fopen(path, "re")) == NULL)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	/* The command name may hold anything: read after its last ')'. */
	if (fgets(buf, sizeof buf, fp) == NULL)
		rc = 0;		/* it went away as it was read */
	else if ((p = strrchr(buf, ')')) != NULL &&
	    sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3) {
		if (ppid == w->pid && pgrp == pgid)
			rc = 1;
		else if (state == 'Z' || state == 'X' || ppid == 0)
			rc = 0;	/* being reaped: its parent is let go */
	}
	fclose(fp);
	return rc;
}

/*
 * Kill the process groups that a worker's children lead: the programs it
 * started, whether or not it has named them on its channel yet. With
 * freeze (poold is exiting), the worker is stopped first and waited for,
 * so that it starts nothing more and a program it is starting has its
 * group by then. Only a group whose leader is the worker's child is
 * touched.
 */
static void
procpool_sweep(struct worker *w, int freeze)
{
	siginfo_t	 info;
	char		 path[64];
	FILE		*fp;
	int		 child;

	if (freeze) {
		if (kill(w->pid, SIGSTOP) == -1)
			return;
		memset(&info, 0, sizeof info);
		while (waitid(P_PID, (id_t)w->pid, &info, WSTOPPED | WEXITED |
		    WNOWAIT) == -1 && errno == EINTR)
			;
	}
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)w->pid,
	    (int)w->pid);
	if ((fp = fopen(path, "re")) == NULL)
		return;
	while (fscanf(fp, "%d", &child) == 1) {
		if (procpool_own_group(w, (pid_t)child) == 1 &&
		    kill(-child, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill -%d", child);
	}
	fclose(fp);
}

static long
procpool_rss(pid_t pid)
{
	char		path[64];
	FILE		*fp;
	long		size, resident;

	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(fp, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(fp);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* After a task: recycle the worker if it has done enough or grown. */
static void
procpool_after_task(struct worker *w)
{
	long	rss;

	w->tasks++;
	if (pool.cfg->max_tasks_per_child > 0 &&
	    w->tasks >= (unsigned long)pool.cfg->max_tasks_per_child) {
		log_debug("worker %d recycled after %lu tasks", (int)w->pid,
		    w->tasks);
		procpool_stop_worker(w, 0, NULL);
	} else if (pool.cfg->max_rss_per_child > 0 &&
	    (rss = procpool_rss(w->pid)) > pool.cfg->max_rss_per_child) {
		log_info("worker %d recycled: rss %ld bytes over %ld",
		    (int)w->pid, rss, pool.cfg->max_rss_per_child);
		procpool_stop_worker(w, 0, NULL);
	} else if (procpool_live() > pool.size)
		procpool_stop_worker(w, 0, NULL);
	else
		w->state = WORKER_IDLE;
}

static void
procpool_answer(struct worker *w, json_t *msg,
    const struct json_hollow *results)
{
	json_t	*id = json_object_get(msg, "id");
	json_t	*result = json_object_get(msg, w->chunk ? "results" :
		    "result");
	json_t	*error = json_object_get(msg, "error");
	void	*task = w->task;

	if (w->state != WORKER_BUSY || !json_is_integer(id) ||
	    (uint64_t)json_integer_value(id) != w->msg_id ||
	    (result == NULL) == (error == NULL) ||
	    (w->chunk && result != NULL && !json_is_array(result)) ||
	    (error != NULL && !json_is_string(json_object_get(error,
	    "type")))) {
		procpool_fault(w, "sent an answer that does not fit");
		return;
	}
	if (w->chunk && !json_is_object(json_object_get(msg, "errors"))) {
		procpool_fault(w, "sent an answer that does not fit");
		return;
	}
	w->task = NULL;
	w->pgid = 0;
	procpool_after_task(w);
	/* A chunk's answer goes on whole: its results and its errors. */
	if (task != NULL) {
		if (w->chunk && result != NULL)
			pool.hooks.done(task, json_incref(msg), NULL, results);
		else
			pool.hooks.done(task, json_incref(result),
			    json_incref(error), NULL);
	}
	if (w->state == WORKER_STOPPING)
		procpool_fill();
}

static void
procpool_message(struct worker *w, json_t *msg,
    const struct json_hollow *results)
{
	json_t	*fatal = json_object_get(msg, "fatal");
	json_t	*pgid = json_object_get(msg, "pgid");

	if (json_is_string(fatal) && w->binding) {
		/* It could not take its owner's credentials: it exits. */
		snprintf(w->why, sizeof w->why, "%s", json_string_value(fatal));
		log_warnx("worker %d cannot run as uid %u: %s", (int)w->pid,
		    (unsigned)w->uid, w->why);
		return;
	}
	/* Anything else it says comes after its bind. */
	w->binding = 0;
	if (pgid != NULL) {
		int	own = -1;

		if (w->state == WORKER_BUSY && json_is_integer(pgid) &&
		    json_is_integer(json_object_get(msg, "id")) &&
		    (uint64_t)json_integer_value(json_object_get(msg, "id")) ==
		    w->msg_id && (w->pgid == 0 || w->chunk))
			own = procpool_own_group(w,
			    (pid_t)json_integer_value(pgid));
		if (own == -1)
			procpool_fault(w, "named a process group not its own");
		else
			/* In a chunk each item's program ends with its item. */
			w->pgid = own == 1 ? (pid_t)json_integer_value(pgid) : 0;
	} else if (json_is_true(json_object_get(msg, "ready")) &&
	    w->state == WORKER_STARTING) {
		w->state = WORKER_IDLE;
		if (pool.broken)
			log_info("worker %d started: the process pool works "
			    "again", (int)w->pid);
		pool.start_failures = 0;
		pool.broken = 0;
		pool.fatal[0] = '\0';
		pool.hooks.ready();
	} else if (json_is_string(fatal) && w->state == WORKER_STARTING) {
		snprintf(pool.fatal, sizeof pool.fatal, "%s",
		    json_string_value(fatal));
		log_warnx("worker %d cannot start: %s", (int)w->pid,
		    pool.fatal);
	} else
		procpool_answer(w, msg, results);
}

#define PROCPOOL_LOAD_FLAGS	(JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES)

/*
 * A worker's message. A chunk's results are most of its answer and go on
 * as text: they are checked, not parsed, where the checker can vouch for
 * them (json-check.h); else jansson reads the whole answer, and *results
 * still says where they are. One value per key, so that the text says
 * what jansson read.
 */
static json_t *
procpool_parse(const struct worker *w, const char *line, size_t len,
    struct json_hollow *results)
{
	json_t	*msg;
	size_t	 start, end;

	results->text = NULL;
	if (len > w->max_line)
		return NULL;
	if (w->chunk && (msg = json_load_hollow(line, len, NULL, "results",
	    PROCPOOL_LOAD_FLAGS, results)) != NULL)
		return msg;
	msg = json_loadb(line, len, PROCPOOL_LOAD_FLAGS, NULL);
	if (w->chunk && json_is_array(json_object_get(msg, "results")) &&
	    span_member(line, len, "results", &start, &end) == 0) {
		results->text = line + start;
		results->len = end - start;
		results->n = json_array_size(json_object_get(msg, "results"));
	}
	return msg;
}

static void
procpool_read_cb(struct bufferevent *bev, void *arg)
{
	struct worker		*w = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct json_hollow	 results;
	size_t			 len;
	char			*line;
	json_t			*msg;

	while (w->bev != NULL &&
	    (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		msg = procpool_parse(w, line, len, &results);
		if (!json_is_object(msg)) {
			free(line);
			json_decref(msg);
			procpool_fault(w, "sent something that is not a "
			    "message");
			return;
		}
		procpool_message(w, msg, &results);
		free(line);
		json_decref(msg);
	}
	if (w->bev != NULL && evbuffer_get_length(in) > w->max_line)
		procpool_fault(w, "sent an over-long message");
}

static void
procpool_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct worker	*w = arg;

	/* The reaper says how it ended; here it only stops being heard. */
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		bufferevent_free(w->bev);
		w->bev = NULL;
	}
}

static json_t *
procpool_crash_error(const struct worker *w, int status)
{
	json_t	*e;

	if (w->why[0] != '\0') {
		e = future_error("WorkerCrashed", "the worker could not run as "
		    "uid %u: %s", (unsigned)w->uid, w->why);
		json_object_set_new(e, WIFSIGNALED(status) ? "signal" :
		    "exit_code", json_integer(WIFSIGNALED(status) ?
		    WTERMSIG(status) : WEXITSTATUS(status)));
	} else if (WIFSIGNALED(status)) {
		e = future_error("WorkerCrashed", "the worker %s (signal %d)",
		    w->fault != NULL ? w->fault : "was killed by a signal",
		    WTERMSIG(status));
		json_object_set_new(e, "signal", json_integer(WTERMSIG(status)));
	} else {
		e = future_error("WorkerCrashed", "the worker %s (exit code "
		    "%d)", w->fault != NULL ? w->fault : "exited",
		    WEXITSTATUS(status));
		json_object_set_new(e, "exit_code",
		    json_integer(WEXITSTATUS(status)));
	}
	return e;
}

static void
procpool_exit_cb(pid_t pid, int status, void *arg)
{
	struct worker	*w = arg;
	void		*task = w->task;
	json_t		*error;
	long		 progress;
	int		 planned = w->state == WORKER_STOPPING &&
			    w->fault == NULL;

	if (w->state == WORKER_STARTING) {
		pool.start_failures++;
		log_warnx("worker %d died before it was ready%s%s", (int)pid,
		    pool.fatal[0] != '\0' ? ": " : "", pool.fatal);
		if (pool.start_failures >= PROCPOOL_BROKEN_AFTER &&
		    !pool.broken) {
			pool.broken = 1;
			log_warnx("the process pool is broken: %s",
			    procpool_broken());
			pool.hooks.broken(procpool_broken());
		}
	} else if (!planned) {
		pool.restarts++;
		if (task != NULL || w->fault == NULL)
			log_info("worker %d ended unexpectedly", (int)pid);
	}
	/* A program it started dies with it. */
	procpool_kill_group(w, SIGKILL);
	error = task != NULL ? procpool_crash_error(w, status) : NULL;
	progress = w->chunk ? w->progress->index : -1;
	w->task = NULL;
	worker_free(w);
	if (task != NULL)
		pool.hooks.crashed(task, error, progress);
	procpool_fill();
}

int
procpool_idle(void)
{
	struct worker	*w;
	int		 n = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state == WORKER_IDLE)
			n++;
	}
	return n;
}

/* Unbound workers on their way: room coming for any uid. */
int
procpool_starting(void)
{
	struct worker	*w;
	int		 n = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state == WORKER_STARTING && !w->bound)
			n++;
	}
	return n;
}

/* An idle worker for uid's task: one bound to it, else an unbound one. */
static struct worker *
procpool_idle_worker(uid_t uid)
{
	struct worker	*w, *unbound = NULL;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state != WORKER_IDLE)
			continue;
		if (w->bound && w->uid == uid)
			return w;
		if (!w->bound && unbound == NULL)
			unbound = w;
	}
	return unbound;
}

enum procpool_room
procpool_room(uid_t uid)
{
	struct worker	*w = procpool_idle_worker(uid);

	if (w == NULL)
		return PROCPOOL_ROOM_NONE;
	return w->bound ? PROCPOOL_ROOM_BOUND : PROCPOOL_ROOM_FREE;
}

/* How many workers, idle or busy, serve uid. */
static int
procpool_held(uid_t uid)
{
	struct worker	*w;
	int		 n = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state != WORKER_STOPPING && w->bound && w->uid == uid)
			n++;
	}
	return n;
}

/*
 * Make room for uid: retire an idle worker bound to another uid (of the
 * uid that holds the most workers), and an unbound one takes its place.
 * Returns whether one was retired.
 */
int
procpool_retire_for(uid_t uid)
{
	struct worker	*w, *victim = NULL;
	int		 held, most = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state != WORKER_IDLE || !w->bound || w->uid == uid)
			continue;
		if ((held = procpool_held(w->uid)) > most) {
			most = held;
			victim = w;
		}
	}
	if (victim == NULL)
		return 0;
	log_debug("worker %d of uid %u retired to make room for uid %u",
	    (int)victim->pid, (unsigned)victim->uid, (unsigned)uid);
	procpool_stop_worker(victim, 0, NULL);
	procpool_fill();
	return 1;
}

/*
 * Bind an unbound worker to uid before its first task: it takes the
 * credentials of ident (NULL: it stays as poold is) and then initializes
 * its plugins. Its task follows on the channel.
 */
static void
procpool_bind(struct worker *w, uid_t uid, const struct ident *ident)
{
	json_t	*msg;
	char	*line;

	msg = json_pack("{s:o}", "bind", ident != NULL ? ident_to_json(ident) :
	    json_null());
	if (msg == NULL || (line = json_dumps(msg, JSON_COMPACT)) == NULL)
		fatalx("cannot encode a bind for worker %d", (int)w->pid);
	json_decref(msg);
	procpool_write(w, line, strlen(line));
	procpool_write(w, "\n", 1);
	free(line);
	w->bound = 1;
	w->uid = uid;
	w->binding = 1;
	log_debug("worker %d bound to uid %u", (int)w->pid, (unsigned)uid);
}

/* An idle worker for uid, bound to it by now; NULL if there is none. */
static struct worker *
procpool_take(uid_t uid, const struct ident *ident)
{
	struct worker	*w;

	if ((w = procpool_idle_worker(uid)) != NULL && !w->bound)
		procpool_bind(w, uid, ident);
	return w;
}

/* The worker takes the task whose message is queued to it. */
static pid_t
procpool_hand(struct worker *w, void *task, const char *future)
{
	w->state = WORKER_BUSY;
	w->task = task;
	snprintf(w->future, sizeof w->future, "%s", future);
	return w->pid;
}

static void
procpool_write(struct worker *w, const char *data, size_t len)
{
	if (bufferevent_write(w->bev, data, len) == -1)
		fatalx("cannot queue a task for worker %d", (int)w->pid);
}

/*
 * Start a task of uid on an idle worker (an unbound one takes ident's
 * credentials first); its pid, or -1 if none is idle.
 */
pid_t
procpool_run(void *task, uid_t uid, const struct ident *ident,
    const char *future, const char *fn, json_t *args, json_t *kwargs)
{
	struct worker	*w;
	json_t		*msg;
	char		*line;

	if ((w = procpool_take(uid, ident)) == NULL)
		return -1;
	w->msg_id++;
	w->chunk = 0;
	w->max_line = (size_t)pool.cfg->max_result_bytes + 4096;
	msg = json_pack("{s:I, s:s, s:O, s:O}", "id", (json_int_t)w->msg_id,
	    "fn", fn, "args", args, "kwargs", kwargs);
	if (msg == NULL || (line = json_dumps(msg, JSON_COMPACT)) == NULL)
		fatalx("cannot encode a task for worker %d", (int)w->pid);
	json_decref(msg);
	procpool_write(w, line, strlen(line));
	procpool_write(w, "\n", 1);
	free(line);
	return procpool_hand(w, task, future);
}

/*
 * Start a map's chunk: items is the text of its n items, "item,item,...",
 * passed on as it is. Its pid, or -1 if no worker is idle.
 */
pid_t
procpool_run_chunk(void *task, uid_t uid, const struct ident *ident,
    const char *future, const char *fn, int star, const char *items,
    size_t len, size_t n)
{
	struct worker	*w;
	json_t		*name;
	char		*head;

	if ((w = procpool_take(uid, ident)) == NULL)
		return -1;
	w->msg_id++;
	w->chunk = 1;
	w->max_line = (size_t)pool.cfg->max_result_bytes * n + 4096;
	if ((name = json_string(fn)) == NULL ||
	    (head = json_dumps(name, JSON_ENCODE_ANY)) == NULL)
		fatalx("cannot encode a chunk for worker %d", (int)w->pid);
	json_decref(name);
	if (evbuffer_add_printf(bufferevent_get_output(w->bev),
	    "{\"id\":%" PRIu64 ",\"fn\":%s,\"star\":%s,\"items\":[",
	    w->msg_id, head, star ? "true" : "false") == -1)
		fatalx("cannot queue a chunk for worker %d", (int)w->pid);
	free(head);
	procpool_write(w, items, len);
	procpool_write(w, "]}\n", 3);
	return procpool_hand(w, task, future);
}

/* Which chunk item the task's worker runs, and since when; -1: none. */
long
procpool_progress(void *task, double *started)
{
	struct worker	*w;
	long		 index;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->task == task && w->chunk) {
			index = __atomic_load_n(&w->progress->index,
			    __ATOMIC_ACQUIRE);
			*started = w->progress->started;
			return index;
		}
	}
	*started = 0;
	return -1;
}

/* The task ends some other way: kill the worker that runs it. */
void
procpool_abort(void *task)
{
	struct worker	*w;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->task == task) {
			w->task = NULL;
			procpool_stop_worker(w, 1, "was stopped with its task");
			procpool_fill();
			return;
		}
	}
}

/* Grow at once; shrink by retiring idle workers now, busy ones later. */
void
procpool_resize(int size)
{
	struct worker	*w, *next;
	int		 excess;

	pool.size = size;
	excess = procpool_live() - size;
	for (w = TAILQ_FIRST(&pool.workers); w != NULL && excess > 0;
	    w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->state == WORKER_IDLE || w->state == WORKER_STARTING) {
			procpool_stop_worker(w, w->state == WORKER_STARTING,
			    NULL);
			excess--;
		}
	}
	procpool_fill();
}

int
procpool_size(void)
{
	return pool.size;
}

int
procpool_busy(void)
{
	struct worker	*w;
	int		 n = 0;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		if (w->state == WORKER_BUSY)
			n++;
	}
	return n;
}

unsigned long
procpool_restarts(void)
{
	return pool.restarts;
}

/* Why workers cannot start, or NULL while they can. */
const char *
procpool_broken(void)
{
	if (!pool.broken)
		return NULL;
	return pool.fatal[0] != '\0' ? pool.fatal : "workers die as they start";
}

json_t *
procpool_workers(void)
{
	struct worker	*w;
	json_t		*list = json_array(), *o;
	long		 rss;

	TAILQ_FOREACH(w, &pool.workers, entry) {
		o = json_pack("{s:i, s:s, s:o, s:I, s:f}", "pid", (int)w->pid,
		    "state", worker_state_names[w->state],
		    "future", w->state == WORKER_BUSY && w->task != NULL ?
		    json_string(w->future) : json_null(),
		    "tasks", (json_int_t)w->tasks, "started", w->started);
		rss = procpool_rss(w->pid);
		json_object_set_new(o, "rss", rss >= 0 ? json_integer(rss) :
		    json_null());
		json_object_set_new(o, "uid", w->bound ?
		    json_integer((json_int_t)w->uid) : json_null());
		json_array_append_new(list, o);
	}
	return list;
}

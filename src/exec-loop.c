/*
 * Programs on the thread executor, driven by the loop: an event per pipe
 * and the reaper's callback for the exit, so no thread waits on a program.
 * A run always ends through a callback of the loop, never inside start.
 */
#include "autoconf.h"

#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "child.h"
#include "clock.h"
#include "exec.h"
#include "exec-loop.h"
#include "fn.h"
#include "log.h"
#include "xmalloc.h"

/* Reads of one pipe per wake-up, so a fast writer cannot hog the loop. */
#define EXEC_LOOP_READS	16

struct exec_run {
	struct fn_call		*call;
	struct exec_spec	 spec;
	struct exec_proc	 proc;
	struct event		*ev_in;
	struct event		*ev_out;
	struct event		*ev_err;
	struct event		*ev_end;	/* ends a run that never started */
	struct event		*kill_timer;
	void			(*done)(void *);
	void			*arg;
	LIST_ENTRY(exec_run)	 entry;
};

static struct {
	struct event_base	*base;
	double			 kill_timeout;
	LIST_HEAD(, exec_run)	 runs;
} loop;

void
exec_loop_init(struct event_base *base, double kill_timeout)
{
	loop.base = base;
	loop.kill_timeout = kill_timeout;
	LIST_INIT(&loop.runs);
}

static void
exec_run_free(struct exec_run *run)
{
	LIST_REMOVE(run, entry);
	if (run->ev_in != NULL)
		event_free(run->ev_in);
	if (run->ev_out != NULL)
		event_free(run->ev_out);
	if (run->ev_err != NULL)
		event_free(run->ev_err);
	if (run->ev_end != NULL)
		event_free(run->ev_end);
	if (run->kill_timer != NULL)
		event_free(run->kill_timer);
	exec_close(&run->proc);
	free(run->proc.out.buf);
	free(run->proc.err.buf);
	exec_spec_free(&run->spec);
	free(run);
}

static void
exec_run_finish(struct exec_run *run)
{
	void	(*done)(void *) = run->done;
	void	*arg = run->arg;

	exec_run_free(run);
	done(arg);
}

/*
 * Kill every program still running and wait for it: poold is exiting.
 * Each run still ends through its done, so whoever started it lets go.
 */
void
exec_loop_free(void)
{
	struct exec_run	*run;

	while ((run = LIST_FIRST(&loop.runs)) != NULL) {
		if (run->proc.pid > 0) {
			child_forget(run->proc.pid);
			kill(-run->proc.pid, SIGKILL);
			while (waitpid(run->proc.pid, NULL, 0) == -1 &&
			    errno == EINTR)
				;
		}
		exec_run_finish(run);
	}
}

static void
exec_loop_end_cb(evutil_socket_t fd, short events, void *arg)
{
	exec_run_finish(arg);
}

static void
exec_loop_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run	 *run = arg;
	struct event	**ev = fd == run->proc.out_fd ? &run->ev_out :
			    &run->ev_err;
	int		  i, rc = 1;

	for (i = 0; i < EXEC_LOOP_READS && rc == 1; i++)
		rc = exec_read(&run->proc, fd);
	if (rc == 0) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void
exec_loop_write_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run	*run = arg;

	if (exec_write(&run->proc, &run->spec) == 0) {
		event_free(run->ev_in);
		run->ev_in = NULL;
	}
}

static void
exec_loop_exit_cb(pid_t pid, int status, void *arg)
{
	struct exec_run	*run = arg;

	/* What is left of its group goes with it. */
	if (kill(-pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill -%d", (int)pid);
	if (run->ev_in != NULL)
		event_del(run->ev_in);
	if (run->ev_out != NULL)
		event_del(run->ev_out);
	if (run->ev_err != NULL)
		event_del(run->ev_err);
	exec_drain(&run->proc);
	run->proc.pid = 0;
	exec_outcome(&run->spec, &run->proc, status, &run->call->result,
	    &run->call->error);
	exec_run_finish(run);
}

static struct event *
exec_loop_watch(int fd, short what, event_callback_fn cb,
    struct exec_run *run)
{
	struct event	*ev;

	if (fd == -1)
		return NULL;
	if ((ev = event_new(loop.base, fd, what | EV_PERSIST, cb, run)) == NULL ||
	    event_add(ev, NULL) == -1)
		fatalx("cannot watch fd %d", fd);
	return ev;
}

void *
exec_loop_start(struct fn_call *call, void (*done)(void *), void *arg)
{
	struct exec_run	*run = xcalloc(1, sizeof *run);
	const char	*param;
	char		*why = NULL;
	int		 rc;

	run->call = call;
	run->done = done;
	run->arg = arg;
	LIST_INSERT_HEAD(&loop.runs, run, entry);
	if (exec_spec_parse(call->args, call->kwargs, call->max_output,
	    call->ident, &run->spec, &param, &why) == -1) {
		fn_call_fail(call, "TaskError", "%s", why);
		free(why);
	} else if ((rc = exec_spawn(&run->spec, &run->proc)) != 0)
		call->error = exec_spawn_error(&run->spec, rc);
	else {
		child_watch(run->proc.pid, exec_loop_exit_cb, run);
		run->ev_in = exec_loop_watch(run->proc.in_fd, EV_WRITE,
		    exec_loop_write_cb, run);
		run->ev_out = exec_loop_watch(run->proc.out_fd, EV_READ,
		    exec_loop_read_cb, run);
		run->ev_err = exec_loop_watch(run->proc.err_fd, EV_READ,
		    exec_loop_read_cb, run);
		return run;
	}
	run->ev_end = evtimer_new(loop.base, exec_loop_end_cb, run);
	if (run->ev_end == NULL)
		fatalx("evtimer_new failed");
	event_active(run->ev_end, EV_TIMEOUT, 0);
	return run;
}

static void
exec_loop_kill_cb(evutil_socket_t fd, short events, void *arg)
{
	struct exec_run	*run = arg;

	if (run->proc.pid > 0 && kill(-run->proc.pid, SIGKILL) == -1 &&
	    errno != ESRCH)
		log_warn("kill -%d", (int)run->proc.pid);
}

/* End the program's whole group: SIGTERM now, SIGKILL after a grace. */
void
exec_loop_abort(void *handle)
{
	struct exec_run	*run = handle;
	struct timeval	 tv;

	if (run->proc.pid <= 0 || run->kill_timer != NULL)
		return;
	if (kill(-run->proc.pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("kill -%d", (int)run->proc.pid);
	if ((run->kill_timer = evtimer_new(loop.base, exec_loop_kill_cb,
	    run)) == NULL)
		fatalx("evtimer_new failed");
	tv = clock_timeval(loop.kill_timeout);
	evtimer_add(run->kill_timer, &tv);
}

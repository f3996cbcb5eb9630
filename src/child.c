/*
 * Children. A child is forked with every signal blocked, so no handler
 * runs in it before it has reset them all; it dies with poold
 * (PR_SET_PDEATHSIG, checked against poold having died first), keeps only
 * stdin (/dev/null), stdout (/dev/null), stderr and its channel as fd 3,
 * and has no systemd variables meant for poold alone.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"
#include "log.h"
#include "xmalloc.h"

#define CHILD_CHANNEL_FD	3

struct child {
	pid_t			 pid;
	child_exit_cb		 cb;
	void			*arg;
	LIST_ENTRY(child)	 entry;
};

static LIST_HEAD(, child)	children = LIST_HEAD_INITIALIZER(children);
static unsigned			nchildren;
static struct event		*sigchld;

static void	child_sigchld_cb(evutil_socket_t, short, void *);

/* Watch SIGCHLD on the loop. */
void
child_init(struct event_base *base)
{
	sigchld = event_new(base, SIGCHLD, EV_SIGNAL | EV_PERSIST,
	    child_sigchld_cb, NULL);
	if (sigchld == NULL || event_add(sigchld, NULL) == -1)
		fatalx("cannot watch SIGCHLD");
}

/* Forget every child; their callbacks are not called. */
void
child_free(void)
{
	struct child	*c;

	while ((c = LIST_FIRST(&children)) != NULL) {
		LIST_REMOVE(c, entry);
		free(c);
	}
	nchildren = 0;
	if (sigchld != NULL)
		event_free(sigchld);
	sigchld = NULL;
}

/* In the child: make the process state a task may rely on. */
static void
child_setup(pid_t parent, int channel)
{
	struct sigaction	sa;
	sigset_t		none;
	int			sig, null;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	/* Its own process group: a terminal's ^C is poold's to act on. */
	if (setpgid(0, 0) == -1)
		_exit(127);

	if (channel != CHILD_CHANNEL_FD) {
		if (dup2(channel, CHILD_CHANNEL_FD) == -1)
			_exit(127);
	} else if (fcntl(channel, F_SETFD, 0) == -1)
		_exit(127);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 || dup2(null, STDOUT_FILENO) == -1)
		_exit(127);
	if (close_range(CHILD_CHANNEL_FD + 1, ~0U, 0) == -1)
		_exit(127);

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(127);
}

/*
 * Fork a child that runs fn(CHILD_CHANNEL_FD, arg) and exits; cb(pid,
 * status, cb_arg) is called from the loop once it is reaped. Returns the
 * pid, or -1 with errno.
 */
pid_t
child_fork(int channel, void (*fn)(int, void *), void *arg, child_exit_cb cb,
    void *cb_arg)
{
	struct child	*c;
	sigset_t	 all, old;
	pid_t		 parent = getpid(), pid;
	int		 saved_errno;

	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatal("pthread_sigmask");
	pid = fork();
	if (pid == 0) {
		child_setup(parent, channel);
		fn(CHILD_CHANNEL_FD, arg);
		_exit(0);
	}
	saved_errno = errno;
	if ((errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatal("pthread_sigmask");
	if (pid == -1) {
		errno = saved_errno;
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->pid = pid;
	c->cb = cb;
	c->arg = cb_arg;
	LIST_INSERT_HEAD(&children, c, entry);
	nchildren++;
	return pid;
}

/* Watch a child started some other way (posix_spawn). */
void
child_watch(pid_t pid, child_exit_cb cb, void *cb_arg)
{
	struct child	*c = xcalloc(1, sizeof *c);

	c->pid = pid;
	c->cb = cb;
	c->arg = cb_arg;
	LIST_INSERT_HEAD(&children, c, entry);
	nchildren++;
}

/* Reap pid, if known, without calling its callback. */
void
child_forget(pid_t pid)
{
	struct child	*c;

	LIST_FOREACH(c, &children, entry) {
		if (c->pid == pid) {
			c->cb = NULL;
			return;
		}
	}
}

static void
child_describe(pid_t pid, int status)
{
	if (WIFSIGNALED(status))
		log_debug("child %d terminated; signal %d", (int)pid,
		    WTERMSIG(status));
	else
		log_debug("child %d exited; status %d", (int)pid,
		    WEXITSTATUS(status));
}

/* Reap every child that has ended and tell whoever made it. */
void
child_reap(void)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

	/*
	 * Only the loop thread's own children: a pool thread that runs a
	 * program (an exec item of a map's chunk) reaps its own.
	 */
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG | __WNOTHREAD);
		if (pid == 0 || (pid == -1 && errno == ECHILD))
			return;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			log_warn("waitpid");
			return;
		}
		child_describe(pid, status);
		LIST_FOREACH(c, &children, entry) {
			if (c->pid == pid)
				break;
		}
		if (c == NULL) {
			log_warnx("reaped unknown child %d", (int)pid);
			continue;
		}
		LIST_REMOVE(c, entry);
		nchildren--;
		if (c->cb != NULL)
			c->cb(pid, status, c->arg);
		free(c);
	}
}

static void
child_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	child_reap();
}

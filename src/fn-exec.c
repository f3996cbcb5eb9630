/*
 * exec: run a program. In a worker the program is driven here, blocking
 * on poll with a pidfd for its exit; on the thread executor exec-loop.c
 * drives it from the daemon's loop.
 */
#include "autoconf.h"

#include <sys/pidfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "exec.h"
#include "exec-loop.h"
#include "fn.h"

/*
 * Wait for the exit: by its pidfd, or, without one, by polling waitpid.
 * Whoever forwards signals to the group forgets it before it is reaped,
 * so no signal can reach a group that reuses its number.
 */
static int
fn_exec_exited(struct fn_call *call, struct exec_proc *proc, int pidfd,
    short revents, int *status)
{
	pid_t	pid;

	if (pidfd != -1 && (revents & POLLIN) == 0)
		return 0;
	/* Kill what is left of its group while the leader is unreaped. */
	kill(-proc->pid, SIGKILL);
	if (pidfd != -1 && call->spawned != NULL)
		call->spawned(call, 0);
	exec_drain(proc);
	while ((pid = waitpid(proc->pid, status, pidfd != -1 ? 0 : WNOHANG))
	    == -1 && errno == EINTR)
		;
	return pid == proc->pid;
}

static void
fn_exec_drive(struct fn_call *call, const struct exec_spec *spec,
    struct exec_proc *proc, int *status)
{
	struct pollfd	pfd[4];
	int		pidfd = pidfd_open(proc->pid, 0), i;

	for (;;) {
		pfd[0] = (struct pollfd){ proc->in_fd, POLLOUT, 0 };
		pfd[1] = (struct pollfd){ proc->out_fd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ proc->err_fd, POLLIN, 0 };
		pfd[3] = (struct pollfd){ pidfd, POLLIN, 0 };
		if (poll(pfd, 4, pidfd != -1 ? -1 : 20) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			exec_write(proc, spec);
		for (i = 1; i <= 2; i++) {
			if (pfd[i].revents != 0 && pfd[i].fd != -1)
				exec_read(proc, pfd[i].fd);
		}
		if (fn_exec_exited(call, proc, pidfd, pfd[3].revents, status))
			break;
	}
	if (pidfd != -1)
		close(pidfd);
}

static void
fn_exec_run(struct fn_call *call)
{
	struct exec_spec	 spec;
	struct exec_proc	 proc;
	const char		*param;
	char			*why = NULL;
	sigset_t		 term, old;
	int			 rc, status = 0;

	if (exec_spec_parse(call->args, call->kwargs, call->max_output,
	    call->ident, &spec, &param, &why) == -1) {
		fn_call_fail(call, "TaskError", "%s", why);
		free(why);
		return;
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	if ((rc = exec_spawn(&spec, &proc)) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		call->error = exec_spawn_error(&spec, rc);
		exec_spec_free(&spec);
		return;
	}
	if (call->spawned != NULL)
		call->spawned(call, proc.pid);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	fn_exec_drive(call, &spec, &proc, &status);
	if (call->spawned != NULL)
		call->spawned(call, 0);
	exec_close(&proc);
	exec_outcome(&spec, &proc, status, &call->result, &call->error);
	exec_spec_free(&spec);
}

const struct fn fn_exec = {
	.name = "exec",
	.doc = "run a program",
	.executors = FN_EXECUTOR(EXECUTOR_PROCESS) |
	    FN_EXECUTOR(EXECUTOR_THREAD),
	.default_executor = EXECUTOR_PROCESS,
	.check = exec_check,
	.run = fn_exec_run,
	.start = exec_loop_start,
	.abort = exec_loop_abort,
	.needs_ident = 1,
};

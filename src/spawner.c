/*
 * The spawner process and poold's side of it. poold sends it a request
 * on a SOCK_SEQPACKET pair: one byte, with a worker's channel and its
 * shared page as SCM_RIGHTS; it answers with the new worker's pid, or a
 * negative errno. A request waits for its answer, as a fork would.
 *
 * The worker is made with clone(CLONE_PARENT), so its parent is poold,
 * not the spawner: poold reaps it, and it dies with poold. The spawner has
 * one thread and holds no lock when it clones, so the child may use libc
 * as a forked one would; glibc's fork is not used only because it cannot
 * give the child another parent.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "spawner.h"
#include "xmalloc.h"

/* Where a worker finds its channel and page. */
#define SPAWNER_CHANNEL_FD	3
#define SPAWNER_PAGE_FD		4

/* clone3's arguments, as far as version 0 of the call has them. */
struct spawner_clone_args {
	uint64_t	flags;
	uint64_t	pidfd;
	uint64_t	child_tid;
	uint64_t	parent_tid;
	uint64_t	exit_signal;
	uint64_t	stack;
	uint64_t	stack_size;
	uint64_t	tls;
};

static struct {
	int	 fd;		/* to the spawner; -1: none */
	pid_t	 pid;
	void	(*fn)(int, int, void *);
	void	*arg;
} spawner = { -1, -1, NULL, NULL };

/*
 * A child whose parent is poold: clone3, or clone on an older kernel.
 * With CLONE_PARENT the child's exit signal is the spawner's own
 * (SIGCHLD, as a forked child's), and clone3 wants none given.
 */
static pid_t
spawner_clone(void)
{
	struct spawner_clone_args	args;
	long				pid;

	memset(&args, 0, sizeof args);
	args.flags = CLONE_PARENT;
	pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid == -1 && errno == ENOSYS)
		pid = syscall(SYS_clone, (unsigned long)CLONE_PARENT, 0UL, 0UL,
		    0UL, 0UL);
	return (pid_t)pid;
}

/* In the new worker: its fds in place, then the worker's own code. */
static void
spawner_child(int channel, int page, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	if (setpgid(0, 0) == -1)
		_exit(127);
	/* The spawner's own channel, at SPAWNER_CHANNEL_FD, goes here. */
	if (dup2(channel, SPAWNER_CHANNEL_FD) == -1 ||
	    dup2(page, SPAWNER_PAGE_FD) == -1 ||
	    close_range(SPAWNER_PAGE_FD + 1, ~0U, 0) == -1)
		_exit(127);
	spawner.fn(SPAWNER_CHANNEL_FD, SPAWNER_PAGE_FD, spawner.arg);
	_exit(0);
}

/* The fds of a request; 0 at the end of the channel, -1 if it is bad. */
static int
spawner_receive(int fd, int fds[2])
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	}		 u;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	char		 byte;
	ssize_t		 n;

	memset(&msg, 0, sizeof msg);
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n <= 0)
		return n == 0 ? 0 : -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(2 * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cmsg), 2 * sizeof(int));
	return 1;
}

/* The spawner: a worker for each request, until poold closes the pair. */
static void
spawner_main(int fd, void *arg)
{
	pid_t	parent = getppid(), pid;
	int	fds[2], reply, rc;

	while ((rc = spawner_receive(fd, fds)) != 0) {
		if (rc == -1)
			_exit(1);
		if ((pid = spawner_clone()) == 0)
			spawner_child(fds[0], fds[1], parent);
		reply = pid == -1 ? -errno : (int)pid;
		close(fds[0]);
		close(fds[1]);
		if (send(fd, &reply, sizeof reply, MSG_NOSIGNAL) == -1)
			_exit(1);
	}
	_exit(0);
}

static void
spawner_exit_cb(pid_t pid, int status, void *arg)
{
	log_warnx("the worker spawner %d ended (status %d): no new workers "
	    "until poold restarts", (int)pid, status);
	spawner.pid = -1;
	if (spawner.fd != -1)
		close(spawner.fd);
	spawner.fd = -1;
}

/*
 * Fork the spawner; fn(channel, page, arg) is what each worker runs, in
 * the spawner's copy of memory. On error *cause says why.
 */
int
spawner_start(void (*fn)(int, int, void *), void *arg, char **cause)
{
	int	sv[2];

	spawner.fn = fn;
	spawner.arg = arg;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		xasprintf(cause, "socketpair: %s", strerror(errno));
		return -1;
	}
	spawner.pid = child_fork(sv[1], spawner_main, NULL, spawner_exit_cb,
	    NULL);
	close(sv[1]);
	if (spawner.pid == -1) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(sv[0]);
		return -1;
	}
	spawner.fd = sv[0];
	return 0;
}

/* End the spawner and wait for it. */
void
spawner_stop(void)
{
	if (spawner.fd != -1)
		close(spawner.fd);
	spawner.fd = -1;
	if (spawner.pid > 0) {
		child_forget(spawner.pid);
		if (kill(spawner.pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %d", (int)spawner.pid);
		while (waitpid(spawner.pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	spawner.pid = -1;
}

int
spawner_running(void)
{
	return spawner.fd != -1;
}

/*
 * A new worker with channel and page (which stay open here); its pid, a
 * child of poold's, or -1 with errno.
 */
pid_t
spawner_spawn(int channel, int page)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	}		 u;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	char		 byte = 0;
	int		 fds[2] = { channel, page }, reply;
	ssize_t		 n;

	if (spawner.fd == -1) {
		errno = EPIPE;
		return -1;
	}
	memset(&msg, 0, sizeof msg);
	memset(&u, 0, sizeof u);
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cmsg), fds, sizeof fds);
	while ((n = sendmsg(spawner.fd, &msg, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	if (n != 1) {
		if (n != -1)
			errno = EPIPE;
		return -1;
	}
	while ((n = recv(spawner.fd, &reply, sizeof reply, 0)) == -1 &&
	    errno == EINTR)
		;
	if (n != (ssize_t)sizeof reply) {
		if (n != -1)
			errno = EPIPE;
		return -1;
	}
	if (reply < 0) {
		errno = -reply;
		return -1;
	}
	return (pid_t)reply;
}

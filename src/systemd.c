/*
 * sd-daemon: socket activation and readiness. Outside systemd every call
 * here does nothing: sd_notify without NOTIFY_SOCKET is a no-op and
 * sd_listen_fds finds no fds.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "systemd.h"
#include "xmalloc.h"

/*
 * The listening socket systemd passed, -1 if none, or -2 (with *cause) if
 * what was passed cannot be used. LISTEN_* is unset so that nothing poold
 * starts inherits it.
 */
int
systemd_listen_fd(char **cause)
{
	int	n, fd, flags;

	if ((n = sd_listen_fds(1)) < 0) {
		xasprintf(cause, "sd_listen_fds: %s", strerror(-n));
		return -2;
	}
	if (n == 0)
		return -1;
	if (n > 1) {
		xasprintf(cause, "systemd passed %d sockets; poold takes one", n);
		return -2;
	}
	fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		xasprintf(cause, "the socket systemd passed (fd %d) is not a "
		    "listening Unix stream socket", fd);
		return -2;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		xasprintf(cause, "fcntl fd %d: %s", fd, strerror(errno));
		return -2;
	}
	log_info("using the socket systemd passed (fd %d)", fd);
	return fd;
}

void
systemd_ready(int processes, int threads)
{
	sd_notifyf(0, "READY=1\nSTATUS=serving with %d processes and %d "
	    "threads", processes, threads);
}

void
systemd_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}

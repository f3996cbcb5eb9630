/*
 * sd-daemon: socket activation, readiness, status and the watchdog.
 * Outside systemd every call here does nothing: sd_notify without
 * NOTIFY_SOCKET is a no-op and sd_listen_fds finds no fds.
 *
 * NOTIFY_SOCKET stays in the environment, since every message reads it;
 * the children poold forks drop it (child.c). The watchdog's variables
 * are read once, at start-up, and removed.
 */
#include "autoconf.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "systemd.h"
#include "xmalloc.h"

/* After its own timeouts, what a stop may take beyond shutdown_timeout. */
#define SYSTEMD_STOP_SLACK	15
/* A bound that still fits EXTEND_TIMEOUT_USEC: a year. */
#define SYSTEMD_STOP_MAX	(365 * 86400.0)

static struct {
	int		notifying;
	uint64_t	watchdog_usec;	/* 0: no watchdog */
	char		status[256];	/* the STATUS= last sent */
} sd;

/* Before any thread exists: this may change the environment. */
void
systemd_init(void)
{
	const char	*env = getenv("NOTIFY_SOCKET");
	uint64_t	 usec = 0;
	int		 rc;

	memset(&sd, 0, sizeof sd);
	sd.notifying = env != NULL && *env != '\0';
	if ((rc = sd_watchdog_enabled(1, &usec)) < 0)
		log_warnx("WATCHDOG_USEC: %s; no watchdog", strerror(-rc));
	else if (rc > 0) {
		sd.watchdog_usec = usec;
		log_info("watchdog: a ping every %.3gs", (double)usec / 2e6);
	}
}

int
systemd_notifying(void)
{
	return sd.notifying;
}

uint64_t
systemd_watchdog_usec(void)
{
	return sd.watchdog_usec;
}

static void
systemd_send(const char *msg)
{
	int	rc;

	if (sd.notifying && (rc = sd_notify(0, msg)) < 0)
		log_debug("sd_notify: %s", strerror(-rc));
}

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
		xasprintf(cause, "systemd passed %d sockets; poold takes one "
		    "Unix stream socket", n);
		return -2;
	}
	fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		xasprintf(cause, "the socket systemd passed (fd %d) is not a "
		    "listening Unix stream socket; use ListenStream= with a "
		    "path", fd);
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

/* STATUS= is one line of UTF-8; ours is ASCII, so only newlines matter. */
static void
systemd_keep_status(const char *status)
{
	snprintf(sd.status, sizeof sd.status, "%s", status);
	sd.status[strcspn(sd.status, "\n")] = '\0';
}

void
systemd_ready(const char *status)
{
	char	msg[sizeof sd.status + 32];

	systemd_keep_status(status);
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=%s", sd.status);
	systemd_send(msg);
}

/* Tell systemd the status if it changed since the last time. */
void
systemd_status(const char *status)
{
	char	msg[sizeof sd.status + 32];

	if (strncmp(status, sd.status, sizeof sd.status - 1) == 0)
		return;
	systemd_keep_status(status);
	snprintf(msg, sizeof msg, "STATUS=%s", sd.status);
	systemd_send(msg);
}

void
systemd_reloading(void)
{
	struct timespec	ts;
	char		msg[sizeof sd.status + 96];

	/* MONOTONIC_USEC: what Type=notify-reload (systemd 253) expects. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	systemd_keep_status("reloading the configuration");
	snprintf(msg, sizeof msg, "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=%s", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL, sd.status);
	systemd_send(msg);
}

/*
 * A stop begins. It may take up to the given seconds: systemd's stop
 * timeout is stretched to cover them, so a long shutdown_timeout is not
 * cut short by SIGKILL.
 */
void
systemd_stopping(double seconds)
{
	char	msg[sizeof sd.status + 96];

	seconds += SYSTEMD_STOP_SLACK;
	if (seconds > SYSTEMD_STOP_MAX)
		seconds = SYSTEMD_STOP_MAX;
	systemd_keep_status("stopping");
	snprintf(msg, sizeof msg, "STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu\n"
	    "STATUS=%s", (unsigned long long)(seconds * 1e6), sd.status);
	systemd_send(msg);
}

void
systemd_watchdog(void)
{
	systemd_send("WATCHDOG=1");
}

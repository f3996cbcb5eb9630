/*
 * The listening socket. A socket file left by a daemon that died is
 * replaced, but only after a connect shows nothing answers on it: a live
 * poold's socket is never taken over.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include <poold/protocol.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "poold.h"
#include "rpc.h"
#include "server.h"
#include "xmalloc.h"

static struct {
	struct evconnlistener	*listener;
	struct event		*resume;	/* after EMFILE */
	char			*path;		/* to unlink at exit */
} server;

/* The protocol's default path, for the daemon and clients alike. */
char *
server_default_path(void)
{
	const char	*env;
	char		*path;

	if ((env = getenv(POOLD_SOCKET_ENV)) != NULL && *env != '\0')
		return xstrdup(env);
	if (getuid() == 0)
		return xstrdup(POOLD_SYSTEM_SOCKET);
	if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0') {
		xasprintf(&path, "%s/poold/poold.sock", env);
		return path;
	}
	xasprintf(&path, "/tmp/poold-%u/poold.sock", (unsigned)getuid());
	return path;
}

/* Make the socket's directory and any missing parents. */
static int
server_mkdirs(const char *path, char **cause)
{
	char	 dir[PATH_MAX], *slash;
	mode_t	 mode = getuid() == 0 ? 0755 : 0700;
	size_t	 i;

	if (strlen(path) >= sizeof dir) {
		xasprintf(cause, "%s: path too long", path);
		return -1;
	}
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (i = 1; dir[i] != '\0'; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
		dir[i] = '/';
	}
	if (mkdir(dir, mode) == -1 && errno != EEXIST) {
		xasprintf(cause, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
server_address(const char *path, struct sockaddr_un *sa, char **cause)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path) {
		xasprintf(cause, "%s: socket path longer than %zu bytes", path,
		    sizeof sa->sun_path - 1);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Remove a socket file nothing answers on; refuse anything else. */
static int
server_clear_stale(const struct sockaddr_un *sa, char **cause)
{
	struct stat	st;
	int		fd, rc;

	if (lstat(sa->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "%s exists and is not a socket", sa->sun_path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	close(fd);
	if (rc == 0) {
		xasprintf(cause, "another poold is already serving on %s",
		    sa->sun_path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		xasprintf(cause, "%s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	log_info("removing stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) == -1 && errno != ENOENT) {
		xasprintf(cause, "unlink %s: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Create, bind and listen on the socket at path, mode 0660. */
int
server_open(const char *path, char **cause)
{
	struct sockaddr_un	sa;
	mode_t			mask;
	int			fd, saved_errno;

	if (server_address(path, &sa, cause) == -1 ||
	    server_mkdirs(path, cause) == -1 ||
	    server_clear_stale(&sa, cause) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	mask = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		saved_errno = errno;
		umask(mask);
		close(fd);
		xasprintf(cause, "bind %s: %s", path, strerror(saved_errno));
		return -1;
	}
	umask(mask);
	if (chmod(path, 0660) == -1 || listen(fd, SOMAXCONN) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Tell a client over the connection limit why, and close it. */
static void
server_refuse(int fd)
{
	json_t	*msg;
	char	*line;

	msg = rpc_error_message(NULL, RPC_QUEUE_FULL, "too many connections",
	    json_pack("{s:I}", "max_connections",
	    (json_int_t)poold.cfg->max_connections));
	if ((line = json_dumps(msg, JSON_COMPACT)) != NULL) {
		/* Best effort: a new socket's buffer takes one short line. */
		if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) ==
		    -1 || send(fd, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
			log_debug("fd %d: %s", fd, strerror(errno));
		free(line);
	}
	json_decref(msg);
	close(fd);
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	if (poold.exiting) {
		close(fd);
		return;
	}
	if (conn_count() >= (unsigned long)poold.cfg->max_connections) {
		log_info("fd %d: over max_connections (%ld), refused", fd,
		    poold.cfg->max_connections);
		server_refuse(fd);
		return;
	}
	conn_new(fd);
}

static void
server_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	if (server.listener != NULL)
		evconnlistener_enable(server.listener);
}

/*
 * Out of fds, accept fails at once each time the loop asks: stop accepting
 * for a second rather than spin.
 */
static void
server_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	one = { 1, 0 };
	int		err = EVUTIL_SOCKET_ERROR();

	log_emit(LOG_LEVEL_WARN, err, __func__, "accept on fd %d",
	    (int)evconnlistener_get_fd(l));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM) {
		evconnlistener_disable(l);
		evtimer_add(server.resume, &one);
	}
}

/* Accept on fd; path, if not NULL, is unlinked when the server stops. */
int
server_start(struct event_base *base, int fd, const char *path)
{
	server.listener = evconnlistener_new(base, server_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (server.listener == NULL) {
		log_warnx("evconnlistener_new failed on fd %d", fd);
		return -1;
	}
	evconnlistener_set_error_cb(server.listener, server_error_cb);
	if ((server.resume = evtimer_new(base, server_resume_cb, NULL)) == NULL)
		fatalx("evtimer_new failed");
	server.path = path != NULL ? xstrdup(path) : NULL;
	return 0;
}

void
server_stop(void)
{
	if (server.listener != NULL)
		evconnlistener_free(server.listener);
	if (server.resume != NULL)
		event_free(server.resume);
	if (server.path != NULL && unlink(server.path) == -1)
		log_warn("unlink %s", server.path);
	free(server.path);
	memset(&server, 0, sizeof server);
}

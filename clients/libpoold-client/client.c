/*
 * libpoold-client: connecting, closing, the default socket path and the
 * error state a client keeps.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client-int.h"

/* The message of a failure whose own message could not be allocated. */
char client_nomem[] = "out of memory";

char *
poold_default_socket(char *buf, size_t len)
{
	const char	*env;
	int		 n;

	if ((env = getenv(POOLD_SOCKET_ENV)) != NULL && *env != '\0')
		n = snprintf(buf, len, "%s", env);
	else if (getuid() == 0)
		n = snprintf(buf, len, "%s", POOLD_SYSTEM_SOCKET);
	else if ((env = getenv("XDG_RUNTIME_DIR")) != NULL && *env != '\0')
		n = snprintf(buf, len, "%s/poold/poold.sock", env);
	else
		n = snprintf(buf, len, "/tmp/poold-%u/poold.sock",
		    (unsigned)getuid());
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return buf;
}

/*
 * Connect fd to addr. The socket is non-blocking, and a Unix socket's
 * non-blocking connect fails with EAGAIN when the listener's backlog is
 * full instead of waiting its turn; then wait as a blocking connect would.
 */
static int
client_connect_fd(int fd, const struct sockaddr_un *addr)
{
	int	flags, rc;

	if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0)
		return 0;
	if (errno != EAGAIN)
		return -1;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
		return -1;
	do
		rc = connect(fd, (const struct sockaddr *)addr, sizeof *addr);
	while (rc == -1 && errno == EINTR);
	if (rc == -1)
		return -1;
	return fcntl(fd, F_SETFL, flags);
}

/* Fill addr with path, or fail with errno set. */
static int
client_address(const char *path, struct sockaddr_un *addr)
{
	size_t	len = strlen(path);

	if (len == 0) {
		errno = ENOENT;
		return -1;
	}
	if (len >= sizeof addr->sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len + 1);
	return 0;
}

poold_status
poold_connect(const char *path, poold_client **out)
{
	struct sockaddr_un	 addr;
	char			 def[sizeof addr.sun_path];
	poold_client		*c;
	int			 saved;

	if (out == NULL) {
		errno = EINVAL;
		return POOLD_ERR_USAGE;
	}
	*out = NULL;
	if (path == NULL && (path = poold_default_socket(def,
	    sizeof def)) == NULL)
		return POOLD_ERR_SYSTEM;
	if (client_address(path, &addr) == -1)
		return POOLD_ERR_SYSTEM;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return POOLD_ERR_SYSTEM;
	c->fd = -1;
	c->next_id = 1;
	c->max_line = POOLD_DEFAULT_MAX_LINE;
	if ((c->path = strdup(path)) == NULL)
		goto fail;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd == -1)
		goto fail;
	if (client_connect_fd(c->fd, &addr) == -1)
		goto fail;
	*out = c;
	return POOLD_OK;

fail:
	saved = errno;
	if (c->fd != -1)
		close(c->fd);
	free(c->path);
	free(c);
	errno = saved;
	return POOLD_ERR_SYSTEM;
}

static void
client_error_clear(struct client_error *e)
{
	if (e->message != client_nomem)
		free(e->message);
	json_decref(e->data);
	memset(e, 0, sizeof *e);
}

void
poold_close(poold_client *c)
{
	if (c == NULL)
		return;
	/* Linux closes the fd even when close() says EINTR: never retry. */
	close(c->fd);
	wire_free(c);
	pending_clear(&c->pending);
	client_error_clear(&c->err);
	client_error_clear(&c->fatal);
	free(c->path);
	free(c);
}

int
poold_fd(const poold_client *c)
{
	return c->fd;
}

const char *
poold_path(const poold_client *c)
{
	return c->path;
}

void
poold_set_notify_handler(poold_client *c, poold_notify_fn *fn, void *arg)
{
	c->notify = fn;
	c->notify_arg = fn == NULL ? NULL : arg;
}

void
poold_set_max_line(poold_client *c, size_t bytes)
{
	c->max_line = bytes == 0 ? POOLD_DEFAULT_MAX_LINE : bytes;
}

/* Replace e with a new failure; the message is formatted from fmt. */
static void __attribute__((format(printf, 4, 0)))
client_error_set(struct client_error *e, poold_status status, int sys_errno,
    const char *fmt, va_list ap)
{
	client_error_clear(e);
	e->status = status;
	e->sys_errno = status == POOLD_ERR_SYSTEM ? sys_errno : 0;
	if (vasprintf(&e->message, fmt, ap) == -1)
		e->message = client_nomem;
}

/* client_error_set() with the arguments inline. */
static void __attribute__((format(printf, 4, 5)))
client_error_fmt(struct client_error *e, poold_status status, int sys_errno,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	client_error_set(e, status, sys_errno, fmt, ap);
	va_end(ap);
}

/* Copy src over dst, so the last failure can be the one that broke. */
static void
client_error_copy(struct client_error *dst, const struct client_error *src)
{
	client_error_clear(dst);
	dst->status = src->status;
	dst->sys_errno = src->sys_errno;
	dst->code = src->code;
	if ((dst->message = strdup(src->message)) == NULL)
		dst->message = client_nomem;
	dst->data = json_incref(src->data);
}

/* Record a failure that leaves the connection usable; returns status. */
poold_status
client_fail(poold_client *c, poold_status status, int sys_errno,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	client_error_set(&c->err, status, sys_errno, fmt, ap);
	va_end(ap);
	return status;
}

/* Record the failure that ends the connection; every later call that
 * needs the connection returns it again. The first such failure stays. */
poold_status
client_break(poold_client *c, poold_status status, int sys_errno,
    const char *fmt, ...)
{
	va_list	ap;

	if (c->fatal.status != POOLD_OK)
		return client_broken(c);
	va_start(ap, fmt);
	client_error_set(&c->fatal, status, sys_errno, fmt, ap);
	va_end(ap);
	return client_broken(c);
}

/* POOLD_ERR_RPC from a checked JSON-RPC error object; with status
 * POOLD_ERR_PROTOCOL (an error with a null id, so for no request) the
 * connection is broken, keeping the error's code and data. */
poold_status
client_rpc_error(poold_client *c, poold_status status, json_t *error)
{
	json_t		*data = json_object_get(error, "data");
	const char	*msg = json_string_value(json_object_get(error,
			    "message"));
	int		 code = (int)json_integer_value(json_object_get(error,
			    "code"));

	if (status == POOLD_ERR_RPC) {
		client_error_fmt(&c->err, status, 0, "%s", msg);
		c->err.code = code;
		c->err.data = json_incref(data);
		return status;
	}
	if (c->fatal.status != POOLD_OK)
		return client_broken(c);
	client_error_fmt(&c->fatal, status, 0,
	    "%s (error %d without a request id)", msg, code);
	c->fatal.code = code;
	c->fatal.data = json_incref(data);
	return client_broken(c);
}

/* The failure that broke the connection, made the last one again. */
poold_status
client_broken(poold_client *c)
{
	client_error_copy(&c->err, &c->fatal);
	return c->fatal.status;
}

int
poold_error_code(const poold_client *c)
{
	return c->err.code;
}

const char *
poold_error_message(const poold_client *c)
{
	return c->err.message == NULL ? "" : c->err.message;
}

json_t *
poold_error_data(const poold_client *c)
{
	return c->err.data;
}

int
poold_error_errno(const poold_client *c)
{
	return c->err.sys_errno;
}

const char *
poold_strstatus(poold_status status)
{
	switch (status) {
	case POOLD_OK:
		return "success";
	case POOLD_ERR_SYSTEM:
		return "system error";
	case POOLD_ERR_TIMEOUT:
		return "timed out";
	case POOLD_ERR_CLOSED:
		return "connection closed by poold";
	case POOLD_ERR_PROTOCOL:
		return "protocol error";
	case POOLD_ERR_RPC:
		return "error answer from poold";
	case POOLD_ERR_USAGE:
		return "bad call";
	case POOLD_ERR_AGAIN:
		return "no answer yet";
	}
	return "unknown status";
}

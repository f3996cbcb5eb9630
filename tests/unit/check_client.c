/*
 * libpoold-client against a real poold on a temporary socket, and against
 * a fake server in the test that says what a real one never would.
 *
 * The daemon comes from $POOLD (it may carry a wrapper) and the testing
 * plugin from $POOLD_PLUGIN_DIR, as make check sets them. Readiness is the
 * daemon's own READY=1 on a NOTIFY_SOCKET the test listens on, so nothing
 * here sleeps and hopes.
 */
#include "autoconf.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poold/client.h>

/* Generous: a bound only has to tell "answered" from "never answers". */
#define DEADLINE_MS	20000

/* A private poold, one per test that uses it. */
static struct {
	pid_t	pid;
	char	dir[PATH_MAX];
	char	sock[PATH_MAX];
	char	log[PATH_MAX];
	char	notify[PATH_MAX];
} d;

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(long long deadline)
{
	long long	left = deadline - now_ms();

	return left < 0 ? 0 : (int)left;
}

/* buf = dir/name, which must fit. */
static void
path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int	n = snprintf(buf, len, "%s/%s", dir, name);

	ck_assert(n > 0 && (size_t)n < len);
}

/* Every test's files live under this, made and removed by main(), so a
 * test that fails (and so skips its teardown) leaves nothing behind. */
static char	topdir[PATH_MAX];

/* Make a fresh directory under topdir into buf. */
static void
make_dir(char *buf, size_t len)
{
	path_join(buf, len, topdir, "t.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

static int
remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void
remove_in(const char *dir, const char *name)
{
	char	path[PATH_MAX];

	path_join(path, sizeof path, dir, name);
	unlink(path);
}

/* The child: become the daemon, logging to d.log. */
static void
daemon_exec(const char *plugin)
{
	int	fd;

	/* The daemon must not outlive a test that fails or times out. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		_exit(126);
	if ((fd = open(d.log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		_exit(126);
	close_range(3, ~0U, 0);
	if (setenv("NOTIFY_SOCKET", d.notify, 1) == -1)
		_exit(126);
	/* $POOLD may carry a wrapper; sh splits it as a test harness does. */
	if (plugin != NULL)
		execl("/bin/sh", "sh", "-c", "exec $POOLD \"$@\"", "poold",
		    "-s", d.sock, "-p", "1", "-t", "2", "-v",
		    "--plugin", plugin, (char *)NULL);
	else
		execl("/bin/sh", "sh", "-c", "exec $POOLD \"$@\"", "poold",
		    "-s", d.sock, "-p", "1", "-t", "2", "-v", (char *)NULL);
	_exit(127);
}

/* The last part of the daemon's log, for a failure's message. */
static const char *
daemon_log_tail(void)
{
	static char	buf[3000];
	ssize_t		n;
	off_t		size;
	int		fd;

	buf[0] = '\0';
	if ((fd = open(d.log, O_RDONLY | O_CLOEXEC)) == -1)
		return buf;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof buf - 1)
		lseek(fd, size - (off_t)sizeof buf + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	if ((n = read(fd, buf, sizeof buf - 1)) < 0)
		n = 0;
	buf[n] = '\0';
	close(fd);
	return buf;
}

/* Wait for READY=1 on ns, or fail if the daemon exits first. */
static void
daemon_wait_ready(int ns)
{
	long long	 deadline = now_ms() + DEADLINE_MS;
	struct pollfd	 pfd[2];
	char		 msg[4096];
	ssize_t		 n;
	int		 pidfd, nfds;

	/* A pidfd tells of an early exit at once; without one, the
	 * deadline does. */
	pidfd = (int)syscall(SYS_pidfd_open, d.pid, 0);
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = ns, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		nfds = poll(pfd, pidfd == -1 ? 1 : 2, left_ms(deadline));
		ck_assert_msg(nfds != 0, "poold sent no READY=1 in %d ms:\n%s",
		    DEADLINE_MS, daemon_log_tail());
		if (nfds == -1 && errno == EINTR)
			continue;
		ck_assert_int_gt(nfds, 0);
		ck_assert_msg(pidfd == -1 || !(pfd[1].revents & POLLIN),
		    "poold exited before READY=1:\n%s", daemon_log_tail());
		if (!(pfd[0].revents & POLLIN))
			continue;
		n = recv(ns, msg, sizeof msg - 1, 0);
		ck_assert_int_ge(n, 0);
		msg[n] = '\0';
		if (strstr(msg, "READY=1") != NULL)
			break;
	}
	if (pidfd != -1)
		close(pidfd);
}

/* Stop the daemon if it runs, and remove its directory. */
static void
daemon_cleanup(void)
{
	if (d.pid > 0) {
		kill(d.pid, SIGKILL);
		waitpid(d.pid, NULL, 0);
		d.pid = 0;
	}
	if (d.dir[0] != '\0') {
		remove_in(d.dir, "poold.sock");
		remove_in(d.dir, "poold.log");
		remove_in(d.dir, "notify");
		rmdir(d.dir);
		d.dir[0] = '\0';
	}
}

static void
daemon_start(void)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	const char		*pdir = getenv("POOLD_PLUGIN_DIR");
	char			 plugin[PATH_MAX];
	int			 ns;

	memset(&d, 0, sizeof d);
	make_dir(d.dir, sizeof d.dir);
	path_join(d.sock, sizeof d.sock, d.dir, "poold.sock");
	path_join(d.log, sizeof d.log, d.dir, "poold.log");
	path_join(d.notify, sizeof d.notify, d.dir, "notify");
	if (pdir != NULL && *pdir != '\0')
		path_join(plugin, sizeof plugin, pdir, "testing.so");
	ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ns, 0);
	ck_assert_uint_lt(strlen(d.notify), sizeof sun.sun_path);
	strcpy(sun.sun_path, d.notify);
	ck_assert_int_eq(bind(ns, (struct sockaddr *)&sun, sizeof sun), 0);
	d.pid = fork();
	ck_assert_int_ge(d.pid, 0);
	if (d.pid == 0)
		daemon_exec(pdir != NULL && *pdir != '\0' ? plugin : NULL);
	daemon_wait_ready(ns);
	/* Unread status messages must never fill up and stall the daemon:
	 * with nobody bound, its later sd_notify calls just fail. */
	close(ns);
	unlink(d.notify);
}

/* SIGTERM it (unless a test stopped it) and check it ended well. */
static void
daemon_stop(void)
{
	const char	*log;
	int		 status;

	if (d.pid > 0) {
		kill(d.pid, SIGTERM);
		ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
		d.pid = 0;
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "poold ended with status 0x%x:\n%s", status,
		    daemon_log_tail());
	}
	log = daemon_log_tail();
	ck_assert_msg(strstr(log, "Sanitizer") == NULL &&
	    strstr(log, "runtime error:") == NULL,
	    "a sanitizer reported a problem in poold:\n%s", log);
	daemon_cleanup();
}

static int
has_plugin(void)
{
	const char	*pdir = getenv("POOLD_PLUGIN_DIR");

	return pdir != NULL && *pdir != '\0';
}

static poold_client *
connect_daemon(void)
{
	poold_client	*c = NULL;

	ck_assert_int_eq(poold_connect(d.sock, &c), POOLD_OK);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* json_pack that must work. */
static json_t *
pack(const char *fmt, ...)
{
	json_error_t	 err;
	va_list		 ap;
	json_t		*v;

	va_start(ap, fmt);
	v = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	ck_assert_msg(v != NULL, "json_pack %s: %s", fmt, err.text);
	return v;
}

/* poold_send() with params that are given up. */
static poold_status
send_p(poold_client *c, const char *method, json_t *params, uint64_t *id)
{
	poold_status	st = poold_send(c, method, params, id);

	json_decref(params);
	return st;
}

/* poold_call() with params that are given up. */
static poold_status
call_p(poold_client *c, const char *method, json_t *params, int timeout_ms,
    json_t **result)
{
	poold_status	st = poold_call(c, method, params, timeout_ms, result);

	json_decref(params);
	return st;
}

/* Submit fn(args) with options, which are stolen, as args are. */
static char *
submit(poold_client *c, const char *fn, json_t *args, json_t *options)
{
	char		*future = NULL;
	poold_status	 st;

	st = poold_submit(c, fn, args, options, &future);
	ck_assert_msg(st == POOLD_OK, "submit %s: %s: %s", fn,
	    poold_strstatus(st), poold_error_message(c));
	json_decref(args);
	json_decref(options);
	return future;
}

/* A future that runs until it is cancelled with force. */
static char *
submit_forever(poold_client *c)
{
	return submit(c, "sleep", pack("[i]", 3600),
	    pack("{s:s}", "executor", "process"));
}

static void
cancel_force(poold_client *c, const char *future)
{
	json_t		*r = NULL;
	poold_status	 st;

	st = call_p(c, "cancel", pack("{s:s, s:b}", "future", future,
	    "force", 1), DEADLINE_MS, &r);
	ck_assert_msg(st == POOLD_OK, "cancel: %s", poold_error_message(c));
	ck_assert(json_is_true(json_object_get(r, "cancelled")));
	json_decref(r);
}

/* ------------------------------------------------------------------ */
/* Without a daemon. */

START_TEST(test_connect_missing)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	poold_client		*c = (poold_client *)&c;
	char			 dir[PATH_MAX];
	int			 fd;

	errno = 0;
	ck_assert_int_eq(poold_connect("/nonexistent/poold/poold.sock", &c),
	    POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(poold_connect("", &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(poold_connect("/x", NULL), POOLD_ERR_USAGE);

	/* A socket file nobody listens on is refused. */
	make_dir(dir, sizeof dir);
	path_join(sun.sun_path, sizeof sun.sun_path, dir, "dead.sock");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	ck_assert_int_eq(poold_connect(sun.sun_path, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ECONNREFUSED);
	ck_assert_ptr_null(c);
	unlink(sun.sun_path);
	rmdir(dir);
}
END_TEST

START_TEST(test_connect_too_long)
{
	struct sockaddr_un	 sun;
	poold_client		*c = NULL;
	char			 path[300];
	size_t			 max = sizeof sun.sun_path - 1;

	/* The longest path that fits is tried (and is missing)... */
	memset(path, 'x', sizeof path);
	path[0] = '/';
	path[max] = '\0';
	ck_assert_int_eq(poold_connect(path, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENOENT);
	/* ...one more byte does not fit. */
	memset(path, 'x', sizeof path);
	path[0] = '/';
	path[max + 1] = '\0';
	ck_assert_int_eq(poold_connect(path, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	path[sizeof path - 1] = '\0';
	ck_assert_int_eq(poold_connect(path, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_ptr_null(c);

	/* The default socket path obeys the same limit. */
	setenv("POOLD_SOCKET", path, 1);
	ck_assert_int_eq(poold_connect(NULL, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	setenv("POOLD_SOCKET", "/nonexistent/poold/poold.sock", 1);
	ck_assert_int_eq(poold_connect(NULL, &c), POOLD_ERR_SYSTEM);
	ck_assert_int_eq(errno, ENOENT);
	unsetenv("POOLD_SOCKET");
}
END_TEST

/* The rules for an ordinary user; the caller is not root. */
static void
check_user_default_socket(void)
{
	char	buf[256], expect[64];

	setenv("XDG_RUNTIME_DIR", "/run/user/4321", 1);
	ck_assert_str_eq(poold_default_socket(buf, sizeof buf),
	    "/run/user/4321/poold/poold.sock");
	setenv("XDG_RUNTIME_DIR", "", 1);
	snprintf(expect, sizeof expect, "/tmp/poold-%u/poold.sock",
	    (unsigned)getuid());
	ck_assert_str_eq(poold_default_socket(buf, sizeof buf), expect);
	unsetenv("XDG_RUNTIME_DIR");
	ck_assert_str_eq(poold_default_socket(buf, sizeof buf), expect);
	setenv("POOLD_SOCKET", "/x/y.sock", 1);
	ck_assert_str_eq(poold_default_socket(buf, sizeof buf), "/x/y.sock");
	unsetenv("POOLD_SOCKET");
}

START_TEST(test_default_socket)
{
	char		 buf[256];
	const char	*fork_env = getenv("CK_FORK");

	setenv("POOLD_SOCKET", "/somewhere/p.sock", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/4321", 1);
	ck_assert_str_eq(poold_default_socket(buf, sizeof buf),
	    "/somewhere/p.sock");
	/* Exactly fits, then one byte short. */
	ck_assert_ptr_eq(poold_default_socket(buf, 18), buf);
	errno = 0;
	ck_assert_ptr_null(poold_default_socket(buf, 17));
	ck_assert_int_eq(errno, ENAMETOOLONG);
	/* Empty is unset. */
	setenv("POOLD_SOCKET", "", 1);
	if (getuid() == 0) {
		ck_assert_str_eq(poold_default_socket(buf, sizeof buf),
		    "/run/poold/poold.sock");
		unsetenv("POOLD_SOCKET");
		ck_assert_str_eq(poold_default_socket(buf, sizeof buf),
		    POOLD_SYSTEM_SOCKET);
		/* The user's rules need a user: drop to one, in this test's
		 * own process (not when tests share the runner's). */
		if (fork_env != NULL && strcmp(fork_env, "no") == 0)
			return;
		ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
		ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
	}
	unsetenv("POOLD_SOCKET");
	check_user_default_socket();
}
END_TEST

START_TEST(test_strstatus)
{
	static const poold_status all[] = { POOLD_OK, POOLD_ERR_SYSTEM,
	    POOLD_ERR_TIMEOUT, POOLD_ERR_CLOSED, POOLD_ERR_PROTOCOL,
	    POOLD_ERR_RPC, POOLD_ERR_USAGE, POOLD_ERR_AGAIN };
	size_t	i, j, n = sizeof all / sizeof all[0];

	for (i = 0; i < n; i++) {
		ck_assert_uint_gt(strlen(poold_strstatus(all[i])), 0);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(poold_strstatus(all[i]),
			    poold_strstatus(all[j]));
	}
	ck_assert_str_eq(poold_strstatus((poold_status)42), "unknown status");
}
END_TEST

/* ------------------------------------------------------------------ */
/* A fake server: the test itself, on the other end of the socket. */

static struct {
	char		 dir[PATH_MAX];
	char		 sock[PATH_MAX];
	int		 lfd;
	int		 sfd;
	char		 buf[65536];
	size_t		 len;
	poold_client	*c;
} f;

/* Remove the fake server's socket and directory, once. */
static void
fake_cleanup(void)
{
	if (f.dir[0] == '\0')
		return;
	unlink(f.sock);
	rmdir(f.dir);
	f.dir[0] = '\0';
}

static void
fake_setup(void)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };

	memset(&f, 0, sizeof f);
	/* A write to a closed client must not be what kills the test. */
	signal(SIGPIPE, SIG_DFL);
	make_dir(f.dir, sizeof f.dir);
	path_join(f.sock, sizeof f.sock, f.dir, "fake.sock");
	ck_assert_uint_lt(strlen(f.sock), sizeof sun.sun_path);
	strcpy(sun.sun_path, f.sock);
	f.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f.lfd, 0);
	ck_assert_int_eq(bind(f.lfd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(f.lfd, 4), 0);
	/* The backlog completes the connect; accept it after. */
	ck_assert_int_eq(poold_connect(f.sock, &f.c), POOLD_OK);
	f.sfd = accept4(f.lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(f.sfd, 0);
}

static void
fake_teardown(void)
{
	poold_close(f.c);
	if (f.sfd >= 0)
		close(f.sfd);
	close(f.lfd);
	fake_cleanup();
}

/* The next line the client sent, parsed. */
static json_t *
fake_read(void)
{
	long long	 deadline = now_ms() + DEADLINE_MS;
	struct pollfd	 pfd = { .fd = f.sfd, .events = POLLIN };
	json_error_t	 err;
	json_t		*msg;
	char		*nl;
	ssize_t		 n;
	size_t		 len;

	while ((nl = memchr(f.buf, '\n', f.len)) == NULL) {
		ck_assert_uint_lt(f.len, sizeof f.buf);
		ck_assert_int_eq(poll(&pfd, 1, left_ms(deadline)), 1);
		n = read(f.sfd, f.buf + f.len, sizeof f.buf - f.len);
		ck_assert_int_gt(n, 0);
		f.len += (size_t)n;
	}
	len = (size_t)(nl - f.buf);
	msg = json_loadb(f.buf, len, 0, &err);
	ck_assert_msg(msg != NULL, "the client sent bad JSON: %s", err.text);
	memmove(f.buf, nl + 1, f.len - len - 1);
	f.len -= len + 1;
	return msg;
}

static void
fake_write(const char *s)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;

	while (off < len) {
		n = write(f.sfd, s + off, len - off);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
}

/* Send a request and check the line the server sees; its id. */
static uint64_t
fake_request(const char *method)
{
	json_t		*msg;
	uint64_t	 id = 0;

	ck_assert_int_eq(poold_send(f.c, method, NULL, &id), POOLD_OK);
	msg = fake_read();
	ck_assert_str_eq(json_string_value(json_object_get(msg, "jsonrpc")),
	    "2.0");
	ck_assert_str_eq(json_string_value(json_object_get(msg, "method")),
	    method);
	ck_assert(json_is_integer(json_object_get(msg, "id")));
	ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(msg,
	    "id")), id);
	ck_assert_ptr_null(json_object_get(msg, "params"));
	json_decref(msg);
	return id;
}

/* After a protocol error every call says so again, and nothing waits. */
static void
assert_broken(poold_status want)
{
	uint64_t	id;

	ck_assert_uint_gt(strlen(poold_error_message(f.c)), 0);
	ck_assert_int_eq(poold_call(f.c, "hello", NULL, -1, NULL), want);
	ck_assert_int_eq(poold_send(f.c, "hello", NULL, &id), want);
	ck_assert_int_eq(poold_dispatch(f.c), want);
	ck_assert_int_eq(poold_poll(f.c, -1), want);
	ck_assert_int_eq(poold_want_write(f.c), 0);
}

START_TEST(test_fake_request_lines)
{
	json_t		*params = pack("{s:s, s:[i, s]}", "fn", "echo", "args",
			    1, "\xc3\xa9\n\"");
	json_t		*msg;
	uint64_t	 id1 = 0, id2 = 0;

	/* Ids increase; params go as given, escaped on one line. */
	ck_assert_int_eq(poold_send(f.c, "submit", params, &id1), POOLD_OK);
	ck_assert_int_eq(poold_send_notification(f.c, "forget", params),
	    POOLD_OK);
	ck_assert_int_eq(poold_send(f.c, "submit", params, &id2), POOLD_OK);
	ck_assert_uint_gt(id1, 0);
	ck_assert_uint_gt(id2, id1);
	msg = fake_read();
	ck_assert(json_equal(json_object_get(msg, "params"), params));
	ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(msg,
	    "id")), id1);
	json_decref(msg);
	msg = fake_read();
	ck_assert_ptr_null(json_object_get(msg, "id"));
	ck_assert_str_eq(json_string_value(json_object_get(msg, "method")),
	    "forget");
	json_decref(msg);
	msg = fake_read();
	ck_assert_uint_eq((uint64_t)json_integer_value(json_object_get(msg,
	    "id")), id2);
	json_decref(msg);
	ck_assert_int_eq(params->refcount, 1);
	json_decref(params);

	/* What the library refuses never reaches the wire. */
	params = json_array();
	ck_assert_int_eq(poold_send(f.c, "x", params, NULL), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_send(f.c, NULL, NULL, NULL), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_send(f.c, "\xff", NULL, NULL), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_response(f.c, 12345, 0, NULL),
	    POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_take_response(f.c, 12345, NULL),
	    POOLD_ERR_USAGE);
	json_decref(params);
	ck_assert_uint_eq(fake_request("hello"), id2 + 1);
}
END_TEST

START_TEST(test_fake_garbage)
{
	uint64_t	 id = fake_request("hello");
	json_t		*r = (json_t *)&r;

	fake_write("this is not JSON\n");
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, &r),
	    POOLD_ERR_PROTOCOL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(poold_error_code(f.c), 0);
	assert_broken(POOLD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_fake_unknown_id)
{
	uint64_t	id = fake_request("hello");

	fake_write("{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":1}\n");
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(poold_error_message(f.c), "99"));
	assert_broken(POOLD_ERR_PROTOCOL);
}
END_TEST

/* Lines no JSON-RPC server sends to request 1. */
static const char *const bad_lines[] = {
	"[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}]\n",
	"{\"id\":1,\"result\":1}\n",
	"{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":1}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":1}\n",
	("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"error\":{\"code\":1,"
	    "\"message\":\"m\"}}\n"),
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"message\":\"m\"}}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":\"m\"}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":1}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}\n",
	"{\"jsonrpc\":\"2.0\",\"result\":1}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\"}\n",
	"{\"jsonrpc\":\"2.0\",\"method\":7}\n",
	"{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"params\":3}\n",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":1,\"result\":1}\n",
	"42\n",
	"\n",
};

START_TEST(test_fake_bad_line)
{
	uint64_t	id = fake_request("hello");

	ck_assert_uint_eq(id, 1);
	fake_write(bad_lines[_i]);
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_PROTOCOL);
	assert_broken(POOLD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_fake_twice_answered)
{
	uint64_t	id = fake_request("hello");

	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}\n");
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_OK);
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}\n");
	ck_assert_int_eq(poold_poll(f.c, DEADLINE_MS), POOLD_ERR_PROTOCOL);
	assert_broken(POOLD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_fake_null_id_error)
{
	json_t	*data;

	fake_request("hello");
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32005,"
	    "\"message\":\"too many connections\","
	    "\"data\":{\"max_connections\":1}}}\n");
	ck_assert_int_eq(poold_response(f.c, 1, DEADLINE_MS, NULL),
	    POOLD_ERR_PROTOCOL);
	ck_assert_int_eq(poold_error_code(f.c), POOLD_E_QUEUE_FULL);
	ck_assert_ptr_nonnull(strstr(poold_error_message(f.c),
	    "too many connections"));
	data = poold_error_data(f.c);
	ck_assert_int_eq(json_integer_value(json_object_get(data,
	    "max_connections")), 1);
	/* Asked again, the same failure, details and all. */
	ck_assert_int_eq(poold_send(f.c, "hello", NULL, NULL),
	    POOLD_ERR_PROTOCOL);
	ck_assert_int_eq(poold_error_code(f.c), POOLD_E_QUEUE_FULL);
}
END_TEST

static void
collect(poold_client *c, const char *method, json_t *params, void *arg)
{
	json_t	*seen = arg;

	json_array_append_new(seen, json_pack("{s:s, s:O*}", "method", method,
	    "params", params));
	/* Only sending is allowed in here. */
	ck_assert_int_eq(poold_poll(c, 0), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_dispatch(c), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_call(c, "hello", NULL, 0, NULL),
	    POOLD_ERR_USAGE);
}

START_TEST(test_fake_framing)
{
	json_t		*seen = json_array(), *r = NULL;
	uint64_t	 id1, id2, id3;
	poold_status	 st;

	poold_set_notify_handler(f.c, collect, seen);
	id1 = fake_request("a");
	id2 = fake_request("b");
	id3 = fake_request("c");
	/* Half an answer is no answer. */
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":3,");
	ck_assert_int_eq(poold_response(f.c, id3, 0, NULL), POOLD_ERR_TIMEOUT);
	ck_assert_int_eq(poold_take_response(f.c, id3, NULL), POOLD_ERR_AGAIN);
	/* The rest, then two answers and a notification in one write. */
	fake_write("\"result\":\"three\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,"
	    "\"error\":{\"code\":-32000,\"message\":\"unknown future\","
	    "\"data\":{\"future\":\"f-1\"}}}\n{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"ping\",\"params\":{\"n\":1}}\n{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"bare\"}\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1]}\n");
	ck_assert_int_eq(poold_response(f.c, id1, DEADLINE_MS, &r), POOLD_OK);
	ck_assert_int_eq(json_integer_value(json_array_get(r, 0)), 1);
	json_decref(r);
	st = poold_take_response(f.c, id2, &r);
	ck_assert_int_eq(st, POOLD_ERR_RPC);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(poold_error_code(f.c), POOLD_E_UNKNOWN_FUTURE);
	ck_assert_str_eq(poold_error_message(f.c), "unknown future");
	ck_assert_str_eq(json_string_value(json_object_get(
	    poold_error_data(f.c), "future")), "f-1");
	ck_assert_int_eq(poold_take_response(f.c, id3, &r), POOLD_OK);
	ck_assert_str_eq(json_string_value(r), "three");
	json_decref(r);
	/* Taken once only. */
	ck_assert_int_eq(poold_take_response(f.c, id3, &r), POOLD_ERR_USAGE);
	ck_assert_uint_eq(json_array_size(seen), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    seen, 0), "method")), "ping");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_array_get(seen, 0), "params"), "n")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    seen, 1), "method")), "bare");
	ck_assert_ptr_null(json_object_get(json_array_get(seen, 1),
	    "params"));
	json_decref(seen);
}
END_TEST

/* An answer to id that is exactly len bytes before its newline. */
static void
fake_answer_of(uint64_t id, size_t len)
{
	char	line[512], pad[512];
	int	n;

	n = snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":\"\"}",
	    (unsigned long long)id);
	ck_assert_uint_le((size_t)n, len);
	ck_assert_uint_lt(len, sizeof pad);
	memset(pad, 'x', len - (size_t)n);
	pad[len - (size_t)n] = '\0';
	n = snprintf(line, sizeof line,
	    "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":\"%s\"}\n",
	    (unsigned long long)id, pad);
	ck_assert_int_eq(n, (int)len + 1);
	fake_write(line);
}

START_TEST(test_fake_line_cap)
{
	char		line[128];
	uint64_t	id;

	poold_set_max_line(f.c, 64);
	/* Exactly 64 bytes before the newline is allowed... */
	id = fake_request("a");
	fake_answer_of(id, 64);
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_OK);
	/* ...and a line that never ends is refused once it is too long. */
	id = fake_request("b");
	memset(line, 'x', 100);
	line[100] = '\0';
	fake_write(line);
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(poold_error_message(f.c), "64"));
}
END_TEST

START_TEST(test_fake_line_cap_complete)
{
	uint64_t	id;

	/* 65 bytes, newline and all in one write, is one too many. */
	poold_set_max_line(f.c, 64);
	id = fake_request("a");
	fake_answer_of(id, 65);
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_PROTOCOL);
	/* The default comes back with 0. */
	poold_set_max_line(f.c, 0);
}
END_TEST

START_TEST(test_fake_default_cap)
{
	static char	chunk[65536];
	uint64_t	id = fake_request("a");
	poold_status	st = POOLD_OK;
	size_t		sent = 0;
	ssize_t		n;

	/* One line that never ends, fed as the client reads it: the client
	 * gives up only once it has more than the default cap. */
	memset(chunk, ' ', sizeof chunk);
	ck_assert_int_eq(fcntl(f.sfd, F_SETFL, O_NONBLOCK), 0);
	while (st == POOLD_OK && sent <= POOLD_DEFAULT_MAX_LINE) {
		if ((n = write(f.sfd, chunk, sizeof chunk)) > 0) {
			sent += (size_t)n;
			continue;
		}
		ck_assert_int_eq(errno, EAGAIN);
		st = poold_dispatch(f.c);
	}
	ck_assert_uint_gt(sent, POOLD_DEFAULT_MAX_LINE);
	if (st == POOLD_OK)
		st = poold_response(f.c, id, DEADLINE_MS, NULL);
	ck_assert_int_eq(st, POOLD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_fake_closed)
{
	uint64_t	id = fake_request("hello");

	fake_write("{\"jsonrpc\":\"2.0\",\"id\":");
	close(f.sfd);
	f.sfd = -1;
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_CLOSED);
	ck_assert_ptr_nonnull(strstr(poold_error_message(f.c), "middle"));
	assert_broken(POOLD_ERR_CLOSED);
}
END_TEST

START_TEST(test_fake_sigpipe)
{
	/* The peer is gone before the request: a write to it would raise
	 * SIGPIPE, and the default action would end this process. */
	close(f.sfd);
	f.sfd = -1;
	ck_assert_int_eq(poold_call(f.c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_ERR_CLOSED);
	assert_broken(POOLD_ERR_CLOSED);
}
END_TEST

START_TEST(test_fake_last_words)
{
	/* A server that answers and hangs up: its answer is still given. */
	uint64_t	id = fake_request("hello");
	json_t		*r = NULL;

	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"bye\"}\n");
	close(f.sfd);
	f.sfd = -1;
	ck_assert_int_eq(poold_poll(f.c, DEADLINE_MS), POOLD_ERR_CLOSED);
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, &r), POOLD_OK);
	ck_assert_str_eq(json_string_value(r), "bye");
	json_decref(r);
}
END_TEST

START_TEST(test_fake_abandoned)
{
	long long	 start = now_ms();
	json_t		*msg, *r = NULL;

	/* Nobody answers: the call gives up after its time... */
	ck_assert_int_eq(poold_call(f.c, "slow", NULL, 50, NULL),
	    POOLD_ERR_TIMEOUT);
	ck_assert_int_ge(now_ms() - start, 50);
	msg = fake_read();
	json_decref(msg);
	/* ...and its late answer is dropped, not an error. */
	ck_assert_int_eq(poold_response(f.c, 1, 0, NULL), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_send(f.c, "fast", NULL, NULL), POOLD_OK);
	msg = fake_read();
	json_decref(msg);
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"late\"}\n"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"fast\"}\n");
	ck_assert_int_eq(poold_response(f.c, 2, DEADLINE_MS, &r), POOLD_OK);
	ck_assert_str_eq(json_string_value(r), "fast");
	json_decref(r);
	/* Once dropped, an answer to it again is an answer to nothing. */
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"again\"}\n");
	ck_assert_int_eq(poold_poll(f.c, DEADLINE_MS), POOLD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_fake_timeout_then_answer)
{
	long long	 start = now_ms();
	uint64_t	 id = fake_request("hello");
	json_t		*r = NULL;

	ck_assert_int_eq(poold_response(f.c, id, 30, &r), POOLD_ERR_TIMEOUT);
	ck_assert_int_ge(now_ms() - start, 30);
	ck_assert_int_eq(poold_poll(f.c, 0), POOLD_ERR_TIMEOUT);
	fake_write("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":true}\n");
	ck_assert_int_eq(poold_response(f.c, id, DEADLINE_MS, &r), POOLD_OK);
	ck_assert(json_is_true(r));
	json_decref(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Against a real poold. */

START_TEST(test_hello)
{
	poold_client	*c = connect_daemon();
	json_t		*r = NULL, *params = json_object();
	int		 flags;

	ck_assert_str_eq(poold_path(c), d.sock);
	ck_assert_int_ne(fcntl(poold_fd(c), F_GETFD) & FD_CLOEXEC, 0);
	flags = fcntl(poold_fd(c), F_GETFL);
	ck_assert_int_ne(flags & O_NONBLOCK, 0);
	ck_assert_str_eq(poold_error_message(c), "");
	ck_assert_int_eq(poold_call(c, "hello", params, DEADLINE_MS, &r),
	    POOLD_OK);
	json_decref(params);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")),
	    "poold");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")),
	    POOLD_PROTOCOL_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "pid")), d.pid);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(r, "executors"), "process"), "workers")), 1);
	json_decref(r);
	poold_close(c);

	/* The default path, through $POOLD_SOCKET. */
	setenv("POOLD_SOCKET", d.sock, 1);
	ck_assert_int_eq(poold_connect(NULL, &c), POOLD_OK);
	unsetenv("POOLD_SOCKET");
	ck_assert_str_eq(poold_path(c), d.sock);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	poold_close(c);
	poold_close(NULL);
}
END_TEST

START_TEST(test_submit_result)
{
	poold_client	*c = connect_daemon();
	json_t		*r = NULL, *v;
	char		*fut;

	fut = submit(c, "echo", pack("[s]", "hi"), NULL);
	ck_assert_uint_eq(strlen(fut), 18);
	ck_assert_int_eq(strncmp(fut, "f-", 2), 0);
	ck_assert_uint_eq(strspn(fut + 2, "0123456789abcdef"), 16);
	ck_assert_int_eq(poold_result(c, fut, -1, &r), POOLD_OK);
	ck_assert_str_eq(json_string_value(r), "hi");
	json_decref(r);
	free(fut);

	/* Options go through; a value comes back whole. */
	v = pack("{s:[i, f, n, s], s:{}}", "a", 1, 2.5, "\xc3\xa9\\", "b");
	fut = submit(c, "echo", pack("[O]", v), pack("{s:s, s:i}",
	    "executor", "process", "priority", 3));
	ck_assert_int_eq(poold_result(c, fut, 10, &r), POOLD_OK);
	ck_assert(json_equal(r, v));
	json_decref(r);
	json_decref(v);
	free(fut);

	/* A NUL inside a string survives the round trip. */
	v = json_stringn("a\0b", 3);
	fut = submit(c, "echo", pack("[O]", v), NULL);
	ck_assert_int_eq(poold_result(c, fut, -1, &r), POOLD_OK);
	ck_assert(json_equal(r, v));
	json_decref(r);
	json_decref(v);
	free(fut);

	/* Mistakes the library catches itself leave the connection be. */
	v = pack("{s:s}", "fn", "echo");
	ck_assert_int_eq(poold_submit(c, "echo", NULL, v, &fut),
	    POOLD_ERR_USAGE);
	ck_assert_ptr_null(fut);
	json_decref(v);
	v = json_object();
	ck_assert_int_eq(poold_submit(c, "echo", v, NULL, &fut),
	    POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_submit(c, NULL, NULL, NULL, &fut),
	    POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_result(c, NULL, -1, &r), POOLD_ERR_USAGE);
	ck_assert_int_eq(poold_call(c, "hello", v, -1, &r), POOLD_OK);
	json_decref(r);
	json_decref(v);
	v = json_array();
	ck_assert_int_eq(poold_call(c, "hello", v, -1, &r), POOLD_ERR_USAGE);
	json_decref(v);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	poold_close(c);
}
END_TEST

START_TEST(test_failed_task)
{
	poold_client	*c = connect_daemon();
	json_t		*r = (json_t *)&r, *data;
	char		*fut;

	fut = submit(c, "exec", pack("[s]", "/nonexistent/program"), NULL);
	ck_assert_int_eq(poold_result(c, fut, -1, &r), POOLD_ERR_RPC);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(poold_error_code(c), POOLD_E_TASK_FAILED);
	data = poold_error_data(c);
	ck_assert_str_eq(json_string_value(json_object_get(data, "type")),
	    "ExecError");
	ck_assert_int_eq(json_integer_value(json_object_get(data, "errno")),
	    ENOENT);
	free(fut);

	if (has_plugin()) {
		fut = submit(c, "fail", pack("[s]", "boom"), NULL);
		ck_assert_int_eq(poold_result(c, fut, -1, NULL), POOLD_ERR_RPC);
		ck_assert_int_eq(poold_error_code(c), POOLD_E_TASK_FAILED);
		data = poold_error_data(c);
		ck_assert_str_eq(json_string_value(json_object_get(data,
		    "type")), "TaskError");
		ck_assert_str_eq(json_string_value(json_object_get(data,
		    "message")), "boom");
		free(fut);
	}

	/* Errors at the call itself. */
	ck_assert_int_eq(poold_submit(c, "no-such-fn", NULL, NULL, &fut),
	    POOLD_ERR_RPC);
	ck_assert_int_eq(poold_error_code(c), POOLD_E_UNKNOWN_FUNCTION);
	ck_assert_str_eq(json_string_value(json_object_get(
	    poold_error_data(c), "fn")), "no-such-fn");
	ck_assert_int_eq(poold_call(c, "no.such.method", NULL, DEADLINE_MS,
	    NULL), POOLD_ERR_RPC);
	ck_assert_int_eq(poold_error_code(c), POOLD_E_METHOD_NOT_FOUND);
	ck_assert_int_eq(poold_error_errno(c), 0);
	/* An RPC error leaves the connection as good as ever. */
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	poold_close(c);
}
END_TEST

#define PIPELINED	2000

/* A scrambled order of 0..PIPELINED-1 (7919 is prime, so a bijection). */
static size_t
scrambled(size_t i)
{
	return (i * 7919) % PIPELINED;
}

START_TEST(test_pipelined)
{
	poold_client	*c = connect_daemon();
	uint64_t	*ids = calloc(PIPELINED, sizeof *ids);
	char		**futs = calloc(PIPELINED, sizeof *futs);
	json_t		*r = NULL;
	uint64_t	 slow, status;
	char		*forever;
	size_t		 i, k;

	ck_assert_ptr_nonnull(ids);
	ck_assert_ptr_nonnull(futs);
	forever = submit_forever(c);
	/* The slow one first: a result that waits... */
	ck_assert_int_eq(send_p(c, "result", pack("{s:s}", "future",
	    forever), &slow), POOLD_OK);
	/* ...then many that do not, all in flight at once. */
	for (i = 0; i < PIPELINED; i++)
		ck_assert_int_eq(send_p(c, "submit", pack("{s:s, s:[i]}",
		    "fn", "echo", "args", (int)i), &ids[i]), POOLD_OK);
	for (k = 0; k < PIPELINED; k++) {
		i = scrambled(k);
		ck_assert_int_eq(poold_response(c, ids[i], DEADLINE_MS, &r),
		    POOLD_OK);
		futs[i] = strdup(json_string_value(json_object_get(r,
		    "future")));
		json_decref(r);
	}
	for (i = 0; i < PIPELINED; i++)
		ck_assert_int_eq(send_p(c, "result", pack("{s:s}",
		    "future", futs[i]), &ids[i]), POOLD_OK);
	ck_assert_int_eq(send_p(c, "status", pack("{s:s}", "future",
	    forever), &status), POOLD_OK);
	/* The last sent is answered while the first still waits. */
	ck_assert_int_eq(poold_response(c, status, DEADLINE_MS, &r), POOLD_OK);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "state")),
	    "running") == 0 || strcmp(json_string_value(json_object_get(r,
	    "state")), "pending") == 0, "state %s",
	    json_string_value(json_object_get(r, "state")));
	json_decref(r);
	for (k = PIPELINED; k-- > 0;) {
		ck_assert_int_eq(poold_response(c, ids[k], DEADLINE_MS, &r),
		    POOLD_OK);
		ck_assert_int_eq(json_integer_value(r), (json_int_t)k);
		json_decref(r);
		free(futs[k]);
	}
	ck_assert_int_eq(poold_take_response(c, slow, NULL), POOLD_ERR_AGAIN);
	cancel_force(c, forever);
	ck_assert_int_eq(poold_response(c, slow, DEADLINE_MS, NULL),
	    POOLD_ERR_RPC);
	ck_assert_int_eq(poold_error_code(c), POOLD_E_CANCELLED);
	free(forever);
	free(futs);
	free(ids);
	poold_close(c);
}
END_TEST

START_TEST(test_client_timeout)
{
	poold_client	*c = connect_daemon();
	long long	 start;
	uint64_t	 id;
	char		*forever = submit_forever(c);

	ck_assert_int_eq(send_p(c, "result", pack("{s:s}", "future",
	    forever), &id), POOLD_OK);
	start = now_ms();
	ck_assert_int_eq(poold_response(c, id, 100, NULL), POOLD_ERR_TIMEOUT);
	ck_assert_int_ge(now_ms() - start, 100);
	ck_assert_int_eq(poold_take_response(c, id, NULL), POOLD_ERR_AGAIN);
	/* A blocking call that gives up leaves nothing behind... */
	ck_assert_int_eq(call_p(c, "result", pack("{s:s}", "future",
	    forever), 0, NULL), POOLD_ERR_TIMEOUT);
	/* ...and the answer to the first still comes. */
	cancel_force(c, forever);
	ck_assert_int_eq(poold_response(c, id, DEADLINE_MS, NULL),
	    POOLD_ERR_RPC);
	ck_assert_int_eq(poold_error_code(c), POOLD_E_CANCELLED);
	/* The abandoned one's answer came too, and was dropped quietly. */
	ck_assert_int_eq(poold_result(c, forever, -1, NULL), POOLD_ERR_RPC);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	free(forever);
	poold_close(c);
}
END_TEST

START_TEST(test_notify_map_stream)
{
	poold_client	*c = connect_daemon();
	json_t		*seen = json_array(), *r = NULL, *n, *p;
	uint64_t	 id;
	size_t		 i;

	poold_set_notify_handler(c, collect, seen);
	ck_assert_int_eq(send_p(c, "map", pack("{s:s, s:[i,i,i,i,i], s:b}",
	    "fn", "echo", "iterable", 10, 11, 12, 13, 14, "stream", 1), &id),
	    POOLD_OK);
	ck_assert_int_eq(poold_response(c, id, DEADLINE_MS, &r), POOLD_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "items")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "failed")), 0);
	json_decref(r);
	ck_assert_uint_eq(json_array_size(seen), 5);
	json_array_foreach(seen, i, n) {
		ck_assert_str_eq(json_string_value(json_object_get(n,
		    "method")), "map.item");
		p = json_object_get(n, "params");
		ck_assert_int_eq(json_integer_value(json_object_get(p,
		    "request")), (json_int_t)id);
		ck_assert_int_eq(json_integer_value(json_object_get(p,
		    "index")), (json_int_t)i);
		ck_assert_int_eq(json_integer_value(json_object_get(p,
		    "result")), 10 + (json_int_t)i);
	}
	json_decref(seen);
	poold_close(c);
}
END_TEST

START_TEST(test_notify_submit)
{
	poold_client	*c = connect_daemon();
	json_t		*seen = json_array(), *fo;
	long long	 deadline = now_ms() + DEADLINE_MS;
	char		*fut;

	poold_set_notify_handler(c, collect, seen);
	fut = submit(c, "echo", pack("[s]", "x"), pack("{s:b}", "notify", 1));
	while (json_array_size(seen) == 0)
		ck_assert_int_eq(poold_poll(c, left_ms(deadline)), POOLD_OK);
	ck_assert_uint_eq(json_array_size(seen), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    seen, 0), "method")), "future.done");
	fo = json_object_get(json_object_get(json_array_get(seen, 0),
	    "params"), "future");
	ck_assert_str_eq(json_string_value(json_object_get(fo, "future")),
	    fut);
	ck_assert_str_eq(json_string_value(json_object_get(fo, "state")),
	    "finished");
	ck_assert_str_eq(json_string_value(json_object_get(fo, "result")),
	    "x");
	free(fut);

	/* Without a handler, notifications are dropped: this one comes
	 * before the answer to the hello sent after its future is done. */
	poold_set_notify_handler(c, NULL, NULL);
	fut = submit(c, "echo", pack("[s]", "y"), pack("{s:b}", "notify", 1));
	ck_assert_int_eq(poold_result(c, fut, -1, NULL), POOLD_OK);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	poold_set_notify_handler(c, collect, seen);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_OK);
	ck_assert_uint_eq(json_array_size(seen), 1);
	free(fut);
	json_decref(seen);
	poold_close(c);
}
END_TEST

#define LOOP_SMALL	50

/* Drive c from this test's own poll() until every id is answered;
 * results[i] gets the answer to ids[i]. */
static void
own_loop(poold_client *c, const uint64_t *ids, json_t **results, size_t n)
{
	long long	deadline = now_ms() + DEADLINE_MS;
	struct pollfd	pfd;
	poold_status	st;
	size_t		i, left = n;

	while (left > 0) {
		pfd.fd = poold_fd(c);
		pfd.events = POLLIN | (poold_want_write(c) ? POLLOUT : 0);
		pfd.revents = 0;
		ck_assert_int_ge(poll(&pfd, 1, left_ms(deadline)), 0);
		ck_assert_msg(now_ms() < deadline, "no answers in time");
		ck_assert_int_eq(poold_dispatch(c), POOLD_OK);
		for (i = 0; i < n; i++) {
			if (results[i] != NULL)
				continue;
			st = poold_take_response(c, ids[i], &results[i]);
			if (st == POOLD_ERR_AGAIN)
				continue;
			ck_assert_msg(st == POOLD_OK, "%s",
			    poold_error_message(c));
			left--;
		}
	}
}

START_TEST(test_event_loop)
{
	poold_client	*c = connect_daemon();
	size_t		 big = 4 * 1024 * 1024, i;
	uint64_t	 ids[LOOP_SMALL + 1];
	json_t		*results[LOOP_SMALL + 1] = { NULL }, *bigstr;
	char		*s;

	ck_assert_ptr_nonnull(s = malloc(big + 1));
	for (i = 0; i < big; i++)
		s[i] = (char)('a' + i % 26);
	s[big] = '\0';
	bigstr = json_string(s);
	free(s);
	/* With the daemon stopped, the socket takes only part of a large
	 * request: the rest waits for the loop. */
	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	ck_assert_int_eq(send_p(c, "submit", pack("{s:s, s:[O]}", "fn",
	    "echo", "args", bigstr), &ids[0]), POOLD_OK);
	ck_assert(poold_want_write(c));
	for (i = 1; i <= LOOP_SMALL; i++)
		ck_assert_int_eq(send_p(c, "submit", pack("{s:s, s:[i]}",
		    "fn", "echo", "args", (int)i), &ids[i]), POOLD_OK);
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
	own_loop(c, ids, results, LOOP_SMALL + 1);
	ck_assert(!poold_want_write(c));

	/* Each future's result, the large one read back whole. */
	for (i = 0; i <= LOOP_SMALL; i++) {
		ck_assert_int_eq(send_p(c, "result", pack("{s:O}",
		    "future", json_object_get(results[i], "future")), &ids[i]),
		    POOLD_OK);
		json_decref(results[i]);
		results[i] = NULL;
	}
	own_loop(c, ids, results, LOOP_SMALL + 1);
	ck_assert(json_equal(results[0], bigstr));
	for (i = 1; i <= LOOP_SMALL; i++)
		ck_assert_int_eq(json_integer_value(results[i]), (json_int_t)i);
	for (i = 0; i <= LOOP_SMALL; i++)
		json_decref(results[i]);
	json_decref(bigstr);
	poold_close(c);
}
END_TEST

START_TEST(test_daemon_closes)
{
	poold_client	*c = connect_daemon();
	json_t		*r = NULL;
	int		 status;

	ck_assert_int_eq(call_p(c, "shutdown", pack("{s:b}", "wait", 0),
	    DEADLINE_MS, &r), POOLD_OK);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	ck_assert_int_eq(poold_poll(c, DEADLINE_MS), POOLD_ERR_CLOSED);
	ck_assert_uint_gt(strlen(poold_error_message(c)), 0);
	ck_assert_int_eq(poold_call(c, "hello", NULL, DEADLINE_MS, NULL),
	    POOLD_ERR_CLOSED);
	ck_assert_int_eq(poold_send(c, "hello", NULL, NULL), POOLD_ERR_CLOSED);
	ck_assert_int_eq(poold_dispatch(c), POOLD_ERR_CLOSED);
	ck_assert(!poold_want_write(c));
	poold_close(c);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *
client_suite(void)
{
	Suite	*s = suite_create("client");
	TCase	*tc;

	tc = tcase_create("Connecting and the default socket");
	tcase_add_test(tc, test_connect_missing);
	tcase_add_test(tc, test_connect_too_long);
	tcase_add_test(tc, test_default_socket);
	tcase_add_test(tc, test_strstatus);
	suite_add_tcase(s, tc);

	tc = tcase_create("A server that breaks the protocol");
	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_add_test(tc, test_fake_request_lines);
	tcase_add_test(tc, test_fake_garbage);
	tcase_add_test(tc, test_fake_unknown_id);
	tcase_add_loop_test(tc, test_fake_bad_line, 0,
	    (int)(sizeof bad_lines / sizeof bad_lines[0]));
	tcase_add_test(tc, test_fake_twice_answered);
	tcase_add_test(tc, test_fake_null_id_error);
	tcase_add_test(tc, test_fake_framing);
	tcase_add_test(tc, test_fake_line_cap);
	tcase_add_test(tc, test_fake_line_cap_complete);
	tcase_add_test(tc, test_fake_default_cap);
	tcase_add_test(tc, test_fake_closed);
	tcase_add_test(tc, test_fake_sigpipe);
	tcase_add_test(tc, test_fake_last_words);
	tcase_add_test(tc, test_fake_abandoned);
	tcase_add_test(tc, test_fake_timeout_then_answer);
	suite_add_tcase(s, tc);

	tc = tcase_create("A real poold");
	tcase_add_checked_fixture(tc, daemon_start, daemon_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_submit_result);
	tcase_add_test(tc, test_failed_task);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_client_timeout);
	tcase_add_test(tc, test_notify_map_stream);
	tcase_add_test(tc, test_notify_submit);
	tcase_add_test(tc, test_event_loop);
	tcase_add_test(tc, test_daemon_closes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	SRunner		*sr;
	int		 failed;

	if (getenv("POOLD") == NULL || *getenv("POOLD") == '\0') {
		fprintf(stderr, "POOLD is not set: skipped\n");
		return 77;
	}
	snprintf(topdir, sizeof topdir, "%s/check_client.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(topdir) == NULL) {
		perror(topdir);
		return 99;
	}
	sr = srunner_create(client_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(topdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

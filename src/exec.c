/*
 * What both exec drivers share. A program is spawned into its own process
 * group, with default signal dispositions, an empty mask and only fds 0, 1
 * and 2; its output pipes are non-blocking on poold's side and read as
 * they fill, so neither stream can block the other.
 *
 * A program that runs as poold's own user is spawned with posix_spawn
 * (vfork-fast in glibc). One that runs as another user cannot be:
 * posix_spawn has no way to change credentials. It is forked, and the
 * child takes the user's credentials, goes to its home and the task's cwd,
 * and looks the program up on PATH by trying each candidate with execve,
 * all with the user's rights; why it could not start comes back on a pipe
 * that the exec closes. The fork is made here, not by a helper program,
 * so nothing has to be installed beside poold or found at run time, and
 * the child calls only async-signal-safe functions until the exec.
 */
#include "autoconf.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "exec.h"
#include "future.h"
#include "ident.h"
#include "log.h"
#include "xmalloc.h"

extern char **environ;

static const char *const exec_kwargs[] = {
	"stdin", "cwd", "env", "check", NULL
};

static int
exec_bad(const char **param, char **why, const char *name, const char *text)
{
	*param = name;
	*why = xstrdup(text);
	return -1;
}

/* A JSON string usable as a C string: no NUL inside. */
static int
exec_cstring(json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) ==
	    json_string_length(s);
}

static int
exec_parse_argv(json_t *args, struct exec_spec *spec, const char **param,
    char **why)
{
	json_t	*arg;
	size_t	 i;

	if (json_array_size(args) == 0)
		return exec_bad(param, why, "args",
		    "exec takes [program, arg...]: at least the program");
	json_array_foreach(args, i, arg) {
		if (!exec_cstring(arg))
			return exec_bad(param, why, "args", "exec's arguments "
			    "must be strings without NUL characters");
	}
	spec->argv = xcalloc(json_array_size(args) + 1, sizeof *spec->argv);
	json_array_foreach(args, i, arg)
		spec->argv[i] = xstrdup(json_string_value(arg));
	return 0;
}

/* Variables by which systemd speaks to poold itself, never to a task. */
static int
exec_env_private(const char *e, size_t klen)
{
	static const char *const names[] = { "NOTIFY_SOCKET", "WATCHDOG_PID",
		"WATCHDOG_USEC", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
		NULL };
	int	i;

	for (i = 0; names[i] != NULL; i++) {
		if (strlen(names[i]) == klen && strncmp(e, names[i], klen) == 0)
			return 1;
	}
	return 0;
}

/* The base environment (poold's, or a user's clean one) with the task's
 * changes. */
static int
exec_parse_env(json_t *env, char **base, struct exec_spec *spec,
    const char **param, char **why)
{
	const char	*key;
	json_t		*value;
	size_t		 n = 0, klen;
	char		**e;

	if (env != NULL && !json_is_object(env))
		return exec_bad(param, why, "kwargs",
		    "env must be an object of strings");
	json_object_foreach(env, key, value) {
		if (*key == '\0' || strchr(key, '=') != NULL ||
		    (!json_is_null(value) && !exec_cstring(value)))
			return exec_bad(param, why, "kwargs", "env must map "
			    "names without '=' to strings or null");
	}
	for (e = base; *e != NULL; e++)
		n++;
	spec->envp = xcalloc(n + json_object_size(env) + 1,
	    sizeof *spec->envp);
	n = 0;
	for (e = base; *e != NULL; e++) {
		klen = strcspn(*e, "=");
		if (json_object_getn(env, *e, klen) == NULL &&
		    !exec_env_private(*e, klen))
			spec->envp[n++] = xstrdup(*e);
	}
	json_object_foreach(env, key, value) {
		if (json_is_string(value))
			xasprintf(&spec->envp[n++], "%s=%s", key,
			    json_string_value(value));
	}
	return 0;
}

static int
exec_parse_stdin(json_t *in, struct exec_spec *spec, const char **param,
    char **why)
{
	json_t	*b64 = json_object_get(in, "base64");

	if (in == NULL)
		return 0;
	if (json_is_string(in)) {
		spec->input_len = json_string_length(in);
		spec->input = xmalloc(spec->input_len + 1);
		memcpy(spec->input, json_string_value(in), spec->input_len);
		return 0;
	}
	if (json_is_object(in) && json_object_size(in) == 1 &&
	    json_is_string(b64) && base64_decode(json_string_value(b64),
	    json_string_length(b64), &spec->input, &spec->input_len) == 0)
		return 0;
	return exec_bad(param, why, "kwargs",
	    "stdin must be a string or {\"base64\": \"...\"}");
}

/*
 * Read an exec call, to run as ident (NULL: as poold is, in poold's
 * environment); on error, the parameter and why.
 */
int
exec_spec_parse(json_t *args, json_t *kwargs, size_t max_output,
    const struct ident *ident, struct exec_spec *spec, const char **param,
    char **why)
{
	const char	*key;
	json_t		*value, *cwd, *check;
	size_t		 i;

	memset(spec, 0, sizeof *spec);
	spec->max_output = max_output;
	spec->ident = ident;
	json_object_foreach(kwargs, key, value) {
		for (i = 0; exec_kwargs[i] != NULL; i++) {
			if (strcmp(exec_kwargs[i], key) == 0)
				break;
		}
		if (exec_kwargs[i] == NULL)
			return exec_bad(param, why, "kwargs", "exec takes the "
			    "keyword arguments stdin, cwd, env and check");
	}
	cwd = json_object_get(kwargs, "cwd");
	check = json_object_get(kwargs, "check");
	if (cwd != NULL && !exec_cstring(cwd))
		return exec_bad(param, why, "kwargs",
		    "cwd must be a string without NUL characters");
	if (check != NULL && !json_is_boolean(check))
		return exec_bad(param, why, "kwargs", "check must be a boolean");
	if (exec_parse_argv(args, spec, param, why) == -1 ||
	    exec_parse_env(json_object_get(kwargs, "env"), ident != NULL ?
	    ident->env : environ, spec, param, why) == -1 ||
	    exec_parse_stdin(json_object_get(kwargs, "stdin"), spec, param,
	    why) == -1) {
		exec_spec_free(spec);
		return -1;
	}
	spec->cwd = cwd != NULL ? xstrdup(json_string_value(cwd)) : NULL;
	spec->check = json_is_true(check);
	return 0;
}

/* The check at submit: the same reading, thrown away. */
int
exec_check(json_t *args, json_t *kwargs, const char **param, char **why)
{
	struct exec_spec	spec;

	if (exec_spec_parse(args, kwargs, 0, NULL, &spec, param, why) == -1)
		return -1;
	exec_spec_free(&spec);
	return 0;
}

void
exec_spec_free(struct exec_spec *spec)
{
	char	**p;

	for (p = spec->argv; p != NULL && *p != NULL; p++)
		free(*p);
	for (p = spec->envp; p != NULL && *p != NULL; p++)
		free(*p);
	free(spec->argv);
	free(spec->envp);
	free(spec->cwd);
	free(spec->input);
	memset(spec, 0, sizeof *spec);
}

static const char *
exec_env_get(char **envp, const char *name)
{
	size_t	len = strlen(name);

	for (; *envp != NULL; envp++) {
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

/*
 * Find the program on PATH, as the task's environment sets it. Returns a
 * path to free, or NULL with errno: EACCES if one was found but none could
 * be run, else ENOENT.
 */
static char *
exec_lookup(const struct exec_spec *spec)
{
	const char	*path, *p, *end;
	char		*candidate;
	int		 denied = 0;

	if (strchr(spec->argv[0], '/') != NULL)
		return xstrdup(spec->argv[0]);
	if ((path = exec_env_get(spec->envp, "PATH")) == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		xasprintf(&candidate, "%.*s/%s", end == p ? 1 : (int)(end - p),
		    end == p ? "." : p, spec->argv[0]);
		if (access(candidate, X_OK) == 0)
			return candidate;
		if (errno == EACCES)
			denied = 1;
		free(candidate);
		if (*end == '\0')
			break;
	}
	errno = denied ? EACCES : ENOENT;
	return NULL;
}

static int
exec_pipes(int in[2], int out[2], int err[2], int want_input)
{
	in[0] = in[1] = out[0] = out[1] = err[0] = err[1] = -1;
	if ((want_input && pipe2(in, O_CLOEXEC) == -1) ||
	    pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1)
		return -1;
	/* poold's ends never block: the loop must not wait on a program. */
	if ((want_input && fcntl(in[1], F_SETFL, O_NONBLOCK) == -1) ||
	    fcntl(out[0], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(err[0], F_SETFL, O_NONBLOCK) == -1)
		return -1;
	return 0;
}

static void
exec_close_fds(int *fds, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int
exec_spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t	all, none;

	sigfillset(&all);
	sigemptyset(&none);
	if (posix_spawnattr_init(attr) != 0)
		return -1;
	if (posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0 ||
	    posix_spawnattr_setpgroup(attr, 0) != 0 ||
	    posix_spawnattr_setsigdefault(attr, &all) != 0 ||
	    posix_spawnattr_setsigmask(attr, &none) != 0) {
		posix_spawnattr_destroy(attr);
		return -1;
	}
	return 0;
}

static int
exec_spawn_actions(const struct exec_spec *spec,
    posix_spawn_file_actions_t *fa, int in, int out, int err)
{
	int	rc = posix_spawn_file_actions_init(fa);

	if (rc != 0)
		return rc;
	if (spec->cwd != NULL)
		rc = posix_spawn_file_actions_addchdir_np(fa, spec->cwd);
	if (rc == 0)
		rc = in != -1 ? posix_spawn_file_actions_adddup2(fa, in, 0) :
		    posix_spawn_file_actions_addopen(fa, 0, "/dev/null",
		    O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, out, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, err, 2);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	if (rc != 0)
		posix_spawn_file_actions_destroy(fa);
	return rc;
}

/*
 * Where execvp would look for the program, in its order: the program
 * itself if it names a path, else each directory of the task's PATH.
 */
static char **
exec_candidates(const struct exec_spec *spec)
{
	const char	*path, *p, *end;
	char		**list;
	size_t		 n = 1;

	if (strchr(spec->argv[0], '/') != NULL) {
		list = xcalloc(2, sizeof *list);
		list[0] = xstrdup(spec->argv[0]);
		return list;
	}
	if ((path = exec_env_get(spec->envp, "PATH")) == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p++)
		n += *p == ':';
	list = xcalloc(n + 1, sizeof *list);
	n = 0;
	for (p = path; ; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		xasprintf(&list[n++], "%.*s/%s", end == p ? 1 : (int)(end - p),
		    end == p ? "." : p, spec->argv[0]);
		if (*end == '\0')
			break;
	}
	return list;
}

static void
exec_free_list(char **list)
{
	char	**p;

	for (p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

/*
 * In the child of exec_spawn_as: become the user, go to its home and then
 * the task's cwd, and run the program found as execvp would find it (a
 * directory that denies the user makes EACCES, unless the program is
 * found further on). Never returns; why it failed goes to report.
 */
static void
exec_child(const struct exec_spec *spec, char *const *paths, int in, int out,
    int err, int report)
{
	struct sigaction	 sa;
	sigset_t		 none;
	const char		*what;
	int			 sig, e, denied = 0, i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	if (setpgid(0, 0) == -1 || ident_become(spec->ident, &what) == -1 ||
	    ident_enter_home(spec->ident) == -1 ||
	    (spec->cwd != NULL && chdir(spec->cwd) == -1))
		goto fail;
	if (in == -1 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1 ||
	    close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		goto fail;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		goto fail;
	for (i = 0; paths[i] != NULL; i++) {
		execve(paths[i], spec->argv, spec->envp);
		if (errno == EACCES)
			denied = 1;
		else if (errno != ENOENT && errno != ENOTDIR)
			break;
	}
	if (denied && (errno == ENOENT || errno == ENOTDIR))
		errno = EACCES;
fail:
	e = errno;
	if (write(report, &e, sizeof e) == -1)
		_exit(127);
	_exit(127);
}

/*
 * Fork the program as spec->ident; 0, or the errno that stopped it (the
 * child's, which it met with the user's rights).
 */
static int
exec_spawn_as(const struct exec_spec *spec, struct exec_proc *proc)
{
	int		 in[2], out[2], err[2], report[2] = { -1, -1 };
	int		 rc = 0, e = 0;
	char		**paths = exec_candidates(spec);
	sigset_t	 all, old;
	ssize_t		 n;
	pid_t		 pid;

	if (exec_pipes(in, out, err, spec->input != NULL) == -1 ||
	    pipe2(report, O_CLOEXEC) == -1) {
		rc = errno;
		goto done;
	}
	/* No handler of poold's may run in the child. */
	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatal("pthread_sigmask");
	if ((pid = fork()) == 0)
		exec_child(spec, paths, in[0], out[1], err[1], report[1]);
	e = errno;
	if ((errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatal("pthread_sigmask");
	if (pid == -1) {
		rc = e;
		goto done;
	}
	exec_close_fds(&report[1], 1);
	while ((n = read(report[0], &e, sizeof e)) == -1 && errno == EINTR)
		;
	if (n != 0) {
		/* It could not start (or said something odd: it dies). */
		if (n != (ssize_t)sizeof e) {
			kill(pid, SIGKILL);
			e = EIO;
		}
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		rc = e != 0 ? e : EIO;
	} else
		proc->pid = pid;
done:
	exec_close_fds(report, 2);
	exec_close_fds(&in[0], 1);
	exec_close_fds(&out[1], 1);
	exec_close_fds(&err[1], 1);
	if (rc != 0) {
		exec_close_fds(&in[1], 1);
		exec_close_fds(&out[0], 1);
		exec_close_fds(&err[0], 1);
	} else {
		proc->in_fd = in[1];
		proc->out_fd = out[0];
		proc->err_fd = err[0];
	}
	exec_free_list(paths);
	return rc;
}

/* Start the program; 0, or an errno value (the spawn's own error). */
int
exec_spawn(const struct exec_spec *spec, struct exec_proc *proc)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	int				 in[2], out[2], err[2], rc;
	char				*path;

	memset(proc, 0, sizeof *proc);
	proc->in_fd = proc->out_fd = proc->err_fd = -1;
	proc->max_output = spec->max_output;
	if (spec->ident != NULL)
		return exec_spawn_as(spec, proc);
	if ((path = exec_lookup(spec)) == NULL)
		return errno;
	if (exec_pipes(in, out, err, spec->input != NULL) == -1) {
		rc = errno;
		exec_close_fds(in, 2);
		exec_close_fds(out, 2);
		exec_close_fds(err, 2);
		free(path);
		return rc;
	}
	if (exec_spawn_attr(&attr) == -1)
		rc = ENOMEM;
	else {
		rc = exec_spawn_actions(spec, &fa, in[0], out[1], err[1]);
		if (rc == 0) {
			rc = posix_spawn(&proc->pid, path, &fa, &attr,
			    spec->argv, spec->envp);
			posix_spawn_file_actions_destroy(&fa);
		}
		posix_spawnattr_destroy(&attr);
	}
	free(path);
	exec_close_fds(&in[0], 1);
	exec_close_fds(&out[1], 1);
	exec_close_fds(&err[1], 1);
	if (rc != 0) {
		exec_close_fds(&in[1], 1);
		exec_close_fds(&out[0], 1);
		exec_close_fds(&err[0], 1);
		return rc;
	}
	proc->in_fd = in[1];
	proc->out_fd = out[0];
	proc->err_fd = err[0];
	return 0;
}

static void
exec_keep(struct exec_stream *s, const unsigned char *data, size_t n,
    size_t max)
{
	size_t	room = s->len < max ? max - s->len : 0;

	if (room > n)
		room = n;
	if (room > 0) {
		s->buf = xreallocarray(s->buf, s->len + room, 1);
		memcpy(s->buf + s->len, data, room);
		s->len += room;
	}
	s->total += n;
}

/*
 * Read what fd has. Returns 1 if more may come, 0 at its end (the fd is
 * closed), -1 if nothing is there now.
 */
int
exec_read(struct exec_proc *proc, int fd)
{
	struct exec_stream	*s = fd == proc->out_fd ? &proc->out : &proc->err;
	int			*slot = fd == proc->out_fd ? &proc->out_fd :
				    &proc->err_fd;
	unsigned char		 buf[65536];
	ssize_t			 n;

	n = read(fd, buf, sizeof buf);
	if (n > 0) {
		exec_keep(s, buf, (size_t)n, proc->max_output);
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return -1;
	close(fd);
	*slot = -1;
	return 0;
}

/* Write more of stdin; the pipe is closed when all is written or refused. */
int
exec_write(struct exec_proc *proc, const struct exec_spec *spec)
{
	ssize_t	n;

	if (proc->in_fd == -1)
		return 0;
	n = write(proc->in_fd, spec->input + proc->in_off,
	    spec->input_len - proc->in_off);
	if (n > 0)
		proc->in_off += (size_t)n;
	else if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n == -1 || proc->in_off == spec->input_len) {
		close(proc->in_fd);
		proc->in_fd = -1;
		return 0;
	}
	return 1;
}

/*
 * The program has ended: take what its pipes hold now, then close them.
 * Bounded, because a process outside its group may still be writing.
 */
void
exec_drain(struct exec_proc *proc)
{
	int	i;

	for (i = 0; i < 256 && proc->out_fd != -1 &&
	    exec_read(proc, proc->out_fd) == 1; i++)
		;
	for (i = 0; i < 256 && proc->err_fd != -1 &&
	    exec_read(proc, proc->err_fd) == 1; i++)
		;
	exec_close(proc);
}

void
exec_close(struct exec_proc *proc)
{
	exec_close_fds(&proc->in_fd, 1);
	exec_close_fds(&proc->out_fd, 1);
	exec_close_fds(&proc->err_fd, 1);
}

/* A stream as JSON: a string if it is UTF-8, else {"base64": ...}. */
static json_t *
exec_stream_json(const struct exec_stream *s)
{
	json_t	*str;
	char	*b64;
	size_t	 len;

	if (s->len == 0)
		return json_string("");
	if ((str = json_stringn((const char *)s->buf, s->len)) != NULL)
		return str;
	b64 = base64_encode(s->buf, s->len, &len);
	str = json_pack("{s:s%}", "base64", b64, len);
	free(b64);
	return str;
}

/* The program's end, as a result; or, with check, as a ProcessError. */
void
exec_outcome(const struct exec_spec *spec, struct exec_proc *proc,
    int status, json_t **result, json_t **error)
{
	json_t	*o;
	int	 failed;

	o = json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:I, s:I}",
	    "exit_code", WIFEXITED(status) ?
	    json_integer(WEXITSTATUS(status)) : json_null(),
	    "signal", WIFSIGNALED(status) ?
	    json_integer(WTERMSIG(status)) : json_null(),
	    "stdout", exec_stream_json(&proc->out),
	    "stderr", exec_stream_json(&proc->err),
	    "stdout_truncated", proc->out.total > proc->out.len,
	    "stderr_truncated", proc->err.total > proc->err.len,
	    "stdout_bytes", (json_int_t)proc->out.total,
	    "stderr_bytes", (json_int_t)proc->err.total);
	free(proc->out.buf);
	free(proc->err.buf);
	proc->out.buf = proc->err.buf = NULL;
	failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	if (!spec->check || !failed) {
		*result = o;
		return;
	}
	*error = o;
	json_object_set_new(o, "type", json_string("ProcessError"));
	if (WIFEXITED(status))
		json_object_set_new(o, "message", json_sprintf("%s exited with "
		    "status %d", spec->argv[0], WEXITSTATUS(status)));
	else
		json_object_set_new(o, "message", json_sprintf("%s was killed "
		    "by signal %d", spec->argv[0], WTERMSIG(status)));
}

/* The ExecError of a program that could not start. */
json_t *
exec_spawn_error(const struct exec_spec *spec, int errnum)
{
	json_t	*e;

	e = future_error("ExecError", "cannot run %s%s%s: %s", spec->argv[0],
	    spec->cwd != NULL ? " in " : "", spec->cwd != NULL ? spec->cwd : "",
	    strerror(errnum));
	json_object_set_new(e, "errno", json_integer(errnum));
	return e;
}

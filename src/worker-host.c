/*
 * Hosted workers, poold's side (see worker-host.h): find the module and
 * the interpreter, see that one loads into the other, and make the
 * command line workers exec:
 *
 *   python3.X -S -c BOOT MODULE --parent PID ... (worker-program.c)
 *
 * -S: site is not imported as the program starts, while a worker of a
 * daemon run as root is still root, in poold's environment and working
 * directory; the python plugin runs it at its init, once the worker is its
 * owner's, as the embedded interpreter of poold-worker starts then. -c
 * puts the working directory in front of sys.path (before 3.11 no flag
 * keeps it out); the bootstrap takes it out before it imports anything.
 * PYTHON* variables of poold's environment apply, as they do to the
 * interpreter poold embeds.
 */
#include "autoconf.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "plugin.h"
#include "worker-host.h"
#include "worker-program.h"
#include "xmalloc.h"

#ifdef POOLD_WORKER_MODULE

/* How long the probe at start-up may take: a loaded machine is slow. */
#define WORKER_HOST_PROBE_SECONDS	20.0
/* What is kept of the probe's output: its last line is the reason. */
#define WORKER_HOST_OUTPUT		2048

/*
 * Load MODULE (argv[1]) by its path and call its run() with it and the
 * worker's arguments; with MODULE alone (the probe), load it and end. A
 * worker whose module does not load says so on its channel, as one whose
 * program cannot be run does. All in a function that takes its own name
 * away, so that __main__ is left as empty as an embedded interpreter's.
 */
static const char worker_host_boot[] =
    "def boot():\n"
    "    import sys\n"
    "    if sys.path[:1] == ['']:\n"
    "        del sys.path[0]\n"
    "    from importlib.machinery import ExtensionFileLoader, ModuleSpec\n"
    "    del globals()['boot']\n"
    "    path, argv = sys.argv[1], sys.argv[1:]\n"
    "    sys.argv = ['']\n"
    "    try:\n"
    "        loader = ExtensionFileLoader('_poold_worker', path)\n"
    "        spec = ModuleSpec('_poold_worker', loader, origin=path)\n"
    "        module = loader.create_module(spec)\n"
    "        loader.exec_module(module)\n"
    "        run = module.run\n"
    "    except Exception as e:\n"
    "        if len(argv) == 1:\n"
    "            raise\n"
    "        import json, os\n"
    "        why = 'cannot load %s: %s' % (path, e)\n"
    "        os.write(3, json.dumps({'fatal': why}).encode() + b'\\n')\n"
    "        os._exit(1)\n"
    "    if len(argv) > 1:\n"
    "        run(argv)\n"
    "boot()\n";

/*
 * The module beside poold's own executable (poold run from its build
 * tree), else where it is installed; malloc'd, or NULL after saying why.
 */
static char *
worker_host_find(void)
{
	char	*path;

	if ((path = worker_program_beside("_poold_worker.so",
	    POOLD_WORKER_MODULE, R_OK)) != NULL)
		return path;
	log_info("%s: %s; python workers do not run in %s",
	    POOLD_WORKER_MODULE, strerror(errno), POOLD_WORKER_PYTHON);
	return NULL;
}

/*
 * The probe's stdin from /dev/null, its stdout and stderr to fd out, and
 * nothing else open.
 */
static int
worker_host_actions(posix_spawn_file_actions_t *fa, int out)
{
	int	rc;

	if ((rc = posix_spawn_file_actions_init(fa)) != 0)
		return rc;
	rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY,
	    0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, out, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(fa, out, 2);
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	if (rc != 0)
		posix_spawn_file_actions_destroy(fa);
	return rc;
}

/* Every signal at its default and none blocked, as in a worker. */
static int
worker_host_attr(posix_spawnattr_t *attr)
{
	sigset_t	all, none;
	int		rc;

	sigfillset(&all);
	sigemptyset(&none);
	if ((rc = posix_spawnattr_init(attr)) != 0)
		return rc;
	if ((rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(attr, &all)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(attr, &none)) != 0)
		posix_spawnattr_destroy(attr);
	return rc;
}

/*
 * Start argv with its output to a pipe; its pid, and the pipe's end to
 * read in *fd, or -1 with errno.
 */
static pid_t
worker_host_spawn(char *const *argv, int *fd)
{
	posix_spawn_file_actions_t	fa;
	posix_spawnattr_t		attr;
	pid_t				pid = -1;
	int				pipefd[2], rc;

	if (pipe2(pipefd, O_CLOEXEC) == -1)
		return -1;
	if ((rc = worker_host_actions(&fa, pipefd[1])) == 0) {
		if ((rc = worker_host_attr(&attr)) == 0) {
			rc = posix_spawn(&pid, argv[0], &fa, &attr, argv,
			    environ);
			posix_spawnattr_destroy(&attr);
		}
		posix_spawn_file_actions_destroy(&fa);
	}
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		errno = rc;
		return -1;
	}
	*fd = pipefd[0];
	return pid;
}

/*
 * Read fd to its end, keeping the last bytes in out (len bytes, updated),
 * for at most seconds; -1 if that ran out or reading failed.
 */
static int
worker_host_drain(int fd, char *out, size_t *len, double seconds)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	double		deadline = clock_mono() + seconds, left;
	ssize_t		n;
	int		rc;

	for (;;) {
		if ((left = deadline - clock_mono()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return -1;
		if (rc == 0)
			continue;
		if (*len == WORKER_HOST_OUTPUT) {
			/* Keep the end: the last line says why. */
			memmove(out, out + WORKER_HOST_OUTPUT / 2,
			    WORKER_HOST_OUTPUT / 2);
			*len = WORKER_HOST_OUTPUT / 2;
		}
		n = read(fd, out + *len, WORKER_HOST_OUTPUT - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		*len += (size_t)n;
	}
}

/* The last non-empty line of out[0, len), in place; NULL if none. */
static char *
worker_host_last_line(char *out, size_t len)
{
	char	*line;

	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' ||
	    out[len - 1] == ' '))
		len--;
	if (len == 0)
		return NULL;
	out[len] = '\0';
	for (line = out + len; line > out && line[-1] != '\n'; line--)
		;
	return line;
}

/* Why a probe that ended with status failed; malloc'd. */
static char *
worker_host_failure(int status, char *out, size_t len)
{
	char	*line = worker_host_last_line(out, len), *why;

	if (WIFSIGNALED(status))
		xasprintf(&why, "killed by signal %d%s%s", WTERMSIG(status),
		    line != NULL ? ": " : "", line != NULL ? line : "");
	else if (line != NULL)
		why = xstrdup(line);
	else
		xasprintf(&why, "exit status %d", WEXITSTATUS(status));
	return why;
}

/*
 * Run the bootstrap with the module alone: 0 if it loads and the
 * interpreter ends well, else -1 and *why (malloc'd).
 */
static int
worker_host_probe(char *const *argv, char **why)
{
	char	out[WORKER_HOST_OUTPUT + 1];
	size_t	len = 0;
	pid_t	pid;
	int	fd, status, rc;

	if ((pid = worker_host_spawn(argv, &fd)) == -1) {
		xasprintf(why, "cannot run it: %s", strerror(errno));
		return -1;
	}
	rc = worker_host_drain(fd, out, &len, WORKER_HOST_PROBE_SECONDS);
	if (rc == -1) {
		if (errno == ETIMEDOUT)
			xasprintf(why, "no end within %.0f s",
			    WORKER_HOST_PROBE_SECONDS);
		else
			xasprintf(why, "reading its output: %s",
			    strerror(errno));
		if (kill(pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("kill %d", (int)pid);
	}
	close(fd);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			if (rc == 0)
				xasprintf(why, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (rc == -1)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	*why = worker_host_failure(status, out, len);
	return -1;
}

/*
 * The command line of hosted workers, when the python plugin is loaded
 * and python3 runs the module; NULL, said in the log, otherwise.
 */
char **
worker_host_argv(const struct worker_start *start)
{
	const char	*head[] = { POOLD_WORKER_PYTHON, "-S", "-c",
			    worker_host_boot, NULL, NULL };
	char		*module, *why = NULL, **argv;

	if (!plugin_loaded("python") || (module = worker_host_find()) == NULL)
		return NULL;
	head[4] = module;
	if (access(POOLD_WORKER_PYTHON, X_OK) == -1) {
		log_info("%s: %s; python workers do not run in it",
		    POOLD_WORKER_PYTHON, strerror(errno));
		free(module);
		return NULL;
	}
	if (worker_host_probe((char *const *)head, &why) == -1) {
		log_warnx("%s does not load %s: %s; python workers do not run "
		    "in it", POOLD_WORKER_PYTHON, module, why);
		free(why);
		free(module);
		return NULL;
	}
	log_info("workers run %s in %s", module, POOLD_WORKER_PYTHON);
	argv = worker_program_argv(head, start);
	free(module);
	return argv;
}

#else

/* Built without the module: workers never run hosted. */
char **
worker_host_argv(const struct worker_start *start)
{
	return NULL;
}

#endif

/*
 * The worker program, both sides: poold finds it and makes its command
 * line, a new worker execs it, and the program (worker-main.c) reads the
 * command line back and loads its plugins. The command line:
 *
 *   poold-worker --parent PID --max-result-bytes N --max-output-bytes N
 *                [--bound] [--plugin PATH]... [--setting KEY=VALUE]...
 *
 * --bound: the worker serves poold's own user from the start and runs
 * the plugins' initializers at once (otherwise it waits for its bind).
 * Plugins come in the order poold loaded them, each setting a plugin's
 * setup read in poold with its value then, so both load them alike.
 *
 * A hosted worker (worker-host.h) runs the same: python3 with its own
 * words first, then these, which its module hands to worker_program_main.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "plugin.h"
#include "worker.h"
#include "worker-program.h"
#include "xmalloc.h"

/* Room for the parent's pid, written in just before the exec. */
#define WORKER_PROGRAM_PID_LEN	24

/*
 * The worker program, when the loaded plugins want it (the python plugin
 * does) and it can be found: beside poold's own executable first (poold
 * run from its build tree), then where it is installed. NULL: workers
 * are forked as ever. The path is malloc'd.
 */
char *
worker_program_find(void)
{
#ifdef POOLD_WORKER_PROGRAM
	char	*path;

	if (!plugin_loaded("python"))
		return NULL;
	if ((path = worker_program_beside("poold-worker",
	    POOLD_WORKER_PROGRAM, X_OK)) != NULL)
		return path;
	log_info("%s: %s; python workers use the shared libpython",
	    POOLD_WORKER_PROGRAM, strerror(errno));
#endif
	return NULL;
}

/*
 * The file name beside poold's own executable (poold run from its build
 * tree), else installed, if access() allows mode; malloc'd, or NULL with
 * errno as the installed one's access() left it.
 */
char *
worker_program_beside(const char *name, const char *installed, int mode)
{
	char	 self[PATH_MAX], *slash, *path;
	ssize_t	 n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			xasprintf(&path, "%s/%s", self, name);
			if (access(path, mode) == 0)
				return path;
			free(path);
		}
	}
	if (access(installed, mode) == 0)
		return xstrdup(installed);
	return NULL;
}

static void
worker_program_add(char ***argv, size_t *argc, char *arg)
{
	*argv = xreallocarray(*argv, *argc + 2, sizeof **argv);
	(*argv)[(*argc)++] = arg;
	(*argv)[*argc] = NULL;
}

/*
 * The command line for start: the words of head (copied; the program to
 * run and what it needs before the worker's own arguments), then the
 * worker's. worker_program_free it.
 */
char **
worker_program_argv(const char *const *head, const struct worker_start *start)
{
	char		**argv = NULL, *arg;
	const char	 *key, *value;
	size_t		  argc = 0, i;

	for (i = 0; head[i] != NULL; i++)
		worker_program_add(&argv, &argc, xstrdup(head[i]));
	worker_program_add(&argv, &argc, xstrdup("--parent"));
	worker_program_add(&argv, &argc, xcalloc(1, WORKER_PROGRAM_PID_LEN));
	worker_program_add(&argv, &argc, xstrdup("--max-result-bytes"));
	xasprintf(&arg, "%ld", start->cfg->max_result_bytes);
	worker_program_add(&argv, &argc, arg);
	worker_program_add(&argv, &argc, xstrdup("--max-output-bytes"));
	xasprintf(&arg, "%ld", start->cfg->max_output_bytes);
	worker_program_add(&argv, &argc, arg);
	if (start->bound)
		worker_program_add(&argv, &argc, xstrdup("--bound"));
	for (i = 0; plugin_path(i) != NULL; i++) {
		worker_program_add(&argv, &argc, xstrdup("--plugin"));
		worker_program_add(&argv, &argc, xstrdup(plugin_path(i)));
	}
	for (i = 0; (key = plugin_setting_read(i, &value)) != NULL; i++) {
		worker_program_add(&argv, &argc, xstrdup("--setting"));
		xasprintf(&arg, "%s=%s", key, value);
		worker_program_add(&argv, &argc, arg);
	}
	return argv;
}

void
worker_program_free(char **argv)
{
	char	**arg;

	if (argv == NULL)
		return;
	for (arg = argv; *arg != NULL; arg++)
		free(*arg);
	free(argv);
}

/*
 * In a new worker, its channel and page in place: become the worker
 * program. Only the channel and the page lose close-on-exec. If the exec
 * fails, the worker says why, as any worker that cannot start.
 */
void
worker_program_exec(char **argv, pid_t parent)
{
	char	*why = NULL, **slot = argv;

	/* The pid's room follows the first --parent; no head word is one. */
	while (slot[0] != NULL && strcmp(slot[0], "--parent") != 0)
		slot++;
	if (slot[0] == NULL || slot[1] == NULL)
		_exit(127);
	snprintf(slot[1], WORKER_PROGRAM_PID_LEN, "%ld", (long)parent);
	if (fcntl(WORKER_PROGRAM_CHANNEL_FD, F_SETFD, 0) == -1 ||
	    fcntl(WORKER_PROGRAM_PAGE_FD, F_SETFD, 0) == -1)
		_exit(127);
	execv(argv[0], argv);
	xasprintf(&why, "cannot run %s: %s", argv[0], strerror(errno));
	worker_fatal(WORKER_PROGRAM_CHANNEL_FD, why);
}

/* A whole number in [min, max] from text; -1 if it is not one. */
static int
worker_program_number(const char *text, long min, long max, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || *out < min ||
	    *out > max)
		return -1;
	return 0;
}

/* Apply one --setting KEY=VALUE to cfg. */
static int
worker_program_setting(struct config *cfg, const char *arg, char **cause)
{
	const char	*eq = strchr(arg, '=');
	char		*key;
	int		 rc;

	if (eq == NULL || eq == arg) {
		xasprintf(cause, "--setting %s: not KEY=VALUE", arg);
		return -1;
	}
	key = xstrdup(arg);
	key[eq - arg] = '\0';
	rc = config_set(cfg, key, eq + 1, cause);
	free(key);
	return rc;
}

/* The option at argv[*i] and its value, if it takes one; -1 if bad. */
static int
worker_program_option(int argc, char **argv, int *i, const char **value,
    char **cause)
{
	*value = NULL;
	if (strcmp(argv[*i], "--bound") == 0)
		return 0;
	if (strcmp(argv[*i], "--parent") != 0 &&
	    strcmp(argv[*i], "--max-result-bytes") != 0 &&
	    strcmp(argv[*i], "--max-output-bytes") != 0 &&
	    strcmp(argv[*i], "--plugin") != 0 &&
	    strcmp(argv[*i], "--setting") != 0) {
		xasprintf(cause, "unknown argument '%s'", argv[*i]);
		return -1;
	}
	if (*i + 1 >= argc) {
		xasprintf(cause, "%s needs a value", argv[*i]);
		return -1;
	}
	*value = argv[++*i];
	return 0;
}

/* The command line into start, settings and the plugins' paths. */
static int
worker_program_parse(int argc, char **argv, struct worker_start *start,
    struct worker_config *wcfg, struct config *cfg, char **cause)
{
	const char	*value;
	long		 n;
	int		 i;

	for (i = 1; i < argc; i++) {
		if (worker_program_option(argc, argv, &i, &value, cause) == -1)
			return -1;
		if (value == NULL)
			start->bound = 1;
		else if (strcmp(argv[i - 1], "--plugin") == 0)
			cfg->plugins[cfg->nplugins++] = xstrdup(value);
		else if (strcmp(argv[i - 1], "--setting") == 0) {
			if (worker_program_setting(cfg, value, cause) == -1)
				return -1;
		} else if (worker_program_number(value, 0, LONG_MAX,
		    &n) == -1) {
			xasprintf(cause, "%s: not a whole number: '%s'",
			    argv[i - 1], value);
			return -1;
		} else if (strcmp(argv[i - 1], "--parent") == 0)
			start->parent = (pid_t)n;
		else if (strcmp(argv[i - 1], "--max-result-bytes") == 0)
			wcfg->max_result_bytes = n;
		else
			wcfg->max_output_bytes = n;
	}
	if (start->parent <= 0 || wcfg->max_result_bytes <= 0 ||
	    wcfg->max_output_bytes < 0) {
		xasprintf(cause, "--parent, --max-result-bytes and "
		    "--max-output-bytes are needed");
		return -1;
	}
	return 0;
}

/*
 * Every signal at its default, as in a forked worker. exec left none
 * caught, but a sanitizer's runtime catches some as the program starts,
 * and would make a task's deadly signal an exit of the worker's.
 */
static void
worker_program_signals(void)
{
	struct sigaction	sa;
	int			sig;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
}

/*
 * In the worker program: read the command line into start, die with the
 * parent from now on, map the shared page, and load the plugins. -1 and
 * *cause if it cannot be a worker.
 */
static int
worker_program_start(int argc, char **argv, struct worker_start *start,
    char **cause)
{
	static struct worker_config	 wcfg;
	static struct config		 cfg;
	void				*page;
	size_t				 i;

	worker_program_signals();
	memset(start, 0, sizeof *start);
	start->cfg = &wcfg;
	wcfg.max_result_bytes = wcfg.max_output_bytes = -1;
	config_defaults(&cfg);
	/* Room for every --plugin; config_set's plugin key is not used. */
	cfg.plugins = xcalloc((size_t)argc + 1, sizeof *cfg.plugins);
	if (worker_program_parse(argc, argv, start, &wcfg, &cfg, cause) == -1)
		return -1;
	/* The death signal survives the exec, but only of a plain program. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
	    getppid() != start->parent)
		_exit(1);
	page = mmap(NULL, sizeof *start->progress, PROT_READ | PROT_WRITE,
	    MAP_SHARED, WORKER_PROGRAM_PAGE_FD, 0);
	if (page == MAP_FAILED) {
		xasprintf(cause, "the shared page: %s", strerror(errno));
		return -1;
	}
	close(WORKER_PROGRAM_PAGE_FD);
	start->progress = page;
	plugin_worker();
	for (i = 0; i < cfg.nplugins; i++) {
		if (plugin_load(cfg.plugins[i], &cfg, cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * The worker program's life, from its command line (argv[0] is its name):
 * the worker on its channel, which ends the process. Its caller has
 * checked that the channel is there.
 */
void
worker_program_main(int argc, char **argv)
{
	struct worker_start	 start;
	char			*cause = NULL;

	/* poold has said what loading the plugins says. */
	log_init(LOG_LEVEL_WARN);
	json_object_seed(0);
	if (worker_program_start(argc, argv, &start, &cause) == -1)
		worker_fatal(WORKER_PROGRAM_CHANNEL_FD, cause);
	worker_main(WORKER_PROGRAM_CHANNEL_FD, &start);
	_exit(0);
}

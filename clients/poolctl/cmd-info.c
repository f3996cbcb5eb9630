/* hello, functions, stats and workers: what the daemon is and does. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "poolctl.h"

/* Call a method that takes no parameters and print its answer. */
static int
info_call(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv,
    void (*print)(struct ctl *, json_t *))
{
	json_t	*result;
	int	 rc;

	if ((rc = ctl_no_args(cmd, argc, argv)) != -1)
		return rc;
	if ((rc = ctl_call(ctl, cmd->name, NULL, -1, &result)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(result);
	else
		print(ctl, result);
	json_decref(result);
	return CTL_OK;
}

static void
info_print_hello(struct ctl *ctl, json_t *r)
{
	json_t	*ex = json_object_get(r, "executors"), *fn;
	size_t	 i;

	printf("%s %s (protocol %d), pid %d, on %s\n",
	    ctl_str(r, "name", "?"), ctl_str(r, "version", "?"),
	    (int)ctl_num(r, "protocol"), (int)ctl_num(r, "pid"),
	    poold_path(ctl->client));
	printf("executors: process %d workers, thread %d workers\n",
	    (int)ctl_num(json_object_get(ex, "process"), "workers"),
	    (int)ctl_num(json_object_get(ex, "thread"), "workers"));
	printf("functions:");
	json_array_foreach(json_object_get(r, "functions"), i, fn)
		printf("%s %s", i == 0 ? "" : ",",
		    json_is_string(fn) ? json_string_value(fn) : "?");
	putchar('\n');
}

static int
info_hello(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	return info_call(ctl, cmd, argc, argv, info_print_hello);
}

const struct ctl_cmd cmd_hello = {
	"hello", "", "Say who answers: poold's version, pid, pools, functions",
	NULL, info_hello
};

/* The executors a function may run on, its default first. */
static char *
info_executors(json_t *f)
{
	const char	*def = ctl_str(f, "default_executor", NULL);
	json_t		*e;
	size_t		 i;
	char		*out, *next;

	out = xstrdup(def != NULL ? def : "");
	json_array_foreach(json_object_get(f, "executors"), i, e) {
		if (!json_is_string(e) || (def != NULL &&
		    strcmp(json_string_value(e), def) == 0))
			continue;
		xasprintf(&next, "%s%s%s", out, out[0] != '\0' ? "," : "",
		    json_string_value(e));
		free(out);
		out = next;
	}
	return out;
}

static void
info_print_functions(struct ctl *ctl, json_t *r)
{
	struct ctl_table	*t;
	json_t			*f;
	char			*ex;
	size_t			 i;

	t = ctl_table_new(3, "NAME", "EXECUTORS", "DESCRIPTION");
	json_array_foreach(r, i, f) {
		ex = info_executors(f);
		ctl_table_add(t, ctl_str(f, "name", NULL), ex,
		    ctl_str(f, "doc", ""));
		free(ex);
	}
	ctl_table_print(t, stdout);
	ctl_table_free(t);
}

static int
info_functions(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	return info_call(ctl, cmd, argc, argv, info_print_functions);
}

const struct ctl_cmd cmd_functions = {
	"functions", "", "List the functions tasks can run",
	"The executors column starts with the function's default.\n",
	info_functions
};

static void
info_print_stats(struct ctl *ctl, json_t *r)
{
	json_t	*p = json_object_get(r, "process");
	json_t	*t = json_object_get(r, "thread");
	char	 up[32];

	printf("uptime       %s\n",
	    ctl_format_duration(ctl_num(r, "uptime"), up, sizeof up));
	printf("process      %.0f workers, %.0f busy, %.0f restarts\n",
	    ctl_num(p, "workers"), ctl_num(p, "busy"),
	    ctl_num(p, "restarts"));
	printf("thread       %.0f workers, %.0f busy\n",
	    ctl_num(t, "workers"), ctl_num(t, "busy"));
	printf("pending      %.0f\n", ctl_num(r, "pending"));
	printf("running      %.0f\n", ctl_num(r, "running"));
	printf("submitted    %.0f\n", ctl_num(r, "submitted"));
	printf("finished     %.0f\n", ctl_num(r, "finished"));
	printf("failed       %.0f\n", ctl_num(r, "failed"));
	printf("cancelled    %.0f\n", ctl_num(r, "cancelled"));
	if (json_object_get(r, "stored") != NULL)
		printf("stored       %.0f\n", ctl_num(r, "stored"));
	printf("connections  %.0f\n", ctl_num(r, "connections"));
}

static int
info_stats(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	return info_call(ctl, cmd, argc, argv, info_print_stats);
}

const struct ctl_cmd cmd_stats = {
	"stats", "", "Show the pools and the counts of tasks",
	"Counts are of tasks: each item of a map counts.\n", info_stats
};

/* The workers as a table; top shows it too. */
void
info_workers_table(json_t *r, FILE *out)
{
	struct ctl_table	*t;
	json_t			*w;
	char			 pid[32], tasks[32], rss[32], up[32];
	double			 now = (double)time(NULL);
	size_t			 i;

	t = ctl_table_new(6, "PID", "STATE", "TASKS", "RSS", "UP", "FUTURE");
	json_array_foreach(r, i, w) {
		snprintf(pid, sizeof pid, "%.0f", ctl_num(w, "pid"));
		snprintf(tasks, sizeof tasks, "%.0f", ctl_num(w, "tasks"));
		ctl_format_bytes(ctl_num(w, "rss"), rss, sizeof rss);
		ctl_format_duration(now - ctl_num(w, "started"), up,
		    sizeof up);
		ctl_table_add(t, pid, ctl_str(w, "state", NULL), tasks, rss,
		    up, ctl_str(w, "future", NULL));
	}
	ctl_table_print(t, out);
	ctl_table_free(t);
}

static void
info_print_workers(struct ctl *ctl, json_t *r)
{
	info_workers_table(r, stdout);
}

static int
info_workers(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	return info_call(ctl, cmd, argc, argv, info_print_workers);
}

const struct ctl_cmd cmd_workers = {
	"workers", "", "List the process pool's workers",
	"STATE is starting, idle, busy or stopping; FUTURE is the task a busy\n"
	"worker runs.\n", info_workers
};

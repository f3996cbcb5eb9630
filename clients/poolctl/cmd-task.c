/*
 * Tasks and their futures: submit, run, status, result, exception, cancel,
 * wait, list and forget.
 */
#include "autoconf.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolctl.h"

#define TASK_HELP \
"  -e, --executor NAME     process or thread (default: the function's)\n" \
"  -t, --timeout SECONDS   fail the task with TimeoutError when it runs\n" \
"                          longer\n" \
"  -p, --priority N        higher runs first (default 0)\n" \
"  -r, --retries N         run again after WorkerCrashed or TimeoutError\n"

#define ARGS_HELP \
"  -k, --kwarg NAME=VALUE  a keyword argument; may repeat\n" \
"\n" \
"Options come before FN. Each ARG, and each VALUE, that parses as JSON is\n" \
"that value, else it is a string: 42 is a number, '\"42\"' and hello are\n" \
"strings.\n"

/*
 * Handle one of the options submit, run and exec share, into params.
 * 0 when handled, 1 when ch is not one of them, CTL_USAGE (reported)
 * when its value is bad.
 */
int
task_option(const struct ctl_cmd *cmd, int ch, const char *arg,
    json_t *params)
{
	double	secs;
	long	n;

	switch (ch) {
	case 'e':
		if (json_object_set_new(params, "executor",
		    json_string(arg)) == -1)
			return ctl_usage(cmd, "--executor: not UTF-8");
		return 0;
	case 't':
		if (ctl_parse_seconds(arg, &secs) == -1)
			return ctl_usage(cmd, "--timeout: not a number of "
			    "seconds: '%s'", arg);
		json_object_set_new(params, "timeout", json_real(secs));
		return 0;
	case 'p':
		if (ctl_parse_long(arg, INT_MIN, INT_MAX, &n) == -1)
			return ctl_usage(cmd, "--priority: not a whole number: "
			    "'%s'", arg);
		json_object_set_new(params, "priority", json_integer(n));
		return 0;
	case 'r':
		if (ctl_parse_long(arg, 0, INT_MAX, &n) == -1)
			return ctl_usage(cmd, "--retries: not a count: '%s'",
			    arg);
		json_object_set_new(params, "retries", json_integer(n));
		return 0;
	}
	return 1;
}

/*
 * Build submit's params from `[options] FN [ARG]...`. CTL_OK with *out
 * set, or the exit status (help printed, or a usage error reported).
 */
static int
task_submit_params(const struct ctl_cmd *cmd, int argc, char **argv,
    json_t **out)
{
	static const struct option	 longopts[] = {
		{ "executor", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' },
		{ "kwarg", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*params = json_object();
	json_t				*args = json_array(), *kwargs = NULL;
	json_t				*v;
	int				 ch, fn, rc = CTL_OK;

	while (rc == CTL_OK && (ch = ctl_getopt(cmd, argc, argv,
	    "+:e:t:p:r:k:h", longopts)) != -1) {
		if (ch == 'h') {
			ctl_help(cmd, stdout);
			rc = -1;
		} else if (ch == 'k') {
			if (kwargs == NULL)
				kwargs = json_object();
			if (ctl_parse_kwarg(optarg, kwargs) == -1)
				rc = ctl_usage(cmd, "--kwarg: not NAME=VALUE "
				    "in UTF-8: '%s'", optarg);
		} else if ((rc = task_option(cmd, ch, optarg, params)) == 1)
			rc = ctl_usage(cmd, NULL);
	}
	if (rc == CTL_OK && optind == argc)
		rc = ctl_usage(cmd, "no function named");
	if (rc == CTL_OK) {
		fn = optind;
		json_object_set_new(params, "fn", json_string(argv[fn]));
		while (rc == CTL_OK && ++optind < argc) {
			v = ctl_parse_value(argv[optind], strlen(argv[optind]));
			if (v == NULL)
				rc = ctl_usage(cmd, "argument %d is not UTF-8",
				    optind - fn);
			json_array_append_new(args, v);
		}
		json_object_set(params, "args", args);
		if (kwargs != NULL)
			json_object_set(params, "kwargs", kwargs);
	}
	json_decref(args);
	json_decref(kwargs);
	if (rc != CTL_OK) {
		json_decref(params);
		return rc == -1 ? CTL_OK : rc;
	}
	*out = params;
	return CTL_OK;
}

/* Submit; *future is the new id (the caller frees it). */
static int
task_submit_call(struct ctl *ctl, json_t *params, char **future,
    json_t **answer)
{
	json_t	*r;
	int	 rc;

	if ((rc = ctl_call(ctl, "submit", params, -1, &r)) != CTL_OK)
		return rc;
	if (!json_is_string(json_object_get(r, "future"))) {
		ctl_warnx("submit: poold answered without a future id");
		json_decref(r);
		return CTL_BROKEN;
	}
	*future = xstrdup(ctl_str(r, "future", ""));
	if (answer != NULL)
		*answer = r;
	else
		json_decref(r);
	return CTL_OK;
}

static int
task_submit(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	json_t	*params = NULL, *answer;
	char	*future;
	int	 rc;

	if ((rc = task_submit_params(cmd, argc, argv, &params)) != CTL_OK ||
	    params == NULL)
		return rc;
	if ((rc = task_submit_call(ctl, params, &future, &answer)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(answer);
	else
		printf("%s\n", future);
	json_decref(answer);
	free(future);
	return CTL_OK;
}

const struct ctl_cmd cmd_submit = {
	"submit", "[OPTION]... FN [ARG]...",
	"Submit a task and print its future id",
	TASK_HELP ARGS_HELP, task_submit
};

/* Wait for future's result (timeout < 0: without limit) and print it. */
static int
task_print_result(struct ctl *ctl, const char *future, double timeout)
{
	json_t	*r;
	int	 rc;

	rc = ctl_call(ctl, "result", timeout < 0 ?
	    json_pack("{s:s}", "future", future) :
	    json_pack("{s:s, s:f}", "future", future, "timeout", timeout),
	    ctl_timeout_ms(timeout), &r);
	if (rc != CTL_OK)
		return rc;
	ctl_print_result(ctl, r);
	json_decref(r);
	return CTL_OK;
}

static int
task_run(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	json_t	*params = NULL;
	char	*future;
	int	 rc;

	if ((rc = task_submit_params(cmd, argc, argv, &params)) != CTL_OK ||
	    params == NULL)
		return rc;
	if ((rc = task_submit_call(ctl, params, &future, NULL)) != CTL_OK)
		return rc;
	rc = task_print_result(ctl, future, -1);
	free(future);
	return rc;
}

const struct ctl_cmd cmd_run = {
	"run", "[OPTION]... FN [ARG]...",
	"Submit a task, wait for it and print its result",
	TASK_HELP ARGS_HELP
	"\nA string result prints as its text, any other as JSON (--json: all\n"
	"as JSON). A failed task prints TYPE: MESSAGE on stderr and exits 1\n"
	"(4 for TimeoutError).\n", task_run
};

/*
 * Parse `[--timeout SECONDS] FUTURE` (--timeout only when timeout is not
 * NULL): -1 to go on with the future at argv[optind], else the exit
 * status.
 */
static int
task_one_future(const struct ctl_cmd *cmd, int argc, char **argv,
    double *timeout)
{
	/* Without timeout, only the entries from the second on. */
	static const struct option	longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	while ((ch = ctl_getopt(cmd, argc, argv, timeout != NULL ? ":ht:" :
	    ":h", timeout != NULL ? longopts : longopts + 1)) != -1) {
		switch (ch) {
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		case 't':
			if (ctl_parse_seconds(optarg, timeout) == -1)
				return ctl_usage(cmd, "--timeout: not a number "
				    "of seconds: '%s'", optarg);
			break;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind == argc)
		return ctl_usage(cmd, "no future named");
	if (optind + 1 != argc)
		return ctl_usage(cmd, "one future at a time");
	return -1;
}

/* A future object, one field a line. */
static void
task_print_future(json_t *f)
{
	static const char *const	 times[] = { "submitted", "started",
					    "finished" };
	const char			*key;
	json_t				*v;
	char				 buf[64];
	size_t				 i;
	int				 is_time;

	json_object_foreach(f, key, v) {
		is_time = 0;
		for (i = 0; i < sizeof times / sizeof times[0]; i++)
			is_time |= strcmp(key, times[i]) == 0;
		printf("%-10s ", key);
		if (is_time && json_is_number(v))
			printf("%s\n", ctl_format_time(json_number_value(v),
			    buf, sizeof buf));
		else if (strcmp(key, "error") == 0 && json_is_object(v))
			ctl_print_error(stdout, NULL, v);
		else if (json_is_string(v) && strcmp(key, "result") != 0)
			printf("%s\n", json_string_value(v));
		else
			ctl_print_json(v);
	}
}

static int
task_status(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	json_t	*r;
	int	 rc;

	if ((rc = task_one_future(cmd, argc, argv, NULL)) != -1)
		return rc;
	if ((rc = ctl_call(ctl, "status", json_pack("{s:s}", "future",
	    argv[optind]), -1, &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		task_print_future(r);
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_status = {
	"status", "FUTURE", "Show a future's state, times and outcome",
	"Never waits. A string result shows as JSON here.\n", task_status
};

static int
task_result(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	double	timeout = -1;
	int	rc;

	if ((rc = task_one_future(cmd, argc, argv, &timeout)) != -1)
		return rc;
	return task_print_result(ctl, argv[optind], timeout);
}

const struct ctl_cmd cmd_result = {
	"result", "[--timeout SECONDS] FUTURE",
	"Wait for a future and print its result",
	"  -t, --timeout SECONDS   wait at most this long (default: without\n"
	"                          limit); exit 4 if it is not done by then\n"
	"\nA string result prints as its text, any other as JSON (--json: all\n"
	"as JSON). A failed task prints TYPE: MESSAGE on stderr and exits 1\n"
	"(4 for TimeoutError); a cancelled one exits 5.\n", task_result
};

static int
task_exception(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	double	 timeout = -1;
	json_t	*r, *params;
	int	 rc;

	if ((rc = task_one_future(cmd, argc, argv, &timeout)) != -1)
		return rc;
	params = json_pack("{s:s}", "future", argv[optind]);
	if (timeout >= 0)
		json_object_set_new(params, "timeout", json_real(timeout));
	if ((rc = ctl_call(ctl, "exception", params, ctl_timeout_ms(timeout),
	    &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else if (json_is_null(r))
		printf("none\n");
	else
		ctl_print_error(stdout, NULL, r);
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_exception = {
	"exception", "[--timeout SECONDS] FUTURE",
	"Wait for a future and print its error, or none",
	"  -t, --timeout SECONDS   wait at most this long (default: without\n"
	"                          limit); exit 4 if it is not done by then\n"
	"\nPrints TYPE: MESSAGE for a failed task and none for a finished\n"
	"one, and exits 0 for both; a cancelled future exits 5.\n",
	task_exception
};

static int
task_cancel(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*r;
	int				 ch, rc, force = 0, cancelled;

	while ((ch = ctl_getopt(cmd, argc, argv, ":fh", longopts)) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind == argc)
		return ctl_usage(cmd, "no future named");
	if (optind + 1 != argc)
		return ctl_usage(cmd, "one future at a time");
	if ((rc = ctl_call(ctl, "cancel", json_pack("{s:s, s:b}", "future",
	    argv[optind], "force", force), -1, &r)) != CTL_OK)
		return rc;
	cancelled = json_is_true(json_object_get(r, "cancelled"));
	if (ctl->json)
		ctl_print_json(r);
	else if (cancelled)
		printf("%s cancelled\n", argv[optind]);
	else
		printf("%s not cancelled: it is %s\n", argv[optind],
		    ctl_str(r, "state", "?"));
	json_decref(r);
	return cancelled ? CTL_OK : CTL_FAILED;
}

const struct ctl_cmd cmd_cancel = {
	"cancel", "[--force] FUTURE", "Cancel a future",
	"  -f, --force   also stop a running task on the process executor\n"
	"                (its worker is killed and replaced)\n"
	"\nExits 0 when the future is (or already was) cancelled, 1 when it\n"
	"is not: it runs, or it is done.\n", task_cancel
};

/* Read --return-when's value as the protocol spells it; NULL if bad. */
static const char *
task_return_when(const char *arg)
{
	static const char *const	 names[] = {
		"ALL_COMPLETED", "FIRST_COMPLETED", "FIRST_EXCEPTION"
	};
	char				 buf[32];
	size_t				 i;

	for (i = 0; arg[i] != '\0' && i + 1 < sizeof buf; i++)
		buf[i] = arg[i] == '-' ? '_' :
		    (char)toupper((unsigned char)arg[i]);
	buf[i] = '\0';
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(buf, names[i]) == 0)
			return names[i];
	}
	return NULL;
}

/*
 * Whether a wait that ran out of time still met its condition: everything
 * done, or for FIRST_COMPLETED one done, or for FIRST_EXCEPTION one failed
 * or cancelled (which only a look at the done ones tells).
 */
static int
task_wait_met(struct ctl *ctl, json_t *r, const char *return_when)
{
	json_t		*done = json_object_get(r, "done"), *id, *st, *p;
	const char	*state;
	size_t		 i;
	int		 met = 0;

	if (json_array_size(json_object_get(r, "not_done")) == 0)
		return 1;
	if (strcmp(return_when, "FIRST_COMPLETED") == 0)
		return json_array_size(done) > 0;
	if (strcmp(return_when, "FIRST_EXCEPTION") != 0)
		return 0;
	json_array_foreach(done, i, id) {
		p = json_pack("{s:O}", "future", id);
		if (poold_call(ctl->client, "status", p, -1, &st) !=
		    POOLD_OK) {
			json_decref(p);
			continue;
		}
		json_decref(p);
		state = ctl_str(st, "state", "");
		met |= strcmp(state, "failed") == 0 ||
		    strcmp(state, "cancelled") == 0;
		json_decref(st);
	}
	return met;
}

/* The future ids from argv[optind] on, as an array; NULL if one is bad. */
static json_t *
task_ids(const struct ctl_cmd *cmd, int argc, char **argv)
{
	json_t	*ids = json_array();

	if (optind == argc) {
		json_decref(ids);
		ctl_usage(cmd, "no future named");
		return NULL;
	}
	for (; optind < argc; optind++) {
		if (json_array_append_new(ids, json_string(argv[optind])) ==
		    -1) {
			json_decref(ids);
			ctl_usage(cmd, "a future id is not UTF-8");
			return NULL;
		}
	}
	return ids;
}

static void
task_print_ids(const char *label, json_t *ids)
{
	json_t	*id;
	size_t	 i;

	printf("%s", label);
	json_array_foreach(ids, i, id)
		printf(" %s", json_is_string(id) ? json_string_value(id) : "?");
	putchar('\n');
}

static int
task_wait(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "return-when", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char			*return_when = "ALL_COMPLETED";
	double				 timeout = -1;
	json_t				*params, *ids, *r;
	int				 ch, rc, met;

	while ((ch = ctl_getopt(cmd, argc, argv, ":t:w:h", longopts)) != -1) {
		switch (ch) {
		case 't':
			if (ctl_parse_seconds(optarg, &timeout) == -1)
				return ctl_usage(cmd, "--timeout: not a number "
				    "of seconds: '%s'", optarg);
			break;
		case 'w':
			if ((return_when = task_return_when(optarg)) == NULL)
				return ctl_usage(cmd, "--return-when: not "
				    "ALL_COMPLETED, FIRST_COMPLETED or "
				    "FIRST_EXCEPTION: '%s'", optarg);
			break;
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if ((ids = task_ids(cmd, argc, argv)) == NULL)
		return CTL_USAGE;
	params = json_pack("{s:o, s:s}", "futures", ids, "return_when",
	    return_when);
	if (timeout >= 0)
		json_object_set_new(params, "timeout", json_real(timeout));
	if ((rc = ctl_call(ctl, "wait", params, ctl_timeout_ms(timeout),
	    &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else {
		task_print_ids("done:", json_object_get(r, "done"));
		task_print_ids("not done:", json_object_get(r, "not_done"));
	}
	met = task_wait_met(ctl, r, return_when);
	json_decref(r);
	return met ? CTL_OK : CTL_TIMEOUT;
}

const struct ctl_cmd cmd_wait = {
	"wait", "[--timeout SECONDS] [--return-when WHEN] FUTURE...",
	"Wait for futures, as concurrent.futures.wait does",
	"  -t, --timeout SECONDS   wait at most this long (default: without\n"
	"                          limit)\n"
	"  -w, --return-when WHEN  ALL_COMPLETED (default),\n"
	"                          FIRST_COMPLETED or FIRST_EXCEPTION\n"
	"\nPrints the futures done and not done. Exits 4 when the timeout ran\n"
	"out before WHEN was met.\n", task_wait
};

static int
task_list(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_table		*t;
	json_t				*params = json_object(), *r, *f, *e;
	char				 when[64], *error;
	long				 limit;
	size_t				 i;
	int				 ch, rc;

	while ((ch = ctl_getopt(cmd, argc, argv, ":s:n:h", longopts)) != -1) {
		switch (ch) {
		case 's':
			if (json_object_set_new(params, "state",
			    json_string(optarg)) == -1) {
				json_decref(params);
				return ctl_usage(cmd, "--state: not UTF-8");
			}
			break;
		case 'n':
			if (ctl_parse_long(optarg, 0, LONG_MAX, &limit) == -1) {
				json_decref(params);
				return ctl_usage(cmd, "--limit: not a count: "
				    "'%s'", optarg);
			}
			json_object_set_new(params, "limit",
			    json_integer(limit));
			break;
		case 'h':
			json_decref(params);
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			json_decref(params);
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind != argc) {
		json_decref(params);
		return ctl_usage(cmd, "unexpected argument '%s'",
		    argv[optind]);
	}
	if ((rc = ctl_call(ctl, "list", params, -1, &r)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(r);
		json_decref(r);
		return CTL_OK;
	}
	t = ctl_table_new(6, "FUTURE", "FN", "EXECUTOR", "STATE", "SUBMITTED",
	    "ERROR");
	json_array_foreach(r, i, f) {
		e = json_object_get(f, "error");
		error = NULL;
		if (e != NULL)
			xasprintf(&error, "%s: %s", ctl_str(e, "type", "Error"),
			    ctl_str(e, "message", ""));
		ctl_table_add(t, ctl_str(f, "future", NULL),
		    ctl_str(f, "fn", NULL), ctl_str(f, "executor", NULL),
		    ctl_str(f, "state", NULL),
		    ctl_format_time(ctl_num(f, "submitted"), when, sizeof when),
		    error != NULL ? error : "");
		free(error);
	}
	ctl_table_print(t, stdout);
	ctl_table_free(t);
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_list = {
	"list", "[--state STATE] [--limit N]", "List futures, newest first",
	"  -s, --state STATE   only those pending, running, finished, failed\n"
	"                      or cancelled\n"
	"  -n, --limit N       at most N (default 100)\n"
	"\nYour own futures; an admin's list has everyone's.\n", task_list
};

static int
task_forget(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*ids, *r;
	int				 ch, rc;

	while ((ch = ctl_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
		if (ch != 'h')
			return ctl_usage(cmd, NULL);
		ctl_help(cmd, stdout);
		return CTL_OK;
	}
	if ((ids = task_ids(cmd, argc, argv)) == NULL)
		return CTL_USAGE;
	if ((rc = ctl_call(ctl, "forget", json_pack("{s:o}", "futures", ids),
	    -1, &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("%.0f forgotten\n", ctl_num(r, "forgotten"));
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_forget = {
	"forget", "FUTURE...", "Drop done futures and their results",
	"Futures not yet done are left alone; the count says how many went.\n",
	task_forget
};

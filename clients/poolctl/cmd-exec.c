/*
 * exec: run a program as a task. With --wait, poolctl stands in for the
 * program: its output comes out of poolctl's stdout and stderr, byte for
 * byte, and its exit status is poolctl's.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "poolctl.h"

/* Build exec's kwargs from one option; 0, or the usage error's status. */
static int
exec_option(const struct ctl_cmd *cmd, int ch, const char *arg,
    json_t *kwargs)
{
	json_t	*env = json_object_get(kwargs, "env");
	char	*data;
	size_t	 len;

	if ((ch == 'E' || ch == 'u') && env == NULL) {
		env = json_object();
		json_object_set_new(kwargs, "env", env);
	}
	switch (ch) {
	case 'C':
		if (json_object_set_new(kwargs, "cwd", json_string(arg)) == -1)
			return ctl_usage(cmd, "--cwd: not UTF-8");
		return 0;
	case 'E':
		if (ctl_parse_env(arg, env) == -1)
			return ctl_usage(cmd, "--env: not NAME=VALUE in UTF-8: "
			    "'%s'", arg);
		return 0;
	case 'u':
		if (json_object_set_new(env, arg, json_null()) == -1)
			return ctl_usage(cmd, "--unset: not UTF-8");
		return 0;
	case 'i':
		json_object_set_new(kwargs, "stdin", ctl_bytes_value(arg,
		    strlen(arg)));
		return 0;
	case 'I':
		if (ctl_read_file(arg, &data, &len) == -1) {
			ctl_warnx("exec: %s: %s", arg, strerror(errno));
			return CTL_USAGE;
		}
		json_object_set_new(kwargs, "stdin", ctl_bytes_value(data,
		    len));
		free(data);
		return 0;
	case 'c':
		json_object_set_new(kwargs, "check", json_true());
		return 0;
	}
	return ctl_usage(cmd, NULL);
}

/*
 * Parse `[options] [--] PROGRAM [ARG]...` into submit's params. CTL_OK
 * with *out set (NULL after --help), or the exit status.
 */
static int
exec_params(const struct ctl_cmd *cmd, int argc, char **argv, int *wait,
    json_t **out)
{
	static const struct option	 longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "executor", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' },
		{ "cwd", required_argument, NULL, 'C' },
		{ "env", required_argument, NULL, 'E' },
		{ "unset", required_argument, NULL, 'u' },
		{ "stdin", required_argument, NULL, 'i' },
		{ "stdin-file", required_argument, NULL, 'I' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*params, *kwargs, *args;
	int				 ch = 0, rc = CTL_OK;

	*out = NULL;
	params = json_pack("{s:s}", "fn", "exec");
	kwargs = json_object();
	while (rc == CTL_OK && (ch = ctl_getopt(cmd, argc, argv,
	    "+:we:t:p:r:C:E:u:i:I:ch", longopts)) != -1) {
		if (ch == 'h') {
			ctl_help(cmd, stdout);
			break;
		}
		if (ch == 'w')
			*wait = 1;
		else if ((rc = task_option(cmd, ch, optarg, params)) == 1)
			rc = exec_option(cmd, ch, optarg, kwargs);
	}
	if (rc == CTL_OK && ch != 'h' && optind == argc)
		rc = ctl_usage(cmd, "no program named");
	if (rc != CTL_OK || ch == 'h') {
		json_decref(params);
		json_decref(kwargs);
		return rc;
	}
	args = json_array();
	for (; optind < argc; optind++) {
		if (json_array_append_new(args, json_string(argv[optind])) ==
		    -1) {
			json_decref(args);
			json_decref(params);
			json_decref(kwargs);
			return ctl_usage(cmd, "an argument is not UTF-8");
		}
	}
	json_object_set_new(params, "args", args);
	json_object_set_new(params, "kwargs", kwargs);
	*out = params;
	return CTL_OK;
}

/* Write a stream of the result ("stdout" or "stderr") to fd. */
static int
exec_write(json_t *result, const char *name, int fd)
{
	json_t		*v = json_object_get(result, name);
	const char	*text;
	unsigned char	*bytes = NULL;
	size_t		 len, off = 0;
	ssize_t		 n;
	const char	*b64;

	if (json_is_string(v)) {
		text = json_string_value(v);
		len = json_string_length(v);
	} else if ((b64 = ctl_str(v, "base64", NULL)) != NULL) {
		if (base64_decode(b64, strlen(b64), &bytes, &len) == -1) {
			ctl_warnx("exec: %s: poold sent bad base64", name);
			return -1;
		}
		text = (const char *)bytes;
	} else
		return 0;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			ctl_warnx("exec: writing %s: %s", name,
			    strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	free(bytes);
	return off == len ? 0 : -1;
}

/*
 * Stand in for the finished program: its output (or, with --json, the
 * result object), then its status.
 */
static int
exec_pass_through(struct ctl *ctl, json_t *result)
{
	static const char *const	 streams[] = { "stdout", "stderr" };
	json_t				*code, *sig;
	char				 cut[32], bytes[32];
	size_t				 i;
	int				 rc = 0;

	if (ctl->json)
		ctl_print_json(result);
	if (fflush(stdout) == EOF)
		rc = -1;
	if (!ctl->json && exec_write(result, "stdout", STDOUT_FILENO) == -1)
		rc = -1;
	if (!ctl->json && exec_write(result, "stderr", STDERR_FILENO) == -1)
		rc = -1;
	for (i = 0; !ctl->json && i < sizeof streams / sizeof streams[0];
	    i++) {
		snprintf(cut, sizeof cut, "%s_truncated", streams[i]);
		snprintf(bytes, sizeof bytes, "%s_bytes", streams[i]);
		if (json_is_true(json_object_get(result, cut)))
			ctl_warnx("exec: %s was cut short: the program wrote "
			    "%.0f bytes, more than poold keeps", streams[i],
			    ctl_num(result, bytes));
	}
	if (rc == -1)
		return CTL_FAILED;
	code = json_object_get(result, "exit_code");
	sig = json_object_get(result, "signal");
	if (json_is_integer(code))
		return (int)(json_integer_value(code) & 0xff);
	if (json_is_integer(sig))
		return 128 + (int)json_integer_value(sig);
	ctl_warnx("exec: poold's answer has no exit status");
	return CTL_BROKEN;
}

/* Wait for the program and stand in for it. */
static int
exec_wait(struct ctl *ctl, const char *future)
{
	json_t		*params, *r;
	poold_status	 st;
	int		 rc;

	params = json_pack("{s:s}", "future", future);
	st = poold_call(ctl->client, "result", params, -1, &r);
	json_decref(params);
	if (st == POOLD_OK) {
		rc = exec_pass_through(ctl, r);
		json_decref(r);
		return rc;
	}
	/* --check: the program ran, so it still speaks for itself. */
	if (st == POOLD_ERR_RPC && poold_error_code(ctl->client) ==
	    POOLD_E_TASK_FAILED && strcmp(ctl_str(poold_error_data(
	    ctl->client), "type", ""), "ProcessError") == 0)
		return exec_pass_through(ctl, poold_error_data(ctl->client));
	return ctl_failure(ctl, st, "exec");
}

static int
exec_run(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	json_t	*params, *r;
	char	*future;
	int	 rc, wait = 0;

	if ((rc = exec_params(cmd, argc, argv, &wait, &params)) != CTL_OK ||
	    params == NULL)
		return rc;
	if ((rc = ctl_call(ctl, "submit", params, -1, &r)) != CTL_OK)
		return rc;
	if ((future = (char *)ctl_str(r, "future", NULL)) == NULL) {
		ctl_warnx("exec: poold answered without a future id");
		json_decref(r);
		return CTL_BROKEN;
	}
	if (!wait) {
		if (ctl->json)
			ctl_print_json(r);
		else
			printf("%s\n", future);
		json_decref(r);
		return CTL_OK;
	}
	future = xstrdup(future);
	json_decref(r);
	rc = exec_wait(ctl, future);
	free(future);
	return rc;
}

const struct ctl_cmd cmd_exec = {
	"exec", "[OPTION]... [--] PROGRAM [ARG]...",
	"Run a program as a task",
	"  -w, --wait              wait for the program, write its output\n"
	"                          to stdout and stderr, and exit with its\n"
	"                          status (128 + N when signal N killed it)\n"
	"  -e, --executor NAME     process (default) or thread\n"
	"  -t, --timeout SECONDS   kill the program's process group when it\n"
	"                          runs longer\n"
	"  -p, --priority N        higher runs first (default 0)\n"
	"  -r, --retries N         run again after WorkerCrashed or\n"
	"                          TimeoutError\n"
	"  -C, --cwd DIR           the program's working directory\n"
	"  -E, --env NAME=VALUE    set a variable for the program; may\n"
	"                          repeat\n"
	"  -u, --unset NAME        remove a variable; may repeat\n"
	"  -i, --stdin TEXT        the program's stdin (default: /dev/null)\n"
	"  -I, --stdin-file FILE   the program's stdin from FILE (- for\n"
	"                          poolctl's own stdin)\n"
	"  -c, --check             a non-zero exit fails the task\n"
	"                          (ProcessError)\n"
	"\nOptions come before PROGRAM. Without --wait, prints the future id.\n"
	"With --wait and --json, prints the result object instead of the\n"
	"output, and still exits with the program's status. When the program\n"
	"cannot start (ExecError) exits 1; at its --timeout, 4; when\n"
	"cancelled, 5.\n", exec_run
};

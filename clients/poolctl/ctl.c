/*
 * Connecting, calling, and turning every way a call can go wrong into a
 * message on stderr and one of the exit statuses a script can test.
 */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolctl.h"

/*
 * How long past a daemon-side wait poolctl itself waits for the answer: a
 * daemon that does not answer by then is treated as a timeout, not waited
 * on forever.
 */
#define CTL_GRACE_MS	10000

/* Print "poolctl: MESSAGE" on stderr. */
void
ctl_warnx(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("poolctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Connect once; later calls reuse the connection. */
int
ctl_connect(struct ctl *ctl)
{
	poold_status	 st;
	char		 buf[PATH_MAX];
	const char	*path = ctl->socket;
	int		 saved;

	if (ctl->client != NULL)
		return CTL_OK;
	st = poold_connect(ctl->socket, &ctl->client);
	if (st == POOLD_OK)
		return CTL_OK;
	saved = errno;
	if (path == NULL)
		path = poold_default_socket(buf, sizeof buf);
	if (path == NULL)
		path = "the default socket";
	if (st == POOLD_ERR_SYSTEM)
		ctl_warnx("cannot connect to %s: %s", path, strerror(saved));
	else
		ctl_warnx("cannot connect to %s: %s", path,
		    poold_strstatus(st));
	ctl->client = NULL;
	return CTL_BROKEN;
}

/* The exit status for a JSON-RPC error code. */
int
ctl_rpc_status(int code)
{
	switch (code) {
	case POOLD_E_TASK_FAILED:
		return CTL_FAILED;
	case POOLD_E_TIMEOUT:
		return CTL_TIMEOUT;
	case POOLD_E_CANCELLED:
		return CTL_CANCELLED;
	case POOLD_E_INVALID_PARAMS:
		/* The daemon found a value from the command line unusable. */
		return CTL_USAGE;
	case POOLD_E_PARSE:
	case POOLD_E_INVALID_REQUEST:
	case POOLD_E_METHOD_NOT_FOUND:
		/* Not the protocol poolctl speaks. */
		return CTL_BROKEN;
	default:
		return CTL_FAILED;
	}
}

/*
 * Print a task error object (after prefix, when given) on stderr. A task
 * that ran out of time is a timeout; any other failure is a failure.
 */
int
ctl_task_error(const char *prefix, json_t *err)
{
	const char	*type;

	fflush(stdout);
	ctl_print_error(stderr, prefix, err);
	type = json_string_value(json_object_get(err, "type"));
	if (type != NULL && strcmp(type, "TimeoutError") == 0)
		return CTL_TIMEOUT;
	return CTL_FAILED;
}

static int
ctl_rpc_failure(struct ctl *ctl, const char *what)
{
	json_t		*data = poold_error_data(ctl->client);
	const char	*param, *future;
	int		 code = poold_error_code(ctl->client);

	if (code == POOLD_E_TASK_FAILED && json_is_object(data))
		return ctl_task_error(NULL, data);
	param = ctl_str(data, "param", NULL);
	/* Name what the error is about: the future, or the function. */
	if ((future = ctl_str(data, "future", NULL)) == NULL)
		future = ctl_str(data, "fn", NULL);
	if (code == POOLD_E_TIMEOUT && ctl_str(data, "state", NULL) != NULL)
		ctl_warnx("%s: %s (it is %s)", what,
		    poold_error_message(ctl->client),
		    ctl_str(data, "state", ""));
	else if (param != NULL && strstr(poold_error_message(ctl->client),
	    param) == NULL)
		ctl_warnx("%s: %s: %s", what, poold_error_message(ctl->client),
		    param);
	else if (future != NULL)
		ctl_warnx("%s: %s: %s", what, future,
		    poold_error_message(ctl->client));
	else
		ctl_warnx("%s: %s", what, poold_error_message(ctl->client));
	return ctl_rpc_status(code);
}

/* Say what went wrong with a call to what, and return the exit status. */
int
ctl_failure(struct ctl *ctl, poold_status st, const char *what)
{
	switch (st) {
	case POOLD_OK:
		return CTL_OK;
	case POOLD_ERR_RPC:
		return ctl_rpc_failure(ctl, what);
	case POOLD_ERR_TIMEOUT:
		ctl_warnx("%s: no answer from poold in time", what);
		return CTL_TIMEOUT;
	case POOLD_ERR_SYSTEM:
		ctl_warnx("%s: %s", what,
		    strerror(poold_error_errno(ctl->client)));
		return CTL_BROKEN;
	case POOLD_ERR_CLOSED:
	case POOLD_ERR_PROTOCOL:
		ctl_warnx("%s: %s", what, poold_error_message(ctl->client)[0] !=
		    '\0' ? poold_error_message(ctl->client) :
		    poold_strstatus(st));
		return CTL_BROKEN;
	default:
		ctl_warnx("%s: %s", what, poold_strstatus(st));
		return CTL_FAILED;
	}
}

/*
 * Call method with params (taken: released here) and wait up to
 * timeout_ms (-1: without limit). On success *result is the answer (when
 * result is not NULL); otherwise the failure has been reported and its
 * exit status is returned.
 */
int
ctl_call(struct ctl *ctl, const char *method, json_t *params,
    int timeout_ms, json_t **result)
{
	poold_status	st;
	int		rc;

	if ((rc = ctl_connect(ctl)) != CTL_OK) {
		json_decref(params);
		return rc;
	}
	st = poold_call(ctl->client, method, params, timeout_ms, result);
	json_decref(params);
	return ctl_failure(ctl, st, method);
}

/*
 * The client-side limit for a call that waits on the daemon for seconds
 * (negative: without limit).
 */
int
ctl_timeout_ms(double seconds)
{
	if (seconds < 0)
		return -1;
	if (seconds > (double)(INT_MAX - CTL_GRACE_MS) / 1000)
		return -1;
	return (int)(seconds * 1000) + CTL_GRACE_MS;
}

/* Print a command's usage and options. */
void
ctl_help(const struct ctl_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: poolctl [-s PATH] [--json] %s%s%s\n\n%s.\n",
	    cmd->name, cmd->args[0] != '\0' ? " " : "", cmd->args,
	    cmd->summary);
	if (cmd->help != NULL && cmd->help[0] != '\0')
		fprintf(out, "\n%s", cmd->help);
}

/* Report a bad command line (the reason may be NULL) and return 2. */
int
ctl_usage(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	if (fmt != NULL) {
		fprintf(stderr, "poolctl %s: ", cmd->name);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: poolctl %s%s%s\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args);
	fprintf(stderr, "Try 'poolctl %s --help'.\n", cmd->name);
	return CTL_USAGE;
}

/*
 * getopt_long for a command's own options: the same, but a bad option is
 * reported with the command's name, and comes back as '?'. optstring must
 * start with ':' (after any '+').
 */
int
ctl_getopt(const struct ctl_cmd *cmd, int argc, char **argv,
    const char *optstring, const struct option *longopts)
{
	const char	*word;
	int		 ch, len;

	opterr = 0;
	ch = getopt_long(argc, argv, optstring, longopts, NULL);
	if (ch != '?' && ch != ':')
		return ch;
	word = argv[optind - 1];
	if (strncmp(word, "--", 2) == 0) {
		len = (int)strcspn(word, "=");
		fprintf(stderr, "poolctl %s: %s '%.*s'\n", cmd->name,
		    ch == ':' ? "option needs a value:" : "unknown option",
		    len, word);
	} else {
		fprintf(stderr, "poolctl %s: %s '-%c'\n", cmd->name,
		    ch == ':' ? "option needs a value:" : "unknown option",
		    optopt);
	}
	return '?';
}

/* Parse a command that takes only --help; its exit status or -1 to run. */
int
ctl_no_args(const struct ctl_cmd *cmd, int argc, char **argv)
{
	static const struct option	longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	while ((ch = ctl_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind != argc)
		return ctl_usage(cmd, "unexpected argument '%s'",
		    argv[optind]);
	return -1;
}

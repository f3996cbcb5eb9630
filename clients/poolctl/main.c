/*
 * poolctl: poold from a terminal or a script. The global options, then one
 * command, which parses its own options.
 */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolctl.h"

static int	main_help_cmd(struct ctl *, const struct ctl_cmd *, int,
		    char **);

static const struct ctl_cmd cmd_help = {
	"help", "[COMMAND]", "Describe poolctl, or one command",
	"", main_help_cmd
};

static const struct ctl_cmd *const commands[] = {
	&cmd_hello, &cmd_functions, &cmd_submit, &cmd_run, &cmd_exec,
	&cmd_map, &cmd_status, &cmd_result, &cmd_exception, &cmd_cancel,
	&cmd_wait, &cmd_list, &cmd_forget, &cmd_stats, &cmd_workers,
	&cmd_top, &cmd_resize, &cmd_shutdown, &cmd_help,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
main_usage(FILE *out)
{
	size_t	i;

	fprintf(out,
"usage: poolctl [-s PATH | --socket PATH] [--json] COMMAND [ARG]...\n"
"\n"
"  -s, --socket PATH   the daemon's socket (default: $POOLD_SOCKET, else\n"
"                      /run/poold/poold.sock for root, else\n"
"                      $XDG_RUNTIME_DIR/poold/poold.sock, else\n"
"                      /tmp/poold-$UID/poold.sock)\n"
"  -j, --json          print results as JSON, one value per line\n"
"      --version       print the version and exit\n"
"  -h, --help          print this help and exit\n"
"\n"
"Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s  %s\n", commands[i]->name,
		    commands[i]->summary);
	fprintf(out,
"\n"
"'poolctl COMMAND --help' describes a command. Exit status: 0 ok, 1 the\n"
"task failed (or poold refused), 2 usage, 3 cannot connect, 4 timeout,\n"
"5 cancelled; 'exec --wait' exits with the program's own status.\n");
}

static const struct ctl_cmd *
main_find(const char *name)
{
	size_t	i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	}
	return NULL;
}

static int
main_help_cmd(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct ctl_cmd		*which;
	int				 ch;

	while ((ch = ctl_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
		switch (ch) {
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind == argc) {
		main_usage(stdout);
		return CTL_OK;
	}
	if (optind + 1 < argc)
		return ctl_usage(cmd, "one command at a time");
	if ((which = main_find(argv[optind])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[optind]);
		return CTL_USAGE;
	}
	ctl_help(which, stdout);
	return CTL_OK;
}

/* Parse the global options; the index of the command, or -1 to exit. */
static int
main_options(int argc, char **argv, struct ctl *ctl, int *rc)
{
	static const struct option	longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	/* '+': the options end at the command, which has its own. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:jh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			if (optarg[0] == '\0') {
				ctl_warnx("-s: an empty path");
				*rc = CTL_USAGE;
				return -1;
			}
			ctl->socket = optarg;
			break;
		case 'j':
			ctl->json = 1;
			break;
		case 'V':
			printf("poolctl %s\n", PACKAGE_VERSION);
			*rc = CTL_OK;
			return -1;
		case 'h':
			main_usage(stdout);
			*rc = CTL_OK;
			return -1;
		default:
			if (ch == ':')
				ctl_warnx("option '%s' needs a value",
				    argv[optind - 1]);
			else if (optopt != 0)
				ctl_warnx("unknown option '-%c'", optopt);
			else
				ctl_warnx("unknown option '%s'",
				    argv[optind - 1]);
			fprintf(stderr, "Try 'poolctl --help'.\n");
			*rc = CTL_USAGE;
			return -1;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "usage: poolctl [-s PATH] [--json] COMMAND "
		    "[ARG]...\nTry 'poolctl --help'.\n");
		*rc = CTL_USAGE;
		return -1;
	}
	return optind;
}

int
main(int argc, char **argv)
{
	struct ctl		 ctl = { NULL, 0, NULL };
	const struct ctl_cmd	*cmd;
	int			 first, rc = CTL_OK;

	if ((first = main_options(argc, argv, &ctl, &rc)) == -1)
		return rc;
	if ((cmd = main_find(argv[first])) == NULL) {
		ctl_warnx("unknown command '%s'", argv[first]);
		fprintf(stderr, "Try 'poolctl --help'.\n");
		return CTL_USAGE;
	}
	/* Start getopt afresh on the command's own words. */
	optind = 0;
	rc = cmd->run(&ctl, cmd, argc - first, argv + first);
	poold_close(ctl.client);
	if (ctl_flush() == -1 && rc == CTL_OK)
		rc = CTL_FAILED;
	return rc;
}

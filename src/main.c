/* poold: the command line, over the daemon library. */
#include "autoconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "poold.h"

#define MAX_FLAGS 64

static void
usage(FILE *out)
{
	fprintf(out,
"usage: poold [-s PATH | --socket PATH] [-p N | --processes N]\n"
"             [-t N | --threads N] [--plugin NAME_OR_PATH]...\n"
"             [-c FILE | --config FILE] [--state-dir DIR]\n"
"             [--max-tasks-per-child N] [-v] [--version] [--help]\n"
"\n"
"  -s, --socket PATH   listen on PATH (default: $POOLD_SOCKET, else\n"
"                      /run/poold/poold.sock for root, else\n"
"                      $XDG_RUNTIME_DIR/poold/poold.sock, else\n"
"                      /tmp/poold-$UID/poold.sock)\n"
"  -p, --processes N   worker processes (default: CPUs)\n"
"  -t, --threads N     threads in the thread pool (default: CPUs + 4, at\n"
"                      most 32)\n"
"      --plugin NAME_OR_PATH\n"
"                      load a plugin: a path, or NAME.so in the plugin\n"
"                      directory (" POOLD_PLUGIN_DIR ")\n"
"      --max-tasks-per-child N\n"
"                      replace a worker after N tasks (default: never)\n"
"  -c, --config FILE   read settings from FILE (flags win); SIGHUP reads\n"
"                      it again\n"
"      --state-dir DIR keep futures in DIR, so a restart loses none\n"
"  -v, --verbose       log debug messages\n"
"      --version       print the version and exit\n"
"      --help          print this help and exit\n");
}

/* The setting each flag stands for: its long name with '_' for '-'. */
static const char *
flag_key(int ch)
{
	switch (ch) {
	case 's':
		return "socket";
	case 't':
		return "threads";
	case 'p':
		return "processes";
	case 'P':
		return "plugin";
	case 'M':
		return "max_tasks_per_child";
	case 'S':
		return "state_dir";
	case 'v':
		return "verbose";
	}
	return NULL;
}

/* Parse the flags into key/value pairs applied over the config file. */
static void
parse_flags(int argc, char **argv, struct config_flag *flags, size_t *nflags,
    const char **config_path)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "processes", required_argument, NULL, 'p' },
		{ "plugin", required_argument, NULL, 'P' },
		{ "max-tasks-per-child", required_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*key;
	int		 ch;

	while ((ch = getopt_long(argc, argv, "s:t:p:c:vh", longopts,
	    NULL)) != -1) {
		if ((key = flag_key(ch)) != NULL) {
			if (*nflags == MAX_FLAGS) {
				fprintf(stderr, "poold: too many flags\n");
				exit(2);
			}
			flags[(*nflags)++] = (struct config_flag){ key,
			    ch == 'v' ? "true" : optarg };
			continue;
		}
		switch (ch) {
		case 'c':
			*config_path = optarg;
			break;
		case 'V':
			printf("poold %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "poold: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct config		 cfg;
	struct config_flag	 flags[MAX_FLAGS];
	struct config_source	 src = { NULL, flags, 0 };
	char			*cause = NULL;
	int			 rc;

	parse_flags(argc, argv, flags, &src.nflags, &src.path);
	/* The flags are kept: a reload (SIGHUP) reads the file under them. */
	if ((rc = config_read(&cfg, &src, &cause)) != 0) {
		fprintf(stderr, "poold: %s\n", cause);
		free(cause);
		return rc == -1 ? 1 : 2;
	}

	log_init(cfg.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (poold_init(&cfg, &src, &cause) == -1) {
		log_emit(LOG_LEVEL_ERROR, -1, "main", "%s", cause);
		free(cause);
		config_free(&cfg);
		return 1;
	}
	rc = poold_run();
	poold_free();
	config_free(&cfg);
	log_info("exiting with status %d", rc);
	return rc;
}

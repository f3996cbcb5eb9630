/* resize and shutdown: the admin methods. */
#include "autoconf.h"

#include <stdio.h>

#include "poolctl.h"

static int
admin_resize(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "thread", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*params = json_object(), *r;
	long				 n;
	int				 ch, rc;

	while ((ch = ctl_getopt(cmd, argc, argv, ":p:t:h", longopts)) != -1) {
		switch (ch) {
		case 'p':
		case 't':
			if (ctl_parse_long(optarg, 0, 1L << 30, &n) == -1) {
				json_decref(params);
				return ctl_usage(cmd, "--%s: not a count: '%s'",
				    ch == 'p' ? "process" : "thread", optarg);
			}
			json_object_set_new(params, ch == 'p' ? "process" :
			    "thread", json_integer(n));
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
	if (optind != argc || json_object_size(params) == 0) {
		json_decref(params);
		return optind != argc ? ctl_usage(cmd, "unexpected argument "
		    "'%s'", argv[optind]) : ctl_usage(cmd, "give --process, "
		    "--thread or both");
	}
	if ((rc = ctl_call(ctl, "resize", params, -1, &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("process %.0f workers, thread %.0f workers\n",
		    ctl_num(r, "process"), ctl_num(r, "thread"));
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_resize = {
	"resize", "[--process N] [--thread N]",
	"Change the pools' sizes (admin)",
	"  -p, --process N   worker processes (1 to 1024)\n"
	"  -t, --thread N    threads in the thread pool (1 to 1024)\n"
	"\nGrowing starts workers at once; shrinking retires idle workers\n"
	"first and busy ones as their task ends. Prints the sizes now.\n",
	admin_resize
};

static int
admin_shutdown(struct ctl *ctl, const struct ctl_cmd *cmd, int argc,
    char **argv)
{
	static const struct option	 longopts[] = {
		{ "no-wait", no_argument, NULL, 'n' },
		{ "cancel-futures", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	json_t				*r;
	int				 ch, rc, wait = 1, cancel = 0;

	while ((ch = ctl_getopt(cmd, argc, argv, ":nch", longopts)) != -1) {
		switch (ch) {
		case 'n':
			wait = 0;
			break;
		case 'c':
			cancel = 1;
			break;
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			return ctl_usage(cmd, NULL);
		}
	}
	if (optind != argc)
		return ctl_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_call(ctl, "shutdown", json_pack("{s:b, s:b}", "wait",
	    wait, "cancel_futures", cancel), -1, &r)) != CTL_OK)
		return rc;
	if (ctl->json)
		ctl_print_json(r);
	else
		printf("poold is stopping\n");
	json_decref(r);
	return CTL_OK;
}

const struct ctl_cmd cmd_shutdown = {
	"shutdown", "[--no-wait] [--cancel-futures]", "Stop poold (admin)",
	"  -n, --no-wait          cancel what is pending and kill what runs\n"
	"                         (those tasks fail with Interrupted)\n"
	"  -c, --cancel-futures   cancel what is pending; what runs may end\n"
	"\nBy default poold refuses new work, runs what it has, answers what\n"
	"waits and exits. poolctl returns once poold has agreed to stop.\n",
	admin_shutdown
};

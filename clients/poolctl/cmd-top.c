/*
 * top: the pool at a glance, refreshed until ^C. Rates come from the
 * difference between successive stats, over the time between them.
 */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "poolctl.h"

/* The counts whose rates top shows. */
static const char *const top_counted[] = { "finished", "failed",
    "cancelled" };
#define TOP_NCOUNTED (sizeof top_counted / sizeof top_counted[0])

struct top_sample {
	int	valid;
	double	when;			/* monotonic seconds */
	double	count[TOP_NCOUNTED];
};

static double
top_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rates since prev, as an object; NULL on the first refresh. */
static json_t *
top_rates(struct top_sample *prev, json_t *stats, double when)
{
	struct top_sample	 cur;
	json_t			*rates = NULL;
	double			 dt;
	size_t			 i;

	cur.valid = 1;
	cur.when = when;
	for (i = 0; i < TOP_NCOUNTED; i++)
		cur.count[i] = ctl_num(stats, top_counted[i]);
	dt = cur.when - prev->when;
	if (prev->valid && dt > 0) {
		rates = json_object();
		for (i = 0; i < TOP_NCOUNTED; i++)
			json_object_set_new(rates, top_counted[i],
			    json_real((cur.count[i] - prev->count[i]) / dt));
	}
	*prev = cur;
	return rates;
}

static void
top_print_frame(json_t *hello, json_t *stats, json_t *workers,
    json_t *rates, int tty)
{
	json_t	*p = json_object_get(stats, "process");
	json_t	*t = json_object_get(stats, "thread");
	char	 up[32], rate[32];
	size_t	 i;
	double	 conns = ctl_num(stats, "connections");

	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("poold %s, pid %.0f, up %s, %.0f connection%s\n",
	    ctl_str(hello, "version", "?"), ctl_num(hello, "pid"),
	    ctl_format_duration(ctl_num(stats, "uptime"), up, sizeof up),
	    conns, conns == 1 ? "" : "s");
	printf("process  %.0f workers, %.0f busy, %.0f restarts\n",
	    ctl_num(p, "workers"), ctl_num(p, "busy"), ctl_num(p, "restarts"));
	printf("thread   %.0f workers, %.0f busy\n", ctl_num(t, "workers"),
	    ctl_num(t, "busy"));
	printf("tasks    %.0f pending, %.0f running, %.0f submitted\n",
	    ctl_num(stats, "pending"), ctl_num(stats, "running"),
	    ctl_num(stats, "submitted"));
	printf("done    ");
	for (i = 0; i < TOP_NCOUNTED; i++) {
		if (rates != NULL)
			snprintf(rate, sizeof rate, "%.1f/s",
			    ctl_num(rates, top_counted[i]));
		else
			snprintf(rate, sizeof rate, "-/s");
		printf("%s %.0f %s (%s)", i == 0 ? "" : ",",
		    ctl_num(stats, top_counted[i]), top_counted[i], rate);
	}
	printf("\n\n");
	info_workers_table(workers, stdout);
	if (!tty)
		putchar('\n');
}

/* One refresh: ask, then show. */
static int
top_refresh(struct ctl *ctl, json_t *hello, struct top_sample *prev,
    int tty)
{
	json_t	*stats, *workers, *rates, *frame;
	int	 rc, limit = ctl_timeout_ms(0);

	if ((rc = ctl_call(ctl, "stats", NULL, limit, &stats)) != CTL_OK)
		return rc;
	if ((rc = ctl_call(ctl, "workers", NULL, limit, &workers)) !=
	    CTL_OK) {
		json_decref(stats);
		return rc;
	}
	rates = top_rates(prev, stats, top_now());
	if (ctl->json) {
		frame = json_pack("{s:O, s:O, s:o?}", "stats", stats,
		    "workers", workers, "rates", rates);
		ctl_print_json(frame);
		json_decref(frame);
	} else {
		top_print_frame(hello, stats, workers, rates, tty);
		json_decref(rates);
	}
	json_decref(stats);
	json_decref(workers);
	return fflush(stdout) == EOF ? CTL_FAILED : CTL_OK;
}

/* Wait interval seconds; 1 if SIGINT came meanwhile (or before). */
static int
top_pause(const sigset_t *set, double interval)
{
	struct timespec	ts;
	double		end = top_now() + interval, left;

	while ((left = end - top_now()) > 0) {
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (sigtimedwait(set, NULL, &ts) != -1)
			return 1;
		if (errno != EINTR && errno != EAGAIN)
			return 1;
	}
	return 0;
}

static int
top_options(const struct ctl_cmd *cmd, int argc, char **argv,
    double *interval, long *iterations)
{
	static const struct option	longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int				ch;

	while ((ch = ctl_getopt(cmd, argc, argv, ":i:n:h", longopts)) != -1) {
		switch (ch) {
		case 'i':
			if (ctl_parse_seconds(optarg, interval) == -1 ||
			    *interval < 0.01 || *interval > 86400)
				return ctl_usage(cmd, "--interval: not a "
				    "number of seconds from 0.01 to 86400: "
				    "'%s'", optarg);
			break;
		case 'n':
			if (ctl_parse_long(optarg, 1, LONG_MAX,
			    iterations) == -1)
				return ctl_usage(cmd, "--iterations: not a "
				    "count: '%s'", optarg);
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
	return -1;
}

static int
top_run(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	struct top_sample	 prev;
	sigset_t		 set;
	json_t			*hello;
	double			 interval = 1;
	long			 iterations = 0, n;
	int			 rc, tty = isatty(STDOUT_FILENO);

	if ((rc = top_options(cmd, argc, argv, &interval, &iterations)) != -1)
		return rc;
	/* ^C is taken between refreshes, so it never cuts a frame short. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
		ctl_warnx("top: sigprocmask: %s", strerror(errno));
		return CTL_FAILED;
	}
	if ((rc = ctl_call(ctl, "hello", NULL, ctl_timeout_ms(0), &hello)) !=
	    CTL_OK)
		return rc;
	memset(&prev, 0, sizeof prev);
	for (n = 1; ; n++) {
		if ((rc = top_refresh(ctl, hello, &prev, tty)) != CTL_OK)
			break;
		if (n == iterations || top_pause(&set, interval))
			break;
	}
	json_decref(hello);
	return rc;
}

const struct ctl_cmd cmd_top = {
	"top", "[--interval SECONDS] [--iterations N]",
	"Watch the pool: workers, load and rates, refreshed until ^C",
	"  -i, --interval SECONDS   time between refreshes (default 1)\n"
	"  -n, --iterations N       stop after N refreshes\n"
	"\nRates are tasks a second, from the counts of successive refreshes.\n"
	"With --json, each refresh is one line: {\"stats\": ..., \"workers\":\n"
	"..., \"rates\": ...} (rates null on the first). ^C exits 0.\n", top_run
};

/*
 * map: a function over the lines of stdin, as one streamed map request;
 * results come out one a line as the daemon sends them.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "poolctl.h"

/* The progress bar's width in cells, inside its brackets. */
#define MAP_BAR_WIDTH	30

struct map_run {
	struct ctl	*ctl;
	uint64_t	 id;		/* the map request's */
	size_t		 total;		/* items sent */
	size_t		 seen;		/* items answered */
	size_t		 failed;
	int		 bar;		/* stderr is a terminal: draw it */
	int		 out_tty;	/* so is stdout: results cross it */
	int		 drawn;		/* the bar is on the screen now */
	long		 shown;		/* the permille drawn last, or -1 */
};

/* Take the bar off the screen before a line goes to a terminal. */
static void
map_bar_clear(struct map_run *m)
{
	if (!m->drawn)
		return;
	fflush(stdout);
	fputs("\r\033[K", stderr);
	m->drawn = 0;
}

/* Draw the bar when what it shows has changed. */
static void
map_bar_draw(struct map_run *m, int force)
{
	char	cells[MAP_BAR_WIDTH + 1];
	size_t	full, i;
	long	permille;

	if (!m->bar || m->total == 0)
		return;
	permille = (long)(m->seen * 1000 / m->total);
	if (!force && m->drawn && permille == m->shown)
		return;
	full = m->seen * MAP_BAR_WIDTH / m->total;
	for (i = 0; i < MAP_BAR_WIDTH; i++)
		cells[i] = i < full ? '#' : '.';
	cells[MAP_BAR_WIDTH] = '\0';
	fflush(stdout);
	fprintf(stderr, "\r\033[K[%s] %zu/%zu", cells, m->seen, m->total);
	if (m->failed > 0)
		fprintf(stderr, ", %zu failed", m->failed);
	m->shown = permille;
	m->drawn = 1;
}

/* One map.item notification: print the result, or the error. */
static void
map_item(poold_client *c, const char *method, json_t *params, void *arg)
{
	struct map_run	*m = arg;
	json_t		*req = json_object_get(params, "request");
	json_t		*err = json_object_get(params, "error"), *copy;
	char		 where[64];

	if (strcmp(method, "map.item") != 0 || !json_is_integer(req) ||
	    (uint64_t)json_integer_value(req) != m->id)
		return;
	if (err != NULL || m->out_tty)
		map_bar_clear(m);
	m->seen++;
	if (err != NULL) {
		m->failed++;
		snprintf(where, sizeof where, "poolctl: map: line %.0f",
		    ctl_num(params, "index") + 1);
		fflush(stdout);
		ctl_print_error(stderr, where, err);
	}
	if (m->ctl->json) {
		copy = json_copy(params);
		json_object_del(copy, "request");
		ctl_print_json(copy);
		json_decref(copy);
	} else if (err == NULL)
		ctl_print_value(json_object_get(params, "result"));
	map_bar_draw(m, err != NULL);
}

/* Every line of stdin as an item; NULL (reported) on a bad line. */
static json_t *
map_read_items(void)
{
	json_t	*items = json_array(), *v;
	char	*line = NULL;
	size_t	 size = 0, lineno = 0;
	ssize_t	 len;

	while ((len = getline(&line, &size, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if ((v = ctl_parse_value(line, (size_t)len)) == NULL) {
			ctl_warnx("map: line %zu: neither JSON nor UTF-8 text",
			    lineno);
			goto fail;
		}
		json_array_append_new(items, v);
	}
	if (ferror(stdin)) {
		ctl_warnx("map: reading stdin: %s", strerror(errno));
		goto fail;
	}
	free(line);
	return items;
fail:
	free(line);
	json_decref(items);
	return NULL;
}

/* Parse map's options into its params; -1 to go on, else the status. */
static int
map_options(const struct ctl_cmd *cmd, int argc, char **argv,
    json_t *params)
{
	static const struct option	longopts[] = {
		{ "unordered", no_argument, NULL, 'u' },
		{ "chunksize", required_argument, NULL, 'c' },
		{ "star", no_argument, NULL, 's' },
		{ "executor", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long				n;
	int				ch, rc;

	while ((ch = ctl_getopt(cmd, argc, argv, ":uc:se:t:p:h",
	    longopts)) != -1) {
		switch (ch) {
		case 'u':
			json_object_set_new(params, "ordered", json_false());
			break;
		case 'c':
			if (ctl_parse_long(optarg, 1, INT32_MAX, &n) == -1)
				return ctl_usage(cmd, "--chunksize: not a "
				    "count: '%s'", optarg);
			json_object_set_new(params, "chunksize",
			    json_integer(n));
			break;
		case 's':
			json_object_set_new(params, "star", json_true());
			break;
		case 'h':
			ctl_help(cmd, stdout);
			return CTL_OK;
		default:
			if ((rc = task_option(cmd, ch, optarg, params)) == 1)
				return ctl_usage(cmd, NULL);
			if (rc != 0)
				return rc;
		}
	}
	if (optind == argc)
		return ctl_usage(cmd, "no function named");
	if (optind + 1 != argc)
		return ctl_usage(cmd, "unexpected argument '%s'",
		    argv[optind + 1]);
	return -1;
}

/* Send the map and print its items as they stream in. */
static int
map_stream(struct ctl *ctl, json_t *params, struct map_run *m)
{
	json_t		*r;
	poold_status	 st;
	int		 rc;

	if ((rc = ctl_connect(ctl)) != CTL_OK)
		return rc;
	poold_set_notify_handler(ctl->client, map_item, m);
	st = poold_send(ctl->client, "map", params, &m->id);
	if (st == POOLD_OK) {
		map_bar_draw(m, 1);
		st = poold_response(ctl->client, m->id, -1, &r);
	}
	poold_set_notify_handler(ctl->client, NULL, NULL);
	map_bar_clear(m);
	if (st != POOLD_OK)
		return ctl_failure(ctl, st, "map");
	if (ctl_num(r, "failed") > 0 && m->failed == 0)
		m->failed = (size_t)ctl_num(r, "failed");
	json_decref(r);
	return m->failed > 0 ? CTL_FAILED : CTL_OK;
}

static int
map_run(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	struct map_run	 m = { ctl, 0, 0, 0, 0, 0, 0, 0, -1 };
	json_t		*params = json_object(), *items;
	int		 rc;

	if ((rc = map_options(cmd, argc, argv, params)) != -1) {
		json_decref(params);
		return rc;
	}
	json_object_set_new(params, "fn", json_string(argv[optind]));
	json_object_set_new(params, "stream", json_true());
	if ((items = map_read_items()) == NULL) {
		json_decref(params);
		return CTL_USAGE;
	}
	m.total = json_array_size(items);
	json_object_set_new(params, "iterable", items);
	m.bar = isatty(STDERR_FILENO);
	m.out_tty = isatty(STDOUT_FILENO);
	/* Each result leaves as soon as it is printed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = map_stream(ctl, params, &m);
	json_decref(params);
	return rc;
}

const struct ctl_cmd cmd_map = {
	"map", "[OPTION]... FN", "Run FN on every line of stdin",
	"  -u, --unordered         print results as they end, not in input\n"
	"                          order\n"
	"  -c, --chunksize N       items sent to a worker together (default:\n"
	"                          poold picks)\n"
	"  -s, --star              each line is an array of arguments\n"
	"  -e, --executor NAME     process or thread (default: the\n"
	"                          function's)\n"
	"  -t, --timeout SECONDS   bound each item's own run\n"
	"  -p, --priority N        higher runs first (default 0)\n"
	"\nEach line of stdin is one item: JSON if it parses, else the line\n"
	"as a string. Results go to stdout one a line (a string as its\n"
	"text, else JSON); with --json each line is {\"index\": I,\n"
	"\"result\": V} or {\"index\": I, \"error\": E}. A failed item\n"
	"prints LINE: TYPE: MESSAGE on stderr, the rest go on, and poolctl\n"
	"exits 1 at the end. When stderr is a terminal, a progress bar\n"
	"shows there.\n", map_run
};

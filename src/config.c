/*
 * Settings. The file and the flags go through one parser, config_set, so a
 * value means the same wherever it is written. Keys are the long flags with
 * '_' for '-'.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "xmalloc.h"

enum config_type {
	CONFIG_LONG,		/* integer in [min, max] */
	CONFIG_BYTES,		/* integer with an optional K, M or G */
	CONFIG_SECONDS,		/* non-negative decimal number */
	CONFIG_BOOL,
	CONFIG_STRING,
	CONFIG_GROUP,		/* a group name that must exist */
	CONFIG_LIST,		/* each setting adds one string */
	CONFIG_DURABILITY,	/* fsync, batch or off */
};

/*
 * What a reload (SIGHUP) does with a setting: use the new value, or keep
 * the one in use until poold restarts, because something fixed at start-up
 * holds it: the listener, the loaded plugins, or workers and programs that
 * took a copy when they started.
 */
enum config_reload {
	CONFIG_LIVE,
	CONFIG_RESTART,
};

static const struct config_key {
	const char		*name;
	enum config_type	 type;
	size_t			 offset;
	long			 min;
	long			 max;
	enum config_reload	 reload;
} config_keys[] = {
	{ "socket", CONFIG_STRING, offsetof(struct config, socket),
	    0, 0, CONFIG_RESTART },
	{ "processes", CONFIG_LONG, offsetof(struct config, processes),
	    1, 1024, CONFIG_LIVE },
	{ "threads", CONFIG_LONG, offsetof(struct config, threads),
	    1, 1024, CONFIG_LIVE },
	{ "plugin", CONFIG_LIST, offsetof(struct config, plugins),
	    0, 0, CONFIG_RESTART },
	{ "plugin_dir", CONFIG_STRING, offsetof(struct config, plugin_dir),
	    0, 0, CONFIG_RESTART },
	{ "max_tasks_per_child", CONFIG_LONG,
	    offsetof(struct config, max_tasks_per_child),
	    0, LONG_MAX, CONFIG_LIVE },
	{ "max_rss_per_child", CONFIG_BYTES,
	    offsetof(struct config, max_rss_per_child),
	    0, LONG_MAX, CONFIG_LIVE },
	{ "max_result_bytes", CONFIG_BYTES,
	    offsetof(struct config, max_result_bytes),
	    64, 1L << 30, CONFIG_RESTART },
	{ "max_output_bytes", CONFIG_BYTES,
	    offsetof(struct config, max_output_bytes),
	    0, 1L << 30, CONFIG_RESTART },
	{ "kill_timeout", CONFIG_SECONDS, offsetof(struct config, kill_timeout),
	    0, 0, CONFIG_RESTART },
	{ "verbose", CONFIG_BOOL, offsetof(struct config, verbose),
	    0, 0, CONFIG_LIVE },
	{ "max_request_bytes", CONFIG_BYTES,
	    offsetof(struct config, max_request_bytes),
	    64, 1L << 30, CONFIG_LIVE },
	{ "max_pending", CONFIG_LONG, offsetof(struct config, max_pending),
	    0, LONG_MAX, CONFIG_LIVE },
	{ "max_connections", CONFIG_LONG,
	    offsetof(struct config, max_connections),
	    1, 1000000, CONFIG_LIVE },
	{ "result_ttl", CONFIG_SECONDS, offsetof(struct config, result_ttl),
	    0, 0, CONFIG_LIVE },
	{ "admin_group", CONFIG_GROUP, offsetof(struct config, admin_group),
	    0, 0, CONFIG_LIVE },
	{ "shutdown_timeout", CONFIG_SECONDS,
	    offsetof(struct config, shutdown_timeout),
	    0, 0, CONFIG_LIVE },
	{ "output_watermark", CONFIG_BYTES,
	    offsetof(struct config, output_watermark),
	    4096, 1L << 30, CONFIG_LIVE },
	{ "state_dir", CONFIG_STRING, offsetof(struct config, state_dir),
	    0, 0, CONFIG_RESTART },
	{ "durability", CONFIG_DURABILITY,
	    offsetof(struct config, durability), 0, 0, CONFIG_RESTART },
	/* The python plugin's: it takes them once, at start-up. */
	{ "python_path", CONFIG_STRING, offsetof(struct config, python_path),
	    0, 0, CONFIG_RESTART },
	{ "python_initializer", CONFIG_STRING,
	    offsetof(struct config, python_initializer),
	    0, 0, CONFIG_RESTART },
	{ "max_workers_per_uid", CONFIG_LONG,
	    offsetof(struct config, max_workers_per_uid),
	    0, 1024, CONFIG_LIVE },
};

static const char *const durability_names[] = {
	[DURABILITY_BATCH] = "batch",
	[DURABILITY_FSYNC] = "fsync",
	[DURABILITY_OFF] = "off",
};

static long
config_cpus(void)
{
	long	ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	return ncpu < 1 ? 1 : ncpu;
}

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->processes = config_cpus();
	cfg->threads = config_cpus() + 4 < 32 ? config_cpus() + 4 : 32;
	cfg->plugin_dir = xstrdup(POOLD_PLUGIN_DIR);
	cfg->max_result_bytes = 16L << 20;
	cfg->max_output_bytes = 1L << 20;
	cfg->kill_timeout = 2;
	cfg->max_request_bytes = 16L << 20;
	cfg->max_pending = 1000000;
	cfg->max_connections = 1024;
	cfg->result_ttl = 3600;
	cfg->shutdown_timeout = 30;
	cfg->output_watermark = 4L << 20;
}

void
config_free(struct config *cfg)
{
	size_t	i;

	for (i = 0; i < cfg->nplugins; i++)
		free(cfg->plugins[i]);
	free(cfg->plugins);
	free(cfg->socket);
	free(cfg->admin_group);
	free(cfg->plugin_dir);
	free(cfg->state_dir);
	free(cfg->python_path);
	free(cfg->python_initializer);
	memset(cfg, 0, sizeof *cfg);
}

static int
config_parse_long(const char *value, long *out)
{
	char	*end;

	if (!isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	*out = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

static int
config_parse_bytes(const char *value, long *out)
{
	char	*end;
	long	 n, unit = 1;

	if (!isdigit((unsigned char)*value))
		return -1;
	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'K': case 'k':
		unit = 1L << 10;
		break;
	case 'M': case 'm':
		unit = 1L << 20;
		break;
	case 'G': case 'g':
		unit = 1L << 30;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > LONG_MAX / unit)
		return -1;
	*out = n * unit;
	return 0;
}

static int
config_parse_seconds(const char *value, double *out)
{
	char	*end;

	if (!isdigit((unsigned char)*value) && *value != '.')
		return -1;
	errno = 0;
	*out = strtod(value, &end);
	if (errno != 0 || *end != '\0' || !isfinite(*out) || *out < 0)
		return -1;
	return 0;
}

static int
config_parse_bool(const char *value, int *out)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "1") == 0)
		*out = 1;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
	    strcmp(value, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
config_parse_durability(const char *value, enum durability *out)
{
	size_t	i;

	for (i = 0; i < sizeof durability_names / sizeof durability_names[0];
	    i++) {
		if (strcmp(durability_names[i], value) == 0) {
			*out = (enum durability)i;
			return 0;
		}
	}
	return -1;
}

static int
config_lookup_group(const char *name, gid_t *gid, char **cause)
{
	struct group	*gr;

	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		xasprintf(cause, "admin_group: %s: %s", name,
		    errno != 0 ? strerror(errno) : "no such group");
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

static int
config_set_key(struct config *cfg, const struct config_key *key,
    const char *value, char **cause)
{
	char	*field = (char *)cfg + key->offset;
	long	 n;

	switch (key->type) {
	case CONFIG_LONG:
	case CONFIG_BYTES:
		if ((key->type == CONFIG_LONG ? config_parse_long(value, &n) :
		    config_parse_bytes(value, &n)) == -1) {
			xasprintf(cause, "%s: not a whole number: '%s'",
			    key->name, value);
			return -1;
		}
		if (n < key->min || n > key->max) {
			xasprintf(cause, "%s: %ld is outside %ld to %ld",
			    key->name, n, key->min, key->max);
			return -1;
		}
		*(long *)field = n;
		return 0;
	case CONFIG_SECONDS:
		if (config_parse_seconds(value, (double *)field) == -1) {
			xasprintf(cause, "%s: not a number of seconds >= 0: "
			    "'%s'", key->name, value);
			return -1;
		}
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, (int *)field) == -1) {
			xasprintf(cause, "%s: not true or false: '%s'",
			    key->name, value);
			return -1;
		}
		return 0;
	case CONFIG_DURABILITY:
		if (config_parse_durability(value,
		    (enum durability *)field) == -1) {
			xasprintf(cause, "%s: not fsync, batch or off: '%s'",
			    key->name, value);
			return -1;
		}
		return 0;
	case CONFIG_GROUP:
		if (config_lookup_group(value, &cfg->admin_gid, cause) == -1)
			return -1;
		/* FALLTHROUGH */
	case CONFIG_STRING:
		if (*value == '\0') {
			xasprintf(cause, "%s: empty value", key->name);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case CONFIG_LIST:
		if (*value == '\0') {
			xasprintf(cause, "%s: empty value", key->name);
			return -1;
		}
		cfg->plugins = xreallocarray(cfg->plugins, cfg->nplugins + 1,
		    sizeof *cfg->plugins);
		cfg->plugins[cfg->nplugins++] = xstrdup(value);
		return 0;
	}
	return -1;
}

/* A string setting's value by its key (plugins read theirs); NULL: unset. */
const char *
config_string(const struct config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (strcmp(config_keys[i].name, name) == 0 &&
		    (config_keys[i].type == CONFIG_STRING ||
		    config_keys[i].type == CONFIG_GROUP))
			return *(char *const *)((const char *)cfg +
			    config_keys[i].offset);
	}
	return NULL;
}

/* Set one key from its text; on error, *cause says why. */
int
config_set(struct config *cfg, const char *name, const char *value,
    char **cause)
{
	size_t	i;

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return config_set_key(cfg, &config_keys[i], value,
			    cause);
	}
	xasprintf(cause, "unknown setting '%s'", name);
	return -1;
}

static char *
config_trim(char *s)
{
	char	*end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int
config_line(struct config *cfg, char *line, char **cause)
{
	char	*hash, *eq, *key, *value;

	if ((hash = strchr(line, '#')) != NULL)
		*hash = '\0';
	key = config_trim(line);
	if (*key == '\0')
		return 0;
	if ((eq = strchr(key, '=')) == NULL) {
		xasprintf(cause, "expected 'key = value'");
		return -1;
	}
	*eq = '\0';
	key = config_trim(key);
	value = config_trim(eq + 1);
	return config_set(cfg, key, value, cause);
}

/* Read a config file; on error, *cause names the file, line and reason. */
int
config_load(struct config *cfg, const char *path, char **cause)
{
	FILE	*fp;
	char	*line = NULL, *why = NULL;
	size_t	 size = 0;
	ssize_t	 len;
	unsigned lineno = 0;
	int	 rc = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &size, fp)) != -1) {
		lineno++;
		if (strlen(line) != (size_t)len) {
			xasprintf(cause, "%s:%u: NUL byte in line", path,
			    lineno);
			rc = -1;
			break;
		}
		if (config_line(cfg, line, &why) == -1) {
			xasprintf(cause, "%s:%u: %s", path, lineno, why);
			free(why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/*
 * Settings from scratch: the defaults, the file, then the flags. -1 if the
 * file is bad, -2 if a flag is, with *cause saying why; cfg is then freed.
 */
int
config_read(struct config *cfg, const struct config_source *src,
    char **cause)
{
	size_t	i;

	config_defaults(cfg);
	if (src->path != NULL && config_load(cfg, src->path, cause) == -1) {
		config_free(cfg);
		return -1;
	}
	for (i = 0; i < src->nflags; i++) {
		if (config_set(cfg, src->flags[i].key, src->flags[i].value,
		    cause) == -1) {
			config_free(cfg);
			return -2;
		}
	}
	return 0;
}

static int
config_same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
config_same(const struct config *a, const struct config *b,
    const struct config_key *key)
{
	const char	*fa = (const char *)a + key->offset;
	const char	*fb = (const char *)b + key->offset;
	size_t		 i;

	switch (key->type) {
	case CONFIG_LONG:
	case CONFIG_BYTES:
		return *(const long *)fa == *(const long *)fb;
	case CONFIG_SECONDS:
		return *(const double *)fa == *(const double *)fb;
	case CONFIG_BOOL:
		return *(const int *)fa == *(const int *)fb;
	case CONFIG_DURABILITY:
		return *(const enum durability *)fa ==
		    *(const enum durability *)fb;
	case CONFIG_STRING:
	case CONFIG_GROUP:
		return config_same_string(*(char *const *)fa,
		    *(char *const *)fb);
	case CONFIG_LIST:
		if (a->nplugins != b->nplugins)
			return 0;
		for (i = 0; i < a->nplugins; i++) {
			if (strcmp(a->plugins[i], b->plugins[i]) != 0)
				return 0;
		}
		return 1;
	}
	return 0;
}

/* Take key's value from next; a string is swapped, so next frees the old. */
static void
config_take(struct config *cur, struct config *next,
    const struct config_key *key)
{
	char	*fc = (char *)cur + key->offset;
	char	*fn = (char *)next + key->offset;
	char	*s;

	switch (key->type) {
	case CONFIG_LONG:
	case CONFIG_BYTES:
		*(long *)fc = *(long *)fn;
		break;
	case CONFIG_SECONDS:
		*(double *)fc = *(double *)fn;
		break;
	case CONFIG_BOOL:
		*(int *)fc = *(int *)fn;
		break;
	case CONFIG_DURABILITY:
		*(enum durability *)fc = *(enum durability *)fn;
		break;
	case CONFIG_GROUP:
		cur->admin_gid = next->admin_gid;
		/* FALLTHROUGH */
	case CONFIG_STRING:
		s = *(char **)fc;
		*(char **)fc = *(char **)fn;
		*(char **)fn = s;
		break;
	case CONFIG_LIST:
		break;
	}
}

/*
 * A reload: cur takes every setting of next that can change while poold
 * runs. Returns the names of those that changed but wait for a restart
 * (NULL: none), to be freed.
 */
char *
config_update(struct config *cur, struct config *next)
{
	const struct config_key	*key;
	char			*kept = NULL, *more;
	size_t			 i;

	for (i = 0; i < sizeof config_keys / sizeof config_keys[0]; i++) {
		key = &config_keys[i];
		if (key->reload == CONFIG_LIVE) {
			config_take(cur, next, key);
			continue;
		}
		if (config_same(cur, next, key))
			continue;
		if (kept == NULL)
			kept = xstrdup(key->name);
		else {
			xasprintf(&more, "%s, %s", kept, key->name);
			free(kept);
			kept = more;
		}
	}
	return kept;
}

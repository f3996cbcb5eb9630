/*
 * Output: compact JSON for --json, and for people values as text, times,
 * sizes and aligned tables.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "poolctl.h"

/*
 * Compact JSON text for v. A real is written with the fewest digits (15
 * to 17) that still read back as the same value, so 0.3 stays 0.3 instead
 * of jansson's full 0.29999999999999999.
 */
static char *
output_dump(json_t *v)
{
	json_t	*back;
	char	*text;
	int	 digits;

	for (digits = 15; ; digits++) {
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(digits));
		if (text == NULL || digits == 17)
			return text;
		back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (back != NULL && json_equal(back, v)) {
			json_decref(back);
			return text;
		}
		json_decref(back);
		free(text);
	}
}

/* One JSON value on one line of stdout. */
void
ctl_print_json(json_t *v)
{
	char	*text;

	if ((text = output_dump(v)) == NULL) {
		ctl_warnx("cannot encode a value as JSON");
		return;
	}
	fputs(text, stdout);
	putchar('\n');
	free(text);
}

/* A value for people: a string as its text, anything else as JSON. */
void
ctl_print_value(json_t *v)
{
	if (json_is_string(v)) {
		fwrite(json_string_value(v), 1, json_string_length(v), stdout);
		putchar('\n');
	} else
		ctl_print_json(v);
}

/* A result as --json or people want it. */
void
ctl_print_result(struct ctl *ctl, json_t *v)
{
	if (ctl->json)
		ctl_print_json(v);
	else
		ctl_print_value(v);
}

/* The string member key of obj, or dflt when it is missing or not one. */
const char *
ctl_str(json_t *obj, const char *key, const char *dflt)
{
	const char	*s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : dflt;
}

/* The number member key of obj; 0 when it is missing. */
double
ctl_num(json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* A task error object as "TYPE: message" (after prefix, when given). */
void
ctl_print_error(FILE *out, const char *prefix, json_t *err)
{
	if (prefix != NULL)
		fprintf(out, "%s: ", prefix);
	fprintf(out, "%s: %s\n", ctl_str(err, "type", "Error"),
	    ctl_str(err, "message", "(no message)"));
}

/* Seconds since the epoch as local time to the millisecond. */
char *
ctl_format_time(double t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		secs = (time_t)t;
	char		date[64];
	int		ms = (int)((t - (double)secs) * 1000);

	if (localtime_r(&secs, &tm) == NULL ||
	    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%.3f", t);
	else
		snprintf(buf, len, "%s.%03d", date, ms < 0 ? 0 : ms % 1000);
	return buf;
}

/* A size in bytes, short: 512B, 1.9M. */
char *
ctl_format_bytes(double n, char *buf, size_t len)
{
	static const char	units[] = "BKMGTP";
	size_t			i = 0;

	while (n >= 1024 && i + 1 < sizeof units - 1) {
		n /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f%c", n, units[i]);
	else
		snprintf(buf, len, "%.1f%c", n, units[i]);
	return buf;
}

/* A length of time, short: 4.2s, 5m06s, 3h02m, 2d04h. */
char *
ctl_format_duration(double s, char *buf, size_t len)
{
	long	n;

	if (s < 0)
		s = 0;
	n = (long)s;
	if (s < 60)
		snprintf(buf, len, "%.1fs", s);
	else if (n < 3600)
		snprintf(buf, len, "%ldm%02lds", n / 60, n % 60);
	else if (n < 86400)
		snprintf(buf, len, "%ldh%02ldm", n / 3600, n % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", n / 86400, n % 86400 / 3600);
	return buf;
}

/* Flush stdout; -1, reported, if what was written did not all get out. */
int
ctl_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "poolctl: writing stdout: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

struct ctl_table {
	size_t	  ncols;
	size_t	  nrows;
	char	**cells;	/* nrows * ncols, row after row */
	size_t	 *width;
};

/* A table with ncols columns, whose headings follow. */
struct ctl_table *
ctl_table_new(size_t ncols, ...)
{
	struct ctl_table	*t = xmalloc(sizeof *t);
	va_list			 ap;
	size_t			 i;

	t->ncols = ncols;
	t->nrows = 1;
	t->width = xreallocarray(NULL, ncols, sizeof *t->width);
	t->cells = xreallocarray(NULL, ncols, sizeof *t->cells);
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++) {
		t->cells[i] = xstrdup(va_arg(ap, const char *));
		t->width[i] = strlen(t->cells[i]);
	}
	va_end(ap);
	return t;
}

/* Add a row: ncols strings, copied (NULL shows as "-"). */
void
ctl_table_add(struct ctl_table *t, ...)
{
	va_list	ap;
	size_t	i, base = t->nrows * t->ncols, len;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof *t->cells);
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char	*cell = va_arg(ap, const char *);

		t->cells[base + i] = xstrdup(cell != NULL ? cell : "-");
		if ((len = strlen(t->cells[base + i])) > t->width[i])
			t->width[i] = len;
	}
	va_end(ap);
	t->nrows++;
}

/* Print with columns two spaces apart; the last is not padded. */
void
ctl_table_print(struct ctl_table *t, FILE *out)
{
	size_t	r, i;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char	*cell = t->cells[r * t->ncols + i];

			if (i + 1 == t->ncols)
				fprintf(out, "%s\n", cell);
			else
				fprintf(out, "%-*s  ", (int)t->width[i], cell);
		}
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}

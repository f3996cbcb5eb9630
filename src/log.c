/*
 * Logging: one line per message on stderr. Under systemd (JOURNAL_STREAM
 * set) each line carries a <N> priority prefix so the journal keeps the
 * level; elsewhere the level is spelled out.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum log_level	log_level = LOG_LEVEL_INFO;
static int		log_journal;

static const struct {
	const char	*name;
	int		 syslog;	/* sd-daemon(3) prefix */
} log_levels[] = {
	[LOG_LEVEL_ERROR] = { "error", 3 },
	[LOG_LEVEL_WARN] = { "warning", 4 },
	[LOG_LEVEL_INFO] = { "info", 6 },
	[LOG_LEVEL_DEBUG] = { "debug", 7 },
};

/* Set the level and find out whether stderr goes to the journal. */
void
log_init(enum log_level level)
{
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

static void __attribute__((format(printf, 4, 0)))
log_vemit(enum log_level level, int errnum, const char *func,
    const char *fmt, va_list ap)
{
	char	msg[1024];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_journal)
		fprintf(stderr, "<%d>%s: %s", log_levels[level].syslog, func,
		    msg);
	else
		fprintf(stderr, "poold: %s: %s: %s", log_levels[level].name,
		    func, msg);
	if (errnum >= 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

/* Log one line; errnum >= 0 appends its text. errno is preserved. */
void
log_emit(enum log_level level, int errnum, const char *func,
    const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vemit(level, errnum, func, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

/* Log an error that leaves nothing sane to do, and exit. */
void
log_exit(int errnum, const char *func, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, errnum, func, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * What the benchmark's C programs share: giving up with a message, the
 * monotonic clock, counts from the command line, and a connection to
 * poold's socket.
 */
#ifndef POOLD_BENCH_UTIL_H
#define POOLD_BENCH_UTIL_H

/* A failed system call: the message, errno's text, and exit 1. */
void	die(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Anything else that went wrong: the message and exit 1. */
void	diex(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
double	now(void);
/* A count from 1 to INT_MAX / 2, or diex naming what it was for. */
long	parse_count(const char *, const char *);
/* A blocking, close-on-exec stream connected to the socket at path. */
int	bench_connect(const char *);

#endif

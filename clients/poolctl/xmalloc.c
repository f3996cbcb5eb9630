/*
 * Checked allocation. poolctl holds what one command needs; without memory
 * for that there is nothing useful left to do but say so and stop.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poolctl.h"

static void
xmalloc_fail(size_t n, size_t size)
{
	fprintf(stderr, "poolctl: out of memory (%zu x %zu bytes)\n", n, size);
	exit(CTL_FAILED);
}

void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		xmalloc_fail(1, size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		xmalloc_fail(n, size);
	if ((p = realloc(old, n * size == 0 ? 1 : n * size)) == NULL)
		xmalloc_fail(n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		xmalloc_fail(1, strlen(s) + 1);
	return p;
}

int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n == -1)
		xmalloc_fail(1, strlen(fmt));
	return n;
}

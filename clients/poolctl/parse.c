/* Values from the command line, stdin and files, made into JSON. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "poolctl.h"

/*
 * Text that parses as JSON is that value; anything else is the text as a
 * string, so `submit echo 42` sends 42 and `submit echo hello` sends
 * "hello" (and `'"42"'` the string). NULL when the text is neither: not
 * JSON and not valid UTF-8.
 */
json_t *
ctl_parse_value(const char *text, size_t len)
{
	json_error_t	 err;
	json_t		*v;

	v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
	    JSON_REJECT_DUPLICATES, &err);
	if (v != NULL)
		return v;
	return json_stringn(text, len);
}

/* A number of seconds >= 0; -1 if text is not one. */
int
ctl_parse_seconds(const char *text, double *out)
{
	char	*end;

	errno = 0;
	*out = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || !isfinite(*out) ||
	    *out < 0)
		return -1;
	return 0;
}

/* A whole number in [min, max]; -1 if text is not one. */
int
ctl_parse_long(const char *text, long min, long max, long *out)
{
	char	*end;

	errno = 0;
	*out = strtol(text, &end, 10);
	if (end == text || *end != '\0' || errno != 0 || *out < min ||
	    *out > max)
		return -1;
	return 0;
}

/* Split NAME=VALUE; -1 without '=' or with an empty NAME. */
static int
parse_pair(const char *text, char **name, const char **value)
{
	const char	*eq;

	if ((eq = strchr(text, '=')) == NULL || eq == text)
		return -1;
	*name = xmalloc((size_t)(eq - text) + 1);
	memcpy(*name, text, (size_t)(eq - text));
	(*name)[eq - text] = '\0';
	*value = eq + 1;
	return 0;
}

/* Add NAME=VALUE to kwargs, the value read as ctl_parse_value does. */
int
ctl_parse_kwarg(const char *text, json_t *kwargs)
{
	const char	*value;
	char		*name;
	json_t		*v;
	int		 rc = -1;

	if (parse_pair(text, &name, &value) == -1)
		return -1;
	if ((v = ctl_parse_value(value, strlen(value))) != NULL &&
	    json_object_set_new(kwargs, name, v) == 0)
		rc = 0;
	free(name);
	return rc;
}

/* Add NAME=VALUE to an environment object; the value is always text. */
int
ctl_parse_env(const char *text, json_t *env)
{
	const char	*value;
	char		*name;
	json_t		*v;
	int		 rc = -1;

	if (parse_pair(text, &name, &value) == -1)
		return -1;
	if ((v = json_string(value)) != NULL &&
	    json_object_set_new(env, name, v) == 0)
		rc = 0;
	free(name);
	return rc;
}

/*
 * Bytes as the daemon takes them: a string when they are UTF-8, else
 * {"base64": ...}, so no byte is lost.
 */
json_t *
ctl_bytes_value(const void *data, size_t len)
{
	json_t	*v;
	char	*b64;
	size_t	 n;

	if ((v = json_stringn(data, len)) != NULL)
		return v;
	b64 = base64_encode(data, len, &n);
	v = json_pack("{s:s%}", "base64", b64, n);
	free(b64);
	return v;
}

/* Read all of a file ("-": stdin) into *buf; -1 with errno on failure. */
int
ctl_read_file(const char *path, char **buf, size_t *len)
{
	char	*data = NULL;
	size_t	 size = 0, n = 0;
	ssize_t	 got;
	int	 fd, saved;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		if (n == size) {
			size = size == 0 ? 65536 : size * 2;
			data = xreallocarray(data, size, 1);
		}
		got = read(fd, data + n, size - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	if (got == -1) {
		free(data);
		errno = saved;
		return -1;
	}
	*buf = data;
	*len = n;
	return 0;
}

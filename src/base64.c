/* Base64 encoding and strict decoding: no whitespace, padding required. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "xmalloc.h"

static const char base64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode len bytes; the result is NUL-terminated, its length in *outlen. */
char *
base64_encode(const void *data, size_t len, size_t *outlen)
{
	const unsigned char	*in = data;
	char			*out, *p;
	uint32_t		 v;
	size_t			 i;

	out = p = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*p++ = base64_chars[v >> 18];
		*p++ = base64_chars[(v >> 12) & 63];
		*p++ = base64_chars[(v >> 6) & 63];
		*p++ = base64_chars[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*p++ = base64_chars[v >> 18];
		*p++ = base64_chars[(v >> 12) & 63];
		*p++ = i + 1 < len ? base64_chars[(v >> 6) & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	*outlen = (size_t)(p - out);
	return out;
}

static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode; -1 if the text is not canonical padded base64. */
int
base64_decode(const char *text, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*buf;
	size_t		 i, n = 0, pad = 0;
	int		 a, b, c, d;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && text[len - 1] == '=')
		pad = len > 1 && text[len - 2] == '=' ? 2 : 1;
	buf = xmalloc(len / 4 * 3 + 1);
	for (i = 0; i < len; i += 4) {
		int	last = i + 4 == len;

		a = base64_value(text[i]);
		b = base64_value(text[i + 1]);
		c = last && pad == 2 ? 0 : base64_value(text[i + 2]);
		d = last && pad >= 1 ? 0 : base64_value(text[i + 3]);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			goto bad;
		buf[n++] = (unsigned char)(a << 2 | b >> 4);
		if (!(last && pad == 2))
			buf[n++] = (unsigned char)(b << 4 | c >> 2);
		if (!(last && pad >= 1))
			buf[n++] = (unsigned char)(c << 6 | d);
	}
	*out = buf;
	*outlen = n;
	return 0;
bad:
	free(buf);
	return -1;
}

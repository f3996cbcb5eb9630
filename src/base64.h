/* Base64 (RFC 4648, with padding), for bytes that are not UTF-8. */
#ifndef POOLD_BASE64_H
#define POOLD_BASE64_H

#include <stddef.h>

char	*base64_encode(const void *, size_t, size_t *);
int	 base64_decode(const char *, size_t, unsigned char **, size_t *);

#endif

/*
 * CRC-32, a byte at a time from a table: the journal checks every record
 * with it, at a few hundred megabytes a second, which is far more than the
 * journal is ever asked to do. Start with 0; feed the result back in to
 * continue over more bytes.
 */
#include "autoconf.h"

#include <pthread.h>

#include "crc32.h"

static uint32_t		crc32_table[256];
static pthread_once_t	crc32_once = PTHREAD_ONCE_INIT;

static void
crc32_init(void)
{
	uint32_t	c;
	int		i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc32_table[i] = c;
	}
}

uint32_t
crc32_update(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char	*p = buf;

	pthread_once(&crc32_once, crc32_init);
	crc = ~crc;
	while (len-- > 0)
		crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

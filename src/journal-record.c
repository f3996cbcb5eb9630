/* The journal's header and records: writing them and reading them back. */
#include "autoconf.h"

#include <string.h>

#include "crc32.h"
#include "jbuf.h"
#include "journal-record.h"
#include "log.h"

static void
put32(char *p, uint32_t v)
{
	int	i;

	for (i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

static void
put64(char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
}

static uint32_t
get32(const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;

	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	    (uint32_t)u[3] << 24;
}

static uint64_t
get64(const char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* The header of a new file, JOURNAL_HEADER_SIZE bytes. */
void
journal_header(char *out)
{
	memcpy(out, JOURNAL_MAGIC, 8);
	put32(out + 8, JOURNAL_VERSION);
	put32(out + 12, crc32_update(0, out, 12));
}

/*
 * Whether a file starts with a header this daemon reads: 0, or -1 with
 * why. A file too short to hold one is the caller's to judge.
 */
int
journal_header_check(const char *p, size_t len, const char **why)
{
	if (len < JOURNAL_HEADER_SIZE || memcmp(p, JOURNAL_MAGIC, 8) != 0) {
		*why = "not a poold journal";
		return -1;
	}
	if (get32(p + 12) != crc32_update(0, p, 12)) {
		*why = "its header is corrupt";
		return -1;
	}
	if (get32(p + 8) != JOURNAL_VERSION) {
		*why = "it is of another format version";
		return -1;
	}
	return 0;
}

/*
 * Start a record in b: its head, with length and CRC left for
 * journal_record_end once the body has been written after it. Returns
 * where the record starts.
 */
size_t
journal_record_begin(struct jbuf *b, enum journal_type type, uint64_t id)
{
	size_t	start = b->len;

	jbuf_reserve(b, JOURNAL_RECORD_HEAD);
	memset(b->data + start, 0, 8);
	b->data[start + 8] = (char)type;
	put64(b->data + start + 9, id);
	b->len += JOURNAL_RECORD_HEAD;
	return start;
}

/* Seal the record begun at start; returns its size. */
size_t
journal_record_end(struct jbuf *b, size_t start)
{
	size_t		size = b->len - start;
	uint32_t	crc;
	char		*p = b->data + start;

	if (size - 8 > JOURNAL_RECORD_MAX)
		fatalx("a journal record of %zu bytes", size);
	put32(p, (uint32_t)(size - 8));
	crc = crc32_update(0, p, 4);
	crc = crc32_update(crc, p + 8, size - 8);
	put32(p + 4, crc);
	return size;
}

/* A record without a body. */
size_t
journal_record_add(struct jbuf *b, enum journal_type type, uint64_t id)
{
	return journal_record_end(b, journal_record_begin(b, type, id));
}

/* Read the record at off in p[0..len). */
enum journal_scan
journal_record_next(const char *p, size_t len, size_t off,
    struct journal_rec *rec)
{
	uint32_t	n, crc;

	if (off == len)
		return JOURNAL_SCAN_END;
	if (len - off < JOURNAL_RECORD_HEAD)
		return JOURNAL_SCAN_TORN;
	n = get32(p + off);
	if (n < JOURNAL_RECORD_HEAD - 8 || n > JOURNAL_RECORD_MAX)
		return JOURNAL_SCAN_CORRUPT;
	if (len - off - 8 < n)
		return JOURNAL_SCAN_TORN;
	crc = crc32_update(0, p + off, 4);
	crc = crc32_update(crc, p + off + 8, n);
	if (crc != get32(p + off + 4))
		return JOURNAL_SCAN_CORRUPT;
	rec->type = (enum journal_type)(unsigned char)p[off + 8];
	rec->id = get64(p + off + 9);
	rec->body = p + off + JOURNAL_RECORD_HEAD;
	rec->body_len = n - (JOURNAL_RECORD_HEAD - 8);
	rec->size = (size_t)n + 8;
	return JOURNAL_SCAN_OK;
}

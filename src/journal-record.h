/*
 * The journal's file format. A file is a 16-byte header and then records:
 *
 *   header   "POOLDJNL", u32 version, u32 CRC-32 of the 12 bytes before it
 *   record   u32 length (of everything after the CRC), u32 CRC-32 (of the
 *            length's 4 bytes, then of those length bytes), u8 type,
 *            u64 future id, then a body: a compact JSON object, or nothing
 *
 * Integers are little-endian. A reader takes records until the file ends
 * or one is short (torn: written in part when the daemon died) or fails
 * its CRC (corrupt); what follows the last good record is the tail that
 * start-up truncates.
 */
#ifndef POOLD_JOURNAL_RECORD_H
#define POOLD_JOURNAL_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct jbuf;

#define JOURNAL_MAGIC		"POOLDJNL"
#define JOURNAL_VERSION		1
#define JOURNAL_HEADER_SIZE	16
#define JOURNAL_RECORD_HEAD	17		/* length, CRC, type, id */
/* Larger is not a record: its length field was torn or corrupted. */
#define JOURNAL_RECORD_MAX	(UINT32_MAX - 64)

enum journal_type {
	JOURNAL_ACCEPT = 1,	/* a future accepted: all it needs to run */
	JOURNAL_START,		/* an attempt started */
	JOURNAL_END,		/* done: state and result or error */
	JOURNAL_DROP,		/* forgotten or expired (no body) */
	JOURNAL_NEXT_ID,	/* ids below this one are taken (no body) */
};

enum journal_scan {
	JOURNAL_SCAN_OK,	/* a record */
	JOURNAL_SCAN_END,	/* the end of the file, exactly */
	JOURNAL_SCAN_TORN,	/* a record cut short */
	JOURNAL_SCAN_CORRUPT,	/* a record whose CRC does not match */
};

struct journal_rec {
	enum journal_type	 type;
	uint64_t		 id;
	const char		*body;
	size_t			 body_len;
	size_t			 size;		/* all of it, head included */
};

void	journal_header(char *);
int	journal_header_check(const char *, size_t, const char **);
size_t	journal_record_begin(struct jbuf *, enum journal_type, uint64_t);
size_t	journal_record_end(struct jbuf *, size_t);
size_t	journal_record_add(struct jbuf *, enum journal_type, uint64_t);
enum journal_scan journal_record_next(const char *, size_t, size_t,
	    struct journal_rec *);

#endif

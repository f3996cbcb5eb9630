/*
 * The journal's writer: one thread that does all of the journal's file
 * I/O, so the loop never waits on a disk. The loop appends records; the
 * writer writes them in order, syncs as the durability setting asks, and
 * tells the loop through an eventfd how far records are durable. A
 * compaction's snapshot goes to a new file beside the journal, with the
 * records appended meanwhile (the delta) after it; the new file is synced
 * and renamed over the journal, and the writer goes on in it.
 *
 * When the journal file cannot be written (a full disk, an I/O error),
 * the file is cut back to its last whole record and the writer drops what
 * it is given until a snapshot has replaced the file.
 *
 * Locking: one mutex guards what the loop and the writer share (the
 * buffers, the commands, the news); no I/O happens under it.
 */
#ifndef POOLD_JOURNAL_WRITER_H
#define POOLD_JOURNAL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct journal_writer;

struct journal_news {
	uint64_t	done_lsn;	/* durable as promised up to here */
	int		error;		/* errno while the file cannot be written */
	int		snapshot;	/* 1: a new file is in place; -1: failed */
	int		snapshot_errno;
	size_t		snapshot_size;	/* the new file's, at its switch */
	uint64_t	snapshot_lsn;	/* what of the appended it held */
};

struct journal_writer *journal_writer_new(int, int, size_t, enum durability,
	    int, int);
void	journal_writer_free(struct journal_writer *);
void	journal_writer_append(struct journal_writer *, const char *, size_t,
	    uint64_t);
void	journal_writer_begin(struct journal_writer *, const char *, size_t);
void	journal_writer_snapshot(struct journal_writer *, const char *, size_t,
	    int);
void	journal_writer_abort(struct journal_writer *);
void	journal_writer_want(struct journal_writer *, int);
void	journal_writer_news(struct journal_writer *, struct journal_news *);
void	journal_writer_wait_snapshot(struct journal_writer *);

#endif

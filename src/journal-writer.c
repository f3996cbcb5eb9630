/* The journal's writer thread: file I/O, syncs and the switch to a snapshot. */
#include "autoconf.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jbuf.h"
#include "journal-writer.h"
#include "log.h"
#include "xmalloc.h"

#define JOURNAL_FILE		"journal"
#define JOURNAL_NEW		"journal.new"

/* batch: how long after a write its sync may come. */
#define WRITER_SYNC_DELAY_NS	5000000L

enum {
	CMD_BEGIN = 1,		/* open the new file */
	CMD_FINISH = 2,		/* the snapshot is whole: switch to it */
	CMD_ABORT = 4,		/* drop the snapshot */
};

struct journal_writer {
	pthread_t		 thread;
	pthread_t		 syncer;	/* batch: syncs beside the writes */
	pthread_mutex_t		 lock;
	pthread_mutex_t		 fdlock;	/* the syncer's use of fd */
	pthread_cond_t		 work;		/* the loop gave something */
	pthread_cond_t		 told;		/* the writer has news */
	pthread_cond_t		 dirtied;	/* the syncer has work */
	enum durability		 mode;
	int			 dirfd;
	int			 efd;

	/* Shared, under lock. */
	struct jbuf		 main;		/* records to append */
	uint64_t		 main_lsn;	/* the lsn at main's end */
	struct jbuf		 snap;		/* snapshot bytes */
	int			 cmd;
	int			 stop;
	int			 want;		/* the loop waits on done_lsn */
	struct journal_news	 news;
	uint64_t		 told_lsn;	/* done_lsn the loop was told */
	int			 dirty;		/* written, not yet synced */
	int			 sync_err;	/* the syncer's errno */
	int			 syncer_stop;

	/* The writer's own. */
	int			 fd;
	size_t			 size;		/* of the journal file */
	int			 broken;	/* errno; 0: the file is fine */
	int			 newfd;		/* the snapshot's file; -1 */
	size_t			 newsize;
	int			 newerr;	/* the snapshot failed so */
	int			 capturing;	/* copy appends into delta */
	struct jbuf		 delta;
	struct jbuf		 wbuf;
	struct jbuf		 sbuf;
	int			 unsynced;	/* written since the last sync */
};

static void	*journal_writer_main(void *);
static void	*journal_writer_syncer(void *);

static void
journal_writer_locks(struct journal_writer *w)
{
	pthread_condattr_t	attr;

	if ((errno = pthread_mutex_init(&w->lock, NULL)) != 0 ||
	    (errno = pthread_mutex_init(&w->fdlock, NULL)) != 0)
		fatal("pthread_mutex_init");
	if ((errno = pthread_condattr_init(&attr)) != 0)
		fatal("pthread_condattr_init");
	if ((errno = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0)
		fatal("pthread_condattr_setclock");
	if ((errno = pthread_cond_init(&w->work, &attr)) != 0 ||
	    (errno = pthread_cond_init(&w->told, &attr)) != 0 ||
	    (errno = pthread_cond_init(&w->dirtied, &attr)) != 0)
		fatal("pthread_cond_init");
	pthread_condattr_destroy(&attr);
}

/*
 * A writer appending to fd (size bytes long) in dirfd, telling the loop
 * through efd. broken: the file cannot be written (errno) until a snapshot
 * replaces it. The thread takes no signals: they are the loop's.
 */
struct journal_writer *
journal_writer_new(int dirfd, int fd, size_t size, enum durability mode,
    int efd, int broken)
{
	struct journal_writer	*w = xcalloc(1, sizeof *w);
	sigset_t		 all, old;

	journal_writer_locks(w);
	w->dirfd = dirfd;
	w->fd = fd;
	w->size = size;
	w->mode = mode;
	w->efd = efd;
	w->newfd = -1;
	w->broken = broken;
	w->news.error = broken;
	sigfillset(&all);
	if ((errno = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
		fatal("pthread_sigmask");
	if ((errno = pthread_create(&w->thread, NULL, journal_writer_main,
	    w)) != 0)
		fatal("pthread_create journal writer");
	if (mode == DURABILITY_BATCH && (errno = pthread_create(&w->syncer,
	    NULL, journal_writer_syncer, w)) != 0)
		fatal("pthread_create journal syncer");
	if ((errno = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatal("pthread_sigmask");
	return w;
}

/* Write what is left, sync it, stop the threads and close the file. */
void
journal_writer_free(struct journal_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	if ((errno = pthread_join(w->thread, NULL)) != 0)
		fatal("pthread_join journal writer");
	if (w->newfd != -1) {
		close(w->newfd);
		unlinkat(w->dirfd, JOURNAL_NEW, 0);
	}
	close(w->fd);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->told);
	pthread_cond_destroy(&w->dirtied);
	pthread_mutex_destroy(&w->lock);
	pthread_mutex_destroy(&w->fdlock);
	jbuf_free(&w->main);
	jbuf_free(&w->snap);
	jbuf_free(&w->delta);
	jbuf_free(&w->wbuf);
	jbuf_free(&w->sbuf);
	free(w);
}

/* Records from the loop; lsn is the count of bytes appended with them. */
void
journal_writer_append(struct journal_writer *w, const char *p, size_t len,
    uint64_t lsn)
{
	int	was_idle;

	pthread_mutex_lock(&w->lock);
	was_idle = w->main.len == 0;
	jbuf_add(&w->main, p, len);
	w->main_lsn = lsn;
	if (was_idle)
		pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

/*
 * Begin a snapshot with its first bytes. Every record appended from now
 * on goes to the new file too, after the snapshot.
 */
void
journal_writer_begin(struct journal_writer *w, const char *p, size_t len)
{
	pthread_mutex_lock(&w->lock);
	w->cmd |= CMD_BEGIN;
	jbuf_add(&w->snap, p, len);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

/* More of the snapshot; last: it is whole. */
void
journal_writer_snapshot(struct journal_writer *w, const char *p, size_t len,
    int last)
{
	pthread_mutex_lock(&w->lock);
	jbuf_add(&w->snap, p, len);
	if (last)
		w->cmd |= CMD_FINISH;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

void
journal_writer_abort(struct journal_writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->cmd |= CMD_ABORT;
	w->snap.len = 0;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

/* Whether the loop waits for done_lsn to move (else it is not told). */
void
journal_writer_want(struct journal_writer *w, int want)
{
	pthread_mutex_lock(&w->lock);
	w->want = want;
	pthread_mutex_unlock(&w->lock);
}

/* Take the news; a snapshot's outcome is told once. */
void
journal_writer_news(struct journal_writer *w, struct journal_news *n)
{
	pthread_mutex_lock(&w->lock);
	*n = w->news;
	w->news.snapshot = 0;
	w->told_lsn = w->news.done_lsn;
	pthread_mutex_unlock(&w->lock);
}

/* Block until a snapshot under way has an outcome (at close only). */
void
journal_writer_wait_snapshot(struct journal_writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->news.snapshot == 0)
		pthread_cond_wait(&w->told, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Write all of p at off; -1 with errno. */
static int
journal_writer_pwrite(int fd, const char *p, size_t len, size_t off)
{
	ssize_t	n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += (size_t)n;
	}
	return 0;
}

/* The file cannot be written: cut it back to its last whole record. */
static void
journal_writer_break(struct journal_writer *w, int err)
{
	if (w->broken == 0 && ftruncate(w->fd, (off_t)w->size) == -1)
		log_warn("cannot cut the journal back to %zu bytes", w->size);
	w->broken = err;
	w->unsynced = 0;
}

static void
journal_writer_sync(struct journal_writer *w)
{
	if (w->broken || !w->unsynced)
		return;
	w->unsynced = 0;
	if (fdatasync(w->fd) == -1)
		journal_writer_break(w, errno);
}

static void
journal_writer_put(struct journal_writer *w)
{
	if (w->wbuf.len == 0)
		return;
	if (w->capturing)
		jbuf_add(&w->delta, w->wbuf.data, w->wbuf.len);
	if (w->broken == 0) {
		if (journal_writer_pwrite(w->fd, w->wbuf.data, w->wbuf.len,
		    w->size) == -1)
			journal_writer_break(w, errno);
		else {
			w->size += w->wbuf.len;
			w->unsynced = 1;
		}
	}
	w->wbuf.len = 0;
}

static void
journal_writer_drop_new(struct journal_writer *w)
{
	if (w->newfd != -1) {
		close(w->newfd);
		if (unlinkat(w->dirfd, JOURNAL_NEW, 0) == -1 && errno != ENOENT)
			log_warn("cannot remove the unfinished snapshot");
	}
	w->newfd = -1;
	w->capturing = 0;
	jbuf_free(&w->delta);
}

static void
journal_writer_new_put(struct journal_writer *w, const char *p, size_t len)
{
	if (w->newfd == -1 || w->newerr != 0 || len == 0)
		return;
	if (journal_writer_pwrite(w->newfd, p, len, w->newsize) == -1)
		w->newerr = errno;
	else
		w->newsize += len;
}

/* The snapshot and the delta are written: make the new file the journal. */
static int
journal_writer_switch(struct journal_writer *w)
{
	journal_writer_new_put(w, w->delta.data, w->delta.len);
	if (w->newerr != 0)
		return -1;
	if (fdatasync(w->newfd) == -1 || renameat(w->dirfd, JOURNAL_NEW,
	    w->dirfd, JOURNAL_FILE) == -1) {
		w->newerr = errno;
		return -1;
	}
	/* The rename itself must last: a sync of the directory. */
	if (fsync(w->dirfd) == -1)
		log_warn("fsync of the state directory");
	pthread_mutex_lock(&w->fdlock);
	close(w->fd);
	w->fd = w->newfd;
	pthread_mutex_unlock(&w->fdlock);
	w->size = w->newsize;
	w->newfd = -1;
	w->broken = 0;
	w->unsynced = 0;
	w->capturing = 0;
	jbuf_free(&w->delta);
	return 0;
}

static void
journal_writer_begin_new(struct journal_writer *w)
{
	journal_writer_drop_new(w);
	w->newerr = 0;
	w->newsize = 0;
	w->capturing = 1;
	w->newfd = openat(w->dirfd, JOURNAL_NEW, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);
	if (w->newfd == -1)
		w->newerr = errno;
}

/* The snapshot's commands and bytes; returns its outcome, 0 if none yet. */
static int
journal_writer_snapshot_work(struct journal_writer *w, int cmd, int *err)
{
	if (cmd & CMD_ABORT) {
		journal_writer_drop_new(w);
		*err = 0;
		return -1;
	}
	journal_writer_new_put(w, w->sbuf.data, w->sbuf.len);
	w->sbuf.len = 0;
	if (!(cmd & CMD_FINISH))
		return 0;
	if (journal_writer_switch(w) == 0)
		return 1;
	*err = w->newerr;
	journal_writer_drop_new(w);
	return -1;
}

/* Called with the lock: wait for something to do; 1 once stopped. */
static int
journal_writer_idle(struct journal_writer *w)
{
	while (w->main.len == 0 && w->snap.len == 0 && w->cmd == 0 &&
	    w->sync_err == 0) {
		if (w->stop)
			return 1;
		pthread_cond_wait(&w->work, &w->lock);
	}
	return 0;
}

/* Called with the lock: tell the loop what changed. */
static void
journal_writer_tell(struct journal_writer *w, uint64_t lsn, int outcome,
    int err)
{
	uint64_t	one = 1;
	int		notify = 0;

	if (w->broken == 0 && lsn > w->news.done_lsn) {
		w->news.done_lsn = lsn;
		notify = w->want && lsn > w->told_lsn;
	}
	if (w->broken != w->news.error) {
		w->news.error = w->broken;
		notify = 1;
	}
	/* batch: the syncer follows the writes. */
	if (w->mode == DURABILITY_BATCH && w->unsynced && !w->dirty) {
		w->dirty = 1;
		w->unsynced = 0;
		pthread_cond_signal(&w->dirtied);
	}
	if (outcome != 0) {
		w->news.snapshot = outcome;
		w->news.snapshot_errno = err;
		w->news.snapshot_size = w->size;
		w->news.snapshot_lsn = lsn;
		pthread_cond_broadcast(&w->told);
		notify = 1;
	}
	/* EAGAIN: the counter is already non-zero, the loop will look. */
	if (notify && write(w->efd, &one, sizeof one) == -1 &&
	    errno != EAGAIN)
		log_warn("write eventfd %d", w->efd);
}

static void *
journal_writer_main(void *arg)
{
	struct journal_writer	*w = arg;
	uint64_t		 lsn;
	int			 cmd, outcome, err = 0, sync_err;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (journal_writer_idle(w))
			break;
		jbuf_swap(&w->main, &w->wbuf);
		jbuf_swap(&w->snap, &w->sbuf);
		lsn = w->main_lsn;
		cmd = w->cmd;
		w->cmd = 0;
		sync_err = w->sync_err;
		w->sync_err = 0;
		pthread_mutex_unlock(&w->lock);

		if (sync_err != 0)
			journal_writer_break(w, sync_err);
		/* Appends taken with a begin were made after its cut. */
		if (cmd & CMD_BEGIN)
			journal_writer_begin_new(w);
		journal_writer_put(w);
		outcome = journal_writer_snapshot_work(w, cmd, &err);
		if (w->mode == DURABILITY_FSYNC)
			journal_writer_sync(w);

		pthread_mutex_lock(&w->lock);
		journal_writer_tell(w, lsn, outcome, err);
	}
	w->syncer_stop = 1;
	pthread_cond_signal(&w->dirtied);
	pthread_mutex_unlock(&w->lock);
	if (w->mode == DURABILITY_BATCH &&
	    (errno = pthread_join(w->syncer, NULL)) != 0)
		fatal("pthread_join journal syncer");
	/* A clean stop syncs in every mode: it costs one flush. */
	w->unsynced = 1;
	journal_writer_sync(w);
	return NULL;
}

/*
 * batch: sync the journal a little after it was written to, beside the
 * writer, so that writes (and the answers that wait on them) never wait
 * on a sync.
 */
static void *
journal_writer_syncer(void *arg)
{
	struct journal_writer	*w = arg;
	struct timespec		 due;
	int			 rc;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->dirty && !w->syncer_stop)
			pthread_cond_wait(&w->dirtied, &w->lock);
		if (w->syncer_stop)
			break;
		clock_gettime(CLOCK_MONOTONIC, &due);
		due.tv_nsec += WRITER_SYNC_DELAY_NS;
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
		rc = 0;
		while (!w->syncer_stop && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&w->dirtied, &w->lock,
			    &due);
		w->dirty = 0;
		pthread_mutex_unlock(&w->lock);

		pthread_mutex_lock(&w->fdlock);
		rc = fdatasync(w->fd) == -1 ? errno : 0;
		pthread_mutex_unlock(&w->fdlock);

		pthread_mutex_lock(&w->lock);
		if (rc != 0) {
			w->sync_err = rc;
			pthread_cond_signal(&w->work);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/*
 * The journal, loop side: opening the state directory, replaying what it
 * holds into the future store, recording each change as it happens, and
 * keeping the file near the size of what it describes.
 *
 * Records are made on the loop and handed to the writer thread; a new
 * future waits (in fsync and batch modes) until the writer says its record
 * is durable, and only then is it put in the store, queued and its id
 * answered. So the journal never holds less than a client was told.
 *
 * Compaction: once the file is more than twice what a snapshot would hold
 * plus JOURNAL_FLOOR, the loop writes a snapshot of every future into a new
 * file a slice per turn (so no turn is long), while every record appended
 * meanwhile also goes to the new file, after the snapshot. The snapshot is
 * fuzzy (each future as it is when its slice is made), which the replay
 * rules allow for. The new file is synced and renamed over the journal.
 *
 * Failure: when the file cannot be written, new work is refused (-32008)
 * and the futures waiting for their records fail so; everything else goes
 * on in memory. A snapshot, tried after 0.5 s and then at growing
 * intervals up to 5 s, mends it: once one is in place, new work is
 * accepted again.
 */
#include "autoconf.h"

#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "fn.h"
#include "future.h"
#include "jbuf.h"
#include "journal-record.h"
#include "journal-replay.h"
#include "journal-writer.h"
#include "journal.h"
#include "log.h"
#include "map.h"
#include "sched.h"
#include "xmalloc.h"

#define JOURNAL_FILE		"journal"
#define JOURNAL_NEW		"journal.new"
#define JOURNAL_LOCK		"lock"

/* Compact past twice a snapshot's size plus this. */
#define JOURNAL_FLOOR		(1024 * 1024)
/* What one turn of the loop puts in a snapshot at most. */
#define JOURNAL_SLICE_BYTES	(256 * 1024)
#define JOURNAL_SLICE_FUTURES	1024
#define JOURNAL_RETRY_MIN	0.5
#define JOURNAL_RETRY_MAX	5.0

enum {
	COMPACT_NONE,
	COMPACT_SLICING,
	COMPACT_FINISHING,	/* the writer has it all */
};

/* A function the journal names that is not loaded now: it runs nowhere. */
struct journal_placeholder {
	struct fn	 fn;
	char		*name;
};

static struct {
	int			 open;		/* records are taken */
	int			 restoring;
	char			*dir;
	enum durability		 mode;
	double			 ttl;
	int			 dirfd;
	int			 lockfd;
	int			 fd;		/* until the writer has it */
	size_t			 size;		/* the good part, at open */
	int			 broken;	/* errno: it was not cut back */
	struct journal_replay	 replay;
	struct journal_writer	*writer;
	int			 efd;
	struct event		*wake;
	struct event		*step;
	struct event		*retry;
	double			 retry_delay;
	uint64_t		 lsn;		/* bytes appended */
	size_t			 file_bytes;	/* the file's size, reckoned */
	size_t			 live;		/* a snapshot's, reckoned */
	size_t			 next_compact;	/* not before this size */
	struct jbuf		 rec;		/* records not yet handed over */
	int			 flushing;	/* a hand-over is due */
	struct event		*flush;
	struct jbuf		 slice;		/* a snapshot's slice */
	TAILQ_HEAD(, journal_wait) waits;
	int			 want;
	int			 failing;	/* errno; 0: fine */
	int			 compacting;
	uint64_t		*ids;		/* the snapshot's futures */
	size_t			 nids;
	size_t			 next;
	struct journal_placeholder **placeholders;
	size_t			 nplaceholders;
} j = { .dirfd = -1, .lockfd = -1, .fd = -1, .efd = -1 };

static void	journal_compact_begin(void);
static void	journal_schedule_retry(void);

int
journal_waits(void)
{
	return j.open && j.mode != DURABILITY_OFF;
}

int
journal_failing(void)
{
	return j.open ? j.failing : 0;
}

/* Make the directory if missing and take its lock. */
static int
journal_open_dir(char **cause)
{
	char	pid[32];
	ssize_t	n;
	int	len;

	if (mkdir(j.dir, 0700) == -1 && errno != EEXIST) {
		xasprintf(cause, "state directory %s: %s", j.dir,
		    strerror(errno));
		return -1;
	}
	if ((j.dirfd = open(j.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (j.lockfd = openat(j.dirfd, JOURNAL_LOCK, O_RDWR | O_CREAT |
	    O_CLOEXEC, 0600)) == -1) {
		xasprintf(cause, "state directory %s: %s", j.dir,
		    strerror(errno));
		return -1;
	}
	if (flock(j.lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			xasprintf(cause, "state directory %s: lock: %s", j.dir,
			    strerror(errno));
			return -1;
		}
		n = pread(j.lockfd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		xasprintf(cause, "state directory %s is in use by another "
		    "poold%s%s%s", j.dir, *pid != '\0' ? " (pid " : "", pid,
		    *pid != '\0' ? ")" : "");
		return -1;
	}
	/* The pid is for the message above: a failure here is no matter. */
	len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(j.lockfd, 0) == -1 ||
	    pwrite(j.lockfd, pid, (size_t)len, 0) != len)
		log_warn("%s/%s", j.dir, JOURNAL_LOCK);
	return 0;
}

/* A new journal: a header, synced and renamed into place whole. */
static int
journal_create(char **cause)
{
	char	hdr[JOURNAL_HEADER_SIZE];

	journal_header(hdr);
	if ((j.fd = openat(j.dirfd, JOURNAL_NEW, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600)) == -1 ||
	    pwrite(j.fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
	    fdatasync(j.fd) == -1 ||
	    renameat(j.dirfd, JOURNAL_NEW, j.dirfd, JOURNAL_FILE) == -1 ||
	    fsync(j.dirfd) == -1) {
		xasprintf(cause, "%s/%s: %s", j.dir, JOURNAL_FILE,
		    strerror(errno != 0 ? errno : EIO));
		return -1;
	}
	j.size = sizeof hdr;
	return 0;
}

/* Cut a bad tail off: what follows good is lost, and said so. */
static void
journal_cut(size_t good, size_t size, const char *why)
{
	log_warnx("%s/%s: %s at offset %zu; the %zu bytes from there are "
	    "dropped", j.dir, JOURNAL_FILE, why, good, size - good);
	if (ftruncate(j.fd, (off_t)good) == -1 || fdatasync(j.fd) == -1) {
		j.broken = errno;
		log_warn("%s/%s: cannot cut it to %zu bytes; it is rewritten "
		    "before new work is taken", j.dir, JOURNAL_FILE, good);
	}
}

/* Read the journal into the replay; a bad tail is cut off. */
static int
journal_read(char **cause)
{
	struct stat	 st;
	const char	*why;
	char		*p;
	size_t		 good;

	if ((j.fd = openat(j.dirfd, JOURNAL_FILE, O_RDWR | O_CLOEXEC)) == -1 &&
	    errno == ENOENT)
		return journal_create(cause);
	if (j.fd == -1 || fstat(j.fd, &st) == -1) {
		xasprintf(cause, "%s/%s: %s", j.dir, JOURNAL_FILE,
		    strerror(errno));
		return -1;
	}
	/* Made whole by a rename, an empty journal was never written to. */
	if (st.st_size == 0) {
		close(j.fd);
		return journal_create(cause);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, j.fd, 0);
	if (p == MAP_FAILED) {
		xasprintf(cause, "%s/%s: mmap: %s", j.dir, JOURNAL_FILE,
		    strerror(errno));
		return -1;
	}
	if (journal_header_check(p, (size_t)st.st_size, &why) == -1) {
		munmap(p, (size_t)st.st_size);
		xasprintf(cause, "%s/%s: %s; move it away to start afresh",
		    j.dir, JOURNAL_FILE, why);
		return -1;
	}
	good = journal_replay_scan(&j.replay, p, (size_t)st.st_size, &why);
	munmap(p, (size_t)st.st_size);
	if (why != NULL)
		journal_cut(good, (size_t)st.st_size, why);
	j.size = good;
	return 0;
}

static void
journal_cleanup(void)
{
	if (j.fd != -1)
		close(j.fd);
	if (j.lockfd != -1)
		close(j.lockfd);
	if (j.dirfd != -1)
		close(j.dirfd);
	journal_replay_free(&j.replay);
	free(j.dir);
	j.fd = j.lockfd = j.dirfd = -1;
	j.dir = NULL;
}

/*
 * Open the state directory of cfg, if any: make it, lock it, read its
 * journal. Before the socket, so a daemon that cannot have its state
 * never serves. On error *cause says why.
 */
int
journal_open(const struct config *cfg, char **cause)
{
	if (cfg->state_dir == NULL)
		return 0;
	j.dir = xstrdup(cfg->state_dir);
	j.mode = cfg->durability;
	j.ttl = cfg->result_ttl;
	journal_replay_init(&j.replay);
	if (journal_open_dir(cause) == -1 || journal_read(cause) == -1) {
		journal_cleanup();
		return -1;
	}
	/* A snapshot the last daemon did not finish. */
	if (unlinkat(j.dirfd, JOURNAL_NEW, 0) == -1 && errno != ENOENT)
		log_warn("%s/%s", j.dir, JOURNAL_NEW);
	return 0;
}

/* Record making. */

static size_t
journal_encode_accept(struct jbuf *b, const struct future *f,
    const struct journal_map *m)
{
	size_t	start = journal_record_begin(b, JOURNAL_ACCEPT, f->id);

	jbuf_printf(b, "{\"owner\":%lu,\"fn\":", (unsigned long)f->owner);
	jbuf_json_string(b, future_fn_name(f));
	jbuf_printf(b, ",\"executor\":\"%s\",\"priority\":%lld,"
	    "\"retries\":%ld,\"attempts\":%u,\"timeout\":",
	    executor_name(f->executor), (long long)f->qitem.priority,
	    f->retries, f->attempts);
	if (f->timeout < 0)
		jbuf_str(b, "null");
	else
		jbuf_real(b, f->timeout);
	jbuf_str(b, ",\"submitted\":");
	jbuf_real(b, f->submitted);
	jbuf_str(b, ",\"args\":");
	jbuf_json(b, f->args);
	jbuf_str(b, ",\"kwargs\":");
	jbuf_json(b, f->kwargs);
	if (m != NULL) {
		jbuf_printf(b, ",\"map\":{\"items\":%zu,\"star\":%s,"
		    "\"chunksize\":%zu,\"stream\":%s}", m->nitems,
		    m->star ? "true" : "false", m->chunksize,
		    m->stream ? "true" : "false");
		if (!m->stream && m->text != NULL) {
			jbuf_str(b, ",\"items\":");
			jbuf_add(b, m->text, m->text_len);
		} else if (!m->stream && m->items != NULL) {
			jbuf_str(b, ",\"items\":");
			jbuf_json(b, m->items);
		}
	}
	jbuf_str(b, "}");
	return journal_record_end(b, start);
}

static size_t
journal_encode_start(struct jbuf *b, const struct future *f)
{
	size_t	start = journal_record_begin(b, JOURNAL_START, f->id);

	jbuf_printf(b, "{\"attempts\":%u,\"retries\":%ld,\"started\":",
	    f->attempts, f->retries);
	jbuf_real(b, f->started);
	jbuf_str(b, "}");
	return journal_record_end(b, start);
}

static size_t
journal_encode_end(struct jbuf *b, const struct future *f)
{
	size_t	start = journal_record_begin(b, JOURNAL_END, f->id);

	jbuf_printf(b, "{\"state\":\"%s\",\"attempts\":%u,\"worker\":%ld,"
	    "\"finished\":", future_state_name(f->state), f->attempts,
	    (long)f->worker);
	jbuf_real(b, f->finished);
	if (f->started > 0) {
		jbuf_str(b, ",\"started\":");
		jbuf_real(b, f->started);
	}
	if (f->is_map)
		jbuf_printf(b, ",\"done\":%zu", f->items_done);
	if (f->state == FUTURE_FINISHED && f->result != NULL) {
		jbuf_str(b, ",\"result\":");
		jbuf_json(b, f->result);
	} else if (f->state == FUTURE_FINISHED && f->result_text != NULL) {
		jbuf_str(b, ",\"result\":");
		jbuf_add(b, f->result_text, f->result_len);
	} else if (f->state == FUTURE_FAILED && f->error != NULL) {
		jbuf_str(b, ",\"error\":");
		jbuf_json(b, f->error);
	}
	jbuf_str(b, "}");
	return journal_record_end(b, start);
}

/* Hand the records made so far to the writer. */
static void
journal_flush(void)
{
	if (j.rec.len > 0)
		journal_writer_append(j.writer, j.rec.data, j.rec.len, j.lsn);
	j.rec.len = 0;
	j.flushing = 0;
}

static void
journal_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	journal_flush();
}

/*
 * A record of n bytes was made at the end of j.rec. Records go to the
 * writer once per turn of the loop, after whatever the turn handles (all
 * the requests one read brought), so the writer wakes and writes once
 * for all of them.
 */
static void
journal_append(size_t n)
{
	j.lsn += n;
	j.file_bytes += n;
	if (!j.flushing) {
		j.flushing = 1;
		event_active(j.flush, 0, 0);
	}
	if (!j.compacting && !j.failing && !j.restoring &&
	    j.file_bytes > 2 * j.live + JOURNAL_FLOOR &&
	    j.file_bytes >= j.next_compact)
		journal_compact_begin();
}

static void
journal_want(int want)
{
	if (j.want != want)
		journal_writer_want(j.writer, want);
	j.want = want;
}

/*
 * Record a new future (with its map's part, if a map). With a wait, cb is
 * called once its record is durable as promised, or could not be written;
 * the future must not be used by anyone else until then.
 */
void
journal_accept(struct future *f, const struct journal_map *m,
    struct journal_wait *w, journal_cb cb, void *arg)
{
	size_t	n;

	if (!j.open)
		return;
	n = journal_encode_accept(&j.rec, f, m);
	f->jbytes = n;
	j.live += n;
	if (w != NULL) {
		w->lsn = j.lsn + n;
		w->id = f->id;
		w->cb = cb;
		w->arg = arg;
		w->rec = xmalloc(n);
		memcpy(w->rec, j.rec.data + j.rec.len - n, n);
		w->rec_len = n;
		TAILQ_INSERT_TAIL(&j.waits, w, entry);
		journal_want(1);
	}
	journal_append(n);
}

void
journal_started(const struct future *f)
{
	if (!j.open)
		return;
	journal_append(journal_encode_start(&j.rec, f));
}

void
journal_ended(struct future *f)
{
	size_t	n;

	if (!j.open)
		return;
	n = journal_encode_end(&j.rec, f);
	f->jbytes += n;
	j.live += n;
	journal_append(n);
}

static void
journal_drop_id(uint64_t id, size_t bytes)
{
	j.live -= bytes < j.live ? bytes : j.live;
	journal_append(journal_record_add(&j.rec, JOURNAL_DROP, id));
}

void
journal_dropped(const struct future *f)
{
	if (j.open)
		journal_drop_id(f->id, f->jbytes);
}

/* The writer's news. */

static void
journal_release(uint64_t lsn)
{
	struct journal_wait	*w;

	while ((w = TAILQ_FIRST(&j.waits)) != NULL && w->lsn <= lsn) {
		TAILQ_REMOVE(&j.waits, w, entry);
		free(w->rec);
		w->rec = NULL;
		w->cb(w->arg, JOURNAL_OK);
	}
	if (TAILQ_EMPTY(&j.waits))
		journal_want(0);
}

/* The file cannot be written: new work is refused until it can. */
static void
journal_fail(int err)
{
	struct journal_wait	*w;

	j.failing = err;
	log_emit(LOG_LEVEL_ERROR, err, __func__, "%s/%s cannot be written; "
	    "new work is refused until it can", j.dir, JOURNAL_FILE);
	while ((w = TAILQ_FIRST(&j.waits)) != NULL) {
		TAILQ_REMOVE(&j.waits, w, entry);
		/* Its record may yet reach a snapshot's delta: undo it. */
		journal_drop_id(w->id, w->rec_len);
		free(w->rec);
		w->rec = NULL;
		w->cb(w->arg, JOURNAL_FAILED);
	}
	journal_want(0);
	if (!j.compacting)
		journal_schedule_retry();
}

static void
journal_snapshot_done(const struct journal_news *n)
{
	j.compacting = COMPACT_NONE;
	free(j.ids);
	j.ids = NULL;
	evtimer_del(j.step);
	if (n->snapshot > 0) {
		j.file_bytes = n->snapshot_size + (size_t)(j.lsn -
		    n->snapshot_lsn);
		log_debug("%s/%s compacted to %zu bytes", j.dir, JOURNAL_FILE,
		    n->snapshot_size);
		j.next_compact = 0;
		if (j.failing && n->error != 0)
			journal_schedule_retry();
		else if (j.failing) {
			j.failing = 0;
			j.retry_delay = 0;
			evtimer_del(j.retry);
			log_info("%s/%s is written again; new work is "
			    "accepted", j.dir, JOURNAL_FILE);
		}
		return;
	}
	if (n->snapshot_errno != 0)
		log_emit(LOG_LEVEL_WARN, n->snapshot_errno, __func__,
		    "cannot write a snapshot of %s/%s", j.dir, JOURNAL_FILE);
	if (j.failing)
		journal_schedule_retry();
	else
		j.next_compact = j.file_bytes + JOURNAL_FLOOR;
}

static void
journal_take_news(const struct journal_news *n)
{
	/* What was done before an error is durable all the same. */
	journal_release(n->done_lsn);
	if (n->error != 0 && !j.failing)
		journal_fail(n->error);
	if (n->snapshot != 0)
		journal_snapshot_done(n);
}

static void
journal_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	struct journal_news	news;
	uint64_t		n;

	if (read(fd, &n, sizeof n) == -1 && errno != EAGAIN)
		log_warn("read eventfd %d", fd);
	journal_writer_news(j.writer, &news);
	journal_take_news(&news);
}

/* Compaction. */

/* A future as it is now: its acceptance, and its start or its end. */
static void
journal_encode_snapshot(struct jbuf *b, const struct future *f)
{
	struct journal_map	m, *mp = NULL;

	if (f->is_map) {
		memset(&m, 0, sizeof m);
		m.nitems = f->items;
		m.chunksize = 1;
		if (f->map != NULL && !future_is_done(f))
			m.text = map_journal_text(f->map, &m.text_len, &m.star,
			    &m.chunksize, &m.stream);
		mp = &m;
	}
	journal_encode_accept(b, f, mp);
	if (f->state == FUTURE_RUNNING)
		journal_encode_start(b, f);
	else if (future_is_done(f))
		journal_encode_end(b, f);
}

/*
 * Take the ids of every future now, and give the writer the snapshot's
 * start: a header, the next id, and the records of futures that wait for
 * theirs (they are in no store yet).
 */
static void
journal_compact_begin(void)
{
	struct journal_wait	*w;
	struct future		*f;
	struct timeval		 now = { 0, 0 };
	size_t			 cap = future_store_counts()->stored + 1;

	j.ids = xreallocarray(NULL, cap, sizeof *j.ids);
	j.nids = j.next = 0;
	for (f = future_newest(); f != NULL; f = future_older(f)) {
		if (j.nids == cap) {
			cap *= 2;
			j.ids = xreallocarray(j.ids, cap, sizeof *j.ids);
		}
		j.ids[j.nids++] = f->id;
	}
	jbuf_reserve(&j.slice, JOURNAL_HEADER_SIZE);
	journal_header(j.slice.data + j.slice.len);
	j.slice.len += JOURNAL_HEADER_SIZE;
	journal_record_add(&j.slice, JOURNAL_NEXT_ID, future_next_id());
	TAILQ_FOREACH(w, &j.waits, entry)
		jbuf_add(&j.slice, w->rec, w->rec_len);
	journal_writer_begin(j.writer, j.slice.data, j.slice.len);
	j.slice.len = 0;
	j.compacting = COMPACT_SLICING;
	log_debug("compacting %s/%s: %zu bytes, %zu futures", j.dir,
	    JOURNAL_FILE, j.file_bytes, j.nids);
	evtimer_add(j.step, &now);
}

/* Encode the next slice into j.slice; whether it was the last. */
static int
journal_compact_slice(void)
{
	struct future	*f;
	size_t		 k = 0;

	while (j.next < j.nids && k < JOURNAL_SLICE_FUTURES &&
	    j.slice.len < JOURNAL_SLICE_BYTES) {
		if ((f = future_find(j.ids[j.next++])) == NULL)
			continue;
		journal_encode_snapshot(&j.slice, f);
		k++;
	}
	return j.next == j.nids;
}

static void
journal_step_cb(evutil_socket_t fd, short events, void *arg)
{
	struct timeval	now = { 0, 0 };
	int		last;

	if (j.compacting != COMPACT_SLICING)
		return;
	last = journal_compact_slice();
	journal_writer_snapshot(j.writer, j.slice.data, j.slice.len, last);
	j.slice.len = 0;
	if (last)
		j.compacting = COMPACT_FINISHING;
	else
		evtimer_add(j.step, &now);
}

static void
journal_schedule_retry(void)
{
	struct timeval	tv;

	if (j.retry_delay == 0)
		j.retry_delay = JOURNAL_RETRY_MIN;
	else if ((j.retry_delay *= 2) > JOURNAL_RETRY_MAX)
		j.retry_delay = JOURNAL_RETRY_MAX;
	tv = clock_timeval(j.retry_delay);
	evtimer_add(j.retry, &tv);
}

static void
journal_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	if (j.failing && !j.compacting)
		journal_compact_begin();
}

/* Restore. */

static const struct fn *
journal_fn(const char *name)
{
	struct journal_placeholder	*p;
	const struct fn			*fn;
	size_t				 i;

	if ((fn = fn_find(name)) != NULL)
		return fn;
	for (i = 0; i < j.nplaceholders; i++) {
		if (strcmp(j.placeholders[i]->name, name) == 0)
			return &j.placeholders[i]->fn;
	}
	p = xcalloc(1, sizeof *p);
	p->name = xstrdup(name);
	p->fn.name = p->name;
	p->fn.doc = "a function that is not loaded";
	j.placeholders = xreallocarray(j.placeholders, j.nplaceholders + 1,
	    sizeof *j.placeholders);
	j.placeholders[j.nplaceholders++] = p;
	return &p->fn;
}

/* The future an entry describes, as it was accepted; NULL if it cannot be. */
static struct future *
journal_future(const struct journal_entry *e)
{
	json_t		*a = e->accept, *map = json_object_get(a, "map");
	json_t		*timeout = json_object_get(a, "timeout");
	struct future	*f;
	enum executor	 ex;

	if (executor_parse(json_string_value(json_object_get(a, "executor")),
	    &ex) == -1)
		return NULL;
	f = xcalloc(1, sizeof *f);
	f->id = e->id;
	f->owner = (uid_t)json_integer_value(json_object_get(a, "owner"));
	f->fn = journal_fn(json_string_value(json_object_get(a, "fn")));
	future_set_fn_name(f, json_string_value(json_object_get(a, "fn")));
	f->args = json_incref(json_object_get(a, "args"));
	f->kwargs = json_incref(json_object_get(a, "kwargs"));
	f->executor = ex;
	f->state = FUTURE_PENDING;
	f->submitted = json_number_value(json_object_get(a, "submitted"));
	f->timeout = json_is_number(timeout) ? json_number_value(timeout) : -1;
	f->retries = e->retries;
	f->attempts = e->attempts;
	f->qitem.priority = json_integer_value(json_object_get(a, "priority"));
	f->jbytes = e->bytes;
	if (json_is_object(map)) {
		f->is_map = 1;
		f->items = (size_t)json_integer_value(json_object_get(map,
		    "items"));
	}
	return f;
}

/* A done future keeps its result until its TTL, counted from its end. */
static void
journal_restore_done(struct future *f, json_t *end, double left)
{
	json_t	*v;

	if (future_state_parse(json_string_value(json_object_get(end,
	    "state")), &f->state) == -1)
		f->state = FUTURE_FAILED;
	f->finished = json_number_value(json_object_get(end, "finished"));
	f->started = json_number_value(json_object_get(end, "started"));
	if ((v = json_object_get(end, "attempts")) != NULL)
		f->attempts = (unsigned)json_integer_value(v);
	f->worker = (pid_t)json_integer_value(json_object_get(end, "worker"));
	f->items_done = (size_t)json_integer_value(json_object_get(end,
	    "done"));
	if (f->state == FUTURE_FINISHED) {
		v = json_object_get(end, "result");
		f->result = v != NULL ? json_incref(v) : json_null();
	} else if (f->state == FUTURE_FAILED) {
		v = json_object_get(end, "error");
		f->error = json_is_object(v) ? json_incref(v) :
		    future_error("TaskError", "the error was not recorded");
	}
	future_restore(f, clock_mono() + left);
}

/* End a restored future that cannot go on, counting its items. */
static void
journal_restore_end(struct future *f, enum future_state to, json_t *error)
{
	future_restore(f, 0);
	if (f->is_map)
		future_count_move(f, f->state, to, f->items);
	if (to == FUTURE_CANCELLED)
		future_cancel(f);
	else
		future_fail(f, error);
}

/* A map that had not started: it runs again, whole. */
static void
journal_restore_map(struct future *f, json_t *a, struct sched_owner *o)
{
	json_t			*items = json_object_get(a, "items");
	json_t			*map = json_object_get(a, "map");
	struct map_params	 mp;
	struct map		*m;

	if (!json_is_array(items)) {
		journal_restore_end(f, FUTURE_FAILED, future_error("TaskError",
		    "the map's items were not recorded"));
		return;
	}
	f->is_map = 0;
	f->items = 0;
	future_restore(f, 0);
	memset(&mp, 0, sizeof mp);
	mp.items = items;
	mp.n = json_array_size(items);
	mp.star = json_is_true(json_object_get(map, "star"));
	mp.timeout = f->timeout;
	mp.chunksize = (size_t)json_integer_value(json_object_get(map,
	    "chunksize"));
	if (mp.chunksize == 0)
		mp.chunksize = 1;
	mp.priority = f->qitem.priority;
	mp.owner = o;
	m = map_new(f, &mp);
	map_start(m);
}

struct journal_counts {
	size_t	pending;
	size_t	rerun;
	size_t	interrupted;
	size_t	done;
	size_t	expired;
};

/*
 * In the fair order, a uid's restored futures count as the work of one
 * more connection of that uid's.
 */
struct journal_owners {
	struct sched_owner	**o;
	uid_t			 *uid;
	size_t			  n;
};

static struct sched_owner *
journal_owner(struct journal_owners *owners, uid_t uid)
{
	size_t	i;

	for (i = 0; i < owners->n; i++) {
		if (owners->uid[i] == uid)
			return owners->o[i];
	}
	owners->o = xreallocarray(owners->o, owners->n + 1, sizeof *owners->o);
	owners->uid = xreallocarray(owners->uid, owners->n + 1,
	    sizeof *owners->uid);
	owners->uid[owners->n] = uid;
	owners->o[owners->n] = sched_owner_new(uid);
	return owners->o[owners->n++];
}

static void
journal_restore_entry(const struct journal_entry *e,
    struct journal_owners *owners, struct journal_counts *c)
{
	struct sched_owner *o;
	json_t		*a = e->accept, *map = json_object_get(a, "map");
	struct future	*f;
	double		 left = 0;
	int		 stream = json_is_true(json_object_get(map, "stream"));

	if (e->end != NULL) {
		left = json_number_value(json_object_get(e->end, "finished")) +
		    j.ttl - clock_real();
		if (left <= 0) {
			c->expired++;
			return;
		}
	}
	if ((f = journal_future(e)) == NULL) {
		log_warnx("f-%016llx: its record cannot be used; dropped",
		    (unsigned long long)e->id);
		return;
	}
	j.live += f->jbytes;
	o = journal_owner(owners, f->owner);
	if (e->end != NULL) {
		journal_restore_done(f, e->end, left);
		c->done++;
	} else if (stream)
		/* Its client left when the daemon died, which cancels it. */
		journal_restore_end(f, FUTURE_CANCELLED, NULL);
	else if (!fn_allows(f->fn, f->executor))
		journal_restore_end(f, FUTURE_FAILED, future_error("TaskError",
		    "%s cannot run on the %s executor now (is its plugin "
		    "loaded?)", future_fn_name(f), executor_name(f->executor)));
	else if (e->running && (f->is_map || f->retries == 0)) {
		f->state = FUTURE_RUNNING;
		f->started = e->started;
		journal_restore_end(f, FUTURE_FAILED, future_error(
		    "Interrupted", "poold stopped while the task ran"));
		c->interrupted++;
	} else if (f->is_map) {
		journal_restore_map(f, a, o);
		c->pending++;
	} else {
		if (e->running) {
			f->retries--;
			c->rerun++;
		} else
			c->pending++;
		future_restore(f, 0);
		sched_queue(f, f->qitem.priority, o);
	}
}

/* Every future of the replay back in the store, in submission order. */
static void
journal_restore(void)
{
	struct journal_counts	 c = { 0 };
	struct journal_owners	 owners = { 0 };
	size_t			 i;

	journal_replay_sort(&j.replay);
	if (j.replay.next_id > 0)
		future_set_next_id(j.replay.next_id);
	j.restoring = 1;
	for (i = 0; i < j.replay.n; i++) {
		if (!j.replay.entries[i].dropped)
			journal_restore_entry(&j.replay.entries[i], &owners,
			    &c);
	}
	j.restoring = 0;
	for (i = 0; i < owners.n; i++)
		sched_owner_unref(owners.o[i]);
	free(owners.o);
	free(owners.uid);
	log_info("state from %s: %zu records; %zu futures pending, %zu run "
	    "again, %zu interrupted, %zu done, %zu expired", j.dir,
	    j.replay.records, c.pending, c.rerun, c.interrupted, c.done,
	    c.expired);
	journal_replay_free(&j.replay);
}

/*
 * Start recording: the writer takes the file, the journal's futures go
 * back in the store and queue, and new records are taken. After the
 * future store and the scheduler exist.
 */
void
journal_start(struct event_base *base)
{
	if (j.dirfd == -1)
		return;
	TAILQ_INIT(&j.waits);
	if ((j.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	j.wake = event_new(base, j.efd, EV_READ | EV_PERSIST, journal_wake_cb,
	    NULL);
	j.step = evtimer_new(base, journal_step_cb, NULL);
	j.flush = event_new(base, -1, 0, journal_flush_cb, NULL);
	j.retry = evtimer_new(base, journal_retry_cb, NULL);
	if (j.wake == NULL || j.step == NULL || j.retry == NULL ||
	    j.flush == NULL || event_add(j.wake, NULL) == -1)
		fatalx("cannot make the journal's events");
	j.writer = journal_writer_new(j.dirfd, j.fd, j.size, j.mode, j.efd,
	    j.broken);
	j.fd = -1;
	j.file_bytes = j.size;
	j.open = 1;
	journal_restore();
	if (j.broken) {
		j.failing = j.broken;
		journal_schedule_retry();
	}
	sched_kick();
}

/* At close: finish a snapshot under way, or mend a failed journal. */
static void
journal_close_snapshot(void)
{
	struct journal_news	n;

	if (!j.failing && j.compacting == COMPACT_NONE)
		return;
	if (j.compacting == COMPACT_NONE)
		journal_compact_begin();
	while (j.compacting == COMPACT_SLICING) {
		if (journal_compact_slice())
			j.compacting = COMPACT_FINISHING;
		journal_writer_snapshot(j.writer, j.slice.data, j.slice.len,
		    j.compacting == COMPACT_FINISHING);
		j.slice.len = 0;
	}
	journal_writer_wait_snapshot(j.writer);
	journal_writer_news(j.writer, &n);
	journal_take_news(&n);
	if (j.failing)
		log_warnx("%s/%s could not be written at exit: the last state "
		    "changes are lost", j.dir, JOURNAL_FILE);
}

/*
 * Write what is left and let the directory go. Before the future store
 * is freed (a journal that failed is mended from it) and after the
 * scheduler (whose last ends are recorded).
 */
void
journal_close(void)
{
	struct journal_wait	*w;
	size_t			 i;

	if (j.dirfd == -1)
		return;
	/* Nothing starts now: a future still waiting never will. */
	while (j.writer != NULL && (w = TAILQ_FIRST(&j.waits)) != NULL) {
		TAILQ_REMOVE(&j.waits, w, entry);
		journal_drop_id(w->id, w->rec_len);
		free(w->rec);
		w->cb(w->arg, JOURNAL_CLOSED);
	}
	if (j.writer != NULL) {
		journal_flush();
		journal_close_snapshot();
		journal_flush();
		j.open = 0;
		journal_writer_free(j.writer);
	}
	if (j.wake != NULL) {
		event_free(j.wake);
		event_free(j.step);
		event_free(j.retry);
		event_free(j.flush);
	}
	if (j.efd != -1)
		close(j.efd);
	for (i = 0; i < j.nplaceholders; i++) {
		free(j.placeholders[i]->name);
		free(j.placeholders[i]);
	}
	free(j.placeholders);
	free(j.ids);
	jbuf_free(&j.rec);
	jbuf_free(&j.slice);
	journal_cleanup();
	memset(&j, 0, sizeof j);
	j.dirfd = j.lockfd = j.fd = j.efd = -1;
}

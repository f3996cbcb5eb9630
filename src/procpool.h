/*
 * The process pool: pre-forked workers, one task each at a time. A worker
 * that dies, hangs or breaks the channel protocol fails only the task it
 * ran and is replaced. The scheduler hands tasks in and hears back
 * through the hooks; a task is an opaque pointer here.
 *
 * Run as root, a worker starts unbound and is bound to one uid by its
 * first task: it takes that uid's credentials for good, then serves only
 * that uid until it ends. Run as anyone else, every worker is bound to
 * poold's own uid from the start.
 */
#ifndef POOLD_PROCPOOL_H
#define POOLD_PROCPOOL_H

#include <sys/types.h>

#include <jansson.h>

struct event_base;
struct config;
struct ident;
struct json_hollow;

/* What an idle worker can offer a uid's task. */
enum procpool_room {
	PROCPOOL_ROOM_NONE,		/* no idle worker of it, no unbound one */
	PROCPOOL_ROOM_BOUND,		/* an idle worker bound to it */
	PROCPOOL_ROOM_FREE,		/* an idle unbound worker */
};

struct procpool_hooks {
	/*
	 * The worker answered: a result or a task error (taken), and for a
	 * chunk's answer where its results' text is (borrowed), else NULL.
	 * The text is checked; the answer's "results" may be [] in its
	 * stead (json-check.h).
	 */
	void	(*done)(void *, json_t *, json_t *, const struct json_hollow *);
	/*
	 * The worker died under the task: a WorkerCrashed error (taken) and,
	 * for a chunk, the index of the item it was running (-1: unknown).
	 */
	void	(*crashed)(void *, json_t *, long);
	/* A worker is ready for work. */
	void	(*ready)(void);
	/* Workers keep dying at start-up: why (borrowed). */
	void	(*broken)(const char *);
};

void	 procpool_init(struct event_base *, const struct config *,
	     const struct procpool_hooks *);
void	 procpool_free(void);
int	 procpool_idle(void);
int	 procpool_starting(void);
enum procpool_room procpool_room(uid_t);
int	 procpool_retire_for(uid_t);
pid_t	 procpool_run(void *, uid_t, const struct ident *, const char *,
	     const char *, json_t *, json_t *);
pid_t	 procpool_run_chunk(void *, uid_t, const struct ident *, const char *,
	     const char *, int, const char *, size_t, size_t);
long	 procpool_progress(void *, double *);
void	 procpool_abort(void *);
void	 procpool_resize(int);
int	 procpool_size(void);
int	 procpool_busy(void);
unsigned long procpool_restarts(void);
const char *procpool_broken(void);
json_t	*procpool_workers(void);

#endif

/*
 * The process pool: pre-forked workers, one task each at a time. A worker
 * that dies, hangs or breaks the channel protocol fails only the task it
 * ran and is replaced. The scheduler hands tasks in and hears back
 * through the hooks; a task is an opaque pointer here.
 */
#ifndef POOLD_PROCPOOL_H
#define POOLD_PROCPOOL_H

#include <sys/types.h>

#include <jansson.h>

struct event_base;
struct config;

struct procpool_hooks {
	/* The worker answered: a result or a task error (taken). */
	void	(*done)(void *, json_t *, json_t *);
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
pid_t	 procpool_run(void *, const char *, const char *, json_t *, json_t *);
pid_t	 procpool_run_chunk(void *, const char *, const char *, int,
	     const char *, size_t, size_t);
long	 procpool_progress(void *, double *);
void	 procpool_abort(void *);
void	 procpool_resize(int);
int	 procpool_size(void);
int	 procpool_busy(void);
unsigned long procpool_restarts(void);
const char *procpool_broken(void);
json_t	*procpool_workers(void);

#endif

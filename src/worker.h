/*
 * The code a worker process runs: one task at a time, read from its
 * channel to the supervisor and answered there. The channel carries one
 * JSON object per line:
 *
 *   worker -> supervisor  {"ready": true}        once, when it can work
 *                         {"fatal": "why"}       before exiting, if it cannot
 *   supervisor -> worker  {"bind": {"uid": u, "gid": g, "groups": [...],
 *                         "name": s, "home": s, "shell": s, "path": s}}
 *                         or {"bind": null}: once, before the first task of
 *                         a worker that started unbound; it takes those
 *                         credentials (null: it keeps poold's) for good,
 *                         then runs its plugins' initializers. If it
 *                         cannot, it says {"fatal": "why"} and exits.
 *   supervisor -> worker  {"id": n, "fn": name, "args": [...], "kwargs": {...}}
 *   worker -> supervisor  {"id": n, "pgid": p}   a program it started, p's
 *                                               group, which dies with it
 *   worker -> supervisor  {"id": n, "result": v} or {"id": n, "error": {...}}
 *   supervisor -> worker  {"id": n, "fn": name, "items": [...], "star": b}
 *                         a map's chunk: each item is the argument (star:
 *                         the arguments) of one call
 *   worker -> supervisor  {"id": n, "results": [v, ...], "errors":
 *                         {"k": {...}}}: each item's result in order,
 *                         null where item k failed with errors["k"]
 *
 * As it runs a chunk, the worker writes which item runs, and since when,
 * into a page it shares with the supervisor: no message per item, yet the
 * supervisor knows which item a death or a timeout belongs to.
 *
 * The supervisor trusts none of it: anything else is a crashed worker.
 */
#ifndef POOLD_WORKER_H
#define POOLD_WORKER_H

#include <sys/types.h>

struct worker_config {
	long	max_result_bytes;
	long	max_output_bytes;
};

struct worker_progress {
	long	index;		/* the chunk item running; -1: none */
	double	started;	/* monotonic, when it started */
};

struct worker_start {
	const struct worker_config	*cfg;
	struct worker_progress		*progress;	/* shared */
	int				 bound;		/* already: init at once */
	pid_t				 parent;	/* the supervisor */
};

void	worker_main(int, void *);
void	worker_fatal(int, char *) __attribute__((noreturn));

#endif

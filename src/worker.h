/*
 * The code a worker process runs: one task at a time, read from its
 * channel to the supervisor and answered there. The channel carries one
 * JSON object per line:
 *
 *   worker -> supervisor  {"ready": true}        once, when it can work
 *                         {"fatal": "why"}       before exiting, if it cannot
 *   supervisor -> worker  {"id": n, "fn": name, "args": [...], "kwargs": {...}}
 *   worker -> supervisor  {"id": n, "pgid": p}   a program it started, p's
 *                                               group, which dies with it
 *   worker -> supervisor  {"id": n, "result": v} or {"id": n, "error": {...}}
 *
 * The supervisor trusts none of it: anything else is a crashed worker.
 */
#ifndef POOLD_WORKER_H
#define POOLD_WORKER_H

struct worker_config {
	long	max_result_bytes;
	long	max_output_bytes;
};

void	worker_main(int, void *);

#endif

/*
 * The scheduler: pending futures wait in one priority queue per executor
 * and start as soon as their executor has room. It owns each running
 * attempt (a task), its deadline and its retries.
 */
#ifndef POOLD_SCHED_H
#define POOLD_SCHED_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "future.h"

struct config;
struct event_base;
struct future;
struct map;
struct map_chunk;
struct sched_owner;

void	sched_init(struct event_base *, const struct config *);
void	sched_free(void);
void	sched_set_idle_cb(void (*)(void));
void	sched_submit(struct future *, long long, struct sched_owner *);
void	sched_queue(struct future *, long long, struct sched_owner *);
uint64_t sched_reserve(struct sched_owner *, size_t);
void	sched_enqueue_chunk(struct map_chunk *, enum executor, long long,
	    uint64_t);
void	sched_dequeue_chunk(struct map_chunk *, enum executor);
void	sched_abort_map(struct map *);
void	sched_kick(void);
int	sched_size(enum executor);
struct sched_owner *sched_owner_new(uid_t);
struct sched_owner *sched_owner_ref(struct sched_owner *);
void	sched_owner_unref(struct sched_owner *);
int	sched_cancel(struct future *, int);
void	sched_cancel_pending(void);
void	sched_interrupt_running(void);
int	sched_threads(void);
int	sched_threads_busy(void);
void	sched_resize_threads(int);
void	sched_resize_processes(int);

#endif

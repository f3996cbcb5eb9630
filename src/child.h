/*
 * Children: forking them the careful way, and reaping them. Every child
 * poold makes is registered with a callback that the reaper calls with its
 * wait status; SIGCHLD reaches the loop as an event.
 */
#ifndef POOLD_CHILD_H
#define POOLD_CHILD_H

#include <sys/types.h>

struct event_base;

typedef void (*child_exit_cb)(pid_t, int, void *);

void	child_init(struct event_base *);
void	child_free(void);
pid_t	child_fork(int, void (*)(int, void *), void *, child_exit_cb, void *);
void	child_watch(pid_t, child_exit_cb, void *);
void	child_forget(pid_t);
void	child_reap(void);

#endif

/* exec on the thread executor: programs driven by the daemon's loop. */
#ifndef POOLD_EXEC_LOOP_H
#define POOLD_EXEC_LOOP_H

struct event_base;
struct fn_call;

void	 exec_loop_init(struct event_base *, double);
void	 exec_loop_free(void);
void	*exec_loop_start(struct fn_call *, void (*)(void *), void *);
void	 exec_loop_abort(void *);

#endif

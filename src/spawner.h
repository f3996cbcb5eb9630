/*
 * The spawner: a process forked once, at start-up, before poold holds
 * anything of anyone's, from which workers are made later. A worker forked
 * from poold itself would carry a copy of poold's memory as it is then
 * (other users' arguments, results and requests) into a process that runs
 * as one user, with that user's code in it; one made from the spawner
 * carries only what poold held at start-up. Its workers are still poold's
 * own children (CLONE_PARENT), reaped and killed as any other.
 */
#ifndef POOLD_SPAWNER_H
#define POOLD_SPAWNER_H

#include <sys/types.h>

int	spawner_start(void (*)(int, int, void *), void *, char **);
void	spawner_stop(void);
int	spawner_running(void);
pid_t	spawner_spawn(int, int);

#endif

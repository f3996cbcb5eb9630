/*
 * poold-worker, the worker program: a process worker in a program of its
 * own instead of a copy of poold. It is linked with the static libpython
 * of the Python that the python plugin embeds, the optimized build that
 * the system's own python3 is, which runs pure Python faster than
 * libpython3.X.so does; so workers exec it when the python plugin is
 * loaded and the program is there (and no python host is: see
 * worker-host.h), and are forked as before otherwise.
 *
 * poold makes the program's command line once, at start-up. A new worker
 * execs it at once, with its channel at fd 3 and its shared page at fd 4,
 * the only fds it keeps besides 0 to 2. The program loads the same
 * plugins, with the settings their setups read in poold, and is then
 * the worker worker_main is, on the same protocol. A hosted worker's
 * command line is this one behind python3's own words, and its module
 * runs worker_program_main as the program's main does.
 */
#ifndef POOLD_WORKER_PROGRAM_H
#define POOLD_WORKER_PROGRAM_H

#include <sys/types.h>

struct worker_start;

#define WORKER_PROGRAM_CHANNEL_FD	3
#define WORKER_PROGRAM_PAGE_FD		4

char	 *worker_program_find(void);
char	 *worker_program_beside(const char *, const char *, int);
char	**worker_program_argv(const char *const *,
	    const struct worker_start *);
void	  worker_program_free(char **);
void	  worker_program_exec(char **, pid_t) __attribute__((noreturn));
void	  worker_program_main(int, char **) __attribute__((noreturn));

#endif

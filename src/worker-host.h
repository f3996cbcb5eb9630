/*
 * Hosted workers: a process worker that runs inside the python3 program
 * itself, the one of the Python the python plugin was built against.
 * Debian's python3 is a static build of CPython optimized apart (with
 * link-time and profile-guided optimization); no program linked with
 * libpython, poold-worker included, runs the same machine code, and pure
 * Python runs some percent slower in all of them. Hosted, a Python task
 * runs on exactly the code that python3, and so ProcessPoolExecutor,
 * runs.
 *
 * A new worker execs python3 -S -c BOOT MODULE ARGS...: the bootstrap
 * loads MODULE (_poold_worker.so, worker-module.c) by its path and calls
 * its run() with MODULE ARGS..., ARGS being the worker program's command
 * line (worker-program.h). run() is then that program's main: the same
 * settings, fds 3 and 4, signals, plugins and worker_main. The python
 * plugin finds the interpreter running and takes it (see its init).
 *
 * poold looks for the module beside its own executable, then where it is
 * installed, and runs the bootstrap once at start-up with the module
 * alone, which loads it and exits. Only if that works do workers run
 * hosted; otherwise it logs why once and workers run poold-worker, or
 * are forked, as before.
 */
#ifndef POOLD_WORKER_HOST_H
#define POOLD_WORKER_HOST_H

struct worker_start;

char	**worker_host_argv(const struct worker_start *);

#endif

/*
 * poold-worker: a process worker of poold's in a program of its own,
 * which poold's workers exec when the python plugin is loaded (see
 * worker-program.h). It is linked with the whole static libpython and
 * exports its symbols, so that the python plugin, and the extension
 * modules Python loads, run on the interpreter in this program.
 */
#include "autoconf.h"

#include <fcntl.h>
#include <stdio.h>

#include "worker-program.h"

int
main(int argc, char **argv)
{
	if (fcntl(WORKER_PROGRAM_CHANNEL_FD, F_GETFD) == -1) {
		fprintf(stderr, "poold-worker: poold runs this program as a "
		    "worker; it is not for running by hand\n");
		return 2;
	}
	worker_program_main(argc, argv);
}

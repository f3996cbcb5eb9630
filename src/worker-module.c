/*
 * _poold_worker, the extension module of hosted workers (worker-host.h):
 * python3 loads it, and its run() is the worker program's main from then
 * on. The module holds all of poold's worker code; it exports only its
 * init function, so nothing of poold's can stand in for a symbol of
 * python3's or of the libraries python3 has loaded, nor the other way.
 *
 * Python.h comes first, as Python asks; this file needs nothing of
 * autoconf.h that Python.h does not define.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

#include "worker-program.h"
#include "xmalloc.h"

PyMODINIT_FUNC	PyInit__poold_worker(void);

/* Set once run() has begun: a worker cannot start again inside itself. */
static int	worker_module_running;

/* The list of str as a command line (the file system's bytes); NULL. */
static char **
worker_module_argv(PyObject *list, int *argc)
{
	PyObject	*bytes;
	Py_ssize_t	 n, i;
	char		**argv;

	if (!PyList_Check(list) || (n = PyList_GET_SIZE(list)) < 1 ||
	    n > INT_MAX - 1) {
		PyErr_SetString(PyExc_TypeError,
		    "run() takes the command line as a list of str");
		return NULL;
	}
	argv = xcalloc((size_t)n + 1, sizeof *argv);
	for (i = 0; i < n; i++) {
		if (!PyUnicode_FSConverter(PyList_GET_ITEM(list, i), &bytes)) {
			while (i > 0)
				free(argv[--i]);
			free(argv);
			return NULL;
		}
		argv[i] = xstrdup(PyBytes_AS_STRING(bytes));
		Py_DECREF(bytes);
	}
	*argc = (int)n;
	return argv;
}

/*
 * run(argv): be the worker the command line says, on fds 3 and 4; the
 * process ends with the worker. The GIL is let go first: the plugins
 * take it for each call, as they do in poold-worker, and threads that
 * Python code starts run between tasks.
 */
static PyObject *
worker_module_run(PyObject *self, PyObject *list)
{
	char	**argv;
	int	  argc;

	if (worker_module_running) {
		PyErr_SetString(PyExc_RuntimeError,
		    "this process is a worker already");
		return NULL;
	}
	if (fcntl(WORKER_PROGRAM_CHANNEL_FD, F_GETFD) == -1) {
		PyErr_SetString(PyExc_RuntimeError, "poold runs this module "
		    "in its workers; it is not for running by hand");
		return NULL;
	}
	if ((argv = worker_module_argv(list, &argc)) == NULL)
		return NULL;
	worker_module_running = 1;
	(void)PyEval_SaveThread();
	worker_program_main(argc, argv);
}

static PyMethodDef worker_module_methods[] = {
	{ "run", worker_module_run, METH_O,
	    "run(argv): be one of poold's process workers; never returns." },
	{ NULL, NULL, 0, NULL }
};

static struct PyModuleDef worker_module_def = {
	PyModuleDef_HEAD_INIT,
	.m_name = "_poold_worker",
	.m_doc = "poold's process worker, hosted in python3.",
	.m_size = -1,
	.m_methods = worker_module_methods,
};

PyMODINIT_FUNC
PyInit__poold_worker(void)
{
	return PyModule_Create(&worker_module_def);
}

/*
 * JSON values to Python objects and back, for the python plugin. Both run
 * with the GIL held.
 */
#ifndef POOLD_PYTHON_JSON_H
#define POOLD_PYTHON_JSON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <jansson.h>

/* Deeper results are refused: the daemon reads answers up to 2048 deep. */
#define PY_JSON_MAX_DEPTH	1000

PyObject	*py_json_to_python(json_t *);
json_t		*py_json_from_python(PyObject *);

#endif

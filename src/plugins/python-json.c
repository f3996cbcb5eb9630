/*
 * JSON and Python. Arguments come in as JSON values and become the objects
 * the json module would make of them; a result goes back only if JSON, as
 * poold carries it, holds it: None, bool, int within 64 bits, finite float,
 * str, list, tuple, and dict whose keys are str (or int, float, bool or
 * None, which become strings as json.dumps makes them). Anything else is a
 * TypeError raised here, so it reaches the task as the function's own
 * exceptions do.
 */
#include "python-json.h"

#include <math.h>

static PyObject	*py_json_value(json_t *);

static PyObject *
py_json_object(json_t *v)
{
	PyObject	*d, *key, *item;
	const char	*k;
	size_t		 klen;
	json_t		*member;

	if ((d = PyDict_New()) == NULL)
		return NULL;
#if JANSSON_VERSION_HEX >= 0x020e00
	json_object_keylen_foreach(v, k, klen, member) {
#else
	json_object_foreach(v, k, member) {
		klen = strlen(k);
#endif
		key = PyUnicode_FromStringAndSize(k, (Py_ssize_t)klen);
		item = key != NULL ? py_json_value(member) : NULL;
		if (item == NULL || PyDict_SetItem(d, key, item) == -1) {
			Py_XDECREF(key);
			Py_XDECREF(item);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(key);
		Py_DECREF(item);
	}
	return d;
}

static PyObject *
py_json_array(json_t *v)
{
	PyObject	*list, *item;
	size_t		 i, n = json_array_size(v);

	if ((list = PyList_New((Py_ssize_t)n)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((item = py_json_value(json_array_get(v, i))) == NULL) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, item);
	}
	return list;
}

/* A JSON value as a new Python object; jansson bounds its depth. */
static PyObject *
py_json_value(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return py_json_object(v);
	case JSON_ARRAY:
		return py_json_array(v);
	case JSON_STRING:
		/* jansson holds only valid UTF-8. */
		return PyUnicode_FromStringAndSize(json_string_value(v),
		    (Py_ssize_t)json_string_length(v));
	case JSON_INTEGER:
		return PyLong_FromLongLong(json_integer_value(v));
	case JSON_REAL:
		return PyFloat_FromDouble(json_real_value(v));
	case JSON_TRUE:
		Py_RETURN_TRUE;
	case JSON_FALSE:
		Py_RETURN_FALSE;
	case JSON_NULL:
		break;
	}
	Py_RETURN_NONE;
}

PyObject *
py_json_to_python(json_t *v)
{
	return v != NULL ? py_json_value(v) : PyDict_New();
}

static json_t	*py_json_of(PyObject *, int);

static json_t *
py_json_none(json_t *v)
{
	if (v == NULL)
		PyErr_NoMemory();
	return v;
}

static json_t *
py_json_int(PyObject *o)
{
	long long	n;
	int		overflow;

	n = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (overflow != 0) {
		PyErr_SetString(PyExc_TypeError, "an int outside the 64-bit "
		    "range cannot travel as JSON here; return it as a str");
		return NULL;
	}
	if (n == -1 && PyErr_Occurred())
		return NULL;
	return py_json_none(json_integer(n));
}

static json_t *
py_json_float(PyObject *o)
{
	double	d = PyFloat_AS_DOUBLE(o);

	if (!isfinite(d)) {
		PyErr_Format(PyExc_TypeError, "out of range float values are "
		    "not JSON compliant: %s", isnan(d) ? "nan" : d > 0 ?
		    "inf" : "-inf");
		return NULL;
	}
	return py_json_none(json_real(d));
}

static json_t *
py_json_str(PyObject *o)
{
	const char	*s;
	Py_ssize_t	 len;

	if ((s = PyUnicode_AsUTF8AndSize(o, &len)) == NULL) {
		/* A lone surrogate: no UTF-8, so no JSON string either. */
		if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError, "a str with a lone "
			    "surrogate is not valid UTF-8 and cannot be JSON");
		}
		return NULL;
	}
	return py_json_none(json_stringn(s, (size_t)len));
}

/*
 * A dict key as json.dumps writes it; a new str, or NULL. The base types'
 * own conversions: a subclass's could run code that changes the dict.
 */
static PyObject *
py_json_key(PyObject *key)
{
	if (PyUnicode_Check(key)) {
		Py_INCREF(key);
		return key;
	}
	if (key == Py_None)
		return PyUnicode_FromString("null");
	if (PyBool_Check(key))
		return PyUnicode_FromString(key == Py_True ? "true" : "false");
	if (PyLong_Check(key))
		return PyLong_Type.tp_repr(key);
	if (PyFloat_Check(key))
		return PyFloat_Type.tp_repr(key);
	PyErr_Format(PyExc_TypeError, "keys must be str, int, float, bool or "
	    "None, not %.200s", Py_TYPE(key)->tp_name);
	return NULL;
}

static json_t *
py_json_dict(PyObject *o, int depth)
{
	PyObject	*key, *value, *k;
	Py_ssize_t	 pos = 0, len;
	const char	*s;
	json_t		*obj, *v;

	if ((obj = json_object()) == NULL)
		return py_json_none(NULL);
	while (PyDict_Next(o, &pos, &key, &value)) {
		if ((k = py_json_key(key)) == NULL)
			goto fail;
		v = NULL;
		s = PyUnicode_AsUTF8AndSize(k, &len);
		if (s != NULL && (v = py_json_of(value, depth + 1)) != NULL &&
		    json_object_setn_new(obj, s, (size_t)len, v) == 0) {
			Py_DECREF(k);
			continue;
		}
		if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError, "a key with a lone "
			    "surrogate is not valid UTF-8 and cannot be JSON");
		} else if (s != NULL && v != NULL)
			PyErr_NoMemory();
		Py_DECREF(k);
		goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

static json_t *
py_json_list(PyObject *o, int depth)
{
	Py_ssize_t	 i, n = PySequence_Fast_GET_SIZE(o);
	json_t		*arr, *v;

	if ((arr = json_array()) == NULL)
		return py_json_none(NULL);
	for (i = 0; i < n; i++) {
		v = py_json_of(PySequence_Fast_GET_ITEM(o, i), depth + 1);
		if (v == NULL || json_array_append_new(arr, v) == -1) {
			if (v != NULL)
				PyErr_NoMemory();
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *
py_json_of(PyObject *o, int depth)
{
	if (depth > PY_JSON_MAX_DEPTH) {
		PyErr_Format(PyExc_TypeError, "the value nests deeper than %d "
		    "levels (does it contain itself?)", PY_JSON_MAX_DEPTH);
		return NULL;
	}
	if (o == Py_None)
		return py_json_none(json_null());
	if (PyBool_Check(o))
		return py_json_none(json_boolean(o == Py_True));
	if (PyLong_Check(o))
		return py_json_int(o);
	if (PyFloat_Check(o))
		return py_json_float(o);
	if (PyUnicode_Check(o))
		return py_json_str(o);
	if (PyDict_Check(o))
		return py_json_dict(o, depth);
	if (PyList_Check(o) || PyTuple_Check(o))
		return py_json_list(o, depth);
	PyErr_Format(PyExc_TypeError, "Object of type %.200s is not JSON "
	    "serializable", Py_TYPE(o)->tp_name);
	return NULL;
}

/* A Python object as a new JSON value, or NULL with a TypeError raised. */
json_t *
py_json_from_python(PyObject *o)
{
	return py_json_of(o, 0);
}

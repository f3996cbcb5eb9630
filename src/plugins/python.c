/*
 * The python plugin: py:MODULE:QUALNAME runs that Python function in an
 * embedded CPython, with the task's args and kwargs decoded from JSON,
 * and its return value goes back as JSON.
 *
 * A worker starts its interpreter in init, once: python_path goes in
 * front of sys.path, python_initializer runs, and then every task imports
 * its module on first use and keeps the function. A worker hosted in the
 * python3 program finds an interpreter running that it did not start,
 * started with -S before the worker was its owner's: init gives it the
 * process's environment as it is now and runs site, as a start then
 * would have, and goes on as after a start of its own.
 *
 * The daemon starts its own interpreter only when a py: task first runs
 * on the thread executor, on a thread that then only waits; tasks there
 * take the GIL for their run. A worker forked after that inherits the
 * daemon's interpreter: around such a fork the forking thread holds the
 * GIL (pthread_atfork), so the child gets it whole.
 *
 * Python's sys.stdout and sys.stderr both write to the process's stderr,
 * which is the daemon's log, a line at a time; the worker's channel is
 * another fd, so nothing a function prints can reach it.
 */
#include "python-json.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poold/plugin.h>

/* Bytes kept of an exception's text; a traceback keeps its end. */
#define PY_MAX_MESSAGE		8192
#define PY_MAX_TRACEBACK	65536

enum py_state {
	PY_NONE,		/* no interpreter in this process */
	PY_STARTING,		/* being started by its own thread */
	PY_RUNNING,
	PY_BROKEN,		/* could not start: py.broken says why */
};

static struct {
	const struct poold_host	*host;
	char			*path;		/* python_path, or NULL */
	char			*initializer;	/* MODULE:QUALNAME, or NULL */

	/* The daemon's interpreter. */
	pthread_mutex_t		 lock;		/* guards these three */
	pthread_cond_t		 started;	/* state left PY_STARTING */
	int			 state;		/* enum py_state; atomic */
	char			*broken;
	pthread_mutex_t		 init_lock;	/* held to run the initializer */
	int			 initialized;	/* atomic */

	/* With the GIL. */
	PyObject		*cache;		/* MODULE:QUALNAME -> callable */
	PyObject		*out;		/* sys.stdout and sys.stderr */
	PyObject		*format_exception;
} py = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.started = PTHREAD_COND_INITIALIZER,
	.init_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* The GIL the forking thread took for the fork, if it did. */
static __thread int			py_fork_held;
static __thread PyGILState_STATE	py_fork_gil;

/*
 * What the interpreter runs first: where prints go, and sys.path; and in
 * an interpreter already running, the environment and site (adopt).
 */
static const char py_boot_source[] =
    "import io, sys, traceback\n"
    "def adopt(environ):\n"
    "    import os\n"
    "    os.environ.clear()\n"
    "    for entry in environ:\n"
    "        key, _, value = entry.partition(b'=')\n"
    "        if key:\n"
    "            os.environb[key] = value\n"
    "    if sys.flags.no_site:\n"
    "        import site\n"
    "        site.main()\n"
    "def boot(path):\n"
    "    out = io.TextIOWrapper(io.FileIO(2, 'w', closefd=False),\n"
    "                           encoding='utf-8', errors='backslashreplace',\n"
    "                           line_buffering=True)\n"
    "    sys.stdout = sys.stderr = out\n"
    "    sys.path[0:0] = [p for p in path.split(':') if p]\n"
    "    return out, traceback.format_exception\n";

static int
py_ident_char(unsigned char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c >= 0x80 || (!first && c >= '0' && c <= '9');
}

/* Whether s[0, len) is identifiers joined by dots (UTF-8 left to Python). */
static int
py_dotted(const char *s, size_t len)
{
	size_t	i;
	int	first = 1;

	for (i = 0; i < len; i++) {
		if (s[i] == '.' && !first) {
			first = 1;
			continue;
		}
		if (!py_ident_char((unsigned char)s[i], first))
			return 0;
		first = 0;
	}
	return len > 0 && !first;
}

/* Whether spec is MODULE:QUALNAME. */
static int
py_spec_ok(const char *spec)
{
	const char	*colon = strchr(spec, ':');

	return colon != NULL && py_dotted(spec, (size_t)(colon - spec)) &&
	    py_dotted(colon + 1, strlen(colon + 1));
}

/* The names this plugin runs: py:MODULE:QUALNAME. */
static int
py_claims(const char *name)
{
	return strncmp(name, "py:", 3) == 0 && py_spec_ok(name + 3);
}

/* The exception being raised, taken from the thread state; a new ref. */
static PyObject *
py_take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
	return PyErr_GetRaisedException();
#else
	PyObject	*type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (value != NULL && tb != NULL)
		PyException_SetTraceback(value, tb);
	Py_XDECREF(type);
	Py_XDECREF(tb);
	return value;
#endif
}

/* Where a cut at or before s + at falls on a UTF-8 character's start. */
static size_t
py_utf8_start(const char *s, size_t at)
{
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/*
 * A str (a reference this takes) as malloc'd UTF-8 of at most max bytes:
 * the start of it, or with tail the end after "...". NULL if it is NULL or
 * cannot be had; no exception is left set.
 */
static char *
py_text(PyObject *s, size_t max, int tail)
{
	PyObject	*bytes = NULL;
	const char	*p;
	char		*text = NULL;
	size_t		 len, from = 0;

	if (s != NULL && PyUnicode_Check(s))
		bytes = PyUnicode_AsEncodedString(s, "utf-8",
		    "backslashreplace");
	Py_XDECREF(s);
	if (bytes == NULL) {
		PyErr_Clear();
		return NULL;
	}
	p = PyBytes_AS_STRING(bytes);
	len = (size_t)PyBytes_GET_SIZE(bytes);
	if (len > max && tail) {
		from = len - max;
		while (from < len && ((unsigned char)p[from] & 0xc0) == 0x80)
			from++;
	} else if (len > max)
		len = py_utf8_start(p, max);
	if ((text = malloc(len - from + 5)) != NULL) {
		strcpy(text, from > 0 ? "...\n" : "");
		memcpy(text + strlen(text), p + from, len - from);
		text[(from > 0 ? 4 : 0) + len - from] = '\0';
	}
	Py_DECREF(bytes);
	return text;
}

/* The exception's class as module.QualName (builtins bare); malloc'd. */
static char *
py_exc_type(PyObject *exc)
{
	PyObject	*type = (PyObject *)Py_TYPE(exc), *mod, *qual, *name;
	char		*text;

	mod = PyObject_GetAttrString(type, "__module__");
	qual = PyObject_GetAttrString(type, "__qualname__");
	if (mod != NULL && qual != NULL && PyUnicode_Check(mod) &&
	    PyUnicode_CompareWithASCIIString(mod, "builtins") != 0)
		name = PyUnicode_FromFormat("%U.%S", mod, qual);
	else if (qual != NULL)
		name = PyObject_Str(qual);
	else
		name = NULL;
	Py_XDECREF(mod);
	Py_XDECREF(qual);
	PyErr_Clear();
	if ((text = py_text(name, 1024, 0)) == NULL)
		text = strdup(Py_TYPE(exc)->tp_name);
	return text;
}

/* The exception's formatted traceback, malloc'd; NULL if it cannot be. */
static char *
py_traceback(PyObject *exc)
{
	PyObject	*tb, *lines = NULL, *sep, *text = NULL;

	tb = PyException_GetTraceback(exc);
	if (py.format_exception != NULL)
		lines = PyObject_CallFunctionObjArgs(py.format_exception,
		    (PyObject *)Py_TYPE(exc), exc, tb != NULL ? tb : Py_None,
		    NULL);
	Py_XDECREF(tb);
	if (lines != NULL && (sep = PyUnicode_FromString("")) != NULL) {
		text = PyUnicode_Join(sep, lines);
		Py_DECREF(sep);
	}
	Py_XDECREF(lines);
	return py_text(text, PY_MAX_TRACEBACK, 1);
}

/* The exception raised, as text for the log; malloc'd. */
static char *
py_exception_text(void)
{
	PyObject	*exc = py_take_exception();
	char		*text;

	if (exc == NULL)
		return strdup("(no exception)\n");
	if ((text = py_traceback(exc)) == NULL)
		text = py_text(PyObject_Str(exc), PY_MAX_MESSAGE, 0);
	Py_DECREF(exc);
	return text;
}

/* Fail the task with the exception being raised, as PROTOCOL.md says. */
static void
py_fail_exception(struct poold_task *task)
{
	PyObject	*exc = py_take_exception();
	char		*message, *type, *tb;
	json_t		*fields;

	if (exc == NULL) {
		poold_task_fail(task, "the call failed without an exception");
		return;
	}
	message = py_text(PyObject_Str(exc), PY_MAX_MESSAGE, 0);
	type = py_exc_type(exc);
	tb = py_traceback(exc);
	fields = json_object();
	if (type != NULL)
		json_object_set_new(fields, "exc_type", json_string(type));
	if (tb != NULL)
		json_object_set_new(fields, "traceback", json_string(tb));
	task->fail_with(task, message != NULL ? message :
	    "(the exception's str() failed)", fields);
	free(message);
	free(type);
	free(tb);
	Py_DECREF(exc);
}

/* MODULE:QUALNAME's object, imported once and kept; a new reference. */
static PyObject *
py_resolve(const char *spec)
{
	const char	*colon = strchr(spec, ':'), *part, *dot;
	PyObject	*key, *obj, *next, *name;

	if ((key = PyUnicode_FromString(spec)) == NULL)
		return NULL;
	if ((obj = PyDict_GetItemWithError(py.cache, key)) != NULL) {
		Py_DECREF(key);
		Py_INCREF(obj);
		return obj;
	}
	obj = NULL;
	if (PyErr_Occurred() ||
	    (name = PyUnicode_FromStringAndSize(spec, colon - spec)) == NULL)
		goto done;
	obj = PyImport_Import(name);
	Py_DECREF(name);
	for (part = colon + 1; obj != NULL; part = dot + 1) {
		dot = strchr(part, '.');
		name = PyUnicode_FromStringAndSize(part, dot != NULL ?
		    dot - part : (Py_ssize_t)strlen(part));
		next = name != NULL ? PyObject_GetAttr(obj, name) : NULL;
		Py_XDECREF(name);
		Py_DECREF(obj);
		obj = next;
		if (dot == NULL)
			break;
	}
	if (obj != NULL && !PyCallable_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "%s is not callable", spec);
		Py_CLEAR(obj);
	}
	if (obj != NULL && PyDict_SetItem(py.cache, key, obj) == -1)
		Py_CLEAR(obj);
done:
	Py_DECREF(key);
	return obj;
}

/* Run python_initializer; -1 with the exception raised. GIL held. */
static int
py_initialize(void)
{
	PyObject	*fn, *r;

	if ((fn = py_resolve(py.initializer)) == NULL)
		return -1;
	r = PyObject_CallNoArgs(fn);
	Py_DECREF(fn);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

/* Send on what a task printed without a newline. */
static void
py_flush(void)
{
	PyObject	*r;

	if (py.out == NULL)
		return;
	if ((r = PyObject_CallMethod(py.out, "flush", NULL)) == NULL)
		PyErr_Clear();
	Py_XDECREF(r);
}

/* The process's environment now, as a list of bytes; a new reference. */
static PyObject *
py_environ(void)
{
	PyObject	*list, *entry;
	char		**e;

	if ((list = PyList_New(0)) == NULL)
		return NULL;
	for (e = environ; e != NULL && *e != NULL; e++) {
		if ((entry = PyBytes_FromString(*e)) == NULL ||
		    PyList_Append(list, entry) == -1) {
			Py_XDECREF(entry);
			Py_DECREF(list);
			return NULL;
		}
		Py_DECREF(entry);
	}
	return list;
}

/* Call the boot code's adopt with the environment; -1 if it raised. */
static int
py_adopt(PyObject *globals)
{
	PyObject	*adopt, *env, *r = NULL;

	adopt = PyDict_GetItemString(globals, "adopt");
	if (adopt != NULL && (env = py_environ()) != NULL) {
		r = PyObject_CallOneArg(adopt, env);
		Py_DECREF(env);
	}
	Py_XDECREF(r);
	return r != NULL ? 0 : -1;
}

/*
 * The boot code's work: prints to stderr, python_path, the formatter;
 * first, with adopt, the environment and site of an interpreter this
 * plugin did not start.
 */
static int
py_boot(int adopt, char **why)
{
	PyObject	*globals, *r, *boot;

	r = NULL;
	py.cache = PyDict_New();
	globals = PyDict_New();
	if (py.cache != NULL && globals != NULL &&
	    PyDict_SetItemString(globals, "__builtins__",
	    PyEval_GetBuiltins()) == 0)
		r = PyRun_String(py_boot_source, Py_file_input, globals,
		    globals);
	Py_XDECREF(r);
	r = NULL;
	boot = globals != NULL ? PyDict_GetItemString(globals, "boot") : NULL;
	if (boot != NULL && (!adopt || py_adopt(globals) == 0))
		r = PyObject_CallFunction(boot, "s", py.path != NULL ?
		    py.path : "");
	Py_XDECREF(globals);
	if (r == NULL || !PyArg_ParseTuple(r, "OO", &py.out,
	    &py.format_exception)) {
		*why = py_exception_text();
		Py_XDECREF(r);
		return -1;
	}
	Py_INCREF(py.out);
	Py_INCREF(py.format_exception);
	Py_DECREF(r);
	return 0;
}

/*
 * Take the interpreter that runs in this process without this plugin
 * having started it (a worker hosted in python3): -1 with *why.
 */
static int
py_take(char **why)
{
	PyGILState_STATE	gil = PyGILState_Ensure();
	int			rc = py_boot(1, why);

	PyGILState_Release(gil);
	return rc;
}

/*
 * Start the interpreter in this process, the GIL released after; -1 with
 * *why (malloc'd) if it cannot start.
 */
static int
py_start(char **why)
{
	PyConfig	config;
	PyStatus	status;
	int		rc;

	PyConfig_InitPythonConfig(&config);
	/* Signals and the C stdio are poold's; argv is not Python's. */
	config.install_signal_handlers = 0;
	config.configure_c_stdio = 0;
	config.parse_argv = 0;
	status = PyConfig_SetBytesString(&config, &config.home,
	    POOLD_PYTHON_HOME);
	if (!PyStatus_Exception(status) &&
	    access(POOLD_PYTHON_EXECUTABLE, X_OK) == 0)
		status = PyConfig_SetBytesString(&config, &config.executable,
		    POOLD_PYTHON_EXECUTABLE);
	if (!PyStatus_Exception(status))
		status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status)) {
		if (asprintf(why, "%s", status.err_msg != NULL ?
		    status.err_msg : "Python did not start") == -1)
			*why = NULL;
		return -1;
	}
	rc = py_boot(0, why);
	PyEval_SaveThread();
	return rc;
}

/* The start is over, one way or the other; py.lock held. */
static void
py_daemon_started(char *broken)
{
	py.broken = broken;
	__atomic_store_n(&py.state, broken != NULL ? PY_BROKEN : PY_RUNNING,
	    __ATOMIC_RELEASE);
	pthread_cond_broadcast(&py.started);
}

/*
 * Python's main thread in the daemon: it starts the interpreter, then
 * only waits (its signals blocked, as the pool's are). Python lets only
 * its main thread set signal handlers, and the daemon's signals are
 * poold's: no thread that runs tasks may be that one.
 */
static void *
py_daemon_main(void *arg)
{
	char	*why = NULL;
	int	 rc = py_start(&why);

	pthread_mutex_lock(&py.lock);
	py_daemon_started(rc == 0 ? NULL : why != NULL ? why :
	    "out of memory");
	pthread_mutex_unlock(&py.lock);
	for (;;)
		pause();
	return NULL;
}

/* Start Python's main thread in the daemon; an errno value if it fails. */
static int
py_daemon_spawn(void)
{
	pthread_attr_t	attr;
	pthread_t	thread;
	int		rc;

	if ((rc = pthread_attr_init(&attr)) != 0)
		return rc;
	if ((rc = pthread_attr_setdetachstate(&attr,
	    PTHREAD_CREATE_DETACHED)) == 0)
		rc = pthread_create(&thread, &attr, py_daemon_main, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

/* The daemon's interpreter, started at its first task; -1 if it is not. */
static int
py_daemon_start(struct poold_task *task)
{
	char	*why;
	int	 rc;

	if (__atomic_load_n(&py.state, __ATOMIC_ACQUIRE) != PY_RUNNING) {
		pthread_mutex_lock(&py.lock);
		if (py.state == PY_NONE) {
			py.state = PY_STARTING;
			if ((rc = py_daemon_spawn()) != 0) {
				if (asprintf(&why, "no thread for it: %s",
				    strerror(rc)) == -1)
					why = "no thread for it";
				py_daemon_started(why);
			}
		}
		while (py.state == PY_STARTING)
			pthread_cond_wait(&py.started, &py.lock);
		pthread_mutex_unlock(&py.lock);
	}
	if (__atomic_load_n(&py.state, __ATOMIC_ACQUIRE) != PY_RUNNING) {
		poold_task_fail(task, "Python cannot start in the daemon: %s",
		    py.broken);
		return -1;
	}
	return 0;
}

/*
 * The daemon runs python_initializer before its first task that succeeds
 * in running it: one that raises fails that task, and the next tries
 * again. -1 if the task failed.
 */
static int
py_daemon_initialize(struct poold_task *task)
{
	PyGILState_STATE	gil;
	int			rc = 0;

	if (py.initializer == NULL ||
	    __atomic_load_n(&py.initialized, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&py.init_lock);
	if (!py.initialized) {
		gil = PyGILState_Ensure();
		if (py_initialize() == -1) {
			py_fail_exception(task);
			rc = -1;
		} else
			__atomic_store_n(&py.initialized, 1, __ATOMIC_RELEASE);
		py_flush();
		PyGILState_Release(gil);
	}
	pthread_mutex_unlock(&py.init_lock);
	return rc;
}

/* Call the task's function; its JSON result, or NULL when it failed. */
static json_t *
py_call(struct poold_task *task, json_t *args, json_t *kwargs)
{
	PyObject	*fn, *list = NULL, *tuple = NULL, *kw = NULL, *r = NULL;
	json_t		*result = NULL;

	if ((fn = py_resolve(poold_task_name(task) + 3)) != NULL &&
	    (list = py_json_to_python(args)) != NULL &&
	    (tuple = PyList_AsTuple(list)) != NULL &&
	    (kw = py_json_to_python(kwargs)) != NULL &&
	    (r = PyObject_Call(fn, tuple, kw)) != NULL)
		result = py_json_from_python(r);
	if (result == NULL)
		py_fail_exception(task);
	Py_XDECREF(fn);
	Py_XDECREF(list);
	Py_XDECREF(tuple);
	Py_XDECREF(kw);
	Py_XDECREF(r);
	py_flush();
	return result;
}

static json_t *
py_run(struct poold_task *task, json_t *args, json_t *kwargs)
{
	PyGILState_STATE	 gil;
	json_t			*result;

	if (!py.host->in_worker() && (py_daemon_start(task) == -1 ||
	    py_daemon_initialize(task) == -1))
		return NULL;
	if (!Py_IsInitialized())
		return poold_task_fail(task, "Python is not running here");
	if (args == NULL)
		args = json_array();
	else
		json_incref(args);
	gil = PyGILState_Ensure();
	result = py_call(task, args, kwargs);
	PyGILState_Release(gil);
	json_decref(args);
	return result;
}

/*
 * A worker's init: its interpreter, unless it has the daemon's from the
 * fork or runs inside python3's, then python_initializer. Nothing in the
 * daemon, which starts one only if a task needs it.
 */
static int
py_init(void)
{
	PyGILState_STATE	 gil;
	char			*why = NULL;
	int			 rc = 0;

	if (!py.host->in_worker())
		return 0;
	/* Else booted already: the daemon's, which the fork copied. */
	if (!Py_IsInitialized())
		rc = py_start(&why);
	else if (py.cache == NULL)
		rc = py_take(&why);
	if (rc == -1) {
		fprintf(stderr, "python: cannot start: %s\n",
		    why != NULL ? why : "out of memory");
		free(why);
		return -1;
	}
	if (py.initializer == NULL)
		return 0;
	gil = PyGILState_Ensure();
	if (py_initialize() == -1) {
		why = py_exception_text();
		fprintf(stderr, "python: python_initializer %s failed:\n%s",
		    py.initializer, why != NULL ? why : "(no text)\n");
		free(why);
		rc = -1;
	}
	py_flush();
	PyGILState_Release(gil);
	return rc;
}

/*
 * Around a fork by the daemon (a new worker), once the daemon's
 * interpreter runs: the forking thread holds the GIL, so no other thread
 * is inside Python and the child's copy is whole. A fork made by Python
 * code already holds it and does this itself; workers' forks are theirs.
 */
static void
py_fork_prepare(void)
{
	py_fork_held = 0;
	if (py.host->in_worker())
		return;
	if (__atomic_load_n(&py.state, __ATOMIC_ACQUIRE) == PY_STARTING) {
		/* Wait for the start to end: a child must not copy half. */
		pthread_mutex_lock(&py.lock);
		while (py.state == PY_STARTING)
			pthread_cond_wait(&py.started, &py.lock);
		pthread_mutex_unlock(&py.lock);
	}
	if (__atomic_load_n(&py.state, __ATOMIC_ACQUIRE) != PY_RUNNING ||
	    PyGILState_Check())
		return;
	py_fork_gil = PyGILState_Ensure();
	PyOS_BeforeFork();
	py_fork_held = 1;
}

static void
py_fork_parent(void)
{
	if (!py_fork_held)
		return;
	PyOS_AfterFork_Parent();
	PyGILState_Release(py_fork_gil);
	py_fork_held = 0;
}

/*
 * The forking thread's state stays, the child's main one: a child left
 * with none cannot make another (3.11 reuses the first one's memory).
 */
static void
py_fork_child(void)
{
	if (!py_fork_held)
		return;
	PyOS_AfterFork_Child();
	PyEval_SaveThread();
	py_fork_held = 0;
}

/*
 * Make libpython's symbols global. poold opens plugins RTLD_LOCAL, and so
 * libpython with this one; but extension modules (lib-dynload's shared
 * objects) are not linked against it: they find its symbols only in the
 * global scope. In poold-worker and in python3 (a hosted worker) they are
 * there already: the program has the interpreter in it, and this
 * plugin's references went to it.
 */
static int
py_export_libpython(void)
{
	Dl_info	 info;
	void	*handle;

	if ((handle = dlopen(NULL, RTLD_NOW)) != NULL &&
	    dlsym(handle, "Py_InitializeFromConfig") ==
	    (void *)Py_InitializeFromConfig)
		return 0;
	if (dladdr((void *)Py_InitializeFromConfig, &info) == 0 ||
	    info.dli_fname == NULL) {
		fprintf(stderr, "python: cannot tell where libpython is\n");
		return -1;
	}
	handle = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
	if (handle == NULL) {
		fprintf(stderr, "python: %s: %s\n", info.dli_fname, dlerror());
		return -1;
	}
	/* The reference stays: libpython is never unloaded. */
	return 0;
}

/* In the daemon, once: the settings, libpython, and the fork hooks. */
static int
py_setup(const struct poold_host *host)
{
	const char	*path = host->setting("python_path");
	const char	*init = host->setting("python_initializer");

	py.host = host;
	if (py_export_libpython() == -1)
		return -1;
	if (init != NULL && !py_spec_ok(init)) {
		fprintf(stderr, "python: python_initializer must be "
		    "MODULE:QUALNAME, not '%s'\n", init);
		return -1;
	}
	if ((path != NULL && (py.path = strdup(path)) == NULL) ||
	    (init != NULL && (py.initializer = strdup(init)) == NULL)) {
		fprintf(stderr, "python: out of memory\n");
		return -1;
	}
	if ((errno = pthread_atfork(py_fork_prepare, py_fork_parent,
	    py_fork_child)) != 0) {
		fprintf(stderr, "python: pthread_atfork: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

static const struct poold_function py_functions[] = {
	{ "py:*", "a Python function, py:MODULE:QUALNAME",
	    POOLD_EXECUTOR_PROCESS | POOLD_EXECUTOR_THREAD,
	    POOLD_EXECUTOR_PROCESS, py_run },
	{ NULL, NULL, 0, 0, NULL }
};

const struct poold_plugin poold_plugin = {
	.abi = POOLD_PLUGIN_ABI,
	.name = "python",
	.init = py_init,
	.functions = py_functions,
	.setup = py_setup,
	.claims = py_claims,
};

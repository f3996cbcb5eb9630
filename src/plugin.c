/*
 * Plugins. Each is opened once, in the daemon, before any worker is
 * forked, so workers inherit it already mapped; its setup runs then, in
 * the daemon, and its init in each process that runs its functions. Its
 * functions join the function table as struct fn entries whose run calls
 * through the plugin ABI. Plugins of ABI 1 and 2 load; only a plugin of
 * ABI 2 has the fields after functions, so they are read only for it.
 *
 * A worker that runs another program (poold-worker) loads the plugins
 * again there: the settings their setups read are kept for it.
 */
#include "autoconf.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poold/plugin.h>

#include "config.h"
#include "fn.h"
#include "future.h"
#include "log.h"
#include "plugin.h"
#include "xmalloc.h"

struct plugin {
	void				*handle;
	const struct poold_plugin	*desc;
	char				*path;
	struct fn			*fns;
	size_t				 nfns;
	struct plugin			*next;
};

static struct plugin	*plugins;	/* the last loaded first */

/* The daemon: a process of another pid runs plugins as a worker. */
static pid_t		 plugin_daemon_pid;
/* Set in a worker program, which loads the plugins itself. */
static int		 plugin_worker_program;
/* The settings setup may read, only while it runs. */
static const struct config *plugin_cfg;

/* The settings setups read, with their values, for worker programs. */
static struct plugin_read {
	char	*key;
	char	*value;
}			*plugin_reads;
static size_t		 plugin_nreads;

static void
plugin_keep_read(const char *key, const char *value)
{
	size_t	i;

	for (i = 0; i < plugin_nreads; i++) {
		if (strcmp(plugin_reads[i].key, key) == 0)
			return;
	}
	plugin_reads = xreallocarray(plugin_reads, plugin_nreads + 1,
	    sizeof *plugin_reads);
	plugin_reads[plugin_nreads].key = xstrdup(key);
	plugin_reads[plugin_nreads++].value = xstrdup(value);
}

static const char *
plugin_setting(const char *key)
{
	const char	*value;

	if (plugin_cfg == NULL || key == NULL ||
	    (value = config_string(plugin_cfg, key)) == NULL)
		return NULL;
	plugin_keep_read(key, value);
	return value;
}

static int
plugin_in_worker(void)
{
	return plugin_worker_program || getpid() != plugin_daemon_pid;
}

static const struct poold_host plugin_host = {
	.abi = POOLD_PLUGIN_ABI,
	.setting = plugin_setting,
	.in_worker = plugin_in_worker,
};

static void
plugin_task_fail(struct poold_task *task, const char *message)
{
	struct fn_call	*call = task->poold_private;

	json_decref(call->error);
	call->error = future_error("TaskError", "%s", message);
}

static void
plugin_task_fail_with(struct poold_task *task, const char *message,
    json_t *fields)
{
	struct fn_call	*call = task->poold_private;
	json_t		*error, *text;

	if ((text = json_string(message)) == NULL)
		text = json_string("(the message was not valid UTF-8)");
	error = json_pack("{s:s, s:o}", "type", "TaskError", "message", text);
	if (error == NULL)
		fatalx("json_pack failed");
	if (json_is_object(fields)) {
		json_object_del(fields, "type");
		json_object_del(fields, "message");
		json_object_update(error, fields);
	}
	json_decref(fields);
	json_decref(call->error);
	call->error = error;
}

static int
plugin_task_stopped(struct poold_task *task)
{
	struct fn_call	*call = task->poold_private;

	return call->stopped(call);
}

static int
plugin_task_pause(struct poold_task *task, double seconds)
{
	struct fn_call	*call = task->poold_private;

	return call->pause(call, seconds);
}

/* The run of every plugin function: the ABI's call and its outcome. */
static void
plugin_run(struct fn_call *call)
{
	const struct poold_function	*pf = call->fn->impl;
	struct poold_task		 task = {
		.fail = plugin_task_fail,
		.stopped = plugin_task_stopped,
		.pause = plugin_task_pause,
		.poold_private = call,
		.name = call->name != NULL ? call->name : pf->name,
		.fail_with = plugin_task_fail_with,
	};
	json_t				*result;

	result = pf->fn(&task, call->args, call->kwargs);
	if (call->error != NULL)
		json_decref(result);
	else if (result != NULL)
		call->result = result;
	else
		call->error = future_error("TaskError", "%s returned nothing",
		    task.name);
}

/* Whether the plugin behind a prefix function runs this name. */
static int
plugin_claims(const struct fn *fn, const char *name)
{
	const struct plugin	*p = fn->plugin;

	return p->desc->claims == NULL || p->desc->claims(name);
}

static int
plugin_executors(const struct poold_function *pf, struct fn *fn,
    char **cause)
{
	unsigned	known = POOLD_EXECUTOR_THREAD | POOLD_EXECUTOR_PROCESS;

	if (pf->executors == 0 || (pf->executors & ~known) != 0 ||
	    (pf->default_executor & pf->executors) == 0 ||
	    (pf->default_executor != POOLD_EXECUTOR_THREAD &&
	    pf->default_executor != POOLD_EXECUTOR_PROCESS)) {
		xasprintf(cause, "function %s: bad executors", pf->name);
		return -1;
	}
	if (pf->executors & POOLD_EXECUTOR_THREAD)
		fn->executors |= FN_EXECUTOR(EXECUTOR_THREAD);
	if (pf->executors & POOLD_EXECUTOR_PROCESS)
		fn->executors |= FN_EXECUTOR(EXECUTOR_PROCESS);
	fn->default_executor = pf->default_executor == POOLD_EXECUTOR_THREAD ?
	    EXECUTOR_THREAD : EXECUTOR_PROCESS;
	return 0;
}

/* ABI 2 only: a name ending in '*' stands for every name under it. */
static int
plugin_is_prefix(const struct plugin *p, const char *name)
{
	size_t	len = strlen(name);

	return p->desc->abi >= 2 && len > 1 && name[len - 1] == '*';
}

static int
plugin_register(struct plugin *p, char **cause)
{
	const struct poold_function	*pf;
	size_t				 n = 0, i;

	for (pf = p->desc->functions; pf != NULL && pf->name != NULL; pf++)
		n++;
	p->fns = xcalloc(n, sizeof *p->fns);
	for (i = 0; i < n; i++) {
		pf = &p->desc->functions[i];
		p->fns[i].name = pf->name;
		p->fns[i].doc = pf->doc != NULL ? pf->doc : "";
		p->fns[i].run = plugin_run;
		p->fns[i].impl = pf;
		p->fns[i].plugin = p;
		if (pf->name[0] == '\0') {
			xasprintf(cause, "a function has an empty name");
			return -1;
		}
		if (plugin_is_prefix(p, pf->name)) {
			p->fns[i].prefix = strlen(pf->name) - 1;
			p->fns[i].claims = plugin_claims;
		}
		if (pf->fn == NULL) {
			xasprintf(cause, "function %s: no code", pf->name);
			return -1;
		}
		if (plugin_executors(pf, &p->fns[i], cause) == -1)
			return -1;
		if (fn_register(&p->fns[i]) == -1) {
			xasprintf(cause, "function %s is already loaded",
			    pf->name);
			return -1;
		}
		p->nfns++;
	}
	return 0;
}

/* Run an ABI 2 plugin's setup, with cfg's settings to read. */
static int
plugin_setup(struct plugin *p, const struct config *cfg, char **cause)
{
	int	rc;

	if (p->desc->abi < 2 || p->desc->setup == NULL)
		return 0;
	plugin_cfg = cfg;
	rc = p->desc->setup(&plugin_host);
	plugin_cfg = NULL;
	if (rc == -1)
		xasprintf(cause, "plugin %s: setup failed", p->path);
	return rc;
}

/*
 * Load a plugin by path, or by name from cfg's plugin_dir, and set it up
 * with cfg's settings; on error *cause says why.
 */
int
plugin_load(const char *name, const struct config *cfg, char **cause)
{
	struct plugin	*p = xcalloc(1, sizeof *p);

	plugin_daemon_pid = getpid();
	if (strchr(name, '/') != NULL)
		p->path = xstrdup(name);
	else
		xasprintf(&p->path, "%s/%s.so", cfg->plugin_dir, name);
	if ((p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		xasprintf(cause, "plugin %s: %s", p->path, dlerror());
		goto fail;
	}
	if ((p->desc = dlsym(p->handle, POOLD_PLUGIN_SYMBOL)) == NULL) {
		xasprintf(cause, "plugin %s: no %s symbol: %s", p->path,
		    POOLD_PLUGIN_SYMBOL, dlerror());
		goto fail;
	}
	if (p->desc->abi < 1 || p->desc->abi > POOLD_PLUGIN_ABI) {
		xasprintf(cause, "plugin %s: ABI %u, poold speaks 1 to %u",
		    p->path, p->desc->abi, POOLD_PLUGIN_ABI);
		goto fail;
	}
	if (plugin_register(p, cause) == -1) {
		char	*why = *cause;

		xasprintf(cause, "plugin %s: %s", p->path, why);
		free(why);
		goto fail;
	}
	log_info("plugin %s: %zu functions", p->path, p->nfns);
	p->next = plugins;
	plugins = p;
	return plugin_setup(p, cfg, cause);
fail:
	/* Functions already registered stay until plugin_unload_all. */
	p->next = plugins;
	plugins = p;
	return -1;
}

/* This process is a worker program: its plugins run as a worker's. */
void
plugin_worker(void)
{
	plugin_worker_program = 1;
}

/* Whether a plugin that calls itself name is loaded. */
int
plugin_loaded(const char *name)
{
	const struct plugin	*p;

	for (p = plugins; p != NULL; p = p->next) {
		if (p->desc != NULL && p->desc->name != NULL &&
		    strcmp(p->desc->name, name) == 0)
			return 1;
	}
	return 0;
}

/* The path of the i-th plugin loaded, in load order; NULL past the end. */
const char *
plugin_path(size_t i)
{
	const struct plugin	*p;
	size_t			 n = 0;

	for (p = plugins; p != NULL; p = p->next)
		n++;
	if (i >= n)
		return NULL;
	for (p = plugins; i + 1 < n; i++)
		p = p->next;
	return p->path;
}

/* The i-th setting the plugins' setups read, and its value; NULL past. */
const char *
plugin_setting_read(size_t i, const char **value)
{
	if (i >= plugin_nreads)
		return NULL;
	*value = plugin_reads[i].value;
	return plugin_reads[i].key;
}

/* Run every plugin's init in this process. */
int
plugin_init_all(char **why)
{
	struct plugin	*p;

	for (p = plugins; p != NULL; p = p->next) {
		if (p->desc != NULL && p->desc->init != NULL &&
		    p->desc->init() == -1) {
			xasprintf(why, "plugin %s: init failed", p->path);
			return -1;
		}
	}
	return 0;
}

/*
 * Forget the plugins. They stay mapped until the process ends: what their
 * code keeps (statics, memory they point to) stays valid, and nothing is
 * gained by unmapping code at exit.
 */
void
plugin_unload_all(void)
{
	struct plugin	*p;

	fn_unregister_all();
	while ((p = plugins) != NULL) {
		plugins = p->next;
		free(p->fns);
		free(p->path);
		free(p);
	}
	while (plugin_nreads > 0) {
		plugin_nreads--;
		free(plugin_reads[plugin_nreads].key);
		free(plugin_reads[plugin_nreads].value);
	}
	free(plugin_reads);
	plugin_reads = NULL;
}

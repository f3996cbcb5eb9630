/*
 * Users and their credentials. A lookup reads the user database through
 * NSS (getpwuid_r, getgrouplist) and may be slow, so what it finds is kept
 * for a few seconds: long enough that a burst of submits costs one, short
 * enough that a changed group membership is soon seen.
 *
 * ident_become is what a process of its own calls to take a user's
 * credentials for good: the groups, then the gid, then the uid, each
 * checked, and then a check that root cannot be had back. It calls only
 * async-signal-safe functions, so the child of a fork in a threaded
 * daemon may use it.
 */
#include "autoconf.h"

#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "ident.h"
#include "xmalloc.h"

#define IDENT_CACHE_SECONDS	5
#define IDENT_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"
#define IDENT_DEFAULT_SHELL	"/bin/sh"
#define IDENT_LOGIN_DEFS	"/etc/login.defs"

static struct ident	*cache;
static char		*user_path;	/* ENV_PATH of login.defs */

/* Whether a task of uid runs with credentials other than poold's own. */
int
ident_switches(uid_t uid)
{
	return geteuid() == 0 && uid != 0;
}

/* The uid a task of uid runs as: its own under root, else poold's. */
uid_t
ident_runs_as(uid_t uid)
{
	return geteuid() == 0 ? uid : geteuid();
}

/*
 * The PATH login(1) gives an ordinary user: ENV_PATH in login.defs
 * ("ENV_PATH PATH=/usr/bin:/bin" or "ENV_PATH /usr/bin:/bin"), else a
 * plain default. Root never needs one: its tasks run as poold itself.
 */
static const char *
ident_user_path(void)
{
	FILE	*fp;
	char	*line = NULL, *p, *end;
	size_t	 size = 0;

	if (user_path != NULL)
		return user_path;
	if ((fp = fopen(IDENT_LOGIN_DEFS, "re")) != NULL) {
		while (user_path == NULL && getline(&line, &size, fp) != -1) {
			for (p = line; isspace((unsigned char)*p); p++)
				;
			if (strncmp(p, "ENV_PATH", 8) != 0 ||
			    !isspace((unsigned char)p[8]))
				continue;
			for (p += 8; isspace((unsigned char)*p); p++)
				;
			if (strncmp(p, "PATH=", 5) == 0)
				p += 5;
			end = p + strcspn(p, " \t\r\n");
			if (end > p)
				xasprintf(&user_path, "%.*s",
				    (int)(end - p), p);
		}
		free(line);
		fclose(fp);
	}
	if (user_path == NULL)
		user_path = xstrdup(IDENT_DEFAULT_PATH);
	return user_path;
}

static void
ident_make_env(struct ident *id)
{
	id->env = xcalloc(6, sizeof *id->env);
	xasprintf(&id->env[0], "HOME=%s", id->home);
	xasprintf(&id->env[1], "USER=%s", id->name);
	xasprintf(&id->env[2], "LOGNAME=%s", id->name);
	xasprintf(&id->env[3], "SHELL=%s", id->shell);
	xasprintf(&id->env[4], "PATH=%s", id->path);
}

static void
ident_free(struct ident *id)
{
	char	**e;

	for (e = id->env; e != NULL && *e != NULL; e++)
		free(*e);
	free(id->env);
	free(id->groups);
	free(id->name);
	free(id->home);
	free(id->shell);
	free(id->path);
	free(id);
}

struct ident *
ident_ref(struct ident *id)
{
	if (id != NULL)
		id->refs++;
	return id;
}

void
ident_unref(struct ident *id)
{
	if (id != NULL && --id->refs == 0)
		ident_free(id);
}

/* The user's groups, the primary one included; -1 with errno. */
static int
ident_groups(struct ident *id)
{
	int	n = 32, asked;

	for (;;) {
		id->groups = xreallocarray(id->groups, (size_t)n,
		    sizeof *id->groups);
		asked = n;
		if (getgrouplist(id->name, id->gid, id->groups, &n) != -1) {
			id->ngroups = n;
			return 0;
		}
		/* n now holds how many there are; it must have grown. */
		if (n <= asked) {
			if (n > 65536 || asked >= 65536) {
				errno = E2BIG;
				return -1;
			}
			n = asked * 2;
		}
	}
}

/* Look a uid up in the user database; NULL with *why (to free). */
static struct ident *
ident_lookup(uid_t uid, char **why)
{
	struct passwd	 pw, *found = NULL;
	struct ident	*id;
	long		 max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t		 size = max > 0 ? (size_t)max : 1024;
	char		*buf = NULL;
	int		 rc;

	for (;;) {
		buf = xreallocarray(buf, size, 1);
		rc = getpwuid_r(uid, &pw, buf, size, &found);
		if (rc != ERANGE || size >= (1 << 20))
			break;
		size *= 2;
	}
	if (found == NULL) {
		if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
		    rc == EPERM)
			xasprintf(why, "uid %u has no entry in the user "
			    "database", (unsigned)uid);
		else
			xasprintf(why, "cannot look up uid %u: %s",
			    (unsigned)uid, strerror(rc));
		free(buf);
		return NULL;
	}
	id = xcalloc(1, sizeof *id);
	id->uid = uid;
	id->gid = pw.pw_gid;
	id->name = xstrdup(pw.pw_name);
	id->home = xstrdup(pw.pw_dir != NULL && *pw.pw_dir != '\0' ?
	    pw.pw_dir : "/");
	id->shell = xstrdup(pw.pw_shell != NULL && *pw.pw_shell != '\0' ?
	    pw.pw_shell : IDENT_DEFAULT_SHELL);
	id->path = xstrdup(ident_user_path());
	free(buf);
	if (ident_groups(id) == -1) {
		xasprintf(why, "cannot list the groups of %s (uid %u): %s",
		    id->name, (unsigned)uid, strerror(errno));
		ident_free(id);
		return NULL;
	}
	ident_make_env(id);
	id->refs = 1;
	return id;
}

/*
 * The user uid, from the cache or the user database; a new reference, or
 * NULL with *why (to free) if there is no such user or it cannot be read.
 */
struct ident *
ident_get(uid_t uid, char **why)
{
	struct ident	**pp, *id;
	double		  now = clock_mono();

	for (pp = &cache; (id = *pp) != NULL; ) {
		if (id->expires <= now) {
			*pp = id->next;
			ident_unref(id);
			continue;
		}
		if (id->uid == uid)
			return ident_ref(id);
		pp = &id->next;
	}
	if ((id = ident_lookup(uid, why)) == NULL)
		return NULL;
	id->expires = now + IDENT_CACHE_SECONDS;
	id->next = cache;
	cache = id;
	return ident_ref(id);
}

void
ident_cache_free(void)
{
	struct ident	*id;

	while ((id = cache) != NULL) {
		cache = id->next;
		ident_unref(id);
	}
	free(user_path);
	user_path = NULL;
}

/* For a worker's channel: everything it needs to become the user. */
json_t *
ident_to_json(const struct ident *id)
{
	json_t	*groups = json_array();
	int	 i;

	for (i = 0; i < id->ngroups; i++)
		json_array_append_new(groups, json_integer(id->groups[i]));
	return json_pack("{s:I, s:I, s:o, s:s, s:s, s:s, s:s}",
	    "uid", (json_int_t)id->uid, "gid", (json_int_t)id->gid,
	    "groups", groups, "name", id->name, "home", id->home,
	    "shell", id->shell, "path", id->path);
}

static int
ident_json_id(json_t *v, unsigned *out)
{
	json_int_t	n;

	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 ||
	    n >= (json_int_t)0xffffffffu)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* The worker's side of ident_to_json; NULL if it does not fit. */
struct ident *
ident_from_json(json_t *o)
{
	struct ident	*id = xcalloc(1, sizeof *id);
	json_t		*groups = json_object_get(o, "groups"), *g;
	const char	*name, *home, *shell, *path;
	unsigned	 uid, gid, n;
	size_t		 i;

	if (json_unpack(o, "{s:s, s:s, s:s, s:s}", "name", &name, "home",
	    &home, "shell", &shell, "path", &path) == -1 ||
	    ident_json_id(json_object_get(o, "uid"), &uid) == -1 ||
	    ident_json_id(json_object_get(o, "gid"), &gid) == -1 ||
	    !json_is_array(groups) || json_array_size(groups) > 65536) {
		free(id);
		return NULL;
	}
	id->uid = uid;
	id->gid = gid;
	id->groups = xcalloc(json_array_size(groups) + 1, sizeof *id->groups);
	json_array_foreach(groups, i, g) {
		if (ident_json_id(g, &n) == -1) {
			free(id->groups);
			free(id);
			return NULL;
		}
		id->groups[i] = n;
	}
	id->ngroups = (int)json_array_size(groups);
	id->name = xstrdup(name);
	id->home = xstrdup(home);
	id->shell = xstrdup(shell);
	id->path = xstrdup(path);
	ident_make_env(id);
	id->refs = 1;
	return id;
}

/*
 * Take the user's credentials for good: groups, gid, uid, in that order,
 * each checked; then make sure root cannot be had back. 0, or -1 with
 * errno and *what naming the step that failed. Async-signal-safe.
 */
int
ident_become(const struct ident *id, const char **what)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid;

	*what = "setgroups";
	if (setgroups((size_t)id->ngroups, id->groups) == -1)
		return -1;
	*what = "setgid";
	if (setresgid(id->gid, id->gid, id->gid) == -1)
		return -1;
	*what = "setuid";
	if (setresuid(id->uid, id->uid, id->uid) == -1)
		return -1;
	*what = "checking the new credentials";
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1)
		return -1;
	if (ruid != id->uid || euid != id->uid || suid != id->uid ||
	    rgid != id->gid || egid != id->gid || sgid != id->gid) {
		errno = EPERM;
		return -1;
	}
	*what = "dropping root for good (setuid(0) still works)";
	if (id->uid != 0 && setuid(0) != -1) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Go to the user's home, or to / if it cannot be entered, as login does. */
int
ident_enter_home(const struct ident *id)
{
	if (chdir(id->home) == 0)
		return 0;
	return chdir("/");
}

/* Make this process's environment the user's clean one. */
int
ident_setenv(const struct ident *id)
{
	if (clearenv() != 0 ||
	    setenv("HOME", id->home, 1) == -1 ||
	    setenv("USER", id->name, 1) == -1 ||
	    setenv("LOGNAME", id->name, 1) == -1 ||
	    setenv("SHELL", id->shell, 1) == -1 ||
	    setenv("PATH", id->path, 1) == -1)
		return -1;
	return 0;
}

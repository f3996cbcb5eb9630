/*
 * Who a task runs as. Run as root, poold runs each task with the
 * credentials of the uid that submitted it, as the user database gives
 * them: that uid, its primary gid and its supplementary groups. Run as
 * anyone else, nothing changes identity: every task runs as poold's own
 * user. An ident is one user's entry, looked up on the loop thread and
 * cached for a few seconds; once made, it is only read, so pool threads
 * may use one they were handed.
 */
#ifndef POOLD_IDENT_H
#define POOLD_IDENT_H

#include <sys/types.h>

#include <jansson.h>

struct ident {
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;	/* all: the primary included */
	int		 ngroups;
	char		*name;
	char		*home;
	char		*shell;
	char		*path;		/* PATH for the user */
	char		**env;		/* HOME, USER, LOGNAME, SHELL, PATH */
	int		 refs;
	double		 expires;	/* monotonic: cached until then */
	struct ident	*next;		/* in the cache */
};

int		 ident_switches(uid_t);
uid_t		 ident_runs_as(uid_t);
struct ident	*ident_get(uid_t, char **);
struct ident	*ident_ref(struct ident *);
void		 ident_unref(struct ident *);
void		 ident_cache_free(void);
json_t		*ident_to_json(const struct ident *);
struct ident	*ident_from_json(json_t *);
int		 ident_become(const struct ident *, const char **);
int		 ident_enter_home(const struct ident *);
int		 ident_setenv(const struct ident *);

#endif

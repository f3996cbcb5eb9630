/*
 * The daemon's one global state, owned by the loop thread. Everything else
 * keeps its state in its own module.
 */
#ifndef POOLD_POOLD_H
#define POOLD_POOLD_H

#include <sys/types.h>

struct config;
struct config_source;
struct event_base;

struct poold {
	struct event_base	*base;
	struct config		*cfg;
	const struct config_source *source;	/* for a reload */
	double			 started;	/* wall clock */
	uid_t			 uid;		/* the daemon's own */
	gid_t			 admin_gid;
	int			 have_admin_gid;
	int			 ready;		/* workers are up */
	int			 stopping;	/* no new work */
	int			 exiting;	/* flushing replies, then exit */
};

extern struct poold poold;

int	poold_init(struct config *, const struct config_source *, char **);
int	poold_run(void);
void	poold_free(void);
void	poold_stop(int, int);
int	poold_is_admin(uid_t, gid_t, const gid_t *, int);
void	poold_conn_closed(void);

#endif

/* Settings: defaults, the config file, and flags that override it. */
#ifndef POOLD_CONFIG_H
#define POOLD_CONFIG_H

#include <sys/types.h>

#include <stddef.h>

/* What an answer waits for before it is given: see journal.h. */
enum durability {
	DURABILITY_BATCH,
	DURABILITY_FSYNC,
	DURABILITY_OFF,
};

struct config {
	char	*socket;		/* NULL: the protocol's default path */
	long	 processes;
	long	 threads;
	char	**plugins;		/* names or paths, in order */
	size_t	 nplugins;
	char	*plugin_dir;
	long	 max_tasks_per_child;	/* 0: no limit */
	long	 max_rss_per_child;	/* bytes; 0: no limit */
	long	 max_result_bytes;
	long	 max_output_bytes;
	double	 kill_timeout;
	int	 verbose;
	long	 max_request_bytes;
	long	 max_pending;
	long	 max_connections;
	double	 result_ttl;
	char	*admin_group;		/* NULL: none */
	gid_t	 admin_gid;		/* admin_group's, looked up when set */
	double	 shutdown_timeout;
	long	 output_watermark;
	char	*state_dir;		/* NULL: state in memory only */
	enum durability durability;
	char	*python_path;		/* the python plugin's; NULL: unset */
	char	*python_initializer;
	long	 max_workers_per_uid;	/* each executor; 0: no cap */
};

/* Where settings come from: a file, then the flags, which win. */
struct config_flag {
	const char	*key;
	const char	*value;
};

struct config_source {
	const char		*path;		/* -c FILE, or NULL */
	const struct config_flag *flags;
	size_t			 nflags;
};

void	config_defaults(struct config *);
void	config_free(struct config *);
int	config_set(struct config *, const char *, const char *, char **);
int	config_load(struct config *, const char *, char **);
int	config_read(struct config *, const struct config_source *, char **);
char	*config_update(struct config *, struct config *);
const char *config_string(const struct config *, const char *);

#endif

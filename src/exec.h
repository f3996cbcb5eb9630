/*
 * exec: running a program as a task. This module holds what both ways of
 * running one share: reading the call, spawning, keeping its output, and
 * turning its end into a result or an error. fn-exec.c drives a program
 * from a worker (blocking, with poll); exec-loop.c drives one from the
 * daemon's event loop.
 */
#ifndef POOLD_EXEC_H
#define POOLD_EXEC_H

#include <sys/types.h>

#include <stddef.h>

#include <jansson.h>

struct ident;

struct exec_spec {
	char		**argv;		/* NULL-terminated */
	char		**envp;		/* NULL-terminated */
	char		 *cwd;		/* NULL: the daemon's */
	unsigned char	 *input;	/* NULL: /dev/null */
	size_t		  input_len;
	int		  check;
	size_t		  max_output;
	const struct ident *ident;	/* spawn as (NULL: as poold is) */
};

struct exec_stream {
	unsigned char	*buf;		/* at most max_output bytes */
	size_t		 len;
	size_t		 total;		/* every byte read */
};

struct exec_proc {
	pid_t			 pid;		/* also its process group */
	int			 in_fd;		/* -1 once closed */
	int			 out_fd;
	int			 err_fd;
	size_t			 in_off;
	size_t			 max_output;	/* kept of each stream */
	struct exec_stream	 out;
	struct exec_stream	 err;
};

int	 exec_check(json_t *, json_t *, const char **, char **);
int	 exec_spec_parse(json_t *, json_t *, size_t, const struct ident *,
	     struct exec_spec *, const char **, char **);
void	 exec_spec_free(struct exec_spec *);
int	 exec_spawn(const struct exec_spec *, struct exec_proc *);
int	 exec_read(struct exec_proc *, int);
int	 exec_write(struct exec_proc *, const struct exec_spec *);
void	 exec_drain(struct exec_proc *);
void	 exec_close(struct exec_proc *);
void	 exec_outcome(const struct exec_spec *, struct exec_proc *, int,
	     json_t **, json_t **);
json_t	*exec_spawn_error(const struct exec_spec *, int);

#endif

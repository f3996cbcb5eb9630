/* The listening socket: where it lives, making it, and accepting. */
#ifndef POOLD_SERVER_H
#define POOLD_SERVER_H

struct event_base;

char	*server_default_path(void);
int	 server_open(const char *, char **);
int	 server_start(struct event_base *, int, const char *);
void	 server_stop(void);

#endif

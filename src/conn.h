/*
 * A client connection: newline-framed input handed to the RPC layer line by
 * line, buffered output, the peer's credentials, and what the connection
 * waits for (requests that answer later, done notifications).
 */
#ifndef POOLD_CONN_H
#define POOLD_CONN_H

#include <sys/types.h>
#include <sys/queue.h>

#include <jansson.h>

struct future;
struct rpc_req;
struct sched_owner;

struct conn;

struct conn	*conn_new(int);
void		 conn_send(struct conn *, json_t *);
void		 conn_write(struct conn *, const void *, size_t);
void		 conn_write_str(struct conn *, const char *);
void		 conn_notify(struct conn *, const char *, json_t *);
void		 conn_close_after_flush(struct conn *);
void		 conn_close_all(void);
void		 conn_free_all(void);
unsigned	 conn_count(void);

uid_t		 conn_uid(const struct conn *);
int		 conn_is_admin(const struct conn *);
void		 conn_hold(struct conn *, struct rpc_req *);
void		 conn_unhold(struct conn *, struct rpc_req *);
void		 conn_notify_done(struct conn *, struct future *);
int		 conn_output_full(struct conn *);
struct sched_owner *conn_owner(struct conn *);

#endif

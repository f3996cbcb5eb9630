/*
 * libpoold-client's insides, shared by its files and never installed.
 * Nothing here starts with poold_: the library exports only that prefix.
 */
#ifndef POOLD_CLIENT_INT_H
#define POOLD_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <poold/client.h>

/* A failure as the poold_error_*() functions report it. */
struct client_error {
	poold_status	 status;
	int		 sys_errno;	/* POOLD_ERR_SYSTEM's errno, else 0 */
	int		 code;		/* a JSON-RPC error's code, else 0 */
	char		*message;	/* malloc'd, or client_nomem */
	json_t		*data;		/* a JSON-RPC error's data, or NULL */
};

/* A request sent and not yet taken. Slot free when id is 0. */
struct pending {
	uint64_t	 id;
	json_t		*answer;	/* the whole response, once it came */
	int		 abandoned;	/* drop the answer when it comes */
};

/* Outstanding requests by id: open addressing, linear probing. */
struct pending_table {
	struct pending	*slots;
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 count;
};

/* Bytes waiting to go out, from off to len. */
struct outbuf {
	char		*buf;
	size_t		 off;
	size_t		 len;
	size_t		 cap;
};

/* Bytes read and not yet framed, from start to end; scan is where the
 * search for '\n' resumes, so a long line is searched once. */
struct inbuf {
	char		*buf;
	size_t		 start;
	size_t		 scan;
	size_t		 end;
	size_t		 cap;
};

struct poold_client {
	int			 fd;
	char			*path;
	uint64_t		 next_id;
	size_t			 max_line;
	poold_notify_fn		*notify;
	void			*notify_arg;
	int			 in_handler;
	int			 write_dead;	/* the peer took no more: EPIPE */
	uint64_t		 handled;	/* messages read, for poold_poll */
	struct outbuf		 out;
	struct inbuf		 in;
	struct pending_table	 pending;
	struct client_error	 err;		/* the last failure */
	struct client_error	 fatal;		/* what broke the connection */
};

/* client.c */
extern char		 client_nomem[];
poold_status		 client_fail(poold_client *, poold_status, int,
			    const char *, ...)
			    __attribute__((format(printf, 4, 5)));
poold_status		 client_break(poold_client *, poold_status, int,
			    const char *, ...)
			    __attribute__((format(printf, 4, 5)));
poold_status		 client_rpc_error(poold_client *, poold_status,
			    json_t *);
poold_status		 client_broken(poold_client *);

/* pending.c */
struct pending		*pending_find(struct pending_table *, uint64_t);
int			 pending_add(struct pending_table *, uint64_t);
void			 pending_remove(struct pending_table *, uint64_t);
void			 pending_clear(struct pending_table *);

/* wire.c */
void			 wire_free(poold_client *);

#endif

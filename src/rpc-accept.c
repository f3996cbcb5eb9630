/*
 * A new future's acceptance, shared by submit and map. With a journal
 * that waits (durability fsync or batch) the future is kept aside until
 * its record is durable; then it goes in the store, its id is answered and
 * it is queued. If its record cannot be written the answer is -32008 and
 * the future never was. Without a state directory, or with durability off,
 * all of that happens at once, as it always did.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "future.h"
#include "journal.h"
#include "map.h"
#include "poold.h"
#include "rpc.h"
#include "sched.h"
#include "xmalloc.h"

struct accept {
	struct journal_wait	 wait;
	struct rpc_req		*req;		/* NULL once its client left */
	struct future		*f;
	struct sched_owner	*owner;
	long long		 priority;
	int			 notify;
	int			 is_map;
	struct map_params	 mp;		/* a map's, with its own copies */
	char			*text;
	json_t			*items;
};

/* New work while the state directory cannot be written: -32008. */
int
rpc_require_journal(struct rpc_req *req)
{
	int	err;

	if ((err = journal_failing()) == 0)
		return 0;
	rpc_error(req, RPC_STATE_UNAVAILABLE, "the state directory cannot "
	    "be written; nothing was queued", json_pack("{s:s}", "reason",
	    strerror(err)));
	return -1;
}

static void
accept_release(struct rpc_req *req)
{
	struct accept	*a = req->data;

	a->req = NULL;
}

static void
accept_free(struct accept *a)
{
	sched_owner_unref(a->owner);
	free(a->text);
	json_decref(a->items);
	free(a);
}

static void
accept_answer(struct rpc_req *req, struct future *f, int notify)
{
	if (notify)
		conn_notify_done(req->conn, f);
	rpc_result(req, json_pack("{s:s}", "future", f->name));
}

static void
accept_start_map(struct future *f, const struct map_params *mp)
{
	map_start(map_new(f, mp));
	sched_kick();
}

static void
accept_done(void *arg, enum journal_status status)
{
	struct accept	*a = arg;
	struct rpc_req	*req = a->req;

	/* Answered here: the hold's release must not come back. */
	if (req != NULL)
		req->release = NULL;
	if (status != JOURNAL_OK) {
		future_discard(a->f);
		if (req != NULL && status == JOURNAL_FAILED)
			rpc_require_journal(req);
		else if (req != NULL)
			rpc_error(req, RPC_SHUTTING_DOWN, "the daemon is "
			    "shutting down", NULL);
		if (status == JOURNAL_FAILED)
			sched_kick();
		accept_free(a);
		return;
	}
	/* A stop began meanwhile: the future was not accepted after all. */
	if (poold.stopping) {
		journal_dropped(a->f);
		future_discard(a->f);
		if (req != NULL)
			rpc_require_running(req);
		sched_kick();
		accept_free(a);
		return;
	}
	future_insert(a->f);
	if (req != NULL)
		accept_answer(req, a->f, a->notify);
	if (a->is_map)
		accept_start_map(a->f, &a->mp);
	else
		sched_submit(a->f, a->priority, a->owner);
	accept_free(a);
}

static struct accept *
accept_new(struct rpc_req *req, struct future *f, struct sched_owner *owner,
    long long priority, int notify)
{
	struct accept	*a = xcalloc(1, sizeof *a);

	a->req = req;
	a->f = f;
	a->owner = sched_owner_ref(owner);
	a->priority = priority;
	a->notify = notify;
	rpc_hold(req, accept_release, a);
	return a;
}

/* Accept a submitted future (allocated, not yet in the store). */
void
rpc_accept_submit(struct rpc_req *req, struct future *f, long long priority,
    int notify)
{
	struct accept	*a;

	f->qitem.priority = priority;
	if (!journal_waits()) {
		journal_accept(f, NULL, NULL, NULL, NULL);
		future_insert(f);
		accept_answer(req, f, notify);
		sched_submit(f, priority, conn_owner(req->conn));
		return;
	}
	a = accept_new(req, f, conn_owner(req->conn), priority, notify);
	journal_accept(f, NULL, &a->wait, accept_done, a);
}

static void
accept_journal_map(struct journal_map *jm, const struct map_params *mp,
    int stream)
{
	memset(jm, 0, sizeof *jm);
	jm->nitems = mp->n;
	jm->star = mp->star;
	jm->chunksize = mp->chunksize;
	jm->stream = stream;
	jm->text = mp->text;
	jm->text_len = mp->text_len;
	jm->items = mp->items;
}

/*
 * Accept a map that answers with its future. Waiting, it keeps its own
 * copy of the items' text (the request's is gone by then) and counts its
 * items as pending already.
 */
void
rpc_accept_map(struct rpc_req *req, struct future *f,
    const struct map_params *mp, int notify)
{
	struct journal_map	 jm;
	struct accept		*a;

	f->qitem.priority = mp->priority;
	accept_journal_map(&jm, mp, 0);
	if (!journal_waits()) {
		journal_accept(f, &jm, NULL, NULL, NULL);
		future_insert(f);
		accept_answer(req, f, notify);
		accept_start_map(f, mp);
		return;
	}
	a = accept_new(req, f, mp->owner, mp->priority, notify);
	a->is_map = 1;
	a->mp = *mp;
	a->items = json_incref(mp->items);
	a->mp.items = a->items;
	a->mp.owner = a->owner;
	if (mp->text != NULL) {
		a->text = xmalloc(mp->text_len + 1);
		memcpy(a->text, mp->text, mp->text_len);
		a->text[mp->text_len] = '\0';
		a->mp.text = a->text;
	}
	future_count_items(f, jm.nitems);
	journal_accept(f, &jm, &a->wait, accept_done, a);
}

/*
 * Accept a streamed map: no id is answered, so nothing waits; its record
 * says it streams, since one that has not ended when the daemon dies has
 * lost its client, which cancels it.
 */
void
rpc_accept_stream(struct rpc_req *req, struct future *f,
    const struct map_params *mp, int notify, int ordered)
{
	struct journal_map	 jm;
	struct map		*m;

	f->qitem.priority = mp->priority;
	accept_journal_map(&jm, mp, 1);
	journal_accept(f, &jm, NULL, NULL, NULL);
	future_insert(f);
	m = map_new(f, mp);
	if (notify)
		conn_notify_done(req->conn, f);
	map_stream(m, req, ordered);
	sched_kick();
}

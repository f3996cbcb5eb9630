/* list and forget: the caller's futures as a whole. */
#include "autoconf.h"

#include <stdint.h>

#include "conn.h"
#include "future.h"
#include "rpc.h"

static const char *const list_params[] = { "state", "limit", NULL };
static const char *const forget_params[] = { "futures", NULL };

static void
rpc_list_handler(struct rpc_req *req, json_t *params)
{
	struct future		*f;
	enum future_state	 state;
	const char		*state_name;
	long long		 limit;
	json_t			*list;
	uid_t			 uid = conn_uid(req->conn);
	int			 admin = conn_is_admin(req->conn);

	if (rpc_params_known(req, params, list_params) == -1 ||
	    rpc_param_string(req, params, "state", 0, &state_name) == -1 ||
	    rpc_param_int(req, params, "limit", 100, 0, INT64_MAX,
	    &limit) == -1)
		return;
	if (state_name != NULL && future_state_parse(state_name, &state) == -1) {
		rpc_param_invalid(req, "state", "state must be null or one of "
		    "pending, running, finished, failed, cancelled");
		return;
	}
	list = json_array();
	for (f = future_newest(); f != NULL && (long long)json_array_size(list)
	    < limit; f = future_older(f)) {
		if ((admin || f->owner == uid) &&
		    (state_name == NULL || f->state == state))
			json_array_append_new(list, future_to_json(f, 0));
	}
	rpc_result(req, list);
}

static void
rpc_forget_handler(struct rpc_req *req, json_t *params)
{
	struct future	*f;
	json_t		*ids, *id;
	size_t		 i, forgotten = 0;
	uid_t		 uid = conn_uid(req->conn);
	int		 admin = conn_is_admin(req->conn);

	if (rpc_params_known(req, params, forget_params) == -1 ||
	    rpc_param_futures(req, params, "futures", &ids) == -1)
		return;
	/* All or nothing: an unknown id leaves every future as it was. */
	json_array_foreach(ids, i, id) {
		if (future_lookup(json_string_value(id), uid, admin) == NULL) {
			rpc_unknown_future(req, json_string_value(id));
			return;
		}
	}
	json_array_foreach(ids, i, id) {
		f = future_lookup(json_string_value(id), uid, admin);
		if (f != NULL && future_is_done(f) && f->map == NULL) {
			future_forget(f);
			forgotten++;
		}
	}
	rpc_result(req, json_pack("{s:I}", "forgotten", (json_int_t)forgotten));
}

const struct rpc_method rpc_list = { "list", rpc_list_handler };
const struct rpc_method rpc_forget = { "forget", rpc_forget_handler };

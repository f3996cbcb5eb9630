/*
 * JSON-RPC 2.0 dispatch. A line holds one request or a batch. Answers to a
 * batch are gathered and sent as one array once its last request is
 * answered; a notification (a request without "id") is carried out and
 * never answered, whatever happens to it.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "rpc.h"
#include "xmalloc.h"

struct rpc_batch {
	struct conn	*conn;
	json_t		*answers;
	int		 outstanding;	/* requests not answered yet */
};

static const struct rpc_method *const rpc_methods[] = {
	&rpc_hello,
	&rpc_functions,
	&rpc_stats,
	&rpc_submit,
	&rpc_status,
	&rpc_result_method,
	&rpc_exception,
	&rpc_cancel,
	&rpc_wait,
	&rpc_as_completed,
	&rpc_list,
	&rpc_forget,
	&rpc_map,
	&rpc_workers,
	&rpc_shutdown,
	&rpc_resize,
};

/* The method a JSON string names; one holding a NUL names none. */
static const struct rpc_method *
rpc_find(json_t *name)
{
	size_t	i;

	if (strlen(json_string_value(name)) != json_string_length(name))
		return NULL;
	for (i = 0; i < sizeof rpc_methods / sizeof rpc_methods[0]; i++) {
		if (strcmp(rpc_methods[i]->name, json_string_value(name)) == 0)
			return rpc_methods[i];
	}
	return NULL;
}

/* An error response; takes the reference to data. */
json_t *
rpc_error_message(json_t *id, int code, const char *message, json_t *data)
{
	json_t	*error, *msg;

	error = json_pack("{s:i, s:s}", "code", code, "message", message);
	if (error == NULL)
		fatalx("json_pack failed");
	if (data != NULL)
		json_object_set_new(error, "data", data);
	msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0",
	    "id", id != NULL ? id : json_null(), "error", error);
	if (msg == NULL)
		fatalx("json_pack failed");
	return msg;
}

static void
rpc_batch_add(struct rpc_batch *b, json_t *answer)
{
	if (answer != NULL)
		json_array_append_new(b->answers, answer);
	if (--b->outstanding > 0)
		return;
	if (b->conn != NULL && json_array_size(b->answers) > 0)
		conn_send(b->conn, b->answers);
	json_decref(b->answers);
	free(b);
}

/* Send one answer where it belongs: alone, or into its batch. */
static void
rpc_send(struct conn *conn, struct rpc_batch *batch, json_t *answer)
{
	if (batch != NULL)
		rpc_batch_add(batch, answer);
	else {
		conn_send(conn, answer);
		json_decref(answer);
	}
}

static void
rpc_req_free(struct rpc_req *req)
{
	if (req->release != NULL)
		req->release(req);
	json_decref(req->id);
	free(req);
}

/* After its answer went: free the request unless a handler runs. */
static void
rpc_answered(struct rpc_req *req)
{
	if (req->held && !req->in_handler) {
		conn_unhold(req->conn, req);
		rpc_req_free(req);
	}
}

/* Called with the answer made (taken). */
static void
rpc_answer(struct rpc_req *req, json_t *answer)
{
	if (req->answered) {
		log_warnx("request answered twice");
		json_decref(answer);
		return;
	}
	req->answered = 1;
	if (req->id == NULL)
		json_decref(answer);
	else
		rpc_send(req->conn, req->batch, answer);
	rpc_answered(req);
}

/* Answer with a result; takes the reference. */
void
rpc_result(struct rpc_req *req, json_t *result)
{
	json_t	*msg;

	if (req->id == NULL) {
		json_decref(result);
		rpc_answer(req, NULL);
		return;
	}
	msg = json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", req->id,
	    "result", result);
	if (msg == NULL)
		fatalx("json_pack failed");
	rpc_answer(req, msg);
}

/*
 * Answer with a result that is JSON text already (borrowed), spliced into
 * the answer as it is. A batch collects values, so there it is parsed.
 */
void
rpc_result_text(struct rpc_req *req, const char *text, size_t len)
{
	json_t		*v;
	char		*id;

	if (req->id == NULL || req->batch != NULL) {
		if ((v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		    NULL)) == NULL)
			fatalx("a result's text does not parse");
		rpc_result(req, v);
		return;
	}
	if (req->answered) {
		log_warnx("request answered twice");
		return;
	}
	req->answered = 1;
	if ((id = json_dumps(req->id, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatalx("cannot encode a request id");
	conn_write_str(req->conn, "{\"jsonrpc\":\"2.0\",\"id\":");
	conn_write_str(req->conn, id);
	conn_write_str(req->conn, ",\"result\":");
	conn_write(req->conn, text, len);
	conn_write_str(req->conn, "}\n");
	free(id);
	rpc_answered(req);
}

/* Answer with an error; takes the reference to data. */
void
rpc_error(struct rpc_req *req, int code, const char *message, json_t *data)
{
	if (req->id == NULL) {
		json_decref(data);
		rpc_answer(req, NULL);
		return;
	}
	rpc_answer(req, rpc_error_message(req->id, code, message, data));
}

/* Keep the request to answer later; release frees what data holds. */
void
rpc_hold(struct rpc_req *req, void (*release)(struct rpc_req *), void *data)
{
	req->held = 1;
	req->release = release;
	req->data = data;
}

/* The connection is gone: drop the request unanswered. */
void
rpc_abort(struct rpc_req *req)
{
	if (req->batch != NULL) {
		req->batch->conn = NULL;
		rpc_batch_add(req->batch, NULL);
	}
	rpc_req_free(req);
}

static int
rpc_valid_id(json_t *id)
{
	return json_is_string(id) || json_is_number(id) || json_is_null(id);
}

/* Whether msg is a request object; on error *why says how it is not. */
static int
rpc_valid_request(json_t *msg, const char **why)
{
	json_t	*version = json_object_get(msg, "jsonrpc");
	json_t	*method = json_object_get(msg, "method");
	json_t	*params = json_object_get(msg, "params");

	if (!json_is_string(version) ||
	    strcmp(json_string_value(version), "2.0") != 0)
		*why = "\"jsonrpc\" must be \"2.0\"";
	else if (!json_is_string(method))
		*why = "\"method\" must be a string";
	else if (params != NULL && !json_is_object(params) &&
	    !json_is_array(params))
		*why = "\"params\" must be an object";
	else
		return 1;
	return 0;
}

static void
rpc_dispatch(struct conn *conn, struct rpc_batch *batch, json_t *msg,
    const char *text, size_t text_len, const struct json_hollow *items)
{
	const struct rpc_method	*method;
	struct rpc_req		*req;
	json_t			*id, *params, *empty = NULL;
	const char		*why = "not a request object";

	id = json_object_get(msg, "id");
	if (!json_is_object(msg) || (id != NULL && !rpc_valid_id(id)) ||
	    !rpc_valid_request(msg, &why)) {
		/* A request whose id is readable gets it back. */
		if (!json_is_object(msg) || !rpc_valid_id(id))
			id = NULL;
		if (batch != NULL)
			batch->outstanding++;
		rpc_send(conn, batch, rpc_error_message(id,
		    RPC_INVALID_REQUEST, why, NULL));
		return;
	}

	req = xcalloc(1, sizeof *req);
	req->conn = conn;
	req->id = json_incref(id);
	req->text = text;
	req->text_len = text_len;
	if (items != NULL)
		req->items = *items;
	if (id != NULL && batch != NULL) {
		req->batch = batch;
		batch->outstanding++;
	}

	params = json_object_get(msg, "params");
	method = rpc_find(json_object_get(msg, "method"));
	req->in_handler = 1;
	if (method == NULL)
		rpc_error(req, RPC_METHOD_NOT_FOUND, "method not found",
		    json_pack("{s:O}", "method", json_object_get(msg,
		    "method")));
	else if (json_is_array(params))
		rpc_error(req, RPC_INVALID_PARAMS,
		    "params must be an object, by name",
		    json_pack("{s:s}", "param", "params"));
	else {
		if (params == NULL)
			params = empty = json_object();
		method->handler(req, params);
		json_decref(empty);
	}
	req->in_handler = 0;
	req->text = NULL;
	req->items.text = NULL;

	if (req->answered)
		rpc_req_free(req);
	else if (req->held)
		conn_hold(conn, req);
	else {
		log_warnx("%s left its request unanswered",
		    json_string_value(json_object_get(msg, "method")));
		rpc_error(req, RPC_INTERNAL_ERROR, "internal error", NULL);
		rpc_req_free(req);
	}
}

static void
rpc_dispatch_batch(struct conn *conn, json_t *msgs)
{
	struct rpc_batch	*b;
	size_t			 i;

	if (json_array_size(msgs) == 0) {
		rpc_send(conn, NULL, rpc_error_message(NULL,
		    RPC_INVALID_REQUEST, "empty batch", NULL));
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->conn = conn;
	b->answers = json_array();
	b->outstanding = 1;	/* until every request is dispatched */
	for (i = 0; i < json_array_size(msgs); i++)
		rpc_dispatch(conn, b, json_array_get(msgs, i), NULL, 0, NULL);
	rpc_batch_add(b, NULL);
}

#define RPC_LOAD_FLAGS	(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | \
			    JSON_ALLOW_NUL)

/*
 * A map's iterable is left as text (json-check.h): most of a large
 * request, it is checked, not parsed, and passed on as it came.
 */
static json_t *
rpc_load_map(const char *line, size_t len, struct json_hollow *items)
{
	json_t	*msg, *method;

	msg = json_load_hollow(line, len, "params", "iterable",
	    RPC_LOAD_FLAGS, items);
	method = json_object_get(msg, "method");
	if (msg != NULL && (!json_is_string(method) ||
	    strcmp(json_string_value(method), "map") != 0)) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* Handle one framed line (without its newline). */
void
rpc_handle_line(struct conn *conn, const char *line, size_t len)
{
	struct json_hollow	 items;
	json_error_t		 err;
	json_t			*msg;

	if ((msg = rpc_load_map(line, len, &items)) != NULL) {
		rpc_dispatch(conn, NULL, msg, line, len, &items);
		json_decref(msg);
		return;
	}
	msg = json_loadb(line, len, RPC_LOAD_FLAGS, &err);
	if (msg == NULL) {
		rpc_send(conn, NULL, rpc_error_message(NULL, RPC_PARSE_ERROR,
		    "parse error", json_pack("{s:s, s:i}", "reason", err.text,
		    "position", err.position)));
		return;
	}
	if (json_is_array(msg))
		rpc_dispatch_batch(conn, msg);
	else
		rpc_dispatch(conn, NULL, msg, line, len, NULL);
	json_decref(msg);
}

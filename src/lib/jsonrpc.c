/* JSON-RPC 2.0 client: builds request text, sends it through one tb_http client to
 * the endpoints in turn, and parses answers strictly. Invariant: an endpoint whose
 * answer is not well-formed JSON-RPC is treated like an unreachable one (the next
 * endpoint is tried; if none answers the call is TB_EUNAVAIL), never as a result. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/jsonrpc.h"

struct tb_jsonrpc {
	char *urls[TB_JSONRPC_MAX_ENDPOINTS];
	size_t n;
	size_t current; /* the endpoint tried first: the last that answered */
	uint64_t next_id;
	struct tb_http *http;
};

int tb_jsonrpc_new(struct tb_jsonrpc **out, const char *const *urls, size_t n,
                   const struct tb_http_options *http, struct tb_error *err)
{
	*out = NULL;
	if (n == 0 || urls == NULL)
		return tb_error_set(err, TB_ECONFIG, "jsonrpc: no endpoint given");
	if (n > TB_JSONRPC_MAX_ENDPOINTS)
		return tb_error_set(err, TB_ELIMIT, "jsonrpc: %zu endpoints, at most %d", n,
		                    TB_JSONRPC_MAX_ENDPOINTS);
	struct tb_jsonrpc *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return tb_error_set(err, TB_ENOMEM, "jsonrpc: out of memory");
	c->next_id = 1;
	for (size_t i = 0; i < n; i++) {
		if (urls[i] == NULL || (strncmp(urls[i], "http://", 7) != 0 &&
		                        strncmp(urls[i], "https://", 8) != 0)) {
			tb_jsonrpc_free(c);
			return tb_error_set(err, TB_ECONFIG,
			                    "jsonrpc: endpoint %zu is not an http:// or https:// URL", i);
		}
		if ((c->urls[i] = strdup(urls[i])) == NULL) {
			tb_jsonrpc_free(c);
			return tb_error_set(err, TB_ENOMEM, "jsonrpc: out of memory");
		}
		c->n++;
	}
	struct tb_http_options def = {0};
	int rc = tb_http_new(&c->http, http ? http : &def, err);
	if (rc < 0) {
		tb_jsonrpc_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void tb_jsonrpc_free(struct tb_jsonrpc *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->urls[i]);
	tb_http_free(c->http);
	free(c);
}

const char *tb_jsonrpc_endpoint(const struct tb_jsonrpc *c)
{
	return c->urls[c->current];
}

static int check_method(const char *m, struct tb_error *err)
{
	size_t n = m ? strlen(m) : 0;
	if (n == 0 || n > TB_JSONRPC_MAX_METHOD)
		return tb_error_set(err, TB_EINVAL, "jsonrpc: method name empty or over %d bytes",
		                    TB_JSONRPC_MAX_METHOD);
	return 0;
}

/* Append one request object; params are checked to be a JSON array first. */
static int put_request(struct tb_buf *b, const char *method, const char *params, uint64_t id,
                       struct tb_error *err)
{
	int rc = check_method(method, err);
	if (rc < 0)
		return rc;
	const char *p = params ? params : "[]";
	struct tb_json *pj = NULL;
	rc = tb_json_parse(p, strlen(p), NULL, &pj, err);
	if (rc < 0) {
		tb_error_prefix(err, "jsonrpc: %s: params", method);
		return TB_EINVAL;
	}
	int is_array = pj->type == TB_JSON_ARRAY;
	tb_json_free(pj);
	if (!is_array)
		return tb_error_set(err, TB_EINVAL, "jsonrpc: %s: params must be a JSON array", method);
	if (tb_buf_printf(b, "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":", id) < 0 ||
	    tb_json_write_string(b, method, strlen(method)) < 0 ||
	    tb_buf_printf(b, ",\"params\":%s}", p) < 0)
		return tb_error_set(err, TB_ENOMEM, "jsonrpc: request too large");
	return 0;
}

/* POST body to each endpoint from the current one; on 0 *answer is the parsed body
 * of the first endpoint that answered with JSON. */
static int exchange(struct tb_jsonrpc *c, const struct tb_buf *body, const char *what,
                    struct tb_json **answer, struct tb_error *err)
{
	char why[TB_ERROR_MAX / 2] = "";
	for (size_t k = 0; k < c->n; k++) {
		size_t i = (c->current + k) % c->n;
		struct tb_http_response resp;
		struct tb_error e = {0};
		tb_http_response_init(&resp);
		int rc = tb_http_post_json(c->http, c->urls[i], (const char *)body->data, body->len,
		                           1, &resp, &e);
		/* A non-2xx answer may still carry a JSON-RPC error object: parse it. */
		if ((rc == 0 || rc == TB_EIO) && resp.body.len > 0) {
			struct tb_json *j = NULL;
			if (tb_json_parse((const char *)resp.body.data, resp.body.len, NULL, &j, &e) ==
			    0) {
				tb_http_response_fini(&resp);
				c->current = i;
				*answer = j;
				return 0;
			}
			tb_error_prefix(&e, "answer is not JSON (HTTP %ld)", resp.status);
		}
		tb_http_response_fini(&resp);
		memcpy(why, e.msg, sizeof(why) - 1);
		why[sizeof(why) - 1] = 0;
	}
	return tb_error_set(err, TB_EUNAVAIL, "jsonrpc: %s: no endpoint answered (%zu tried; last: %s)",
	                    what, c->n, why);
}

/* Read one response object into call; TB_EINVAL if it is not JSON-RPC 2.0. */
static int read_response(struct tb_json *obj, struct tb_jsonrpc_call *call, struct tb_error *err)
{
	struct tb_json *res = NULL, *fault = tb_json_get(obj, "error");
	if (fault != NULL && fault->type != TB_JSON_NULL) {
		struct tb_json *code = tb_json_get(fault, "code");
		const char *msg = tb_json_string(tb_json_get(fault, "message"));
		if (fault->type != TB_JSON_OBJECT || code == NULL || code->type != TB_JSON_NUMBER ||
		    !(code->u.number.value >= -9007199254740991.0 &&
		      code->u.number.value <= 9007199254740991.0))
			return tb_error_set(err, TB_EINVAL, "error object without an integer code");
		call->faulted = 1;
		call->fault.code = (long long)code->u.number.value;
		snprintf(call->fault.message, sizeof(call->fault.message), "%s", msg ? msg : "");
		return 0;
	}
	for (size_t i = 0; i < obj->u.object.len; i++) {
		struct tb_json_member *m = &obj->u.object.members[i];
		if (strcmp(m->key, "result") == 0) {
			/* Take the subtree out of the answer instead of copying it. */
			struct tb_json *null = tb_json_new_null();
			if (null == NULL)
				return tb_error_set(err, TB_ENOMEM, "jsonrpc: out of memory");
			res = m->value;
			m->value = null;
		}
	}
	if (res == NULL)
		return tb_error_set(err, TB_EINVAL, "answer has neither result nor error");
	call->result = res;
	return 0;
}

/* The id of a response object, or -1 when it has none we could have sent. */
static long long response_id(const struct tb_json *obj)
{
	const struct tb_json *id = tb_json_get(obj, "id");
	if (id == NULL || id->type != TB_JSON_NUMBER || id->u.number.value < 1 ||
	    id->u.number.value > 9e15)
		return -1;
	return (long long)id->u.number.value;
}

static int check_version(const struct tb_json *obj)
{
	const struct tb_json *v = tb_json_get(obj, "jsonrpc");
	return obj->type == TB_JSON_OBJECT && v && v->type == TB_JSON_STRING &&
	       strcmp(v->u.string.ptr, "2.0") == 0;
}

int tb_jsonrpc_call(struct tb_jsonrpc *c, const char *method, const char *params,
                    struct tb_json **result, struct tb_jsonrpc_fault *fault,
                    struct tb_error *err)
{
	struct tb_jsonrpc_call call = {.method = method, .params = params};
	*result = NULL;
	if (fault)
		memset(fault, 0, sizeof(*fault));
	int rc = tb_jsonrpc_batch(c, &call, 0, err); /* n = 0: a single, unbatched call */
	if (rc < 0)
		return rc;
	if (call.faulted) {
		if (fault)
			*fault = call.fault;
		return tb_error_set(err, TB_EIO, "jsonrpc: %s: node %s answered error %lld: %s",
		                    method, tb_jsonrpc_endpoint(c), call.fault.code,
		                    call.fault.message);
	}
	*result = call.result;
	return 0;
}

/* Match the answer to the calls; single (n == 0) expects one object for calls[0]. */
static int match_answer(struct tb_json *ans, struct tb_jsonrpc_call *calls,
                        size_t n, uint64_t first_id, struct tb_error *err)
{
	size_t count = n ? n : 1;
	if (n == 0 && ans->type == TB_JSON_OBJECT) {
		if (!check_version(ans) || response_id(ans) != (long long)first_id)
			return tb_error_set(err, TB_EINVAL, "not a JSON-RPC 2.0 answer to request %" PRIu64,
			                    first_id);
		return read_response(ans, &calls[0], err);
	}
	if (n == 0 || ans->type != TB_JSON_ARRAY)
		return tb_error_set(err, TB_EINVAL, "answer is a %s, expected a %s",
		                    tb_json_type_name(ans->type), n ? "batch array" : "response object");
	for (size_t i = 0; i < tb_json_len(ans); i++) {
		struct tb_json *o = tb_json_at(ans, i);
		long long id = response_id(o);
		if (!check_version(o) || id < (long long)first_id ||
		    id >= (long long)(first_id + count))
			return tb_error_set(err, TB_EINVAL, "batch item %zu: not an answer to this batch", i);
		struct tb_jsonrpc_call *call = &calls[id - (long long)first_id];
		if (call->result || call->faulted)
			return tb_error_set(err, TB_EINVAL, "batch item %zu: id %lld answered twice", i, id);
		int rc = read_response(o, call, err);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < count; i++)
		if (!calls[i].result && !calls[i].faulted)
			return tb_error_set(err, TB_EINVAL, "batch: no answer for call %zu (%s)", i,
			                    calls[i].method);
	return 0;
}

int tb_jsonrpc_parse_answer(const char *body, size_t len, struct tb_jsonrpc_call *calls,
                            size_t n, uint64_t first_id, struct tb_error *err)
{
	struct tb_json *ans = NULL;
	size_t count = n ? n : 1;
	if (n > TB_JSONRPC_MAX_BATCH)
		return tb_error_set(err, TB_ELIMIT, "jsonrpc: batch of %zu calls, at most %d", n,
		                    TB_JSONRPC_MAX_BATCH);
	for (size_t i = 0; i < count; i++) {
		calls[i].result = NULL;
		calls[i].faulted = 0;
	}
	int rc = tb_json_parse(body, len, NULL, &ans, err);
	if (rc < 0)
		return TB_EINVAL;
	rc = match_answer(ans, calls, n, first_id, err);
	tb_json_free(ans);
	if (rc < 0)
		tb_jsonrpc_calls_fini(calls, count);
	return rc;
}

int tb_jsonrpc_batch(struct tb_jsonrpc *c, struct tb_jsonrpc_call *calls, size_t n,
                     struct tb_error *err)
{
	size_t count = n ? n : 1;
	if (n > TB_JSONRPC_MAX_BATCH)
		return tb_error_set(err, TB_ELIMIT, "jsonrpc: batch of %zu calls, at most %d", n,
		                    TB_JSONRPC_MAX_BATCH);
	struct tb_buf body;
	tb_buf_init(&body, 0);
	uint64_t first = c->next_id;
	c->next_id += count;
	int rc = n ? tb_buf_putc(&body, '[') : 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		calls[i].result = NULL;
		calls[i].faulted = 0;
		memset(&calls[i].fault, 0, sizeof(calls[i].fault));
		if (i > 0)
			rc = tb_buf_putc(&body, ',');
		if (rc == 0)
			rc = put_request(&body, calls[i].method, calls[i].params, first + i, err);
	}
	if (rc == 0 && n)
		rc = tb_buf_putc(&body, ']');
	if (rc < 0) {
		tb_buf_fini(&body);
		return rc == TB_ENOMEM || rc == TB_ELIMIT ? tb_error_set(err, rc, "jsonrpc: request "
		                                                           "too large")
		                                           : rc;
	}
	const char *what = n ? "batch" : calls[0].method;
	/* Endpoints are tried in turn until one gives a well-formed answer. */
	for (size_t tries = 0; tries < c->n; tries++) {
		struct tb_json *ans = NULL;
		rc = exchange(c, &body, what, &ans, err);
		if (rc < 0)
			break;
		struct tb_error e = {0};
		rc = match_answer(ans, calls, n, first, &e);
		tb_json_free(ans);
		if (rc == 0)
			break;
		tb_jsonrpc_calls_fini(calls, count);
		rc = tb_error_set(err, TB_EUNAVAIL, "jsonrpc: %s: endpoint %s: %s", what,
		                  c->urls[c->current], e.msg);
		c->current = (c->current + 1) % c->n;
	}
	tb_buf_fini(&body);
	return rc;
}

void tb_jsonrpc_calls_fini(struct tb_jsonrpc_call *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tb_json_free(calls[i].result);
		calls[i].result = NULL;
	}
}

int tb_jsonrpc_quantity(const struct tb_json *j, uint64_t *v, struct tb_error *err)
{
	const char *s = tb_json_string(j);
	*v = 0;
	if (s == NULL || strncmp(s, "0x", 2) != 0 || s[2] == 0)
		return tb_error_set(err, TB_EINVAL, "quantity is not a 0x-prefixed hex string");
	size_t n = strlen(s + 2);
	if (n > 16 || (n > 1 && s[2] == '0'))
		return tb_error_set(err, TB_EINVAL, "quantity %.40s has leading zeros or over 64 bits", s);
	for (const char *p = s + 2; *p; p++) {
		int d = (*p >= '0' && *p <= '9') ? *p - '0'
		        : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
		        : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
		if (d < 0)
			return tb_error_set(err, TB_EINVAL, "quantity %.40s: bad hex digit", s);
		*v = (*v << 4) | (uint64_t)d;
	}
	return 0;
}

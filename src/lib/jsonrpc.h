/* JSON-RPC 2.0 client over src/lib/http.h: single and batch calls to one of several
 * endpoints, failing over in order. Invariant: "could not ask" (no endpoint gave a
 * well-formed JSON-RPC answer) is always TB_EUNAVAIL, which callers turn into UNKNOWN;
 * an answer carrying a JSON-RPC error object is TB_EIO with the node's code and
 * message in struct tb_jsonrpc_fault; a result is never taken from a mismatched id. */
#ifndef TB_JSONRPC_H
#define TB_JSONRPC_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "lib/http.h"
#include "lib/json.h"

#define TB_JSONRPC_MAX_ENDPOINTS 16
#define TB_JSONRPC_MAX_BATCH 1000   /* calls in one batch request */
#define TB_JSONRPC_MAX_METHOD 128   /* bytes in a method name */

struct tb_jsonrpc; /* opaque: endpoints, one HTTP client, the next request id */

/* The error object a node answered with. */
struct tb_jsonrpc_fault {
	long long code;    /* e.g. -32000; 0 when none */
	char message[256]; /* the node's message, truncated */
};

/* One call of a batch: method and params in, result or fault out. */
struct tb_jsonrpc_call {
	const char *method;
	const char *params; /* JSON array text; NULL = [] */
	struct tb_json *result; /* owned by the call after tb_jsonrpc_batch; NULL on fault */
	int faulted;            /* 1 = the node answered this call with an error object */
	struct tb_jsonrpc_fault fault;
};

/* A client for urls[0..n) (tried in order, the last that answered first). http may
 * be NULL for defaults; its max_attempts applies per endpoint. */
int tb_jsonrpc_new(struct tb_jsonrpc **out, const char *const *urls, size_t n,
                   const struct tb_http_options *http, struct tb_error *err);
void tb_jsonrpc_free(struct tb_jsonrpc *c);

/* Call method with params (JSON array text, NULL = []). On 0, *result is the
 * answer's "result" (caller frees). TB_EIO: the node answered an error object (fault,
 * may be NULL, gets it); TB_EUNAVAIL: no endpoint answered; TB_EINVAL: bad arguments. */
int tb_jsonrpc_call(struct tb_jsonrpc *c, const char *method, const char *params,
                    struct tb_json **result, struct tb_jsonrpc_fault *fault,
                    struct tb_error *err);
/* Send calls[0..n) as one batch request and match answers by id. Returns 0 when every
 * call got an answer (each one a result or a fault), TB_EUNAVAIL as above. */
int tb_jsonrpc_batch(struct tb_jsonrpc *c, struct tb_jsonrpc_call *calls, size_t n,
                     struct tb_error *err);
/* Free the results a batch left in calls[0..n). */
void tb_jsonrpc_calls_fini(struct tb_jsonrpc_call *calls, size_t n);
/* The URL of the endpoint that answered last (borrowed). */
const char *tb_jsonrpc_endpoint(const struct tb_jsonrpc *c);

/* Read an answer body to a request whose calls got ids first_id.. (n = 0: a single
 * call in calls[0]); what tb_jsonrpc_batch does with each answer, exposed for tests
 * and fuzzing. TB_EINVAL when the body is not a JSON-RPC 2.0 answer to those calls. */
int tb_jsonrpc_parse_answer(const char *body, size_t len, struct tb_jsonrpc_call *calls,
                            size_t n, uint64_t first_id, struct tb_error *err);

/* A JSON-RPC quantity ("0x1a": no leading zeros, at most 64 bits) as a number. */
int tb_jsonrpc_quantity(const struct tb_json *j, uint64_t *v, struct tb_error *err);

#endif

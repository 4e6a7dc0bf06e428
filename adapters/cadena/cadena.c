/* cadena: a CADENA-style AEO registry (contrib/contracts/AEORegistry.sol) on an EVM
 * chain. Ingest decodes StatusChanged events into a native JSON record; verify runs
 * the EVM receipt proof and then checks the event's administration signed it; submit
 * mirrors an aeo.status record, in the native form the route's reverse mapping
 * (mappings/cadena-aeo.json) made, into this network's registry. Invariant: writing
 * a record version the registry already holds sends nothing (checked with eth_call
 * first), and the contract itself ignores a repeat, so a retry never has a second
 * effect; a version older than the registry's is not sent and is confirmed
 * SUPERSEDED, never CONFIRMED. Mapping to and from canonical aeo.status is data
 * (mappings/cadena-aeo.json), not this file. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "evm/abi.h"
#include "crypto/hash.h"
#include "evm/evm.h"
#include "lib/hex.h"

#define CADENA_EVENT \
	"StatusChanged(bytes32,address,address,uint8,uint64,bytes32,uint64)"
#define CADENA_MIRROR "mirror(bytes32,address,address,uint8,uint64,bytes32,uint64)"
#define CADENA_CERTS "certs(bytes32)"

struct cadena_conf {
	struct evm_conf evm;
	char *registry;
	char *country;
};

static const struct tb_option cadena_options[] = {
	EVM_OPTIONS(struct cadena_conf),
	{TB_OPT_STRING, "registry", NULL, TB_OPT_REQUIRED, offsetof(struct cadena_conf, registry),
	 "address of the AEO registry contract", 0, 0},
	{TB_OPT_STRING, "country", NULL, 0, offsetof(struct cadena_conf, country),
	 "ISO 3166 alpha-2 code of the administration whose network this is, put in records",
	 0, 0},
	TB_OPT_END,
};

struct cadena {
	struct evm ev;
	struct evm_conf conf; /* the configured one, with contracts/topics pinned */
	char *contract_item, *topic_item;
	uint8_t registry[20];
	const char *country;
	const struct tb_log *log; /* the network's logger (lines carry its name) */
};

static const char *const status_names[4] = {"none", "certified", "suspended", "cancelled"};

static int cadena_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	const struct cadena_conf *c = net->conf;
	struct cadena *cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return tb_error_set(err, TB_ENOMEM, "cadena: out of memory");
	if (c->registry == NULL || evm_hex_fixed(c->registry, cd->registry, 20) < 0) {
		free(cd);
		return tb_error_set(err, TB_ECONFIG, "%s: registry is not a 0x address", net->name);
	}
	uint8_t t[32];
	char th[67] = "0x";
	tb_abi_topic(CADENA_EVENT, t);
	tb_hex_encode(t, 32, th + 2);
	cd->conf = c->evm;
	cd->country = c->country;
	cd->contract_item = strdup(c->registry);
	cd->topic_item = strdup(th);
	cd->conf.contracts = (struct tb_strlist){&cd->contract_item, 1};
	cd->conf.topics = (struct tb_strlist){&cd->topic_item, 1};
	int rc = cd->contract_item && cd->topic_item ? evm_open(&cd->ev, net->name, &cd->conf, err)
	                                             : tb_error_set(err, TB_ENOMEM, "out of memory");
	if (rc < 0) {
		free(cd->contract_item);
		free(cd->topic_item);
		free(cd);
		return rc;
	}
	cd->ev.host = net->host;
	cd->log = net->log;
	*state = cd;
	return 0;
}

static void set_s(struct tb_json *o, const char *k, const char *v)
{
	tb_json_object_set(o, k, strlen(k), tb_json_new_string(v, strlen(v)));
}

static void set_hex(struct tb_json *o, const char *k, const uint8_t *p, size_t n)
{
	char h[67] = "0x";
	tb_hex_encode(p, n, h + 2);
	set_s(o, k, h);
}

/* A bytes32 holding printable ASCII then zero bytes (Solidity's bytes32 text) as a
 * string in out (33 bytes); 0 if it is not text. */
static int id_text(const uint8_t id[32], char out[33])
{
	size_t n = 0;
	while (n < 32 && id[n] >= 0x20 && id[n] < 0x7f)
		n++;
	for (size_t i = n; i < 32; i++)
		if (id[i] != 0)
			return 0;
	memcpy(out, id, n);
	out[n] = 0;
	return n > 0;
}

/* The native record of one StatusChanged log; NULL (err set) if it is not one. */
static struct tb_json *decode_event(const struct tb_json *log, const char *country,
                                    struct tb_error *err)
{
	const struct tb_json *topics = tb_json_get(log, "topics");
	const char *data = tb_json_string(tb_json_get(log, "data"));
	uint8_t t[4][32], want[32], *bytes = NULL;
	size_t n;
	tb_abi_topic(CADENA_EVENT, want);
	if (tb_json_len(topics) != 4 || data == NULL) {
		tb_error_set(err, TB_EINVAL, "cadena: log is not a StatusChanged event (topics)");
		return NULL;
	}
	for (size_t i = 0; i < 4; i++)
		if (evm_hex_fixed(tb_json_string(tb_json_at(topics, i)), t[i], 32) < 0) {
			tb_error_set(err, TB_EINVAL, "cadena: topic %zu is not 32 bytes", i);
			return NULL;
		}
	struct tb_abi_type types[4] = {{TB_ABI_UINT, 1}, {TB_ABI_UINT, 8},
	                               {TB_ABI_FIXED_BYTES, 32}, {TB_ABI_UINT, 8}};
	struct tb_abi_value v[4];
	struct tb_abi_type addr = {TB_ABI_ADDRESS, 20};
	struct tb_abi_value a[2];
	if (memcmp(t[0], want, 32) != 0 || tb_hex_decode_alloc(data, strlen(data), &bytes, &n, err) < 0 ||
	    tb_abi_decode(bytes, n, types, 4, v, err) < 0 ||
	    tb_abi_decode(t[2], 32, &addr, 1, &a[0], err) < 0 ||
	    tb_abi_decode(t[3], 32, &addr, 1, &a[1], err) < 0 || v[0].word[31] < 1 ||
	    v[0].word[31] > 3) {
		free(bytes);
		if (!err || err->msg[0] == 0)
			tb_error_set(err, TB_EINVAL, "cadena: log is not a StatusChanged event");
		return NULL;
	}
	free(bytes);
	uint64_t eff, ver;
	tb_abi_word_u64(v[1].word, &eff, NULL);
	tb_abi_word_u64(v[3].word, &ver, NULL);
	struct tb_json *o = tb_json_new_object();
	set_hex(o, "certId", t[1], 32);
	char ref[33];
	if (id_text(t[1], ref))
		set_s(o, "certRef", ref);
	if (country)
		set_s(o, "country", country);
	set_hex(o, "admin", a[0].word + 12, 20);
	set_hex(o, "holder", a[1].word + 12, 20);
	set_s(o, "status", status_names[v[0].word[31]]);
	tb_json_object_set(o, "effective", 9, tb_json_new_number((double)eff));
	set_hex(o, "recordHash", v[2].word, 32);
	tb_json_object_set(o, "version", 7, tb_json_new_number((double)ver));
	const char *keep[] = {"transactionHash", "logIndex", "blockNumber", "blockHash", "address"};
	for (size_t i = 0; i < 5; i++) {
		const struct tb_json *f = tb_json_get(log, keep[i]);
		if (f)
			tb_json_object_set(o, keep[i], strlen(keep[i]), tb_json_clone(f));
	}
	return o;
}

static int cadena_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                       struct tb_error *err)
{
	struct cadena *cd = state;
	size_t before = out->len;
	int rc = evm_poll(&cd->ev, from, out, err);
	for (size_t i = before; rc == 0 && i < out->len; i++) {
		struct tb_json *rec = decode_event(out->items[i].doc, cd->country, err);
		if (rec == NULL) {
			tb_error_prefix(err, "%s: %s", cd->ev.network, out->items[i].locator);
			rc = TB_EINVAL;
			break;
		}
		tb_json_free(out->items[i].doc);
		out->items[i].doc = rec;
		snprintf(out->items[i].doctype, sizeof(out->items[i].doctype), "cadena.aeo.status");
	}
	if (rc < 0) {
		while (out->len > before)
			tb_json_free(out->items[--out->len].doc);
		if (from)
			out->next = *from;
	}
	return rc;
}

/* The record's claimed fields must be exactly what the verified log says. */
static int same_fields(const struct tb_json *claimed, const struct tb_json *proven,
                       const char **field)
{
	const char *keys[] = {"certId", "admin", "holder", "status", "recordHash"};
	for (size_t i = 0; i < 5; i++) {
		const char *a = tb_json_string(tb_json_get(claimed, keys[i]));
		const char *b = tb_json_string(tb_json_get(proven, keys[i]));
		if (a && (!b || strcasecmp(a, b) != 0)) {
			*field = keys[i];
			return 0;
		}
	}
	const char *nums[] = {"effective", "version"};
	for (size_t i = 0; i < 2; i++) {
		const struct tb_json *a = tb_json_get(claimed, nums[i]), *b = tb_json_get(proven, nums[i]);
		if (a && (!b || a->type != TB_JSON_NUMBER || a->u.number.value != b->u.number.value)) {
			*field = nums[i];
			return 0;
		}
	}
	return 1;
}

static int cadena_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                         struct tb_error *err)
{
	struct cadena *cd = state;
	struct tb_json *log = NULL;
	int rc = evm_verify(&cd->ev, rec, out, &log, err);
	if (rc < 0 || out->verdict != TB_VALID) {
		tb_json_free(log);
		return rc;
	}
	snprintf(out->kind, sizeof(out->kind), "evm-receipt");
	struct tb_error e = {0};
	struct tb_json *ev = decode_event(log, cd->country, &e);
	const char *signer = tb_json_string(tb_json_get(out->detail, "signer"));
	const char *field = NULL;
	if (ev == NULL) {
		out->verdict = TB_INVALID;
		snprintf(out->reason, sizeof(out->reason), "%s", e.msg);
	} else if (!same_fields(rec->doc, ev, &field)) {
		out->verdict = TB_INVALID;
		snprintf(out->reason, sizeof(out->reason), "record field \"%s\" differs from the event "
		         "on chain", field);
	} else if (!signer || strcasecmp(signer, tb_json_string(tb_json_get(ev, "admin"))) != 0) {
		out->verdict = TB_INVALID;
		snprintf(out->reason, sizeof(out->reason), "event names administration %s but the "
		         "transaction was signed by %s, not the issuing administration",
		         tb_json_string(tb_json_get(ev, "admin")), signer ? signer : "?");
	}
	tb_json_free(ev);
	tb_json_free(log);
	return 0;
}

static int field_bytes(const struct tb_json *d, const char *k, uint8_t *out, size_t n,
                       struct tb_error *err)
{
	if (evm_hex_fixed(tb_json_string(tb_json_get(d, k)), out, n) < 0)
		return tb_error_set(err, TB_EINVAL, "cadena: record field \"%s\" is not %zu bytes of "
		                    "0x hex", k, n);
	return 0;
}

/* A whole number, as a JSON number or as decimal digits (what a mapping's epoch
 * date writes back). */
static int field_u64(const struct tb_json *d, const char *k, uint64_t *v, struct tb_error *err)
{
	const struct tb_json *f = tb_json_get(d, k);
	const char *t = tb_json_string(f);
	if (t != NULL && t[0] && strlen(t) <= 15 && strspn(t, "0123456789") == strlen(t)) {
		*v = strtoull(t, NULL, 10);
		return 0;
	}
	if (f == NULL || f->type != TB_JSON_NUMBER || f->u.number.value < 0 ||
	    f->u.number.value > 9007199254740991.0 || f->u.number.value != (double)(uint64_t)f->u.number.value)
		return tb_error_set(err, TB_EINVAL, "cadena: record field \"%s\" is not a whole number",
		                    k);
	*v = (uint64_t)f->u.number.value;
	return 0;
}

static int mirror(struct cadena *cd, const struct tb_json *d, const char *key,
                  struct tb_txref *out, struct tb_error *err);

/* Does the registry already hold this version (*yes = 1) or a later one (*yes = 2,
 * *have and held get which)? */
static int already_there(struct cadena *cd, const uint8_t id[32], uint64_t version,
                         const uint8_t hash[32], int *yes, uint64_t *have, uint8_t held[32],
                         struct tb_error *err)
{
	struct tb_buf cdata;
	uint8_t *res = NULL;
	size_t n;
	struct tb_abi_value arg = tb_abi_bytes32(id);
	tb_buf_init(&cdata, 0);
	int rc = tb_abi_encode_call(CADENA_CERTS, &arg, 1, &cdata, err);
	if (rc == 0)
		rc = evm_call(&cd->ev, cd->registry, cdata.data, cdata.len, &res, &n, err);
	tb_buf_fini(&cdata);
	struct tb_abi_type t[6] = {{TB_ABI_ADDRESS, 20}, {TB_ABI_ADDRESS, 20}, {TB_ABI_UINT, 1},
	                           {TB_ABI_UINT, 8}, {TB_ABI_FIXED_BYTES, 32}, {TB_ABI_UINT, 8}};
	struct tb_abi_value v[6];
	if (rc == 0 && (rc = tb_abi_decode(res, n, t, 6, v, err)) < 0)
		rc = tb_error_set(err, TB_EUNAVAIL, "%s: registry answered certs() badly: %s",
		                  cd->ev.network, err ? err->msg : "");
	if (rc == 0) {
		tb_abi_word_u64(v[5].word, have, NULL);
		memcpy(held, v[4].word, 32);
		/* a later version there supersedes ours; the same version must be the same record */
		*yes = *have > version ? 2 : *have == version && memcmp(v[4].word, hash, 32) == 0;
		if (*have == version && !*yes && version != 0)
			rc = tb_error_set(err, TB_EINVAL, "%s: registry holds version %" PRIu64 " of this "
			                  "certificate with another record hash", cd->ev.network, version);
	}
	free(res);
	return rc;
}

/* The native record mirror() writes, from the one the route's reverse mapping made
 * (mappings/cadena-aeo.json: certId, status, effective, version and recordHash, the
 * SHA-256 of the record as delivered). Two fields cannot be data, so they are set
 * here when the mapping leaves them out: admin is this relay's own account (the
 * key it signs with, known only once the network is open) and holder is no account
 * (the record names the holder off chain, not by account). */
static struct tb_json *with_own_fields(const struct cadena *cd, const struct tb_json *d)
{
	struct tb_json *o = tb_json_clone(d);
	if (o == NULL || o->type != TB_JSON_OBJECT)
		return o;
	if (tb_json_get(o, "admin") == NULL)
		set_hex(o, "admin", cd->ev.from, 20);
	if (tb_json_get(o, "holder") == NULL)
		set_hex(o, "holder", (const uint8_t[20]){0}, 20);
	return o;
}

static int cadena_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *out,
                         struct tb_status *st, struct tb_error *err)
{
	struct cadena *cd = state;
	const char *type = rec->record_type ? rec->record_type : "";
	(void)st; /* confirmed later, by receipt */
	if (strcmp(type, "aeo.status") != 0)
		return tb_error_set(err, TB_EINVAL, "%s: a CADENA registry takes aeo.status "
		                    "records, not %s", cd->ev.network, type[0] ? type : "(no type)");
	if (rec->form != TB_FORM_NATIVE)
		return tb_error_set(err, TB_EINVAL, "%s: a CADENA registry takes the registry's own "
		                    "form of a record; give the route into it \"reverse\": "
		                    "\"mappings/cadena-aeo.json\"", cd->ev.network);
	if (!cd->ev.has_key)
		return tb_error_set(err, TB_ECONFIG, "%s: no key to write with", cd->ev.network);
	struct tb_json *d = with_own_fields(cd, rec->doc);
	if (d == NULL)
		return tb_error_set(err, TB_ENOMEM, "%s: out of memory", cd->ev.network);
	int rc = mirror(cd, d, rec->idempotency_key, out, err);
	tb_json_free(d);
	return rc;
}

static int mirror(struct cadena *cd, const struct tb_json *d, const char *key,
                  struct tb_txref *out, struct tb_error *err)
{
	uint8_t id[32], admin[20], holder[20], hash[32];
	uint64_t eff, ver, st = 0;
	const char *sn = tb_json_string(tb_json_get(d, "status"));
	for (uint64_t i = 1; sn && i < 4; i++)
		if (strcmp(sn, status_names[i]) == 0)
			st = i;
	int rc = field_bytes(d, "certId", id, 32, err);
	if (rc == 0)
		rc = field_bytes(d, "admin", admin, 20, err);
	if (rc == 0)
		rc = field_bytes(d, "holder", holder, 20, err);
	if (rc == 0)
		rc = field_bytes(d, "recordHash", hash, 32, err);
	if (rc == 0)
		rc = field_u64(d, "effective", &eff, err);
	if (rc == 0)
		rc = field_u64(d, "version", &ver, err);
	if (rc == 0 && st == 0)
		rc = tb_error_set(err, TB_EINVAL, "cadena: record status is not certified, suspended "
		                  "or cancelled");
	int yes = 0;
	uint64_t have = 0;
	uint8_t held[32];
	if (rc == 0)
		rc = already_there(cd, id, ver, hash, &yes, &have, held, err);
	if (rc < 0)
		return rc;
	char h[67] = "0x", hh[67] = "0x";
	tb_hex_encode(id, 32, h + 2);
	tb_hex_encode(held, 32, hh + 2);
	if (yes == 1) { /* idempotent: the registry holds this version already */
		snprintf(out->ref, sizeof(out->ref), "present:%s:%" PRIu64, h, ver);
		tb_log_emit(cd->log, TB_LOG_INFO, "registry already holds this version; nothing sent",
		            TB_LOG_FIELDS(TB_LF_STR("certId", h), TB_LF_INT("version", (long long)ver)));
		return 0;
	}
	if (yes == 2) { /* not sent: confirm answers SUPERSEDED, naming what is there */
		snprintf(out->ref, sizeof(out->ref), "superseded-by:%s:%" PRIu64 ":%s", h, have, hh);
		tb_log_emit(cd->log, TB_LOG_INFO, "registry holds a later version; nothing sent",
		            TB_LOG_FIELDS(TB_LF_STR("certId", h), TB_LF_INT("version", (long long)ver),
		                          TB_LF_INT("held", (long long)have)));
		return 0;
	}
	struct tb_abi_value v[7] = {tb_abi_bytes32(id), tb_abi_address(admin),
	                            tb_abi_address(holder), tb_abi_uint64(st),
	                            tb_abi_uint64(eff), tb_abi_bytes32(hash), tb_abi_uint64(ver)};
	struct tb_buf cdata;
	tb_buf_init(&cdata, 0);
	rc = tb_abi_encode_call(CADENA_MIRROR, v, 7, &cdata, err);
	if (rc == 0)
		rc = evm_send(&cd->ev, cd->registry, cdata.data, cdata.len, key, out, err);
	tb_buf_fini(&cdata);
	return rc;
}

static int cadena_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                          struct tb_error *err)
{
	struct cadena *cd = state;
	if (strncmp(ref->ref, "present:", 8) == 0) {
		memset(out, 0, sizeof(*out));
		out->state = TB_CONFIRMED;
		snprintf(out->reason, sizeof(out->reason), "the registry already held this version");
		return 0;
	}
	if (strncmp(ref->ref, "superseded-by:", 14) == 0) {
		memset(out, 0, sizeof(*out));
		out->state = TB_SUPERSEDED;
		snprintf(out->reason, sizeof(out->reason), "the registry holds a later version: %.200s",
		         ref->ref + 14);
		return 0;
	}
	return evm_confirm(&cd->ev, ref, out, err);
}

static void cadena_close(void *state)
{
	struct cadena *cd = state;
	if (cd == NULL)
		return;
	evm_close(&cd->ev);
	free(cd->contract_item);
	free(cd->topic_item);
	free(cd);
}

/* One of poll's records (a StatusChanged event decoded: certId, status and the
 * log that carries it): verify proves the log and that the fields are its own. */
static int cadena_recognise(const struct tb_json *doc, char *doctype, size_t size)
{
	if (!evm_names_log(doc) || !tb_json_string(tb_json_get(doc, "certId")) ||
	    !tb_json_string(tb_json_get(doc, "status")))
		return 0;
	snprintf(doctype, size, "cadena.aeo.status");
	return 1;
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "cadena",
	.summary = "CADENA-style AEO registry on an EVM chain: proven status events, idempotent "
	           "mirroring",
	.options = cadena_options,
	.conf_size = sizeof(struct cadena_conf),
	.open = cadena_open,
	.poll = cadena_poll,
	.verify = cadena_verify,
	.submit = cadena_submit,
	.confirm = cadena_confirm,
	.close = cadena_close,
	.recognise = cadena_recognise,
};

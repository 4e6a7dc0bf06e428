/* testmailbox: a small, real mailbox for the tests only (never installed). As a
 * source it lists the message files (*.json) in its spool folder in name order,
 * offers up to 16 not yet acknowledged, and on ack moves the ones it offered into
 * spool/acked/: a message is gone only once the relay has it, so a relay killed
 * between its commit and the ack is offered the same messages again. As a
 * destination it writes each record to spool/delivered/<key>.json (a repeat of a
 * key rewrites the same file) and confirms at once.
 * It exists as a module of its own because testecho must stay unable to be a
 * source (check-config and run are tested on that). Only global symbol:
 * `tradebridge_adapter`. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter.h"

#define MB_BATCH 16
#define MB_NAME 128
#define MB_MAX_BYTES (64 * 1024)

struct mb_conf {
	char *spool;
};

static const struct tb_option mb_options[] = {
	{TB_OPT_STRING, "spool", NULL, TB_OPT_REQUIRED, offsetof(struct mb_conf, spool),
	 "folder of message files (*.json); acked/ and delivered/ are made inside", 0, 0},
	TB_OPT_END,
};

struct mb {
	const struct mb_conf *conf;
	char offered[MB_BATCH][MB_NAME]; /* the last batch, until ack */
	size_t n_offered;
};

static int mb_mkdir(const char *spool, const char *sub, struct tb_error *err)
{
	char p[4096];
	snprintf(p, sizeof p, "%s/%s", spool, sub);
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return tb_error_set(err, TB_ECONFIG, "testmailbox: spool %s: cannot make %s: %s",
		                    spool, sub, strerror(errno));
	return 0;
}

static int mb_open(const struct tb_network *net, void **state, struct tb_error *err)
{
	const struct mb_conf *c = net->conf;
	struct mb *m = calloc(1, sizeof *m);
	if (!m)
		return tb_error_set(err, TB_ENOMEM, "testmailbox: out of memory");
	m->conf = c;
	int rc = mb_mkdir(c->spool, "acked", err);
	rc = rc ? rc : mb_mkdir(c->spool, "delivered", err);
	if (rc) {
		free(m);
		return rc;
	}
	*state = m;
	return 0;
}

static int is_message(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 5 && n < MB_NAME && strcmp(name + n - 5, ".json") == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The first MB_BATCH message names in the spool, in order. */
static int mb_list(struct mb *m, char names[][MB_NAME], size_t *n, struct tb_error *err)
{
	DIR *d = opendir(m->conf->spool);
	if (!d)
		return tb_error_set(err, TB_EUNAVAIL, "testmailbox: spool %s: %s", m->conf->spool,
		                    strerror(errno));
	static char all[1024][MB_NAME];
	size_t k = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && k < 1024)
		if (is_message(e->d_name))
			snprintf(all[k++], MB_NAME, "%s", e->d_name);
	closedir(d);
	qsort(all, k, MB_NAME, by_name);
	*n = k < MB_BATCH ? k : MB_BATCH;
	memcpy(names, all, *n * MB_NAME);
	return 0;
}

static int mb_poll(void *state, const struct tb_cursor *from, struct tb_batch *out,
                   struct tb_error *err)
{
	struct mb *m = state;
	size_t n = 0;
	int rc = mb_list(m, m->offered, &n, err);
	m->n_offered = 0;
	snprintf(out->next.value, sizeof out->next.value, "%s", from->value);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[4096], loc[160];
		struct tb_buf b;
		struct tb_json *doc = NULL;
		snprintf(path, sizeof path, "%s/%s", m->conf->spool, m->offered[i]);
		tb_buf_init(&b, MB_MAX_BYTES);
		rc = tb_buf_read_file(&b, path, err);
		rc = rc ? rc : tb_json_parse((const char *)b.data, b.len, NULL, &doc, err);
		tb_buf_fini(&b);
		if (rc) {
			tb_error_prefix(err, "testmailbox: %s", path);
			break;
		}
		snprintf(loc, sizeof loc, "mailbox:%s", m->offered[i]);
		rc = tb_batch_push(out, loc, "mailbox.message", doc);
		if (rc == 0) {
			m->n_offered = i + 1;
			snprintf(out->next.value, sizeof out->next.value, "%s", m->offered[i]);
		}
	}
	out->behind = (int64_t)n;
	return rc;
}

/* The messages of the batch that ends at done are kept by the relay: file them. */
static void mb_ack(void *state, const struct tb_cursor *done)
{
	struct mb *m = state;
	for (size_t i = 0; i < m->n_offered; i++) {
		if (strcmp(m->offered[i], done->value) > 0)
			continue;
		char from[4096], to[4096];
		snprintf(from, sizeof from, "%s/%s", m->conf->spool, m->offered[i]);
		snprintf(to, sizeof to, "%s/acked/%s", m->conf->spool, m->offered[i]);
		rename(from, to);
	}
	m->n_offered = 0;
}

static int mb_verify(void *state, const struct tb_native *rec, struct tb_proof *out,
                     struct tb_error *err)
{
	(void)state, (void)rec, (void)err;
	out->verdict = TB_VALID;
	snprintf(out->kind, sizeof out->kind, "test-mailbox");
	snprintf(out->reason, sizeof out->reason, "test module: messages are taken as they are");
	return 0;
}

static int mb_submit(void *state, const struct tb_outgoing *rec, struct tb_txref *ref,
                     struct tb_status *st, struct tb_error *err)
{
	struct mb *m = state;
	char path[4096], name[96];
	size_t k = 0;
	for (const char *p = rec->idempotency_key; *p && k < sizeof name - 1; p++)
		name[k++] = (*p == '/' || *p == ':') ? '_' : *p;
	name[k] = 0;
	snprintf(path, sizeof path, "%s/delivered/%s.json", m->conf->spool, name);
	struct tb_buf b;
	tb_buf_init(&b, 0);
	int rc = tb_json_write_canonical(rec->doc, &b, err);
	FILE *f = rc ? NULL : fopen(path, "w");
	if (rc == 0 && (!f || fwrite(b.data, 1, b.len, f) != b.len))
		rc = tb_error_set(err, TB_EIO, "testmailbox: %s: %s", path, strerror(errno));
	if (f && fclose(f) != 0 && rc == 0)
		rc = tb_error_set(err, TB_EIO, "testmailbox: %s: %s", path, strerror(errno));
	tb_buf_fini(&b);
	if (rc == 0) {
		snprintf(ref->ref, sizeof ref->ref, "file:%s.json", name);
		st->state = TB_CONFIRMED;
	}
	return rc;
}

static int mb_confirm(void *state, const struct tb_txref *ref, struct tb_status *out,
                      struct tb_error *err)
{
	(void)state, (void)ref, (void)err;
	out->state = TB_CONFIRMED;
	return 0;
}

static void mb_close(void *state)
{
	free(state);
}

const struct tb_adapter_ops tradebridge_adapter = {
	.abi = TB_ADAPTER_ABI,
	.name = "testmailbox",
	.summary = "test adapter: a spool folder as a mailbox (built for the test suite only)",
	.options = mb_options,
	.conf_size = sizeof(struct mb_conf),
	.open = mb_open,
	.poll = mb_poll,
	.ack = mb_ack,
	.verify = mb_verify,
	.submit = mb_submit,
	.confirm = mb_confirm,
	.close = mb_close,
};

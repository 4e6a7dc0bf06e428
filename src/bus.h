/* Receipts on nng: a PUB socket announces each receipt as it is written, a REP
 * socket answers "replay FROM MAX" with the stored receipts from seq FROM, so a
 * subscriber that missed messages (PUB drops under load or while it was away)
 * fills the gap. ipc:// by default; tls+tcp:// with a certificate and a CA file
 * that holds only the pinned peers. Invariant: the REP side only reads, through
 * its own store connection, and every reply is bounded (TB_BUS_REPLAY_MAX). */
#ifndef TB_BUS_H
#define TB_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "receipt.h"

#define TB_BUS_REPLAY_MAX 256            /* receipts in one reply */
#define TB_BUS_MSG_MAX ((size_t)4 << 20) /* bytes in one message */
/* A replay peer that has not taken its earlier replies within this many ms is
 * disconnected, so one client that pipelines requests without reading cannot
 * stall the others. */
#define TB_BUS_SEND_TIMEOUT_MS 500

struct tb_bus_tls {
	const char *cert_key_file; /* PEM: our certificate and key */
	const char *ca_file;       /* PEM: the peers (or their CA) we accept; required */
	const char *server_name;   /* dialers: the name the server's certificate must carry */
};

struct tb_bus_config {
	const char *pub_url;   /* e.g. ipc:///run/tradebridge/receipts.pub */
	const char *rep_url;   /* e.g. ipc:///run/tradebridge/receipts.rep; NULL = no replay */
	const char *store_path; /* the relay's store, opened read-only for replay */
	struct tb_bus_tls tls; /* used for tls+tcp:// URLs */
	int allow_plaintext;   /* 1 = tcp:// beyond loopback is allowed (relay.allow_plaintext) */
};

struct tb_bus;
struct tb_store;

int tb_bus_open(struct tb_bus **out, const struct tb_bus_config *cfg, struct tb_error *err);
void tb_bus_close(struct tb_bus *b);
/* The REP side's answer to one request of len bytes (req may be NULL when len is
 * 0): "ok\n" and one receipt per line, or "error: ...\n". Appends to out. */
void tb_bus_answer(struct tb_store *st, const char *req, size_t len, struct tb_buf *out);
/* Publish one receipt's JSON (as stored). */
int tb_bus_publish(struct tb_bus *b, const char *json, struct tb_error *err);

/* Subscriber side. */
struct tb_bus_sub;
int tb_bus_sub_open(struct tb_bus_sub **out, const char *pub_url, const char *rep_url,
                    const struct tb_bus_tls *tls, struct tb_error *err);
void tb_bus_sub_close(struct tb_bus_sub *s);
/* Next receipt from PUB within timeout_ms: 0, or TB_EUNAVAIL on timeout. */
int tb_bus_sub_recv(struct tb_bus_sub *s, struct tb_receipt *r, int timeout_ms,
                    struct tb_error *err);
/* Ask REP for up to max receipts from seq from; *n receipts are stored in rs. */
int tb_bus_replay(struct tb_bus_sub *s, uint64_t from, struct tb_receipt *rs, size_t max,
                  size_t *n, int timeout_ms, struct tb_error *err);

#endif

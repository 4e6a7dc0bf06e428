/* A small DNS TXT client: one question to one configured resolver (HOST:PORT),
 * UDP first and TCP when the answer is truncated, every wait bounded by a timeout.
 * The answer parser is strict (header, question echo, name compression loops,
 * record lengths) and separate from the transport so it can be fuzzed.
 * Invariant: a resolver that cannot be reached or answers SERVFAIL/REFUSED is
 * TB_EUNAVAIL ("could not check"); only NXDOMAIN/NODATA mean "no record". */
#ifndef TB_DNSTXT_H
#define TB_DNSTXT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define TB_DNSTXT_MAX_RECORDS 64
#define TB_DNSTXT_MAX_NAME 253

/* TXT records of one name; each record's character-strings are concatenated. */
struct tb_dnstxt {
	char *txt[TB_DNSTXT_MAX_RECORDS]; /* NUL-terminated (a NUL inside ends it early) */
	size_t len[TB_DNSTXT_MAX_RECORDS];
	size_t count;
	int nxdomain;  /* the name does not exist */
	int truncated; /* TC bit set: ask again over TCP */
};

void tb_dnstxt_fini(struct tb_dnstxt *r);
/* Encode a TXT/IN query for name with id into out (at least 512 bytes); returns
 * its length or a negative TB_E* code. */
int tb_dnstxt_build_query(const char *name, uint16_t id, uint8_t *out, size_t cap,
                          struct tb_error *err);
/* Parse a response to that query (same id and question). 0 with r filled (possibly
 * empty), TB_EUNAVAIL for SERVFAIL/REFUSED and other server failures, TB_EINVAL
 * for a malformed message. */
int tb_dnstxt_parse(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                    struct tb_dnstxt *r, struct tb_error *err);
/* Ask server ("127.0.0.1:5353", "[::1]:53", "host:port") for name's TXT records
 * within timeout_ms overall. */
int tb_dnstxt_query(const char *server, const char *name, long timeout_ms,
                    struct tb_dnstxt *r, struct tb_error *err);

#endif

/* Addresses the relay listens on: the admin API's HOST:PORT and the receipts bus
 * URLs, parsed with nng's own parser (nng_url_parse) so that what is checked is
 * what nng binds. Invariant: a listen address is accepted only when every part of
 * it is understood: no userinfo, path, query or fragment, an explicit numeric
 * port, a literal IP address; loopback unless the operator said otherwise. */
#ifndef TB_ADDR_H
#define TB_ADDR_H

#include <nng/nng.h>

#include "lib/error.h"

/* The admin API's listen address ("HOST:PORT", "[V6]:PORT" or "PORT" for
 * 127.0.0.1) as the URL nng's HTTP server binds; HOST must be a loopback address
 * unless allow_remote. *out (may be NULL: check only) is freed with nng_url_free. */
int tb_addr_admin(const char *listen, int allow_remote, nng_url **out, struct tb_error *err);

/* A receipts bus URL the relay listens on (what names it: "relay.pub"): ipc://PATH,
 * tls+tcp://HOST:PORT, or tcp://HOST:PORT on loopback only unless allow_plaintext.
 * *plain_remote (may be NULL) is set when it is plain TCP beyond loopback. */
int tb_addr_bus(const char *what, const char *url, int allow_plaintext, int *plain_remote,
                struct tb_error *err);

#endif

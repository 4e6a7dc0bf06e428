/* Listen addresses through nng_url_parse (see addr.h). A check that reads the
 * text differently from nng is a bypass ("[::1]@0.0.0.0:1" is userinfo "[::1]"
 * and host 0.0.0.0 to nng), so every rule here reads nng's own parse.
 * Invariant: nothing nng would bind to is accepted without being checked. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* A literal IPv4 in dotted-quad without leading zeros (resolvers read 0177 as
 * octal), or a literal IPv6 address. 4 or 6; 0 when it is neither. */
static int literal_ip(const char *h, struct in_addr *v4, struct in6_addr *v6)
{
	if (inet_pton(AF_INET6, h, v6) == 1)
		return 6;
	if (inet_pton(AF_INET, h, v4) != 1)
		return 0;
	for (const char *p = h; *p; p++)
		if (*p == '0' && (p == h || p[-1] == '.') && p[1] >= '0' && p[1] <= '9')
			return 0;
	return 4;
}

static int is_loopback(const char *h)
{
	struct in_addr v4;
	struct in6_addr v6;
	int k = literal_ip(h, &v4, &v6);
	return (k == 4 && (ntohl(v4.s_addr) >> 24) == 127) || (k == 6 && IN6_IS_ADDR_LOOPBACK(&v6));
}

/* What every listen URL must not carry, and an explicit numeric port. */
static int plain_parts(const char *what, const char *text, const nng_url *u,
                       struct tb_error *err)
{
	const char *bad = u->u_userinfo ? "user information before '@'"
	                  : u->u_path && *u->u_path ? "a path"
	                  : u->u_query ? "a query ('?')"
	                  : u->u_fragment ? "a fragment ('#')" : NULL;
	if (bad)
		return tb_error_set(err, TB_ECONFIG, "%s \"%s\": %s is not allowed in a listen "
		                    "address", what, text, bad);
	size_t hl = strlen(u->u_host), pl = strlen(u->u_port);
	int explicit = pl && hl > pl && u->u_host[hl - pl - 1] == ':' &&
	               strcmp(u->u_host + hl - pl, u->u_port) == 0; /* not nng's default */
	char *end = NULL;
	long port = explicit ? strtol(u->u_port, &end, 10) : -1;
	if (!explicit || *end || port < 0 || port > 65535 || strspn(u->u_port, "0123456789") != pl)
		return tb_error_set(err, TB_ECONFIG, "%s \"%s\": expected an explicit port 0-65535 "
		                    "after the host", what, text);
	return 0;
}

int tb_addr_admin(const char *listen, int allow_remote, nng_url **out, struct tb_error *err)
{
	char text[300];
	nng_url *u = NULL;
	const char *what = "admin API listen address";
	if (strlen(listen) > 255)
		return tb_error_set(err, TB_ECONFIG, "%s: longer than 255 characters", what);
	if (listen[0] == ':') /* ":PORT": loopback */
		snprintf(text, sizeof text, "http://127.0.0.1%s", listen);
	else if (strchr(listen, ':') || strspn(listen, "0123456789") != strlen(listen))
		snprintf(text, sizeof text, "http://%s", listen);
	else /* a bare port: loopback */
		snprintf(text, sizeof text, "http://127.0.0.1:%s", listen);
	int rv = nng_url_parse(&u, text);
	if (rv)
		return tb_error_set(err, TB_ECONFIG, "%s \"%s\": expected HOST:PORT (%s)", what, listen,
		                    nng_strerror(rv));
	int rc = plain_parts(what, listen, u, err);
	struct in_addr v4;
	struct in6_addr v6;
	if (rc == 0 && !*u->u_hostname)
		rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": no host: give the address to bind "
		                  "(127.0.0.1 or [::1])", what, listen);
	else if (rc == 0 && !allow_remote && !literal_ip(u->u_hostname, &v4, &v6))
		rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": \"%s\" is not a literal IP address; "
		                  "use 127.0.0.1 or [::1]", what, listen, u->u_hostname);
	else if (rc == 0 && !allow_remote && !is_loopback(u->u_hostname))
		rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": %s is not a loopback address; set "
		                  "relay.allow_remote to expose the admin API beyond this host", what,
		                  listen, u->u_hostname);
	if (rc == 0 && out)
		*out = u;
	else
		nng_url_free(u);
	return rc;
}

static int is_scheme(const char *s, const char *base)
{
	size_t n = strlen(base);
	return strncmp(s, base, n) == 0 && (!s[n] || ((s[n] == '4' || s[n] == '6') && !s[n + 1]));
}

int tb_addr_bus(const char *what, const char *url, int allow_plaintext, int *plain_remote,
                struct tb_error *err)
{
	nng_url *u = NULL;
	if (plain_remote)
		*plain_remote = 0;
	if (strlen(url) > 1024)
		return tb_error_set(err, TB_ECONFIG, "%s: longer than 1024 characters", what);
	int rv = nng_url_parse(&u, url);
	if (rv)
		return tb_error_set(err, TB_ECONFIG, "%s \"%s\": not a URL (%s); expected ipc://PATH, "
		                    "tls+tcp://HOST:PORT or tcp://127.0.0.1:PORT", what, url,
		                    nng_strerror(rv));
	int rc = 0;
	if (strcmp(u->u_scheme, "ipc") == 0) {
		if (!u->u_path || !*u->u_path || strpbrk(u->u_path, "?#"))
			rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": expected ipc://PATH, a socket path "
			                  "without '?' or '#'", what, url);
	} else if (is_scheme(u->u_scheme, "tcp") || is_scheme(u->u_scheme, "tls+tcp")) {
		int tls = u->u_scheme[0] == 't' && u->u_scheme[1] == 'l';
		rc = plain_parts(what, url, u, err);
		if (rc == 0 && !tls && !is_loopback(u->u_hostname)) {
			if (!allow_plaintext)
				rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": plain TCP beyond loopback sends "
				                  "receipts unencrypted and to anyone: use tls+tcp:// (with "
				                  "tls_cert and tls_ca), or set relay.allow_plaintext", what, url);
			else if (plain_remote)
				*plain_remote = 1;
		}
	} else {
		rc = tb_error_set(err, TB_ECONFIG, "%s \"%s\": scheme %s is not supported; expected "
		                  "ipc://, tls+tcp:// or tcp:// (loopback)", what, url, u->u_scheme);
	}
	nng_url_free(u);
	return rc;
}

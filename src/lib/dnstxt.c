/* DNS TXT over UDP with TCP fallback (RFC 1035 4.2), written here rather than on
 * libresolv: res_nquery cannot take a resolver port from the caller portably, its
 * timeouts are whole seconds, and its answer walking (ns_parserr) would leave no
 * parser of our own to fuzz. Invariants: every read is bounds-checked against the
 * message, compression pointers only go backwards (so they cannot loop), and no
 * wait outlives the caller's deadline. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/dnstxt.h"

#define DNS_HDR 12
#define T_TXT 16
#define T_CNAME 5
#define C_IN 1
#define MAX_JUMPS 64
#define MAX_CNAMES 8

void tb_dnstxt_fini(struct tb_dnstxt *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->txt[i]);
	memset(r, 0, sizeof *r);
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	if (la != lb)
		return 0;
	for (size_t i = 0; i < la; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int tb_dnstxt_build_query(const char *name, uint16_t id, uint8_t *out, size_t cap,
                          struct tb_error *err)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > TB_DNSTXT_MAX_NAME || cap < DNS_HDR + n + 2 + 4)
		return tb_error_set(err, TB_EINVAL, "dns: name \"%.64s\" is empty or longer than %d "
		                    "bytes", name, TB_DNSTXT_MAX_NAME);
	uint8_t hdr[DNS_HDR] = {id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	memcpy(out, hdr, DNS_HDR);
	size_t o = DNS_HDR, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && name[i] != '.') {
			unsigned char c = (unsigned char)name[i];
			if (c <= 0x20 || c >= 0x7f)
				return tb_error_set(err, TB_EINVAL, "dns: name \"%.64s\": byte %zu is not a "
				                    "printable ASCII character", name, i);
			continue;
		}
		size_t l = i - start;
		if (l == 0 || l > 63)
			return tb_error_set(err, TB_EINVAL, "dns: name \"%.64s\": label at byte %zu is "
			                    "empty or longer than 63", name, start);
		out[o++] = (uint8_t)l;
		memcpy(out + o, name + start, l);
		o += l;
		start = i + 1;
	}
	out[o++] = 0;
	uint8_t tail[4] = {0, T_TXT, 0, C_IN};
	memcpy(out + o, tail, 4);
	return (int)(o + 4);
}

/* Read a possibly compressed name at *off into out (dotted, as sent). */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *out, size_t cap,
                     struct tb_error *err)
{
	size_t p = *off, o = 0, jumps = 0, lowest = p;
	int jumped = 0;
	for (;;) {
		if (p >= len)
			return tb_error_set(err, TB_EINVAL, "dns: name at offset %zu runs past the "
			                    "end of the message", *off);
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= len)
				return tb_error_set(err, TB_EINVAL, "dns: offset %zu: cut compression "
				                    "pointer", p);
			size_t to = (size_t)(l & 0x3F) << 8 | m[p + 1];
			if (to >= lowest || ++jumps > MAX_JUMPS)
				return tb_error_set(err, TB_EINVAL, "dns: offset %zu: compression pointer "
				                    "to %zu does not point backwards", p, to);
			if (!jumped)
				*off = p + 2;
			jumped = 1;
			lowest = to;
			p = to;
			continue;
		}
		if (l & 0xC0)
			return tb_error_set(err, TB_EINVAL, "dns: offset %zu: unknown label type 0x%02x",
			                    p, l);
		if (l == 0)
			break;
		if (p + 1 + l > len || o + l + 2 > cap)
			return tb_error_set(err, TB_EINVAL, "dns: offset %zu: label runs past the "
			                    "message or the name is longer than 255", p);
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = m[p + 1 + i];
			if (c == '.' || c == 0)
				return tb_error_set(err, TB_EINVAL, "dns: offset %zu: label holds a dot or "
				                    "NUL byte", p);
			out[o++] = (char)c;
		}
		p += 1 + l;
	}
	out[o] = 0;
	if (!jumped)
		*off = p + 1;
	return 0;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int add_txt(const uint8_t *rd, size_t rdlen, struct tb_dnstxt *r, size_t at,
                   struct tb_error *err)
{
	if (r->count >= TB_DNSTXT_MAX_RECORDS)
		return tb_error_set(err, TB_ELIMIT, "dns: more than %d TXT records",
		                    TB_DNSTXT_MAX_RECORDS);
	char *s = malloc(rdlen + 1);
	size_t o = 0;
	if (!s)
		return tb_error_set(err, TB_ENOMEM, "dns: out of memory for a TXT record");
	for (size_t i = 0; i < rdlen;) {
		size_t l = rd[i];
		if (i + 1 + l > rdlen) {
			free(s);
			return tb_error_set(err, TB_EINVAL, "dns: offset %zu: TXT string runs past its "
			                    "record", at + i);
		}
		memcpy(s + o, rd + i + 1, l);
		o += l;
		i += 1 + l;
	}
	if (rdlen == 0) {
		free(s);
		return tb_error_set(err, TB_EINVAL, "dns: offset %zu: empty TXT record", at);
	}
	s[o] = 0;
	r->txt[r->count] = s;
	r->len[r->count++] = o;
	return 0;
}

static int check_header(const uint8_t *m, size_t len, uint16_t id, struct tb_dnstxt *r,
                        struct tb_error *err)
{
	if (len < DNS_HDR)
		return tb_error_set(err, TB_EINVAL, "dns: a %zu-byte answer is shorter than a header",
		                    len);
	if (be16(m) != id)
		return tb_error_set(err, TB_EINVAL, "dns: answer id 0x%04x is not the query's 0x%04x",
		                    be16(m), id);
	if (!(m[2] & 0x80) || (m[2] & 0x78))
		return tb_error_set(err, TB_EINVAL, "dns: not a standard query response (flags "
		                    "0x%02x%02x)", m[2], m[3]);
	r->truncated = !!(m[2] & 0x02);
	int rcode = m[3] & 0x0F;
	if (rcode == 3)
		r->nxdomain = 1;
	else if (rcode != 0)
		return tb_error_set(err, TB_EUNAVAIL, "dns: the resolver answered rcode %d (%s)", rcode,
		                    rcode == 2 ? "SERVFAIL" : rcode == 5 ? "REFUSED" : "error");
	if (be16(m + 4) != 1)
		return tb_error_set(err, TB_EINVAL, "dns: answer carries %u questions, not 1",
		                    be16(m + 4));
	return 0;
}

static int parse_answers(const uint8_t *m, size_t len, size_t off, const char *name,
                         struct tb_dnstxt *r, struct tb_error *err)
{
	char owner[256], target[256];
	size_t cnames = 0;
	snprintf(target, sizeof target, "%s", name);
	for (unsigned i = 0, an = be16(m + 6); i < an; i++) {
		int rc = read_name(m, len, &off, owner, sizeof owner, err);
		if (rc)
			return rc;
		if (off + 10 > len)
			return tb_error_set(err, TB_EINVAL, "dns: answer %u: record header runs past the "
			                    "message", i);
		uint16_t type = be16(m + off), cls = be16(m + off + 2), rdlen = be16(m + off + 8);
		size_t rd = off + 10;
		if (rd + rdlen > len)
			return tb_error_set(err, TB_EINVAL, "dns: answer %u: %u bytes of data run past "
			                    "the message", i, rdlen);
		off = rd + rdlen;
		if (cls != C_IN || !name_eq(owner, target))
			continue;
		if (type == T_TXT) {
			rc = add_txt(m + rd, rdlen, r, rd, err);
		} else if (type == T_CNAME) {
			size_t p = rd;
			if (++cnames > MAX_CNAMES)
				return tb_error_set(err, TB_EINVAL, "dns: more than %d CNAMEs", MAX_CNAMES);
			rc = read_name(m, rd + rdlen, &p, target, sizeof target, err);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int tb_dnstxt_parse(const uint8_t *m, size_t len, uint16_t id, const char *name,
                    struct tb_dnstxt *r, struct tb_error *err)
{
	memset(r, 0, sizeof *r);
	int rc = check_header(m, len, id, r, err);
	if (rc)
		return rc;
	char q[256];
	size_t off = DNS_HDR;
	rc = read_name(m, len, &off, q, sizeof q, err);
	if (rc == 0 && (off + 4 > len || !name_eq(q, name) || be16(m + off) != T_TXT ||
	                be16(m + off + 2) != C_IN))
		rc = tb_error_set(err, TB_EINVAL, "dns: the answer's question (%.64s) is not the "
		                  "TXT/IN question asked for %.64s", q, name);
	if (rc == 0 && !r->truncated && !r->nxdomain)
		rc = parse_answers(m, len, off + 4, name, r, err);
	if (rc)
		tb_dnstxt_fini(r);
	return rc;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int wait_fd(int fd, short ev, long deadline, const char *server, struct tb_error *err)
{
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return tb_error_set(err, TB_EUNAVAIL, "dns: %s did not answer in time", server);
		struct pollfd p = {.fd = fd, .events = ev};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return tb_error_set(err, TB_EUNAVAIL, "dns: poll on %s: %s", server,
			                    strerror(errno));
	}
}

static int open_socket(const char *server, int type, int *fd, struct tb_error *err)
{
	char host[256];
	const char *colon = strrchr(server, ':');
	size_t hl = colon ? (size_t)(colon - server) : 0;
	if (!colon || hl == 0 || hl >= sizeof host || !colon[1])
		return tb_error_set(err, TB_ECONFIG, "dns: resolver \"%.64s\" is not HOST:PORT", server);
	memcpy(host, server, hl);
	host[hl] = 0;
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	}
	struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
	int g = getaddrinfo(host, colon + 1, &hints, &ai);
	if (g)
		return tb_error_set(err, TB_EUNAVAIL, "dns: resolver %s: %s", server, gai_strerror(g));
	*fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = *fd < 0 ? -1 : connect(*fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc < 0 && errno != EINPROGRESS) {
		int e = errno;
		if (*fd >= 0)
			close(*fd);
		return tb_error_set(err, TB_EUNAVAIL, "dns: cannot reach %s: %s", server, strerror(e));
	}
	return 0;
}

static int ask_udp(const char *server, const uint8_t *q, size_t qlen, uint8_t *ans, size_t *alen,
                   long deadline, struct tb_error *err)
{
	int fd, rc = open_socket(server, SOCK_DGRAM, &fd, err);
	if (rc)
		return rc;
	if (send(fd, q, qlen, 0) != (ssize_t)qlen)
		rc = tb_error_set(err, TB_EUNAVAIL, "dns: send to %s: %s", server, strerror(errno));
	while (rc == 0 && (rc = wait_fd(fd, POLLIN, deadline, server, err)) == 0) {
		ssize_t n = recv(fd, ans, 65535, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			rc = tb_error_set(err, TB_EUNAVAIL, "dns: %s: %s", server, strerror(errno));
		} else if (n >= 2 && memcmp(ans, q, 2) == 0) {
			*alen = (size_t)n;
			break;
		} /* else a stray datagram with another id: keep waiting */
	}
	close(fd);
	return rc;
}

static int io_all(int fd, uint8_t *p, size_t n, int wr, long deadline, const char *server,
                  struct tb_error *err)
{
	while (n) {
		int rc = wait_fd(fd, wr ? POLLOUT : POLLIN, deadline, server, err);
		if (rc)
			return rc;
		ssize_t k = wr ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0 && (errno == EAGAIN || errno == EINTR || errno == EINPROGRESS))
			continue;
		if (k <= 0)
			return tb_error_set(err, TB_EUNAVAIL, "dns: TCP to %s: %s", server,
			                    k == 0 ? "connection closed" : strerror(errno));
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int ask_tcp(const char *server, const uint8_t *q, size_t qlen, uint8_t *ans, size_t *alen,
                   long deadline, struct tb_error *err)
{
	int fd, rc = open_socket(server, SOCK_STREAM, &fd, err);
	if (rc)
		return rc;
	uint8_t buf[2 + 512], lenb[2];
	buf[0] = (uint8_t)(qlen >> 8);
	buf[1] = (uint8_t)qlen;
	memcpy(buf + 2, q, qlen);
	rc = io_all(fd, buf, qlen + 2, 1, deadline, server, err);
	if (rc == 0)
		rc = io_all(fd, lenb, 2, 0, deadline, server, err);
	if (rc == 0) {
		*alen = be16(lenb);
		rc = io_all(fd, ans, *alen, 0, deadline, server, err);
	}
	close(fd);
	return rc;
}

int tb_dnstxt_query(const char *server, const char *name, long timeout_ms,
                    struct tb_dnstxt *r, struct tb_error *err)
{
	uint8_t q[512];
	uint16_t id;
	size_t alen = 0;
	memset(r, 0, sizeof *r);
	if (getrandom(&id, sizeof id, 0) != sizeof id)
		return tb_error_set(err, TB_EIO, "dns: no randomness for a query id");
	int qlen = tb_dnstxt_build_query(name, id, q, sizeof q, err);
	if (qlen < 0)
		return qlen;
	uint8_t *ans = malloc(65536);
	if (!ans)
		return tb_error_set(err, TB_ENOMEM, "dns: out of memory");
	long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	int rc = ask_udp(server, q, (size_t)qlen, ans, &alen, deadline, err);
	if (rc == 0)
		rc = tb_dnstxt_parse(ans, alen, id, name, r, err);
	if (rc == 0 && r->truncated) {
		rc = ask_tcp(server, q, (size_t)qlen, ans, &alen, deadline, err);
		if (rc == 0)
			rc = tb_dnstxt_parse(ans, alen, id, name, r, err);
		if (rc == 0 && r->truncated)
			rc = tb_error_set(err, TB_EINVAL, "dns: %s sent a truncated answer over TCP",
			                  server);
	}
	free(ans);
	if (rc && rc != TB_EUNAVAIL && rc != TB_ECONFIG)
		tb_error_prefix(err, "TXT %s from %s", name, server);
	return rc;
}

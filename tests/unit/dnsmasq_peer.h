/* dnsmasq (Debian dnsmasq-base) as a test peer: started on 127.0.0.1 on a free
 * port with only the TXT records a test gives, authoritative for .test, .com and
 * .io (unknown names there are NXDOMAIN, nothing is forwarded), in its own process group, and always
 * stopped by dnsmasq_peer_stop. Tests fail loudly if /usr/sbin/dnsmasq is absent. */
#ifndef TB_DNSMASQ_PEER_H
#define TB_DNSMASQ_PEER_H

#include <sys/types.h>

struct dnsmasq_peer {
	pid_t pid;
	int port;
	char server[32]; /* "127.0.0.1:PORT" */
};

/* txt: NULL-terminated list of dnsmasq --txt-record values ("name,text[,text]").
 * Waits (bounded) until the resolver answers. Returns 0 or -1 with a message on stderr. */
int dnsmasq_peer_start(struct dnsmasq_peer *p, const char *const *txt);
void dnsmasq_peer_stop(struct dnsmasq_peer *p);

#endif

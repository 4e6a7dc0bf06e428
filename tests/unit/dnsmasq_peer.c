/* dnsmasq test peer (see dnsmasq_peer.h). The free port is found by binding port 0
 * and releasing it; if dnsmasq loses the race it exits and we try another port. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dnsmasq_peer.h"
#include "lib/dnstxt.h"

#define DNSMASQ "/usr/sbin/dnsmasq"
#define MAX_ARGS 64

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t l = sizeof a;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static pid_t spawn(int port, const char *const *txt)
{
	char portarg[32], *argv[MAX_ARGS];
	size_t n = 0;
	snprintf(portarg, sizeof portarg, "--port=%d", port);
	const char *fixed[] = {DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts",
	                       "--conf-file=/dev/null", "--listen-address=127.0.0.1",
	                       "--bind-interfaces", "--pid-file=", "--local=/test/", "--local=/com/",
	                       "--local=/io/",
	                       "--log-facility=/dev/null", portarg, NULL};
	for (size_t i = 0; fixed[i]; i++)
		argv[n++] = (char *)fixed[i];
	char buf[MAX_ARGS][512];
	for (size_t i = 0; txt && txt[i] && n < MAX_ARGS - 1; i++) {
		snprintf(buf[i], sizeof buf[i], "--txt-record=%s", txt[i]);
		argv[n++] = buf[i];
	}
	argv[n] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		/* die with the test even when it is killed before its teardown runs */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) { /* its start-up chatter would bury the test output */
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execv(DNSMASQ, argv);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

static int ready(struct dnsmasq_peer *p)
{
	for (int i = 0; i < 100; i++) { /* at most ~5 s */
		struct tb_dnstxt r;
		struct tb_error err;
		int status;
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		if (tb_dnstxt_query(p->server, "ready.tradebridge.test", 200, &r, &err) == 0) {
			tb_dnstxt_fini(&r);
			return 0;
		}
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return -1;
}

int dnsmasq_peer_start(struct dnsmasq_peer *p, const char *const *txt)
{
	memset(p, 0, sizeof *p);
	if (access(DNSMASQ, X_OK) != 0) {
		fprintf(stderr, "dnsmasq_peer: %s is missing: apt-get install dnsmasq-base\n", DNSMASQ);
		return -1;
	}
	for (int attempt = 0; attempt < 5; attempt++) {
		p->port = free_port();
		snprintf(p->server, sizeof p->server, "127.0.0.1:%d", p->port);
		p->pid = spawn(p->port, txt);
		if (p->pid > 0 && ready(p) == 0)
			return 0;
		dnsmasq_peer_stop(p);
	}
	fprintf(stderr, "dnsmasq_peer: dnsmasq did not start\n");
	return -1;
}

void dnsmasq_peer_stop(struct dnsmasq_peer *p)
{
	if (p->pid > 0) {
		kill(-p->pid, SIGTERM);
		kill(p->pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
				p->pid = 0;
				return;
			}
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
}

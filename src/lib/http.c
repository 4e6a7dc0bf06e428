/* HTTP client on one libcurl easy handle per client; curl_easy_reset between requests
 * keeps the connection cache, so consecutive requests to a peer share a connection.
 * Invariants: a request is sent more than once only when the caller marked it
 * idempotent, at most max_attempts times; the body sink refuses bytes past the limit;
 * URLs in messages and logs never carry their userinfo or query (they may hold keys). */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <config.h>
#include "lib/file.h"
#include "lib/http.h"

#define DEF_CONNECT_MS 10000L
#define DEF_TIMEOUT_MS 30000L
#define DEF_MAX_RESPONSE ((size_t)16 << 20)
#define DEF_ATTEMPTS 3u
#define DEF_BACKOFF_MS 200L
#define DEF_BACKOFF_MAX_MS 5000L
#define MAX_EXTRA_HEADERS 32
#define URL_SHOWN_MAX 200

struct tb_http {
	CURL *curl;
	struct tb_http_options opt; /* defaults filled in; strings point at the copies below */
	char *ca_file;
	char *user_agent;
	uint64_t rng; /* jitter only, not security relevant */
};

/* curl_global_init is not thread-safe and must run once per process. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT; /* written once, inside curl_once */

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct tb_buf *body;
	size_t limit;
	int over;   /* the limit was passed */
	int nomem;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t len = size * n;
	if (len > s->limit || s->body->len > s->limit - len) {
		s->over = 1;
		return 0; /* makes libcurl abort the transfer */
	}
	if (tb_buf_append(s->body, p, len) != 0) {
		s->nomem = 1;
		return 0;
	}
	return len;
}

/* scheme://host[:port]/path of url: no userinfo, query or fragment, bounded. */
static void url_shown(const char *url, char out[URL_SHOWN_MAX + 1])
{
	const char *p = url ? url : "(null)";
	const char *sep = strstr(p, "://");
	size_t o = 0;
	if (sep) {
		const char *host = sep + 3;
		const char *end = host + strcspn(host, "/?#");
		const char *at = memchr(host, '@', (size_t)(end - host));
		size_t n = (size_t)(host - p);
		if (n > URL_SHOWN_MAX)
			n = URL_SHOWN_MAX;
		memcpy(out, p, n);
		o = n;
		p = at ? at + 1 : host;
	}
	for (; *p && *p != '?' && *p != '#' && o < URL_SHOWN_MAX; p++)
		out[o++] = *p;
	out[o] = 0;
}

static uint64_t next_rand(struct tb_http *h)
{
	/* xorshift64*: spreads retry times so clients do not retry in lockstep */
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545F4914F6CDD1DULL;
}

static int check_options(const struct tb_http_options *o, struct tb_error *err)
{
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 || o->backoff_base_ms < 0 ||
	    o->backoff_max_ms < 0)
		return tb_error_set(err, TB_ECONFIG, "http: timeouts and backoff must not be negative");
	if (o->max_attempts > TB_HTTP_MAX_ATTEMPTS)
		return tb_error_set(err, TB_ECONFIG, "http: max_attempts %u is above the limit of %d",
		                    o->max_attempts, TB_HTTP_MAX_ATTEMPTS);
	if (o->ca_file && o->insecure)
		return tb_error_set(err, TB_ECONFIG,
		                    "http: ca_file %s and insecure are both set: choose one",
		                    o->ca_file);
	if (o->ca_file && access(o->ca_file, R_OK) != 0)
		return tb_error_set(err, TB_ECONFIG, "http: ca_file %s: cannot read: %s", o->ca_file,
		                    strerror(errno));
	return o->ca_file ? tb_file_check_regular(o->ca_file, "http: ca_file", 0, err) : 0;
}

static void fill_defaults(struct tb_http_options *o)
{
	if (!o->connect_timeout_ms)
		o->connect_timeout_ms = DEF_CONNECT_MS;
	if (!o->timeout_ms)
		o->timeout_ms = DEF_TIMEOUT_MS;
	if (!o->max_response)
		o->max_response = DEF_MAX_RESPONSE;
	if (!o->max_attempts)
		o->max_attempts = DEF_ATTEMPTS;
	if (!o->backoff_base_ms)
		o->backoff_base_ms = DEF_BACKOFF_MS;
	if (!o->backoff_max_ms)
		o->backoff_max_ms = DEF_BACKOFF_MAX_MS;
}

static void warn_insecure(const struct tb_log *log)
{
	struct tb_log fallback;
	if (!log) {
		tb_log_init(&fallback, stderr, "http", TB_LOG_WARN, TB_LOG_AUTO);
		log = &fallback;
	}
	tb_log_warn(log, "TLS verification is OFF for this HTTP client: peers are not "
	                 "authenticated and traffic can be intercepted");
}

int tb_http_new(struct tb_http **out, const struct tb_http_options *opt, struct tb_error *err)
{
	struct tb_http_options o = {0};
	struct tb_http *h;
	int rc;
	*out = NULL;
	if (opt)
		o = *opt;
	if ((rc = check_options(&o, err)) != 0)
		return rc;
	fill_defaults(&o);
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK)
		return tb_error_set(err, TB_ENOMEM, "http: curl_global_init failed: %s",
		                    curl_easy_strerror(curl_init_rc));
	h = calloc(1, sizeof(*h));
	if (!h)
		return tb_error_set(err, TB_ENOMEM, "http: out of memory");
	h->curl = curl_easy_init();
	h->ca_file = o.ca_file ? strdup(o.ca_file) : NULL;
	h->user_agent = strdup(o.user_agent ? o.user_agent : PACKAGE_NAME "/" PACKAGE_VERSION);
	if (!h->curl || (o.ca_file && !h->ca_file) || !h->user_agent) {
		tb_http_free(h);
		return tb_error_set(err, TB_ENOMEM, "http: out of memory creating a client");
	}
	o.ca_file = h->ca_file;
	o.user_agent = h->user_agent;
	h->opt = o;
	if (getrandom(&h->rng, sizeof(h->rng), GRND_NONBLOCK) != sizeof(h->rng))
		h->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)h;
	h->rng |= 1; /* xorshift state must not be zero */
	if (o.insecure)
		warn_insecure(o.log);
	*out = h;
	return 0;
}

void tb_http_free(struct tb_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h->user_agent);
	free(h);
}

void tb_http_response_init(struct tb_http_response *r)
{
	r->status = 0;
	r->attempts = 0;
	tb_buf_init(&r->body, 0);
}

void tb_http_response_fini(struct tb_http_response *r)
{
	tb_buf_fini(&r->body);
}

static int is_post(const struct tb_http_request *req)
{
	return req->method ? strcmp(req->method, "POST") == 0 : req->body != NULL;
}

static int check_request(const struct tb_http_request *req, const char *shown,
                         struct tb_error *err)
{
	size_t n = 0;
	if (!req->url || (strncmp(req->url, "http://", 7) && strncmp(req->url, "https://", 8)))
		return tb_error_set(err, TB_EINVAL, "http: %s: only http:// and https:// URLs are allowed",
		                    shown);
	if (req->method && strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		return tb_error_set(err, TB_EINVAL, "http: %s: method %.16s is not supported (GET, POST)",
		                    shown, req->method);
	for (const char *const *hd = req->headers; hd && *hd; hd++, n++) {
		if (n >= MAX_EXTRA_HEADERS)
			return tb_error_set(err, TB_EINVAL, "http: %s: more than %d extra headers",
			                    shown, MAX_EXTRA_HEADERS);
		if (strpbrk(*hd, "\r\n") || !strchr(*hd, ':'))
			return tb_error_set(err, TB_EINVAL,
			                    "http: %s: extra header %zu is not one \"Name: value\" line",
			                    shown, n + 1);
	}
	return 0;
}

static struct curl_slist *build_headers(const struct tb_http_request *req, int post)
{
	struct curl_slist *list = NULL, *t;
	char ct[160];
	/* "Expect:" stops curl from waiting for 100-continue on larger bodies */
	if (!(list = curl_slist_append(NULL, "Expect:")))
		return NULL;
	if (post) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
		         req->content_type ? req->content_type : "application/json");
		if (!(t = curl_slist_append(list, ct)))
			goto fail;
		list = t;
	}
	for (const char *const *hd = req->headers; hd && *hd; hd++) {
		if (!(t = curl_slist_append(list, *hd)))
			goto fail;
		list = t;
	}
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

static void set_options(struct tb_http *h, const struct tb_http_request *req, int post,
                        struct curl_slist *hdrs, struct sink *sink, char *ebuf)
{
	CURL *c = h->curl;
	long cto = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : h->opt.connect_timeout_ms;
	long to = req->timeout_ms > 0 ? req->timeout_ms : h->opt.timeout_ms;
	curl_easy_reset(c); /* keeps live connections */
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cto);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, to);
	curl_easy_setopt(c, CURLOPT_USERAGENT, h->opt.user_agent);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->opt.max_response);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, h->opt.insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, h->opt.insecure ? 0L : 2L);
	if (h->opt.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->opt.ca_file);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
}

static int status_retryable(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 ||
	       status == 503 || status == 504;
}

/* Turn one transfer's outcome into a TB_E* code; *retry says if trying again can help. */
static int classify(struct tb_http *h, CURLcode rc, const struct sink *sink, long status,
                    const char *what, const char *ebuf, int *retry, struct tb_error *err)
{
	const char *why = ebuf[0] ? ebuf : curl_easy_strerror(rc);
	*retry = 0;
	if (sink->over || rc == CURLE_FILESIZE_EXCEEDED)
		return tb_error_set(err, TB_ELIMIT, "http: %s: response body passed the limit of %zu bytes",
		                    what, h->opt.max_response);
	if (sink->nomem || rc == CURLE_OUT_OF_MEMORY)
		return tb_error_set(err, TB_ENOMEM, "http: %s: out of memory", what);
	switch (rc) {
	case CURLE_OK:
		if (status >= 200 && status < 300)
			return 0;
		*retry = status_retryable(status);
		return tb_error_set(err, TB_EIO, "http: %s: peer answered HTTP %ld", what, status);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return tb_error_set(err, TB_EINVAL, "http: %s: bad URL: %s", what, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return tb_error_set(err, TB_EUNAVAIL,
		                    "http: %s: TLS verification failed: %s (give the peer's CA with ca_file)",
		                    what, why);
	case CURLE_OPERATION_TIMEDOUT:
		*retry = 1;
		return tb_error_set(err, TB_EUNAVAIL, "http: %s: could not reach the peer: timed out: %s",
		                    what, why);
	default:
		*retry = 1;
		return tb_error_set(err, TB_EUNAVAIL, "http: %s: could not reach the peer: %s", what, why);
	}
}

static int attempt_once(struct tb_http *h, const struct tb_http_request *req, int post,
                        struct curl_slist *hdrs, const char *what, struct tb_http_response *resp,
                        int *retry, struct tb_error *err)
{
	char ebuf[CURL_ERROR_SIZE];
	struct sink sink = {.body = &resp->body, .limit = h->opt.max_response};
	long status = 0;
	ebuf[0] = 0;
	tb_buf_reset(&resp->body);
	set_options(h, req, post, hdrs, &sink, ebuf);
	CURLcode rc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	resp->attempts++;
	return classify(h, rc, &sink, status, what, ebuf, retry, err);
}

static long backoff_ms(struct tb_http *h, unsigned retry_no)
{
	long d = h->opt.backoff_base_ms;
	for (unsigned i = 1; i < retry_no && d < h->opt.backoff_max_ms; i++)
		d *= 2;
	if (d > h->opt.backoff_max_ms)
		d = h->opt.backoff_max_ms;
	/* "equal jitter": half fixed, half random */
	return d / 2 + (long)(next_rand(h) % (uint64_t)(d / 2 + 1));
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void log_retry(struct tb_http *h, const char *what, unsigned attempt, long delay,
                      const struct tb_error *e)
{
	tb_log_emit(h->opt.log, TB_LOG_WARN, "HTTP request failed, retrying",
	            TB_LOG_FIELDS(TB_LF_STR("request", what), TB_LF_INT("attempt", attempt),
	                          TB_LF_INT("delay_ms", delay), TB_LF_STR("error", e->msg)));
}

int tb_http_send(struct tb_http *h, const struct tb_http_request *req,
                 struct tb_http_response *resp, struct tb_error *err)
{
	char shown[URL_SHOWN_MAX + 1], what[URL_SHOWN_MAX + 8];
	struct tb_error e = {0};
	int post = is_post(req), rc, retry = 0;
	unsigned max = req->idempotent ? h->opt.max_attempts : 1;
	url_shown(req->url, shown);
	resp->status = 0;
	resp->attempts = 0;
	if ((rc = check_request(req, shown, err)) != 0)
		return rc;
	snprintf(what, sizeof(what), "%s %s", post ? "POST" : "GET", shown);
	struct curl_slist *hdrs = build_headers(req, post);
	if (!hdrs)
		return tb_error_set(err, TB_ENOMEM, "http: %s: out of memory", what);
	for (unsigned i = 1;; i++) {
		rc = attempt_once(h, req, post, hdrs, what, resp, &retry, &e);
		if (rc == 0 || !retry || i >= max)
			break;
		long delay = backoff_ms(h, i);
		log_retry(h, what, i, delay, &e);
		sleep_ms(delay);
	}
	curl_slist_free_all(hdrs);
	if (rc != 0 && resp->attempts > 1)
		return tb_error_set(err, rc, "%.440s (after %u attempts)", e.msg, resp->attempts);
	if (rc != 0 && err)
		*err = e;
	return rc;
}

int tb_http_get(struct tb_http *h, const char *url, struct tb_http_response *resp,
                struct tb_error *err)
{
	struct tb_http_request req = {.method = "GET", .url = url, .idempotent = 1};
	return tb_http_send(h, &req, resp, err);
}

int tb_http_post_json(struct tb_http *h, const char *url, const char *json, size_t len,
                      int idempotent, struct tb_http_response *resp, struct tb_error *err)
{
	struct tb_http_request req = {.method = "POST", .url = url, .body = json, .body_len = len,
	                              .idempotent = idempotent};
	return tb_http_send(h, &req, resp, err);
}

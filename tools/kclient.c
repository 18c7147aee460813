/*
 * kclient — a synchronous Kafka-protocol connection for the tools (API and
 * contracts in kclient.h).
 *
 * The socket is non-blocking and every wait is a poll() bounded by what is
 * left of the connection's budget, so "synchronous" never means "forever":
 * a broker that is stopped (SIGSTOP, a hung host, a black-holed route)
 * costs at most timeout_ms, a broker that is down costs a refused connect.
 *
 * One exchange, on the wire (kp_message.h, kp_header.h):
 *   -> int32 size, request header v1 or v2 (api key, version, correlation
 *      id, client id "replog-cli"), body                  (kp_request_encode)
 *   <- int32 size, response header v0 or v1 (correlation id), body
 * The size prefix is checked first (kp_frame_size: 0..the limit), the frame
 * is read whole into kc_frame, then kp_response_decode() decodes header and
 * body; the correlation id must be the one sent.
 */
#include "kclient.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "kp_api.h"
#include "kp_codec.h"
#include "rlassert.h"

#define KCLIENT_CLIENT_ID "replog-cli"

static const char *const kclient_messages[] = {
	[0] = "no error",
	[1] = "not a HOST:PORT address, or the host does not resolve",
	[2] = "the broker closed the connection",
	[3] = "the response does not answer the request (correlation id)",
};

_Static_assert(sizeof(kclient_messages) / sizeof(kclient_messages[0]) ==
		       (size_t)(KCLIENT_EBASE - KCLIENT_ELAST),
	       "one message per KCLIENT_E* code");

const char *kclient_strerror(int code)
{
	if (code <= KCLIENT_EBASE && code > KCLIENT_ELAST)
		return kclient_messages[KCLIENT_EBASE - code];
	return kp_strerror(code);
}

static int64_t kclient_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Record the first failure with its sentence; close the socket. Returns
 * the (first) error. */
__attribute__((format(printf, 3, 4))) static int kclient_fail(struct kclient *kc, int err,
							      const char *fmt, ...)
{
	RL_ASSERT(err < 0);
	if (kc->kc_err)
		return kc->kc_err;
	kc->kc_err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(kc->kc_errmsg, sizeof(kc->kc_errmsg), fmt, ap);
	va_end(ap);
	kclient_close(kc);
	return err;
}

int kclient_parse_addr(const char *addr, char *host, size_t host_cap, char *port, size_t port_cap)
{
	const char *colon, *h = addr;
	size_t hlen;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':')
			return KCLIENT_EADDR;
		h = addr + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || strchr(addr, ':') != colon)
			return KCLIENT_EADDR; /* none, or an IPv6 address without brackets */
		hlen = (size_t)(colon - addr);
	}
	const char *p = colon + 1;
	size_t plen = strlen(p);
	if (hlen == 0 || plen == 0 || plen > 5 || strspn(p, "0123456789") != plen)
		return KCLIENT_EADDR;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return KCLIENT_EADDR;
	if (host) {
		if (hlen >= host_cap)
			return KCLIENT_EADDR;
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (port) {
		if (plen >= port_cap)
			return KCLIENT_EADDR;
		memcpy(port, p, plen + 1);
	}
	return 0;
}

int kclient_init(struct kclient *kc, const char *addr, int timeout_ms)
{
	RL_ASSERT(timeout_ms > 0 && timeout_ms <= KCLIENT_MAX_TIMEOUT_MS);
	memset(kc, 0, sizeof(*kc));
	kc->kc_fd = -1;
	kc->kc_timeout_ms = timeout_ms;
	kc->kc_next_corr = 1;
	snprintf(kc->kc_addr, sizeof(kc->kc_addr), "%s", addr);
	if (strlen(addr) >= sizeof(kc->kc_addr) ||
	    kclient_parse_addr(addr, kc->kc_host, sizeof(kc->kc_host), kc->kc_port,
			       sizeof(kc->kc_port)) < 0)
		return kclient_fail(kc, KCLIENT_EADDR,
				    "'%s' is not a broker address: expected HOST:PORT", addr);
	return 0;
}

/* Milliseconds left of the budget, 0 when it is spent. */
static int kclient_left_ms(const struct kclient *kc)
{
	int64_t left = kc->kc_deadline_ms - kclient_now_ms();
	return left > 0 ? (int)left : 0;
}

/* Wait until fd is ready for `events`. Returns 0, -ETIMEDOUT, or -errno. */
static int kclient_wait(struct kclient *kc, short events)
{
	for (int i = 0; i < 1000; i++) { /* EINTR bound: a signal storm is a failure */
		int left = kclient_left_ms(kc);
		if (left == 0)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = kc->kc_fd, .events = events};
		int n = poll(&pfd, 1, left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	return -EINTR;
}

/* One address: a non-blocking connect, finished within the budget. */
static int kclient_connect_one(struct kclient *kc, const struct addrinfo *ai)
{
	kc->kc_fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   ai->ai_protocol);
	if (kc->kc_fd < 0)
		return -errno;
	int one = 1;
	(void)setsockopt(kc->kc_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(kc->kc_fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	int rc = kclient_wait(kc, POLLOUT);
	if (rc < 0)
		return rc;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(kc->kc_fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return soerr ? -soerr : 0;
}

int kclient_connect(struct kclient *kc)
{
	if (kc->kc_err)
		return kc->kc_err;
	RL_ASSERT(kc->kc_fd < 0);
	kc->kc_deadline_ms = kclient_now_ms() + kc->kc_timeout_ms;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(kc->kc_host, kc->kc_port, &hints, &res);
	if (g != 0)
		return kclient_fail(kc, KCLIENT_EADDR, "cannot resolve the host of %s: %s",
				    kc->kc_addr, gai_strerror(g));
	int rc = -EADDRNOTAVAIL;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		rc = kclient_connect_one(kc, ai);
		if (rc == 0)
			break;
		if (kc->kc_fd >= 0) {
			close(kc->kc_fd);
			kc->kc_fd = -1;
		}
		if (rc == -ETIMEDOUT)
			break; /* the budget is spent: no time for the next address */
	}
	freeaddrinfo(res);
	if (rc == -ECONNREFUSED)
		return kclient_fail(kc, rc, "connection refused by %s (is the broker running?)",
				    kc->kc_addr);
	if (rc == -ETIMEDOUT)
		return kclient_fail(kc, rc, "timed out after %d ms connecting to %s",
				    kc->kc_timeout_ms, kc->kc_addr);
	if (rc < 0)
		return kclient_fail(kc, rc, "cannot connect to %s: %s", kc->kc_addr,
				    kclient_strerror(rc));
	return 0;
}

static int kclient_send_all(struct kclient *kc, const uint8_t *p, size_t len)
{
	size_t done = 0;
	for (int i = 0; done < len && i < (1 << 20); i++) {
		ssize_t n = send(kc->kc_fd, p + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return errno == EPIPE || errno == ECONNRESET ? KCLIENT_ECLOSED : -errno;
		int rc = kclient_wait(kc, POLLOUT);
		if (rc < 0)
			return rc;
	}
	return done == len ? 0 : -EIO;
}

/* Read exactly len bytes. Returns 0, -ETIMEDOUT, KCLIENT_ECLOSED, -errno. */
static int kclient_recv_all(struct kclient *kc, uint8_t *p, size_t len)
{
	size_t done = 0;
	/* Each pass reads at least one byte or waits: bounded by the budget. */
	for (size_t i = 0; done < len && i < len + 100000; i++) {
		ssize_t n = recv(kc->kc_fd, p + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0)
			return KCLIENT_ECLOSED;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return KCLIENT_ECLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int rc = kclient_wait(kc, POLLIN);
		if (rc < 0)
			return rc;
	}
	return done == len ? 0 : -EIO;
}

/* Make room for a frame of `len` bytes and its decode arena. */
static int kclient_reserve(struct kclient *kc, size_t len)
{
	if (kc->kc_frame_cap < len || !kc->kc_frame) {
		uint8_t *f = realloc(kc->kc_frame, len ? len : 1);
		if (!f)
			return -ENOMEM;
		kc->kc_frame = f;
		kc->kc_frame_cap = len ? len : 1;
	}
	size_t arena = len * KCLIENT_ARENA_RATIO + KCLIENT_ARENA_BASE;
	if (kc->kc_arena_cap < arena) {
		free(kc->kc_arena_mem);
		kc->kc_arena_mem = malloc(arena);
		kc->kc_arena_cap = kc->kc_arena_mem ? arena : 0;
		if (!kc->kc_arena_mem)
			return -ENOMEM;
	}
	kp_arena_init(&kc->kc_arena, kc->kc_arena_mem, kc->kc_arena_cap);
	return 0;
}

/* The failure of one exchange in words. */
static int kclient_call_failed(struct kclient *kc, int rc, const char *api, bool sending)
{
	if (rc == -ETIMEDOUT)
		return kclient_fail(kc, rc,
				    "timed out after %d ms waiting for the %s response from %s",
				    kc->kc_timeout_ms, api, kc->kc_addr);
	if (rc == KCLIENT_ECLOSED)
		return kclient_fail(kc, rc, "%s closed the connection %s (%s request)", kc->kc_addr,
				    sending ? "while the request was sent" : "before answering",
				    api);
	return kclient_fail(kc, rc, "%s the %s %s %s: %s", sending ? "cannot send" : "cannot read",
			    api, sending ? "request to" : "response from", kc->kc_addr,
			    kclient_strerror(rc));
}

void kclient_renew(struct kclient *kc)
{
	kc->kc_deadline_ms = kclient_now_ms() + kc->kc_timeout_ms;
}

/* Encode and send one request; *corr is its correlation id. */
static int kclient_send_request(struct kclient *kc, int16_t api_key, int16_t version,
				const union kp_request_body *req, int32_t *corr)
{
	if (kc->kc_err)
		return kc->kc_err;
	RL_ASSERT(kc->kc_fd >= 0);
	const char *api = kp_api_name(api_key);
	*corr = kc->kc_next_corr++;
	struct kp_request_header h = {
		.request_api_key = api_key,
		.request_api_version = version,
		.correlation_id = *corr,
		.client_id = KP_STR(KCLIENT_CLIENT_ID),
	};
	struct kp_writer w;
	kp_writer_init(&w, KCLIENT_MAX_REQUEST_BYTES);
	int rc = kp_request_encode(&w, &h, req);
	if (rc < 0) {
		kp_writer_deinit(&w);
		return kclient_fail(kc, rc, "cannot encode the %s request for %s: %s", api,
				    kc->kc_addr, kclient_strerror(rc));
	}
	rc = kclient_send_all(kc, w.kw_buf, w.kw_len);
	kp_writer_deinit(&w);
	if (rc < 0)
		return kclient_call_failed(kc, rc, api, true);
	return 0;
}

int kclient_send(struct kclient *kc, int16_t api_key, int16_t version,
		 const union kp_request_body *req)
{
	int32_t corr;
	return kclient_send_request(kc, api_key, version, req, &corr);
}

int kclient_call(struct kclient *kc, int16_t api_key, int16_t version,
		 const union kp_request_body *req, union kp_response_body *resp)
{
	int32_t corr;
	int rc = kclient_send_request(kc, api_key, version, req, &corr);
	if (rc < 0)
		return rc;
	const char *api = kp_api_name(api_key);

	uint8_t prefix[KP_FRAME_PREFIX_BYTES];
	rc = kclient_recv_all(kc, prefix, sizeof(prefix));
	if (rc < 0)
		return kclient_call_failed(kc, rc, api, false);
	int32_t size = kp_frame_size(prefix, sizeof(prefix), KCLIENT_MAX_RESPONSE_BYTES);
	if (size < 0) {
		char text[5];
		for (int i = 0; i < 4; i++)
			text[i] = prefix[i] >= 0x20 && prefix[i] < 0x7f ? (char)prefix[i] : '.';
		text[4] = '\0';
		return kclient_fail(kc, size,
				    "%s answered the %s request with an impossible frame size "
				    "(bytes %02x%02x%02x%02x \"%s\"; at most %d accepted): is it a "
				    "Kafka broker?",
				    kc->kc_addr, api, prefix[0], prefix[1], prefix[2], prefix[3],
				    text, KCLIENT_MAX_RESPONSE_BYTES);
	}
	rc = kclient_reserve(kc, (size_t)size);
	if (rc < 0)
		return kclient_fail(kc, rc, "no memory for a %d-byte %s response from %s", size,
				    api, kc->kc_addr);
	rc = kclient_recv_all(kc, kc->kc_frame, (size_t)size);
	if (rc < 0)
		return kclient_call_failed(kc, rc, api, false);

	struct kp_reader r;
	struct kp_response_header rh;
	kp_reader_init(&r, kc->kc_frame, (size_t)size, &kc->kc_arena);
	memset(resp, 0, sizeof(*resp));
	rc = kp_response_decode(&r, api_key, version, &rh, resp);
	if (rc == KP_ETRAILING)
		rc = 0;
	if (rc < 0)
		return kclient_fail(kc, rc, "cannot decode the %s v%d response from %s: %s", api,
				    version, kc->kc_addr, kclient_strerror(rc));
	if (rh.correlation_id != corr)
		return kclient_fail(kc, KCLIENT_ECORR,
				    "%s answered correlation id %d, expected %d (%s request)",
				    kc->kc_addr, rh.correlation_id, corr, api);
	return 0;
}

void kclient_close(struct kclient *kc)
{
	if (kc->kc_fd >= 0) {
		close(kc->kc_fd);
		kc->kc_fd = -1;
	}
}

void kclient_deinit(struct kclient *kc)
{
	kclient_close(kc);
	free(kc->kc_frame);
	free(kc->kc_arena_mem);
	kc->kc_frame = NULL;
	kc->kc_frame_cap = 0;
	kc->kc_arena_mem = NULL;
	kc->kc_arena_cap = 0;
}

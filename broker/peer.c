/*
 * peer — outbound Kafka-protocol connections between brokers (contract in
 * peer.h).
 *
 * Buffers: frames are copied into one peer-owned send buffer, and
 * responses land in a peer-owned receive buffer, so no request's memory is
 * ever referenced by an operation in flight: a request can be failed and
 * freed at any time. The socket itself is closed only once its operations
 * have completed (pe_ops), and the peer freed only when it is destroyed
 * and nothing refers to it (pe_refs: operations, and callbacks running).
 */
#include "peer.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blog.h"
#include "broker.h"
#include "config.h"
#include "kp_api.h"
#include "rlassert.h"

#define PEER_RBUF_BYTES	    (256u << 10)
#define PEER_MAX_RESPONSE   (128u << 20)
#define PEER_BACKOFF_MIN_MS 100
#define PEER_BACKOFF_MAX_MS 2000
#define PEER_REQUEST_MAX    (16u << 20)

enum peer_state {
	PEER_IDLE = 0, /* no socket; connects for the next request after retry_at */
	PEER_CONNECTING,
	PEER_READY,
	PEER_DRAINING, /* failed: waiting for operations before closing the socket */
};

struct peer_priv {
	struct peer pp_pub;
	uint8_t *pp_sbuf; /* send buffer */
	size_t pp_scap;
	size_t pp_slen;
	size_t pp_ssent;
	int pp_refs;
};

static struct peer_priv *peer_priv(struct peer *p)
{
	return (struct peer_priv *)p;
}

static void peer_kick(struct peer *p);

static void peer_ref(struct peer *p)
{
	peer_priv(p)->pp_refs++;
}

static void peer_unref(struct peer *p)
{
	struct peer_priv *pp = peer_priv(p);
	RL_ASSERT(pp->pp_refs > 0);
	if (--pp->pp_refs > 0)
		return;
	RL_ASSERT(p->pe_closing && p->pe_ops == 0);
	timer_cancel(&p->pe_broker->b_reactor.re_timers, &p->pe_timer);
	if (p->pe_fd >= 0)
		close(p->pe_fd);
	free(p->pe_rbuf);
	free(p->pe_big);
	free(pp->pp_sbuf);
	free(pp);
}

static void peer_req_free(struct peer_req *r)
{
	kp_writer_deinit(&r->pr_out);
	free(r);
}

/* Fail every request on `list` (detached first: callbacks may queue more). */
static void peer_fail_list(struct peer *p, struct peer_req *list, int err)
{
	peer_ref(p);
	while (list) {
		struct peer_req *r = list;
		list = r->pr_next;
		r->pr_done(r->pr_ctx, err, NULL);
		peer_req_free(r);
	}
	peer_unref(p);
}

static void peer_close_socket(struct peer *p)
{
	if (p->pe_fd >= 0) {
		close(p->pe_fd);
		p->pe_fd = -1;
	}
	p->pe_rlen = 0;
	free(p->pe_big);
	p->pe_big = NULL;
	peer_priv(p)->pp_slen = peer_priv(p)->pp_ssent = 0;
	p->pe_state = PEER_IDLE;
}

/* The connection is unusable: close it and fail what waits on it. */
static void peer_fail(struct peer *p, int err, const char *why)
{
	if (p->pe_state == PEER_DRAINING || p->pe_state == PEER_IDLE)
		return;
	p->pe_failures++;
	if (p->pe_failures == 1 || p->pe_failures % 50 == 0) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_WARN, "peer_connection_failed", "peer", blog_i64(b1, p->pe_id), "address",
		     p->pe_addr, "reason", why, "failures", blog_i64(b2, (long long)p->pe_failures),
		     NULL);
	}
	struct reactor *re = &p->pe_broker->b_reactor;
	p->pe_retry_at_ms = re->re_now_ms + p->pe_backoff_ms;
	p->pe_backoff_ms = p->pe_backoff_ms * 2 > PEER_BACKOFF_MAX_MS ? PEER_BACKOFF_MAX_MS
								      : p->pe_backoff_ms * 2;
	struct peer_req *waiting = p->pe_wait_head;
	p->pe_wait_head = p->pe_wait_tail = NULL;
	/* Requests partly in the send buffer were never answered either. */
	struct peer_req *queued = p->pe_queue_head;
	p->pe_queue_head = p->pe_queue_tail = NULL;
	if (p->pe_ops > 0) {
		p->pe_state = PEER_DRAINING;
		shutdown(p->pe_fd, SHUT_RDWR);
		reactor_cancel_fd(re, p->pe_fd);
	} else {
		peer_close_socket(p);
	}
	peer_fail_list(p, waiting, err);
	peer_fail_list(p, queued, err);
}

static void peer_op_done(struct peer *p)
{
	p->pe_ops--;
	if (p->pe_state == PEER_DRAINING && p->pe_ops == 0)
		peer_close_socket(p);
	if (!p->pe_closing)
		peer_kick(p);
}

/* ---- timers ----------------------------------------------------------- */

static int64_t peer_next_deadline(const struct peer *p)
{
	int64_t d = -1;
	for (const struct peer_req *r = p->pe_wait_head; r; r = r->pr_next)
		if (d < 0 || r->pr_deadline_ms < d)
			d = r->pr_deadline_ms;
	for (const struct peer_req *r = p->pe_queue_head; r; r = r->pr_next)
		if (d < 0 || r->pr_deadline_ms < d)
			d = r->pr_deadline_ms;
	if (p->pe_state == PEER_IDLE && p->pe_queue_head && (d < 0 || p->pe_retry_at_ms < d))
		d = p->pe_retry_at_ms;
	return d;
}

static void peer_arm(struct peer *p)
{
	struct timer_heap *h = &p->pe_broker->b_reactor.re_timers;
	int64_t d = peer_next_deadline(p);
	if (d < 0)
		timer_cancel(h, &p->pe_timer);
	else
		timer_arm(h, &p->pe_timer, d);
}

static void peer_on_timer(struct timer *t)
{
	struct peer *p = t->tm_ctx;
	int64_t now = p->pe_broker->b_reactor.re_now_ms;
	for (struct peer_req *r = p->pe_wait_head; r; r = r->pr_next)
		if (r->pr_deadline_ms <= now) {
			peer_fail(p, -ETIMEDOUT, "request timed out");
			peer_kick(p);
			return;
		}
	/* A request half written (the remote stopped reading) cannot be
	 * taken back: only closing the connection ends it. Kept, it would
	 * re-arm this timer in the past forever. */
	struct peer_req *head = p->pe_queue_head;
	if (head && head->pr_sent > 0 && head->pr_deadline_ms <= now) {
		peer_fail(p, -ETIMEDOUT, "request timed out half sent");
		peer_kick(p);
		return;
	}
	/* Queued requests that never got out: fail them one by one. */
	struct peer_req **pp = &p->pe_queue_head, *expired = NULL, **etail = &expired;
	struct peer_req *prev = NULL;
	while (*pp) {
		struct peer_req *r = *pp;
		if (r->pr_deadline_ms <= now && !(r == p->pe_queue_head && r->pr_sent > 0)) {
			*pp = r->pr_next;
			if (p->pe_queue_tail == r)
				p->pe_queue_tail = prev;
			r->pr_next = NULL;
			*etail = r;
			etail = &r->pr_next;
			continue;
		}
		prev = r;
		pp = &r->pr_next;
	}
	peer_fail_list(p, expired, -ETIMEDOUT);
	peer_kick(p);
}

/* ---- connecting ------------------------------------------------------- */

static void peer_connect_done(struct io_op *op, int res)
{
	struct peer *p = op->op_ctx;
	p->pe_connect_inflight = false;
	if (p->pe_state == PEER_CONNECTING) {
		if (res < 0) {
			char why[128];
			snprintf(why, sizeof(why), "connect: %s", strerror(-res));
			peer_fail(p, res, why);
		} else {
			p->pe_state = PEER_READY;
		}
	}
	peer_op_done(p);
	peer_unref(p);
}

static void peer_connect(struct peer *p)
{
	int fd = socket(p->pe_sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		p->pe_retry_at_ms = p->pe_broker->b_reactor.re_now_ms + p->pe_backoff_ms;
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->pe_fd = fd;
	p->pe_state = PEER_CONNECTING;
	p->pe_connect_op.op_done = peer_connect_done;
	p->pe_connect_op.op_ctx = p;
	if (reactor_connect(&p->pe_broker->b_reactor, &p->pe_connect_op, fd,
			    (struct sockaddr *)&p->pe_sa, p->pe_salen) < 0) {
		peer_close_socket(p);
		return;
	}
	p->pe_connect_inflight = true;
	p->pe_ops++;
	peer_ref(p);
}

/* ---- sending ---------------------------------------------------------- */

static void peer_send_done(struct io_op *op, int res)
{
	struct peer *p = op->op_ctx;
	struct peer_priv *pp = peer_priv(p);
	p->pe_send_inflight = false;
	if (p->pe_state == PEER_READY) {
		if (res < 0) {
			char why[128];
			snprintf(why, sizeof(why), "send: %s", strerror(-res));
			peer_fail(p, res, why);
		} else {
			pp->pp_ssent += (size_t)res;
			/* Requests whose last byte left move to the waiting list. */
			size_t done = pp->pp_ssent;
			while (p->pe_queue_head && p->pe_queue_head->pr_sent > 0 &&
			       p->pe_queue_head->pr_sent <= done) {
				struct peer_req *r = p->pe_queue_head;
				p->pe_queue_head = r->pr_next;
				if (!p->pe_queue_head)
					p->pe_queue_tail = NULL;
				r->pr_next = NULL;
				if (p->pe_wait_tail)
					p->pe_wait_tail->pr_next = r;
				else
					p->pe_wait_head = r;
				p->pe_wait_tail = r;
			}
			if (pp->pp_ssent == pp->pp_slen)
				pp->pp_slen = pp->pp_ssent = 0;
		}
	}
	peer_op_done(p);
	peer_unref(p);
}

/* Copy queued frames into the send buffer (recording, in pr_sent, the
 * buffer position where each one ends) and send what is buffered. */
static void peer_flush_sends(struct peer *p)
{
	struct peer_priv *pp = peer_priv(p);
	if (p->pe_send_inflight || p->pe_state != PEER_READY)
		return;
	if (pp->pp_slen == 0) {
		for (struct peer_req *r = p->pe_queue_head; r && r->pr_sent == 0; r = r->pr_next) {
			size_t need = pp->pp_slen + r->pr_out.kw_len;
			if (need > pp->pp_scap) {
				size_t ncap = pp->pp_scap ? pp->pp_scap : 64 << 10;
				while (ncap < need)
					ncap *= 2;
				uint8_t *n = realloc(pp->pp_sbuf, ncap);
				if (!n)
					break;
				pp->pp_sbuf = n;
				pp->pp_scap = ncap;
			}
			memcpy(pp->pp_sbuf + pp->pp_slen, r->pr_out.kw_buf, r->pr_out.kw_len);
			pp->pp_slen += r->pr_out.kw_len;
			r->pr_sent = pp->pp_slen;
		}
	}
	if (pp->pp_ssent >= pp->pp_slen)
		return;
	p->pe_iov[0].iov_base = pp->pp_sbuf + pp->pp_ssent;
	p->pe_iov[0].iov_len = pp->pp_slen - pp->pp_ssent;
	memset(&p->pe_msg, 0, sizeof(p->pe_msg));
	p->pe_msg.msg_iov = p->pe_iov;
	p->pe_msg.msg_iovlen = 1;
	p->pe_send_op.op_done = peer_send_done;
	p->pe_send_op.op_ctx = p;
	if (reactor_sendmsg(&p->pe_broker->b_reactor, &p->pe_send_op, p->pe_fd, &p->pe_msg) < 0)
		return;
	p->pe_send_inflight = true;
	p->pe_ops++;
	peer_ref(p);
}

/* ---- receiving -------------------------------------------------------- */

static void peer_log_bad_response(const struct peer *p, const struct peer_req *r, const char *why,
				  int32_t corr)
{
	char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF], b3[BLOG_I64_BUF], b4[BLOG_I64_BUF];
	blog(BLOG_WARN, "peer_bad_response", "peer", blog_i64(b1, p->pe_id), "api",
	     kp_api_name(r->pr_api_key), "version", blog_i64(b2, r->pr_version), "correlation_id",
	     blog_i64(b3, corr), "expected", blog_i64(b4, r->pr_corr), "error", why, NULL);
}

/* One complete response frame: match, decode, deliver. */
static int peer_deliver(struct peer *p, uint8_t *frame, uint32_t len)
{
	struct peer_req *r = p->pe_wait_head;
	if (!r || len < 4)
		return KP_EMALFORMED;
	int32_t corr = (int32_t)be32_load(frame);
	if (corr != r->pr_corr) {
		peer_log_bad_response(p, r, "correlation id does not match", corr);
		return KP_EMALFORMED;
	}
	p->pe_wait_head = r->pr_next;
	if (!p->pe_wait_head)
		p->pe_wait_tail = NULL;
	size_t arena_bytes = (size_t)len * 8 + (64u << 10);
	void *mem = malloc(arena_bytes);
	if (!mem) {
		r->pr_done(r->pr_ctx, -ENOMEM, NULL);
		peer_req_free(r);
		return 0;
	}
	struct kp_arena arena;
	kp_arena_init(&arena, mem, arena_bytes);
	struct kp_reader rd;
	kp_reader_init(&rd, frame, len, &arena);
	struct kp_response_header h;
	union kp_response_body body;
	int rc = kp_response_decode(&rd, r->pr_api_key, r->pr_version, &h, &body);
	if (rc == KP_ETRAILING)
		rc = 0;
	if (blog_enabled(BLOG_DEBUG)) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_DEBUG, "peer_response", "peer", blog_i64(b1, p->pe_id), "api",
		     kp_api_name(r->pr_api_key), "correlation_id", blog_i64(b2, corr), NULL);
	}
	if (rc < 0)
		peer_log_bad_response(p, r, kp_strerror(rc), corr);
	peer_ref(p);
	r->pr_done(r->pr_ctx, rc, rc == 0 ? &body : NULL);
	peer_req_free(r);
	free(mem);
	if (rc == 0)
		p->pe_backoff_ms = PEER_BACKOFF_MIN_MS;
	peer_unref(p);
	return rc;
}

static void peer_parse(struct peer *p)
{
	while (p->pe_state == PEER_READY && !p->pe_big && p->pe_rlen >= 4) {
		int32_t size = kp_frame_size(p->pe_rbuf, p->pe_rlen, (int32_t)PEER_MAX_RESPONSE);
		if (size < 4) {
			peer_fail(p, KP_EMALFORMED, "bad response frame size");
			return;
		}
		uint32_t total = (uint32_t)size + 4;
		if (total <= p->pe_rlen) {
			int rc = peer_deliver(p, p->pe_rbuf + 4, (uint32_t)size);
			if (p->pe_state != PEER_READY)
				return;
			memmove(p->pe_rbuf, p->pe_rbuf + total, p->pe_rlen - total);
			p->pe_rlen -= total;
			if (rc < 0) {
				peer_fail(p, rc, "response does not decode or match its request");
				return;
			}
			continue;
		}
		if (total > PEER_RBUF_BYTES) {
			p->pe_big = malloc((size_t)size);
			if (!p->pe_big) {
				peer_fail(p, -ENOMEM, "no memory for a response");
				return;
			}
			p->pe_big_len = (uint32_t)size;
			p->pe_big_have = p->pe_rlen - 4;
			memcpy(p->pe_big, p->pe_rbuf + 4, p->pe_big_have);
			p->pe_rlen = 0;
		}
		return;
	}
}

static void peer_recv_done(struct io_op *op, int res);

static void peer_post_recv(struct peer *p)
{
	/* Not while frames are parsed: a callback sending a request would
	 * receive at an offset the parse loop is about to move. */
	if (p->pe_recv_inflight || p->pe_parsing || p->pe_state != PEER_READY)
		return;
	void *buf;
	size_t len;
	if (p->pe_big) {
		buf = p->pe_big + p->pe_big_have;
		len = p->pe_big_len - p->pe_big_have;
	} else {
		buf = p->pe_rbuf + p->pe_rlen;
		len = PEER_RBUF_BYTES - p->pe_rlen;
	}
	p->pe_recv_op.op_done = peer_recv_done;
	p->pe_recv_op.op_ctx = p;
	if (reactor_recv(&p->pe_broker->b_reactor, &p->pe_recv_op, p->pe_fd, buf, len) < 0)
		return;
	p->pe_recv_inflight = true;
	p->pe_ops++;
	peer_ref(p);
}

static void peer_recv_done(struct io_op *op, int res)
{
	struct peer *p = op->op_ctx;
	p->pe_recv_inflight = false;
	p->pe_parsing = true;
	if (p->pe_state == PEER_READY) {
		if (res <= 0) {
			char why[128];
			snprintf(why, sizeof(why), "%s",
				 res == 0 ? "closed by the remote broker" : strerror(-res));
			peer_fail(p, res == 0 ? -ECONNRESET : res, why);
		} else if (p->pe_big) {
			p->pe_big_have += (uint32_t)res;
			if (p->pe_big_have == p->pe_big_len) {
				uint8_t *frame = p->pe_big;
				uint32_t len = p->pe_big_len;
				p->pe_big = NULL;
				int rc = peer_deliver(p, frame, len);
				free(frame);
				if (rc < 0)
					peer_fail(p, rc,
						  "response does not decode or match its request");
			}
			peer_parse(p);
		} else {
			p->pe_rlen += (uint32_t)res;
			peer_parse(p);
		}
	}
	p->pe_parsing = false;
	peer_op_done(p); /* receives again */
	peer_unref(p);
}

/* ---- driving ---------------------------------------------------------- */

static void peer_kick(struct peer *p)
{
	if (p->pe_closing)
		return;
	if (p->pe_state == PEER_IDLE && p->pe_queue_head &&
	    p->pe_broker->b_reactor.re_now_ms >= p->pe_retry_at_ms)
		peer_connect(p);
	if (p->pe_state == PEER_READY) {
		peer_flush_sends(p);
		if (p->pe_wait_head || p->pe_queue_head)
			peer_post_recv(p);
	}
	peer_arm(p);
}

void peer_retry_now(struct peer *p)
{
	if (p->pe_closing || p->pe_state != PEER_IDLE)
		return;
	p->pe_backoff_ms = PEER_BACKOFF_MIN_MS;
	p->pe_retry_at_ms = p->pe_broker->b_reactor.re_now_ms;
	peer_kick(p);
}

int peer_send(struct peer *p, int16_t api_key, int16_t version, const union kp_request_body *body,
	      int64_t timeout_ms, peer_done_fn done, void *ctx)
{
	if (p->pe_closing)
		return -ECANCELED;
	struct peer_req *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	char client[32];
	snprintf(client, sizeof(client), "replogd-%d", p->pe_broker->b_cfg.bc_id);
	r->pr_api_key = api_key;
	r->pr_version = version;
	r->pr_corr = ++p->pe_next_corr;
	r->pr_done = done;
	r->pr_ctx = ctx;
	r->pr_deadline_ms = p->pe_broker->b_reactor.re_now_ms + timeout_ms;
	struct kp_request_header h = {
		.request_api_key = api_key,
		.request_api_version = version,
		.correlation_id = r->pr_corr,
		.client_id = kp_str_from_cstr(client),
	};
	kp_writer_init(&r->pr_out, PEER_REQUEST_MAX);
	int rc = kp_request_encode(&r->pr_out, &h, body);
	if (rc < 0) {
		peer_req_free(r);
		return rc;
	}
	if (blog_enabled(BLOG_DEBUG)) {
		char b1[BLOG_I64_BUF], b2[BLOG_I64_BUF];
		blog(BLOG_DEBUG, "peer_request", "peer", blog_i64(b1, p->pe_id), "api",
		     kp_api_name(api_key), "correlation_id", blog_i64(b2, r->pr_corr), NULL);
	}
	if (p->pe_queue_tail)
		p->pe_queue_tail->pr_next = r;
	else
		p->pe_queue_head = r;
	p->pe_queue_tail = r;
	peer_kick(p);
	return 0;
}

int peer_pending(const struct peer *p)
{
	int n = 0;
	for (const struct peer_req *r = p->pe_queue_head; r; r = r->pr_next)
		n++;
	for (const struct peer_req *r = p->pe_wait_head; r; r = r->pr_next)
		n++;
	return n;
}

struct peer *peer_create(struct broker *b, int32_t id, const char *address)
{
	char host[CONFIG_HOSTPORT_MAX], port[8];
	uint16_t prt;
	if (config_parse_hostport(address, host, sizeof(host), &prt) < 0) {
		blog(BLOG_ERROR, "peer_bad_address", "address", address, NULL);
		return NULL;
	}
	snprintf(port, sizeof(port), "%u", prt);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res;
	int gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		blog(BLOG_ERROR, "peer_bad_address", "address", address, "error", gai_strerror(gai),
		     NULL);
		return NULL;
	}
	struct peer_priv *pp = calloc(1, sizeof(*pp));
	uint8_t *rbuf = malloc(PEER_RBUF_BYTES);
	if (!pp || !rbuf) {
		free(pp);
		free(rbuf);
		freeaddrinfo(res);
		return NULL;
	}
	struct peer *p = &pp->pp_pub;
	p->pe_broker = b;
	p->pe_id = id;
	snprintf(p->pe_addr, sizeof(p->pe_addr), "%s", address);
	memcpy(&p->pe_sa, res->ai_addr, res->ai_addrlen);
	p->pe_salen = res->ai_addrlen;
	freeaddrinfo(res);
	p->pe_fd = -1;
	p->pe_rbuf = rbuf;
	p->pe_backoff_ms = PEER_BACKOFF_MIN_MS;
	pp->pp_refs = 1;
	timer_init(&p->pe_timer, peer_on_timer, p);
	return p;
}

void peer_destroy(struct peer *p)
{
	if (p->pe_closing)
		return;
	p->pe_closing = true;
	timer_cancel(&p->pe_broker->b_reactor.re_timers, &p->pe_timer);
	struct peer_req *waiting = p->pe_wait_head, *queued = p->pe_queue_head;
	p->pe_wait_head = p->pe_wait_tail = p->pe_queue_head = p->pe_queue_tail = NULL;
	if (p->pe_fd >= 0) {
		shutdown(p->pe_fd, SHUT_RDWR);
		reactor_cancel_fd(&p->pe_broker->b_reactor, p->pe_fd);
	}
	p->pe_state = PEER_DRAINING;
	peer_fail_list(p, waiting, -ECANCELED);
	peer_fail_list(p, queued, -ECANCELED);
	peer_unref(p);
}

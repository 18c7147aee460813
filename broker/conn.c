/*
 * conn — framing, ordered responses and back-pressure for one client
 * connection (the rules are in conn.h).
 *
 * Re-entry: finishing one request can free memory (so receiving may
 * resume), receiving can dispatch a request whose handler answers at once
 * (so sending may start). All of that goes through conn_service(), which
 * never nests: a call from inside it only asks it to go around again.
 *
 * Reference counting: a connection holds one base reference while open,
 * one for a recv in flight, one for a send in flight, and one per request
 * that still exists. A request holds one reference while it sits in the
 * FIFO and one for each piece of work still pending for it (an append in
 * the log, a waiter on a partition, a timer).
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "blog.h"
#include "broker.h"
#include "kp_api.h"
#include "rlassert.h"

#define CONN_RBUF_BYTES (64u << 10)
#define CONN_MIN_FRAME	8 /* api key, version, correlation id */
/* Largest response frame: a Fetch answers at most 64 MiB of records. */
#define KREQ_RESPONSE_MAX (128u << 20)

static void conn_service(struct conn *c);

static void conn_ref(struct conn *c)
{
	c->cn_refs++;
}

static void conn_unref(struct conn *c)
{
	RL_ASSERT(c->cn_refs > 0);
	if (--c->cn_refs > 0)
		return;
	RL_ASSERT(c->cn_closing && !c->cn_head && !c->cn_recv_inflight && !c->cn_send_inflight);
	close(c->cn_fd);
	free(c->cn_rbuf);
	free(c);
}

/* ---- requests --------------------------------------------------------- */

static uint64_t kreq_bytes(const struct kreq *rq)
{
	return rq->rq_frame_len + rq->rq_out.kw_len;
}

void kreq_ref(struct kreq *rq)
{
	rq->rq_refs++;
}

void kreq_unref(struct kreq *rq)
{
	RL_ASSERT(rq->rq_refs > 0);
	if (--rq->rq_refs > 0)
		return;
	struct conn *c = rq->rq_conn;
	timer_cancel(&c->cn_broker->b_reactor.re_timers, &rq->rq_timer);
	c->cn_buffered_bytes -= kreq_bytes(rq);
	free(rq->rq_frame);
	free(rq->rq_arena_mem);
	free(rq->rq_data);
	kp_writer_deinit(&rq->rq_out);
	free(rq);
	conn_service(c);
	conn_unref(c);
}

void *kreq_alloc(struct kreq *rq, size_t count, size_t size)
{
	if (count == 0)
		return NULL;
	return kp_arena_alloc_array(&rq->rq_arena, count, size);
}

static struct kreq *kreq_create(struct conn *c, uint8_t *frame, uint32_t len)
{
	struct kreq *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return NULL;
	rq->rq_conn = c;
	rq->rq_frame = frame;
	rq->rq_frame_len = len;
	rq->rq_refs = 1; /* the FIFO */
	rq->rq_arrival_ms = c->cn_broker->b_reactor.re_now_ms;
	rq->rq_arrival_us = mt_now_us();
	kp_writer_init(&rq->rq_out, KREQ_RESPONSE_MAX);
	timer_init(&rq->rq_timer, NULL, rq);
	conn_ref(c);
	c->cn_buffered_bytes += len;
	return rq;
}

static void conn_fifo_push(struct conn *c, struct kreq *rq)
{
	rq->rq_next = NULL;
	if (c->cn_tail)
		c->cn_tail->rq_next = rq;
	else
		c->cn_head = rq;
	c->cn_tail = rq;
	c->cn_req_count++;
}

static struct kreq *conn_fifo_pop(struct conn *c)
{
	struct kreq *rq = c->cn_head;
	if (!rq)
		return NULL;
	c->cn_head = rq->rq_next;
	if (!c->cn_head)
		c->cn_tail = NULL;
	rq->rq_next = NULL;
	c->cn_req_count--;
	return rq;
}

void kreq_respond_encoded(struct kreq *rq)
{
	RL_ASSERT(rq->rq_state == KREQ_WORKING);
	rq->rq_state = KREQ_READY;
	mt_request_done(&rq->rq_conn->cn_broker->b_metrics, rq->rq_hdr.request_api_key,
			mt_now_us() - rq->rq_arrival_us);
	rq->rq_conn->cn_buffered_bytes += rq->rq_out.kw_len;
	if (!rq->rq_orphan)
		conn_service(rq->rq_conn);
}

void kreq_respond(struct kreq *rq, const union kp_response_body *resp)
{
	struct kp_response_header h = {.correlation_id = rq->rq_hdr.correlation_id};
	kp_writer_reset(&rq->rq_out);
	int rc = kp_response_encode(&rq->rq_out, rq->rq_hdr.request_api_key,
				    rq->rq_hdr.request_api_version, &h, resp);
	if (rc < 0) {
		char b1[BLOG_I64_BUF];
		blog(BLOG_ERROR, "response_encode_failed", "api",
		     kp_api_name(rq->rq_hdr.request_api_key), "version",
		     blog_i64(b1, rq->rq_hdr.request_api_version), "error", kp_strerror(rc), NULL);
		kp_writer_reset(&rq->rq_out);
		rq->rq_state = KREQ_READY;
		if (!rq->rq_orphan)
			conn_close(rq->rq_conn, "could not encode a response");
		return;
	}
	kreq_respond_encoded(rq);
}

void kreq_silent(struct kreq *rq)
{
	RL_ASSERT(rq->rq_state == KREQ_WORKING);
	rq->rq_state = KREQ_SILENT;
	if (!rq->rq_orphan)
		conn_service(rq->rq_conn);
}

/* ---- sending ---------------------------------------------------------- */

static void conn_send_done(struct io_op *op, int res)
{
	struct conn *c = op->op_ctx;
	if (res < 0) {
		c->cn_send_inflight = false;
		if (!c->cn_closing) {
			char why[128];
			snprintf(why, sizeof(why), "send failed: %s", strerror(-res));
			conn_close(c, why);
		}
		conn_unref(c);
		return;
	}
	/* Retire what was sent while the send still counts as in flight and
	 * service is held off: freeing a request must not start a new send
	 * of buffers this loop is about to free. */
	bool was_busy = c->cn_busy;
	c->cn_busy = true;
	size_t n = (size_t)res;
	while (n > 0 && c->cn_head) {
		struct kreq *rq = c->cn_head;
		RL_ASSERT(rq->rq_state == KREQ_READY);
		size_t left = rq->rq_out.kw_len - rq->rq_sent;
		if (n < left) {
			rq->rq_sent += n;
			break;
		}
		n -= left;
		rq->rq_sent = rq->rq_out.kw_len;
		conn_fifo_pop(c);
		kreq_unref(rq);
	}
	c->cn_busy = was_busy;
	c->cn_send_inflight = false;
	conn_service(c);
	conn_unref(c);
}

/* Start a send of the ready responses at the head of the FIFO. Only from
 * conn_service. */
static void conn_kick_send(struct conn *c)
{
	if (c->cn_send_inflight || c->cn_closing)
		return;
	/* Done requests with nothing to say leave first. */
	while (c->cn_head && c->cn_head->rq_state == KREQ_SILENT) {
		struct kreq *rq = conn_fifo_pop(c);
		kreq_unref(rq);
		if (c->cn_closing)
			return;
	}
	int n = 0;
	for (struct kreq *rq = c->cn_head; rq && n < 16; rq = rq->rq_next) {
		if (rq->rq_state != KREQ_READY)
			break;
		size_t left = rq->rq_out.kw_len - rq->rq_sent;
		if (left == 0)
			continue;
		c->cn_iov[n].iov_base = rq->rq_out.kw_buf + rq->rq_sent;
		c->cn_iov[n].iov_len = left;
		n++;
	}
	if (n == 0) {
		/* Heads with empty responses (nothing to send) still leave. */
		while (c->cn_head && c->cn_head->rq_state == KREQ_READY &&
		       c->cn_head->rq_sent == c->cn_head->rq_out.kw_len) {
			struct kreq *rq = conn_fifo_pop(c);
			kreq_unref(rq);
		}
		return;
	}
	memset(&c->cn_msg, 0, sizeof(c->cn_msg));
	c->cn_msg.msg_iov = c->cn_iov;
	c->cn_msg.msg_iovlen = (size_t)n;
	c->cn_send_op.op_done = conn_send_done;
	c->cn_send_op.op_ctx = c;
	if (reactor_sendmsg(&c->cn_broker->b_reactor, &c->cn_send_op, c->cn_fd, &c->cn_msg) < 0) {
		conn_close(c, "no io_uring submission entry for a send");
		return;
	}
	c->cn_send_inflight = true;
	conn_ref(c);
}

/* ---- receiving -------------------------------------------------------- */

static bool conn_may_take_more(const struct conn *c)
{
	const struct broker_config *cfg = &c->cn_broker->b_cfg;
	return !c->cn_closing && !c->cn_close_pending && c->cn_barriers == 0 &&
	       !c->cn_broker->b_serving_stopped &&
	       c->cn_req_count < (uint32_t)cfg->bc_max_inflight_requests &&
	       c->cn_buffered_bytes < (uint64_t)cfg->bc_max_connection_buffer_bytes;
}

static void conn_dispatch(struct conn *c, struct kreq *rq)
{
	conn_fifo_push(c, rq);
	api_dispatch(c->cn_broker, rq);
}

static void conn_close_frame_size(struct conn *c, const uint8_t *p)
{
	char why[160];
	int32_t size = (int32_t)be32_load(p);
	if (size < 0)
		snprintf(why, sizeof(why), "request frame size is negative (%d)", size);
	else if (size > c->cn_broker->b_cfg.bc_max_request_bytes)
		snprintf(why, sizeof(why),
			 "request frame of %d bytes is larger than max_request_bytes %d", size,
			 c->cn_broker->b_cfg.bc_max_request_bytes);
	else
		snprintf(why, sizeof(why), "request frame of %d bytes cannot hold a request header",
			 size);
	conn_close_after_responses(c, why);
}

/* Turn complete frames in the staging buffer into requests, as long as
 * back-pressure allows. */
static void conn_parse_frames(struct conn *c)
{
	while (conn_may_take_more(c) && c->cn_rlen >= KP_FRAME_PREFIX_BYTES && !c->cn_big) {
		int32_t size = kp_frame_size(c->cn_rbuf, c->cn_rlen,
					     c->cn_broker->b_cfg.bc_max_request_bytes);
		if (size < CONN_MIN_FRAME) {
			conn_close_frame_size(c, c->cn_rbuf);
			return;
		}
		uint32_t total = (uint32_t)size + KP_FRAME_PREFIX_BYTES;
		uint32_t have = c->cn_rlen - KP_FRAME_PREFIX_BYTES;
		if (total > CONN_RBUF_BYTES || total <= c->cn_rlen) {
			uint8_t *frame = malloc((size_t)size);
			struct kreq *rq = frame ? kreq_create(c, frame, (uint32_t)size) : NULL;
			if (!rq) {
				free(frame);
				conn_close(c, "out of memory for a request");
				return;
			}
			uint32_t take = have < (uint32_t)size ? have : (uint32_t)size;
			memcpy(frame, c->cn_rbuf + KP_FRAME_PREFIX_BYTES, take);
			uint32_t used = KP_FRAME_PREFIX_BYTES + take;
			memmove(c->cn_rbuf, c->cn_rbuf + used, c->cn_rlen - used);
			c->cn_rlen -= used;
			if (take < (uint32_t)size) {
				c->cn_big = rq; /* the rest is received straight into it */
				c->cn_big_have = take;
				return;
			}
			conn_dispatch(c, rq);
			continue;
		}
		return; /* wait for the rest of a small frame */
	}
}

static void conn_recv_done(struct io_op *op, int res)
{
	struct conn *c = op->op_ctx;
	if (c->cn_closing) {
		c->cn_recv_inflight = false;
		conn_unref(c);
		return;
	}
	if (res <= 0) {
		c->cn_recv_inflight = false;
		char why[128];
		if (res == 0)
			snprintf(why, sizeof(why), "client closed the connection");
		else
			snprintf(why, sizeof(why), "receive failed: %s", strerror(-res));
		conn_close(c, why);
		conn_unref(c);
		return;
	}
	bool was_busy = c->cn_busy;
	c->cn_busy = true; /* a handler answering at once must not recurse here */
	c->cn_recv_inflight = false;
	if (c->cn_big) {
		c->cn_big_have += (uint32_t)res;
		if (c->cn_big_have == c->cn_big->rq_frame_len) {
			struct kreq *rq = c->cn_big;
			c->cn_big = NULL;
			conn_dispatch(c, rq);
		}
	} else {
		c->cn_rlen += (uint32_t)res;
	}
	c->cn_busy = was_busy;
	conn_service(c);
	conn_unref(c);
}

/* Parse what is buffered and receive more if allowed. Only from
 * conn_service. */
static void conn_maybe_recv(struct conn *c)
{
	if (c->cn_recv_inflight || c->cn_closing)
		return;
	conn_parse_frames(c);
	if (!conn_may_take_more(c) && !c->cn_big)
		return;
	void *buf;
	size_t len;
	if (c->cn_big) {
		buf = c->cn_big->rq_frame + c->cn_big_have;
		len = c->cn_big->rq_frame_len - c->cn_big_have;
	} else {
		buf = c->cn_rbuf + c->cn_rlen;
		len = CONN_RBUF_BYTES - c->cn_rlen;
	}
	if (c->cn_closing || len == 0)
		return;
	c->cn_recv_op.op_done = conn_recv_done;
	c->cn_recv_op.op_ctx = c;
	if (reactor_recv(&c->cn_broker->b_reactor, &c->cn_recv_op, c->cn_fd, buf, len) < 0) {
		conn_close(c, "no io_uring submission entry for a receive");
		return;
	}
	c->cn_recv_inflight = true;
	conn_ref(c);
}

static void conn_service(struct conn *c)
{
	if (c->cn_busy) {
		c->cn_again = true;
		return;
	}
	conn_ref(c); /* nothing inside may free c under us */
	c->cn_busy = true;
	do {
		c->cn_again = false;
		if (c->cn_closing)
			break;
		conn_kick_send(c);
		if (c->cn_close_pending && !c->cn_head && !c->cn_send_inflight) {
			conn_close(c, c->cn_close_why);
			break;
		}
		if (!c->cn_closing)
			conn_maybe_recv(c);
	} while (c->cn_again);
	c->cn_busy = false;
	conn_unref(c);
}

/* ---- open / close ----------------------------------------------------- */

static void conn_describe_peer(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (getpeername(c->cn_fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(c->cn_peer, sizeof(c->cn_peer), "%s:%d", host, port);
}

struct conn *conn_create(struct broker *b, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	uint8_t *rbuf = malloc(CONN_RBUF_BYTES);
	if (!c || !rbuf) {
		free(c);
		free(rbuf);
		close(fd);
		return NULL;
	}
	c->cn_broker = b;
	c->cn_fd = fd;
	c->cn_rbuf = rbuf;
	c->cn_refs = 1;
	c->cn_id = ++b->b_next_conn_id;
	conn_describe_peer(c);
	c->cn_next = b->b_conns;
	if (b->b_conns)
		b->b_conns->cn_prev = c;
	b->b_conns = c;
	b->b_conn_count++;
	char b1[BLOG_I64_BUF];
	blog(BLOG_DEBUG, "connection_opened", "conn", blog_i64(b1, (long long)c->cn_id), "peer",
	     c->cn_peer, NULL);
	conn_service(c);
	return c;
}

void conn_hold(struct conn *c)
{
	c->cn_barriers++;
}

void conn_release(struct conn *c)
{
	if (c->cn_barriers > 0 && --c->cn_barriers == 0)
		conn_service(c);
}

void conn_close_after_responses(struct conn *c, const char *why)
{
	if (c->cn_closing || c->cn_close_pending)
		return;
	c->cn_close_pending = true;
	c->cn_rlen = 0; /* nothing after the bad bytes is read */
	snprintf(c->cn_close_why, sizeof(c->cn_close_why), "%s", why);
	conn_service(c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->cn_closing)
		return;
	c->cn_closing = true;
	char b1[BLOG_I64_BUF];
	bool normal = strcmp(why, "client closed the connection") == 0 ||
		      strcmp(why, "broker shutting down") == 0;
	blog(normal ? BLOG_DEBUG : BLOG_WARN, "connection_closed", "conn",
	     blog_i64(b1, (long long)c->cn_id), "peer", c->cn_peer, "reason", why, NULL);
	shutdown(c->cn_fd, SHUT_RDWR);
	reactor_cancel_fd(&c->cn_broker->b_reactor, c->cn_fd);
	struct broker *b = c->cn_broker;
	if (c->cn_prev)
		c->cn_prev->cn_next = c->cn_next;
	else
		b->b_conns = c->cn_next;
	if (c->cn_next)
		c->cn_next->cn_prev = c->cn_prev;
	c->cn_prev = c->cn_next = NULL;
	b->b_conn_count--;
	if (c->cn_big) {
		struct kreq *rq = c->cn_big;
		c->cn_big = NULL;
		rq->rq_orphan = true;
		kreq_unref(rq);
	}
	struct kreq *rq;
	while ((rq = conn_fifo_pop(c))) {
		rq->rq_orphan = true;
		if (rq->rq_state == KREQ_WORKING && rq->rq_cancel) {
			kreq_ref(rq);
			rq->rq_cancel(rq);
			kreq_unref(rq);
		}
		kreq_unref(rq);
	}
	broker_maybe_accept(b);
	conn_unref(c);
}
